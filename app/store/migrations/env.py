"""Alembic environment, packaged inside ``app`` so an installed microcred can migrate itself.

Run programmatically through ``app.store.db.upgrade(url)``; the root ``alembic.ini`` exists only for
operators who prefer the ``alembic`` command. The URL comes from the Alembic config, else from the
settings (``MICROCRED_DATABASE_URL``).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from app.store.db import create_db_engine, normalize_url
from app.store.models import Base

MIGRATION_LOCK_CLASS = 0x6D6963  # "mic"; the second key is the schema, so schemas migrate independently

config = context.config
if config.config_file_name:  # only when run through the operators' alembic.ini
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from app.settings import get_settings

        url = get_settings().database_url
    return normalize_url(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables in later migrations.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several workers may start at once: one migrates, the others wait, then find nothing to do.
            # (On SQLite, app.store.db.upgrade holds a file lock around the whole migration.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": MIGRATION_LOCK_CLASS})
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
