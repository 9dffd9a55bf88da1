"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Process is up")
def health() -> dict[str, str]:
    return {"status": "ok"}
