"""W3C Verifiable Credential Data Integrity 1.0: one proof engine for every cryptosuite.

``add_proof`` implements VC-DI §4.2 (Add Proof) with the suite's transformation, hashing (§3.3.4 /
§3.4.4 of VC-DI-EDDSA: SHA-256 of the canonical proof configuration, then of the canonical document)
and the suite's signature. ``verify`` implements §4.4 (Verify Proof) for every proof of a proof set (§2.1.2),
including proof chains through ``previousProof``, and returns one structured result per proof with
the standards' error names instead of raising.

Key material is never taken from the document: the engine asks ``resolve_method(vm_id)`` for the
verification method and the document that controls it (a DID document); ``app.keys.methods`` reads
the public key of the suite's key type out of it. The engine knows no algorithm: the suite signs and checks.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

from app.dids.resolver import relationship_allows
from app.errors import CryptoError, DidResolutionError, FetchError, MicrocredError, ProofError
from app.jsonld import ContextLoader
from app.keys.methods import public_key_from_method
from app.keys.signer import Signer
from app.proofs.cryptosuites import SUITES, Cryptosuite, suite_for_proof
from app.vcdm import VC2, contexts
from app.xsd import format_datetime_stamp, parse_datetime_stamp

DI_CONTEXT = "https://w3id.org/security/data-integrity/v2"
#: contexts that define DataIntegrityProof, cryptosuite and proofValue
_DI_DEFINING = {VC2, DI_CONTEXT, "https://w3id.org/security/data-integrity/v1"}
#: tolerated clock skew for a proof ``created`` in the future
CLOCK_SKEW = timedelta(minutes=5)
#: Most proofs of one proof set or chain (VC-DI §2.1.2) that are verified. Each proof canonicalizes the
#: whole document again, so the count multiplies the cost of a body; real proof sets hold one to three.
MAX_PROOFS = 4

ResolveMethod = Callable[[str], tuple[dict[str, Any], dict[str, Any]]]


@dataclass
class ProofResult:
    """One proof's outcome: what it claims, and on failure the standard error name and a reason."""

    verified: bool
    type: str | None = None
    cryptosuite: str | None = None
    verification_method: str | None = None
    proof_purpose: str | None = None
    created: str | None = None
    #: the DID (or other controller document id) that controls the verification method
    controller: str | None = None
    #: the controller document lists the method under the proof's purpose (assertionMethod, authentication)
    purpose_authorized: bool = False
    error: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class VerificationResult:
    verified: bool
    proofs: list[ProofResult] = field(default_factory=list)
    error: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verified": self.verified, "proofs": [p.as_dict() for p in self.proofs]}
        if self.error:
            out["error"], out["reason"] = self.error, self.reason
        return out


@dataclass
class HashData:
    """The intermediate values of VC-DI-EDDSA §3.3.4 / §3.4.4, exposed so the vectors can be checked."""

    canonical_proof_config: bytes
    canonical_document: bytes

    @property
    def proof_hash(self) -> bytes:
        return sha256(self.canonical_proof_config).digest()

    @property
    def document_hash(self) -> bytes:
        return sha256(self.canonical_document).digest()

    @property
    def combined(self) -> bytes:
        return self.proof_hash + self.document_hash


class ProofEngine:
    """Adds and verifies Data Integrity proofs over the pinned contexts."""

    def __init__(self, loader: ContextLoader, resolve_method: ResolveMethod, *, budget: int = 10_000, clock: Callable[[], datetime] | None = None):
        self.loader = loader
        self.resolve_method = resolve_method
        self.budget = budget
        self.clock = clock or (lambda: datetime.now(UTC))
        # Canonical proof configurations repeat across a batch (same options, same second): keep a few.
        self._config_cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    # -- hashing (VC-DI-EDDSA §3.3.4 / §3.4.4)

    def _canonical_config(self, suite: Cryptosuite, config: dict[str, Any]) -> bytes:
        key = (suite.name, json.dumps(config, sort_keys=True))
        with self._lock:
            hit = self._config_cache.get(key)
        if hit is not None:
            return hit
        value = suite.canonicalize(config, self.loader, self.budget)
        with self._lock:
            self._config_cache[key] = value
            if len(self._config_cache) > 256:
                self._config_cache.popitem(last=False)
        return value

    def hash_data(self, suite: Cryptosuite, unsecured: dict[str, Any], proof_options: dict[str, Any]) -> HashData:
        """Proof configuration (§3.3.5: the options with the document's ``@context``) and transformation."""
        config = {k: v for k, v in proof_options.items() if k != "proofValue"}
        if "@context" in unsecured:
            config["@context"] = unsecured["@context"]
        return HashData(self._canonical_config(suite, config), suite.canonicalize(unsecured, self.loader, self.budget))

    # -- adding a proof (VC-DI §4.2)

    def add_proof(
        self,
        document: dict[str, Any],
        signer: Signer,
        *,
        suite: str = "eddsa-rdfc-2022",
        proof_purpose: str = "assertionMethod",
        created: str | None | bool = True,
        challenge: str | None = None,
        domain: str | None = None,
        expires: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A copy of ``document`` with one more proof. ``created=True`` stamps now; a string is used as is."""
        chosen = SUITES.get(suite)
        if chosen is None:
            raise ProofError(f"unknown cryptosuite {suite!r}; supported: {', '.join(SUITES)}", code="UNSUPPORTED_CRYPTOSUITE")
        if signer.key_type != chosen.key_type:
            raise ProofError(f"{suite} signs with {chosen.key_type} keys, not {signer.key_type}", code="UNSUPPORTED_KEY_TYPE")
        if not isinstance(document, dict):
            raise ProofError("only a JSON object can be secured", code="MALFORMED_VALUE_ERROR")
        secured = dict(document)  # only top-level members change: a shallow copy is enough
        existing = secured.pop("proof", None)
        ctx = contexts(secured)
        if chosen.required_context and chosen.required_context not in ctx:
            ctx.append(chosen.required_context)
            secured["@context"] = ctx
        elif chosen.proof_type == "DataIntegrityProof" and ctx and not _DI_DEFINING & {c for c in ctx if isinstance(c, str)}:
            # A VC 1.1 document (such as a Europass EDC) needs the Data Integrity context for these terms.
            ctx.append(DI_CONTEXT)
            secured["@context"] = ctx
        proof: dict[str, Any] = {"type": chosen.proof_type}
        if chosen.cryptosuite:
            proof["cryptosuite"] = chosen.cryptosuite
        if created is True:
            proof["created"] = format_datetime_stamp(self.clock())
        elif isinstance(created, str):
            parse_datetime_stamp(created, field="created")
            proof["created"] = created
        if expires:
            parse_datetime_stamp(expires, field="expires")
            proof["expires"] = expires
        if not signer.verification_method:
            raise ProofError("the signer has no verification method id", code="PROOF_GENERATION_ERROR")
        proof["verificationMethod"] = signer.verification_method
        proof["proofPurpose"] = proof_purpose
        if challenge is not None:
            proof["challenge"] = challenge
        if domain is not None:
            proof["domain"] = domain
        for k, v in (options or {}).items():
            if k in ("proofValue", "type", "cryptosuite"):
                raise ProofError(f"proof option {k} is set by the engine", code="PROOF_GENERATION_ERROR")
            proof[k] = v
        if chosen.proof_keeps_context and "@context" in secured:
            proof["@context"] = secured["@context"]
        unsecured = dict(secured)
        previous = proof.get("previousProof")
        if previous and existing:
            unsecured["proof"] = self._previous(existing, previous)
        data = self.hash_data(chosen, unsecured, proof)
        proof["proofValue"] = chosen.sign(signer, data.combined)
        if existing is None:
            secured["proof"] = proof
        else:
            secured["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
        return secured

    @staticmethod
    def _previous(existing: Any, previous: Any) -> list[dict[str, Any]]:
        proofs = existing if isinstance(existing, list) else [existing]
        wanted = previous if isinstance(previous, list) else [previous]
        found = [p for p in proofs if isinstance(p, dict) and p.get("id") in wanted]
        if len(found) != len(wanted):
            raise ProofError("previousProof names a proof that is not in the document", code="MALFORMED_PROOF_ERROR")
        return found

    # -- verifying (VC-DI §4.4, VC-DI-EDDSA §3.3.2 / §3.4.2)

    def verify(
        self,
        document: Any,
        *,
        expected_purpose: str = "assertionMethod",
        challenge: str | None = None,
        domain: str | None = None,
    ) -> VerificationResult:
        if not isinstance(document, dict):
            return VerificationResult(False, error="PARSING_ERROR", reason="a secured document must be a JSON object")
        raw = document.get("proof")
        if raw is None:
            return VerificationResult(False, error="PROOF_VERIFICATION_ERROR", reason="the document has no proof")
        proofs = raw if isinstance(raw, list) else [raw]
        if not proofs:
            return VerificationResult(False, error="PROOF_VERIFICATION_ERROR", reason="the document's proof set is empty")
        if len(proofs) > MAX_PROOFS:
            reason = f"the proof set holds {len(proofs)} proofs; at most {MAX_PROOFS} are verified"
            return VerificationResult(False, error="MALFORMED_PROOF_ERROR", reason=reason)
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        results = [self._verify_one(unsecured, proof, proofs, expected_purpose, challenge, domain) for proof in proofs]
        verified = all(r.verified for r in results)
        if verified:
            return VerificationResult(True, results)
        first = next(r for r in results if not r.verified)
        return VerificationResult(False, results, first.error, first.reason)

    def _verify_one(self, unsecured, proof, all_proofs, expected_purpose, challenge, domain) -> ProofResult:
        if not isinstance(proof, dict):
            return ProofResult(False, error="MALFORMED_PROOF_ERROR", reason="a proof must be a JSON object")
        result = ProofResult(
            False,
            type=_str(proof.get("type")),
            cryptosuite=_str(proof.get("cryptosuite")),
            verification_method=_str(proof.get("verificationMethod")),
            proof_purpose=_str(proof.get("proofPurpose")),
            created=_str(proof.get("created")),
        )
        try:
            self._check(unsecured, proof, all_proofs, expected_purpose, challenge, domain, result)
            result.verified = True
        except MicrocredError as exc:
            result.error, result.reason = _standard_code(exc), exc.detail
        return result

    def _check(self, unsecured, proof, all_proofs, expected_purpose, challenge, domain, result: ProofResult) -> None:
        suite = suite_for_proof(proof)
        if suite is None:
            raise ProofError(
                f"proof type {str(proof.get('type'))[:60]} / cryptosuite {str(proof.get('cryptosuite'))[:60]} is not supported (allowed: {', '.join(SUITES)})",
                code="PROOF_VERIFICATION_ERROR",
            )
        for required in ("verificationMethod", "proofPurpose", "proofValue"):
            if not isinstance(proof.get(required), str) or not proof[required]:
                raise ProofError(f"proof lacks {required}", code="MALFORMED_PROOF_ERROR")
        if proof["proofPurpose"] != expected_purpose:
            raise ProofError(f"proof purpose is {proof['proofPurpose'][:40]}, expected {expected_purpose}", code="MISMATCHED_PROOF_PURPOSE_ERROR")
        now = self.clock()
        if "created" in proof:
            if parse_datetime_stamp(proof["created"], field="proof created") > now + CLOCK_SKEW:
                raise ProofError("proof created date is in the future", code="PROOF_VERIFICATION_ERROR")
        if "expires" in proof and parse_datetime_stamp(proof["expires"], field="proof expires") < now:
            raise ProofError("proof has expired", code="PROOF_VERIFICATION_ERROR")
        if challenge is not None and proof.get("challenge") != challenge:
            raise ProofError("proof challenge does not match the expected challenge", code="INVALID_CHALLENGE_ERROR")
        if domain is not None:
            got = proof.get("domain")
            if not (got == domain or (isinstance(got, list) and domain in got)):
                raise ProofError("proof domain does not match the expected domain", code="INVALID_DOMAIN_ERROR")
        signature = suite.decode(proof["proofValue"])
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        document = dict(unsecured)
        if "@context" in options:
            # VC-DI-EDDSA §3.3.2 step 4 / §3.4.2: the document's contexts must start with the proof's.
            pctx, dctx = contexts(options), contexts(document)
            if dctx[: len(pctx)] != pctx:
                raise ProofError("the proof's @context does not match the document's", code="PROOF_VERIFICATION_ERROR")
            document["@context"] = options["@context"]
        if "previousProof" in proof:
            document["proof"] = self._previous(all_proofs, proof["previousProof"])
        method_id = proof["verificationMethod"]
        method, controller_doc = self.resolve_method(method_id)
        public = public_key_from_method(method, suite.key_type)
        result.controller = _str(method.get("controller")) or _str(controller_doc.get("id"))
        result.purpose_authorized = relationship_allows(controller_doc, method_id, proof["proofPurpose"])
        suite.verify(public, self.hash_data(suite, document, options).combined, signature)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_KEEP = {
    "PROOF_VERIFICATION_ERROR",
    "MALFORMED_PROOF_ERROR",
    "MISMATCHED_PROOF_PURPOSE_ERROR",
    "INVALID_CHALLENGE_ERROR",
    "INVALID_DOMAIN_ERROR",
    "INVALID_VERIFICATION_METHOD",
    "DATA_LOSS_DETECTION_ERROR",
}


def _standard_code(exc: MicrocredError) -> str:
    """Map any domain error met while checking a proof to a Data Integrity error name (VC-DI §2.3)."""
    if exc.code in _KEEP:
        return exc.code
    if exc.code in ("CONTEXT_NOT_ALLOWED", "CONTEXT_DIGEST_MISMATCH", "INVALID_CONTEXT", "MISSING_CONTEXT"):
        return "PROOF_TRANSFORMATION_ERROR"
    if isinstance(exc, (DidResolutionError, FetchError, CryptoError)):
        return "INVALID_VERIFICATION_METHOD"
    if exc.code == "CANONICALIZATION_LIMIT_EXCEEDED":
        return "PROOF_TRANSFORMATION_ERROR"
    if exc.code in ("MALFORMED_VALUE_ERROR", "RANGE_ERROR"):
        return "MALFORMED_PROOF_ERROR"
    return "PROOF_VERIFICATION_ERROR"
