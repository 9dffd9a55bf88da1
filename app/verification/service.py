"""The verifier as a service: the W3C VC API's verify operations and challenges, over the pipeline and the store.

VC API §3.3 (Verifying): ``verifyCredential`` takes ``verifiableCredential`` (a Data Integrity credential,
a compact vc+jwt, or a VC 2.0 §4.13 EnvelopedVerifiableCredential); ``verifyPresentation`` takes
``verifiablePresentation`` and ``options.challenge``/``options.domain``; ``createChallenge`` hands out
a challenge. No HTTP here: the router maps ``NotACredential``/``MicrocredError`` to 400 problem+json,
a report to 200 (verified) or 422 (not verified).

Challenges from ``POST /challenges`` are single-use and live in the database (``app.store.challenges``) so every
worker process accepts one exactly once: a replayed presentation fails with INVALID_CHALLENGE_ERROR. A challenge
this verifier did not issue is the caller's own (VC API verifyPresentation ``options.challenge``): the proof must
carry it, and the report says that its freshness is the caller's to judge. ``options.checks: ["proof"]`` checks
well-formedness and the proofs only, and the report says so (a ``scope`` entry).
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from app.errors import MalformedValueError
from app.store import challenges
from app.vcdm import types as _types
from app.verification.jades import is_jades
from app.verification.pipeline import NotACredential, Verifier
from app.verification.report import BLOCKING as BLOCKING_IDS
from app.verification.report import Check, Report
from app.xsd import format_datetime_stamp

MAX_CHALLENGE = 64
MAX_DOMAIN = 253


class VerificationService:
    def __init__(self, verifier: Verifier, db, settings):
        self.verifier = verifier
        self.db = db
        self.settings = settings

    # -- credentials

    def verify_credential(self, vc: Any, options: Any = None) -> Report:
        """One credential in any of the four shapes; ``NotACredential`` for anything else. For an SD-JWT VC,
        ``options.nonce`` and ``options.aud`` (or ``challenge`` / ``domain``) are what its Key Binding JWT must carry
        (RFC 9901 §7.3), and naming them requires one."""
        proof_only = proof_only_requested(options)
        return _scoped(self._verify_credential(vc, proof_only, options), proof_only)

    def _verify_credential(self, vc: Any, proof_only: bool, options: Any) -> Report:
        if isinstance(vc, str):
            kind, value = self.verifier.parse(vc)
            if kind == "sd-jwt":
                nonce, aud = _key_binding_options(options)
                return _counted(self.verifier.verify_sd_jwt(value, nonce=nonce, aud=aud))
            if kind != "jwt":
                raise NotACredential("a string verifiableCredential must be a compact vc+jwt or an SD-JWT VC")
            return _counted(self.verifier.verify_jwt(value, proof_only=proof_only))
        if not isinstance(vc, dict):
            raise NotACredential("verifiableCredential must be an object or a compact JWT string")
        if is_jades(vc):  # a JAdES-sealed credential: its seal checked (app/verification/jades.py), not refused
            return _counted(self.verifier.verify(vc, proof_only=proof_only))
        types = _types(vc)
        if "VerifiablePresentation" in types:
            raise NotACredential("this is a presentation: send it to POST /presentations/verify")
        if "VerifiableCredential" not in types and "EnvelopedVerifiableCredential" not in types:
            raise NotACredential("the document's type does not include VerifiableCredential")
        return _counted(self.verifier.verify(vc, proof_only=proof_only))

    def verify_file(self, raw: bytes | str) -> Report:
        """A pasted or uploaded credential: JSON (bare, or the VC API request shape) or a compact JWT."""
        kind, value = self.verifier.parse(raw, max_bytes=self.settings.verify_upload_max_bytes)
        if kind == "json" and isinstance(value, dict) and "verifiableCredential" in value and "type" not in value:
            value = value["verifiableCredential"]
        return self.verify_credential(value)

    # -- presentations and challenges

    def new_challenge(self, domain: str | None = None) -> dict[str, Any]:
        """VC API createChallenge: 256 random bits, an expiry, and the domain the proof must name."""
        domain = domain or urllib.parse.urlsplit(self.settings.base_url).netloc or None
        if domain is not None and (not isinstance(domain, str) or len(domain) > MAX_DOMAIN):
            raise MalformedValueError(f"domain must be a string of at most {MAX_DOMAIN} characters", errors=[{"pointer": "/domain", "detail": "invalid"}])
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            challenges.purge(session, before=now - timedelta(hours=1))
            record = challenges.create(session, domain=domain, ttl=timedelta(seconds=self.settings.challenge_ttl_seconds), now=now)
        return {"challenge": record.challenge, "domain": record.domain, "expires": format_datetime_stamp(record.expires_at)}

    def verify_presentation(self, vp: Any, options: Any) -> Report:
        options = options if options is not None else {}
        if not isinstance(options, dict):
            raise MalformedValueError("options must be an object", errors=[{"pointer": "/options", "detail": "object"}])
        if not isinstance(vp, dict) or not {"VerifiablePresentation", "EnvelopedVerifiablePresentation"} & set(_types(vp)):
            raise NotACredential(
                "verifiablePresentation must be a JSON object whose type includes VerifiablePresentation or is EnvelopedVerifiablePresentation"
            )
        proof_only = proof_only_requested(options)
        challenge, domain = options.get("challenge"), options.get("domain")
        if not isinstance(challenge, str) or not 0 < len(challenge) <= MAX_CHALLENGE:
            raise MalformedValueError(
                "options.challenge is required: get one from POST /challenges, or pass your own",
                code="INVALID_CHALLENGE_ERROR",
                errors=[{"pointer": "/options/challenge", "detail": "required"}],
            )
        if domain is not None and (not isinstance(domain, str) or len(domain) > MAX_DOMAIN):
            raise MalformedValueError("options.domain must be a string", errors=[{"pointer": "/options/domain", "detail": "string"}])
        with self.db.read() as session:
            record = challenges.get(session, challenge)
        # The domain the proof must carry is the one the challenge was issued for.
        expected_domain = record.domain if record and record.domain else domain
        report = self.verifier.verify_presentation(vp, challenge=challenge, domain=expected_domain, proof_only=proof_only)
        report.checks.insert(self._after_proof(report), self._challenge_check(report, record, challenge, domain))
        return _scoped(_counted(report), proof_only)

    @staticmethod
    def _after_proof(report: Report) -> int:
        ids = [c.id for c in report.checks]
        return ids.index("proof") + 1 if "proof" in ids else len(ids)

    def _challenge_check(self, report: Report, record, challenge: str, domain: str | None) -> Check:
        """VC-DI §2.1 and VC API verifyPresentation: a challenge from ``POST /challenges`` must be unexpired, for
        this domain, and unused, and using it uses it up; any other challenge is the caller's (``options.challenge``):
        the proof must carry it, and the caller answers for its freshness."""
        if record is None:
            proof = report.check("proof")
            if proof is None or proof.outcome != "passed":
                return Check("challenge", "skipped", "the presentation's proof does not verify")
            return Check(
                "challenge",
                "passed",
                "the proof carries the caller's challenge (not one from POST /challenges: its freshness is the caller's to judge)",
            )
        if domain is not None and record.domain is not None and domain != record.domain:
            return Check("challenge", "failed", f"the challenge was issued for domain {record.domain}, not {domain}", "INVALID_DOMAIN_ERROR")
        proof = report.check("proof")
        if proof is None or proof.outcome != "passed":
            return Check("challenge", "skipped", "not used up: the presentation's proof does not verify")
        with self.db.transaction() as session:
            consumed = challenges.consume(session, challenge)
        if consumed:
            return Check("challenge", "passed", "a fresh challenge from this verifier, now used up")
        if record.used_at is not None or record.expires_at > datetime.now(UTC):
            return Check("challenge", "failed", "the challenge has already been used: a replayed presentation", "INVALID_CHALLENGE_ERROR")
        return Check("challenge", "failed", "the challenge has expired", "INVALID_CHALLENGE_ERROR")


#: ``options.checks`` values (VC API verifyCredential/verifyPresentation) this verifier knows.
KNOWN_CHECKS = ("proof", "status", "credentialStatus", "validity", "expiration", "issuer", "holder", "challenge", "trust", "completeness")


def proof_only_requested(options: Any) -> bool:
    """VC API ``options.checks``: ``["proof"]`` asks for the proofs alone; absent or naming more, every check runs."""
    if not isinstance(options, dict) or "checks" not in options:
        return False
    checks = options["checks"]
    if not isinstance(checks, list) or len(checks) > len(KNOWN_CHECKS) or not all(isinstance(c, str) for c in checks):
        raise MalformedValueError("options.checks must be an array of check names", errors=[{"pointer": "/options/checks", "detail": "array of strings"}])
    unknown = [c for c in checks if c not in KNOWN_CHECKS]
    if unknown:
        raise MalformedValueError(
            f"options.checks names an unknown check: {unknown[0][:40]} (known: {', '.join(KNOWN_CHECKS)})",
            errors=[{"pointer": f"/options/checks/{checks.index(unknown[0])}", "detail": "unknown check"}],
        )
    return bool(checks) and set(checks) == {"proof"}


def _scoped(report: Report, proof_only: bool) -> Report:
    """Say in the report that only the proofs were checked (``options.checks: ["proof"]``)."""
    if proof_only:
        note = Check(
            "scope",
            "skipped",
            'options.checks ["proof"]: only well-formedness and the proofs were checked, not issuer or holder binding, validity, status or trust',
        )
        report.checks.append(note)
        for inner in report.credentials:
            inner.checks.append(note)
    return report


def _key_binding_options(options: Any) -> tuple[str | None, str | None]:
    """(nonce, aud) a Key Binding JWT must carry, from ``options`` (``nonce``/``aud``, or ``challenge``/``domain``)."""
    if options is None:
        return None, None
    if not isinstance(options, dict):
        raise MalformedValueError("options must be an object", errors=[{"pointer": "/options", "detail": "object"}])
    out = []
    for name, alias, limit in (("nonce", "challenge", MAX_CHALLENGE * 4), ("aud", "domain", 2048)):
        value = options.get(name, options.get(alias))
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise MalformedValueError(
                f"options.{name} must be a string of at most {limit} characters", errors=[{"pointer": f"/options/{name}", "detail": "string"}]
            )
        out.append(value)
    return out[0], out[1]


def public_report(report: Report) -> dict[str, Any]:
    """The report for API clients: without the credential bodies they sent (no personal data echoed back)."""
    return without_bodies(report.as_dict())


def without_bodies(rendered: dict[str, Any]) -> dict[str, Any]:
    """``public_report`` of an already rendered report, without changing it: the same dicts minus the credentials'
    bodies. A module function, not a recursive closure: that was a reference cycle per call, garbage that only a
    full collection frees (tune_gc() makes those rare; the soak of 2026-12-01 saw it accumulate)."""
    out = {k: v for k, v in rendered.items() if k != "credential"}
    if "credentials" in out:
        out["credentials"] = [without_bodies(inner) for inner in out["credentials"]]
    return out


def _counted(report: Report) -> Report:
    """Count the report in ``microcred_verifications_total`` (outcome, first failing check: bounded labels)."""
    from app.observability import VERIFICATIONS, audit

    failing = next((c for c in report.checks if c.outcome in ("failed", "indeterminate") and c.id in BLOCKING_IDS), None)
    outcome = "verified" if report.verified else (failing.outcome if failing else "failed")
    VERIFICATIONS.labels(outcome, failing.id if failing else "none").inc()
    if failing is not None and failing.outcome == "failed" and failing.id in ("proof", "issuer_binding"):
        # A forged or altered credential, or one signed by a key its named issuer does not control: recorded,
        # with the issuer it claims (an institution's identifier, not a person's) and the standard error code.
        audit("credential_refused", check=failing.id, code=failing.code, issuer=(report.issuer or "")[:200])
    return report
