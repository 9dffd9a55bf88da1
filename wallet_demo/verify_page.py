"""The employer's verification page: ``GET /verify`` shows the form, ``POST /verify`` the verdict.

What a person needs at a glance: valid / valid with warnings / not valid, each check with a reason in
plain words, and the credential's content as people read it (Annex I facts from ``summary()``, in the
credential's languages). Everything taken from the credential goes through Jinja2's autoescaping, and
the page runs no script at all (the base layout's CSP allows scripts from this origin only, and there
are none), so a credential cannot run code here.

CSRF: a signed double-submit cookie (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit
Cookie"): the form carries a random token, the HttpOnly SameSite=Strict cookie carries the token and
its HMAC; a post must bring both, matching. The HMAC key is shared by the worker processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from app import strict_json
from app.api.verifier import form_body, uploaded_text
from app.credentials import summary, vocab
from app.credentials.completeness import credential_format, vocabulary_labels
from app.credentials.completeness import facts as credential_facts
from app.credentials.logo import credential_logo
from app.errors import FetchError, MicrocredError, NotFoundError
from app.holder import Gone, extract_credential_from_pdf
from app.holder.pdf import QF_EHEA_CYCLES
from app.vcdm import types as vc_types
from app.verification import NotACredential
from app.verification.report import Check, Report
from wallet_demo import check_words, localized, templates
from wallet_demo.i18n import N_, date_words, gettext_for, language

router = APIRouter(include_in_schema=False)


def _identity(message: str) -> str:
    return message


COOKIE = "mc_verify_csrf"
LABELS = {
    "well_formed": N_("Readable credential"),
    "proof": N_("Signature"),
    "issuer_binding": N_("Signed by the named institution"),
    "holder_binding": N_("Presented by its holder"),
    "challenge": N_("Fresh presentation"),
    "disclosures": N_("Disclosed by the learner"),
    "validity": N_("Validity dates"),
    "status": N_("Not revoked or suspended"),
    "issuer_trust": N_("Recognised institution"),
    "eu_completeness": N_("EU micro-credential elements"),
    "composite": N_("Components of a composite"),
    "type_metadata": N_("Credential type"),
    "seal_certificate": N_("Seal certificate"),
    "seal_trusted_list": N_("On the EU trusted lists"),
    "scope": N_("What was checked"),
}
WORDS = {
    "passed": N_("✓ passed"),
    "failed": N_("✗ failed"),
    "indeterminate": N_("? unconfirmed"),
    "skipped": N_("– not applicable"),
    "not-run": N_("– not run"),
}
HEADLINES = {
    "valid": ("valid", N_("✓ Valid credential")),
    "valid with warnings": ("warnings", N_("! Valid, with warnings")),
    "not valid": ("invalid", N_("✗ Not valid")),
}
# The wallet's pages name the checks with the same words (wallet_credential.html).
templates.env.globals["CHECK_LABELS"] = LABELS
templates.env.globals["CHECK_WORDS"] = WORDS
check_words.install(templates.env)
#: The checks that establish authenticity: once one fails, what the credential says cannot be relied on.
AUTHENTICITY = ("well_formed", "proof", "issuer_binding")
NOT_RUN = N_("not run: the credential failed its authenticity check, so what it says cannot be relied on")
QF_EHEA = QF_EHEA_CYCLES
#: where the trust check found the institution (app/verification/trust.py), as the page says it
SOURCES = (N_("registry"), N_("provider of this service"))


class PageRefusal(Exception):
    """A request the page refuses, with the words it shows (already translated) and a 4xx status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _secret(settings) -> bytes:
    """The HMAC key: the setting, or a random key created once in keys_dir (atomically, for all workers)."""
    if settings.csrf_secret:
        return settings.csrf_secret.encode()
    path = Path(settings.keys_dir) / "csrf.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".csrf.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
        try:
            os.link(tmp, path)  # fails if another worker won the race: then its key is the key
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_bytes().strip()


def _sign(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def _cookie_token(request: Request, key: bytes) -> str | None:
    token, _, mac = request.cookies.get(COOKIE, "").partition(".")
    return token if token and hmac.compare_digest(mac, _sign(key, token)) else None


def _render(request: Request, *, status: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    key = _secret(settings)
    token = _cookie_token(request, key) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "verify.html",
        {"csrf": token, "result": None, "facts": None, "error": None, "ask": None, "challenge": None, "withheld": None, **context},
        status_code=status,
    )
    response.set_cookie(
        COOKIE, f"{token}.{_sign(key, token)}", httponly=True, samesite="strict", secure=settings.base_url.startswith("https://"), path="/verify", max_age=3600
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _end_date(credential: dict[str, Any] | None, key: str, lang: str) -> str | None:
    if not isinstance(credential, dict):
        return None
    names = ("validUntil", "expirationDate") if key == "end" else ("validFrom", "issuanceDate")
    return next((d for d in (date_words(credential.get(n), lang) for n in names) if d), None)


def verdict_words(checks: dict[str, Any], credential: dict[str, Any] | None, _=_identity, lang: str = "en") -> list[str]:
    """What happened, in words: the first failing authenticity check, else every failing or doubtful one."""

    def failed(cid: str) -> Any:
        c = checks.get(cid)
        return c if c is not None and c.outcome == "failed" else None

    if failed("well_formed"):
        return [_("Not a readable credential: %(reason)s") % {"reason": checks["well_formed"].reason}]
    if c := failed("proof"):
        if c.code in ("INVALID_VERIFICATION_METHOD", "NOT_FOUND_ERROR") or "resolve" in (c.reason or ""):
            return [_("The signature could not be checked against the institution's key")]
        return [_("Altered after it was signed, or not signed at all: the signature does not match the content")]
    if failed("issuer_binding"):
        return [_("Not signed by the institution it names")]
    out: list[str] = []
    if c := failed("status"):
        if c.code == "STATUS_SUSPENDED":
            out.append(_("Suspended by its issuer (found in the issuer's status list when verified)"))
        else:
            out.append(_("Revoked by its issuer (found in the issuer's status list when verified)"))
    elif (c := checks.get("status")) is not None and c.outcome == "indeterminate":
        out.append(_("Whether it has been revoked could not be checked"))
    if c := failed("validity"):
        if "before" in c.reason:
            out.append(_("Not valid yet: valid from %(date)s") % {"date": _end_date(credential, "start", lang) or c.reason})
        else:
            out.append(_("Expired on %(date)s") % {"date": _end_date(credential, "end", lang) or c.reason.removeprefix("expired on ")})
    for cid in ("holder_binding", "challenge"):
        if c := failed(cid):
            out.append(f"{_(LABELS[cid])}: {c.reason}")
    trust = checks.get("issuer_trust")
    if trust is not None and trust.outcome == "failed":
        out.append(_("Signed by an institution listed as not trusted"))
    elif trust is not None and trust.outcome == "indeterminate":
        out.append(_("Signed by an unknown institution") if trust.code == "UNKNOWN_ISSUER" else _("Whether the institution is recognised could not be checked"))
    eu = checks.get("eu_completeness")
    if eu is not None and eu.outcome not in ("passed", "skipped"):
        out.append(_("Not every EU micro-credential element is present"))
    return out


def _institution(report, facts: dict[str, Any] | None, lang: str = "en") -> dict[str, Any]:
    """The signing institution as people know it: the trust registry's facts first, then the credential's."""
    trust = report.check("issuer_trust")
    details = trust.details if trust is not None and trust.outcome == "passed" else {}
    credential = report.credential if isinstance(report.credential, dict) else {}
    issuer = credential.get("issuer") if isinstance(credential.get("issuer"), dict) else {}
    homepage = issuer.get("url") or issuer.get("homepage")
    if isinstance(homepage, list):
        homepage = homepage[0] if homepage else None
    if isinstance(homepage, dict):
        homepage = homepage.get("contentURL") or homepage.get("id")
    country = details.get("country")
    try:
        country_name = vocab.country(country).label_in(lang) if country else None
    except Exception:  # an unknown code is shown as it is
        country_name = country
    name = details.get("legalName") or (localized(facts.get("issuer")) if facts else "") or localized(issuer.get("name"))
    return {
        "name": name or None,
        "country": country_name,
        "homepage": homepage if isinstance(homepage, str) and homepage.startswith("https://") and len(homepage) < 500 else None,
        "qa": details.get("qualityAssurance") or {},
        "registered": trust is not None and trust.outcome == "passed",
        "source": details.get("source"),
        "did": report.issuer,
        # the registry's (pinned by the operator) first, else the credential's; a data: URI only, never fetched
        "logo": details.get("logo") or credential_logo(credential),
    }


def display_facts(facts: dict[str, Any], credential: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """One display for one element whatever the format: the EU vocabularies' labels, dates in words.

    OB3 and EDC carry the same Annex I elements differently (the EDC adds an assessment title and writes the
    QF-EHEA cycle in a note): the page shows the vocabulary concept of each, so one record reads the same.
    """
    out = dict(facts)
    kind = (credential_facts(credential).get("assessment") or {}).get("type") or {}
    # the vocabularies' label in the page's language (microcred's translations, CLDR for countries), else the credential's
    named = vocabulary_labels(credential, lang)
    label = {lang: named["assessment"]} if named["assessment"] else (kind.get("label") or facts.get("assessment"))
    if isinstance(label, str):
        label = {"en": label}
    out["assessmentType"] = {k: v[:1].upper() + v[1:] for k, v in label.items() if isinstance(v, str)} if isinstance(label, dict) else None
    if named["participation"]:
        out["participation"] = {lang: named["participation"]}
    if named["country"] and facts.get("awardingBodyCountry"):
        out["awardingBodyCountry"] = {**facts["awardingBodyCountry"], "label": {lang: named["country"]}}
    qa = list(facts.get("qualityAssurance") or [])
    out["qualityAssurance"] = [{lang: name} if name else q for q, name in zip(qa, named["qualityAssurance"] + [None] * len(qa), strict=False)]
    out["fieldsOfEducation"] = named["fieldsOfEducation"]
    level = dict(facts.get("level") or {})
    cycle = level.get("qfEheaCycle")
    if isinstance(cycle, str):
        level["qfEheaCycle"] = QF_EHEA.get(cycle.strip().lower(), cycle)
    out["level"] = level or None
    out["dateWords"] = date_words(facts.get("date"), lang)
    return out


def view(report, *, verified_at: datetime | None = None, _=_identity, lang: str = "en") -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The report as the page shows it, and the credential's facts (None for a plain VC)."""
    data = report.as_dict()
    css, headline = HEADLINES[data["verdict"]]
    headline = _(headline)
    by_id = {c.id: c for c in report.checks}
    broken = next((i for i, c in enumerate(report.checks) if c.id in AUTHENTICITY and c.outcome == "failed"), None)
    checks = []
    for i, c in enumerate(report.checks):
        outcome, reason = c.outcome, check_words.reason_in(c.id, c.outcome, c.code, c.reason, lang, _)
        if broken is not None and i > broken:
            outcome, reason = "not-run", _(NOT_RUN)
        entry = {"id": c.id, "label": _(LABELS[c.id]) if c.id in LABELS else c.id, "outcome": outcome, "word": _(WORDS[outcome]), "reason": reason}
        if c.id == "composite" and outcome != "not-run":
            entry["components"] = c.details.get("components", [])  # the tree: each component, its issuer, workload, state
        checks.append(entry)
    facts = None
    if report.credential is not None and credential_format(report.credential) != "unknown":
        try:
            facts = display_facts(summary(report.credential), report.credential, lang)
        except Exception:  # content that cannot be read is shown as the checks say, never as a 500
            facts = None
    institution = _institution(report, facts, lang)
    awarding = localized(facts.get("awardingBody")) if facts else ""
    when = verified_at or datetime.now(UTC)
    result = {
        "verdict": data["verdict"],
        "css": css,
        "headline": headline,
        "words": verdict_words(by_id, report.credential, _, lang),
        "authentic": broken is None,
        "checks": checks,
        "issuer": report.issuer,
        "format": report.format,
        "institution": institution,
        "other_awarding_body": bool(awarding and institution["name"] and awarding.strip().casefold() != institution["name"].strip().casefold()),
        "verified_at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verified_at_words": date_words(when, lang, with_time=True),
        "json": json.dumps(report.credential, indent=2, ensure_ascii=False)[:200_000] if report.credential is not None else None,
        # the verifier's own words (English, as app/verification wrote them), beside the page's translated ones
        "report_json": json.dumps({"verdict": data["verdict"], "checks": data["checks"]}, indent=2, ensure_ascii=False)[:200_000],
    }
    return result, facts


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(request: Request) -> HTMLResponse:
    return _render(request)


#: The employer's page of one OpenID4VP request ("Ask the learner's wallet"): the wallet returns the learner here.
ASK_PAGE = "/verify/ask"
#: How often the waiting page reloads itself (it runs no script: a meta refresh polls the request's state)
POLL_SECONDS = 3


async def _csrf_form(request: Request) -> dict[str, Any] | None:
    """The posted form if its CSRF token matches the cookie's, else None."""
    form = await form_body(request, max_file_bytes=64 * 1024)
    expected = _cookie_token(request, _secret(request.app.state.settings))
    sent = form.get("csrf")
    return form if expected and isinstance(sent, str) and hmac.compare_digest(sent, expected) else None


@router.post("/verify/ask", response_class=HTMLResponse)
async def ask_wallet(request: Request):
    """Create an OpenID4VP request (app/verification/oid4vp.py) for the learner's wallet, then wait for its answer."""
    _ = gettext_for(request)
    try:
        form = await _csrf_form(request)
    except MicrocredError as exc:
        return _render(request, status=exc.status, error=exc.detail)
    if form is None:
        return _render(request, status=403, error=_("The form has expired. Please try again."))
    name = form.get("verifier_name") if isinstance(form.get("verifier_name"), str) and form.get("verifier_name", "").strip() else _("An employer")
    purpose = form.get("purpose") if isinstance(form.get("purpose"), str) and form.get("purpose", "").strip() else _("To check your micro-credential")
    body = {"verifier_name": name[:200], "purpose": purpose[:500]}
    try:
        created = await run_in_threadpool(request.app.state.presentation_requests.create, body, return_page=ASK_PAGE)
    except MicrocredError as exc:
        return _render(request, status=exc.status, error=exc.detail)
    return RedirectResponse(f"{ASK_PAGE}/{created['id']}", status_code=303)


def _report_of(d: dict[str, Any]) -> Report:
    """A stored report (``Report.as_dict``) back as a ``Report``, to show it as the page shows any."""
    checks = [Check(c["id"], c["outcome"], c.get("reason", ""), c.get("code"), c.get("details") or {}) for c in d.get("checks", [])]
    return Report(d.get("kind", "credential"), d.get("format", ""), checks=checks, credential=d.get("credential"), issuer=d.get("issuer"))


@router.get(ASK_PAGE + "/{request_id}", response_class=HTMLResponse)
async def ask_wallet_page(request: Request, request_id: str) -> HTMLResponse:
    """Pending: the QR code and the link, reloading; received: the verdict as for a pasted credential, with the
    claims the learner chose not to disclose; expired: say so."""
    _ = gettext_for(request)
    requests = request.app.state.presentation_requests
    try:
        status = await run_in_threadpool(requests.status, request_id)
    except NotFoundError:
        return _render(request, status=404, error=_("No such request."))
    ask = {"id": request_id, "status": status["status"], "verifier_name": status["verifier_name"], "purpose": status["purpose"], "poll": POLL_SECONDS}
    if status["status"] == "pending":
        import segno

        link = requests.authorization_link(request_id)
        ask["link"] = link
        ask["qr"] = segno.make(link, error="m").svg_inline(scale=3, title=_("Scan with the learner's wallet"))
        return _render(request, ask=ask)
    if status["status"] == "expired":
        return _render(request, ask=ask, error=_("The request expired before the learner's wallet answered. Ask again."))
    result = status["result"] or {}
    if result.get("error"):
        return _render(request, ask=ask, error=_("The learner's wallet declined: %(reason)s") % {"reason": result.get("error_description") or result["error"]})
    presentation = (result.get("presentations") or [{}])[0]
    report = _report_of(presentation.get("credential_report") or {})
    if presentation.get("format") != "dc+sd-jwt":
        report.checks.append(Check("holder_binding", "passed", _("presented by its holder for this request (its nonce and this verifier's client id)")))
    disclosures = report.check("disclosures")
    withheld = list(disclosures.details.get("withheld", [])) if disclosures is not None else []
    shown, facts = view(report, _=_, lang=language(request))
    return _render(request, ask=ask, result=shown, facts=facts, withheld=withheld)


@router.post("/verify/challenge", response_class=HTMLResponse)
async def new_challenge(request: Request) -> HTMLResponse:
    """A challenge (VC API createChallenge) for the learner to sign a presentation with, shown on the page."""
    _ = gettext_for(request)
    try:
        form = await _csrf_form(request)
    except MicrocredError as exc:
        return _render(request, status=exc.status, error=exc.detail)
    if form is None:
        return _render(request, status=403, error=_("The form has expired. Please try again."))
    challenge = await run_in_threadpool(request.app.state.verification.new_challenge)
    return _render(request, challenge=challenge)


def _pasted_presentation(raw: bytes) -> dict[str, Any] | None:
    """A Data Integrity presentation pasted or uploaded (JSON whose type is VerifiablePresentation), else None."""
    if not raw.lstrip().startswith(b"{"):
        return None
    try:
        value = strict_json.loads(raw)
    except MicrocredError:
        return None
    if isinstance(value, dict) and "verifiablePresentation" in value and "type" not in value:
        value = value["verifiablePresentation"]
    return value if isinstance(value, dict) and "VerifiablePresentation" in vc_types(value) else None


def verify_pasted_presentation(verification, vp: dict[str, Any]) -> Report:
    """VC API verifyPresentation with the challenge and domain its proof carries: one from POST /challenges is
    checked fresh and used up; any other is the presenter's own (the report says so). The page shows its one
    credential's report with the presentation's holder checks."""
    proof = vp.get("proof")
    proof = proof[0] if isinstance(proof, list) and proof else proof
    challenge = proof.get("challenge") if isinstance(proof, dict) else None
    if not isinstance(challenge, str) or not challenge:
        raise NotACredential("this presentation's proof carries no challenge: get one with the button below and sign the presentation with it")
    domain = proof.get("domain") if isinstance(proof.get("domain"), str) else None
    report = verification.verify_presentation(vp, {"challenge": challenge, "domain": domain})
    if len(report.credentials) != 1:
        raise NotACredential(f"this page shows a presentation of one credential, not {len(report.credentials)}: send it to POST /presentations/verify")
    inner = report.credentials[0]
    holder = report.check("holder_binding")
    presentation_proof = report.check("proof")
    if presentation_proof is not None and presentation_proof.outcome == "failed":
        holder = Check("holder_binding", "failed", presentation_proof.reason, presentation_proof.code)
    extra = [c for c in (holder, report.check("challenge")) if c is not None]
    return Report(inner.kind, inner.format, checks=[*inner.checks, *extra], credential=inner.credential, issuer=inner.issuer)


@router.post("/verify", response_class=HTMLResponse)
async def verify_submit(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    limit = settings.verify_upload_max_bytes
    _ = gettext_for(request)
    try:
        form = await form_body(request, max_file_bytes=limit)
        expected = _cookie_token(request, _secret(settings))
        sent = form.get("csrf")
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            return _render(request, status=403, error=_("The form has expired. Please try again."))
        upload = form.get("file")
        link = form.get("url")
        link = link.strip() if isinstance(link, str) else ""
        note = None
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await uploaded_text(upload, limit)
        elif link:
            raw, note = await by_link(request, link, limit, _)
        else:
            pasted = form.get("credential")
            raw = pasted.encode() if isinstance(pasted, str) else b""
            if not raw.strip():
                return _render(request, status=400, error=_("Paste a credential, give a link, or choose a file."))
            if len(raw) > limit:
                return _render(request, status=400, error=_("The credential is larger than %(limit)s bytes.") % {"limit": limit})
        vp = _pasted_presentation(raw)
        if vp is not None:
            report = await run_in_threadpool(verify_pasted_presentation, request.app.state.verification, vp)
        else:
            report = await run_in_threadpool(request.app.state.verification.verify_file, raw)
    except PageRefusal as exc:
        return _render(request, status=exc.status, error=exc.message)
    except NotACredential as exc:
        return _render(request, status=400, error=_("This is not a verifiable credential: %(reason)s") % {"reason": exc.detail})
    except MicrocredError as exc:
        return _render(request, status=exc.status, error=exc.detail)
    result, facts = view(report, _=gettext_for(request), lang=language(request))
    result["note"] = note
    return _render(request, result=result, facts=facts)


#: What a link may answer with: a credential (JSON-LD, JWT, SD-JWT), or the wallet's PDF with one attached.
LINK_ACCEPT = (
    "application/vc+ld+json, application/vc+jwt, application/vc+sd-jwt, application/dc+sd-jwt, application/json, application/pdf;q=0.9, text/plain;q=0.5"
)
SHARED_PATH = "/wallet/shared/"


async def by_link(request: Request, link: str, limit: int, _=_identity) -> tuple[bytes, str | None]:
    """The credential a link leads to: one of this service's share links is opened locally (the same rules and
    view record as the share page); any other URL is fetched only through the guarded fetcher (app/net.py:
    https, public addresses, no redirects, the upload cap), so the form cannot reach inside the network."""
    settings = request.app.state.settings
    if len(link) > 2048:
        raise PageRefusal(_("The link is longer than 2048 characters."))
    own = settings.base_url.rstrip("/") + SHARED_PATH
    if link.startswith(own):
        token = link[len(own) :].split("#", 1)[0].split("?", 1)[0]
        if not token or len(token) > 200 or "/" in token:
            raise PageRefusal(_("This share link is not complete."))
        try:
            bodies = await run_in_threadpool(request.app.state.wallet.shared_bodies, token, "the verify page")
        except (NotFoundError, Gone):
            raise PageRefusal(_("This share link does not exist, was revoked by the learner, or has expired."), status=404) from None
        if not bodies:
            raise PageRefusal(_("This share link holds no credential."), status=404)
        note = (
            _("This share link holds %(n)s credentials; the first is verified here. Open the link to see them all.") % {"n": len(bodies)}
            if len(bodies) > 1
            else None
        )
        return bodies[0], note
    fetcher = request.app.state.runtime.resolver.fetcher
    try:
        fetched = await run_in_threadpool(lambda: fetcher.fetch(link, accept=LINK_ACCEPT, max_bytes=limit))
    except FetchError as exc:
        raise PageRefusal(_("The link could not be used: %(reason)s") % {"reason": exc.detail}, status=exc.status) from None
    content = fetched.content
    if content.startswith(b"%PDF-"):
        return (await run_in_threadpool(extract_credential_from_pdf, content)).encode(), None
    if fetched.content_type in ("text/html", "application/xhtml+xml"):
        raise PageRefusal(_("The link leads to a web page, not to a credential. Use a link to the credential's file, or a share link."))
    return content, None
