"""Verifier challenges in the database: single use, expiry, and one winner among concurrent uses.

Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL (the ``database`` fixture)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from app.store import challenges


def test_a_challenge_is_random_and_usable_once(database):
    with database.transaction() as s:
        a = challenges.create(s, domain="employer.example", ttl=timedelta(minutes=5))
        b = challenges.create(s, domain=None, ttl=timedelta(minutes=5))
    assert a.challenge != b.challenge and len(a.challenge) >= 43  # 256 bits, base64url
    with database.read() as s:
        assert challenges.get(s, a.challenge).domain == "employer.example"
        assert challenges.get(s, "unknown") is None
    with database.transaction() as s:
        assert challenges.consume(s, a.challenge) is True
    with database.transaction() as s:
        assert challenges.consume(s, a.challenge) is False  # a replay
        assert challenges.consume(s, "unknown") is False
    with database.read() as s:
        assert challenges.get(s, a.challenge).used_at is not None


def test_an_expired_challenge_cannot_be_used_and_is_purged(database):
    past = datetime.now(UTC) - timedelta(hours=2)
    with database.transaction() as s:
        old = challenges.create(s, domain=None, ttl=timedelta(minutes=5), now=past)
        fresh = challenges.create(s, domain=None, ttl=timedelta(minutes=5))
    with database.transaction() as s:
        assert challenges.consume(s, old.challenge) is False
        assert challenges.purge(s, before=datetime.now(UTC) - timedelta(hours=1)) == 1
    with database.read() as s:
        assert challenges.get(s, old.challenge) is None and challenges.get(s, fresh.challenge) is not None


def test_concurrent_uses_have_exactly_one_winner(database):
    with database.transaction() as s:
        c = challenges.create(s, domain=None, ttl=timedelta(minutes=5)).challenge
    wins: list[bool] = []
    barrier = threading.Barrier(12)

    def use():
        barrier.wait()
        with database.transaction() as s:
            wins.append(challenges.consume(s, c))

    threads = [threading.Thread(target=use) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(wins) == [False] * 11 + [True]
