"""Wallet tables: learners, sign-in links, sessions, credential offers, holdings, shares and share views.

Revision ID: 0003
Revises: 0002 (challenges)
Create Date: 2026-11-23

Written out in full, like 0001 (a migration is a frozen record of one schema). Tokens are stored as
SHA-256 hashes; share views keep a time and a coarse user agent, never an IP address.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('holder_did', sa.String(length=500), nullable=False),
    sa.Column('key_ref', sa.String(length=100), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learners')),
    sa.UniqueConstraint('email', name=op.f('uq_learners_email')),
    sa.UniqueConstraint('holder_did', name=op.f('uq_learners_holder_did'))
    )
    op.create_table('signin_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('expires_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('used_at', UTC_TIMESTAMP, nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_signin_links'))
    )
    op.create_table('holdings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.String(length=500), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('verified_on_receipt', sa.Boolean(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_holdings_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdings'))
    )
    with op.batch_alter_table('holdings', schema=None) as batch_op:
        batch_op.create_index('ix_holdings_learner_created', ['learner_id', 'created_at'], unique=False)

    op.create_table('shares',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('expires_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('revoked_at', UTC_TIMESTAMP, nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_shares_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shares')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_shares_token_hash'))
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shares_learner_id'), ['learner_id'], unique=False)

    op.create_table('wallet_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=True),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('expires_at', UTC_TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_wallet_sessions_learner_id_learners')),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_wallet_sessions'))
    )
    with op.batch_alter_table('wallet_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_sessions_learner_id'), ['learner_id'], unique=False)

    op.create_table('share_items',
    sa.Column('share_id', sa.String(length=36), nullable=False),
    sa.Column('holding_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['holding_id'], ['holdings.id'], name=op.f('fk_share_items_holding_id_holdings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['share_id'], ['shares.id'], name=op.f('fk_share_items_share_id_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('share_id', 'holding_id', name=op.f('pk_share_items'))
    )
    op.create_table('share_views',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('share_id', sa.String(length=36), nullable=False),
    sa.Column('at', UTC_TIMESTAMP, nullable=False),
    sa.Column('agent', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['share_id'], ['shares.id'], name=op.f('fk_share_views_share_id_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_views'))
    )
    with op.batch_alter_table('share_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_views_share_id'), ['share_id'], unique=False)

    op.create_table('credential_offers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.String(length=200), nullable=False),
    sa.Column('learner_ref', sa.String(length=320), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('expires_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('claimed_at', UTC_TIMESTAMP, nullable=True),
    sa.Column('claimed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by'], ['learners.id'], name=op.f('fk_credential_offers_claimed_by_learners')),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_credential_offers_credential_id_credentials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_offers')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_credential_offers_token_hash'))
    )
    with op.batch_alter_table('credential_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_offers_credential_id'), ['credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credential_offers_learner_ref'), ['learner_ref'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credential_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_offers_learner_ref'))
        batch_op.drop_index(batch_op.f('ix_credential_offers_credential_id'))

    op.drop_table('credential_offers')
    with op.batch_alter_table('share_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_views_share_id'))

    op.drop_table('share_views')
    op.drop_table('share_items')
    with op.batch_alter_table('wallet_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_sessions_learner_id'))

    op.drop_table('wallet_sessions')
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shares_learner_id'))

    op.drop_table('shares')
    with op.batch_alter_table('holdings', schema=None) as batch_op:
        batch_op.drop_index('ix_holdings_learner_created')

    op.drop_table('holdings')
    op.drop_table('signin_links')
    op.drop_table('learners')
