"""Application factory: settings, database, domain services, routers, error handlers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import docs, openapi, problems, router
from app.api.health import add_ready_check
from app.api.ratelimit import RateLimiter, RateLimitMiddleware
from app.api.security_headers import SecurityHeadersMiddleware
from app.errors import KeyUnavailable
from app.holder import Wallet
from app.issuance import BatchRunner, Catalogue, Issuance
from app.issuance.oid4vci import Oid4vci
from app.issuance.vc_api import Exchanges
from app.observability import ObservabilityMiddleware, configure_logging
from app.performance import trace_memory, tune_gc
from app.runtime import Runtime
from app.settings import Settings, get_settings
from app.store import open_database
from app.verification.oid4vp import PresentationRequests
from app.verification.service import VerificationService
from wallet_demo import pages


def _keys_ready(issuance: Issuance):
    def check() -> None:
        if problems := issuance.providers.check_keys():
            raise KeyUnavailable("; ".join(problems))

    return check


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if error := settings.base_url_error():
        raise RuntimeError(error)  # `serve` says so in one line before it starts; this stops any other launcher
    configure_logging(settings)
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db = open_database(settings, migrate=settings.auto_migrate)
        app.state.db = db
        issuance = app.state.issuance = Issuance(runtime, db)
        app.state.oid4vci = Oid4vci(issuance)
        app.state.catalogue = Catalogue(settings, db)
        app.state.batches = BatchRunner(issuance)
        app.state.batches.resume_unfinished()
        # This service's providers count as trusted issuers, and what it publishes itself (its did:web
        # documents, its status lists) is read from its own data rather than fetched over the network:
        # authoritative, always current, no loopback needed.
        issuance.attach_own_data()
        # What `serve` checks before it starts, asked again by /ready: a key file swapped or removed, a context
        # edited, after the start.
        add_ready_check(app, "signing_keys", _keys_ready(issuance))
        add_ready_check(app, "context_digests", runtime.loader.verify_all)
        app.state.verification = VerificationService(runtime.verifier, db, settings)
        app.state.presentation_requests = PresentationRequests(runtime.verifier, db, settings)
        app.state.vc_api_exchanges = Exchanges(issuance, runtime.verifier)
        tune_gc()
        if settings.tracemalloc_dir:
            trace_memory(settings.tracemalloc_dir)
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
        docs_url=None,  # served by app.api.docs from a package, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    problems.install(app)
    openapi.install(app)
    docs.install(app)
    app.include_router(router)
    pages.install(app)
    # Added last = outermost: the observability middleware logs and counts the rate limiter's 429s too.
    if settings.rate_limit_enabled:
        app.state.rate_limiter = RateLimiter(settings)
        app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs.PAGES)  # a CSP on every response, 429s included
    app.add_middleware(ObservabilityMiddleware)
    return app
