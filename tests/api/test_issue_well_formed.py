"""POST /credentials/issue refuses what microcred's own verifier would refuse (app/verification/well_formed.py, VC
Data Model 2.0 §4), with a 4xx problem+json naming the field and nothing stored; a property test over generated and
mutated credentials: the service never returns 201 for a credential its verifier does not verify."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import MicrocredError
from app.verification.report import BLOCKING

BASE = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}


#: well-formed digests of the W3C VCDM suite's related resource (5-advanced-concepts), any resource's would do
SRI384 = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
MB256 = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"


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
    ({"credentialSchema": {"type": "JsonSchema"}}, "/credential/credentialSchema/id"),  # VC 2.0 §4.11: id and type
    ({"relatedResource": ["https://x.example/a"]}, "/credential/relatedResource/0"),
    ({"relatedResource": [{"digestSRI": "sha384-x"}]}, "/credential/relatedResource/0/id"),
    (
        {"relatedResource": [{"id": "https://x.example/a", "digestSRI": "sha384-x"}, {"id": "https://x.example/a", "digestSRI": "sha384-y"}]},
        "/credential/relatedResource/1/id",
    ),
    ({"relatedResource": [{"id": "https://x.example/a"}]}, "/credential/relatedResource/0"),
    # VC 2.0 §5.3: a digest that is not one (Subresource Integrity §3.5; Data Integrity §2.6 multibase digests)
    (
        {"relatedResource": [{"id": "https://x.example/a", "digestSRI": "sha384-" + "_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P"}]},
        "/credential/relatedResource/0/digestSRI",
    ),
    ({"relatedResource": [{"id": "https://x.example/a", "digestSRI": "md5-" + SRI384[7:]}]}, "/credential/relatedResource/0/digestSRI"),
    ({"relatedResource": [{"id": "https://x.example/a", "digestSRI": "sha384-abc"}]}, "/credential/relatedResource/0/digestSRI"),
    ({"relatedResource": [{"id": "https://x.example/a", "digestMultibase": "uAAAA"}]}, "/credential/relatedResource/0/digestMultibase"),
    ({"relatedResource": [{"id": "https://x.example/a", "digestMultibase": "m" + MB256[1:]}]}, "/credential/relatedResource/0/digestMultibase"),
    ({"relatedResource": [{"id": "https ://x.example/a", "digestSRI": SRI384}]}, "/credential/relatedResource/0/id"),
    # VC 2.0 §4.4: identifiers are URLs
    ({"termsOfUse": {"type": "X", "id": "https ://not-a-url/t"}}, "/credential/termsOfUse/id"),
    ({"credentialStatus": {"type": "X", "id": "https ://not-a-url/statusList/4"}}, "/credential/credentialStatus/id"),
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
    # VC 2.0 §4.9: an end in the past is well-formed, signed as written and reported expired
    # (tests/api/test_vcdm_validity_and_envelopes.py); nothing else may fail
    failed = [c for c in report.checks if c.id in BLOCKING and c.outcome in ("failed", "indeterminate")]
    expired = [c.id for c in failed] == ["validity"] and "expired" in failed[0].reason
    assert report.verified or expired, (credential, report.as_dict())


def test_a_well_formed_credential_that_has_expired_is_signed_and_reported_expired(live, provider):
    credential = dict(BASE, validFrom="2026-01-01T00:00:00Z", validUntil="2026-01-01T00:00:00Z")
    issued = live.app.state.issuance.issue_credential(provider[0], {"credential": credential})
    checks = {c["id"]: c for c in live.app.state.runtime.verifier.verify(issued.body.decode()).as_dict()["checks"]}
    assert checks["well_formed"]["outcome"] == checks["proof"]["outcome"] == "passed"
    assert checks["validity"]["outcome"] == "failed" and "expired" in checks["validity"]["reason"]


@pytest.mark.parametrize("digest", [{"digestSRI": SRI384}, {"digestMultibase": MB256}, {"digestSRI": SRI384, "mediaType": "text/html"}])
def test_well_formed_related_resources_are_signed_and_verify(live, client, digest):
    r = client.post("/credentials/issue", json={"credential": {**BASE, "relatedResource": [{"id": "https://x.example/a", **digest}]}})
    assert r.status_code == 201, r.text
    assert live.app.state.runtime.verifier.verify(r.json()["verifiableCredential"]).verified


def test_a_type_mapped_to_an_invalid_iri_is_refused_on_issue_and_verify(live, client, provider):
    """The W3C VCDM suite's credential-type-mapped-nonurl-fail: an embedded context maps a type to "https ://…"."""
    ctx = ["https://www.w3.org/ns/credentials/v2", {"ExampleTestCredential": "https ://not-a-url#ExampleTestCredential"}]
    credential = {**BASE, "@context": ctx, "type": ["VerifiableCredential", "ExampleTestCredential"]}
    r = client.post("/credentials/issue", json={"credential": credential})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert "not an IRI" in r.json()["detail"]
    assert _count(client) == 0
    ok = {**credential, "@context": [ctx[0], {"ExampleTestCredential": "https://example.org/#ExampleTestCredential"}]}
    assert client.post("/credentials/issue", json={"credential": ok}).status_code == 201
    # The verifier refuses the same mapping in a credential someone else signed.
    signer = live.app.state.issuance.providers.signer_for(provider[0])
    signed = live.app.state.runtime.engine.add_proof({**credential, "issuer": provider[0].did}, signer, suite="eddsa-jcs-2022")
    report = live.app.state.runtime.verifier.verify(signed)
    assert not report.verified and "not an IRI" in report.check("well_formed").reason
