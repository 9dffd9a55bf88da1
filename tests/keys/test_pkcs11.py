"""Keys inside a PKCS#11 token (SoftHSM2, a real one in a temporary folder): generated there, never exported,
signing what the published public key verifies; and an operator's mistake (wrong PIN, missing module, no such
token) stops ``serve`` with one line and makes ``/ready`` say not ready (issue 18, "Keys in an HSM")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from app.errors import KeyUnavailable
from app.keys import ED25519, P256, Pkcs11KeyStore
from app.keys.methods import public_key_from_method
from tests.live_process import ROOT, LiveService, free_port


def _store(hsm, **overrides) -> Pkcs11KeyStore:
    options = {"module": hsm.module, "token_label": hsm.label, "pin": hsm.pin, **overrides}
    return Pkcs11KeyStore(options["module"], options["token_label"], None, options["pin"])


def test_ed25519_key_generated_in_the_token_signs_and_never_leaves_it(softhsm):
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    signer = _store(softhsm).create("unit-ed25519", ED25519, "did:example:1#k")
    again = _store(softhsm).load("pkcs11:unit-ed25519", "did:example:1#k")  # another store of the same token
    assert again.public_multibase() == signer.public_multibase() and again.public_multibase().startswith("z6Mk")
    data = b"issue 18: a key in an HSM"
    signature = again.sign(data)
    Ed25519PublicKey.from_public_bytes(signer.public).verify(signature, data)  # raises if invalid
    # the public key this service would publish (Multikey) verifies it as a verifier does
    published = public_key_from_method({"type": "Multikey", "publicKeyMultibase": signer.public_multibase()}, ED25519)
    assert published.verify(data, signature) and not published.verify(data + b"!", signature)
    assert signer.public_jwk()["crv"] == "Ed25519"
    private = signer._handle
    assert private[Attribute.SENSITIVE] is True and private[Attribute.EXTRACTABLE] is False
    with pytest.raises(AttributeSensitive):
        private[Attribute.VALUE]  # the token refuses to hand the secret out
    with pytest.raises(FileExistsError):
        _store(softhsm).create("unit-ed25519")


def test_p256_key_in_the_token_signs_es256(softhsm):
    signer = _store(softhsm).create("unit-p256", P256)
    data = b"ES256 signing input"
    raw = signer.sign(data)
    assert len(raw) == 64  # IEEE P1363 r||s (RFC 7518 §3.4)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), signer.public).verify(der, data, ec.ECDSA(hashes.SHA256()))
    assert signer.public_multibase().startswith("zDn") and set(signer.public_jwk()) == {"kty", "crv", "x", "y"}


@pytest.mark.parametrize(
    "overrides,said",
    [({"pin": "0000"}, "the PIN is wrong"), ({"module": "/nonexistent/libpkcs11.so"}, "does not exist"), ({"token_label": "nope"}, "is not present")],
)
def test_an_unreachable_token_is_key_unavailable_with_a_reason(softhsm, overrides, said):
    with pytest.raises(KeyUnavailable) as caught:
        _store(softhsm, **overrides).load("unit-ed25519")
    assert said in caught.value.detail and "1234" not in caught.value.detail


def _env(tmp_path, hsm, **extra: str) -> dict[str, str]:
    (tmp_path / "keys").mkdir(exist_ok=True)
    return {
        **os.environ,
        # this checkout first; python-pkcs11 wherever the running interpreter finds it
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "MICROCRED_DATABASE_URL": f"sqlite:///{tmp_path / 'microcred.db'}",
        "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
        "MICROCRED_DEMO_PROVIDER": "false",
        **hsm.env(),
        **extra,
    }


def _cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_provider_created_with_pkcs11_key_store_then_serve_checks_the_token(tmp_path, softhsm, example_input):
    env = _env(tmp_path, softhsm)
    create = ["provider", "create", "--slug", "hsmuni", "--name", "HSM University", "--country", "IE", "--did-method", "key"]
    made = _cli(env, *create, "--key-store", "pkcs11", "--json")
    assert made.returncode == 0, made.stderr
    api_key = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
    assert not list((tmp_path / "keys").glob("hsmuni-*.json"))  # no key file: the key is in the token
    for extra, said in [
        ({"MICROCRED_PKCS11_PIN": "0000"}, "the PIN is wrong"),
        ({"MICROCRED_PKCS11_MODULE": str(tmp_path / "missing.so")}, "does not exist"),
    ]:
        done = _cli({**env, **extra}, "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--workers", "1")
        assert done.returncode == 2, done.stdout + done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("microcred: cannot start:")]
        assert lines and all(said in line for line in lines), done.stderr
        assert "Traceback" not in done.stderr and "0000" not in done.stderr
    service_env = {k: env[k] for k in ("PYTHONPATH", "MICROCRED_DATABASE_URL", "MICROCRED_KEYS_DIR", *softhsm.env())}
    with LiveService(tmp_path, env=service_env) as svc:
        assert httpx.get(f"{svc.url}/ready", timeout=60).status_code == 200
        issued = httpx.post(
            f"{svc.url}/microcredentials", json={"format": "ob3", "microcredential": example_input}, headers={"Authorization": f"Bearer {api_key}"}, timeout=120
        )
        assert issued.status_code == 201, issued.text
        report = httpx.post(f"{svc.url}/credentials/verify", json={"verifiableCredential": issued.json()}, timeout=120)
        assert report.status_code == 200 and report.json()["verified"] is True, report.text


def test_ready_says_why_when_the_token_cannot_be_reached(database_url, tmp_path, softhsm):
    from tests import live_server

    server = live_server.start(database_url, tmp_path, **{**softhsm.settings(), "pkcs11_module": tmp_path / "missing.so"})
    try:
        r = httpx.get(f"{server.url}/ready", timeout=60)
        assert r.status_code == 503 and {"pointer": "/checks/signing_keys", "detail": "KeyUnavailable"} in r.json()["errors"], r.text
        assert server.app.state.issuance.providers.check_keys() == [f"the PKCS#11 module {tmp_path / 'missing.so'} does not exist"]
    finally:
        server.stop()


def test_a_session_the_token_dropped_is_opened_again_on_the_next_signature(softhsm):
    """As after an HSM restart: the process's session is closed under the signer, which opens a new one, finds its
    key again by label and signs; the signature still verifies with the published key."""
    store = _store(softhsm)
    signer = store.create("unit-reopen", ED25519)
    store.session().close()  # the token forgets the session (and its handles)
    data = b"after a restart"
    signature = signer.sign(data)
    Ed25519PublicKey.from_public_bytes(signer.public).verify(signature, data)
    assert store.session() is not None and signer.sign(data) == signature  # Ed25519 is deterministic (RFC 8032)


def test_loading_after_the_session_was_dropped_opens_a_new_one(softhsm):
    store = _store(softhsm)
    store.create("unit-reload", ED25519)
    store.session().close()
    assert _store(softhsm).load("pkcs11:unit-reload").public_multibase().startswith("z6Mk")
