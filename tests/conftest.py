"""Shared fixtures. Under CI (CI=true) a missing component is a failure, never a skip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The vectors and samples the tests read, copied into the repository (tests/fixtures/SOURCES.md: origin and sha256 of
# each) so that a plain clone runs every test; the name SHARED stays for the tests that import it.
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = FIXTURES
VECTORS = FIXTURES / "vectors"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, why: str) -> None:
    """Skip locally when a component is missing; fail under CI, where everything must be there."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required component missing under CI: {why}")
        pytest.skip(why)


def load_json(path: Path):
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    require(SHARED.is_dir(), f"{SHARED} (the test fixtures: vectors and samples) is needed")
    return SHARED


@pytest.fixture
def live(database_url, tmp_path):
    """A real service on 127.0.0.1 over a fresh database (tests/live_server.py)."""
    from tests import live_server

    server = live_server.start(database_url, tmp_path, status_cache_seconds=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def provider(live):
    """(provider record, API key) of a provider of the live service."""
    return live.app.state.issuance.providers.create(slug="uniz", name="University of Zed", country="IE", homepage="https://uniz.example.edu")


@pytest.fixture(scope="session")
def example_input():
    """The European Commission's reference micro-credential as the neutral input record."""
    return json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text())


@pytest.fixture(scope="session")
def loader():
    from app.jsonld import ContextLoader

    return ContextLoader(ROOT / "contexts")


# The storage fixtures (``database``, ``database_url``): SQLite by default, PostgreSQL when TEST_DATABASE_URL is set.
pytest_plugins = ("tests.database_fixture",)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    """A SoftHSM2 token for the whole run (tests/hsm.py): a PKCS#11 module reads its configuration once per process."""
    from tests.hsm import make_token

    return make_token(tmp_path_factory.mktemp("softhsm"))
