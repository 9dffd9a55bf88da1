"""Logs, request ids and Prometheus metrics: what an operator sees of a running service.

**Logs.** ``configure_logging(settings)`` sends every record to stderr, one JSON object per line
(``log_format=json``) or one readable line (``text``), with ``timestamp`` (RFC 3339, UTC), ``level``,
``logger``, ``message`` and the ``request_id`` of the request being served. The middleware below
writes one access record per request (logger ``microcred.access``) with ``method``, ``path``,
``route``, ``status`` and ``duration_ms``.

Learners' personal data never reaches the logs (GDPR art. 5(1)(c), data minimisation): request and
response bodies are never logged, nor query strings (they can carry tokens or e-mail addresses), nor
headers, nor the client's address (an IP address is personal data). Only the path is logged.

**Request ids.** A client's ``X-Request-ID`` is reused when it is 1 to 64 characters of
``[A-Za-z0-9._-]`` (anything else could forge log lines or smuggle data), otherwise one is generated;
it is echoed in the response's ``X-Request-ID`` header and attached to every log record of the request.

**Metrics** (Prometheus text exposition at ``GET /metrics``, ``app/api/metrics.py``). Labels take the
route *template* (``/credentials/{id}``), never the raw path, so the number of series stays bounded
whatever clients send. With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
own variable, read when the library is imported): each process writes its samples there and ``/metrics``
sums them; ``microcred serve`` empties the directory at start.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import sys
import time
import uuid

from prometheus_client import Counter, Histogram

from app.settings import Settings

# ---------------------------------------------------------------------------------------------------
# Metrics: module-level, so each exists once per process (prometheus-client refuses duplicates).

HTTP_REQUESTS = Counter(
    "microcred_http_requests",
    "HTTP requests answered, by method, route template and status code. Incremented by ObservabilityMiddleware.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "microcred_http_request_duration_seconds",
    "Time from request start to the end of the response body, by route template. Observed by ObservabilityMiddleware.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CREDENTIALS_ISSUED = Counter(
    "microcred_credentials_issued",
    "Credentials signed and stored. Incremented by the issuance service (app/api/issuer and batch issuance) once the credential "
    "is durably stored: format = edc | ob3 | …, proof = the cryptosuite (eddsa-rdfc-2022, eddsa-jcs-2022, Ed25519Signature2020) or vc+jwt.",
    ["format", "proof"],
)
VERIFICATIONS = Counter(
    "microcred_verifications",
    "Verification reports produced. Incremented by the verifier API (app/api/verifier) once per report: outcome = verified | failed | "
    "indeterminate; reason = the id of the first check that did not pass (or 'none'). Both are from a fixed set: never free text.",
    ["outcome", "reason"],
)

#: The ids of the routes that are never rate limited and whose traffic is operational.
OPERATIONAL_PATHS = frozenset({"/health", "/ready", "/metrics"})
UNMATCHED_ROUTE = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# ---------------------------------------------------------------------------------------------------
# Logging

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("microcred_request_id", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REQUEST_ID_HEADER = "x-request-id"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is emitted as a field.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def valid_request_id(value: str | None) -> str:
    """The client's request id when it is safe to log and echo, else a fresh one (32 hex digits)."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _timestamp(created: float) -> str:
    return datetime.datetime.fromtimestamp(created, datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        return f"{line} [request_id={request_id}]" if request_id else line


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a replaced stderr, e.g. under test capture, still gets the lines)."""

    _microcred = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property decides
        pass


AUDIT = logging.getLogger("microcred.audit")


def audit(event: str, **facts: object) -> None:
    """An append-only audit record of a security-relevant refusal (a bad API key, a forged or altered credential,
    a refused outbound fetch, a refused CSRF token): one ``microcred.audit`` line with the ``event``, the request id
    and ``facts`` that carry no personal data (codes, paths, hosts, never a body, a key or an address)."""
    extra = {"audit_event": event, "request_id": request_id_var.get(), **{f"audit_{k}": v for k, v in facts.items()}}
    AUDIT.warning("audit: %s", event, extra=extra)


def log_format(settings: Settings) -> str:
    """``log_format`` as set; ``auto``: readable text on a terminal, JSON in production or when piped to a shipper."""
    if settings.log_format != "auto":
        return settings.log_format
    return "text" if settings.environment != "production" and sys.stderr.isatty() else "json"


def configure_logging(settings: Settings) -> None:
    """Route every logger (uvicorn's and alembic's too) to one stderr handler in the configured format.

    Idempotent: calling it again (one app per test, or the factory in each worker) replaces only the
    handler it installed before, leaving handlers others added (pytest's capture) alone.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_microcred", False)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format(settings) == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn's loggers log through the root handler; its access log is replaced by ours (it logs query strings).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every outbound request's full URL at INFO, query string included.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def reset_multiproc_dir(settings: Settings) -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts (prometheus-client's multiprocess rule):
    files left by an earlier run would be summed into this run's counters."""
    directory = settings.metrics_multiproc_dir
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


# ---------------------------------------------------------------------------------------------------
# The middleware

access_log = logging.getLogger("microcred.access")


def route_template(scope: dict) -> str:
    """The matched route's path template; a fixed label when nothing matched (bounded label values).

    FastAPI puts its own routes in ``scope["route"]``; for plain Starlette routes (``/openapi.json``,
    ``/docs``) only the matched ``endpoint`` is in the scope, so the template is looked up by endpoint.
    """
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    endpoint = scope.get("endpoint")
    app = scope.get("app")
    if endpoint is not None and app is not None:
        for route in getattr(app, "routes", ()):
            if getattr(route, "endpoint", None) is endpoint and isinstance(getattr(route, "path", None), str):
                return route.path
    return UNMATCHED_ROUTE


class ObservabilityMiddleware:
    """Pure ASGI middleware: request id, one access log record, request counter and duration histogram.

    Outermost of the app's middleware, so rate-limited answers are logged and counted too. It sees the
    route because Starlette's router writes the matched route into the (shared) ASGI scope.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
                break
        request_id = valid_request_id(request_id)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500  # an exception escaping the app is answered 500 by Starlette's outermost middleware

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - start
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(route).observe(duration)
            # The route template only: never the concrete path (it can hold share tokens, offer tokens or a
            # learner's DID), the query string, headers, body or client address (module docstring).
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": route,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                },
            )
            request_id_var.reset(token)
