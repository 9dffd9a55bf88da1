"""The institution's logo (issue 14), in real headless Chromium at 1280 and 390 px and through the PDF download.

A logo is shown where the trust registry or the credential has one (OB3 ``issuer.image``, EDC awarding body
``logo``), and only as a ``data:`` URI: a logo by URL is never fetched (by the server or the page), and a
credential that fails its authenticity check gets no logo.
"""

from __future__ import annotations

import base64
import io
import json

import pytest

from app.credentials.images import card_png
from tests.api.test_verifier import _plain, _sign
from tests.browser import at_widths

pytestmark = pytest.mark.browser

LOGO = "data:image/png;base64," + base64.b64encode(card_png("University of Zed")).decode()
REMOTE = "https://logo.invalid/zed.png"


def _with_image(provider, image) -> dict:
    return _plain(provider[0].did, issuer={"id": provider[0].did, "name": "University of Zed", "image": image})


def _shown(browser, live, text: str, name: str = "logo-verify"):
    def act(page):
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(f"{live.url}/verify")
        page.fill("#credential", text)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=verdict]")
        logo = page.locator("[data-testid=institution-logo]")
        seen = None
        if logo.count():
            seen = {
                "src": logo.get_attribute("src"),
                "alt": logo.get_attribute("alt"),
                "loaded": page.eval_on_selector("[data-testid=institution-logo]", "e => e.complete && e.naturalWidth > 0"),
            }
        return seen, [u for u in asked if not u.startswith((live.url, "data:"))]

    return at_widths(browser, name, act)  # each case its own screenshots (test-artifacts/)


def test_the_verify_page_shows_the_credentials_logo_only_as_a_data_uri(browser, live, provider):
    signed = _sign(live, provider, _with_image(provider, {"id": LOGO, "type": "Image"}))
    for seen, elsewhere in _shown(browser, live, json.dumps(signed)):
        assert seen == {"src": LOGO, "alt": "Logo of University of Zed", "loaded": True}  # the page's CSP allows data: images
        assert elsewhere == []

    by_url = _sign(live, provider, _with_image(provider, {"id": REMOTE, "type": "Image"}))
    for seen, elsewhere in _shown(browser, live, json.dumps(by_url), "logo-verify-by-url"):
        assert seen is None and elsewhere == []  # never fetched, never shown

    tampered = dict(signed, credentialSubject={"id": "did:example:learner", "name": "Mallory"})
    for seen, _ in _shown(browser, live, json.dumps(tampered), "logo-verify-tampered"):
        assert seen is None  # no institution's face on content that failed its authenticity check


def test_the_wallets_card_and_pdf_show_the_logo(browser, live, provider):
    from pypdf import PdfReader

    from tests.wallet.conftest import Learner

    learner = Learner(live, "logo@example.org")
    signed = _sign(live, provider, _with_image(provider, LOGO))
    plain = _sign(live, provider, _plain(provider[0].did))
    ids = []
    for doc in (signed, plain):
        r = learner.http.post("/wallet/import", data={"csrf": learner.csrf}, files={"file": ("vc.json", json.dumps(doc).encode(), "application/json")})
        assert r.status_code == 303, r.text
        ids.append(r.headers["location"].rsplit("/", 1)[-1])
    images = []
    for hid in ids:
        pdf = learner.post(f"/wallet/credentials/{hid}/pdf")
        assert pdf.status_code == 200
        images.append(len(PdfReader(io.BytesIO(pdf.content)).pages[0].images))
    assert images[0] == images[1] + 1  # the logo, above the QR code
    cookie = learner.http.cookies.get("mc_wallet")
    learner.close()

    def act(page):
        page.context.add_cookies([{"name": "mc_wallet", "value": cookie, "url": live.url}])
        page.goto(f"{live.url}/wallet")
        card = page.locator(f".credential-card[data-holding='{ids[0]}'] [data-testid=card-logo]")
        assert card.get_attribute("src") == LOGO
        assert page.eval_on_selector(f".credential-card[data-holding='{ids[0]}'] [data-testid=card-logo]", "e => e.complete && e.naturalWidth > 0")
        assert page.locator(f".credential-card[data-holding='{ids[1]}'] [data-testid=card-logo]").count() == 0

    at_widths(browser, "logo-wallet-cards", act)


def test_a_trust_registry_logo_is_a_data_uri_or_the_file_is_refused(tmp_path):
    from app.errors import MalformedValueError
    from app.verification.trust import TrustRegistry

    def registry(logo):
        path = tmp_path / "registry.json"
        path.write_text(json.dumps({"issuers": {"did:web:uni.example": {"legalName": "Uni", "status": "trusted", "logo": logo}}}))
        return TrustRegistry.load(path)

    assert registry(LOGO).lookup("did:web:uni.example:issuers:x").details()["logo"] == LOGO
    for bad in (REMOTE, "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "data:image/png;base64,aGVsbG8="):
        with pytest.raises(MalformedValueError):
            registry(bad)
