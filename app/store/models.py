"""The tables, as SQLAlchemy 2 declarative models. Only ``app.store`` imports this module.

Portable on purpose: every type maps to SQLite and PostgreSQL (JSON → TEXT / JSONB, bytes → BLOB /
BYTEA, timestamps stored in UTC). Signed credentials are kept as the exact bytes handed to the client,
never re-serialized, because re-serializing JSON can change bytes a JWS or a JCS proof covers.

The migration ``0001_initial`` creates the same schema; ``tests/store/test_migrations.py`` checks
that the two agree. Room is left for the wallet tables (learners, holdings, shares, sessions,
challenges): they arrive with their own migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Constraint names fixed by convention so migrations can address them on both databases.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONValue = JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias), not a BIGINT one.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timestamp that is always UTC and always timezone-aware in Python.

    SQLite has no timestamp type and drops the offset; storing naive UTC there and re-attaching UTC
    on read keeps cursor comparisons (ISO strings sort like instants) and Python values consistent.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (
        CheckConstraint("did_method IN ('web', 'key')", name="did_method"),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    homepage: Mapped[str | None] = mapped_column(String(500))
    identifiers: Mapped[list] = mapped_column(JSONValue)
    did: Mapped[str] = mapped_column(String(500), unique=True)
    did_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SealKey(Base):
    """A provider's sealing key and certificate chain (JAdES, ETSI TS 119 182-1): one per provider, replaced when the
    operator gives a new certificate. ``chain`` is the x5c list (base64 DER, the sealing certificate first)."""

    __tablename__ = "seal_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), unique=True)
    key_ref: Mapped[str] = mapped_column(String(500))
    key_type: Mapped[str] = mapped_column(String(16))
    chain: Mapped[list] = mapped_column(JSONValue)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SigningKey(Base):
    __tablename__ = "signing_keys"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'retired')", name="status"),
        # At most one active key per provider and algorithm, even under concurrent rotations.
        Index(
            "uq_signing_keys_one_active",
            "provider_id",
            "algorithm",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    kid: Mapped[str] = mapped_column(String(500), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_multibase: Mapped[str | None] = mapped_column(String(200))
    public_jwk: Mapped[dict | None] = mapped_column(JSONValue)
    key_ref: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Specification(Base):
    __tablename__ = "specifications"
    __table_args__ = (Index("ix_specifications_catalogue", "published", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    data: Mapped[dict] = mapped_column(JSONValue)
    published: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    eqf: Mapped[int | None] = mapped_column(SmallInteger)
    ects: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    isced: Mapped[list] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SpecificationIsced(Base):
    """One row per ISCED-F code of a specification, so the catalogue can filter by code or by field prefix."""

    __tablename__ = "specification_isced"

    specification_id: Mapped[str] = mapped_column(ForeignKey("specifications.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class StatusList(Base):
    __tablename__ = "status_lists"
    __table_args__ = (
        CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose"),
        CheckConstraint("state IN ('open', 'full', 'sealed')", name="state"),
        CheckConstraint("size >= 131072", name="size_min"),
        CheckConstraint("next_seq >= 0 AND next_seq <= size", name="next_seq_range"),
        Index("ix_status_lists_provider_purpose_state", "provider_id", "purpose", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    perm_key: Mapped[bytes] = mapped_column(LargeBinary)
    next_seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(BigInteger)
    cache_version: Mapped[int | None] = mapped_column(BigInteger)
    cache_bits: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusAllocation(Base):
    """An index handed out in a list. Its primary key is what makes an index impossible to reuse."""

    __tablename__ = "status_allocations"
    __table_args__ = (
        UniqueConstraint("status_list_id", "seq"),
        UniqueConstraint("status_list_id", "credential_id"),
        # Target of the credentials' foreign key: binds an index to the one credential it was made for.
        UniqueConstraint("status_list_id", "idx", "credential_id", name="uq_status_allocations_binding"),
        CheckConstraint("idx >= 0", name="idx_nonneg"),
        # Status changes read a credential's entries by credential id (migration 0008).
        Index("ix_status_allocations_credential", "credential_id"),
    )

    status_list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        CheckConstraint("format IN ('edc', 'ob3', 'vc', 'sd-jwt', 'clr')", name="format"),
        CheckConstraint("proof_format IN ('eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc+jwt', 'sd-jwt', 'jades')", name="proof_format"),
        # A credential that carries a status entry must point at the allocation made for *it* (written
        # in the same transaction): no credential without its record, no index shared by two credentials.
        ForeignKeyConstraint(
            ["status_list_id", "status_index", "id"],
            ["status_allocations.status_list_id", "status_allocations.idx", "status_allocations.credential_id"],
            name="fk_credentials_status_allocation",
        ),
        UniqueConstraint("status_list_id", "status_index"),
        Index("ix_credentials_provider_page", "provider_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    specification_id: Mapped[str | None] = mapped_column(ForeignKey("specifications.id"))
    format: Mapped[str] = mapped_column(String(8))
    proof_format: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    learner_ref: Mapped[str | None] = mapped_column(String(320), index=True)
    status_list_id: Mapped[str | None] = mapped_column(String(36))
    status_index: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusChange(Base):
    """One row per status change: the published bitstring is derived from these (security-notes §14)."""

    __tablename__ = "status_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["status_list_id", "idx"],
            ["status_allocations.status_list_id", "status_allocations.idx"],
            name="fk_status_changes_allocation",
        ),
        CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose"),
        Index("ix_status_changes_list_id", "status_list_id", "id"),
        # the last change of one entry (status.py _entry): one seek instead of a walk over the list's changes
        Index("ix_status_changes_entry", "status_list_id", "idx", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status_list_id: Mapped[str] = mapped_column(String(36))
    idx: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(16))
    value: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("provider_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict | None] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BatchJob(Base):
    __tablename__ = "batch_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_batch_jobs_provider_created", "provider_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    status: Mapped[str] = mapped_column(String(8))
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    errored: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the last sign of life of the worker running the job; a stale one lets another worker resume it
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the worker that holds the job (app/batch.py), and until when: a lapsed lease lets another worker claim it
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the normalized request (JSON bytes), kept so that a job can resume after a crash
    request: Mapped[bytes | None] = mapped_column(LargeBinary)


class BatchItem(Base):
    __tablename__ = "batch_items"
    __table_args__ = (CheckConstraint("status IN ('issued', 'invalid', 'error')", name="status"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    credential_id: Mapped[str | None] = mapped_column(ForeignKey("credentials.id"))
    errors: Mapped[list | None] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Challenge(Base):
    """A verifier's challenge (VC Data Integrity §2.1 ``challenge``): random, expiring, usable once.

    Kept in the database, not in memory, so a challenge handed out by one worker is accepted (once) by
    any other; ``used_at`` is set by a single conditional UPDATE, so two replays race to one winner.
    """

    __tablename__ = "challenges"
    __table_args__ = (Index("ix_challenges_expires_at", "expires_at"),)

    challenge: Mapped[str] = mapped_column(String(64), primary_key=True)
    domain: Mapped[str | None] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryLog(Base):
    """The append-only record a restore is replayed from (``app/store/recovery.py``): one row per status index bound to
    a credential at issuance (kind ``issued``) and per status change that changed an entry (kind ``status``), written in
    the transaction that made it. Ids and indices only, no personal data."""

    __tablename__ = "recovery_log"
    __table_args__ = (
        CheckConstraint("kind IN ('issued', 'status')", name="kind"),
        CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose"),
        Index("ix_recovery_log_at", "at"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(8))
    credential_id: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(Integer)
    status_list_id: Mapped[str] = mapped_column(String(36))
    idx: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(16))
    #: issued: the list's counter value the index came from
    list_seq: Mapped[int | None] = mapped_column(Integer)
    #: status: the entry's new value
    value: Mapped[bool | None] = mapped_column(Boolean)
    #: issued: SHA-256 (hex) of the request's Idempotency-Key, when it had one
    key_digest: Mapped[str | None] = mapped_column(String(64))


class PresentationRequest(Base):
    """An OpenID4VP 1.0 authorization request of the verifier (§5): its nonce and state, the DCQL query, the signed
    Request Object served at its ``request_uri``, and, once a wallet answered, the report. Answered once: ``status``
    moves from ``pending`` to ``received`` by one conditional UPDATE, so a replayed response finds it answered."""

    __tablename__ = "presentation_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'received')", name="status"),
        Index("ix_presentation_requests_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    verifier_name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(500))
    dcql_query: Mapped[dict] = mapped_column(JSONValue)
    request_object: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict | None] = mapped_column(JSONValue)


class Oid4vciOffer(Base):
    """An OpenID4VCI 1.0 credential offer (§4.1.1) of the pre-authorized code flow (§3.5): the provider's request,
    rendered and signed only when a wallet redeems it. ``state``: ``offered`` → ``token`` (the pre-authorized code
    exchanged, once) → ``redeemed`` (credentials issued, once); ``burnt`` after too many wrong tx_codes."""

    __tablename__ = "oid4vci_offers"
    __table_args__ = (
        CheckConstraint("state IN ('offered', 'token', 'redeemed', 'burnt')", name="state"),
        Index("ix_oid4vci_offers_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    #: the pre-authorized code itself: the offer (served by reference, §4.1.3) carries it anyway
    pre_authorized_code: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 (hex) of the tx_code, None when the offer needs none
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    tx_code_failures: Mapped[int] = mapped_column(Integer)
    configurations: Mapped[list] = mapped_column(JSONValue)
    request: Mapped[dict] = mapped_column(JSONValue)
    state: Mapped[str] = mapped_column(String(10))
    credential_ids: Mapped[list | None] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Oid4vciToken(Base):
    """An access token of the token endpoint (OID4VCI 1.0 §6), kept as its SHA-256: bound to its offer, short-lived,
    used once; ``dpop_jkt`` the JWK thumbprint of a DPoP-bound token (RFC 9449 §6)."""

    __tablename__ = "oid4vci_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("oid4vci_offers.id"), index=True)
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Oid4vciNonce(Base):
    """Single-use values: a ``c_nonce`` (OID4VCI 1.0 §7) or a seen DPoP proof ``jti`` (RFC 9449 §11.1, as SHA-256)."""

    __tablename__ = "oid4vci_nonces"
    __table_args__ = (CheckConstraint("kind IN ('c_nonce', 'dpop_jti')", name="kind"), Index("ix_oid4vci_nonces_expires_at", "expires_at"))

    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VcApiExchange(Base):
    """A VC API exchange (W3C VCALM draft, "Exchanges"; the DCC workflow-coordinator's flow) for the Learner
    Credential Wallet: a provider's ``POST /microcredentials`` body kept with a challenge, issued to the holder DID
    of the wallet's DID Authentication presentation. ``state``: ``pending`` → ``complete`` (once)."""

    __tablename__ = "vc_api_exchanges"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'complete')", name="state"),
        Index("ix_vc_api_exchanges_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(40))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    challenge: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict] = mapped_column(JSONValue)
    state: Mapped[str] = mapped_column(String(10))
    holder: Mapped[str | None] = mapped_column(String(2048))
    credential_id: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
