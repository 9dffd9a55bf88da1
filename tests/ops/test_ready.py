"""``GET /ready``: 200 when every check passes, else 503 problem+json naming the failed checks."""

from __future__ import annotations

import time
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from app.api.health import add_ready_check
from app.main import create_app
from app.settings import Settings


def _app(tmp_path, **overrides):
    keys = tmp_path / "keys"
    keys.mkdir(exist_ok=True)
    return create_app(Settings(keys_dir=keys, **overrides))


def test_ready_when_every_check_passes(tmp_path):
    app = _app(tmp_path)
    app.state.database = SimpleNamespace(engine=create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    add_ready_check(app, "registry", lambda: None)
    r = TestClient(app).get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok", "contexts": "ok", "registry": "ok"}}


def test_unreachable_database_is_503_without_leaking_the_dsn(tmp_path):
    app = _app(tmp_path)
    # Nothing listens on port 1: a real connection failure from the real driver.
    app.state.database = SimpleNamespace(engine=create_engine("postgresql+psycopg://secret-user:pw@127.0.0.1:1/x"))
    r = TestClient(app).get("/ready")
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "NOT_READY" and "database" in body["detail"]
    assert body["errors"] == [{"pointer": "/checks/database", "detail": "OperationalError"}]
    assert "secret-user" not in r.text


def test_registered_checks_failing_raising_or_hanging(tmp_path):
    app = _app(tmp_path, ready_timeout_seconds=0.3)
    add_ready_check(app, "false", lambda: False)
    add_ready_check(app, "raises", lambda: 1 / 0)
    add_ready_check(app, "hangs", lambda: time.sleep(5))

    async def async_ok():
        return True

    add_ready_check(app, "async", async_ok)
    started = time.monotonic()
    r = TestClient(app).get("/ready")
    assert time.monotonic() - started < 3
    assert r.status_code == 503
    assert {e["pointer"]: e["detail"] for e in r.json()["errors"]} == {
        "/checks/false": "returned false",
        "/checks/raises": "ZeroDivisionError",
        "/checks/hangs": "timed out",
    }


def test_missing_keys_folder_is_not_ready(tmp_path):
    r = TestClient(create_app(Settings(keys_dir=tmp_path / "nowhere"))).get("/ready")
    assert r.status_code == 503 and r.json()["errors"][0]["pointer"] == "/checks/keys"
