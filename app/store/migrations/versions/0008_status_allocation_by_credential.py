"""Status allocations: an index by credential.

Revision ID: 0008
Revises: 0007 (SD-JWT credentials)
Create Date: 2026-12-01

Additive only. Every status change reads the entries of its credentials by credential id
(``app/store/status.py`` ``_ENTRIES_OF``, and ``credentials.require_owned``'s fallback for a credential whose
row a restore lost); the allocations were indexed only by list, so each of those reads scanned every
allocation of every list (``EXPLAIN QUERY PLAN``: ``SCAN status_allocations``), and status changes got slower
with every credential issued. ``(credential_id)`` makes it one index seek per credential.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_allocations") as batch:
        batch.create_index("ix_status_allocations_credential", ["credential_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_allocations") as batch:
        batch.drop_index("ix_status_allocations_credential")
