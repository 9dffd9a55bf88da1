"""SD-JWT VC credentials: the format and proof format ``sd-jwt`` are allowed in ``credentials``.

Revision ID: 0007
Revises: 0005 (status change lookup)
Create Date: 2026-12-01

Widens two CHECK constraints (the EU micro-credential as an SD-JWT VC, RFC 9901, stored with its exact bytes
like every other credential); rows already stored are untouched. The downgrade narrows them again, and fails
while SD-JWT VCs are stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ("format IN ('edc', 'ob3', 'vc')", "proof_format IN ('eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc+jwt')")
_NEW = ("format IN ('edc', 'ob3', 'vc', 'sd-jwt')", "proof_format IN ('eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc+jwt', 'sd-jwt')")


def _replace(conditions: tuple[str, str]) -> None:
    with op.batch_alter_table("credentials") as batch:
        for name in ("ck_credentials_format", "ck_credentials_proof_format"):
            batch.drop_constraint(op.f(name), type_="check")
        batch.create_check_constraint(op.f("ck_credentials_format"), conditions[0])
        batch.create_check_constraint(op.f("ck_credentials_proof_format"), conditions[1])


def upgrade() -> None:
    _replace(_NEW)


def downgrade() -> None:
    _replace(_OLD)
