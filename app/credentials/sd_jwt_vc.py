"""The EU micro-credential as an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): claims and SD-JWT VC Type Metadata.

The neutral record (model doc §2) renders into flat, plain claim names a wallet can show (``title``,
``grade``, ``date_of_birth``…), one claim per Annex I element or sub-element, so that each is selectively
disclosable on its own (the learner chooses what an employer sees). Coded values are the same EU vocabulary
URIs the EDC rendering uses (assessment type, form of participation, EQF level…); multilingual text stays a
language map ``{"en": …, "de": …}``.

``iss``, ``vct``, ``vct#integrity``, ``iat``, ``nbf``, ``exp``, ``status`` and ``cnf`` are never disclosable
(SD-JWT VC draft §3.2.2.2: they must be plain claims); every other claim is (``disclosable``). The holder is bound
by ``cnf.jwk`` (§3.2.2.2, RFC 7800 §3.2). ``type_metadata`` is the SD-JWT VC Type Metadata document (§6) served at
the ``vct`` URL: display in the record's languages and every claim with its path and labels.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from app.credentials import annex, vocab
from app.credentials.completeness import ElementResult
from app.credentials.edc import iso_datetime
from app.credentials.model import MicroCredentialInput
from app.credentials.profile import IssuerProfile

#: The name a request gives this rendering (``format`` of POST /microcredentials) and the stored credential's format.
FORMAT = "sd-jwt"
#: Where the type's metadata is served, under the service's base URL (its ``vct``).
VCT_PATH = "/vct/eu-microcredential/v1"
#: SD-JWT VC draft §3.2.2.2: claims that are never selectively disclosable.
NEVER_DISCLOSABLE = ("iss", "vct", "vct#integrity", "iat", "nbf", "exp", "status", "cnf")

#: The claims of the type, in order: (name, Annex I element or "" for supporting claims, English label, German label).
CLAIMS: tuple[tuple[str, str, str, str], ...] = (
    ("learner_id", "1", "Learner identifier", "Kennung der lernenden Person"),
    ("given_name", "1", "Given name", "Vorname"),
    ("family_name", "1", "Family name", "Nachname"),
    ("full_name", "1", "Full name", "Vollständiger Name"),
    ("date_of_birth", "1", "Date of birth", "Geburtsdatum"),
    ("email", "1", "Email", "E-Mail"),
    ("national_id", "1", "National identifier", "Nationale Kennung"),
    ("learner_identifiers", "1", "Other learner identifiers", "Weitere Kennungen"),
    ("title", "2", "Title", "Titel"),
    ("description", "", "Description", "Beschreibung"),
    ("learning_opportunity_type", "", "Type of learning opportunity", "Art der Lerngelegenheit"),
    ("issuer_name", "3", "Issuer", "Aussteller"),
    ("issuer_country", "3", "Country of the issuer", "Land des Ausstellers"),
    ("awarding_bodies", "4", "Awarding bodies", "Vergebende Stellen"),
    ("date_of_issuance", "5", "Date of issuing", "Ausstellungsdatum"),
    ("learning_outcomes", "6", "Learning outcomes", "Lernergebnisse"),
    ("learning_outcome_summary", "6", "Summary of the learning outcomes", "Zusammenfassung der Lernergebnisse"),
    ("workload", "7", "Notional workload", "Arbeitsaufwand"),
    ("level", "8", "Level", "Niveau"),
    ("fields_of_education", "", "Fields of education (ISCED-F)", "Bildungsfelder (ISCED-F)"),
    ("instruction_languages", "", "Languages of instruction", "Unterrichtssprachen"),
    ("assessment_type", "9", "Type of assessment", "Art der Prüfung"),
    ("assessment_mode", "9", "Mode of assessment", "Form der Prüfung"),
    ("assessment_date", "9", "Date of assessment", "Prüfungsdatum"),
    ("supervision", "opt", "Supervision and identity verification", "Aufsicht und Identitätsprüfung"),
    ("grade", "opt", "Grade achieved", "Erreichte Note"),
    ("form_of_participation", "10", "Form of participation", "Form der Teilnahme"),
    ("learning_setting", "10", "Learning setting", "Lernumgebung"),
    ("learning_activity_type", "10", "Type of learning activity", "Art der Lernaktivität"),
    ("participation_start_date", "10", "Start of the learning activity", "Beginn der Lernaktivität"),
    ("participation_end_date", "10", "End of the learning activity", "Ende der Lernaktivität"),
    ("quality_assurance", "11", "Quality assurance", "Qualitätssicherung"),
    ("prerequisites", "opt", "Prerequisites", "Voraussetzungen"),
    ("stackability", "opt", "Integration and stackability", "Kombinierbarkeit"),
    ("further_information", "opt", "Further information", "Weitere Informationen"),
    ("links", "opt", "Links", "Links"),
    ("primary_language", "", "Primary language", "Hauptsprache"),
    ("external_id", "", "Certificate number", "Zertifikatsnummer"),
    ("specification", "", "Specification", "Spezifikation"),
)
#: Claim name → Annex I element ("1"…"11" mandatory, "opt" optional, "" supporting), for the verifier's completeness.
ANNEX_ELEMENT = {name: element for name, element, _, _ in CLAIMS}


def vct_for(base_url: str) -> str:
    return base_url.rstrip("/") + VCT_PATH


def disclosable(claims: dict[str, Any]) -> tuple[str, ...]:
    """Every claim of ``claims`` that the draft lets be selectively disclosable (all but ``NEVER_DISCLOSABLE``)."""
    return tuple(name for name in claims if name not in NEVER_DISCLOSABLE)


def _organisation(legal_name: dict[str, str], country: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": dict(legal_name), "country": vocab.country(country).iri, "country_code": country}
    out.update({k: v for k, v in extra.items() if v not in (None, [], {})})
    return out


def render_sd_jwt_vc(
    mc: MicroCredentialInput,
    *,
    issuer: IssuerProfile,
    vct: str,
    issued: datetime,
    holder_jwk: dict[str, Any],
    status: dict[str, Any] | None = None,
    vct_integrity: str | None = None,
    specification: str | None = None,
) -> dict[str, Any]:
    """The SD-JWT VC claims of the record (unsigned; ``app.proofs.sd_jwt.issue`` makes them disclosable).
    ``specification`` is the catalogue URL of the specification it was issued against: the claim a composite's rule
    is matched by (issue 17), as an OB3 credential's ``achievement.id`` or an EDC's ``specifiedBy``."""
    claims: dict[str, Any] = {"iss": issuer.id, "vct": vct}
    if vct_integrity:
        claims["vct#integrity"] = vct_integrity
    claims["iat"] = int(issued.timestamp())
    claims["nbf"] = int(issued.timestamp())
    if mc.validUntil is not None:
        claims["exp"] = int(mc.validUntil.timestamp())
    claims["cnf"] = {"jwk": holder_jwk}
    if status is not None:
        claims["status"] = status
    parts = (_learner(mc), _offering(mc, issuer, issued), _workload_and_level(mc), _assessment(mc), _participation(mc), _quality(mc), _optional(mc))
    for part in parts:
        claims.update(_compact(part))
    if specification:
        claims["specification"] = specification
    return claims


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` without its absent members (None, empty lists and objects)."""
    return {k: v for k, v in d.items() if v not in (None, [], {})}


def _text(value: Any) -> dict[str, str] | None:
    return dict(value) if value else None


def _learner(mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I 1: the learner, one claim per identifying attribute (the learner discloses only what is asked)."""
    learner = mc.learner
    national = learner.nationalId
    return {
        "learner_id": learner.id,
        "given_name": dict(learner.givenName),
        "family_name": dict(learner.familyName),
        "full_name": _text(learner.fullName),
        "date_of_birth": learner.dateOfBirth.isoformat() if learner.dateOfBirth else None,
        "email": str(learner.email) if learner.email else None,
        "national_id": {"value": national.value, "country": vocab.country(national.country).iri} if national else None,
        "learner_identifiers": [{"scheme": i.scheme, "value": i.value} for i in learner.identifiers],
    }


def _offering(mc: MicroCredentialInput, issuer: IssuerProfile, issued: datetime) -> dict[str, Any]:
    """Annex I 2–6: title, issuer and its country, awarding bodies, date of issuing, learning outcomes."""
    lot = mc.learningOpportunityType
    return {
        "title": dict(mc.title),
        "description": _text(mc.description),
        "learning_opportunity_type": vocab.learning_opportunity_types()[lot].iri if lot else None,
        "issuer_name": dict(issuer.legal_name),
        "issuer_country": vocab.country(issuer.country).iri,
        "awarding_bodies": [
            _organisation(
                dict(b.legalName),
                b.country,
                id=b.id,
                region=b.region,
                homepage=str(b.homepage) if b.homepage else None,
                identifiers=[{"scheme": i.scheme, "value": i.value} for i in b.identifiers],
            )
            for b in mc.awardingBodies
        ],
        "date_of_issuance": iso_datetime(mc.awardedAt or issued),
        "learning_outcomes": [
            _compact(
                {
                    "text": dict(lo.text),
                    "esco_skills": list(lo.escoSkills),
                    "other_skills": list(lo.otherSkills),
                    "reusability_level": vocab.reusability_levels()[lo.reusabilityLevel].iri if lo.reusabilityLevel else None,
                }
            )
            for lo in mc.learningOutcomes
        ],
        "learning_outcome_summary": _text(mc.learningOutcomeSummary),
        "fields_of_education": [vocab.isced_f()[c].iri for c in mc.fieldsOfEducation],
        "instruction_languages": [vocab.language(c).iri for c in mc.instructionLanguages],
    }


def _workload_and_level(mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I 7 (notional workload, ECTS) and 8 (EQF / QF-EHEA / NQF level, or not applicable)."""
    w, lvl = mc.workload, mc.level
    workload = {
        "credits": w.ects,
        "credit_system": vocab.credit_systems()[w.creditSystem].iri if w.ects is not None else None,
        "hours": w.hours,
        "maximum_duration_months": w.maximumDurationMonths,
    }
    level = {
        "eqf": vocab.eqf_level(lvl.eqf).iri if lvl.eqf is not None else None,
        "qf_ehea_cycle": lvl.qfEheaCycle,
        "nqf": list(lvl.nqf),
    }
    return {"workload": _compact(workload), "level": {"not_applicable": True} if lvl.notApplicable else _compact(level)}


def _assessment(mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I 9 (type of assessment) and the optional supervision and grade."""
    a = mc.assessment
    grade = None
    if a.grade:
        scheme = a.grade.scheme
        grade = _compact(
            {
                "value": a.grade.value,
                "status": a.grade.status,
                "scheme": _compact({"title": _text(scheme.title), "description": _text(scheme.description)}) if scheme else None,
            }
        )
    return {
        "assessment_type": vocab.assessment_types()[a.type].iri,
        "assessment_mode": vocab.modes()[a.mode].iri if a.mode else None,
        "assessment_date": iso_datetime(a.date) if a.date else None,
        "supervision": vocab.supervision_types()[a.supervision].iri if a.supervision else None,
        "grade": grade,
    }


def _participation(mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I 10: the form of participation, setting, activity and its dates."""
    p = mc.participation
    return {
        "form_of_participation": vocab.modes()[p.mode].iri,
        "learning_setting": vocab.learning_settings()[p.learningSetting].iri if p.learningSetting else None,
        "learning_activity_type": vocab.activity_types()[p.activityType].iri if p.activityType else None,
        "participation_start_date": iso_datetime(p.startDate) if p.startDate else None,
        "participation_end_date": iso_datetime(p.endDate) if p.endDate else None,
    }


def _date(value: datetime | None) -> str | None:
    return iso_datetime(value) if value else None


def _url(value: Any) -> str | None:
    return str(value) if value else None


def _quality(mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I 11: the type of quality assurance, with its agency and reports."""
    return {
        "quality_assurance": [
            _compact(
                {
                    "type": vocab.accreditation_types()[qa.type].iri,
                    "title": dict(qa.title),
                    "agency": _organisation(dict(qa.agency.legalName), qa.agency.country, id=qa.agency.id, homepage=_url(qa.agency.homepage)),
                    "decision_url": _url(qa.decisionUrl),
                    "report_url": _url(qa.reportUrl),
                    "deqar_report_id": qa.deqarReportId,
                    "issued_at": _date(qa.issuedAt),
                    "review_date": _date(qa.reviewDate),
                    "expiry_date": _date(qa.expiryDate),
                    "limit_eqf_levels": [vocab.eqf_level(n).iri for n in qa.limitEqfLevels],
                }
            )
            for qa in mc.qualityAssurance
        ]
    }


def _optional(mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I's optional elements (prerequisites, stackability, further information) and supporting claims."""
    s = mc.stackability
    stack = None
    if s:
        stack = _compact({"mode": s.mode, "part_of": [{"id": t.id, "title": dict(t.title)} for t in s.partOf], "note": _text(s.note)})
    return {
        "prerequisites": _text(mc.prerequisites),
        "stackability": stack,
        "further_information": _text(mc.furtherInformation),
        "links": [str(u) for u in mc.links],
        "primary_language": mc.primaryLanguage,
        "external_id": mc.externalId,
    }


def type_metadata(vct: str) -> dict[str, Any]:
    """SD-JWT VC Type Metadata (draft §6): the type's display and every claim with its path, labels and ``sd``."""
    return {
        "vct": vct,
        "name": "EU micro-credential",
        "description": "A micro-credential with every element of Annex I of Council Recommendation 2022/C 243/02",
        "display": [
            {"locale": "en", "name": "EU micro-credential", "description": "A micro-credential (Council Recommendation 2022/C 243/02)"},
            {"locale": "de", "name": "EU-Microcredential", "description": "Ein Microcredential (Empfehlung des Rates 2022/C 243/02)"},
        ],
        "claims": [
            {
                "path": [name],
                "display": [{"locale": "en", "label": en}, {"locale": "de", "label": de}],
                "sd": "always",
            }
            for name, _, en, de in CLAIMS
        ],
    }


def type_metadata_bytes(vct: str) -> bytes:
    """The exact bytes served at ``vct`` (what ``vct#integrity`` covers)."""
    return json.dumps(type_metadata(vct), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def integrity(document: bytes) -> str:
    """W3C Subresource Integrity §3.5 metadata (``sha256-<base64>``), as SD-JWT VC draft §7 ``vct#integrity`` takes it."""
    return "sha256-" + base64.b64encode(hashlib.sha256(document).digest()).decode("ascii")


#: Each Annex I element and the claims that carry it (element 3: the issuer's country, or an awarding body's).
ELEMENT_CLAIMS: tuple[tuple[annex.AnnexElement, tuple[str, ...]], ...] = (
    (annex.LEARNER, ("learner_id", "given_name", "family_name", "full_name", "date_of_birth", "email", "national_id", "learner_identifiers")),
    (annex.TITLE, ("title",)),
    (annex.COUNTRY, ("issuer_country", "awarding_bodies")),
    (annex.AWARDING_BODY, ("awarding_bodies",)),
    (annex.DATE_OF_ISSUING, ("date_of_issuance",)),
    (annex.LEARNING_OUTCOMES, ("learning_outcomes", "learning_outcome_summary")),
    (annex.WORKLOAD, ("workload",)),
    (annex.LEVEL, ("level",)),
    (annex.ASSESSMENT, ("assessment_type",)),
    (annex.PARTICIPATION, ("form_of_participation",)),
    (annex.QUALITY_ASSURANCE, ("quality_assurance",)),
    (annex.PREREQUISITES, ("prerequisites",)),
    (annex.SUPERVISION, ("supervision",)),
    (annex.GRADE, ("grade",)),
    (annex.STACKABILITY, ("stackability",)),
    (annex.FURTHER_INFORMATION, ("further_information", "links")),
)


def eu_completeness(claims: dict[str, Any]) -> list[ElementResult]:
    """Which Annex I elements the claims of an SD-JWT VC carry; for a presentation, pass only what it disclosed
    (a withheld claim is not there for the verifier, however complete the credential is)."""
    out = []
    for element, names in ELEMENT_CLAIMS:
        found = {name: claims[name] for name in names if claims.get(name) not in (None, [], {})}
        out.append(ElementResult(element.key, element.label, element.mandatory, bool(found), found or None))
    return out


def jwk_thumbprint_uri(jwk: Any) -> str | None:
    """RFC 9278 JWK Thumbprint URI (RFC 7638 §3.2: the SHA-256 of the required members, in lexicographic order) of
    a holder key (``cnf.jwk``), or ``None`` for a value that is not a JWK of a key type RFC 7638 defines members for."""
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
    if not isinstance(jwk, dict) or jwk.get("kty") not in required:
        return None
    members = required[jwk["kty"]]
    if not all(isinstance(jwk.get(m), str) for m in members):
        return None
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True).encode("utf-8")
    digest = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode("ascii")
    return "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + digest


def _iri_tail_int(value: Any) -> int | None:
    tail = value.rsplit("/", 1)[-1] if isinstance(value, str) else None
    return int(tail) if tail is not None and tail.isdigit() else None


def component_facts(claims: dict[str, Any]) -> dict[str, Any]:
    """What a composite's rules read of an SD-JWT VC of this type (issue 17), from its disclosed claims only: its
    title, the specification it was issued for (``specification``), its ECTS (``workload.credits`` in the ECTS
    credit system), its EQF level (``level.eqf``), the date it was awarded (``date_of_issuance``), the learner
    (``learner_id``), the issuer's name. A withheld claim reads as ``None``."""
    workload = claims.get("workload") if isinstance(claims.get("workload"), dict) else {}
    level = claims.get("level") if isinstance(claims.get("level"), dict) else {}
    ects_system = vocab.credit_systems()["ECTS"].iri
    credits = workload.get("credits")
    ects = float(credits) if isinstance(credits, (int, float)) and not isinstance(credits, bool) and workload.get("credit_system") == ects_system else None
    return {
        "title": claims.get("title") if isinstance(claims.get("title"), dict) else None,
        "issuerName": claims.get("issuer_name") if isinstance(claims.get("issuer_name"), dict) else None,
        "specification": claims.get("specification") if isinstance(claims.get("specification"), str) else None,
        "ects": ects,
        "eqf": _iri_tail_int(level.get("eqf")),
        "awarded": claims.get("date_of_issuance") if isinstance(claims.get("date_of_issuance"), str) else None,
        "learner": claims.get("learner_id") if isinstance(claims.get("learner_id"), str) else None,
    }
