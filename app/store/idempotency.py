"""Idempotency keys (security-notes §16): a retried request returns the stored response, never a second credential.

Use inside the transaction that issues the credential::

    with db.transaction() as s:
        stored = idempotency.begin(s, provider_id, key, request_hash(body))
        if stored is not None:
            return stored                      # a replay: same key, same request
        ... allocate, sign, credentials.insert_credential(s, ...)
        idempotency.store_response(s, provider_id, key, status=201, body=signed, headers={...})

``begin`` inserts the key row first. Two concurrent requests with the same key therefore meet on the
unique key: on SQLite ``BEGIN IMMEDIATE`` queues the second behind the first; on PostgreSQL its
``INSERT … ON CONFLICT DO NOTHING`` waits for the first transaction and then sees the committed row.
Either way the second gets the first's response, and exactly one credential exists. If the first
transaction fails, its key row rolls back with it and the retry starts afresh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import rfc8785
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import ConflictError, MalformedValueError
from app.store._common import insert_ignore
from app.store.models import IdempotencyRecord, utcnow

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def request_hash(payload: Any) -> str:
    """SHA-256 (hex) of the request body canonicalized with JCS (RFC 8785), so key order and spacing do not matter."""
    return hashlib.sha256(rfc8785.dumps(payload)).hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise MalformedValueError(f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable characters", code="INVALID_IDEMPOTENCY_KEY")


#: A claim older than this without a response was abandoned (its process died between claiming and
#: storing); a retry may take it over.
ABANDONED_AFTER = timedelta(seconds=60)


def begin(session: Session, provider_id: int, key: str, request_hash: str) -> StoredResponse | None:
    """Claim ``key`` for this request: None if new (go on and issue), else the stored response to replay.

    Raises ``ConflictError`` ``IDEMPOTENCY_KEY_REUSED`` when the key was used for a different request, and
    ``IDEMPOTENCY_KEY_IN_PROGRESS`` while another request with the key is being served (the claim and the
    response are stored in two transactions, so that signing holds no lock). A claim abandoned by a
    process that died is taken over after ``ABANDONED_AFTER``.
    """
    _check_key(key)
    inserted = insert_ignore(
        session,
        IdempotencyRecord.__table__,
        {"provider_id": provider_id, "key": key, "request_hash": request_hash, "created_at": utcnow()},
        ["provider_id", "key"],
        returning=[IdempotencyRecord.id],
    ).first()
    if inserted is not None:
        return None
    row = session.execute(
        select(
            IdempotencyRecord.request_hash,
            IdempotencyRecord.response_status,
            IdempotencyRecord.response_body,
            IdempotencyRecord.response_headers,
        ).where(IdempotencyRecord.provider_id == provider_id, IdempotencyRecord.key == key)
    ).one()
    if row.request_hash != request_hash:
        raise ConflictError("this Idempotency-Key was used for a different request", code="IDEMPOTENCY_KEY_REUSED")
    if row.response_status is None:
        now = utcnow()
        taken = session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.provider_id == provider_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.response_status.is_(None),
                IdempotencyRecord.created_at < now - ABANDONED_AFTER,
            )
            .values(created_at=now)
        )
        if taken.rowcount == 1:
            return None
        raise ConflictError("a request with this Idempotency-Key is still being served; retry shortly", code="IDEMPOTENCY_KEY_IN_PROGRESS")
    return StoredResponse(row.response_status, bytes(row.response_body or b""), dict(row.response_headers or {}))


def lookup(session: Session, provider_id: int, key: str, request_hash: str) -> StoredResponse | None:
    """Read-only replay check before any work: the stored response, ``None`` if the key is new.

    Same conflict rule as ``begin``; a key claimed but not completed yet reads as new (``begin`` decides).
    """
    _check_key(key)
    row = session.execute(
        select(IdempotencyRecord.request_hash, IdempotencyRecord.response_status, IdempotencyRecord.response_body, IdempotencyRecord.response_headers).where(
            IdempotencyRecord.provider_id == provider_id, IdempotencyRecord.key == key
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise ConflictError("this Idempotency-Key was used for a different request", code="IDEMPOTENCY_KEY_REUSED")
    if row.response_status is None:
        return None
    return StoredResponse(row.response_status, bytes(row.response_body or b""), dict(row.response_headers or {}))


def store_response(session: Session, provider_id: int, key: str, *, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Record the response of the request that claimed ``key``; same transaction as the credential insert."""
    result = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.provider_id == provider_id, IdempotencyRecord.key == key, IdempotencyRecord.response_status.is_(None))
        .values(response_status=status, response_body=bytes(body), response_headers=dict(headers or {}), completed_at=utcnow())
    )
    if result.rowcount != 1:
        raise ConflictError("store_response without a matching begin()", code="IDEMPOTENCY_KEY_IN_PROGRESS")
