"""In-process signing and verification: microcred's pipeline against a pyld-only one, same run.

(a) the reference micro-credential (~3 KB JSON); (b) the same with 1,000 learning outcomes.
microcred: JSON-LD → RDF over contexts processed once (app/jsonld/to_rdf.py), bounded RDFC-1.0, Ed25519 (pynacl).
Reference: pyld ``normalize`` (URDNA2015 = RDFC-1.0) of document and proof configuration with the same
pinned loader (pyld caches resolved contexts), SHA-256, the same Ed25519 signature.
"""

from __future__ import annotations

import json
import statistics
import time
from hashlib import sha256
from pathlib import Path

import base58
import nacl.signing
from pyld import jsonld

from app.dids.resolver import DidResolver
from app.jsonld import ContextLoader
from app.keys import Ed25519Signer
from app.performance import tune_gc
from app.proofs import ProofEngine, vc_jose
from bench.credential import reference_credential

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(fn, *, min_runs: int = 5, budget: float = 2.0) -> float:
    fn()  # warm caches
    times = []
    started = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - started < budget and len(times) < 2000):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def paired_medians(ours, reference, *, min_pairs: int = 5, budget: float = 4.0) -> tuple[float, float]:
    """Medians of both pipelines, measured alternately (ours, reference, ours, …) so that the machine's
    noise falls on both alike; their ratio is the figure to trust."""
    ours()
    reference()
    a: list[float] = []
    b: list[float] = []
    started = time.perf_counter()
    while len(a) < min_pairs or (time.perf_counter() - started < budget and len(a) < 1000):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        reference()
        b.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)


class PyldOnly:
    """The reference pipeline: what a straightforward Python implementation does."""

    def __init__(self, loader: ContextLoader, signer: Ed25519Signer):
        self.options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader.pyld_loader, "safe": False}
        self.signer = signer

    def _hash(self, doc, proof):
        config = dict(proof, **{"@context": doc["@context"]})
        config.pop("proofValue", None)
        return sha256(jsonld.normalize(config, self.options).encode()).digest() + sha256(jsonld.normalize(doc, self.options).encode()).digest()

    def sign(self, doc, created):
        proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": created, "verificationMethod": self.signer.verification_method, "proofPurpose": "assertionMethod"}
        sig = self.signer.sign(self._hash(doc, proof))
        return dict(doc, proof=dict(proof, proofValue="z" + base58.b58encode(sig).decode()))

    def verify(self, secured):
        doc = {k: v for k, v in secured.items() if k != "proof"}
        proof = secured["proof"]
        nacl.signing.VerifyKey(self.signer.public_key()).verify(self._hash(doc, proof), base58.b58decode(proof["proofValue"][1:]))
        return True


def main(argv: list[str]) -> int:
    loader = ContextLoader(ROOT / "contexts")
    engine = ProofEngine(loader, DidResolver().dereference)
    signer = Ed25519Signer.generate()
    mb = signer.public_multibase()
    signer.verification_method = f"did:key:{mb}#{mb}"
    issuer = f"did:key:{mb}"
    ref = PyldOnly(loader, signer)
    tune_gc()  # as the service does at start-up (app/performance.py); both pipelines run under it
    created = "2026-06-30T10:00:00Z"
    rows = []
    results: dict[str, float] = {}
    for label, outcomes in (("a", 2), ("b", 1000)):
        doc = reference_credential(issuer, outcomes)
        size = len(json.dumps(doc))
        secured = engine.add_proof(doc, signer, created=created)
        ours_verified = engine.verify(secured)
        assert ours_verified.verified, ours_verified.as_dict()
        theirs = ref.sign(doc, created)
        assert theirs["proof"]["proofValue"] == secured["proof"]["proofValue"], "pyld and microcred disagree on the signature"
        budget = 4.0 if outcomes < 100 else 15.0
        sign_ours, sign_ref = paired_medians(lambda: engine.add_proof(doc, signer, created=created), lambda: ref.sign(doc, created), budget=budget)
        verify_ours, verify_ref = paired_medians(lambda: engine.verify(secured), lambda: ref.verify(secured), budget=budget)
        jcs = median_seconds(lambda: engine.add_proof(doc, signer, suite="eddsa-jcs-2022", created=created), budget=budget)
        jose = median_seconds(lambda: vc_jose.secure(doc, signer), budget=budget)
        results.update({f"{label}_sign_ratio": sign_ref / sign_ours, f"{label}_verify_ratio": verify_ref / verify_ours, f"{label}_jcs_per_s": 1 / jcs, f"{label}_jose_per_s": 1 / jose})
        rows.append((f"({label}) {outcomes} outcomes, {size:,} B", "eddsa-rdfc-2022 sign", sign_ours, sign_ref))
        rows.append((f"({label})", "eddsa-rdfc-2022 verify", verify_ours, verify_ref))
        rows.append((f"({label})", "eddsa-jcs-2022 sign", jcs, None))
        rows.append((f"({label})", "VC-JOSE EdDSA sign", jose, None))
    print(f"{'credential':<34} {'operation':<24} {'microcred':>12} {'pyld-only':>12} {'speed-up':>9} {'per s/core':>11}")
    for cred, op, ours, theirs in rows:
        ratio = f"{theirs / ours:8.1f}x" if theirs else ""
        print(f"{cred:<34} {op:<24} {ours * 1000:10.3f}ms {(theirs * 1000 if theirs else 0):10.3f}ms {ratio:>9} {1 / ours:11,.0f}")
    print()
    targets = [
        ("eddsa-rdfc-2022 sign (a) >= 3x pyld-only", results["a_sign_ratio"] >= 3),
        ("eddsa-rdfc-2022 sign (b) >= 10x pyld-only", results["b_sign_ratio"] >= 10),
        ("eddsa-rdfc-2022 verify (a) >= 3x pyld-only", results["a_verify_ratio"] >= 3),
        ("eddsa-jcs-2022 sign (a) >= 3,000/s", results["a_jcs_per_s"] >= 3000),
        ("VC-JOSE sign (a) >= 3,000/s", results["a_jose_per_s"] >= 3000),
    ]
    for name, ok in targets:
        print(f"{'met ' if ok else 'MISSED'}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main([]))
