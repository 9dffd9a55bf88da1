"""POST /credentials/issue with the caller's credential.id (VC API issueCredential; VC 2.0 §4.4: a URL)."""

from __future__ import annotations

import pytest

PLAIN = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}


def _count(client) -> int:
    return len(client.get("/credentials", params={"limit": 500}).json()["items"])


@pytest.mark.parametrize("proof", ["eddsa-rdfc-2022", "vc+jwt"])
def test_a_client_id_is_kept_and_used_once(live, client, proof):
    cid = "urn:uuid:7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09" if proof != "vc+jwt" else "https://uniz.example.edu/credentials/42"
    r = client.post("/credentials/issue", json={"credential": dict(PLAIN, id=cid), "options": {"proofFormat": proof}})
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/credentials/{cid}"
    report = live.app.state.runtime.verifier.verify(r.json()["verifiableCredential"])
    assert report.verified and report.credential["id"] == cid, report.as_dict()
    assert client.get(f"/credentials/{cid}").status_code == 200
    again = client.post("/credentials/issue", json={"credential": dict(PLAIN, id=cid)})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json"), again.text
    assert again.json()["code"] == "CREDENTIAL_ID_IN_USE" and again.json()["errors"][0]["pointer"] == "/credential/id"
    assert _count(client) == 1  # nothing stored for the refusal


@pytest.mark.parametrize("bad", ["not a URL", "", "relative/path", "urn:", 42, None, "https://x.example/" + "a" * 3000])
def test_an_id_that_is_not_an_absolute_url_is_refused(client, bad):
    r = client.post("/credentials/issue", json={"credential": dict(PLAIN, id=bad)})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["errors"][0]["pointer"] == "/credential/id"
    assert _count(client) == 0


def test_without_an_id_one_is_generated(client):
    r = client.post("/credentials/issue", json={"credential": PLAIN})
    assert r.status_code == 201 and r.json()["verifiableCredential"]["id"].startswith("urn:uuid:")
