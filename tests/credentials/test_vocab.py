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


#: the EU country table's one row that is no country (a placeholder for "provisional data"): CLDR has no name for it
NOT_A_COUNTRY = {"http://publications.europa.eu/resource/authority/country/OP_DATPRO"}


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_every_shipped_concept_has_a_french_and_a_german_label(lang):
    """Issue 14: every row of every shipped CSV carries ``label_fr`` and ``label_de`` (microcred's translations);
    the country and language tables, English only, are named by CLDR: every country, and every language the
    service can emit (those with an ISO 639-1 code, vocab.language)."""
    import csv

    import pycountry

    checked = 0
    for path in sorted(vocab.VOCAB_DIR.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, path.name
        if path.name == "country.csv":
            missing = [r["uri"] for r in rows if not vocab.label(r["uri"], lang)]
            assert missing == sorted(NOT_A_COUNTRY), missing
        elif path.name == "language.csv":
            emitted = [vocab.language(x.alpha_2) for x in pycountry.languages if hasattr(x, "alpha_2") and vocab.is_language(x.alpha_2)]
            assert len(emitted) > 180
            assert [c.iri for c in emitted if not vocab.label(c.iri, lang)] == []
        else:
            assert [r["uri"] for r in rows if not r.get(f"label_{lang}")] == [], path.name
            assert all(vocab.label(r["uri"], lang) == r[f"label_{lang}"] for r in rows), path.name
        checked += len(rows)
    assert checked > 9000
    assert vocab.country("FR").label_in(lang) == {"fr": "France", "de": "Frankreich"}[lang]
    assert vocab.language("de").label_in(lang) == {"fr": "allemand", "de": "Deutsch"}[lang]
    assert (
        vocab.isced_f()["0613"].label_in(lang)
        == {
            "fr": "Développement et analyse de logiciels et d'applications",
            "de": "Software- und Anwendungsentwicklung und -analyse",
        }[lang]
    )
    assert vocab.eqf_level(6).label_in(lang) == "Niveau 6"


def test_any_label_column_is_read_and_a_missing_one_falls_back_to_english(tmp_path, monkeypatch):
    """An operator may replace a CSV by the EU's multilingual export (same columns, more languages): every
    ``label_<lang>`` column is read; an empty cell or an absent language falls back to English."""
    (tmp_path / "eqf.csv").write_text("uri,label_en,label_it,label_fr\nhttp://data.europa.eu/snb/eqf/6,Level 6,Livello 6,\n", encoding="utf-8")
    for cached in (vocab._table, vocab._csv, vocab._index, vocab.label):
        cached.cache_clear()
    monkeypatch.setattr(vocab, "VOCAB_DIR", tmp_path)
    try:
        level = vocab.eqf_level(6)
        assert level.label == "Level 6"
        assert level.label_in("it") == "Livello 6" and vocab.label(level.iri, "IT") == "Livello 6"
        assert level.label_in("fr") == "Level 6" and vocab.label(level.iri, "fr") is None
        assert level.label_in("de") == "Level 6"
        assert vocab.label("http://data.europa.eu/snb/eqf/9", "it") is None
    finally:
        monkeypatch.undo()
        for cached in (vocab._table, vocab._csv, vocab._index, vocab.label):
            cached.cache_clear()
