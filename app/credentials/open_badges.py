"""Open Badges 3.0 rendering of a neutral record (model doc §2, OB3 column; §4 "alignments by default").

OB3 has no native property for several Annex I elements (EQF level, ECTS meaning, assessment type, form
of participation, supervision, quality assurance, stackability). They go into ``achievement.alignment``
with ``targetType: "ext:…"`` (allowed by the EnumExt ``AlignmentTargetType``) and ``targetUrl`` = the
*same* EU concept IRI the EDC rendering uses, so a verifier can map one format onto the other. This
needs no extra context: every property is defined by VC 2.0 + OB 3.0.3, so nothing is dropped by JSON-LD
expansion (checked by the tests with ``to_quads``), and the 1EdTech JSON schema accepts it.

OB3 carries one language: the primary-language strings of every language map.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from datetime import datetime
from typing import Any

from app.credentials import vocab
from app.credentials.edc import iso_datetime
from app.credentials.images import card_png_base64
from app.credentials.model import ISSUANCE_FIELDS, AwardingBody, MicroCredentialInput, specification_of
from app.credentials.profile import IssuerProfile
from app.vcdm import VC2

CONTEXT_VC2 = VC2
CONTEXT_OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_CONTEXT = [CONTEXT_VC2, CONTEXT_OB3]
# Not emitted: no pinned context defines the type "1EdTechJsonSchemaValidator2019", so JSON-LD expansion
# would turn it into a relative IRI (data loss under an RDFC-based proof). OB3 does not require
# credentialSchema; verifiers validate against the AchievementCredential schema anyway.
CREDENTIAL_SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
QF_EHEA_URL = "https://www.ehea.info/page-qualification-frameworks"
QF_EHEA_NAMES = {"short-cycle": "QF-EHEA short cycle", "first": "QF-EHEA first cycle", "second": "QF-EHEA second cycle", "third": "QF-EHEA third cycle"}
# A stable namespace for achievement ids: the same offering gets the same achievement id in every
# credential (and in the EDC's sibling), while two different offerings never share one.
ACHIEVEMENT_NAMESPACE = uuid.UUID("6d1f0c1e-2f53-4b7e-9a51-0c4e1b2f6a10")


def _uuid_urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


#: What ``specification_of`` leaves out of a record, as a pydantic ``exclude``: the record's JSON without these holds
#: everything the specification holds (and perhaps more), so equal JSON means an equal specification.
_NOT_SPECIFICATION: dict[str, Any] = {
    **{name: True for name in ISSUANCE_FIELDS},
    "assessment": {"date": True, "grade": {"value": True, "status": True}},
    "participation": {"startDate": True, "endDate": True},
}
_ACHIEVEMENT_IDS: dict[tuple[str, str], str] = {}
_MAX_ACHIEVEMENT_IDS = 4096


def achievement_id(mc: MicroCredentialInput, issuer: IssuerProfile) -> str:
    """``urn:uuid`` v5 of the issuer and the offering (the specification part of the record).

    Kept per (issuer, offering): every credential of one specification has the same id, and computing it took 5 % of
    an issuance (issue 19). The cache key is the record's JSON from pydantic's serializer (an eighth of the cost) with
    the per-learner fields left out; the id itself is always the one ``_achievement_id`` computes."""
    key = (issuer.id, mc.model_dump_json(exclude_none=True, exclude=_NOT_SPECIFICATION))
    found = _ACHIEVEMENT_IDS.get(key)
    if found is None:
        if len(_ACHIEVEMENT_IDS) >= _MAX_ACHIEVEMENT_IDS:
            _ACHIEVEMENT_IDS.clear()
        found = _ACHIEVEMENT_IDS[key] = _achievement_id(mc, issuer)
    return found


def _achievement_id(mc: MicroCredentialInput, issuer: IssuerProfile) -> str:
    spec = json.dumps(specification_of(mc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"urn:uuid:{uuid.uuid5(ACHIEVEMENT_NAMESPACE, issuer.id + '|' + spec)}"


def _alignment(
    name: str, url: str, target_type: str, *, code: str | None = None, framework: str | None = None, description: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Alignment"], "targetName": name, "targetUrl": url, "targetType": target_type}
    if code is not None:
        out["targetCode"] = code
    if framework:
        out["targetFramework"] = framework
    if description:
        out["targetDescription"] = description
    return out


def _ext(scheme: str) -> str:
    # the schema's EnumExt pattern: "ext:" then [A-Za-z0-9.|_-]
    return "ext:" + (re.sub(r"[^A-Za-z0-9._-]", "", scheme) or "identifier")


def _other_identifiers(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"type": "IdentifierEntry", "identifier": value, "identifierType": _ext(scheme)} for scheme, value in pairs]


def _address(country: str, region: str | None = None, street: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Address"], "addressCountry": vocab.country(country).label, "addressCountryCode": country}
    if region:
        out["addressRegion"] = region
    if street:
        out["streetAddress"] = street
    return out


def _issuer_profile(issuer: IssuerProfile, lang: str) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": issuer.id, "type": ["Profile"], "name": issuer.name(lang)}
    if issuer.homepage:
        profile["url"] = issuer.homepage
    if issuer.email:
        profile["email"] = issuer.email
    profile["address"] = _address(issuer.country)
    pairs = ([("eIDASIdentifier", issuer.eidas_identifier)] if issuer.eidas_identifier else []) + list(issuer.identifiers)
    if pairs:
        profile["otherIdentifier"] = _other_identifiers(pairs)
    return profile


def _body_profile(body: AwardingBody, mc: MicroCredentialInput) -> dict[str, Any]:
    """Annex I 3 + 4: the awarding body as the achievement's creator."""
    profile: dict[str, Any] = {"id": body.id or _uuid_urn(), "type": ["Profile"], "name": mc.text(body.legalName)}
    if body.homepage:
        profile["url"] = body.homepage
    if body.email:
        profile["email"] = body.email
    profile["address"] = _address(body.country, body.region, body.address)
    if body.identifiers:
        profile["otherIdentifier"] = _other_identifiers([(i.scheme, i.value) for i in body.identifiers])
    return profile


def _hashed(identity_type: str, value: str) -> dict[str, Any]:
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    return {"type": "IdentityObject", "identityType": identity_type, "hashed": True, "identityHash": f"sha256${digest}", "salt": salt}


def _plain(identity_type: str, value: str) -> dict[str, Any]:
    return {"type": "IdentityObject", "identityType": identity_type, "hashed": False, "identityHash": value}


def _subject_identifiers(mc: MicroCredentialInput) -> list[dict[str, Any]]:
    """Annex I 1: OB3 has no name fields on the subject, so the name is an IdentityObject (plaintext, §7)."""
    learner = mc.learner
    out = [_plain("name", learner.display_name(mc.primaryLanguage))]
    if learner.email:
        out.append(_hashed("emailAddress", learner.email.lower()))
    if learner.nationalId:
        out.append(_hashed("nationalIdentityNumber", f"{learner.nationalId.country}:{learner.nationalId.value}"))
    for ident in learner.identifiers:
        out.append(_plain(_ext(ident.scheme), ident.value))
    return out


def _criteria(mc: MicroCredentialInput) -> str:
    """Markdown: the learning outcomes (Annex I 6) and the sentences for assessment, participation, prerequisites."""
    lines = ["Learning outcomes:", ""]
    lines += [f"- {mc.text(lo.text)}" for lo in mc.learningOutcomes]
    if mc.learningOutcomeSummary:
        lines += ["", mc.text(mc.learningOutcomeSummary) or ""]
    a, p = mc.assessment, mc.participation
    sentence = f"Assessment: {vocab.assessment_types()[a.type].label}"
    if a.mode:
        sentence += f" ({vocab.modes()[a.mode].label.lower()})"
    if a.supervision:
        sentence += f"; {vocab.supervision_types()[a.supervision].label}"
    lines += ["", sentence + "."]
    part = f"Form of participation: {vocab.modes()[p.mode].label.lower()}"
    if p.learningSetting:
        part += f", {vocab.learning_settings()[p.learningSetting].label}"
    lines.append(part + ".")
    if mc.workload.hours is not None:
        lines.append(f"Notional workload: {mc.workload.hours} hours.")
    if mc.prerequisites:
        lines.append(f"Prerequisites: {mc.text(mc.prerequisites)}")
    return "\n".join(lines)


def _alignments(mc: MicroCredentialInput) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lo in mc.learningOutcomes:
        for iri in lo.escoSkills:
            out.append(_alignment(mc.text(lo.text) or iri, iri, "ext:ESCOSkill", framework="ESCO"))
    w, lvl = mc.workload, mc.level
    if w.ects is not None:
        cs = vocab.credit_systems()[w.creditSystem]
        out.append(
            _alignment(cs.label, cs.iri, "ext:CreditSystem", code=w.creditSystem, framework=cs.label, description=f"{w.ects:g} {w.creditSystem} credits")
        )
    if lvl.eqf is not None:
        c = vocab.eqf_level(lvl.eqf)
        out.append(_alignment(f"EQF level {lvl.eqf}", c.iri, "ext:EQFLevel", code=str(lvl.eqf), framework="European Qualifications Framework"))
    if lvl.qfEheaCycle:
        out.append(
            _alignment(
                QF_EHEA_NAMES[lvl.qfEheaCycle],
                QF_EHEA_URL,
                "ext:QFEHEACycle",
                code=lvl.qfEheaCycle,
                framework="Qualifications Framework of the European Higher Education Area",
            )
        )
    for iri in lvl.nqf:
        c = vocab.nqf_levels()[iri]
        out.append(_alignment(c.label or iri, iri, "ext:NQFLevel", framework="National Qualifications Framework"))
    for code in mc.fieldsOfEducation:
        c = vocab.isced_f()[code]
        out.append(_alignment(c.label, c.iri, "ext:ISCEDF", code=code, framework="ISCED-F 2013"))
    if mc.learningOpportunityType:
        c = vocab.learning_opportunity_types()[mc.learningOpportunityType]
        out.append(_alignment(c.label, c.iri, "ext:LearningOpportunityType", code=mc.learningOpportunityType))
    a, p = mc.assessment, mc.participation
    c = vocab.assessment_types()[a.type]
    out.append(_alignment(c.label, c.iri, "ext:AssessmentType", code=a.type, framework="Europass assessment types"))
    if a.mode:
        c = vocab.modes()[a.mode]
        out.append(_alignment(c.label, c.iri, "ext:AssessmentMode", code=a.mode))
    if a.supervision:
        c = vocab.supervision_types()[a.supervision]
        out.append(_alignment(c.label, c.iri, "ext:SupervisionVerification", code=a.supervision))
    c = vocab.modes()[p.mode]
    out.append(_alignment(c.label, c.iri, "ext:FormOfParticipation", code=p.mode, framework="Europass learning modes"))
    if p.learningSetting:
        c = vocab.learning_settings()[p.learningSetting]
        out.append(_alignment(c.label, c.iri, "ext:LearningSetting", code=p.learningSetting))
    for qa in mc.qualityAssurance:
        c = vocab.accreditation_types()[qa.type]
        url = qa.decisionUrl or qa.reportUrl or qa.agency.homepage or c.iri
        out.append(
            _alignment(
                mc.text(qa.title) or c.label,
                url,
                "ext:QualityAssurance",
                code=c.iri.rsplit("/", 1)[1],
                framework="Europass accreditation types",
                description=f"{c.label} by {mc.text(qa.agency.legalName)} ({qa.agency.country})",
            )
        )
    if mc.stackability:
        for target in mc.stackability.partOf:
            out.append(_alignment(mc.text(target.title) or target.id, target.id, "ext:StackableTowards"))
    return out


def render_ob3(
    mc: MicroCredentialInput,
    *,
    issuer: IssuerProfile,
    credential_id: str,
    issued: datetime,
    status_entry: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The unsigned Open Badges 3.0 ``OpenBadgeCredential`` for ``mc`` (proof added by the signer)."""
    lang = mc.primaryLanguage
    title = mc.text(mc.title) or ""
    image = {"id": "data:image/png;base64," + card_png_base64(title), "type": "Image"}

    achievement: dict[str, Any] = {
        "id": achievement_id(mc, issuer),
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": title,
        "description": mc.text(mc.description) or title,  # required by OB3
        "criteria": {"narrative": _criteria(mc)},
        "image": image,
        "inLanguage": lang,
        "creator": _body_profile(mc.awardingBodies[0], mc),
        "alignment": _alignments(mc),
    }
    if mc.workload.ects is not None:
        achievement["creditsAvailable"] = float(mc.workload.ects)
    if mc.fieldsOfEducation:
        achievement["fieldOfStudy"] = "; ".join(vocab.isced_f()[c].label for c in mc.fieldsOfEducation)
    if mc.externalId:
        achievement["humanCode"] = mc.externalId

    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if mc.learner.id:
        subject["id"] = mc.learner.id
    subject["achievement"] = achievement
    subject["identifier"] = _subject_identifiers(mc)
    if mc.workload.ects is not None:
        subject["creditsEarned"] = float(mc.workload.ects)
    if mc.participation.startDate:
        subject["activityStartDate"] = iso_datetime(mc.participation.startDate)
    if mc.participation.endDate:
        subject["activityEndDate"] = iso_datetime(mc.participation.endDate)
    grade = mc.assessment.grade
    if grade:
        rd_id = _uuid_urn()
        achievement["resultDescription"] = [
            {
                "id": rd_id,
                "type": ["ResultDescription"],
                "name": mc.text(grade.scheme.title) if grade.scheme else "Grade",
                "resultType": "Status" if grade.status else "LetterGrade",
            }
        ]
        result: dict[str, Any] = {"type": ["Result"], "resultDescription": rd_id, "value": grade.value}
        if grade.status:
            result["status"] = "Completed" if grade.status == "pass" else "Failed"
        subject["result"] = [result]
    if mc.furtherInformation:
        subject["narrative"] = mc.text(mc.furtherInformation)
    first = mc.awardingBodies[0]
    if first.id != issuer.id:
        # the awarding body is not the signer: say so where OB3 expects it (§2 awardingBodies row)
        subject["source"] = achievement["creator"]

    credential: dict[str, Any] = {
        "@context": list(OB3_CONTEXT),
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": title,
        "issuer": _issuer_profile(issuer, lang),
        "validFrom": iso_datetime(issued),
        "awardedDate": iso_datetime(mc.awardedAt or issued),
        "credentialSubject": subject,
    }
    if mc.description:
        credential["description"] = mc.text(mc.description)
    if mc.validUntil:
        credential["validUntil"] = iso_datetime(mc.validUntil)
    if mc.links:
        credential["evidence"] = [{"id": url, "type": ["Evidence"]} for url in mc.links]
    if status_entry:
        credential["credentialStatus"] = _one_status(status_entry)
    return credential


def _one_status(status_entry: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    """OB 3.0 §B.1.2: ``credentialStatus`` is [0..1], one object in the 1EdTech JSON schema."""
    entries = status_entry if isinstance(status_entry, list) else [status_entry]
    if len(entries) != 1:
        raise ValueError("an Open Badges 3.0 credential carries at most one credentialStatus (OB 3.0 §B.1.2: [0..1])")
    return dict(entries[0])


def secured_form(secured: dict[str, Any]) -> dict[str, Any]:
    """An OpenBadgeCredential's embedded proof as OB 3.0 writes it: ``proof`` is Proof [0..*] (§B.1.2), an
    array in the 1EdTech JSON schema (VC 2.0 §4.12 allows either); other credentials are returned as they are."""
    types = secured.get("type")
    if isinstance(types, list) and "OpenBadgeCredential" in types and isinstance(secured.get("proof"), dict):
        return {**secured, "proof": [secured["proof"]]}
    return secured
