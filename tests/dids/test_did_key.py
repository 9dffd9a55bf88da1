"""did:key against the CCG test vectors (shared/vectors/did-key/ed25519-x25519.json)."""

from __future__ import annotations

import base64

import base58
import pytest

from app.dids.did_key import resolve_did_key
from app.errors import DidResolutionError
from app.keys import Ed25519Signer, P256Signer, multikey
from tests.conftest import VECTORS, load_json

FILE = VECTORS / "did-key" / "ed25519-x25519.json"


def _entries():
    return list(load_json(FILE).items()) if FILE.exists() else []


@pytest.mark.parametrize("did,entry", _entries(), ids=lambda v: v[:24] if isinstance(v, str) else "")
def test_vector_reproduced_from_seed(did, entry):
    signer = Ed25519Signer(bytes.fromhex(entry["seed"]))
    assert f"did:key:{signer.public_multibase()}" == did
    # The vector's public key (base58 in the 2018 suite, a JWK in JsonWebKey2020) is our Multikey's 32 bytes.
    assert _raw(entry["verificationKeyPair"]) == signer.public_key()
    doc = resolve_did_key(did)
    vm_id = entry["verificationKeyPair"]["id"]
    vm_id = vm_id if vm_id.startswith("did:") else did + vm_id
    assert doc["id"] == did
    assert [vm["id"] for vm in doc["verificationMethod"]][0] == vm_id
    for rel in ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"):
        assert doc[rel] == entry["didDocument"][rel] == [vm_id]
    # The derived X25519 key agreement key matches the vector's, id and bytes.
    ka = entry["keyAgreementKeyPair"]
    assert doc["keyAgreement"] == [ka["id"] if ka["id"].startswith("did:") else did + ka["id"]]
    ka_vm = doc["verificationMethod"][1]
    assert multikey.decode(ka_vm["publicKeyMultibase"]).key == _raw(ka)


def _raw(pair: dict) -> bytes:
    if "publicKeyBase58" in pair:
        return base58.b58decode(pair["publicKeyBase58"])
    return base64.urlsafe_b64decode(pair["publicKeyJwk"]["x"] + "==")


def test_all_vectors_present():
    assert len(_entries()) == 5


def test_p256_did_key_resolves():
    signer = P256Signer.generate()
    mb = signer.public_multibase()
    assert mb.startswith("zDn")
    doc = resolve_did_key(f"did:key:{mb}")
    assert doc["assertionMethod"] == [f"did:key:{mb}#{mb}"]
    assert "keyAgreement" not in doc


@pytest.mark.parametrize(
    "bad",
    [
        "did:key:",
        "did:key:abc",
        "did:key:z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",  # a secret key
        "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",  # X25519 cannot sign
        "did:key:z6Mk0OIl",  # not base58
        "did:web:example.com",
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#frag",
    ],
)
def test_bad_did_key_is_refused_with_a_clear_error(bad):
    with pytest.raises(DidResolutionError) as err:
        resolve_did_key(bad)
    assert err.value.detail
