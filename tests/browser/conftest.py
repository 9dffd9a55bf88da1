"""The live service with a provider, as in the API tests, plus the real browser."""

from tests.api.conftest import client, example_input, live, provider  # noqa: F401
from tests.browser import browser  # noqa: F401
