"""Hostile input against the live service (issue 13): bounded work, clean refusals, one context rule,
a validity horizon, and status lists read exactly as Bitstring Status List v1.0 says.

Every request crosses real HTTP to the service of tests/live_server.py with its default settings. The
deadlines here only catch hangs (a 1 MB base58 value took minutes to refuse before the length caps).
"""

from __future__ import annotations

import copy
import json
import socket
import time
from datetime import timedelta

import httpx
import pytest

from app.status import bitstring

# The same plain VC 2.0 credential the verifier's tests sign (one definition of it).
from tests.api.test_verifier import EXAMPLES, VC2, _plain, _stamp  # noqa: F401
from tests.local_server import LocalServer

HANG = 60  # seconds: a hang, not a speed limit


def _sign(live, provider, doc, suite="eddsa-rdfc-2022"):
    return live.app.state.runtime.engine.add_proof(doc, live.app.state.issuance.providers.signer_for(provider[0]), suite=suite)


def _verify(live, vc) -> httpx.Response:
    return httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc}, timeout=HANG)


def _checks(body) -> dict[str, dict]:
    return {c["id"]: c for c in body["checks"]}


def _entry(url: str, index: int) -> dict:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def _issue_vc(client, credential, **options) -> httpx.Response:
    return client.post("/credentials/issue", json={"credential": credential, "options": options})


# -- raw HTTP/1.1 on one keep-alive connection ----------------------------------------------------------


def _exchange(sock: socket.socket, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request and its whole response (Content-Length framed) on an open socket."""
    host = "%s:%d" % sock.getpeername()[:2]
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the connection was closed before a response came"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    length = int(found["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection was closed in the middle of a response"
        rest += chunk
    return int(status_line.split()[1]), found, rest[:length]


# -- 1. bounded work before decoding -----------------------------------------------------------------


def test_a_huge_proof_value_is_refused_before_it_is_decoded(live, provider):
    vc = _sign(live, provider, _plain(provider[0].did))
    # Nearly the body limit of base58: decoding it (quadratic) took minutes of CPU.
    vc["proof"]["proofValue"] = "z" + "2" * 1_000_000
    started = time.monotonic()
    r = _verify(live, vc)
    assert time.monotonic() - started < HANG
    assert r.status_code == 422, r.text
    proof = _checks(r.json())["proof"]
    assert proof["code"] == "MALFORMED_PROOF_ERROR" and "longer than the base58btc of 64 bytes" in proof["reason"], proof


@pytest.mark.parametrize(
    "did, says",
    [
        ("did:key:z6Mk" + "2" * 1900, "longer than the base58btc of 35 bytes"),  # a Multikey is ~48 characters
        ("did:jwk:" + "A" * 2000, "not a base64url string of at most 1366 characters"),  # a public JWK is a few hundred bytes
    ],
)
def test_over_long_key_identifiers_are_refused_before_they_are_decoded(live, provider, did, says):
    vc = _sign(live, provider, _plain(provider[0].did))
    vc["proof"]["verificationMethod"] = f"{did}#0"
    r = _verify(live, vc)
    assert r.status_code == 422, r.text
    proof = _checks(r.json())["proof"]
    assert proof["code"] == "INVALID_VERIFICATION_METHOD" and says in proof["reason"], proof


def test_jws_parts_are_length_checked(live, provider):
    header = "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9"  # {"alg":"EdDSA","typ":"vc+jwt"}
    token = f"{header}.e30.{'A' * 5000}"  # a signature of ~3.7 KB: EdDSA and ES256 signatures are 64 bytes
    r = _verify(live, {"@context": [VC2], "id": f"data:application/vc+jwt,{token}", "type": "EnvelopedVerifiableCredential"})
    assert r.status_code == 422, r.text
    proof = _checks(r.json())["proof"]
    assert "JWS signature is not a base64url string of at most 86 characters" in proof["reason"], proof


def test_a_proof_set_of_many_proofs_is_refused_without_verifying_them(live, provider):
    vc = _sign(live, provider, _plain(provider[0].did))
    vc["proof"] = [vc["proof"]] * 5
    r = _verify(live, vc)
    assert r.status_code == 422, r.text
    proof = _checks(r.json())["proof"]
    assert proof["code"] == "MALFORMED_PROOF_ERROR" and "holds 5 proofs; at most 4" in proof["reason"], proof
    vc["proof"] = vc["proof"][:1] * 2  # a proof set of the same proof twice still verifies: the cap is on the count
    assert _verify(live, vc).json()["verified"] is True


def test_a_presentation_of_many_credentials_is_refused_without_verifying_them(live, provider):
    vc = _sign(live, provider, _plain(provider[0].did))
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "verifiableCredential": [vc] * 33}
    body = {"verifiablePresentation": vp, "options": {"challenge": "c" * 32}}
    r = httpx.post(f"{live.url}/presentations/verify", json=body, timeout=HANG)
    assert r.status_code == 422, r.text
    body = r.json()
    well_formed = _checks(body)["well_formed"]
    assert well_formed["outcome"] == "failed" and well_formed["code"] == "RANGE_ERROR" and "33 credentials" in well_formed["reason"]
    assert "credentials" not in body  # none of them was verified


def test_a_document_of_too_many_nodes_is_refused_before_json_ld_processing(live, provider, client):
    subject = {"id": "did:example:learner", "knows": [{"name": f"n{i}"} for i in range(10_001)]}
    vc = _sign(live, provider, _plain(provider[0].did), suite="eddsa-jcs-2022")  # JCS: signing never expands
    vc["credentialSubject"] = subject
    r = _verify(live, vc)
    assert r.status_code == 422, r.text
    well_formed = _checks(r.json())["well_formed"]
    assert well_formed["code"] == "CANONICALIZATION_LIMIT_EXCEEDED" and "10000 JSON objects" in well_formed["reason"], well_formed
    r = _issue_vc(client, {"@context": [VC2, EXAMPLES], "type": ["VerifiableCredential"], "credentialSubject": subject})
    assert r.status_code == 422 and r.json()["code"] == "CANONICALIZATION_LIMIT_EXCEEDED", r.text


# -- 2. hostnames: refusals, and the connection carries on ---------------------------------------------


@pytest.mark.parametrize("did", ["did:web:xn--zz.example", "did:web:xn--.example", "did:web:" + "a" * 64 + ".example"])
def test_a_did_web_with_an_invalid_host_is_a_refusal_and_the_connection_carries_on(live, provider, did):
    vc = _sign(live, provider, _plain(provider[0].did))
    vc["issuer"] = did
    vc["proof"]["verificationMethod"] = f"{did}#key-1"
    with socket.create_connection(("127.0.0.1", int(live.url.rsplit(":", 1)[1])), timeout=HANG) as sock:
        status, _, body = _exchange(sock, "POST", "/credentials/verify", json.dumps({"verifiableCredential": vc}).encode())
        assert status == 422, body
        proof = _checks(json.loads(body))["proof"]
        assert proof["code"] == "INVALID_VERIFICATION_METHOD" and "domain name" in proof["reason"], proof
        status, _, body = _exchange(sock, "GET", "/health")  # the same keep-alive connection serves the next request
        assert status == 200, body


@pytest.mark.parametrize("url", ["https://xn--zz.example/list", "https://exa%20mple.example/list", "https://a..b.example/list"])
def test_a_status_list_url_with_an_invalid_host_is_indeterminate(live, provider, url):
    entry = _entry(url, 5)
    vc = _sign(live, provider, _plain(provider[0].did, credentialStatus=entry), suite="eddsa-jcs-2022")
    with socket.create_connection(("127.0.0.1", int(live.url.rsplit(":", 1)[1])), timeout=HANG) as sock:
        status, _, body = _exchange(sock, "POST", "/credentials/verify", json.dumps({"verifiableCredential": vc}).encode())
        assert status == 422, body
        check = _checks(json.loads(body))["status"]
        assert check["outcome"] == "indeterminate" and check["code"] == "STATUS_RETRIEVAL_ERROR" and "domain name" in check["reason"], check
        assert _exchange(sock, "GET", "/health")[0] == 200


# -- 3. embedded contexts: one rule, issuing and verifying ---------------------------------------------

REFUSED_CONTEXTS = {
    "@vocab": {"@vocab": "https://attacker.example/vocab#"},
    "@base": {"@base": "https://attacker.example/"},
    "@propagate": {"@propagate": False},
    "@import": {"@import": "https://www.w3.org/ns/credentials/examples/v2"},
    "@protected false over credentialSubject": {"@protected": False, "credentialSubject": "https://attacker.example/subject"},
    "redefines issuer": {"issuer": {"@id": "https://attacker.example/issuer", "@type": "@id"}},
    "@language": {"@language": "fr"},
}


@pytest.mark.parametrize("name", sorted(REFUSED_CONTEXTS))
def test_an_embedded_context_that_changes_pinned_terms_is_refused_when_verifying(live, provider, name):
    doc = _plain(provider[0].did, **{"@context": [VC2, EXAMPLES, REFUSED_CONTEXTS[name]]})
    doc["credentialSubject"]["undefinedTerm"] = "signed only through @vocab"
    vc = _sign(live, provider, doc, suite="eddsa-jcs-2022")  # JCS signs JSON, so the attacker can sign it
    r = _verify(live, vc)
    assert r.status_code == 422, r.text
    well_formed = _checks(r.json())["well_formed"]
    assert well_formed["outcome"] == "failed" and well_formed["code"] == "CONTEXT_NOT_ALLOWED", well_formed
    assert "embedded @context refused" in well_formed["reason"]


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"])
@pytest.mark.parametrize("name", sorted(REFUSED_CONTEXTS))
def test_an_embedded_context_that_changes_pinned_terms_is_refused_when_issuing(client, name, suite):
    credential = {"@context": [VC2, REFUSED_CONTEXTS[name]], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    before = client.get("/credentials").json()
    r = _issue_vc(client, credential, cryptosuite=suite)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["code"] == "CONTEXT_NOT_ALLOWED"
    assert client.get("/credentials").json() == before  # nothing stored


def test_an_embedded_context_in_a_node_is_checked_too(live, provider, client):
    subject = {"@context": {"@vocab": "https://attacker.example/"}, "id": "did:example:x", "anything": 1}
    r = _issue_vc(client, {"@context": [VC2], "type": ["VerifiableCredential"], "credentialSubject": subject})
    assert r.status_code == 422 and r.json()["code"] == "CONTEXT_NOT_ALLOWED", r.text
    vc = _sign(live, provider, _plain(provider[0].did, credentialSubject=subject), suite="eddsa-jcs-2022")
    assert _checks(_verify(live, vc).json())["well_formed"]["code"] == "CONTEXT_NOT_ALLOWED"


def test_an_embedded_context_that_only_adds_terms_is_issued_and_verifies_and_the_report_says_so(live, client):
    credential = {
        "@context": [VC2, {"nickname": "https://uniz.example.edu/terms#nickname", "@protected": True}],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:x", "nickname": "Zed"},
    }
    r = _issue_vc(client, credential)
    assert r.status_code == 201, r.text
    report = _verify(live, r.json()["verifiableCredential"]).json()
    assert report["verified"] is True, report
    assert "embedded contexts that only add terms" in _checks(report)["well_formed"]["reason"]
    plain = _verify(live, _issue_vc(client, dict(credential, **{"@context": [VC2, EXAMPLES]})).json()["verifiableCredential"]).json()
    assert "pinned contexts only" in _checks(plain)["well_formed"]["reason"]


# -- 4. validity horizon -----------------------------------------------------------------------------


# An end in the past is signed by POST /credentials/issue (VC 2.0 §4.9 allows it):
# tests/api/test_vcdm_validity_and_envelopes.py.
@pytest.mark.parametrize("valid_until, says", [(timedelta(days=365 * 200), "more than 50 years from now")])
def test_credentials_issue_refuses_a_far_future_valid_until(client, valid_until, says):
    credential = {"@context": [VC2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    credential["validUntil"] = _stamp(valid_until)
    before = client.get("/credentials").json()
    r = _issue_vc(client, credential)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "RANGE_ERROR" and says in problem["detail"] and problem["errors"][0]["pointer"] == "/credential/validUntil"
    assert client.get("/credentials").json() == before


def test_credentials_issue_refuses_an_end_before_the_start_and_accepts_a_sane_period(client):
    credential = {"@context": [VC2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    r = _issue_vc(client, dict(credential, validFrom=_stamp(timedelta(days=30)), validUntil=_stamp(timedelta(days=10))))
    assert r.status_code == 422 and "after validFrom" in r.json()["detail"], r.text  # or the same (§4.9)
    assert _issue_vc(client, dict(credential, validUntil=_stamp(timedelta(days=365 * 10)))).status_code == 201


def test_microcredentials_refuse_a_far_future_valid_until(client, example_input):
    far = dict(copy.deepcopy(example_input), validUntil=_stamp(timedelta(days=365 * 200)))
    r = client.post("/microcredentials", json={"microcredential": far})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "RANGE_ERROR" and r.json()["errors"][0]["pointer"] == "/validUntil"
    near = dict(copy.deepcopy(example_input), validUntil=_stamp(timedelta(days=365 * 5)))
    assert client.post("/microcredentials", json={"microcredential": near}).status_code == 201


def test_the_horizon_is_a_setting(database_url, tmp_path, example_input):
    from tests import live_server

    server = live_server.start(database_url, tmp_path, max_validity_years=3)
    try:
        _, key = server.app.state.issuance.providers.create(slug="uniz", name="U", country="IE", homepage="https://uniz.example.edu")
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=HANG) as c:
            record = dict(copy.deepcopy(example_input), validUntil=_stamp(timedelta(days=365 * 5)))
            r = c.post("/microcredentials", json={"microcredential": record})
            assert r.status_code == 422 and "more than 3 years" in r.json()["detail"], r.text
    finally:
        server.stop()


# -- 5. status lists as Bitstring Status List v1.0 says -------------------------------------------------


def _list_credential(url: str, issuer: str, **subject) -> dict:
    encoded = bitstring.encode_list(bitstring.new_list())
    body = {"type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": encoded, "id": f"{url}#list"}
    body.update(subject)
    return {
        "@context": [VC2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": _stamp(timedelta(days=-1)),
        "credentialSubject": {k: v for k, v in body.items() if v is not None},
    }


def _status_verdict(live, provider, tamper, suite="eddsa-jcs-2022") -> dict:
    with LocalServer() as server:
        url = server.url("/list")
        listed = tamper(_list_credential(url, provider[0].did))
        server.documents["/list"] = ("application/vc+ld+json", json.dumps(_sign(live, provider, listed, suite=suite)).encode())
        entry = _entry(url, 7)
        r = _verify(live, _sign(live, provider, _plain(provider[0].did, credentialStatus=entry)))
    return _checks(r.json())["status"]


def test_a_conforming_status_list_passes(live, provider):
    assert _status_verdict(live, provider, lambda c: c)["outcome"] == "passed"


def _without_prefix(c):
    c["credentialSubject"]["encodedList"] = c["credentialSubject"]["encodedList"][1:]
    return c


def _fragment_subject(c):
    c["credentialSubject"]["id"] = "#list"
    return c


def _not_yet_valid(c):
    c["validFrom"] = _stamp(timedelta(days=2))
    return c


def _expired(c):
    c["validUntil"] = _stamp(timedelta(days=-1) + timedelta(hours=1))
    c["validFrom"] = _stamp(timedelta(days=-3))
    return c


def _wrong_type(c):
    c["type"] = ["VerifiableCredential"]
    return c


def _wrong_purpose(c):
    c["credentialSubject"]["statusPurpose"] = "suspension"
    return c


@pytest.mark.parametrize(
    "tamper, says",
    [
        (_without_prefix, "multibase base64url"),
        (_fragment_subject, "absolute URL"),
        (_not_yet_valid, "not valid yet"),
        (_expired, "expired"),
        (_wrong_type, "BitstringStatusListCredential"),
        (_wrong_purpose, "does not match"),
    ],
)
def test_a_non_conforming_status_list_is_indeterminate(live, provider, tamper, says):
    check = _status_verdict(live, provider, tamper)
    assert check["outcome"] == "indeterminate" and check["code"] == "STATUS_VERIFICATION_ERROR", check
    assert says in check["reason"], check


def test_an_over_long_encoded_list_is_refused_before_it_is_decoded():
    from app.errors import RangeError

    with pytest.raises(RangeError) as exc:
        bitstring.decode_list("uH4sI" + "A" * 30_000, max_bytes=16_384)
    assert exc.value.code == "STATUS_LIST_LENGTH_ERROR"
