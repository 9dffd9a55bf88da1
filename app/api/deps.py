"""Request plumbing shared by the routers: strict JSON bodies, the provider behind an API key."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app import strict_json
from app.errors import MicrocredError, ParsingError


class UnsupportedMediaType(MicrocredError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    title = "Unsupported media type"


JSON_TYPES = ("application/json", "application/ld+json", "application/vc+ld+json", "application/vp+ld+json")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all (security-notes §5)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ParsingError(f"request body larger than {limit} bytes", code="TOO_LARGE")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ParsingError(f"request body larger than {limit} bytes", code="TOO_LARGE")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """The request body parsed as strict I-JSON, after checking its media type."""
    check_json_media_type(request)
    return parse_json(request, await read_body(request, request.app.state.settings.max_body_bytes))


def check_json_media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise UnsupportedMediaType(f"send JSON (Content-Type: application/json), not {media or 'nothing'}")


def parse_json(request: Request, raw: bytes) -> Any:
    """``raw`` (read with ``read_body``) parsed as strict I-JSON: with ``check_json_media_type``, ``json_body``
    in steps, for a route that reads the body on the event loop and parses it in its worker thread."""
    settings = request.app.state.settings
    return strict_json.loads(raw, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
