"""The EU completeness check: which Annex I elements of Council Recommendation 2022/C 243/02 a credential carries.

Reported beside the verdict (not blocking): a credential can be authentic and still lack a mandatory
element. Runs on what the issuer signed (after the proof checks), through ``app.credentials.eu_completeness``.
"""

from __future__ import annotations

from typing import Any

from app.credentials import eu_completeness, mandatory_score
from app.credentials.completeness import credential_format
from app.verification.report import Check


def completeness_check(credential: dict[str, Any]) -> Check:
    if credential_format(credential) == "unknown":
        return Check("eu_completeness", "skipped", "not an EU micro-credential (neither Europass EDC nor Open Badges 3.0)")
    try:
        results = eu_completeness(credential)
    except Exception as exc:  # a reader meeting a value of an unexpected shape: report, never fail the request
        return Check(
            "eu_completeness", "indeterminate", f"the credential's content could not be read against Annex I ({type(exc).__name__})", "MALFORMED_VALUE_ERROR"
        )
    present, total = mandatory_score(results)
    elements = [{"key": r.key, "element": r.element, "mandatory": r.mandatory, "present": r.present} for r in results]
    missing = [r.element for r in results if r.mandatory and not r.present]
    optional = sum(r.present for r in results if not r.mandatory)
    details = {"mandatory": f"{present} of {total}", "optional": f"{optional} of {len(results) - total}", "elements": elements}
    if present == total:
        return Check(
            "eu_completeness",
            "passed",
            f"all {total} mandatory EU micro-credential elements present ({optional} of {len(results) - total} optional)",
            details=details,
        )
    return Check(
        "eu_completeness",
        "indeterminate",
        f"{present} of {total} mandatory EU micro-credential elements present; missing: {', '.join(missing)}",
        "EU_ELEMENTS_MISSING",
        details,
    )
