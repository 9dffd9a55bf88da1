"""VC API exchanges for the Learner Credential Wallet.

Revision ID: 0013
Revises: 0012 (JAdES sealing keys)
Create Date: 2026-12-01

Additive only: one new table (``models.VcApiExchange``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vc_api_exchanges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("request", JSON_VALUE, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("holder", sa.String(length=2048), nullable=True),
        sa.Column("credential_id", sa.String(length=512), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("completed_at", UTC_TIMESTAMP, nullable=True),
        sa.CheckConstraint("state IN ('pending', 'complete')", name=op.f("ck_vc_api_exchanges_state")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_vc_api_exchanges_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vc_api_exchanges")),
    )
    op.create_index("ix_vc_api_exchanges_expires_at", "vc_api_exchanges", ["expires_at"], unique=False)
    op.create_index(op.f("ix_vc_api_exchanges_provider_id"), "vc_api_exchanges", ["provider_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vc_api_exchanges_provider_id"), table_name="vc_api_exchanges")
    op.drop_index("ix_vc_api_exchanges_expires_at", table_name="vc_api_exchanges")
    op.drop_table("vc_api_exchanges")
