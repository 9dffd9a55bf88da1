"""The verifier API end to end: credentials issued by the live service, verified over real HTTP.

Everything crosses the network for real: did:web documents and status lists are fetched from the live
service (the test-only loopback allowance), challenges live in the database.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from datetime import UTC, datetime, timedelta

import base58
import httpx
import pytest
from jwcrypto import jwk, jws

from app.keys import Ed25519Signer
from app.proofs import vc_jose
from app.settings import Settings
from app.xsd import format_datetime_stamp
from tests.conftest import VECTORS
from tests.live_server import free_port
from tests.local_server import LocalServer

VC2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def _issue(client, example_input, fmt="ob3", proof="eddsa-rdfc-2022") -> httpx.Response:
    r = client.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return r


def _as_vc(issued: httpx.Response):
    """The VC API shape of an issued credential: the object, or a JWT as an EnvelopedVerifiableCredential."""
    media = issued.headers["content-type"].split(";")[0]
    if media in ("application/vc+jwt", "application/jwt"):
        return {"@context": [VC2], "id": f"data:{media},{issued.text}", "type": "EnvelopedVerifiableCredential"}
    return issued.json()


def _verify(live, vc, **kw) -> httpx.Response:
    return httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc, "options": {}}, timeout=30, **kw)


def _checks(body) -> dict[str, dict]:
    return {c["id"]: c for c in body["checks"]}


def _stamp(delta: timedelta) -> str:
    return format_datetime_stamp(datetime.now(UTC).replace(microsecond=0) + delta)


def _plain(did: str, **extra) -> dict:
    doc = {
        "@context": [VC2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": did,
        "validFrom": _stamp(timedelta(days=-1)),
        "credentialSubject": {"id": "did:example:learner", "name": "Ada"},
    }
    doc.update(extra)
    return doc


def _signer(live, provider):
    return live.app.state.issuance.providers.signer_for(provider[0])


def _sign(live, provider, doc, suite="eddsa-rdfc-2022"):
    signer = _signer(live, provider)
    if suite == "vc+jwt":
        return vc_jose.secure(doc, signer)
    return live.app.state.runtime.engine.add_proof(doc, signer, suite=suite)


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assert_problem(r: httpx.Response, status: int = 400):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "detail", "code", "status"} <= set(r.json())


# -- genuine credentials --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ob3", "edc"])
@pytest.mark.parametrize("proof", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"])
def test_issued_credentials_verify_with_trust_and_completeness(live, client, example_input, fmt, proof):
    issued = _issue(client, example_input, fmt, proof)
    r = _verify(live, _as_vc(issued))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified"] is True and body["verdict"] == "valid" and body["errors"] == [] and body["warnings"] == []
    assert body["format"] == ("vc+jwt" if proof == "vc+jwt" else "data-integrity")
    checks = _checks(body)
    for name in ("well_formed", "proof", "issuer_binding", "validity", "status"):
        assert checks[name]["outcome"] == "passed", checks[name]
    trust = checks["issuer_trust"]
    assert trust["outcome"] == "passed" and trust["details"]["legalName"] == "University of Zed" and trust["details"]["country"] == "IE"
    eu = checks["eu_completeness"]
    assert eu["outcome"] == "passed" and eu["details"]["mandatory"] == "11 of 11"
    assert len(eu["details"]["elements"]) == 16 and sum(e["mandatory"] for e in eu["details"]["elements"]) == 11
    assert "credential" not in body  # the learner's data is not echoed back
    if proof == "vc+jwt":  # a bare compact JWT string is accepted too
        assert _verify(live, issued.text).status_code == 200


def test_plain_vc_skips_completeness_and_unknown_issuer_is_a_warning(live, provider):
    r = _verify(live, _sign(live, provider, _plain(provider[0].did)))
    assert r.status_code == 200 and _checks(r.json())["eu_completeness"]["outcome"] == "skipped"
    stranger = Ed25519Signer.generate()
    mb = stranger.public_multibase()
    stranger.verification_method = f"did:key:{mb}#{mb}"
    doc = live.app.state.runtime.engine.add_proof(_plain(f"did:key:{mb}"), stranger)
    r = _verify(live, doc)
    assert r.status_code == 200, r.text  # trust is reported beside the verdict, never blocking
    body = r.json()
    assert body["verdict"] == "valid with warnings"
    trust = _checks(body)["issuer_trust"]
    assert trust["outcome"] == "indeterminate" and "unknown issuer" in trust["reason"]


def test_registry_marks_an_issuer_not_trusted(database_url, tmp_path):
    from tests import live_server

    registry = tmp_path / "registry.yaml"
    registry.write_text("issuers:\n  did:web:127.0.0.1:\n    legalName: Blocked\n    country: ie\n    status: not-trusted\n")
    server = live_server.start(database_url, tmp_path, trust_registry_file=registry)
    try:
        provider = server.app.state.issuance.providers.create(slug="uniz", name="University of Zed", country="IE")
        doc = _sign(server, provider, _plain(provider[0].did))
        # did:web:127.0.0.1 covers did:web:127.0.0.1%3Aport:issuers:uniz? No: the host differs (%3A port), so it is not covered.
        r = _verify(server, doc)
        assert _checks(r.json())["issuer_trust"]["outcome"] == "passed"
        exact = server.app.state.runtime.trust_check.registry
        exact.entries[provider[0].did] = exact.entries.pop("did:web:127.0.0.1").__class__(provider[0].did, "Blocked", "IE", "not-trusted")
        r = _verify(server, doc)
        trust = _checks(r.json())["issuer_trust"]
        assert r.status_code == 200 and trust["outcome"] == "failed" and trust["code"] == "ISSUER_NOT_TRUSTED"
    finally:
        server.stop()


# -- credentials that fail ------------------------------------------------------------------------


@pytest.mark.parametrize("proof", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_tampered_data_integrity_credential_is_422(live, client, example_input, proof):
    vc = _issue(client, example_input, "ob3", proof).json()
    vc["credentialSubject"]["achievement"]["name"] = "Doctorate in Everything"
    r = _verify(live, vc)
    assert r.status_code == 422 and r.json()["verified"] is False
    assert _checks(r.json())["proof"]["outcome"] == "failed"
    assert any(e["check"] == "proof" for e in r.json()["errors"])


def test_tampered_jwt_is_422(live, client, example_input):
    token = _issue(client, example_input, "edc", "vc+jwt").text
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["vc"]["credentialSubject"]["id"] = "did:example:someone-else"  # an EDC: a VC 1.1 JWT, its vc claim
    r = _verify(live, f"{header}.{_b64u(json.dumps(claims).encode())}.{sig}")
    assert r.status_code == 422 and _checks(r.json())["proof"]["outcome"] == "failed"


@pytest.mark.parametrize("new_status,word", [("revoked", "revoked"), ("suspended", "suspended")])
def test_revoked_and_suspended_are_422_with_the_reason(live, client, example_input, new_status, word):
    if new_status == "suspended":  # an OB3 or EDC carries one status entry (revocation); a VC API credential has both
        plain = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
        r = client.post("/credentials/issue", json={"credential": plain, "options": {"cryptosuite": "eddsa-jcs-2022"}})
        issued_vc = r.json()["verifiableCredential"]
    else:
        issued_vc = _issue(client, example_input, "ob3", "eddsa-jcs-2022").json()
    assert client.post("/credentials/status", json={"credentialId": issued_vc["id"], "status": new_status}).status_code == 200
    r = _verify(live, issued_vc)
    assert r.status_code == 422
    status = _checks(r.json())["status"]
    assert status["outcome"] == "failed" and word in status["reason"] and status["code"] == f"STATUS_{word.upper()}"
    assert r.json()["verdict"] == "not valid"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "vc+jwt"])
@pytest.mark.parametrize(
    "extra,says",
    [
        ({"validFrom": "2020-01-01T00:00:00Z", "validUntil": "2021-01-01T00:00:00Z"}, "expired"),
        ({"validFrom": "2999-01-01T00:00:00Z"}, "not valid before"),
    ],
)
def test_expired_and_not_yet_valid(live, provider, suite, extra, says):
    signed = _sign(live, provider, _plain(provider[0].did, **extra), suite)
    r = _verify(live, signed)
    assert r.status_code == 422, r.text
    validity = _checks(r.json())["validity"]
    assert validity["outcome"] == "failed" and says in validity["reason"] and validity["code"] == "RANGE_ERROR"


def test_unreachable_status_list_is_indeterminate_not_verified(live, provider):
    url = f"http://127.0.0.1:{free_port()}/status/gone"
    entry = {"id": f"{url}#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": url}
    started = time.perf_counter()
    r = _verify(live, _sign(live, provider, _plain(provider[0].did, credentialStatus=entry)))
    assert time.perf_counter() - started < 30  # a refused connection is not waited for: a hang guard, generously
    assert r.status_code == 422 and r.json()["verified"] is False
    status = _checks(r.json())["status"]
    assert status["outcome"] == "indeterminate" and status["code"] == "STATUS_RETRIEVAL_ERROR"


def test_tampered_status_list_is_indeterminate(live, client, example_input, provider):
    issued = _issue(client, example_input, "ob3", "eddsa-jcs-2022").json()
    entries = issued["credentialStatus"] if isinstance(issued["credentialStatus"], list) else [issued["credentialStatus"]]
    entry = next(e for e in entries if e["statusPurpose"] == "revocation")
    status_list = httpx.get(entry["statusListCredential"]).json()
    status_list["validUntil"] = "2999-01-01T00:00:00Z"  # any change after signing breaks its proof
    with LocalServer() as server:
        server.documents["/list"] = ("application/vc+ld+json", json.dumps(status_list).encode())
        forged = dict(entry, statusListCredential=server.url("/list"), id=server.url("/list") + "#" + entry["statusListIndex"])
        r = _verify(live, _sign(live, provider, _plain(provider[0].did, credentialStatus=forged)))
    assert r.status_code == 422
    status = _checks(r.json())["status"]
    assert status["outcome"] == "indeterminate" and status["code"] == "STATUS_VERIFICATION_ERROR"


def test_key_not_controlled_by_the_issuer(live, provider):
    stranger = Ed25519Signer.generate()
    mb = stranger.public_multibase()
    stranger.verification_method = f"did:key:{mb}#{mb}"
    doc = live.app.state.runtime.engine.add_proof(_plain(provider[0].did), stranger)  # claims our provider as issuer
    r = _verify(live, doc)
    assert r.status_code == 422
    binding = _checks(r.json())["issuer_binding"]
    assert binding["outcome"] == "failed" and binding["code"] == "INVALID_VERIFICATION_METHOD"


def test_changed_issuer_fails(live, client, example_input, provider):
    other, _ = live.app.state.issuance.providers.create(slug="other", name="Other", country="NL")
    for proof in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        vc = _issue(client, example_input, "ob3", proof).json()
        vc["issuer"]["id"] = other.did
        r = _verify(live, vc)
        assert r.status_code == 422 and r.json()["verified"] is False
        assert _checks(r.json())["proof"]["outcome"] == "failed" or _checks(r.json())["issuer_binding"]["outcome"] == "failed"


def _jwt_attacks(live, provider):
    did, signer = provider[0].did, _signer(live, provider)
    payload = dict(_plain(did), iss=did)
    body = _b64u(json.dumps(payload).encode())
    none = _b64u(json.dumps({"alg": "none", "typ": "vc+jwt"}).encode()) + "." + body + "."
    # HS256 keyed with the issuer's public key bytes, as a confused verifier would rebuild it.
    hs = jws.JWS(json.dumps(payload).encode())
    hs.add_signature(
        jwk.JWK(kty="oct", k=_b64u(signer.public_key())),
        alg="HS256",
        protected=json.dumps({"alg": "HS256", "kid": signer.verification_method, "typ": "vc+jwt"}),
    )
    # The attacker's own key carried in the header, claiming the issuer's key id.
    mine = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    embedded = jws.JWS(json.dumps(payload).encode())
    embedded.add_signature(
        mine, alg="EdDSA", protected=json.dumps({"alg": "EdDSA", "kid": signer.verification_method, "typ": "vc+jwt", "jwk": json.loads(mine.export_public())})
    )
    return {"none": none, "HS256": hs.serialize(compact=True), "jwk-in-header": embedded.serialize(compact=True)}


@pytest.mark.parametrize("attack", ["none", "HS256", "jwk-in-header"])
def test_jwt_attacks_are_refused(live, provider, attack):
    token = _jwt_attacks(live, provider)[attack]
    r = _verify(live, token)
    assert r.status_code in (400, 422), r.text
    if r.status_code == 422:
        assert r.json()["verified"] is False and _checks(r.json())["proof"]["outcome"] == "failed"


def test_poison_graph_is_refused_quickly_with_a_clear_reason(live, provider):
    # rdf-canon test074: a 10-node blank-node clique, written as JSON-LD inside credentialSubject.
    quads = (VECTORS / "rdf-canon" / "rdfc10" / "test074-in.nq").read_text().split("\n")
    edges: dict[str, list[str]] = {}
    for line in filter(None, quads):
        s, _, o, _ = line.split(" ")
        edges.setdefault(s, []).append(o)
    nodes = [{"id": s, "https://example.com/p": [{"id": o} for o in objs]} for s, objs in edges.items()]
    doc = _plain(provider[0].did, credentialSubject=nodes)
    doc["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": _stamp(timedelta()),
        "proofPurpose": "assertionMethod",
        "verificationMethod": _signer(live, provider).verification_method,
        "proofValue": "z" + base58.b58encode(bytes(64)).decode(),
    }
    started = time.perf_counter()
    r = _verify(live, doc)
    elapsed = time.perf_counter() - started
    assert elapsed < 30.0, elapsed  # the work budget refuses it, not a clock: a hang guard, generously
    assert r.status_code == 422, r.text
    # Data Integrity's name for it (PROOF_TRANSFORMATION_ERROR), and a reason a person can act on.
    assert any(e["check"] == "proof" and "poison graph" in e["reason"] for e in r.json()["errors"]), r.json()["errors"]
    assert httpx.get(f"{live.url}/health").status_code == 200  # and the service carries on


def test_did_web_on_loopback_or_ip_fails_without_the_test_allowance(live, client, example_input, tmp_path):
    from app.runtime import Runtime

    issued = _issue(client, example_input, "ob3", "eddsa-jcs-2022").text
    strict = Runtime(
        Settings(database_url=live.settings.database_url, keys_dir=tmp_path / "k", base_url=live.url, environment="test", fetch_allow_loopback=False)
    )
    report = strict.verifier.verify(issued)  # did:web:127.0.0.1%3A<port>:issuers:uniz names an IP address
    assert not report.verified and report.check("proof").outcome == "failed"
    # A name that resolves to loopback is refused at connect time as well.
    attacker = Ed25519Signer.generate()
    port = live.url.rsplit(":", 1)[1]
    did = f"did:web:localhost%3A{port}:issuers:uniz"
    attacker.verification_method = f"{did}#{attacker.public_multibase()}"
    doc = strict.engine.add_proof(_plain(did), attacker)
    report = strict.verifier.verify(doc)
    assert not report.verified
    assert "loopback" in report.check("proof").reason or "refused" in report.check("proof").reason, report.check("proof").reason


@pytest.mark.parametrize(
    "body",
    [
        {"verifiableCredential": {"hello": "world"}},
        {"verifiableCredential": "not a credential"},
        {"verifiableCredential": 42},
        {"verifiableCredential": {"@context": [VC2], "type": ["VerifiablePresentation"]}},
        {"verifiableCredential": {"@context": [VC2], "type": "EnvelopedVerifiableCredential", "id": "https://example.com/x"}},
        {"somethingElse": {}},
        {"verifiableCredential": {"@context": [VC2], "type": ["VerifiableCredential"]}, "options": []},
    ],
)
def test_non_credentials_are_400_problem_json(live, body):
    _assert_problem(httpx.post(f"{live.url}/credentials/verify", json=body))


@pytest.mark.parametrize(
    "content,ctype,status",
    [
        (b"{", "application/json", 400),
        (b'{"a":1,"a":2}', "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b"\xff", "application/json", 400),
        (b"x", "text/plain", 415),
        (b"{" + b" " * 2_000_000 + b"}", "application/json", 413),
    ],
)
def test_malformed_requests(live, content, ctype, status):
    _assert_problem(httpx.post(f"{live.url}/credentials/verify", content=content, headers={"Content-Type": ctype}), status)


# -- presentations and challenges ---------------------------------------------------------------


def _holder():
    holder = Ed25519Signer.generate()
    mb = holder.public_multibase()
    holder.verification_method = f"did:key:{mb}#{mb}"
    return holder, f"did:key:{mb}"


def _presentation(live, holder, did, credentials, challenge, domain):
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did, "verifiableCredential": credentials}
    return live.app.state.runtime.engine.add_proof(vp, holder, proof_purpose="authentication", challenge=challenge, domain=domain)


def test_challenges_are_random_and_expire(live):
    a, b = (httpx.post(f"{live.url}/challenges").json() for _ in range(2))
    assert a["challenge"] != b["challenge"] and len(base64.urlsafe_b64decode(a["challenge"] + "==")) >= 16
    assert a["domain"] == live.url.split("//", 1)[1] and a["expires"].endswith("Z")
    c = httpx.post(f"{live.url}/challenges", json={"domain": "employer.example"}).json()
    assert c["domain"] == "employer.example"


def test_presentation_verifies_once_and_a_replay_fails(live, client, example_input):
    credential = _issue(client, example_input, "ob3", "eddsa-jcs-2022").json()
    token = _issue(client, example_input, "edc", "vc+jwt").text
    envelope = {"@context": [VC2], "id": f"data:application/jwt,{token}", "type": "EnvelopedVerifiableCredential"}
    holder, did = _holder()
    ch = httpx.post(f"{live.url}/challenges").json()
    vp = _presentation(live, holder, did, [credential, envelope], ch["challenge"], ch["domain"])
    body = {"verifiablePresentation": vp, "options": {"challenge": ch["challenge"], "domain": ch["domain"]}}
    r = httpx.post(f"{live.url}/presentations/verify", json=body, timeout=30)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["verified"] and _checks(report)["challenge"]["outcome"] == "passed" and _checks(report)["holder_binding"]["outcome"] == "passed"
    assert [c["verified"] for c in report["credentials"]] == [True, True]
    replay = httpx.post(f"{live.url}/presentations/verify", json=body, timeout=30)
    assert replay.status_code == 422
    assert _checks(replay.json())["challenge"]["code"] == "INVALID_CHALLENGE_ERROR" and "already been used" in _checks(replay.json())["challenge"]["reason"]


def test_presentation_with_a_foreign_challenge_or_bad_parts_fails(live, client, example_input):
    credential = _issue(client, example_input, "ob3", "eddsa-jcs-2022").json()
    holder, did = _holder()
    # A challenge this verifier never issued is the caller's (VC API options.challenge): the proof must carry it,
    # and the report says its freshness is the caller's to judge (tests/api/test_vc_api_verify_options.py).
    vp = _presentation(live, holder, did, [credential], "made-up", "x")
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "made-up", "domain": "x"}})
    assert r.status_code == 200 and "caller" in _checks(r.json())["challenge"]["reason"]
    # A real challenge, but the proof was made for another one.
    ch = httpx.post(f"{live.url}/challenges").json()
    vp = _presentation(live, holder, did, [credential], "another", ch["domain"])
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": ch["challenge"]}})
    assert r.status_code == 422 and _checks(r.json())["proof"]["code"] == "INVALID_CHALLENGE_ERROR"
    # The right challenge, signed for another domain.
    vp = _presentation(live, holder, did, [credential], ch["challenge"], "evil.example")
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": ch["challenge"]}})
    assert r.status_code == 422 and _checks(r.json())["proof"]["code"] == "INVALID_DOMAIN_ERROR"
    # ... which did not use the challenge up: the genuine presentation still works.
    vp = _presentation(live, holder, did, [credential], ch["challenge"], ch["domain"])
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": ch["challenge"]}})
    assert r.status_code == 200, r.text
    # A tampered embedded credential makes the presentation fail even with a good holder proof.
    bad = copy.deepcopy(credential)
    bad["credentialSubject"]["achievement"]["name"] = "Forged"
    ch = httpx.post(f"{live.url}/challenges").json()
    vp = _presentation(live, holder, did, [bad], ch["challenge"], ch["domain"])
    r = httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": ch["challenge"]}})
    assert r.status_code == 422 and r.json()["credentials"][0]["verified"] is False
    # No challenge at all, or not a presentation: 400.
    _assert_problem(httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": vp}))
    _assert_problem(httpx.post(f"{live.url}/presentations/verify", json={"verifiablePresentation": credential, "options": {"challenge": "x"}}))


# -- upload ---------------------------------------------------------------------------------------


def test_upload_json_and_jwt_files(live, client, example_input):
    vc = _issue(client, example_input, "edc", "eddsa-rdfc-2022")
    r = httpx.post(f"{live.url}/verify/upload", files={"file": ("credential.json", vc.content, "application/json")}, timeout=30)
    assert r.status_code == 200, r.text
    token = _issue(client, example_input, "ob3", "vc+jwt").text
    r = httpx.post(f"{live.url}/verify/upload", files={"file": ("credential.jwt", token.encode() + b"\n", "application/octet-stream")}, timeout=30)
    assert r.status_code == 200 and r.json()["format"] == "vc+jwt"
    tampered = vc.content.replace(b"Digital micro-credential creation", b"Doctorate in Everything")
    assert tampered != vc.content
    r = httpx.post(f"{live.url}/verify/upload", files={"file": ("credential.txt", tampered, "text/plain")}, timeout=30)
    assert r.status_code == 422


@pytest.mark.parametrize(
    "files,code",
    [
        ({"file": ("x.exe", b"{}", "application/octet-stream")}, "UNSUPPORTED_FILE_TYPE"),
        ({"file": ("x.json", b"{" + b" " * 4_200_000 + b"}", "application/json")}, "TOO_LARGE"),
        ({"file": ("x.json", b"hello", "application/json")}, "PARSING_ERROR"),
        ({"other": ("x.json", b"{}", "application/json")}, "MALFORMED_VALUE_ERROR"),
    ],
)
def test_upload_refusals_are_problem_json(live, files, code):
    r = httpx.post(f"{live.url}/verify/upload", files=files)
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["code"] == code


def test_status_lists_are_cached_for_status_cache_seconds(live, client, example_input):
    from app.verification.status_check import StatusChecker

    runtime = live.app.state.runtime
    fetched = []

    class Counting:  # the real fetcher, counted
        def fetch(self, url, **kw):
            fetched.append(url)
            return runtime.resolver.fetcher.fetch(url, **kw)

    checker = StatusChecker(Counting(), runtime.engine, cache_seconds=60, clock=lambda: datetime.now(UTC), max_bytes=2_000_000)
    # a VC API credential: a revocation and a suspension entry (an OB3 carries revocation only)
    plain = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    r = client.post("/credentials/issue", json={"credential": plain, "options": {"cryptosuite": "eddsa-jcs-2022"}})
    vc = r.json()["verifiableCredential"]
    report = runtime.verifier.verify(vc)
    for _ in range(3):
        assert checker(vc, report).outcome == "passed"
    assert len(fetched) == 2  # one revocation list and one suspension list, each fetched once
