"""OpenID4VCI 1.0: credential offers, access tokens, single-use nonces (c_nonce, DPoP jti).

Revision ID: 0011
Revises: 0010 (presentation requests)
Create Date: 2026-12-01

Additive only: three new tables (``models.Oid4vciOffer``, ``Oid4vciToken``, ``Oid4vciNonce``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oid4vci_offers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("pre_authorized_code", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=True),
        sa.Column("tx_code_failures", sa.Integer(), nullable=False),
        sa.Column("configurations", JSON_VALUE, nullable=False),
        sa.Column("request", JSON_VALUE, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("credential_ids", JSON_VALUE, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("redeemed_at", UTC_TIMESTAMP, nullable=True),
        sa.CheckConstraint("state IN ('offered', 'token', 'redeemed', 'burnt')", name=op.f("ck_oid4vci_offers_state")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_oid4vci_offers_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_offers")),
        sa.UniqueConstraint("pre_authorized_code", name=op.f("uq_oid4vci_offers_pre_authorized_code")),
    )
    op.create_index("ix_oid4vci_offers_expires_at", "oid4vci_offers", ["expires_at"], unique=False)
    op.create_index(op.f("ix_oid4vci_offers_provider_id"), "oid4vci_offers", ["provider_id"], unique=False)
    op.create_table(
        "oid4vci_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("dpop_jkt", sa.String(length=64), nullable=True),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("used_at", UTC_TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["offer_id"], ["oid4vci_offers.id"], name=op.f("fk_oid4vci_tokens_offer_id_oid4vci_offers")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oid4vci_tokens")),
    )
    op.create_index(op.f("ix_oid4vci_tokens_offer_id"), "oid4vci_tokens", ["offer_id"], unique=False)
    op.create_table(
        "oid4vci_nonces",
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("used_at", UTC_TIMESTAMP, nullable=True),
        sa.CheckConstraint("kind IN ('c_nonce', 'dpop_jti')", name=op.f("ck_oid4vci_nonces_kind")),
        sa.PrimaryKeyConstraint("value", name=op.f("pk_oid4vci_nonces")),
    )
    op.create_index("ix_oid4vci_nonces_expires_at", "oid4vci_nonces", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_oid4vci_nonces_expires_at", table_name="oid4vci_nonces")
    op.drop_table("oid4vci_nonces")
    op.drop_index(op.f("ix_oid4vci_tokens_offer_id"), table_name="oid4vci_tokens")
    op.drop_table("oid4vci_tokens")
    op.drop_index(op.f("ix_oid4vci_offers_provider_id"), table_name="oid4vci_offers")
    op.drop_index("ix_oid4vci_offers_expires_at", table_name="oid4vci_offers")
    op.drop_table("oid4vci_offers")
