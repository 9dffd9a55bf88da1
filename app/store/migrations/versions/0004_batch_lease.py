"""Batch job leases: the worker running a job holds a lease on it, renewed every few seconds.

Revision ID: 0004
Revises: 0003 (wallet)
Create Date: 2026-12-01

Additive only. ``lease_owner`` names the worker that runs the job, ``lease_until`` is when its claim
lapses unless renewed; a job whose lease lapsed (its worker died) is claimed by another worker within
seconds (app/batch.py). Before, a crashed job waited for a restart more than 120 s after its last
heartbeat.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_jobs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_until", UTC_TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_jobs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
