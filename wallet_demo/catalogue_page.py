"""The public catalogue as pages: ``/catalogue.html`` (the published specifications, filterable) and
``/catalogue/{id}/page`` (one specification: description, outcomes, workload, level, assessment, QA, provider,
how to enrol, what it stacks into). ISCED-F fields and countries are shown by their EU vocabulary labels."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import pass_context

from app.api.catalogue import filters
from app.api.deps import CatalogueDep
from app.credentials import vocab
from app.errors import MicrocredError
from wallet_demo import templates
from wallet_demo.i18n import country_name, language

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
    facets = await run_in_threadpool(catalogue.facets)
    lang = language(request)
    chosen = {"provider": provider, "country": (country or "").upper() or None, "eqf": eqf, "isced": isced, "q": q}
    # The filters offer what the catalogue holds, by name (a chosen value stays offered even when nothing matches).
    countries = sorted({*facets["countries"], *([chosen["country"]] if chosen["country"] else [])})
    fields = sorted({*facets["fields"], *([isced] if isced else [])})
    options = {
        "countries": sorted(((c, _country(c, lang)) for c in countries), key=lambda o: o[1] or ""),
        "fields": [(c, _isced(c, lang), len(c) > 2) for c in fields],
    }
    return templates.TemplateResponse(request, "catalogue.html", {"items": result["items"], "filters": chosen, "options": options})


def _country(code: object, lang: str = "en") -> str | None:
    if not isinstance(code, str) or not vocab.is_country(code):
        return code if isinstance(code, str) else None
    return country_name(code, lang, vocab.country(code).label)


def _isced(code: object, lang: str = "en") -> str | None:
    concept = vocab.isced_f().get(code) if isinstance(code, str) else None
    return f"{concept.label_in(lang)} ({code})" if concept else (code if isinstance(code, str) else None)


def _label(table, key: object, lang: str = "en") -> str | None:
    concept = table().get(key) if isinstance(key, str) else None
    return concept.label_in(lang) if concept else (key if isinstance(key, str) else None)


@router.get("/catalogue/{spec_id}/page", response_class=HTMLResponse)
async def specification_page(request: Request, catalogue: CatalogueDep, spec_id: str = Path(max_length=100)) -> HTMLResponse:
    try:
        item = await run_in_threadpool(catalogue.public_one, spec_id)
    except MicrocredError as exc:
        return templates.TemplateResponse(request, "catalogue_missing.html", {"detail": exc.detail}, status_code=exc.status)
    spec = item["specification"]
    participation = spec.get("participation") or {}
    assessment = spec.get("assessment") or {}
    shown = {
        "fields": [_isced(c, language(request)) for c in spec.get("fieldsOfEducation") or []],
        "country": _country(item.get("country"), language(request)),
        "assessmentType": _label(vocab.assessment_types, assessment.get("type"), language(request)),
        "assessmentMode": _label(vocab.modes, assessment.get("mode"), language(request)),
        "participationMode": _label(vocab.modes, participation.get("mode"), language(request)),
        "learningSetting": _label(vocab.learning_settings, participation.get("learningSetting"), language(request)),
        "bodies": [{**b, "countryName": _country(b.get("country"), language(request))} for b in spec.get("awardingBodies") or [] if isinstance(b, dict)],
        "components": await run_in_threadpool(catalogue.components_of, spec) if spec.get("composite") else [],
        "stacksInto": await run_in_threadpool(catalogue.stacks_into, spec_id),
    }
    return templates.TemplateResponse(request, "catalogue_entry.html", {"item": item, "spec": spec, "shown": shown})


templates.env.filters["isced_label"] = _isced
templates.env.filters["country_label"] = pass_context(lambda context, code: _country(code, language(context["request"])) or "")
