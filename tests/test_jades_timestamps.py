"""JAdES time stamps and LT/LTA properties (ETSI TS 119 182-1 §5.2.8 ``adoTst``, §5.3 ``etsiU``) through the HTTP
verifier (issue 18): the Commission's sample is a JAdES-B-LTA seal whose ``adoTst`` and ``sigTst`` RFC 3161 tokens
verify with their TSA's certificate, reported as such and never "passed" (the TSA is not checked against the
trusted lists); ``xVals``, ``rVals``, ``arcTst`` are "present, not checked"; a token over other bytes, a changed
token or a malformed ``etsiU`` is a failed check, never a 500; a baseline-B seal has none (skipped)."""

from __future__ import annotations

import base64
import copy
import json

import httpx
import pytest

from tests.conftest import SHARED, require
from tests.test_jades_seals import SealCa

SAMPLE = SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-signed.jsonld"


@pytest.fixture(scope="module")
def sample() -> dict:
    require(SAMPLE.is_file(), f"{SAMPLE} (shared/samples)")
    return json.loads(SAMPLE.read_text())


def _b64u_json(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _unb64u(value: str):
    return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def _checks(live, sealed) -> tuple[dict, dict]:
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": sealed}, timeout=120)
    assert r.status_code == 422, r.text[:2000]
    body = r.json()
    return body, {c["id"]: c for c in body["checks"]}


def test_the_commission_seal_is_b_lta_with_time_stamps_that_verify_but_are_not_trusted(live, sample):
    body, checks = _checks(live, sample)
    stamps = checks["seal_timestamps"]
    assert stamps["outcome"] == "indeterminate" and stamps["code"] == "TIMESTAMP_NOT_TRUSTED", stamps
    assert stamps["details"]["level"] == "B-LTA" and stamps["details"]["properties"] == ["adoTst", "sigTst", "xVals", "rVals", "arcTst"]
    assert "adoTst 2023-09-27T11:54:17Z by good-tsa; sigTst 2023-09-27T11:54:20Z by good-tsa" in stamps["reason"]
    assert "xVals, rVals, arcTst present, not checked" in stamps["reason"] and "not checked against the EU trusted lists" in stamps["reason"]
    assert body["verified"] is False and checks["proof"]["outcome"] == "passed"


def _with_unsigned(sample: dict, items) -> dict:
    changed = copy.deepcopy(sample)
    changed["signatures"][0]["header"] = {"etsiU": items}
    return changed


def test_a_token_over_other_bytes_or_changed_fails(live, sample):
    etsi_u = sample["signatures"][0]["header"]["etsiU"]
    protected = _unb64u(sample["signatures"][0]["protected"])
    # the adoTst token (over the payload) given as the sigTst (over the signature value)
    swapped = _with_unsigned(sample, [_b64u_json({"sigTst": protected["adoTst"]}), *etsi_u[1:]])
    stamps = _checks(live, swapped)[1]["seal_timestamps"]
    assert stamps["outcome"] == "failed" and stamps["code"] == "TIMESTAMP_INVALID" and "message imprint" in stamps["reason"], stamps
    # one byte of the token's signature changed
    sig_tst = _unb64u(etsi_u[0])
    der = bytearray(base64.b64decode(sig_tst["sigTst"]["tstTokens"][0]["val"]))
    der[-10] ^= 0x01
    sig_tst["sigTst"]["tstTokens"][0]["val"] = base64.b64encode(bytes(der)).decode()
    stamps = _checks(live, _with_unsigned(sample, [_b64u_json(sig_tst), *etsi_u[1:]]))[1]["seal_timestamps"]
    assert stamps["outcome"] == "failed" and stamps["code"] == "TIMESTAMP_INVALID", stamps


@pytest.mark.parametrize(
    "items",
    [
        "not a list",
        ["***"],
        [_b64u_json(["an array"])],
        [_b64u_json({"sigTst": {"tstTokens": [{"val": "AAAA"}]}})],
        [_b64u_json({"sigTst": "no tokens"})],
        [{"sigTst": {"tstTokens": [{"val": 7}]}}],
        ["A" * 400_000],
        [_b64u_json({"arcTst": 1})] * 65,
    ],
    ids=["not-a-list", "not-base64url", "not-an-object", "not-a-token", "no-tokens", "token-not-a-string", "oversized", "too-many"],
)
def test_malformed_unsigned_properties_are_a_failed_check(live, sample, items):
    body, checks = _checks(live, _with_unsigned(sample, items))
    assert checks["seal_timestamps"]["outcome"] == "failed", checks["seal_timestamps"]
    assert checks["seal_timestamps"]["code"] in ("MALFORMED_UNSIGNED_PROPERTIES", "TIMESTAMP_INVALID")
    assert checks["proof"]["outcome"] == "passed" and body["verified"] is False


def test_a_baseline_b_seal_has_no_time_stamps(live):
    checks = _checks(live, SealCa().seal())[1]
    assert checks["seal_timestamps"]["outcome"] == "skipped" and checks["seal_timestamps"]["details"]["level"] == "B-B"
    # an unprotected header that is not an object
    sealed = SealCa().seal()
    sealed["signatures"][0]["header"] = ["x"]
    assert _checks(live, sealed)[1]["seal_timestamps"]["code"] == "MALFORMED_UNSIGNED_PROPERTIES"
