"""The service a benchmark drives: ``microcred serve --workers N`` on a free port, a fresh SQLite database (or
``database_url``) and keys in a temporary folder, rate limits off, and a provider made with the CLI.

The folder (database, keys, the service's log) is removed after a clean run and kept, and named, otherwise:
a failed run's log is the first thing to read.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "app" / "credentials" / "example_input.json"
START_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BenchService:
    url: str
    env: dict[str, str]
    folder: Path
    log: Path
    process: subprocess.Popen
    #: set by the benchmark when its run went wrong: the folder is then kept
    failed: bool = False
    keys: dict[str, str] = field(default_factory=dict)

    def provider(self, slug: str, name: str = "Bench University") -> str:
        """A new provider's API key (``microcred provider create``)."""
        create = [sys.executable, "-m", "app", "provider", "create", "--slug", slug, "--name", name, "--country", "IE", "--json"]
        made = subprocess.run(create, env=self.env, capture_output=True, text=True, cwd=ROOT, check=True)
        self.keys[slug] = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
        return self.keys[slug]

    def workers(self) -> list[int]:
        """The serving worker processes under ``serve`` (not multiprocessing's resource tracker)."""
        pid = self.process.pid
        try:
            children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []
        return [c for c in children if b"resource_tracker" not in _cmdline(c)]


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used (``/proc/<pid>/stat`` fields 14 and 15): a figure that a
    busy machine does not distort the way it distorts requests per second."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def bench_service(
    *, workers: int = 2, database_url: str | None = None, env: dict[str, str] | None = None, prefix: str = "microcred-bench-"
) -> Iterator[BenchService]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = dict(
        os.environ,
        MICROCRED_DATABASE_URL=database_url or f"sqlite:///{folder / 'bench.db'}",
        MICROCRED_KEYS_DIR=str(folder / "keys"),
        MICROCRED_BASE_URL=url,
        MICROCRED_DEMO_PROVIDER="false",
        MICROCRED_RATE_LIMIT_ENABLED="false",
        MICROCRED_LOG_LEVEL="WARNING",
        **(env or {}),
    )
    log = folder / "service.log"
    serve = [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(serve, env=environment, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    service = BenchService(url, environment, folder, log, process)
    # A bench stopped by SIGTERM (`timeout`, a CI job's end) must stop its service too: Python's default is to die
    # without running the ``finally`` below, which left `serve` running in its own session.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(service.workers()) < workers or not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                service.failed = True
                raise SystemExit(f"the service did not start within {START_TIMEOUT:g} s; its log: {log}")
            time.sleep(0.2)
        yield service
    except BaseException:
        service.failed = True
        raise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if service.failed:
            print(f"kept {folder} (the service's log: {log})")
        else:  # a run leaves a database of some 100 MB
            shutil.rmtree(folder, ignore_errors=True)
