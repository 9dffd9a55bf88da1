"""One store-level error for "the database cannot serve now", whatever the driver said.

The drivers each have their own: psycopg raises ``OperationalError`` (server gone, connection refused, admin
shutdown, disk full) or ``InterfaceError`` (connection closed); sqlite3 raises ``OperationalError`` for a
busy or locked file, a full disk or an I/O error; SQLAlchemy wraps them when they pass through its
statement layer, not when they come from a raw pooled connection (``Database.read_value``), and raises its
own ``TimeoutError`` when the pool has no connection to give. Before, only SQLAlchemy's wrapped
``OperationalError`` was answered 503: during a PostgreSQL outage most requests got a 500, and uvicorn
closed their keep-alive connections.

``Database`` translates all of these at their source (an engine ``handle_error`` hook, the raw reads, the
group committer's writer lock) into ``DatabaseUnavailable``, which app/api/problems.py answers with 503
and ``Retry-After``, or ``StorageFull`` (the disk holding the database is full), answered 507. An SQL
error that is a bug (no such table, a syntax error) is left as it is.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import exc as sa_exc

#: SQLite result codes (primary, ``sqlite_errorcode & 0xff``) meaning "not now", not "wrong SQL".
_SQLITE_UNAVAILABLE = {5: "busy", 6: "locked", 10: "I/O error", 14: "cannot open", 15: "protocol", 8: "read-only", 26: "not a database"}
_SQLITE_FULL = 13


class DatabaseUnavailable(sa_exc.OperationalError):
    """The database is unreachable, restarting, or busy beyond its timeout; nothing was stored. Retry later.

    A kind of SQLAlchemy's ``OperationalError``, so that code and tests that caught that before still do.
    """

    reason = "busy or unreachable"

    def __init__(self, detail: str, *, reason: str | None = None):
        super().__init__(None, None, Exception(detail))
        self.detail = detail
        if reason:
            self.reason = reason

    def __str__(self) -> str:
        return self.detail

    def __reduce__(self):
        return type(self), (self.detail,), {"reason": self.reason}


class StorageFull(DatabaseUnavailable):
    """The storage under the database is full (SQLITE_FULL; PostgreSQL class 53: disk full, out of memory)."""

    reason = "storage full"


def _psycopg_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    try:
        import psycopg
        from psycopg import errors
    except ImportError:  # SQLite only
        return (), ()
    return (psycopg.OperationalError, psycopg.InterfaceError), (errors.InsufficientResources,)


_PG_UNAVAILABLE, _PG_FULL = _psycopg_classes()


def classify(error: BaseException) -> DatabaseUnavailable | None:
    """The ``DatabaseUnavailable`` (or ``StorageFull``) that ``error`` means, or None if it means something else."""
    if isinstance(error, DatabaseUnavailable):
        return error
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to give within its timeout
        return DatabaseUnavailable(f"no database connection free: {error}", reason="busy")
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return DatabaseUnavailable(_first_line(error), reason="unreachable")
        inner = error.orig
        if inner is None:  # raised by this store itself (the SQLite writer queue timed out)
            return DatabaseUnavailable(_first_line(error), reason="busy") if isinstance(error, sa_exc.OperationalError) else None
        found = classify(inner)
        if found is None and isinstance(error, sa_exc.OperationalError) and not isinstance(inner, sqlite3.Error):
            found = DatabaseUnavailable(_first_line(error))
        return found
    # By SQLSTATE class 53 (insufficient resources): psycopg derives DiskFull (53100), OutOfMemory (53200) and the
    # others from OperationalError, not from InsufficientResources (53000), so a full disk looked "unreachable".
    if _PG_FULL and (isinstance(error, _PG_FULL) or (isinstance(error, _PG_UNAVAILABLE) and str(getattr(error, "sqlstate", "") or "").startswith("53"))):
        return StorageFull(_first_line(error))
    if _PG_UNAVAILABLE and isinstance(error, _PG_UNAVAILABLE):
        return DatabaseUnavailable(_first_line(error), reason="unreachable")
    if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        code = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        text = str(error)
        if primary == _SQLITE_FULL or "database or disk is full" in text:
            return StorageFull(_first_line(error))
        if primary in _SQLITE_UNAVAILABLE or "database is locked" in text:
            return DatabaseUnavailable(_first_line(error), reason=_SQLITE_UNAVAILABLE.get(primary or 5, "busy"))
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:300]


class StorageWatch:
    """Remembers a recent ``StorageFull`` until a write commits again, for ``/ready`` (app/api/health.py).

    Expires after ``hold`` seconds without another failure, so that a service no write reaches (a load
    balancer sends it nothing while it is not ready) becomes ready again and finds out with the next write.
    """

    def __init__(self, hold: float = 30.0):
        self._hold = hold
        self._lock = threading.Lock()
        self._full_at: float | None = None

    def failed(self) -> None:
        with self._lock:
            self._full_at = time.monotonic()

    def committed(self) -> None:
        if self._full_at is not None:
            with self._lock:
                self._full_at = None

    def full(self) -> bool:
        at = self._full_at
        return at is not None and time.monotonic() - at < self._hold
