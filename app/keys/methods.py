"""Public keys out of verification methods (Controlled Identifiers v1.0 §2.2), with one set of refusals.

Both proof families take their key from here: Data Integrity (``Multikey``, ``Ed25519VerificationKey2020``,
``JsonWebKey``) and VC-JOSE (the same methods, pinned to the JWS algorithm's key type). A method that
exposes secret key material, holds another key type than the proof needs, or has an unknown form is refused
with ``INVALID_VERIFICATION_METHOD`` (security-notes §8, §10: keys come only from the resolved document).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from app.errors import CryptoError
from app.keys import multikey
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encode as b64u_encode
from app.keys.signer import ED25519, P256

__all__ = ["PublicKey", "public_key_from_method"]

_MULTIBASE_TYPES = ("Multikey", "Ed25519VerificationKey2020")
_JWK_TYPES = ("JsonWebKey", "JsonWebKey2020")
_SECRET_MEMBERS = ("secretKeyMultibase", "privateKeyMultibase", "privateKeyJwk")
_JWK_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")  # RFC 7518 §6.2.2, §6.3.2, §6.4
_CODEC_TYPES = {multikey.ED25519_PUB: ED25519, multikey.P256_PUB: P256}
#: The longest base64url member of a public EC / OKP JWK we read (a P-521 coordinate is 88 characters).
_MAX_JWK_MEMBER = 100


@dataclass(frozen=True)
class PublicKey:
    """A public key of a type this service signs and verifies with.

    ``raw``: 32 bytes for Ed25519 (RFC 8032); the SEC1 compressed point, 33 bytes, for P-256.
    """

    key_type: str
    raw: bytes

    def jwk(self) -> dict[str, str]:
        """RFC 8037 §2 (OKP Ed25519) or RFC 7518 §6.2.1 (EC P-256) public JWK."""
        if self.key_type == ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(self.raw)}
        numbers = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), self.raw).public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64u_encode(numbers.x.to_bytes(32, "big")), "y": b64u_encode(numbers.y.to_bytes(32, "big"))}

    def verify(self, data: bytes, signature: bytes) -> bool:
        """Ed25519 (RFC 8032 §5.1.7) or ECDSA P-256/SHA-256 with an IEEE P1363 ``r||s`` signature."""
        if self.key_type == ED25519:
            try:
                nacl.signing.VerifyKey(self.raw).verify(data, signature)
                return True
            except nacl.exceptions.BadSignatureError:
                return False
        if len(signature) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            _p256_key(self.raw).verify(der, data, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False


def public_key_from_method(method: Any, key_type: str | None = None) -> PublicKey:
    """The public key of a verification method; ``key_type`` (``Ed25519`` / ``P-256``) pins what is accepted."""
    if not isinstance(method, dict):
        raise CryptoError("verification method is not an object", code="INVALID_VERIFICATION_METHOD")
    if any(member in method for member in _SECRET_MEMBERS):
        raise CryptoError("verification method exposes a secret key", code="INVALID_VERIFICATION_METHOD")
    mtype = method.get("type")
    if mtype in _MULTIBASE_TYPES and "publicKeyMultibase" in method:
        key = _from_multibase(method["publicKeyMultibase"])
    elif mtype in _JWK_TYPES and isinstance(method.get("publicKeyJwk"), dict):
        key = _from_jwk(method["publicKeyJwk"])
    else:
        raise CryptoError(f"verification method type {str(mtype)[:60]} with this key form is not supported", code="INVALID_VERIFICATION_METHOD")
    if key_type is not None and key.key_type != key_type:
        raise CryptoError(f"the proof needs an {key_type} key, the verification method holds an {key.key_type} key", code="INVALID_VERIFICATION_METHOD")
    return key


def _from_multibase(value: Any) -> PublicKey:
    decoded = multikey.decode(value)
    key_type = _CODEC_TYPES.get(decoded.codec)
    if key_type is None:
        raise CryptoError(f"expected an Ed25519 or P-256 public key, found an {decoded.kind} key", code="INVALID_VERIFICATION_METHOD")
    if key_type == P256:
        _p256_point(decoded.key)
    return PublicKey(key_type, decoded.key)


def _from_jwk(jwk: dict[str, Any]) -> PublicKey:
    if any(member in jwk for member in _JWK_PRIVATE):
        raise CryptoError("verification method's JWK holds a private key", code="INVALID_VERIFICATION_METHOD")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if (kty, crv) == ("OKP", "Ed25519"):
        raw = b64u_decode(jwk.get("x"), what="the JWK's x", max_chars=_MAX_JWK_MEMBER)
        if len(raw) != 32:
            raise CryptoError("Ed25519 public key must be 32 bytes", code="INVALID_VERIFICATION_METHOD")
        return PublicKey(ED25519, raw)
    if (kty, crv) == ("EC", "P-256"):
        x = b64u_decode(jwk.get("x"), what="the JWK's x", max_chars=_MAX_JWK_MEMBER)
        y = b64u_decode(jwk.get("y"), what="the JWK's y", max_chars=_MAX_JWK_MEMBER)
        if len(x) != 32 or len(y) != 32:
            raise CryptoError("P-256 coordinates must be 32 bytes", code="INVALID_VERIFICATION_METHOD")
        try:
            return PublicKey(P256, _p256_compressed(x, y))
        except ValueError:
            raise CryptoError("the JWK is not a point on P-256", code="INVALID_VERIFICATION_METHOD") from None
    raise CryptoError(f"the JWK is not an Ed25519 or P-256 public key ({str(kty)[:10]}/{str(crv)[:20]})", code="INVALID_VERIFICATION_METHOD")


# Decoding a P-256 point (decompressing it, checking it is on the curve) cost as much as verifying a signature with
# it, and an OpenID4VP answer used the same few keys (the issuer's, the Status List Token's) on every request, plus
# the holder's. Pure functions of the bytes, so their results are kept (a bounded LRU; a ValueError is not kept).
@lru_cache(maxsize=1024)
def _p256_key(compressed: bytes) -> ec.EllipticCurvePublicKey:
    """The point of a SEC1 compressed P-256 key; ValueError when it is not on the curve."""
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), compressed)


@lru_cache(maxsize=1024)
def _p256_compressed(x: bytes, y: bytes) -> bytes:
    """The SEC1 compressed form of the P-256 point (x, y); ValueError when it is not on the curve."""
    point = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
    return point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def _p256_point(compressed: bytes) -> None:
    try:
        _p256_key(compressed)
    except ValueError:
        raise CryptoError("the Multikey is not a point on P-256", code="INVALID_VERIFICATION_METHOD") from None
