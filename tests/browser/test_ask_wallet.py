"""The employer's "Ask the learner's wallet" in real headless Chromium: the page makes an OpenID4VP request, shows
its QR code and link and waits (a meta refresh: the page runs no script); a wallet answers by direct_post (here a
holder in the test holding an SD-JWT VC, presenting with a Key Binding JWT and withholding claims); the page then
shows the verdict as for a pasted credential, with the claims the learner did not disclose. The same page verifies
a pasted Data Integrity presentation signed with a challenge it handed out, once."""

from __future__ import annotations

import base64
import json
import urllib.parse

import httpx
import pytest

from app.keys import Ed25519Signer, P256Signer
from app.proofs import sd_jwt
from app.vcdm import VC2
from tests.browser import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        yield page
    finally:
        context.close()


def _request_object(link: str) -> dict:
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    token = httpx.get(params["request_uri"], timeout=30).text
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def test_ask_the_learners_wallet_shows_the_qr_then_the_verdict_with_withheld_claims(page, live, client, example_input):
    holder = P256Signer.generate()
    token = client.post("/microcredentials", json={"format": "sd-jwt", "holder": {"jwk": holder.public_jwk()}, "microcredential": example_input}).text
    page.goto(f"{live.url}/verify")
    page.fill("#verifier_name", "Acme Hiring")
    page.fill("#purpose", "Data analyst post")
    page.click("[data-testid=ask-button]")
    page.wait_for_selector("[data-testid=ask-qr] svg")
    assert page.locator("[data-testid=ask]").get_attribute("data-status") == "pending"
    assert "Acme Hiring" in page.locator("[data-testid=ask-verifier]").inner_text()
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    link = page.locator("[data-testid=ask-link]").get_attribute("href")
    assert link.startswith("openid4vp://?") and link == page.locator("[data-testid=ask-link-text]").text_content()
    screenshot(page, "verify-ask-wallet-pending")
    waiting_url = page.url
    # the learner's wallet answers
    claims = _request_object(link)
    assert claims["client_metadata"]["client_name"] == "Acme Hiring"
    keep = {"title", "given_name", "family_name", "grade", "awarding_body", "learning_outcomes"}
    presentation = sd_jwt.present(token, lambda name, _: name in keep, holder=holder, aud=claims["client_id"], nonce=claims["nonce"])
    answer = httpx.post(claims["response_uri"], data={"vp_token": json.dumps({"microcredential_sd_jwt": [presentation]}), "state": claims["state"]})
    assert answer.status_code == 200 and answer.json()["redirect_uri"].startswith(waiting_url), answer.text
    # the page's own refresh shows the verdict (a deadline against a hang only)
    page.wait_for_selector("[data-testid=verdict]", timeout=60_000)
    assert page.locator("[data-testid=ask]").get_attribute("data-status") == "received"
    assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") in ("valid", "valid with warnings")
    # what was disclosed, as for a pasted SD-JWT VC (the page reads Annex I facts from OB3 and EDC only)
    shown = page.locator("[data-testid=json]").text_content()
    assert "Digital micro-credential creation" in shown and "date_of_birth" not in shown
    withheld = page.locator("[data-testid=withheld]").inner_text()
    assert "date_of_birth" in withheld and "title" not in withheld
    checks = page.locator("[data-testid=checks]").inner_text()
    assert "Presented by its holder" in checks and "Disclosed by the learner" in checks
    assert page.locator("meta[http-equiv=refresh]").count() == 0 and page.dialogs == []
    screenshot(page, "verify-ask-wallet-verdict")


def test_a_pasted_presentation_signed_with_the_pages_challenge_verifies_once(page, live, client, example_input):
    credential = client.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input}).json()
    page.goto(f"{live.url}/verify")
    page.click("[data-testid=challenge-button]")
    challenge = page.locator("[data-testid=challenge-value]").inner_text()
    domain = page.locator("[data-testid=challenge-domain]").inner_text()
    holder = Ed25519Signer.generate()
    mb = holder.public_multibase()
    holder.verification_method = f"did:key:{mb}#{mb}"
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": f"did:key:{mb}", "verifiableCredential": [credential]}
    vp = live.app.state.runtime.engine.add_proof(vp, holder, proof_purpose="authentication", challenge=challenge, domain=domain)
    page.fill("#credential", json.dumps(vp))
    page.click("form[action='/verify'] button[type=submit]")
    page.wait_for_selector("[data-testid=verdict]")
    assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") in ("valid", "valid with warnings")
    assert page.locator("[data-check=challenge]").get_attribute("data-outcome") == "passed"
    assert page.locator("[data-check=holder_binding]").get_attribute("data-outcome") == "passed"
    screenshot(page, "verify-pasted-presentation")
    # the same presentation again: its challenge is used up
    page.goto(f"{live.url}/verify")
    page.fill("#credential", json.dumps(vp))
    page.click("form[action='/verify'] button[type=submit]")
    page.wait_for_selector("[data-testid=verdict]")
    assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") == "not valid"
    assert page.locator("[data-check=challenge]").get_attribute("data-outcome") == "failed"
