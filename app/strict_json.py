"""Strict JSON parsing: I-JSON (RFC 7493) with size, depth and number limits.

Python's ``json`` module is lax (security-notes.md §5): duplicate keys (last wins), NaN and Infinity,
lone surrogates, and integers of any size. Everything that reaches the domain goes through ``loads``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from app.errors import ParsingError, RangeError, UnsupportedMediaType

#: RFC 7493 §2.2: integers outside ±(2**53 - 1) cannot be exchanged exactly (JCS treats numbers as doubles).
MAX_SAFE_INTEGER = 2**53 - 1


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ParsingError(f"duplicate key {key!r} in a JSON object (RFC 7493 §2.3)", code="DUPLICATE_KEY")
        obj[key] = value
    return obj


def _constant(name: str) -> Any:
    raise ParsingError(f"{name} is not a JSON number (RFC 8259 §6)", code="NON_FINITE_NUMBER")


def _int(text: str) -> int:
    # Bound the digits before converting: int() of a 100,000-digit string is itself a cost.
    if len(text.lstrip("-")) > 16 or abs(value := int(text)) > MAX_SAFE_INTEGER:
        raise RangeError(f"integer {text[:20]}… is outside ±2^53 (RFC 7493 §2.2)", code="NUMBER_OUT_OF_RANGE")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RangeError(f"number {text[:20]} overflows an IEEE double (RFC 7493 §2.2)", code="NUMBER_OUT_OF_RANGE")
    return value


def _check(value: Any, depth: int, max_depth: int) -> None:
    """Walk the parsed value: nesting depth, and strings that are not valid Unicode (lone surrogates)."""
    if depth > max_depth:
        raise ParsingError(f"JSON nested deeper than {max_depth} levels", code="TOO_DEEP")
    if isinstance(value, str):
        _check_str(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_str(k)
            if isinstance(v, (dict, list)):
                _check(v, depth + 1, max_depth)
            elif isinstance(v, str):
                _check_str(v)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, (dict, list)):
                _check(v, depth + 1, max_depth)
            elif isinstance(v, str):
                _check_str(v)


def _check_str(s: str) -> None:
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            raise ParsingError("a string holds a lone surrogate, which is not Unicode (RFC 7493 §2.1)", code="INVALID_UNICODE") from None


def loads(data: bytes | str, *, max_bytes: int = 1_048_576, max_depth: int = 64) -> Any:
    """Parse ``data`` as I-JSON or raise ``ParsingError`` / ``RangeError`` naming the problem."""
    if len(data) > max_bytes:
        raise ParsingError(f"JSON document larger than {max_bytes} bytes", code="TOO_LARGE")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParsingError(f"not valid UTF-8 at byte {exc.start} (RFC 8259 §8.1)", code="INVALID_UTF8") from None
    else:
        text = data
    if text.startswith("\ufeff"):
        raise ParsingError("a byte order mark is not allowed (RFC 8259 §8.1)", code="INVALID_UTF8")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int, parse_float=_float)
    except RecursionError:
        raise ParsingError(f"JSON nested deeper than {max_depth} levels", code="TOO_DEEP") from None
    except json.JSONDecodeError as exc:
        raise ParsingError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    _check(value, 0, max_depth)
    return value


def dumps(value: Any) -> str:
    """Serialize for storage and responses: UTF-8 text, no NaN."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


#: The media types a JSON request body may be sent as (JSON, JSON-LD, and the VC / VP media types).
JSON_MEDIA_TYPES = ("application/json", "application/ld+json", "application/vc+ld+json", "application/vp+ld+json")


@dataclass(frozen=True)
class JsonRequest:
    """A request body read but not yet parsed, with the limits it must be parsed within.

    Read on the event loop, parsed wherever the work runs (``parse``): a service that does its work in
    one worker-thread hop checks the caller first and parses there, in the order every route answers
    (401, then 415, then 400).
    """

    raw: bytes
    media_type: str
    max_bytes: int = 1_048_576
    max_depth: int = 64

    def parse(self) -> Any:
        """The body as strict I-JSON, after checking that it was sent as JSON (415 otherwise)."""
        if self.media_type not in JSON_MEDIA_TYPES:
            raise UnsupportedMediaType(f"send JSON (Content-Type: application/json), not {self.media_type or 'nothing'}")
        return loads(self.raw, max_bytes=self.max_bytes, max_depth=self.max_depth)
