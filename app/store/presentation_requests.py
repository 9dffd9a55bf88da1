"""The verifier's OpenID4VP presentation requests (OpenID4VP 1.0 §5, §8.2): created once, answered once.

``answer`` is one conditional UPDATE (``… WHERE status = 'pending' AND expires_at > now``): of two responses to
the same request (a replay, or two wallets) the database lets exactly one win, on SQLite and PostgreSQL alike,
across worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

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


def _record(row: PresentationRequest) -> PresentationRequestRecord:
    return PresentationRequestRecord(
        row.id,
        row.nonce,
        row.state,
        row.verifier_name,
        row.purpose,
        row.dcql_query,
        row.request_object,
        row.redirect_uri,
        row.status,
        row.created_at,
        row.expires_at,
        row.received_at,
        row.response_code,
        row.result,
    )


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
    row = PresentationRequest(
        id=id,
        nonce=nonce,
        state=state,
        verifier_name=verifier_name,
        purpose=purpose,
        dcql_query=dcql_query,
        request_object=request_object,
        redirect_uri=redirect_uri,
        status="pending",
        created_at=created_at,
        expires_at=expires_at,
        received_at=None,
        response_code=None,
        result=None,
    )
    session.add(row)
    session.flush()
    return _record(row)


def get(session: Session, request_id: str) -> PresentationRequestRecord | None:
    row = session.scalar(select(PresentationRequest).where(PresentationRequest.id == request_id))
    return _record(row) if row else None


def answer(session: Session, request_id: str, *, result: dict[str, Any], response_code: str | None, now: datetime | None = None) -> bool:
    """Record the wallet's answer if the request is pending and unexpired; True for exactly one caller."""
    now = now or utcnow()
    outcome = session.execute(
        update(PresentationRequest)
        .where(PresentationRequest.id == request_id, PresentationRequest.status == "pending", PresentationRequest.expires_at > now)
        .values(status="received", received_at=now, result=result, response_code=response_code)
        .execution_options(synchronize_session=False)
    )
    return outcome.rowcount == 1


def purge(session: Session, *, before: datetime) -> int:
    """Delete requests that expired before ``before`` (answered or not); the number deleted."""
    outcome = session.execute(delete(PresentationRequest).where(PresentationRequest.expires_at < before).execution_options(synchronize_session=False))
    return outcome.rowcount or 0
