"""A caller's own ``credentialStatus`` on ``POST /credentials/issue`` (issue 11; VC 2.0 §4.10, README "Status entries").

VC 2.0 §4.10 lets a credential name any status method by its ``type`` (the W3C VCDM suite sends
``CredentialStatusList2017``). microcred keeps a typed client entry beside its own revocation and suspension
entries; its verifier never reads a method it does not know as "not revoked": the status is indeterminate, with
the method named, and a set bit of microcred's own entries still wins.
"""

from __future__ import annotations

import httpx

from tests.api.test_verifier import _checks

CTX = ["https://www.w3.org/ns/credentials/v2", {"CredentialStatusList2017": "https://example.org/examples#CredentialStatusList2017"}]
CREDENTIAL = {"@context": CTX, "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:subject"}}


def _count(client) -> int:
    return len(client.get("/credentials", params={"limit": 500}).json()["items"])


def test_a_typed_client_status_entry_is_kept_beside_microcreds_own_and_never_read_as_not_revoked(live, client):
    client_entry = {"id": "did:example:status", "type": "CredentialStatusList2017"}
    r = client.post("/credentials/issue", json={"credential": {**CREDENTIAL, "credentialStatus": client_entry}})
    assert r.status_code == 201, r.text
    vc = r.json()["verifiableCredential"]
    entries = vc["credentialStatus"]
    assert entries[0] == client_entry and [e["statusPurpose"] for e in entries[1:]] == ["revocation", "suspension"]
    v = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc}, timeout=30)
    assert v.status_code == 422, v.text
    status = _checks(v.json())["status"]
    assert status["outcome"] == "indeterminate" and "CredentialStatusList2017" in status["reason"] and "not checked" in status["reason"]
    assert "not revoked nor suspended" in status["reason"]  # microcred's own entries were read
    # Revoked through microcred's own entry: the set bit wins over the entry not read.
    assert client.post("/credentials/status", json={"credentialId": vc["id"], "status": "revoked"}).status_code == 200
    v = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": vc}, timeout=30)
    assert v.status_code == 422 and _checks(v.json())["status"]["outcome"] == "failed" and "revoked" in _checks(v.json())["status"]["reason"]


def test_client_status_entries_that_are_not_well_formed_or_are_bitstring_are_refused(live, client):
    cases = [
        ({"id": "did:example:status"}, "/credential/credentialStatus/type"),
        ([{"type": "CredentialStatusList2017"}, {"id": "https://x.example/s"}], "/credential/credentialStatus/1/type"),
        (
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "0", "statusListCredential": "https://x.example/l"},
            "/credential/credentialStatus",
        ),
        ({"type": 2, "id": "did:example:status"}, None),
        ({"type": "CredentialStatusList2017", "id": "https ://not-a-url/statusList/4"}, None),
        ({"type": "CredentialStatusList2017", "id": ["did:example:status:1", "did:example:status:2"]}, None),
    ]
    for entry, pointer in cases:
        r = client.post("/credentials/issue", json={"credential": {**CREDENTIAL, "credentialStatus": entry}})
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), (entry, r.text)
        if pointer:
            assert pointer in [e["pointer"] for e in r.json().get("errors", [])], r.json()
    assert _count(client) == 0
