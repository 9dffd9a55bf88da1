"""The OpenID4VP 1.0 verifier's endpoints: thin; the protocol is ``app.verification.oid4vp``.

``POST /presentation-requests`` makes a request (no key: the demo's employer page uses it); its ``request_uri``
serves the signed Request Object (§5.7, media type ``application/oauth-authz-req+jwt``, RFC 9101 §10.2); the wallet
posts its response to ``…/response`` (§8.2 ``direct_post``, ``application/x-www-form-urlencoded``); the
``status_url`` answers ``pending``, ``received`` with the report, or ``expired``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app import strict_json
from app.api.deps import JsonBody, PresentationRequestsDep, read_body
from app.api.problems import problem_responses
from app.errors import ParsingError, UnsupportedMediaType
from app.verification.oid4vp import MAX_VP_TOKEN

router = APIRouter(tags=["verifier"])

FORM = "application/x-www-form-urlencoded"


class PresentationRequestCreated(BaseModel):
    id: str = Field(description="The request's id")
    request_uri: str = Field(description="Where the signed Request Object is served (OpenID4VP 1.0 §5.7)")
    authorization_request: str = Field(description="The openid4vp:// link a wallet opens (by reference, signed, decentralized_identifier: client id)")
    authorization_request_by_value: str = Field(description="The same request by value, unsigned, under the redirect_uri: client id prefix (§5.9.3)")
    client_id: str = Field(description="The verifier's client identifier: decentralized_identifier:<did:jwk>")
    status_url: str = Field(description="GET: pending, received with the report, or expired")
    expires: str = Field(description="When the request can no longer be answered (XSD dateTimeStamp)")


class PresentationRequestStatus(BaseModel):
    id: str
    status: Literal["pending", "received", "expired"]
    verifier_name: str
    purpose: str
    expires: str
    received: str | None = None
    result: dict[str, Any] | None = Field(None, description="received: {verified, presentations: [{query_id, format, report, claims?}]}")


class WalletAnswer(BaseModel):
    redirect_uri: str | None = Field(None, description="Where the wallet sends the learner back (§8.2), when the request named a page")


_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["verifier_name", "purpose"],
                    "properties": {
                        "verifier_name": {"type": "string", "maxLength": 200},
                        "purpose": {"type": "string", "maxLength": 500},
                        "dcql_query": {"type": "object", "description": "a DCQL query (OpenID4VP 1.0 §6); default: one EU micro-credential in any format"},
                        "claims": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "with the default query: SD-JWT VC claims that must be disclosed",
                        },
                        "redirect_uri": {"type": "string", "description": "a page of this service the wallet returns the learner to"},
                    },
                }
            }
        },
    }
}
_RESPONSE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "vp_token": {"type": "string", "description": "JSON: the presentations keyed by DCQL credential query id"},
                        "state": {"type": "string"},
                        "error": {"type": "string"},
                        "error_description": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/presentation-requests",
    status_code=201,
    response_model=PresentationRequestCreated,
    summary="An OpenID4VP 1.0 request for a learner's wallet (DCQL)",
    responses=problem_responses(400, 413, 415),
    openapi_extra=_CREATE_BODY,
)
async def create_presentation_request(body: JsonBody, requests: PresentationRequestsDep) -> dict[str, Any]:
    return await run_in_threadpool(requests.create, body)


@router.get(
    "/presentation-requests/{request_id}",
    response_model=PresentationRequestStatus,
    summary="A presentation request's state: pending, received (with the report) or expired",
    responses=problem_responses(404),
)
async def presentation_request_status(request_id: str, requests: PresentationRequestsDep) -> Response:
    out = await run_in_threadpool(requests.status, request_id)
    return Response(strict_json.dumps(out).encode(), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get(
    "/presentation-requests/{request_id}/request",
    summary="The signed Request Object (OpenID4VP 1.0 §5.7, RFC 9101)",
    responses={200: {"description": "the Request Object", "content": {"application/oauth-authz-req+jwt": {"schema": {"type": "string"}}}}}
    | problem_responses(404, 410),
)
async def presentation_request_object(request_id: str, requests: PresentationRequestsDep) -> Response:
    token = await run_in_threadpool(requests.request_object, request_id)
    return Response(token, media_type="application/oauth-authz-req+jwt", headers={"Cache-Control": "no-store"})


@router.post(
    "/presentation-requests/{request_id}/response",
    response_model=WalletAnswer,
    response_model_exclude_none=True,
    summary="The wallet's response (OpenID4VP 1.0 §8.2 direct_post)",
    responses=problem_responses(400, 404, 413, 415),
    openapi_extra=_RESPONSE_BODY,
)
async def presentation_response(request_id: str, request: Request, requests: PresentationRequestsDep) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise UnsupportedMediaType(f"send {FORM} (OpenID4VP 1.0 §8.2), not {media[:60] or 'nothing'}")
    raw = await read_body(request, MAX_VP_TOKEN + 8192)
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=bool(raw), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise ParsingError("the body is not application/x-www-form-urlencoded") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise ParsingError(f"the parameter {name[:40]} is repeated")
        form[name] = value
    out = await run_in_threadpool(requests.respond, request_id, form)
    return Response(strict_json.dumps(out).encode(), media_type="application/json", headers={"Cache-Control": "no-store"})
