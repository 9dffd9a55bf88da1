"""Proofs: W3C Data Integrity (one engine, several cryptosuites) and VC-JOSE."""

from app.proofs.cryptosuites import SUITES, Cryptosuite
from app.proofs.data_integrity import ProofEngine, ProofResult, VerificationResult

__all__ = ["SUITES", "Cryptosuite", "ProofEngine", "ProofResult", "VerificationResult"]
