"""Engines, sessions and migrations: the one place that knows how each database is driven.

SQLite (the laptop default) and PostgreSQL (production) must give the same guarantees to the
repositories above, so the differences are absorbed here:

* SQLite runs in WAL mode (readers never block the writer), with ``foreign_keys=ON`` (off by default
  in SQLite!), ``synchronous=FULL`` (a committed credential survives a power cut, security-notes §16)
  and a ``busy_timeout`` so a writer waits for the lock instead of failing at once.
* Write transactions on SQLite start with ``BEGIN IMMEDIATE``. pysqlite would otherwise send a
  deferred ``BEGIN`` that takes the write lock only at the first write; two such transactions that
  both read first then deadlock on the upgrade and SQLite answers "database is locked" *without*
  waiting (the busy handler is not used for a lock upgrade). ``BEGIN IMMEDIATE`` takes the write
  lock up front, so writers queue on ``busy_timeout`` and serialize (security-notes §14). pysqlite
  only lets us choose the BEGIN if its own transaction handling is switched off; that is the
  documented SQLAlchemy recipe ("Serializable isolation / Savepoints / Transactional DDL").
* PostgreSQL goes through psycopg 3 with a bounded pool that checks connections before use.
* Group commit (``Database.grouped``): with ``synchronous=FULL`` a commit waits for the disk, and
  commits are serialized; issuing one credential per commit capped a service at the disk's flush
  rate. Concurrent units of work of one process share a transaction instead; one that fails is
  undone alone (the others run again without it) and the others commit together, durably. Units of one
  kind can also run as one set (``Database.grouped_batch``): a group's status changes are a few set-based
  statements, not a few statements each.
* ``Database.cpu_gate``: each statement of a transaction gives up the GIL while the driver works and
  must get it back, which with signing running in another thread takes up to the 5 ms switch interval. A
  group's transaction then held SQLite's write lock, which every worker process shares, for 5–10 ms
  instead of about one. Long stretches of Python (signing) run under the gate, and the committer
  holds it for its transaction, so that transaction competes for the GIL with the event loop alone.
* ``_prompt_gil``: and the event loop, while a group's transaction runs, hands the GIL back after 0.2 ms
  instead of 5: a transaction waiting for the GIL after its commit's fsync kept the write lock from the other
  workers for that long.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.store.cpu_gate import CpuGate
from app.store.unavailable import DatabaseUnavailable

T = TypeVar("T")

# Execution option read by the BEGIN hook: "IMMEDIATE" for writers, "DEFERRED" for readers.
_BEGIN_OPTION = "microcred_sqlite_begin"


def normalize_url(url: str) -> str:
    """Route plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs to psycopg 3.

    SQLAlchemy would pick psycopg2 for a bare ``postgresql://``, which is not installed.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def create_db_engine(
    url: str,
    *,
    busy_timeout_ms: int = 30_000,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    echo: bool = False,
) -> Engine:
    """An engine for ``url`` with the pragmas/pool described in the module docstring."""
    url = normalize_url(url)
    if is_sqlite(url):
        engine = _sqlite_engine(url, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size, max_overflow=max_overflow, echo=echo)
    else:
        parsed = make_url(url)
        engine = create_engine(
            url,
            # A database host that does not answer (a cut network) fails a connection in seconds, not in minutes.
            connect_args={} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT},
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,  # a restarted server must not surface as one failed request per pooled connection
            pool_recycle=1800,
            echo=echo,
        )
    event.listen(engine, "handle_error", _driver_error)
    return engine


#: Seconds for a new PostgreSQL connection (libpq ``connect_timeout``) unless the URL sets one.
PG_CONNECT_TIMEOUT = 5


def _driver_error(context: Any) -> None:
    """Every driver error passing through SQLAlchemy: one that means "unavailable" is raised as
    ``DatabaseUnavailable``/``StorageFull`` (app/store/unavailable.py). Not a failed pre-ping: the pool
    then replaces the connection quietly, as it should after a server restart."""
    if context.is_pre_ping:
        return
    from app.store.unavailable import classify

    found = classify(context.original_exception) or classify(context.sqlalchemy_exception)
    if found is not None:
        raise found


def _sqlite_engine(url: str, *, busy_timeout_ms: int, pool_size: int, max_overflow: int, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        # check_same_thread: connections move between threads through the pool, never used by two at once.
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        **({} if parsed.database in (None, "", ":memory:") else {"pool_size": pool_size, "max_overflow": max_overflow}),
        echo=echo,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Switch off pysqlite's own BEGIN handling so the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


#: The interpreter's switch interval while a group's transaction runs (``_prompt_gil``), in seconds.
COMMIT_SWITCH_INTERVAL = 0.0002
_prompt_lock = threading.Lock()
_prompt_depth = 0
_prompt_previous = 0.005


@contextmanager
def _prompt_gil() -> Iterator[None]:
    """A short switch interval while a group's transaction waits for the write lock and holds it.

    A thread that gives up the GIL for a long driver call (the commit's fsync on SQLite, every statement's round
    trip on PostgreSQL, each sleep of the writer queue's poll) gets it back only when the thread that took it lets
    go: the event loop, busy with the next requests, lets go after the switch interval, 5 ms by default. Meanwhile
    the lock this transaction holds stays held: SQLite's writer queue (``_SqliteWriterLock``, released only once
    Python runs again after the commit), PostgreSQL's row lock of a status list. Every worker's status changes on
    that list waited behind it (``bench http-status``: 429/s with the workers at 1.25 of 2 cores). A transaction
    of 8 inserts with a busy thread beside it took 25 ms instead of 16 on this machine's disk (7 ms per fsync).
    With 0.2 ms the event loop hands the GIL back promptly while a group's transaction runs, and only then; the
    signing threads are not affected (they wait for ``cpu_gate``, which the committer holds). Process-wide, so
    counted: the first to enter sets it, the last restores what was there.
    """
    global _prompt_depth, _prompt_previous
    with _prompt_lock:
        if _prompt_depth == 0:
            _prompt_previous = sys.getswitchinterval()
            sys.setswitchinterval(COMMIT_SWITCH_INTERVAL)
        _prompt_depth += 1
    try:
        yield
    finally:
        with _prompt_lock:
            _prompt_depth -= 1
            if _prompt_depth == 0:
                sys.setswitchinterval(_prompt_previous)


class _SqliteWriterLock:
    """Queue SQLite writers on a lock that wakes the next one at once.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to 100 ms each)
    until ``busy_timeout``: under concurrent issuance most of the time went to sleeping. A thread lock
    (writers of this process) plus an ``flock`` on ``<database>.writer`` (writers of every worker process)
    hands the write lock over promptly. Re-entrant within a thread (a nested transaction then meets
    SQLite's own lock and fails after ``busy_timeout``, as before); waits at most ``timeout`` seconds.
    Readers are not affected (WAL).
    """

    def __init__(self, database: str, timeout: float):
        self._path = f"{database}.writer"
        self._timeout = timeout
        self._thread_lock = threading.RLock()
        self._local = threading.local()
        self._fd: int | None = None

    def __enter__(self) -> None:
        import fcntl
        import os
        import time

        from app.store.unavailable import DatabaseUnavailable

        if not self._thread_lock.acquire(timeout=self._timeout):
            raise DatabaseUnavailable("database is locked (writer queue timed out)", reason="busy")
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DatabaseUnavailable("database is locked (writer queue timed out)", reason="busy") from None
                    time.sleep(0.0005)
        except BaseException:
            self._local.depth = depth
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        import fcntl

        self._local.depth -= 1
        try:
            if self._local.depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class Database:
    """An engine plus two session factories: ``transaction()`` for writes, ``read()`` for reads.

    Repositories take a ``Session``; callers open one here. A transaction commits when the block
    ends normally and rolls back on any exception, so a credential is never half-stored and a
    response is only produced after the commit returned (security-notes §16).
    """

    def __init__(self, url: str, **engine_options: Any):
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url, **engine_options)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        # Readers on SQLite use a deferred BEGIN: they take no write lock and see one WAL snapshot.
        self._read = sessionmaker(self.engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"}), expire_on_commit=False)
        self._placeholder = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        busy = engine_options.get("busy_timeout_ms", 30_000) / 1000
        self._committer: _GroupCommitter | None = None
        self._committer_lock = threading.Lock()
        self._closed = False
        self.cpu_gate = CpuGate()
        from app.store.unavailable import StorageWatch

        self.storage = StorageWatch()
        self._writer = _SqliteWriterLock(self.engine.url.database, busy) if self.is_sqlite and self.engine.url.database not in (None, "", ":memory:") else None

    @classmethod
    def from_settings(cls, settings: Any) -> Database:
        return cls(
            settings.database_url,
            busy_timeout_ms=settings.database_busy_timeout_ms,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout_seconds,
        )

    @contextmanager
    def transaction(self, *, gated: bool = False) -> Iterator[Session]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite): commit on success, roll back on error.

        ``gated``: hold ``cpu_gate`` from when the write lock is taken to the commit (the group committer).
        Not before: waiting for another process's commit under the gate would idle this one's signing.
        """
        if self.cpu_gate.held():  # the committer may hold the write lock and wait for the gate
            raise RuntimeError("Database.transaction() called under cpu_gate: it could wait for the committer, which waits for the gate")
        gate = self.cpu_gate.urgent() if gated else nullcontext()
        with self._unavailable():
            with _prompt_gil() if gated else nullcontext(), self._writer or nullcontext(), gate, self._write() as session, session.begin():
                yield session
        self.storage.committed()

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Raise what an error of the database means as ``DatabaseUnavailable`` (the engine hook has done it for
        statements; this catches the rest: the pool's timeout, raw reads) and remember a full disk."""
        from app.store.unavailable import StorageFull, classify

        try:
            yield
        except Exception as exc:
            found = classify(exc)
            if found is None:
                raise
            if isinstance(found, StorageFull):
                self.storage.failed()
            if found is exc:
                raise
            raise found from exc

    def grouped(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a write transaction shared with other callers, and return its result
        once that transaction has committed (or raise what ``work`` raised, with its writes undone).

        ``work`` runs on the group-commit thread and may run more than once (see ``_commit``): it must only
        touch the session, and not keep it. Not from under ``cpu_gate``, which the committer needs.
        """
        if self.cpu_gate.held():
            raise RuntimeError("Database.grouped() called under cpu_gate: the commit would wait for the caller")
        return self.grouped_later(work).result()

    def grouped_batch(self, runner: Callable[[Session, list[Any]], list[Any]], item: Any) -> Any:
        """Like ``grouped``, for work done as a set: the committer calls ``runner(session, items)`` once per group
        with the items of every unit queued with this ``runner`` (in the order they were queued, at the place of
        the first). It returns one outcome per item, in order: a result, or an ``Exception`` instance for an item
        it refused, which must then have written nothing (the others still commit). If ``runner`` raises, all its
        items get the error and the rest of the group runs again without them."""
        if self.cpu_gate.held():
            raise RuntimeError("Database.grouped_batch() called under cpu_gate: the commit would wait for the caller")
        return self.grouped_later(_Batched(runner, item)).result()

    def grouped_batch_later(self, runner: Callable[[Session, list[Any]], list[Any]], item: Any) -> Future:
        """``grouped_batch`` without waiting: the future of ``item``'s outcome, set once its group committed (for
        a caller on the event loop, which awaits it with ``asyncio.wrap_future`` instead of holding a thread)."""
        return self.grouped_later(_Batched(runner, item))

    def grouped_later(self, work: Callable[[Session], T]) -> Future:
        """``grouped`` without waiting: the future of ``work``'s result, set once its group committed."""
        committer = self._committer
        if committer is None:
            with self._committer_lock:
                if self._closed:
                    raise RuntimeError("the database is closing")
                if self._committer is None:
                    self._committer = _GroupCommitter(self)
                committer = self._committer
        return committer.submit(work)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work; rolled back at the end, so an accidental write never lands."""
        with self._unavailable(), self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    def read_value(self, sql: str, *params: Any) -> Any:
        """The first column of the first row of ``sql`` (``?`` placeholders), or None.

        On a pooled DBAPI connection, past SQLAlchemy's statement layer: for the one-row lookups made on
        every request (a status list's version), where that layer cost eight times the query. A single
        statement reads one consistent snapshot; the pool rolls the connection back when it returns.
        """
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        with self._unavailable():  # the raw driver's errors, which no SQLAlchemy hook sees
            return self._read_value(sql, params)

    def _read_value(self, sql: str, params: tuple) -> Any:
        row = self._read_row(sql, params)
        return row[0] if row else None

    def read_row(self, sql: str, *params: Any) -> tuple | None:
        """The first row of ``sql`` (``?`` placeholders), or None, as the driver gives it (no type conversion): the
        path of ``read_value``, for a one-row lookup made on every request (an OpenID4VP request's record)."""
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        with self._unavailable():
            return self._read_row(sql, params)

    def _read_row(self, sql: str, params: tuple) -> tuple | None:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()
        return tuple(row) if row else None

    def dispose(self) -> None:
        with self._committer_lock:
            self._closed = True  # grouped work is refused from now on; plain transactions still reconnect
            committer, self._committer = self._committer, None
        if committer is not None:
            committer.stop()
        self.engine.dispose()


class _GroupCommitter:
    """One thread that runs queued units of work together, up to ``MAX_GROUP`` per transaction.

    A caller waits for its group's commit, during which the next group gathers: the busier the
    service, the larger the groups and the fewer the disk flushes per credential.
    """

    MAX_GROUP = 64

    def __init__(self, db: Database):
        self._db = db
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="microcred-group-commit", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Session], T]) -> Future:
        """Queue ``work``; the future of its group's outcome. Not waited for from inside a unit of work
        (it would wait for itself)."""
        if self._stopping:
            raise RuntimeError("the database is closing")
        future: Future = Future()
        self._queue.put((work, future))
        return future

    def stop(self) -> None:
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                # Units queued behind the stop would wait forever: they fail instead, having written nothing.
                while True:
                    try:
                        late = self._queue.get_nowait()
                    except queue.Empty:
                        return
                    if late is not None and late[1].set_running_or_notify_cancel():
                        late[1].set_exception(RuntimeError("the database is closing"))
            group = [item] if item[1].set_running_or_notify_cancel() else []
            self._gather(group)
            if group:
                self._commit(group)

    def _gather(self, group: list) -> None:
        """Add the units queued by now to ``group``, up to ``MAX_GROUP``."""
        while len(group) < self.MAX_GROUP:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._queue.put(None)  # stop after this group
                return
            if item[1].set_running_or_notify_cancel():  # a unit whose waiter cancelled it is not run
                group.append(item)

    def _commit(self, group: list[tuple[Callable[[Session], Any], Future]]) -> None:
        """Optimistic: the whole group in one transaction, without savepoints (they cost a third of the
        committer's time). If a unit fails, the transaction is rolled back, that unit gets its error,
        and the others run again in a fresh transaction; their first run left nothing behind. A unit
        must therefore only touch the session (no effects elsewhere), as every caller's does. Units of
        one batch runner (``Database.grouped_batch``) run as one call, where the first of them stands."""
        pending = list(group)
        while pending:
            failed: list[tuple[int, BaseException]] = []
            outcomes: dict[int, tuple[bool, Any]] = {}  # index -> (ok, result or exception)
            try:
                with self._db.transaction(gated=True) as session:
                    # Units that queued while this waited for the write lock and the gate join the group:
                    # they would otherwise wait for a commit of their own.
                    self._gather(pending)
                    for i, (work, _) in enumerate(pending):
                        if i in outcomes:
                            continue
                        try:
                            if isinstance(work, _Batched):
                                members = [j for j, (w, _) in enumerate(pending) if isinstance(w, _Batched) and w.runner == work.runner]
                                results = work.runner(session, [pending[j][0].item for j in members])
                                for j, result in zip(members, results, strict=True):
                                    outcomes[j] = (not isinstance(result, Exception), result)
                            else:
                                outcomes[i] = (True, work(session))
                        except DatabaseUnavailable:  # not this unit's fault: the group fails, below
                            raise
                        except Exception as exc:  # this unit's failure: undo the attempt, retry the rest
                            failed = [(j, exc) for j in members] if isinstance(work, _Batched) else [(i, exc)]
                            raise _Retry from None
            except _Retry:
                for index, error in reversed(failed):
                    pending.pop(index)[1].set_exception(error)
                continue
            except BaseException as exc:  # the transaction itself failed: nothing of the group is stored
                for _, future in pending:
                    future.set_exception(exc)
                return
            for i, (_, future) in enumerate(pending):
                ok, value = outcomes[i]
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            return


class _Batched:
    """One item of a batch runner's set (``Database.grouped_batch``)."""

    __slots__ = ("item", "runner")

    def __init__(self, runner: Callable[[Session, list[Any]], list[Any]], item: Any):
        self.runner = runner
        self.item = item


class _Retry(Exception):
    """Rolls back a group's attempt after one of its units failed."""
