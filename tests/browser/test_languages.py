"""The pages in English, French and German (issue 14): chosen from Accept-Language, with a switch that sticks.

The catalogues (wallet_demo/locales/*/LC_MESSAGES/messages.po) are checked against what the templates and page
modules mark for translation: every message translated in each language, with the same placeholders.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.api.test_verifier import _plain, _sign, _stamp
from tests.browser import at_widths
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

LOCALES = ROOT / "wallet_demo" / "locales"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _marked() -> set[str]:
    method_map = [("wallet_demo/**.py", "python"), ("app/holder/pdf.py", "python"), ("wallet_demo/templates/**.html", "jinja2")]
    found = (m[2] for m in extract_from_dir(str(ROOT), method_map))  # (file, line, message, comments, context)
    return {m if isinstance(m, str) else m[0] for m in found if m}


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_every_marked_message_is_translated(lang):
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    marked = _marked()
    assert len(marked) > 80
    untranslated = [m for m in marked if not (catalog.get(m) and catalog.get(m).string)]
    assert untranslated == []
    for m in marked:
        assert set(PLACEHOLDER.findall(m)) == set(PLACEHOLDER.findall(catalog.get(m).string)), m
        assert not catalog.get(m).fuzzy, m


EXPECTED = {
    "en": ("Verifiable EU micro-credentials", "Expired on 15 January 2026", "Verified at"),
    "fr": ("Micro-certifications de l’UE vérifiables", "Expiré le 15 janvier 2026", "Vérifié le"),
    "de": ("Überprüfbare EU-Micro-Credentials", "Abgelaufen am 15. Januar 2026", "Geprüft am"),
}


@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_the_browser_language_chooses_the_pages_language(browser, live, provider, lang):
    heading, expired, verified_at = EXPECTED[lang]
    doc = _sign(live, provider, _plain(provider[0].did, validFrom=_stamp(timedelta(days=-30)), validUntil="2026-01-15T00:00:00Z"))
    accept = {"en": "en-GB,en;q=0.9", "fr": "fr-BE,fr;q=0.9,en;q=0.5", "de": "de-DE,de;q=0.9,en;q=0.8"}[lang]

    def act(page):
        page.set_extra_http_headers({"Accept-Language": accept})
        page.goto(f"{live.url}/")
        assert page.get_attribute("html", "lang") == lang
        assert page.inner_text("h1") == heading
        page.goto(f"{live.url}/verify")
        page.fill("#credential", json.dumps(doc))
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=verdict]")
        assert expired in page.inner_text("[data-testid=verdict-words]")
        assert page.inner_text("[data-testid=verified-at]").startswith(verified_at)

    at_widths(browser, f"languages-verify-expired-{lang}", act)


def test_the_switch_changes_the_language_and_it_sticks(browser, live):
    def act(page):
        page.set_extra_http_headers({"Accept-Language": "en"})
        page.goto(f"{live.url}/verify")
        assert page.inner_text("h1") == "Verify a credential"
        page.click("[data-testid=languages] a[data-lang=de]")
        assert page.inner_text("h1") == "Nachweis prüfen" and page.get_attribute("html", "lang") == "de"
        page.goto(f"{live.url}/catalogue.html")  # the choice is remembered, over the browser's language
        assert page.inner_text("h1") == "Katalog der Micro-Credentials"
        page.click("[data-testid=languages] a[data-lang=fr]")
        assert page.inner_text("h1") == "Catalogue des micro-certifications"
        assert page.locator("[data-testid=languages] [aria-current]").inner_text() == "Français"

    at_widths(browser, "languages-switch", act)


def test_one_formatter_of_dates_in_words_for_the_pages_and_the_pdf():
    """Issue 14: there were two (app/holder/pdf.py and wallet_demo/i18n.py); now there is one."""
    from app.holder.pdf import date_in_words
    from wallet_demo import i18n

    assert i18n.date_words is date_in_words
    assert [date_in_words("2026-06-30T10:00:00Z", lang) for lang in ("en", "fr", "de")] == ["30 June 2026", "30 juin 2026", "30. Juni 2026"]
    assert date_in_words("2026-06-30T23:30:00+02:00", "en", with_time=True) == "30 June 2026, 21:30 UTC"
    assert date_in_words("not a date", "en") is None and date_in_words("2" * 41, "en") is None


REASONS = {
    "fr": ("La signature est vérifiée : le contenu est tel qu’il a été signé.", "Hors de ses dates de validité."),
    "de": ("Die Signatur ist gültig: Der Inhalt ist so, wie er signiert wurde.", "Außerhalb seines Gültigkeitszeitraums."),
}


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_the_check_reasons_are_in_the_pages_language(browser, live, provider, lang):
    """Issue 14: the verifier's reasons are English (app/verification); the page says each check in its language,
    and keeps the verifier's own words in the report's JSON view."""
    proof, validity = REASONS[lang]
    doc = _sign(live, provider, _plain(provider[0].did, validFrom=_stamp(timedelta(days=-30)), validUntil="2026-01-15T00:00:00Z"))

    def act(page):
        page.set_extra_http_headers({"Accept-Language": lang})
        page.goto(f"{live.url}/verify")
        page.fill("#credential", json.dumps(doc))
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=verdict]")
        assert page.inner_text("[data-check=proof] .reason") == proof
        assert page.inner_text("[data-check=validity] .reason") == validity
        report = json.loads(page.text_content("[data-testid=report-json] pre"))
        english = {c["id"]: c["reason"] for c in report["checks"]}
        assert english["validity"] == "expired on 2026-01-15T00:00:00Z"
        for item in page.locator("[data-testid=checks] > li").all():
            check = item.get_attribute("data-check")
            assert item.locator(".reason").inner_text() != english[check], check  # no check left in the verifier's English

    at_widths(browser, f"languages-check-reasons-{lang}", act)


def test_every_check_the_verifier_makes_has_a_sentence():
    """Each (check id, outcome) written in app/verification has its own sentence, not the generic one."""
    from wallet_demo.check_words import SENTENCES

    made = set()
    for path in (ROOT / "app" / "verification").glob("*.py"):
        made |= set(re.findall(r'Check\(\s*"(\w+)",\s*"(passed|failed|indeterminate|skipped)"', path.read_text()))
    assert len(made) > 25
    assert sorted(m for m in made if (m[0], m[1], None) not in SENTENCES) == []


WALLET = {
    "fr": ("Mes justificatifs", "Valide", "30 juin 2026", "Établissement", "Mes liens de partage", "Le code QR du PDF"),
    "de": ("Meine Nachweise", "Gültig", "30. Juni 2026", "Anbieter", "Meine Freigabelinks", "Der QR-Code im PDF"),
}


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_the_wallet_pages_speak_the_learners_language(browser, live, provider, example_input, lang):
    """Issue 14: the wallet's page bodies (cards, detail, share), not only the sign-in page, in French and German."""
    import httpx

    from tests.wallet.conftest import Learner, issue

    heading, valid, date, provider_label, shares, qr = WALLET[lang]
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as api:
        learner = Learner(live, f"lea-{lang}@example.org")
        offer = api.post(f"/credentials/{issue(api, example_input, learner.email)}/offer").json()
    path = offer["offerUrl"].removeprefix(live.url)
    learner.http.get(path)
    assert learner.post("/wallet/claim", {"link": path.rsplit("/", 1)[-1]}).status_code == 303
    cookie = learner.http.cookies.get("mc_wallet")
    learner.close()

    def act(page):
        page.context.add_cookies([{"name": "mc_wallet", "value": cookie, "url": live.url}])
        page.set_extra_http_headers({"Accept-Language": lang})
        page.goto(f"{live.url}/wallet")
        assert page.inner_text("h1") == heading
        card = page.locator(".credential-card").first
        text = card.inner_text()
        assert valid in text and date in text and provider_label in text, text
        card.locator("h2 a").click()
        page.wait_for_selector("#credential")
        assert qr in page.inner_text("#pdf-form")
        assert page.inner_text(".checks [data-check=proof] .reason") == REASONS[lang][0]  # the same sentences as /verify
        assert '"reason": "the signature verifies"' in page.text_content("[data-testid=report-json] pre")
        page.goto(f"{live.url}/wallet/shares")
        assert shares in page.inner_text("#shares")

    at_widths(browser, f"languages-wallet-{lang}", act)
