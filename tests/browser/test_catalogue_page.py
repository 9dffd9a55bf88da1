"""The catalogue's filters (issue 14): compact enough for a phone, countries and ISCED-F fields offered by name.

(No __init__.py in this folder on purpose: ``tests.browser`` must stay the helper module tests/browser.py.)
"""

from __future__ import annotations

import copy

import pytest

from app.credentials import specification_of
from tests.browser import at_widths

pytestmark = pytest.mark.browser


def _publish(client, example_input, **changes):
    spec = copy.deepcopy(specification_of(example_input))
    spec.update(changes)
    r = client.post("/specifications", json={"specification": spec, "published": True})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_filters_offer_countries_and_fields_by_name_and_fit_a_phone(browser, live, client, example_input, lang):
    irish = _publish(client, example_input)  # IE, ISCED-F 0688
    german = copy.deepcopy(example_input["awardingBodies"])
    german[0]["country"] = "DE"
    _publish(client, example_input, title={"en": "Datenbanken für Einsteiger"}, awardingBodies=german, fieldsOfEducation=["0613"])
    ireland = {"en": "Ireland", "fr": "Irlande", "de": "Irland"}[lang]
    germany = {"en": "Germany", "fr": "Allemagne", "de": "Deutschland"}[lang]
    # the EU vocabulary's labels in the page's language (microcred's French and German translations)
    ict, software, artefact = {
        "en": (
            "Information and Communication Technologies (ICTs) (06)",
            "Software and applications development and analysis (0613)",
            "artefact assessment",
        ),
        "fr": (
            "Technologies de l'information et de la communication (TIC) (06)",
            "Développement et analyse de logiciels et d'applications (0613)",
            "évaluation d'une réalisation",
        ),
        "de": (
            "Informations- und Kommunikationstechnologien (IKT) (06)",
            "Software- und Anwendungsentwicklung und -analyse (0613)",
            "Bewertung eines Arbeitsergebnisses",
        ),
    }[lang]

    def act(page):
        page.goto(f"{live.url}/catalogue.html?lang={lang}")
        countries = page.locator("[data-testid=filter-country] option").all_inner_texts()
        assert countries[1:] == sorted([ireland, germany]), countries
        fields = page.locator("[data-testid=filter-isced] option").all_inner_texts()
        # the broad fields and the narrow ones under them, named (the EU vocabulary's labels), never a bare code
        assert any(f.endswith(ict) for f in fields), fields
        assert any(f.endswith(software) for f in fields), fields
        assert len(page.locator("article.card").all()) == 2
        width = page.viewport_size["width"]
        if width < 600:
            # Compact: the search on its own row, the three choices two by two, then the button: no taller than
            # a third of the phone's screen.
            height = page.evaluate("document.querySelector('form.filters').getBoundingClientRect().height")
            assert height <= 844 / 3 + 40, height
        page.select_option("[data-testid=filter-country]", "DE")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**country=DE**")
        assert [t for t in page.locator("article.card h2").all_inner_texts()] == ["Datenbanken für Einsteiger"]
        assert page.locator("[data-testid=filter-country] option:checked").inner_text() == germany
        assert germany in page.locator("article.card").first.inner_text()
        page.select_option("[data-testid=filter-country]", "")
        page.select_option("[data-testid=filter-isced]", "06")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**isced=06**")
        assert len(page.locator("article.card").all()) == 2  # a broad field holds its narrow ones
        page.goto(f"{live.url}/catalogue/{irish}/page?lang={lang}")
        assert page.inner_text("[data-testid=spec-country]") == ireland
        assert artefact in page.inner_text("[data-testid=spec-assessment]")

    at_widths(browser, f"catalogue-filters-{lang}", act)
