"""Proofs: W3C Data Integrity (one algorithm-free engine, whole cryptosuites) and VC-JOSE.

``PROOF_FORMATS`` is the one list of what a provider can ask this service to secure a credential with:
the issuing Data Integrity suites, then VC-JOSE. The API schemas, the command line and the store read it.
"""

from app.proofs import jades, vc_jose
from app.proofs.cryptosuites import SUITES, Cryptosuite, suite_for_proof
from app.proofs.data_integrity import ProofEngine, ProofResult, VerificationResult

#: The media type of a credential secured with an embedded proof (VC DM 2.0 §6.3 / VC-JOSE-COSE §3).
LD_MEDIA_TYPE = "application/vc+ld+json"
#: The proof formats this service issues with, by the name a request gives them.
PROOF_FORMATS: tuple[str, ...] = (*(name for name, suite in SUITES.items() if suite.issues), vc_jose.PROOF_FORMAT)
#: The media type of a credential secured with each proof format.
MEDIA_TYPES: dict[str, str] = {name: (vc_jose.MEDIA_TYPE if name == vc_jose.PROOF_FORMAT else LD_MEDIA_TYPE) for name in PROOF_FORMATS}

__all__ = [
    "LD_MEDIA_TYPE",
    "MEDIA_TYPES",
    "PROOF_FORMATS",
    "SUITES",
    "Cryptosuite",
    "ProofEngine",
    "ProofResult",
    "VerificationResult",
    "suite_for_proof",
    "jades",
    "vc_jose",
]
