"""W3C Bitstring Status List v1.0 (Recommendation, 2025): bit arithmetic, encoding, and reading a status.

Everything that touches a status bit goes through ``get_bit`` / ``set_bit`` / ``get_status`` /
``set_status`` here (security-notes.md §13): the spec numbers bits from the *most* significant bit of
the first byte (§2.1 "index 0 is the left-most bit"), while e.g. PostgreSQL ``get_bit`` counts from the
least significant end. One tested place keeps the two from ever being mixed.

Also implemented:

* §2.1 ``encodedList``: GZIP (RFC 1952), then base64url without padding, with the multibase ``u``
  prefix — ``encode_list`` / ``decode_list`` (§3.3 Bitstring Generation, §3.4 Bitstring Expansion).
  Decompression is capped (security-notes.md §9): the list comes from the network.
* §2.1 / §6.1 herd privacy: a list holds at least 131,072 entries (16 KB) — ``new_list``,
  ``MIN_ENTRIES``.
* §3.2 Validate Algorithm, steps that need no network or signature check — ``read_status``: purpose
  match (STATUS_VERIFICATION_ERROR), length check (STATUS_LIST_LENGTH_ERROR), range check
  (RANGE_ERROR), then the value. Fetching the list credential and verifying its proof and validity
  period is the verifier's job; this module only reads an already-trusted document.
* The VC 1.1 predecessor, Status List 2021 (``StatusList2021Entry`` / ``StatusList2021Credential``),
  is read too: same bit order and GZIP+base64url, but ``encodedList`` carries no multibase prefix.
"""

from __future__ import annotations

import base64
import gzip
import re
import threading
import zlib
from dataclasses import dataclass
from typing import Any

from app.errors import MalformedValueError, RangeError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encoded_length

#: §2.1: "the uncompressed bitstring MUST be at least 16KB in size" — 131,072 entries of one bit.
MIN_ENTRIES = 131_072

#: Default cap on a decompressed list (security-notes.md §9). 16 MiB is 134 million 1-bit entries,
#: far beyond any real list, and still a bounded amount of memory per request.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_expanded: dict[tuple[str, int], bytes] = {}
_expanded_lock = threading.Lock()

#: §2.1 statusSize: "indicates the size of the status entry in bits"; we read up to 8 bits per entry
#: (a statusMessage array of 2^8 entries is already absurd, and bigger sizes are a memory lever).
MAX_STATUS_SIZE = 8

MULTIBASE_BASE64URL = "u"
_INDEX_RE = re.compile(r"[0-9]+")  # used with fullmatch; ASCII digits only (str.isdigit accepts "٣")
_BASE64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
#: RFC 3986 §4.3 absolute-URI (scheme ":" hier-part), with an optional fragment; no spaces or controls.
_ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+(?:#[^\s]*)?")
_MAX_INDEX_DIGITS = 16  # > any list we accept (2^53 bits); bounds int() cost on hostile input

BITSTRING_ENTRY = "BitstringStatusListEntry"
BITSTRING_CREDENTIAL = "BitstringStatusListCredential"
BITSTRING_LIST = "BitstringStatusList"
SL2021_ENTRY = "StatusList2021Entry"
SL2021_CREDENTIAL = "StatusList2021Credential"
SL2021_LIST = "StatusList2021"


# --------------------------------------------------------------------------- bit arithmetic (§2.1)


def _locate(length_bytes: int, index: int) -> tuple[int, int]:
    if isinstance(index, bool) or not isinstance(index, int):
        raise MalformedValueError(f"a bit index must be an int, not {type(index).__name__}")
    if index < 0 or index >= length_bytes * 8:
        raise RangeError(f"bit index {index} is outside the list ({length_bytes * 8} bits)", code="RANGE_ERROR")
    # Index 0 is the most significant bit of byte 0 (§2.1), hence 0x80 >> offset, not 1 << offset.
    return index >> 3, 0x80 >> (index & 7)


def get_bit(data: bytes | bytearray, index: int) -> bool:
    """The bit at ``index``, counting from the most significant bit of the first byte (§2.1)."""
    byte, mask = _locate(len(data), index)
    return bool(data[byte] & mask)


def set_bit(data: bytearray, index: int, value: bool) -> None:
    """Set or clear the bit at ``index`` in place (same numbering as ``get_bit``)."""
    byte, mask = _locate(len(data), index)
    if value:
        data[byte] |= mask
    else:
        data[byte] &= ~mask & 0xFF


def _check_status_size(status_size: int) -> None:
    if isinstance(status_size, bool) or not isinstance(status_size, int) or not 1 <= status_size <= MAX_STATUS_SIZE:
        raise MalformedValueError(f"statusSize must be an integer from 1 to {MAX_STATUS_SIZE}, not {status_size!r}")


def get_status(data: bytes | bytearray, index: int, status_size: int = 1) -> int:
    """The ``status_size``-bit value of entry ``index`` (§3.2 step 10: position = index × statusSize).

    The entry's bits are read left to right, the first being the most significant bit of the value,
    in the same order as the list's bits themselves.
    """
    _check_status_size(status_size)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise MalformedValueError(f"a status index must be a non-negative int, not {index!r}")
    start = index * status_size
    if start + status_size > len(data) * 8:
        raise RangeError(f"statusListIndex {index} × statusSize {status_size} is outside the list ({len(data) * 8} bits)", code="RANGE_ERROR")
    value = 0
    for position in range(start, start + status_size):
        value = (value << 1) | get_bit(data, position)
    return value


def set_status(data: bytearray, index: int, value: int, status_size: int = 1) -> None:
    """Write ``value`` into entry ``index`` (inverse of ``get_status``)."""
    _check_status_size(status_size)
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < (1 << status_size):
        raise RangeError(f"status value {value!r} does not fit in {status_size} bit(s)", code="RANGE_ERROR")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise MalformedValueError(f"a status index must be a non-negative int, not {index!r}")
    start = index * status_size
    if start + status_size > len(data) * 8:
        raise RangeError(f"status index {index} is outside the list ({len(data) * 8} bits)", code="RANGE_ERROR")
    for offset in range(status_size):
        set_bit(data, start + offset, bool((value >> (status_size - 1 - offset)) & 1))


def new_list(size: int = MIN_ENTRIES, status_size: int = 1) -> bytearray:
    """A zeroed list of ``size`` entries; §2.1 / §6.1 require at least 131,072 (herd privacy)."""
    _check_status_size(status_size)
    if isinstance(size, bool) or not isinstance(size, int) or size < MIN_ENTRIES:
        raise RangeError(f"a status list holds at least {MIN_ENTRIES} entries (herd privacy), not {size!r}", code="STATUS_LIST_LENGTH_ERROR")
    bits = size * status_size
    return bytearray((bits + 7) // 8)


# --------------------------------------------------------------------------- the index (§2.1 statusListIndex)


def parse_index(value: Any) -> int:
    """A ``statusListIndex``: §2.1 says "an arbitrary size integer … expressed as a base-10 string".

    ``int()`` is not a base-10 parser (security-notes.md §7): it takes ``"-1"`` (which would read the
    last bit), ``"٣"``, ``" 5 "``, ``"5_000"`` and ``"+5"``. Only ``^[0-9]+$`` in ASCII is accepted, and
    non-negative ints (not bools) for callers holding an already-parsed value.
    """
    if isinstance(value, bool):
        raise MalformedValueError("statusListIndex must be a base-10 string, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise MalformedValueError(f"statusListIndex must not be negative: {value}")
        return value
    if not isinstance(value, str):
        raise MalformedValueError(f"statusListIndex must be a base-10 string, not {type(value).__name__}")
    # re's [0-9] is ASCII-only, and fullmatch (not match + $) refuses a trailing newline.
    if not _INDEX_RE.fullmatch(value):
        raise MalformedValueError(f"statusListIndex {value[:24]!r} is not a base-10 string of ASCII digits")
    if len(value) > _MAX_INDEX_DIGITS:
        raise RangeError(f"statusListIndex has {len(value)} digits; no accepted list is that long", code="RANGE_ERROR")
    return int(value)


# --------------------------------------------------------------------------- encodedList (§2.1, §3.3, §3.4)


def encode_list(bits: bytes | bytearray) -> str:
    """§3.3 Bitstring Generation: GZIP, then multibase base64url without padding (``u`` prefix)."""
    # mtime=0: the same list always encodes to the same string (stable ETags, reproducible tests).
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str, *, max_bytes: int = DEFAULT_MAX_BYTES, require_prefix: bool = False) -> bytes:
    """§3.4 Bitstring Expansion: strip the multibase ``u``, base64url-decode, GUNZIP — with a cap.

    The ``u`` is optional unless ``require_prefix``: the spec's examples carry it, Status List 2021
    lists and some libraries' test vectors do not, and a bare base64url GZIP stream never starts with
    ``u`` (it starts with ``H4sI``), so accepting both is unambiguous.

    Decompression streams through ``zlib.decompressobj`` with ``max_length`` and stops one byte past
    ``max_bytes`` (security-notes.md §9: 200 MB of zeros gzip to ~194 KB), so a bomb costs at most
    ``max_bytes`` of memory and proportionate time.
    """
    if not isinstance(encoded, str):
        raise MalformedValueError("encodedList must be a string")
    text = encoded
    if text.startswith(MULTIBASE_BASE64URL):
        text = text[1:]
    elif require_prefix:
        raise MalformedValueError("encodedList must be multibase base64url (start with 'u')")
    # The compressed form can be no larger than GZIP can make a list of at most max_bytes; refuse longer
    # input before decoding it (app.keys.b64url checks the rest: alphabet, no padding).
    if len(text) > encoded_length(gzip_bound(max_bytes)):
        raise RangeError(f"encodedList is longer than any list of at most {max_bytes} bytes", code="STATUS_LIST_LENGTH_ERROR")
    if not text or not _BASE64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedValueError("encodedList is not base64url without padding")
    return _expand(text, max_bytes)


def gzip_bound(size: int) -> int:
    """The largest GZIP member of ``size`` bytes: zlib's deflateBound (stored blocks' overhead) plus the
    18-byte GZIP header and trailer (RFC 1952 §2.3)."""
    return size + (size >> 12) + (size >> 14) + (size >> 25) + 7 + 18


def _expand(text: str, max_bytes: int) -> bytes:
    """Base64url-decode and GUNZIP, remembered for small lists: a verifier reads the same few lists over
    and over (every credential of a provider points to one), and expanding one cost more than the rest
    of the status check. Failures raise and are not remembered; at most 64 lists (2M entries each)."""
    key = (text, max_bytes)
    found = _expanded.get(key)
    if found is not None:
        return found
    compressed = b64u_decode(text, what="encodedList", max_chars=encoded_length(gzip_bound(max_bytes)), error=MalformedValueError)
    bits = gunzip_capped(compressed, max_bytes=max_bytes)
    if len(bits) <= 256 * 1024 and len(text) <= 64 * 1024:  # at most ~20 MB held, whatever lists come in
        with _expanded_lock:
            if len(_expanded) >= 64:
                _expanded.pop(next(iter(_expanded)))  # the oldest
            _expanded[key] = bits
    return bits


def gunzip_capped(compressed: bytes, *, max_bytes: int) -> bytes:
    """Decompress one GZIP member (RFC 1952), refusing output larger than ``max_bytes``."""
    if compressed[:2] != b"\x1f\x8b":
        raise MalformedValueError("encodedList is not GZIP data (RFC 1952 magic bytes missing)")
    # wbits=16+MAX_WBITS: GZIP framing only (header and CRC-32/ISIZE trailer checked by zlib).
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = compressed
    try:
        while not inflater.eof:
            # Ask for at most one byte more than we allow: receiving it proves the list is too big.
            chunk = inflater.decompress(pending, max_bytes + 1 - len(out))
            out += chunk
            if len(out) > max_bytes:
                raise RangeError(
                    f"encodedList expands to more than {max_bytes} bytes; refused as a decompression bomb",
                    code="STATUS_LIST_LENGTH_ERROR",
                )
            pending = inflater.unconsumed_tail
            # No output and no input left: zlib wants more data than there is (a truncated stream).
            # Output without input left may still leave buffered output, so loop again in that case.
            if not chunk and not pending:
                break
        if not inflater.eof:
            raise MalformedValueError("encodedList GZIP stream is truncated")
        if inflater.unused_data:
            # A second GZIP member or trailing garbage: not what §3.3 produces; refuse rather than guess.
            raise MalformedValueError("encodedList has data after the GZIP stream")
    except zlib.error as exc:
        raise MalformedValueError(f"encodedList is not valid GZIP data: {exc}") from None
    return bytes(out)


# --------------------------------------------------------------------------- §3.2 Validate Algorithm (reading part)


@dataclass(frozen=True)
class StatusResult:
    """§3.2 step 11–12: ``status`` (the entry's value), ``purpose``, ``valid`` (status == 0), ``message``."""

    status: int
    purpose: str
    valid: bool
    message: str | None = None


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return []


def _purposes(value: Any, where: str) -> list[str]:
    # §2.1: the list credential's statusPurpose "MUST be one or more strings".
    purposes = [value] if isinstance(value, str) else value
    if not isinstance(purposes, list) or not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise MalformedValueError(f"{where}.statusPurpose must be a non-empty string or array of strings", code="STATUS_VERIFICATION_ERROR")
    return purposes


def _status_size(entry: dict) -> int:
    size = entry.get("statusSize", 1)
    # §2.1: statusSize is "a positive integer"; JSON may carry it as a number or a base-10 string.
    if isinstance(size, str):
        size = parse_index(size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_STATUS_SIZE:
        raise MalformedValueError(f"statusSize must be an integer from 1 to {MAX_STATUS_SIZE}", code="STATUS_VERIFICATION_ERROR")
    return size


def _messages(entry: dict, size: int) -> list | None:
    messages = entry.get("statusMessage")
    if messages is None:
        if size > 1:
            # §2.1: "If statusSize is provided and is greater than 1, then the property statusMessage MUST be present".
            raise MalformedValueError("statusMessage is required when statusSize > 1", code="STATUS_VERIFICATION_ERROR")
        return None
    if not isinstance(messages, list) or len(messages) != 1 << size:
        # §2.1: "the number of status messages MUST equal the number of possible values".
        raise MalformedValueError(f"statusMessage must list {1 << size} messages for statusSize {size}", code="STATUS_VERIFICATION_ERROR")
    return messages


def _message_for(messages: list | None, status: int) -> str | None:
    if messages is None:
        return None
    # §2.1 statusMessage: "status" is a hexadecimal string such as "0x2".
    for item in messages:
        if isinstance(item, dict) and isinstance(item.get("status"), str):
            text = item["status"].lower()
            if text.startswith("0x") and re.fullmatch(r"[0-9a-f]{1,4}", text[2:]) and int(text[2:], 16) == status:
                message = item.get("message")
                return message if isinstance(message, str) else None
    return None


def read_status(list_credential: dict, entry: dict, *, max_bytes: int = DEFAULT_MAX_BYTES, min_entries: int = MIN_ENTRIES) -> StatusResult:
    """§3.2 Validate Algorithm steps 5–12 on an already fetched and verified status list credential.

    Checks the entry and list credential types (v1.0, or Status List 2021 for VC 1.1), that the
    credential is the one the entry names, that the purposes match (STATUS_VERIFICATION_ERROR),
    decodes ``encodedList`` with a cap, checks the herd-privacy length (STATUS_LIST_LENGTH_ERROR)
    and the index range (RANGE_ERROR), and returns the entry's value.
    """
    if not isinstance(entry, dict) or not isinstance(list_credential, dict):
        raise MalformedValueError("a status entry and a status list credential must be JSON objects", code="STATUS_VERIFICATION_ERROR")
    entry_types = _types(entry.get("type"))
    if BITSTRING_ENTRY in entry_types:
        legacy = False
    elif SL2021_ENTRY in entry_types:
        legacy = True
    else:
        raise MalformedValueError(f"credentialStatus type must be {BITSTRING_ENTRY} (or {SL2021_ENTRY})", code="STATUS_VERIFICATION_ERROR")
    credential_type, list_type = (SL2021_CREDENTIAL, SL2021_LIST) if legacy else (BITSTRING_CREDENTIAL, BITSTRING_LIST)

    if credential_type not in _types(list_credential.get("type")):
        raise MalformedValueError(f"the status list credential is not a {credential_type}", code="STATUS_VERIFICATION_ERROR")
    # A list served under one URL but naming another is someone else's list (or a substitution).
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not url:
        raise MalformedValueError("statusListCredential must be a URL", code="STATUS_VERIFICATION_ERROR")
    if "id" in list_credential and list_credential["id"] != url:
        raise MalformedValueError("the status list credential's id is not the entry's statusListCredential", code="STATUS_VERIFICATION_ERROR")

    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise MalformedValueError("the status list credential needs one credentialSubject object", code="STATUS_VERIFICATION_ERROR")
    if list_type not in _types(subject.get("type")):
        raise MalformedValueError(f"credentialSubject.type must be {list_type}", code="STATUS_VERIFICATION_ERROR")
    # §2.2: the subject's id names the list (the spec's example: the list credential's URL with "#list").
    # A bare fragment or other relative reference names nothing: a verifier cannot tell which list it
    # is, and JSON-LD with a null base (Data Integrity §4.1) would drop it from what the proof signs.
    subject_id = subject.get("id")
    if subject_id is not None and not (isinstance(subject_id, str) and _ABSOLUTE_URL.fullmatch(subject_id)):
        raise MalformedValueError("the status list's credentialSubject.id must be an absolute URL", code="STATUS_VERIFICATION_ERROR")

    # §3.2 step 6: the entry's purpose must be one of the list's purposes.
    entry_purpose = entry.get("statusPurpose")
    if not isinstance(entry_purpose, str) or not entry_purpose:
        raise MalformedValueError("credentialStatus.statusPurpose must be a string", code="STATUS_VERIFICATION_ERROR")
    list_purposes = _purposes(subject.get("statusPurpose"), "credentialSubject")
    if entry_purpose not in list_purposes:
        raise MalformedValueError(f"statusPurpose {entry_purpose!r} does not match the list's {list_purposes!r}", code="STATUS_VERIFICATION_ERROR")

    index = parse_index(entry.get("statusListIndex"))
    size = 1 if legacy else _status_size(entry)
    messages = None if legacy else _messages(entry, size)
    # §2.2: encodedList "MUST be a Multibase-encoded base64url (with no padding) representation of the
    # GZIP-compressed bitstring": the 'u' is required. Status List 2021 lists carry no multibase prefix.
    try:
        bits = decode_list(subject.get("encodedList"), max_bytes=max_bytes, require_prefix=not legacy)
    except MalformedValueError as exc:  # the list was fetched and verified: it is the list that is wrong
        raise MalformedValueError(exc.detail, code="STATUS_VERIFICATION_ERROR") from None

    # §3.2 step 9: too short a list lets the issuer single holders out (herd privacy).
    entries = len(bits) * 8 // size
    if entries < min_entries:
        raise RangeError(f"the status list holds {entries} entries; at least {min_entries} are required", code="STATUS_LIST_LENGTH_ERROR")
    status = get_status(bits, index, size)  # RANGE_ERROR past the end (§3.2 step 10)
    return StatusResult(status=status, purpose=entry_purpose, valid=status == 0, message=_message_for(messages, status))
