"""Credentials: exact signed bytes, provider scoping, keyset pagination and filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.errors import MalformedValueError, NotFoundError
from app.store import credentials


def _new(provider_id: int, body: bytes = b"{}", **kw) -> credentials.NewCredential:
    defaults = dict(format="ob3", proof_format="eddsa-rdfc-2022", media_type="application/vc")
    defaults.update(kw)
    return credentials.NewCredential(id=f"urn:uuid:{uuid.uuid4()}", provider_id=provider_id, body=body, **defaults)


def test_the_exact_signed_bytes_come_back(database, provider):
    body = '{"b": 1,  "a": "Ünïcødé ✓"}\n\t'.encode() + b"\xff\x00"  # not even valid UTF-8: stored verbatim
    jwt = b"eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.sig"
    with database.transaction() as s:
        one = credentials.insert_credential(s, _new(provider.id, body, learner_ref="learner@example.org"))
        two = credentials.insert_credential(s, _new(provider.id, jwt, proof_format="vc+jwt", media_type="application/vc+jwt"))
    with database.read() as s:
        assert credentials.get_credential(s, one.id).body == body
        assert credentials.get_credential(s, two.id, provider_id=provider.id).body == jwt
        assert credentials.get_credential(s, one.id).created_at.tzinfo is not None


def test_other_providers_do_not_see_a_credential(database, provider):
    from tests.store.conftest import make_provider

    other = make_provider(database, "other")
    with database.transaction() as s:
        c = credentials.insert_credential(s, _new(provider.id))
    with database.read() as s, pytest.raises(NotFoundError):
        credentials.get_credential(s, c.id, provider_id=other.id)


def test_invalid_values_are_refused(database, provider):
    with database.transaction() as s:
        with pytest.raises(MalformedValueError):
            credentials.insert_credential(s, _new(provider.id, format="pdf"))
        with pytest.raises(MalformedValueError):
            credentials.insert_credential(s, _new(provider.id, status_list_id="x"))


def test_listing_pages_newest_first_without_gaps_or_repeats(database, provider):
    with database.transaction() as s:
        made = [credentials.insert_credential(s, _new(provider.id, format="edc" if i % 3 == 0 else "ob3")).id for i in range(25)]
    seen, cursor = [], None
    with database.read() as s:
        while True:
            page = credentials.list_credentials(s, provider.id, limit=10, cursor=cursor)
            seen += [c.id for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(made) and len(seen) == 25
        stamps = [c.created_at for c in credentials.list_credentials(s, provider.id, limit=100).items]
        assert stamps == sorted(stamps, reverse=True)
        edc = credentials.list_credentials(s, provider.id, filters=credentials.CredentialFilter(format="edc"), limit=100)
        assert len(edc.items) == 9 and edc.next_cursor is None
        future = credentials.CredentialFilter(issued_after=datetime.now(UTC) + timedelta(hours=1))
        assert credentials.list_credentials(s, provider.id, filters=future).items == []
        assert credentials.count_credentials(s, provider.id) == 25
        with pytest.raises(MalformedValueError):
            credentials.list_credentials(s, provider.id, cursor="not-a-cursor")
