"""The employer's verification page in real headless Chromium, against the live service.

(No __init__.py in this folder on purpose: ``tests.browser`` must stay the helper module tests/browser.py.)
"""

from __future__ import annotations

import copy
import re

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


# -- verify by link (issue 14): beside paste and upload, fetched only through the guarded fetcher (app/net.py)


def _verify_link(page, live, link: str):
    page.goto(f"{live.url}/verify")
    page.fill("#url", link)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=verdict], [data-testid=error]")


def test_a_link_to_a_credential_is_fetched_and_verified(page, live, client, example_input, tmp_path):
    from tests.local_server import LocalServer

    issued = _issue(client, example_input, "edc")
    token = _issue(client, example_input, "ob3", "vc+jwt").text
    with LocalServer() as files:
        files.documents["/credentials/edc.json"] = ("application/vc+ld+json", issued.content)
        files.documents["/credentials/badge.jwt"] = ("application/vc+jwt", token.encode())
        _verify_link(page, live, files.url("/credentials/edc.json"))
        assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") == "valid"
        assert page.locator("[data-testid=title]").inner_text() == "Digital micro-credential creation"
        screenshot(page, "verify-by-link")
        _verify_link(page, live, files.url("/credentials/badge.jwt"))
        assert page.locator("[data-testid=verdict]").get_attribute("data-verdict") == "valid"
        # The one guarded fetcher asked, with the media types a credential comes in.
        path, headers = files.requests[-1]
        assert path == "/credentials/badge.jwt" and "application/vc+jwt" in headers["Accept"]
        assert headers["User-Agent"] == "microcred-fetcher/1"


def test_a_link_inside_the_network_or_to_a_web_page_is_refused(page, live):
    import httpx

    # The fetcher's SSRF rules apply: no IP literal (cloud metadata), no plain http, no redirects.
    _verify_link(page, live, "https://169.254.169.254/latest/meta-data/")
    assert "IP address" in page.locator("[data-testid=error]").inner_text()
    screenshot(page, "verify-by-link-refused")
    _verify_link(page, live, "http://intranet.example/credential.json")
    assert "only https" in page.locator("[data-testid=error]").inner_text()
    _verify_link(page, live, f"{live.url}/")  # an HTML page (the front page, through the test-only loopback allowance)
    assert "web page, not to a credential" in page.locator("[data-testid=error]").inner_text()
    # An unknown share link of this service is opened locally and refused as not found: a 4xx, never a 500.
    _verify_link(page, live, f"{live.url}/wallet/shared/not-a-real-token")
    assert "does not exist" in page.locator("[data-testid=error]").inner_text()
    r = httpx.get(f"{live.url}/verify")
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    refused = httpx.post(f"{live.url}/verify", cookies=r.cookies, files={"csrf": (None, token), "url": (None, "https://10.0.0.1/x")})
    assert refused.status_code == 422 and "IP address" in refused.text
