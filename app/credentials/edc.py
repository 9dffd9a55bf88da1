"""Europass EDC rendering (European Learning Model 3.2, JSON-LD) of a neutral record (model doc §2, EDC column).

The output is the *unsigned* credential; the JAdES e-seal (§5) is applied afterwards. It conforms to the
EDC application profile shapes (``contexts/shacl/EDC-generic-full.ttl`` with the ``edc-generic-no-cv``
shapes it imports), which the conformance tests check with pyshacl.

Conventions kept here:

* ``@context`` is the VC **1.1** base plus ``edc-ap``: the ELM 3.2 context redefines the protected VC 2.0
  term ``description``, so it cannot be combined with VC 2.0 (shared/contexts/INDEX.md).
* Every node gets a fresh ``urn:epass:<kind>:<uuid>`` (§6.7: never one id for two different contents).
  A node that appears several times (the awarding body, the awarding process) is the *same* node,
  repeated with identical content, as in the European Commission's sample.
* Concepts carry ``inScheme`` as the shapes check it: ``snb/<list>/25831c2`` for snb lists and the bare
  table IRI for the publications-office authority tables.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from app.credentials import vocab
from app.credentials.images import card_png_base64
from app.credentials.model import AwardingBody, MicroCredentialInput
from app.credentials.profile import IssuerProfile
from app.vcdm import STATUS_V1, VC1

CONTEXT_VC1 = VC1
CONTEXT_EDC = "http://data.europa.eu/snb/model/context/edc-ap"
# BitstringStatusListEntry is defined in the VC 2.0 context; a VC 1.1 document needs this one for it.
CONTEXT_STATUS = STATUS_V1
EDC_CONTEXT = [CONTEXT_VC1, CONTEXT_EDC]
CREDENTIAL_SCHEMA = {"id": "http://data.europa.eu/snb/model/ap/edc-generic-full", "type": "ShaclValidator2017"}
GENERIC_PROFILE = vocab.Concept("http://data.europa.eu/snb/credential/e34929035b", "http://data.europa.eu/snb/credential/25831c2", "Generic")
BASE64 = vocab.Concept("http://data.europa.eu/snb/encoding/6146cde7dd", "http://data.europa.eu/snb/encoding/25831c2", "base64")
FILE_TYPE_SCHEME = vocab.AUTHORITY + "file-type"
ATU_SCHEME = vocab.AUTHORITY + "atu"
NUTS_SCHEME = "http://data.europa.eu/nuts/scheme/2024"
QF_EHEA_LABELS = {"short-cycle": "short cycle", "first": "first cycle", "second": "second cycle", "third": "third cycle"}


def iso_datetime(value: datetime) -> str:
    """xsd:dateTime in UTC with a Z, whole seconds (what EDC and VC consumers parse most reliably)."""
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _points(value: float) -> str:
    return f"{value:g}"


class Nodes:
    """Fresh node ids for one credential."""

    def id(self, kind: str) -> str:
        return f"urn:epass:{kind}:{uuid.uuid4()}"

    def node(self, kind: str, type_: str, **props: Any) -> dict[str, Any]:
        return {"id": self.id(kind), "type": type_, **{k: v for k, v in props.items() if v not in (None, [], {})}}


def concept(c: vocab.Concept, label_lang: str = "en") -> dict[str, Any]:
    """A Concept node as every EU sample writes it (labels in our tables are English)."""
    out: dict[str, Any] = {"id": c.iri, "type": "Concept", "inScheme": {"id": c.scheme, "type": "ConceptScheme"}}
    if c.notation:
        out["notation"] = c.notation
    if c.label:
        out["prefLabel"] = {label_lang: c.label}
    return out


def _note(n: Nodes, text: dict[str, str] | None) -> dict[str, Any] | None:
    return n.node("note", "Note", noteLiteral=dict(text)) if text else None


def _web(n: Nodes, url: str | None) -> dict[str, Any] | None:
    return n.node("webResource", "WebResource", contentURL=url) if url else None


def _legal_identifier(n: Nodes, value: str, country_alpha2: str) -> dict[str, Any]:
    return n.node("legalIdentifier", "LegalIdentifier", notation=value, spatial=concept(vocab.country(country_alpha2)))


def _spatial_code(region: str) -> dict[str, Any]:
    # EU ATU codes look like IRL_CTH_DUB; anything else is taken as a NUTS code (IE061)
    if "_" in region:
        c = vocab.Concept(f"{ATU_SCHEME}/{region}", ATU_SCHEME, "", notation="atu")
    else:
        c = vocab.Concept(f"http://data.europa.eu/nuts/code/{region}", NUTS_SCHEME, "")
    out = concept(c)
    out["prefLabel"] = {"en": region}  # the EU label is not in our tables; the code is honest and readable
    return out


def _location(n: Nodes, country: str, address: str | None = None, region: str | None = None) -> dict[str, Any]:
    addr = n.node("address", "Address", countryCode=concept(vocab.country(country)), fullAddress=_note(n, {"en": address}) if address else None)
    return n.node("location", "Location", address=addr, spatialCode=_spatial_code(region) if region else None)


def _organisation(n: Nodes, body: AwardingBody, node_id: str) -> dict[str, Any]:
    """Annex I 3 + 4: the awarding body with its country (``location.address.countryCode``)."""
    registration = vat = None
    others: list[dict[str, Any]] = []
    for ident in body.identifiers:
        scheme = ident.scheme.lower()
        if scheme == "national-register" and registration is None:
            registration = _legal_identifier(n, ident.value, ident.country or body.country)
        elif scheme == "vat" and vat is None:
            vat = _legal_identifier(n, ident.value, ident.country or body.country)
        else:
            others.append(n.node("identifier", "Identifier", schemeName=ident.scheme, notation=ident.value))
    contact = None
    if body.email:
        contact = n.node("contactPoint", "ContactPoint", emailAddress={"id": f"mailto:{body.email}", "type": "Mailbox"})
    org = {
        "id": node_id,
        "type": "Organisation",
        "legalName": dict(body.legalName),
        "location": _location(n, body.country, body.address, body.region),
    }
    for key, value in (
        ("homepage", _web(n, body.homepage)),
        ("registration", registration),
        ("vatIdentifier", vat),
        ("identifier", others),
        ("contactPoint", contact),
    ):
        if value:
            org[key] = value
    return org


def _issuer(n: Nodes, issuer: IssuerProfile) -> dict[str, Any]:
    """The sealing organisation; ``eIDASIdentifier`` is 1..1 in the EDC shapes."""
    org: dict[str, Any] = {
        "id": issuer.id,
        "type": "Organisation",
        "legalName": dict(issuer.legal_name),
        "location": _location(n, issuer.country),
    }
    if issuer.eidas_identifier:
        org["eIDASIdentifier"] = _legal_identifier(n, issuer.eidas_identifier, issuer.country)
    if issuer.homepage:
        org["homepage"] = _web(n, issuer.homepage)
    if issuer.identifiers:
        org["identifier"] = [n.node("identifier", "Identifier", schemeName=s, notation=v) for s, v in issuer.identifiers]
    if issuer.email:
        org["contactPoint"] = n.node("contactPoint", "ContactPoint", emailAddress={"id": f"mailto:{issuer.email}", "type": "Mailbox"})
    return org


def _date_of_birth(value: date) -> str:
    # ELM types dateOfBirth as xsd:dateTime (model doc §2)
    return f"{value.isoformat()}T00:00:00Z"


def _display(n: Nodes, mc: MicroCredentialInput) -> dict[str, Any]:
    """DisplayParameter: ≥1 image per display language (generated when the provider sent none)."""
    given: dict[str, list[Any]] = {}
    for img in mc.displayImages:
        given.setdefault(img.language, []).append(img)
    individual = []
    for lang in mc.languages:
        details = []
        images = sorted(given.get(lang, []), key=lambda i: i.page)
        if images:
            for img in images:
                file_type = "PNG" if img.mediaType == "image/png" else "JPEG"
                details.append((img.page, img.base64, file_type))
        else:
            details.append((1, card_png_base64(mc.title.get(lang) or mc.title[mc.primaryLanguage]), "PNG"))
        individual.append(
            n.node(
                "individualDisplay",
                "IndividualDisplay",
                language=concept(vocab.language(lang)),
                displayDetail=[
                    n.node(
                        "displayDetail",
                        "DisplayDetail",
                        page=page,
                        image=n.node(
                            "mediaObject",
                            "MediaObject",
                            content=content,
                            contentEncoding=concept(BASE64),
                            contentType=concept(vocab.Concept(f"{FILE_TYPE_SCHEME}/{ft}", FILE_TYPE_SCHEME, ft, notation="file-type")),
                        ),
                    )
                    for page, content, ft in details
                ],
            )
        )
    return n.node(
        "displayParameter",
        "DisplayParameter",
        title=dict(mc.title),
        description=dict(mc.description) if mc.description else None,
        primaryLanguage=concept(vocab.language(mc.primaryLanguage)),
        language=[concept(vocab.language(lang)) for lang in mc.languages],
        individualDisplay=individual,
    )


def _learning_outcome(n: Nodes, lo: Any) -> dict[str, Any]:
    """Annex I 6: one learning outcome with its ESCO skills (inScheme esco skills, as the shapes check)."""
    esco = [{"id": iri, "type": "Concept", "inScheme": {"id": vocab.ESCO_SKILL_SCHEME, "type": "ConceptScheme"}} for iri in lo.escoSkills]
    other = [{"id": iri, "type": "Concept"} for iri in lo.otherSkills]
    return n.node(
        "learningOutcome",
        "LearningOutcome",
        title=dict(lo.text),
        relatedESCOSkill=esco,
        relatedSkill=other,
        reusabilityLevel=concept(vocab.reusability_levels()[lo.reusabilityLevel]) if lo.reusabilityLevel else None,
    )


def _accreditation(n: Nodes, qa: Any) -> dict[str, Any]:
    """Annex I 11: ``Qualification.accreditation`` (model doc §7: SHACL-valid; no "Accredited" profile claimed)."""
    agent = {
        "id": qa.agency.id or n.id("org"),
        "type": "Organisation",
        "legalName": dict(qa.agency.legalName),
        "location": _location(n, qa.agency.country),
    }
    if qa.agency.homepage:
        agent["homepage"] = _web(n, qa.agency.homepage)
    ident = n.node("identifier", "Identifier", schemeName="DEQAR report", notation=qa.deqarReportId) if qa.deqarReportId else None
    return n.node(
        "accreditation",
        "Accreditation",
        dcType=concept(vocab.accreditation_types()[qa.type]),
        title=dict(qa.title),
        accreditingAgent=agent,
        report=_web(n, qa.reportUrl),
        landingPage=_web(n, qa.decisionUrl),
        identifier=ident,
        dateIssued=iso_datetime(qa.issuedAt) if qa.issuedAt else None,
        reviewDate=iso_datetime(qa.reviewDate) if qa.reviewDate else None,
        expiryDate=iso_datetime(qa.expiryDate) if qa.expiryDate else None,
        limitEQFLevel=[concept(vocab.eqf_level(lvl)) for lvl in qa.limitEqfLevels],
    )


def _qualification(n: Nodes, mc: MicroCredentialInput) -> dict[str, Any]:
    """``claim.specifiedBy``: a Qualification, so it can carry the EQF level (Annex I 6, 7, 8, 10, 11)."""
    w, lvl = mc.workload, mc.level
    notes = []
    if lvl.qfEheaCycle:
        notes.append(_note(n, {"en": f"QF-EHEA cycle: {QF_EHEA_LABELS[lvl.qfEheaCycle]}"}))
    if mc.stackability and mc.stackability.note:
        notes.append(_note(n, mc.stackability.note))
    credit = None
    if w.ects is not None:
        credit = n.node("creditPoint", "CreditPoint", framework=concept(vocab.credit_systems()[w.creditSystem]), point=_points(w.ects))
    part_of = [n.node("qualification", "Qualification", title=dict(t.title)) | {"id": t.id} for t in (mc.stackability.partOf if mc.stackability else [])]
    q = n.node(
        "qualification",
        "Qualification",
        title=dict(mc.title),
        description=dict(mc.description) if mc.description else None,
        dcType=concept(vocab.learning_opportunity_types()[mc.learningOpportunityType]) if mc.learningOpportunityType else None,
        eqfLevel=concept(vocab.eqf_level(lvl.eqf)) if lvl.eqf is not None else None,
        nqfLevel=[concept(vocab.nqf_levels()[iri]) for iri in lvl.nqf],
        thematicArea=[concept(vocab.isced_f()[code]) for code in mc.fieldsOfEducation],
        creditPoint=credit,
        volumeOfLearning=f"PT{w.hours}H" if w.hours is not None else None,
        maximumDuration=f"P{w.maximumDurationMonths}M" if w.maximumDurationMonths else None,
        learningOutcome=[_learning_outcome(n, lo) for lo in mc.learningOutcomes],
        learningOutcomeSummary=_note(n, mc.learningOutcomeSummary),
        mode=concept(vocab.modes()[mc.participation.mode]),
        learningSetting=concept(vocab.learning_settings()[mc.participation.learningSetting]) if mc.participation.learningSetting else None,
        language=[concept(vocab.language(lang)) for lang in mc.instructionLanguages],
        entryRequirement=_note(n, mc.prerequisites),
        isPartOf=part_of,
        additionalNote=notes,
        accreditation=[_accreditation(n, qa) for qa in mc.qualityAssurance],
    )
    if mc.stackability:
        q["isPartialQualification"] = mc.stackability.mode == "stackable"
    return q


def _awarding_process(n: Nodes, mc: MicroCredentialInput, used_ids: set[str]) -> dict[str, Any]:
    """The awarding bodies, one node each, repeated verbatim wherever ELM wants the awarding body."""
    bodies = []
    for body in mc.awardingBodies:
        node_id = body.id if body.id and body.id not in used_ids else n.id("org")
        used_ids.add(node_id)
        bodies.append(_organisation(n, body, node_id))
    return n.node("awardingProcess", "AwardingProcess", awardingBody=bodies, awardingDate=iso_datetime(mc.awardedAt) if mc.awardedAt else None)


def _assessment(n: Nodes, mc: MicroCredentialInput, process: dict[str, Any]) -> dict[str, Any]:
    """Annex I 9: the LearningAssessment and its specification (``grade`` is 1..1, §6.5)."""
    a = mc.assessment
    grade = a.grade.value if a.grade else "Pass"
    grading = None
    if a.grade and a.grade.scheme:
        grading = n.node(
            "gradingScheme",
            "GradingScheme",
            title=dict(a.grade.scheme.title),
            description=dict(a.grade.scheme.description) if a.grade.scheme.description else None,
        )
    assessment_title = dict(a.title) if a.title else {"en": vocab.assessment_types()[a.type].label}
    return n.node(
        "learningAssessment",
        "LearningAssessment",
        title=assessment_title,
        awardedBy=process,
        grade=_note(n, {mc.primaryLanguage: grade}),
        idVerification=concept(vocab.supervision_types()[a.supervision]) if a.supervision else None,
        dateIssued=iso_datetime(a.date) if a.date else None,
        specifiedBy=n.node(
            "learningAssessmentSpec",
            "LearningAssessmentSpecification",
            title=assessment_title,
            dcType=concept(vocab.assessment_types()[a.type]),
            mode=concept(vocab.modes()[a.mode]) if a.mode else None,
            gradingScheme=grading,
            language=[concept(vocab.language(x)) for x in mc.instructionLanguages],
        ),
    )


def _activity(n: Nodes, mc: MicroCredentialInput, process: dict[str, Any]) -> dict[str, Any]:
    """Annex I 10: the form of participation as a LearningActivity."""
    p = mc.participation
    period = None
    if p.startDate or p.endDate:
        period = n.node(
            "period", "PeriodOfTime", startDate=iso_datetime(p.startDate) if p.startDate else None, endDate=iso_datetime(p.endDate) if p.endDate else None
        )
    return n.node(
        "activity",
        "LearningActivity",
        title=dict(mc.title),
        awardedBy=process,
        temporal=period,
        specifiedBy=n.node(
            "learningActivitySpec",
            "LearningActivitySpecification",
            title=dict(mc.title),
            dcType=concept(vocab.activity_types()[p.activityType]) if p.activityType else None,
            mode=concept(vocab.modes()[p.mode]),
            language=[concept(vocab.language(x)) for x in mc.instructionLanguages],
        ),
    )


def _subject(n: Nodes, mc: MicroCredentialInput, claim: dict[str, Any]) -> dict[str, Any]:
    """Annex I 1: the learner (a Person) holding the claim."""
    learner = mc.learner
    subject: dict[str, Any] = {
        "id": learner.id or n.id("person"),
        "type": "Person",
        "givenName": dict(learner.givenName),
        "familyName": dict(learner.familyName),
        "fullName": learner.full_name_map(),
    }
    if learner.dateOfBirth:
        subject["dateOfBirth"] = _date_of_birth(learner.dateOfBirth)
    if learner.email:
        subject["contactPoint"] = n.node("contactPoint", "ContactPoint", emailAddress={"id": f"mailto:{learner.email}", "type": "Mailbox"})
    if learner.nationalId:
        subject["nationalID"] = _legal_identifier(n, learner.nationalId.value, learner.nationalId.country)
    if learner.identifiers:
        subject["identifier"] = [n.node("identifier", "Identifier", schemeName=i.scheme, notation=i.value) for i in learner.identifiers]
    subject["hasClaim"] = claim
    return subject


def status_entry_for_edc(status_entry: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    """The one ``credentialStatus`` of an EDC (``sh:maxCount 1``), typed ``CredentialStatus`` as well.

    The EDC shapes want ``cred:credentialStatus`` once, of class ``elm:CredentialStatus``
    (``edc:EuropeanDigitalCredential-cred_credentialStatus``); the entry stays a Bitstring Status List entry
    (§2.1) too, so ``type`` is ``["CredentialStatus", "BitstringStatusListEntry"]``. Status libraries that
    compare ``type`` to the plain string cannot read it: no single form satisfies both (README, "EDC status entry").
    """
    entries = status_entry if isinstance(status_entry, list) else [status_entry]
    if len(entries) != 1:
        raise ValueError("an EDC carries exactly one credentialStatus entry (EDC shapes: sh:maxCount 1)")
    entry = dict(entries[0])
    types = entry.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if "CredentialStatus" not in types:
        types = ["CredentialStatus", *types]
    entry["type"] = types
    return entry


def render_edc(
    mc: MicroCredentialInput,
    *,
    issuer: IssuerProfile,
    credential_id: str,
    issued: datetime,
    status_entry: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The unsigned Europass EDC (ELM 3.2) credential for ``mc``; ``issued`` is the seal time.

    ``status_entry`` is one BitstringStatusListEntry (with an ``id``; a list of one is accepted), rendered
    by ``status_entry_for_edc``; its context is added.
    """
    n = Nodes()
    process = _awarding_process(n, mc, {issuer.id, credential_id})
    claim = n.node(
        "learningAchievement",
        "LearningAchievement",
        title=dict(mc.title),
        awardedBy=process,
        provenBy=_assessment(n, mc, process),
        influencedBy=_activity(n, mc, process),
        specifiedBy=_qualification(n, mc),
        additionalNote=[_note(n, mc.furtherInformation)] if mc.furtherInformation else None,
        supplementaryDocument=[_web(n, url) for url in mc.links],
    )
    context: list[str] = list(EDC_CONTEXT)
    credential: dict[str, Any] = {
        "@context": context,
        "id": credential_id,
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": concept(GENERIC_PROFILE),
        "credentialSchema": dict(CREDENTIAL_SCHEMA),
        "issuer": _issuer(n, issuer),
        "issuanceDate": iso_datetime(issued),
        "issued": iso_datetime(issued),
        "validFrom": iso_datetime(issued),
    }
    if mc.validUntil:
        credential["validUntil"] = iso_datetime(mc.validUntil)
        credential["expirationDate"] = iso_datetime(mc.validUntil)  # for VC 1.1 consumers
    if mc.externalId:
        credential["identifier"] = n.node("identifier", "Identifier", schemeName="Certificate number", notation=mc.externalId)
    credential["credentialSubject"] = _subject(n, mc, claim)
    credential["displayParameter"] = _display(n, mc)
    if status_entry:
        context.append(CONTEXT_STATUS)
        credential["credentialStatus"] = status_entry_for_edc(status_entry)
    return credential
