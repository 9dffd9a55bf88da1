"""The issuer API end to end: real HTTP, real database, real signatures, real did:web and status lists."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from app.credentials import eu_completeness, mandatory_score
from app.dids.jose_keys import jose_kid
from app.status import bitstring


def _issue(client, example_input, fmt="ob3", proof="eddsa-rdfc-2022", **headers):
    return client.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example_input}, headers=headers)


def _verify(live, body: bytes, media_type: str):
    raw = body.decode()
    return live.app.state.runtime.verifier.verify(raw)


@pytest.mark.parametrize("fmt", ["ob3", "edc"])
@pytest.mark.parametrize("proof", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"])
def test_example_issues_signs_and_verifies(live, client, example_input, fmt, proof):
    r = _issue(client, example_input, fmt, proof)
    assert r.status_code == 201, r.text
    assert r.headers["location"].startswith("/credentials/urn:uuid:")
    if proof == "vc+jwt":  # an EDC is a VC 1.1 document: a VC DM 1.1 §6.3.1 JWT (tests/api/test_edc_jwt.py)
        assert r.headers["content-type"].startswith("application/jwt" if fmt == "edc" else "application/vc+jwt")
    report = _verify(live, r.content, r.headers["content-type"])
    assert report.verified, report.as_dict()
    checks = {c.id: c.outcome for c in report.checks}
    assert checks["issuer_binding"] == "passed" and checks["status"] == "passed"
    assert mandatory_score(eu_completeness(report.credential)) == (11, 11)
    # The stored bytes are the returned bytes.
    again = client.get(r.headers["location"])
    assert again.status_code == 200 and again.content == r.content


def test_auth_required_and_other_providers_credentials_are_404(live, client, example_input):
    r = httpx.post(f"{live.url}/microcredentials", json={"microcredential": example_input})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = httpx.post(f"{live.url}/microcredentials", json={"microcredential": example_input}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    issued = _issue(client, example_input)
    _, other_key = live.app.state.issuance.providers.create(slug="other", name="Other", country="NL")
    r = httpx.get(f"{live.url}{issued.headers['location']}", headers={"Authorization": f"Bearer {other_key}"})
    assert r.status_code == 404
    r = httpx.post(
        f"{live.url}/credentials/status",
        json={"credentialId": issued.headers["location"][13:], "status": "revoked"},
        headers={"Authorization": f"Bearer {other_key}"},
    )
    assert r.status_code == 404


def _count(client) -> int:
    return len(client.get("/credentials", params={"limit": 500}).json()["items"])


def test_validation_errors_list_every_field_and_store_nothing(client, example_input):
    bad = copy.deepcopy(example_input)
    bad["workload"]["ects"] = 75
    bad["level"]["eqf"] = 11
    del bad["assessment"]
    r = _issue(client, bad)
    assert r.status_code == 422, r.text
    problem = r.json()
    pointers = {e["pointer"] for e in problem["errors"]}
    assert {"/workload/ects", "/level/eqf", "/assessment"} <= pointers
    assert all("element" in e for e in problem["errors"])
    assert "Ana" not in r.text  # no personal data echoed
    assert _count(client) == 0


@pytest.mark.parametrize(
    "body,ctype,status",
    [
        (b'{"microcredential": {}, "microcredential": {}}', "application/json", 400),
        (b'{"format": NaN}', "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"format=ob3", "application/x-www-form-urlencoded", 415),
        (b'{"format": "pdf", "microcredential": {}}', "application/json", 400),
    ],
)
def test_malformed_requests_are_problem_json(client, body, ctype, status):
    r = client.post("/microcredentials", content=body, headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "detail", "code", "status"} <= set(r.json())
    assert _count(client) == 0


def test_idempotency(client, example_input):
    a = _issue(client, example_input, **{"Idempotency-Key": "k-1"})
    b = _issue(client, example_input, **{"Idempotency-Key": "k-1"})
    assert a.status_code == b.status_code == 201
    assert a.content == b.content and a.headers["location"] == b.headers["location"]
    other = copy.deepcopy(example_input)
    other["externalId"] = "MC-2026-999999"
    c = _issue(client, other, **{"Idempotency-Key": "k-1"})
    assert c.status_code == 409 and c.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _count(client) == 1


def test_dry_run_renders_without_storing(client, example_input):
    r = client.post("/microcredentials", params={"dryRun": "true"}, json={"format": "edc", "microcredential": example_input})
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is True and "proof" not in body["credential"]
    assert "EuropeanDigitalCredential" in body["credential"]["type"]
    assert _count(client) == 0


def test_vc_api_issue(live, client, provider):
    did = provider[0].did
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:learner", "name": "Ada"},
    }
    r = client.post("/credentials/issue", json={"credential": credential})
    assert r.status_code == 201, r.text
    vc = r.json()["verifiableCredential"]
    assert vc["issuer"] == did and vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert live.app.state.runtime.verifier.verify(vc).verified
    # VC 1.1 input is accepted too.
    v1 = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    r = client.post("/credentials/issue", json={"credential": v1, "options": {"cryptosuite": "eddsa-jcs-2022"}})
    assert r.status_code == 201, r.text
    assert live.app.state.runtime.verifier.verify(r.json()["verifiableCredential"]).verified
    jwt = client.post("/credentials/issue", json={"credential": credential, "options": {"proofFormat": "vc+jwt"}})
    assert jwt.status_code == 201 and jwt.json()["verifiableCredential"]["type"] == "EnvelopedVerifiableCredential"
    assert live.app.state.runtime.verifier.verify(jwt.json()["verifiableCredential"]).verified


@pytest.mark.parametrize(
    "change,code",
    [
        ({"issuer": "did:web:someone.else"}, "ISSUER_MISMATCH"),
        ({"proof": {"type": "DataIntegrityProof"}}, "FORBIDDEN_PROPERTY"),
        ({"credentialStatus": {"id": "https://x.example/s"}}, "MALFORMED_VALUE_ERROR"),  # an entry needs a type (VC 2.0 §4.10)
        ({"credentialStatus": {"type": "BitstringStatusListEntry", "statusListCredential": "https://x.example/l"}}, "FORBIDDEN_PROPERTY"),
        ({"id": "not a URL"}, "MALFORMED_VALUE_ERROR"),  # a client id must be an absolute URL (tests/api/test_credential_ids.py)
        ({"undefinedTerm": "x"}, "DATA_LOSS_DETECTION_ERROR"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"]}, "CONTEXT_NOT_ALLOWED"),
    ],
)
def test_vc_api_refuses_what_it_will_not_sign(client, change, code):
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    credential.update(change)
    r = client.post("/credentials/issue", json={"credential": credential})
    assert r.status_code in (400, 422), r.text
    assert r.json()["code"] == code
    assert _count(client) == 0


def _status_bit(live, credential: dict, purpose: str) -> bool:
    entries = credential["credentialStatus"]
    entry = next(e for e in (entries if isinstance(entries, list) else [entries]) if e["statusPurpose"] == purpose)
    status_list = httpx.get(entry["statusListCredential"]).json()
    assert live.app.state.runtime.verifier.verify(status_list).verified
    bits = bitstring.decode_list(status_list["credentialSubject"]["encodedList"])
    return bitstring.get_bit(bits, bitstring.parse_index(entry["statusListIndex"]))


def _vc_api_credential(client) -> tuple[dict, str]:
    """A VC API credential: it carries a revocation and a suspension entry (an OB3 or EDC one carries revocation only)."""
    plain = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    r = client.post("/credentials/issue", json={"credential": plain})
    assert r.status_code == 201, r.text
    credential = r.json()["verifiableCredential"]
    return credential, json.dumps(credential)


def test_revoke_suspend_and_lift(live, client, example_input):
    credential, raw = _vc_api_credential(client)
    cid = credential["id"]
    assert not _status_bit(live, credential, "revocation")
    s = client.post("/credentials/status", json={"credentialId": cid, "status": "suspended"})
    assert s.status_code == 200 and s.json()["status"] == "suspended"
    assert _status_bit(live, credential, "suspension")
    report = live.app.state.runtime.verifier.verify(raw)
    assert not report.verified and report.check("status").outcome == "failed"
    s = client.post("/credentials/status", json={"credentialId": cid, "status": "active"})
    assert s.json()["status"] == "active" and not _status_bit(live, credential, "suspension")
    assert live.app.state.runtime.verifier.verify(raw).verified
    s = client.post("/credentials/status", json={"credentialId": cid, "status": "revoked"})
    assert s.json()["status"] == "revoked" and _status_bit(live, credential, "revocation")
    again = client.post("/credentials/status", json={"credentialId": cid, "status": "active"})
    assert again.status_code == 409 and again.json()["code"] == "REVOCATION_IS_FINAL"
    report = live.app.state.runtime.verifier.verify(raw)
    assert not report.verified and "revoked" in report.check("status").reason


@pytest.mark.parametrize("fmt", ["ob3", "edc"])
def test_a_microcredential_has_one_status_entry_and_cannot_be_suspended(live, client, example_input, fmt):
    # OB 3.0 §B.1.2 (credentialStatus [0..1]) and the EDC shapes (sh:maxCount 1): one entry, revocation
    r = _issue(client, example_input, fmt)
    credential = r.json()
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict) and entry["statusPurpose"] == "revocation"
    for word in ("suspended", "active"):
        s = client.post("/credentials/status", json={"credentialId": credential["id"], "status": word})
        assert s.status_code == 409 and s.headers["content-type"].startswith("application/problem+json"), s.text
        assert s.json()["code"] == "NO_STATUS_ENTRY" and s.json()["errors"][0]["pointer"] == "/status"
    # nothing changed: it still verifies, and revocation still works
    assert live.app.state.runtime.verifier.verify(r.content.decode()).verified
    s = client.post("/credentials/status", json={"credentialId": credential["id"], "status": "revoked"})
    assert s.status_code == 200 and _status_bit(live, credential, "revocation")


def test_did_web_document_and_key_rotation(live, client, provider, example_input):
    before = _issue(client, example_input).content.decode()
    slug = provider[0].slug
    doc = httpx.get(f"{live.url}/issuers/{slug}/did.json").json()
    assert doc["id"] == provider[0].did and provider[0].did.startswith("did:web:127.0.0.1%3A")
    new_kid = live.app.state.issuance.providers.rotate_key(slug)
    doc = httpx.get(f"{live.url}/issuers/{slug}/did.json").json()
    multikeys = [m for m in doc["verificationMethod"] if m["type"] == "Multikey"]
    assert len(multikeys) == 2 and new_kid in doc["assertionMethod"]
    # each key is published in its JOSE form too (a JsonWebKey method, the kid of a vc+jwt)
    jwks = {m["id"]: m for m in doc["verificationMethod"] if m["type"] == "JsonWebKey" and m["publicKeyJwk"]["crv"] == "Ed25519"}
    assert len(jwks) == 2 and jose_kid(new_kid) in jwks and jose_kid(new_kid) in doc["assertionMethod"]
    # and the P-256 key beside it (ES256, SD-JWT VC) is rotated with it, the retired one kept
    p256 = [m["id"] for m in doc["verificationMethod"] if m["type"] == "JsonWebKey" and m["publicKeyJwk"]["crv"] == "P-256"]
    assert len(p256) == 2 and set(p256) <= set(doc["assertionMethod"])
    after = _issue(client, example_input).json()
    assert after["proof"][0]["verificationMethod"] == new_kid  # OB3: proof is an array (OB 3.0 §B.1.2)
    verifier = live.app.state.runtime.verifier
    live.app.state.runtime.resolver.clear_cache()
    assert verifier.verify(before).verified  # signed with the retired key: still valid
    assert verifier.verify(json.dumps(after)).verified


def test_own_did_web_and_status_lists_need_no_network(database_url, tmp_path, example_input):
    """Without the loopback allowance (as in development and production) the service still verifies its own
    credentials: its did:web documents and status lists are read from its own data, not fetched."""
    from tests import live_server

    server = live_server.start(database_url, tmp_path, fetch_allow_loopback=False, status_cache_seconds=0)
    try:
        _, key = server.app.state.issuance.providers.create(slug="own", name="Own University", country="IE")
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            issued = c.post("/microcredentials", json={"microcredential": example_input})
            assert issued.status_code == 201
            ok = c.post("/credentials/verify", json={"verifiableCredential": issued.json()})
            assert ok.status_code == 200, ok.text
            c.post("/credentials/status", json={"credentialId": issued.json()["id"], "status": "revoked"})
            revoked = c.post("/credentials/verify", json={"verifiableCredential": issued.json()})
            assert revoked.status_code == 422 and revoked.json()["errors"][0]["code"] == "STATUS_REVOKED"
            # Someone else's did:web on a loopback address is still refused without the allowance.
            assert not server.app.state.runtime.resolver.settings.fetch_allow_loopback
    finally:
        server.stop()


def test_a_key_another_worker_added_is_found(live, client, provider, example_input):
    """Each process keeps its own did:web documents (keys are only ever added); a credential signed with
    a key that another worker has just added must still verify here at once, not after some expiry."""
    from app.issuance import Issuance

    verifier = live.app.state.runtime.verifier
    assert verifier.verify(_issue(client, example_input).content.decode()).verified  # this process now keeps the document
    kept = live.app.state.issuance.providers.local_did_document(provider[0].did)
    other = Issuance(live.app.state.runtime, live.app.state.db)  # another worker: same database and keys, its own caches
    new_kid = other.providers.rotate_key(provider[0].slug)
    assert new_kid not in json.dumps(live.app.state.issuance.providers.local_did_document(provider[0].did))  # still the kept one
    assert kept == live.app.state.issuance.providers.local_did_document(provider[0].did)
    issued = other.issue(provider[0], {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input})
    assert json.loads(issued.body)["proof"][0]["verificationMethod"] == new_kid
    report = verifier.verify(issued.body.decode())
    assert report.verified, report
    assert new_kid in json.dumps(live.app.state.issuance.providers.local_did_document(provider[0].did))  # and it is kept from now on


def test_indices_reserved_by_a_worker_are_never_handed_out_again(live, client, provider, example_input):
    """Each worker reserves runs of status indices ahead; another worker, or this one after a restart,
    never hands out an index of a run it did not reserve itself, used or not."""
    from app.issuance import Issuance

    def indices(body: bytes) -> set[tuple[str, str]]:
        doc = json.loads(body)
        entries = doc["credentialStatus"] if isinstance(doc["credentialStatus"], list) else [doc["credentialStatus"]]
        return {(e["statusListCredential"], e["statusListIndex"]) for e in entries}

    first = [indices(_issue(client, example_input).content) for _ in range(3)]
    reserved = {
        (live.app.state.issuance.status_lists.url(lst), str(idx)) for q in live.app.state.issuance.status_lists._reserved._runs.values() for lst, idx, _ in q
    }
    assert len(reserved) >= 29  # the rest of a run of 32 (revocation: an OB3 carries one status entry)
    other = Issuance(live.app.state.runtime, live.app.state.db)  # another worker, or this one restarted
    payload = {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input}
    second = [indices(other.issue(provider[0], payload).body) for _ in range(3)]
    used_first = set().union(*first)
    used_second = set().union(*second)
    assert len(used_first) == 3 and len(used_second) == 3  # one status entry per OB3
    assert not used_second & (used_first | reserved)
    revoked = json.loads(other.issue(provider[0], payload).body)
    r = client.post("/credentials/status", json={"credentialId": revoked["id"], "status": "revoked"})
    assert r.status_code == 200, r.text
    assert not live.app.state.runtime.verifier.verify(revoked).verified


def test_reserved_indices_are_refilled_in_the_background_before_they_run_out(live, provider, example_input):
    """A request that found no reserved index waited for an extra commit (one in 32 made the latency's
    tail): once fewer than LOW are left, a run is reserved in the background, without a request waiting."""
    import time

    from app.issuance import Issuance

    issuance = Issuance(live.app.state.runtime, live.app.state.db)  # a fresh worker: nothing reserved yet
    reserved, key = issuance.status_lists._reserved, (provider[0].id, "revocation")
    payload = {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input}
    used = set()
    for _ in range(reserved.RUN - reserved.LOW + 1):  # leaves LOW - 1 of the first run: a refill starts
        doc = json.loads(issuance.issue(provider[0], payload).body)
        entries = doc["credentialStatus"] if isinstance(doc["credentialStatus"], list) else [doc["credentialStatus"]]
        used |= {(e["statusListCredential"], e["statusListIndex"]) for e in entries}
    deadline = time.monotonic() + 10
    while len(reserved._runs[key]) < reserved.LOW - 1 + reserved.RUN and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(reserved._runs[key]) == reserved.LOW - 1 + reserved.RUN  # the next run is there, nobody asked
    assert not reserved._refilling
    queued = {(issuance.status_lists.url(lst), str(idx)) for lst, idx, _ in reserved._runs[key]}
    assert len(queued) == reserved.LOW - 1 + reserved.RUN and not queued & used  # never an index twice


def test_a_large_credential_is_signed_off_the_event_loop_and_verifies(live, client, example_input):
    """Bodies above SIGN_ON_LOOP_MAX_BYTES are signed in a worker thread (the loop would be held for
    milliseconds); the result is the same kind of credential, stored as returned, and idempotent."""
    from app.issuance import SIGN_ON_LOOP_MAX_BYTES

    big = copy.deepcopy(example_input)
    outcome = big["learningOutcomes"][0]
    big["learningOutcomes"] = [dict(outcome, text={"en": f"{outcome['text']['en']} ({n})"}) for n in range(300)]
    assert len(json.dumps({"microcredential": big})) > SIGN_ON_LOOP_MAX_BYTES
    r = _issue(client, big, **{"Idempotency-Key": "big-one"})
    assert r.status_code == 201, r.text
    report = _verify(live, r.content, r.headers["content-type"])
    assert report.verified, report.as_dict()
    assert client.get(r.headers["location"]).content == r.content
    again = _issue(client, big, **{"Idempotency-Key": "big-one"})
    assert again.status_code == 201 and again.content == r.content


def test_an_ordinary_credential_is_signed_on_the_event_loop_and_a_large_one_on_a_thread(live, client, example_input, monkeypatch):
    """Where signing runs, observed on the real service (the real method runs; only its thread is noted)."""
    import asyncio

    issuance = live.app.state.issuance
    places: list[str] = []
    real = issuance._sign

    def noting(started):
        try:
            asyncio.get_running_loop()
            places.append("loop")
        except RuntimeError:
            places.append("thread")
        return real(started)

    monkeypatch.setattr(issuance, "_sign", noting)
    assert _issue(client, example_input).status_code == 201
    big = copy.deepcopy(example_input)
    outcome = big["learningOutcomes"][0]
    big["learningOutcomes"] = [dict(outcome, text={"en": f"{outcome['text']['en']} ({n})"}) for n in range(300)]
    assert _issue(client, big).status_code == 201
    assert places == ["loop", "thread"]


def test_a_request_without_an_api_key_is_refused_before_its_body_is_read(live):
    """The body is read on the event loop before the key is checked in the worker thread; a request with
    no key at all is refused first, whatever its body (here one larger than the service accepts)."""
    too_large = b"{" + b" " * (live.settings.max_body_bytes + 10) + b"}"
    r = httpx.post(f"{live.url}/microcredentials", content=too_large, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
