"""`microcred migrate`: Alembic upgrade to head of settings.database_url."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from tests.conftest import ROOT


def test_migrate_creates_the_schema_and_is_idempotent(tmp_path):
    db = tmp_path / "m.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MICROCRED_DATABASE_URL": f"sqlite:///{db}"}
    env.pop("DATABASE_URL", None)
    for _ in range(2):  # the second run finds the schema at head and does nothing
        out = subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    from alembic.script import ScriptDirectory

    from app.store.migrate import MIGRATIONS_DIR

    assert version == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert len(tables - {"alembic_version"}) >= 1
