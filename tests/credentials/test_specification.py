"""Publish an offering once, issue it with learner data only."""

from __future__ import annotations

import pytest

from app.credentials import issue_from_specification, merge_specification, specification_of, validate_input, validate_specification
from app.errors import MalformedValueError
from tests.credentials.conftest import NOW


def test_specification_plus_learner_data_gives_back_the_record(example):
    full = validate_input(example, now=NOW)
    spec = specification_of(example)
    assert "learner" not in spec and "awardedAt" not in spec
    assert spec["assessment"]["grade"] == {"scheme": example["assessment"]["grade"]["scheme"]}
    assert "startDate" not in spec["participation"]
    validate_specification(spec)
    issuance = {
        "learner": example["learner"],
        "awardedAt": example["awardedAt"],
        "externalId": example["externalId"],
        "furtherInformation": example["furtherInformation"],
        "assessment": {"date": example["assessment"]["date"], "grade": {"value": "Pass", "status": "pass"}},
        "participation": {"startDate": example["participation"]["startDate"], "endDate": example["participation"]["endDate"]},
    }
    assert issue_from_specification(spec, issuance, now=NOW) == full


def test_issuance_may_not_change_the_offering(example):
    spec = specification_of(example)
    with pytest.raises(MalformedValueError) as info:
        merge_specification(spec, {"learner": example["learner"], "title": {"en": "Other"}, "workload": {"ects": 5}, "assessment": {"type": "quiz"}})
    assert {e["pointer"]: e["element"] for e in info.value.errors} == {
        "/title": "2. title",
        "/workload": "7. notional workload",
        "/assessment/type": "9. type of assessment",
    }


def test_specification_validation_reports_offering_errors(example):
    spec = specification_of(example)
    spec["workload"]["ects"] = 90
    spec["learner"] = example["learner"]  # learner data does not belong in a specification
    with pytest.raises(MalformedValueError) as info:
        validate_specification(spec)
    assert {e["pointer"] for e in info.value.errors} == {"/workload/ects", "/learner"}


def test_issuing_without_learner_fails_on_element_1(example):
    spec = specification_of(example)
    with pytest.raises(MalformedValueError) as info:
        issue_from_specification(spec, {"awardedAt": example["awardedAt"]}, now=NOW)
    assert [e["element"] for e in info.value.errors] == ["1. identification of the learner"]
