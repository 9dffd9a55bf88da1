"""The real service (``python -m app serve``: uvicorn, uvloop, httptools) in a subprocess on a free port.

Used by the contract and deployment tests: what they check is the process an operator runs, not a
test client. Its stderr is kept in a file so a test can read the log lines it wrote.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# Deadlines catch hangs, not slowness: on a loaded machine a fresh service took over 30 s to migrate and start.
START_TIMEOUT = 180.0


class StartTimeout(RuntimeError):
    """The service did not come up before a deadline: a hang (or a machine far slower than any seen), never a measure of speed."""


def log_tail(path: Path, chars: int = 4000) -> str:
    """The end of a service's log file, for a failure message ("(no log)" when there is none yet)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return text[-chars:] if text.strip() else "(the log is empty)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = START_TIMEOUT, path: str = "/health") -> None:
    """Until ``path`` answers 200; raises RuntimeError if the process exits, StartTimeout after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with status {process.returncode} before answering {path}")
        try:
            if httpx.get(url + path, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise StartTimeout(f"timed out: the service did not answer {path} with 200 within {timeout:g} s (still running: a hang)")


def tcp_sockets(port: int) -> list[tuple[str, str]]:
    """(state, inode) of the IPv4 TCP sockets on local ``port`` (/proc/net/tcp; "0A" is LISTEN, "01" ESTABLISHED)."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].split(":")[1], 16) == port:
            rows.append((parts[3], parts[9]))
    return rows


def wait_for_listeners(port: int, count: int, timeout: float = START_TIMEOUT) -> None:
    """Until ``count`` sockets listen on ``port``: with several workers each listens itself (app/workers.py),
    and /health answering means only that one of them is up."""
    deadline = time.monotonic() + timeout
    while len([1 for state, _ in tcp_sockets(port) if state == "0A"]) < count:
        if time.monotonic() > deadline:
            raise StartTimeout(f"timed out: {count} workers did not all listen on port {port} within {timeout:g} s")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class LiveService:
    """``with LiveService(tmp_path, env={...}) as svc: httpx.get(svc.url + "/health")``."""

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str] | None = None,
        workers: int = 1,
        argv: list[str] | None = None,
        start_timeout: float = START_TIMEOUT,
    ):
        self.workdir = workdir
        self.start_timeout = start_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = workdir / "service.stderr"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),  # this checkout, whatever the venv's editable install points at
            "MICROCRED_DATABASE_URL": f"sqlite:///{workdir / 'microcred.db'}",
            "MICROCRED_KEYS_DIR": str(workdir / "keys"),
            "MICROCRED_DEMO_PROVIDER": "false",
            **(env or {}),
        }
        (workdir / "keys").mkdir(exist_ok=True)
        self.workers = workers if argv is None else 1
        self.argv = argv or [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LiveService:
        self._stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self._stderr)
        started = time.monotonic()
        try:
            wait_until_up(self.url, self.process, timeout=self.start_timeout)
            if self.workers > 1:
                wait_for_listeners(self.port, self.workers, timeout=max(1.0, self.start_timeout - (time.monotonic() - started)))
        except Exception as exc:
            self.__exit__()
            # Say what went wrong (a timeout is told as one) and show the end of the service's log.
            kind = type(exc)
            raise kind(f"service failed to start: {exc}; the end of its stderr:\n{log_tail(self.stderr_path)}") from None
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            stop(self.process)
        self._stderr.close()
