"""JAdES baseline-B sealing (ETSI TS 119 182-1 §6.2.1 "JAdES-B-B"), the shape the European Commission's Europass
issuer gives its sealed EDCs: a JWS in the general JSON serialization (RFC 7515 §7.2.1) over the unencoded
credential (RFC 7797, ``b64: false``, named in ``crit``), with the signing time ``sigT`` (§5.2.1), the
certificate chain ``x5c`` (§5.1.8) and its thumbprint ``x5t#S256`` (§5.1.7) in the protected header.

The key is any ``Signer`` (a file key or a key inside a PKCS#11 token): ES256 for P-256, EdDSA for Ed25519. The
certificate chain is the operator's (the first certificate holds the signer's public key; checked here). Issuance
uses it for ``"proof": "jades"`` on an EDC (app/issuance/service.py); app/verification/jades.py checks what it makes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.errors import CryptoError
from app.keys import ED25519, P256, Signer

_ALGS = {ED25519: "EdDSA", P256: "ES256"}
#: the proof format name a request gives (``"proof": "jades"``) and the media type of a JWS JSON serialization
#: (RFC 7515 §9.2.2)
PROOF_FORMAT = "jades"
MEDIA_TYPE = "application/jose+json"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def certificate_jwk(certificate: x509.Certificate) -> dict | None:
    """The certificate's public key as the JWK a ``Signer`` reports (RFC 8037 OKP / RFC 7518 EC), to compare."""
    key = certificate.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64u(key.public_bytes(Encoding.Raw, PublicFormat.Raw))}
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {"kty": "EC", "crv": "P-256", "x": _b64u(point[1:33]), "y": _b64u(point[33:65])}
    return None


def seal(payload: bytes, signer: Signer, chain: list[x509.Certificate], *, signed_at: datetime | None = None) -> dict:
    """``{"payload", "signatures": [{"protected", "signature"}]}`` sealing ``payload`` (the credential's JSON bytes,
    kept as they are) with ``signer``, whose certificate is ``chain[0]``."""
    if signer.key_type not in _ALGS:
        raise CryptoError(f"a {signer.key_type} key cannot seal", code="UNSUPPORTED_KEY_TYPE")
    if not chain or certificate_jwk(chain[0]) != signer.public_jwk():
        raise CryptoError("the first certificate of the chain is not the signing key's", code="CERTIFICATE_MISMATCH")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("a sealed payload is UTF-8 JSON", code="MALFORMED_PAYLOAD") from None
    when = (signed_at or datetime.now(UTC)).astimezone(UTC)
    header = {
        "alg": _ALGS[signer.key_type],
        "cty": "octet-stream",  # as Europass's seals say
        "typ": "jose+json",
        "b64": False,
        "sigT": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x5c": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in chain],
        "x5t#S256": _b64u(hashlib.sha256(chain[0].public_bytes(Encoding.DER)).digest()),
        "crit": ["b64", "sigT"],
    }
    protected = _b64u(json.dumps(header, separators=(",", ":")).encode())
    signature = signer.sign(protected.encode("ascii") + b"." + payload)  # RFC 7797 §3: the payload unencoded
    return {"payload": text, "signatures": [{"protected": protected, "signature": _b64u(signature)}]}
