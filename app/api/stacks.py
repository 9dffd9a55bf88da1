"""Stackable micro-credentials: a provider evaluates a learner's components against one of its composites."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app.api.deps import IssuanceDep, JsonBody, Provider
from app.api.issuer import PROVIDER_ROUTES, json_body_doc

router = APIRouter(tags=["stacks"], **PROVIDER_ROUTES)


@router.post(
    "/stacks/evaluate",
    summary="Evaluate a learner's components against a composite specification (nothing is stored)",
    openapi_extra=json_body_doc(
        {
            "type": "object",
            "required": ["specificationId"],
            "properties": {
                "specificationId": {"type": "string", "maxLength": 64, "description": "the provider's composite specification"},
                "presentation": {"type": "object", "description": "a verifiable presentation of the learner's components"},
                "credentials": {"type": "array", "description": "or the components as a list (no holder binding: the learner identifiers must agree)"},
                "challenge": {"type": "string", "description": "the challenge the presentation's proof must carry (default: the proof's own)"},
                "domain": {"type": "string"},
            },
        }
    ),
)
async def evaluate_stack(provider: Provider, body: JsonBody, issuance: IssuanceDep) -> dict[str, Any]:
    evaluation = await run_in_threadpool(issuance.stacking.evaluate_request, provider, body)
    return evaluation.as_dict()
