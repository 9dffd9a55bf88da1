"""Verification: the pipeline of checks and the report it returns."""

from __future__ import annotations

from typing import Any

from app.verification.pipeline import NotACredential, Verifier
from app.verification.report import Check, Report

__all__ = ["Check", "NotACredential", "Report", "Verifier", "verify_input"]


def verify_input(runtime, raw: bytes | str, *, proof_only: bool = False, challenge: str | None = None, domain: str | None = None) -> dict[str, Any]:
    """Verify raw input as the command line does: a report dict, or ``{"unusable": …}`` for non-credentials."""
    try:
        return runtime.verifier.verify(raw, proof_only=proof_only, challenge=challenge, domain=domain).as_dict()
    except NotACredential as exc:
        return {"verified": False, "unusable": True, "error": exc.code, "reason": exc.detail}
