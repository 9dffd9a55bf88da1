"""Every page of the service, as a person reaches it, in real headless Chromium (issue 14).

One tour signs a learner in, claims a credential, shares it and signs a presentation, then visits each page:
the front page, the verify page (form and verdict), the catalogue, and every wallet page (sign-in, link sent,
confirm, claim, cards, detail, shares, share created, shared, present, a message). Each page is measured at
360 px (``document.documentElement.scrollWidth <= 360``: nothing scrolls sideways, long URIs and DIDs wrap)
and screenshot at 1280 and 390 px into test-artifacts/every-page/.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import urllib.parse

import httpx
import pytest

from app.credentials import specification_of
from tests.browser import ARTIFACTS
from tests.conftest import ROOT, SHARED, require

pytestmark = pytest.mark.browser

EMAIL = "learner@example.org"
#: axe-core, the npm package pinned in tests/interop/package.json (installed by .ci/run with npm ci)
AXE = ROOT / "tests" / "interop" / "node_modules" / "axe-core" / "axe.min.js"
#: what axe checks: WCAG 2.0/2.1 A and AA (EN 301 549 chapter 9 refers to WCAG 2.1 AA)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LONG_DID = "did:web:registrar.very-long-university-name.example.edu%3A8443:issuers:faculty-of-engineering-and-computer-science"


def _signin_link_from_log(caplog, email: str) -> str:
    local, _, domain = email.partition("@")
    for message in reversed(caplog.messages):
        m = re.search(rf"sign-in link for {re.escape(local[:1])}\*\*\*@{re.escape(domain)}: (\S+)", message)
        if m:
            return m.group(1)
    raise AssertionError(f"no sign-in link for {email} in the log")


def _goto(url):
    def visit(page):
        page.goto(url)

    return visit


#: The deepest elements that reach past the viewport's right edge (tag.class#id and width), to say what to fix.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
               && ![...e.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().width)}px`)"""


class Tour:
    """A signed-in learner's browser context, and the way to reach each page (name -> visit(page))."""

    def __init__(self, live, browser, caplog, *, bypass_csp: bool = False):
        caplog.set_level(logging.INFO, logger="microcred.wallet")
        provider, api_key = live.app.state.issuance.providers.create(slug="demo", name="Demo University", country="IE", homepage="https://demo.example.edu")
        record = copy.deepcopy(json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text()))
        record["learner"].pop("id", None)
        record["learner"]["email"] = EMAIL
        self.api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
        issued = self.api.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": record})
        assert issued.status_code == 201, issued.text
        self.credential = issued.text
        credential_id = issued.headers["location"].removeprefix("/credentials/")
        offer = self.api.post(f"/credentials/{credential_id}/offer").json()
        second = self.api.post(f"/credentials/{credential_id}/offer").json()  # left waiting, for the claim page
        self.waiting_url = second["offerUrl"]

        spec = self.api.post("/specifications", json={"specification": specification_of(record), "published": True})
        assert spec.status_code == 201, spec.text
        self.spec_id = spec.json()["id"]
        oid4vci = self.api.post("/microcredentials/offers", json={"microcredential": record})
        assert oid4vci.status_code == 201, oid4vci.text
        self.oid4vci_offer = oid4vci.json()["id"]
        self.oid4vci_link = oid4vci.json()["credential_offer_uri"]

        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)
        page = self.context.new_page()
        page.set_default_timeout(60_000)
        page.goto(offer["offerUrl"])
        page.fill("#email", EMAIL)
        page.click("button[type=submit]")
        page.wait_for_selector("#signin-sent")
        link = _signin_link_from_log(caplog, EMAIL)
        page.goto(link)
        page.click("#confirm-signin")
        page.wait_for_selector("#claim")
        page.click("#accept")
        page.wait_for_selector("#credential")
        holding_url = page.url
        holding = holding_url.rsplit("/", 1)[-1]
        page.goto(f"{live.url}/wallet/shares")
        page.check(f"input[name=holding][value='{holding}']")
        page.fill("#label", "Employer")
        page.click("#create-share")
        page.wait_for_selector("#share-created")
        share_url = page.input_value("#share-url")
        page.close()
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)

        def signin_sent(p):
            p.goto(f"{live.url}/wallet/signin")
            p.fill("#email", "someone@example.org")
            p.click("button[type=submit]")
            p.wait_for_selector("#signin-sent")

        def share_created(p):
            p.goto(f"{live.url}/wallet/shares")
            p.check(f"input[name=holding][value='{holding}']")
            p.click("#create-share")
            p.wait_for_selector("#share-created")

        def presented(p):
            p.goto(f"{live.url}/wallet/present")
            p.check(f"input[name=holding][value='{holding}']")
            p.fill("#challenge", "challenge-" + "x" * 60)
            p.fill("#domain", "https://" + "verifier-with-a-long-name." * 3 + "example")
            p.click("#present-form button[type=submit]")
            p.wait_for_selector("#presentation")

        def verdict(p):
            p.goto(f"{live.url}/verify")
            p.fill("#credential", self.credential)
            p.click("button[type=submit]")
            p.wait_for_selector("[data-testid=verdict]")

        def verify_error(p):
            p.goto(f"{live.url}/verify")
            p.fill("#credential", json.dumps({"id": LONG_DID * 3}))
            p.click("button[type=submit]")
            p.wait_for_selector("[data-testid=error]")

        def catalogue(p):
            p.goto(f"{live.url}/catalogue.html?q=" + "x" * 90)

        self.visits = {
            "front": _goto(f"{live.url}/"),
            "verify-form": _goto(f"{live.url}/verify"),
            "verify-verdict": verdict,
            "verify-error": verify_error,
            "catalogue": _goto(f"{live.url}/catalogue.html"),
            "catalogue-filtered": catalogue,
            "catalogue-entry": _goto(f"{live.url}/catalogue/{self.spec_id}/page"),
            "catalogue-missing": _goto(f"{live.url}/catalogue/no-such-specification/page"),
            "wallet-cards": _goto(f"{live.url}/wallet"),
            "wallet-detail": _goto(holding_url),
            "wallet-claim": _goto(second["offerUrl"]),
            "wallet-shares": _goto(f"{live.url}/wallet/shares"),
            "wallet-share-created": share_created,
            "wallet-shared": _goto(share_url),
            "wallet-present": presented,
            "wallet-message": _goto(f"{live.url}/wallet/claim/not-a-claim-link"),
            "wallet-signin-confirm": _goto(f"{live.url}/wallet/signin/some-link"),
            "wallet-receive": _goto(f"{live.url}/wallet/receive"),
            "wallet-receive-offered": _goto(f"{live.url}/wallet/receive?" + urllib.parse.urlencode({"link": self.oid4vci_link})),
        }
        # pages seen signed out: in a second context
        self.anonymous = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)
        self.anon_page = self.anonymous.new_page()
        self.anon_visits = {
            "wallet-signin": _goto(f"{live.url}/wallet/signin?next=/wallet"),
            "wallet-signin-sent": signin_sent,
            "wallet-signin-claim-waiting": _goto(self.waiting_url),
            "oid4vci-offer": _goto(f"{live.url}/offers/{self.oid4vci_offer}"),
        }

    def each(self):
        for name, visit in self.visits.items():
            yield name, self.page, visit
        for name, visit in self.anon_visits.items():
            yield name, self.anon_page, visit

    def close(self):
        self.context.close()
        self.anonymous.close()
        self.api.close()


@pytest.fixture
def tour(live, browser, caplog):
    t = Tour(live, browser, caplog)
    try:
        yield t
    finally:
        t.close()


def test_no_page_scrolls_sideways_at_360_px(tour):
    folder = ARTIFACTS / "every-page"
    folder.mkdir(parents=True, exist_ok=True)
    wide = {}
    for name, page, visit in tour.each():
        for width in (1280, 390, 360):
            page.set_viewport_size({"width": width, "height": 900 if width > 600 else 800})
            visit(page)
            assert page.locator("main").count() == 1, name
            if width != 360:
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            else:
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > 360:
                    wide[name] = (scroll, page.evaluate(OVERFLOWING))
    assert wide == {}, f"pages wider than 360 px: {wide}"


def test_the_front_page_says_what_the_service_is_and_leads_on(tour, live):
    page = tour.anon_page
    response = page.goto(f"{live.url}/")
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"] and "unsafe-inline" not in response.headers["content-security-policy"]
    assert "micro-credentials" in page.inner_text("h1")
    for target, path in (("front-verify", "/verify"), ("front-catalogue", "/catalogue.html"), ("front-wallet", "/wallet")):
        page.goto(f"{live.url}/")
        page.click(f"[data-testid={target}]")
        assert page.url.split("?")[0].endswith(path.split("?")[0]) or "/wallet/signin" in page.url, page.url
    page.goto(f"{live.url}/verify")
    page.click("a.brand")
    assert page.url == f"{live.url}/"


def test_docs_work_offline(tour, live):
    """The browser has no network (tests/browser.py): Swagger UI renders from the package's own assets."""
    page = tour.anon_page
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(f"{live.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    assert all(u.startswith(live.url) for u in failed) and not failed


def test_every_page_passes_axe_core_with_no_serious_or_critical_violation(live, browser, caplog):
    """axe-core's script is injected by Playwright; its context bypasses the page's CSP only to let that script in."""
    require(AXE.is_file(), "axe-core is needed (npm ci --prefix tests/interop)")
    source = AXE.read_text(encoding="utf-8")
    tour = Tour(live, browser, caplog, bypass_csp=True)
    found = {}
    try:
        for name, page, visit in tour.each():
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                visit(page)
                page.add_script_tag(content=source)
                result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
                bad = [
                    f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                    for v in result["violations"]
                    if v["impact"] in ("serious", "critical")
                ]
                if bad:
                    found[f"{name}@{width}"] = bad
                assert result["passes"], f"axe ran no rule on {name}"
    finally:
        tour.close()
    assert found == {}, json.dumps(found, indent=1)


FOCUS_RING = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const s = getComputedStyle(e); return {tag: e.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }"""


def test_the_keyboard_reaches_each_control_with_a_visible_focus_ring(tour):
    """Tab moves through the page's first controls; each shows a focus outline at least 2 px wide."""
    missing = {}
    for name, page, visit in tour.each():
        page.set_viewport_size({"width": 1280, "height": 900})
        visit(page)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        controls = page.locator("a[href], button, input:not([type=hidden]), select, textarea, summary").count()
        assert controls >= 2, name
        for _ in range(min(6, controls)):
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_RING)
            assert ring is not None, f"{name}: Tab reached nothing"
            if ring["style"] == "none" or ring["width"] < 2:
                missing.setdefault(name, []).append(ring)
    assert missing == {}, missing


def test_wallet_cards_tell_five_credentials_apart(tour, live):
    """Title, provider, date in words, format (Europass, Open Badge, JWT) and state on every card."""
    record = copy.deepcopy(json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text()))
    record["learner"].pop("id", None)
    record["learner"]["email"] = EMAIL
    made = []
    for title, fmt, proof, revoke in (
        ("Data literacy", "edc", "eddsa-rdfc-2022", False),
        ("Cloud basics", "ob3", "vc+jwt", False),
        ("Statistics for researchers", "ob3", "eddsa-jcs-2022", True),
        ("Open science", "edc", "eddsa-jcs-2022", False),
    ):
        record["title"] = {"en": title}
        issued = tour.api.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": record})
        assert issued.status_code == 201, issued.text
        credential_id = issued.headers["location"].removeprefix("/credentials/")
        assert tour.api.post(f"/credentials/{credential_id}/offer").status_code in (200, 201)
        if revoke:
            assert tour.api.post("/credentials/status", json={"credentialId": credential_id, "status": "revoked"}).status_code == 200
        made.append(title)
    page = tour.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/wallet")
    while page.locator("#offers form button").count():
        page.locator("#offers form button").first.click()
        page.wait_for_selector("#credential")
        page.goto(f"{live.url}/wallet")
    cards = page.locator(".credential-card")
    seen = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        seen[card.locator("h2").inner_text()] = (
            card.get_attribute("data-state"),
            card.locator("[data-format]").inner_text(),
            card.locator("[data-testid=card-date]").inner_text(),
        )
    assert len(seen) == 5, seen
    assert seen["Data literacy"][:2] == ("valid", "Europass") and seen["Cloud basics"][:2] == ("valid", "Open Badge · JWT")
    assert seen["Statistics for researchers"][:2] == ("revoked", "Open Badge")
    assert all(date == "30 June 2026" for _, _, date in seen.values())
    folder = ARTIFACTS / "every-page"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "wallet-five-cards-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(folder / "wallet-five-cards-390.png"), full_page=True)


def test_the_pdf_reads_like_a_certificate(tour, live, tmp_path):
    """The institution, the learner, the title, the date in words, the EU elements, what the QR code leads to and
    until when; no verification result printed on paper. Its first page is kept as a PNG (pdftoppm)."""
    import shutil
    import subprocess
    from datetime import UTC, datetime, timedelta

    from pypdf import PdfReader

    from app.holder.pdf import date_in_words, extract_credential_from_pdf

    page = tour.page
    page.goto(f"{live.url}/wallet")
    page.locator(".credential-card h2 a").first.click()
    page.wait_for_selector("#credential")
    with page.expect_download() as download:
        page.click("#download-pdf")
    path = tmp_path / "credential.pdf"
    download.value.save_as(path)
    data = path.read_bytes()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(str(path)).pages)
    for expected in (
        "University of Zed",
        "certifies that",
        "Ana Andromeda",
        "Digital micro-credential creation",
        "on 30 June 2026",
        "EQF level 6",
        "2 ECTS credits",
    ):
        assert expected in text, expected
    until = date_in_words(datetime.now(UTC) + timedelta(days=7))
    assert f"works until {until}" in text
    assert "verified just now" not in text and "Status when this PDF was made" not in text
    assert "2026-06-30T" not in text  # no raw ISO timestamp
    assert json.loads(extract_credential_from_pdf(data))["credentialSubject"]
    pdftoppm = shutil.which("pdftoppm")
    require(pdftoppm is not None, "pdftoppm (Debian's poppler-utils) renders the PDF for a look")
    folder = ARTIFACTS / "every-page"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", str(path), str(folder / "wallet-pdf")], check=True, timeout=120)


def test_every_published_specification_has_a_page(tour, live):
    page = tour.anon_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/catalogue.html")
    assert "Inter-disciplinary programmes and qualifications involving Information and Communication Technologies (ICTs) (0688)" in page.inner_text("main")
    assert "Ireland" in page.inner_text("main")
    page.click(f"a[href='/catalogue/{tour.spec_id}/page']")
    assert page.inner_text("[data-testid=spec-title]") == "Digital micro-credential creation"
    assert page.inner_text("[data-testid=spec-workload]") == "2 ECTS credits · 60 hours"
    assert page.inner_text("[data-testid=spec-level]") == "EQF level 6"
    assert page.inner_text("[data-testid=spec-country]") == "Ireland"
    assert "artefact assessment" in page.inner_text("[data-testid=spec-assessment]")
    assert "Certificate in Digital Education" in page.inner_text("[data-testid=spec-stacks]")
    assert "https://uniz.example.edu" in page.inner_text("[data-testid=spec-enrol]")
    response = page.goto(f"{live.url}/catalogue/no-such-specification/page")
    assert response.status == 404 and page.locator("[data-testid=missing]").count() == 1


def test_a_claim_link_opened_signed_out_says_what_is_waiting_and_from_whom(tour, live):
    page = tour.anon_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(tour.waiting_url)
    assert "/wallet/signin" in page.url
    waiting = page.inner_text("[data-testid=waiting]")
    assert "A credential is waiting for you" in waiting and "Digital micro-credential creation" in waiting and "from University of Zed" in waiting
    page.goto(f"{live.url}/wallet/signin?next=/wallet/claim/not-a-link")
    assert page.locator("[data-testid=waiting]").count() == 0  # an unknown link says nothing


def test_the_wallet_detail_reads_like_the_verify_page(tour, live):
    """The elements as a person reads them (the verify page's display), the raw elements behind a toggle."""
    page = tour.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/wallet")
    page.locator(".credential-card h2 a").first.click()
    page.wait_for_selector("#credential")
    readable = page.locator("[data-testid=readable]")
    assert readable.locator("[data-testid=eqf]").inner_text() == "EQF level 6 · QF-EHEA first cycle"
    assert readable.locator("[data-testid=date]").inner_text() == "30 June 2026"
    assert readable.locator("[data-testid=assessment]").inner_text() == "Artefact assessment"
    assert "qfEheaCycle" not in page.inner_text("main")  # the raw view is closed
    checks = page.inner_text("ul.checks")
    assert "Signed by the named institution" in checks and "issuer_binding" not in checks
    page.click("[data-testid=raw-elements] summary")
    assert "qfEheaCycle" in page.inner_text("[data-testid=raw-elements]")
