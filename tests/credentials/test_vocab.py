"""The shipped EU code lists and the ISO → EU translations (model doc §3)."""

from __future__ import annotations

import pytest

from app.credentials import vocab


def test_country_alpha2_to_eu_alpha3_including_eu_specific_codes():
    assert vocab.country("IE").iri == "http://publications.europa.eu/resource/authority/country/IRL"
    assert vocab.country("it").iri.endswith("/ITA")
    # the EU writes EL for Greece and UK for the United Kingdom
    assert vocab.country("EL").iri.endswith("/GRC") and vocab.country("GR").iri.endswith("/GRC")
    assert vocab.country("UK").iri.endswith("/GBR")
    assert vocab.country("IE").scheme == "http://publications.europa.eu/resource/authority/country"
    for bad in ("XX", "IRL", "", "1E"):
        with pytest.raises(KeyError):
            vocab.country(bad)


@pytest.mark.parametrize("code, expected", [("en", "ENG"), ("de", "DEU"), ("nl", "NLD"), ("ga", "GLE"), ("el", "ELL"), ("ro", "RON"), ("cs", "CES")])
def test_language_iso639_1_to_eu_639_2t(code, expected):
    assert vocab.language(code).iri == f"http://publications.europa.eu/resource/authority/language/{expected}"


def test_unknown_language_refused():
    for bad in ("xx", "eng", "EN1", ""):
        with pytest.raises(KeyError):
            vocab.language(bad)


def test_code_lists_have_the_documented_sizes_and_concepts():
    assert len(vocab.assessment_types()) == 14
    assert len(vocab.modes()) == 6
    assert len(vocab.activity_types()) == 11
    assert len(vocab.accreditation_types()) == 4
    assert len(vocab.supervision_types()) == 4
    assert len(vocab.isced_f()) == 220
    assert vocab.assessment_types()["artefact-assessment"].iri == "http://data.europa.eu/snb/assessment/de4d165a6c"
    assert vocab.modes()["blended"].iri == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert vocab.learning_settings()["non-formal"].iri == "http://data.europa.eu/snb/learning-setting/e207a81fc7"
    assert vocab.credit_systems()["ECTS"].iri == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert vocab.learning_opportunity_types()["short-learning-programme"].scheme == "http://data.europa.eu/snb/learning-opportunity/25831c2"
    assert vocab.eqf_level(6).iri == "http://data.europa.eu/snb/eqf/6"
    with pytest.raises(KeyError):
        vocab.eqf_level(9)
    assert vocab.isced_f()["0688"].label.startswith("Inter-disciplinary")


def test_vocabularies_ship_inside_the_package():
    names = {p.name for p in vocab.VOCAB_DIR.glob("*.csv")}
    assert {"country.csv", "language.csv", "isced-f.csv", "eqf.csv", "europass-modes.csv"} <= names
