"""Multikey encoding (Controlled Identifiers v1.0 §2.2.2) of Ed25519, X25519 and P-256 keys.

``publicKeyMultibase`` is multibase base58btc (prefix ``z``) of a multicodec varint header and the raw
key: Ed25519 public ``0xed01``, Ed25519 secret seed ``0x8026``, X25519 public ``0xec01``, P-256 public
(compressed point) ``0x8024``, P-256 secret ``0x8626``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def base58_length(size: int) -> int:
    """The most characters base58btc can write ``size`` bytes in: ceil(size · log 256 / log 58).

    A leading zero byte is written as one ``1``, fewer characters than its share, so no encoding of
    ``size`` bytes is longer (draft-msporny-base58 §3).
    """
    return math.ceil(size * math.log(256) / math.log(58))


#: The longest Multikey value this module decodes: a 2-byte multicodec header and a 33-byte P-256
#: point (the largest key of ``_LENGTHS``), multibase base58btc: 'z' and at most 48 characters.
MAX_MULTIKEY_CHARS = 1 + base58_length(2 + max(_LENGTHS.values()))
#: A proofValue of the eddsa suites: 'z' and the base58btc of a 64-byte Ed25519 signature (88 characters).
MAX_SIGNATURE_CHARS = 1 + base58_length(64)


_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: Two base58 digits at a time (58² = 3,364): half the big-integer steps of digit-by-digit conversion.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_PAIR_VALUES = {pair: i for i, pair in enumerate(_PAIRS)}
_DIGIT_VALUES = {c: i for i, c in enumerate(_ALPHABET)}


def b58encode(data: bytes) -> str:
    """base58btc (draft-msporny-base58 §3: the Bitcoin alphabet, one ``1`` per leading zero byte), as the base58
    package writes it, in half its time for the 64-byte signature every eddsa proof encodes."""
    n = int.from_bytes(data, "big")
    pairs = []
    while n:
        n, r = divmod(n, 3364)
        pairs.append(_PAIRS[r])
    body = "".join(reversed(pairs)).lstrip("1")
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + body


def _b58decode(text: str) -> bytes:
    """The inverse of ``b58encode``; raises ValueError for a character outside the alphabet."""
    zeros = len(text) - len(text.lstrip("1"))
    n = 0
    try:
        if len(text) % 2:
            n = _DIGIT_VALUES[text[0]]
        for i in range(len(text) % 2, len(text), 2):
            n = n * 3364 + _PAIR_VALUES[text[i : i + 2]]
    except KeyError:
        raise ValueError("not base58btc") from None
    return b"\0" * zeros + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def b58decode(text: str, *, what: str = "value", max_bytes: int = 2 + max(_LENGTHS.values())) -> bytes:
    """base58btc decoding that raises ``CryptoError`` instead of ValueError.

    The length is checked first: base58 decoding is quadratic in the length of its input (a 64 KB value
    took seconds of CPU), and no value this service decodes is longer than ``max_bytes`` decoded.
    """
    if not isinstance(text, str) or not text:
        raise CryptoError(f"{what} must be a non-empty base58btc string", code="INVALID_MULTIBASE")
    if len(text) > base58_length(max_bytes):
        raise CryptoError(f"{what} is longer than the base58btc of {max_bytes} bytes", code="INVALID_MULTIBASE")
    try:
        return _b58decode(text)
    except ValueError:
        raise CryptoError(f"{what} is not valid base58btc", code="INVALID_MULTIBASE") from None


def encode(codec: bytes, key: bytes) -> str:
    if len(key) != _LENGTHS[codec]:
        raise CryptoError(f"{_NAMES[codec]} key must be {_LENGTHS[codec]} bytes, not {len(key)}", code="INVALID_KEY_LENGTH")
    return "z" + b58encode(codec + key)


def decode_multibase_base58btc(value: str, *, max_bytes: int, what: str = "value") -> bytes:
    """The bytes of a multibase base58btc value (``z`` prefix), refusing one longer than ``max_bytes`` can be
    before decoding it (Controlled Identifiers v1.0 §2.4 Multibase). Raises ``CryptoError``."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise CryptoError(f"{what} must be multibase base58btc (it starts with 'z')", code="INVALID_MULTIBASE")
    return b58decode(value[1:], what=what, max_bytes=max_bytes)


def decode(multibase: str) -> DecodedKey:
    """Decode a Multikey ``publicKeyMultibase`` / ``secretKeyMultibase`` value, checking codec and length."""
    if not isinstance(multibase, str) or not multibase.startswith("z"):
        raise CryptoError("a Multikey value must be multibase base58btc (it starts with 'z')", code="INVALID_MULTIBASE")
    raw = decode_multibase_base58btc(multibase, max_bytes=2 + max(_LENGTHS.values()), what="Multikey value")
    codec, key = raw[:2], raw[2:]
    if codec not in _LENGTHS:
        raise CryptoError(f"unsupported multicodec header 0x{codec.hex()}", code="UNSUPPORTED_KEY_TYPE")
    if len(key) != _LENGTHS[codec]:
        raise CryptoError(f"{_NAMES[codec]} key must be {_LENGTHS[codec]} bytes, not {len(key)}", code="INVALID_KEY_LENGTH")
    return DecodedKey(codec, key)
