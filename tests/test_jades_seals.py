"""JAdES seals (ETSI TS 119 182-1) checked through the HTTP verifier, with a test CA made here: a valid seal, and
each way a seal can be wrong (a seal over other bytes, ``alg: none`` or HMAC, an unknown critical header, an
oversized or malformed header, a broken chain, certificates expired or not yet valid) is a failed or
indeterminate check with its reason: never "verified", never a 500 (issue 18, "Verify JAdES seals")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tests.conftest import SHARED

NOW = datetime.now(UTC).replace(microsecond=0)
# the credential the Commission sealed (its payload), sealed again here by the test CA
PAYLOAD = json.loads((SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-signed.jsonld").read_text())["payload"]


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _name(cn: str, org_id: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, cn),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ]
    if org_id:
        attributes.append(x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), org_id))  # organizationIdentifier, ETSI EN 319 412-1
    return x509.Name(attributes)


def _certificate(
    subject: str, key, issuer: str, issuer_key, *, ca: bool, not_before: datetime, not_after: datetime, org_id: str | None = None
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject, org_id))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


class SealCa:
    """A root CA and a sealing certificate under it (P-256, ES256)."""

    def __init__(self, *, leaf_from: datetime | None = None, leaf_until: datetime | None = None, org_id: str | None = None):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.key = ec.generate_private_key(ec.SECP256R1())
        year = timedelta(days=365)
        self.root = _certificate("Test Root CA", self.root_key, "Test Root CA", self.root_key, ca=True, not_before=NOW - 10 * year, not_after=NOW + 10 * year)
        self.leaf = _certificate(
            "University of Zed seal",
            self.key,
            "Test Root CA",
            self.root_key,
            ca=False,
            not_before=leaf_from or NOW - year,
            not_after=leaf_until or NOW + year,
            org_id=org_id,
        )

    def x5c(self, *certificates: x509.Certificate) -> list[str]:
        return [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in (certificates or (self.leaf, self.root))]

    def seal(self, payload: str = PAYLOAD, *, sig_t: datetime | None = None, signed_payload: str | None = None, **header) -> dict:
        protected = {
            "alg": "ES256",
            "cty": "octet-stream",
            "typ": "jose+json",
            "b64": False,
            "sigT": (sig_t or NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x5c": self.x5c(),
            "x5t#S256": _b64u(hashlib.sha256(self.leaf.public_bytes(Encoding.DER)).digest()),
            "crit": ["b64", "sigT"],
            **header,
        }
        protected = {k: v for k, v in protected.items() if v is not None}
        encoded = _b64u(json.dumps(protected).encode())
        data = encoded.encode() + b"." + (signed_payload if signed_payload is not None else payload).encode()
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return {"payload": payload, "signatures": [{"protected": encoded, "signature": _b64u(signature)}]}


@pytest.fixture(scope="module")
def ca() -> SealCa:
    return SealCa()


def _verify(live, sealed: dict) -> dict[str, dict]:
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": sealed}, timeout=120)
    assert r.status_code == 422, r.text[:3000]  # never "verified" without a trusted list; never a 500
    body = r.json()
    assert body["verified"] is False and body["format"] == "jades"
    return {c["id"]: c for c in body["checks"]}


def test_a_valid_seal_from_a_test_ca(live, ca):
    from tests.test_jades_sample import _jwcrypto_verifies

    sealed = ca.seal()
    assert _jwcrypto_verifies(sealed) and not _jwcrypto_verifies(ca.seal(signed_payload=PAYLOAD + " "))  # an independent JWS verifier
    checks = _verify(live, sealed)
    assert checks["proof"]["outcome"] == "passed" and checks["proof"]["reason"].startswith("valid seal: the ES256 signature"), checks["proof"]
    assert checks["seal_certificate"]["outcome"] == "passed", checks["seal_certificate"]
    assert "a chain of 2 certificates, each issued by the next; valid at the signing time" in checks["seal_certificate"]["reason"]
    trusted = checks["seal_trusted_list"]
    assert trusted["outcome"] == "indeterminate" and trusted["code"] == "TRUSTED_LIST_UNAVAILABLE" and "no pinned snapshot" in trusted["reason"]
    assert checks["well_formed"]["outcome"] == "passed", checks["well_formed"]


def _hmac_seal(ca: SealCa) -> dict:
    sealed = ca.seal(alg="HS256")
    protected = sealed["signatures"][0]["protected"]
    key = ca.leaf.public_bytes(Encoding.DER)  # the classic confusion: the public certificate as an HMAC key
    sealed["signatures"][0]["signature"] = _b64u(hmac.new(key, protected.encode() + b"." + PAYLOAD.encode(), hashlib.sha256).digest())
    return sealed


def _replace_protected(sealed: dict, value: str) -> dict:
    sealed["signatures"][0]["protected"] = value
    return sealed


BAD = {
    "a seal over other bytes": (lambda ca: ca.seal(signed_payload=PAYLOAD.replace("Annex", "Annox", 1)), "proof", "INVALID_SIGNATURE"),
    "alg none": (lambda ca: ca.seal(alg="none"), "proof", "UNSUPPORTED_ALGORITHM"),
    "an HMAC algorithm": (_hmac_seal, "proof", "UNSUPPORTED_ALGORITHM"),
    "an unknown critical header": (lambda ca: ca.seal(crit=["b64", "sigT", "exp"], exp=1), "proof", "UNKNOWN_CRITICAL_HEADER"),
    "a critical header that is absent": (lambda ca: ca.seal(crit=["b64", "sigT", "adoTst"]), "proof", "MALFORMED_SEAL"),
    "an oversized header": (lambda ca: ca.seal(filler="x" * 70_000), "proof", "SEAL_TOO_LARGE"),
    "a header that is not base64url": (lambda ca: _replace_protected(ca.seal(), "eyJhbGciOi*"), "proof", "MALFORMED_SEAL"),
    "a header that is not JSON": (lambda ca: _replace_protected(ca.seal(), _b64u(b"{alg: ES256")), "proof", "MALFORMED_SEAL"),
    "no certificate": (lambda ca: ca.seal(x5c=None, **{"x5t#S256": None}), "proof", "NO_CERTIFICATE"),
    "a certificate that is not DER": (lambda ca: ca.seal(x5c=["AAAA"]), "proof", "MALFORMED_CERTIFICATE"),
    "another certificate than the thumbprint's": (lambda ca: ca.seal(x5c=ca.x5c(SealCa().leaf, ca.root)), "proof", "CERTIFICATE_MISMATCH"),
    "a broken chain": (lambda ca: ca.seal(x5c=ca.x5c(ca.leaf, SealCa().root)), "seal_certificate", "BROKEN_CHAIN"),
    "a chain through a non-CA": (lambda ca: ca.seal(x5c=ca.x5c(ca.leaf, ca.leaf)), "seal_certificate", "BROKEN_CHAIN"),
    "a signing time in the future": (lambda ca: ca.seal(sig_t=NOW + timedelta(days=2)), "seal_certificate", "SIGNING_TIME_IN_FUTURE"),
    "a malformed signing time": (lambda ca: ca.seal(sigT="yesterday"), "seal_certificate", "MALFORMED_SEAL"),
    "no signing time and a certificate not yet valid": (
        lambda ca: SealCa(leaf_from=NOW + timedelta(days=10), leaf_until=NOW + timedelta(days=400)).seal(sigT=None, crit=["b64"]),
        "seal_certificate",
        "CERTIFICATE_NOT_YET_VALID",
    ),
    "no signing time and an expired certificate": (
        lambda ca: SealCa(leaf_from=NOW - timedelta(days=400), leaf_until=NOW - timedelta(days=1)).seal(sigT=None, crit=["b64"]),
        "seal_certificate",
        "CERTIFICATE_EXPIRED",
    ),
    "b64 not named critical": (lambda ca: ca.seal(crit=["sigT"]), "proof", "MALFORMED_SEAL"),
    "an RSA algorithm with an EC certificate": (lambda ca: ca.seal(alg="RS256"), "proof", "KEY_ALG_MISMATCH"),
    "two signatures": (lambda ca: (lambda s: {**s, "signatures": s["signatures"] * 2})(ca.seal()), "proof", "MALFORMED_SEAL"),
    "a payload that is not a string": (lambda ca: {**ca.seal(), "payload": None}, "proof", "MALFORMED_SEAL"),
    "an oversized signature": (
        lambda ca: (lambda s: {**s, "signatures": [{**s["signatures"][0], "signature": "A" * 5000}]})(ca.seal()),
        "proof",
        "SEAL_TOO_LARGE",
    ),
    "too many certificates": (lambda ca: ca.seal(x5c=ca.x5c() * 6), "proof", "SEAL_TOO_LARGE"),
    "a certificate not yet valid at the signing time": (
        lambda ca: ca.seal(sig_t=NOW - timedelta(days=400)),
        "seal_certificate",
        "CERTIFICATE_NOT_VALID_AT_SIGNING_TIME",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_seal_is_a_failed_check_with_its_reason(live, ca, case):
    make, check_id, code = BAD[case]
    checks = _verify(live, make(ca))
    assert checks[check_id]["outcome"] == "failed" and checks[check_id]["code"] == code, checks[check_id]
    assert checks[check_id]["reason"]


def test_an_expired_certificate_valid_at_signing_time_is_indeterminate(live):
    expired = SealCa(leaf_from=NOW - timedelta(days=900), leaf_until=NOW - timedelta(days=30))
    checks = _verify(live, expired.seal(sig_t=NOW - timedelta(days=100)))
    assert checks["proof"]["outcome"] == "passed"
    certificate = checks["seal_certificate"]
    assert certificate["outcome"] == "indeterminate" and certificate["code"] == "CERTIFICATE_EXPIRED_NO_PROOF_OF_EXISTENCE"
    until = (NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"the sealing certificate expired since {until}, valid at the signing time" in certificate["reason"], certificate
    # expired before the signing time: a failure
    checks = _verify(live, expired.seal(sig_t=NOW - timedelta(days=10)))
    assert checks["seal_certificate"]["outcome"] == "failed" and checks["seal_certificate"]["code"] == "CERTIFICATE_NOT_VALID_AT_SIGNING_TIME"


def test_the_certificate_must_name_the_credential_issuer(live, ca):
    """The payload's issuer has the eIDAS identifier VATES-A00000000: a certificate naming it binds, another does not."""
    same = _verify(live, SealCa(org_id="VATES-A00000000").seal())["issuer_binding"]
    assert same["outcome"] == "passed" and "organizationIdentifier VATES-A00000000" in same["reason"], same
    other = _verify(live, SealCa(org_id="VATIE-1234567X").seal())["issuer_binding"]
    assert other["outcome"] == "failed" and other["code"] == "ISSUER_MISMATCH" and "VATIE-1234567X" in other["reason"], other
    unnamed = _verify(live, ca.seal())["issuer_binding"]
    assert unnamed["outcome"] == "failed" and unnamed["code"] == "ISSUER_MISMATCH"
