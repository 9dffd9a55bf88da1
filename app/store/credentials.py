"""Issued credentials, stored as the exact signed bytes returned to the client (security-notes §16).

The body is never re-serialized: a JWS or a JCS-signed document must be served byte for byte as signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.credentials import FORMATS as RENDERED_FORMATS
from app.errors import ConflictError, MalformedValueError, NotFoundError
from app.proofs import PROOF_FORMATS
from app.store._common import Page, clamp_limit, newest_first, page_of
from app.store.models import Credential, utcnow

#: the renderings of the EU record, and ``vc``: a ready credential signed through the VC API
FORMATS = (*RENDERED_FORMATS, "vc", "sd-jwt", "clr")
#: Every proof format a stored credential can have: the issuing ones, and the SD-JWT of an SD-JWT VC (RFC 9901).
STORED_PROOF_FORMATS = (*PROOF_FORMATS, "sd-jwt", "jades")


@dataclass(frozen=True)
class NewCredential:
    id: str
    provider_id: int
    format: str
    proof_format: str
    media_type: str
    body: bytes
    learner_ref: str | None = None
    status_list_id: str | None = None
    status_index: int | None = None
    specification_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class StoredCredential:
    id: str
    provider_id: int
    format: str
    proof_format: str
    media_type: str
    body: bytes
    learner_ref: str | None
    status_list_id: str | None
    status_index: int | None
    specification_id: str | None
    idempotency_key: str | None
    created_at: datetime


@dataclass(frozen=True)
class CredentialSummary:
    """A listing row: everything but the body."""

    id: str
    format: str
    proof_format: str
    media_type: str
    learner_ref: str | None
    status_list_id: str | None
    status_index: int | None
    specification_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class CredentialFilter:
    format: str | None = None
    proof_format: str | None = None
    learner_ref: str | None = None
    specification_id: str | None = None
    issued_after: datetime | None = None
    issued_before: datetime | None = None


def _stored(row: Credential) -> StoredCredential:
    return StoredCredential(
        row.id,
        row.provider_id,
        row.format,
        row.proof_format,
        row.media_type,
        bytes(row.body),
        row.learner_ref,
        row.status_list_id,
        row.status_index,
        row.specification_id,
        row.idempotency_key,
        row.created_at,
    )


def insert_credential(session: Session, credential: NewCredential) -> StoredCredential:
    """Store a signed credential. Its status index must have been allocated for it in this transaction.

    The database refuses a (list, index) that was not allocated to this very credential id
    (foreign key to ``status_allocations``), so a credential never exists without its index record.
    A ``ConflictError`` here leaves the transaction unusable: let it propagate and roll back.
    """
    return insert_credentials(session, [credential])[0]


def insert_credentials(session: Session, credentials: list[NewCredential]) -> list[StoredCredential]:
    """``insert_credential`` for many, in one statement (a batch chunk's credentials)."""
    rows, values = [], []
    created = utcnow()
    for credential in credentials:
        if credential.format not in FORMATS:
            raise MalformedValueError(f"format must be one of {FORMATS}")
        if credential.proof_format not in STORED_PROOF_FORMATS:
            raise MalformedValueError(f"proof format must be one of {STORED_PROOF_FORMATS}")
        if not isinstance(credential.body, bytes | bytearray | memoryview):
            raise MalformedValueError("the credential body is stored as the exact signed bytes")
        if (credential.status_list_id is None) != (credential.status_index is None):
            raise MalformedValueError("status_list_id and status_index go together")
        row = Credential(
            id=credential.id,
            provider_id=credential.provider_id,
            specification_id=credential.specification_id,
            format=credential.format,
            proof_format=credential.proof_format,
            media_type=credential.media_type,
            body=bytes(credential.body),
            learner_ref=credential.learner_ref,
            status_list_id=credential.status_list_id,
            status_index=credential.status_index,
            idempotency_key=credential.idempotency_key,
            created_at=created,
        )
        rows.append(row)
        values.append({c.name: getattr(row, c.key) for c in Credential.__table__.columns})
    if not values:
        return []
    try:
        # A Core insert of the rows' values: the unit-of-work flush cost more than the insert itself,
        # on the hot path of issuance. The rows stay transient; they only shape the returned records.
        session.execute(_INSERT, values)
    except IntegrityError as exc:
        # Only on a caller bug or a reused id; the caller's transaction must roll back.
        which = f"credential {credentials[0].id}" if len(credentials) == 1 else "a credential of these"
        raise ConflictError(f"{which} exists, or its status entry was not allocated to it", code="CREDENTIAL_CONFLICT") from exc
    return [_stored(row) for row in rows]


_INSERT = insert(Credential.__table__)


def get_credential(session: Session, credential_id: str, *, provider_id: int | None = None) -> StoredCredential:
    """One credential; with ``provider_id`` a credential of another provider is reported as not found."""
    query = select(Credential).where(Credential.id == credential_id)
    if provider_id is not None:
        query = query.where(Credential.provider_id == provider_id)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no credential {credential_id}")
    return _stored(row)


def list_credentials(
    session: Session, provider_id: int, *, filters: CredentialFilter | None = None, limit: int = 50, cursor: str | None = None
) -> Page[CredentialSummary]:
    """A provider's credentials, newest first, keyset-paginated by (created_at, id)."""
    limit = clamp_limit(limit)
    f = filters or CredentialFilter()
    cols = (
        Credential.id,
        Credential.format,
        Credential.proof_format,
        Credential.media_type,
        Credential.learner_ref,
        Credential.status_list_id,
        Credential.status_index,
        Credential.specification_id,
        Credential.created_at,
    )
    query = select(*cols).where(Credential.provider_id == provider_id)
    if f.format:
        query = query.where(Credential.format == f.format)
    if f.proof_format:
        query = query.where(Credential.proof_format == f.proof_format)
    if f.learner_ref:
        query = query.where(Credential.learner_ref == f.learner_ref)
    if f.specification_id:
        query = query.where(Credential.specification_id == f.specification_id)
    if f.issued_after:
        query = query.where(Credential.created_at >= f.issued_after)
    if f.issued_before:
        query = query.where(Credential.created_at < f.issued_before)
    query = newest_first(query, Credential.created_at, Credential.id, cursor).limit(limit + 1)
    rows = session.execute(query).all()
    return page_of(rows, limit, lambda r: CredentialSummary(*r), lambda r: (r.created_at, r.id))


def count_credentials(session: Session, provider_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(Credential).where(Credential.provider_id == provider_id)) or 0
