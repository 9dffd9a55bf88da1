"""Bad input to the proof engine: each gives a clear, named error, never an unhandled exception."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import base58
import pytest

from app import strict_json
from app.dids.resolver import DidResolver
from app.errors import ContextError, DataLossError, MicrocredError, ParsingError, RangeError
from app.keys import Ed25519Signer, multikey
from app.proofs import ProofEngine
from tests.conftest import VECTORS, load_json

D = VECTORS / "vc-di-eddsa"
L = 2**252 + 27742317777372353535851937790883648493  # the order of the Ed25519 base point


@pytest.fixture
def engine(loader):
    return ProofEngine(loader, DidResolver().dereference, clock=lambda: datetime(2024, 1, 1, tzinfo=UTC))


@pytest.fixture
def signed():
    return load_json(D / "eddsa-rdfc-2022" / "signedDataInt.json")


def _err(engine, doc):
    result = engine.verify(doc)
    assert not result.verified
    return result.proofs[0] if result.proofs else result


@pytest.mark.parametrize(
    "change,code",
    [
        ({"proofValue": "2YwC8z3ap7"}, "MALFORMED_PROOF_ERROR"),  # no multibase prefix
        ({"proofValue": "z0OIl"}, "MALFORMED_PROOF_ERROR"),  # not base58
        ({"proofValue": "z" + base58.b58encode(b"\x01" * 63).decode()}, "MALFORMED_PROOF_ERROR"),  # 63 bytes
        ({"proofValue": "z" + base58.b58encode(b"\x01" * 65).decode()}, "MALFORMED_PROOF_ERROR"),
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "PROOF_VERIFICATION_ERROR"),
        ({"cryptosuite": "eddsa-2022"}, "PROOF_VERIFICATION_ERROR"),
        ({"type": "JsonWebSignature2020"}, "PROOF_VERIFICATION_ERROR"),
        ({"proofPurpose": "authentication"}, "MISMATCHED_PROOF_PURPOSE_ERROR"),
        ({"created": "2023-02-24T23:36:38"}, "MALFORMED_PROOF_ERROR"),  # no time zone
        ({"created": "2099-01-01T00:00:00Z"}, "PROOF_VERIFICATION_ERROR"),  # in the future
        ({"expires": "2023-03-01T00:00:00Z"}, "PROOF_VERIFICATION_ERROR"),  # expired
        (
            {"verificationMethod": "did:key:z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq#z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"},
            "INVALID_VERIFICATION_METHOD",
        ),  # secret key
        (
            {"verificationMethod": "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW"},
            "INVALID_VERIFICATION_METHOD",
        ),  # X25519
        ({"verificationMethod": "did:example:123#key"}, "INVALID_VERIFICATION_METHOD"),
    ],
)
def test_malformed_proofs_are_named(engine, signed, change, code):
    doc = copy.deepcopy(signed)
    doc["proof"].update(change)
    proof = _err(engine, doc)
    assert proof.error == code, proof.as_dict()
    assert proof.reason


@pytest.mark.parametrize("missing", ["verificationMethod", "proofPurpose", "proofValue", "type"])
def test_missing_required_proof_field(engine, signed, missing):
    doc = copy.deepcopy(signed)
    del doc["proof"][missing]
    proof = _err(engine, doc)
    if missing == "type":  # without a type no suite is selected
        assert proof.error == "PROOF_VERIFICATION_ERROR" and "not supported" in proof.reason
    else:
        assert proof.error == "MALFORMED_PROOF_ERROR" and missing in proof.reason


def test_non_canonical_signature_refused(engine, signed):
    # S + L verifies in lax implementations (signature malleability); libsodium refuses non-canonical S.
    raw = base58.b58decode(signed["proof"]["proofValue"][1:])
    s = int.from_bytes(raw[32:], "little") + L
    assert s < 2**256
    doc = copy.deepcopy(signed)
    doc["proof"]["proofValue"] = "z" + base58.b58encode(raw[:32] + s.to_bytes(32, "little")).decode()
    proof = _err(engine, doc)
    assert proof.error == "PROOF_VERIFICATION_ERROR"


def test_no_proof_and_not_an_object(engine, signed):
    doc = dict(signed)
    del doc["proof"]
    assert engine.verify(doc).error == "PROOF_VERIFICATION_ERROR"
    assert engine.verify(["not", "an", "object"]).error == "PARSING_ERROR"
    assert engine.verify(dict(signed, proof=[])).error == "PROOF_VERIFICATION_ERROR"
    assert engine.verify(dict(signed, proof="abc")).proofs[0].error == "MALFORMED_PROOF_ERROR"


def test_unpinned_context_refused(engine, signed):
    doc = copy.deepcopy(signed)
    doc["@context"] = [*doc["@context"], "https://evil.example/context.jsonld"]
    proof = _err(engine, doc)
    assert proof.error in ("PROOF_TRANSFORMATION_ERROR", "PROOF_VERIFICATION_ERROR")
    assert "pinned" in proof.reason


def test_data_loss_refused_when_verifying(engine, loader):
    signer = Ed25519Signer.generate()
    signer.verification_method = f"did:key:{signer.public_multibase()}#{signer.public_multibase()}"
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": signer.verification_method.split("#")[0],
        "credentialSubject": {"id": "did:example:1"},
    }
    secured = engine.add_proof(doc, signer)
    assert engine.verify(secured).verified
    # An undefined term added after signing is not covered by the RDF signature: refused, not ignored.
    tampered = dict(secured, undefinedTerm="added later")
    proof = _err(engine, tampered)
    assert proof.error == "DATA_LOSS_DETECTION_ERROR" and "undefinedTerm" in proof.reason


@pytest.mark.parametrize(
    "doc,needle",
    [
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "foo": 1}, "foo"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "MadeUpType"]}, "MadeUpType"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"nested": {"x": 1}}}, "nested"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "relative/path", "type": ["VerifiableCredential"]}, "relative"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": "issuers/1"}, "relative"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "@foo": "x"}, "@foo"),
    ],
)
def test_data_loss_refused_when_signing(engine, doc, needle):
    signer = Ed25519Signer.generate()
    signer.verification_method = f"did:key:{signer.public_multibase()}#{signer.public_multibase()}"
    with pytest.raises(DataLossError) as err:
        engine.add_proof(doc, signer)
    assert needle in err.value.detail


def test_undefined_terms_context_is_not_data_loss(engine):
    # A document that opts into @vocab through the VC 2.0 undefined-terms context keeps its terms.
    signer = Ed25519Signer.generate()
    signer.verification_method = f"did:key:{signer.public_multibase()}#{signer.public_multibase()}"
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
        "type": ["VerifiableCredential"],
        "issuer": signer.verification_method.split("#")[0],
        "credentialSubject": {"favourite": "tea"},
    }
    assert engine.verify(engine.add_proof(doc, signer)).verified


def test_remote_context_never_fetched(engine):
    signer = Ed25519Signer.generate()
    signer.verification_method = f"did:key:{signer.public_multibase()}#{signer.public_multibase()}"
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2", "http://127.0.0.1:9/ctx"], "type": ["VerifiableCredential"]}
    with pytest.raises(ContextError):
        engine.add_proof(doc, signer)


@pytest.mark.parametrize(
    "text,exc",
    [
        ('{"a":1,"a":2}', ParsingError),
        ('{"a":NaN}', ParsingError),
        ('{"a":Infinity}', ParsingError),
        ('{"a":"\\ud800"}', ParsingError),
        ('{"a":9007199254740993}', RangeError),
        ('{"a":-9007199254740993}', RangeError),
        ('{"a":1e400}', RangeError),
        ("[" * 100 + "]" * 100, ParsingError),
        ("[" * 100_000 + "]" * 100_000, ParsingError),
        (b'{"a":"\xff"}', ParsingError),
        ("\ufeff{}", ParsingError),
    ],
)
def test_strict_json(text, exc):
    with pytest.raises(exc):
        strict_json.loads(text)


def test_jcs_refuses_numbers_beyond_2_53(engine):
    signer = Ed25519Signer.generate()
    signer.verification_method = f"did:key:{signer.public_multibase()}#{signer.public_multibase()}"
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:1"}}
    with pytest.raises(RangeError):
        engine.add_proof(dict(doc, credentialSubject={"id": "did:example:1", "n": 2**53 + 1}), signer, suite="eddsa-jcs-2022")


def test_unknown_suite_and_wrong_key_when_signing(engine):
    from app.keys import P256Signer

    signer = Ed25519Signer.generate()
    signer.verification_method = "did:key:x#x"
    doc = load_json(D / "unsigned.json")
    with pytest.raises(MicrocredError) as err:
        engine.add_proof(doc, signer, suite="eddsa-2099")
    assert err.value.code == "UNSUPPORTED_CRYPTOSUITE"
    p = P256Signer.generate()
    p.verification_method = "did:key:y#y"
    with pytest.raises(MicrocredError) as err:
        engine.add_proof(doc, p)
    assert err.value.code == "UNSUPPORTED_KEY_TYPE"


@pytest.mark.parametrize("value", ["z", "z6Mk", "zzzzz", "", "x6Mk", "z" + base58.b58encode(b"\xed\x01" + b"\x00" * 31).decode()])
def test_malformed_multibase(value):
    with pytest.raises(MicrocredError) as err:
        multikey.decode(value)
    assert err.value.code in ("INVALID_MULTIBASE", "INVALID_KEY_LENGTH", "UNSUPPORTED_KEY_TYPE")


# -- JCS: the fast path is RFC 8785 exactly

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.sampled_from([0.0, -0.0, 2.0, 1e21, 1e-7, 123456789.0, 0.1])
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json, max_size=5))
def test_jcs_fast_path_matches_rfc8785(document):
    import rfc8785

    from app.proofs.cryptosuites import jcs

    try:
        expected = rfc8785.dumps(document)
    except rfc8785.CanonicalizationError:
        with pytest.raises(MicrocredError):
            jcs(document, None, 0)
        return
    assert jcs(document, None, 0) == expected
