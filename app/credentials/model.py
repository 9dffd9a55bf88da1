"""The neutral micro-credential input record (microcredential-model.md §2) and its validation (§6).

A provider sends ISO codes and small enums; the renderers translate them into EU concept IRIs (EDC) or
alignments (OB3). Every one of the 11 Annex I mandatory elements is required here; "level" may only be
skipped with an explicit ``level.notApplicable: true`` (Annex I: "if applicable").

``validate_input`` reports *every* failing field at once, each as a JSON pointer into the request plus
the Annex I element it belongs to, so a provider fixes a record in one round trip.

A **specification** is the offering part of the record (title, outcomes, workload, level, assessment
and participation design, QA, …): a provider publishes it once, then issues with only per-learner data
(learner, date, grade, activity dates); ``issue_from_specification`` merges the two.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.credentials import vocab
from app.credentials.annex import element_for_pointer
from app.errors import MalformedValueError

ECTS_MIN_DEFAULT = 1.0  # MICROBOL Common Framework (2022), footnote 5: 1 to 59 ECTS
ECTS_MAX_DEFAULT = 59.0

ESCO_SKILL_RE = re.compile(r"^http://data\.europa\.eu/esco/skill/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_HTTP_RE = re.compile(r"^https?://[^\s/]+[^\s]*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ISCED_RE = re.compile(r"^[0-9]{2,4}$")


# -- scalar types --------------------------------------------------------------------------------------


def _cross(field: str, message: str) -> PydanticCustomError:
    """An error raised by a model-level rule that belongs to one field; ``field`` extends the pointer."""
    return PydanticCustomError("cross_field", "{message}", {"field": field, "message": message})


def _check_language(code: str) -> str:
    if not vocab.is_language(code):
        raise ValueError(f"{code!r} is not an ISO 639-1 language code in the EU language table")
    return code


def _check_country(code: str) -> str:
    if not vocab.is_country(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code in the EU country table")
    return code.upper()


def _check_uri(value: str) -> str:
    if not _URI_RE.match(value):
        raise ValueError("must be an absolute URI (a DID, https URL or URN)")
    return value


def _check_http(value: str) -> str:
    if not _HTTP_RE.match(value):
        raise ValueError("must be an http(s) URL")
    return value


def _check_email(value: str) -> str:
    if not _EMAIL_RE.match(value):
        raise ValueError("must be an e-mail address")
    return value


def _check_esco(value: str) -> str:
    if not ESCO_SKILL_RE.match(value):
        raise ValueError("must be an ESCO skill IRI http://data.europa.eu/esco/skill/<uuid>")
    return value


def _check_isced(value: str) -> str:
    if not _ISCED_RE.match(value) or value not in vocab.isced_f():
        raise ValueError(f"{value!r} is not an ISCED-F 2013 field of education code")
    return value


def _check_nqf(value: str) -> str:
    if value not in vocab.nqf_levels():
        raise ValueError(f"{value!r} is not a national qualifications framework level IRI (snb/qdr)")
    return value


def _check_lang_map(value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    """§1.3 / §6.6: a language map is non-empty and holds the record's primaryLanguage."""
    if not value:
        raise ValueError("a language map needs at least one language")
    primary = (info.context or {}).get("primaryLanguage")
    if isinstance(primary, str) and vocab.is_language(primary) and primary not in value:
        raise PydanticCustomError("primary_language_missing", "must contain the primary language '{lang}'", {"lang": primary})
    return value


def _check_past(value: date | datetime, info: ValidationInfo) -> date | datetime:
    now: datetime = (info.context or {}).get("now") or datetime.now(UTC)
    if isinstance(value, datetime):
        if value > now:
            raise ValueError("must not be in the future")
    elif value >= now.date():
        raise ValueError("must be in the past")
    return value


def _check_future(value: datetime, info: ValidationInfo) -> datetime:
    now: datetime = (info.context or {}).get("now") or datetime.now(UTC)
    if value <= now:
        raise ValueError("must be in the future")
    return value


# The ``json_schema_extra`` below only describe the checks the AfterValidators make (the OpenAPI document's
# schemas are this module's ``model_json_schema``: app/api/contract.py); validation is the validators' alone.
NonEmpty = Annotated[str, Field(min_length=1, max_length=10_000)]
LanguageCode = Annotated[
    str,
    Field(pattern=r"^[a-z]{2}$", description=f"ISO 639-1 code of a language in the EU language table (vocabulary {vocab.LANGUAGE_SCHEME})"),
    AfterValidator(_check_language),
]
CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z]{2}$",
        description=f"ISO 3166-1 alpha-2 code (EL, UK and EU too) of a country in the EU country table (vocabulary {vocab.COUNTRY_SCHEME})",
    ),
    AfterValidator(_check_country),
]


def _lang_map_schema(schema: dict[str, Any]) -> None:
    """A language map's keys as ``propertyNames`` and its texts as ``additionalProperties``: pydantic's
    ``patternProperties`` alone allow any other key, and client generators drop patternProperties' values."""
    patterns = schema.pop("patternProperties", None)
    if patterns:
        ((pattern, text),) = patterns.items()
        schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
        schema["additionalProperties"] = text


LangString = Annotated[
    dict[LanguageCode, NonEmpty],
    AfterValidator(_check_lang_map),
    Field(description="Language map: ISO 639-1 code → text; it must hold the record's primaryLanguage", json_schema_extra=_lang_map_schema),
]
Uri = Annotated[str, Field(max_length=2048, json_schema_extra={"format": "uri"}), AfterValidator(_check_uri)]
HttpUrl = Annotated[str, Field(max_length=2048, json_schema_extra={"format": "uri", "pattern": r"^https?://[^\s/]+[^\s]*$"}), AfterValidator(_check_http)]
Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(_check_email)]
EscoSkill = Annotated[
    str,
    AfterValidator(_check_esco),
    Field(json_schema_extra={"format": "uri", "pattern": ESCO_SKILL_RE.pattern, "description": f"an ESCO skill IRI (vocabulary {vocab.ESCO_SKILL_SCHEME})"}),
]
IscedCode = Annotated[
    str,
    AfterValidator(_check_isced),
    Field(
        json_schema_extra={"pattern": _ISCED_RE.pattern, "description": f"an ISCED-F 2013 field of education code (vocabulary {vocab.SNB}isced-f, 2–4 digits)"}
    ),
]
NqfLevel = Annotated[
    str,
    AfterValidator(_check_nqf),
    Field(json_schema_extra={"format": "uri", "description": f"a national qualifications framework level IRI (vocabulary {vocab.SNB}qdr)"}),
]
PastDate = Annotated[date, AfterValidator(_check_past)]
PastDateTime = Annotated[AwareDatetime, AfterValidator(_check_past)]
FutureDateTime = Annotated[AwareDatetime, AfterValidator(_check_future)]

AssessmentType = Literal[tuple(vocab.ASSESSMENT_TYPE_CODES)]  # type: ignore[valid-type]
Mode = Literal[tuple(vocab.MODE_CODES)]  # type: ignore[valid-type]
LearningSetting = Literal[tuple(vocab.LEARNING_SETTING_CODES)]  # type: ignore[valid-type]
ActivityType = Literal[tuple(vocab.ACTIVITY_TYPE_CODES)]  # type: ignore[valid-type]
QualityAssuranceType = Literal[tuple(vocab.ACCREDITATION_TYPE_CODES)]  # type: ignore[valid-type]
LearningOpportunityType = Literal[tuple(vocab.LEARNING_OPPORTUNITY_CODES)]  # type: ignore[valid-type]
Supervision = Literal[tuple(vocab.SUPERVISION_CODES)]  # type: ignore[valid-type]
ReusabilityLevel = Literal[vocab.REUSABILITY_LEVELS]  # type: ignore[valid-type]
QfEheaCycle = Literal[tuple(vocab.QF_EHEA_CYCLE_EQF)]  # type: ignore[valid-type]


class _Record(BaseModel):
    # Unknown fields are refused: a misspelt optional field would otherwise vanish from the credential.
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- 1. learner ----------------------------------------------------------------------------------------


class NationalId(_Record):
    value: NonEmpty
    country: CountryCode


class LearnerIdentifier(_Record):
    scheme: NonEmpty
    value: NonEmpty


class Learner(_Record):
    """Annex I element 1, identification of the learner."""

    id: Uri | None = None
    givenName: LangString
    familyName: LangString
    fullName: LangString | None = None
    dateOfBirth: PastDate | None = None
    email: Email | None = None
    nationalId: NationalId | None = None
    identifiers: list[LearnerIdentifier] = []

    @model_validator(mode="after")
    def _identified(self) -> Learner:
        # §2 rule: names alone do not identify; OB3 also needs cs.id or ≥1 identifier
        if not (self.id or self.email or self.nationalId or self.identifiers or self.dateOfBirth):
            raise _cross("", "at least one of id, email, nationalId, identifiers or dateOfBirth is required")
        return self

    def display_name(self, lang: str) -> str:
        if self.fullName:
            return self.fullName.get(lang) or next(iter(self.fullName.values()))
        given = self.givenName.get(lang) or next(iter(self.givenName.values()))
        family = self.familyName.get(lang) or next(iter(self.familyName.values()))
        return f"{given} {family}"

    def full_name_map(self) -> dict[str, str]:
        if self.fullName:
            return dict(self.fullName)
        return {lang: self.display_name(lang) for lang in self.givenName}


# -- 3./4. awarding body -------------------------------------------------------------------------------


class OrganisationIdentifier(_Record):
    """``national-register`` → EDC registration, ``VAT`` → vatIdentifier, ``eIDAS`` and others → identifier."""

    scheme: NonEmpty
    value: NonEmpty
    country: CountryCode | None = None


class AwardingBody(_Record):
    """Annex I elements 4 (awarding body) and 3 (country or region)."""

    id: Uri | None = None
    legalName: LangString
    country: CountryCode
    region: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{2,40}$")] | None = None
    address: NonEmpty | None = None
    homepage: HttpUrl | None = None
    email: Email | None = None
    identifiers: list[OrganisationIdentifier] = []


# -- 6. learning outcomes ------------------------------------------------------------------------------


class LearningOutcome(_Record):
    text: LangString
    escoSkills: list[EscoSkill] = []
    otherSkills: list[Uri] = []
    reusabilityLevel: ReusabilityLevel | None = None


# -- 7. workload ---------------------------------------------------------------------------------------


class Workload(_Record):
    """Annex I element 7, notional workload "in ECTS wherever possible"."""

    creditSystem: Literal["ECTS", "ECVET"] = "ECTS"
    ects: float | None = None
    hours: Annotated[int, Field(ge=1, le=2000)] | None = None
    maximumDurationMonths: Annotated[int, Field(ge=1, le=120)] | None = None

    @field_validator("ects")
    @classmethod
    def _ects_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return value
        ctx = info.context or {}
        low = ctx.get("ects_min", ECTS_MIN_DEFAULT)
        high = ctx.get("ects_max", ECTS_MAX_DEFAULT)
        if not math.isfinite(value * 2):  # 1e308 doubles to infinity, which int() cannot take (a 500 before)
            raise ValueError("must be a finite number")
        if (value * 2) != int(value * 2):
            raise ValueError("must be a multiple of 0.5")
        if info.data.get("creditSystem", "ECTS") == "ECTS" and not (low <= value <= high):
            raise ValueError(f"must be between {low:g} and {high:g} ECTS for a micro-credential")
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @model_validator(mode="after")
    def _ects_or_hours(self) -> Workload:
        if self.ects is None and self.hours is None:
            raise _cross("ects", "ects or hours is required (ects preferred)")
        return self


# -- 8. level ------------------------------------------------------------------------------------------


class Level(_Record):
    """Annex I element 8 (EQF, QF-EHEA cycle, NQF), "if applicable"."""

    eqf: Annotated[int, Field(ge=1, le=8)] | None = None
    qfEheaCycle: QfEheaCycle | None = None
    nqf: list[NqfLevel] = []
    notApplicable: Literal[True] | None = None

    @model_validator(mode="after")
    def _level_rules(self) -> Level:
        has_level = self.eqf is not None or self.qfEheaCycle is not None or bool(self.nqf)
        if self.notApplicable and has_level:
            raise _cross("notApplicable", "notApplicable cannot be combined with a level")
        if not self.notApplicable and not has_level:
            raise _cross("eqf", "give eqf (1–8), qfEheaCycle or nqf, or set notApplicable: true")
        if self.qfEheaCycle and self.eqf is not None and vocab.QF_EHEA_CYCLE_EQF[self.qfEheaCycle] != self.eqf:
            expected = vocab.QF_EHEA_CYCLE_EQF[self.qfEheaCycle]
            raise _cross("qfEheaCycle", f"the {self.qfEheaCycle} cycle corresponds to EQF {expected}, not {self.eqf}")
        return self


# -- 9. assessment (+ optional supervision, grade) -----------------------------------------------------


class GradingScheme(_Record):
    title: LangString
    description: LangString | None = None


class GradeSpecification(_Record):
    """The part of a grade that belongs to the offering: its grading scheme."""

    scheme: GradingScheme | None = None


class Grade(GradeSpecification):
    """Optional Annex I element "grade achieved"; EDC needs one whenever an assessment exists (§6.5)."""

    value: NonEmpty = "Pass"
    status: Literal["pass", "fail"] | None = None


class AssessmentSpecification(_Record):
    type: AssessmentType
    title: LangString | None = None
    mode: Mode | None = None
    supervision: Supervision | None = None
    grade: GradeSpecification | None = None


class Assessment(AssessmentSpecification):
    """Annex I element 9, type of assessment."""

    date: AwareDatetime | None = None
    grade: Grade | None = None


# -- 10. participation ---------------------------------------------------------------------------------


class ParticipationSpecification(_Record):
    mode: Mode
    learningSetting: LearningSetting | None = None
    activityType: ActivityType | None = None


class Participation(ParticipationSpecification):
    """Annex I element 10, form of participation in the learning activity."""

    startDate: AwareDatetime | None = None
    endDate: AwareDatetime | None = None

    @model_validator(mode="after")
    def _dates(self, info: ValidationInfo) -> Participation:
        # §6.4: startDate ≤ endDate ≤ awardedAt
        if self.startDate and self.endDate and self.startDate > self.endDate:
            raise _cross("endDate", "must not be before startDate")
        awarded = (info.context or {}).get("awardedAt")
        last = self.endDate or self.startDate
        if awarded and last and last > awarded:
            raise _cross("endDate" if self.endDate else "startDate", "must not be after awardedAt")
        return self


# -- 11. quality assurance -----------------------------------------------------------------------------


class Agency(_Record):
    id: Uri | None = None
    legalName: LangString
    country: CountryCode
    homepage: HttpUrl | None = None


class QualityAssurance(_Record):
    """Annex I element 11, type of quality assurance used."""

    type: QualityAssuranceType
    title: LangString
    agency: Agency
    decisionUrl: HttpUrl | None = None
    reportUrl: HttpUrl | None = None
    deqarReportId: NonEmpty | None = None
    issuedAt: AwareDatetime | None = None
    reviewDate: AwareDatetime | None = None
    expiryDate: AwareDatetime | None = None
    limitEqfLevels: list[Annotated[int, Field(ge=1, le=8)]] = []


# -- optional elements ---------------------------------------------------------------------------------


class StackTarget(_Record):
    id: Uri
    title: LangString


class Stackability(_Record):
    """Optional Annex I element: integration/stackability options."""

    mode: Literal["standalone", "stackable"]
    partOf: list[StackTarget] = []
    note: LangString | None = None


class ComponentRule(_Record):
    """One component a composite accepts: a specification by its catalogue id (this service's) or URL."""

    specification: Annotated[str, Field(min_length=1, max_length=2048)]
    required: bool = False
    minEqf: Annotated[int, Field(ge=1, le=8)] | None = None


class CompositeRules(_Record):
    """Stackability made checkable (Council Recommendation 2022/C 243/02 Annex I, optional element "integration /
    stackability options"; MICROBOL Common Framework §3): the components a composite is awarded over, how many,
    which are required, the least total ECTS, the least EQF level of each component, the oldest award date
    accepted, and whether components must come from providers in the trust registry."""

    components: Annotated[list[ComponentRule], Field(min_length=1, max_length=32)]
    minComponents: Annotated[int, Field(ge=1, le=32)] | None = None
    minEcts: Annotated[float, Field(ge=0, le=600)] | None = None
    minEqf: Annotated[int, Field(ge=1, le=8)] | None = None
    awardedAfter: AwareDatetime | None = None
    trustRequired: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> CompositeRules:
        refs = [c.specification for c in self.components]
        if len(set(refs)) != len(refs):
            dup = next(r for r in refs if refs.count(r) > 1)
            raise _cross("components", f"a component specification is listed twice: {dup[:200]}")
        if self.minComponents is not None and self.minComponents > len(self.components):
            raise _cross("minComponents", f"minComponents is more than the {len(self.components)} components listed")
        return self

    @property
    def needed(self) -> int:
        """How many components are needed: ``minComponents``, else every component listed."""
        return self.minComponents if self.minComponents is not None else len(self.components)


class DisplayImage(_Record):
    language: LanguageCode
    page: Annotated[int, Field(ge=1, le=100)] = 1
    mediaType: Literal["image/png", "image/jpeg"]
    base64: Annotated[str, Field(min_length=4, max_length=2_000_000)]

    @field_validator("base64")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
        return value


# -- the record ----------------------------------------------------------------------------------------


class MicroCredentialSpecification(_Record):
    """The offering: what a provider publishes once and issues many times (model doc §2, non-learner rows)."""

    schemaVersion: Literal["1.0"] = "1.0"
    primaryLanguage: LanguageCode
    formats: list[Literal["edc", "ob3"]] = ["edc", "ob3"]
    title: LangString
    description: LangString | None = None
    learningOpportunityType: LearningOpportunityType | None = None
    awardingBodies: Annotated[list[AwardingBody], Field(min_length=1)]
    learningOutcomes: Annotated[list[LearningOutcome], Field(min_length=1)]
    learningOutcomeSummary: LangString | None = None
    workload: Workload
    level: Level
    fieldsOfEducation: list[IscedCode] = []
    instructionLanguages: list[LanguageCode] = []
    assessment: AssessmentSpecification
    participation: ParticipationSpecification
    qualityAssurance: Annotated[list[QualityAssurance], Field(min_length=1)]
    prerequisites: LangString | None = None
    stackability: Stackability | None = None
    composite: CompositeRules | None = None


class MicroCredentialInput(MicroCredentialSpecification):
    """The full neutral record one credential is rendered from (all 11 Annex I mandatory elements)."""

    externalId: NonEmpty | None = None
    learner: Learner
    awardedAt: PastDateTime | None = None
    validUntil: FutureDateTime | None = None
    assessment: Assessment
    participation: Participation
    furtherInformation: LangString | None = None
    links: list[HttpUrl] = []
    displayImages: list[DisplayImage] = []

    @property
    def languages(self) -> list[str]:
        """The display languages: the primary one first, then every other language the title has."""
        return [self.primaryLanguage] + sorted(k for k in self.title if k != self.primaryLanguage)

    def text(self, value: dict[str, str] | None) -> str | None:
        """The primary-language string of a language map (OB3 carries one language)."""
        if not value:
            return None
        return value.get(self.primaryLanguage) or next(iter(value.values()))


#: Top-level fields that only the per-learner issuance supplies (never the specification).
ISSUANCE_FIELDS = ("externalId", "learner", "awardedAt", "validUntil", "furtherInformation", "links", "displayImages")
#: Per-learner fields nested inside specification objects.
ISSUANCE_NESTED = {"assessment": ("date", "grade"), "participation": ("startDate", "endDate")}


# -- validation ----------------------------------------------------------------------------------------


def _pointer(loc: tuple[Any, ...], extra: str = "") -> str:
    parts = [str(p) for p in loc if p != "[key]"]
    if extra:
        parts.append(extra)
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        pointer = _pointer(err["loc"], ctx.get("field", "") if err["type"] == "cross_field" else "")
        detail = err["msg"]
        if detail.startswith("Value error, "):
            detail = detail[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            detail = "unknown field"
        out.append({"pointer": pointer, "detail": detail, "element": element_for_pointer(pointer)})
    return out


def _lenient_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _context(data: Any, *, ects_min: float, ects_max: float, now: datetime | None) -> dict[str, Any]:
    # Values other fields' rules depend on are read from the raw record before validation, so a rule
    # such as "every language map holds primaryLanguage" runs even when other fields fail.
    raw = data if isinstance(data, dict) else {}
    return {
        "primaryLanguage": raw.get("primaryLanguage"),
        "awardedAt": _lenient_datetime(raw.get("awardedAt")),
        "ects_min": ects_min,
        "ects_max": ects_max,
        "now": now or datetime.now(UTC),
    }


def _invalid(detail: str, errors: list[dict[str, Any]]) -> MalformedValueError:
    exc = MalformedValueError(detail, errors=errors)
    exc.status = 422  # well-formed JSON whose content breaks the model: Unprocessable Content
    return exc


def _validate(model: type[BaseModel], data: Any, what: str, **context: Any) -> Any:
    if not isinstance(data, dict):
        raise _invalid(f"{what} must be a JSON object", [{"pointer": "", "detail": "not an object", "element": None}])
    try:
        return model.model_validate(data, context=_context(data, **context))
    except ValidationError as exc:
        errors = _errors(exc)
        raise _invalid(f"{what} has {len(errors)} invalid field{'s' if len(errors) != 1 else ''}", errors) from None


def validate_input(
    data: dict[str, Any],
    *,
    ects_min: float = ECTS_MIN_DEFAULT,
    ects_max: float = ECTS_MAX_DEFAULT,
    now: datetime | None = None,
) -> MicroCredentialInput:
    """Validate a neutral record (model doc §2, §6); ``MalformedValueError.errors`` lists every failing field.

    Each error is ``{"pointer": "/workload/ects", "detail": "...", "element": "7. notional workload"}``.
    ``ects_min``/``ects_max`` come from settings; ``now`` is the clock the date rules use.
    """
    return _validate(MicroCredentialInput, data, "the micro-credential record", ects_min=ects_min, ects_max=ects_max, now=now)


def validate_specification(
    data: dict[str, Any],
    *,
    ects_min: float = ECTS_MIN_DEFAULT,
    ects_max: float = ECTS_MAX_DEFAULT,
) -> MicroCredentialSpecification:
    """Validate a stored offering (no learner data); same error format as ``validate_input``."""
    return _validate(MicroCredentialSpecification, data, "the micro-credential specification", ects_min=ects_min, ects_max=ects_max, now=None)


def specification_of(record: MicroCredentialInput | dict[str, Any]) -> dict[str, Any]:
    """The offering part of a full record (drops learner data, dates, grade value), as JSON data."""
    data = record.model_dump(mode="json", exclude_none=True) if isinstance(record, BaseModel) else dict(record)
    spec = {k: v for k, v in data.items() if k not in ISSUANCE_FIELDS}
    for parent, fields in ISSUANCE_NESTED.items():
        if isinstance(spec.get(parent), dict):
            nested = {k: v for k, v in spec[parent].items() if k not in fields}
            grade = spec[parent].get("grade") if parent == "assessment" else None
            if isinstance(grade, dict) and "scheme" in grade:
                nested["grade"] = {"scheme": grade["scheme"]}
            spec[parent] = nested
    return spec


def issuance_pointers(data: Any) -> list[str]:
    """JSON Pointers of the per-learner fields a record carries (what ``specification_of`` leaves out): a full
    record, such as the EU example, sent as a specification is its offering with these ignored."""
    if not isinstance(data, dict):
        return []
    out = [f"/{k}" for k in ISSUANCE_FIELDS if k in data]
    for parent, fields in ISSUANCE_NESTED.items():
        nested = data.get(parent)
        if not isinstance(nested, dict):
            continue
        for name in fields:
            if name not in nested:
                continue
            value = nested[name]
            if parent == "assessment" and name == "grade" and isinstance(value, dict) and "scheme" in value:
                out += [f"/assessment/grade/{k}" for k in value if k != "scheme"]  # the scheme is part of the offering
            else:
                out.append(f"/{parent}/{name}")
    return out


def merge_specification(specification: dict[str, Any], issuance: dict[str, Any]) -> dict[str, Any]:
    """A full neutral record from a stored specification plus per-learner data.

    ``issuance`` may hold only the per-learner fields: ``learner``, ``awardedAt``, ``externalId``,
    ``validUntil``, ``furtherInformation``, ``links``, ``displayImages``, ``assessment.date``,
    ``assessment.grade`` (value/status; the scheme comes from the specification) and
    ``participation.startDate/endDate``. Anything else would silently change the published offering,
    so it is refused (every such field reported).
    """
    errors: list[dict[str, Any]] = []
    if not isinstance(issuance, dict):
        raise _invalid("the issuance data must be a JSON object", [{"pointer": "", "detail": "not an object", "element": None}])
    merged = {k: v for k, v in specification.items() if k not in ISSUANCE_FIELDS}
    for key, value in issuance.items():
        if key in ISSUANCE_FIELDS:
            merged[key] = value
        elif key in ISSUANCE_NESTED and isinstance(value, dict):
            target = dict(merged.get(key) or {})
            for sub, sub_value in value.items():
                if sub not in ISSUANCE_NESTED[key]:
                    errors.append(
                        {
                            "pointer": f"/{key}/{sub}",
                            "detail": "belongs to the specification, not to one issuance",
                            "element": element_for_pointer(f"/{key}/{sub}"),
                        }
                    )
                elif sub == "grade" and isinstance(sub_value, dict):
                    spec_grade = target.get("grade") if isinstance(target.get("grade"), dict) else {}
                    target["grade"] = {**spec_grade, **sub_value}
                else:
                    target[sub] = sub_value
            merged[key] = target
        else:
            errors.append({"pointer": f"/{key}", "detail": "belongs to the specification, not to one issuance", "element": element_for_pointer(f"/{key}")})
    if errors:
        raise _invalid(f"the issuance data has {len(errors)} field(s) it may not set", errors)
    return merged


def issue_from_specification(
    specification: dict[str, Any],
    issuance: dict[str, Any],
    *,
    ects_min: float = ECTS_MIN_DEFAULT,
    ects_max: float = ECTS_MAX_DEFAULT,
    now: datetime | None = None,
) -> MicroCredentialInput:
    """Merge a stored specification with per-learner data and validate the result as one record."""
    return validate_input(merge_specification(specification, issuance), ects_min=ects_min, ects_max=ects_max, now=now)


def warnings(record: MicroCredentialInput) -> list[dict[str, Any]]:
    """Advice that does not block issuing (model doc §6.2): ECTS recommended, ECTS/hours plausibility."""
    out: list[dict[str, Any]] = []
    w = record.workload
    if w.ects is None:
        out.append({"pointer": "/workload/ects", "detail": "Annex I asks for ECTS wherever possible", "element": element_for_pointer("/workload")})
    elif w.hours is not None and w.creditSystem == "ECTS" and not (20 * w.ects <= w.hours <= 35 * w.ects):
        out.append(
            {
                "pointer": "/workload/hours",
                "detail": f"{w.hours} h is unusual for {w.ects:g} ECTS (1 ECTS ≈ 25–30 h)",
                "element": element_for_pointer("/workload"),
            }
        )
    return out
