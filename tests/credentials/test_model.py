"""The neutral record: Annex I mandatory elements, code lists and the cross-field rules of model doc §6."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.credentials import validate_input
from app.errors import MalformedValueError
from tests.credentials.conftest import NOW


def errors_of(data: dict, **kwargs) -> dict[str, dict]:
    with pytest.raises(MalformedValueError) as info:
        validate_input(data, now=NOW, **kwargs)
    assert info.value.status == 422
    return {e["pointer"]: e for e in info.value.errors}


def test_example_input_is_valid(example):
    record = validate_input(example, now=NOW)
    assert record.workload.ects == 2 and record.level.eqf == 6
    assert record.learner.nationalId.country == "IT"
    assert record.languages == ["en"]


def test_broken_record_reports_every_failing_field_with_pointer_and_element(example):
    example["workload"]["ects"] = 70
    example["level"]["qfEheaCycle"] = "second"  # EQF 6 is the first cycle
    example["title"] = {"de": "Erstellung digitaler Micro-Credentials"}  # primary language en missing
    example["learner"]["dateOfBirth"] = "2031-01-01"
    example["fieldsOfEducation"] = ["12345"]
    example["learningOutcomes"][1]["escoSkills"] = ["http://data.europa.eu/esco/skill/not-a-uuid"]
    example["participation"]["endDate"] = "2026-06-30T12:00:00Z"  # after awardedAt
    example["awardingBodies"][0]["country"] = "XX"
    example["qualityAssurance"][0]["type"] = "self-declared"
    example["assessment"]["supervision"] = "proctored"
    example["colour"] = "blue"
    errors = errors_of(example)
    expected = {
        "/workload/ects": "7. notional workload",
        "/level/qfEheaCycle": "8. level",
        "/title": "2. title",
        "/learner/dateOfBirth": "1. identification of the learner",
        "/fieldsOfEducation/0": None,
        "/learningOutcomes/1/escoSkills/0": "6. learning outcomes",
        "/participation/endDate": "10. form of participation",
        "/awardingBodies/0/country": "3. country or region of the issuer",
        "/qualityAssurance/0/type": "11. type of quality assurance",
        "/assessment/supervision": "optional: supervision and identity verification",
        "/colour": None,
    }
    assert {p: e["element"] for p, e in errors.items()} == expected
    assert "primary language 'en'" in errors["/title"]["detail"]
    assert "EQF 7" in errors["/level/qfEheaCycle"]["detail"]
    assert all(e["detail"] for e in errors.values())


def test_missing_mandatory_elements_are_each_reported(example):
    for field in ("learner", "title", "awardingBodies", "learningOutcomes", "workload", "level", "assessment", "participation", "qualityAssurance"):
        del example[field]
    errors = errors_of(example)
    assert set(errors) == {
        "/learner",
        "/title",
        "/awardingBodies",
        "/learningOutcomes",
        "/workload",
        "/level",
        "/assessment",
        "/participation",
        "/qualityAssurance",
    }
    assert errors["/qualityAssurance"]["element"] == "11. type of quality assurance"


def test_ects_range_comes_from_settings(example):
    example["workload"]["ects"] = 40
    validate_input(example, now=NOW)  # MICROBOL default 1–59
    assert "/workload/ects" in errors_of(example, ects_min=1, ects_max=30)
    example["workload"]["ects"] = 0.5
    assert "between 1 and 59" in errors_of(example)["/workload/ects"]["detail"]
    assert validate_input(example, now=NOW, ects_min=0.5, ects_max=59).workload.ects == 0.5


def test_ects_or_hours_required_and_hours_alone_accepted(example):
    del example["workload"]["ects"]
    assert validate_input(example, now=NOW).workload.hours == 60
    del example["workload"]["hours"]
    assert errors_of(example)["/workload/ects"]["detail"].startswith("ects or hours is required")


def test_level_needs_a_value_or_explicit_not_applicable(example):
    example["level"] = {}
    assert "/level/eqf" in errors_of(example)
    example["level"] = {"notApplicable": True}
    assert validate_input(example, now=NOW).level.eqf is None
    example["level"] = {"notApplicable": True, "eqf": 5}
    assert "/level/notApplicable" in errors_of(example)
    example["level"] = {"notApplicable": False}
    assert "/level/notApplicable" in errors_of(example)  # only `true` is meaningful
    example["level"] = {"eqf": 9}
    assert "/level/eqf" in errors_of(example)
    example["level"] = {"eqf": 5, "qfEheaCycle": "short-cycle", "nqf": ["http://data.europa.eu/snb/qdr/c_01169e3f"]}
    assert validate_input(example, now=NOW).level.nqf


def test_learner_must_be_identifiable_beyond_a_name(example):
    for field in ("id", "dateOfBirth", "email", "nationalId"):
        del example["learner"][field]
    errors = errors_of(example)
    assert list(errors) == ["/learner"]
    assert errors["/learner"]["element"] == "1. identification of the learner"
    example["learner"]["identifiers"] = [{"scheme": "student-number", "value": "S-1"}]
    validate_input(example, now=NOW)


def test_dates_order(example):
    example["participation"]["startDate"] = "2026-06-10T00:00:00Z"
    example["participation"]["endDate"] = "2026-06-01T00:00:00Z"
    assert "/participation/endDate" in errors_of(example)
    example = copy.deepcopy(example)
    example["participation"]["endDate"] = "2026-06-20T00:00:00Z"
    example["awardedAt"] = "2026-07-02T00:00:00Z"  # after NOW
    example["validUntil"] = "2026-06-01T00:00:00Z"  # already expired
    errors = errors_of(example)
    assert {"/awardedAt", "/validUntil"} <= set(errors)
    assert errors["/awardedAt"]["element"] == "5. date of issuing"
    example["awardedAt"] = "2026-06-30T10:00:00"  # no time zone
    assert "/awardedAt" in errors_of(example)


def test_every_language_map_must_hold_the_primary_language(example):
    example["primaryLanguage"] = "de"
    example["title"]["de"] = "Erstellung digitaler Micro-Credentials"
    errors = errors_of(example)
    assert "/title" not in errors
    # every other language map (learner names, outcomes, QA title, …) lacks "de"
    assert {
        "/learner/givenName",
        "/learner/familyName",
        "/learningOutcomes/0/text",
        "/qualityAssurance/0/title",
        "/awardingBodies/0/legalName",
        "/prerequisites",
    } <= set(errors)


def test_unknown_language_keys_and_codes_refused(example):
    example["title"]["xx"] = "?"
    example["instructionLanguages"] = ["english"]
    errors = errors_of(example)
    assert "/title/xx" in errors and "/instructionLanguages/0" in errors


def test_non_object_input_refused():
    with pytest.raises(MalformedValueError) as info:
        validate_input(["not", "an", "object"], now=NOW)
    assert info.value.errors[0]["pointer"] == ""


# -- property tests ------------------------------------------------------------------------------------

LANGS = ["en", "de", "fr", "nl", "ga", "el", "it", "pl"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(primary=st.sampled_from(LANGS), keys=st.sets(st.sampled_from(LANGS), min_size=1, max_size=4))
def test_language_map_rule(example_input, primary, keys):
    data = copy.deepcopy(example_input)
    data["primaryLanguage"] = primary
    data["description"] = {k: f"text {k}" for k in keys}
    try:
        validate_input(data, now=NOW)
        errors = {}
    except MalformedValueError as exc:
        errors = {e["pointer"] for e in exc.errors}
    assert ("/description" in errors) == (primary not in keys)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ects=st.floats(min_value=-5, max_value=100, allow_nan=False, allow_infinity=False) | st.integers(min_value=-4, max_value=240).map(lambda n: n / 2))
def test_ects_rule(example_input, ects):
    data = copy.deepcopy(example_input)
    data["workload"]["ects"] = ects
    ok = 1 <= ects <= 59 and (ects * 2) == int(ects * 2)
    try:
        validate_input(data, now=NOW)
        accepted = True
    except MalformedValueError as exc:
        accepted = False
        assert [e["pointer"] for e in exc.errors] == ["/workload/ects"]
    assert accepted == ok
