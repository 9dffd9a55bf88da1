"""``Idempotency-Key`` for requests that create something other than a credential (a batch job, a specification).

The key is claimed, the thing created and the response stored in *one* transaction (``replay`` then
``keep`` on the session the creation uses): a retry sees either nothing (the first attempt rolled back,
or never ran) or the complete first response, which it gets again, same status and body. Two requests with
the same key at once meet on the key's unique row (app/store/idempotency.py): the second waits for the
first's commit and replays it. The same key with another body is 409 ``IDEMPOTENCY_KEY_REUSED``.

Before, ``POST /microcredentials/batch`` ignored the header: the same batch sent twice made two jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.store import idempotency
from app.store.idempotency import StoredResponse


@dataclass(frozen=True)
class Once:
    """One request's key: ``render`` turns what it created into the response (status, body, headers) to keep."""

    provider_id: int
    key: str
    request_hash: str
    render: Callable[[Any], tuple[int, bytes, dict[str, str]]]

    def replay(self, session) -> StoredResponse | None:
        """Claim the key in ``session``: None to go on and create, else the first response to give again."""
        return idempotency.begin(session, self.provider_id, self.key, self.request_hash)

    def keep(self, session, created: Any) -> None:
        status, body, headers = self.render(created)
        idempotency.store_response(session, self.provider_id, self.key, status=status, body=body, headers=headers)


def once(provider_id: int, key: str | None, payload: Any, render: Callable[[Any], tuple[int, bytes, dict[str, str]]]) -> Once | None:
    """The ``Once`` of a request (None without a key); ``payload`` is hashed as JCS, so key order does not matter."""
    if key is None:
        return None
    return Once(provider_id, key, idempotency.request_hash(payload), render)
