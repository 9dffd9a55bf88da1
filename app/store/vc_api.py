"""VC API exchanges (``app/issuance/vc_api.py``): created by a provider, completed once.

``complete`` is one conditional UPDATE (``… WHERE state = 'pending' AND expires_at > now``): of two wallets (or a
replay) the database lets exactly one win, on SQLite and PostgreSQL alike, across worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.store.models import VcApiExchange

__all__ = ["ExchangeRecord", "complete", "create", "get", "purge"]


@dataclass(frozen=True)
class ExchangeRecord:
    id: str
    workflow_id: str
    provider_id: int
    challenge: str
    request: dict[str, Any]
    state: str
    holder: str | None
    credential_id: str | None
    created_at: datetime
    expires_at: datetime


def _record(row: VcApiExchange) -> ExchangeRecord:
    return ExchangeRecord(
        row.id, row.workflow_id, row.provider_id, row.challenge, row.request, row.state, row.holder, row.credential_id, row.created_at, row.expires_at
    )


def create(
    session: Session, *, id: str, workflow_id: str, provider_id: int, challenge: str, request: dict[str, Any], now: datetime, expires_at: datetime
) -> ExchangeRecord:
    row = VcApiExchange(
        id=id,
        workflow_id=workflow_id,
        provider_id=provider_id,
        challenge=challenge,
        request=request,
        state="pending",
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return _record(row)


def get(session: Session, exchange_id: str) -> ExchangeRecord | None:
    row = session.scalar(select(VcApiExchange).where(VcApiExchange.id == exchange_id))
    return _record(row) if row else None


def complete(session: Session, exchange_id: str, *, holder: str, credential_id: str, now: datetime) -> bool:
    """Mark the exchange complete if it is pending and unexpired; True for exactly one caller."""
    outcome = session.execute(
        update(VcApiExchange)
        .where(VcApiExchange.id == exchange_id, VcApiExchange.state == "pending", VcApiExchange.expires_at > now)
        .values(state="complete", holder=holder, credential_id=credential_id, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    return outcome.rowcount == 1


def purge(session: Session, *, before: datetime) -> int:
    """Delete exchanges that expired before ``before``; the number deleted."""
    outcome = session.execute(delete(VcApiExchange).where(VcApiExchange.expires_at < before).execution_options(synchronize_session=False))
    return outcome.rowcount or 0
