"""A real microcred service on 127.0.0.1 (uvicorn in a thread), for tests that cross HTTP for real:
did:web resolution, status list fetches, the browser tests. Its base URL is its own address, and the
test-only loopback allowance lets its own fetcher reach it."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn

from app.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: object
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start(database_url: str, tmp_path, **overrides) -> LiveServer:
    from app.main import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    options = {"fetch_allow_loopback": True, "environment": "test", **overrides}
    settings = Settings(database_url=database_url, keys_dir=tmp_path / "keys", base_url=url, **options)
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # A deadline for hangs only (tests/live_process.py START_TIMEOUT): a loaded machine can take long to migrate.
    timeout = 180.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200 and getattr(app.state, "issuance", None):
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    else:
        alive = thread.is_alive()
        server.should_exit = True
        state = "still runs" if alive else "ended"
        raise RuntimeError(f"timed out: the live server did not answer /health within {timeout:g} s (its thread {state})")
    return LiveServer(url, settings, app, server, thread)
