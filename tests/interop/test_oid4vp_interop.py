"""An independent OpenID4VP 1.0 holder against microcred's verifier (tests/interop/oid4vp_harness.mjs): the
OpenWallet Foundation's @openid4vc/openid4vp 0.4.6 resolves the signed request (decentralized_identifier: did:jwk)
and the unsigned by-value one (redirect_uri:), dcql 3.0.0 matches the held credential against the DCQL query, and the
response goes by direct_post; the SD-JWT VC presentation is made by @sd-jwt/sd-jwt-vc 0.19.0 withholding claims, the
ldp_vp by Digital Bazaar's @digitalbazaar/vc. A wrong nonce or audience is refused."""

from __future__ import annotations

import base64
import json
import subprocess

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import ROOT
from tests.interop.conftest import INTEROP, _need_node

HARNESS = INTEROP / "oid4vp_harness.mjs"
SEED = bytes(range(32))


def _holder_jwk() -> tuple[dict, dict]:
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.private_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    public = {"kty": "EC", "crv": "P-256", "x": b64(numbers.public_numbers.x), "y": b64(numbers.public_numbers.y)}
    return {**public, "d": b64(numbers.private_value)}, public


def _run(live, **request) -> dict:
    _need_node()
    body = json.dumps({"baseUrl": live.url, "contextsDir": str(ROOT / "contexts"), **request})
    # a generous deadline only against a hang
    done = subprocess.run(["node", str(HARNESS), "present"], input=body, capture_output=True, text=True, timeout=180, cwd=INTEROP)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _request(live, **body) -> dict:
    r = httpx.post(f"{live.url}/presentation-requests", json={"verifier_name": "Acme Hiring", "purpose": "Your micro-credential", **body})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def client(live, provider):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=30) as c:
        yield c


@pytest.fixture
def sd_jwt_vc(client, example_input):
    private, public = _holder_jwk()
    r = client.post("/microcredentials", json={"format": "sd-jwt", "holder": {"jwk": public}, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return {"credential": r.text, "holderJwk": private}


@pytest.mark.parametrize("by", ["reference", "value"])
def test_the_independent_holder_presents_an_sd_jwt_vc_withholding_claims(live, sd_jwt_vc, by):
    created = _request(live, claims=["title", "grade"], redirect_uri=f"{live.url}/verify")
    link = created["authorization_request"] if by == "reference" else created["authorization_request_by_value"]
    out = _run(live, authorizationRequest=link, sdJwt={**sd_jwt_vc, "disclose": ["title", "grade", "given_name"]})
    assert "error" not in out, out
    assert out["clientIdPrefix"] == ("decentralized_identifier" if by == "reference" else "redirect_uri")
    assert out["signedRequest"] is (by == "reference") and out["verifierName"] == "Acme Hiring"
    assert out["version"] == 100  # the library reads the request as OpenID4VP 1.0 final
    assert out["matched"] == ["microcredential_sd_jwt"] and out["walletSideSatisfied"] is True
    assert out["status"] == 200 and out["body"]["redirect_uri"].startswith(f"{live.url}/verify?response_code="), out
    status = httpx.get(created["status_url"]).json()
    assert status["status"] == "received" and status["result"]["verified"] is True, status
    [answer] = status["result"]["presentations"]
    disclosures = next(c for c in answer["report"]["checks"] if c["id"] == "disclosures")["details"]
    assert set(disclosures["disclosed"]) == {"title", "grade", "given_name"} and "family_name" in disclosures["withheld"]


@pytest.mark.parametrize("tamper, words", [("nonce", "nonce"), ("aud", "aud")])
def test_a_presentation_with_the_wrong_nonce_or_audience_is_refused(live, sd_jwt_vc, tamper, words):
    created = _request(live)
    out = _run(live, authorizationRequest=created["authorization_request"], sdJwt={**sd_jwt_vc, "disclose": ["title"]}, tamper=tamper)
    assert out["status"] == 400 and out["body"]["code"] == "PROOF_VERIFICATION_ERROR" and words in out["body"]["detail"], out
    assert httpx.get(created["status_url"]).json()["status"] == "pending"


def test_the_independent_holder_presents_an_ldp_vp_made_by_digital_bazaar(live, client, example_input):
    credential = client.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input}).json()
    created = _request(live)
    out = _run(live, authorizationRequest=created["authorization_request"], ldp={"credential": credential, "seed": SEED.hex()})
    assert "error" not in out, out
    assert out["matched"] == ["microcredential_ldp"] and out["status"] == 200, out
    status = httpx.get(created["status_url"]).json()
    assert status["result"]["verified"] is True and status["result"]["presentations"][0]["format"] == "ldp_vc", status
    # the same holder, a wrong challenge: refused
    again = _request(live)
    out = _run(live, authorizationRequest=again["authorization_request"], ldp={"credential": credential, "seed": SEED.hex()}, tamper="nonce")
    assert out["status"] == 400 and out["body"]["code"] == "INVALID_CHALLENGE_ERROR", out
