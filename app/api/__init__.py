"""HTTP layer: thin FastAPI routers, one per audience, gathered into one ``router``; problem+json errors.

``app.main`` includes ``router`` once. The order is the routes' matching order: the offer route
(``/credentials/{id}/offer``) before the issuer's ``/credentials/{id:path}``.
"""

from fastapi import APIRouter

from app.api import batch, catalogue, health, issuer, metrics, offers, oid4vci, oid4vp, stacks, vc_api, verifier

router = APIRouter()
for _part in (
    health.router,
    metrics.router,
    offers.router,
    oid4vci.router,
    oid4vci.public,
    issuer.router,
    issuer.public,
    catalogue.router,
    catalogue.public,
    batch.router,
    stacks.router,
    verifier.router,
    oid4vp.router,
    vc_api.router,
    vc_api.public,
):
    router.include_router(_part)

__all__ = ["router"]
