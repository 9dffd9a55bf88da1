"""Well-formedness rules of a credential (VC Data Model 2.0 §4), in one place for the verifier's ``well_formed``
check and for ``POST /credentials/issue``, so that the issuer never signs what its own verifier refuses.

Each rule gives a JSON pointer and a reason: the verifier reports the first, the issuer refuses with all of them.
"""

from __future__ import annotations

import re
from typing import Any

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
