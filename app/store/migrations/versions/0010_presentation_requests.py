"""OpenID4VP presentation requests: the verifier's requests, their nonce and state, and the wallet's answer.

Revision ID: 0010
Revises: 0009 (CLR credentials)
Create Date: 2026-12-01

Additive only: one new table (``models.PresentationRequest``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presentation_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("verifier_name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("dcql_query", JSON_VALUE, nullable=False),
        sa.Column("request_object", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("response_code", sa.String(length=64), nullable=True),
        sa.Column("result", JSON_VALUE, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'received')", name=op.f("ck_presentation_requests_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presentation_requests")),
    )
    op.create_index("ix_presentation_requests_expires_at", "presentation_requests", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_presentation_requests_expires_at", table_name="presentation_requests")
    op.drop_table("presentation_requests")
