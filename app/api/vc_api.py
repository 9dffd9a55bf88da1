"""VC API exchanges for the Learner Credential Wallet: thin; the protocol is ``app.issuance.vc_api``.

``POST /workflows/{workflowId}/exchanges`` (provider key; W3C VCALM draft "Create exchange") makes an exchange for
a learner's record and answers its deep links; ``POST /workflows/{workflowId}/exchanges/{exchangeId}`` (VCALM
"Participate in an exchange", no key: the wallet) answers ``{}`` with the DID Authentication request and the
wallet's presentation with the credential.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app import strict_json
from app.api.deps import JsonBody, Provider, VcApiExchangesDep
from app.api.issuer import MICROCREDENTIAL_BODY, PROVIDER_ROUTES
from app.api.problems import problem_responses

router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)
public = APIRouter(tags=["public"])


class ExchangeCreated(BaseModel):
    exchangeId: str = Field(description="The exchange's id (single use)")
    workflowId: str
    exchangeUrl: str = Field(description="POST {} here for the VerifiablePresentationRequest, then the DIDAuth presentation")
    challenge: str = Field(description="The challenge the wallet's DID Authentication proof must carry")
    deepLink: str = Field(description="https://lcw.app/request.html?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…")
    dccRequestLink: str = Field(description="The same request as dccrequest://request?…")
    expires: str = Field(description="When the exchange can no longer be completed (XSD dateTimeStamp)")


class ExchangeAnswer(BaseModel):
    verifiablePresentationRequest: dict[str, Any] | None = Field(
        None, description="to {}: a DIDAuthentication query, challenge, domain, interact.service (VP Request Spec)"
    )
    verifiablePresentation: dict[str, Any] | None = Field(None, description="to the DIDAuth presentation: the credential, issued to the holder DID")


_STEP_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "{} (start), {verifiablePresentation: the DIDAuth VP}, or the bare VP (the LCW's deep link request)",
                    "properties": {"verifiablePresentation": {"type": "object"}},
                }
            }
        },
    }
}


def _json(value: Any, status: int = 200) -> Response:
    return Response(strict_json.dumps(value).encode(), status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post(
    "/workflows/{workflow_id}/exchanges",
    status_code=201,
    summary="An exchange for the Learner Credential Wallet (VC API / VCALM), with its deep links",
    responses={201: {"model": ExchangeCreated, "description": "the exchange; the credential is signed when the wallet authenticates"}},
    openapi_extra=MICROCREDENTIAL_BODY,  # a POST /microcredentials body (its format, proof and holder are the workflow's)
)
async def create_exchange(provider: Provider, body: JsonBody, service: VcApiExchangesDep, workflow_id: str) -> Response:
    return _json(await run_in_threadpool(service.create, provider, workflow_id, body), 201)


@public.post(
    "/workflows/{workflow_id}/exchanges/{exchange_id}",
    summary="A step of a VC API exchange: {} → the DIDAuth request; the wallet's presentation → the credential",
    responses={200: {"model": ExchangeAnswer}} | problem_responses(400, 404, 409, 410, 413, 415, 422),
    openapi_extra=_STEP_BODY,
)
async def exchange_step(body: JsonBody, service: VcApiExchangesDep, workflow_id: str, exchange_id: str) -> Response:
    return _json(await run_in_threadpool(service.step, workflow_id, exchange_id, body))
