"""The front page (``GET /``): what this service is, and the way to the verify page, the catalogue and the wallet.

Every page's logo links here; before this page ``/`` was a JSON 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wallet_demo import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def front_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {})
