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

import re
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


# -- facts: one normalised reading per format ----------------------------------------------------------


def _edc_facts(vc: dict[str, Any]) -> dict[str, Any]:
    cs = _obj(vc.get("credentialSubject"))
    claim = _obj(cs.get("hasClaim"))
    spec = _obj(claim.get("specifiedBy"))
    process = _obj(claim.get("awardedBy"))
    bodies = [b for b in _list(process.get("awardingBody")) if isinstance(b, dict)]
    assessment = _obj(claim.get("provenBy"))
    a_spec = _obj(assessment.get("specifiedBy"))
    activity = _obj(claim.get("influencedBy"))
    display = _obj(vc.get("displayParameter"))
    issuer = _obj(vc.get("issuer"))
    f: dict[str, Any] = {"format": "edc"}

    name = _lang_map(cs.get("fullName"))
    if not name:
        given, family = _lang_map(cs.get("givenName")) or {}, _lang_map(cs.get("familyName")) or {}
        name = {k: f"{given[k]} {family.get(k, '')}".strip() for k in given} or None
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
    f["learner"] = {"name": name, "identifiers": ids} if (name or ids) else None

    f["title"] = _lang_map(claim.get("title")) or _lang_map(spec.get("title")) or _lang_map(display.get("title"))
    f["languages"] = [code for code in (_language_code(c["id"]) for c in (_concept(x) for x in _list(display.get("language"))) if c) if code]

    located = bodies or ([issuer] if issuer else [])
    country = region = None
    for org in located:
        loc = _obj(org.get("location"))
        country = country or _concept(_obj(loc.get("address")).get("countryCode"))
        region = region or _concept(loc.get("spatialCode"))
    if country:
        country["code"] = _country_code(country["id"])
    f["country"] = {"country": country, "region": region} if (country or region) else None
    f["awardingBodies"] = [n for n in (_lang_map(b.get("legalName")) for b in bodies) if n] or None
    f["issuer"] = _lang_map(issuer.get("legalName"))
    f["date"] = process.get("awardingDate") or vc.get("issued") or vc.get("issuanceDate") or vc.get("validFrom")

    outcomes = []
    for lo in _list(spec.get("learningOutcome")):
        if isinstance(lo, dict) and _lang_map(lo.get("title")):
            outcomes.append({"text": _lang_map(lo.get("title")),
                             "escoSkills": [c["id"] for c in (_concept(s) for s in _list(lo.get("relatedESCOSkill"))) if c]})
    summary = _note_text(spec.get("learningOutcomeSummary"))
    f["learningOutcomes"] = outcomes or ([{"text": summary, "escoSkills": []}] if summary else None)

    workload: dict[str, Any] = {}
    credit = _obj(spec.get("creditPoint"))
    if credit.get("point") is not None:
        framework = _concept(credit.get("framework")) or {}
        workload["credits"] = float(credit["point"])
        workload["system"] = {"6fcec5c5af": "ECTS", "60b314e826": "ECVET"}.get(str(framework.get("id", "")).rsplit("/", 1)[-1], framework.get("id"))
    if spec.get("volumeOfLearning"):
        workload["volumeOfLearning"] = spec["volumeOfLearning"]
        hours = re.fullmatch(r"PT(\d+(?:\.\d+)?)H", str(spec["volumeOfLearning"]))
        if hours:
            workload["hours"] = float(hours.group(1))
    f["workload"] = workload or None

    level: dict[str, Any] = {}
    eqf = _concept(spec.get("eqfLevel"))
    if eqf:
        level["eqf"] = int(eqf["id"].rsplit("/", 1)[-1]) if eqf["id"].rsplit("/", 1)[-1].isdigit() else eqf["id"]
    nqf = [c for c in (_concept(x) for x in _list(spec.get("nqfLevel"))) if c]
    if nqf:
        level["nqf"] = nqf
    for note in _list(spec.get("additionalNote")):
        text = (_note_text(note) or {}).get("en", "")
        if text.startswith("QF-EHEA cycle:"):
            level["qfEheaCycle"] = text.split(":", 1)[1].strip()
    f["level"] = level or None

    a_type = _concept(a_spec.get("dcType"))
    a_title = _lang_map(assessment.get("title")) or _lang_map(a_spec.get("title"))
    f["assessment"] = {"type": a_type, "title": a_title, "mode": _concept(a_spec.get("mode"))} if (a_type or a_title) else None

    mode = _concept(spec.get("mode")) or _concept(_obj(activity.get("specifiedBy")).get("mode"))
    setting = _concept(spec.get("learningSetting"))
    f["participation"] = {"mode": mode, "learningSetting": setting} if (mode or setting) else None

    qa = []
    for acc in _list(spec.get("accreditation")):
        if isinstance(acc, dict):
            qa.append({"type": _concept(acc.get("dcType")), "title": _lang_map(acc.get("title")),
                       "agency": _lang_map(_obj(acc.get("accreditingAgent")).get("legalName"))})
    f["qualityAssurance"] = qa or None

    f["prerequisites"] = _note_text(spec.get("entryRequirement"))
    f["supervision"] = _concept(assessment.get("idVerification"))
    f["grade"] = _note_text(assessment.get("grade"))
    stack: dict[str, Any] = {}
    if "isPartialQualification" in spec:
        stack["partial"] = bool(spec["isPartialQualification"])
    part_of = [{"id": p.get("id"), "title": _lang_map(p.get("title"))} for p in _list(spec.get("isPartOf")) if isinstance(p, dict)]
    if part_of:
        stack["partOf"] = part_of
    f["stackability"] = stack or None
    further = [n for n in (_note_text(x) for x in _list(claim.get("additionalNote"))) if n]
    links = [_obj(d).get("contentURL") for d in _list(claim.get("supplementaryDocument")) if _obj(d).get("contentURL")]
    f["furtherInformation"] = ({"notes": further, "links": links} if (further or links) else None)
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


def _ob3_facts(vc: dict[str, Any]) -> dict[str, Any]:
    cs = _obj(vc.get("credentialSubject"))
    ach = _obj(cs.get("achievement"))
    issuer = _obj(vc.get("issuer"))
    creator = _obj(ach.get("creator"))
    lang = ach.get("inLanguage") or "und"

    def lm(value: Any) -> dict[str, str] | None:
        return _lang_map(value, lang)

    f: dict[str, Any] = {"format": "ob3"}
    name = None
    ids = [cs["id"]] if cs.get("id") else []
    for ident in _list(cs.get("identifier")):
        if not isinstance(ident, dict):
            continue
        if ident.get("identityType") == "name" and not ident.get("hashed"):
            name = lm(ident.get("identityHash"))
        else:
            ids.append(f"{ident.get('identityType')}{' (hashed)' if ident.get('hashed') else ''}")
    f["learner"] = {"name": name, "identifiers": ids} if (name or ids) else None
    f["title"] = lm(ach.get("name")) or lm(vc.get("name"))
    f["languages"] = [lang] if lang != "und" else []

    country = region = None
    for profile in (creator, issuer):
        address = _obj(profile.get("address"))
        if address.get("addressCountryCode") and not country:
            code = str(address["addressCountryCode"]).upper()
            country = {"code": code, "label": {"en": address.get("addressCountry") or code}}
            try:
                country["id"] = vocab.country(code).iri
            except KeyError:
                pass
        region = region or address.get("addressRegion")
    f["country"] = {"country": country, "region": region} if (country or region) else None
    bodies = [n for n in (lm(creator.get("name")), ) if n] or ([lm(issuer.get("name"))] if issuer.get("name") else [])
    f["awardingBodies"] = bodies or None
    f["issuer"] = lm(issuer.get("name"))
    f["date"] = vc.get("awardedDate") or vc.get("validFrom") or vc.get("issuanceDate")

    esco = _aligned(ach, "ext:ESCOSkill", "http://data.europa.eu/esco/skill/")
    narrative = str(_obj(ach.get("criteria")).get("narrative") or "")
    bullets = [line[2:].strip() for line in narrative.splitlines() if line.startswith("- ")]
    if bullets:
        outcomes = [{"text": lm(b), "escoSkills": [e["id"] for e in esco if e["label"] == b]} for b in bullets]
    elif esco:
        outcomes = [{"text": lm(e["label"] or e["id"]), "escoSkills": [e["id"]]} for e in esco]
    else:
        outcomes = [{"text": lm(narrative), "escoSkills": []}] if narrative else []
    f["learningOutcomes"] = outcomes or None

    workload: dict[str, Any] = {}
    credits = ach.get("creditsAvailable", cs.get("creditsEarned"))
    if credits is not None:
        workload["credits"] = float(credits)
        system = _aligned(ach, "ext:CreditSystem", f"{SNB}education-credit/")
        workload["system"] = (system[0].get("code") or system[0]["id"]) if system else None
    hours = re.search(r"Notional workload: (\d+(?:\.\d+)?) hours", narrative)
    if hours:
        workload["hours"] = float(hours.group(1))
    f["workload"] = workload or None

    level: dict[str, Any] = {}
    eqf = _aligned(ach, "ext:EQFLevel", f"{SNB}eqf/")
    if eqf:
        tail = eqf[0]["id"].rsplit("/", 1)[-1]
        level["eqf"] = int(tail) if tail.isdigit() else eqf[0].get("code")
    cycle = _aligned(ach, "ext:QFEHEACycle")
    if cycle:
        level["qfEheaCycle"] = cycle[0].get("code") or cycle[0]["label"]
    nqf = _aligned(ach, "ext:NQFLevel", f"{SNB}qdr/")
    if nqf:
        level["nqf"] = [{"id": n["id"], "label": {"en": n["label"]}} for n in nqf]
    f["level"] = level or None

    def concept_of(items: list[dict[str, Any]]) -> dict[str, Any] | None:
        return {"id": items[0]["id"], "label": lm(items[0]["label"])} if items else None

    a_type = concept_of(_aligned(ach, "ext:AssessmentType", f"{SNB}assessment/"))
    f["assessment"] = {"type": a_type, "title": None, "mode": concept_of(_aligned(ach, "ext:AssessmentMode"))} if a_type else None
    mode = concept_of(_aligned(ach, "ext:FormOfParticipation"))
    if mode is None:  # others' badges: a mode concept IRI not claimed by our assessment-mode alignment
        mode = concept_of([a for a in _aligned(ach, "", f"{SNB}learning-assessment/") if a not in _aligned(ach, "ext:AssessmentMode")])
    f["participation"] = {"mode": mode, "learningSetting": concept_of(_aligned(ach, "ext:LearningSetting", f"{SNB}learning-setting/"))} if mode else None
    qa = []
    for a in _alignments(ach):
        if a.get("targetType") == "ext:QualityAssurance" or str(a.get("targetUrl", "")).startswith(f"{SNB}accreditation/"):
            code = a.get("targetCode")
            qa_type = vocab.Concept(f"{SNB}accreditation/{code}", "", "") if code and "/" not in str(code) else None
            qa.append({"type": {"id": qa_type.iri} if qa_type else None, "title": lm(a.get("targetName")),
                       "description": a.get("targetDescription"), "url": a.get("targetUrl")})
    f["qualityAssurance"] = qa or None

    prereq = re.search(r"^Prerequisites: (.+)$", narrative, re.MULTILINE)
    f["prerequisites"] = lm(prereq.group(1)) if prereq else None
    f["supervision"] = concept_of(_aligned(ach, "ext:SupervisionVerification", f"{SNB}supervision-verification/"))
    results = [r for r in _list(cs.get("result")) if isinstance(r, dict)]
    grade = next((r.get("value") or r.get("status") for r in results if r.get("value") or r.get("status")), None)
    f["grade"] = lm(grade) if grade else None
    stack = _aligned(ach, "ext:StackableTowards")
    related = [r for r in _list(ach.get("related")) if isinstance(r, dict)]
    f["stackability"] = ({"partOf": [{"id": s["id"], "title": lm(s["label"])} for s in stack]} if stack
                         else {"related": [r.get("id") for r in related]} if related else None)
    links = [e.get("id") for e in _list(vc.get("evidence")) if isinstance(e, dict) and e.get("id")]
    notes = [n for n in (lm(cs.get("narrative")),) if n]
    f["furtherInformation"] = {"notes": notes, "links": links} if (notes or links) else None
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
    annex.LEARNER: "learner", annex.TITLE: "title", annex.COUNTRY: "country", annex.AWARDING_BODY: "awardingBodies",
    annex.DATE_OF_ISSUING: "date", annex.LEARNING_OUTCOMES: "learningOutcomes", annex.WORKLOAD: "workload",
    annex.LEVEL: "level", annex.ASSESSMENT: "assessment", annex.PARTICIPATION: "participation",
    annex.QUALITY_ASSURANCE: "qualityAssurance", annex.PREREQUISITES: "prerequisites", annex.SUPERVISION: "supervision",
    annex.GRADE: "grade", annex.STACKABILITY: "stackability", annex.FURTHER_INFORMATION: "furtherInformation",
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


def summary(credential: dict[str, Any]) -> dict[str, Any]:
    """The human-readable facts a credential page shows, in the credential's languages (maps kept)."""
    f = facts(credential)
    country = (f.get("country") or {}).get("country") or {}
    a = f.get("assessment") or {}
    p = f.get("participation") or {}
    w = f.get("workload") or {}
    lvl = f.get("level") or {}
    return {
        "format": f["format"],
        "languages": f.get("languages") or [],
        "title": f.get("title"),
        "learnerName": (f.get("learner") or {}).get("name"),
        "awardingBody": (f.get("awardingBodies") or [None])[0],
        "awardingBodyCountry": {"code": country.get("code"), "label": country.get("label")} if country else None,
        "issuer": f.get("issuer"),
        "date": f.get("date"),
        # OB3 creditsAvailable without an ECTS marker is often US credit hours: never call it ECTS
        "ects": w.get("credits") if w.get("system") == "ECTS" else None,
        "workload": w or None,
        "eqf": lvl.get("eqf"),
        "level": lvl or None,
        "learningOutcomes": [lo["text"] for lo in (f.get("learningOutcomes") or [])],
        "assessment": (a.get("title") or (a.get("type") or {}).get("label")) if a else None,
        "participation": (p.get("mode") or {}).get("label") if p else None,
        "qualityAssurance": [q.get("title") or (q.get("type") or {}).get("label") for q in (f.get("qualityAssurance") or [])],
        "grade": f.get("grade"),
    }
