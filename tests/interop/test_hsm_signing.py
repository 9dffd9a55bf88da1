"""What a provider whose key lives in a PKCS#11 token (SoftHSM2, tests/hsm.py) issues through the live service:
Data Integrity, VC-JOSE and the status lists are signed inside the token, and microcred's verifier and the
independent ones (tests/interop/harness.mjs) accept them; after ``rotate-key`` (a new key made in the token)
credentials signed by the retired key and by the new one both verify (issue 18, "Keys in an HSM")."""

from __future__ import annotations

import httpx
import pytest

from app.store import providers as provider_rows


@pytest.fixture
def live(database_url, tmp_path, softhsm):
    """The live service of tests/conftest.py, with the SoftHSM2 token configured."""
    from tests import live_server

    # two signing processes, so that a large batch is signed by processes that log in to the token themselves
    server = live_server.start(database_url, tmp_path, status_cache_seconds=0, batch_processes=2, **softhsm.settings())
    try:
        yield server
    finally:
        server.stop()


def _issue(client, example_input, fmt: str, proof: str):
    r = client.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return r.text if proof == "vc+jwt" else r.json()


def _verified(client, credential) -> bool:
    r = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert r.status_code in (200, 422), r.text
    return r.json()["verified"]


def test_hsm_backed_provider_issues_rotates_and_everything_verifies(live, independent, example_input, tmp_path):
    providers = live.app.state.issuance.providers
    record, key = providers.create(slug="hsm-uni", name="HSM University", country="IE", homepage="https://hsm.example.edu", key_store="pkcs11")
    with live.app.state.db.read() as session:
        active = provider_rows.active_signing_key(session, record.id, "Ed25519")
    assert active.key_ref.startswith("pkcs11:") and not list((tmp_path / "keys").glob("hsm-uni-*"))
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        before_di = _issue(client, example_input, "ob3", "eddsa-rdfc-2022")
        before_jwt = _issue(client, example_input, "edc", "vc+jwt")
        assert _verified(client, before_di) and _verified(client, before_jwt)
        verdict = independent.verify(before_di)
        db, dcc = verdict["digitalbazaar"], verdict["dcc"]
        # the status list credential is signed in the token too: Digital Bazaar verifies it to read the status
        assert db["verified"] and db["proof"]["verified"] and db["statusVerified"], db
        assert dcc["verified"] and dcc["signature"] is True, dcc
        jose = independent.verify(before_jwt)["jose"]
        assert jose["verified"] and jose["alg"] == "EdDSA", jose

        new_kid = providers.rotate_key("hsm-uni")
        with live.app.state.db.read() as session:
            rotated = provider_rows.active_signing_key(session, record.id, "Ed25519")
        assert rotated.key_ref.startswith("pkcs11:") and rotated.key_ref != active.key_ref and rotated.kid == new_kid
        document = httpx.get(f"{live.url}/issuers/hsm-uni/did.json", timeout=60).json()
        assert {active.kid, new_kid} <= set(document["assertionMethod"])  # the retired key stays published

        after_di = _issue(client, example_input, "ob3", "eddsa-rdfc-2022")
        after_jwt = _issue(client, example_input, "edc", "vc+jwt")
        assert after_di["proof"][0]["verificationMethod"] == new_kid
        live.app.state.runtime.resolver.clear_cache()
        for credential in (before_di, before_jwt, after_di, after_jwt):
            assert _verified(client, credential)
        assert independent.verify(after_di)["digitalbazaar"]["verified"]
        assert independent.verify(before_di)["digitalbazaar"]["verified"]
        assert independent.verify(after_jwt)["jose"]["verified"]
        # revocation re-signs the status list in the token; both verifiers see it
        r = client.post("/credentials/status", json={"credentialId": after_di["id"], "status": "revoked"})
        assert r.status_code == 200, r.text
        revoked = independent.verify(after_di)
        assert revoked["digitalbazaar"]["status"]["revocation"] is True and not _verified(client, after_di)


def test_a_large_batch_is_signed_in_the_token_by_the_signing_processes(live, example_input):
    """1,000 records (two chunks): the batch runner hands them to its pool of signing processes, each of which
    opens its own session with the token (a PKCS#11 login belongs to a process)."""
    import time

    from app.credentials import specification_of

    _, key = live.app.state.issuance.providers.create(slug="hsm-batch", name="HSM Batch University", country="IE", key_store="pkcs11")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        spec = client.post("/specifications", json={"specification": specification_of(example_input), "published": True}).json()["id"]
        records = [
            {"learner": {"email": f"learner{i}@example.org", "givenName": {"en": f"L{i}"}, "familyName": {"en": "X"}}, "awardedAt": "2026-06-30T10:00:00Z"}
            for i in range(1000)
        ]
        r = client.post("/microcredentials/batch", json={"format": "ob3", "specificationId": spec, "records": records})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 900  # against a hang only
        while (job := client.get(r.headers["location"]).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["status"] == "done" and job["issued"] == 1000, job
        items = client.get(f"{r.headers['location']}/items", params={"limit": 1000}).json()["items"]
        for item in (items[0], items[-1]):
            credential = client.get(f"/credentials/{item['credentialId']}").json()
            assert _verified(client, credential)
