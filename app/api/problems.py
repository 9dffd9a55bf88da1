"""RFC 9457 problem+json responses: the one place that turns errors into HTTP answers.

Every client error carries ``type``, ``title``, ``status``, ``detail`` and a short machine-readable
``code``; field errors go in ``errors`` (JSON pointers). Nothing from the request body is echoed back
beyond the names of the fields at fault, so a learner's personal data never lands in an error.
"""

from __future__ import annotations

import http
import logging
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.security_headers import API_POLICY
from app.errors import MicrocredError
from app.observability import audit
from app.store.unavailable import DatabaseUnavailable, StorageFull

PROBLEM = "application/problem+json"
TYPE_BASE = "https://microcred.dev/problems/"
log = logging.getLogger("microcred.errors")

_APP = Path(__file__).resolve().parent.parent
_CODE = re.compile(r'\bcode\s*=\s*"([A-Z][A-Z0-9_]+)"|problem\(\s*\d+,\s*"([A-Z][A-Z0-9_]+)"|\b\d{3}:\s*"([A-Z][A-Z0-9_]+)"|"code":\s*"([A-Z][A-Z0-9_]+)"')


def problem_codes() -> list[str]:
    """Every ``code`` a problem can carry: the error classes' and each ``code="…"`` raised in ``app/``.

    Read from the source (deterministic: the document depends on the code only), so a new code is listed
    without anyone remembering to add it. Verification check codes are a report's, but a problem may carry
    them too (an error raised while reading a credential), so they are listed as well.
    """
    codes: set[str] = set()
    for path in sorted(_APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for match in _CODE.finditer(path.read_text(encoding="utf-8")):
            codes.add(next(group for group in match.groups() if group))
    return sorted(codes)


#: The OpenAPI component (``#/components/schemas/Problem``) describing every body ``problem()`` makes;
#: ``app/api/openapi.py`` adds it to the document. Extension members beyond these are allowed (RFC 9457 §3.2).
PROBLEM_SCHEMA: dict = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `code` is a short, stable, machine-readable name of the error; "
    "`errors` lists the fields at fault as JSON pointers (RFC 6901) into the request.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "description": "A URI naming the kind of problem."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "code": {
            "type": "string",
            "description": "Machine-readable error name, e.g. PARSING_ERROR, VALIDATION_ERROR; the codes the "
            "service raises are listed in `examples` (more may be added in a minor version).",
            "examples": problem_codes(),
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {
                    "pointer": {"type": "string", "description": "JSON pointer to the field at fault (empty: the whole request)."},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*statuses: int, descriptions: dict[int, str] | None = None) -> dict[int | str, dict]:
    """The ``responses=`` argument of a FastAPI route declaring problem+json answers for ``statuses``.

    ``@router.post("/x", responses=problem_responses(400, 401, 422))``; merge with ``|`` for other responses.
    """
    descriptions = descriptions or {}
    return {
        status: {
            "description": descriptions.get(status, http.HTTPStatus(status).phrase),
            "content": {PROBLEM: {"schema": dict(PROBLEM_REF)}},
        }
        for status in statuses
    }


#: RFC 9110 §11.6.1: a 401 "MUST send a WWW-Authenticate header field containing at least one challenge";
#: the API's scheme is the Bearer token of RFC 6750 §3 (an API key in ``Authorization: Bearer``).
BEARER_CHALLENGE = 'Bearer realm="microcred"'


def problem(status: int, code: str, title: str, detail: str, *, errors: list[dict] | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"type": TYPE_BASE + code.lower().replace("_", "-"), "title": title, "status": status, "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    if status == 401 and not any(k.lower() == "www-authenticate" for k in (headers or {})):
        headers = {**(headers or {}), "WWW-Authenticate": BEARER_CHALLENGE}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _pointer(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts) if parts else ""


def install(app: FastAPI) -> None:
    @app.exception_handler(MicrocredError)
    async def _domain(request: Request, exc: MicrocredError) -> JSONResponse:
        if exc.status in (401, 403):  # a bad API key, a refused CSRF token: security-relevant, recorded
            audit("refused", status=exc.status, code=exc.code, method=request.method, path=request.url.path)
        return problem(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors or None, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"pointer": _pointer(tuple(e.get("loc", ()))), "detail": e.get("msg", "invalid")} for e in exc.errors()]
        return problem(422, "VALIDATION_ERROR", "Request does not match the schema", f"{len(errors)} field(s) invalid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            exc.status_code, "HTTP_ERROR"
        )
        return problem(
            exc.status_code, code, str(exc.detail) if exc.status_code != 404 else "Not found", str(exc.detail), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(StorageFull)
    async def _storage_full(request: Request, exc: StorageFull) -> JSONResponse:
        # RFC 4918 §11.5: the server cannot store what the request needs. Not the client's fault, and not a
        # retry-shortly condition either: an operator must free space. Nothing was stored (rolled back).
        log.error("storage full on %s %s: %s", request.method, request.url.path, str(exc)[:300])
        return problem(
            507,
            "STORAGE_FULL",
            "Insufficient storage",
            "The service's storage is full; nothing was stored. Retry once an operator has freed space.",
            headers={"Retry-After": "60"},
        )

    @app.exception_handler(DatabaseUnavailable)
    async def _database_unavailable(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.error("database unavailable (%s) on %s %s: %s", exc.reason, request.method, request.url.path, str(exc)[:300])
        return problem(
            503,
            "SERVICE_UNAVAILABLE",
            "Service temporarily unavailable",
            f"The database is {exc.reason}; nothing was stored. Retry shortly.",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: OperationalError) -> JSONResponse:
        # The database is unreachable or locked beyond its timeout: a temporary condition of the service,
        # logged in full, answered 503 so that clients retry (nothing was stored: the transaction rolled back).
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0][:300])
        return problem(
            503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable", "The database is busy or unreachable; retry shortly.", headers={"Retry-After": "1"}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # This handler runs outside the app's middleware (Starlette's ServerErrorMiddleware), so the request
        # id that ObservabilityMiddleware put in request.state is passed on by hand, to the log and the client.
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error on %s %s", request.method, request.url.path, extra={"request_id": request_id})
        # Nor does SecurityHeadersMiddleware see it: the policy every other answer carries is set here.
        headers = {"Content-Security-Policy": API_POLICY} | ({"X-Request-ID": request_id} if request_id else {})
        return problem(500, "INTERNAL_ERROR", "Internal error", "The service failed; the error has been logged.", headers=headers)
