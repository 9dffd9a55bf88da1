"""An issuer service over the real app and database (``live``, ``provider`` and ``example_input`` come
from tests/conftest.py): an HTTP client holding the provider's API key."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def client(live, provider):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=30) as c:
        yield c
