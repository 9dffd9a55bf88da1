"""A full disk is told as one (issue 13): writes answer 507 problem+json ``STORAGE_FULL``, ``/ready`` says
the database is not ready, and both recover once space is freed.

Before, writes answered 503 "database is busy or unreachable" while the log said "database or disk is
full", and ``/ready`` stayed 200.

The disk is real: a small tmpfs mounted for the test (it runs as root), holding the SQLite file, filled
with a file until the filesystem refuses more. ``PRAGMA max_page_count`` would also make SQLite answer
SQLITE_FULL, deterministically, but only on the connection that sets it, and it would not show what an
operator's probe sees (the filesystem's free space); the tmpfs is the fault itself.
"""

from __future__ import annotations

import sqlite3
import subprocess

import httpx
import pytest

from tests.conftest import require
from tests.database_fixture import on_postgresql


def _mount_tmpfs(path, size: str) -> bool:
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode == 0


def _fill(path) -> None:
    """Write a file until the filesystem is full (ENOSPC)."""
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass


@pytest.mark.skipif(on_postgresql(), reason="SQLite on a small filesystem (the PostgreSQL server's disk is not the test's to fill)")
def test_a_full_disk_is_507_storage_full_and_ready_says_so(tmp_path, example_input):
    from app.store import upgrade
    from tests import live_server

    disk = tmp_path / "disk"
    require(_mount_tmpfs(disk, "16m"), "mounting a tmpfs (the test needs root)")
    url = f"sqlite:///{disk / 'microcred.db'}"
    server = None
    try:
        upgrade(url)
        server = live_server.start(url, tmp_path, status_cache_seconds=0)
        _, key = server.app.state.issuance.providers.create(slug="full", name="Full", country="IE")
        body = {"format": "ob3", "microcredential": example_input}
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            assert c.post("/microcredentials", json=body).status_code == 201
            assert c.get("/ready").status_code == 200
            listed = len(c.get("/credentials").json()["items"])

            # Empty the WAL (a write may otherwise reuse its space), then fill the disk.
            with sqlite3.connect(disk / "microcred.db") as other:
                other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _fill(disk / "filler")

            ready = c.get("/ready")
            assert ready.status_code == 503 and ready.json()["errors"] == [{"pointer": "/checks/database", "detail": "StorageFull"}]
            for _ in range(3):
                r = c.post("/microcredentials", json=body)
                assert r.status_code == 507, r.text
                assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "STORAGE_FULL"
                assert "full" in r.json()["detail"]
            assert len(c.get("/credentials").json()["items"]) == listed  # reads go on; nothing was stored

            (disk / "filler").unlink()
            assert c.post("/microcredentials", json=body).status_code == 201
            assert c.get("/ready").status_code == 200
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's tablespace on a small filesystem (the SQLite case is above)")
def test_a_full_postgresql_tablespace_is_507_storage_full_and_ready_says_so(database_url, example_input):
    """The same on PostgreSQL: the test's schema lives in a tablespace on a small tmpfs (the server is local and the test
    runs as root), filled until PostgreSQL cannot extend a table (SQLSTATE 53100 disk_full)."""
    import shutil
    import tempfile
    import uuid
    from pathlib import Path

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app.store import upgrade
    from app.store.db import normalize_url
    from tests import live_server
    from tests.database_fixture import TEST_DATABASE_URL

    disk = Path(tempfile.mkdtemp(prefix="microcred-pgdisk-", dir="/tmp"))  # the server's user must reach it
    disk.rmdir()
    require(_mount_tmpfs(disk, "16m"), "mounting a tmpfs (the test needs root)")
    space = f"mc_full_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    url = make_url(database_url)
    schema = url.query["options"].split("=", 1)[1]
    url = url.update_query_dict({"options": f"-csearch_path={schema} -cdefault_tablespace={space}"}).render_as_string(hide_password=False)
    server = None
    keys = Path(tempfile.mkdtemp(prefix="microcred-pgfull-"))
    try:
        shutil.chown(disk, "postgres", "postgres")
        (disk / "data").mkdir()
        shutil.chown(disk / "data", "postgres", "postgres")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE {space} LOCATION '{disk / 'data'}'"))
        upgrade(url)
        server = live_server.start(url, keys, status_cache_seconds=0)
        _, key = server.app.state.issuance.providers.create(slug="full", name="Full", country="IE")
        body = {"format": "ob3", "microcredential": example_input}
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            assert c.post("/microcredentials", json=body).status_code == 201
            assert c.get("/ready").status_code == 200
            listed = c.get("/credentials", params={"limit": 200}).json()["items"]
            _fill(disk / "filler")
            # Pages with room still take rows: issue until a table must grow (a few pages at most).
            for _ in range(200):
                r = c.post("/microcredentials", json=body)
                if r.status_code != 201:
                    break
                listed = c.get("/credentials", params={"limit": 200}).json()["items"]
            assert r.status_code == 507, r.text
            assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "STORAGE_FULL"
            ready = c.get("/ready")
            assert ready.status_code == 503 and ready.json()["errors"] == [{"pointer": "/checks/database", "detail": "StorageFull"}]
            assert c.get("/credentials", params={"limit": 200}).json()["items"] == listed  # reads go on; nothing was stored

            (disk / "filler").unlink()
            assert c.post("/microcredentials", json=body).status_code == 201
            assert c.get("/ready").status_code == 200
    finally:
        if server is not None:
            server.stop()
            server.app.state.issuance.db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f"DROP TABLESPACE IF EXISTS {space}"))
        admin.dispose()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
        shutil.rmtree(disk, ignore_errors=True)
        shutil.rmtree(keys, ignore_errors=True)
