"""Rate limits per API key and per client address: token buckets, answered with RFC 6585 ``429``.

Each client has a bucket holding up to *N* tokens (N = the per-minute setting) that refills at N/60
tokens a second; a request takes one token, and a request finding its bucket empty is answered ``429
Too Many Requests`` (RFC 6585 §4) as RFC 9457 problem+json with ``Retry-After`` (RFC 9110 §10.2.3, in
whole seconds) saying when one token will be back.

Two buckets apply to a request: its client address always, and its API key when it carries
``Authorization: Bearer …`` (RFC 6750). Keys are charged in addition to, not instead of, the address:
otherwise a client could dodge the address limit by sending a different made-up token each time. The
token is never stored: buckets are keyed by a keyed BLAKE2b hash with a secret drawn at process start,
so not even a memory dump links a bucket to a key. ``/health``, ``/ready`` and ``/metrics`` are exempt
(probes and scrapes must never be refused).

**Buckets are per process.** With ``W`` worker processes and ``R`` replicas a client can get up to
``W × R × N`` requests a minute through, since each process keeps its own buckets and the load
balancer spreads a client's requests over them. An operator sizes the settings as the wanted
service-wide limit divided by ``W × R`` (and keeps the burst in mind: a full bucket admits N at once).
Behind a proxy, set ``forwarded_allow_ips`` so the address is the client's and not the proxy's. A shared
limiter (a table in the database, or Redis with an atomic script) would make the limit exact across
processes; it is the next step if per-process limits prove too coarse.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import OrderedDict

from app.api.problems import problem
from app.observability import OPERATIONAL_PATHS
from app.settings import Settings


class TokenBuckets:
    """Named token buckets of one capacity and refill rate, at most ``max_entries`` of them (LRU).

    Dropping the least recently seen bucket is nearly lossless: a bucket idle for a minute is full
    again, exactly what a new one would be.
    """

    def __init__(self, per_minute: int, max_entries: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.max_entries = max_entries
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # name -> (tokens, updated)

    def level(self, name: str, now: float) -> float:
        tokens, updated = self._buckets.get(name, (self.capacity, now))
        return min(self.capacity, tokens + (now - updated) * self.rate)

    def wait(self, tokens: float) -> float:
        """Seconds until a bucket at ``tokens`` holds one whole token."""
        return max(0.0, (1.0 - tokens) / self.rate)

    def set(self, name: str, tokens: float, now: float) -> None:
        self._buckets[name] = (tokens, now)
        self._buckets.move_to_end(name)
        while len(self._buckets) > self.max_entries:
            self._buckets.popitem(last=False)


class RateLimiter:
    """The two limits of the module docstring, checked and charged together (all or nothing)."""

    def __init__(self, settings: Settings, clock=time.monotonic) -> None:
        self.clock = clock
        self.by_key = TokenBuckets(settings.rate_limit_per_key_per_minute, settings.rate_limit_max_clients, clock)
        self.by_ip = TokenBuckets(settings.rate_limit_per_ip_per_minute, settings.rate_limit_max_clients, clock)
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()

    def key_id(self, token: str) -> str:
        return hashlib.blake2b(token.encode("utf-8", "surrogateescape"), key=self._secret, digest_size=16).hexdigest()

    def acquire(self, address: str, token: str | None) -> tuple[str, int] | None:
        """Take one token from each applicable bucket; or, when one is empty, take none and return
        ``(which limit, Retry-After seconds)``."""
        wanted = [("address", self.by_ip, address)]
        if token:
            wanted.append(("key", self.by_key, self.key_id(token)))
        with self._lock:
            now = self.clock()
            levels = [(kind, buckets, name, buckets.level(name, now)) for kind, buckets, name in wanted]
            short = [(kind, buckets.wait(level)) for kind, buckets, _, level in levels if level < 1.0]
            if short:
                kind = max(short, key=lambda s: s[1])[0]
                return kind, max(1, math.ceil(max(wait for _, wait in short)))
            for _, buckets, name, level in levels:
                buckets.set(name, level - 1.0, now)
        return None


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
    return None


class RateLimitMiddleware:
    """Pure ASGI middleware applying a ``RateLimiter`` to every HTTP request but the operational ones."""

    def __init__(self, app, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in OPERATIONAL_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        refused = self.limiter.acquire(address, bearer_token(scope.get("headers", [])))
        if refused is None:
            await self.app(scope, receive, send)
            return
        kind, retry_after = refused
        response = problem(
            429,
            "RATE_LIMITED",
            "Too many requests",
            f"The rate limit per {'API key' if kind == 'key' else 'client address'} is exceeded; retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
