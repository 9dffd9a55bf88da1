"""VC API exchanges for the DCC Learner Credential Wallet (tests/interop/vc_api_harness.mjs): a Node client that
follows the LCW's request shapes (``exchanges.ts``, ``credentialRequest.ts``), signing with Digital Bazaar's
@digitalbazaar/vc and a did:key, receives the credential bound to its DID through both the VC API form (``{}`` → the
DIDAuthentication request → ``{"verifiablePresentation": …}``) and the deep link's direct form; a wrong challenge or
domain is refused and leaves the exchange usable, a completed exchange cannot be replayed, an unknown one is 404."""

from __future__ import annotations

import json
import subprocess
import urllib.parse

import httpx
import pytest

from tests.conftest import ROOT
from tests.interop.conftest import INTEROP, _need_node

HARNESS = INTEROP / "vc_api_harness.mjs"
SEED = bytes(range(32))


def _run(live, exchange: dict, **request) -> dict:
    _need_node()
    body = json.dumps({"baseUrl": live.url, "contextsDir": str(ROOT / "contexts"), "deepLink": exchange["deepLink"], "seed": SEED.hex(), **request})
    # a generous deadline only against a hang
    done = subprocess.run(["node", str(HARNESS), "exchange"], input=body, capture_output=True, text=True, timeout=180, cwd=INTEROP)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def client(live, provider):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=30) as c:
        yield c


def _exchange(client, example_input, workflow: str = "ob3_ldp_vc") -> dict:
    r = client.post(f"/workflows/{workflow}/exchanges", json={"microcredential": example_input})
    assert r.status_code == 201, r.text
    return r.json()


def _stored(client) -> int:
    r = client.get("/credentials")
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


def test_the_exchange_answers_with_both_deep_links(live, client, example_input):
    out = _exchange(client, example_input)
    url = f"{live.url}/workflows/ob3_ldp_vc/exchanges/{out['exchangeId']}"
    assert out["exchangeUrl"] == url
    for link, prefix in ((out["deepLink"], "https://lcw.app/request.html?"), (out["dccRequestLink"], "dccrequest://request?")):
        assert link.startswith(prefix)
        query = dict(urllib.parse.parse_qsl(link.split("?", 1)[1]))
        assert query == {"issuer": urllib.parse.urlsplit(live.url).netloc, "auth_type": "bearer", "challenge": out["challenge"], "vc_request_url": url}
    assert out["expires"].endswith("Z")


@pytest.mark.parametrize("workflow", ["ob3_ldp_vc", "edc_ldp_vc"])
def test_the_wallet_receives_the_credential_bound_to_its_did(live, client, independent, example_input, workflow):
    exchange = _exchange(client, example_input, workflow)
    before = _stored(client)
    out = _run(live, exchange)
    (start, finish) = out["steps"]
    assert start["status"] == 200, start
    vpr = start["body"]["verifiablePresentationRequest"]
    assert vpr["query"][0]["type"] == "DIDAuthentication"
    assert vpr["challenge"] == exchange["challenge"]
    assert vpr["domain"] == live.url
    assert vpr["interact"]["service"][0] == {"type": "UnmediatedPresentationService2021", "serviceEndpoint": exchange["exchangeUrl"]}
    assert finish["status"] == 200, finish
    vp = finish["body"]["verifiablePresentation"]
    assert "VerifiablePresentation" in vp["type"]
    (credential,) = vp["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == out["holder"]
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    assert "eddsa-rdfc-2022" in {p.get("cryptosuite") for p in proofs}
    assert _stored(client) == before + 1
    # the credential verifies on this service and in Digital Bazaar's and the DCC's verifiers (the LCW's own,
    # verifier-core; its EDC limits are asserted in test_independent_verifiers.py)
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": credential}, timeout=60)
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    verdict = independent.verify(credential)
    assert verdict["digitalbazaar"]["proof"]["verified"], verdict["digitalbazaar"]
    if workflow == "ob3_ldp_vc":
        assert verdict["dcc"]["verified"] and verdict["dcc"]["signature"] is True, verdict["dcc"]


def test_the_deep_link_direct_request_receives_a_presentation(live, client, example_input):
    exchange = _exchange(client, example_input)
    out = _run(live, exchange, flow="direct")
    (step,) = out["steps"]
    assert step["status"] == 200, step
    (credential,) = step["body"]["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == out["holder"]


@pytest.mark.parametrize(
    ("tamper", "words"),
    [({"challenge": "not-the-challenge"}, "challenge"), ({"domain": "https://elsewhere.example"}, "domain")],
)
def test_a_wrong_challenge_or_domain_is_refused_and_the_exchange_stays_usable(live, client, example_input, tamper, words):
    exchange = _exchange(client, example_input)
    before = _stored(client)
    refused = _run(live, exchange, **tamper)["steps"][-1]
    assert refused["status"] == 400, refused
    assert refused["body"]["code"] == "INVALID_DID_AUTHENTICATION"
    assert words in refused["body"]["detail"].lower()
    assert _stored(client) == before
    again = _run(live, exchange)["steps"][-1]
    assert again["status"] == 200, again


def test_a_completed_exchange_cannot_be_replayed(live, client, example_input):
    exchange = _exchange(client, example_input)
    out = _run(live, exchange, repeat=2)
    first, replay = out["steps"][1:]
    assert first["status"] == 200
    assert replay["status"] == 409 and replay["body"]["code"] == "EXCHANGE_COMPLETE", replay
    # and the first step too: the exchange is used up
    assert _run(live, exchange)["steps"][0]["status"] == 409


def test_an_unknown_exchange_or_workflow_is_not_found(live, client, example_input):
    exchange = _exchange(client, example_input)
    unknown = dict(exchange, deepLink=exchange["deepLink"].replace(exchange["exchangeId"], "unknown"))
    step = _run(live, unknown)["steps"][0]
    assert step["status"] == 404 and step["body"]["status"] == 404, step
    r = httpx.post(f"{live.url}/workflows/nope/exchanges/{exchange['exchangeId']}", json={})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/workflows/nope/exchanges", json={"microcredential": example_input})
    assert r.status_code == 404


def test_creating_an_exchange_needs_the_provider_key_and_a_valid_record(live, client, example_input):
    assert httpx.post(f"{live.url}/workflows/ob3_ldp_vc/exchanges", json={"microcredential": example_input}).status_code == 401
    r = client.post("/workflows/ob3_ldp_vc/exchanges", json={"microcredential": {"title": 3}})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text


@pytest.mark.parametrize(
    "vp",
    [
        {"type": ["VerifiablePresentation"], "holder": "did:example:someone"},
        {"type": ["VerifiablePresentation"], "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
        {"type": ["VerifiablePresentation"], "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "proof": {"domain": {"x": 1}}},
        {"type": ["VerifiablePresentation"], "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "proof": ["x"]},
    ],
)
def test_a_malformed_did_authentication_is_refused_and_stores_nothing(live, client, example_input, vp):
    exchange = _exchange(client, example_input)
    before = _stored(client)
    r = httpx.post(exchange["exchangeUrl"], json={"verifiablePresentation": vp})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["code"] == "INVALID_DID_AUTHENTICATION"
    assert _stored(client) == before
    r = httpx.post(exchange["exchangeUrl"], json=[])
    assert r.status_code == 400, r.text
    assert httpx.post(exchange["exchangeUrl"], json={}).status_code == 200  # still usable
