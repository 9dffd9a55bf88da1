"""The live service with a provider, as in the API tests (``live``, ``provider``, ``example_input`` come
from tests/conftest.py), plus the real browser."""

from tests.api.conftest import client  # noqa: F401
from tests.browser import browser  # noqa: F401
