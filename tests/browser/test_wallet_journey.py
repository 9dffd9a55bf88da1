"""The learner's journey through the wallet, as a person does it, in real headless Chromium.

A provider issues the EU example to the demo learner's e-mail and makes a claim link; the learner signs
in with the link from the service log, claims, sees the card and the detail page, downloads the PDF
(whose embedded credential a verifier extracts and verifies), creates a share link that a stranger opens
in a fresh browser context and sees as valid; the provider revokes; the wallet and the shared page both
show it revoked. Each step leaves a screenshot in test-artifacts/.

(No ``__init__.py`` in this folder on purpose: ``tests.browser`` is the helper module tests/browser.py.)
"""

from __future__ import annotations

import copy
import json
import logging
import re

import httpx
import pytest

from app.holder.pdf import extract_credential_from_pdf
from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tests.conftest import SHARED

pytestmark = pytest.mark.browser

EMAIL = "learner@example.org"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _signin_link_from_log(caplog, email: str) -> str:
    for message in reversed(caplog.messages):
        local, _, domain = email.partition("@")
        m = re.search(rf"sign-in link for {re.escape(local[:1])}\*\*\*@{re.escape(domain)}: (\S+)", message)
        if m:
            return m.group(1)
    raise AssertionError(f"no sign-in link for {email} in the log: {caplog.messages}")


def test_learner_journey(live, browser, caplog, tmp_path):  # noqa: F811 - browser is the fixture
    caplog.set_level(logging.INFO, logger="microcred.wallet")
    # -- the provider issues the EU example to the learner's e-mail and asks for a claim link
    provider, api_key = live.app.state.issuance.providers.create(slug="demo", name="Demo University", country="IE", homepage="https://demo.example.edu")
    record = json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text())
    record = copy.deepcopy(record)
    record["learner"].pop("id", None)
    record["learner"]["email"] = EMAIL
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
    issued = api.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": record})
    assert issued.status_code == 201, issued.text
    credential_id = issued.headers["location"].removeprefix("/credentials/")
    offer = api.post(f"/credentials/{credential_id}/offer").json()
    assert offer["qrSvg"].startswith("<svg")

    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)

    # -- following the claim link while signed out leads to sign-in
    page.goto(offer["offerUrl"])
    assert "/wallet/signin" in page.url
    screenshot(page, "wallet-01-signin")
    page.fill("#email", EMAIL)
    page.click("button[type=submit]")
    page.wait_for_selector("#signin-sent")
    screenshot(page, "wallet-02-signin-sent")

    # -- the link from the service log (the test-only outbox holds the same)
    link = _signin_link_from_log(caplog, EMAIL)
    assert (EMAIL, link) in live.app.state.wallet.outbox
    page.goto(link)
    page.click("#confirm-signin")
    page.wait_for_selector("#claim")  # back at the claim link, now signed in
    assert "Digital micro-credential creation" in page.inner_text("#claim")
    screenshot(page, "wallet-03-claim")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["mc_wallet"]["httpOnly"] and cookies["mc_wallet"]["sameSite"] == "Lax"

    page.click("#accept")
    page.wait_for_selector("#credential")
    holding_url = page.url

    # -- the card in the wallet (desktop and phone)
    page.goto(f"{live.url}/wallet")
    card = page.locator(".credential-card").first
    assert card.get_attribute("data-state") == "valid"
    text = card.inner_text()
    assert "Digital micro-credential creation" in text and "University of Zed" in text and "2" in text and "6" in text
    screenshot(page, "wallet-04-cards-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "wallet-05-cards-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scrolling
    page.set_viewport_size(DESKTOP)

    # -- the detail view
    card.locator("h2 a").click()
    page.wait_for_selector("#credential")
    assert page.url == holding_url
    screenshot(page, "wallet-06-detail")
    detail = page.inner_text("main")
    for expected in ("Digital micro-credential creation", "Developing digital content", "Communication, collaboration and creativity", "Valid", "EQF"):
        assert expected in detail, expected

    # -- the PDF: readable, and a verifier can extract and verify the credential in it
    with page.expect_download() as download_info:
        page.click("#download-pdf")
    pdf_path = tmp_path / "credential.pdf"
    download_info.value.save_as(pdf_path)
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    raw = extract_credential_from_pdf(pdf)
    report = live.app.state.runtime.verifier.verify(raw)
    assert report.verified, report.as_dict()
    assert report.credential["id"] == credential_id

    # -- a share link, opened by someone else in a fresh browser context
    page.goto(f"{live.url}/wallet/shares")
    page.check(f"input[name=holding][value='{holding_url.rsplit('/', 1)[-1]}']")
    page.fill("#label", "Employer")
    page.click("#create-share")
    page.wait_for_selector("#share-created")
    share_url = page.input_value("#share-url")
    screenshot(page, "wallet-07-share-created")

    stranger = browser.new_context(viewport=DESKTOP)
    other = stranger.new_page()
    other.set_default_timeout(60_000)
    response = other.goto(share_url)
    assert response.status == 200
    shared = other.locator(".shared-credential").first
    assert shared.get_attribute("data-state") == "valid"
    assert "Digital micro-credential creation" in shared.inner_text()
    screenshot(other, "wallet-08-shared-valid")

    page.goto(f"{live.url}/wallet/shares")
    assert "Opened 1 time" in page.inner_text("#shares")
    screenshot(page, "wallet-09-share-views")

    # -- the employer pastes the share link into the verify page: resolved here, not fetched over the network
    other.goto(f"{live.url}/verify")
    other.fill("#url", share_url)
    other.click("button[type=submit]")
    other.wait_for_selector("[data-testid=verdict]")
    assert other.locator("[data-testid=verdict]").get_attribute("data-verdict") == "valid"
    assert other.inner_text("[data-testid=title]") == "Digital micro-credential creation"
    screenshot(other, "wallet-09b-share-link-verified")

    # -- the provider revokes; the wallet and the shared page both show it
    r = api.post("/credentials/status", json={"credentialId": credential_id, "status": "revoked"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    page.goto(f"{live.url}/wallet")
    assert page.locator(".credential-card").first.get_attribute("data-state") == "revoked"
    assert "Revoked" in page.locator(".credential-card").first.inner_text()
    screenshot(page, "wallet-10-wallet-revoked")
    page.goto(holding_url)  # downloading or sharing it now comes with a warning, said before the buttons
    assert "revoked by its issuer" in page.inner_text("[data-testid=state-warning]")
    screenshot(page, "wallet-10b-detail-revoked-warning")
    other.goto(share_url)
    assert other.locator(".shared-credential").first.get_attribute("data-state") == "revoked"
    screenshot(other, "wallet-11-shared-revoked")

    # -- the learner revokes the share link: the stranger now sees nothing
    page.goto(f"{live.url}/wallet/shares")
    page.click("#shares form button")
    response = other.goto(share_url)
    assert response.status == 410 and "Digital micro-credential" not in other.inner_text("main")
    screenshot(other, "wallet-12-share-revoked")
    other.goto(f"{live.url}/verify")
    other.fill("#url", share_url)
    other.click("button[type=submit]")
    assert "revoked by the learner" in other.inner_text("[data-testid=error]")

    stranger.close()
    context.close()
    api.close()
