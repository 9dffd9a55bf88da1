"""JAdES-sealed credentials (ETSI TS 119 182-1: a JWS in the JSON serialization, ``{"payload", "signatures"}``),
as the European Commission's Europass issuer seals an EDC.

This verifier does not check JAdES seals yet (certificate chain to an EU trusted list, qualified time stamps):
such a credential gets an honest report, its credential read from the payload and its seal reported as not
checked (``indeterminate``, so never "verified"), instead of "not a verifiable credential".
"""

from __future__ import annotations

import base64
from typing import Any

from app import strict_json
from app.errors import MicrocredError
from app.verification.report import Check, Report

MAX_HEADER = 256 * 1024


def is_jades(document: Any) -> bool:
    """A JWS JSON serialization (RFC 7515 §7.2): general (``signatures``) or flattened (``protected``+``signature``)."""
    return isinstance(document, dict) and "payload" in document and ("signatures" in document or "signature" in document)


def _header(signature: dict[str, Any]) -> dict[str, Any]:
    protected = signature.get("protected")
    if not isinstance(protected, str) or len(protected) > MAX_HEADER:
        return {}
    try:
        header = strict_json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)), max_depth=16)
    except (ValueError, MicrocredError):
        return {}
    return header if isinstance(header, dict) else {}


def _payload(document: dict[str, Any], header: dict[str, Any]) -> dict[str, Any] | None:
    raw = document.get("payload")
    if not isinstance(raw, str):
        return None
    try:
        data = raw.encode() if header.get("b64") is False else base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        value = strict_json.loads(data)
    except (ValueError, MicrocredError):
        return None
    return value if isinstance(value, dict) else None


def jades_report(document: dict[str, Any], well_formed) -> Report:
    """The report of a JAdES-sealed credential: well-formedness of the payload, the seal not checked."""
    signatures = document.get("signatures") if "signatures" in document else [document]
    signatures = [s for s in signatures if isinstance(s, dict)] if isinstance(signatures, list) else []
    header = _header(signatures[0]) if signatures else {}
    credential = _payload(document, header)
    issuer = credential.get("issuer") if credential else None
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    report = Report("credential", "jades", credential=credential, issuer=issuer if isinstance(issuer, str) else None)
    if credential is None:
        report.checks.append(Check("well_formed", "failed", "the JAdES payload is not a JSON credential", "PARSING_ERROR"))
    else:
        report.checks.append(well_formed(credential))
    alg = header.get("alg")
    details = {
        "alg": str(alg)[:20] if alg else None,
        "signatures": len(signatures),
        "signingTime": header.get("sigT"),
        "certificates": len(header["x5c"]) if isinstance(header.get("x5c"), list) else 0,
    }
    report.checks.append(
        Check(
            "proof",
            "indeterminate",
            "the credential is sealed with JAdES (an eIDAS e-seal: JWS JSON serialization with an X.509 certificate); "
            "this verifier does not check JAdES seals yet, so its authenticity is not established",
            "UNSUPPORTED_PROOF_FORMAT",
            {k: v for k, v in details.items() if v is not None},
        )
    )
    return report
