"""RFC 9901 processing on hand-built SD-JWTs: the legacy typ, nested and array Disclosures, and hostile input
(every part length-checked, bounded counts, a KB-JWT outside its window or bound to another key)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.keys import Ed25519Signer, P256Signer
from app.keys.b64url import encode as b64u
from app.proofs import sd_jwt

ISSUER = "did:example:issuer"


@pytest.fixture
def issuer():
    signer = P256Signer.generate()
    signer.verification_method = f"{ISSUER}#k1"
    method = {"id": signer.verification_method, "type": "JsonWebKey", "controller": ISSUER, "publicKeyJwk": signer.public_jwk()}
    document = {"id": ISSUER, "assertionMethod": [method["id"]]}
    return signer, (lambda kid: (method, document))


def _reason(token, resolve, **kw):
    out = sd_jwt.verify(token, resolve, **kw)
    assert not out.result.verified
    return out.result.proofs[0].reason


def test_the_earlier_typ_vc_sd_jwt_is_read(issuer):
    signer, resolve = issuer
    token = sd_jwt.issue({"iss": ISSUER, "vct": "urn:x", "a": 1}, signer, disclosable=("a",), typ="vc+sd-jwt")
    out = sd_jwt.verify(token, resolve)
    assert out.result.verified and out.claims["a"] == 1
    assert "typ" in _reason(sd_jwt.issue({"iss": ISSUER, "vct": "urn:x"}, signer, disclosable=(), typ="JWT"), resolve)


def test_nested_and_array_disclosures_are_processed(issuer):
    signer, resolve = issuer
    inner = sd_jwt.make_disclosure("street", "Main 1")
    element = sd_jwt.make_disclosure(None, "FR")
    outer_value = {"_sd": [sd_jwt.digest(inner)], "country": "IE"}
    outer = sd_jwt.make_disclosure("address", outer_value)
    claims = {"iss": ISSUER, "vct": "urn:x", "_sd": [sd_jwt.digest(outer)], "_sd_alg": "sha-256", "nationalities": [{"...": sd_jwt.digest(element)}, "DE"]}
    jwt = sd_jwt.issue(claims, signer, disclosable=()).rstrip("~")
    out = sd_jwt.verify(f"{jwt}~{outer}~{inner}~{element}~", resolve)
    assert out.result.verified, out.result
    assert out.claims["address"] == {"country": "IE", "street": "Main 1"} and out.claims["nationalities"] == ["FR", "DE"]
    assert sorted(map(tuple, out.disclosed)) == sorted([("address",), ("address", "street"), ("nationalities", 0)])
    # the inner Disclosure without the outer one is not referenced
    assert "not referenced" in _reason(f"{jwt}~{inner}~", resolve)
    # an array-element Disclosure where an object property is expected
    wrong = sd_jwt.issue({"iss": ISSUER, "vct": "urn:x", "_sd": [sd_jwt.digest(element)], "_sd_alg": "sha-256"}, signer, disclosable=()).rstrip("~")
    assert "array-element" in _reason(f"{wrong}~{element}~", resolve)


def test_hostile_input_is_refused_before_work(issuer):
    signer, resolve = issuer
    token = sd_jwt.issue({"iss": ISSUER, "vct": "urn:x", "a": 1}, signer, disclosable=("a",))
    jwt = token.split("~")[0]
    assert "more than" in _reason(jwt + "~" + "~".join(["AAAA"] * 1001) + "~", resolve)
    assert "empty Disclosure" in _reason(jwt + "~~", resolve)
    assert "at most" in _reason(jwt + "~" + "A" * 400_000 + "~", resolve)
    assert "not JSON" in _reason(jwt + "~" + b64u(b"not json") + "~", resolve)
    assert "[salt, name, value]" in _reason(jwt + "~" + b64u(b'{"a": 1}') + "~", resolve)
    header, payload, _ = jwt.split(".")
    assert "at most" in _reason(f"{header}.{payload}.{'A' * 200}~", resolve)
    for alg in ("none", "HS256"):
        forged = b64u(json.dumps({"alg": alg, "typ": "dc+sd-jwt", "kid": f"{ISSUER}#k1"}).encode())
        assert "not accepted" in _reason(f"{forged}.{payload}.{jwt.split('.')[2]}~", resolve)
    with_jwk = b64u(json.dumps({"alg": "ES256", "typ": "dc+sd-jwt", "kid": f"{ISSUER}#k1", "jwk": signer.public_jwk()}).encode())
    assert "never taken from the token" in _reason(f"{with_jwk}.{payload}.{jwt.split('.')[2]}~", resolve)


def test_a_key_binding_jwt_outside_its_window_or_by_another_key_is_refused(issuer):
    signer, resolve = issuer
    holder = Ed25519Signer.generate()
    token = sd_jwt.issue({"iss": ISSUER, "vct": "urn:x", "cnf": {"jwk": holder.public_jwk()}, "a": 1}, signer, disclosable=("a",))
    vp = sd_jwt.present(token, lambda *_: True, holder=holder, aud="https://v.example", nonce="n")
    assert sd_jwt.verify(vp, resolve, nonce="n", aud="https://v.example").result.verified
    late = lambda: datetime.now(UTC) + timedelta(minutes=10)  # noqa: E731
    assert "window" in _reason(vp, resolve, clock=late)
    other = sd_jwt.present(token, lambda *_: True, holder=Ed25519Signer.generate(), aud="https://v.example", nonce="n")
    assert "holder's key" in _reason(other, resolve)
    # a KB-JWT over a different set of Disclosures (sd_hash) than the one it travels with
    fewer = sd_jwt.present(token, lambda *_: False)
    assert "sd_hash" in _reason(fewer + vp.rsplit("~", 1)[1], resolve)
