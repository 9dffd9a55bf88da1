"""The European Commission's JAdES-sealed EDC gets an honest report through the HTTP verifier: a credential with a
JAdES seal this verifier does not check yet (never "verified", never 400 "not a verifiable credential")."""

from __future__ import annotations

import httpx

from tests.conftest import SHARED, require


def test_a_jades_sealed_europass_edc_is_reported_not_refused(live):
    sample = SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-signed.jsonld"
    require(sample.is_file(), f"{sample} (shared/samples)")
    r = httpx.post(
        f"{live.url}/credentials/verify",
        content=b'{"verifiableCredential": ' + sample.read_bytes() + b"}",
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 422, r.text[:2000]
    body = r.json()
    assert body["verified"] is False and body["format"] == "jades"
    checks = {c["id"]: c for c in body["checks"]}
    assert checks["proof"]["outcome"] == "indeterminate" and checks["proof"]["code"] == "UNSUPPORTED_PROOF_FORMAT"
    assert "JAdES" in checks["proof"]["reason"] and checks["proof"]["details"]["alg"] == "RS256"
    assert checks["well_formed"]["outcome"] == "passed", checks["well_formed"]
