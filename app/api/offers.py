"""Credential offers for providers: a claim link and QR code for one issued credential (wallet demo)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from app.api.issuer import PROVIDER_ROUTES, _provider

router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)


@router.post("/credentials/{credential_id:path}/offer", status_code=201, summary="A single-use, expiring claim link (and QR code) for a learner's wallet")
async def create_offer(request: Request, credential_id: str) -> dict[str, Any]:
    provider = await _provider(request)
    return await run_in_threadpool(request.app.state.wallet.create_offer, provider, credential_id)
