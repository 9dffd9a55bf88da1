"""base64url without padding (RFC 4648 §5; JOSE's encoding, RFC 7515 §2): the one encoder and decoder.

Decoding checks the length it is given before decoding anything (an encoded value is length-checked
before it is decoded) and refuses padding and characters outside the alphabet.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from app.errors import CryptoError

__all__ = ["decode", "encode"]

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode(text: Any, *, what: str = "value", max_chars: int | None = None, code: str = "INVALID_VERIFICATION_METHOD") -> bytes:
    """Strict base64url without padding; ``max_chars`` is checked first, and a refusal carries ``code``."""
    if not isinstance(text, str) or (max_chars is not None and len(text) > max_chars):
        limit = f" of at most {max_chars} characters" if max_chars is not None else ""
        raise CryptoError(f"{what} is not a base64url string{limit}", code=code)
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise CryptoError(f"{what} is not base64url without padding", code=code)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise CryptoError(f"{what} is not base64url", code=code) from None
