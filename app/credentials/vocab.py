"""EU code lists used by the micro-credential model (microcredential-model.md §3).

The CSV snapshots in ``vocabularies/`` ship with the package (taken from the European Learning Model,
see ``vocabularies/README.md``); nothing is fetched at run time. Each CSV has a ``label_en`` column and any
number of ``label_<lang>`` columns (microcred ships ``label_fr`` and ``label_de``, its own translations; an
operator may drop in the EU's official multilingual export with the same columns): :func:`label` reads
them all. The country and language tables carry English only; their other languages come from CLDR
(Babel's territory and language names). Each list maps the short enum the
neutral input uses (``"online"``, ``"artefact-assessment"``…) to the EU Vocabularies concept IRI the
EDC rendering carries and that OB3 alignments point at, so a verifier can map one format onto the other.

ISO code translation (ISO 3166-1 α2 → EU country table α3, ISO 639-1 → EU language table 639-2/T)
uses pycountry for the ISO side and checks the result against the EU authority tables, because the EU
tables are what the EDC SHACL shapes accept (``inScheme`` of the authority table).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry
from babel import Locale, UnknownLocaleError

VOCAB_DIR = Path(__file__).resolve().parent / "vocabularies"
SNB = "http://data.europa.eu/snb/"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
COUNTRY_SCHEME = AUTHORITY + "country"
LANGUAGE_SCHEME = AUTHORITY + "language"
ESCO_SKILL_SCHEME = "http://data.europa.eu/esco/concept-scheme/skills"


@dataclass(frozen=True)
class Concept:
    """One controlled-vocabulary concept: its IRI, the scheme IRI the EDC shapes check, an English label."""

    iri: str
    scheme: str
    label: str
    notation: str | None = None  # set for authority tables (EU samples carry "country"/"language")

    def label_in(self, lang: str) -> str:
        """The label in ``lang`` (:func:`label`), else the English one."""
        return label(self.iri, lang) or self.label


def _snb_scheme(list_name: str) -> str:
    # snb concept schemes are named "<list>/25831c2" (the EDC SHACL sh:hasValue of skos:inScheme)
    return f"{SNB}{list_name}/25831c2"


@lru_cache(maxsize=None)
def _table(name: str) -> dict[str, dict[str, str]]:
    """IRI → {language: label} of one shipped CSV: every ``label_<lang>`` column, empty cells left out, so a
    missing translation falls back (in :meth:`Concept.label_in`) instead of showing an empty label."""
    with (VOCAB_DIR / name).open(newline="", encoding="utf-8") as fh:
        return {
            row["uri"]: {key.removeprefix("label_").lower(): text for key, text in row.items() if key and key.startswith("label_") and text}
            for row in csv.DictReader(fh)
        }


@lru_cache(maxsize=None)
def _csv(name: str) -> dict[str, str]:
    """IRI → English label of one shipped CSV (empty when the CSV has none, as for most languages)."""
    return {iri: labels.get("en", "") for iri, labels in _table(name).items()}


@lru_cache(maxsize=None)
def _index() -> dict[str, dict[str, str]]:
    """Every shipped concept IRI → its labels, over all the CSVs."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(VOCAB_DIR.glob("*.csv")):
        for iri, labels in _table(path.name).items():
            out.setdefault(iri, {}).update(labels)
    return out


@lru_cache(maxsize=4096)
def label(iri: str, lang: str) -> str | None:
    """The label of a shipped concept in ``lang`` (a primary language subtag, ``"fr"``), or None.

    The CSV's ``label_<lang>`` first; for the EU country and language authority tables, whose snapshots are
    English only, CLDR's name of the territory or language (Babel). None when neither has one (the caller
    falls back to the English label or the credential's own), and for an IRI no shipped vocabulary holds.
    """
    if not isinstance(iri, str) or not isinstance(lang, str) or len(lang) > 8:
        return None
    lang = lang.lower()
    labels = _index().get(iri)
    if labels is None:
        return None
    return labels.get(lang) or _cldr_name(iri, lang)


#: EU authority alpha-3 codes whose CLDR territory is not pycountry's alpha-2 (the EU itself, Kosovo)
_CLDR_TERRITORY = {"EUR": "EU", "XKX": "XK", "1A0": "XK", "CPT": "CP", "FQ0": "TF"}


def _cldr_name(iri: str, lang: str) -> str | None:
    """CLDR's name of an EU authority country (``…/country/FRA``) or language (``…/language/DEU``)."""
    try:
        locale = Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        return None
    code = iri.rsplit("/", 1)[-1]
    if iri.startswith(COUNTRY_SCHEME + "/"):
        territory = _CLDR_TERRITORY.get(code)
        if territory is None:
            found = pycountry.countries.get(alpha_3=code)
            territory = found.alpha_2 if found else None
        return locale.territories.get(territory) if territory else None
    if iri.startswith(LANGUAGE_SCHEME + "/"):
        found = pycountry.languages.get(alpha_3=code.lower())
        # CLDR names a language by its 639-1 code when it has one, else by its three-letter code
        return locale.languages.get(getattr(found, "alpha_2", None) or code.lower())
    return None


def _enum(list_name: str, csv_name: str, codes: dict[str, str]) -> dict[str, Concept]:
    labels = _csv(csv_name)
    out: dict[str, Concept] = {}
    for key, code in codes.items():
        iri = f"{SNB}{list_name}/{code}"
        if iri not in labels:  # a typo in a table below must fail loudly, never emit an unknown concept
            raise RuntimeError(f"{iri} is not in {csv_name}")
        out[key] = Concept(iri, _snb_scheme(list_name), labels[iri])
    return out


# -- §3 translation tables: input enum → concept code -------------------------------------------------

ASSESSMENT_TYPE_CODES = {
    "written-examination": "6e6cb2cc78",
    "oral-examination": "d30284d7df",
    "practical-assessment": "6a4db9f11d",
    "portfolio": "4f03b91c0e",
    "project-work": "795dac4096",
    "artefact-assessment": "de4d165a6c",
    "quiz": "b1b68f6735",
    "continuous-evaluation": "3484bd7e51",
    "peer-assessment": "19a2e5e671",
    "peer-review": "812e3b0ae1",
    "marked-assignment": "2939dae15f",
    "group-performance": "56539a6507",
    "problem-based-learning": "c4256a2726",
    "level-of-attendance": "7331eb4762",
}
MODE_CODES = {
    "online": "920fbb3cbe",
    "presential": "9191af2ed9",
    "blended": "e92d221e4d",
    "workbased": "729f3bed4b",
    "project-based": "7813801c77",
    "research-lab-based": "ed4c557045",
}
LEARNING_SETTING_CODES = {"formal": "6fd4685715", "non-formal": "e207a81fc7"}
ACTIVITY_TYPE_CODES = {
    "classroom-coursework": "ff436ea7c9",
    "e-learning-coursework": "bf2e3a7bae",
    "lab-simulation-practice": "3c8bd58d62",
    "workshop-seminar-conference": "efff75e10a",
    "internship": "bf5588ff84",
    "apprenticeship": "d46a826a39",
    "job-experience": "4357e0e681",
    "volunteering": "59eaf34fab",
    "research": "a7e556215a",
    "self-motivated-study": "b660f5dcea",
    "educational-programme": "fd33e234ae",
}
ACCREDITATION_TYPE_CODES = {
    "institutional-quality-assurance": "bb4618238e",
    "programme-quality-assurance": "820101cba6",
    "institutional-licence": "003293d2ce",
    "programme-licence": "e57dddfcf3",
}
LEARNING_OPPORTUNITY_CODES = {
    "short-learning-programme": "74a4a268e8",
    "course": "05053c1cbe",
    "mooc": "17744a2647",
    "programme-module": "0f7dac46ca",
    "class": "7e1ac538db",
}
CREDIT_SYSTEM_CODES = {"ECTS": "6fcec5c5af", "ECVET": "60b314e826"}
REUSABILITY_LEVELS = ("transversal", "cross-sector", "sector-specific", "occupation-specific")
# Two of the four supervision codes are confirmed by EC samples; the other two come from third-party code
# (vocabularies/edc-code-derived.csv marks them UNVERIFIED): confirm against EU Vocabularies before go-live.
SUPERVISION_CODES = {
    "unsupervised-no-id-verification": "c598449d64",
    "supervised-with-id-verification": "70be69aaf9",
    "unsupervised-with-id-verification": "df2880c5cb",
    "supervised-no-id-verification": "44314532f9",
}
SUPERVISION_LABELS = {
    "unsupervised-no-id-verification": "Unsupervised without ID Verification",
    "supervised-with-id-verification": "Supervised with ID Verification",
    "unsupervised-with-id-verification": "Unsupervised with ID Verification",
    "supervised-no-id-verification": "Supervised without ID Verification",
}
#: QF-EHEA cycle → the EQF level it corresponds to (model doc §6.3).
QF_EHEA_CYCLE_EQF = {"short-cycle": 5, "first": 6, "second": 7, "third": 8}


@lru_cache(maxsize=None)
def assessment_types() -> dict[str, Concept]:
    return _enum("assessment", "europass-learning-assessment-types.csv", ASSESSMENT_TYPE_CODES)


@lru_cache(maxsize=None)
def modes() -> dict[str, Concept]:
    """Form of participation / assessment mode (``snb/learning-assessment``)."""
    return _enum("learning-assessment", "europass-modes.csv", MODE_CODES)


@lru_cache(maxsize=None)
def learning_settings() -> dict[str, Concept]:
    return _enum("learning-setting", "europass-learning-setting-types.csv", LEARNING_SETTING_CODES)


@lru_cache(maxsize=None)
def activity_types() -> dict[str, Concept]:
    return _enum("learning-activity", "europass-learning-activity-types.csv", ACTIVITY_TYPE_CODES)


@lru_cache(maxsize=None)
def accreditation_types() -> dict[str, Concept]:
    return _enum("accreditation", "europass-accreditation-types.csv", ACCREDITATION_TYPE_CODES)


@lru_cache(maxsize=None)
def learning_opportunity_types() -> dict[str, Concept]:
    return _enum("learning-opportunity", "europass-learning-opportunity-types.csv", LEARNING_OPPORTUNITY_CODES)


@lru_cache(maxsize=None)
def credit_systems() -> dict[str, Concept]:
    return _enum("education-credit", "credit-points.csv", CREDIT_SYSTEM_CODES)


@lru_cache(maxsize=None)
def reusability_levels() -> dict[str, Concept]:
    return _enum("skill-reuse-level", "skill-reuse-levels.csv", {k: k for k in REUSABILITY_LEVELS})


@lru_cache(maxsize=None)
def supervision_types() -> dict[str, Concept]:
    scheme = _snb_scheme("supervision-verification")
    return {key: Concept(f"{SNB}supervision-verification/{code}", scheme, SUPERVISION_LABELS[key]) for key, code in SUPERVISION_CODES.items()}


def eqf_level(level: int) -> Concept:
    iri = f"{SNB}eqf/{level}"
    labels = _csv("eqf.csv")
    if iri not in labels:
        raise KeyError(f"EQF level {level} does not exist (1–8)")
    return Concept(iri, _snb_scheme("eqf"), labels[iri])


@lru_cache(maxsize=None)
def isced_f() -> dict[str, Concept]:
    """ISCED-F 2013 code (2–4 digits) → concept (220 codes)."""
    prefix = f"{SNB}isced-f/"
    return {iri[len(prefix) :]: Concept(iri, _snb_scheme("isced-f"), label) for iri, label in _csv("isced-f.csv").items()}


@lru_cache(maxsize=None)
def nqf_levels() -> dict[str, Concept]:
    """NQF level IRI (``snb/qdr/…``) → concept."""
    return {iri: Concept(iri, _snb_scheme("qdr"), label) for iri, label in _csv("nqf.csv").items()}


# Alpha-2 codes the EU uses that ISO does not (EL for Greece, UK for the United Kingdom, EU itself).
_EU_ALPHA2 = {"EL": "GRC", "UK": "GBR", "EU": "EUR"}


@lru_cache(maxsize=None)
def country(alpha2: str) -> Concept:
    """ISO 3166-1 α2 → EU authority country concept (``…/authority/country/<α3>``); KeyError if unknown."""
    code = alpha2.upper()
    alpha3 = _EU_ALPHA2.get(code)
    if alpha3 is None:
        found = pycountry.countries.get(alpha_2=code) if len(code) == 2 and code.isalpha() else None
        if found is None:
            raise KeyError(f"{alpha2!r} is not an ISO 3166-1 alpha-2 country code")
        alpha3 = found.alpha_3
    iri = f"{COUNTRY_SCHEME}/{alpha3}"
    labels = _csv("country.csv")
    if iri not in labels:
        raise KeyError(f"{alpha2!r} ({alpha3}) is not in the EU country table")
    return Concept(iri, COUNTRY_SCHEME, labels[iri], notation="country")


@lru_cache(maxsize=None)
def language(iso639_1: str) -> Concept:
    """ISO 639-1 → EU authority language concept (``…/authority/language/<639-2/T upper>``)."""
    found = pycountry.languages.get(alpha_2=iso639_1.lower()) if len(iso639_1) == 2 and iso639_1.isalpha() else None
    if found is None:
        raise KeyError(f"{iso639_1!r} is not an ISO 639-1 language code")
    # pycountry's alpha_3 is ISO 639-3, which equals 639-2/T for every language that has a 639-1 code
    iri = f"{LANGUAGE_SCHEME}/{found.alpha_3.upper()}"
    labels = _csv("language.csv")
    if iri not in labels:
        raise KeyError(f"{iso639_1!r} is not in the EU language table")
    return Concept(iri, LANGUAGE_SCHEME, labels[iri] or found.name, notation="language")


def is_country(alpha2: str) -> bool:
    try:
        country(alpha2)
    except KeyError:
        return False
    return True


def is_language(code: str) -> bool:
    try:
        language(code)
    except KeyError:
        return False
    return True
