"""The OpenID4VP 1.0 verifier over real HTTP: POST /presentation-requests, the signed Request Object at request_uri,
the unsigned by-value request, and direct_post responses for dc+sd-jwt, ldp_vc and jwt_vc_json, verified in full and
matched against the DCQL query; replayed, late, wrong-nonce, wrong-audience, other-request and non-matching
responses refused with the reason and nothing stored."""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from app.dids.did_jwk import decode_did_jwk
from app.keys import Ed25519Signer, P256Signer
from app.keys.methods import public_key_from_method
from app.proofs import sd_jwt
from app.store.models import PresentationRequest
from app.vcdm import VC2

DEFAULT = {"verifier_name": "Acme Hiring", "purpose": "Check your micro-credential for the data analyst post"}


def _b64json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _create(live, **body) -> dict:
    r = httpx.post(f"{live.url}/presentation-requests", json={**DEFAULT, **body}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def _request_object(live, created) -> dict:
    r = httpx.get(created["request_uri"], timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/oauth-authz-req+jwt"), r.text
    return _b64json(r.text.split(".")[1])


def _post(claims: dict, vp_token: dict | None, **extra) -> httpx.Response:
    form = {"state": claims["state"], **extra}
    if vp_token is not None:
        form["vp_token"] = json.dumps(vp_token)
    return httpx.post(claims["response_uri"], data=form, timeout=60)


def _sd_jwt(client, example_input, signer) -> str:
    r = client.post("/microcredentials", json={"format": "sd-jwt", "holder": {"jwk": signer.public_jwk()}, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return r.text


def _refused(r: httpx.Response, code: str, words: str) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code and words in r.json()["detail"], r.json()


def test_a_request_is_signed_under_decentralized_identifier_and_offered_unsigned_by_value(live):
    created = _create(live)
    assert set(created) >= {"id", "request_uri", "authorization_request", "status_url"}
    link = urllib.parse.urlsplit(created["authorization_request"])
    assert link.scheme == "openid4vp"
    params = dict(urllib.parse.parse_qsl(link.query))
    assert params == {"client_id": created["client_id"], "request_uri": created["request_uri"]}
    assert created["client_id"].startswith("decentralized_identifier:did:jwk:")
    token = httpx.get(created["request_uri"]).text
    header = _b64json(token.split(".")[0])
    assert header["typ"] == "oauth-authz-req+jwt" and header["alg"] == "ES256"
    did = created["client_id"].removeprefix("decentralized_identifier:")
    assert header["kid"] == f"{did}#0"
    key = public_key_from_method({"type": "JsonWebKey", "publicKeyJwk": decode_did_jwk(did)})
    signing_input, _, signature = token.rpartition(".")
    assert key.verify(signing_input.encode(), base64.urlsafe_b64decode(signature + "=="))
    claims = _b64json(token.split(".")[1])
    assert claims["client_id"] == created["client_id"] and claims["response_type"] == "vp_token"
    assert claims["response_mode"] == "direct_post" and claims["response_uri"] == f"{created['status_url']}/response"
    assert len(claims["nonce"]) >= 43 and len(claims["state"]) >= 43 and claims["exp"] > claims["iat"]
    assert claims["client_metadata"]["client_name"] == "Acme Hiring" and "dc+sd-jwt" in claims["client_metadata"]["vp_formats_supported"]
    formats = {q["id"]: q["format"] for q in claims["dcql_query"]["credentials"]}
    assert formats == {"microcredential_sd_jwt": "dc+sd-jwt", "microcredential_ldp": "ldp_vc", "microcredential_jwt": "jwt_vc_json"}
    assert claims["dcql_query"]["credentials"][0]["meta"]["vct_values"] == [f"{live.url}/types/microcredential"] or claims["dcql_query"]["credentials"][0][
        "meta"
    ]["vct_values"][0].startswith(live.url)
    # by value: unsigned, under redirect_uri: (OpenID4VP 1.0 §5.9.3 forbids signing those)
    by_value = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(created["authorization_request_by_value"]).query))
    assert by_value["client_id"] == "redirect_uri:" + claims["response_uri"] and "request" not in by_value and "request_uri" not in by_value
    assert by_value["nonce"] == claims["nonce"] and json.loads(by_value["dcql_query"]) == claims["dcql_query"]
    # two requests never share a nonce or a state
    other = _request_object(live, _create(live))
    assert other["nonce"] != claims["nonce"] and other["state"] != claims["state"]
    status = httpx.get(created["status_url"]).json()
    assert status["status"] == "pending" and status["purpose"] == DEFAULT["purpose"]


@pytest.mark.parametrize(
    "body, pointer",
    [
        ({"purpose": "x"}, "/verifier_name"),
        ({**DEFAULT, "dcql_query": {"credentials": []}}, "/dcql_query/credentials"),
        ({**DEFAULT, "dcql_query": {"credentials": [{"id": "a b", "format": "ldp_vc", "meta": {"type_values": [["X"]]}}]}}, "/dcql_query/credentials/0/id"),
        ({**DEFAULT, "dcql_query": {"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {}}]}}, "/dcql_query/credentials/0/format"),
        ({**DEFAULT, "redirect_uri": "https://evil.example/"}, "/redirect_uri"),
        ({**DEFAULT, "claims": "title"}, "/claims"),
    ],
)
def test_a_bad_request_is_refused_and_stores_nothing(live, body, pointer):
    r = httpx.post(f"{live.url}/presentation-requests", json=body)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert any(e["pointer"] == pointer for e in r.json().get("errors", [])), r.json()
    with live.app.state.db.read() as session:
        assert session.query(PresentationRequest).count() == 0


def test_an_sd_jwt_vc_presentation_withholding_claims_verifies_once(live, client, example_input):
    holder = P256Signer.generate()
    token = _sd_jwt(client, example_input, holder)
    created = _create(live, claims=["title", "given_name"], redirect_uri=f"{live.url}/verify")
    claims = _request_object(live, created)
    keep = {"title", "given_name", "family_name", "grade"}
    presentation = sd_jwt.present(token, lambda name, _: name in keep, holder=holder, aud=claims["client_id"], nonce=claims["nonce"])
    r = _post(claims, {"microcredential_sd_jwt": [presentation]})
    assert r.status_code == 200, r.text
    assert r.json()["redirect_uri"].startswith(f"{live.url}/verify?response_code=")
    status = httpx.get(created["status_url"]).json()
    assert status["status"] == "received" and status["result"]["verified"] is True, status
    [answer] = status["result"]["presentations"]
    assert answer["query_id"] == "microcredential_sd_jwt" and answer["format"] == "dc+sd-jwt"
    disclosures = next(c for c in answer["report"]["checks"] if c["id"] == "disclosures")["details"]
    assert set(disclosures["disclosed"]) == keep and "date_of_birth" in disclosures["withheld"]
    assert answer["claims"]["given_name"] == {"en": "Ana"} and "date_of_birth" not in answer["claims"]
    holder_binding = next(c for c in answer["report"]["checks"] if c["id"] == "holder_binding")
    assert holder_binding["outcome"] == "passed"
    # the same response again: a replay
    _refused(_post(claims, {"microcredential_sd_jwt": [presentation]}), "ALREADY_ANSWERED", "replayed")
    # and the Request Object is no longer served
    assert httpx.get(created["request_uri"]).status_code == 410


def test_the_unsigned_by_value_request_is_answered_with_its_own_client_id(live, client, example_input):
    holder = Ed25519Signer.generate()
    token = _sd_jwt(client, example_input, holder)
    created = _create(live)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(created["authorization_request_by_value"]).query))
    presentation = sd_jwt.present(token, lambda name, _: name == "title", holder=holder, aud=params["client_id"], nonce=params["nonce"])
    r = _post(params, {"microcredential_sd_jwt": [presentation]})
    assert r.status_code == 200 and r.json() == {}, r.text
    assert httpx.get(created["status_url"]).json()["result"]["verified"] is True


def test_wrong_nonce_audience_state_query_or_claims_are_refused_and_store_nothing(live, client, example_input):
    holder = P256Signer.generate()
    token = _sd_jwt(client, example_input, holder)
    created = _create(live, claims=["grade"])
    claims = _request_object(live, created)

    def present(keep=("title", "grade"), **kw):
        return sd_jwt.present(token, lambda name, _: name in keep, holder=holder, **{"aud": claims["client_id"], "nonce": claims["nonce"], **kw})

    _refused(_post(claims, {"microcredential_sd_jwt": [present(nonce="another")]}), "PROOF_VERIFICATION_ERROR", "nonce")
    _refused(_post(claims, {"microcredential_sd_jwt": [present(aud="decentralized_identifier:did:jwk:other")]}), "PROOF_VERIFICATION_ERROR", "aud")
    _refused(_post(claims, {"microcredential_sd_jwt": [present(keep=("title",))]}), "CREDENTIAL_NOT_MATCHING", "claim grade not disclosed")
    _refused(_post(claims, {"something_else": [present()]}), "INVALID_VP_TOKEN", "not a credential query")
    _refused(_post(claims, {"microcredential_sd_jwt": present()}), "INVALID_VP_TOKEN", "array")
    _refused(_post(claims, {"microcredential_ldp": [present()]}), "INVALID_VP_TOKEN", "Verifiable Presentation object")
    _refused(httpx.post(claims["response_uri"], data={"state": claims["state"], "vp_token": "{not json"}), "INVALID_VP_TOKEN", "not JSON")
    # a presentation made for another request: its nonce is not this one's
    other = _request_object(live, _create(live))
    _refused(_post(claims, {"microcredential_sd_jwt": [present(nonce=other["nonce"])]}), "PROOF_VERIFICATION_ERROR", "nonce")
    # this request's response posted with another request's state
    _refused(_post({**claims, "state": other["state"]}, {"microcredential_sd_jwt": [present()]}), "INVALID_STATE", "another request")
    # without a Key Binding JWT
    bare = sd_jwt.present(token, lambda name, _: name in ("title", "grade"))
    _refused(_post(claims, {"microcredential_sd_jwt": [bare]}), "PROOF_VERIFICATION_ERROR", "Key Binding")
    # not form-encoded
    r = httpx.post(claims["response_uri"], json={"vp_token": {}, "state": claims["state"]})
    assert r.status_code == 415
    assert httpx.get(created["status_url"]).json()["status"] == "pending"
    # a late response, however genuine
    with live.app.state.db.transaction() as session:
        session.execute(update(PresentationRequest).where(PresentationRequest.id == created["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    _refused(_post(claims, {"microcredential_sd_jwt": [present()]}), "PRESENTATION_REQUEST_EXPIRED", "late")
    assert httpx.get(created["status_url"]).json()["status"] == "expired"
    assert httpx.get(f"{live.url}/presentation-requests/nope").status_code == 404


def _did_key_holder():
    holder = Ed25519Signer.generate()
    mb = holder.public_multibase()
    holder.verification_method = f"did:key:{mb}#{mb}"
    return holder, f"did:key:{mb}"


def test_an_ldp_vp_with_challenge_and_domain_verifies(live, client, example_input):
    credential = client.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input}).json()
    created = _create(live)
    claims = _request_object(live, created)
    holder, did = _did_key_holder()
    engine = live.app.state.runtime.engine

    def vp(challenge, domain):
        doc = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did, "verifiableCredential": [credential]}
        return engine.add_proof(doc, holder, proof_purpose="authentication", challenge=challenge, domain=domain)

    _refused(_post(claims, {"microcredential_ldp": [vp("wrong", claims["client_id"])]}), "INVALID_CHALLENGE_ERROR", "does not verify")
    _refused(_post(claims, {"microcredential_ldp": [vp(claims["nonce"], "evil.example")]}), "INVALID_DOMAIN_ERROR", "does not verify")
    # an OB3 credential is not an SD-JWT VC: it answers the ldp_vc query only
    _refused(_post(claims, {"microcredential_sd_jwt": [vp(claims["nonce"], claims["client_id"])]}), "INVALID_VP_TOKEN", "SD-JWT")
    r = _post(claims, {"microcredential_ldp": [vp(claims["nonce"], claims["client_id"])]})
    assert r.status_code == 200, r.text
    result = httpx.get(created["status_url"]).json()["result"]
    assert result["verified"] is True and result["presentations"][0]["format"] == "ldp_vc"
    assert result["presentations"][0]["report"]["credentials"][0]["verified"] is True


def test_a_jwt_vc_json_presentation_with_nonce_and_aud_verifies(live, client, example_input):
    issued = client.post("/microcredentials", json={"format": "edc", "proof": "vc+jwt", "microcredential": example_input})
    assert issued.status_code == 201, issued.text
    created = _create(live)
    claims = _request_object(live, created)
    holder, did = _did_key_holder()

    def vp(nonce, aud):
        header = {"alg": "EdDSA", "typ": "JWT", "kid": holder.verification_method}
        payload = {
            "iss": did,
            "aud": aud,
            "nonce": nonce,
            "iat": int(datetime.now(UTC).timestamp()),
            "vp": {
                "@context": ["https://www.w3.org/2018/credentials/v1"],
                "type": ["VerifiablePresentation"],
                "holder": did,
                "verifiableCredential": [issued.text],
            },
        }

        def b64(value):
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        signing_input = f"{b64(header)}.{b64(payload)}"
        return signing_input + "." + base64.urlsafe_b64encode(holder.sign(signing_input.encode())).rstrip(b"=").decode()

    _refused(_post(claims, {"microcredential_jwt": [vp("wrong", claims["client_id"])]}), "INVALID_CHALLENGE_ERROR", "does not verify")
    r = _post(claims, {"microcredential_jwt": [vp(claims["nonce"], claims["client_id"])]})
    assert r.status_code == 200, r.text
    result = httpx.get(created["status_url"]).json()["result"]
    assert result["verified"] is True and result["presentations"][0]["format"] == "jwt_vc_json", result


def test_a_wallet_error_is_recorded_as_the_answer(live):
    created = _create(live)
    claims = _request_object(live, created)
    r = _post(claims, None, error="access_denied", error_description="the learner declined")
    assert r.status_code == 200, r.text
    status = httpx.get(created["status_url"]).json()
    assert status["status"] == "received" and status["result"]["verified"] is False and status["result"]["error"] == "access_denied"
