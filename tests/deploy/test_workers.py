"""Several workers, one listening socket each (app/workers.py): the kernel spreads connections over them.

With uvicorn's own ``--workers`` every worker accepts from one shared socket and a burst of keep-alive
connections could all land on one process. Checked here on the real ``serve --workers 2``: each worker
listens on the port itself, connections opened together reach both, and a worker that dies is replaced.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx

from tests.live_process import START_TIMEOUT, LiveService, tcp_sockets


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def _tcp(port: int) -> list[tuple[str, str, str]]:
    return [(state, inode, "") for state, inode in tcp_sockets(port)]


def _workers(svc) -> list[int]:
    """The supervisor's children that listen on the service's port (not multiprocessing's helpers)."""
    listening = {i for s, i, _ in _tcp(svc.port) if s == "0A"}
    return [c for c in _children(svc.process.pid) if _socket_inodes(c) & listening]


def _wait_for_workers(svc, n: int, timeout: float = START_TIMEOUT) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(workers := _workers(svc)) < n:
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s: {n} workers should listen on the port"
        time.sleep(0.2)
    return workers


def test_each_worker_listens_itself_and_connections_reach_both(tmp_path):
    with LiveService(tmp_path, workers=2) as svc:
        workers = _wait_for_workers(svc, 2)
        listening = {i for s, i, _ in _tcp(svc.port) if s == "0A"}
        assert len(listening) == 2  # one listening socket per worker, none shared

        # 32 keep-alive connections opened together, as a pool or a load generator does.
        conns = [socket.create_connection(("127.0.0.1", svc.port)) for _ in range(32)]
        try:
            for c in conns:
                c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            for c in conns:
                assert c.recv(4096).startswith(b"HTTP/1.1 200")
            served = {w: 0 for w in workers}
            established = {i for s, i, _ in _tcp(svc.port) if s == "01"}
            for w in workers:
                served[w] = len(_socket_inodes(w) & established)
            assert sum(served.values()) == 32
            assert all(n > 0 for n in served.values()), served  # both workers took connections
        finally:
            for c in conns:
                c.close()


def test_a_worker_that_dies_is_replaced(tmp_path):
    with LiveService(tmp_path, workers=2) as svc:
        victim = _wait_for_workers(svc, 2)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT  # a new worker starts as slowly as the first ones on a loaded machine
        while victim in _children(svc.process.pid) or len(_workers(svc)) < 2:
            assert time.monotonic() < deadline, f"timed out after {START_TIMEOUT:g} s: the supervisor should start a new worker"
            time.sleep(0.2)
        for _ in range(10):
            assert httpx.get(f"{svc.url}/health", timeout=5).status_code == 200


def test_a_taken_port_is_reported_once_and_serve_exits(tmp_path):
    import subprocess
    import sys

    from tests.live_process import ROOT

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MICROCRED_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
            "MICROCRED_DEMO_PROVIDER": "false",
        }
        done = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stdout


def test_signing_processes_do_not_outlive_a_killed_worker(tmp_path, example_input):
    """A worker killed mid-batch (SIGKILL: no shutdown code runs) must not leave its signing processes
    running as orphans."""
    from app.credentials import specification_of

    with LiveService(tmp_path, workers=1) as svc:
        import subprocess
        import sys

        from tests.live_process import ROOT  # noqa: F401  (the service runs this checkout)

        made = subprocess.run(
            [sys.executable, "-m", "app", "provider", "create", "--slug", "orphans", "--name", "Orphans", "--country", "IE", "--json"],
            cwd=ROOT,
            env=svc.env,
            capture_output=True,
            text=True,
            check=True,
        )
        import json

        key = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
        with httpx.Client(base_url=svc.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            spec_id = c.post("/specifications", json={"specification": specification_of(example_input), "published": True}).json()["id"]
            records = [{"learner": {"email": f"l{i}@example.org", "givenName": {"en": "L"}, "familyName": {"en": "O"}}} for i in range(10_000)]
            assert c.post("/microcredentials/batch", json={"format": "ob3", "specificationId": spec_id, "records": records}).status_code == 202
        deadline = time.monotonic() + START_TIMEOUT
        while len(signers := [c for c in _children(svc.process.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]) < 2:
            assert time.monotonic() < deadline, f"timed out after {START_TIMEOUT:g} s: the batch should start its signing processes"
            time.sleep(0.2)
        os.kill(svc.process.pid, signal.SIGKILL)
        svc.process.wait(10)
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() and "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") for pid in signers):
            assert time.monotonic() < deadline, f"signing processes {signers} outlived their worker"
            time.sleep(0.2)
