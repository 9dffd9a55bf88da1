"""Application factory: settings, database, domain services, routers, error handlers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import batch, catalogue, health, issuer, metrics, offers, openapi, problems, verifier
from app.observability import ObservabilityMiddleware, configure_logging
from app.ratelimit import RateLimiter, RateLimitMiddleware
from app.performance import tune_gc
from app.runtime import Runtime
from app.settings import Settings, get_settings


def _providers_of(db):
    """This service's providers, for the trust check (they count as trusted issuers)."""
    from app.store import providers

    def read():
        with db.read() as session:
            return providers.list_providers(session)

    return read


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if error := settings.base_url_error():
        raise RuntimeError(error)  # `serve` says so in one line before it starts; this stops any other launcher
    configure_logging(settings)
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from app.batch import BatchRunner
        from app.catalogue import Catalogue
        from app.issuance import Issuance
        from app.store import open_database

        db = open_database(settings, migrate=settings.auto_migrate)
        app.state.db = db
        app.state.issuance = Issuance(runtime, db)
        app.state.catalogue = Catalogue(settings, db)
        app.state.batches = BatchRunner(app.state.issuance)
        app.state.batches.resume_unfinished()
        runtime.trust_check.attach_providers(_providers_of(db))
        # What this service publishes itself (its did:web documents, its status lists) is read from its own
        # data rather than fetched over the network: authoritative, always current, no loopback needed.
        runtime.resolver.local = app.state.issuance.local_did_document
        runtime.status_checker.local = app.state.issuance.local_status_list
        tune_gc()
        from app.wallet import Wallet

        app.state.wallet = Wallet(runtime, db)
        try:
            yield
        finally:
            app.state.batches.close()
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
    openapi.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(offers.router)
    app.include_router(issuer.router)
    app.include_router(issuer.public)
    app.include_router(catalogue.router)
    app.include_router(catalogue.public)
    app.include_router(batch.router)
    app.include_router(verifier.router)

    from wallet_demo import pages

    pages.install(app)
    # Added last = outermost: the observability middleware logs and counts the rate limiter's 429s too.
    if settings.rate_limit_enabled:
        app.state.rate_limiter = RateLimiter(settings)
        app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    app.add_middleware(ObservabilityMiddleware)
    return app
