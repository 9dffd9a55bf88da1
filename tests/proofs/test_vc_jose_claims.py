"""Foreign JWTs through the live verifier (POST /credentials/verify): the JWT's own exp/nbf are honoured when the
credential has no validUntil/validFrom (RFC 7519 §4.1.4-5, VC-JOSE-COSE §3.1.1), and a VC 1.1 JWT's claims are
mapped as VC Data Model 1.1 §6.3.2 says (iss, nbf, exp, jti, sub), so that its signature and dates count."""

from __future__ import annotations

import base64
import json
import time

import httpx
import nacl.signing
import pytest

from app.keys import multikey


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def foreign():
    """A did:key issuer this service knows nothing of; JWS signed with PyNaCl (RFC 8037 EdDSA)."""
    key = nacl.signing.SigningKey(bytes(range(1, 33)))
    mb = multikey.encode(multikey.ED25519_PUB, bytes(key.verify_key))
    did = f"did:key:{mb}"

    def sign(payload: dict, typ: str = "vc+jwt") -> str:
        header = {"alg": "EdDSA", "kid": f"{did}#{mb}", "typ": typ}
        signing_input = _b64u(json.dumps(header).encode()) + "." + _b64u(json.dumps(payload).encode())
        return signing_input + "." + _b64u(key.sign(signing_input.encode()).signature)

    return did, sign


def _vc2(did: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:learner"},
    }


def _verify(live, token: str) -> tuple[int, dict]:
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": token}, timeout=30)
    return r.status_code, r.json()


def _checks(body: dict) -> dict:
    return {c["id"]: c for c in body["checks"]}


@pytest.mark.parametrize("claims,says", [({"exp": -3600}, "expired"), ({"nbf": 3600}, "not valid before")])
def test_exp_and_nbf_count_without_valid_until_or_valid_from(live, foreign, claims, says):
    did, sign = foreign
    now = int(time.time())
    payload = {**_vc2(did), "iss": did, **{k: now + v for k, v in claims.items()}}
    status, body = _verify(live, sign(payload))
    assert status == 422, body
    validity = _checks(body)["validity"]
    assert validity["outcome"] == "failed" and says in validity["reason"] and validity["code"] == "RANGE_ERROR", validity
    assert _checks(body)["proof"]["outcome"] == "passed"
    # the same credential within its window verifies
    fine = {**_vc2(did), "iss": did, "nbf": now - 60, "exp": now + 3600}
    status, body = _verify(live, sign(fine))
    assert status == 200 and body["verified"] is True, body


def test_a_vc_1_1_jwt_is_read_as_vc_data_model_1_1_section_6_3_says(live, foreign):
    did, sign = foreign
    now = int(time.time())
    vc = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"], "credentialSubject": {}}
    token = sign(
        {"iss": did, "nbf": now - 60, "exp": now + 3600, "jti": "urn:uuid:2b8f0d4e-6a1c-4e3b-9d7f-1a2b3c4d5e6f", "sub": "did:example:learner", "vc": vc},
        typ="JWT",
    )
    status, body = _verify(live, token)
    assert status == 200 and body["verified"] is True, body
    credential = live.app.state.runtime.verifier.verify(token).credential  # the service's reading of it
    assert credential["issuer"] == did and credential["id"] == "urn:uuid:2b8f0d4e-6a1c-4e3b-9d7f-1a2b3c4d5e6f"
    assert credential["credentialSubject"]["id"] == "did:example:learner"
    assert credential["issuanceDate"].endswith("Z") and credential["expirationDate"].endswith("Z")
    # its exp counts: an expired VC 1.1 JWT is refused
    old = sign({"iss": did, "nbf": now - 7200, "exp": now - 3600, "vc": vc}, typ="JWT")
    status, body = _verify(live, old)
    assert status == 422 and _checks(body)["validity"]["outcome"] == "failed", body
