"""POST /credentials/issue refuses what microcred's own verifier would refuse (app/verification/well_formed.py, VC
Data Model 2.0 §4), with a 4xx problem+json naming the field and nothing stored; a property test over generated and
mutated credentials: the service never returns 201 for a credential its verifier does not verify."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import MicrocredError

BASE = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}


def _count(client) -> int:
    return len(client.get("/credentials", params={"limit": 500}).json()["items"])


CASES = [
    ({"credentialSubject": None}, "/credential/credentialSubject"),
    ({"credentialSubject": {}}, "/credential/credentialSubject"),
    ({"credentialSubject": []}, "/credential/credentialSubject"),
    ({"credentialSubject": {"id": "_:b0"}}, "/credential/credentialSubject/id"),
    ({"issuer": None}, "/credential/issuer"),
    ({"validFrom": "2026-01-01"}, "/credential/validFrom"),
    ({"validUntil": "2026-01-01T00:00:00"}, "/credential/validUntil"),
    ({"termsOfUse": {"id": "https://x.example/policy"}}, "/credential/termsOfUse/type"),
    ({"evidence": [{"id": "https://x.example/e"}]}, "/credential/evidence/0/type"),
    ({"refreshService": {"id": "https://x.example/r"}}, "/credential/refreshService/type"),
    ({"credentialSchema": {"id": "https://x.example/s"}}, "/credential/credentialSchema/type"),
    ({"relatedResource": ["https://x.example/a"]}, "/credential/relatedResource/0"),
    ({"relatedResource": [{"digestSRI": "sha384-x"}]}, "/credential/relatedResource/0/id"),
    (
        {"relatedResource": [{"id": "https://x.example/a", "digestSRI": "sha384-x"}, {"id": "https://x.example/a", "digestSRI": "sha384-y"}]},
        "/credential/relatedResource/1/id",
    ),
    ({"relatedResource": [{"id": "https://x.example/a"}]}, "/credential/relatedResource/0"),
]


@pytest.mark.parametrize("change,pointer", CASES)
def test_refused_with_the_field_named_and_nothing_stored(live, client, change, pointer):
    r = client.post("/credentials/issue", json={"credential": {**BASE, **change}})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert pointer in [e["pointer"] for e in r.json()["errors"]], r.json()
    assert _count(client) == 0
    # and the verifier refuses the same mistake in a credential someone else signed: same rule, same place
    from app.verification.well_formed import credential_problems

    assert any("/credential" + p == pointer for p, _ in credential_problems({**BASE, "issuer": "did:example:i", **change}))


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.text(max_size=8),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "_:b1", "https://x.example/a", "did:example:y"]),
    st.just({}),
    st.just([]),
    st.just({"id": "https://x.example/a"}),
    st.just({"type": "X", "id": "https://x.example/t"}),
    st.just([{"id": "https://x.example/r", "digestSRI": "sha384-abc"}]),
)
KEYS = st.sampled_from(
    [
        "credentialSubject",
        "issuer",
        "validFrom",
        "validUntil",
        "termsOfUse",
        "evidence",
        "refreshService",
        "credentialSchema",
        "relatedResource",
        "name",
        "description",
        "id",
        "type",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(KEYS, VALUES, max_size=3))
def test_never_201_for_what_its_own_verifier_refuses(live, provider, changes):
    credential = copy.deepcopy(BASE)
    credential.update(changes)
    if credential.get("issuer") == "did:example:y":
        credential["issuer"] = provider[0].did
    try:
        issued = live.app.state.issuance.issue_credential(provider[0], {"credential": credential})
    except MicrocredError as exc:
        assert 400 <= exc.status < 500, exc  # refused: a client error, never a 500
        return
    report = live.app.state.runtime.verifier.verify(issued.body.decode())
    assert report.verified, (credential, report.as_dict())
