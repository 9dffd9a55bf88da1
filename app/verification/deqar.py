"""A trust registry entry from DEQAR's records (EQAR's Database of External Quality Assurance Results), as the
operator downloads them from the DEQAR web API v2 (https://docs.deqar.eu, "Web API: endpoints" and "examples"):

* the institution record, ``GET /webapi/v2/browse/institutions/{id}`` (or one item of ``/browse/institutions/``):
  ``deqar_id``, ``eter_id``, ``name_primary``, ``name_official_display``, ``country`` (country names);
* its institutional reports, ``GET /webapi/v2/browse/reports/institutional/by-institution/{id}/``: ``results`` of
  ``{id, agency_name, agency_acronym, agency_id, valid_from, valid_to, decision, status, report_valid}``.

DEQAR holds the reports of EQAR-registered agencies only ("DEQAR" in the EQAR documentation), so an agency named by a
DEQAR report is recorded as EQAR-registered. The decision names are DEQAR's ("Report data": positive, positive with
conditions or restrictions, negative, not applicable). Nothing here reaches the network: the files are the operator's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pycountry

from app.errors import MalformedValueError

_DECISIONS = {
    "positive": "accredited",
    "positive with conditions or restrictions": "conditionally accredited",
    "negative": "not accredited",
}


def _country(institution: dict[str, Any]) -> str | None:
    names = institution.get("country") or []
    names = names if isinstance(names, list) else [names]
    for name in names:
        name = name.get("country") if isinstance(name, dict) else name
        if isinstance(name, str):
            try:
                return pycountry.countries.lookup(name).alpha_2
            except LookupError:
                continue
    return None


def _report_date(report: dict[str, Any], key: str) -> date | None:
    value = report.get(key)
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise MalformedValueError(f"DEQAR report {report.get('id')}: {key} {value[:30]!r} is not a date") from None


def registry_entry(institution: Any, reports: Any, *, today: date) -> dict[str, Any]:
    """The ``{legalName, country, status, identifiers, qualityAssurance}`` entry of ``trust/registry.json`` for one
    institution: its identifiers, and the facts of its current institutional report (the one with a decision whose
    validity covers ``today`` and ends last; else the most recent one), every report id listed."""
    if not isinstance(institution, dict) or not isinstance(institution.get("deqar_id"), str):
        raise MalformedValueError("the DEQAR institution record must be a JSON object with a deqar_id")
    results = reports.get("results") if isinstance(reports, dict) else reports
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise MalformedValueError('the DEQAR reports must be the JSON of /browse/reports/institutional/by-institution/{id}/ ({"results": [...]})')
    identifiers = [{"scheme": "DEQAR", "value": institution["deqar_id"]}]
    if isinstance(institution.get("eter_id"), str) and institution["eter_id"]:
        identifiers.append({"scheme": "ETER", "value": institution["eter_id"]})
    name = institution.get("name_official_display") or institution.get("name_primary")
    entry: dict[str, Any] = {"legalName": name if isinstance(name, str) else institution["deqar_id"], "status": "trusted", "identifiers": identifiers}
    if country := _country(institution):
        entry["country"] = country
    qa: dict[str, Any] = {"deqarInstitutionId": institution["deqar_id"], "deqarReports": [str(r.get("id")) for r in results if r.get("id") is not None]}
    decided = [r for r in results if r.get("decision") in _DECISIONS]

    def current(r: dict[str, Any]) -> bool:
        start, end = _report_date(r, "valid_from"), _report_date(r, "valid_to")
        return (start is None or start <= today) and (end is None or end >= today)

    def ends(r: dict[str, Any]) -> date:
        return _report_date(r, "valid_to") or _report_date(r, "valid_from") or date.min

    chosen = max((r for r in decided if current(r)), key=ends, default=None) or max(decided, key=ends, default=None)
    if chosen is not None:
        agency = chosen.get("agency_name") or chosen.get("agency_acronym")
        if isinstance(agency, str):
            acronym = chosen.get("agency_acronym")
            qa["agency"] = f"{agency} ({acronym})" if isinstance(acronym, str) and acronym and acronym != agency else agency
            qa["agencyEqarRegistered"] = True  # DEQAR holds EQAR-registered agencies' reports only
        if chosen.get("agency_id") is not None:
            qa["eqarAgencyId"] = str(chosen["agency_id"])
        if isinstance(chosen.get("agency_esg_activity"), str):
            qa["accreditation"] = chosen["agency_esg_activity"]
        qa["accreditationStatus"] = _DECISIONS[chosen["decision"]]
        for key, field in (("valid_from", "accreditedFrom"), ("valid_to", "accreditedUntil")):
            if (value := _report_date(chosen, key)) is not None:
                qa[field] = value.isoformat()
    entry["qualityAssurance"] = qa
    return entry
