"""The demo wallet answers the employer's "Ask the learner's wallet" through OpenID4VP, end to end in real headless
Chromium: the learner signs in, imports an SD-JWT VC bound to the wallet's did:key, opens the employer's request,
sees who asks and why, chooses the claims to disclose and sends; the employer's page shows the verdict with the
claims withheld. Screenshots in test-artifacts/."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser import browser, screenshot, sign_in  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

EMAIL = "learner@example.org"


def _sign_in(page, live) -> str:
    sign_in(page, live, EMAIL)
    page.goto(f"{live.url}/wallet/present")
    return re.search(r"did:key:z[1-9A-HJ-NP-Za-km-z]+", page.content()).group(0)


def test_the_demo_wallet_answers_the_employers_request_disclosing_chosen_claims(live, browser, client, example_input, tmp_path):  # noqa: F811
    learner = browser.new_context(viewport={"width": 1100, "height": 1000}).new_page()
    learner.set_default_timeout(60_000)
    holder_did = _sign_in(learner, live)
    issued = client.post("/microcredentials", json={"format": "sd-jwt", "holder": holder_did, "microcredential": example_input})
    assert issued.status_code == 201, issued.text
    path = tmp_path / "credential.jwt"
    path.write_text(issued.text)
    learner.goto(f"{live.url}/wallet")
    learner.set_input_files("#import-file", str(path))
    learner.click("form[action='/wallet/import'] button[type=submit]")
    learner.wait_for_load_state()
    assert "/wallet/credentials/" in learner.url

    employer = browser.new_context(viewport={"width": 1100, "height": 1000}).new_page()
    employer.set_default_timeout(60_000)
    employer.goto(f"{live.url}/verify")
    employer.fill("#verifier_name", "Acme Hiring")
    employer.fill("#purpose", "Data analyst post")
    employer.click("[data-testid=ask-button]")
    employer.wait_for_selector("[data-testid=ask-qr] svg")
    demo_link = employer.locator("[data-testid=ask-demo-wallet]").get_attribute("href")

    learner.goto(f"{live.url}{demo_link}")
    learner.wait_for_selector("[data-testid=asked]")
    assert learner.locator("[data-testid=asked-verifier]").inner_text() == "Acme Hiring"
    assert learner.locator("[data-testid=asked-purpose]").inner_text() == "Data analyst post"
    for name in ("title", "given_name", "family_name", "grade"):
        learner.check(f"[data-testid=claim-{name}]")
    assert not learner.locator("[data-testid=claim-date_of_birth]").is_checked()
    screenshot(learner, "wallet-oid4vp-choose-claims")
    learner.click("[data-testid=send]")
    learner.wait_for_selector("[data-testid=sent]")
    back = learner.locator("[data-testid=back-to-verifier]").get_attribute("href")
    assert back.startswith(f"{live.url}/verify/ask/")
    screenshot(learner, "wallet-oid4vp-sent")

    employer.wait_for_selector("[data-testid=verdict]", timeout=60_000)  # the page's own refresh
    assert employer.locator("[data-testid=verdict]").get_attribute("data-verdict") in ("valid", "valid with warnings")
    withheld = employer.locator("[data-testid=withheld]").inner_text()
    assert "date_of_birth" in withheld and "grade" not in withheld and "title" not in withheld
    assert employer.locator("[data-check=holder_binding]").get_attribute("data-outcome") == "passed"
    screenshot(employer, "verify-ask-wallet-answered-by-demo-wallet")
    # the request is answered: the wallet cannot answer it twice
    learner.goto(f"{live.url}{demo_link}")
    assert learner.locator("[data-testid=error]").count() == 1
    assert httpx.get(f"{live.url}/presentation-requests/{back.rsplit('/', 1)[-1].split('?')[0]}").json()["status"] == "received"
