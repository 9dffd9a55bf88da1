"""The ``database`` fixture: a freshly migrated database per test, on SQLite or PostgreSQL.

Without ``TEST_DATABASE_URL`` every test gets a new SQLite file (WAL) in its tmp_path. With
``TEST_DATABASE_URL=postgresql://…`` every test gets its own PostgreSQL schema (selected through the
connection's ``search_path``), migrated to head and dropped afterwards, so tests never see each other's
rows and can run in parallel. An unreachable PostgreSQL is a failure, never a skip.

Registered for the whole suite by ``tests/conftest.py``; any test folder can ask for ``database``
(a ``app.store.Database``) or ``database_url``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def on_postgresql() -> bool:
    return TEST_DATABASE_URL.startswith(("postgresql", "postgres:"))


def _postgres_schema_url(schema: str) -> str:
    from app.store.db import normalize_url

    url = make_url(normalize_url(TEST_DATABASE_URL))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A URL of an empty database (not migrated)."""
    if not on_postgresql():
        yield f"sqlite:///{tmp_path / 'microcred-test.db'}"
        return
    from app.store.db import normalize_url

    schema = f"mc_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalize_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _postgres_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_url):
    """An ``app.store.Database`` on a freshly migrated schema."""
    from app.store import Database, upgrade

    upgrade(database_url)
    db = Database(database_url, pool_size=20, max_overflow=10)
    try:
        yield db
    finally:
        db.dispose()
