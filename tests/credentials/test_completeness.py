"""Reading credentials back against Annex I: ours and other issuers', EDC and OB3."""

from __future__ import annotations

import json

import pytest

from app.credentials import credential_format, eu_completeness, mandatory_score, summary


def by_key(results):
    return {r.key: r for r in results}


@pytest.fixture(scope="module")
def ec_sample(shared_dir):
    return json.loads((shared_dir / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-unsigned.jsonld").read_text())


@pytest.fixture(scope="module")
def mynextid(shared_dir):
    return json.loads((shared_dir / "samples" / "ob3" / "mynextid_open-badge-mc-example.json").read_text())


@pytest.mark.parametrize("fmt", ["edc", "ob3"])
def test_our_renderings_score_11_of_11(fmt, edc, ob3):
    credential = edc if fmt == "edc" else ob3
    assert credential_format(credential) == fmt
    results = eu_completeness(credential)
    assert len(results) == 16 and sum(r.mandatory for r in results) == 11
    assert mandatory_score(results) == (11, 11), [r.element for r in results if not r.present]
    assert all(r.present for r in results)  # the example carries all 5 optional elements too
    found = by_key(results)
    assert found["level"].value["eqf"] == 6
    assert found["workload"].value["credits"] == 2.0 and found["workload"].value["system"] == "ECTS"
    assert found["country"].value["country"]["code"] == "IE"
    assert found["assessment"].value["type"]["id"] == "http://data.europa.eu/snb/assessment/de4d165a6c"
    assert found["participation"].value["mode"]["id"] == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert found["qualityAssurance"].value[0]["title"] == {"en": "Institutional review 2024"}
    assert found["learner"].value["name"] == {"en": "Ana Andromeda"}


def test_ec_reference_sample_lacks_only_quality_assurance(ec_sample):
    results = eu_completeness(ec_sample)
    assert mandatory_score(results) == (10, 11)
    found = by_key(results)
    assert not found["qualityAssurance"].present  # model doc §7: the EC Annex-1 sample omits QA
    assert found["assessment"].value["type"]["label"] == {"en": "artefact assessment"}
    assert found["level"].value["eqf"] == 6
    assert found["level"].value["nqf"][0]["label"] == {"en": "RQF Level 6"}
    assert found["workload"].value == {"credits": 2.0, "system": "ECTS", "volumeOfLearning": "PT60H", "hours": 60.0}
    assert found["dateOfIssuing"].value == "2022-12-31T23:00:00Z"
    assert found["learningOutcomes"].value[1]["text"] == {"en": "Developing digital content", "es": "Contento digital"}
    assert found["supervision"].value["id"].endswith("/c598449d64")
    assert found["grade"].value == {"en": "Pass"}


def test_mynextid_badge_misses_the_eu_specific_elements(mynextid):
    results = eu_completeness(mynextid)
    found = by_key(results)
    assert credential_format(mynextid) == "ob3"
    present = {r.key for r in results if r.mandatory and r.present}
    assert present == {"learner", "title", "awardingBody", "dateOfIssuing", "learningOutcomes", "workload"}
    assert found["learningOutcomes"].value[0]["escoSkills"] == ["http://data.europa.eu/esco/skill/f10142ce-d522-49c3-9fd1-054fb63529d4"]
    assert found["workload"].value == {"credits": 5.0, "system": None}  # credits of unknown unit
    assert summary(mynextid)["ects"] is None


def test_summary_keeps_language_maps(edc, ob3, ec_sample):
    page = summary(edc)
    assert page["title"] == {"en": "Digital micro-credential creation"}
    assert page["learnerName"] == {"en": "Ana Andromeda"}
    assert page["awardingBody"] == {"en": "University of Zed"}
    assert page["awardingBodyCountry"] == {"code": "IE", "label": {"en": "Ireland"}}
    assert page["date"] == "2026-06-30T10:00:00Z"
    assert (page["ects"], page["eqf"]) == (2.0, 6)
    assert page["learningOutcomes"] == [{"en": "Communication, collaboration and creativity"}, {"en": "Developing digital content"}]
    assert page["assessment"] == {"en": "Digital artefact assessment"}
    assert page["participation"] == {"en": "Blended"}
    assert page["qualityAssurance"] == [{"en": "Institutional review 2024"}]
    assert page["languages"] == ["en"]
    ob_page = summary(ob3)
    for key in ("title", "learnerName", "awardingBody", "date", "ects", "eqf", "learningOutcomes", "participation", "qualityAssurance"):
        assert ob_page[key] == page[key], key
    assert summary(ec_sample)["learningOutcomes"][1] == {"en": "Developing digital content", "es": "Contento digital"}


def test_multilingual_edc_summary(example, issuer):
    from app.credentials import render_edc, validate_input
    from tests.credentials.conftest import NOW

    example["title"]["de"] = "Erstellung digitaler Micro-Credentials"
    doc = render_edc(validate_input(example, now=NOW), issuer=issuer, credential_id="urn:uuid:m", issued=NOW)
    page = summary(doc)
    assert page["languages"] == ["en", "de"]
    assert page["title"] == {"en": "Digital micro-credential creation", "de": "Erstellung digitaler Micro-Credentials"}


def test_not_a_credential():
    with pytest.raises(ValueError):
        eu_completeness({"type": ["VerifiableCredential"]})
