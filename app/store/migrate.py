"""Schema migrations (Alembic), runnable from an installed package: no alembic.ini needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from app.store.db import Database, create_db_engine, is_sqlite, normalize_url

__all__ = ["MIGRATIONS_DIR", "current_revision", "downgrade", "open_database", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (start-up and tests call this; no alembic.ini needed)."""
    from alembic import command

    with _sqlite_migration_lock(url):
        command.upgrade(_alembic_config(url), revision)


@contextmanager
def _sqlite_migration_lock(url: str) -> Iterator[None]:
    """Workers that start together migrate one at a time: an ``flock`` on ``<database>.migrate`` for a SQLite
    file, as PostgreSQL takes an advisory lock in ``migrations/env.py``. Without it, SQLite's own locking
    alone had to keep concurrent first migrations of a new file apart; a test of four workers starting
    together failed once in about ten runs (the cause was not caught, this closes the likely ones)."""
    database = make_url(normalize_url(url)).database if is_sqlite(url) else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    Path(database).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{database}.migrate", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def open_database(settings, *, migrate: bool = True) -> Database:
    """Start-up: migrate the configured database to head (unless told not to) and open it."""
    if migrate:
        upgrade(settings.database_url)
    return Database.from_settings(settings)
