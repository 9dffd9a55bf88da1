"""Bitstring Status List storage: lists, index allocation, status changes, the derived bitstring.

Index allocation (security-notes §15: an index is never reused, across crashes and restores)
----------------------------------------------------------------------------------------------
Each list has a monotonic counter ``next_seq`` and a random 256-bit ``perm_key``. The n-th
allocation gets ``index = permute(perm_key, size, n)``, where ``permute`` is a keyed Feistel
permutation of ``[0, size)`` (cycle-walking, HMAC-SHA-256 rounds). So:

* indices are unique by construction (a permutation of distinct counters), and the primary key
  ``status_allocations(status_list_id, idx)`` enforces it again in the database;
* indices look random to anyone without the key (Bitstring Status List, privacy considerations on group privacy: an index
  must not reveal issuance order or volume);
* the counter increment, the allocation row and the credential row are written in the *same*
  transaction as the credential (the caller's), so a crash mid-batch leaves neither: a rolled-back
  index was never returned to anyone (a credential is returned only after its commit, §16), and
  handing it out again is harmless. On PostgreSQL the counter UPDATE row-locks the list until
  commit; on SQLite ``BEGIN IMMEDIATE`` already serializes writers.

Restores. A restored backup rewinds ``next_seq``: the allocations made after the backup are gone
from the database but live on in credentials in learners' wallets, and the permutation would hand
the same indices out again. The unique key cannot catch that (the rows are gone). Operator
procedure: right after restoring, before the service takes traffic, call ``seal_status_lists(session)``
(one transaction), which marks every open list ``sealed``; new credentials then go to fresh lists (new ids, new keys), and no index in an old list is
ever allocated again. Revocations made after the backup are lost with it and are replayed from the
recovery log (``app/store/recovery.py``: ``microcred recovery-log replay``, which also binds the indices issued after
the backup again and moves the counters past them); sealed lists keep being published and can still be revoked into.

Status changes (security-notes §14)
-----------------------------------
A revocation or suspension is a row in ``status_changes``; the bitstring is derived from the rows,
so concurrent revocations of different indices cannot overwrite each other. Changes to one list
also lock its row (``version = version + 1``), which orders changes to the same index by commit
and gives the publisher a version to rebuild the (cached) bitstring only when it changed.
Revocation is final; a suspension can be lifted.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ConflictError, MalformedValueError, NotFoundError, RangeError
from app.status.bitstring import MIN_ENTRIES, set_bit
from app.status.permutation import permute_index
from app.store import recovery
from app.store._common import insert_ignore
from app.store.db import Database
from app.store.models import StatusAllocation, StatusChange, StatusList, utcnow

PURPOSES = ("revocation", "suspension")
MIN_SIZE = MIN_ENTRIES  # Bitstring Status List §2.1: at least 16 KB (131,072 entries), for group privacy


@dataclass(frozen=True)
class StatusListRecord:
    id: str
    provider_id: int
    purpose: str
    size: int
    state: str
    allocated: int
    version: int
    created_at: datetime


@dataclass(frozen=True)
class Allocation:
    status_list_id: str
    index: int
    purpose: str
    #: the list's counter value the index came from (when allocated here)
    seq: int | None = None


@dataclass(frozen=True)
class PublishedBits:
    """The bitstring of a list and the version it reflects (use the version as an ETag)."""

    version: int
    bits: bytes


def _record(row: StatusList) -> StatusListRecord:
    return StatusListRecord(row.id, row.provider_id, row.purpose, row.size, row.state, row.next_seq, row.version, row.created_at)


# -- lists


def create_status_list(session: Session, provider_id: int, purpose: str, *, size: int = MIN_SIZE) -> StatusListRecord:
    if purpose not in PURPOSES:
        raise MalformedValueError(f"status purpose must be one of {PURPOSES}")
    if size < MIN_SIZE or size % 8:
        raise RangeError(f"a status list has at least {MIN_SIZE} entries, a multiple of 8")
    row = StatusList(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        purpose=purpose,
        size=size,
        perm_key=secrets.token_bytes(32),
        next_seq=0,
        state="open",
        version=0,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _record(row)


def get_status_list(session: Session, status_list_id: str) -> StatusListRecord:
    row = session.get(StatusList, status_list_id)
    if row is None:
        raise NotFoundError(f"no status list {status_list_id}")
    return _record(row)


def list_status_lists(session: Session, provider_id: int) -> list[StatusListRecord]:
    rows = session.scalars(select(StatusList).where(StatusList.provider_id == provider_id).order_by(StatusList.created_at, StatusList.id))
    return [_record(r) for r in rows]


def seal_status_lists(session: Session, provider_id: int | None = None) -> int:
    """Close every open list to further allocation; run after restoring a backup (see module docstring).

    Returns how many lists were sealed. Sealed lists are still published and still accept status changes.
    """
    stmt = update(StatusList).where(StatusList.state == "open").values(state="sealed")
    if provider_id is not None:
        stmt = stmt.where(StatusList.provider_id == provider_id)
    return session.execute(stmt).rowcount


# -- allocation


# The two statements of every allocation, built once: constructing them cost more than running them.
_LISTS = StatusList.__table__.c
_TAKE_NEXT_SEQ = (
    update(StatusList.__table__)
    .where(_LISTS.id == bindparam("list_id"), _LISTS.state == "open", _LISTS.next_seq < _LISTS.size)
    .values(next_seq=_LISTS.next_seq + 1)
    .returning(_LISTS.next_seq, _LISTS.size, _LISTS.perm_key, _LISTS.purpose)
)
_TAKE_SEQ_RUN = (
    update(StatusList.__table__)
    .where(_LISTS.id == bindparam("list_id"), _LISTS.state == "open", _LISTS.next_seq + bindparam("n") <= _LISTS.size)
    .values(next_seq=_LISTS.next_seq + bindparam("n"))
    .returning(_LISTS.next_seq, _LISTS.size, _LISTS.perm_key, _LISTS.purpose)
)
_OPEN_LIST = (
    select(_LISTS.id)
    .where(_LISTS.provider_id == bindparam("provider_id"), _LISTS.purpose == bindparam("purpose"), _LISTS.state == "open")
    .order_by(_LISTS.created_at, _LISTS.id)
    .limit(1)
)


def allocate_index(session: Session, status_list_id: str, credential_id: str) -> Allocation:
    """Allocate the next index of a given list for ``credential_id``, in the caller's transaction.

    Raises ``ConflictError`` ``STATUS_LIST_FULL`` when the list is full or sealed.
    """
    for _ in range(64):
        row = session.execute(_TAKE_NEXT_SEQ, {"list_id": status_list_id}).one_or_none()
        if row is None:
            lst = session.get(StatusList, status_list_id, populate_existing=True)
            if lst is None:
                raise NotFoundError(f"no status list {status_list_id}")
            if lst.state == "open":
                session.execute(update(StatusList).where(StatusList.id == status_list_id, StatusList.state == "open").values(state="full"))
            raise ConflictError(f"status list {status_list_id} takes no more entries", code="STATUS_LIST_FULL")
        next_seq, size, key, purpose = row
        seq = next_seq - 1
        index = permute_index(key, size, seq)
        inserted = insert_ignore(
            session,
            StatusAllocation.__table__,
            {"status_list_id": status_list_id, "idx": index, "seq": seq, "credential_id": credential_id, "created_at": utcnow()},
            ["status_list_id", "idx"],
            returning=[StatusAllocation.idx],
        ).first()
        if inserted is not None:
            return Allocation(status_list_id, index, purpose, seq)
        # The index is taken although the counter had not reached it: only possible after a restore
        # or a key change. Burn this counter value and take the next one; never reuse.
    raise ConflictError(f"status list {status_list_id} keeps colliding; seal it", code="STATUS_LIST_INCONSISTENT")


def allocate(session: Session, provider_id: int, purpose: str, credential_id: str, *, size: int = MIN_SIZE) -> Allocation:
    """Allocate an index in the provider's open list for ``purpose``, opening a new list when needed."""
    if purpose not in PURPOSES:
        raise MalformedValueError(f"status purpose must be one of {PURPOSES}")
    for _ in range(8):
        list_id = session.execute(_OPEN_LIST, {"provider_id": provider_id, "purpose": purpose}).scalar()
        if list_id is None:
            list_id = create_status_list(session, provider_id, purpose, size=size).id
        try:
            allocation = allocate_index(session, list_id, credential_id)
        except ConflictError as exc:
            if exc.code != "STATUS_LIST_FULL":
                raise
            continue
        recovery.log_issued(session, provider_id, [(list_id, allocation.index, allocation.seq, credential_id, allocation.purpose)])
        return allocation
    raise ConflictError("could not find a status list with room", code="STATUS_LIST_FULL")


def allocate_many(session: Session, provider_id: int, purpose: str, credential_ids: list[str], *, size: int = MIN_SIZE) -> list[Allocation]:
    """``allocate`` for each of ``credential_ids`` (in order), in three statements when the open list has room.

    Takes a run of counter values with one UPDATE and writes the allocation rows with one INSERT, inside
    a savepoint; when the list lacks room or an index is taken (only after a restore, see
    ``allocate_index``), the savepoint is undone and each id is allocated on its own instead.
    """
    if purpose not in PURPOSES:
        raise MalformedValueError(f"status purpose must be one of {PURPOSES}")
    n = len(credential_ids)
    if n < 2:  # one id (single issuance): no run, and no savepoint
        return [allocate(session, provider_id, purpose, cid, size=size) for cid in credential_ids]
    list_id = session.execute(_OPEN_LIST, {"provider_id": provider_id, "purpose": purpose}).scalar()
    if list_id is not None:
        try:
            with session.begin_nested():
                row = session.execute(_TAKE_SEQ_RUN, {"list_id": list_id, "n": n}).one_or_none()
                if row is None:
                    raise _NoRun()
                end, size_, key, purpose_ = row
                now = utcnow()
                rows = [
                    {"status_list_id": list_id, "idx": permute_index(key, size_, seq), "seq": seq, "credential_id": cid, "created_at": now}
                    for seq, cid in zip(range(end - n, end), credential_ids, strict=True)
                ]
                session.execute(insert(StatusAllocation.__table__), rows)
                recovery.log_issued(session, provider_id, [(list_id, r["idx"], r["seq"], r["credential_id"], purpose_) for r in rows])
            return [Allocation(list_id, r["idx"], purpose_, r["seq"]) for r in rows]
        except (_NoRun, IntegrityError):
            pass
    return [allocate(session, provider_id, purpose, cid, size=size) for cid in credential_ids]


@dataclass(frozen=True)
class Reserved:
    """Counter values ``[start, end)`` of a list taken ahead by one process (``reserve_run``)."""

    status_list_id: str
    purpose: str
    size: int
    key: bytes
    start: int
    end: int

    def allocations(self) -> list[tuple[int, int]]:
        """(seq, index) for each reserved counter value."""
        return [(seq, permute_index(self.key, self.size, seq)) for seq in range(self.start, self.end)]


def reserve_run(session: Session, provider_id: int, purpose: str, n: int, *, size: int = MIN_SIZE) -> Reserved:
    """Take up to ``n`` counter values of the provider's open list for ``purpose`` (opening a list when
    needed), for a process to hand out itself; ``record_allocations`` binds each to its credential later.

    A value taken and never recorded (the process stopped) stays unused: an index is never reused.
    """
    if purpose not in PURPOSES:
        raise MalformedValueError(f"status purpose must be one of {PURPOSES}")
    for _ in range(8):
        list_id = session.execute(_OPEN_LIST, {"provider_id": provider_id, "purpose": purpose}).scalar()
        if list_id is None:
            list_id = create_status_list(session, provider_id, purpose, size=size).id
        lst = _lock_list(session, list_id)
        taken = min(n, lst.size - lst.next_seq) if lst.state == "open" else 0
        if taken <= 0:
            session.execute(update(StatusList).where(StatusList.id == list_id, StatusList.state == "open").values(state="full"))
            continue
        start = lst.next_seq
        values: dict[str, Any] = {"next_seq": start + taken}
        if start + taken == lst.size:
            values["state"] = "full"
        session.execute(update(StatusList).where(StatusList.id == list_id).values(**values))
        return Reserved(list_id, lst.purpose, lst.size, bytes(lst.perm_key), start, start + taken)
    raise ConflictError("could not find a status list with room", code="STATUS_LIST_FULL")


def record_allocations(session: Session, rows: list[tuple], *, provider_id: int | None = None, key: str | None = None) -> None:
    """Bind reserved (list, index, seq) values to their credentials: ``(list id, index, seq, credential id[, purpose])``.

    With ``provider_id`` (issuance does), the rows, which then carry their purpose, go to the recovery log too, with
    the request's Idempotency-Key (``app/store/recovery.py``). Refused (``STATUS_LIST_INCONSISTENT``; the caller's
    transaction must roll back) when an index is bound already, which only a restore without sealing the lists or
    replaying the recovery log can cause.
    """
    if not rows:
        return
    now = utcnow()
    try:
        session.execute(
            insert(StatusAllocation.__table__),
            [{"status_list_id": row[0], "idx": row[1], "seq": row[2], "credential_id": row[3], "created_at": now} for row in rows],
        )
    except IntegrityError as exc:
        raise ConflictError("a reserved status index is taken already; seal the lists (see the backup notes)", code="STATUS_LIST_INCONSISTENT") from exc
    if provider_id is not None:
        recovery.log_issued(session, provider_id, [tuple(row[:5]) for row in rows], key=key)


class _NoRun(Exception):
    """The open list has no room for the whole run."""


def allocations_of(session: Session, credential_id: str) -> list[Allocation]:
    rows = session.execute(
        select(StatusAllocation.status_list_id, StatusAllocation.idx, StatusList.purpose)
        .join(StatusList, StatusList.id == StatusAllocation.status_list_id)
        .where(StatusAllocation.credential_id == credential_id)
        .order_by(StatusList.purpose)
    )
    return [Allocation(r[0], r[1], r[2]) for r in rows]


# -- status changes


def _lock_list(session: Session, status_list_id: str) -> StatusList:
    """Row-lock the list (SQLite's ``BEGIN IMMEDIATE`` already holds the write lock).

    PostgreSQL ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: a transaction that recorded allocations holds
    a KEY SHARE lock on the list through the foreign key, and two such transactions that both wanted
    ``FOR UPDATE`` waited for each other (a deadlock, seen under load). The list's key never changes.
    """
    query = select(StatusList).where(StatusList.id == status_list_id).with_for_update(key_share=True)
    row = session.scalars(query, execution_options={"populate_existing": True}).one_or_none()
    if row is None:
        raise NotFoundError(f"no status list {status_list_id}")
    return row


def set_status(session: Session, status_list_id: str, index: int, value: bool, *, by: str, reason: str | None = None) -> bool:
    """Record that the entry ``index`` of the list is now set (``True``) or clear; returns whether it changed.

    Revocation is final: clearing a revoked entry raises ``ConflictError`` ``REVOCATION_IS_FINAL``.
    Only allocated indices can change (``NotFoundError`` otherwise).

    The list row is locked first (the version bump), which orders changes of one list by commit;
    the lock is held for three short statements. A repeated revocation is answered before locking:
    a revoked entry stays revoked, so an unlocked read of it is already the final answer.
    """
    allocated, current = _entry(session, status_list_id, index)
    if allocated and current and value:
        purpose = session.scalar(select(StatusList.purpose).where(StatusList.id == status_list_id))
        if purpose == "revocation":
            return False
    locked = session.execute(
        update(StatusList).where(StatusList.id == status_list_id).values(version=StatusList.version + 1).returning(StatusList.purpose, StatusList.size)
    ).one_or_none()
    if locked is None:
        raise NotFoundError(f"no status list {status_list_id}")
    purpose, size = locked
    if not 0 <= index < size:
        raise RangeError(f"index {index} outside the list")
    allocated, current = _entry(session, status_list_id, index)  # again, now under the lock
    if not allocated:
        raise NotFoundError(f"index {index} of list {status_list_id} was never allocated")
    if purpose == "revocation" and current and not value:
        raise ConflictError("a revoked credential cannot be un-revoked", code="REVOCATION_IS_FINAL")
    if current == value:
        # Nothing to record. The version bump above only costs the publisher one needless rebuild.
        return False
    session.execute(insert(StatusChange).values(status_list_id=status_list_id, idx=index, purpose=purpose, value=value, at=utcnow(), by=by, reason=reason))
    return True


@dataclass(frozen=True)
class Change:
    """One requested status change, addressed by credential (``apply_changes``)."""

    provider_id: int
    credential_id: str
    #: "revocation" (value True: revoke) or "suspension" (True: suspend, False: lift)
    purpose: str
    value: bool
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class CredentialStatus:
    """A credential's status after a change: its revocation and suspension bits (False without an entry)."""

    revoked: bool
    suspended: bool


_SAS = StatusAllocation.__table__.c
_SCH = StatusChange.__table__.c
# The last change of each entry, by the (list, index, id) index of migration 0005: one seek per entry.
_LAST_VALUE = (
    select(_SCH.value)
    .where(_SCH.status_list_id == _SAS.status_list_id, _SCH.idx == _SAS.idx)
    .order_by(_SCH.id.desc())
    .limit(1)
    .correlate(StatusAllocation.__table__)
    .scalar_subquery()
)
_ENTRIES_OF = (
    select(_SAS.credential_id, _LISTS.provider_id, _LISTS.purpose, _SAS.status_list_id, _SAS.idx, _LAST_VALUE)
    .join(StatusList.__table__, _LISTS.id == _SAS.status_list_id)
    .where(_SAS.credential_id.in_(bindparam("ids", expanding=True)))
)
_LOCK_LISTS_OF = (
    select(_LISTS.id)
    .where(_LISTS.id.in_(select(_SAS.status_list_id).where(_SAS.credential_id.in_(bindparam("ids", expanding=True)))))
    .order_by(_LISTS.id)
    .with_for_update(key_share=True)
)
_BUMP_VERSIONS = update(StatusList.__table__).where(_LISTS.id.in_(bindparam("ids", expanding=True))).values(version=_LISTS.version + 1)


def apply_changes(session: Session, changes: list[Change]) -> list[CredentialStatus | Exception]:
    """Status changes as a set, in order, in the caller's transaction: one outcome per change, a
    ``CredentialStatus`` or the error that refused it (a refused change writes nothing; the others still do).

    Four statements whatever the number (five on PostgreSQL): read every entry of the credentials with its last
    change (the 0005 index), insert the rows of the changes that change something (one executemany), bump the
    version of each list changed, once, and append the changes to the recovery log (one executemany). Each change
    sees those before it. On PostgreSQL the lists are locked
    first (``FOR NO KEY UPDATE`` in id order, as ``_lock_list``), so changes of one list are ordered by commit
    across processes and the read is current; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock.
    Refusals as ``set_credential_status``/``require_entry``: a suspension (or its lifting) needs a suspension entry
    (409 ``NO_STATUS_ENTRY``), revocation is final (409 ``REVOCATION_IS_FINAL``), a missing entry is not found.
    """
    if not changes:
        return []
    ids = sorted({c.credential_id for c in changes})
    if session.get_bind().dialect.name != "sqlite":
        session.execute(_LOCK_LISTS_OF, {"ids": ids}).all()
    # (credential id, provider id, purpose) -> [list id, index, current value]
    entries: dict[tuple[str, int, str], list[Any]] = {}
    for cid, provider_id, purpose, list_id, idx, last in session.execute(_ENTRIES_OF, {"ids": ids}):
        entries[(cid, provider_id, purpose)] = [list_id, idx, bool(last)]
    now = utcnow()
    rows: list[dict[str, Any]] = []
    changed: set[str] = set()
    logged: list[dict[str, Any]] = []
    outcomes: list[CredentialStatus | Exception] = []
    for change in changes:
        try:
            entry = _checked_entry(entries, change)
        except (ConflictError, NotFoundError) as exc:
            outcomes.append(exc)
            continue
        if entry[2] != change.value:
            entry[2] = change.value
            changed.add(entry[0])
            row = {"status_list_id": entry[0], "idx": entry[1], "purpose": change.purpose, "value": change.value, "at": now}
            rows.append({**row, "by": change.by, "reason": change.reason})
            logged.append({**row, "credential_id": change.credential_id, "provider_id": change.provider_id})
        revocation = entries.get((change.credential_id, change.provider_id, "revocation"))
        suspension = entries.get((change.credential_id, change.provider_id, "suspension"))
        outcomes.append(CredentialStatus(bool(revocation and revocation[2]), bool(suspension and suspension[2])))
    if rows:
        session.execute(insert(StatusChange.__table__), rows)
        session.execute(_BUMP_VERSIONS, {"ids": sorted(changed)})
        recovery.log_changes(session, logged)  # the recovery log (app/store/recovery.py), in the same transaction
    return outcomes


def _checked_entry(entries: dict[tuple[str, int, str], list[Any]], change: Change) -> list[Any]:
    """The entry ``change`` sets, or the refusal of the change."""
    key = (change.credential_id, change.provider_id, change.purpose)
    entry = entries.get(key)
    if entry is None:
        other = "revocation" if change.purpose == "suspension" else "suspension"
        if (change.credential_id, change.provider_id, other) not in entries:
            # No entry of this provider at all: another provider's credential, or none (404 for both, as a read
            # of credentials would answer; a credential restored from the recovery log keeps its entries).
            raise NotFoundError(f"no credential {change.credential_id}")
        if change.purpose == "suspension":
            raise ConflictError(
                f"credential {change.credential_id} has no suspension entry (an OB3 credential or an EDC carries revocation only)",
                code="NO_STATUS_ENTRY",
                errors=[{"pointer": "/status", "detail": "the credential has no suspension entry"}],
            )
        raise NotFoundError(f"credential {change.credential_id} has no {change.purpose} entry")
    revocation = entries.get((change.credential_id, change.provider_id, "revocation"))
    if change.purpose == "suspension" and not change.value and revocation is not None and revocation[2]:
        raise ConflictError("a revoked credential cannot be made active again", code="REVOCATION_IS_FINAL")
    if change.purpose == "revocation" and entry[2] and not change.value:
        raise ConflictError("a revoked credential cannot be un-revoked", code="REVOCATION_IS_FINAL")
    return entry


def _entry(session: Session, status_list_id: str, index: int) -> tuple[bool, bool]:
    """(is the index allocated, is its entry currently set), in one round trip."""
    last_value = (
        select(StatusChange.value)
        .where(StatusChange.status_list_id == status_list_id, StatusChange.idx == index)
        .order_by(StatusChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = session.execute(
        select(StatusAllocation.idx, last_value).where(StatusAllocation.status_list_id == status_list_id, StatusAllocation.idx == index)
    ).first()
    return (False, False) if row is None else (True, bool(row[1]))


def set_credential_status(session: Session, provider_id: int, credential_id: str, purpose: str, value: bool, *, by: str, reason: str | None = None) -> bool:
    """``set_status`` addressed by credential: revoke (purpose revocation, True), suspend / lift a suspension."""
    row = session.execute(
        select(StatusAllocation.status_list_id, StatusAllocation.idx)
        .join(StatusList, StatusList.id == StatusAllocation.status_list_id)
        .where(StatusAllocation.credential_id == credential_id, StatusList.provider_id == provider_id, StatusList.purpose == purpose)
    ).first()
    if row is None:
        raise NotFoundError(f"credential {credential_id} has no {purpose} entry")
    return set_status(session, row[0], row[1], value, by=by, reason=reason)


def require_entry(session: Session, provider_id: int, credential_id: str, purpose: str) -> None:
    """409 when the credential carries no entry for ``purpose``: an Open Badges 3.0 credential and an EDC carry one
    credentialStatus (revocation), so a suspension could be set but would be seen by no verifier."""
    row = session.execute(
        select(StatusAllocation.idx)
        .join(StatusList, StatusList.id == StatusAllocation.status_list_id)
        .where(StatusAllocation.credential_id == credential_id, StatusList.provider_id == provider_id, StatusList.purpose == purpose)
    ).first()
    if row is None:
        raise ConflictError(
            f"credential {credential_id} has no {purpose} entry (an OB3 credential or an EDC carries revocation only)",
            code="NO_STATUS_ENTRY",
            errors=[{"pointer": "/status", "detail": f"the credential has no {purpose} entry"}],
        )


def credential_status(session: Session, provider_id: int, credential_id: str, purpose: str) -> bool:
    """Whether the credential's entry for ``purpose`` is set; ``NotFoundError`` if it has none."""
    row = session.execute(
        select(StatusAllocation.status_list_id, StatusAllocation.idx)
        .join(StatusList, StatusList.id == StatusAllocation.status_list_id)
        .where(StatusAllocation.credential_id == credential_id, StatusList.provider_id == provider_id, StatusList.purpose == purpose)
    ).first()
    if row is None:
        raise NotFoundError(f"credential {credential_id} has no {purpose} entry")
    return status_of(session, row[0], row[1])


def status_of(session: Session, status_list_id: str, index: int) -> bool:
    return _entry(session, status_list_id, index)[1]


def status_history(session: Session, status_list_id: str, index: int) -> list[dict]:
    rows = session.scalars(select(StatusChange).where(StatusChange.status_list_id == status_list_id, StatusChange.idx == index).order_by(StatusChange.id))
    return [{"value": r.value, "at": r.at, "by": r.by, "reason": r.reason, "purpose": r.purpose} for r in rows]


def current_bits(session: Session, status_list_id: str) -> bytes:
    """The list's bitstring, derived from its change rows (index 0 = most significant bit of byte 0)."""
    size = session.scalars(select(StatusList.size).where(StatusList.id == status_list_id)).first()
    if size is None:
        raise NotFoundError(f"no status list {status_list_id}")
    return _build_bits(session, status_list_id, size)


def _build_bits(session: Session, status_list_id: str, size: int) -> bytes:
    # The last change of each index wins; ids are in commit order per list (changes lock the list row).
    latest = (
        select(StatusChange.idx, func.max(StatusChange.id).label("last_id"))
        .where(StatusChange.status_list_id == status_list_id)
        .group_by(StatusChange.idx)
        .subquery()
    )
    rows = session.execute(select(StatusChange.idx).join(latest, StatusChange.id == latest.c.last_id).where(StatusChange.value.is_(True)))
    bits = bytearray(size // 8)
    for (index,) in rows:
        set_bit(bits, index, True)
    return bytes(bits)


def current_version(db: Database, status_list_id: str) -> int:
    """``list_version`` in one raw read (``Database.read_value``), for the check made on every verification."""
    version = db.read_value(f"SELECT version FROM {StatusList.__tablename__} WHERE id = ?", status_list_id)
    if version is None:
        raise NotFoundError(f"no status list {status_list_id}")
    return version


def list_version(session: Session, status_list_id: str) -> int:
    version = session.scalars(select(StatusList.version).where(StatusList.id == status_list_id)).first()
    if version is None:
        raise NotFoundError(f"no status list {status_list_id}")
    return version


def published_bits(session: Session, status_list_id: str) -> PublishedBits:
    """The bitstring to publish, rebuilt from the change rows only when the list changed since the last build.

    Call inside ``Database.transaction()``: a stale cache is rebuilt under the list's row lock and stored.
    """
    row = session.execute(select(StatusList.version, StatusList.cache_version, StatusList.cache_bits).where(StatusList.id == status_list_id)).first()
    if row is None:
        raise NotFoundError(f"no status list {status_list_id}")
    if row.cache_version == row.version and row.cache_bits is not None:
        return PublishedBits(row.version, bytes(row.cache_bits))
    lst = _lock_list(session, status_list_id)
    if lst.cache_version == lst.version and lst.cache_bits is not None:
        return PublishedBits(lst.version, bytes(lst.cache_bits))
    bits = _build_bits(session, status_list_id, lst.size)
    session.execute(update(StatusList).where(StatusList.id == status_list_id).values(cache_version=lst.version, cache_bits=bits))
    return PublishedBits(lst.version, bits)
