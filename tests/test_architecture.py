"""The shape of the house, kept: each package's public face, no private name imported across modules,
no function too complex to read (radon grade E or F), the style (ruff) and the import contracts
(``.importlinter``). `.ci/run` runs these with the suite, on both databases.

A change to a face is deliberate: update the list here in the same commit, and docs/architecture.md.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for folder in ("app", "wallet_demo") for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]

FACES = {
    "app.credentials": [
        "ElementResult",
        "FORMATS",
        "IssuerProfile",
        "MicroCredentialInput",
        "MicroCredentialSpecification",
        "RENDERERS",
        "credential_format",
        "eu_completeness",
        "issue_from_specification",
        "mandatory_score",
        "merge_specification",
        "render_edc",
        "render_ob3",
        "specification_of",
        "issuance_pointers",
        "summary",
        "validate_input",
        "validate_specification",
        "warnings",
    ],
    "app.holder": [
        "Card",
        "Gone",
        "PdfCredentialError",
        "SHARE_DEFAULT_DAYS",
        "SHARE_MAX_DAYS",
        "Wallet",
        "coarse_agent",
        "extract_credential_from_pdf",
        "normalize_email",
        "render_pdf",
        "safe_next",
    ],
    "app.issuance": [
        "ApiKey",
        "BatchRequest",
        "BatchRunner",
        "Catalogue",
        "Entries",
        "Issuance",
        "Issued",
        "ProviderRecord",
        "Providers",
        "SIGN_ON_LOOP_MAX_BYTES",
        "StatusLists",
        "parse_csv_request",
        "parse_json_request",
    ],
    "app.jsonld": ["Canonicalized", "ContextLoader", "canonicalize", "to_quads"],
    "app.keys": [
        "ED25519",
        "Ed25519Signer",
        "FileKeyStore",
        "KeyStores",
        "P256",
        "P256Signer",
        "Pkcs11KeyStore",
        "Pkcs11Signer",
        "Signer",
        "signer_from_secret",
        "store_of",
    ],
    "app.keys.methods": ["PublicKey", "public_key_from_method"],
    "app.proofs": [
        "Cryptosuite",
        "LD_MEDIA_TYPE",
        "MEDIA_TYPES",
        "PROOF_FORMATS",
        "ProofEngine",
        "ProofResult",
        "SUITES",
        "VerificationResult",
        "jades",
        "suite_for_proof",
        "vc_jose",
    ],
    "app.status.entries": ["bitstring_entry"],
    "app.status.permutation": ["FEISTEL_ROUNDS", "permute_index"],
    "app.store": [
        "Database",
        "Page",
        "batches",
        "challenges",
        "create_db_engine",
        "credentials",
        "current_revision",
        "downgrade",
        "idempotency",
        "normalize_url",
        "oid4vci",
        "open_database",
        "presentation_requests",
        "providers",
        "recovery",
        "seals",
        "specifications",
        "status",
        "upgrade",
        "wallet",
    ],
    "app.vcdm": ["STATUS_V1", "VC1", "VC2", "base_context", "contexts", "issuer_id", "subject_id", "types"],
    "app.verification": ["Check", "NotACredential", "Report", "Verifier", "verify_input"],
}


@pytest.mark.parametrize("package", sorted(FACES))
def test_each_package_shows_the_face_it_is_known_by(package):
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(FACES[package])
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"


def test_no_private_name_is_imported_from_another_module():
    offending = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("app", "wallet_demo"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offending.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{alias.name}")
    assert not offending, "\n".join(offending)


def test_no_function_is_graded_e_or_f_by_radon():
    from radon.complexity import cc_rank, cc_visit

    too_complex = []
    for path in SOURCES:
        for block in cc_visit(path.read_text()):
            if cc_rank(block.complexity) in ("E", "F"):
                too_complex.append(f"{path.relative_to(ROOT)}:{block.lineno} {block.name} {cc_rank(block.complexity)} ({block.complexity})")
    assert not too_complex, "\n".join(too_complex)


def test_the_style_holds():
    """ruff over the repository (rules and line length in pyproject.toml)."""
    out = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_the_import_contracts_hold():
    """lint-imports over .importlinter (also run on its own by .ci/run): layers, no SQL or HTTP in the domain."""
    out = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
