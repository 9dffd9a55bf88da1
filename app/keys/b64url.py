"""base64url without padding (RFC 4648 §5; JOSE's encoding, RFC 7515 §2): the one encoder and decoder.

Decoding checks the length it is given before decoding anything (an encoded value is length-checked
before it is decoded) and refuses padding and characters outside the alphabet.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from app.errors import CryptoError

__all__ = ["decode", "encode", "encoded_length"]

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encoded_length(size: int) -> int:
    """The characters base64url without padding writes ``size`` bytes in, ceil(4 · size / 3): the
    ``max_chars`` of a value that decodes to at most ``size`` bytes."""
    return (4 * size + 2) // 3


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode(
    text: Any,
    *,
    what: str = "value",
    max_chars: int | None = None,
    code: str = "INVALID_VERIFICATION_METHOD",
    error: Callable[[str], Exception] | None = None,
) -> bytes:
    """Strict base64url without padding; ``max_chars`` is checked first, and a refusal carries ``code``
    (a ``CryptoError``), or is ``error(message)`` when the caller names its own exception."""

    def refuse(message: str) -> Exception:
        return error(message) if error is not None else CryptoError(message, code=code)

    if not isinstance(text, str) or (max_chars is not None and len(text) > max_chars):
        limit = f" of at most {max_chars} characters" if max_chars is not None else ""
        raise refuse(f"{what} is not a base64url string{limit}")
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise refuse(f"{what} is not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise refuse(f"{what} is not base64url") from None
