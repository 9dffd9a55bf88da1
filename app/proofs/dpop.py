"""OAuth 2.0 Demonstrating Proof of Possession (DPoP, RFC 9449): proofs, JWK thumbprints, the ``ath`` hash.

Pure: no HTTP, no storage. ``verify_proof`` runs the checks of RFC 9449 §4.3 on a DPoP proof JWT (``typ: dpop+jwt``,
an asymmetric ``alg`` from the allow-list, the ``jwk`` header a public key and the signature by it, ``htm`` / ``htu``
of this request, ``iat`` within the window, a ``jti``, and ``ath`` when the proof goes with an access token) and
returns its key's thumbprint (RFC 7638, the ``cnf.jkt`` a bound token carries, §6.1) and its ``jti``; the caller keeps
the ``jti``s it has seen (§11.1) and compares the thumbprint with the token's.

``read_key_jwt`` is the reading shared with other proof JWTs whose key travels in the header (OpenID4VCI 1.0
§8.2.1.1 ``openid4vci-proof+jwt``): each part length-checked before it is decoded, then the key, then the signature.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app import strict_json
from app.errors import MicrocredError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encode as b64u
from app.keys.b64url import encoded_length
from app.keys.methods import PublicKey, public_key_from_method
from app.keys.signer import ED25519, P256

__all__ = ["ALGS", "TYP", "DpopError", "DpopProof", "KeyJwt", "access_token_hash", "jwk_thumbprint", "read_key_jwt", "verify_proof"]

TYP = "dpop+jwt"
#: The algorithms accepted (RFC 9449 §4.3 item 5: asymmetric, never ``none``), with the key type each needs.
ALGS = {"ES256": P256, "EdDSA": ED25519}
MAX_HEADER_BYTES = 2048
MAX_PAYLOAD_BYTES = 8192
MAX_SIGNATURE_BYTES = 64
MAX_JTI_CHARS = 256


class DpopError(Exception):
    """A proof JWT that is refused, and why (the caller maps it to its protocol's error: ``invalid_dpop_proof``…)."""


@dataclass(frozen=True)
class KeyJwt:
    """A proof JWT read and its signature verified by the key it names: header, payload, the public JWK."""

    header: dict[str, Any]
    payload: dict[str, Any]
    jwk: dict[str, str]
    key: PublicKey


@dataclass(frozen=True)
class DpopProof:
    jkt: str
    jti: str
    iat: int


def _part(part: str, what: str, max_bytes: int) -> bytes:
    try:
        return b64u_decode(part, what=what, max_chars=encoded_length(max_bytes))
    except MicrocredError as exc:
        raise DpopError(exc.detail) from None


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = strict_json.loads(raw, max_bytes=len(raw) + 1, max_depth=8)
    except MicrocredError as exc:
        raise DpopError(f"the {what} is not JSON: {exc.detail}") from None
    if not isinstance(value, dict):
        raise DpopError(f"the {what} is not a JSON object")
    return value


def public_jwk_key(jwk: Any, alg: str) -> PublicKey:
    """The public key of a JWK for ``alg`` (EC P-256 for ES256, OKP Ed25519 for EdDSA); a private JWK is refused."""
    try:
        key = public_key_from_method({"type": "JsonWebKey", "publicKeyJwk": jwk}, ALGS[alg])
    except MicrocredError as exc:
        raise DpopError(exc.detail) from None
    return key


def read_key_jwt(compact: Any, *, typ: str, max_chars: int = 12_000, key: PublicKey | None = None) -> KeyJwt:
    """A compact JWS of ``typ`` signed with an allowed ``alg`` by the public key in its ``jwk`` header (or by ``key``,
    when the caller found it from a ``kid``); refused with ``DpopError`` otherwise."""
    if not isinstance(compact, str) or len(compact) > max_chars:
        raise DpopError(f"a {typ} is a compact JWS of at most {max_chars} characters")
    parts = compact.split(".")
    if len(parts) != 3:
        raise DpopError(f"a {typ} is a compact JWS of three parts")
    header = _json(_part(parts[0], "header", MAX_HEADER_BYTES), "header")
    if header.get("typ") != typ:
        raise DpopError(f"the JWT's typ must be {typ}")
    alg = header.get("alg")
    if alg not in ALGS:
        raise DpopError(f"alg {str(alg)[:20]} is not accepted (ES256 or EdDSA)")
    if header.get("crit"):
        raise DpopError("critical header extensions are not supported")
    jwk: dict[str, str]
    if key is None:
        if not isinstance(header.get("jwk"), dict):
            raise DpopError("the JWT's header must carry the public key as jwk")
        key = public_jwk_key(header["jwk"], alg)
    elif key.key_type != ALGS[alg]:
        raise DpopError(f"alg {alg} does not match the {key.key_type} key")
    jwk = key.jwk()
    payload = _json(_part(parts[1], "payload", MAX_PAYLOAD_BYTES), "payload")
    signature = _part(parts[2], "signature", MAX_SIGNATURE_BYTES)
    if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise DpopError("the JWT's signature does not verify with its key")
    return KeyJwt(header, payload, jwk, key)


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 §3: base64url SHA-256 of the required members, lexicographic, no whitespace."""
    required = ("crv", "kty", "x", "y") if jwk.get("kty") == "EC" else ("crv", "kty", "x")
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url SHA-256 of the access token's ASCII."""
    return b64u(hashlib.sha256(token.encode("ascii")).digest())


def _same_uri(htu: Any, url: str) -> bool:
    """§4.3 item 9: ``htu`` equals the request's URI without query and fragment (RFC 3986 §6.2 normalization of scheme
    and host case, and of the default port)."""
    if not isinstance(htu, str) or len(htu) > 2048:
        return False

    def norm(u: str) -> tuple[str, str, str]:
        p = urllib.parse.urlsplit(u)
        port = p.port if p.port is not None else {"http": 80, "https": 443}.get(p.scheme.lower())
        return p.scheme.lower(), f"{(p.hostname or '').lower()}:{port}", p.path or "/"

    try:
        return norm(htu) == norm(url)
    except ValueError:
        return False


def verify_proof(proof: Any, *, htm: str, htu: str, now: datetime, max_age: timedelta, access_token: str | None = None) -> DpopProof:
    """RFC 9449 §4.3: the DPoP proof of this request (``htm`` method, ``htu`` URL); ``access_token`` when the proof
    goes with one (§7: its ``ath`` must match). The key's thumbprint and the ``jti`` to remember."""
    read = read_key_jwt(proof, typ=TYP, max_chars=8192)
    claims = read.payload
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_CHARS:
        raise DpopError("the DPoP proof needs a jti")
    if claims.get("htm") != htm:
        raise DpopError(f"the DPoP proof's htm is not {htm}")
    if not _same_uri(claims.get("htu"), htu):
        raise DpopError("the DPoP proof's htu is not this request's URL")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool) or abs(now.timestamp() - iat) > max_age.total_seconds():
        raise DpopError("the DPoP proof's iat is missing or outside the accepted window")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DpopError("the DPoP proof's ath is not the hash of the access token")
    return DpopProof(jwk_thumbprint(read.jwk), jti, iat)
