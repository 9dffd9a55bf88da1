"""CLR 2.0 credentials: the format ``clr`` is allowed in ``credentials``.

Revision ID: 0009
Revises: 0008 (status allocations by credential)
Create Date: 2026-12-01

Widens the format CHECK constraint: a composite micro-credential rendered as a 1EdTech CLR 2.0 ``ClrCredential``
(issue 17, stackable micro-credentials) is stored with its exact bytes like every other credential; rows already
stored are untouched. The downgrade narrows it again, and fails while CLR credentials are stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "format IN ('edc', 'ob3', 'vc', 'sd-jwt')"
_NEW = "format IN ('edc', 'ob3', 'vc', 'sd-jwt', 'clr')"


def _replace(condition: str) -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint(op.f("ck_credentials_format"), type_="check")
        batch.create_check_constraint(op.f("ck_credentials_format"), condition)


def upgrade() -> None:
    _replace(_NEW)


def downgrade() -> None:
    _replace(_OLD)
