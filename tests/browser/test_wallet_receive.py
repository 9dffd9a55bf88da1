"""The demo wallet receives through OpenID4VCI in real headless Chromium: the learner signs in, pastes the
``openid-credential-offer://`` link of an offer made with ``POST /microcredentials/offers``, sees who offers what,
types a wrong tx_code (refused in words, asked again), then the right one, and the credential is kept and shown as
valid; the offer page's "Open in the demo wallet" opens the same form pre-filled. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from tests.browser import browser, screenshot, sign_in  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

EMAIL = "receiver@example.org"


def _sign_in(page, live) -> None:
    sign_in(page, live, EMAIL)


def test_paste_an_offer_type_the_code_and_the_credential_is_stored(live, browser, client, example_input):  # noqa: F811
    created = client.post("/microcredentials/offers", json={"microcredential": example_input})
    assert created.status_code == 201, created.text
    offer = created.json()
    page = browser.new_context(viewport={"width": 1100, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    _sign_in(page, live)
    page.goto(f"{live.url}/wallet")
    page.click("nav.wallet-nav a[href='/wallet/receive']")
    page.fill("[data-testid=offer-link]", offer["credential_offer_uri"])
    screenshot(page, "wallet-receive-paste")
    page.click("[data-testid=read-offer]")
    page.wait_for_selector("[data-testid=offered]")
    assert "University of Zed" in page.locator("[data-testid=offered] h2").inner_text()
    page.check("[data-testid=configuration-eu_microcredential_sd_jwt]")
    wrong = "000000" if offer["tx_code"] != "000000" else "111111"
    page.fill("[data-testid=tx-code]", wrong)
    page.click("[data-testid=receive]")
    page.wait_for_selector("[data-testid=receive-error]")
    assert "This code is not the right one" in page.locator("[data-testid=receive-error]").inner_text()
    screenshot(page, "wallet-receive-wrong-code")
    assert page.locator("[data-testid=configuration-eu_microcredential_sd_jwt]").is_checked()  # the choice is kept
    page.fill("[data-testid=tx-code]", offer["tx_code"])
    screenshot(page, "wallet-receive-tx-code")
    page.click("[data-testid=receive]")
    page.wait_for_url("**/wallet/credentials/**")
    assert page.locator("[data-state=valid]").count() >= 1
    screenshot(page, "wallet-receive-stored")
    page.goto(f"{live.url}/wallet")
    assert page.locator("[data-state=valid]").count() >= 1 and example_input["title"]["en"] in page.content()
    assert client.get(f"/microcredentials/offers/{offer['id']}").json()["state"] == "redeemed"

    # the offer page of another offer opens the demo wallet with its link filled in
    second = client.post("/microcredentials/offers", json={"microcredential": example_input, "configurations": ["ob3_ldp_vc"]}).json()
    page.goto(f"{live.url}/offers/{second['id']}")
    page.click("#offer-demo-wallet")
    page.wait_for_selector("[data-testid=offered]")
    assert page.locator("input[name=link]").get_attribute("value") == second["credential_offer_uri"]
    screenshot(page, "wallet-receive-from-offer-page")
