"""Well-formedness rules of a credential (VC Data Model 2.0 §4), in one place for the verifier's ``well_formed``
check and for ``POST /credentials/issue``, so that the issuer never signs what its own verifier refuses.

Each rule gives a JSON pointer and a reason: the verifier reports the first, the issuer refuses with all of them.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import base58

from app.errors import MalformedValueError, MicrocredError
from app.xsd import parse_datetime_stamp

#: VC 2.0 §4.5: termsOfUse (§5.6), evidence (§5.5), refreshService (§5.4), credentialSchema (§4.11) and
#: credentialStatus (§4.10) objects MUST have a type.
TYPED = ("termsOfUse", "evidence", "refreshService", "credentialSchema", "credentialStatus")


#: RFC 3986 §3.1 scheme, then characters an IRI may hold (RFC 3987 §2.2: no spaces, no <>"{}|\\^`).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")


def is_url(value: Any) -> bool:
    """VC 2.0 §4.4: an identifier is a URL (an absolute IRI; a blank node identifier is not one)."""
    return isinstance(value, str) and not value.startswith("_:") and _URL.fullmatch(value) is not None


#: Subresource Integrity §3.5 hash-expression: hash-algo "-" base64-value (standard base64, padded), by the
#: digest length of each algorithm SRI allows (sha256, sha384, sha512).
_SRI_BYTES = {"sha256": 32, "sha384": 48, "sha512": 64}
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
#: VC 2.0 §5.3 / Data Integrity §2.6 digestMultibase: a multibase (``u`` base64url without padding, or ``z``
#: base58btc) digest of SHA-2 or SHA-3 (256, 384 or 512 bits), bare or with its Multihash header.
_MULTIHASH = {(0x12, 32), (0x20, 48), (0x13, 64), (0x16, 32), (0x15, 48), (0x14, 64)}
_B64U = re.compile(r"[A-Za-z0-9_-]+")
_B58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
MAX_DIGEST_CHARS = 200


def _sri_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= 4 * MAX_DIGEST_CHARS:
        return "must be a Subresource Integrity hash expression"
    for expression in value.split():
        algo, _, rest = expression.partition("-")
        digest = rest.split("?", 1)[0]
        if algo not in _SRI_BYTES:
            return f"the digest algorithm must be one of {', '.join(_SRI_BYTES)} (Subresource Integrity §3.5)"
        if not _B64.fullmatch(digest) or len(digest) != 4 * ((_SRI_BYTES[algo] + 2) // 3):
            return f"must be {algo}- followed by the base64 of a {_SRI_BYTES[algo]}-byte digest (Subresource Integrity §3.5)"
    return None


def _multibase_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 < len(value) <= MAX_DIGEST_CHARS:
        return "must be a multibase digest"
    prefix, body = value[0], value[1:]
    if prefix == "u" and _B64U.fullmatch(body) and len(body) % 4 != 1:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    elif prefix == "z" and _B58.fullmatch(body):
        raw = base58.b58decode(body)
    else:
        return "must be multibase: u (base64url, no padding) or z (base58btc) (Data Integrity §2.6)"
    if len(raw) in (32, 48, 64) or (len(raw) > 2 and (raw[0], raw[1]) in _MULTIHASH and len(raw) == 2 + raw[1]):
        return None
    return "must encode a SHA-2 or SHA-3 digest of 256, 384 or 512 bits, bare or as a multihash (Data Integrity §2.6)"


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _subject(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """§4.8: credentialSubject is one or more objects, each making a claim; an id is a URL, not a blank node."""
    if "credentialSubject" not in doc:
        return [("/credentialSubject", "required")]
    subject = doc["credentialSubject"]
    if subject is None or subject == [] or subject == {}:
        return [("/credentialSubject", "must be one or more non-empty objects")]
    out = []
    for i, item in enumerate(_items(subject)):
        where = f"/credentialSubject/{i}" if isinstance(subject, list) else "/credentialSubject"
        if not isinstance(item, dict) or not item:
            out.append((where, "must be a non-empty object"))
        elif "id" in item and not is_url(item["id"]):
            out.append((f"{where}/id", "must be a URL (a blank node identifier is not one, §4.4)"))
    return out


def _issuer(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """§4.7: issuer is a URL or an object whose id is a URL."""
    if "issuer" not in doc:
        return [("/issuer", "required")]
    issuer = doc["issuer"]
    ident = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(ident, str) or ":" not in ident:
        return [("/issuer", "must be a URL or an object with an id that is a URL")]
    return []


def _dates(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """§4.9: validFrom and validUntil are XML Schema dateTimeStamp values."""
    out = []
    for name in ("validFrom", "validUntil"):
        if name in doc:
            try:
                parse_datetime_stamp(doc[name], field=name)
            except MicrocredError:
                out.append((f"/{name}", "must be an XML Schema dateTimeStamp (with a time zone)"))
    return out


def _typed(doc: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for name in TYPED:
        if name not in doc:
            continue
        value = doc[name]
        for i, item in enumerate(_items(value)):
            where = f"/{name}/{i}" if isinstance(value, list) else f"/{name}"
            if not isinstance(item, dict):
                out.append((where, "must be an object"))
            elif not item.get("type"):
                out.append((f"{where}/type", "required (VC 2.0 §4.5)"))
            if isinstance(item, dict) and "id" in item and not is_url(item["id"]):
                out.append((f"{where}/id", "must be one URL (VC 2.0 §4.4)"))
            elif isinstance(item, dict) and name == "credentialSchema" and "id" not in item:
                out.append((f"{where}/id", "required: a data schema names its schema by URL (VC 2.0 §4.11)"))
    return out


def _related(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """§5.3 relatedResource: objects, each with a unique id and a digestSRI or digestMultibase."""
    if "relatedResource" not in doc:
        return []
    value = doc["relatedResource"]
    out, seen = [], set()
    for i, item in enumerate(_items(value)):
        where = f"/relatedResource/{i}" if isinstance(value, list) else "/relatedResource"
        if not isinstance(item, dict):
            out.append((where, "must be an object"))
            continue
        ident = item.get("id")
        if not isinstance(ident, str) or not ident:
            out.append((f"{where}/id", "required"))
        elif not is_url(ident):
            out.append((f"{where}/id", "must be a URL (VC 2.0 §4.4)"))
        elif ident in seen:
            out.append((f"{where}/id", "must be unique among the related resources"))
        else:
            seen.add(ident)
        if not item.get("digestSRI") and not item.get("digestMultibase"):
            out.append((where, "needs digestSRI or digestMultibase"))
        for name, problem in (("digestSRI", _sri_problem), ("digestMultibase", _multibase_problem)):
            if name in item and (why := problem(item[name])):
                out.append((f"{where}/{name}", why))
    return out


def credential_problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (pointer, reason) by which ``doc`` is not a well-formed credential; empty when it is."""
    return [*_issuer(doc), *_subject(doc), *_dates(doc), *_typed(doc), *_related(doc)]


def require_well_formed(doc: dict[str, Any], *, prefix: str = "/credential", skip: tuple[str, ...] = ()) -> None:
    """``MalformedValueError`` naming every field that breaks a rule (the issuer's refusal)."""
    found = [(p, d) for p, d in credential_problems(doc) if p.split("/")[1] not in skip]
    if found:
        raise MalformedValueError(
            f"the credential is not well-formed: {found[0][0][1:]} {found[0][1]}", errors=[{"pointer": prefix + p, "detail": d} for p, d in found]
        )
