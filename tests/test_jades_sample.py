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
    # the certificate's organizationIdentifier is the issuer's eIDAS identifier; then the checks of every credential
    binding = checks["issuer_binding"]
    assert binding["outcome"] == "passed" and "organizationIdentifier VATES-A00000000 is its eIDAS identifier" in binding["reason"], binding
    assert checks["validity"]["outcome"] == "passed" and checks["status"]["outcome"] == "skipped"
    assert checks["issuer_trust"]["code"] == "UNKNOWN_ISSUER" and "eu_completeness" in checks


def _jwcrypto_verifies(sealed: dict) -> bool:
    """jwcrypto (an implementation this project did not write) verifies the seal's JWS, once the JAdES header
    parameters the seal marks critical are registered with it (it refuses unknown ``crit`` names, RFC 7515 §4.1.11)."""
    import base64
    import json

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from jwcrypto import jwk, jws
    from jwcrypto.common import JWSEHeaderParameter

    protected = sealed["signatures"][0]["protected"]
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    pem = certificate.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    registry = {name: JWSEHeaderParameter(f"JAdES {name} (ETSI TS 119 182-1)", True, True, None) for name in ("sigT", "adoTst")}
    token = jws.JWS(header_registry=registry)
    token.deserialize(json.dumps(sealed))
    try:
        token.verify(jwk.JWK.from_pem(pem), alg=header["alg"])
    except jws.InvalidJWSSignature:
        return False
    return token.is_valid


def test_jwcrypto_agrees_on_the_commission_seal_and_on_a_changed_credential(live):
    import json

    sample = SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-signed.jsonld"
    require(sample.is_file(), f"{sample} (shared/samples)")
    sealed = json.loads(sample.read_text())
    changed = {**sealed, "payload": sealed["payload"].replace("Annex", "Annox", 1)}
    for document, valid in ((sealed, True), (changed, False)):
        assert _jwcrypto_verifies(document) is valid
        r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": document}, timeout=60)
        proof = next(c for c in r.json()["checks"] if c["id"] == "proof")
        assert proof["outcome"] == ("passed" if valid else "failed"), proof
