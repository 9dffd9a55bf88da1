"""``GET /metrics``: Prometheus text exposition format of ``app/observability.py``'s metrics.

In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, several workers) every scrape reads all the
workers' files and sums them, so whichever worker answers, the numbers are the service's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    if request.app.state.settings.metrics_multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
