"""The learner wallet over real HTTP, a real database and real signatures: sign-in, offers, ownership,
CSRF, shares, import, PDF, presentations."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import httpx
import pytest

from app.holder.pdf import PdfCredentialError, extract_credential_from_pdf
from app.holder.wallet import coarse_agent
from tests.wallet.conftest import Learner, csrf_of, issue


def _offer(api, credential_id):
    r = api.post(f"/credentials/{credential_id}/offer")
    assert r.status_code == 201, r.text
    return r.json()


def _claim(learner: Learner, offer: dict):
    path = offer["offerUrl"].removeprefix(learner.live.url)
    page = learner.http.get(path)
    assert page.status_code == 200, page.text
    return learner.post("/wallet/claim", {"link": path.rsplit("/", 1)[-1]})


def _holding_id(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def test_signin_link_is_logged_single_use_and_sets_a_safe_cookie(live, caplog):
    caplog.set_level(logging.INFO, logger="microcred.wallet")
    http = httpx.Client(base_url=live.url)
    page = http.get("/wallet/signin")
    anon = page.headers["set-cookie"].lower()
    assert "httponly" in anon and "samesite=lax" in anon and "secure" not in anon  # http base URL
    r = http.post("/wallet/signin", data={"email": "Cleo@Example.org", "csrf": csrf_of(page.text)})
    assert r.status_code == 200
    logged = [m for m in caplog.messages if "sign-in link for c***@example.org" in m]
    assert logged, caplog.messages
    assert not any("cleo@" in m for m in caplog.messages)  # the address itself never reaches the log
    link = re.search(r"(http\S+/wallet/signin/(\S+))", logged[-1])
    assert len(link.group(2)) >= 43  # 256 bits, base64url
    confirm = http.get(link.group(1).removeprefix(live.url))
    r = http.post("/wallet/signin-confirm", data={"link": link.group(2), "csrf": csrf_of(confirm.text)})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert http.get("/wallet").status_code == 200
    # The session id changed at sign-in, and the link works only once.
    fresh = httpx.Client(base_url=live.url)
    page = fresh.get(link.group(1).removeprefix(live.url))
    again = fresh.post("/wallet/signin-confirm", data={"link": link.group(2), "csrf": csrf_of(page.text)})
    assert again.status_code == 404
    assert fresh.get("/wallet").status_code == 303  # still signed out
    # Every learner gets an Ed25519 did:key holder key.
    with live.app.state.wallet.db.read() as s:
        from app.store import wallet as store

        row = store.find_learner_by_email(s, "cleo@example.org")
    assert row.holder_did.startswith("did:key:z6Mk")
    assert (live.settings.keys_dir / f"{row.key_ref}.json").exists()


def test_secure_cookie_when_base_url_is_https(live):
    from app.holder.wallet import Wallet

    wallet = Wallet(live.app.state.runtime.__class__(live.settings.model_copy(update={"base_url": "https://wallet.example.eu"})), live.app.state.db)
    assert wallet.secure_cookies and not live.app.state.wallet.secure_cookies


def test_offer_is_single_use_and_claiming_adds_a_valid_card(live, api, example_input, ana, ben):
    cid = issue(api, example_input, ana.email)
    offer = _offer(api, cid)
    assert offer["qrSvg"].startswith("<svg") and offer["offerUrl"].startswith(f"{live.url}/wallet/claim/")
    assert len(offer["offerUrl"].rsplit("/", 1)[-1]) >= 22  # ≥128 bits
    hid = _holding_id(_claim(ana, offer))
    assert ana.http.get(f"/wallet/credentials/{hid}").status_code == 200
    cards = live.app.state.wallet.cards(ana.learner())
    assert [c.state for c in cards] == ["valid"], [c.reason for c in cards]
    assert cards[0].ects == 2 and cards[0].eqf == 6
    # Used once: neither the same learner nor another can claim it again.
    assert ana.http.get(offer["offerUrl"].removeprefix(live.url)).status_code == 404
    assert ben.post("/wallet/claim", {"link": offer["offerUrl"].rsplit("/", 1)[-1]}).status_code == 404
    assert live.app.state.wallet.cards(ben.learner()) == []


def test_expired_offer_cannot_be_claimed(live, api, example_input, ana, provider):
    cid = issue(api, example_input, ana.email)
    wallet = live.app.state.wallet
    real = wallet.clock
    wallet.clock = lambda: real() - timedelta(days=31)  # an offer made 31 days ago (they last 30)
    try:
        offer = wallet.create_offer(provider[0], cid)
    finally:
        wallet.clock = real
    assert ana.http.get(offer["offerUrl"].removeprefix(live.url)).status_code == 404
    assert ana.post("/wallet/claim", {"link": offer["offerUrl"].rsplit("/", 1)[-1]}).status_code == 404
    assert "Waiting for you" not in ana.http.get("/wallet").text


def test_offer_endpoint_needs_the_issuing_providers_key(live, api, example_input):
    cid = issue(api, example_input, "ana@example.org")
    assert httpx.post(f"{live.url}/credentials/{cid}/offer").status_code == 401
    _, other = live.app.state.issuance.providers.create(slug="other", name="Other", country="NL")
    r = httpx.post(f"{live.url}/credentials/{cid}/offer", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 404


def test_pending_offers_appear_only_in_the_matching_learners_wallet(live, api, example_input, ana, ben):
    cid = issue(api, example_input, ana.email)
    offer = _offer(api, cid)
    assert "Waiting for you" in ana.http.get("/wallet").text
    assert "Waiting for you" not in ben.http.get("/wallet").text
    assert ben.post(f"/wallet/offers/{offer['offerId']}/accept").status_code == 404
    hid = _holding_id(ana.post(f"/wallet/offers/{offer['offerId']}/accept"))
    assert "Waiting for you" not in ana.http.get("/wallet").text
    assert ana.http.get(f"/wallet/credentials/{hid}").status_code == 200


def test_a_learner_sees_only_their_own_credentials_and_shares(live, api, example_input, ana, ben):
    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    r = ana.post("/wallet/shares", {"holding": hid})
    assert r.status_code == 200
    share_id = live.app.state.wallet.shares(ana.learner())[0].id
    assert ben.http.get(f"/wallet/credentials/{hid}").status_code == 404
    assert ben.http.get(f"/wallet/credentials/{hid}/download").status_code == 404
    assert ben.post(f"/wallet/credentials/{hid}/pdf").status_code == 404
    assert ben.post("/wallet/shares", {"holding": hid}).status_code == 404
    assert ben.post(f"/wallet/shares/{share_id}/revoke").status_code == 404
    assert ben.post(f"/wallet/credentials/{hid}/delete").status_code == 404
    assert ben.post("/wallet/present", {"holding": hid, "challenge": "c", "domain": "d"}).status_code == 404
    assert hid not in ben.http.get("/wallet").text and hid not in ben.http.get("/wallet/shares").text
    assert live.app.state.wallet.shares(ana.learner())[0].revoked_at is None
    # Signed out: no wallet data at all.
    assert httpx.get(f"{live.url}/wallet/credentials/{hid}/download").status_code == 404


def test_state_changing_forms_refuse_a_missing_or_foreign_csrf_token(live, api, example_input, ana, ben):
    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    for data in ({}, {"csrf": "forged"}, {"csrf": ben.csrf}):
        r = ana.http.post("/wallet/shares", data={"holding": hid, **data})
        assert r.status_code == 403 and r.json()["code"] == "CSRF_TOKEN_INVALID"
        assert ana.http.post(f"/wallet/credentials/{hid}/delete", data=data).status_code == 403
        assert ana.http.post("/wallet/signout", data=data).status_code == 403
    assert live.app.state.wallet.shares(ana.learner()) == []
    assert len(live.app.state.wallet.cards(ana.learner())) == 1
    # The sign-in form too: a cross-site POST without the session's token is refused.
    assert httpx.post(f"{live.url}/wallet/signin", data={"email": "x@example.org", "csrf": ana.csrf}).status_code == 403


def test_share_link_shows_verdicts_records_views_and_dies_when_revoked_or_expired(live, api, example_input, ana):
    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    page = ana.post("/wallet/shares", {"holding": hid, "days": "7", "label": "Employer <b>X</b>"})
    url = re.search(r'id="share-url" readonly value="([^"]+)"', page.text).group(1)
    token = url.rsplit("/", 1)[-1]
    assert len(token) >= 22
    opened = httpx.get(url, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"})
    assert opened.status_code == 200 and 'data-state="valid"' in opened.text
    assert "Digital micro-credential creation" in opened.text
    shares = ana.http.get("/wallet/shares").text
    assert "Opened 1 time" in shares and "Chrome on Linux" in shares and "127.0.0.1" not in shares
    assert "Employer &lt;b&gt;X&lt;/b&gt;" in shares
    share = live.app.state.wallet.shares(ana.learner())[0]
    assert share.expires_at - share.created_at == timedelta(days=7)
    # Expired: 410 and nothing shown.
    wallet = live.app.state.wallet
    real = wallet.clock
    wallet.clock = lambda: real() + timedelta(days=8)
    try:
        gone = httpx.get(url)
        assert gone.status_code == 410 and "Digital micro-credential" not in gone.text
    finally:
        wallet.clock = real
    # Revoked: 410; unknown: 404.
    assert ana.post(f"/wallet/shares/{share.id}/revoke").status_code == 303
    gone = httpx.get(url)
    assert gone.status_code == 410 and "Digital micro-credential" not in gone.text
    assert httpx.get(f"{live.url}/wallet/shared/{'A' * 43}").status_code == 404
    assert len(wallet.shares(ana.learner())[0].views) == 1  # refused openings are not views


def test_share_default_expiry_is_seven_days(live, api, example_input, ana):
    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    share = live.app.state.wallet.create_share(ana.learner(), [hid])
    assert share["expiresAt"] - live.app.state.wallet.clock() > timedelta(days=6, hours=23)


def test_import_of_a_tampered_credential_is_kept_but_never_valid_and_is_escaped(live, api, example_input, ana):
    cid = issue(api, example_input, ana.email)
    genuine = api.get(f"/credentials/{cid}").content
    tampered = json.loads(genuine)
    tampered["credentialSubject"]["achievement"]["name"] = {"en": "<script>alert(1)</script>Forged"}
    r = ana.http.post("/wallet/import", data={"csrf": ana.csrf}, files={"file": ("vc.json", json.dumps(tampered).encode(), "application/json")})
    hid = _holding_id(r)
    page = ana.http.get(f"/wallet/credentials/{hid}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;Forged" in page
    assert 'data-state="invalid"' in page and 'data-state="valid"' not in page
    card = live.app.state.wallet.detail(ana.learner(), hid)
    assert card.state == "invalid" and card.problem and card.source == "import"
    # The genuine one imports as valid.
    r = ana.http.post("/wallet/import", data={"csrf": ana.csrf}, files={"file": ("vc.json", genuine, "application/json")})
    assert live.app.state.wallet.detail(ana.learner(), _holding_id(r)).state == "valid"
    # Something that is not a credential at all is refused, and nothing is stored.
    r = ana.http.post("/wallet/import", data={"csrf": ana.csrf}, files={"file": ("x.json", b'{"hello": 1}', "application/json")})
    assert r.status_code == 400
    assert len(live.app.state.wallet.cards(ana.learner())) == 2


def test_import_jwt_credential(live, api, example_input, ana):
    cid = issue(api, example_input, ana.email, proof="vc+jwt")
    jwt = api.get(f"/credentials/{cid}").content
    hid = _holding_id(ana.http.post("/wallet/import", data={"csrf": ana.csrf}, files={"file": ("vc.jwt", jwt, "application/vc+jwt")}))
    card = live.app.state.wallet.detail(ana.learner(), hid)
    assert card.state == "valid" and card.media_type == "application/vc+jwt"
    dl = ana.http.get(f"/wallet/credentials/{hid}/download")
    assert dl.content == jwt and 'filename="credential-' in dl.headers["content-disposition"] and ".jwt" in dl.headers["content-disposition"]


def test_pdf_embeds_the_signed_credential_and_a_verifier_can_extract_it(live, api, example_input, ana):
    import io

    from pypdf import PdfReader

    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    r = ana.post(f"/wallet/credentials/{hid}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Digital micro-credential creation" in text and "ECTS" in text
    raw = extract_credential_from_pdf(r.content)
    assert raw.encode() == live.app.state.wallet.holding(ana.learner(), hid).body
    assert live.app.state.runtime.verifier.verify(raw).verified
    # The QR code's target is a share link the learner sees (and can revoke).
    assert live.app.state.wallet.shares(ana.learner())[0].holding_ids == (hid,)
    # The verifier's upload accepts the PDF and finds the credential in it.
    import httpx

    up = httpx.post(f"{live.url}/verify/upload", files={"file": ("credential.pdf", r.content, "application/pdf")}, timeout=30)
    assert up.status_code == 200, up.text
    assert up.json()["verified"] is True
    # A PDF is also accepted by the import.
    again = _holding_id(ana.http.post("/wallet/import", data={"csrf": ana.csrf}, files={"file": ("c.pdf", r.content, "application/pdf")}))
    assert live.app.state.wallet.detail(ana.learner(), again).state == "valid"
    # Caps and refusals.
    with pytest.raises(PdfCredentialError) as err:
        extract_credential_from_pdf(r.content, max_bytes=100)
    assert err.value.code == "PDF_ATTACHMENT_TOO_LARGE"
    with pytest.raises(PdfCredentialError):
        extract_credential_from_pdf(b"not a pdf")


def test_extract_refuses_a_pdf_without_credential():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(PdfCredentialError) as err:
        extract_credential_from_pdf(bytes(pdf.output()))
    assert err.value.code == "PDF_NO_CREDENTIAL"


def test_extract_refuses_a_compression_bomb():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.embed_file(bytes=b" " * 50_000_000, basename="credential.json", compress=True)
    bomb = bytes(pdf.output())
    assert len(bomb) < 200_000
    with pytest.raises(PdfCredentialError) as err:
        extract_credential_from_pdf(bomb)
    assert err.value.code == "PDF_ATTACHMENT_TOO_LARGE"


@pytest.mark.parametrize("proof", ["eddsa-rdfc-2022", "vc+jwt"])
def test_presentation_is_signed_by_the_holder_for_the_challenge(live, api, example_input, ana, proof):
    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email, proof=proof))))
    page = ana.post("/wallet/present", {"holding": hid, "challenge": "c-8f1e2a", "domain": "employer.example.com"})
    assert page.status_code == 200
    vp = live.app.state.wallet.present(ana.learner(), [hid], challenge="c-8f1e2a", domain="employer.example.com")
    assert vp["holder"] == ana.learner().holder_did
    assert vp["proof"]["proofPurpose"] == "authentication" and vp["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    verifier = live.app.state.runtime.verifier
    report = verifier.verify_presentation(vp, challenge="c-8f1e2a", domain="employer.example.com")
    assert report.verified, report.as_dict()
    assert report.check("holder_binding").outcome == "passed"
    assert not verifier.verify_presentation(vp, challenge="another", domain="employer.example.com").verified
    assert not verifier.verify_presentation(vp, challenge="c-8f1e2a", domain="evil.example").verified


def test_presentation_of_two_credentials_of_one_achievement_is_signed_with_jcs(live, api, example_input, ana):
    """Two credentials of one achievement: their achievement's blank nodes are symmetric, RDFC-1.0 §4.8 stops
    (a poison graph to it), so the wallet signs with eddsa-jcs-2022; a single credential keeps eddsa-rdfc-2022."""
    first = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    second = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    page = ana.post("/wallet/present", {"holding": [first, second], "challenge": "c-2b7d", "domain": "employer.example.com"})
    assert page.status_code == 200, page.text
    vp = live.app.state.wallet.present(ana.learner(), [first, second], challenge="c-2b7d", domain="employer.example.com")
    assert len(vp["verifiableCredential"]) == 2 and vp["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    verifier = live.app.state.runtime.verifier
    report = verifier.verify_presentation(vp, challenge="c-2b7d", domain="employer.example.com")
    assert report.verified and report.check("holder_binding").outcome == "passed", report.as_dict()
    assert not verifier.verify_presentation(vp, challenge="another", domain="employer.example.com").verified
    one = live.app.state.wallet.present(ana.learner(), [first], challenge="c-2b7d", domain="employer.example.com")
    assert one["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


def test_revocation_shows_in_the_wallet(live, api, example_input, ana):
    # a suspension needs a suspension entry: a VC API credential has one (an OB3 or EDC carries revocation only)
    plain = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    vc_id = api.post("/credentials/issue", json={"credential": plain}).json()["verifiableCredential"]["id"]
    vc_hid = _holding_id(_claim(ana, _offer(api, vc_id)))
    assert api.post("/credentials/status", json={"credentialId": vc_id, "status": "suspended"}).status_code == 200
    assert live.app.state.wallet.detail(ana.learner(), vc_hid).state == "suspended"
    cid = issue(api, example_input, ana.email)
    hid = _holding_id(_claim(ana, _offer(api, cid)))
    assert api.post("/credentials/status", json={"credentialId": cid, "status": "suspended"}).status_code == 409
    assert live.app.state.wallet.detail(ana.learner(), hid).state != "suspended"
    assert api.post("/credentials/status", json={"credentialId": cid, "status": "revoked"}).status_code == 200
    assert 'data-state="revoked"' in ana.http.get("/wallet").text


def test_coarse_agent_keeps_only_family_and_platform():
    assert (
        coarse_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")
        == "Safari on iPhone"
    )
    assert coarse_agent(None) == "another client"
    assert coarse_agent("x" * 5000) == "another client"


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_qr_code_lasts_what_the_learner_chose_and_says_until_when(live, api, example_input, ana):
    """Issue 14: a PDF download used to create, unasked, a public share link valid for a year. Now the detail page
    asks (the share links' default preselected), the PDF says until when its code works, and "no QR code" makes
    no link at all."""
    from datetime import UTC, datetime, timedelta

    from app.holder import SHARE_DEFAULT_DAYS
    from app.holder.pdf import date_in_words

    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    page = ana.http.get(f"/wallet/credentials/{hid}").text
    assert re.search(rf'<option value="{SHARE_DEFAULT_DAYS}" selected>', page) and '<option value="0">' in page
    wallet = live.app.state.wallet

    # The default: a share link of the share links' default lifetime, and the PDF says until when.
    r = ana.post(f"/wallet/credentials/{hid}/pdf")
    assert r.status_code == 200
    (share,) = wallet.shares(ana.learner())
    lifetime = share.expires_at - share.created_at
    assert lifetime == timedelta(days=SHARE_DEFAULT_DAYS) and share.holding_ids == (hid,)
    text = _pdf_text(r.content)
    assert f"The code works until {date_in_words(share.expires_at)} ({SHARE_DEFAULT_DAYS} days from the download)" in text

    # Chosen: 30 days.
    r = ana.post(f"/wallet/credentials/{hid}/pdf", {"days": "30"})
    newest = max(wallet.shares(ana.learner()), key=lambda s: s.created_at)
    assert newest.expires_at - newest.created_at == timedelta(days=30)
    assert "(30 days from the download)" in _pdf_text(r.content)

    # No QR code: no link is made, and the PDF still carries the credential.
    r = ana.post(f"/wallet/credentials/{hid}/pdf", {"days": "0"})
    assert r.status_code == 200 and len(wallet.shares(ana.learner())) == 2
    assert "This PDF has no QR code" in _pdf_text(r.content) and "/wallet/shared/" not in _pdf_text(r.content)
    assert live.app.state.runtime.verifier.verify(extract_credential_from_pdf(r.content)).verified

    # Refused, and nothing stored: more than a share link may last, or not a number.
    for days in ("366", "-1", "x", "1e3"):
        refused = ana.post(f"/wallet/credentials/{hid}/pdf", {"days": days})
        assert 400 <= refused.status_code < 500, (days, refused.status_code)
    assert len(wallet.shares(ana.learner())) == 2
    assert all(s.expires_at <= datetime.now(UTC) + timedelta(days=31) for s in wallet.shares(ana.learner()))


PDF_WORDS = {
    "fr": (
        "certifie que",
        "a obtenu la micro-certification",
        "Vérifier ce justificatif",
        "Charge de travail",
        "Le code fonctionne jusqu’au",
        "jours après le téléchargement",
    ),
    "de": (
        "bescheinigt, dass",
        "das Micro-Credential erworben hat",
        "Diesen Nachweis prüfen",
        "Arbeitsaufwand",
        "Der Code funktioniert bis",
        "Tage nach dem Herunterladen",
    ),
}


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_the_pdf_is_in_the_pages_language(live, api, example_input, ana, lang):
    """Issue 14: the PDF's words were English whatever the page's language; now they follow it (the switch's
    ``?lang=``, the cookie or Accept-Language), its dates in words in that language, the credential unchanged."""
    from app.holder import SHARE_DEFAULT_DAYS
    from app.holder.pdf import date_in_words

    hid = _holding_id(_claim(ana, _offer(api, issue(api, example_input, ana.email))))
    r = ana.post(f"/wallet/credentials/{hid}/pdf", headers={"Accept-Language": lang})
    assert r.status_code == 200
    text = _pdf_text(r.content)
    for words in PDF_WORDS[lang]:
        assert words in text, (words, text)
    (share,) = live.app.state.wallet.shares(ana.learner())
    assert f"{date_in_words(share.expires_at, lang)} ({SHARE_DEFAULT_DAYS} " in text
    assert "certifies that" not in text and "Check this credential" not in text
    assert live.app.state.runtime.verifier.verify(extract_credential_from_pdf(r.content)).verified
    english = _pdf_text(ana.post(f"/wallet/credentials/{hid}/pdf", {"days": "0"}, headers={"Accept-Language": "en"}).content)
    assert "certifies that" in english and "This PDF has no QR code" in english


def test_download_and_share_of_a_revoked_credential_come_with_a_warning(live, api, example_input, ana):
    cid = issue(api, example_input, ana.email)
    hid = _holding_id(_claim(ana, _offer(api, cid)))
    assert 'data-testid="state-warning"' not in ana.http.get(f"/wallet/credentials/{hid}").text
    assert 'data-testid="state-warning"' not in ana.http.get("/wallet/shares").text
    assert api.post("/credentials/status", json={"credentialId": cid, "status": "revoked"}).status_code == 200
    detail = ana.http.get(f"/wallet/credentials/{hid}").text
    warning = re.search(r'<p class="state-warning"[^>]*data-state="revoked">(.*?)</p>', detail, re.S)
    assert warning and "revoked by its issuer" in warning.group(1) and "will be told so" in warning.group(1)
    assert detail.index('data-testid="state-warning"') < detail.index('id="download-pdf"')  # said before the buttons
    shares = ana.http.get("/wallet/shares").text
    assert re.search(r'data-testid="state-warning" data-state="revoked"', shares)
    # In French too.
    fr = ana.http.get(f"/wallet/credentials/{hid}?lang=fr").text
    assert "Il a été révoqué par son émetteur." in fr
