"""RFC 9457 problem+json responses: the one place that turns errors into HTTP answers.

Every client error carries ``type``, ``title``, ``status``, ``detail`` and a short machine-readable
``code``; field errors go in ``errors`` (JSON pointers). Nothing from the request body is echoed back
beyond the names of the fields at fault, so a learner's personal data never lands in an error.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import MicrocredError

PROBLEM = "application/problem+json"
TYPE_BASE = "https://microcred.dev/problems/"
log = logging.getLogger("microcred.errors")


def problem(status: int, code: str, title: str, detail: str, *, errors: list[dict] | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"type": TYPE_BASE + code.lower().replace("_", "-"), "title": title, "status": status, "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _pointer(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts) if parts else ""


def install(app: FastAPI) -> None:
    @app.exception_handler(MicrocredError)
    async def _domain(request: Request, exc: MicrocredError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"pointer": _pointer(tuple(e.get("loc", ()))), "detail": e.get("msg", "invalid")} for e in exc.errors()]
        return problem(422, "VALIDATION_ERROR", "Request does not match the schema", f"{len(errors)} field(s) invalid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            exc.status_code, "HTTP_ERROR"
        )
        return problem(exc.status_code, code, str(exc.detail) if exc.status_code != 404 else "Not found", str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "INTERNAL_ERROR", "Internal error", "The service failed; the error has been logged.")
