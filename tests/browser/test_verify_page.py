"""The employer's verification page in real headless Chromium, against the live service.

(No __init__.py in this folder on purpose: ``tests.browser`` must stay the helper module tests/browser.py.)
"""

from __future__ import annotations

import copy

import pytest

from tests.browser import screenshot

pytestmark = pytest.mark.browser

XSS = '<script>window.__xss = 1; alert("xss")</script><img src=x onerror="window.__xss = 2; alert(2)">'


def _issue(client, example_input, fmt="ob3", proof="eddsa-rdfc-2022"):
    r = client.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return r


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.dialogs, page.console_lines = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: page.console_lines.append(m.text))
    try:
        yield page
    finally:
        context.close()


def _paste_and_verify(page, live, text: str):
    page.goto(f"{live.url}/verify")
    page.fill("#credential", text)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=verdict], [data-testid=error]")


def test_paste_an_issued_credential_shows_valid_with_its_content(page, live, client, example_input):
    issued = _issue(client, example_input, "edc")
    _paste_and_verify(page, live, issued.text)
    verdict = page.locator("[data-testid=verdict]")
    assert verdict.get_attribute("data-verdict") == "valid" and "Valid credential" in verdict.inner_text()
    assert page.locator("[data-testid=title]").inner_text() == "Digital micro-credential creation"
    assert "ECTS" in page.locator("[data-testid=ects]").inner_text()
    assert page.locator("[data-testid=ects]").inner_text().startswith(f"{example_input['workload']['ects']:g} ECTS")
    assert page.locator("[data-testid=eqf]").inner_text().startswith(f"EQF level {example_input['level']['eqf']}")
    checks = page.locator("[data-testid=checks]").inner_text()
    assert "Signature" in checks and "Recognised institution" in checks and "University of Zed" in checks
    assert page.dialogs == []
    screenshot(page, "verify-valid-paste")


def test_upload_a_jwt_file(page, live, client, example_input, tmp_path):
    token = _issue(client, example_input, "ob3", "vc+jwt").text
    path = tmp_path / "credential.jwt"
    path.write_text(token)
    page.goto(f"{live.url}/verify")
    page.set_input_files("#file", str(path))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=verdict]")
    assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") == "valid"
    assert "vc+jwt" in page.content()
    # The DID and the proof format are there on request only.
    assert not page.locator("[data-testid=did] code").is_visible()
    page.click("[data-testid=did] summary")
    assert page.locator("[data-testid=did] code").inner_text().startswith("did:web:")
    assert ".pdf" in page.get_attribute("#file", "accept")
    screenshot(page, "verify-valid-upload")


def test_a_revoked_credential_is_not_valid_and_says_why(page, live, client, example_input):
    issued = _issue(client, example_input, "ob3", "eddsa-jcs-2022")
    assert client.post("/credentials/status", json={"credentialId": issued.json()["id"], "status": "revoked"}).status_code == 200
    _paste_and_verify(page, live, issued.text)
    assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") == "not valid"
    assert "Not valid" in page.locator("[data-testid=verdict]").inner_text()
    assert "Revoked by its issuer" in page.locator("[data-testid=verdict-words]").inner_text()
    status = page.locator("[data-check=status]").inner_text()
    assert "failed" in status and "revoked by its issuer" in status
    # Revoked, yet genuinely signed: the content is shown as trusted, the institution by name.
    assert page.locator("[data-testid=content]").get_attribute("data-trust") is None
    assert page.locator("[data-testid=institution-name]").inner_text() == "University of Zed"
    screenshot(page, "verify-revoked")


def test_script_in_a_credential_is_shown_as_text_and_never_runs(page, live, client, example_input):
    evil = copy.deepcopy(example_input)
    evil["title"] = {"en": XSS}
    issued = _issue(client, evil, "ob3", "eddsa-jcs-2022")
    _paste_and_verify(page, live, issued.text)
    assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") == "valid"  # genuinely signed
    assert page.locator("[data-testid=title]").inner_text() == XSS  # the markup, literally
    assert page.locator("[data-testid=content] img").count() == 0 and page.locator("main script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == [] and not any("xss" in line for line in page.console_lines)
    screenshot(page, "verify-xss-inert")


def test_not_a_credential_and_a_missing_csrf_token(page, live):
    _paste_and_verify(page, live, '{"hello": "world"}')
    assert "not a verifiable credential" in page.locator("[data-testid=error]").inner_text()
    # A cross-site post (no cookie, no token) is refused.
    import httpx

    r = httpx.post(f"{live.url}/verify", files={"credential": (None, "{}"), "csrf": (None, "forged")})
    assert r.status_code == 403 and "expired" in r.text
    cookie = httpx.get(f"{live.url}/verify").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_phone_sized_screen(browser, live, client, example_input):
    issued = _issue(client, example_input, "edc")
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _paste_and_verify(page, live, issued.text)
        assert page.locator("[data-testid=verdict]").is_visible()
        # Nothing wider than the screen: long DIDs and URLs wrap.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "verify-phone-390x844")
    finally:
        context.close()
