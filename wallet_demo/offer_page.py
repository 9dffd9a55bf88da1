"""The learner's page of an OpenID4VCI offer, ``/offers/{id}``: what is offered and by whom, the
``openid-credential-offer://`` link (OpenID4VCI 1.0 §4.1) as a link and a QR code (segno) for any wallet, and that
the wallet will ask for the code the provider sent on another channel (the tx_code). No credential id, no code:
the page shows only what the offer by reference already tells anyone who holds its link."""

from __future__ import annotations

import urllib.parse

import segno
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from app.api.deps import Oid4vciDep
from app.errors import MicrocredError
from app.issuance.oid4vci import CONFIGURATIONS
from wallet_demo import templates

router = APIRouter(include_in_schema=False)


@router.get("/offers/{offer_id}", response_class=HTMLResponse)
async def offer_page(request: Request, service: Oid4vciDep, offer_id: str = Path(max_length=64)) -> HTMLResponse:
    try:
        offer = await run_in_threadpool(service.offer_state, None, offer_id)
    except MicrocredError as exc:
        return templates.TemplateResponse(request, "offer_missing.html", {"detail": exc.detail}, status_code=exc.status)
    link = offer["credential_offer_uri"]
    qr = segno.make(link, error="m").svg_inline(scale=4, title="Scan with your wallet")
    formats = [CONFIGURATIONS[c].names["en"] for c in offer["configurations"] if c in CONFIGURATIONS]
    demo = "/wallet/receive?" + urllib.parse.urlencode({"link": link})  # the demo wallet of this service, pre-filled
    return templates.TemplateResponse(request, "offer.html", {"offer": offer, "link": link, "qr": qr, "formats": formats, "demo_wallet": demo})
