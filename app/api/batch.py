"""Batch issuance: JSON or CSV in, a job to poll, per-record results out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app import strict_json
from app.api.deps import IdempotencyKey, Provider, read_body
from app.api.issuer import PROVIDER_ROUTES
from app.credentials import FORMATS
from app.errors import MalformedValueError, UnsupportedMediaType
from app.issuance import parse_csv_request, parse_json_request
from app.issuance.idempotent import once
from app.proofs import PROOF_FORMATS
from app.store import batches, specifications
from app.store.idempotency import StoredResponse

router = APIRouter(tags=["issuer"], **PROVIDER_ROUTES)


def _one_of(names: tuple[str, ...]) -> str:
    """A query parameter's pattern: exactly one of ``names`` (``+`` is the only regex character they hold)."""
    return "^(" + "|".join(name.replace("+", "\\+") for name in names) + ")$"


def _job_view(job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "issued": job.issued,
        "invalid": job.invalid,
        "errored": job.errored,
        "progress": round(job.fraction, 4),
        "error": job.error,
        "results": f"/microcredentials/batch/{job.id}/items",
    }


@router.post(
    "/microcredentials/batch",
    status_code=202,
    summary="Issue many micro-credentials as a job (JSON or CSV)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["records"],
                        "properties": {
                            "format": {"type": "string", "enum": [*FORMATS, "sd-jwt"]},
                            "proof": {"type": "string", "enum": [*PROOF_FORMATS, "sd-jwt"]},
                            "specificationId": {"type": "string"},
                            "records": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                },
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "email,given_name,family_name,awarded_at,grade\nana@example.org,Ana,Andromeda,2026-06-30T10:00:00Z,Pass\n",
                },
            },
        }
    },
)
async def submit_batch(
    request: Request,
    provider: Provider,
    idempotency_key: IdempotencyKey,
    format: str = Query("ob3", pattern=_one_of(FORMATS), description="for CSV uploads"),
    proof: str = Query("eddsa-rdfc-2022", pattern=_one_of(PROOF_FORMATS), description="for CSV uploads"),
    specificationId: str | None = Query(None, max_length=64, description="for CSV uploads (required there)"),
) -> Response:
    settings = request.app.state.settings
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await read_body(request, settings.batch_max_body_bytes)
    if media in ("application/json",):
        body = strict_json.loads(raw, max_bytes=settings.batch_max_body_bytes, max_depth=settings.max_json_depth)
        batch = parse_json_request(body, settings.batch_max_records)
    elif media in ("text/csv",):
        if not specificationId:
            raise MalformedValueError(
                "a CSV batch issues against a specification: give ?specificationId=", errors=[{"pointer": "/specificationId", "detail": "required"}]
            )

        def lang() -> str:
            with request.app.state.db.read() as session:
                return specifications.get_specification(session, specificationId, provider_id=provider.id).data["primaryLanguage"]

        batch = parse_csv_request(
            raw,
            fmt=format,
            proof=proof,
            specification_id=specificationId,
            max_records=settings.batch_max_records,
            primary_language=await run_in_threadpool(lang),
        )
    else:
        raise UnsupportedMediaType("send application/json or text/csv")
    payload = {"format": batch.format, "proof": batch.proof, "specificationId": batch.specification_id, "records": batch.records}
    key = once(provider.id, idempotency_key, payload, _job_response)
    job = await run_in_threadpool(request.app.state.batches.submit, provider, batch, once=key)
    return stored_response(job) if isinstance(job, StoredResponse) else _response(*_job_response(job))


def _job_response(job) -> tuple[int, bytes, dict[str, str]]:
    return 202, strict_json.dumps(_job_view(job)).encode(), {"location": f"/microcredentials/batch/{job.id}"}


def _response(status: int, body: bytes, headers: dict[str, str]) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def stored_response(stored: StoredResponse) -> Response:
    """The response an earlier request with the same ``Idempotency-Key`` got, again."""
    return _response(stored.status, stored.body, stored.headers)


@router.get("/microcredentials/batch/{job_id}", summary="A batch job's progress")
async def batch_progress(request: Request, provider: Provider, job_id: str) -> dict[str, Any]:
    def load():
        with request.app.state.db.read() as session:
            return batches.job_progress(session, job_id, provider_id=provider.id)

    return _job_view(await run_in_threadpool(load))


@router.get("/microcredentials/batch/{job_id}/items", summary="A batch job's per-record results")
async def batch_items(
    request: Request,
    provider: Provider,
    job_id: str,
    status: str | None = Query(None, pattern="^(issued|invalid|error)$"),
    after: int = Query(-1, ge=-1),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    def load():
        with request.app.state.db.read() as session:
            batches.job_progress(session, job_id, provider_id=provider.id)  # 404 for others' jobs
            return batches.list_items(session, job_id, status=status, after_row=after, limit=limit)

    items = await run_in_threadpool(load)
    return {
        "items": [{"row": i.row_number, "status": i.status, "credentialId": i.credential_id, "errors": i.errors} for i in items],
        "next": items[-1].row_number if len(items) == limit else None,
    }
