"""The verification report: one entry per check, each passed, failed, indeterminate or skipped.

security-notes.md "The response contract": a report has ``verified`` and one entry per check (signature,
issuer binding, contexts, validity period, status, issuer trust, EU completeness), with a reason a person
can read and, on failure, the standards' error name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Literal

Outcome = Literal["passed", "failed", "indeterminate", "skipped"]

#: checks whose failure (or indeterminacy) means "not verified"; trust and completeness are reported beside
BLOCKING = (
    "well_formed",
    "proof",
    "seal_certificate",
    "seal_trusted_list",
    "issuer_binding",
    "holder_binding",
    "challenge",
    "validity",
    "status",
    "type_metadata",
)


@dataclass
class Check:
    id: str
    outcome: Outcome
    reason: str
    code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in (("id", self.id), ("outcome", self.outcome), ("reason", self.reason), ("code", self.code)):
            if value is not None:
                out[name] = value
        if self.details:
            out["details"] = _plain(self.details)
        return out


_LEAVES = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """A copy of ``value``'s dicts, lists and tuples (dataclasses as dicts), sharing the immutable leaves: what
    ``dataclasses.asdict`` gave, without its ``deepcopy`` of every string and number, which cost a verification
    reply more than its signature checks (two reports of some twenty checks each for an OpenID4VP answer)."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    return value


@dataclass
class Report:
    kind: str  # credential | presentation
    format: str  # data-integrity | vc+jwt
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    issuer: str | None = None
    credentials: list[Report] = field(default_factory=list)  # a presentation's credentials

    @property
    def verified(self) -> bool:
        own = all(c.outcome in ("passed", "skipped") for c in self.checks if c.id in BLOCKING)
        return own and all(r.verified for r in self.credentials)

    @property
    def warnings(self) -> list[str]:
        return [c.reason for c in self.checks if c.id not in BLOCKING and c.outcome != "passed"]

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def as_dict(self) -> dict[str, Any]:
        failing = [c for c in self.checks if c.id in BLOCKING and c.outcome in ("failed", "indeterminate")]
        out: dict[str, Any] = {
            "verified": self.verified,
            "kind": self.kind,
            "format": self.format,
            "verdict": "valid" if self.verified and not self.warnings else ("valid with warnings" if self.verified else "not valid"),
            "checks": [c.as_dict() for c in self.checks],
            "errors": [{"check": c.id, "code": c.code, "reason": c.reason} for c in failing],
            "warnings": self.warnings,
        }
        if self.issuer:
            out["issuer"] = self.issuer
        if self.credential is not None:
            out["credential"] = self.credential
        if self.credentials:
            out["credentials"] = [r.as_dict() for r in self.credentials]
        return out
