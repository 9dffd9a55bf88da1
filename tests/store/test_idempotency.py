"""Idempotency keys (security-notes §16): one credential per key, the stored response replayed byte for byte."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.errors import ConflictError, MalformedValueError
from app.store import credentials, idempotency, status
from app.store.models import Credential


def _issue_with_key(db, provider_id: int, key: str, payload: dict, barrier: threading.Barrier | None = None):
    """The issuer's flow: claim the key, allocate, store credential and response in one transaction."""
    h = idempotency.request_hash(payload)
    if barrier is not None:
        barrier.wait()
    with db.transaction() as s:
        stored = idempotency.begin(s, provider_id, key, h)
        if stored is not None:
            return "replay", stored
        cred_id = f"urn:uuid:{uuid.uuid4()}"
        alloc = status.allocate(s, provider_id, "revocation", cred_id)
        body = f'{{"id": "{cred_id}"}}\n'.encode()
        credentials.insert_credential(
            s,
            credentials.NewCredential(
                cred_id, provider_id, "ob3", "eddsa-jcs-2022", "application/vc", body, None, alloc.status_list_id, alloc.index, None, key
            ),
        )
        idempotency.store_response(s, provider_id, key, status=201, body=body, headers={"Location": f"/credentials/{cred_id}"})
        return "new", idempotency.StoredResponse(201, body, {"Location": f"/credentials/{cred_id}"})


def test_request_hash_ignores_key_order_and_spacing():
    assert idempotency.request_hash({"a": 1, "b": [1, 2]}) == idempotency.request_hash({"b": [1, 2], "a": 1})
    assert idempotency.request_hash({"a": 1}) != idempotency.request_hash({"a": 2})


def test_same_key_same_request_replays_the_stored_response(database, provider):
    first = _issue_with_key(database, provider.id, "k-1", {"learner": "a@example.org"})
    again = _issue_with_key(database, provider.id, "k-1", {"learner": "a@example.org"})
    assert first[0] == "new" and again[0] == "replay"
    assert again[1] == first[1]  # status, exact body bytes, headers
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(Credential)) == 1


def test_same_key_different_request_is_a_conflict(database, provider):
    _issue_with_key(database, provider.id, "k-2", {"learner": "a@example.org"})
    with pytest.raises(ConflictError) as exc:
        _issue_with_key(database, provider.id, "k-2", {"learner": "b@example.org"})
    assert exc.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_per_provider(database, provider):
    from tests.store.conftest import make_provider

    other = make_provider(database, "other-uni")
    assert _issue_with_key(database, provider.id, "shared", {"x": 1})[0] == "new"
    assert _issue_with_key(database, other.id, "shared", {"x": 2})[0] == "new"


def test_a_failed_attempt_releases_the_key(database, provider):
    with pytest.raises(RuntimeError):
        with database.transaction() as s:
            assert idempotency.begin(s, provider.id, "k-3", idempotency.request_hash({"x": 1})) is None
            raise RuntimeError("signer down")
    assert _issue_with_key(database, provider.id, "k-3", {"x": 1})[0] == "new"


def test_invalid_keys_are_refused(database, provider):
    with database.transaction() as s:
        for key in ("", "x" * 256, "line\nbreak"):
            with pytest.raises(MalformedValueError):
                idempotency.begin(s, provider.id, key, "0" * 64)


def test_concurrent_requests_with_one_key_make_exactly_one_credential(database, provider):
    n = 12
    barrier = threading.Barrier(n)
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda _: _issue_with_key(database, provider.id, "race", {"learner": "x"}, barrier), range(n)))
    assert sorted(kind for kind, _ in results).count("new") == 1
    assert len({r.body for _, r in results}) == 1
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(Credential)) == 1
