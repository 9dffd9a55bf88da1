"""OpenID4VCI 1.0 over HTTP: metadata, offers, token, nonce and credential endpoints (``app.issuance.oid4vci``).

Thin: each route reads its input (size-capped), hands it to ``Oid4vci`` in one worker-thread hop and writes the
answer. The OAuth / OID4VCI endpoints answer their own error objects (``OAuthError``: RFC 6749 §5.2, OID4VCI 1.0
§8.3.1.2, RFC 6750 §3 with ``WWW-Authenticate``), never problem+json; the provider's routes
(``/microcredentials/offers``) answer problem+json like every other provider route.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app import strict_json
from app.api.deps import JsonBody, Oid4vciDep, Provider, read_body
from app.api.issuer import MICROCREDENTIAL_BODY, PROVIDER_ROUTES
from app.api.problems import problem_responses
from app.credentials.images import card_png
from app.issuance.oid4vci import CONFIGURATIONS, DpopContext, OAuthError

router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)
public = APIRouter(tags=["openid4vci"])

MAX_TOKEN_REQUEST_BYTES = 16_384
MAX_CREDENTIAL_REQUEST_BYTES = 262_144
NO_STORE = {"Cache-Control": "no-store"}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 / OID4VCI 1.0 §8.3.1.2 error object."""

    error: str = Field(description="invalid_request, invalid_grant, invalid_token, invalid_proof, invalid_nonce, unknown_credential_configuration, …")
    error_description: str | None = None


class CredentialOffer(_Open):
    """OID4VCI 1.0 §4.1.1 Credential Offer."""

    credential_issuer: str
    credential_configuration_ids: list[str]
    grants: dict[str, Any]


class OfferCreated(BaseModel):
    id: str
    credential_offer: CredentialOffer
    credential_offer_uri: str = Field(description="openid-credential-offer://?credential_offer_uri=… (the offer by reference, §4.1.3)")
    tx_code: str | None = Field(description="the transaction code to send the learner on another channel (null: none needed)")
    expires_at: str


class OfferIssuer(BaseModel):
    name: str
    id: str


class OfferState(BaseModel):
    id: str
    state: str = Field(description="offered, redeemed or expired")
    configurations: list[str]
    credential_ids: list[str]
    created_at: str
    expires_at: str
    redeemed_at: str | None
    tx_code_required: bool
    credential_offer_uri: str
    issuer: OfferIssuer


class IssuerMetadata(_Open):
    """OID4VCI 1.0 §12.2.4 Credential Issuer Metadata."""

    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str
    batch_credential_issuance: dict[str, int]
    display: list[dict[str, Any]]
    credential_configurations_supported: dict[str, dict[str, Any]]


class AuthorizationServerMetadata(_Open):
    """RFC 8414 §2 (with OID4VCI 1.0 §12.3 and RFC 9449 §5.1 members)."""

    issuer: str
    token_endpoint: str
    grant_types_supported: list[str]
    pre_authorized_grant_anonymous_access_supported: bool = Field(alias="pre-authorized_grant_anonymous_access_supported")
    dpop_signing_alg_values_supported: list[str]


class JwtVcIssuerMetadata(BaseModel):
    """SD-JWT VC draft §4 JWT VC Issuer Metadata."""

    issuer: str
    jwks: dict[str, list[dict[str, Any]]]


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 (``token_type`` DPoP for a DPoP-bound token, RFC 9449 §5)."""

    access_token: str
    token_type: str
    expires_in: int


class NonceResponse(BaseModel):
    c_nonce: str


class CredentialResponse(BaseModel):
    """OID4VCI 1.0 §8.3: one entry per proof; a JSON object (ldp_vc) or a string (jwt_vc_json, dc+sd-jwt)."""

    credentials: list[dict[str, Any]]


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(strict_json.dumps(value).encode(), status_code=status, media_type="application/json", headers=headers)


def _oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.www_authenticate:
        headers["WWW-Authenticate"] = exc.www_authenticate
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def _errors(*statuses: int) -> dict[int | str, dict]:
    return {status: {"description": "OAuth / OID4VCI error object", "model": OAuthErrorBody} for status in statuses}


# -- the provider's side


OFFER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    **MICROCREDENTIAL_BODY["requestBody"]["content"]["application/json"]["schema"],
                    "properties": {
                        **{
                            k: v
                            for k, v in MICROCREDENTIAL_BODY["requestBody"]["content"]["application/json"]["schema"]["properties"].items()
                            if k not in ("format", "proof", "holder")
                        },
                        "configurations": {"type": "array", "items": {"type": "string", "enum": list(CONFIGURATIONS)}, "default": list(CONFIGURATIONS)},
                        "txCode": {"type": "boolean", "default": True},
                    },
                },
            }
        },
    }
}


@router.post(
    "/microcredentials/offers",
    status_code=201,
    summary="Offer a micro-credential to any wallet (OpenID4VCI 1.0 pre-authorized code flow)",
    responses={201: {"model": OfferCreated, "description": "the offer; the credential is signed when the wallet redeems it"}},
    openapi_extra=OFFER_BODY,
)
async def create_oid4vci_offer(provider: Provider, body: JsonBody, service: Oid4vciDep) -> Response:
    return _json(await run_in_threadpool(service.create_offer, provider, body), 201)


@router.get(
    "/microcredentials/offers/{offer_id}",
    summary="An OpenID4VCI offer's state and the credentials issued from it",
    responses={200: {"model": OfferState}},
)
async def oid4vci_offer_state(provider: Provider, service: Oid4vciDep, offer_id: str) -> Response:
    return _json(await run_in_threadpool(service.offer_state, provider, offer_id))


# -- metadata


@public.get(
    "/.well-known/openid-credential-issuer/issuers/{slug}",
    summary="Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.2)",
    responses={200: {"model": IssuerMetadata}, **problem_responses(404)},
)
async def issuer_metadata(service: Oid4vciDep, slug: str) -> Response:
    return _json(await run_in_threadpool(service.issuer_metadata, slug))


@public.get(
    "/.well-known/oauth-authorization-server/issuers/{slug}",
    summary="OAuth 2.0 Authorization Server Metadata (RFC 8414) of the issuer",
    responses={200: {"model": AuthorizationServerMetadata}, **problem_responses(404)},
)
async def authorization_server_metadata(service: Oid4vciDep, slug: str) -> Response:
    return _json(await run_in_threadpool(service.authorization_server_metadata, slug))


@public.get(
    "/.well-known/jwt-vc-issuer/issuers/{slug}",
    summary="JWT VC Issuer Metadata (SD-JWT VC draft §4): the issuer's keys",
    responses={200: {"model": JwtVcIssuerMetadata}, **problem_responses(404)},
)
async def jwt_vc_issuer_metadata(service: Oid4vciDep, slug: str) -> Response:
    return _json(await run_in_threadpool(service.jwt_vc_issuer_metadata, slug))


@public.get(
    "/issuers/{slug}/logo.png",
    summary="The issuer's logo (its display in the metadata)",
    responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}, **problem_responses(404)},
)
async def issuer_logo(service: Oid4vciDep, slug: str) -> Response:
    provider = await run_in_threadpool(service.providers.by_slug, slug)
    png = await run_in_threadpool(card_png, provider.legal_name)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})


@public.get(
    "/issuers/{slug}/credential-offers/{offer_id}",
    summary="A credential offer by reference (OpenID4VCI 1.0 §4.1.3)",
    responses={200: {"model": CredentialOffer}, **problem_responses(404)},
)
async def oid4vci_credential_offer(service: Oid4vciDep, slug: str, offer_id: str) -> Response:
    return _json(await run_in_threadpool(service.credential_offer, slug, offer_id), headers=NO_STORE)


# -- the OAuth and OID4VCI endpoints


def _form(raw: bytes) -> dict[str, str]:
    """RFC 6749 §3.2 / Appendix B: the form body; a parameter sent twice is refused."""
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=bool(raw), max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the token request is an application/x-www-form-urlencoded form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"parameter {name[:40]} is sent more than once")
        form[name] = value
    return form


def _dpop(request: Request) -> DpopContext:
    values = request.headers.getlist("dpop")
    if len(values) > 1:
        raise OAuthError("invalid_dpop_proof", "one DPoP header only")
    return DpopContext(values[0] if values else None, request.method)


@public.post(
    "/issuers/{slug}/token",
    summary="Token endpoint (OpenID4VCI 1.0 §6, pre-authorized code grant; DPoP, RFC 9449)",
    responses={200: {"model": TokenResponse}, **_errors(400)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type", "pre-authorized_code"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]},
                            "pre-authorized_code": {"type": "string"},
                            "tx_code": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def oid4vci_token(request: Request, service: Oid4vciDep, slug: str) -> Response:
    try:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "the token request is an application/x-www-form-urlencoded form")
        form = _form(await read_body(request, MAX_TOKEN_REQUEST_BYTES))
        answer = await run_in_threadpool(service.token, slug, form, _dpop(request))
    except OAuthError as exc:
        return _oauth_error(exc)
    return _json(answer, headers=NO_STORE)


@public.post(
    "/issuers/{slug}/nonce",
    summary="Nonce endpoint (OpenID4VCI 1.0 §7): a fresh c_nonce",
    responses={200: {"model": NonceResponse}, **problem_responses(404)},
)
async def oid4vci_nonce(service: Oid4vciDep, slug: str) -> Response:
    return _json(await run_in_threadpool(service.nonce, slug), headers=NO_STORE)


@public.post(
    "/issuers/{slug}/credential",
    summary="Credential endpoint (OpenID4VCI 1.0 §8): credentials bound to the wallet's keys, one per proof",
    responses={200: {"model": CredentialResponse}, **_errors(400, 401)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["credential_configuration_id", "proofs"],
                        "properties": {
                            "credential_configuration_id": {"type": "string", "enum": list(CONFIGURATIONS)},
                            "proofs": {"type": "object", "properties": {"jwt": {"type": "array", "items": {"type": "string"}}}},
                        },
                    }
                }
            },
        }
    },
)
async def oid4vci_credential(request: Request, service: Oid4vciDep, slug: str) -> Response:
    try:
        authorization = request.headers.get("authorization")
        ctx = _dpop(request)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = await read_body(request, MAX_CREDENTIAL_REQUEST_BYTES)
        if media_type != "application/json":
            raise OAuthError("invalid_credential_request", "the credential request is application/json")
        redeemed = await run_in_threadpool(service.credential, slug, authorization, ctx, raw)
    except OAuthError as exc:
        return _oauth_error(exc)
    return _json({"credentials": [{"credential": c} for c in redeemed.credentials]}, headers=NO_STORE)
