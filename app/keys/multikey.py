"""Multikey encoding (Controlled Identifiers v1.0 §2.2.2) of Ed25519, X25519 and P-256 keys.

``publicKeyMultibase`` is multibase base58btc (prefix ``z``) of a multicodec varint header and the raw
key: Ed25519 public ``0xed01``, Ed25519 secret seed ``0x8026``, X25519 public ``0xec01``, P-256 public
(compressed point) ``0x8024``, P-256 secret ``0x8626``.
"""

from __future__ import annotations

from dataclasses import dataclass

import base58

from app.errors import CryptoError

ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
X25519_PUB = b"\xec\x01"
P256_PUB = b"\x80\x24"
P256_PRIV = b"\x86\x26"

_LENGTHS = {ED25519_PUB: 32, ED25519_PRIV: 32, X25519_PUB: 32, P256_PUB: 33, P256_PRIV: 32}
_NAMES = {ED25519_PUB: "Ed25519 public", ED25519_PRIV: "Ed25519 secret", X25519_PUB: "X25519 public", P256_PUB: "P-256 public", P256_PRIV: "P-256 secret"}


@dataclass(frozen=True)
class DecodedKey:
    codec: bytes
    key: bytes

    @property
    def kind(self) -> str:
        return _NAMES[self.codec]


def b58decode(text: str, *, what: str = "value") -> bytes:
    """base58btc decoding that raises ``CryptoError`` instead of ValueError."""
    if not isinstance(text, str) or not text:
        raise CryptoError(f"{what} must be a non-empty base58btc string", code="INVALID_MULTIBASE")
    try:
        return base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise CryptoError(f"{what} is not valid base58btc", code="INVALID_MULTIBASE") from None


def encode(codec: bytes, key: bytes) -> str:
    if len(key) != _LENGTHS[codec]:
        raise CryptoError(f"{_NAMES[codec]} key must be {_LENGTHS[codec]} bytes, not {len(key)}", code="INVALID_KEY_LENGTH")
    return "z" + base58.b58encode(codec + key).decode()


def decode(multibase: str) -> DecodedKey:
    """Decode a Multikey ``publicKeyMultibase`` / ``secretKeyMultibase`` value, checking codec and length."""
    if not isinstance(multibase, str) or not multibase.startswith("z"):
        raise CryptoError("a Multikey value must be multibase base58btc (it starts with 'z')", code="INVALID_MULTIBASE")
    raw = b58decode(multibase[1:], what="Multikey value")
    codec, key = raw[:2], raw[2:]
    if codec not in _LENGTHS:
        raise CryptoError(f"unsupported multicodec header 0x{codec.hex()}", code="UNSUPPORTED_KEY_TYPE")
    if len(key) != _LENGTHS[codec]:
        raise CryptoError(f"{_NAMES[codec]} key must be {_LENGTHS[codec]} bytes, not {len(key)}", code="INVALID_KEY_LENGTH")
    return DecodedKey(codec, key)
