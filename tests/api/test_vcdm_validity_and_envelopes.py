"""Two VC Data Model 2.0 rules the W3C VCDM test suite found (issue 11), over the live service's HTTP contract:

* §4.9: validUntil is "the date and time the credential ceases to be valid, which could be a date and time in the
  past or in the future", and "the same or later" than validFrom. ``POST /credentials/issue`` signs an end in the
  past as written (the verifier then says it expired); ``POST /microcredentials`` still refuses one (its own rule,
  app/credentials/validity.py).
* §4.13.1: an EnvelopedVerifiableCredential's ``@context`` "MUST be present and include a context, such as the base
  context ..., that defines at least the id, type, and EnvelopedVerifiableCredential terms": an envelope without the
  VC 2.0 base context is not verified, alone or inside a presentation.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import httpx
import pytest

from tests.api.test_vc_api_verify_options import _holder, _vp
from tests.api.test_verifier import VC2, _checks, _issue, _stamp

HANG = 60  # seconds: a hang, not a speed limit
SUBJECT = {"id": "did:example:subject"}


def _verify(live, vc) -> httpx.Response:
    return httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc}, timeout=HANG)


def _count(client) -> int:
    return len(client.get("/credentials", params={"limit": 500}).json()["items"])


@pytest.mark.parametrize(
    "period",
    [
        # the three inputs of the suite's 4.09 test, an end in the past each time
        {"validFrom": "2023-02-26T01:19:19Z", "validUntil": "2023-02-26T01:19:20Z"},
        {"validFrom": "2023-02-26T01:20:00Z", "validUntil": "2023-02-26T01:20:18.477Z"},
        {"validFrom": "2023-02-26T01:21:23Z", "validUntil": "2023-02-25T19:21:29-06:00"},
    ],
)
def test_credentials_issue_signs_an_end_in_the_past_and_the_verifier_says_it_expired(live, client, period):
    credential = {"@context": [VC2], "type": ["VerifiableCredential"], "credentialSubject": SUBJECT, **period}
    r = client.post("/credentials/issue", json={"credential": credential})
    assert r.status_code == 201, r.text
    vc = r.json()["verifiableCredential"]
    assert vc["validUntil"] == period["validUntil"]
    report = _verify(live, vc).json()
    checks = _checks(report)
    assert report["verified"] is False and checks["proof"]["outcome"] == "passed", report
    assert checks["validity"]["outcome"] == "failed" and "expired" in checks["validity"]["reason"]


def test_an_end_equal_to_the_start_is_signed_and_an_end_before_it_is_refused(live, client):
    start = _stamp(timedelta(days=1))
    base = {"@context": [VC2], "type": ["VerifiableCredential"], "credentialSubject": SUBJECT}
    assert client.post("/credentials/issue", json={"credential": dict(base, validFrom=start, validUntil=start)}).status_code == 201
    before = _count(client)
    r = client.post("/credentials/issue", json={"credential": dict(base, validFrom=start, validUntil=_stamp(timedelta(hours=1)))})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["errors"][0]["pointer"] == "/credential/validUntil" and "§4.9" in r.json()["detail"]
    # without a validFrom the issuer's own (now) is the start, so an end in the past comes before it
    r = client.post("/credentials/issue", json={"credential": dict(base, validUntil="2023-02-26T01:19:20Z")})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/credential/validUntil", r.text
    assert _count(client) == before


def test_microcredentials_still_refuse_an_end_in_the_past(client, example_input):
    record = dict(copy.deepcopy(example_input), validUntil="2023-02-26T01:19:20Z")
    r = client.post("/microcredentials", json={"microcredential": record})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/validUntil", r.text


@pytest.mark.parametrize(
    "context",
    [
        [],  # the suite's two negative cases (4.13.2-envelopes)
        "https://www.w3.org/ns/credentials/examples/v2",
        None,  # absent: the VC API verifier suite's "@context property is missing"
        ["https://www.w3.org/ns/credentials/examples/v2", VC2],
    ],
)
def test_an_envelope_without_the_base_context_is_not_verified(live, client, example_input, context):
    token = _issue(client, example_input, "ob3", "vc+jwt").text
    envelope = {"@context": [VC2], "type": "EnvelopedVerifiableCredential", "id": f"data:application/vc+jwt,{token}"}
    assert _verify(live, envelope).json()["verified"] is True
    # VC 2.0's own examples write the envelope's context as one string
    assert _verify(live, dict(envelope, **{"@context": VC2})).json()["verified"] is True
    bad = {k: v for k, v in envelope.items() if k != "@context"} if context is None else dict(envelope, **{"@context": context})
    r = _verify(live, bad)
    assert r.status_code == 422, r.text
    well_formed = _checks(r.json())["well_formed"]
    assert well_formed["outcome"] == "failed" and "VC 2.0 base context" in well_formed["reason"]
    # inside a presentation the envelope is judged the same way
    holder, did = _holder()
    vp = _vp(live, holder, [bad], "c-1", holder=did)
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c-1"}}, timeout=HANG)
    assert r.status_code == 422, r.text
    inner = r.json()["credentials"]
    assert inner and inner[0]["verified"] is False and _checks(inner[0])["well_formed"]["outcome"] == "failed", r.text
