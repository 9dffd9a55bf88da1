"""JAdES sealing: a provider's sealing key and certificate chain (``seal_keys``), and the proof format ``jades``.

Revision ID: 0012
Revises: 0011 (OpenID4VCI)
Create Date: 2026-12-01

Additive: a new table (one row per provider: the key's ``key_ref`` in the file store or the PKCS#11 token, and the
x5c chain the operator gave), and the ``credentials`` proof-format CHECK widened to ``jades`` (an EDC sealed like
Europass's, ETSI TS 119 182-1 baseline-B). The downgrade narrows it again, and fails while sealed EDCs are stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# written out in full (see 0001): what models.UTCDateTime and models.JSONValue are at the database level
UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_OLD = "proof_format IN ('eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc+jwt', 'sd-jwt')"
_NEW = "proof_format IN ('eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc+jwt', 'sd-jwt', 'jades')"


def _replace(condition: str) -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint(op.f("ck_credentials_proof_format"), type_="check")
        batch.create_check_constraint(op.f("ck_credentials_proof_format"), condition)


def upgrade() -> None:
    op.create_table(
        "seal_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id", name=op.f("fk_seal_keys_provider_id_providers")), nullable=False),
        sa.Column("key_ref", sa.String(500), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("chain", JSON_VALUE, nullable=False),
        sa.Column("not_after", UTC_TIMESTAMP, nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_keys")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_seal_keys_provider_id")),
    )
    _replace(_NEW)


def downgrade() -> None:
    _replace(_OLD)
    op.drop_table("seal_keys")
