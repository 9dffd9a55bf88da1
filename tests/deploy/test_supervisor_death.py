"""Workers of ``serve --workers N`` exit when their supervisor is killed with -9 (issue 13).

Before, they went on serving under PID 1, holding the port, and a new ``serve`` bound beside them.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.database_fixture import on_postgresql
from tests.live_process import LiveService, tcp_sockets


def _alive(pid: int) -> bool:
    """Running (a zombie, dead and waiting for PID 1 to reap it, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _listening(port: int) -> list[str]:
    return [inode for state, inode in tcp_sockets(port) if state == "0A"]


def _listening_pids(port: int) -> set[int]:
    inodes = {inode for state, inode in tcp_sockets(port) if state == "0A"}
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    pids.add(int(proc.name))
        except OSError:
            continue
    return pids


def test_workers_exit_when_the_supervisor_is_killed(tmp_path, database_url):
    from app.store import upgrade

    env = {"MICROCRED_DATABASE_URL": database_url} if on_postgresql() else {}
    if on_postgresql():
        upgrade(database_url)
    with LiveService(tmp_path, env=env, workers=2) as svc:
        workers = _listening_pids(svc.port) - {svc.process.pid}
        assert len(workers) == 2, workers
        os.kill(svc.process.pid, signal.SIGKILL)
        svc.process.wait(10)
        deadline = time.monotonic() + 60  # a hang, not a speed: they exit within about a second
        while any(_alive(pid) for pid in workers) or _listening(svc.port):
            if time.monotonic() > deadline:
                alive = [p for p in workers if _alive(p)]
                raise AssertionError(f"workers {alive} outlived their supervisor; listening {_listening(svc.port)}")
            time.sleep(0.2)
        try:
            httpx.get(f"{svc.url}/health", timeout=2)
        except httpx.TransportError:
            pass  # nobody listens any more: the port is free
        else:
            raise AssertionError("something still answers on the port")
