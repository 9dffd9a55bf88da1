"""Initial schema: providers, keys, specifications, credentials, status lists, idempotency, batch jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in full rather than importing ``app.store.models``: a migration is a frozen record of
one schema, and must keep working after the models move on. ``UTC_TIMESTAMP`` is what
``models.UTCDateTime`` is at the database level. Wallet tables (learners, holdings, shares,
sessions, challenges) come in a later revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Database-level types of the models' portable types (see app/store/models.py).
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIMESTAMP = sa.DateTime(timezone=True)

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('legal_name', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('homepage', sa.String(length=500), nullable=True),
    sa.Column('identifiers', JSON_VALUE, nullable=False),
    sa.Column('did', sa.String(length=500), nullable=False),
    sa.Column('did_method', sa.String(length=8), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.CheckConstraint("did_method IN ('web', 'key')", name=op.f('ck_providers_did_method')),
    sa.CheckConstraint('length(country) = 2', name=op.f('ck_providers_country_alpha2')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('did', name=op.f('uq_providers_did')),
    sa.UniqueConstraint('slug', name=op.f('uq_providers_slug'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('revoked_at', UTC_TIMESTAMP, nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_api_keys_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_provider_id'), ['provider_id'], unique=False)

    op.create_table('batch_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('invalid', sa.Integer(), nullable=False),
    sa.Column('errored', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('started_at', UTC_TIMESTAMP, nullable=True),
    sa.Column('finished_at', UTC_TIMESTAMP, nullable=True),
    sa.Column('heartbeat_at', UTC_TIMESTAMP, nullable=True),
    sa.Column('request', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_batch_jobs_status')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_batch_jobs_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_jobs'))
    )
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_batch_jobs_provider_created', ['provider_id', 'created_at'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('response_headers', JSON_VALUE, nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('completed_at', UTC_TIMESTAMP, nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_idempotency_keys_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('provider_id', 'key', name=op.f('uq_idempotency_keys_provider_id_key'))
    )
    op.create_table('signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=500), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_multibase', sa.String(length=200), nullable=True),
    sa.Column('public_jwk', JSON_VALUE, nullable=True),
    sa.Column('key_ref', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('retired_at', UTC_TIMESTAMP, nullable=True),
    sa.CheckConstraint("status IN ('active', 'retired')", name=op.f('ck_signing_keys_status')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_signing_keys_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_signing_keys_kid'))
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_keys_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('uq_signing_keys_one_active', ['provider_id', 'algorithm'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('specifications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('data', JSON_VALUE, nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('eqf', sa.SmallInteger(), nullable=True),
    sa.Column('ects', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=True),
    sa.Column('isced', JSON_VALUE, nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('updated_at', UTC_TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_specifications_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specifications'))
    )
    with op.batch_alter_table('specifications', schema=None) as batch_op:
        batch_op.create_index('ix_specifications_catalogue', ['published', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_specifications_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_specifications_provider_id'), ['provider_id'], unique=False)

    op.create_table('status_lists',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('perm_key', sa.LargeBinary(), nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('cache_version', sa.BigInteger(), nullable=True),
    sa.Column('cache_bits', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name=op.f('ck_status_lists_purpose')),
    sa.CheckConstraint("state IN ('open', 'full', 'sealed')", name=op.f('ck_status_lists_state')),
    sa.CheckConstraint('next_seq >= 0 AND next_seq <= size', name=op.f('ck_status_lists_next_seq_range')),
    sa.CheckConstraint('size >= 131072', name=op.f('ck_status_lists_size_min')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_status_lists_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists'))
    )
    with op.batch_alter_table('status_lists', schema=None) as batch_op:
        batch_op.create_index('ix_status_lists_provider_purpose_state', ['provider_id', 'purpose', 'state'], unique=False)

    op.create_table('specification_isced',
    sa.Column('specification_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['specification_id'], ['specifications.id'], name=op.f('fk_specification_isced_specification_id_specifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('specification_id', 'code', name=op.f('pk_specification_isced'))
    )
    with op.batch_alter_table('specification_isced', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specification_isced_code'), ['code'], unique=False)

    op.create_table('status_allocations',
    sa.Column('status_list_id', sa.String(length=36), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.CheckConstraint('idx >= 0', name=op.f('ck_status_allocations_idx_nonneg')),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_lists.id'], name=op.f('fk_status_allocations_status_list_id_status_lists')),
    sa.PrimaryKeyConstraint('status_list_id', 'idx', name=op.f('pk_status_allocations')),
    sa.UniqueConstraint('status_list_id', 'credential_id', name=op.f('uq_status_allocations_status_list_id_credential_id')),
    sa.UniqueConstraint('status_list_id', 'idx', 'credential_id', name='uq_status_allocations_binding'),
    sa.UniqueConstraint('status_list_id', 'seq', name=op.f('uq_status_allocations_status_list_id_seq'))
    )
    op.create_table('credentials',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('specification_id', sa.String(length=36), nullable=True),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('proof_format', sa.String(length=32), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('learner_ref', sa.String(length=320), nullable=True),
    sa.Column('status_list_id', sa.String(length=36), nullable=True),
    sa.Column('status_index', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.CheckConstraint("format IN ('edc', 'ob3', 'vc')", name=op.f('ck_credentials_format')),
    sa.CheckConstraint("proof_format IN ('eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc+jwt')", name=op.f('ck_credentials_proof_format')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_credentials_provider_id_providers')),
    sa.ForeignKeyConstraint(['specification_id'], ['specifications.id'], name=op.f('fk_credentials_specification_id_specifications')),
    sa.ForeignKeyConstraint(['status_list_id', 'status_index', 'id'], ['status_allocations.status_list_id', 'status_allocations.idx', 'status_allocations.credential_id'], name='fk_credentials_status_allocation'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials')),
    sa.UniqueConstraint('status_list_id', 'status_index', name=op.f('uq_credentials_status_list_id_status_index'))
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_learner_ref'), ['learner_ref'], unique=False)
        batch_op.create_index('ix_credentials_provider_page', ['provider_id', 'created_at', 'id'], unique=False)

    op.create_table('status_changes',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('status_list_id', sa.String(length=36), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Boolean(), nullable=False),
    sa.Column('at', UTC_TIMESTAMP, nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name=op.f('ck_status_changes_purpose')),
    sa.ForeignKeyConstraint(['status_list_id', 'idx'], ['status_allocations.status_list_id', 'status_allocations.idx'], name='fk_status_changes_allocation'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_changes'))
    )
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_status_changes_list_id', ['status_list_id', 'id'], unique=False)

    op.create_table('batch_items',
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('credential_id', sa.String(length=200), nullable=True),
    sa.Column('errors', JSON_VALUE, nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.CheckConstraint("status IN ('issued', 'invalid', 'error')", name=op.f('ck_batch_items_status')),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_batch_items_credential_id_credentials')),
    sa.ForeignKeyConstraint(['job_id'], ['batch_jobs.id'], name=op.f('fk_batch_items_job_id_batch_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'row_number', name=op.f('pk_batch_items'))
    )


def downgrade() -> None:
    op.drop_table('batch_items')
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_status_changes_list_id')

    op.drop_table('status_changes')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_credentials_provider_page')
        batch_op.drop_index(batch_op.f('ix_credentials_learner_ref'))

    op.drop_table('credentials')
    op.drop_table('status_allocations')
    with op.batch_alter_table('specification_isced', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specification_isced_code'))

    op.drop_table('specification_isced')
    with op.batch_alter_table('status_lists', schema=None) as batch_op:
        batch_op.drop_index('ix_status_lists_provider_purpose_state')

    op.drop_table('status_lists')
    with op.batch_alter_table('specifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specifications_provider_id'))
        batch_op.drop_index(batch_op.f('ix_specifications_country'))
        batch_op.drop_index('ix_specifications_catalogue')

    op.drop_table('specifications')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_signing_keys_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_signing_keys_provider_id'))

    op.drop_table('signing_keys')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_jobs_provider_created')

    op.drop_table('batch_jobs')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_provider_id'))

    op.drop_table('api_keys')
    op.drop_table('providers')
