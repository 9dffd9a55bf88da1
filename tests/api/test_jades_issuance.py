"""EDC sealed like Europass (issue 18, "Seal EDC like Europass"): the operator gives a provider a sealing certificate
and key (a PKCS#12 file through ``microcred provider seal-certificate``, or a key made inside the SoftHSM2 token with
its PEM chain), and ``"proof": "jades"`` on POST /microcredentials returns a JAdES baseline-B seal (ETSI TS 119
182-1: JWS JSON serialization, ``b64: false``, ``sigT``, ``x5c``) that microcred's verifier, joserfc and the Node
``jose`` library verify. A test CA is made here with ``cryptography``."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.conftest import ROOT

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "correct horse battery staple"


class SealingCa:
    """A root CA and an intermediate, which issues sealing certificates naming an organisation."""

    def __init__(self):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._make(self._name("Test Root CA"), self.root_key.public_key(), self._name("Test Root CA"), self.root_key, ca=True)
        self.ca = self._make(self._name("Test Seal CA"), self.ca_key.public_key(), self.root.subject, self.root_key, ca=True)

    @staticmethod
    def _name(cn: str, org: str | None = None) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "IE"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attributes)

    @staticmethod
    def _make(subject, public_key, issuer, issuer_key, *, ca: bool, days: tuple[int, int] = (-30, 365)) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW + timedelta(days=days[0]))
            .not_valid_after(NOW + timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    def seal_certificate(self, public_key, org: str, **kw) -> x509.Certificate:
        return self._make(self._name(f"{org} seal", org), public_key, self.ca.subject, self.ca_key, ca=False, **kw)

    def pkcs12(self, org: str, **kw) -> bytes:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self.seal_certificate(key.public_key(), org, **kw)
        encryption = serialization.BestAvailableEncryption(PASSWORD.encode())
        return pkcs12.serialize_key_and_certificates(b"seal", key, certificate, [self.root, self.ca], encryption)


@pytest.fixture(scope="module")
def ca() -> SealingCa:
    return SealingCa()


def _cli(live, *args, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(
        MICROCRED_DATABASE_URL=live.settings.database_url,
        MICROCRED_KEYS_DIR=str(live.settings.keys_dir),
        MICROCRED_BASE_URL=live.url,
        MICROCRED_ENVIRONMENT="test",
        MICROCRED_DEMO_PROVIDER="false",
        **env_extra,
    )
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, cwd=ROOT, timeout=120, env=env, stdin=subprocess.DEVNULL)


def _header(sealed: dict) -> dict:
    protected = sealed["signatures"][0]["protected"]
    return json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))


def _joserfc_verifies(sealed: dict) -> bool:
    """joserfc (an implementation this project did not write), with JAdES's ``sigT`` registered and its header limit
    raised (its default 512 bytes is far below a header with an x5c chain)."""
    from joserfc import jws
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import ECKey
    from joserfc.registry import HeaderParameter

    header = _header(sealed)
    certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    key = ECKey.import_key(certificate.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    registry = jws.JWSRegistry(header_registry={"sigT": HeaderParameter("JAdES signing time (ETSI TS 119 182-1 §5.2.1)", "str")}, algorithms=["ES256"])
    registry.max_header_length = 64 * 1024
    try:
        jws.deserialize_json(sealed, key, registry=registry)
    except BadSignatureError:
        return False
    return True


def _node_jose(sealed: dict) -> dict:
    from tests.interop.conftest import INTEROP, _need_node

    _need_node()
    done = subprocess.run(["node", str(INTEROP / "jades_harness.mjs")], input=json.dumps(sealed), capture_output=True, text=True, timeout=180, cwd=INTEROP)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _issue(client, example_input, **body):
    return client.post("/microcredentials", json={"format": "edc", "proof": "jades", "microcredential": example_input, **body})


def _checks(live, sealed) -> tuple[int, dict]:
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": sealed}, timeout=120)
    assert r.status_code in (200, 422), r.text[:2000]
    return r.status_code, {c["id"]: c for c in r.json()["checks"]}


def test_a_provider_without_a_sealing_certificate_is_refused_and_nothing_is_stored(live, client, example_input):
    r = _issue(client, example_input)
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["code"] == "NO_SEALING_CERTIFICATE" and "seal-certificate" in r.json()["detail"]
    r = _issue(client, example_input, format="ob3")
    assert r.status_code == 400 and r.json()["errors"][0]["pointer"] == "/proof", r.text
    assert client.get("/credentials").json()["items"] == []


def test_a_pkcs12_seal_issues_edc_as_europass_does(live, client, provider, example_input, ca, tmp_path):
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(ca.pkcs12("University of Zed"))
    wrong = _cli(live, "provider", "seal-certificate", "--slug", "uniz", "--pkcs12", str(p12), MICROCRED_PKCS12_PASSWORD="wrong")
    assert wrong.returncode != 0 and b"PKCS12_UNREADABLE" in wrong.stderr + wrong.stdout
    done = _cli(live, "provider", "seal-certificate", "--slug", "uniz", "--pkcs12", str(p12), "--json", MICROCRED_PKCS12_PASSWORD=PASSWORD)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    out = json.loads(done.stdout)
    assert out["keyType"] == "P-256" and out["certificates"] == 3 and PASSWORD.encode() not in done.stdout + done.stderr
    key_file = live.settings.keys_dir / f"{out['keyRef']}.json"
    assert key_file.stat().st_mode & 0o777 == 0o600

    r = _issue(client, example_input)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].split(";")[0] == "application/jose+json" and r.headers["location"]
    sealed = r.json()
    assert set(sealed) == {"payload", "signatures"} and isinstance(sealed["payload"], str)
    header = _header(sealed)
    assert header["b64"] is False and header["alg"] == "ES256" and set(header["crit"]) == {"b64", "sigT"}
    assert len(header["x5c"]) == 3 and header["sigT"].endswith("Z") and "x5t#S256" in header
    credential = json.loads(sealed["payload"])
    assert "EuropeanDigitalCredential" in credential["type"] and "proof" not in credential

    # three verifiers: microcred's, joserfc, jose (Node)
    status, checks = _checks(live, sealed)
    assert checks["proof"]["outcome"] == "passed" and checks["proof"]["details"]["b64"] is False, checks["proof"]
    assert checks["seal_certificate"]["outcome"] == "passed" and "a chain of 3 certificates" in checks["seal_certificate"]["reason"]
    assert checks["issuer_binding"]["outcome"] == "passed" and "University of Zed" in checks["issuer_binding"]["reason"]
    assert checks["status"]["outcome"] == "passed" and checks["validity"]["outcome"] == "passed"
    # a test CA is on no EU trusted list: never "verified"
    assert status == 422 and checks["seal_trusted_list"]["outcome"] != "passed"
    assert _joserfc_verifies(sealed)
    changed = {**sealed, "payload": sealed["payload"].replace("University of Zed", "University of Zzz", 1)}
    assert not _joserfc_verifies(changed) and _checks(live, changed)[1]["proof"]["code"] == "INVALID_SIGNATURE"
    node = _node_jose(sealed)
    assert node["verified"] and node["alg"] == "ES256" and node["payloadMatches"], node
    assert not _node_jose(changed)["verified"]

    # the stored credential is the same bytes; revocation reaches the sealed EDC's status
    stored = client.get(r.headers["location"])
    assert stored.status_code == 200 and stored.content == r.content
    assert client.post("/credentials/status", json={"credentialId": credential["id"], "status": "revoked"}).status_code == 200
    assert _checks(live, sealed)[1]["status"]["outcome"] == "failed"


def test_a_certificate_that_is_not_the_keys_or_expired_is_refused(live, provider, ca, tmp_path):
    expired = tmp_path / "expired.p12"
    expired.write_bytes(ca.pkcs12("University of Zed", days=(-400, -1)))
    done = _cli(live, "provider", "seal-certificate", "--slug", "uniz", "--pkcs12", str(expired), MICROCRED_PKCS12_PASSWORD=PASSWORD)
    assert done.returncode != 0 and b"CERTIFICATE_NOT_VALID" in done.stderr + done.stdout
    other = tmp_path / "other.pem"
    other.write_bytes(ca.seal_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), "University of Zed").public_bytes(serialization.Encoding.PEM))
    done = _cli(live, "provider", "seal-certificate", "--slug", "uniz", "--key", "uniz-not-a-token-key", "--chain", str(other))
    assert done.returncode != 0 and b"pkcs11:<label>" in done.stderr + done.stdout


def test_a_key_inside_the_token_seals_edc(database_url, tmp_path, softhsm, example_input, ca):
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from app.keys import P256, Pkcs11KeyStore
    from tests import live_server

    label = f"seal-{secrets.token_hex(4)}"
    signer = Pkcs11KeyStore(softhsm.module, softhsm.label, None, softhsm.pin).create(label, P256)
    jwk = signer.public_jwk()
    raw = b"\x04" + b"".join(base64.urlsafe_b64decode(jwk[k] + "==") for k in ("x", "y"))
    certificate = ca.seal_certificate(EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw), "HSM University")
    chain = tmp_path / "chain.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (certificate, ca.ca, ca.root)))
    live = live_server.start(database_url, tmp_path, status_cache_seconds=0, **softhsm.settings())
    try:
        _, api_key = live.app.state.issuance.providers.create(slug="hsm-seal", name="HSM University", country="IE", homepage="https://hsm.example.edu")
        done = _cli(live, "provider", "seal-certificate", "--slug", "hsm-seal", "--key", f"pkcs11:{label}", "--chain", str(chain), **softhsm.env())
        assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
        assert not list(live.settings.keys_dir.glob("hsm-seal-seal-*"))  # the key stays in the token
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as client:
            r = _issue(client, example_input)
        assert r.status_code == 201, r.text
        _, checks = _checks(live, r.json())
        assert checks["proof"]["outcome"] == "passed" and checks["seal_certificate"]["outcome"] == "passed", checks
        assert checks["issuer_binding"]["outcome"] == "passed" and _joserfc_verifies(r.json())
    finally:
        live.stop()


def test_a_missing_sealing_key_makes_ready_say_why_and_an_expired_certificate_refuses_to_seal(live, client, provider, example_input, ca, tmp_path):
    from app.store import seals

    p12 = tmp_path / "seal.p12"
    p12.write_bytes(ca.pkcs12("University of Zed"))
    done = _cli(live, "provider", "seal-certificate", "--slug", "uniz", "--pkcs12", str(p12), "--json", MICROCRED_PKCS12_PASSWORD=PASSWORD)
    assert done.returncode == 0, done.stderr[-2000:]
    key_ref = json.loads(done.stdout)["keyRef"]
    assert httpx.get(f"{live.url}/ready", timeout=60).status_code == 200
    (live.settings.keys_dir / f"{key_ref}.json").unlink()
    r = httpx.get(f"{live.url}/ready", timeout=60)
    assert r.status_code == 503, r.text
    problems = live.app.state.issuance.providers.check_keys()
    assert problems == [f"provider uniz: signing key {key_ref} is missing from the key folder"], problems

    # a sealing certificate that has expired since it was given: no seal, 409, nothing stored
    key = ec.generate_private_key(ec.SECP256R1())
    from app.keys import P256Signer

    name = "uniz-seal-expired"
    live.app.state.issuance.providers.keys.files.save(name, P256Signer(key.private_numbers().private_value.to_bytes(32, "big")))
    expired = ca.seal_certificate(key.public_key(), "University of Zed", days=(-400, -1))
    x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in (expired, ca.ca, ca.root)]
    with live.app.state.db.transaction() as session:
        seals.set_seal_key(session, provider[0].id, key_ref=name, key_type="P-256", chain=x5c, not_after=expired.not_valid_after_utc)
    live.app.state.issuance.providers._signers.clear()
    r = _issue(client, example_input)
    assert r.status_code == 409 and r.json()["code"] == "SEALING_CERTIFICATE_NOT_VALID", r.text
    assert "not now" in r.json()["detail"] and client.get("/credentials").json()["items"] == []
