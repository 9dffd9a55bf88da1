"""An issuer service over the real app and database: a live server, a provider and its API key."""

from __future__ import annotations

import json

import httpx
import pytest

from tests import live_server
from tests.conftest import SHARED


@pytest.fixture
def live(database_url, tmp_path):
    server = live_server.start(database_url, tmp_path, status_cache_seconds=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def provider(live):
    provider, secret = live.app.state.issuance.create_provider(slug="uniz", name="University of Zed", country="IE", homepage="https://uniz.example.edu")
    return provider, secret


@pytest.fixture
def client(live, provider):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def example_input():
    return json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text())
