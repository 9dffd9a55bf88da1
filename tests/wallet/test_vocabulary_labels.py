"""The EU vocabularies' labels in the page's language (issue 14: "The EU vocabularies' labels come in the EU's
languages: use them"): the employer's page, the wallet's detail and the PDF name the coded elements of an
issued EU example credential (ISCED-F field, assessment type, form of participation, country, EQF level,
QF-EHEA cycle) in French and German, from the shipped CSVs' ``label_fr``/``label_de`` (microcred's
translations) and CLDR for the country, whatever the format (OB3 or EDC), through the real HTTP pages.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.wallet.conftest import csrf_of, learner_input
from tests.wallet.test_wallet import _claim, _holding_id, _offer, _pdf_text

#: what each cell of the facts table says for the EU example (app/credentials/example_input.json): ISCED-F 0688,
#: artefact assessment, blended, awarded in Ireland, EQF 6, QF-EHEA first cycle
EXPECTED = {
    "en": {
        "fields": "Inter-disciplinary programmes and qualifications involving Information and Communication Technologies (ICTs) (0688)",
        "assessment": "Artefact assessment",
        "participation": "Blended",
        "awarding-body": "Ireland",
        "eqf": "EQF level 6 · QF-EHEA first cycle",
    },
    "fr": {
        "fields": "Programmes et certifications interdisciplinaires relevant des technologies de l'information et de la communication (TIC) (0688)",
        "assessment": "Évaluation d'une réalisation",
        "participation": "Hybride",
        "awarding-body": "Irlande",
        "eqf": "Niveau CEC 6 · QF-EEES premier cycle",
    },
    "de": {
        "fields": "Interdisziplinäre Programme und Qualifikationen mit Schwerpunkt Informations- und Kommunikationstechnologien (IKT) (0688)",
        "assessment": "Bewertung eines Arbeitsergebnisses",
        "participation": "Hybrid (Blended Learning)",
        "awarding-body": "Irland",
        "eqf": "EQR-Niveau 6 · QF-EHEA erster Zyklus",
    },
}


def _cells(page: str) -> dict[str, str]:
    """The facts table's cells by their data-testid, as text (tags removed, entities decoded, spaces collapsed)."""
    out = {}
    for key in EXPECTED["en"]:
        m = re.search(rf'data-testid="{key}">(.*?)</td>', page, re.S)
        assert m, (key, page[:3000])
        out[key] = " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).split())
    return out


def _issued(api, example_input, fmt: str) -> str:
    body = {"format": fmt, "proof": "eddsa-rdfc-2022", "microcredential": learner_input(example_input, "vocab@example.org")}
    r = api.post("/microcredentials", json=body)
    assert r.status_code == 201, r.text
    return r.text


@pytest.mark.parametrize("fmt", ["ob3", "edc"])
def test_verify_names_the_coded_elements_in_the_pages_language(live, api, example_input, fmt):
    credential = _issued(api, example_input, fmt)
    with httpx.Client(base_url=live.url, timeout=60) as browser:
        token = csrf_of(browser.get("/verify").text)
        for lang, expected in EXPECTED.items():
            page = browser.post(f"/verify?lang={lang}", files={"credential": (None, credential), "csrf": (None, token)})
            assert page.status_code == 200 and f'<html lang="{lang}"' in page.text, page.text[:500]
            cells = _cells(page.text)
            assert cells["fields"] == expected["fields"], (fmt, lang)
            assert cells["assessment"] == expected["assessment"], (fmt, lang)
            assert cells["participation"] == expected["participation"], (fmt, lang)
            assert cells["awarding-body"].endswith(f"— {expected['awarding-body']}"), (fmt, lang, cells["awarding-body"])
            assert cells["eqf"] == expected["eqf"], (fmt, lang)
    # the credential itself is unchanged: its own labels stay English (the page translates, the signed data does not)
    assert "Artefact assessment" in credential or "artefact assessment" in credential


def test_the_wallet_detail_and_the_german_pdf_name_them_too(live, api, example_input, ana):
    r = api.post("/microcredentials", json={"format": "edc", "proof": "eddsa-rdfc-2022", "microcredential": learner_input(example_input, ana.email)})
    assert r.status_code == 201, r.text
    hid = _holding_id(_claim(ana, _offer(api, r.headers["location"].removeprefix("/credentials/"))))
    for lang in ("fr", "de"):
        detail = ana.http.get(f"/wallet/credentials/{hid}?lang={lang}")
        assert detail.status_code == 200
        cells = _cells(detail.text)
        assert cells["fields"] == EXPECTED[lang]["fields"] and cells["assessment"] == EXPECTED[lang]["assessment"], lang
    pdf = ana.post(f"/wallet/credentials/{hid}/pdf", {"days": "0"}, headers={"Accept-Language": "de"})
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    for words in ("Studienbereich", "Interdisziplinäre Programme und Qualifikationen mit Schwerpunkt", "(0688)", "Bewertung eines Arbeitsergebnisses"):
        assert words in text, (words, text)
    for words in ("Hybrid (Blended Learning)", "— Irland", "EQR-Niveau 6 · QF-EHEA erster Zyklus"):
        assert words in text, (words, text)
    assert "Artefact assessment" not in text and "Ireland" not in text and "Inter-disciplinary" not in text
