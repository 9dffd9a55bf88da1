"""The issuer API: providers' systems issue, list, read and revoke micro-credentials (W3C VC API shape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app import strict_json
from app.api.deps import bearer, check_json_media_type, json_body, parse_json, read_body
from app.api.openapi import bearer_auth
from app.api.problems import problem_responses
from app.errors import MalformedValueError
from app.issuance import LD_MEDIA_TYPE, Issuance

_EXAMPLE = Path(__file__).resolve().parent.parent / "credentials" / "example_input.json"
CREDENTIAL_CONTENT = {
    "application/vc+ld+json": {"schema": {"type": "object", "description": "a W3C Verifiable Credential with an embedded Data Integrity proof"}},
    "application/vc+jwt": {"schema": {"type": "string", "description": "a VC-JOSE compact JWS (typ vc+jwt)"}},
}


def _json_body_doc(schema: dict, example: Any | None = None) -> dict:
    """``openapi_extra`` documenting a JSON body these routes parse strictly themselves (app.api.deps.json_body)."""
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def _example_input() -> Any:
    try:
        return json.loads(_EXAMPLE.read_text())
    except OSError:
        return None


MICROCREDENTIAL_BODY = _json_body_doc(
    {
        "type": "object",
        "properties": {
            "format": {"type": "string", "enum": ["ob3", "edc"], "default": "ob3"},
            "proof": {"type": "string", "enum": ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"], "default": "eddsa-rdfc-2022"},
            "microcredential": {"type": "object", "description": "the neutral EU micro-credential record (all 11 Annex I elements)"},
            "specificationId": {"type": "string", "description": "issue against a published specification…"},
            "issuance": {"type": "object", "description": "…with only the learner's data, date and grade"},
        },
    },
    {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": _example_input()},
)

#: Bodies up to this size are signed on the event loop (the EU example, 5 KB, signs in about 0.3 ms);
#: larger ones in a worker thread, so that the loop is never held for long.
SIGN_ON_LOOP_MAX_BYTES = 32_768

#: Every issuer route takes the provider's API key (listed as bearerAuth in the OpenAPI document).
PROVIDER_ROUTES = {"dependencies": [Depends(bearer_auth)], "responses": problem_responses(400, 404, 409, 413, 415, 422)}
router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)
public = APIRouter(tags=["public"], responses=problem_responses(400, 404, 422))


def _service(request: Request) -> Issuance:
    return request.app.state.issuance


async def _provider(request: Request):
    return await run_in_threadpool(_service(request).authenticate, bearer(request))


def _idempotency_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


def _credential_response(status: int, issued, *, location: bool = True) -> Response:
    headers = {"Location": f"/credentials/{issued.id}"} if location and issued.id else {}
    return Response(issued.body, status_code=status, media_type=issued.media_type, headers=headers)


@router.post(
    "/credentials/issue",
    status_code=201,
    summary="Issue a ready credential (W3C VC API)",
    responses={201: {"description": "the signed credential", "content": {"application/json": {"schema": {"type": "object", "required": ["verifiableCredential"]}}}}},
    openapi_extra=_json_body_doc({"type": "object", "required": ["credential"], "properties": {"credential": {"type": "object"}, "options": {"type": "object"}}}),
)
async def issue_credential(request: Request) -> Response:
    provider = await _provider(request)
    body = await json_body(request)
    if not isinstance(body, dict) or "credential" not in body:
        raise MalformedValueError("the body is {\"credential\": …, \"options\": …}", errors=[{"pointer": "/credential", "detail": "required"}])
    service = _service(request)
    key = _idempotency_key(request)
    issued = await run_in_threadpool(service.issue_vc_idempotent, provider, body, key)
    vc: Any = issued.body.decode("ascii") if issued.media_type == "application/vc+jwt" else json.loads(issued.body)
    if isinstance(vc, str):  # VC 2.0 §4.13: a JOSE-secured credential travels as an enveloped credential
        vc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": f"data:application/vc+jwt,{vc}", "type": "EnvelopedVerifiableCredential"}
    return Response(strict_json.dumps({"verifiableCredential": vc}).encode(), status_code=201, media_type="application/json", headers={"Location": f"/credentials/{issued.id}"})


@router.post(
    "/microcredentials",
    status_code=201,
    summary="Issue an EU micro-credential from the neutral record or a specification",
    responses={201: {"description": "the signed credential, exactly as stored", "content": CREDENTIAL_CONTENT}, 200: {"description": "dry run: validation result and the unsigned credential"}},
    openapi_extra=MICROCREDENTIAL_BODY,
)
async def issue_microcredential(request: Request, dryRun: bool = Query(False, description="validate and render, sign and store nothing")) -> Response:
    # The hot path. One worker-thread hop for what reads or waits for the database (API key, validation,
    # status indices, an idempotency claim); signing then runs on the event loop (Issuance.finish_issue),
    # except for a large body, which would hold the loop for milliseconds.
    service = _service(request)
    if bearer(request) is None:  # refused before its body is read, as when the key was checked first
        service.authenticate(None)
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    key = _idempotency_key(request)
    on_loop = len(raw) <= SIGN_ON_LOOP_MAX_BYTES

    def start():
        provider = service.authenticate(bearer(request))  # 401 before 415, as on every route
        check_json_media_type(request)
        body = parse_json(request, raw)
        if not isinstance(body, dict):
            raise MalformedValueError("the body must be a JSON object")
        if dryRun:
            return Response(strict_json.dumps(service.dry_run(provider, body)).encode(), media_type="application/json")
        if not on_loop:
            return service.issue(provider, body, idempotency_key=key)
        return service.start_issue(provider, body, idempotency_key=key)

    started = await run_in_threadpool(start)
    if isinstance(started, Response):
        return started
    status, issued, _ = started if isinstance(started, tuple) else await service.finish_issue(started)
    return _credential_response(status, issued)


@router.get("/credentials", summary="List the provider's credentials (cursor-paginated)")
async def list_credentials(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=200),
    format: str | None = Query(None, pattern="^(ob3|edc|vc)$"),
) -> dict[str, Any]:
    provider = await _provider(request)
    return await run_in_threadpool(_service(request).list, provider, limit=limit, cursor=cursor, fmt=format)


@router.get(
    "/credentials/{credential_id:path}",
    summary="One of the provider's credentials, as the exact signed bytes",
    responses={200: {"description": "the credential", "content": CREDENTIAL_CONTENT}},
)
async def get_credential(request: Request, credential_id: str) -> Response:
    provider = await _provider(request)
    stored = await run_in_threadpool(_service(request).get, provider, credential_id)
    return Response(stored.body, media_type=stored.media_type)


@router.post(
    "/credentials/status",
    summary="Revoke, suspend, or lift a suspension",
    openapi_extra=_json_body_doc(
        {"type": "object", "required": ["credentialId", "status"], "properties": {"credentialId": {"type": "string"}, "status": {"type": "string", "enum": ["revoked", "suspended", "active"]}, "reason": {"type": "string"}}},
        {"credentialId": "urn:uuid:…", "status": "revoked", "reason": "issued in error"},
    ),
)
async def update_status(request: Request) -> dict[str, Any]:
    provider = await _provider(request)
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("credentialId"), str):
        raise MalformedValueError("the body needs credentialId", errors=[{"pointer": "/credentialId", "detail": "required string"}])
    new_status = body.get("status")
    if new_status is None and isinstance(body.get("credentialStatus"), list) and body["credentialStatus"]:
        new_status = body["credentialStatus"][0].get("status") if isinstance(body["credentialStatus"][0], dict) else None
    if not isinstance(new_status, str):
        raise MalformedValueError("the body needs status: revoked, suspended or active", errors=[{"pointer": "/status", "detail": "required string"}])
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    return await run_in_threadpool(_service(request).change_status, provider, body["credentialId"], new_status, reason=reason)


@public.get("/issuers/{slug}/did.json", summary="A provider's did:web DID document", responses={200: {"description": "DID document", "content": {"application/did+ld+json": {"schema": {"type": "object"}}}}})
async def did_document(request: Request, slug: str) -> Response:
    doc = await run_in_threadpool(_service(request).did_document, slug)
    return Response(strict_json.dumps(doc).encode(), media_type="application/did+ld+json")


@public.get("/status/{list_id}", summary="A signed BitstringStatusListCredential", responses={200: {"description": "status list credential", "content": {"application/vc+ld+json": {"schema": {"type": "object"}}}}})
async def status_list(request: Request, list_id: str) -> Response:
    body = await run_in_threadpool(_service(request).status_list_credential, list_id)
    return Response(body, media_type=LD_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})
