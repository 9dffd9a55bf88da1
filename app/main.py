"""Application factory: settings, database, domain services, routers, error handlers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import health, issuer, offers, problems
from app.runtime import Runtime
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from app.issuance import Issuance
        from app.store import open_database

        db = open_database(settings, migrate=settings.auto_migrate)
        app.state.db = db
        app.state.issuance = Issuance(runtime, db)
        from app.wallet import Wallet

        app.state.wallet = Wallet(runtime, db)
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(
        title="microcred",
        version=__version__,
        description="Issuer and verifier of verifiable EU micro-credentials (W3C VC API).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    problems.install(app)
    app.include_router(health.router)
    app.include_router(offers.router)
    app.include_router(issuer.router)
    app.include_router(issuer.public)

    from wallet_demo import pages

    pages.install(app)
    return app
