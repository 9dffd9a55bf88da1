"""Engines and migrations: the schema comes from Alembic, SQLite is configured for durability and serialized writers."""

from __future__ import annotations

import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from app.store import Database, current_revision, downgrade, normalize_url, upgrade
from app.store.models import Base


def _head() -> str:
    from alembic.script import ScriptDirectory

    from app.store.migrate import _alembic_config

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()


HEAD = _head()

TABLES = {
    "providers",
    "api_keys",
    "signing_keys",
    "specifications",
    "specification_isced",
    "credentials",
    "status_lists",
    "status_allocations",
    "status_changes",
    "idempotency_keys",
    "batch_jobs",
    "batch_items",
    "learners",
    "holdings",
    "shares",
    "credential_offers",
    "signin_links",
    "wallet_sessions",
    "share_items",
    "share_views",
    "challenges",
}


def test_normalize_url_routes_postgresql_to_psycopg3():
    assert normalize_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_migrations_apply_to_empty_database_and_downgrade_to_base(database_url):
    upgrade(database_url)
    assert current_revision(database_url) == HEAD
    db = Database(database_url)
    try:
        assert TABLES <= set(inspect(db.engine).get_table_names())
        # The models and the migration describe the same schema (types, constraints, indexes).
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        db.dispose()

    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    db = Database(database_url)
    try:
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        db.dispose()
    upgrade(database_url)  # and back up again
    assert current_revision(database_url) == HEAD


def test_transaction_commits_or_rolls_back(database, provider):
    from app.store import providers

    with pytest.raises(RuntimeError):
        with database.transaction() as s:
            providers.create_provider(s, slug="gone", legal_name="Gone", country="FR", did="did:web:gone.example", did_method="web")
            raise RuntimeError("boom")
    with database.read() as s:
        assert [p.slug for p in providers.list_providers(s)] == ["uni-example"]


def _create(slug: str):
    from app.store import providers

    def work(session):
        return providers.create_provider(session, slug=slug, legal_name=slug.title(), country="FR", did=f"did:web:{slug}.example", did_method="web").slug

    return work


def test_grouped_work_commits_together_and_a_failure_is_undone_alone(database, provider):
    """Group commit: units of work queued while a commit runs share the next transaction, each in its own
    savepoint; the one that fails is undone and raises to its caller, the others are stored."""
    from sqlalchemy import event

    from app.store import providers

    commits = []
    event.listen(database.engine, "commit", lambda conn: commits.append(1))
    gate, started = threading.Event(), threading.Event()

    def blocker(session):
        _create("first")(session)
        started.set()
        gate.wait(10)  # holds the group-commit thread, so the next units queue up
        return "first"

    def failing(session):
        _create("half-done")(session)
        raise ValueError("refused after a write")

    results: dict[str, object] = {}

    def call(name, work):
        try:
            results[name] = database.grouped(work)
        except Exception as exc:
            results[name] = exc

    threads = [threading.Thread(target=call, args=("blocker", blocker))]
    threads[0].start()
    assert started.wait(10)
    for name, work in [("a", _create("alpha")), ("bad", failing), ("b", _create("beta")), ("c", _create("gamma"))]:
        threads.append(threading.Thread(target=call, args=(name, work)))
        threads[-1].start()
    deadline = time.monotonic() + 10
    while database._committer._queue.qsize() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    commits.clear()
    gate.set()
    for t in threads:
        t.join(20)
    assert results["blocker"] == "first" and (results["a"], results["b"], results["c"]) == ("alpha", "beta", "gamma")
    assert isinstance(results["bad"], ValueError)
    assert len(commits) == 2, (len(commits), results)  # the blocker's group, then the four queued units in one transaction
    with database.read() as s:
        assert sorted(p.slug for p in providers.list_providers(s)) == ["alpha", "beta", "first", "gamma", "uni-example"]


def test_grouped_work_under_concurrency_loses_and_duplicates_nothing(database, provider):
    from app.store import status

    def allocate(i):
        return lambda session: status.allocate(session, provider.id, "revocation", f"urn:uuid:cred-{i}", size=131072).index

    out: list[int] = []
    lock = threading.Lock()

    def worker(start):
        for i in range(start, start + 25):
            index = database.grouped(allocate(i))
            with lock:
                out.append(index)

    threads = [threading.Thread(target=worker, args=(n * 25,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(out) == 200 and len(set(out)) == 200
    with database.read() as s:
        assert len(status.allocations_of(s, "urn:uuid:cred-199")) == 1


# -- SQLite specifics (always on SQLite, whatever TEST_DATABASE_URL says)


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"
    upgrade(url)
    db = Database(url, busy_timeout_ms=200)
    yield db
    db.dispose()


def test_sqlite_runs_wal_with_foreign_keys_and_full_sync(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200


def test_sqlite_foreign_keys_are_enforced(sqlite_db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with sqlite_db.transaction() as s:
            s.execute(text("INSERT INTO api_keys (provider_id, key_hash, prefix, created_at) VALUES (999, 'x', 'x', '2026-01-01 00:00:00')"))


def test_sqlite_write_transactions_begin_immediate(sqlite_db):
    """A second writer cannot even begin while the first holds a (read-only so far) write transaction.

    With pysqlite's default deferred BEGIN both would start, and the lock-upgrade deadlock would
    fail one of them *without* waiting for busy_timeout.
    """
    with sqlite_db.transaction() as first:
        first.execute(text("SELECT count(*) FROM providers")).scalar()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            with sqlite_db.transaction() as second:
                second.execute(text("SELECT 1")).scalar()
        assert time.monotonic() - started >= 0.15  # it waited for busy_timeout (200 ms) first
        # Readers are not blocked by the writer (WAL + deferred BEGIN).
        with sqlite_db.read() as reader:
            assert reader.execute(text("SELECT count(*) FROM providers")).scalar() == 0


def test_sqlite_writers_queue_instead_of_failing(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    upgrade(url)
    db = Database(url, busy_timeout_ms=10_000)
    try:
        release = threading.Event()
        holding = threading.Event()

        def hold():
            with db.transaction() as s:
                s.execute(text("SELECT 1"))
                holding.set()
                release.wait(5)

        t = threading.Thread(target=hold)
        t.start()
        holding.wait(5)
        threading.Timer(0.3, release.set).start()
        started = time.monotonic()
        with db.transaction() as s:  # waits for the holder, then proceeds
            s.execute(text("SELECT 1"))
        assert time.monotonic() - started >= 0.2
        t.join()
    finally:
        db.dispose()


def test_workers_starting_together_migrate_once(database_url):
    """Worker processes (uvicorn --workers) all call upgrade() at start-up; exactly one migrates.

    Processes, not threads: Alembic keeps its migration context in module globals.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        pool.map(upgrade, [database_url] * 4)
    assert current_revision(database_url) == HEAD


def test_grouped_work_after_close_fails_instead_of_waiting(database, provider):
    assert database.grouped(_create("before")) == "before"
    database.dispose()
    with pytest.raises(RuntimeError, match="closing"):
        database.grouped(_create("after"))


# -- the CPU gate (Database.cpu_gate): first come, first served; the committer goes first


def _queue_on(gate, name: str, order: list[str], *, urgent: bool = False) -> threading.Thread:
    """Start a thread that waits for ``gate`` and records ``name`` once it holds it; return once it is queued."""
    queued = len(gate._urgent if urgent else gate._waiting)

    def run():
        gate.acquire(urgent=urgent)
        try:
            order.append(name)
        finally:
            gate.release()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while len(gate._urgent if urgent else gate._waiting) == queued and time.monotonic() < deadline:
        time.sleep(0.001)
    return thread


def test_cpu_gate_serves_waiters_in_arrival_order_and_the_urgent_first():
    """threading.Lock wakes any waiter, which let one request wait behind many later ones; the gate hands
    itself to the oldest waiter, and to an urgent one (the group committer) before any other."""
    from app.store.cpu_gate import CpuGate

    gate, order = CpuGate(), []
    with gate:
        assert gate.held()
        threads = [_queue_on(gate, name, order) for name in ("a", "b", "c", "d")]
        threads.append(_queue_on(gate, "commit", order, urgent=True))
        assert order == []  # everyone waits while the gate is held
    for t in threads:
        t.join(10)
    assert order == ["commit", "a", "b", "c", "d"]
    assert not gate.held()
    with gate:  # free again: taken at once
        pass


def test_writes_from_under_the_cpu_gate_are_refused_instead_of_deadlocking(database, provider):
    """The committer takes the gate for its transaction: a caller holding it would wait for itself."""
    with database.cpu_gate:
        with pytest.raises(RuntimeError, match="cpu_gate"):
            database.grouped(_create("never"))
        with pytest.raises(RuntimeError, match="cpu_gate"):  # nor a transaction of its own (the write lock)
            with database.transaction() as session:
                _create("never")(session)
    assert database.grouped(_create("after")) == "after"
    with database.read() as s:
        from app.store import providers

        assert "never" not in {p.slug for p in providers.list_providers(s)}


def test_group_commit_waits_for_the_gate_holder_and_holds_the_gate_for_its_transaction(database, provider):
    """A group's transaction runs under the gate: signing started after it waits until it has committed."""
    from sqlalchemy import event

    events: list[str] = []
    event.listen(database.engine, "commit", lambda conn: events.append("commit"))
    result: dict[str, object] = {}
    with database.cpu_gate:  # a "signer" holds the gate; the commit must wait for it
        committer = threading.Thread(target=lambda: result.setdefault("unit", database.grouped(_create("gated"))))
        committer.start()
        deadline = time.monotonic() + 10
        while not database.cpu_gate._urgent and time.monotonic() < deadline:
            time.sleep(0.001)
        assert database.cpu_gate._urgent and events == []  # queued ahead of everyone, nothing committed yet
        signer = _queue_on(database.cpu_gate, "next signer", events)
    committer.join(10)
    signer.join(10)
    assert result["unit"] == "gated"
    assert events == ["commit", "next signer"]


def test_units_queued_while_the_committer_waits_for_its_locks_join_its_transaction(database, provider):
    """The committer gathers its group again once it holds the write lock and the gate: units queued while
    it waited share its commit instead of waiting for one of their own."""
    from sqlalchemy import event

    commits: list[int] = []
    event.listen(database.engine, "commit", lambda conn: commits.append(1))
    results: dict[str, object] = {}

    def call(name):
        results[name] = database.grouped(_create(name))

    threads = []
    with database.cpu_gate:  # the committer takes the first unit, then waits here for the gate
        threads.append(threading.Thread(target=call, args=("first",)))
        threads[0].start()
        deadline = time.monotonic() + 10
        while not database.cpu_gate._urgent and time.monotonic() < deadline:
            time.sleep(0.001)
        assert database.cpu_gate._urgent
        for name in ("second", "third"):
            threads.append(threading.Thread(target=call, args=(name,)))
            threads[-1].start()
        while database._committer._queue.qsize() < 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert commits == []
    for t in threads:
        t.join(10)
    assert results == {"first": "first", "second": "second", "third": "third"}
    assert len(commits) == 1


def test_a_unit_cancelled_before_its_group_ran_is_not_run_and_the_committer_goes_on(database, provider):
    """``grouped_later`` hands out a concurrent future: one cancelled while queued is dropped (the
    committer would otherwise fail setting its result), one already running cannot be cancelled."""
    release, started = threading.Event(), threading.Event()

    def blocker(session):
        started.set()
        release.wait(10)
        return "blocker"

    running = database.grouped_later(blocker)
    assert started.wait(10)
    queued = database.grouped_later(_create("cancelled"))
    assert queued.cancel() and not running.cancel()
    release.set()
    assert running.result(10) == "blocker"
    assert database.grouped(_create("after")) == "after"
    with database.read() as s:
        from app.store import providers

        assert {"after"} <= {p.slug for p in providers.list_providers(s)} and "cancelled" not in {p.slug for p in providers.list_providers(s)}


def test_a_groups_transaction_runs_with_a_short_switch_interval_and_restores_it(database, provider):
    """While a group's transaction runs (its statements and its commit) the event loop must hand the GIL back within
    0.2 ms, not 5 (``db._prompt_gil``): the thread waiting for the GIL after its commit's fsync kept the write lock
    from every other worker. Outside the transaction the interpreter's interval is left as it was, failures too."""
    import sys

    from sqlalchemy import event

    from app.store import db as db_module

    seen: dict[str, float] = {}
    event.listen(database.engine, "commit", lambda conn: seen.setdefault("commit", sys.getswitchinterval()))
    before = sys.getswitchinterval()

    def unit(session):
        session.execute(text("SELECT 1"))  # a connection, so that the group has a commit to see
        seen["work"] = sys.getswitchinterval()
        return "done"

    def failing(session):
        seen["failing"] = sys.getswitchinterval()
        raise ValueError("refused")

    assert database.grouped(unit) == "done"
    assert seen["work"] == seen["commit"] == pytest.approx(db_module.COMMIT_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with pytest.raises(ValueError):
        database.grouped(failing)
    assert seen["failing"] == pytest.approx(db_module.COMMIT_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with database.transaction() as session:  # a plain transaction (a request's own) is not the committer's
        session.execute(text("SELECT 1"))
        assert sys.getswitchinterval() == before
