"""Many workers, one database: the service with 3 worker processes, driven concurrently.

On PostgreSQL (a fresh database; the database CI runs the suite against with TEST_DATABASE_URL), or on
SQLite otherwise. New connections for every request spread the load over the workers. Checks: no
status index is used twice, no revocation is lost, an idempotent retry answered by any worker returns
the same bytes, and every credential issued by one worker verifies on the others.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import ROOT, require
from tests.database_fixture import on_postgresql
from tests.live_process import LiveService

pytestmark = [pytest.mark.slow]
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture
def database_url(tmp_path):
    if not on_postgresql():
        yield f"sqlite:///{tmp_path / 'many.db'}"
        return
    import psycopg

    plain = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        admin = psycopg.connect(plain, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL at {plain} is needed: {exc}")
    name = f"microcred_mw_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield plain.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_concurrent_issuance_revocation_and_verification_across_workers(database_url, tmp_path):
    env = {"MICROCRED_DATABASE_URL": database_url, "MICROCRED_RATE_LIMIT_ENABLED": "false", "MICROCRED_STATUS_CACHE_SECONDS": "0"}
    (tmp_path / "keys").mkdir()
    service = LiveService(tmp_path, env=env, workers=3)
    service.env["MICROCRED_BASE_URL"] = service.url
    created = subprocess.run(
        [sys.executable, "-m", "app", "provider", "create", "--slug", "multi", "--name", "Multi University", "--country", "IE", "--json"],
        env=service.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout.strip().splitlines()[-1])["api_key"]
    example = json.loads((ROOT / "app" / "credentials" / "example_input.json").read_text())
    auth = {"Authorization": f"Bearer {key}"}
    with service:

        def issue(i: int) -> httpx.Response:
            headers = dict(auth, **({"Idempotency-Key": f"key-{i}"} if i % 2 == 0 else {}))
            with httpx.Client(base_url=service.url, timeout=60) as c:  # a new connection: any worker
                return c.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-jcs-2022", "microcredential": example}, headers=headers)

        with ThreadPoolExecutor(12) as pool:
            issued = list(pool.map(issue, range(120)))
        assert all(r.status_code == 201 for r in issued), [r.text for r in issued if r.status_code != 201][:3]
        credentials = [r.json() for r in issued]

        # No status index used twice (an OB3 carries one entry, for revocation: README, status entries).
        statuses = [c["credentialStatus"] if isinstance(c["credentialStatus"], list) else [c["credentialStatus"]] for c in credentials]
        entries = [(e["statusListCredential"], e["statusListIndex"]) for status in statuses for e in status]
        assert len(entries) == len(set(entries)) == 120

        # Idempotent retries, each on a new connection, return the same bytes.
        with ThreadPoolExecutor(12) as pool:
            retried = list(pool.map(issue, range(0, 120, 2)))
        assert [r.content for r in retried] == [issued[i].content for i in range(0, 120, 2)]

        # Concurrent revocations: none lost.
        revoke = [c["id"] for c in credentials[:60]]

        def revoke_one(cid: str) -> int:
            with httpx.Client(base_url=service.url, timeout=60) as c:
                return c.post("/credentials/status", json={"credentialId": cid, "status": "revoked"}, headers=auth).status_code

        with ThreadPoolExecutor(12) as pool:
            assert set(pool.map(revoke_one, revoke)) == {200}

        def verify(c: dict) -> tuple[int, str]:
            with httpx.Client(base_url=service.url, timeout=60) as client:
                r = client.post("/credentials/verify", json={"verifiableCredential": c})
                return r.status_code, (r.json().get("errors") or [{}])[0].get("code", "")

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(verify, credentials))
        (tmp_path.parent / "many-workers.log").write_text(service.stderr())
        assert all(o[0] != 500 for o in outcomes), [line for line in service.stderr().split("\n") if "ERROR" in line][:3]
        assert outcomes[:60] == [(422, "STATUS_REVOKED")] * 60
        assert outcomes[60:] == [(200, "")] * 60
