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
