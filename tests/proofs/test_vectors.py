"""The W3C vc-di-eddsa test vectors, reproduced byte for byte, for all three suites."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from app.dids.resolver import DidResolver
from app.keys import signer_from_secret
from app.proofs import SUITES, ProofEngine
from tests.conftest import VECTORS, load_json

D = VECTORS / "vc-di-eddsa"
SUITE_FILES = {
    "eddsa-rdfc-2022": ("eddsa-rdfc-2022", "DataInt"),
    "eddsa-jcs-2022": ("eddsa-jcs-2022", "JCS"),
    "Ed25519Signature2020": ("Ed25519Signature2020", "EdSig"),
}
ALL = list(SUITE_FILES)


def _read(suite: str, stem: str) -> str:
    folder, suffix = SUITE_FILES[suite]
    return (D / folder / f"{stem}{suffix}.txt").read_text().strip()


@pytest.fixture
def engine(loader):
    return ProofEngine(loader, DidResolver().dereference, clock=lambda: datetime(2024, 1, 1, tzinfo=UTC))


@pytest.fixture
def signer():
    pair = load_json(D / "keyPair.json")
    s = signer_from_secret(pair["privateKeyMultibase"])
    assert s.public_multibase() == pair["publicKeyMultibase"]
    return s


def _options(suite):
    folder, suffix = SUITE_FILES[suite]
    return load_json(D / folder / f"proofConfig{suffix}.json")


def _signed(suite):
    folder, suffix = SUITE_FILES[suite]
    return load_json(D / folder / f"signed{suffix}.json")


def _unsecured_for(suite):
    doc = load_json(D / "unsigned.json")
    options = _options(suite)
    if "@context" in options:
        doc["@context"] = options["@context"]
    return doc


@pytest.mark.parametrize("suite", ALL)
def test_intermediate_values_byte_for_byte(engine, suite):
    options = {k: v for k, v in _options(suite).items() if k != "@context"}
    data = engine.hash_data(SUITES[suite], _unsecured_for(suite), options)
    assert data.canonical_proof_config.decode().strip() == _read(suite, "proofCanon")
    assert data.canonical_document.decode().strip() == _read(suite, "canonDoc")
    assert data.proof_hash.hex() == _read(suite, "proofHash")
    assert data.document_hash.hex() == _read(suite, "docHash")
    assert data.combined.hex() == _read(suite, "combinedHash")


@pytest.mark.parametrize("suite", ALL)
def test_signature_and_signed_credential_byte_for_byte(engine, signer, suite):
    options = _options(suite)
    signer.verification_method = options["verificationMethod"]
    secured = engine.add_proof(
        load_json(D / "unsigned.json") if suite != "Ed25519Signature2020" else _unsecured_for(suite),
        signer,
        suite=suite,
        created=options["created"],
        proof_purpose=options["proofPurpose"],
    )
    expected = _signed(suite)
    assert secured == expected
    import base58

    assert base58.b58decode(secured["proof"]["proofValue"][1:]).hex() == _read(suite, "sigHex")
    assert secured["proof"]["proofValue"] == _read(suite, "sigBTC58")


@pytest.mark.parametrize("suite", ALL)
def test_signed_vector_verifies(engine, suite):
    result = engine.verify(_signed(suite))
    assert result.verified, result.as_dict()
    proof = result.proofs[0]
    assert proof.controller == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert proof.purpose_authorized
    assert proof.verification_method.endswith("#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")


def _mutations():
    # Every signed value, changed: each must make every suite fail.
    return [
        ("name", "Alumni Credential!"),
        ("description", "changed"),
        ("issuer", "https://vc.example/issuers/0000"),
        ("validFrom", "2023-01-01T00:00:01Z"),
        ("id", "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc34"),
        ("type", ["VerifiableCredential"]),
        ("credentialSubject", {"id": "did:example:abcdefgh", "alumniOf": "The School of Exemples"}),
        ("credentialSubject", {"id": "did:example:abcdefgX", "alumniOf": "The School of Examples"}),
        ("proof.created", "2023-02-24T23:36:39Z"),
        ("proof.verificationMethod", None),
    ]


@pytest.mark.parametrize("suite", ALL)
@pytest.mark.parametrize("path,value", _mutations(), ids=[m[0] for m in _mutations()])
def test_changing_any_signed_value_fails(engine, suite, path, value):
    doc = copy.deepcopy(_signed(suite))
    if path.startswith("proof."):
        key = path.split(".", 1)[1]
        if value is None:  # another key of the same type: the signature no longer matches
            from app.keys import Ed25519Signer

            other = Ed25519Signer.generate().public_multibase()
            value = f"did:key:{other}#{other}"
        doc["proof"][key] = value
    else:
        doc[path] = value
    result = engine.verify(doc)
    assert not result.verified
    assert result.proofs[0].error in ("PROOF_VERIFICATION_ERROR",), result.as_dict()


def test_proof_set_verifies_only_if_every_proof_does(engine, signer):
    signer.verification_method = _options("eddsa-rdfc-2022")["verificationMethod"]
    doc = load_json(D / "unsigned.json")
    one = engine.add_proof(doc, signer, suite="eddsa-rdfc-2022")
    both = engine.add_proof(one, signer, suite="eddsa-jcs-2022")
    assert isinstance(both["proof"], list) and len(both["proof"]) == 2
    result = engine.verify(both)
    assert result.verified and len(result.proofs) == 2
    broken = copy.deepcopy(both)
    broken["proof"][1]["proofValue"] = one["proof"]["proofValue"]
    result = engine.verify(broken)
    assert not result.verified
    assert [p.verified for p in result.proofs] == [True, False]


def test_proof_chain_with_previous_proof(engine, signer):
    signer.verification_method = _options("eddsa-rdfc-2022")["verificationMethod"]
    doc = load_json(D / "unsigned.json")
    first = engine.add_proof(doc, signer, options={"id": "urn:uuid:proof-1"})
    chained = engine.add_proof(first, signer, options={"id": "urn:uuid:proof-2", "previousProof": "urn:uuid:proof-1"})
    assert engine.verify(chained).verified
    # Dropping the first proof breaks the chain.
    broken = dict(chained, proof=[chained["proof"][1]])
    result = engine.verify(broken)
    assert not result.verified and result.proofs[0].error == "MALFORMED_PROOF_ERROR"


def test_proof_copied_from_another_credential_fails(engine, signer):
    signer.verification_method = _options("eddsa-rdfc-2022")["verificationMethod"]
    a = engine.add_proof(load_json(D / "unsigned.json"), signer)
    other = load_json(D / "unsigned.json")
    other["name"] = "Another Credential"
    other["proof"] = a["proof"]
    assert not engine.verify(other).verified
