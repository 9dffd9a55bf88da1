"""Issuer trust: is the issuer a known, quality-assured institution? (Council Recommendation 2022/C 243/02, Annex I element 11.)

A valid signature says *who* signed, not whether that party is a recognised education provider. The
answer comes from two sources:

* the operator's registry file (``trust_registry_file``, JSON or YAML): ``{"issuers": {did: entry}}``
  where ``entry`` is ``{legalName, country, status: trusted|not-trusted, identifiers?: [{scheme, value}],
  qualityAssurance?: {...}, logo?: "data:image/png;base64,…"}`` (a logo only as a data: URI, never a URL
  to fetch). A did:web key also covers the DIDs below it (did:web method §3.2:
  the colon-separated path), so one entry names a whole institution;
* the providers of this service (read through a callable, so this module knows no database): they
  count as trusted, with their legal name and country.

An explicit registry entry wins over the providers, so an operator can mark a provider not trusted.

``qualityAssurance`` holds the facts recognition centres ask about (ESG 2015 Part 2, external quality assurance;
the DEQAR data model of EQAR): ``agency`` (the external QA agency), ``agencyEqarRegistered`` (is it on the EQAR
register), ``eqarAgencyId``, ``deqarInstitutionId``, ``deqarReports`` (DEQAR report ids; ``deqarReportId`` is
still read), ``accreditation`` (a description), ``accreditationStatus`` (``accredited``, ``conditionally
accredited``, ``not accredited``, ``withdrawn``), ``accreditedFrom`` / ``accreditedUntil`` (``YYYY-MM-DD``).
The reason then reads "trusted, QA by <agency> (EQAR-registered) until <date>"; an accreditation that ended or was
withdrawn makes the check ``indeterminate`` / ``failed``.
Trust is reported beside the verdict, never blocking (``report.BLOCKING``): an unknown issuer's valid
credential is still valid, and the employer sees "unknown issuer".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.credentials.logo import data_uri
from app.errors import MalformedValueError
from app.verification.report import Check

STATUSES = ("trusted", "not-trusted")
ACCREDITATION_STATUSES = ("accredited", "conditionally accredited", "not accredited", "withdrawn")
#: the QA facts of a registry entry and their types (str unless named here)
QA_FIELDS: dict[str, type] = {"agencyEqarRegistered": bool, "deqarReports": list}


@dataclass(frozen=True)
class TrustEntry:
    did: str
    legal_name: str | None
    country: str | None
    status: str
    quality_assurance: dict[str, Any] = field(default_factory=dict)
    source: str = "registry"
    identifiers: tuple[dict[str, str], ...] = ()
    logo: str | None = None  # an RFC 2397 data: URI (app/credentials/logo.py): pinned in the file, never fetched

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "registeredAs": self.did, "status": self.status}
        if self.legal_name:
            out["legalName"] = self.legal_name
        if self.country:
            out["country"] = self.country
        if self.identifiers:
            out["identifiers"] = [dict(i) for i in self.identifiers]
        if self.quality_assurance:
            out["qualityAssurance"] = self.quality_assurance
        if self.logo:
            out["logo"] = self.logo
        return out


def _quality_assurance(did: str, qa: Any) -> dict[str, Any]:
    """The entry's QA facts, each of its type (module docstring); a wrong one stops start-up with its name."""
    if not isinstance(qa, dict):
        raise MalformedValueError(f"trust registry entry {did}: qualityAssurance must be an object")
    for key, value in qa.items():
        kind = QA_FIELDS.get(key, str)
        ok = (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
            if kind is list
            else isinstance(value, bool)
            if kind is bool
            else isinstance(value, str)
        )
        if not ok:
            what = {list: "a list of strings", bool: "true or false"}.get(kind, "a string")
            raise MalformedValueError(f"trust registry entry {did}: qualityAssurance.{key} must be {what}")
    for key in ("accreditedFrom", "accreditedUntil"):
        if key in qa:
            try:
                date.fromisoformat(qa[key])
            except ValueError:
                raise MalformedValueError(f"trust registry entry {did}: qualityAssurance.{key} must be a date YYYY-MM-DD") from None
    if "accreditationStatus" in qa and qa["accreditationStatus"] not in ACCREDITATION_STATUSES:
        raise MalformedValueError(f"trust registry entry {did}: qualityAssurance.accreditationStatus must be one of {', '.join(ACCREDITATION_STATUSES)}")
    return dict(qa)


def _identifiers(did: str, raw: Any) -> tuple[dict[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(i, dict) and isinstance(i.get("scheme"), str) and isinstance(i.get("value"), str) for i in raw):
        raise MalformedValueError(f"trust registry entry {did}: identifiers must be a list of {{scheme, value}} strings")
    return tuple({"scheme": i["scheme"], "value": i["value"]} for i in raw)


def _entry(did: str, raw: Any) -> TrustEntry:
    if not isinstance(did, str) or not did.startswith("did:"):
        raise MalformedValueError(f"trust registry key {str(did)[:80]!r} is not a DID")
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
        raise MalformedValueError(f"trust registry entry {did}: status must be one of {', '.join(STATUSES)}")
    qa = _quality_assurance(did, raw.get("qualityAssurance") or {})
    name, country = raw.get("legalName"), raw.get("country")
    if name is not None and not isinstance(name, str) or country is not None and not (isinstance(country, str) and len(country) == 2):
        raise MalformedValueError(f"trust registry entry {did}: legalName is a string, country an ISO 3166-1 alpha-2 code")
    logo = raw.get("logo")
    if logo is not None and data_uri(logo) is None:
        raise MalformedValueError(f"trust registry entry {did}: logo must be a data: URI of a PNG, JPEG or WebP image (a logo is never fetched)")
    identifiers = _identifiers(did, raw.get("identifiers"))
    return TrustEntry(did, name, country.upper() if country else None, raw["status"], qa, identifiers=identifiers, logo=logo.strip() if logo else None)


class TrustRegistry:
    """The operator's file, parsed and checked once (a malformed file stops start-up, not a request)."""

    def __init__(self, entries: Iterable[TrustEntry] = ()):
        self.entries = {e.did: e for e in entries}

    @classmethod
    def load(cls, path: Path | str | None) -> TrustRegistry:
        if path is None or not Path(path).is_file():
            return cls()
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        issuers = data.get("issuers", {}) if isinstance(data, dict) else None
        if not isinstance(issuers, dict):
            raise MalformedValueError(f'{path}: the trust registry is {{"issuers": {{did: entry}}}}')
        return cls(_entry(did, raw) for did, raw in issuers.items())

    def lookup(self, did: str) -> TrustEntry | None:
        """The exact DID's entry, else the longest did:web prefix entry that covers it."""
        if did in self.entries:
            return self.entries[did]
        if not did.startswith("did:web:"):
            return None
        parts = did.split(":")
        for n in range(len(parts) - 1, 2, -1):  # did:web:host[:path…]: never shorter than the host
            found = self.entries.get(":".join(parts[:n]))
            if found is not None:
                return found
        return None


ProviderSource = Callable[[], Iterable[Any]]  # yields records with .did, .legal_name, .country


class TrustCheck:
    """``issuer DID -> Check("issuer_trust", …)``, for ``Verifier.trust_check``.

    The providers are re-read when an issuer is not among those last read (a provider created a moment
    ago is found at once) and at most every ``refresh_seconds`` otherwise, so a verification costs no
    database round trip in the common case.
    """

    def __init__(
        self,
        registry: TrustRegistry,
        providers: ProviderSource | None = None,
        *,
        refresh_seconds: float = 30.0,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ):
        self.registry = registry
        self.today = today
        self.providers = providers
        self.refresh_seconds = refresh_seconds
        self._known: dict[str, TrustEntry] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def attach_providers(self, providers: ProviderSource) -> None:
        with self._lock:
            self.providers = providers
            self._loaded_at = float("-inf")

    def _provider(self, did: str) -> TrustEntry | None:
        if self.providers is None:
            return None
        stale = time.monotonic() - self._loaded_at > self.refresh_seconds
        if stale or did not in self._known:
            known = {p.did: TrustEntry(p.did, p.legal_name, p.country, "trusted", {}, source="provider of this service") for p in self.providers()}
            with self._lock:
                self._known, self._loaded_at = known, time.monotonic()
        return self._known.get(did)

    def __call__(self, issuer: str | None) -> Check:
        if not issuer:
            return Check("issuer_trust", "indeterminate", "the credential names no issuer", "UNKNOWN_ISSUER")
        try:
            entry = self.registry.lookup(issuer) or self._provider(issuer)
        except Exception as exc:  # the database being away must not turn a verification into a 500
            return Check("issuer_trust", "indeterminate", f"the trust registry could not be read ({type(exc).__name__})", "TRUST_REGISTRY_UNAVAILABLE")
        if entry is None:
            return Check("issuer_trust", "indeterminate", "unknown issuer: not in this verifier's trust registry", "UNKNOWN_ISSUER", {"issuer": issuer})
        who = entry.legal_name or entry.did
        where = f" ({entry.country})" if entry.country else ""
        if entry.status == "not-trusted":
            return Check("issuer_trust", "failed", f"{who}{where} is listed as not trusted", "ISSUER_NOT_TRUSTED", entry.details())
        return _trusted(entry, f"{who}{where}", self.today())


def _trusted(entry: TrustEntry, who: str, today: date) -> Check:
    """A listed, trusted issuer: "trusted, QA by <agency> (EQAR-registered) until <date>", or why its accreditation
    does not hold (withdrawn or not accredited: failed; ended or not yet begun: indeterminate)."""
    qa = entry.quality_assurance
    agency = qa.get("agency")
    text = f"{who}: trusted"
    if agency:
        registered = qa.get("agencyEqarRegistered")
        text += f", QA by {agency}" + {True: " (EQAR-registered)", False: " (not EQAR-registered)"}.get(registered, "")
    status = qa.get("accreditationStatus")
    until = date.fromisoformat(qa["accreditedUntil"]) if "accreditedUntil" in qa else None
    since = date.fromisoformat(qa["accreditedFrom"]) if "accreditedFrom" in qa else None
    if status in ("withdrawn", "not accredited"):
        return Check("issuer_trust", "failed", f"{who}: listed, but its accreditation is {status}", "ACCREDITATION_NOT_HELD", entry.details())
    if until is not None and until < today:
        return Check("issuer_trust", "indeterminate", f"{text}; its accreditation ended on {until.isoformat()}", "ACCREDITATION_EXPIRED", entry.details())
    if since is not None and since > today:
        return Check(
            "issuer_trust", "indeterminate", f"{text}; its accreditation begins on {since.isoformat()}", "ACCREDITATION_NOT_YET_VALID", entry.details()
        )
    if until is not None:
        text += f" until {until.isoformat()}"
    if status == "conditionally accredited":
        text += " (conditionally accredited)"
    return Check("issuer_trust", "passed", text, details=entry.details())
