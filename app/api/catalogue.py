"""Specifications (a provider's offerings) and the public catalogue, as JSON and as a page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from app import strict_json
from app.api.batch import stored_response
from app.api.deps import CatalogueDep, IdempotencyKey, JsonBody, Provider
from app.api.issuer import PROVIDER_ROUTES
from app.api.problems import problem_responses
from app.errors import MalformedValueError
from app.issuance.idempotent import once
from app.store.idempotency import StoredResponse

router = APIRouter(tags=["catalogue"], **PROVIDER_ROUTES)
public = APIRouter(tags=["catalogue"], responses=problem_responses(400, 404, 422))


@router.post(
    "/specifications",
    status_code=201,
    summary="Publish (or draft) a micro-credential specification",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["specification"],
                        "properties": {"specification": {"type": "object"}, "published": {"type": "boolean", "default": True}},
                    }
                }
            },
        }
    },
)
async def create_specification(provider: Provider, body: JsonBody, catalogue: CatalogueDep, idempotency_key: IdempotencyKey) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedValueError('the body is {"specification": …, "published": true|false}')
    published = body.get("published", True)
    if not isinstance(published, bool):
        raise MalformedValueError("published must be true or false", errors=[{"pointer": "/published", "detail": "boolean"}])
    key = once(provider.id, idempotency_key, body, lambda view: (201, strict_json.dumps(view).encode(), {}))
    created = await run_in_threadpool(catalogue.create, provider, body.get("specification"), published=published, once=key)
    return stored_response(created) if isinstance(created, StoredResponse) else created


@router.get("/specifications", summary="The provider's own specifications")
async def list_specifications(
    provider: Provider, catalogue: CatalogueDep, limit: int = Query(50, ge=1, le=200), cursor: str | None = Query(None, max_length=200)
) -> dict[str, Any]:
    return await run_in_threadpool(catalogue.list_own, provider, limit=limit, cursor=cursor)


@router.get("/specifications/{spec_id}", summary="One of the provider's specifications")
async def get_specification(provider: Provider, catalogue: CatalogueDep, spec_id: str) -> dict[str, Any]:
    return await run_in_threadpool(catalogue.get_own, provider, spec_id)


@router.post(
    "/specifications/{spec_id}/publish",
    summary="Publish or withdraw a specification from the catalogue",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "required": ["published"], "properties": {"published": {"type": "boolean"}}}}},
        }
    },
)
async def publish_specification(provider: Provider, body: JsonBody, catalogue: CatalogueDep, spec_id: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("published"), bool):
        raise MalformedValueError('the body is {"published": true|false}', errors=[{"pointer": "/published", "detail": "boolean"}])
    return await run_in_threadpool(catalogue.publish, provider, spec_id, body["published"])


def filters(provider, country, eqf, isced, ectsMin, ectsMax, q, limit, cursor) -> dict[str, Any]:
    return {
        "provider": provider,
        "country": country,
        "eqf": eqf,
        "isced": isced,
        "ects_min": ectsMin,
        "ects_max": ectsMax,
        "text": q,
        "limit": limit,
        "cursor": cursor,
    }


@public.get("/catalogue", summary="The public catalogue of published micro-credentials")
async def catalogue(
    service: CatalogueDep,
    provider: str | None = Query(None, max_length=40),
    country: str | None = Query(None, pattern="^[A-Za-z]{2}$"),
    eqf: int | None = Query(None, ge=1, le=8),
    isced: str | None = Query(None, pattern="^[0-9]{2,4}$"),
    ectsMin: float | None = Query(None, ge=0, le=1000),
    ectsMax: float | None = Query(None, ge=0, le=1000),
    q: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    return await run_in_threadpool(lambda: service.public(**filters(provider, country, eqf, isced, ectsMin, ectsMax, q, limit, cursor)))


@public.get("/catalogue/{spec_id}", summary="One published specification")
async def catalogue_entry(catalogue: CatalogueDep, spec_id: str) -> dict[str, Any]:
    return await run_in_threadpool(catalogue.public_one, spec_id)
