"""VC-JOSE: application/vc+jwt securing and verification, and the attacks security-notes §8 lists."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from jwcrypto import jwk, jws

from app.dids.resolver import DidResolver
from app.keys import Ed25519Signer, P256Signer
from app.proofs import vc_jose

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _b64(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def _signer(kind):
    s = Ed25519Signer.generate() if kind == "ed" else P256Signer.generate()
    mb = s.public_multibase()
    s.verification_method = f"did:key:{mb}#{mb}"
    return s


def _credential(signer, **extra):
    did = signer.verification_method.split("#")[0]
    cred = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:3f0e6d2a-7c1b-4d3e-9a51-6f1f0e2d9c11",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Ada"},
    }
    cred.update(extra)
    return cred


def _verify(token, **kw):
    return vc_jose.verify(token, DidResolver().dereference, clock=lambda: NOW, **kw)


@pytest.mark.parametrize("kind,alg", [("ed", "EdDSA"), ("p256", "ES256")])
def test_round_trip(kind, alg):
    signer = _signer(kind)
    cred = _credential(signer)
    token = vc_jose.secure(cred, signer, now=NOW)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": alg, "kid": signer.verification_method, "typ": "vc+jwt", "cty": "vc"}
    out = _verify(token)
    assert out.result.verified, out.result.as_dict()
    assert out.credential == cred
    assert out.result.proofs[0].purpose_authorized
    assert out.result.proofs[0].controller == cred["issuer"]


def test_signature_checked_by_jwcrypto_independently():
    signer = _signer("ed")
    token = vc_jose.secure(_credential(signer), signer, now=NOW)
    key = jwk.JWK(**signer.public_jwk())
    obj = jws.JWS()
    obj.deserialize(token)
    obj.verify(key, alg="EdDSA")  # raises if our hand-assembled JWS were wrong


def test_tampered_payload_fails():
    signer = _signer("ed")
    h, p, s = vc_jose.secure(_credential(signer), signer, now=NOW).split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=="))
    payload["credentialSubject"]["name"] = "Eve"
    out = _verify(f"{h}.{_b64(payload)}.{s}")
    assert not out.result.verified and out.result.error == "PROOF_VERIFICATION_ERROR"


def _forge(header, payload, sig=b"\x00" * 64):
    return f"{_b64(header)}.{_b64(payload)}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


def test_alg_none_refused():
    signer = _signer("ed")
    cred = _credential(signer)
    token = _forge({"alg": "none", "kid": signer.verification_method, "typ": "vc+jwt"}, cred, b"")
    token = token.rstrip(".") + "."
    out = _verify(token)
    assert not out.result.verified and "not accepted" in out.result.reason


def test_hmac_with_public_key_bytes_refused():
    # HS256 keyed with the public key's bytes: the classic algorithm-confusion attack.
    signer = _signer("ed")
    cred = _credential(signer)
    pub = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(signer.public_multibase().encode()).rstrip(b"=").decode())
    obj = jws.JWS(json.dumps(cred).encode())
    obj.add_signature(pub, None, json.dumps({"alg": "HS256", "kid": signer.verification_method, "typ": "vc+jwt"}))
    out = _verify(obj.serialize(compact=True))
    assert not out.result.verified and "HS256" in out.result.reason


def test_key_in_header_refused():
    attacker = Ed25519Signer.generate()
    victim = _signer("ed")
    cred = _credential(victim)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "jwk": attacker.public_jwk(), "kid": victim.verification_method}
    signing_input = f"{_b64(header)}.{_b64(cred)}"
    token = signing_input + "." + base64.urlsafe_b64encode(attacker.sign(signing_input.encode())).rstrip(b"=").decode()
    out = _verify(token)
    assert not out.result.verified and out.result.error == "INVALID_VERIFICATION_METHOD"


def test_key_of_other_type_refused():
    # ES256 header but the kid names an Ed25519 key: algorithm pinned to key type.
    signer = _signer("ed")
    p = _signer("p256")
    cred = _credential(signer)
    header = {"alg": "ES256", "typ": "vc+jwt", "kid": signer.verification_method}
    signing_input = f"{_b64(header)}.{_b64(cred)}"
    token = signing_input + "." + base64.urlsafe_b64encode(p.sign(signing_input.encode())).rstrip(b"=").decode()
    out = _verify(token)
    assert not out.result.verified and out.result.error == "INVALID_VERIFICATION_METHOD"


def test_jwe_refused():
    out = _verify("a.b.c.d.e")
    assert not out.result.verified and "JWE" in out.result.reason


def test_wrong_typ_refused():
    signer = _signer("ed")
    cred = _credential(signer)
    header = {"alg": "EdDSA", "typ": "JWT", "kid": signer.verification_method}
    signing_input = f"{_b64(header)}.{_b64(cred)}"
    token = signing_input + "." + base64.urlsafe_b64encode(signer.sign(signing_input.encode())).rstrip(b"=").decode()
    out = _verify(token)
    assert not out.result.verified and "typ" in out.result.reason


def test_iss_must_match_issuer():
    signer = _signer("ed")
    cred = _credential(signer)
    payload = dict(cred, iss="did:example:someone-else")
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": signer.verification_method}
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    token = signing_input + "." + base64.urlsafe_b64encode(signer.sign(signing_input.encode())).rstrip(b"=").decode()
    out = _verify(token)
    assert not out.result.verified and "iss" in out.result.reason


def test_expired_and_not_yet_valid():
    signer = _signer("ed")
    expired = vc_jose.secure(_credential(signer, validUntil="2025-02-01T00:00:00Z"), signer, now=NOW)
    out = _verify(expired)
    assert not out.result.verified and "expired" in out.result.reason
    assert _verify(expired, check_validity=False).result.verified
    future = vc_jose.secure(_credential(signer, validFrom="2026-01-01T00:00:00Z"), signer, now=NOW)
    out = _verify(future)
    assert not out.result.verified and "not yet valid" in out.result.reason


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "!!!.???.***", "e30.e30.", 42, None])
def test_garbage_is_a_report_not_an_exception(garbage):
    out = _verify(garbage)
    assert not out.result.verified and out.result.reason
