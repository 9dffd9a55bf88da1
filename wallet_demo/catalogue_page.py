"""The public catalogue as a page (``/catalogue.html``): the published specifications, filterable."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from app.api.catalogue import filters
from app.api.deps import CatalogueDep
from wallet_demo import templates

router = APIRouter(include_in_schema=False)


@router.get("/catalogue.html", response_class=HTMLResponse)
async def catalogue_page(
    request: Request,
    catalogue: CatalogueDep,
    provider: str | None = Query(None, max_length=40),
    country: str | None = Query(None, pattern="^[A-Za-z]{0,2}$"),
    eqf: str | None = Query(None, pattern="^[1-8]?$"),
    isced: str | None = Query(None, pattern="^([0-9]{2,4})?$"),
    q: str | None = Query(None, max_length=100),
) -> HTMLResponse:
    result = await run_in_threadpool(
        lambda: catalogue.public(**filters(provider or None, country or None, int(eqf) if eqf else None, isced or None, None, None, q or None, 100, None))
    )
    chosen = {"provider": provider, "country": country, "eqf": eqf, "isced": isced, "q": q}
    return templates.TemplateResponse(request, "catalogue.html", {"items": result["items"], "filters": chosen})
