"""Reading a credential back against Annex I: which EU micro-credential elements it carries.

Works on credentials from anyone, not only ours: Europass EDC / ELM 3 JSON-LD (as the European
Commission's sample writes it, single values or arrays, EBSI-style array-valued language maps too) and
Open Badges 3.0 (our alignment convention of model doc §4, plus what other issuers commonly do: ESCO
alignments, ``creditsAvailable``, issuer/creator addresses). It reads the JSON as written (compacted with
the format's usual context), it does not verify anything: a verifier calls it after the proof checks.

``eu_completeness`` lists the 11 mandatory and 5 optional Annex I elements with present/missing and the
value found; ``summary`` gives the facts a credential page shows, language maps kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.credentials import annex, vocab

SNB = vocab.SNB
_ALPHA3_TO_2 = {"GRC": "GR", "GBR": "GB", "EUR": "EU"}


@dataclass(frozen=True)
class ElementResult:
    """One Annex I element as found in a credential."""

    key: str
    element: str
    mandatory: bool
    present: bool
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "element": self.element, "mandatory": self.mandatory, "present": self.present, "value": self.value}


# -- small readers -------------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _first(value: Any) -> Any:
    items = _list(value)
    return items[0] if items else None


def _obj(value: Any) -> dict[str, Any]:
    first = _first(value)
    return first if isinstance(first, dict) else {}


def _lang_map(value: Any, default_lang: str = "und") -> dict[str, str] | None:
    """A language map as a plain ``{lang: text}`` (EBSI's array values joined; a bare string kept)."""
    if isinstance(value, str):
        return {default_lang: value} if value else None
    if isinstance(value, dict):
        if "@value" in value:
            return {value.get("@language", default_lang): str(value["@value"])}
        out = {}
        for lang, text in value.items():
            if isinstance(text, list):
                text = "; ".join(str(t) for t in text)
            if isinstance(text, str) and text:
                out[lang] = text
        return out or None
    return None


def _types(node: dict[str, Any]) -> list[str]:
    return [str(t) for t in _list(node.get("type") or node.get("@type"))]


def _concept(value: Any) -> dict[str, Any] | None:
    node = _first(value)
    if isinstance(node, str):
        return {"id": node}
    if not isinstance(node, dict) or not node.get("id"):
        return None
    out: dict[str, Any] = {"id": node["id"]}
    label = _lang_map(node.get("prefLabel"), "en")
    if label:
        out["label"] = label
    return out


def _note_text(value: Any) -> dict[str, str] | None:
    node = _first(value)
    if isinstance(node, dict):
        return _lang_map(node.get("noteLiteral"))
    return _lang_map(node)


def _country_code(iri: str | None) -> str | None:
    if not iri:
        return None
    alpha3 = iri.rstrip("/").rsplit("/", 1)[-1]
    if alpha3 in _ALPHA3_TO_2:
        return _ALPHA3_TO_2[alpha3]
    import pycountry

    found = pycountry.countries.get(alpha_3=alpha3)
    return found.alpha_2 if found else None


def _language_code(iri: str) -> str | None:
    """EU language table IRI (…/language/ENG) → ISO 639-1 (en), the keys of the language maps."""
    import pycountry

    found = pycountry.languages.get(alpha_3=iri.rstrip("/").rsplit("/", 1)[-1].lower())
    return getattr(found, "alpha_2", None) if found else None


def credential_format(credential: dict[str, Any]) -> str:
    """``"edc"``, ``"ob3"`` or ``"unknown"``, from the type (and, for EDC, the context)."""
    types = _types(credential)
    if "EuropeanDigitalCredential" in types or any("snb/model/context/edc" in str(c) for c in _list(credential.get("@context"))):
        return "edc"
    if "OpenBadgeCredential" in types or "AchievementCredential" in types:
        return "ob3"
    return "unknown"


# -- Europass EDC (ELM 3.2): one reader per fact -------------------------------------------------------
#
# Paths as in model doc §2: ``cs`` = credentialSubject (Person), ``claim`` = cs.hasClaim (LearningAchievement),
# ``spec`` = claim.specifiedBy (Qualification), ``process`` = claim.awardedBy (AwardingProcess),
# ``assessment`` = claim.provenBy (LearningAssessment), ``activity`` = claim.influencedBy (LearningActivity).

_CREDIT_SYSTEMS = {"6fcec5c5af": "ECTS", "60b314e826": "ECVET"}  # snb/education-credit/<code>


def _concepts(value: Any) -> Iterator[dict[str, Any]]:
    """The concepts of a single or array value, skipping what is not one (lazily: a caller's per-item work
    interleaves with the reading, as it did when these were nested generator expressions)."""
    return (c for c in (_concept(x) for x in _list(value)) if c)


def _first_lang_map(*values: Any) -> dict[str, str] | None:
    """The first of ``values`` that reads as a language map (the later ones are not read)."""
    return next((m for m in (_lang_map(v) for v in values) if m), None)


@dataclass(frozen=True)
class _Edc:
    """The nodes of an EDC credential that the readers look into; a missing node reads as ``{}``."""

    vc: dict[str, Any]
    cs: dict[str, Any]
    claim: dict[str, Any]
    spec: dict[str, Any]
    process: dict[str, Any]
    bodies: list[dict[str, Any]]
    assessment: dict[str, Any]
    assessment_spec: dict[str, Any]
    activity: dict[str, Any]
    display: dict[str, Any]
    issuer: dict[str, Any]

    @classmethod
    def of(cls, vc: dict[str, Any]) -> _Edc:
        cs = _obj(vc.get("credentialSubject"))
        claim = _obj(cs.get("hasClaim"))
        process = _obj(claim.get("awardedBy"))
        assessment = _obj(claim.get("provenBy"))
        return cls(
            vc=vc,
            cs=cs,
            claim=claim,
            spec=_obj(claim.get("specifiedBy")),
            process=process,
            bodies=[b for b in _list(process.get("awardingBody")) if isinstance(b, dict)],
            assessment=assessment,
            assessment_spec=_obj(assessment.get("specifiedBy")),
            activity=_obj(claim.get("influencedBy")),
            display=_obj(vc.get("displayParameter")),
            issuer=_obj(vc.get("issuer")),
        )


def _edc_learner_name(cs: dict[str, Any]) -> dict[str, str] | None:
    """``cs.fullName``, else ``givenName`` + ``familyName`` per language of the given name."""
    name = _lang_map(cs.get("fullName"))
    if not name:
        given, family = _lang_map(cs.get("givenName")) or {}, _lang_map(cs.get("familyName")) or {}
        name = {k: f"{given[k]} {family.get(k, '')}".strip() for k in given} or None
    return name


def _edc_learner_identifiers(cs: dict[str, Any]) -> list[Any]:
    """``cs.id``, ``nationalID.notation``, ``contactPoint.emailAddress.id``, ``identifier[]``, ``dateOfBirth``."""
    ids = []
    if cs.get("id"):
        ids.append(cs["id"])
    if _obj(cs.get("nationalID")).get("notation"):
        ids.append(f"national ID {_obj(cs.get('nationalID'))['notation']}")
    email = _obj(_obj(cs.get("contactPoint")).get("emailAddress")).get("id")
    if email:
        ids.append(email)
    ids += [f"{i.get('schemeName', 'identifier')} {i.get('notation')}" for i in _list(cs.get("identifier")) if isinstance(i, dict)]
    if cs.get("dateOfBirth"):
        ids.append(f"born {str(cs['dateOfBirth'])[:10]}")
    return ids


def _edc_learner(n: _Edc) -> dict[str, Any] | None:
    """Annex I 1, identification of the learner: the name and identifiers of ``credentialSubject``."""
    name = _edc_learner_name(n.cs)
    ids = _edc_learner_identifiers(n.cs)
    return {"name": name, "identifiers": ids} if (name or ids) else None


def _edc_title(n: _Edc) -> dict[str, str] | None:
    """Annex I 2, title: ``claim.title``, else ``spec.title``, else ``displayParameter.title``."""
    return _first_lang_map(n.claim.get("title"), n.spec.get("title"), n.display.get("title"))


def _edc_languages(n: _Edc) -> list[str]:
    """The credential's languages (not an Annex I element): ``displayParameter.language`` concepts as ISO 639-1."""
    return [code for code in (_language_code(c["id"]) for c in _concepts(n.display.get("language"))) if code]


def _edc_country(n: _Edc) -> dict[str, Any] | None:
    """Annex I 3, country or region of the issuer: the first ``location.address.countryCode`` and the first
    ``location.spatialCode`` of the awarding bodies (of the ``issuer`` when there is no awarding body)."""
    located = n.bodies or ([n.issuer] if n.issuer else [])
    country = region = None
    for org in located:
        loc = _obj(org.get("location"))
        country = country or _concept(_obj(loc.get("address")).get("countryCode"))
        region = region or _concept(loc.get("spatialCode"))
    if country:
        country["code"] = _country_code(country["id"])
    return {"country": country, "region": region} if (country or region) else None


def _edc_awarding_bodies(n: _Edc) -> list[dict[str, str]] | None:
    """Annex I 4, awarding body: ``claim.awardedBy.awardingBody[].legalName``."""
    return [name for name in (_lang_map(b.get("legalName")) for b in n.bodies) if name] or None


def _edc_issuer(n: _Edc) -> dict[str, str] | None:
    """The sealing organisation (not an Annex I element): ``issuer.legalName``."""
    return _lang_map(n.issuer.get("legalName"))


def _edc_date(n: _Edc) -> Any:
    """Annex I 5, date of issuing: ``claim.awardedBy.awardingDate``, else ``issued``, ``issuanceDate``, ``validFrom``."""
    return n.process.get("awardingDate") or n.vc.get("issued") or n.vc.get("issuanceDate") or n.vc.get("validFrom")


def _edc_learning_outcomes(n: _Edc) -> list[dict[str, Any]] | None:
    """Annex I 6, learning outcomes: ``spec.learningOutcome[]`` (``title``, ``relatedESCOSkill``), else the
    ``spec.learningOutcomeSummary`` note."""
    outcomes = []
    for lo in _list(n.spec.get("learningOutcome")):
        if isinstance(lo, dict) and _lang_map(lo.get("title")):
            outcomes.append({"text": _lang_map(lo.get("title")), "escoSkills": [c["id"] for c in _concepts(lo.get("relatedESCOSkill"))]})
    summary = _note_text(n.spec.get("learningOutcomeSummary"))
    return outcomes or ([{"text": summary, "escoSkills": []}] if summary else None)


def _edc_credits(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec.creditPoint``: ``point`` and the ``framework`` concept (ECTS, ECVET, or the IRI as written)."""
    credit = _obj(spec.get("creditPoint"))
    if credit.get("point") is None:
        return {}
    framework = _concept(credit.get("framework")) or {}
    credits = float(credit["point"])
    return {"credits": credits, "system": _CREDIT_SYSTEMS.get(str(framework.get("id", "")).rsplit("/", 1)[-1], framework.get("id"))}


def _edc_volume(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec.volumeOfLearning`` as written, and in hours when it is an xsd:duration ``PT<h>H``."""
    if not spec.get("volumeOfLearning"):
        return {}
    out = {"volumeOfLearning": spec["volumeOfLearning"]}
    hours = re.fullmatch(r"PT(\d+(?:\.\d+)?)H", str(spec["volumeOfLearning"]))
    if hours:
        out["hours"] = float(hours.group(1))
    return out


def _edc_workload(n: _Edc) -> dict[str, Any] | None:
    """Annex I 7, notional workload: ``spec.creditPoint`` and ``spec.volumeOfLearning``."""
    return {**_edc_credits(n.spec), **_edc_volume(n.spec)} or None


def _edc_level(n: _Edc) -> dict[str, Any] | None:
    """Annex I 8, level: ``spec.eqfLevel`` (the EQF number), ``spec.nqfLevel[]``, and the QF-EHEA cycle of a
    ``spec.additionalNote`` "QF-EHEA cycle: …" (ELM has no property for it, model doc §2)."""
    level: dict[str, Any] = {}
    eqf = _concept(n.spec.get("eqfLevel"))
    if eqf:
        level["eqf"] = int(eqf["id"].rsplit("/", 1)[-1]) if eqf["id"].rsplit("/", 1)[-1].isdigit() else eqf["id"]
    nqf = list(_concepts(n.spec.get("nqfLevel")))
    if nqf:
        level["nqf"] = nqf
    for note in _list(n.spec.get("additionalNote")):
        text = (_note_text(note) or {}).get("en", "")
        if text.startswith("QF-EHEA cycle:"):
            level["qfEheaCycle"] = text.split(":", 1)[1].strip()
    return level or None


def _edc_fields(n: _Edc) -> list[dict[str, Any]] | None:
    """ISCED-F fields of education (not an Annex I element, so not in :func:`facts`; the pages show them):
    ``spec.thematicArea[]``."""
    return [c for c in _concepts(n.spec.get("thematicArea")) if c["id"].startswith(f"{SNB}isced-f/")] or None


def _edc_assessment(n: _Edc) -> dict[str, Any] | None:
    """Annex I 9, type of assessment: ``claim.provenBy.specifiedBy.dcType`` and ``.mode``, the title of
    ``claim.provenBy`` (else of its specification)."""
    a_type = _concept(n.assessment_spec.get("dcType"))
    a_title = _first_lang_map(n.assessment.get("title"), n.assessment_spec.get("title"))
    return {"type": a_type, "title": a_title, "mode": _concept(n.assessment_spec.get("mode"))} if (a_type or a_title) else None


def _edc_participation(n: _Edc) -> dict[str, Any] | None:
    """Annex I 10, form of participation: ``spec.mode`` (else ``claim.influencedBy.specifiedBy.mode``) and
    ``spec.learningSetting``."""
    mode = _concept(n.spec.get("mode")) or _concept(_obj(n.activity.get("specifiedBy")).get("mode"))
    setting = _concept(n.spec.get("learningSetting"))
    return {"mode": mode, "learningSetting": setting} if (mode or setting) else None


def _edc_quality_assurance(n: _Edc) -> list[dict[str, Any]] | None:
    """Annex I 11, type of quality assurance: ``spec.accreditation[]`` (``dcType``, ``title``,
    ``accreditingAgent.legalName``)."""
    qa = []
    for acc in _list(n.spec.get("accreditation")):
        if isinstance(acc, dict):
            qa.append(
                {
                    "type": _concept(acc.get("dcType")),
                    "title": _lang_map(acc.get("title")),
                    "agency": _lang_map(_obj(acc.get("accreditingAgent")).get("legalName")),
                }
            )
    return qa or None


def _edc_prerequisites(n: _Edc) -> dict[str, str] | None:
    """Annex I optional, prerequisites: the ``spec.entryRequirement`` note."""
    return _note_text(n.spec.get("entryRequirement"))


def _edc_supervision(n: _Edc) -> dict[str, Any] | None:
    """Annex I optional, supervision and identity verification: ``claim.provenBy.idVerification``."""
    return _concept(n.assessment.get("idVerification"))


def _edc_grade(n: _Edc) -> dict[str, str] | None:
    """Annex I optional, grade achieved: the ``claim.provenBy.grade`` note."""
    return _note_text(n.assessment.get("grade"))


def _edc_stackability(n: _Edc) -> dict[str, Any] | None:
    """Annex I optional, integration/stackability options: ``spec.isPartialQualification`` and
    ``spec.isPartOf[]`` (``id``, ``title``)."""
    stack: dict[str, Any] = {}
    if "isPartialQualification" in n.spec:
        stack["partial"] = bool(n.spec["isPartialQualification"])
    part_of = [{"id": p.get("id"), "title": _lang_map(p.get("title"))} for p in _list(n.spec.get("isPartOf")) if isinstance(p, dict)]
    if part_of:
        stack["partOf"] = part_of
    return stack or None


def _edc_further_information(n: _Edc) -> dict[str, Any] | None:
    """Annex I optional, further information: ``claim.additionalNote`` notes and
    ``claim.supplementaryDocument[].contentURL`` links."""
    further = [note for note in (_note_text(x) for x in _list(n.claim.get("additionalNote"))) if note]
    links = [_obj(d).get("contentURL") for d in _list(n.claim.get("supplementaryDocument")) if _obj(d).get("contentURL")]
    return {"notes": further, "links": links} if (further or links) else None


#: (fact, reader) in the order of the facts (Annex I order, with the page's ``languages`` and ``issuer``)
_EDC_READERS: tuple[tuple[str, Callable[[_Edc], Any]], ...] = (
    ("learner", _edc_learner),
    ("title", _edc_title),
    ("languages", _edc_languages),
    ("country", _edc_country),
    ("awardingBodies", _edc_awarding_bodies),
    ("issuer", _edc_issuer),
    ("date", _edc_date),
    ("learningOutcomes", _edc_learning_outcomes),
    ("workload", _edc_workload),
    ("level", _edc_level),
    ("assessment", _edc_assessment),
    ("participation", _edc_participation),
    ("qualityAssurance", _edc_quality_assurance),
    ("prerequisites", _edc_prerequisites),
    ("supervision", _edc_supervision),
    ("grade", _edc_grade),
    ("stackability", _edc_stackability),
    ("furtherInformation", _edc_further_information),
)


def _edc_facts(vc: dict[str, Any]) -> dict[str, Any]:
    """The facts of a Europass EDC credential, one reader per fact, read in the order of ``_EDC_READERS``."""
    nodes = _Edc.of(vc)
    f: dict[str, Any] = {"format": "edc"}
    for key, read in _EDC_READERS:
        f[key] = read(nodes)
    return f


def _alignments(ach: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in _list(ach.get("alignment")) if isinstance(a, dict)]


def _aligned(ach: dict[str, Any], target_type: str, url_prefix: str | None = None) -> list[dict[str, Any]]:
    """Alignments of one EU element: by our ``ext:`` targetType, or by the EU concept IRI others use."""
    out = []
    for a in _alignments(ach):
        url = str(a.get("targetUrl", ""))
        if a.get("targetType") == target_type or (url_prefix and url.startswith(url_prefix)):
            out.append({"id": url, "label": a.get("targetName"), "code": a.get("targetCode")})
    return out


# -- Open Badges 3.0: one reader per fact --------------------------------------------------------------
#
# Paths: ``cs`` = credentialSubject (AchievementSubject), ``ach`` = cs.achievement, ``creator`` = ach.creator.
# The EU elements OB3 has no property for are alignments (model doc §4): our ``ext:`` targetType, or the
# EU concept IRI as ``targetUrl`` (what other issuers write).


class _Ob3:
    """The nodes of an OB3 credential that the readers look into, and the lookups they share."""

    def __init__(self, vc: dict[str, Any]) -> None:
        self.vc = vc
        self.cs = _obj(vc.get("credentialSubject"))
        self.ach = _obj(self.cs.get("achievement"))
        self.issuer = _obj(vc.get("issuer"))
        self.creator = _obj(self.ach.get("creator"))
        self.lang = self.ach.get("inLanguage") or "und"

    @functools.cached_property
    def narrative(self) -> str:
        """``ach.criteria.narrative`` (read when a reader first needs it, where the single reader read it)."""
        return str(_obj(self.ach.get("criteria")).get("narrative") or "")

    def lm(self, value: Any) -> dict[str, str] | None:
        """A plain OB3 string is in the achievement's ``inLanguage``."""
        return _lang_map(value, self.lang)

    def aligned(self, target_type: str, url_prefix: str | None = None) -> list[dict[str, Any]]:
        return _aligned(self.ach, target_type, url_prefix)

    def concept(self, items: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The first alignment of an element as a concept (its ``targetUrl`` and ``targetName``)."""
        return {"id": items[0]["id"], "label": self.lm(items[0]["label"])} if items else None


def _ob3_learner(n: _Ob3) -> dict[str, Any] | None:
    """Annex I 1, identification of the learner: ``cs.id`` and ``cs.identifier[]`` (the name is the plain
    ``identityType: name`` identity, model doc §7; the others are named by type)."""
    name = None
    ids = [n.cs["id"]] if n.cs.get("id") else []
    for ident in _list(n.cs.get("identifier")):
        if not isinstance(ident, dict):
            continue
        if ident.get("identityType") == "name" and not ident.get("hashed"):
            name = n.lm(ident.get("identityHash"))
        else:
            ids.append(f"{ident.get('identityType')}{' (hashed)' if ident.get('hashed') else ''}")
    return {"name": name, "identifiers": ids} if (name or ids) else None


def _ob3_title(n: _Ob3) -> dict[str, str] | None:
    """Annex I 2, title: ``ach.name``, else the credential's ``name``."""
    return n.lm(n.ach.get("name")) or n.lm(n.vc.get("name"))


def _ob3_languages(n: _Ob3) -> list[Any]:
    """The credential's languages (not an Annex I element): ``ach.inLanguage``."""
    return [n.lang] if n.lang != "und" else []


def _ob3_country_of(address: dict[str, Any]) -> dict[str, Any]:
    """``address.addressCountryCode`` (ISO 3166-1 α2) with its EU country IRI when it has one."""
    code = str(address["addressCountryCode"]).upper()
    country = {"code": code, "label": {"en": address.get("addressCountry") or code}}
    try:
        country["id"] = vocab.country(code).iri
    except KeyError:
        pass
    return country


def _ob3_country(n: _Ob3) -> dict[str, Any] | None:
    """Annex I 3, country or region of the issuer: ``address.addressCountryCode`` and ``addressRegion`` of
    the achievement's ``creator``, else of the ``issuer``."""
    country = region = None
    for profile in (n.creator, n.issuer):
        address = _obj(profile.get("address"))
        if address.get("addressCountryCode") and not country:
            country = _ob3_country_of(address)
        region = region or address.get("addressRegion")
    return {"country": country, "region": region} if (country or region) else None


def _ob3_awarding_bodies(n: _Ob3) -> list[Any] | None:
    """Annex I 4, awarding body: ``ach.creator.name``, else ``issuer.name``."""
    bodies = [name for name in (n.lm(n.creator.get("name")),) if name] or ([n.lm(n.issuer.get("name"))] if n.issuer.get("name") else [])
    return bodies or None


def _ob3_issuer(n: _Ob3) -> dict[str, str] | None:
    """The signing profile (not an Annex I element): ``issuer.name``."""
    return n.lm(n.issuer.get("name"))


def _ob3_date(n: _Ob3) -> Any:
    """Annex I 5, date of issuing: ``awardedDate``, else ``validFrom``, else ``issuanceDate``."""
    return n.vc.get("awardedDate") or n.vc.get("validFrom") or n.vc.get("issuanceDate")


def _ob3_learning_outcomes(n: _Ob3) -> list[dict[str, Any]] | None:
    """Annex I 6, learning outcomes: the bullets of ``ach.criteria.narrative`` with their ``ext:ESCOSkill``
    alignments (same ``targetName``), else the ESCO alignments alone, else the whole narrative."""
    esco = n.aligned("ext:ESCOSkill", "http://data.europa.eu/esco/skill/")
    narrative = n.narrative
    bullets = [line[2:].strip() for line in narrative.splitlines() if line.startswith("- ")]
    if bullets:
        outcomes = [{"text": n.lm(b), "escoSkills": [e["id"] for e in esco if e["label"] == b]} for b in bullets]
    elif esco:
        outcomes = [{"text": n.lm(e["label"] or e["id"]), "escoSkills": [e["id"]]} for e in esco]
    else:
        outcomes = [{"text": n.lm(narrative), "escoSkills": []}] if narrative else []
    return outcomes or None


def _ob3_workload(n: _Ob3) -> dict[str, Any] | None:
    """Annex I 7, notional workload: ``ach.creditsAvailable`` (else ``cs.creditsEarned``) with the credit
    system of an ``ext:CreditSystem`` alignment, and the hours of the narrative's "Notional workload: <h> hours"."""
    workload: dict[str, Any] = {}
    credits = n.ach.get("creditsAvailable", n.cs.get("creditsEarned"))
    if credits is not None:
        workload["credits"] = float(credits)
        system = n.aligned("ext:CreditSystem", f"{SNB}education-credit/")
        workload["system"] = (system[0].get("code") or system[0]["id"]) if system else None
    hours = re.search(r"Notional workload: (\d+(?:\.\d+)?) hours", n.narrative)
    if hours:
        workload["hours"] = float(hours.group(1))
    return workload or None


def _ob3_level(n: _Ob3) -> dict[str, Any] | None:
    """Annex I 8, level: the ``ext:EQFLevel``, ``ext:QFEHEACycle`` and ``ext:NQFLevel`` alignments."""
    level: dict[str, Any] = {}
    eqf = n.aligned("ext:EQFLevel", f"{SNB}eqf/")
    if eqf:
        tail = eqf[0]["id"].rsplit("/", 1)[-1]
        level["eqf"] = int(tail) if tail.isdigit() else eqf[0].get("code")
    cycle = n.aligned("ext:QFEHEACycle")
    if cycle:
        level["qfEheaCycle"] = cycle[0].get("code") or cycle[0]["label"]
    nqf = n.aligned("ext:NQFLevel", f"{SNB}qdr/")
    if nqf:
        level["nqf"] = [{"id": x["id"], "label": {"en": x["label"]}} for x in nqf]
    return level or None


def _ob3_fields(n: _Ob3) -> list[dict[str, Any]] | None:
    """ISCED-F fields of education (not an Annex I element, so not in :func:`facts`; the pages show them): the
    ``ext:ISCEDF`` alignments."""
    return [{"id": x["id"], "label": n.lm(x["label"])} for x in n.aligned("ext:ISCEDF", f"{SNB}isced-f/")] or None


def _ob3_assessment(n: _Ob3) -> dict[str, Any] | None:
    """Annex I 9, type of assessment: the ``ext:AssessmentType`` alignment (and ``ext:AssessmentMode``)."""
    a_type = n.concept(n.aligned("ext:AssessmentType", f"{SNB}assessment/"))
    return {"type": a_type, "title": None, "mode": n.concept(n.aligned("ext:AssessmentMode"))} if a_type else None


def _ob3_participation(n: _Ob3) -> dict[str, Any] | None:
    """Annex I 10, form of participation: the ``ext:FormOfParticipation`` alignment (else a learning-mode
    concept IRI that is not the assessment mode) and the ``ext:LearningSetting`` alignment."""
    mode = n.concept(n.aligned("ext:FormOfParticipation"))
    if mode is None:  # others' badges: a mode concept IRI not claimed by our assessment-mode alignment
        assessment_modes = n.aligned("ext:AssessmentMode")
        mode = n.concept([a for a in n.aligned("", f"{SNB}learning-assessment/") if a not in assessment_modes])
    if not mode:
        return None
    return {"mode": mode, "learningSetting": n.concept(n.aligned("ext:LearningSetting", f"{SNB}learning-setting/"))}


def _ob3_qa_type(code: Any) -> dict[str, str] | None:
    """The accreditation concept of a ``targetCode`` (a bare snb/accreditation code, not a path)."""
    return {"id": f"{SNB}accreditation/{code}"} if code and "/" not in str(code) else None


def _ob3_quality_assurance(n: _Ob3) -> list[dict[str, Any]] | None:
    """Annex I 11, type of quality assurance: the ``ext:QualityAssurance`` alignments (or those pointing
    into snb/accreditation)."""
    qa = []
    for a in _alignments(n.ach):
        if a.get("targetType") == "ext:QualityAssurance" or str(a.get("targetUrl", "")).startswith(f"{SNB}accreditation/"):
            qa.append(
                {
                    "type": _ob3_qa_type(a.get("targetCode")),
                    "title": n.lm(a.get("targetName")),
                    "description": a.get("targetDescription"),
                    "url": a.get("targetUrl"),
                }
            )
    return qa or None


def _ob3_prerequisites(n: _Ob3) -> dict[str, str] | None:
    """Annex I optional, prerequisites: the narrative's "Prerequisites: …" line."""
    prereq = re.search(r"^Prerequisites: (.+)$", n.narrative, re.MULTILINE)
    return n.lm(prereq.group(1)) if prereq else None


def _ob3_supervision(n: _Ob3) -> dict[str, Any] | None:
    """Annex I optional, supervision and identity verification: the ``ext:SupervisionVerification`` alignment."""
    return n.concept(n.aligned("ext:SupervisionVerification", f"{SNB}supervision-verification/"))


def _ob3_grade(n: _Ob3) -> dict[str, str] | None:
    """Annex I optional, grade achieved: the first ``cs.result[]`` ``value`` (or ``status``)."""
    results = [r for r in _list(n.cs.get("result")) if isinstance(r, dict)]
    grade = next((r.get("value") or r.get("status") for r in results if r.get("value") or r.get("status")), None)
    return n.lm(grade) if grade else None


def _ob3_stackability(n: _Ob3) -> dict[str, Any] | None:
    """Annex I optional, integration/stackability options: the ``ext:StackableTowards`` alignments, else the
    ids of ``ach.related``."""
    stack = n.aligned("ext:StackableTowards")
    related = [r for r in _list(n.ach.get("related")) if isinstance(r, dict)]
    if stack:
        return {"partOf": [{"id": s["id"], "title": n.lm(s["label"])} for s in stack]}
    return {"related": [r.get("id") for r in related]} if related else None


def _ob3_further_information(n: _Ob3) -> dict[str, Any] | None:
    """Annex I optional, further information: ``cs.narrative`` and the ``evidence[].id`` links."""
    links = [e.get("id") for e in _list(n.vc.get("evidence")) if isinstance(e, dict) and e.get("id")]
    notes = [note for note in (n.lm(n.cs.get("narrative")),) if note]
    return {"notes": notes, "links": links} if (notes or links) else None


#: (fact, reader) in the order of the facts, as ``_EDC_READERS``
_OB3_READERS: tuple[tuple[str, Callable[[_Ob3], Any]], ...] = (
    ("learner", _ob3_learner),
    ("title", _ob3_title),
    ("languages", _ob3_languages),
    ("country", _ob3_country),
    ("awardingBodies", _ob3_awarding_bodies),
    ("issuer", _ob3_issuer),
    ("date", _ob3_date),
    ("learningOutcomes", _ob3_learning_outcomes),
    ("workload", _ob3_workload),
    ("level", _ob3_level),
    ("assessment", _ob3_assessment),
    ("participation", _ob3_participation),
    ("qualityAssurance", _ob3_quality_assurance),
    ("prerequisites", _ob3_prerequisites),
    ("supervision", _ob3_supervision),
    ("grade", _ob3_grade),
    ("stackability", _ob3_stackability),
    ("furtherInformation", _ob3_further_information),
)


def _ob3_facts(vc: dict[str, Any]) -> dict[str, Any]:
    """The facts of an Open Badges 3.0 credential, one reader per fact, read in the order of ``_OB3_READERS``."""
    nodes = _Ob3(vc)
    f: dict[str, Any] = {"format": "ob3"}
    for key, read in _OB3_READERS:
        f[key] = read(nodes)
    return f


def facts(credential: dict[str, Any]) -> dict[str, Any]:
    """The normalised reading of an EDC or OB3 credential (ValueError for anything else)."""
    if not isinstance(credential, dict):
        raise ValueError("a credential is a JSON object")
    kind = credential_format(credential)
    if kind == "edc":
        return _edc_facts(credential)
    if kind == "ob3":
        return _ob3_facts(credential)
    raise ValueError("neither a Europass EDC nor an Open Badges 3.0 credential")


def _present(key: str, value: Any) -> bool:
    if value in (None, [], {}):
        return False
    if key == "learner":
        return bool(value.get("name") or value.get("identifiers"))
    if key == "country":
        return bool(value.get("country") or value.get("region"))
    return True


_FACT_FOR = {
    annex.LEARNER: "learner",
    annex.TITLE: "title",
    annex.COUNTRY: "country",
    annex.AWARDING_BODY: "awardingBodies",
    annex.DATE_OF_ISSUING: "date",
    annex.LEARNING_OUTCOMES: "learningOutcomes",
    annex.WORKLOAD: "workload",
    annex.LEVEL: "level",
    annex.ASSESSMENT: "assessment",
    annex.PARTICIPATION: "participation",
    annex.QUALITY_ASSURANCE: "qualityAssurance",
    annex.PREREQUISITES: "prerequisites",
    annex.SUPERVISION: "supervision",
    annex.GRADE: "grade",
    annex.STACKABILITY: "stackability",
    annex.FURTHER_INFORMATION: "furtherInformation",
}


def eu_completeness(credential: dict[str, Any]) -> list[ElementResult]:
    """Each of the 11 mandatory and 5 optional Annex I elements: present or missing, and the value found."""
    found = facts(credential)
    out = []
    for element in annex.ALL:
        value = found.get(_FACT_FOR[element])
        present = _present(_FACT_FOR[element], value)
        out.append(ElementResult(element.key, element.label, element.mandatory, present, value if present else None))
    return out


def mandatory_score(results: list[ElementResult]) -> tuple[int, int]:
    """(present, total) over the mandatory elements, e.g. (11, 11)."""
    mandatory = [r for r in results if r.mandatory]
    return sum(r.present for r in mandatory), len(mandatory)


def _label(node: dict[str, Any] | None) -> Any:
    """The ``label`` of a concept that may be missing."""
    return (node or {}).get("label")


def _summary_country(f: dict[str, Any]) -> dict[str, Any] | None:
    country = (f.get("country") or {}).get("country") or {}
    return {"code": country.get("code"), "label": country.get("label")} if country else None


def _summary_ects(workload: dict[str, Any]) -> Any:
    # OB3 creditsAvailable without an ECTS marker is often US credit hours: never call it ECTS
    return workload.get("credits") if workload.get("system") == "ECTS" else None


def _summary_assessment(f: dict[str, Any]) -> Any:
    a = f.get("assessment") or {}
    return (a.get("title") or _label(a.get("type"))) if a else None


def _summary_participation(f: dict[str, Any]) -> Any:
    p = f.get("participation") or {}
    return _label(p.get("mode")) if p else None


def _vocab_label(concept: dict[str, Any] | None, lang: str) -> str | None:
    """A concept's label in ``lang`` from the shipped vocabularies (app/credentials/vocab.py), else None."""
    iri = (concept or {}).get("id")
    return vocab.label(iri, lang) if isinstance(iri, str) else None


def vocabulary_labels(credential: dict[str, Any], lang: str) -> dict[str, Any]:
    """The coded elements of a credential named in ``lang`` by the EU vocabularies (microcred's shipped CSVs, CLDR
    for countries), whatever the format: ``assessment``, ``participation``, ``country`` (None where the vocabulary
    has no label in ``lang``: the caller keeps the credential's own), ``qualityAssurance`` (one per entry, None
    where the entry has its own title or an unknown type) and ``fieldsOfEducation`` (code and label, the label
    None for a code the vocabulary lacks). ValueError for neither EDC nor OB3, as :func:`facts`."""
    f = facts(credential)
    found = _edc_fields(_Edc.of(credential)) if f["format"] == "edc" else _ob3_fields(_Ob3(credential))
    fields = []
    for c in found or []:
        fields.append({"code": c["id"].rsplit("/", 1)[-1], "label": _vocab_label(c, lang) or localized_text(c.get("label"), lang)})
    return {
        "assessment": _vocab_label((f.get("assessment") or {}).get("type"), lang),
        "participation": _vocab_label((f.get("participation") or {}).get("mode"), lang),
        "country": _vocab_label((f.get("country") or {}).get("country"), lang),
        "qualityAssurance": [None if q.get("title") else _vocab_label(q.get("type"), lang) for q in f.get("qualityAssurance") or []],
        "fieldsOfEducation": fields,
    }


def localized_text(value: Any, lang: str) -> str | None:
    """One text of a language map: ``lang``, else English, else the first; a plain string as it is."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in (lang, "en"):
            if isinstance(value.get(key), str):
                return value[key]
        return next((v for v in value.values() if isinstance(v, str)), None)
    return None


def summary(credential: dict[str, Any]) -> dict[str, Any]:
    """The human-readable facts a credential page shows, in the credential's languages (maps kept)."""
    f = facts(credential)
    w = f.get("workload") or {}
    lvl = f.get("level") or {}
    return {
        "format": f["format"],
        "languages": f.get("languages") or [],
        "title": f.get("title"),
        "learnerName": (f.get("learner") or {}).get("name"),
        "awardingBody": (f.get("awardingBodies") or [None])[0],
        "awardingBodyCountry": _summary_country(f),
        "issuer": f.get("issuer"),
        "date": f.get("date"),
        "ects": _summary_ects(w),
        "workload": w or None,
        "eqf": lvl.get("eqf"),
        "level": lvl or None,
        "learningOutcomes": [lo["text"] for lo in (f.get("learningOutcomes") or [])],
        "assessment": _summary_assessment(f),
        "participation": _summary_participation(f),
        "qualityAssurance": [q.get("title") or _label(q.get("type")) for q in (f.get("qualityAssurance") or [])],
        "grade": f.get("grade"),
    }
