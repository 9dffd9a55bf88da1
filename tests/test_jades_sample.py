"""The European Commission's JAdES-sealed EDC gets an honest report through the HTTP verifier: its seal verifies
(RS256 over the unencoded payload, ``b64: false``), its sealing certificate expired in 2025 and was valid at the
signing time it claims, and the trusted-list check is indeterminate without a pinned snapshot: never "verified",
never 400 "not a verifiable credential"."""

from __future__ import annotations

import httpx

from tests.conftest import SHARED, require


def test_the_commission_sealed_edc_gets_an_honest_report(live):
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
    assert checks["well_formed"]["outcome"] == "passed", checks["well_formed"]
    proof = checks["proof"]
    assert proof["outcome"] == "passed" and proof["details"]["alg"] == "RS256" and proof["details"]["b64"] is False, proof
    assert proof["reason"].startswith("valid seal") and "ORGANIZACION TEST" in proof["reason"]
    certificate = checks["seal_certificate"]
    assert certificate["outcome"] == "indeterminate" and certificate["code"] == "CERTIFICATE_EXPIRED_NO_PROOF_OF_EXISTENCE", certificate
    assert "the sealing certificate expired since 2025-05-10T14:31:15Z, valid at the signing time 2023-09-27T11:54:17Z" in certificate["reason"]
    assert "issued by ANF AC Qualified Certificates for eSeal (not in x5c)" in certificate["reason"]
    trusted = checks["seal_trusted_list"]
    assert trusted["outcome"] == "indeterminate" and trusted["code"] == "TRUSTED_LIST_UNAVAILABLE"
    assert trusted["details"]["qcCompliance"] is True and trusted["details"]["qcTypeESeal"] is True
    assert "says it is a qualified certificate for electronic seals" in trusted["reason"]
