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
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from app.api.verifier import form_body, uploaded_text
from app.credentials import summary
from app.credentials.completeness import credential_format
from app.errors import MicrocredError
from app.verification import NotACredential
from wallet_demo import templates

router = APIRouter(include_in_schema=False)

COOKIE = "mc_verify_csrf"
LABELS = {
    "well_formed": "Readable credential",
    "proof": "Signature",
    "issuer_binding": "Signed by the named institution",
    "holder_binding": "Presented by its holder",
    "challenge": "Fresh presentation",
    "validity": "Validity dates",
    "status": "Not revoked or suspended",
    "issuer_trust": "Recognised institution",
    "eu_completeness": "EU micro-credential elements",
}
WORDS = {"passed": "✓ passed", "failed": "✗ failed", "indeterminate": "? unconfirmed", "skipped": "– not applicable"}
HEADLINES = {"valid": ("valid", "✓ Valid credential"), "valid with warnings": ("warnings", "! Valid, with warnings"), "not valid": ("invalid", "✗ Not valid")}


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
    response = templates.TemplateResponse(request, "verify.html", {"csrf": token, "result": None, "facts": None, "error": None, **context}, status_code=status)
    response.set_cookie(
        COOKIE, f"{token}.{_sign(key, token)}", httponly=True, samesite="strict", secure=settings.base_url.startswith("https://"), path="/verify", max_age=3600
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def view(report) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The report as the page shows it, and the credential's facts (None for a plain VC)."""
    data = report.as_dict()
    css, headline = HEADLINES[data["verdict"]]
    checks = [{"id": c.id, "label": LABELS.get(c.id, c.id), "outcome": c.outcome, "word": WORDS[c.outcome], "reason": c.reason} for c in report.checks]
    result = {"verdict": data["verdict"], "css": css, "headline": headline, "checks": checks, "issuer": report.issuer, "format": report.format}
    facts = None
    if report.credential is not None and credential_format(report.credential) != "unknown":
        try:
            facts = summary(report.credential)
        except Exception:  # content that cannot be read is shown as the checks say, never as a 500
            facts = None
    return result, facts


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(request: Request) -> HTMLResponse:
    return _render(request)


@router.post("/verify", response_class=HTMLResponse)
async def verify_submit(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    limit = settings.verify_upload_max_bytes
    try:
        form = await form_body(request, max_file_bytes=limit)
        expected = _cookie_token(request, _secret(settings))
        sent = form.get("csrf")
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            return _render(request, status=403, error="The form has expired. Please try again.")
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await uploaded_text(upload, limit)
        else:
            pasted = form.get("credential")
            raw = pasted.encode() if isinstance(pasted, str) else b""
            if not raw.strip():
                return _render(request, status=400, error="Paste a credential or choose a file.")
            if len(raw) > limit:
                return _render(request, status=400, error=f"The credential is larger than {limit} bytes.")
        report = await run_in_threadpool(request.app.state.verification.verify_file, raw)
    except NotACredential as exc:
        return _render(request, status=400, error=f"This is not a verifiable credential: {exc.detail}")
    except MicrocredError as exc:
        return _render(request, status=exc.status, error=exc.detail)
    result, facts = view(report)
    return _render(request, result=result, facts=facts)
