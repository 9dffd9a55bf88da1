"""Token-bucket rate limits per API key and per client address (RFC 6585 429 + Retry-After)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.ratelimit import RateLimiter
from app.main import create_app
from app.settings import Settings


def _client(**limits) -> TestClient:
    app = create_app(Settings(**limits))

    @app.get("/work")
    def work() -> dict:
        return {"ok": True}

    return TestClient(app)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_exceeding_the_key_limit_answers_429_problem_with_retry_after():
    client = _client(rate_limit_per_key_per_minute=3, rate_limit_per_ip_per_minute=1000)
    for _ in range(3):
        assert client.get("/work", headers=_bearer("key-a")).status_code == 200
    r = client.get("/work", headers=_bearer("key-a"))
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "RATE_LIMITED" and body["status"] == 429 and "API key" in body["detail"]
    # 3 a minute = one token every 20 s.
    assert 1 <= int(r.headers["retry-after"]) <= 20
    assert "x-request-id" in r.headers


def test_different_keys_are_independent():
    client = _client(rate_limit_per_key_per_minute=2, rate_limit_per_ip_per_minute=1000)
    for _ in range(2):
        assert client.get("/work", headers=_bearer("key-a")).status_code == 200
    assert client.get("/work", headers=_bearer("key-a")).status_code == 429
    assert client.get("/work", headers=_bearer("key-b")).status_code == 200
    assert client.get("/work", headers=_bearer("key-b")).status_code == 200
    assert client.get("/work", headers=_bearer("key-b")).status_code == 429


def test_address_limit_applies_without_a_key_and_cannot_be_dodged_with_made_up_keys():
    client = _client(rate_limit_per_key_per_minute=1000, rate_limit_per_ip_per_minute=4)
    for i in range(4):
        assert client.get("/work", headers=_bearer(f"random-{i}")).status_code == 200
    r = client.get("/work", headers=_bearer("yet-another"))
    assert r.status_code == 429 and "client address" in r.json()["detail"]
    assert client.get("/work").status_code == 429


def test_probes_and_metrics_are_exempt():
    client = _client(rate_limit_per_key_per_minute=1, rate_limit_per_ip_per_minute=1)
    assert client.get("/work").status_code == 200
    assert client.get("/work").status_code == 429
    for _ in range(5):
        for path in ("/health", "/ready", "/metrics"):
            assert client.get(path).status_code == 200


def test_disabled():
    client = _client(rate_limit_enabled=False, rate_limit_per_ip_per_minute=1)
    assert all(client.get("/work").status_code == 200 for _ in range(5))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_at_the_configured_rate_and_keys_are_never_stored():
    clock = Clock()
    limiter = RateLimiter(Settings(rate_limit_per_key_per_minute=60, rate_limit_per_ip_per_minute=10_000), clock=clock)
    for _ in range(60):
        assert limiter.acquire("10.0.0.1", "the-secret-token") is None
    assert limiter.acquire("10.0.0.1", "the-secret-token") == ("key", 1)
    # The refused request charged nothing: the address bucket counts 60 requests, not 61.
    assert limiter.by_ip.level("10.0.0.1", clock.now) == 10_000 - 60
    clock.now += 0.5
    assert limiter.acquire("10.0.0.1", "the-secret-token") == ("key", 1)  # half a token back: still refused
    clock.now += 0.5
    assert limiter.acquire("10.0.0.1", "the-secret-token") is None  # one per second at 60/min
    assert all("the-secret-token" not in name for name in limiter.by_key._buckets)


def test_bucket_count_is_bounded():
    clock = Clock()
    limiter = RateLimiter(Settings(rate_limit_max_clients=100), clock=clock)
    for i in range(1000):
        limiter.acquire(f"10.0.{i // 256}.{i % 256}", f"key-{i}")
    assert len(limiter.by_ip._buckets) == 100 and len(limiter.by_key._buckets) == 100
