"""Small helpers shared by the repositories: portable INSERT … ON CONFLICT DO NOTHING, cursors, pages."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, and_, or_
from sqlalchemy.orm import Session

from app.errors import MalformedValueError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encoded_length

T = TypeVar("T")

MAX_PAGE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is None on the last page."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None


def insert_ignore(session: Session, table: Table, values: dict[str, Any], conflict_columns: list[str], returning=None):
    """``INSERT … ON CONFLICT (cols) DO NOTHING [RETURNING …]`` on SQLite and PostgreSQL.

    Used instead of catching IntegrityError because on PostgreSQL a failed statement aborts the
    whole transaction (the credential being issued with it would be lost), and a savepoint per row
    costs two extra round trips.
    """
    name = session.get_bind().dialect.name
    key = (name, table.name, tuple(conflict_columns), tuple(str(c) for c in returning or ()))
    stmt = _INSERT_IGNORE.get(key)
    if stmt is None:
        # Built once per shape and executed with the values as parameters: constructing the statement
        # cost more than running it (this is on every issuance's path).
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(f"database {name!r} is not supported")
        stmt = insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
        if returning is not None:
            stmt = stmt.returning(*returning)
        _INSERT_IGNORE[key] = stmt
    return session.execute(stmt, values)


_INSERT_IGNORE: dict[tuple, Any] = {}


def clamp_limit(limit: int) -> int:
    if limit < 1:
        raise MalformedValueError("limit must be at least 1")
    return min(limit, MAX_PAGE)


def encode_cursor(created_at: datetime, row_id: Any) -> str:
    """An opaque keyset cursor (created_at, id): stable under concurrent inserts, unlike OFFSET."""
    raw = json.dumps([created_at.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, Any]:
    try:
        # A cursor is [timestamp, id]: well under 256 bytes; anything longer is refused before decoding.
        raw = b64u_decode(cursor, what="page cursor", max_chars=encoded_length(256), error=ValueError)
        stamp, row_id = json.loads(raw)
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("cursor timestamp without offset")
        return created_at, row_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise MalformedValueError("invalid page cursor", code="INVALID_CURSOR") from exc


def newest_first(query, created_col, id_col, cursor: str | None):
    """Order a select newest first by (created_at, id) and continue after ``cursor``."""
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(or_(created_col < created_at, and_(created_col == created_at, id_col < row_id)))
    return query.order_by(created_col.desc(), id_col.desc())


def page_of(rows: list, limit: int, to_item, cursor_of) -> Page:
    """Rows were fetched with limit+1: the extra row only says whether there is a next page."""
    more = len(rows) > limit
    rows = rows[:limit]
    items = [to_item(r) for r in rows]
    next_cursor = encode_cursor(*cursor_of(rows[-1])) if more and rows else None
    return Page(items=items, next_cursor=next_cursor)
