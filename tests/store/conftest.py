"""Storage tests run on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set (never skipped).

``database`` / ``database_url`` come from tests/database_fixture.py; re-exported here too, so this
folder keeps working on its own. ``provider`` is a provider to hang rows on.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def provider(database):
    from app.store import providers

    with database.transaction() as s:
        return providers.create_provider(s, slug="uni-example", legal_name="Universitas Exemplaris", country="BE", did="did:web:uni.example", did_method="web")


def make_provider(database, slug: str):
    from app.store import providers

    with database.transaction() as s:
        return providers.create_provider(s, slug=slug, legal_name=slug.title(), country="NL", did=f"did:web:{slug}.example", did_method="web")
