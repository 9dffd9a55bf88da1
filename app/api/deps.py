"""The API's typed seams: what a route needs, as ``Annotated`` dependencies (FastAPI's own idiom).

A route's signature says what it takes: ``provider: Provider`` (the caller's provider, its API key
checked in a worker thread), ``issuance: IssuanceDep``, ``body: JsonBody`` (strict I-JSON parsed on the
event loop), ``body: RawJsonBody`` (read, parsed later by the service in its own worker-thread hop),
``key: IdempotencyKey``. The services come from the app's state, built once by ``app.main``.

Parameter order is evaluation order: a route lists ``Provider`` before its body, so a request with a
bad key gets 401 before its body is read or judged (as the README promises).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPBearer

from app import strict_json
from app.errors import AuthError, PayloadTooLargeError
from app.holder import Wallet
from app.issuance import ApiKey, BatchRunner, Catalogue, Issuance, ProviderRecord
from app.issuance.oid4vci import Oid4vci
from app.issuance.vc_api import Exchanges
from app.settings import Settings
from app.strict_json import JsonRequest
from app.verification.oid4vp import PresentationRequests
from app.verification.service import VerificationService

__all__ = [
    "ApiKeyDep",
    "BatchesDep",
    "CatalogueDep",
    "IdempotencyKey",
    "IssuanceDep",
    "JsonBody",
    "KeyedJsonBody",
    "PresentationRequestsDep",
    "VcApiExchangesDep",
    "Oid4vciDep",
    "Provider",
    "RawJsonBody",
    "SettingsDep",
    "VerificationDep",
    "WalletDep",
    "bearer",
    "bearer_auth",
    "read_body",
    "read_json",
]

#: For routes taking the provider API key; it makes FastAPI list ``bearerAuth`` as the operation's security
#: requirement. ``auto_error=False``: the ``Provider`` / ``ApiKeyDep`` dependency answers 401 as problem+json.
bearer_auth = HTTPBearer(scheme_name="bearerAuth", description="provider API key", auto_error=False)


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1), if there is one."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all (security-notes §5):
    413 with ``Connection: close`` (``PayloadTooLargeError``)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            # A chunked upload past the limit: stop reading here; the 413 closes the connection.
            raise PayloadTooLargeError(f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _issuance(request: Request) -> Issuance:
    return request.app.state.issuance


async def _catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue


async def _batches(request: Request) -> BatchRunner:
    return request.app.state.batches


async def _oid4vci(request: Request) -> Oid4vci:
    return request.app.state.oid4vci


async def _wallet(request: Request) -> Wallet:
    return request.app.state.wallet


async def _verification(request: Request) -> VerificationService:
    return request.app.state.verification


async def _presentation_requests(request: Request) -> PresentationRequests:
    return request.app.state.presentation_requests


async def _vc_api_exchanges(request: Request) -> Exchanges:
    return request.app.state.vc_api_exchanges


# Every dependency is ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool, and three such
# hops on the hot route (settings, the service, the idempotency key) cost it about a tenth of its throughput.
SettingsDep = Annotated[Settings, Depends(_settings)]
IssuanceDep = Annotated[Issuance, Depends(_issuance)]
CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
BatchesDep = Annotated[BatchRunner, Depends(_batches)]
WalletDep = Annotated[Wallet, Depends(_wallet)]
Oid4vciDep = Annotated[Oid4vci, Depends(_oid4vci)]
VerificationDep = Annotated[VerificationService, Depends(_verification)]
PresentationRequestsDep = Annotated[PresentationRequests, Depends(_presentation_requests)]
VcApiExchangesDep = Annotated[Exchanges, Depends(_vc_api_exchanges)]


async def _api_key(request: Request) -> ApiKey:
    """The caller's API key, unchecked; a request with none is refused here, before its body is read."""
    token = bearer(request)
    if token is None:
        raise AuthError("an API key is required: Authorization: Bearer <key>")
    return ApiKey(token)


ApiKeyDep = Annotated[ApiKey, Depends(_api_key)]


async def _provider(issuance: IssuanceDep, key: ApiKeyDep) -> ProviderRecord:
    return await run_in_threadpool(issuance.providers.authenticate, key)


#: The provider whose API key the request carries (401 problem+json otherwise).
Provider = Annotated[ProviderRecord, Depends(_provider)]


async def _idempotency_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


#: The ``Idempotency-Key`` header: a retry with the same key gets the same answer, byte for byte.
IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _raw_json(request: Request, settings: SettingsDep) -> JsonRequest:
    raw = await read_body(request, settings.max_body_bytes)
    return JsonRequest(raw, _media_type(request), settings.max_body_bytes, settings.max_json_depth)


#: The body read (size-capped) on the event loop, parsed by the service where it does its work.
RawJsonBody = Annotated[JsonRequest, Depends(_raw_json)]


async def read_json(request: Request, settings: SettingsDep) -> Any:
    """The body as strict I-JSON (for a route whose body is optional; others take ``JsonBody``)."""
    # The media type first: a body sent as another type is refused before it is read.
    probe = JsonRequest(b"", _media_type(request))
    if probe.media_type not in strict_json.JSON_MEDIA_TYPES:
        probe.parse()  # raises UnsupportedMediaType
    raw = await read_body(request, settings.max_body_bytes)
    return JsonRequest(raw, probe.media_type, settings.max_body_bytes, settings.max_json_depth).parse()


#: The request body parsed as strict I-JSON (RFC 7493) on the event loop, after checking its media type.
JsonBody = Annotated[Any, Depends(read_json)]


async def _keyed_json(request: Request) -> tuple[ApiKey, Any, Issuance]:
    """``ApiKeyDep``, ``JsonBody`` and ``IssuanceDep`` as one dependency, in that order (no key: 401 before the body
    is read). For ``POST /credentials/status``, whose whole work is one grouped write: FastAPI's solving of four
    dependencies instead of one was a sixth of a status change's CPU in the worker (py-spy, ``bench http-status``)."""
    key = await _api_key(request)
    state = request.app.state
    return key, await read_json(request, state.settings), state.issuance


#: (the caller's API key, the body as strict I-JSON, the issuance service): see ``_keyed_json``.
KeyedJsonBody = Annotated[tuple[ApiKey, Any, Issuance], Depends(_keyed_json)]
