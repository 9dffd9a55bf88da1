"""The verifier's OpenID4VP presentation requests (OpenID4VP 1.0 §5, §8.2): created once, answered once.

``answer`` is one conditional UPDATE (``… WHERE status = 'pending' AND expires_at > now``): of two responses to
the same request (a replay, or two wallets) the database lets exactly one win, on SQLite and PostgreSQL alike,
across worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.store.db import Database
from app.store.models import PresentationRequest, utcnow


@dataclass(frozen=True)
class PresentationRequestRecord:
    id: str
    nonce: str
    state: str
    verifier_name: str
    purpose: str
    dcql_query: dict[str, Any]
    request_object: str
    redirect_uri: str | None
    status: str
    created_at: datetime
    expires_at: datetime
    received_at: datetime | None
    response_code: str | None
    result: dict[str, Any] | None


_TABLE = PresentationRequest.__table__
#: The record's columns, in ``PresentationRequestRecord``'s order: read and written as table rows, past the ORM's
#: object loading and bulk-update machinery (about a millisecond of each OpenID4VP response went there).
_COLUMNS = [_TABLE.c[name] for name in PresentationRequestRecord.__dataclass_fields__]


def create(
    session: Session,
    *,
    id: str,
    nonce: str,
    state: str,
    verifier_name: str,
    purpose: str,
    dcql_query: dict[str, Any],
    request_object: str,
    redirect_uri: str | None,
    created_at: datetime,
    expires_at: datetime,
) -> PresentationRequestRecord:
    record = PresentationRequestRecord(
        id, nonce, state, verifier_name, purpose, dcql_query, request_object, redirect_uri, "pending", created_at, expires_at, None, None, None
    )
    # the unanswered columns (received_at, response_code, result) left out: SQL NULL, not a JSON null
    values = {name: value for name in PresentationRequestRecord.__dataclass_fields__ if (value := getattr(record, name)) is not None}
    session.execute(insert(_TABLE).values(values))
    return record


def get(session: Session, request_id: str) -> PresentationRequestRecord | None:
    row = session.execute(select(*_COLUMNS).where(_TABLE.c.id == request_id)).first()
    return PresentationRequestRecord(*row) if row else None


_SELECT = f"SELECT {', '.join(c.name for c in _COLUMNS)} FROM {_TABLE.name} WHERE id = ?"


def read(db: Database, request_id: str) -> PresentationRequestRecord | None:
    """``get`` past SQLAlchemy's connection and statement layers (``Database.read_row``), which cost a response
    about a millisecond of CPU, twenty times the query: each column converted by its own type's result processor
    (the UTC timestamps, the JSON), as a SQLAlchemy read would."""
    row = db.read_row(_SELECT, request_id)
    if row is None:
        return None
    processors = _processors(db.engine.dialect)
    return PresentationRequestRecord(*(value if convert is None else convert(value) for convert, value in zip(processors, row, strict=True)))


@lru_cache(maxsize=4)
def _processors(dialect) -> tuple:
    return tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in _COLUMNS)


def answer(session: Session, request_id: str, *, result: dict[str, Any], response_code: str | None, now: datetime | None = None) -> bool:
    """Record the wallet's answer if the request is pending and unexpired; True for exactly one caller."""
    now = now or utcnow()
    outcome = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == request_id, _TABLE.c.status == "pending", _TABLE.c.expires_at > now)
        .values(status="received", received_at=now, result=result, response_code=response_code)
    )
    return outcome.rowcount == 1


def purge(session: Session, *, before: datetime) -> int:
    """Delete requests that expired before ``before`` (answered or not); the number deleted."""
    outcome = session.execute(delete(PresentationRequest).where(PresentationRequest.expires_at < before).execution_options(synchronize_session=False))
    return outcome.rowcount or 0
