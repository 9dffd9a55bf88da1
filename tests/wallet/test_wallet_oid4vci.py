"""The demo wallet receives through OpenID4VCI 1.0 (pre-authorized code with tx_code), through the real HTTP pages
and default settings: an offer made with ``POST /microcredentials/offers``, pasted (or opened from ``/offers/{id}``)
into ``/wallet/receive``, the tx_code typed, the credential kept, bound to the wallet's own holder key and accepted
by ``POST /credentials/verify``; every refusal (wrong code, used, expired, foreign issuer) shown in words and
storing nothing."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.store import wallet as store
from tests.wallet.conftest import csrf_of

CONFIGURATIONS = ("ob3_ldp_vc", "edc_ldp_vc", "ob3_jwt_vc_json", "eu_microcredential_sd_jwt")


def b64json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def offer(api, example_input, **extra) -> dict:
    r = api.post("/microcredentials/offers", json={"microcredential": example_input, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def holdings(live, learner) -> list:
    with live.app.state.db.read() as session:
        return store.list_holdings(session, learner.learner().id)


def read_offer(learner, link: str, **params) -> httpx.Response:
    return learner.http.get("/wallet/receive", params={"link": link, **params})


def receive(learner, link: str, configuration: str, tx_code: str | None, **params) -> httpx.Response:
    data = {"link": link, "configuration": configuration}
    if tx_code is not None:
        data["tx_code"] = tx_code
    return learner.post("/wallet/receive" + (f"?{urllib.parse.urlencode(params)}" if params else ""), data)


def error_code(page: httpx.Response) -> str | None:
    m = re.search(r'data-testid="receive-error" data-code="([^"]*)"', page.text)
    return m.group(1) if m else None


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_each_configuration_is_received_bound_to_the_wallets_key_and_verifies(live, api, ana, example_input, configuration):
    created = offer(api, example_input)  # all four offered: the learner picks one
    link = created["credential_offer_uri"]
    page = read_offer(ana, link)
    assert page.status_code == 200, page.text
    assert "University of Zed offers you a credential" in page.text
    assert f'data-testid="offered-issuer">{live.url}/issuers/' in page.text
    for c in CONFIGURATIONS:
        assert f'data-testid="configuration-{c}"' in page.text
    assert 'data-testid="tx-code"' in page.text and 'inputmode="numeric"' in page.text
    assert api.get(f"/microcredentials/offers/{created['id']}").json()["state"] == "offered"  # reading redeems nothing

    r = receive(ana, link, configuration, created["tx_code"])
    assert r.status_code == 303, r.text
    holding_id = r.headers["location"].removeprefix("/wallet/credentials/")
    shown = ana.http.get(r.headers["location"])
    assert shown.status_code == 200 and 'data-state="valid"' in shown.text, shown.text[:2000]
    [held] = holdings(live, ana)
    assert held.id == holding_id and held.source == "oid4vci" and held.verified_on_receipt
    body = ana.http.get(f"/wallet/credentials/{holding_id}/download").content
    learner = ana.learner()
    if configuration.endswith("ldp_vc"):
        credential = json.loads(body)
        assert held.media_type == "application/vc+ld+json"
        assert credential["credentialSubject"]["id"] == learner.holder_did  # the wallet's did:key
    elif configuration == "ob3_jwt_vc_json":
        credential = body.decode()
        header, payload = b64json(credential.split(".")[0]), b64json(credential.split(".")[1])
        subject = payload["credentialSubject"]["id"]
        assert held.media_type == "application/vc+jwt" and subject.startswith("did:jwk:")
        assert b64json(subject.removeprefix("did:jwk:"))["crv"] == "P-256" and header["alg"] == "ES256"
    else:
        credential = body.decode()
        payload = b64json(credential.split("~")[0].split(".")[1])
        assert held.media_type == "application/dc+sd-jwt" and payload["cnf"]["jwk"]["crv"] == "P-256"
    report = api.post("/credentials/verify", json={"verifiableCredential": credential})
    assert report.status_code == 200 and report.json()["verified"] is True, report.text
    state = api.get(f"/microcredentials/offers/{created['id']}").json()
    assert state["state"] == "redeemed" and len(state["credential_ids"]) == 1

    # replay: the same link again is refused in words, and stores nothing
    again = read_offer(ana, link)
    assert again.status_code == 400 and error_code(again) == "OID4VCI_OFFER_GONE"
    assert "This offer has been used already or has expired" in again.text
    replay = receive(ana, link, configuration, created["tx_code"])
    assert replay.status_code == 404 and "used already or has expired" in replay.text
    assert len(holdings(live, ana)) == 1


def test_a_received_sd_jwt_vc_is_presented_through_openid4vp_with_its_p256_key(live, api, ana, example_input):
    created = offer(api, example_input, configurations=["eu_microcredential_sd_jwt"])
    r = receive(ana, created["credential_offer_uri"], "eu_microcredential_sd_jwt", created["tx_code"])
    assert r.status_code == 303, r.text
    holding_id = r.headers["location"].rsplit("/", 1)[-1]
    asked = httpx.post(f"{live.url}/presentation-requests", json={"verifier_name": "Acme Hiring", "purpose": "Data analyst post"}, timeout=30)
    assert asked.status_code == 201, asked.text
    link = asked.json()["authorization_request"]
    page = ana.http.get("/wallet/oid4vp", params={"link": link})
    assert page.status_code == 200 and f'data-testid="holding-{holding_id}"' in page.text, page.text[:2000]
    sent = ana.post("/wallet/oid4vp", {"link": link, "holding": holding_id, "claim": ["title", "given_name"]})
    assert sent.status_code == 200 and 'data-testid="sent"' in sent.text, sent.text[:2000]
    status = httpx.get(asked.json()["status_url"]).json()
    assert status["status"] == "received" and status["result"]["verified"] is True, status
    [answer] = status["result"]["presentations"]
    assert next(c for c in answer["report"]["checks"] if c["id"] == "holder_binding")["outcome"] == "passed"


def test_a_wrong_tx_code_is_said_in_words_stores_nothing_and_the_right_one_still_works(live, api, ana, example_input):
    created = offer(api, example_input, configurations=["ob3_ldp_vc"])
    link = created["credential_offer_uri"]
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    r = receive(ana, link, "ob3_ldp_vc", wrong)
    assert r.status_code == 400 and error_code(r) == "OID4VCI_INVALID_GRANT", r.text[:2000]
    assert "This code is not the right one" in r.text and "tries left" in r.text
    assert 'data-testid="tx-code"' in r.text  # asked again
    assert holdings(live, ana) == [] and api.get(f"/microcredentials/offers/{created['id']}").json()["state"] == "offered"
    fr = receive(ana, link, "ob3_ldp_vc", wrong, lang="fr")
    assert fr.status_code == 400 and "Ce code n" in fr.text, fr.text[:3000]
    de = receive(ana, link, "ob3_ldp_vc", wrong, lang="de")
    assert de.status_code == 400 and "Dieser Code ist nicht der richtige" in de.text
    missing = receive(ana, link, "ob3_ldp_vc", None)
    assert missing.status_code == 400 and error_code(missing) == "OID4VCI_TX_CODE_MISSING"
    ok = receive(ana, link, "ob3_ldp_vc", created["tx_code"])
    assert ok.status_code == 303, ok.text
    assert len(holdings(live, ana)) == 1


def test_too_many_wrong_codes_burn_the_offer_and_the_wallet_says_so(live, api, ana, example_input):
    created = offer(api, example_input, configurations=["ob3_ldp_vc"])
    wrong = "000000" if created["tx_code"] != "000000" else "111111"
    tries = live.app.state.settings.oid4vci_tx_code_tries
    for _ in range(tries):
        last = receive(ana, created["credential_offer_uri"], "ob3_ldp_vc", wrong)
    assert last.status_code == 400 and "wrong too many times" in last.text, last.text[:2000]
    assert holdings(live, ana) == []


def test_an_offer_by_value_and_one_without_tx_code(live, api, ana, example_input):
    created = offer(api, example_input, configurations=["eu_microcredential_sd_jwt"])
    by_value = "openid-credential-offer://?" + urllib.parse.urlencode({"credential_offer": json.dumps(created["credential_offer"])})
    assert read_offer(ana, by_value).status_code == 200
    assert receive(ana, by_value, "eu_microcredential_sd_jwt", created["tx_code"]).status_code == 303
    plain = offer(api, example_input, configurations=["edc_ldp_vc"], txCode=False)
    page = read_offer(ana, plain["credential_offer_uri"])
    assert page.status_code == 200 and 'data-testid="tx-code"' not in page.text
    assert receive(ana, plain["credential_offer_uri"], "edc_ldp_vc", None).status_code == 303
    assert len(holdings(live, ana)) == 2


def test_an_expired_offer_a_foreign_issuer_and_garbage_are_refused_in_words(live, api, ana, example_input):
    from sqlalchemy import update

    from app.store.models import Oid4vciOffer

    created = offer(api, example_input, configurations=["ob3_ldp_vc"])
    with live.app.state.db.transaction() as session:
        session.execute(update(Oid4vciOffer).where(Oid4vciOffer.id == created["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = read_offer(ana, created["credential_offer_uri"])
    assert expired.status_code == 400 and "used already or has expired" in expired.text
    posted = receive(ana, created["credential_offer_uri"], "ob3_ldp_vc", created["tx_code"])
    assert posted.status_code == 404 and "used already or has expired" in posted.text
    foreign = "openid-credential-offer://?" + urllib.parse.urlencode({"credential_offer_uri": "https://issuer.example/offers/1"})
    page = read_offer(ana, foreign)
    assert page.status_code == 400 and error_code(page) == "OID4VCI_FOREIGN_ISSUER"
    for garbage in ("https://example.org", "openid-credential-offer://?credential_offer=%7B", "openid-credential-offer://?x=1"):
        page = read_offer(ana, garbage)
        assert page.status_code == 400 and error_code(page) == "INVALID_CREDENTIAL_OFFER", page.text[:1000]
    assert holdings(live, ana) == []


def test_the_offer_page_opens_the_demo_wallet_pre_filled_through_sign_in(live, api, example_input):
    created = offer(api, example_input, configurations=["ob3_ldp_vc"])
    page = httpx.get(f"{live.url}/offers/{created['id']}")
    m = re.search(r'<a href="([^"]+)" id="offer-demo-wallet">', page.text)
    assert m, page.text
    target = m.group(1).replace("&amp;", "&")
    assert target == "/wallet/receive?" + urllib.parse.urlencode({"link": created["credential_offer_uri"]})
    with httpx.Client(base_url=live.url, timeout=60) as browser:
        r = browser.get(target)  # not signed in: to sign-in and back to the pre-filled page
        assert r.status_code == 303 and r.headers["location"].startswith("/wallet/signin?next=")
        signin = browser.get(r.headers["location"])
        sent = browser.post("/wallet/signin", data={"email": "cleo@example.org", "csrf": csrf_of(signin.text), "next": target})
        assert sent.status_code == 200, sent.text
        link = [url for (to, url) in live.app.state.wallet.outbox if to == "cleo@example.org"][-1]
        confirm = browser.get(link.removeprefix(live.url))
        next_path = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["next"][0]
        token = urllib.parse.urlsplit(link).path.rsplit("/", 1)[-1]
        done = browser.post("/wallet/signin-confirm", data={"link": token, "csrf": csrf_of(confirm.text), "next": next_path})
        assert done.status_code == 303 and done.headers["location"] == target, done.headers
        offered = browser.get(target)
        assert offered.status_code == 200 and "University of Zed offers you a credential" in offered.text
