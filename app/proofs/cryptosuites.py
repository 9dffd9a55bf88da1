"""The cryptosuites: whole, small objects, not a class hierarchy (Digital Bazaar's data-integrity shape).

A suite names its proof ``type`` and ``cryptosuite``, its key type, how it turns a document (or a proof
configuration) into canonical bytes, whether the proof keeps its ``@context``, and how it makes and
checks a ``proofValue``. The engine (``data_integrity.ProofEngine``) knows no algorithm: adding a suite
(``ecdsa-rdfc-2019`` with P-256, a suite whose key lives in an HSM) is one object and one registry line.

- ``eddsa-rdfc-2022``: VC-DI-EDDSA §3.3 (RDFC-1.0 canonical N-Quads, SHA-256, Ed25519).
- ``eddsa-jcs-2022``: VC-DI-EDDSA §3.4 (JCS, RFC 8785).
- ``Ed25519Signature2020``: the CCG Ed25519Signature2020 suite (URDNA2015 = RDFC-1.0).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rfc8785

from app.errors import CryptoError, MalformedValueError, ProofError, RangeError
from app.jsonld import ContextLoader, canonicalize, to_quads
from app.keys import multikey
from app.keys.methods import PublicKey
from app.keys.signer import ED25519, Signer

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


@dataclass(frozen=True)
class Cryptosuite:
    #: the name a caller selects the suite by (the ``cryptosuite`` value, or the legacy proof type)
    name: str
    proof_type: str
    #: the ``cryptosuite`` property, ``None`` for suites that predate it
    cryptosuite: str | None
    #: ``canonicalize(document, loader, budget) -> bytes``
    canonicalize: Callable[[dict[str, Any], ContextLoader, int], bytes]
    #: JCS proofs carry the document's ``@context`` (VC-DI-EDDSA §3.4.6 step 4); RDFC ones do not
    proof_keeps_context: bool
    #: the key type that signs and verifies (``app.keys.ED25519``, ``app.keys.P256``)
    key_type: str
    #: the suite's transformation expands the document to RDF (and so refuses data loss while hashing)
    expands_rdf: bool
    #: a context the secured document must carry for the proof's terms to be defined
    required_context: str | None = None
    #: this service issues with the suite (legacy suites are verified only)
    issues: bool = True

    def sign(self, signer: Signer, data: bytes) -> str:
        """The ``proofValue`` (VC-DI-EDDSA §3.3.6 / §3.4.6 Proof Serialization): multibase base58btc."""
        if signer.key_type != self.key_type:
            raise ProofError(f"{self.name} signs with {self.key_type} keys, not {signer.key_type}", code="UNSUPPORTED_KEY_TYPE")
        return "z" + multikey.b58encode(signer.sign(data))

    def decode(self, proof_value: str) -> bytes:
        """VC-DI-EDDSA §3.3.2 / §3.4.2 step 1: the signature bytes of a ``proofValue`` (checked before any hashing)."""
        return decode_proof_value(proof_value)

    def verify(self, key: PublicKey, data: bytes, signature: bytes) -> None:
        """VC-DI-EDDSA §3.3.2 / §3.4.2, the last step: check ``signature`` (from ``decode``) over ``data``."""
        if key.key_type != self.key_type:
            raise ProofError(f"{self.name} verifies with {self.key_type} keys, not {key.key_type}", code="INVALID_VERIFICATION_METHOD")
        if not key.verify(data, signature):
            raise ProofError("the signature does not match the document", code="PROOF_VERIFICATION_ERROR")


def decode_proof_value(value: str) -> bytes:
    """An Ed25519 signature from its multibase base58btc ``proofValue`` (VC-DI-EDDSA §2.2.1), canonical form only."""
    # The length is checked before decoding (app.keys.multikey): base58 decoding is quadratic, and a 64 KB
    # proofValue took seconds of CPU to refuse.
    try:
        raw = multikey.decode_multibase_base58btc(value, max_bytes=64, what="proofValue")
    except CryptoError as exc:
        raise ProofError(exc.detail, code="MALFORMED_PROOF_ERROR") from None
    if len(raw) != 64:
        raise ProofError(f"an Ed25519 signature is 64 bytes, proofValue holds {len(raw)}", code="MALFORMED_PROOF_ERROR")
    # base58 is not canonical for leading zero bytes written another way; re-encode to be sure.
    if "z" + multikey.b58encode(raw) != value:
        raise ProofError("proofValue is not in canonical base58btc form", code="MALFORMED_PROOF_ERROR")
    return raw


def rdfc(document: dict[str, Any], loader: ContextLoader, budget: int) -> bytes:
    """RDFC-1.0 canonical N-Quads of the document's RDF dataset, refusing data loss."""
    return canonicalize(to_quads(document, loader), budget=budget).nquads.encode()


_SAFE = 2**53


def _jcs_ready(value: Any) -> Any:
    r"""``value`` in a form whose ``json.dumps`` output *is* its RFC 8785 serialization, or ``None``.

    Holds when every object key is ASCII (so code-point order is UTF-16 order, §3.2.3), every float is
    integral within ±2^53 (so ECMAScript prints it as an integer, §3.2.2.3; it is converted here), and
    every integer is within ±2^53. String escaping is the same in both (§3.2.2.2: only ", \ and control
    characters, lowercase hex). Anything else returns ``None`` and goes to the rfc8785 library.

    Objects and arrays copy their strings without a call each (most leaves of a credential are strings: 40 % less
    time on the issued Open Badge and EDC than a call per value); other values go through ``_jcs_value``.
    """
    kind = type(value)
    if kind is dict:
        out = {}
        for k, v in value.items():
            if not k.isascii():
                return None
            if type(v) is str:
                out[k] = v
                continue
            converted = _jcs_ready(v)
            if converted is None and v is not None:
                return None
            out[k] = converted
        return out
    if kind is list:
        items = []
        for v in value:
            if type(v) is str:
                items.append(v)
                continue
            converted = _jcs_ready(v)
            if converted is None and v is not None:
                return None
            items.append(converted)
        return items
    return _jcs_value(value)


def _jcs_value(value: Any) -> Any:
    """``_jcs_ready`` of anything but an exact dict or list (a subclass of one is read as one, as before)."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_SAFE < value < _SAFE else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and -_SAFE < value < _SAFE else None
    if isinstance(value, dict):
        return _jcs_ready(dict(value))
    if isinstance(value, list):
        return _jcs_ready(list(value))
    return None


def jcs(document: dict[str, Any], loader: ContextLoader, budget: int) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme; refuses numbers JCS cannot represent exactly.

    The common case (ASCII keys, integral numbers) is serialized by the C JSON encoder, about 4× faster
    than the rfc8785 library, which handles everything else; a property test checks they agree.
    """
    ready = _jcs_ready(document)
    if ready is not None:
        try:
            return json.dumps(ready, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 name the problem
    try:
        return rfc8785.dumps(document)
    except rfc8785.IntegerDomainError as exc:
        raise RangeError(f"JCS cannot sign this number exactly (RFC 8785 §3.2.2.3): {exc}", code="NUMBER_OUT_OF_RANGE") from None
    except rfc8785.CanonicalizationError as exc:
        raise MalformedValueError(f"document cannot be canonicalized with JCS: {exc}", code="JCS_ERROR") from None


EDDSA_RDFC_2022 = Cryptosuite("eddsa-rdfc-2022", "DataIntegrityProof", "eddsa-rdfc-2022", rdfc, proof_keeps_context=False, key_type=ED25519, expands_rdf=True)
EDDSA_JCS_2022 = Cryptosuite("eddsa-jcs-2022", "DataIntegrityProof", "eddsa-jcs-2022", jcs, proof_keeps_context=True, key_type=ED25519, expands_rdf=False)
ED25519_SIGNATURE_2020 = Cryptosuite(
    "Ed25519Signature2020",
    "Ed25519Signature2020",
    None,
    rdfc,
    proof_keeps_context=False,
    key_type=ED25519,
    expands_rdf=True,
    required_context=ED25519_2020_CONTEXT,
    issues=False,
)

SUITES: dict[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, EDDSA_JCS_2022, ED25519_SIGNATURE_2020)}


def suite_for_proof(proof: dict[str, Any]) -> Cryptosuite | None:
    """The allow-listed suite a proof names, or ``None``."""
    ptype = proof.get("type")
    if ptype == "DataIntegrityProof":
        suite = SUITES.get(proof.get("cryptosuite")) if isinstance(proof.get("cryptosuite"), str) else None
        return suite if suite and suite.proof_type == "DataIntegrityProof" else None
    if ptype == "Ed25519Signature2020" and "cryptosuite" not in proof:
        return ED25519_SIGNATURE_2020
    return None
