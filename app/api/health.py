"""Liveness and readiness probes (the Kubernetes / load-balancer convention).

``GET /health`` answers as long as the process serves HTTP (liveness: restart me if this fails).
``GET /ready`` answers 200 only when the service can do its work (readiness: send me traffic): the
database answers and has room to write, the key and context folders are usable, and every check other parts registered
with ``add_ready_check(app, name, check)`` passes. Otherwise 503 problem+json naming the failed checks.
Failure reasons are the exception's class only (its message can hold a DSN or a host name); the full
error is logged.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path

import anyio
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field

from app.api.problems import problem, problem_responses

router = APIRouter(tags=["operations"])
log = logging.getLogger("microcred.ready")

#: A readiness check: returns None or True when ready; False, or raising, means not ready. Sync checks run
#: in a worker thread; each is cut off after ``settings.ready_timeout_seconds``.
ReadyCheck = Callable[[], object]


def add_ready_check(app: FastAPI, name: str, check: ReadyCheck) -> None:
    """Register ``check`` under ``name`` on ``app.state.ready_checks`` (a list of ``(name, check)`` pairs)."""
    if not hasattr(app.state, "ready_checks"):
        app.state.ready_checks = []
    app.state.ready_checks.append((name, check))


class Readiness(BaseModel):
    status: str = Field(description="`ready`", examples=["ready"])
    checks: dict[str, str] = Field(description="Each check run and its outcome (`ok`).")


@router.get("/health", summary="Process is up")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _database_check(database) -> ReadyCheck:
    storage = _storage_check(database)

    def ping() -> None:
        # The store's Database (or anything with a SQLAlchemy ``engine``): one round trip, and room to write.
        with database.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        storage()

    return ping


#: Below this much free space on the SQLite database's filesystem, the service is not ready: a write would
#: soon fail with "database or disk is full" (answered 507 STORAGE_FULL, app/api/problems.py).
STORAGE_MIN_FREE_BYTES = 1 << 20


def _storage_check(database) -> ReadyCheck:
    """Not ready while storage is full: a write failed so (on either database: ``Database.storage``), or, on
    SQLite, the filesystem holding the file has less than ``STORAGE_MIN_FREE_BYTES`` left."""

    def check() -> None:
        from app.store.unavailable import StorageFull

        watch = getattr(database, "storage", None)
        if watch is not None and watch.full():
            raise StorageFull("a write failed recently: storage full")
        path = database.engine.url.database if database.engine.dialect.name == "sqlite" else None
        if path and path != ":memory:" and not path.startswith("file:"):
            stat = os.statvfs(Path(path).resolve().parent)
            if stat.f_bavail * stat.f_frsize < STORAGE_MIN_FREE_BYTES:
                raise StorageFull("the database's filesystem is full")

    return check


def _folder_check(path: Path, *, writable: bool, must_hold_files: bool = False) -> ReadyCheck:
    def check() -> None:
        if not path.is_dir():
            raise FileNotFoundError("folder missing")
        mode = os.R_OK | os.X_OK | (os.W_OK if writable else 0)
        if not os.access(path, mode):
            raise PermissionError("folder not accessible")
        if must_hold_files and not any(path.iterdir()):
            raise FileNotFoundError("folder empty")

    return check


def _checks(app: FastAPI) -> list[tuple[str, ReadyCheck]]:
    settings = app.state.settings
    checks: list[tuple[str, ReadyCheck]] = []
    database = getattr(app.state, "database", None) or getattr(app.state, "db", None)
    if database is not None and hasattr(database, "engine"):
        checks.append(("database", _database_check(database)))
    # File-backed development keys are created on first use, so the folder must be writable too.
    checks.append(("keys", _folder_check(Path(settings.keys_dir), writable=True)))
    checks.append(("contexts", _folder_check(Path(settings.contexts_dir), writable=False, must_hold_files=True)))
    checks.extend(getattr(app.state, "ready_checks", []))
    return checks


async def _run(check: ReadyCheck, timeout: float) -> str | None:
    """None when the check passed, else a short reason."""
    with anyio.move_on_after(timeout) as scope:
        try:
            if inspect.iscoroutinefunction(check):
                result = await check()
            else:
                result = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        except Exception as exc:  # a failing check is an answer, not an error of /ready
            log.warning("readiness check failed", exc_info=True)
            return type(exc).__name__
        return "returned false" if result is False else None
    return "timed out" if scope.cancelled_caught else None


@router.get(
    "/ready",
    summary="Service can serve requests",
    response_model=Readiness,
    responses=problem_responses(503, descriptions={503: "A readiness check failed (code NOT_READY)"}),
)
async def ready(request: Request):
    app = request.app
    timeout = app.state.settings.ready_timeout_seconds
    outcomes = {name: await _run(check, timeout) for name, check in _checks(app)}
    failed = {name: reason for name, reason in outcomes.items() if reason}
    if failed:
        return problem(
            503,
            "NOT_READY",
            "Service not ready",
            "failed readiness check(s): " + ", ".join(failed),
            errors=[{"pointer": f"/checks/{name}", "detail": reason} for name, reason in failed.items()],
        )
    return Readiness(status="ready", checks={name: "ok" for name in outcomes})
