"""A provider's sealing key and certificate chain (``seal_keys``): JAdES sealing of EDCs (ETSI TS 119 182-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import SealKey, utcnow


@dataclass(frozen=True)
class SealKeyRecord:
    provider_id: int
    key_ref: str
    key_type: str
    chain: list[str]  # x5c: base64 DER, the sealing certificate first
    not_after: datetime
    created_at: datetime


def _record(row: SealKey) -> SealKeyRecord:
    return SealKeyRecord(row.provider_id, row.key_ref, row.key_type, list(row.chain), row.not_after, row.created_at)


def set_seal_key(session: Session, provider_id: int, *, key_ref: str, key_type: str, chain: list[str], not_after: datetime) -> SealKeyRecord:
    """The provider's sealing key and chain, replacing the one it had (credentials sealed before keep their x5c)."""
    row = session.scalars(select(SealKey).where(SealKey.provider_id == provider_id).with_for_update()).first()
    if row is None:
        row = SealKey(provider_id=provider_id)
        session.add(row)
    row.key_ref, row.key_type, row.chain, row.not_after, row.created_at = key_ref, key_type, list(chain), not_after, utcnow()
    session.flush()
    return _record(row)


def get_seal_key(session: Session, provider_id: int) -> SealKeyRecord | None:
    row = session.scalars(select(SealKey).where(SealKey.provider_id == provider_id)).first()
    return _record(row) if row is not None else None
