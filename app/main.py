"""Application factory: settings, routers, error handlers."""

from __future__ import annotations

from fastapi import FastAPI

from app import __version__
from app.api import health, problems
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="microcred",
        version=__version__,
        description="Issuer and verifier of verifiable EU micro-credentials (W3C VC API).",
    )
    app.state.settings = settings
    problems.install(app)
    app.include_router(health.router)
    return app
