"""The EU micro-credential as an SD-JWT VC, end to end: POST /microcredentials with format sd-jwt over real HTTP,
the signature checked with the key the provider's did:web document publishes, every Disclosure, the type
metadata at the vct URL, the exact stored bytes, and a presentation with a Key Binding JWT (RFC 9901)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import httpx
import pytest

from app.credentials import sd_jwt_vc
from app.dids.did_jwk import did_jwk_from_jwk
from app.keys import Ed25519Signer, P256Signer
from app.keys.methods import public_key_from_method
from app.proofs import sd_jwt
from app.status import bitstring
from app.status import token_status_list as tsl


def _resolver(client):
    def resolve(kid: str):
        did = kid.split("#", 1)[0]
        slug = did.rsplit(":", 1)[-1]
        document = client.get(f"/issuers/{slug}/did.json").json()
        method = next(m for m in document["verificationMethod"] if m["id"] == kid)
        return method, document

    return resolve


def _issue(client, example_input, holder, **extra):
    return client.post("/microcredentials", json={"format": "sd-jwt", "holder": holder, "microcredential": example_input, **extra})


def _b64json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def holder():
    signer = P256Signer.generate()
    return signer, signer.public_jwk()


def test_issues_a_dc_sd_jwt_signed_with_the_providers_p256_key(live, client, example_input, holder):
    signer, jwk = holder
    r = _issue(client, example_input, {"jwk": jwk})
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/dc+sd-jwt")
    token = r.text
    header = _b64json(token.split(".")[0])
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256"
    document = client.get("/issuers/uniz/did.json").json()
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    assert method["type"] == "JsonWebKey" and method["publicKeyJwk"]["crv"] == "P-256"
    assert header["kid"] in document["assertionMethod"]
    result = sd_jwt.verify(token, _resolver(client))
    assert result.result.verified, result.result
    payload = result.payload
    # only what the SD-JWT VC draft keeps plain is plain; everything else is a Disclosure
    assert set(payload) - {"_sd", "_sd_alg"} == {"iss", "vct", "vct#integrity", "iat", "nbf", "status", "cnf"}
    assert payload["cnf"] == {"jwk": jwk}
    assert payload["iss"] == document["id"]
    assert payload["status"]["status_list"]["uri"].startswith(live.url + "/status-lists/")
    claims = result.claims
    assert claims["given_name"] == {"en": "Ana"} and claims["date_of_birth"] == "1999-10-02"
    assert claims["assessment_type"] == "http://data.europa.eu/snb/assessment/de4d165a6c"
    assert claims["level"]["eqf"] == "http://data.europa.eu/snb/eqf/6"
    assert claims["form_of_participation"] == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert len(payload["_sd"]) == len(result.disclosed) == len(claims) - 7
    # the stored bytes are the returned bytes
    again = client.get(r.headers["location"])
    assert again.status_code == 200 and again.content == r.content
    assert again.headers["content-type"].startswith("application/dc+sd-jwt")
    # the vct resolves to its type metadata, and vct#integrity covers the bytes served
    meta = client.get(payload["vct"].removeprefix(live.url))
    assert meta.status_code == 200 and meta.json()["vct"] == payload["vct"]
    assert payload["vct#integrity"] == "sha256-" + base64.b64encode(hashlib.sha256(meta.content).digest()).decode()
    assert {c["path"][0] for c in meta.json()["claims"]} >= set(claims) - set(sd_jwt_vc.NEVER_DISCLOSABLE)


def test_a_presentation_of_some_claims_with_key_binding_verifies(client, example_input, holder):
    signer, jwk = holder
    token = _issue(client, example_input, {"jwk": jwk}).text
    keep = {"title", "grade", "given_name", "family_name"}
    presentation = sd_jwt.present(token, lambda name, _: name in keep, holder=signer, aud="https://employer.example", nonce="n-123")
    result = sd_jwt.verify(presentation, _resolver(client), nonce="n-123", aud="https://employer.example", require_key_binding=True)
    assert result.result.verified, result.result
    assert {p[0] for p in result.disclosed} == keep and result.key_binding["nonce"] == "n-123"
    assert "date_of_birth" not in result.claims and result.undisclosed_digests > 20
    wrong = sd_jwt.verify(presentation, _resolver(client), nonce="other", aud="https://employer.example")
    assert not wrong.result.verified and "nonce" in wrong.result.proofs[0].reason
    other = sd_jwt.present(token, lambda name, _: name in keep, holder=P256Signer.generate(), aud="https://employer.example", nonce="n-123")
    assert not sd_jwt.verify(other, _resolver(client)).result.verified


def test_tampered_duplicated_or_unreferenced_disclosures_are_refused(client, example_input, holder):
    token = _issue(client, example_input, {"jwk": holder[1]}).text
    jwt, *disclosures, _ = token.split("~")
    dup = "~".join([jwt, disclosures[0], disclosures[0]]) + "~"
    assert "same digest" in sd_jwt.verify(dup, _resolver(client)).result.proofs[0].reason
    stray = "~".join([jwt, sd_jwt.make_disclosure("grade", {"value": "A+"})]) + "~"
    assert "not referenced" in sd_jwt.verify(stray, _resolver(client)).result.proofs[0].reason
    forged = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert not sd_jwt.verify(forged, _resolver(client)).result.verified


@pytest.mark.parametrize("form", ["did:key", "did:jwk", "jwk-ed25519"])
def test_holder_as_did_key_did_jwk_or_ed25519_jwk(client, example_input, form):
    ed = Ed25519Signer.generate()
    holder = {
        "did:key": f"did:key:{ed.public_multibase()}",
        "did:jwk": {"id": did_jwk_from_jwk(ed.public_jwk())},
        "jwk-ed25519": {"jwk": ed.public_jwk()},
    }[form]
    r = _issue(client, example_input, holder)
    assert r.status_code == 201, r.text
    payload = _b64json(r.text.split(".")[1])
    assert payload["cnf"]["jwk"] == ed.public_jwk()
    assert public_key_from_method({"type": "JsonWebKey", "publicKeyJwk": payload["cnf"]["jwk"]}).raw == ed.public_key()


@pytest.mark.parametrize(
    ("holder", "pointer"),
    [
        (None, "/holder"),
        ("did:web:example.org", "/holder"),
        ({"jwk": "x"}, "/holder/jwk"),
        ({"jwk": {**P256Signer.generate().public_jwk(), "d": "AAAA"}}, "/holder/jwk"),
        ({"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, "/holder/jwk"),
        ({"id": "did:key:zNotAKey"}, "/holder/id"),
    ],
)
def test_a_missing_or_bad_holder_key_is_a_400_that_stores_nothing(client, example_input, holder, pointer):
    r = _issue(client, example_input, holder)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert pointer in json.dumps(r.json())
    assert client.get("/credentials").json()["items"] == []


def test_another_proof_for_sd_jwt_is_refused(client, example_input, holder):
    r = _issue(client, example_input, {"jwk": holder[1]}, proof="vc+jwt")
    assert r.status_code == 400 and "/proof" in r.text


def test_rotation_keeps_the_retired_p256_key_and_signs_with_the_new_one(live, client, example_input, holder):
    first = _issue(client, example_input, {"jwk": holder[1]}).text
    live.app.state.issuance.providers.rotate_key("uniz")
    second = _issue(client, example_input, {"jwk": holder[1]}).text
    kids = [_b64json(t.split(".")[0])["kid"] for t in (first, second)]
    assert kids[0] != kids[1]
    document = client.get("/issuers/uniz/did.json").json()
    p256 = [m["id"] for m in document["verificationMethod"] if m.get("publicKeyJwk", {}).get("crv") == "P-256"]
    assert set(kids) <= set(p256)
    for token in (first, second):
        assert sd_jwt.verify(token, _resolver(client)).result.verified


def test_a_did_key_provider_signs_with_eddsa_and_the_services_resolver_finds_both_keys(live, client, example_input, holder):
    _, key = live.app.state.issuance.providers.create(slug="keyed", name="Keyed College", country="DE", did_method="key")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        r = _issue(c, example_input, {"jwk": holder[1]})
    assert r.status_code == 201, r.text
    header = _b64json(r.text.split(".")[0])
    assert header["alg"] == "EdDSA" and header["kid"].startswith("did:key:z6Mk")
    resolve = live.app.state.runtime.resolver.dereference
    assert sd_jwt.verify(r.text, resolve).result.verified
    # the did:web provider's ES256 SD-JWT through the same resolver (its own did:web, read without the network)
    assert sd_jwt.verify(_issue(client, example_input, {"jwk": holder[1]}).text, resolve).result.verified


def test_the_status_list_token_at_the_uri_shows_a_revocation_at_once(live, client, example_input, holder):
    issued = [_issue(client, example_input, {"jwk": holder[1]}) for _ in range(3)]
    payloads = [_b64json(r.text.split(".")[1]) for r in issued]
    refs = [tsl.reference(p["status"]) for p in payloads]
    assert len({idx for idx, _ in refs}) == 3 and len({uri for _, uri in refs}) == 1  # random, distinct, one list
    idx, uri = refs[1]

    def read():
        r = httpx.get(uri, timeout=30)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/statuslist+jwt")
        assert _b64json(r.text.split(".")[0])["typ"] == "statuslist+jwt"
        return tsl.read_token(r.text, _resolver(client), uri=uri, now=datetime.now(UTC), iss=payloads[1]["iss"], max_bytes=2**24)

    before = read()
    assert before.bits == 1 and all(before.status(i) == tsl.VALID for i, _ in refs)
    assert len(before.data) * 8 == live.app.state.issuance.settings.status_list_size
    changed = client.post("/credentials/status", json={"credentialId": issued[1].headers["location"].removeprefix("/credentials/"), "status": "revoked"})
    assert changed.status_code == 200, changed.text
    after = read()
    assert after.status(idx) == tsl.INVALID
    assert [after.status(i) for i, _ in (refs[0], refs[2])] == [tsl.VALID, tsl.VALID]
    # the token's bytes are the W3C list's, bit-reversed: the same index is set in both forms
    list_id = uri.rsplit("/", 1)[1]
    w3c = client.get(f"/status/{list_id}").json()
    assert bitstring.get_bit(bitstring.decode_list(w3c["credentialSubject"]["encodedList"]), idx)
    assert httpx.get(uri + "-nope", timeout=30).status_code == 404


def _verify(client, token, **options):
    body = {"verifiableCredential": token, **({"options": options} if options else {})}
    return client.post("/credentials/verify", json=body)


def test_the_verifier_checks_an_issued_sd_jwt_vc_in_full(client, example_input, holder):
    token = _issue(client, example_input, {"jwk": holder[1]}).text
    r = _verify(client, token)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["verified"] and report["format"] == "sd-jwt"
    checks = {c["id"]: c for c in report["checks"]}
    assert {k: checks[k]["outcome"] for k in ("well_formed", "proof", "issuer_binding", "validity", "status", "eu_completeness")} == dict.fromkeys(
        ("well_formed", "proof", "issuer_binding", "validity", "status", "eu_completeness"), "passed"
    )
    assert checks["holder_binding"]["outcome"] == "skipped"
    assert "date_of_birth" in checks["disclosures"]["details"]["disclosed"]
    assert checks["eu_completeness"]["details"]["mandatory"] == "11 of 11"


def test_a_presentation_reports_what_was_withheld_and_completeness_counts_only_the_disclosed(client, example_input, holder):
    signer, jwk = holder
    token = _issue(client, example_input, {"jwk": jwk}).text
    keep = {"title", "given_name", "family_name", "grade", "workload"}
    vp = sd_jwt.present(token, lambda name, _: name in keep, holder=signer, aud="https://employer.example", nonce="abc")
    r = _verify(client, vp, nonce="abc", aud="https://employer.example")
    assert r.status_code == 200, r.text
    checks = {c["id"]: c for c in r.json()["checks"]}
    assert checks["holder_binding"]["outcome"] == "passed"
    assert set(checks["disclosures"]["details"]["disclosed"]) == keep
    assert {"date_of_birth", "email", "national_id", "assessment_type"} <= set(checks["disclosures"]["details"]["withheld"])
    assert (
        checks["eu_completeness"]["outcome"] == "indeterminate" and checks["eu_completeness"]["details"]["mandatory"] == "3 of 11"
    )  # learner, title, workload (grade is optional)
    # the nonce or audience the verifier expects is not the one signed: not verified; and with none, one is required
    assert _verify(client, vp, nonce="other", aud="https://employer.example").status_code == 422
    assert _verify(client, vp, nonce="abc", aud="https://elsewhere.example").status_code == 422
    bare = sd_jwt.present(token, lambda name, _: name in keep)
    missing = _verify(client, bare, nonce="abc")
    assert missing.status_code == 422 and "Key Binding" in missing.text


def test_the_verifier_sees_a_revocation_and_refuses_tampering(client, example_input, holder):
    r = _issue(client, example_input, {"jwk": holder[1]})
    token = r.text
    client.post("/credentials/status", json={"credentialId": r.headers["location"].removeprefix("/credentials/"), "status": "revoked"})
    revoked = _verify(client, token)
    assert revoked.status_code == 422
    status = next(c for c in revoked.json()["checks"] if c["id"] == "status")
    assert status["outcome"] == "failed" and status["code"] == "STATUS_REVOKED"
    jwt, *disclosures, _ = token.split("~")
    duplicated = _verify(client, "~".join([jwt, disclosures[0], disclosures[0]]) + "~")
    assert duplicated.status_code == 422 and "same digest" in duplicated.text
    assert _verify(client, "~".join([jwt, sd_jwt.make_disclosure("grade", {"value": "A"})]) + "~").status_code == 422
    assert _verify(client, token, nonce=123).status_code == 400


def test_the_verifier_checks_vct_integrity_against_the_type_metadata_it_serves(live, client, example_input, holder):
    token = _issue(client, example_input, {"jwk": holder[1]}).text
    checks = {c["id"]: c for c in _verify(client, token).json()["checks"]}
    assert checks["type_metadata"]["outcome"] == "passed" and "matches" in checks["type_metadata"]["reason"]
    # a credential signed with a vct#integrity that does not match what the vct serves is not verified
    provider = live.app.state.issuance.providers.by_slug("uniz")
    signer = live.app.state.issuance.providers.sd_jwt_signer_for(provider)
    payload = _b64json(token.split(".")[1])
    claims = {k: v for k, v in payload.items() if k not in ("_sd", "_sd_alg")}
    claims["vct#integrity"] = "sha256-" + base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    forged = sd_jwt.issue(claims, signer, disclosable=())
    r = _verify(client, forged)
    assert r.status_code == 422
    assert {c["id"]: c["outcome"] for c in r.json()["checks"]}["type_metadata"] == "failed"


def test_an_uploaded_sd_jwt_vc_file_verifies(live, client, example_input, holder):
    token = _issue(client, example_input, {"jwk": holder[1]}).text
    r = httpx.post(f"{live.url}/verify/upload", files={"file": ("credential.sd-jwt", token.encode() + b"\n", "application/octet-stream")}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "sd-jwt" and r.json()["verified"]


def test_a_dry_run_shows_the_claims_and_stores_nothing(client, example_input, holder):
    r = client.post("/microcredentials?dryRun=true", json={"format": "sd-jwt", "holder": {"jwk": holder[1]}, "microcredential": example_input})
    assert r.status_code == 200, r.text
    claims = r.json()["credential"]
    assert claims["cnf"] == {"jwk": holder[1]} and claims["title"] == {"en": "Digital micro-credential creation"} and "status" not in claims
    assert client.get("/credentials").json()["items"] == []
