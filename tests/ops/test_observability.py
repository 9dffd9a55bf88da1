"""Structured logs (one JSON object per line, request id, no learner data) and Prometheus metrics."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from app.main import create_app
from app.settings import Settings
from tests.live_process import LiveService


def _app(**overrides):
    app = create_app(Settings(**overrides))

    @app.post("/things")
    def things(body: dict) -> dict:
        return {"received": len(body)}

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict:
        return {"id": item_id}

    return app


def _lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_a_request_logs_one_json_line_with_its_request_id_and_no_learner_data(capsys):
    client = TestClient(_app())
    capsys.readouterr()
    r = client.post(
        "/things?email=ada%40example.org&token=s3cret",
        json={"name": "Ada Lovelace", "email": "ada@example.org"},
        headers={"X-Request-ID": "req-42.a_b"},
    )
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-42.a_b"
    err = capsys.readouterr().err
    records = [rec for rec in _lines(err) if rec.get("request_id") == "req-42.a_b"]
    assert len(records) == 1, err
    (rec,) = records
    assert rec["logger"] == "microcred.access" and rec["level"] == "INFO"
    assert rec["method"] == "POST" and rec["path"] == "/things" and rec["route"] == "/things" and rec["status"] == 200
    assert isinstance(rec["duration_ms"], float) and rec["timestamp"].endswith("Z")
    # Neither the body nor the query string (nor the client address) reaches the logs, from any logger.
    for secret in ("Ada", "ada@example.org", "ada%40example.org", "s3cret", "testclient"):
        assert secret not in err


@pytest.mark.parametrize("bad", ["", "a" * 65, "has space", "line\\nbreak", "a/b", "<script>", "x;drop"])
def test_an_unsafe_request_id_is_replaced(bad, capsys):
    r = TestClient(_app()).get("/health", headers={"X-Request-ID": bad})
    generated = r.headers["x-request-id"]
    assert generated != bad and len(generated) == 32 and int(generated, 16) >= 0
    assert any(rec.get("request_id") == generated for rec in _lines(capsys.readouterr().err))


def test_a_64_character_request_id_is_kept():
    rid = "A-z0.9_" * 9 + "x"
    assert len(rid) == 64
    assert TestClient(_app()).get("/health", headers={"X-Request-ID": rid}).headers["x-request-id"] == rid


def test_text_format(capsys):
    TestClient(_app(log_format="text")).get("/health", headers={"X-Request-ID": "t1"})
    line = next(line for line in capsys.readouterr().err.splitlines() if "t1" in line)
    assert "GET /health 200" in line and "[request_id=t1]" in line and not line.startswith("{")


def test_unhandled_error_is_logged_with_the_request_id_and_counted(capsys):
    app = _app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    before = REGISTRY.get_sample_value("microcred_http_requests_total", {"method": "GET", "route": "/boom", "status": "500"}) or 0
    r = TestClient(app, raise_server_exceptions=False).get("/boom", headers={"X-Request-ID": "boom-1"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-request-id"] == "boom-1" and "kaput" not in r.text
    records = [rec for rec in _lines(capsys.readouterr().err) if rec.get("request_id") == "boom-1"]
    assert {rec["logger"] for rec in records} >= {"microcred.errors", "microcred.access"}
    assert REGISTRY.get_sample_value("microcred_http_requests_total", {"method": "GET", "route": "/boom", "status": "500"}) == before + 1


def test_metrics_label_by_route_template_not_raw_path():
    client = TestClient(_app())
    labels = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    before = REGISTRY.get_sample_value("microcred_http_requests_total", labels) or 0
    before_hist = REGISTRY.get_sample_value("microcred_http_request_duration_seconds_count", {"route": "/items/{item_id}"}) or 0
    for i in (1, 2, 3):
        assert client.get(f"/items/{i}").status_code == 200
    client.get("/no/such/path/12345")
    assert REGISTRY.get_sample_value("microcred_http_requests_total", labels) == before + 3
    assert REGISTRY.get_sample_value("microcred_http_request_duration_seconds_count", {"route": "/items/{item_id}"}) == before_hist + 3
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'microcred_http_requests_total{method="GET",route="/items/{item_id}",status="200"}' in text
    assert 'route="<unmatched>"' in text and "/items/1" not in text and "12345" not in text
    for name in ("microcred_credentials_issued_total", "microcred_verifications_total", "microcred_http_request_duration_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text or f"# TYPE {name}" in text


@pytest.mark.slow
def test_metrics_sum_over_workers_in_multiprocess_mode(tmp_path):
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale file of an earlier run")  # serve must clear it
    with LiveService(tmp_path, env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, workers=2) as svc:
        for _ in range(30):
            # A new connection each time, so both workers get some of them.
            assert httpx.get(svc.url + "/ready", headers={"Connection": "close"}).status_code == 200
        pids = {p.name.split("_")[-1] for p in metrics_dir.glob("counter_*.db")}
        text = httpx.get(svc.url + "/metrics").text
    line = next(line for line in text.splitlines() if line.startswith('microcred_http_requests_total{method="GET",route="/ready",status="200"}'))
    assert float(line.rsplit(" ", 1)[1]) == 30.0
    assert len(pids) >= 2 and "999999.db" not in pids


def test_the_last_resort_500_carries_the_content_security_policy(live):
    # Starlette's ServerErrorMiddleware answers an unhandled error outside the app's middleware, the CSP one included.
    from app.api.security_headers import API_POLICY

    def boom():
        raise RuntimeError("kaput")

    live.app.add_api_route("/test-only/boom", boom)
    r = httpx.get(f"{live.url}/test-only/boom", headers={"X-Request-ID": "boom-csp"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.headers.get("content-security-policy") == API_POLICY
    assert r.headers["x-request-id"] == "boom-csp" and "kaput" not in r.text
