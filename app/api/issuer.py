"""The issuer API: providers' systems issue, list, read and revoke micro-credentials (W3C VC API shape)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from app import strict_json
from app.api.deps import ApiKeyDep, IdempotencyKey, IssuanceDep, KeyedJsonBody, Provider, RawJsonBody, bearer_auth
from app.api.problems import problem_responses
from app.credentials import FORMATS, sd_jwt_vc
from app.errors import MalformedValueError
from app.issuance import Issued
from app.proofs import LD_MEDIA_TYPE, PROOF_FORMATS, jades, sd_jwt, vc_jose
from app.status import token_status_list as tsl
from app.vcdm import VC2

_EXAMPLE = Path(__file__).resolve().parent.parent / "credentials" / "example_input.json"
CREDENTIAL_CONTENT = {
    LD_MEDIA_TYPE: {"schema": {"type": "object", "description": "a W3C Verifiable Credential with an embedded Data Integrity proof"}},
    vc_jose.MEDIA_TYPE: {"schema": {"type": "string", "description": "a VC-JOSE compact JWS (typ vc+jwt) of a VC 2.0 credential"}},
    vc_jose.LEGACY_MEDIA_TYPE: {"schema": {"type": "string", "description": "a VC DM 1.1 §6.3.1 JWT (typ JWT, vc claim) of a VC 1.1 credential (an EDC)"}},
    sd_jwt.MEDIA_TYPE: {"schema": {"type": "string", "description": "an SD-JWT VC (RFC 9901 serialization, typ dc+sd-jwt)"}},
    jades.MEDIA_TYPE: {
        "schema": {"type": "object", "description": "an EDC sealed with JAdES baseline-B (ETSI TS 119 182-1): a JWS JSON serialization, b64 false"}
    },
}
#: The holder's key of an SD-JWT VC (``cnf.jwk``, RFC 7800 §3.2).
HOLDER_SCHEMA = {
    "description": 'format sd-jwt: the holder\'s public key, {"jwk": …} (Ed25519 or P-256), or a did:key / did:jwk',
    "anyOf": [
        {"type": "object", "required": ["jwk"], "properties": {"jwk": {"type": "object"}}},
        {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        {"type": "string"},
    ],
}


def json_body_doc(schema: dict, example: Any | None = None) -> dict:
    """``openapi_extra`` documenting a JSON body a route reads through ``JsonBody`` / ``RawJsonBody``."""
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def _example_input() -> Any:
    try:
        return json.loads(_EXAMPLE.read_text())
    except OSError:
        return None


MICROCREDENTIAL_BODY = json_body_doc(
    {
        "type": "object",
        "properties": {
            "format": {"type": "string", "enum": [*FORMATS, sd_jwt_vc.FORMAT], "default": "ob3"},
            "proof": {"type": "string", "enum": [*PROOF_FORMATS, sd_jwt.PROOF_FORMAT, jades.PROOF_FORMAT], "default": "eddsa-rdfc-2022"},
            "holder": HOLDER_SCHEMA,
            "microcredential": {"type": "object", "description": "the neutral EU micro-credential record (all 11 Annex I elements)"},
            "specificationId": {"type": "string", "description": "issue against a published specification…"},
            "issuance": {"type": "object", "description": "…with only the learner's data, date and grade"},
        },
    },
    {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": _example_input()},
)

#: Every issuer route takes the provider's API key (listed as bearerAuth in the OpenAPI document).
PROVIDER_ROUTES = {"dependencies": [Depends(bearer_auth)], "responses": problem_responses(400, 404, 409, 413, 415, 422)}
router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)
public = APIRouter(tags=["public"], responses=problem_responses(400, 404, 422))


def _credential_response(issued: Issued) -> Response:
    headers = {"Location": f"/credentials/{issued.id}"} if issued.id else {}
    return Response(issued.body, status_code=issued.status, media_type=issued.media_type, headers=headers)


@router.post(
    "/credentials/issue",
    status_code=201,
    summary="Issue a ready credential (W3C VC API)",
    responses={
        201: {"description": "the signed credential", "content": {"application/json": {"schema": {"type": "object", "required": ["verifiableCredential"]}}}}
    },
    openapi_extra=json_body_doc(
        {"type": "object", "required": ["credential"], "properties": {"credential": {"type": "object"}, "options": {"type": "object"}}}
    ),
)
async def issue_credential(caller: ApiKeyDep, body: RawJsonBody, issuance: IssuanceDep, key: IdempotencyKey) -> Response:
    issued = await issuance.issue_credential_request(caller, body, idempotency_key=key)
    jose = issued.media_type in (vc_jose.MEDIA_TYPE, vc_jose.LEGACY_MEDIA_TYPE)
    vc: Any = issued.body.decode("ascii") if jose else json.loads(issued.body)
    if isinstance(vc, str):  # VC 2.0 §4.13: a JOSE-secured credential travels as an enveloped credential
        vc = {"@context": [VC2], "id": f"data:{issued.media_type},{vc}", "type": "EnvelopedVerifiableCredential"}
    return Response(
        strict_json.dumps({"verifiableCredential": vc}).encode(),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/credentials/{issued.id}"},
    )


@router.post(
    "/microcredentials",
    status_code=201,
    summary="Issue an EU micro-credential from the neutral record or a specification",
    responses={
        201: {"description": "the signed credential, exactly as stored", "content": CREDENTIAL_CONTENT},
        200: {"description": "dry run: validation result and the unsigned credential"},
    },
    openapi_extra=MICROCREDENTIAL_BODY,
)
async def issue_microcredential(
    caller: ApiKeyDep,
    body: RawJsonBody,
    issuance: IssuanceDep,
    key: IdempotencyKey,
    dryRun: bool = Query(False, description="validate and render, sign and store nothing"),
) -> Response:
    # The hot path: the service checks the key, parses and validates in one worker-thread hop, then signs
    # on the event loop (Issuance.issue_request). A request with no key at all was refused by ApiKeyDep.
    if dryRun:
        return Response(strict_json.dumps(await issuance.dry_run_request(caller, body)).encode(), media_type="application/json")
    return _credential_response(await issuance.issue_request(caller, body, idempotency_key=key))


@router.get("/credentials", summary="List the provider's credentials (cursor-paginated)")
async def list_credentials(
    provider: Provider,
    issuance: IssuanceDep,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=200),
    format: str | None = Query(None, pattern="^(ob3|edc|vc|sd-jwt)$"),
) -> dict[str, Any]:
    return await run_in_threadpool(issuance.list, provider, limit=limit, cursor=cursor, fmt=format)


@router.get(
    "/credentials/{credential_id:path}",
    summary="One of the provider's credentials, as the exact signed bytes",
    responses={200: {"description": "the credential", "content": CREDENTIAL_CONTENT}},
)
async def get_credential(provider: Provider, issuance: IssuanceDep, credential_id: str) -> Response:
    stored = await run_in_threadpool(issuance.get, provider, credential_id)
    return Response(stored.body, media_type=stored.media_type)


@router.post(
    "/credentials/status",
    summary="Revoke, suspend, or lift a suspension",
    openapi_extra=json_body_doc(
        {
            "type": "object",
            "required": ["credentialId", "status"],
            "properties": {
                "credentialId": {"type": "string"},
                "status": {"type": "string", "enum": ["revoked", "suspended", "active"]},
                "reason": {"type": "string"},
            },
        },
        {"credentialId": "urn:uuid:…", "status": "revoked", "reason": "issued in error"},
    ),
)
async def update_status(keyed: KeyedJsonBody) -> dict[str, Any]:
    # The key is checked with the change, in its group's transaction (StatusLists.change_later): one thread
    # hand-off per change, awaited here without holding a thread. One dependency (deps._keyed_json).
    key, body, issuance = keyed
    credential_id, new_status, reason = _status_change(body)
    return await asyncio.wrap_future(issuance.status_lists.change_later(key, credential_id, new_status, reason=reason))


def _status_change(body: Any) -> tuple[str, str, str | None]:
    """(credential id, new status, reason) of a status change body; the VC API's ``credentialStatus`` form too."""
    if not isinstance(body, dict) or not isinstance(body.get("credentialId"), str):
        raise MalformedValueError("the body needs credentialId", errors=[{"pointer": "/credentialId", "detail": "required string"}])
    new_status = body.get("status")
    if new_status is None and isinstance(body.get("credentialStatus"), list) and body["credentialStatus"]:
        new_status = body["credentialStatus"][0].get("status") if isinstance(body["credentialStatus"][0], dict) else None
    if not isinstance(new_status, str):
        raise MalformedValueError("the body needs status: revoked, suspended or active", errors=[{"pointer": "/status", "detail": "required string"}])
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    return body["credentialId"], new_status, reason


@public.get(
    "/issuers/{slug}/did.json",
    summary="A provider's did:web DID document",
    responses={200: {"description": "DID document", "content": {"application/did+ld+json": {"schema": {"type": "object"}}}}},
)
async def did_document(issuance: IssuanceDep, slug: str) -> Response:
    doc = await run_in_threadpool(issuance.providers.did_document, slug)
    return Response(strict_json.dumps(doc).encode(), media_type="application/did+ld+json")


@public.get(
    "/status/{list_id}",
    summary="A signed BitstringStatusListCredential",
    responses={200: {"description": "status list credential", "content": {LD_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
async def status_list(issuance: IssuanceDep, list_id: str) -> Response:
    body = await run_in_threadpool(issuance.status_lists.credential, list_id)
    return Response(body, media_type=LD_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


@public.get(
    "/status-lists/{list_id}",
    summary="A Status List Token (IETF Token Status List), the status of SD-JWT VCs",
    responses={200: {"description": "status list token (typ statuslist+jwt)", "content": {tsl.MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
async def status_list_token(issuance: IssuanceDep, list_id: str) -> Response:
    body = await run_in_threadpool(issuance.status_lists.token, list_id)
    return Response(body, media_type=tsl.MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


@public.get(
    sd_jwt_vc.VCT_PATH,
    summary="SD-JWT VC Type Metadata of the EU micro-credential (its vct)",
    responses={200: {"description": "type metadata (SD-JWT VC draft §6)", "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def vct_metadata(issuance: IssuanceDep) -> Response:
    return Response(sd_jwt_vc.type_metadata_bytes(sd_jwt_vc.vct_for(issuance.settings.base_url)), media_type="application/json")
