"""`docker/entrypoint.sh` run as the container runs it (Docker itself is not available on CI machines):
against a fresh, empty PostgreSQL database it migrates, starts several workers, answers `/health`,
`/ready` and API requests with JSON logs, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, require
from tests.live_process import START_TIMEOUT, free_port, wait_until_up

pytestmark = [pytest.mark.slow]

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def fresh_database():
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL at {ADMIN_URL} is needed for the entry point test: {exc}")
    name = f"microcred_ep_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_entrypoint_migrates_an_empty_database_and_serves(fresh_database, tmp_path):
    import psycopg

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(
        {
            "DATABASE_URL": fresh_database,
            "PORT": str(port),
            "WORKERS": "2",
            "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
            "MICROCRED_DEMO_PROVIDER": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            # The `microcred` script of this environment, importing this checkout.
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
            "PYTHONPATH": str(ROOT),
        }
    )
    (tmp_path / "keys").mkdir()
    stderr = open(tmp_path / "stderr", "wb")
    process = subprocess.Popen(["bash", str(ROOT / "docker" / "entrypoint.sh")], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        try:
            wait_until_up(url, process, timeout=START_TIMEOUT)
            wait_until_up(url, process, timeout=START_TIMEOUT, path="/ready")
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n{(tmp_path / 'stderr').read_text()[-4000:]}")
        # The empty database was migrated to head.
        from alembic.script import ScriptDirectory

        from app.store.migrate import MIGRATIONS_DIR

        with psycopg.connect(fresh_database) as conn:
            tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
            (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
        assert len(tables - {"alembic_version"}) >= 1
        # It answers, with the contract's headers.
        r = httpx.get(url + "/openapi.json", headers={"X-Request-ID": "entrypoint-1"})
        assert r.status_code == 200 and r.json()["info"]["title"] == "microcred" and r.headers["x-request-id"] == "entrypoint-1"
        assert httpx.get(url + "/metrics").status_code == 200
        # The `exec` made the server the process itself: SIGTERM reaches uvicorn, which shuts down cleanly.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        stderr.close()
    logged = [json.loads(line) for line in (tmp_path / "stderr").read_text().splitlines() if line.startswith("{")]
    assert any(rec.get("request_id") == "entrypoint-1" and rec["logger"] == "microcred.access" for rec in logged)
