"""did:jwk Method Specification (github.com/quartzjer/did-jwk): a DID that *is* a public JWK.

§2 Syntax: ``did:jwk:`` + base64url (no padding) of the UTF-8 JSON of the JWK (RFC 7517).
§3.1 Read: the DID document has one verification method ``#0`` holding the JWK, listed under
assertionMethod, authentication, capabilityInvocation and capabilityDelegation — and keyAgreement —
except that a JWK with ``"use": "sig"`` is not listed under keyAgreement and one with ``"use": "enc"``
only under keyAgreement.

The method requires a *public* key: a JWK carrying private members (``d``, RSA's ``p``/``q``/…,
or a symmetric ``oct`` key) is refused, so a private key pasted into a DID is never echoed back. The
key itself is checked (curve, coordinate lengths, point on the curve, RSA size), because the
verification method is later trusted as the issuer's key.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from app.errors import DidResolutionError, MicrocredError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encoded_length
from app.strict_json import loads

PREFIX = "did:jwk:"
VM_TYPE = "JsonWebKey"  # Controlled Identifiers v1.0 §2.2.3 (the did:jwk spec's examples show JsonWebKey2020)
CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"]
SIGNING_RELATIONSHIPS = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation")

#: The JSON of the largest public JWK accepted: an RSA-4096 key ({"kty","n","e"}: ~730 bytes; an EC or
#: OKP key is under 200), with room for kid/use/alg members. Its base64url is at most 1,366 characters,
#: so a did:jwk stays within the 2,048 characters DIDs are capped at (app.dids.resolver).
_MAX_JWK_BYTES = 1024
_MAX_MEMBER_BYTES = 512
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")  # RFC 7518 §6.2.2, §6.3.2, §6.4
_OKP_LENGTHS = {"Ed25519": 32, "Ed448": 57, "X25519": 32, "X448": 56}  # RFC 8037 §2
_EC_LENGTHS = {"P-256": 32, "P-384": 48, "P-521": 66, "secp256k1": 32}  # RFC 7518 §6.2.1.2, RFC 8812


def _invalid(why: str) -> DidResolutionError:
    return DidResolutionError(f"not a usable did:jwk: {why}", code="INVALID_DID")


def _b64url_decode(value: Any, name: str) -> bytes:
    # The largest member is an RSA-4096 modulus (512 bytes); longer values are refused before decoding.
    return b64u_decode(value, what=f"JWK member {name!r}", max_chars=encoded_length(_MAX_MEMBER_BYTES), error=_invalid)


def check_public_jwk(jwk: Any) -> None:
    """Refuse anything but a well-formed public OKP, EC or RSA JWK (RFC 7517, 7518, 8037)."""
    if not isinstance(jwk, dict):
        raise _invalid("the JWK is not a JSON object")
    private = [m for m in _PRIVATE_MEMBERS if m in jwk]
    if private:
        raise _invalid(f"the JWK holds private key material ({', '.join(private)}); a DID names a public key only")
    kty = jwk.get("kty")
    if kty == "OKP":
        crv = jwk.get("crv")
        if crv not in _OKP_LENGTHS:
            raise _invalid(f"unsupported OKP curve {crv!r}")
        if len(_b64url_decode(jwk.get("x"), "x")) != _OKP_LENGTHS[crv]:
            raise _invalid(f"x is not a {_OKP_LENGTHS[crv]}-byte {crv} public key")
    elif kty == "EC":
        crv = jwk.get("crv")
        if crv not in _EC_LENGTHS:
            raise _invalid(f"unsupported EC curve {crv!r}")
        x, y = _b64url_decode(jwk.get("x"), "x"), _b64url_decode(jwk.get("y"), "y")
        if len(x) != _EC_LENGTHS[crv] or len(y) != _EC_LENGTHS[crv]:
            raise _invalid(f"x and y must be {_EC_LENGTHS[crv]} bytes each for {crv} (RFC 7518 §6.2.1.2)")
        _check_on_curve(crv, x, y)
    elif kty == "RSA":
        n, e = _b64url_decode(jwk.get("n"), "n"), _b64url_decode(jwk.get("e"), "e")
        if int.from_bytes(n, "big").bit_length() < 2048 or not 1 <= len(e) <= 8 or int.from_bytes(e, "big") < 3:
            raise _invalid("RSA keys need a modulus of at least 2048 bits and a sensible exponent")
    elif kty == "oct":
        raise _invalid("a symmetric (oct) key cannot be a public identifier")
    else:
        raise _invalid(f"unsupported key type {kty!r}")
    use = jwk.get("use")
    if use is not None and use not in ("sig", "enc"):
        raise _invalid(f"'use' must be 'sig' or 'enc', not {use!r}")


def _check_on_curve(crv: str, x: bytes, y: bytes) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    curve = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "secp256k1": ec.SECP256K1}[crv]()
    try:
        ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve).public_key()
    except ValueError:
        raise _invalid(f"(x, y) is not a point on {crv}") from None


def did_jwk_from_jwk(jwk: dict) -> str:
    """§2: the did:jwk for a public JWK (compact JSON; members as given)."""
    check_public_jwk(jwk)
    text = json.dumps(jwk, separators=(",", ":"), ensure_ascii=False)
    return PREFIX + base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_did_jwk(did: str) -> dict:
    """§3.1 Read steps 1–3: the JWK a did:jwk carries, checked as a public key."""
    if not isinstance(did, str) or not did.startswith(PREFIX):
        raise _invalid("it must start with did:jwk:")
    msid = did[len(PREFIX) :]
    raw = b64u_decode(msid, what="the identifier", max_chars=encoded_length(_MAX_JWK_BYTES), error=_invalid)
    try:
        jwk = loads(raw, max_bytes=_MAX_JWK_BYTES, max_depth=4)
    except MicrocredError as exc:
        raise _invalid(f"the identifier does not decode to JSON ({exc.detail})") from exc
    check_public_jwk(jwk)
    return jwk


def resolve_did_jwk(did: str) -> dict:
    """§3.1 Read: the DID document of a did:jwk."""
    jwk = decode_did_jwk(did)
    vm_id = f"{did}#0"
    document: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": VM_TYPE, "controller": did, "publicKeyJwk": jwk}],
    }
    use = jwk.get("use")
    if use != "enc":
        for relationship in SIGNING_RELATIONSHIPS:
            document[relationship] = [vm_id]
    if use != "sig":
        document["keyAgreement"] = [vm_id]
    return document
