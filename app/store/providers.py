"""Providers (the issuing institutions), their API keys and their signing keys.

API keys: only the SHA-256 of the secret is stored, so a leaked database does not leak usable keys;
a lookup is by hash (the secret has 256 bits of entropy, so a plain hash, not a slow KDF, is enough).
Signing keys: rotation retires the old key and inserts a new active one; retired keys stay listed so
the DID document keeps their public keys and earlier credentials still verify (security-notes §17).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ConflictError, MalformedValueError, NotFoundError
from app.store.db import Database
from app.store.models import ApiKey, Provider, SigningKey, utcnow

API_KEY_PREFIX = "mck_"
DISPLAY_PREFIX_CHARS = 12


@dataclass(frozen=True)
class ProviderRecord:
    id: int
    slug: str
    legal_name: str
    country: str
    homepage: str | None
    identifiers: list
    did: str
    did_method: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    id: int
    provider_id: int
    prefix: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class SigningKeyRecord:
    id: int
    provider_id: int
    kid: str
    algorithm: str
    public_multibase: str | None
    public_jwk: dict | None
    key_ref: str
    status: str
    created_at: datetime
    retired_at: datetime | None


def _provider(row: Provider) -> ProviderRecord:
    return ProviderRecord(row.id, row.slug, row.legal_name, row.country, row.homepage, list(row.identifiers or []), row.did, row.did_method, row.created_at)


def _api_key(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(row.id, row.provider_id, row.prefix, row.label, row.created_at, row.revoked_at)


def _signing_key(row: SigningKey) -> SigningKeyRecord:
    return SigningKeyRecord(
        row.id, row.provider_id, row.kid, row.algorithm, row.public_multibase, row.public_jwk, row.key_ref, row.status, row.created_at, row.retired_at
    )


# -- providers


def create_provider(
    session: Session,
    *,
    slug: str,
    legal_name: str,
    country: str,
    did: str,
    did_method: str,
    homepage: str | None = None,
    identifiers: list | None = None,
) -> ProviderRecord:
    if did_method not in ("web", "key"):
        raise MalformedValueError(f"did_method must be 'web' or 'key', not {did_method!r}")
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        raise MalformedValueError("country must be an ISO 3166-1 alpha-2 code in capitals")
    row = Provider(
        slug=slug,
        legal_name=legal_name,
        country=country,
        homepage=homepage,
        identifiers=list(identifiers or []),
        did=did,
        did_method=did_method,
        created_at=utcnow(),
    )
    try:
        # A savepoint: on PostgreSQL a failed INSERT would otherwise abort the caller's transaction.
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise ConflictError(f"a provider with slug {slug!r} or DID {did!r} exists", code="PROVIDER_EXISTS") from exc
    return _provider(row)


def get_provider(session: Session, provider_id: int) -> ProviderRecord:
    row = session.get(Provider, provider_id)
    if row is None:
        raise NotFoundError(f"no provider {provider_id}")
    return _provider(row)


def get_provider_by_slug(session: Session, slug: str) -> ProviderRecord:
    row = session.scalars(select(Provider).where(Provider.slug == slug)).one_or_none()
    if row is None:
        raise NotFoundError(f"no provider {slug!r}")
    return _provider(row)


def list_providers(session: Session) -> list[ProviderRecord]:
    return [_provider(r) for r in session.scalars(select(Provider).order_by(Provider.id))]


# -- API keys


def hash_api_key(secret: str) -> str:
    """Hex SHA-256 of the secret: what is stored and what lookups compare."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(session: Session, provider_id: int, *, label: str | None = None) -> tuple[ApiKeyRecord, str]:
    """Make a key; the secret is returned once, here, and never stored."""
    get_provider(session, provider_id)
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        provider_id=provider_id,
        key_hash=hash_api_key(secret),
        prefix=secret[:DISPLAY_PREFIX_CHARS],
        label=label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _api_key(row), secret


def find_api_key(session: Session, secret: str) -> ApiKeyRecord | None:
    """The active key whose secret this is, or None (unknown or revoked)."""
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_api_key(secret), ApiKey.revoked_at.is_(None))).one_or_none()
    return _api_key(row) if row else None


def provider_of_key(db: Database, secret: str) -> int | None:
    """``find_api_key`` for every authenticated request: the provider id of an active key, in one raw read."""
    return db.read_value(f"SELECT provider_id FROM {ApiKey.__tablename__} WHERE key_hash = ? AND revoked_at IS NULL", hash_api_key(secret))


def providers_of_keys(session: Session, key_hashes: list[str]) -> dict[str, tuple[int, str]]:
    """(provider id, slug) of each active key among ``key_hashes`` (``hash_api_key``), in one read: the keys of a
    group of status changes, resolved in its own transaction (``StatusLists.change_later``)."""
    rows = session.execute(
        select(ApiKey.key_hash, Provider.id, Provider.slug)
        .join(Provider, Provider.id == ApiKey.provider_id)
        .where(ApiKey.key_hash.in_(sorted(set(key_hashes))), ApiKey.revoked_at.is_(None))
    )
    return {key_hash: (provider_id, slug) for key_hash, provider_id, slug in rows}


def list_api_keys(session: Session, provider_id: int) -> list[ApiKeyRecord]:
    return [_api_key(r) for r in session.scalars(select(ApiKey).where(ApiKey.provider_id == provider_id).order_by(ApiKey.id))]


def revoke_api_key(session: Session, provider_id: int, key_id: int) -> None:
    result = session.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.provider_id == provider_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    if result.rowcount == 0 and session.scalars(select(ApiKey.id).where(ApiKey.id == key_id, ApiKey.provider_id == provider_id)).first() is None:
        raise NotFoundError(f"no API key {key_id}")


# -- signing keys


def add_signing_key(
    session: Session,
    provider_id: int,
    *,
    kid: str,
    algorithm: str,
    key_ref: str,
    public_multibase: str | None = None,
    public_jwk: dict | None = None,
) -> SigningKeyRecord:
    """Register the first active key of an algorithm; refused if one is active (use rotate_signing_key)."""
    if public_multibase is None and public_jwk is None:
        raise MalformedValueError("a signing key needs its public key (multibase or JWK)")
    row = SigningKey(
        provider_id=provider_id,
        kid=kid,
        algorithm=algorithm,
        public_multibase=public_multibase,
        public_jwk=public_jwk,
        key_ref=key_ref,
        status="active",
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise ConflictError(f"{algorithm} key already active, or kid {kid!r} already used", code="SIGNING_KEY_EXISTS") from exc
    return _signing_key(row)


def rotate_signing_key(
    session: Session,
    provider_id: int,
    *,
    kid: str,
    algorithm: str,
    key_ref: str,
    public_multibase: str | None = None,
    public_jwk: dict | None = None,
) -> SigningKeyRecord:
    """Retire the active key of ``algorithm`` (if any) and make the new one active, in one transaction.

    The partial unique index allows one active key per provider and algorithm, so two concurrent
    rotations cannot leave two active keys: the second fails with a conflict.
    """
    session.execute(
        update(SigningKey)
        .where(SigningKey.provider_id == provider_id, SigningKey.algorithm == algorithm, SigningKey.status == "active")
        .values(status="retired", retired_at=utcnow())
    )
    return add_signing_key(session, provider_id, kid=kid, algorithm=algorithm, key_ref=key_ref, public_multibase=public_multibase, public_jwk=public_jwk)


def list_signing_keys(session: Session, provider_id: int, *, include_retired: bool = True) -> list[SigningKeyRecord]:
    """All keys, retired ones included by default: the DID document must keep listing them."""
    query = select(SigningKey).where(SigningKey.provider_id == provider_id)
    if not include_retired:
        query = query.where(SigningKey.status == "active")
    return [_signing_key(r) for r in session.scalars(query.order_by(SigningKey.created_at, SigningKey.id))]


def active_signing_key(session: Session, provider_id: int, algorithm: str) -> SigningKeyRecord:
    row = session.scalars(
        select(SigningKey).where(SigningKey.provider_id == provider_id, SigningKey.algorithm == algorithm, SigningKey.status == "active")
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"provider {provider_id} has no active {algorithm} key")
    return _signing_key(row)


def get_signing_key(session: Session, kid: str) -> SigningKeyRecord:
    row = session.scalars(select(SigningKey).where(SigningKey.kid == kid)).one_or_none()
    if row is None:
        raise NotFoundError(f"no signing key {kid!r}")
    return _signing_key(row)
