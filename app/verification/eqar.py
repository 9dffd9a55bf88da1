"""The EQAR register of agencies (the European Quality Assurance Register for Higher Education, ESG 2015 Part 3)
applied to the trust registry's quality-assurance facts: which agency is EQAR-registered, and until when.

The operator downloads the register from the DEQAR web API v2, ``GET /webapi/v2/browse/agencies/`` ("Full list of
EQAR-registered agencies", https://docs.deqar.eu "Web API: endpoints"): a list (or ``{"results": [...]}``) of
``{id, deqar_id, name_primary, acronym_primary, country, registration_start, registration_valid_to}`` (the fields
of DEQAR's agency list serializer; ``is_registered`` is read when present). Nothing here reaches the network.

An entry's agency is found by its ``eqarAgencyId`` (DEQAR's agency ``id`` or ``deqar_id``), else by its name or
acronym; it is then ``agencyEqarRegistered`` when its registration covers today, with ``eqarRegisteredUntil``; an
agency not on the register is recorded as not registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.errors import MalformedValueError

MAX_AGENCIES = 10_000


@dataclass(frozen=True)
class Agency:
    id: str
    deqar_id: str | None
    name: str
    acronym: str | None
    country: str | None
    registered_from: date | None
    registered_until: date | None
    is_registered: bool | None

    def registered_on(self, day: date) -> bool:
        if self.is_registered is False:
            return False
        return (self.registered_from is None or self.registered_from <= day) and (self.registered_until is None or day <= self.registered_until)

    def display(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym and self.acronym != self.name else self.name


def _date(record: dict[str, Any], key: str) -> date | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedValueError(f"EQAR agency {record.get('id')}: {key} is not a date")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise MalformedValueError(f"EQAR agency {record.get('id')}: {key} {value[:30]!r} is not a date") from None


def agencies(register: Any) -> list[Agency]:
    """The agencies of a downloaded register; ``MalformedValueError`` naming what is wrong."""
    results = register.get("results") if isinstance(register, dict) else register
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise MalformedValueError('the EQAR register is the JSON of /webapi/v2/browse/agencies/ (a list, or {"results": [...]})')
    if len(results) > MAX_AGENCIES:
        raise MalformedValueError(f"the EQAR register lists {len(results):,} agencies, more than {MAX_AGENCIES:,}")
    out = []
    for record in results:
        name = record.get("name_primary")
        if record.get("id") is None or not isinstance(name, str) or not name:
            raise MalformedValueError("each EQAR agency has an id and a name_primary")
        acronym = record.get("acronym_primary")
        country = record.get("country")
        registered = record.get("is_registered")
        out.append(
            Agency(
                str(record["id"]),
                record["deqar_id"] if isinstance(record.get("deqar_id"), str) else None,
                name[:300],
                acronym[:50] if isinstance(acronym, str) and acronym else None,
                country if isinstance(country, str) else None,
                _date(record, "registration_start"),
                _date(record, "registration_valid_to"),
                registered if isinstance(registered, bool) else None,
            )
        )
    return out


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _find(qa: dict[str, Any], register: list[Agency]) -> Agency | None:
    wanted = qa.get("eqarAgencyId")
    if isinstance(wanted, str):
        for agency in register:
            if wanted in (agency.id, agency.deqar_id):
                return agency
    name = qa.get("agency")
    if not isinstance(name, str):
        return None
    names = {_key(name), _key(re.sub(r"\s*\([^)]*\)$", "", name))}
    for agency in register:
        if names & {_key(agency.name), _key(agency.display()), _key(agency.acronym or "\0")}:
            return agency
    return None


def apply(registry: dict[str, Any], register: list[Agency], *, today: date) -> list[dict[str, Any]]:
    """Updates each issuer's ``qualityAssurance`` in ``registry`` (``{"issuers": {did: entry}}``) from ``register``;
    returns what changed, one ``{did, agency, registered, until}`` per issuer with an agency."""
    changes = []
    for did, entry in registry.get("issuers", {}).items():
        qa = entry.get("qualityAssurance") if isinstance(entry, dict) else None
        if not isinstance(qa, dict) or not (qa.get("agency") or qa.get("eqarAgencyId")):
            continue
        agency = _find(qa, register)
        if agency is None:
            qa["agencyEqarRegistered"] = False
            qa.pop("eqarRegisteredUntil", None)
            changes.append({"did": did, "agency": qa.get("agency"), "registered": False, "until": None})
            continue
        qa["agency"] = agency.display()
        qa["eqarAgencyId"] = agency.id
        qa["agencyEqarRegistered"] = agency.registered_on(today)
        if agency.registered_until is not None:
            qa["eqarRegisteredUntil"] = agency.registered_until.isoformat()
        changes.append({"did": did, "agency": qa["agency"], "registered": qa["agencyEqarRegistered"], "until": qa.get("eqarRegisteredUntil")})
    return changes
