"""OpenID4VCI 1.0 with a wallet this project did not write: the OpenWallet Foundation's @openid4vc/openid4vci,
@openid4vc/oauth2 and @openid4vc/utils 0.4.6 (tests/interop/oid4vci_harness.mjs) redeem the live service's offers for
each of the four credential configurations, by value and by reference, with and without DPoP; what they receive
verifies in microcred (POST /credentials/verify), in the OWF SD-JWT libraries (@sd-jwt/* 0.19.0, with a presentation
of a subset of the claims and a KB-JWT) or in Digital Bazaar's @digitalbazaar/vc (ldp_vc), bound to the wallet's key;
a revocation is seen by the independent status-list libraries. The refusals are driven through the library too."""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.parse
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.store.models import Oid4vciOffer, Oid4vciToken
from tests.conftest import require
from tests.interop.conftest import INTEROP, _need_node
from tests.interop.test_sd_jwt_interop import Owf

HARNESS = INTEROP / "oid4vci_harness.mjs"
CONFIGURATIONS = ("ob3_ldp_vc", "edc_ldp_vc", "ob3_jwt_vc_json", "eu_microcredential_sd_jwt")
#: Digital Bazaar's Bitstring Status List checker refuses the EDC's status entry (tests/interop/test_independent_verifiers.py
#: DB_EDC_STATUS: the EDC is a VC 1.1 credential whose status entry type it does not read), the proof still verifies.
DB_EDC_NO_STATUS = True


class Wallet:
    def __init__(self, base_url: str):
        self.base_url = base_url

    def run(self, mode: str, **request) -> dict:
        body = json.dumps({"baseUrl": self.base_url, **request})
        # a generous deadline only against a hang: a run takes a second or two
        done = subprocess.run(["node", str(HARNESS), mode], input=body, capture_output=True, text=True, timeout=180, cwd=INTEROP)
        assert done.returncode == 0, f"harness failed ({done.returncode}): {done.stderr[-3000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def wallet(live):
    _need_node()
    require((INTEROP / "node_modules" / "@openid4vc" / "openid4vci").is_dir(), "tests/interop/node_modules lacks @openid4vc/openid4vci: run npm ci")
    return Wallet(live.url)


@pytest.fixture
def client(live, provider):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as c:
        yield c


@pytest.fixture
def owf(live):
    _need_node()
    return Owf(live.url)


def _offer(client, example_input, **extra) -> dict:
    r = client.post("/microcredentials/offers", json={"microcredential": example_input, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _by_value(created: dict) -> str:
    return "openid-credential-offer://?" + urllib.parse.urlencode({"credential_offer": json.dumps(created["credential_offer"])})


def _payload(jwt: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(jwt.split("~")[0].split(".")[1] + "==="))


def _revoke(client, created: dict) -> str:
    state = client.get(f"/microcredentials/offers/{created['id']}").json()
    assert state["state"] == "redeemed", state
    credential_id = state["credential_ids"][0]
    r = client.post("/credentials/status", json={"credentialId": credential_id, "status": "revoked"})
    assert r.status_code == 200, r.text
    return credential_id


@pytest.mark.parametrize("use_dpop", [False, True], ids=["bearer", "dpop"])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_the_wallet_redeems_each_configuration(wallet, independent, owf, live, client, example_input, configuration, use_dpop):
    created = _offer(client, example_input, configurations=[configuration])
    # by reference for the bearer runs, by value for the DPoP ones: both ways of §4.1, each configuration
    link = created["credential_offer_uri"] if not use_dpop else _by_value(created)
    sd = configuration == "eu_microcredential_sd_jwt"
    out = wallet.run(
        "flow",
        offer=link,
        txCode=created["tx_code"],
        configuration=configuration,
        dpop=use_dpop,
        holders=["ES256"],
        binding="jwk" if sd else "did:jwk",
    )
    assert out["offer"] == created["credential_offer"]
    assert out["metadata"]["credentialIssuer"] == f"{live.url}/issuers/uniz"
    assert out["metadata"]["tokenEndpoint"] == f"{live.url}/issuers/uniz/token"
    assert set(out["metadata"]["dpopAlgs"]) == {"ES256", "EdDSA"}
    assert out["metadata"]["configurations"] == list(CONFIGURATIONS)
    assert out["tokenType"] == ("DPoP" if use_dpop else "Bearer")
    with live.app.state.db.read() as session:  # the token is bound to the wallet's DPoP key (RFC 9449 §6: cnf.jkt)
        (jkt,) = session.execute(select(Oid4vciToken.dpop_jkt).where(Oid4vciToken.offer_id == created["id"])).one()
    assert jkt == out["dpopJkt"]
    (credential,) = out["credentials"]
    (holder,) = out["holders"]

    # microcred verifies it
    report = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert report.status_code == 200 and report.json()["verified"] is True, report.text

    if sd:
        claims = _payload(credential)
        assert claims["cnf"]["jwk"] == holder["publicJwk"]
        verdict = owf.run("verify", credential=credential)
        assert verdict["verified"], verdict
        keep = ["title", "given_name", "grade"]
        vp = owf.run("present", credential=credential, holderJwk=holder["privateJwk"], disclose=keep, aud="https://employer.example", nonce="n-1")[
            "presentation"
        ]
        there = owf.run("verify", credential=vp, nonce="n-1", requireKb=True)
        assert there["verified"] and "date_of_birth" not in there["payload"] and set(keep) <= set(there["payload"]), there
        here = client.post("/credentials/verify", json={"verifiableCredential": vp, "options": {"nonce": "n-1", "aud": "https://employer.example"}})
        checks = {c["id"]: c for c in here.json()["checks"]}
        assert checks["holder_binding"]["outcome"] == "passed", checks
        ref = claims["status"]["status_list"]
        assert owf.run("status", uri=ref["uri"], indices=[ref["idx"]])["statuses"] == [0]
        _revoke(client, created)
        assert owf.run("status", uri=ref["uri"], indices=[ref["idx"]])["statuses"] == [1]
        return
    if configuration == "ob3_jwt_vc_json":
        assert _payload(credential)["credentialSubject"]["id"] == holder["did"]
        verdict = independent.verify(credential)["jose"]
        assert verdict["verified"] and verdict["typ"] == "vc+jwt", verdict
        _revoke(client, created)
        assert client.post("/credentials/verify", json={"verifiableCredential": credential}).json()["verified"] is False
        return
    assert credential["credentialSubject"]["id"] == holder["did"]
    db = independent.verify(credential)["digitalbazaar"]
    assert db["proof"]["verified"], db
    if configuration == "ob3_ldp_vc":
        assert db["verified"] and db["status"]["revocation"] is False, db
        _revoke(client, created)
        after = independent.verify(credential)["digitalbazaar"]
        assert after["status"]["revocation"] is True, after
    else:
        assert not db["verified"] and "statusError" in db, db  # DB_EDC_NO_STATUS
        _revoke(client, created)
        assert client.post("/credentials/verify", json={"verifiableCredential": credential}).json()["verified"] is False


def test_the_wallet_gets_a_batch_each_bound_to_its_key(wallet, owf, client, example_input):
    created = _offer(client, example_input, configurations=["eu_microcredential_sd_jwt"])
    out = wallet.run(
        "flow",
        offer=created["credential_offer_uri"],
        txCode=created["tx_code"],
        configuration="eu_microcredential_sd_jwt",
        holders=["ES256", "EdDSA"],
        binding="jwk",
    )
    assert [_payload(c)["cnf"]["jwk"] for c in out["credentials"]] == [h["publicJwk"] for h in out["holders"]]
    assert all(owf.run("verify", credential=c)["verified"] for c in out["credentials"])


def test_refusals_seen_by_the_wallet(wallet, live, client, example_input):
    created = _offer(client, example_input)
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    for _ in range(5):
        out = wallet.run("token", offer=created["credential_offer_uri"], txCode=wrong)
        assert not out["ok"] and "invalid_grant" in out["error"], out
    # the sixth try, with the right code: the offer is burnt (and no longer served by reference)
    out = wallet.run("token", offer=_by_value(created), txCode=created["tx_code"])
    assert not out["ok"] and "invalid_grant" in out["error"], out
    # a replayed code
    again = _offer(client, example_input)
    assert wallet.run("token", offer=_by_value(again), txCode=again["tx_code"])["ok"]
    out = wallet.run("token", offer=_by_value(again), txCode=again["tx_code"])
    assert not out["ok"] and "invalid_grant" in out["error"], out
    # an expired offer
    old = _offer(client, example_input)
    with live.app.state.db.transaction() as session:
        session.execute(update(Oid4vciOffer).where(Oid4vciOffer.id == old["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    out = wallet.run("token", offer=_by_value(old), txCode=old["tx_code"])
    assert not out["ok"] and "invalid_grant" in out["error"], out
