"""A database outage is told as one: 503 problem+json with ``Retry-After`` on every request that needs the
database, never a 500 or a dropped connection, and the service recovers by itself when it returns (issue 13).

On PostgreSQL the outage is real: the service reaches the server through a TCP proxy (asyncio, below)
that the test cuts (listener closed, every connection reset) and restores. Before, ``Database.read_value``
raised psycopg's own ``OperationalError``, which no handler knew: a 500, after which uvicorn closed the
keep-alive connection. On SQLite, the equivalent is a database whose write lock another process holds
beyond the busy timeout.
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.database_fixture import on_postgresql


class TcpProxy:
    """127.0.0.1:<port> → ``target``, in a thread; ``cut()`` closes the listener and resets every connection."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.restore()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r, client_w) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, server_w}
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))
        self._writers -= {client_w, server_w}

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()  # a reset, as when the server's host goes away
        self._writers.clear()

    def restore(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def _issue_body(example_input):
    return {"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example_input}


def _check_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json" and r.headers.get("retry-after")
    assert r.json()["code"] == "SERVICE_UNAVAILABLE"


@pytest.mark.skipif(not on_postgresql(), reason="a PostgreSQL outage (TEST_DATABASE_URL=postgresql://…)")
def test_a_postgresql_outage_is_503_with_retry_after_and_the_service_recovers(database_url, tmp_path, example_input):
    from app.store import upgrade
    from tests import live_server

    upgrade(database_url)
    direct = make_url(database_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = live_server.start(proxied, tmp_path, status_cache_seconds=0)
    try:
        record, key = server.app.state.issuance.providers.create(slug="outage", name="Outage", country="IE")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as c:
            issued = c.post("/microcredentials", json=_issue_body(example_input))
            assert issued.status_code == 201, issued.text
            credential_id = issued.headers["location"].removeprefix("/credentials/")
            entries = issued.json()["credentialStatus"]
            list_url = (entries[0] if isinstance(entries, list) else entries)["statusListCredential"]
            list_path = httpx.URL(list_url).path

            requests = [
                ("POST", "/microcredentials", {"json": _issue_body(example_input)}),
                ("GET", "/credentials", {}),
                ("GET", f"/credentials/{credential_id}", {}),
                ("GET", list_path, {}),
                ("POST", "/credentials/status", {"json": {"credentialId": credential_id, "status": "suspended"}}),
                ("GET", "/specifications", {}),
                ("POST", "/microcredentials/batch", {"json": {"records": [example_input]}}),
                ("GET", f"/issuers/{record.slug}/did.json", {}),
            ]
            proxy.cut()
            outcomes: list[tuple[str, int | str]] = []

            def send(item):
                method, path, kw = item
                # One keep-alive client per thread: a 500 used to close its connection.
                with httpx.Client(base_url=server.url, headers=headers, timeout=60) as own:
                    for _ in range(3):
                        try:
                            r = own.request(method, path, **kw)
                        except httpx.TransportError as exc:
                            outcomes.append((path, type(exc).__name__))
                            continue
                        outcomes.append((path, r.status_code))
                        _check_unavailable(r)

            with ThreadPoolExecutor(len(requests)) as pool:
                list(pool.map(send, requests))
            assert {o for _, o in outcomes} == {503}, outcomes
            ready = c.get("/ready")
            assert ready.status_code == 503 and ready.json()["code"] == "NOT_READY"

            proxy.restore()
            restored = time.monotonic()
            deadline = restored + 30  # a hang; it should take well under a second
            while True:
                r = c.post("/microcredentials", json=_issue_body(example_input))
                if r.status_code == 201:
                    break
                _check_unavailable(r)
                assert time.monotonic() < deadline, "the service did not recover after the database came back"
                time.sleep(0.05)
            recovered = time.monotonic() - restored
            assert c.get(list_path).status_code == 200 and c.get("/ready").status_code == 200
            print(f"recovered {recovered:.2f} s after the database returned")
    finally:
        server.stop()
        proxy.close()


@pytest.mark.skipif(on_postgresql(), reason="SQLite's write lock held by another process")
def test_a_locked_sqlite_database_is_503_for_writes_and_reads_go_on(database_url, tmp_path, example_input):
    from app.store import upgrade
    from tests import live_server

    upgrade(database_url)
    # A short busy timeout: the default (30 s) would make each refused write wait 30 s.
    server = live_server.start(database_url, tmp_path, status_cache_seconds=0, database_busy_timeout_ms=500)
    path = make_url(database_url).database
    try:
        _, key = server.app.state.issuance.providers.create(slug="locked", name="Locked", country="IE")
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            assert c.post("/microcredentials", json=_issue_body(example_input)).status_code == 201
            # Another process's writer: the writer queue's flock, then SQLite's own write lock.
            with open(f"{path}.writer", "a") as queue:
                fcntl.flock(queue, fcntl.LOCK_EX)
                other = sqlite3.connect(path, isolation_level=None)
                other.execute("BEGIN IMMEDIATE")
                try:
                    for _ in range(3):
                        _check_unavailable(c.post("/microcredentials", json=_issue_body(example_input)))
                    assert c.get("/credentials").status_code == 200  # readers are not blocked (WAL)
                finally:
                    other.execute("ROLLBACK")
                    other.close()
                    fcntl.flock(queue, fcntl.LOCK_UN)
            assert c.post("/microcredentials", json=_issue_body(example_input)).status_code == 201
    finally:
        server.stop()
