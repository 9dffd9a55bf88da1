"""Credential offers for providers: a claim link and QR code for one issued credential (wallet demo)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app.api.deps import Provider, WalletDep
from app.api.issuer import PROVIDER_ROUTES

router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)


@router.post("/credentials/{credential_id:path}/offer", status_code=201, summary="A single-use, expiring claim link (and QR code) for a learner's wallet")
async def create_offer(provider: Provider, wallet: WalletDep, credential_id: str) -> dict[str, Any]:
    return await run_in_threadpool(wallet.create_offer, provider, credential_id)
