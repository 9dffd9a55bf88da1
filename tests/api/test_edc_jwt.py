"""A Europass EDC secured with JOSE (issue 11): VC-JOSE-COSE §3.1.1 defines ``typ: vc+jwt`` for VC 2.0 credentials
only, and the EDC is a VC Data Model 1.1 document, so microcred issues it as a VC DM 1.1 §6.3.1 JWT: ``typ: JWT``,
the credential in the ``vc`` claim, ``iss``/``nbf``/``jti``/``sub`` beside it, media type ``application/jwt``
(RFC 7519 §10.3.1). An Open Badge (VC 2.0) stays ``vc+jwt``. The independent check (jose) is tests/interop."""

from __future__ import annotations

import base64
import json

import httpx

from tests.api.test_verifier import VC2, _checks, _issue


def _part(token: str, i: int) -> dict:
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_an_edc_as_jwt_is_a_vc_1_1_jwt_and_an_open_badge_a_vc_jwt(live, client, example_input):
    r = _issue(client, example_input, "edc", "vc+jwt")
    assert r.headers["content-type"].split(";")[0] == "application/jwt"
    header, payload = _part(r.text, 0), _part(r.text, 1)
    assert header["typ"] == "JWT" and "cty" not in header
    vc = payload["vc"]
    assert vc["@context"][0] == "https://www.w3.org/2018/credentials/v1"
    assert payload["iss"] == (vc["issuer"]["id"] if isinstance(vc["issuer"], dict) else vc["issuer"])
    assert payload["jti"] == vc["id"] and isinstance(payload["nbf"], int) and payload["sub"] == vc["credentialSubject"]["id"]
    # the stored credential is served the same way
    stored = client.get(f"/credentials/{r.headers['x-credential-id']}" if "x-credential-id" in r.headers else r.headers["location"])
    assert stored.status_code == 200 and stored.headers["content-type"].split(";")[0] == "application/jwt" and stored.text == r.text
    # microcred's verifier reads it, bare and enveloped
    v = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": r.text}, timeout=30)
    assert v.status_code == 200, v.text
    assert _checks(v.json())["proof"]["outcome"] == "passed" and _checks(v.json())["eu_completeness"]["outcome"] == "passed"
    envelope = {"@context": [VC2], "type": "EnvelopedVerifiableCredential", "id": f"data:application/jwt,{r.text}"}
    assert httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": envelope}, timeout=30).status_code == 200
    ob3 = _issue(client, example_input, "ob3", "vc+jwt")
    assert ob3.headers["content-type"].split(";")[0] == "application/vc+jwt" and _part(ob3.text, 0)["typ"] == "vc+jwt"
    assert "vc" not in _part(ob3.text, 1)


def test_vc_api_envelopes_a_vc_1_1_jwt_with_its_media_type(live, client):
    credential = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    r = client.post("/credentials/issue", json={"credential": credential, "options": {"proofFormat": "vc+jwt"}})
    assert r.status_code == 201, r.text
    vc = r.json()["verifiableCredential"]
    assert vc["type"] == "EnvelopedVerifiableCredential" and vc["id"].startswith("data:application/jwt,")
    assert _part(vc["id"].split(",", 1)[1], 0)["typ"] == "JWT"
    assert httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc}, timeout=30).status_code == 200
