"""The validity period a credential may be issued with: one rule for every issuing route.

VC Data Model 2.0 §4.9 (validFrom/validUntil; VC 1.1 §4.6/§7.3 issuanceDate/expirationDate): the issuer
states when the credential stops being valid. Signing a credential that is already expired, or that
ends before it starts, issues something no verifier will accept; signing one that ends centuries ahead
outlives every key and algorithm it is signed with (a claim "valid until 2226" is not one an issuer can
stand behind). So the end must lie after now and after the start, and within ``max_validity_years``
(Settings; 50 by default: longer than any professional recertification cycle, and a credential that
should never expire simply has no validUntil). The start may not lie beyond the same horizon.

``POST /credentials/issue``, ``POST /microcredentials`` and batch records call ``check_validity_period``.
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
) -> None:
    """Refuse (RangeError, 422, with the field's pointer) an end in the past, before the start, or beyond the horizon."""
    horizon = now.timestamp() + max_years * _DAYS_PER_YEAR * 86_400
    if valid_from is not None and valid_from.timestamp() > horizon:
        raise _refuse(f"the credential would start more than {max_years} years from now", from_pointer)
    if valid_until is None:
        return
    if valid_until <= now:
        raise _refuse("the credential would already have expired: validUntil is not in the future", until_pointer)
    if valid_from is not None and valid_until <= valid_from:
        raise _refuse("validUntil must be after validFrom", until_pointer)
    if valid_until.timestamp() > horizon:
        raise _refuse(f"validUntil is more than {max_years} years from now (the issuing horizon, max_validity_years)", until_pointer)


def check_document_validity(document: dict[str, Any], *, now: datetime, max_years: int, pointer: str = "") -> None:
    """``check_validity_period`` for a ready credential: validFrom/validUntil, or VC 1.1's issuanceDate/expirationDate."""
    start_name = "validFrom" if "validFrom" in document else "issuanceDate"
    end_name = "validUntil" if "validUntil" in document else "expirationDate"
    start = parse_datetime_stamp(document[start_name], field=start_name) if start_name in document else None
    end = parse_datetime_stamp(document[end_name], field=end_name) if end_name in document else None
    check_validity_period(start, end, now=now, max_years=max_years, from_pointer=f"{pointer}/{start_name}", until_pointer=f"{pointer}/{end_name}")
