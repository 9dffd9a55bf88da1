"""IETF Token Status List (draft-ietf-oauth-status-list): the Status List, its token, and reading a status from it.

§4.1: a byte array where each Referenced Token has ``bits`` bits (1, 2, 4 or 8) at its index, counted from the
**least** significant bit of each byte (the W3C Bitstring Status List counts from the most significant bit, so a
list published in both forms has each byte bit-reversed, ``from_bitstring``), compressed with DEFLATE in the ZLIB
format (RFC 1950/1951; level 9, "the highest compression level available") and base64url-encoded (``lst``).

§5.1: the Status List Token is a JWT with ``typ: statuslist+jwt``, ``sub`` = the URI the Referenced Token names,
``iat``, optional ``exp`` and ``ttl``, and ``status_list {bits, lst}``; it is signed with an asymmetric algorithm
(EdDSA or ES256 here, never a MAC). §6.2: a Referenced Token carries ``status.status_list {idx, uri}``. §7: status
values 0 VALID, 1 INVALID, 2 SUSPENDED.

Reading (§8.3) length-checks ``lst`` before it is decoded and caps what it decompresses to (a ZLIB stream is a
decompression bomb vector, security-notes §9).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app import strict_json
from app.errors import CryptoError, MicrocredError, StatusError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encode as b64u
from app.keys.b64url import encoded_length
from app.keys.methods import public_key_from_method
from app.keys.signer import ED25519, P256, Signer

TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
VALID, INVALID, SUSPENDED = 0, 1, 2
ALLOWED_BITS = (1, 2, 4, 8)
ALG_FOR_KEY = {ED25519: "EdDSA", P256: "ES256"}
KEY_FOR_ALG = {alg: key for key, alg in ALG_FOR_KEY.items()}
#: Most bytes of a Status List Token read (a 16 MiB list compresses to far less), and of its header.
MAX_TOKEN_CHARS = 4_000_000
MAX_HEADER_BYTES = 4096
#: The longest status index read (``idx`` is a non-negative integer, §6.2; 2^53 bounds every list).
MAX_INDEX = 2**53


def _check_bits(bits: int) -> None:
    if bits not in ALLOWED_BITS:
        raise StatusError(f"bits must be 1, 2, 4 or 8 (draft-ietf-oauth-status-list §4.1), not {str(bits)[:10]}", code="STATUS_LIST_INVALID")


def pack(statuses: Mapping[int, int], size: int, bits: int = 1) -> bytes:
    """§4.1: the byte array of ``size`` entries, ``statuses`` (index → value) set, least significant bit first."""
    _check_bits(bits)
    out = bytearray((size * bits + 7) // 8)
    for index, value in statuses.items():
        set_status(out, index, value, bits)
    return bytes(out)


def set_status(data: bytearray, index: int, value: int, bits: int = 1) -> None:
    if not 0 <= value < (1 << bits):
        raise StatusError(f"a {bits}-bit status is 0 to {(1 << bits) - 1}", code="STATUS_LIST_INVALID")
    byte, shift = divmod(index * bits, 8)
    if not 0 <= byte < len(data):
        raise StatusError(f"index {index} is outside the status list", code="STATUS_INDEX_OUT_OF_RANGE")
    mask = ((1 << bits) - 1) << shift
    data[byte] = (data[byte] & ~mask) | (value << shift)


def get_status(data: bytes, index: int, bits: int = 1) -> int:
    """§4.1: the status at ``index``; out of range is an error (§8.3 step 7: the token is then invalid)."""
    _check_bits(bits)
    byte, shift = divmod(index * bits, 8)
    if not 0 <= byte < len(data):
        raise StatusError(f"status index {index} is outside the status list ({len(data) * 8 // bits} entries)", code="STATUS_INDEX_OUT_OF_RANGE")
    return (data[byte] >> shift) & ((1 << bits) - 1)


_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def from_bitstring(bitstring: bytes, bits: int = 1, value: int = INVALID) -> bytes:
    """A W3C bitstring (index 0 = most significant bit of byte 0, Bitstring Status List §3.1) as a Token Status List
    byte array whose set entries have ``value``: for 1 bit each byte is bit-reversed; for 2 bits (a suspension list,
    value SUSPENDED) each set bit becomes a 2-bit ``value``."""
    if bits == 1 and value == INVALID:
        return bitstring.translate(_REVERSED)
    out = bytearray((len(bitstring) * 8 * bits + 7) // 8)
    for byte_index, byte in enumerate(bitstring):
        if byte:
            for bit in range(8):
                if byte & (0x80 >> bit):
                    set_status(out, byte_index * 8 + bit, value, bits)
    return bytes(out)


def encode_lst(data: bytes) -> str:
    """§4.1 step 3 and §4.2: ZLIB (DEFLATE, level 9), base64url without padding."""
    return b64u(zlib.compress(data, 9))


def decode_lst(lst: Any, *, max_bytes: int) -> bytes:
    """The byte array of an ``lst``: its length checked before it is decoded, at most ``max_bytes`` decompressed."""
    if not isinstance(lst, str):
        raise StatusError("status_list.lst must be a string (§4.2)", code="STATUS_LIST_INVALID")
    try:
        compressed = b64u_decode(lst, what="status_list.lst", max_chars=encoded_length(max_bytes), code="STATUS_LIST_INVALID")
    except CryptoError as exc:
        raise StatusError(exc.detail, code="STATUS_LIST_INVALID") from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, max_bytes)
    except zlib.error:
        raise StatusError("status_list.lst is not a ZLIB stream (RFC 1950)", code="STATUS_LIST_INVALID") from None
    if inflater.unconsumed_tail:
        raise StatusError(f"the status list decompresses to more than {max_bytes} bytes", code="STATUS_LIST_TOO_LARGE")
    if not inflater.eof:
        raise StatusError("status_list.lst is a truncated ZLIB stream", code="STATUS_LIST_INVALID")
    return data


def token_payload(*, uri: str, data: bytes, bits: int, iat: int, iss: str | None = None, ttl: int | None = None, exp: int | None = None) -> dict[str, Any]:
    """§5.1: the Status List Token's claims."""
    _check_bits(bits)
    payload: dict[str, Any] = {"sub": uri, "iat": iat}
    if iss is not None:
        payload["iss"] = iss
    if exp is not None:
        payload["exp"] = exp
    if ttl is not None:
        payload["ttl"] = ttl
    payload["status_list"] = {"bits": bits, "lst": encode_lst(data)}
    return payload


def sign_token(payload: dict[str, Any], signer: Signer, *, kid: str | None = None) -> str:
    """§5.1: the compact JWS with ``typ: statuslist+jwt``, signed by ``signer`` (EdDSA or ES256)."""
    header = {"alg": ALG_FOR_KEY[signer.key_type], "typ": TYP, "kid": kid or signer.verification_method}
    signing_input = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + b64u(strict_json.dumps(payload).encode())
    return signing_input + "." + b64u(signer.sign(signing_input.encode("ascii")))


@dataclass(frozen=True)
class StatusListToken:
    """A verified Status List Token: its claims and the decompressed byte array."""

    claims: dict[str, Any]
    bits: int
    data: bytes
    kid: str

    def status(self, index: int) -> int:
        return get_status(self.data, index, self.bits)


def reference(status: Any) -> tuple[int, str]:
    """§6.2: ``(idx, uri)`` of a Referenced Token's ``status.status_list``."""
    entry = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(entry, dict):
        raise StatusError("status.status_list must be an object {idx, uri} (§6.2)", code="STATUS_ENTRY_INVALID")
    idx, uri = entry.get("idx"), entry.get("uri")
    if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < MAX_INDEX:
        raise StatusError("status.status_list.idx must be a non-negative integer (§6.2)", code="STATUS_ENTRY_INVALID")
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")) or len(uri) > 2048:
        raise StatusError("status.status_list.uri must be an http(s) URI (§6.2)", code="STATUS_ENTRY_INVALID")
    return idx, uri


def check_expiry(claims: dict[str, Any], now: datetime) -> None:
    """§5.1 ``exp``: a token past it (or with an ``exp`` that is not a number) is refused, STATUS_LIST_EXPIRED."""
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, (int, float)) or isinstance(exp, bool) or now.timestamp() > exp):
        raise StatusError("the Status List Token has expired (§5.1 exp)", code="STATUS_LIST_EXPIRED")


def read_token(
    token: str,
    resolve_method: Callable[[str], tuple[dict[str, Any], dict[str, Any]]],
    *,
    uri: str,
    now: datetime,
    iss: str | None = None,
    max_bytes: int,
) -> StatusListToken:
    """§8.3 step 3: the token's typ, algorithm (EdDSA/ES256, no MAC), signature with the key ``kid`` names, ``sub`` =
    ``uri``, ``iss`` = the Referenced Token's, ``exp``; then the list, decoded within ``max_bytes``."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise StatusError("a Status List Token is a compact JWT string of bounded size", code="STATUS_LIST_INVALID")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise StatusError("a Status List Token is a compact JWS of three parts (§5.1)", code="STATUS_LIST_INVALID")
    try:
        header = strict_json.loads(b64u_decode(parts[0], what="JWT header", max_chars=encoded_length(MAX_HEADER_BYTES), code="STATUS_LIST_INVALID"))
        payload = strict_json.loads(b64u_decode(parts[1], what="JWT payload", max_chars=MAX_TOKEN_CHARS, code="STATUS_LIST_INVALID"))
        signature = b64u_decode(parts[2], what="JWT signature", max_chars=encoded_length(64), code="STATUS_LIST_INVALID")
    except MicrocredError as exc:
        raise StatusError(f"the Status List Token cannot be read: {exc.detail}", code="STATUS_LIST_INVALID") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise StatusError("the Status List Token's header and claims must be objects", code="STATUS_LIST_INVALID")
    if header.get("typ") != TYP:
        raise StatusError(f"the Status List Token's typ must be {TYP} (§5.1)", code="STATUS_LIST_INVALID")
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in KEY_FOR_ALG or any(h in header for h in ("jwk", "jku", "x5u", "x5c", "crit")):
        raise StatusError("the Status List Token's alg must be EdDSA or ES256, its key named by kid only", code="STATUS_LIST_INVALID")
    if not isinstance(kid, str) or not kid:
        raise StatusError("the Status List Token names no kid", code="STATUS_LIST_INVALID")
    method, document = resolve_method(kid)
    try:
        key = public_key_from_method(method, KEY_FOR_ALG[alg])
    except CryptoError as exc:
        raise StatusError(f"the Status List Token's key: {exc.detail}", code="STATUS_LIST_INVALID") from None
    if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise StatusError("the Status List Token's signature does not match", code="STATUS_LIST_INVALID")
    controller = method.get("controller") or document.get("id")
    if iss is not None and (payload.get("iss", controller) != iss or controller != iss):
        raise StatusError("the Status List Token is not the credential issuer's (§5.1 iss)", code="STATUS_LIST_INVALID")
    if payload.get("sub") != uri:
        raise StatusError("the Status List Token's sub is not the uri the credential names (§5.1)", code="STATUS_LIST_INVALID")
    check_expiry(payload, now)
    status_list = payload.get("status_list")
    if not isinstance(status_list, dict):
        raise StatusError("the Status List Token has no status_list (§5.1)", code="STATUS_LIST_INVALID")
    bits = status_list.get("bits")
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise StatusError("status_list.bits must be 1, 2, 4 or 8", code="STATUS_LIST_INVALID")
    _check_bits(bits)
    return StatusListToken(payload, bits, decode_lst(status_list.get("lst"), max_bytes=max_bytes), kid)
