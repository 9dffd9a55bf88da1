"""JAdES baseline-B sealing (app/proofs/jades.py) with a file key and with keys inside a SoftHSM2 token, under a test
CA made here: microcred's verifier (through HTTP) and jwcrypto, an independent JWS implementation, accept the seal;
the certificate must be the signing key's (issue 18, "Seal EDC like Europass", the building block)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from app.errors import CryptoError
from app.keys import ED25519, P256, Ed25519Signer, P256Signer, Pkcs11KeyStore
from app.proofs import jades
from tests.conftest import SHARED
from tests.test_jades_sample import _jwcrypto_verifies

NOW = datetime.now(UTC).replace(microsecond=0)
#: the credential the Commission sealed; its issuer's eIDAS identifier is VATES-A00000000
PAYLOAD = json.loads((SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-signed.jsonld").read_text())["payload"].encode()


def _public_key(signer):
    jwk = signer.public_jwk()
    raw = {k: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)) for k, v in jwk.items() if k in ("x", "y")}
    if jwk["kty"] == "OKP":
        return Ed25519PublicKey.from_public_bytes(raw["x"])
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw["x"] + raw["y"])


def _chain(signer) -> list[x509.Certificate]:
    """A test root CA and, under it, a sealing certificate for ``signer``'s public key naming the issuer of PAYLOAD."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Root CA")])
    leaf_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ORGANIZACION TEST"),
            x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), "VATES-A00000000"),
        ]
    )

    def make(name, key, ca: bool):
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(root_name)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=30))
            .not_valid_after(NOW + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256())
        )

    return [make(leaf_name, _public_key(signer), False), make(root_name, root_key.public_key(), True)]


def _checks(live, sealed: dict) -> dict[str, dict]:
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": sealed}, timeout=120)
    assert r.status_code == 422, r.text[:2000]  # the trusted-list check stays indeterminate
    return {c["id"]: c for c in r.json()["checks"]}


def _assert_sealed_well(live, sealed: dict, alg: str) -> None:
    assert sealed["payload"] == PAYLOAD.decode()  # the credential as it is (b64: false)
    assert _jwcrypto_verifies(sealed)
    checks = _checks(live, sealed)
    assert checks["proof"]["outcome"] == "passed" and checks["proof"]["details"]["alg"] == alg, checks["proof"]
    assert checks["seal_certificate"]["outcome"] == "passed", checks["seal_certificate"]
    assert checks["issuer_binding"]["outcome"] == "passed", checks["issuer_binding"]
    assert checks["seal_trusted_list"]["code"] == "TRUSTED_LIST_UNAVAILABLE"


@pytest.mark.parametrize("make,alg", [(P256Signer.generate, "ES256"), (Ed25519Signer.generate, "EdDSA")])
def test_a_file_key_seals_and_both_verifiers_accept(live, make, alg):
    signer = make()
    _assert_sealed_well(live, jades.seal(PAYLOAD, signer, _chain(signer), signed_at=NOW - timedelta(minutes=5)), alg)


@pytest.mark.parametrize("key_type,alg", [(P256, "ES256"), (ED25519, "EdDSA")])
def test_a_key_inside_the_token_seals_and_both_verifiers_accept(live, softhsm, key_type, alg):
    import secrets

    signer = Pkcs11KeyStore(softhsm.module, softhsm.label, None, softhsm.pin).create(f"seal-{secrets.token_hex(4)}", key_type)
    _assert_sealed_well(live, jades.seal(PAYLOAD, signer, _chain(signer)), alg)


def test_the_certificate_must_hold_the_signing_key():
    signer, other = P256Signer.generate(), P256Signer.generate()
    with pytest.raises(CryptoError) as caught:
        jades.seal(PAYLOAD, signer, _chain(other))
    assert caught.value.code == "CERTIFICATE_MISMATCH"
