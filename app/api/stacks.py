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
                "presentation": {
                    "type": "object",
                    "description": "a verifiable presentation of the learner's components (an SD-JWT VC as an EnvelopedVerifiableCredential "
                    "data:application/dc+sd-jwt,<SD-JWT with KB-JWT for the presentation's challenge and domain>)",
                },
                "credentials": {
                    "type": "array",
                    "items": {"description": "a JSON credential, a compact JWS, or an SD-JWT VC presentation (<JWT>~<Disclosure>~…~<KB-JWT>)"},
                    "description": "or the components as a list (no holder binding for the W3C ones: the learner identifiers must agree)",
                },
                "presentationRequestId": {
                    "type": "string",
                    "maxLength": 36,
                    "description": "or an answered OpenID4VP request: the components of its ldp_vc and dc+sd-jwt presentations",
                },
                "challenge": {
                    "type": "string",
                    "description": "the challenge the presentation's proof must carry (default: the proof's own); for SD-JWT VCs in "
                    "credentials, their Key Binding JWT's nonce (default: its own)",
                },
                "domain": {"type": "string", "description": "the presentation's domain; for SD-JWT VCs in credentials, their KB-JWT's aud"},
            },
        }
    ),
)
async def evaluate_stack(provider: Provider, body: JsonBody, issuance: IssuanceDep) -> dict[str, Any]:
    evaluation = await run_in_threadpool(issuance.stacking.evaluate_request, provider, body)
    return evaluation.as_dict()
