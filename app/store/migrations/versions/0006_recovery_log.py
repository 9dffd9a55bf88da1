"""The recovery log: an append-only record of issued status indices and status changes, replayed after a restore.

Revision ID: 0006_recovery_log
Revises: 0005 (status change lookup)
Create Date: 2026-12-01

Additive only (``app/store/recovery.py``; README, "Running in production", backups). Written out in full (see 0001):
``UTC_TIMESTAMP`` is ``models.UTCDateTime`` at the database level.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recovery_log",
        sa.Column("seq", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", UTC_TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("credential_id", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("status_list_id", sa.String(length=36), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("list_seq", sa.Integer(), nullable=True),
        sa.Column("value", sa.Boolean(), nullable=True),
        sa.Column("key_digest", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('issued', 'status')", name=op.f("ck_recovery_log_kind")),
        sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name=op.f("ck_recovery_log_purpose")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_recovery_log")),
    )
    op.create_index("ix_recovery_log_at", "recovery_log", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recovery_log_at", table_name="recovery_log")
    op.drop_table("recovery_log")
