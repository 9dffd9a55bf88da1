"""A batch whose worker is killed mid-way resumes within seconds on another worker, once per record (issue 13).

Before, ``resume_unfinished()`` ran once at start-up and skipped jobs younger than 120 s: the job of a
worker killed and restarted at once stayed ``running`` until a second restart. Now the worker running a
job holds a lease on it (app/issuance/batch_leases.py) and every worker claims lapsed ones every few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.database_fixture import on_postgresql
from tests.live_process import ROOT, LiveService

RECORDS = 4000


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (a batch's signing processes are started by a thread of its own)."""
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def _signs(pid: int) -> bool:
    """Whether ``pid`` has batch signing processes (multiprocessing spawn children) running."""
    for child in _children(pid):
        try:
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def _get(c: httpx.Client, path: str, **params) -> dict:
    """GET on a fresh connection: a keep-alive one may lead to the worker the test killed."""
    for _ in range(20):
        try:
            r = httpx.get(str(c.base_url).rstrip("/") + path, headers=c.headers, params=params, timeout=60)
        except httpx.TransportError:  # the connection reached the worker as it died
            time.sleep(0.2)
            continue
        assert r.status_code == 200, r.text
        return r.json()
    raise AssertionError(f"GET {path} kept failing")


def test_a_batch_whose_worker_is_killed_completes_once_per_record(tmp_path, database_url, example_input):
    from app.credentials import specification_of
    from app.store.db import normalize_url

    env = {"MICROCRED_DATABASE_URL": database_url} if on_postgresql() else {}
    with LiveService(tmp_path, env=env, workers=2) as svc:
        create = [sys.executable, "-m", "app", "provider", "create", "--slug", "resume", "--name", "Resume", "--country", "IE", "--json"]
        made = subprocess.run(create, cwd=ROOT, env=svc.env, capture_output=True, text=True, check=True)
        key = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
        with httpx.Client(base_url=svc.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            spec_id = c.post("/specifications", json={"specification": specification_of(example_input), "published": True}).json()["id"]
            learner = {"givenName": {"en": "L"}, "familyName": {"en": "R"}}
            records = [{"learner": {"email": f"l{i}@example.org", **learner}} for i in range(RECORDS)]
            submitted = c.post("/microcredentials/batch", json={"format": "ob3", "specificationId": spec_id, "records": records})
            assert submitted.status_code == 202, submitted.text
            job = submitted.json()["id"]

            # Kill the worker that runs the job once some chunks are stored and before the end.
            deadline = time.monotonic() + 120
            while True:
                assert time.monotonic() < deadline, "the batch should make progress"
                progress = _get(c, f"/microcredentials/batch/{job}")
                running = [w for w in _children(svc.process.pid) if _signs(w)]
                if progress["done"] >= 500 and running:
                    break
                assert progress["status"] != "done", "the batch ended before the test could kill its worker: make it larger"
                time.sleep(0.05)
            os.kill(running[0], signal.SIGKILL)
            killed = time.monotonic()
            killed_at = _get(c, f"/microcredentials/batch/{job}")
            assert killed_at["status"] == "running" and killed_at["done"] < RECORDS, killed_at

            # The supervisor starts a new worker at once; the job must finish without another restart.
            deadline = time.monotonic() + 180  # catches a hang: the lease lapses after 10 s
            while (progress := _get(c, f"/microcredentials/batch/{job}"))["status"] != "done":
                assert progress["status"] == "running", progress
                assert time.monotonic() < deadline, f"the job did not resume after its worker was killed: {progress}"
                time.sleep(0.5)
            finished_after = time.monotonic() - killed
            assert progress["issued"] == progress["done"] == RECORDS, progress
            assert progress["invalid"] == progress["errored"] == 0, progress

            rows, after = [], -1
            while True:
                page = _get(c, f"/microcredentials/batch/{job}/items", after=after, limit=1000)
                rows.extend(page["items"])
                if page["next"] is None:
                    break
                after = page["next"]
        assert [r["row"] for r in rows] == list(range(RECORDS))
        ids = [r["credentialId"] for r in rows]
        assert len(set(ids)) == RECORDS and all(r["status"] == "issued" for r in rows)

    # Exactly one stored credential per record: none issued twice by the worker that resumed.
    engine = create_engine(normalize_url(svc.env["MICROCRED_DATABASE_URL"]))
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*), count(DISTINCT id) FROM credentials")).one()
    finally:
        engine.dispose()
    assert tuple(stored) == (RECORDS, RECORDS)
    print(f"killed at {killed_at['done']} of {RECORDS} records; the job finished {finished_after:.1f} s after the kill")
