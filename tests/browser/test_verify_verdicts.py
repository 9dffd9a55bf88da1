"""The employer's verdict in words, in real headless Chromium at 1280 and 390 px (issue 14).

A tampered credential is shown as untrusted (greyed, with a warning) and the checks that mean nothing after a
failed signature as "not run"; an expired or unknown-issuer credential says so in words; the institution is
named, its DID shown on request; the same record reads the same whether it came as OB3 or EDC.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.keys import Ed25519Signer
from tests.api.test_verifier import _plain, _sign, _stamp
from tests.browser import at_widths

pytestmark = pytest.mark.browser


def _issue(client, example_input, fmt="ob3", proof="eddsa-rdfc-2022"):
    r = client.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return r


def _verify(live, text: str, check=None):
    def act(page):
        page.goto(f"{live.url}/verify")
        page.fill("#credential", text)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=verdict], [data-testid=error]")
        seen = {
            "verdict": page.get_attribute("[data-testid=verdict]", "data-verdict"),
            "words": page.inner_text("[data-testid=verdict-words]") if page.locator("[data-testid=verdict-words]").count() else "",
            "outcomes": {li.get_attribute("data-check"): li.get_attribute("data-outcome") for li in page.locator("[data-check]").all()},
            "trust": page.get_attribute("[data-testid=content]", "data-trust") if page.locator("[data-testid=content]").count() else None,
            "content_color": page.eval_on_selector("[data-testid=content]", "e => getComputedStyle(e).backgroundColor")
            if page.locator("[data-testid=content]").count()
            else None,
            "institution": page.locator("[data-testid=institution]").count(),
            "verified_at": page.inner_text("[data-testid=verified-at]"),
            "page": page,
        }
        if check is not None:
            check(seen)
        return seen

    return act


def test_a_tampered_credential_is_untrusted_and_the_later_checks_not_run(browser, live, client, example_input):
    doc = json.loads(_issue(client, example_input, "edc").text)
    doc["credentialSubject"]["hasClaim"]["title"] = {"en": "Doctorate in everything"}  # changed after signing

    def check(seen):
        assert seen["verdict"] == "not valid"
        assert "Altered after it was signed" in seen["words"]
        assert seen["outcomes"]["proof"] == "failed"
        assert all(seen["outcomes"][c] == "not-run" for c in ("issuer_binding", "validity", "status", "issuer_trust", "eu_completeness"))
        assert seen["trust"] == "untrusted" and "Untrusted content" in seen["page"].inner_text("[data-testid=content]")
        assert seen["content_color"] != "rgb(255, 255, 255)"  # greyed, not the trusted white card
        assert seen["institution"] == 0  # a forged credential's issuer is never shown as the signer

    at_widths(browser, "verify-tampered", _verify(live, json.dumps(doc), check))


def test_an_expired_credential_says_when(browser, live, provider):
    doc = _sign(live, provider, _plain(provider[0].did, validFrom=_stamp(timedelta(days=-30)), validUntil="2026-01-15T00:00:00Z"))

    def check(seen):
        assert seen["verdict"] == "not valid" and "Expired on 15 January 2026" in seen["words"]
        assert seen["outcomes"]["validity"] == "failed"

    at_widths(browser, "verify-expired", _verify(live, json.dumps(doc), check))


def test_an_unknown_institution_is_said_in_words(browser, live):
    stranger = Ed25519Signer.generate()
    mb = stranger.public_multibase()
    stranger.verification_method = f"did:key:{mb}#{mb}"
    doc = live.app.state.runtime.engine.add_proof(_plain(f"did:key:{mb}"), stranger)

    def check(seen):
        assert seen["verdict"] == "valid with warnings" and "Signed by an unknown institution" in seen["words"]
        assert seen["outcomes"]["issuer_trust"] == "indeterminate"

    at_widths(browser, "verify-unknown-issuer", _verify(live, json.dumps(doc), check))


def test_a_valid_credential_names_the_institution_time_and_json(browser, live, client, example_input):
    issued = _issue(client, example_input, "ob3")

    def act(page):
        seen = _verify(live, issued.text)(page)
        assert seen["verdict"] == "valid" and seen["institution"] == 1
        assert page.inner_text("[data-testid=institution-name]") == "University of Zed"
        assert seen["verified_at"].startswith("Verified at ") and "UTC" in seen["verified_at"]
        assert page.get_attribute("[data-testid=verified-at] time", "datetime").endswith("Z")
        assert not page.locator("[data-testid=json] pre").is_visible()
        page.click("[data-testid=json] summary")
        assert json.loads(page.inner_text("[data-testid=json] pre"))["id"] == issued.json()["id"]
        assert page.inner_text("[data-testid=date]") == "30 June 2026"

    at_widths(browser, "verify-valid-json", act)


def test_the_same_record_reads_the_same_as_ob3_and_edc(browser, live, client, example_input):
    shown = {}
    for fmt in ("ob3", "edc"):
        issued = _issue(client, example_input, fmt)

        def act(page, text=issued.text):
            _verify(live, text)(page)
            return {k: page.inner_text(f"[data-testid={k}]") for k in ("title", "learner", "date", "ects", "eqf", "assessment", "participation")}

        shown[fmt] = at_widths(browser, f"verify-same-{fmt}", act)[0]
    assert shown["ob3"] == shown["edc"]
    assert shown["edc"]["eqf"] == "EQF level 6 · QF-EHEA first cycle" and shown["edc"]["assessment"] == "Artefact assessment"
