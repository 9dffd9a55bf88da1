"""VC API verifyCredential/verifyPresentation as the W3C/CCG suites call them, over the live service (issue 11):
a caller's ``options.challenge``/``domain``, a presentation without ``holder``, an EnvelopedVerifiablePresentation
(VC 2.0 §4.13.2; VC-JOSE-COSE §3.2 vp+jwt and a VC DM 1.1 §6.3 ``vp`` JWT), and ``options.checks``.
"""

from __future__ import annotations

import base64
import json

import httpx

from app.keys import Ed25519Signer
from tests.api.test_verifier import VC2, _checks, _issue
from tests.conftest import VECTORS


def _holder():
    holder = Ed25519Signer.generate()
    mb = holder.public_multibase()
    holder.verification_method = f"did:key:{mb}#{mb}"
    return holder, f"did:key:{mb}"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(signer, header: dict, payload: dict) -> str:
    signing_input = _b64u(json.dumps(header).encode()) + "." + _b64u(json.dumps(payload).encode())
    return signing_input + "." + _b64u(signer.sign(signing_input.encode()))


def _vp(live, signer, credentials, challenge, domain=None, **extra):
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "verifiableCredential": credentials, **extra}
    return live.app.state.runtime.engine.add_proof(vp, signer, proof_purpose="authentication", challenge=challenge, domain=domain)


def _post_vp(live, vp, **options):
    return httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": options}, timeout=30)


def test_a_callers_own_challenge_and_domain_are_accepted_and_said_so(live, client, example_input):
    credential = _issue(client, example_input, "ob3", "eddsa-rdfc-2022").json()
    holder, did = _holder()
    vp = _vp(live, holder, [credential], "123456789", "verifier.example", holder=did)
    r = _post_vp(live, vp, challenge="123456789", domain="verifier.example")
    assert r.status_code == 200, r.text
    check = _checks(r.json())["challenge"]
    assert check["outcome"] == "passed" and "caller" in check["reason"]
    # The proof must still carry the caller's challenge and domain.
    r = _post_vp(live, vp, challenge="987654321", domain="verifier.example")
    assert r.status_code == 422 and _checks(r.json())["proof"]["code"] == "INVALID_CHALLENGE_ERROR"
    r = _post_vp(live, vp, challenge="123456789", domain="other.example")
    assert r.status_code == 422 and _checks(r.json())["proof"]["code"] == "INVALID_DOMAIN_ERROR"
    # A challenge from POST /challenges stays single-use.
    ch = httpx.post(f"{live.url}/challenges").json()
    vp = _vp(live, holder, [credential], ch["challenge"], ch["domain"], holder=did)
    assert _post_vp(live, vp, challenge=ch["challenge"]).status_code == 200
    replay = _post_vp(live, vp, challenge=ch["challenge"])
    assert replay.status_code == 422 and "already been used" in _checks(replay.json())["challenge"]["reason"]


def test_a_signed_presentation_without_holder_verifies_with_no_binding_to_check(live, client, example_input):
    credential = _issue(client, example_input, "edc", "eddsa-jcs-2022").json()
    holder, _ = _holder()
    r = _post_vp(live, _vp(live, holder, [credential], "c-1"), challenge="c-1")
    assert r.status_code == 200, r.text
    binding = _checks(r.json())["holder_binding"]
    assert binding["outcome"] == "skipped" and "no holder" in binding["reason"]
    # An unsigned presentation is still not verified.
    unsigned = {"@context": [VC2], "type": ["VerifiablePresentation"], "verifiableCredential": [credential]}
    assert _post_vp(live, unsigned, challenge="c-1").status_code == 422


def test_enveloped_presentations_verify(live, client, example_input):
    token = _issue(client, example_input, "ob3", "vc+jwt").text
    inner = {"@context": [VC2], "type": "EnvelopedVerifiableCredential", "id": f"data:application/vc+jwt,{token}"}
    holder, did = _holder()
    # VC-JOSE-COSE §3.2: the payload is the presentation, typ vp+jwt; the challenge is the nonce, the domain the aud.
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did, "verifiableCredential": [inner]}
    vp_jwt = _jwt(holder, {"alg": "EdDSA", "kid": holder.verification_method, "typ": "vp+jwt"}, {**vp, "iss": did, "nonce": "n-1", "aud": "v.example"})
    envelope = {"@context": [VC2], "type": "EnvelopedVerifiablePresentation", "id": f"data:application/vp+jwt,{vp_jwt}"}
    r = _post_vp(live, envelope, challenge="n-1", domain="v.example")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["format"] == "vp+jwt" and _checks(body)["holder_binding"]["outcome"] == "passed"
    assert [c["verified"] for c in body["credentials"]] == [True]
    # VC DM 1.1 §6.3: a JWT with a vp claim, typ JWT, as the W3C VCDM suite envelopes it.
    legacy = _jwt(holder, {"alg": "EdDSA", "kid": holder.verification_method, "typ": "JWT"}, {"iss": did, "nonce": "n-2", "vp": vp})
    r = _post_vp(live, {**envelope, "id": f"data:application/jwt,{legacy}"}, challenge="n-2")
    assert r.status_code == 200, r.text
    # A wrong nonce, a token signed by another key, a bad context, an id that is not a data: URL.
    assert _checks(_post_vp(live, envelope, challenge="other").json())["proof"]["code"] == "INVALID_CHALLENGE_ERROR"
    other, _ = _holder()
    forged = _jwt(other, {"alg": "EdDSA", "kid": holder.verification_method, "typ": "vp+jwt"}, {**vp, "iss": did, "nonce": "n-1"})
    assert _post_vp(live, {**envelope, "id": f"data:application/vp+jwt,{forged}"}, challenge="n-1").status_code == 422
    assert _post_vp(live, {**envelope, "@context": ["https://www.w3.org/ns/credentials/examples/v2"]}, challenge="n-1").status_code == 422
    r = _post_vp(live, {**envelope, "id": vp_jwt}, challenge="n-1")
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")


def test_options_checks_proof_checks_the_proofs_only_and_says_so(live, client, example_input):
    # The VC-API verifier suite's positive test ("MUST verify a valid VC", checks ["proof"]): the vc-di-eddsa
    # Ed25519Signature2020 vector, whose did:key proof verifies though its issuer https://vc.example/… names no key.
    doc = json.loads((VECTORS / "vc-di-eddsa" / "Ed25519Signature2020" / "signedEdSig.json").read_text())
    body = {"verifiableCredential": doc, "options": {"checks": ["proof"]}}
    r = httpx.post(f"{live.url}/credentials/verify", json=body, timeout=30)
    assert r.status_code == 200, r.text
    report = r.json()
    assert {c["id"] for c in report["checks"]} == {"well_formed", "proof", "scope"}
    assert "only well-formedness and the proofs" in _checks(report)["scope"]["reason"]
    # Without options.checks every check runs, and the issuer binding fails.
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": doc, "options": {}}, timeout=30)
    assert r.status_code == 422 and _checks(r.json())["issuer_binding"]["outcome"] == "failed"
    # A tampered credential still fails under checks ["proof"].
    doc["credentialSubject"]["alumniOf"] = "Another School"
    assert httpx.post(f"{live.url}/credentials/verify", json=body, timeout=30).status_code == 422
    # Unknown or malformed checks are 400 naming the field.
    for checks in (["proof", "nonsense"], "proof", [1]):
        bad = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": doc, "options": {"checks": checks}}, timeout=30)
        assert bad.status_code == 400 and "/options/checks" in bad.text, bad.text
    # On presentations: the holder proof and the credentials' proofs only.
    credential = _issue(client, example_input, "ob3", "eddsa-rdfc-2022").json()
    holder, did = _holder()
    vp = _vp(live, holder, [credential], "c-3", holder=did)
    r = _post_vp(live, vp, challenge="c-3", checks=["proof"])
    assert r.status_code == 200, r.text
    assert "scope" in _checks(r.json()) and "issuer_binding" not in _checks(r.json()["credentials"][0])
