"""Verifier challenges: random, expiring, single-use values a presentation's proof must carry.

Revision ID: 0002_challenges
Revises: 0001
Create Date: 2026-11-24

Written out in full (see 0001): ``UTC_TIMESTAMP`` is ``models.UTCDateTime`` at the database level.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("used_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("challenge", name=op.f("pk_challenges")),
    )
    op.create_index("ix_challenges_expires_at", "challenges", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_challenges_expires_at", table_name="challenges")
    op.drop_table("challenges")
