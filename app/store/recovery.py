"""The recovery log: what a restore from backup loses, kept so that it can be replayed (security-notes §15).

A restored backup knows nothing of what happened after it was taken: its status list counters would hand out
again indices already embedded in credentials held by learners, and the revocations and suspensions made since
are gone. ``recovery_log`` is an append-only table, written in the transaction of what it records, of

* ``issued``: every status index bound to a credential (list id, index, the list's counter value, purpose, the
  provider, and the SHA-256 of the request's Idempotency-Key when it had one);
* ``status``: every status change that changed an entry (list id, index, purpose, new value);

ids and indices, no personal data. An operator exports it (``export``: JSON lines from a sequence number or a
time) to storage outside the database, continuously or before each backup is replaced, and after a restore
replays the export (``replay``): every index issued after the backup is bound again and its list's counter moved
past it (a list created after the backup is recreated, sealed), so no index is handed out twice; the credentials
whose bytes the restore lost stay revocable (their indices are known); and the status changes are applied again,
the last value of each entry winning. Replaying records that the database holds already changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from app.errors import MalformedValueError
from app.store._common import insert_ignore
from app.store.models import RecoveryLog, StatusAllocation, StatusChange, StatusList, utcnow

__all__ = ["export", "key_digest", "log_changes", "log_issued", "replay"]

_LOG = RecoveryLog.__table__
_FIELDS = ("seq", "at", "kind", "credential_id", "provider_id", "status_list_id", "idx", "purpose", "list_seq", "value", "key_digest")
REPLAY_BY = "recovery-replay"


def key_digest(key: str | None) -> str | None:
    """What the log keeps of an Idempotency-Key: its SHA-256, hex (a retry after a restore can be matched to it)."""
    return None if key is None else hashlib.sha256(key.encode()).hexdigest()


def log_issued(session: Session, provider_id: int, rows: list[tuple[str, int, int, str, str]], *, key: str | None = None) -> None:
    """Record indices bound to credentials: ``(list id, index, counter value, credential id, purpose)`` per row."""
    if not rows:
        return
    now, digest = utcnow(), key_digest(key)
    session.execute(
        insert(_LOG),
        [
            {"at": now, "kind": "issued", "credential_id": cid, "provider_id": provider_id, "status_list_id": list_id, "idx": idx}
            | {"purpose": purpose, "list_seq": seq, "value": None, "key_digest": digest}
            for list_id, idx, seq, cid, purpose in rows
        ],
    )


def log_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Record status changes: dicts with credential_id, provider_id, status_list_id, idx, purpose, value, at."""
    if rows:
        session.execute(insert(_LOG), [{"kind": "status", "list_seq": None, "key_digest": None, **row} for row in rows])


def export(session: Session, *, after: int = 0, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The log's records with a sequence number above ``after`` (and at or after ``since``), in order, as JSON-ready
    dicts (``at`` as an ISO 8601 string)."""
    query = select(*(_LOG.c[name] for name in _FIELDS)).where(_LOG.c.seq > after).order_by(_LOG.c.seq)
    if since is not None:
        query = query.where(_LOG.c.at >= since)
    for row in session.execute(query).yield_per(1000):
        record = dict(zip(_FIELDS, row, strict=True))
        record["at"] = record["at"].isoformat()
        yield {k: v for k, v in record.items() if v is not None}


def replay(session: Session, records: list[dict[str, Any]]) -> dict[str, int]:
    """Apply exported records to a restored database, in one transaction (the caller's); what was done, counted.

    Records the database holds already (same sequence number, kind, credential and index) are skipped; the others are
    applied and appended to the log again with their sequence number, so the log stays whole for the next restore.
    """
    present = _present(session, records)
    todo = [r for r in sorted(records, key=lambda r: r["seq"]) if _identity(r) not in present]
    counts = {"records": len(records), "skipped": len(records) - len(todo), "lists_recreated": 0, "indices_bound": 0, "changes_applied": 0}
    lists: dict[str, StatusList | None] = {}
    for record in todo:
        if record["kind"] not in ("issued", "status"):
            raise MalformedValueError(f"record {record['seq']}: unknown kind {record['kind']!r}")
        lst = _list(session, lists, record, counts)
        if record["kind"] == "issued":
            counts["indices_bound"] += _bind(session, lst, record)
        else:
            counts["changes_applied"] += _apply(session, lst, record)
        session.execute(insert(_LOG), [{**_row(record), "seq": record["seq"]}])
    if todo and session.get_bind().dialect.name == "postgresql":  # rows inserted with their seq: move the sequence past
        session.execute(text("SELECT setval(pg_get_serial_sequence('recovery_log', 'seq'), (SELECT max(seq) FROM recovery_log))"))
    return counts


def _identity(record: dict[str, Any]) -> tuple:
    return (int(record["seq"]), record["kind"], record["credential_id"], record["status_list_id"], int(record["idx"]))


def _present(session: Session, records: list[dict[str, Any]]) -> set[tuple]:
    seqs = sorted({int(r["seq"]) for r in records})
    present: set[tuple] = set()
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        query = select(_LOG.c.seq, _LOG.c.kind, _LOG.c.credential_id, _LOG.c.status_list_id, _LOG.c.idx).where(_LOG.c.seq.in_(chunk))
        present |= {tuple(row) for row in session.execute(query)}
    return present


def _row(record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name in _FIELDS if name != "seq"}
    row["at"] = datetime.fromisoformat(record["at"])
    return row


def _list(session: Session, lists: dict[str, StatusList | None], record: dict[str, Any], counts: dict[str, int]) -> StatusList:
    """The record's status list, recreated (sealed, a fresh permutation key: its indices are bound explicitly) when
    it was created after the backup."""
    list_id = record["status_list_id"]
    if list_id not in lists:
        lists[list_id] = session.get(StatusList, list_id, populate_existing=True)
    lst = lists[list_id]
    if lst is None:
        from app.status.bitstring import MIN_ENTRIES

        size = max(MIN_ENTRIES, (int(record["idx"]) // 8 + 1) * 8)
        lst = StatusList(
            id=list_id,
            provider_id=int(record["provider_id"]),
            purpose=record["purpose"],
            size=size,
            perm_key=secrets.token_bytes(32),
            next_seq=size,
            state="sealed",
            version=0,
            created_at=utcnow(),
        )
        session.add(lst)
        session.flush()
        lists[list_id] = lst
        counts["lists_recreated"] += 1
    return lst


def _bind(session: Session, lst: StatusList, record: dict[str, Any]) -> int:
    """Bind an index issued after the backup again, and move the list's counter past its counter value."""
    values = {"status_list_id": lst.id, "idx": int(record["idx"]), "seq": int(record.get("list_seq", -1)), "credential_id": record["credential_id"]}
    if values["seq"] < 0:  # a list recreated here has no counter: any value unique in the list will do
        values["seq"] = int(record["idx"])
    table = StatusAllocation.__table__
    inserted = insert_ignore(session, table, {**values, "created_at": utcnow()}, ["status_list_id", "idx"], returning=[StatusAllocation.idx])
    bound = inserted.first() is not None
    if lst.next_seq <= values["seq"]:  # the restored counter would hand this index out again
        after = min(values["seq"] + 1, lst.size)
        state = "full" if after == lst.size and lst.state == "open" else lst.state
        session.execute(update(StatusList).where(StatusList.id == lst.id).values(next_seq=after, state=state))
        lst.next_seq, lst.state = after, state
    return int(bound)


def _apply(session: Session, lst: StatusList, record: dict[str, Any]) -> int:
    """Set the entry to the record's value unless it has it already (revocation stays final)."""
    idx, value = int(record["idx"]), bool(record["value"])
    last = session.scalar(
        select(StatusChange.value).where(StatusChange.status_list_id == lst.id, StatusChange.idx == idx).order_by(StatusChange.id.desc()).limit(1)
    )
    if bool(last) == value or (lst.purpose == "revocation" and last and not value):
        return 0
    exists = session.scalar(select(StatusAllocation.idx).where(StatusAllocation.status_list_id == lst.id, StatusAllocation.idx == idx))
    if exists is None:  # a change of an index whose issuance record is missing from the export: bind it first
        _bind(session, lst, {**record, "list_seq": -1})
    at = datetime.fromisoformat(record["at"])
    change = {"status_list_id": lst.id, "idx": idx, "purpose": lst.purpose, "value": value, "at": at}
    session.execute(insert(StatusChange).values(**change, by=REPLAY_BY, reason=f"recovery log {record['seq']}"))
    session.execute(update(StatusList).where(StatusList.id == lst.id).values(version=StatusList.version + 1))
    return 1
