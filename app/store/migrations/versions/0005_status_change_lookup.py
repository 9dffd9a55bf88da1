"""Status changes: an index for the last change of one entry.

Revision ID: 0005
Revises: 0004 (batch leases)
Create Date: 2026-12-01

Additive only. Every status change and every status read asks for the last change of one (list, index)
(``app/store/status.py`` ``_entry``); with only ``(status_list_id, id)`` indexed, that read walked the list's
changes newest first until the index matched, so each change on a list got slower as its revocations piled
up. ``(status_list_id, idx, id)`` answers it with one index seek.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_changes") as batch:
        batch.create_index("ix_status_changes_entry", ["status_list_id", "idx", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_changes") as batch:
        batch.drop_index("ix_status_changes_entry")
