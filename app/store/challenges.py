"""Verifier challenges (VC Data Integrity §2.1, "challenge"; VC API ``POST /challenges``).

``consume`` is one conditional UPDATE (``… WHERE used_at IS NULL AND expires_at > now``): the database
decides which of two concurrent uses of the same challenge wins, on SQLite and PostgreSQL alike, across
worker processes. A replayed presentation therefore finds its challenge used and is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.store.models import Challenge, utcnow

CHALLENGE_BYTES = 32  # 256 bits: unguessable, well above the 128 bits asked of a nonce


@dataclass(frozen=True)
class ChallengeRecord:
    challenge: str
    domain: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


def _record(row: Challenge) -> ChallengeRecord:
    return ChallengeRecord(row.challenge, row.domain, row.created_at, row.expires_at, row.used_at)


def create(session: Session, *, domain: str | None, ttl: timedelta, now: datetime | None = None) -> ChallengeRecord:
    now = now or utcnow()
    row = Challenge(challenge=secrets.token_urlsafe(CHALLENGE_BYTES), domain=domain, created_at=now, expires_at=now + ttl, used_at=None)
    session.add(row)
    session.flush()
    return _record(row)


def get(session: Session, challenge: str) -> ChallengeRecord | None:
    row = session.scalar(select(Challenge).where(Challenge.challenge == challenge))
    return _record(row) if row else None


def consume(session: Session, challenge: str, *, now: datetime | None = None) -> bool:
    """Mark the challenge used if it exists, is unused and unexpired; True for exactly one caller."""
    now = now or utcnow()
    result = session.execute(
        update(Challenge)
        .where(Challenge.challenge == challenge, Challenge.used_at.is_(None), Challenge.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def purge(session: Session, *, before: datetime) -> int:
    """Delete challenges that expired before ``before`` (used or not); the number deleted."""
    result = session.execute(delete(Challenge).where(Challenge.expires_at < before).execution_options(synchronize_session=False))
    return result.rowcount or 0
