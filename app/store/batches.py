"""Batch issuance jobs and their items (one item per input row), with a progress query.

Record each item with ``record_item`` in the *same* transaction that stores its credential: after a
crash, the items present are exactly the rows whose credentials were stored, and ``next_row`` says
where to resume; nothing is issued twice and nothing is skipped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ConflictError, MalformedValueError, NotFoundError
from app.store.models import BatchItem, BatchJob, UTCDateTime, utcnow

ITEM_STATUSES = ("issued", "invalid", "error")


@dataclass(frozen=True)
class JobProgress:
    id: str
    provider_id: int
    status: str
    total: int
    done: int
    issued: int
    invalid: int
    errored: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class BatchItemRecord:
    row_number: int
    status: str
    credential_id: str | None
    errors: list | None


def _progress(row: BatchJob) -> JobProgress:
    return JobProgress(
        row.id,
        row.provider_id,
        row.status,
        row.total,
        row.done,
        row.issued,
        row.invalid,
        row.errored,
        row.error,
        row.created_at,
        row.started_at,
        row.finished_at,
    )


def create_job(session: Session, provider_id: int, total: int, *, request: bytes | None = None) -> JobProgress:
    if total < 0:
        raise MalformedValueError("total must not be negative")
    row = BatchJob(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        status="queued",
        total=total,
        done=0,
        issued=0,
        invalid=0,
        errored=0,
        created_at=utcnow(),
        request=request,
    )
    session.add(row)
    session.flush()
    return _progress(row)


def job_request(session: Session, job_id: str) -> bytes | None:
    """The request a job was created with (to resume it after a crash)."""
    return session.scalar(select(BatchJob.request).where(BatchJob.id == job_id))


def _claimable(now: datetime):
    """Queued, or running under a lease that lapsed (its worker died or lost the database for longer than
    the lease). A job running from before leases existed (no ``lease_until``) falls back to its heartbeat."""
    legacy = BatchJob.lease_until.is_(None) & (BatchJob.heartbeat_at.is_(None) | (BatchJob.heartbeat_at < now - LEGACY_STALE))
    lapsed = (BatchJob.lease_until < now) | legacy
    return (BatchJob.status == "queued") | ((BatchJob.status == "running") & lapsed)


#: A running job with a heartbeat and no lease (written before migration 0004) is taken over after this.
LEGACY_STALE = timedelta(seconds=120)


def claim_job(session: Session, job_id: str, *, owner: str, lease: timedelta) -> bool:
    """Take a job to run it under a lease for ``owner``: a queued one, or a running one whose lease lapsed.

    One compare-and-set ``UPDATE … WHERE`` the job is claimable, so of several workers that try at once
    exactly one wins (the others see no row changed).
    """
    now = utcnow()
    result = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id, _claimable(now))
        .values(
            status="running",
            lease_owner=owner,
            lease_until=now + lease,
            heartbeat_at=now,
            started_at=func.coalesce(BatchJob.started_at, literal(now, UTCDateTime)),
        )
    )
    return result.rowcount == 1


def renew_lease(session: Session, job_id: str, *, owner: str, lease: timedelta) -> bool:
    """Extend ``owner``'s lease on a running job; False when ``owner`` no longer holds it (it lapsed and
    another worker claimed the job, or the job ended): the caller must then stop working on it."""
    now = utcnow()
    result = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.status == "running", BatchJob.lease_owner == owner)
        .values(lease_until=now + lease, heartbeat_at=now)
    )
    return result.rowcount == 1


def release_lease(session: Session, job_id: str, *, owner: str) -> None:
    """End ``owner``'s lease now (a worker shutting down): the job stays running and is claimable at once."""
    session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status == "running", BatchJob.lease_owner == owner).values(lease_until=utcnow()))


def heartbeat(session: Session, job_id: str) -> None:
    session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status == "running").values(heartbeat_at=utcnow()))


def unfinished_jobs(session: Session) -> list[str]:
    """Jobs a worker may claim now: queued, or running under a lapsed lease (oldest first)."""
    return list(session.scalars(select(BatchJob.id).where(_claimable(utcnow())).order_by(BatchJob.created_at)))


def start_job(session: Session, job_id: str) -> None:
    """queued → running (also running → running when a worker resumes after a crash)."""
    result = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.status.in_(("queued", "running")))
        .values(status="running", started_at=func.coalesce(BatchJob.started_at, literal(utcnow(), UTCDateTime)))
    )
    if result.rowcount != 1:
        raise ConflictError(f"job {job_id} cannot start", code="BATCH_NOT_RUNNABLE")


def record_item(session: Session, job_id: str, row_number: int, status: str, *, credential_id: str | None = None, errors: list | None = None) -> None:
    """Record one row's outcome and bump the job's counters; a row recorded twice is refused."""
    record_items(session, job_id, [(row_number, status, credential_id, errors)])


def record_items(session: Session, job_id: str, items: list[tuple[int, str, str | None, list | None]]) -> None:
    """Record rows' outcomes ``(row, status, credential id, errors)`` and bump the job's counters, in two
    statements whatever the number of rows; a row recorded twice is refused (``BATCH_ROW_DONE``)."""
    if not items:
        return
    counts = {"issued": 0, "invalid": 0, "error": 0}
    now = utcnow()
    rows = []
    for row_number, status, credential_id, errors in items:
        if status not in ITEM_STATUSES:
            raise MalformedValueError(f"item status must be one of {ITEM_STATUSES}")
        if (status == "issued") != (credential_id is not None):
            raise MalformedValueError("an issued item names its credential, and only an issued item does")
        counts[status] += 1
        rows.append({"job_id": job_id, "row_number": row_number, "status": status, "credential_id": credential_id, "errors": errors, "created_at": now})
    try:
        session.execute(insert(BatchItem.__table__), rows)
    except IntegrityError as exc:  # the caller's transaction must roll back (on PostgreSQL it is aborted)
        raise ConflictError(f"a row of job {job_id} is already recorded", code="BATCH_ROW_DONE") from exc
    session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id)
        .values(
            {
                BatchJob.done: BatchJob.done + len(rows),
                BatchJob.issued: BatchJob.issued + counts["issued"],
                BatchJob.invalid: BatchJob.invalid + counts["invalid"],
                BatchJob.errored: BatchJob.errored + counts["error"],
            }
        )
    )


def finish_job(session: Session, job_id: str, *, error: str | None = None) -> JobProgress:
    """running → done, or → failed with ``error`` (a job-level failure, not a bad row)."""
    # FOR NO KEY UPDATE: the job's rows hold KEY SHARE locks on it through their foreign key (status._lock_list).
    row = session.get(BatchJob, job_id, with_for_update={"key_share": True})
    if row is None:
        raise NotFoundError(f"no batch job {job_id}")
    row.status = "failed" if error else "done"
    row.error = error
    row.finished_at = utcnow()
    session.flush()
    return _progress(row)


def job_progress(session: Session, job_id: str, *, provider_id: int | None = None) -> JobProgress:
    query = select(BatchJob).where(BatchJob.id == job_id)
    if provider_id is not None:
        query = query.where(BatchJob.provider_id == provider_id)
    row = session.scalars(query, execution_options={"populate_existing": True}).one_or_none()
    if row is None:
        raise NotFoundError(f"no batch job {job_id}")
    return _progress(row)


def next_row(session: Session, job_id: str) -> int:
    """Where a (re)started worker continues: one past the highest recorded row (rows are processed in order)."""
    last = session.scalar(select(func.max(BatchItem.row_number)).where(BatchItem.job_id == job_id))
    return 0 if last is None else last + 1


def list_items(session: Session, job_id: str, *, status: str | None = None, after_row: int = -1, limit: int = 100) -> list[BatchItemRecord]:
    query = select(BatchItem).where(BatchItem.job_id == job_id, BatchItem.row_number > after_row)
    if status:
        query = query.where(BatchItem.status == status)
    rows = session.scalars(query.order_by(BatchItem.row_number).limit(min(max(limit, 1), 1000)))
    return [BatchItemRecord(r.row_number, r.status, r.credential_id, r.errors) for r in rows]
