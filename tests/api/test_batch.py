"""Batch issuance over HTTP: JSON and CSV, partly invalid input, per-record results, a large batch."""

from __future__ import annotations

import copy
import time

import pytest

from app.credentials import specification_of


def _wait(client, location, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(location).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"batch did not finish: {job}")


def _learner(i):
    return {
        "learner": {"email": f"learner{i}@example.org", "givenName": {"en": f"Learner{i}"}, "familyName": {"en": "Example"}},
        "awardedAt": "2026-06-30T10:00:00Z",
    }


def _spec(client, example_input):
    return client.post("/specifications", json={"specification": specification_of(example_input), "published": True}).json()["id"]


def test_json_batch_with_invalid_records(live, client, example_input):
    spec_id = _spec(client, example_input)
    records = [_learner(i) for i in range(5)]
    records[2] = {"learner": {}}  # no identifier: invalid
    records[3] = {"learner": {"email": "x@example.org"}, "title": {"en": "changed"}}  # may not change the offering
    r = client.post("/microcredentials/batch", json={"format": "ob3", "specificationId": spec_id, "records": records})
    assert r.status_code == 202, r.text
    job = _wait(client, r.headers["location"])
    assert job["status"] == "done" and (job["issued"], job["invalid"], job["total"]) == (3, 2, 5)
    items = client.get(f"{r.headers['location']}/items").json()["items"]
    assert [i["status"] for i in items] == ["issued", "issued", "invalid", "invalid", "issued"]
    assert items[2]["errors"] and items[3]["errors"]
    credential = client.get(f"/credentials/{items[0]['credentialId']}")
    report = live.app.state.runtime.verifier.verify(credential.content.decode())
    assert report.verified, report.as_dict()


def test_full_records_batch_edc(live, client, example_input):
    records = [copy.deepcopy(example_input) for _ in range(3)]
    records[1]["workload"]["ects"] = 500
    r = client.post("/microcredentials/batch", json={"format": "edc", "proof": "eddsa-jcs-2022", "records": records})
    job = _wait(client, r.headers["location"])
    assert (job["issued"], job["invalid"]) == (2, 1)
    bad = client.get(f"{r.headers['location']}/items", params={"status": "invalid"}).json()["items"]
    assert bad[0]["row"] == 1 and any(e["pointer"] == "/workload/ects" for e in bad[0]["errors"])


def test_csv_batch(live, client, example_input):
    spec_id = _spec(client, example_input)
    csv_text = (
        "email,given_name,family_name,awarded_at,grade\n"
        "ana@example.org,Ana,Andromeda,2026-06-30T10:00:00Z,Pass\n,,,,\nbo@example.org,Bo,B,2026-06-30T10:00:00Z,Pass\n"
    )
    r = client.post(
        "/microcredentials/batch", params={"specificationId": spec_id, "format": "ob3"}, content=csv_text.encode(), headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 202, r.text
    job = _wait(client, r.headers["location"])
    assert (job["issued"], job["invalid"]) == (2, 1)


@pytest.mark.parametrize(
    "body,status",
    [
        ({"records": []}, 400),
        ({"records": "x"}, 400),
        ({"format": "pdf", "records": [{}]}, 400),
        ({"specificationId": "no-such-spec", "records": [{}]}, 404),
    ],
)
def test_malformed_batches_are_refused_whole(client, body, status):
    r = client.post("/microcredentials/batch", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/credentials").json()["items"] == []


def test_csv_with_unknown_columns_refused(client, example_input):
    spec_id = _spec(client, example_input)
    r = client.post("/microcredentials/batch", params={"specificationId": spec_id}, content=b"mail,name\nx,y\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and "unknown CSV columns" in r.json()["detail"]


@pytest.mark.slow
def test_ten_thousand_records(live, client, example_input):
    spec_id = _spec(client, example_input)
    records = [_learner(i) for i in range(10_000)]
    started = time.time()
    r = client.post("/microcredentials/batch", json={"format": "ob3", "proof": "eddsa-jcs-2022", "specificationId": spec_id, "records": records}, timeout=120)
    assert r.status_code == 202, r.text
    job = _wait(client, r.headers["location"], timeout=900)
    elapsed = time.time() - started
    assert job["status"] == "done" and job["issued"] == 10_000, job
    print(f"10,000-record batch: {elapsed:.1f} s, {10_000 / elapsed:.0f} credentials/s")


def _signed_by(live, provider_did, credential_id):
    import json

    stored = live.app.state.issuance.get(_provider_record(live, provider_did), credential_id)
    doc = json.loads(stored.body)
    proof = doc["proof"][0] if isinstance(doc["proof"], list) else doc["proof"]  # OB3: proof is an array (OB 3.0 §B.1.2)
    return proof["verificationMethod"].split("#")[0], doc


def _provider_record(live, did):
    from app.store import providers

    with live.app.state.db.read() as s:
        return next(p for p in providers.list_providers(s) if p.did == did)


@pytest.mark.slow
def test_batches_of_two_providers_at_once_are_each_signed_by_their_own_key(live, example_input):
    """Concurrent batches of different providers, on the signing pool (kept between jobs) and in the job's
    own thread: every credential carries and verifies with its own provider's key."""
    import httpx

    made = [live.app.state.issuance.providers.create(slug=slug, name=slug.title(), country="IE") for slug in ("alpha-uni", "beta-uni")]
    jobs = []
    for (provider, key), size in zip(made, (1_000, 40), strict=True):  # 1,000 = two chunks: the pool; 40: in the thread
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            spec_id = _spec(c, example_input)
            r = c.post(
                "/microcredentials/batch",
                json={"format": "ob3", "proof": "eddsa-jcs-2022", "specificationId": spec_id, "records": [_learner(i) for i in range(size)]},
            )
            assert r.status_code == 202, r.text
            jobs.append((provider, key, r.headers["location"]))
    pool = None
    for round_ in range(2):  # the second round runs on the pool the first one started
        for provider, key, location in jobs:
            with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                job = _wait(c, location)
                assert job["status"] == "done" and job["issued"] == job["total"], job
                items = c.get(f"{location}/items", params={"limit": 500}).json()["items"]
                for item in items[:: max(1, len(items) // 10)]:
                    signer, doc = _signed_by(live, provider.did, item["credentialId"])
                    assert signer == provider.did and doc["issuer"]["id"] == provider.did
                    assert live.app.state.runtime.verifier.verify(doc).verified
        if round_ == 0:
            pool = live.app.state.batches._pool
            assert pool is not None
            relaunched = []
            for provider, key, _ in jobs:
                with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                    r = c.post(
                        "/microcredentials/batch",
                        json={
                            "format": "ob3",
                            "proof": "eddsa-jcs-2022",
                            "specificationId": _spec(c, example_input),
                            "records": [_learner(i) for i in range(1_000)],
                        },
                    )
                    relaunched.append((provider, key, r.headers["location"]))
            jobs = relaunched
    assert live.app.state.batches._pool is pool  # kept, not started again


@pytest.mark.slow
def test_a_batch_interrupted_by_shutdown_is_left_to_resume_not_failed(live, client, example_input):
    """Stopping the service (its batch runner closes the signing pool) mid-job must not mark the job
    failed: it stays running and a worker resumes it from its first unrecorded row."""
    spec_id = _spec(client, example_input)
    r = client.post(
        "/microcredentials/batch",
        json={"format": "ob3", "proof": "eddsa-rdfc-2022", "specificationId": spec_id, "records": [_learner(i) for i in range(4_000)]},
    )
    location = r.headers["location"]
    deadline = time.time() + 120
    while (job := client.get(location).json())["done"] == 0:
        assert time.time() < deadline and job["status"] != "failed", job
        time.sleep(0.05)
    runner = live.app.state.batches
    runner.close()
    runner.wait(job["id"], timeout=60)
    job = client.get(location).json()
    assert job["status"] == "running" and 0 < job["done"] < 4_000, job


def test_sd_jwt_batch_each_record_bound_to_its_holder(live, client, example_input):
    """``"format": "sd-jwt"``: one SD-JWT VC per record, each bound (``cnf.jwk``) to the key its record names, as
    ``POST /microcredentials`` issues one; a record without a readable key is invalid on its own; a CSV batch (no
    column for a key) and another proof are refused whole; each credential verifies and its revocation is seen."""
    import base64
    import json

    from app.dids.did_jwk import did_jwk_from_jwk
    from app.keys import Ed25519Signer, P256Signer

    spec_id = _spec(client, example_input)
    keys = [P256Signer.generate(), Ed25519Signer.generate(), P256Signer.generate()]
    records = [dict(_learner(i), holder={"jwk": k.public_jwk()}) for i, k in enumerate(keys[:2])]
    records.append(dict(_learner(2), holder=did_jwk_from_jwk(keys[2].public_jwk())))
    records.append(_learner(3))  # no holder: invalid
    records.append(dict(_learner(4), holder={"jwk": {"kty": "oct", "k": "c2VjcmV0"}}))  # not a public EC/OKP key
    r = client.post("/microcredentials/batch", json={"format": "sd-jwt", "specificationId": spec_id, "records": records})
    assert r.status_code == 202, r.text
    job = _wait(client, r.headers["location"])
    assert job["status"] == "done" and (job["issued"], job["invalid"]) == (3, 2), job
    items = client.get(f"{r.headers['location']}/items").json()["items"]
    assert [i["status"] for i in items] == ["issued", "issued", "issued", "invalid", "invalid"]
    assert items[3]["errors"][0]["pointer"] == "/holder" and items[4]["errors"][0]["pointer"] == "/holder/jwk"
    tokens = []
    for item, key in zip(items[:3], keys, strict=True):
        stored = client.get(f"/credentials/{item['credentialId']}")
        assert stored.status_code == 200 and stored.headers["content-type"].startswith("application/dc+sd-jwt")
        jwt = stored.text.split("~")[0]
        header, payload = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in jwt.split(".")[:2])
        assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256"
        assert payload["cnf"]["jwk"] == key.public_jwk() and set(payload["status"]["status_list"]) == {"idx", "uri"}
        report = client.post("/credentials/verify", json={"verifiableCredential": stored.text})
        assert report.status_code == 200 and report.json()["verified"] is True, report.text
        # the specification it was issued for, as a disclosable claim (a composite's rule matches it, issue 17)
        named = {}
        for d in stored.text.split("~")[1:-1]:
            disclosure = json.loads(base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)))
            named[disclosure[1]] = disclosure[2]
        assert named["specification"].endswith(f"/catalogue/{spec_id}"), named.get("specification")
        tokens.append(stored.text)
    assert client.post("/credentials/status", json={"credentialId": items[1]["credentialId"], "status": "revoked"}).status_code == 200
    revoked = client.post("/credentials/verify", json={"verifiableCredential": tokens[1]})
    assert revoked.status_code == 422 and next(c for c in revoked.json()["checks"] if c["id"] == "status")["code"] == "STATUS_REVOKED"
    # refused whole, nothing queued: another proof for sd-jwt, and a CSV batch
    r = client.post("/microcredentials/batch", json={"format": "sd-jwt", "proof": "eddsa-rdfc-2022", "specificationId": spec_id, "records": records})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    csv = "email,given_name,family_name,awarded_at\nana@example.org,Ana,Andromeda,2026-06-30T10:00:00Z\n"
    r = client.post("/microcredentials/batch", params={"format": "sd-jwt", "specificationId": spec_id}, content=csv, headers={"content-type": "text/csv"})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
