"""The validity period a credential may be issued with: one rule for every issuing route.

VC Data Model 2.0 §4.9 (validFrom/validUntil; VC 1.1 §4.6/§7.3 issuanceDate/expirationDate): the issuer
states when the credential stops being valid. A credential that ends before it starts is not one
(§4.9: validUntil MUST be "the same or later" than validFrom); signing one that ends centuries ahead
outlives every key and algorithm it is signed with (a claim "valid until 2226" is not one an issuer can
stand behind). So the end must not lie before the start, and must lie within ``max_validity_years``
(Settings; 50 by default: longer than any professional recertification cycle, and a credential that
should never expire simply has no validUntil). The start may not lie beyond the same horizon.

An end already in the past: §4.9 says validUntil is "the date and time the credential ceases to be valid,
which could be a date and time in the past or in the future". ``POST /credentials/issue`` signs the
caller's document as written, so it follows the spec and signs it (the verifier then reports it expired;
``check_document_validity``). ``POST /microcredentials`` and batch records are this service's own product
and refuse an end that is not in the future (``check_validity_period``): a learner gains nothing from a
record that is expired the moment it is issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.errors import RangeError
from app.xsd import parse_datetime_stamp

DEFAULT_MAX_VALIDITY_YEARS = 50
_DAYS_PER_YEAR = 365.2425


def _refuse(detail: str, pointer: str) -> RangeError:
    exc = RangeError(detail, errors=[{"pointer": pointer, "detail": detail}])
    exc.status = 422  # well-formed, but not a credential that may be signed
    return exc


def check_validity_period(
    valid_from: datetime | None,
    valid_until: datetime | None,
    *,
    now: datetime,
    max_years: int = DEFAULT_MAX_VALIDITY_YEARS,
    from_pointer: str = "/validFrom",
    until_pointer: str = "/validUntil",
    past_end: bool = False,
) -> None:
    """Refuse (RangeError, 422, with the field's pointer) an end before the start or beyond the horizon, and an end
    in the past unless ``past_end`` (VC 2.0 §4.9 allows one; the module docstring says who allows it)."""
    horizon = now.timestamp() + max_years * _DAYS_PER_YEAR * 86_400
    if valid_from is not None and valid_from.timestamp() > horizon:
        raise _refuse(f"the credential would start more than {max_years} years from now", from_pointer)
    if valid_until is None:
        return
    if valid_until <= now and not past_end:
        raise _refuse("the credential would already have expired: validUntil is not in the future", until_pointer)
    if valid_from is not None and valid_until < valid_from:
        raise _refuse("validUntil must be the same as or after validFrom (VC 2.0 §4.9)", until_pointer)
    if valid_until.timestamp() > horizon:
        raise _refuse(f"validUntil is more than {max_years} years from now (the issuing horizon, max_validity_years)", until_pointer)


def check_document_validity(document: dict[str, Any], *, now: datetime, max_years: int, pointer: str = "") -> None:
    """``check_validity_period`` for a ready credential (``POST /credentials/issue``): validFrom/validUntil, or VC 1.1's
    issuanceDate/expirationDate; an end in the past is signed as written (VC 2.0 §4.9)."""
    start_name = "validFrom" if "validFrom" in document else "issuanceDate"
    end_name = "validUntil" if "validUntil" in document else "expirationDate"
    start = parse_datetime_stamp(document[start_name], field=start_name) if start_name in document else None
    end = parse_datetime_stamp(document[end_name], field=end_name) if end_name in document else None
    check_validity_period(
        start, end, now=now, max_years=max_years, from_pointer=f"{pointer}/{start_name}", until_pointer=f"{pointer}/{end_name}", past_end=True
    )
