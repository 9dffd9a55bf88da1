"""Application factory: settings, routers, error handlers."""

from __future__ import annotations

from fastapi import FastAPI

from app import __version__
from app.api import health, metrics, openapi, problems
from app.observability import ObservabilityMiddleware, configure_logging
from app.ratelimit import RateLimiter, RateLimitMiddleware
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    app = FastAPI(
        title="microcred",
        version=__version__,
        description="Issuer and verifier of verifiable EU micro-credentials (W3C VC API).",
    )
    app.state.settings = settings
    problems.install(app)
    openapi.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    # Added last = outermost: the observability middleware logs and counts the rate limiter's 429s too.
    if settings.rate_limit_enabled:
        app.state.rate_limiter = RateLimiter(settings)
        app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    app.add_middleware(ObservabilityMiddleware)
    return app
