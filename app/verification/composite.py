"""A composite (stacked) micro-credential as the verifier sees it: its tree of components and the state of each.

Issue 17. A composite records each component it was awarded over (app/credentials/composite.py: VC 2.0 §5.3
``relatedResource`` with ``digestSRI`` in OB3 and CLR, ELM ``hasPart`` in EDC). The ``composite`` check lists them,
and checks every component the verifier was shown with it (beside it in a presentation, or embedded in a CLR 2.0
``ClrSubject.verifiableCredential``; an SD-JWT VC as an EnvelopedVerifiableCredential ``data:application/dc+sd-jwt,…``
found by the RFC 6920 URI of its Issuer-signed JWT): the digest of its exact bytes against the one recorded, then its own
verification (signature, issuer binding, validity, status). It says which components were not presented.

The check is reported beside the blocking ones (like issuer trust): a component revoked after the composite was
issued does not make the composite's own signature or status wrong. It makes the composite a warning, whose reason
says what that means: the composite was awarded over that component while it stood, and its issuer has since
withdrawn it. A presented component whose digest differs is another credential than the one the composite was
awarded over (altered, or swapped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.credentials.composite import digest_sri, parts_of, sd_jwt_component_id
from app.verification.report import Check, Report

__all__ = ["Presented", "composite_check", "embedded_components", "presented_of"]

#: (digest of the exact bytes, report) of a component shown to the verifier, by credential id
Presented = dict[str, tuple[str, Report]]
#: the most components of a CLR that are verified (each is a verification of its own)
MAX_EMBEDDED = 32


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("en") or next((v for v in value.values() if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def embedded_components(credential: dict[str, Any]) -> list[Any]:
    """The components a CLR 2.0 carries (``credentialSubject.verifiableCredential``), at most ``MAX_EMBEDDED``."""
    subject = credential.get("credentialSubject")
    items = subject.get("verifiableCredential") if isinstance(subject, dict) else None
    items = items if isinstance(items, list) else [items] if items else []
    return items[:MAX_EMBEDDED]


def _state(recorded: str | None, digest: str, report: Report) -> tuple[str, str]:
    """(state, outcome) of one presented component."""
    if recorded and digest != recorded:
        return "digest differs", "failed"
    for check_id, state in (("well_formed", "not readable"), ("proof", "signature fails"), ("issuer_binding", "not signed by its issuer")):
        c = report.check(check_id)
        if c is not None and c.outcome == "failed":
            return state, "failed"
    status = report.check("status")
    if status is not None and status.outcome in ("failed", "indeterminate"):
        word = "suspended" if "suspend" in status.reason else "revoked" if status.outcome == "failed" else "status unknown"
        return word, "indeterminate"
    validity = report.check("validity")
    if validity is not None and validity.outcome == "failed":
        return "expired", "indeterminate"
    return ("verified", "passed") if report.verified else ("not verified", "indeterminate")


def composite_check(credential: dict[str, Any], presented: Presented) -> Check | None:
    """The ``composite`` check of ``credential``, or ``None`` when it is not a composite."""
    parts = parts_of(credential)
    if not parts:
        return None
    tree, outcomes, notes = [], [], []
    for p in parts:
        entry: dict[str, Any] = {k: p.get(k) for k in ("id", "title", "issuer", "issuerName", "ects", "digestSRI", "specification", "description")}
        got = presented.get(p["id"])
        if got is None:
            entry.update(presented=False, state="not presented")
        else:
            digest, report = got
            state, outcome = _state(p.get("digestSRI"), digest, report)
            entry.update(presented=True, state=state, verified=report.verified, issuer=entry.get("issuer") or report.issuer)
            entry["checks"] = [{"id": c.id, "outcome": c.outcome, "reason": c.reason} for c in report.checks]
            outcomes.append(outcome)
            name = _text(p.get("title")) or p["id"]
            if state == "digest differs":
                notes.append(f"{name}: the credential presented is not the one the composite was awarded over (its digest differs)")
            elif state in ("revoked", "suspended"):
                notes.append(
                    f"{name} was {state} by its issuer after the composite was issued: the composite was awarded over it while "
                    "it stood and remains as its issuer signed it, but that component no longer stands on its own; ask the issuers"
                )
            elif outcome != "passed":
                notes.append(f"{name}: {state}")
        tree.append({k: v for k, v in entry.items() if v is not None})
    shown = [t for t in tree if t["presented"]]
    missing = [_text(t.get("title")) or t["id"] for t in tree if not t["presented"]]
    ects = sum(t.get("ects") or 0 for t in tree)
    head = f"a composite of {len(tree)} components" + (f" ({ects:g} ECTS)" if ects else "")
    parts_said = [f"{len(shown)} presented"]
    if missing:
        parts_said.append("not presented: " + ", ".join(str(m)[:120] for m in missing))
    reason = f"{head}; " + "; ".join(parts_said)
    if notes:
        reason += ". " + ". ".join(notes)
    outcome = "failed" if "failed" in outcomes else "indeterminate" if "indeterminate" in outcomes else "passed"
    code = {"failed": "COMPONENT_MISMATCH", "indeterminate": "COMPONENT_WITHDRAWN"}.get(outcome)
    return Check("composite", outcome, reason, code, {"components": tree})


def presented_of(items: list[Any], reports: list[Report], token_of: Callable[[Any], Any]) -> Presented:
    """The components shown with a composite: each item's id, the digest of its exact bytes and its report."""
    out: Presented = {}
    for item, report in zip(items, reports, strict=False):
        credential = report.credential if isinstance(report.credential, dict) else None
        raw = token_of(item)
        if credential is not None and report.format == "sd-jwt" and isinstance(raw, str):
            # an SD-JWT VC has no id claim: a composite records it by its Issuer-signed JWT (RFC 6920 ni URI)
            out.setdefault(sd_jwt_component_id(raw), (digest_sri(raw), report))
            continue
        if credential is None or not isinstance(credential.get("id"), str):
            continue
        if isinstance(raw, (str, dict)):
            out.setdefault(credential["id"], (digest_sri(raw), report))
    return out
