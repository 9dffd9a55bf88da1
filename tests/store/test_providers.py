"""Providers, API keys (hash-only, lookup by hash) and signing keys (rotation keeps retired keys listed)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.errors import ConflictError, MalformedValueError, NotFoundError
from app.store import providers
from app.store.models import ApiKey


def test_provider_round_trip_and_unique_slug(database, provider):
    with database.read() as s:
        got = providers.get_provider_by_slug(s, "uni-example")
    assert got == provider and got.identifiers == []
    with pytest.raises(ConflictError) as exc:
        with database.transaction() as s:
            providers.create_provider(s, slug="uni-example", legal_name="Dup", country="BE", did="did:web:dup", did_method="web")
    assert exc.value.code == "PROVIDER_EXISTS"
    with database.transaction() as s, pytest.raises(MalformedValueError):
        providers.create_provider(s, slug="bad", legal_name="Bad", country="Belgium", did="did:web:bad", did_method="web")
    with database.read() as s, pytest.raises(NotFoundError):
        providers.get_provider(s, 9999)


def test_identifiers_are_kept_as_json(database):
    ids = [{"scheme": "erasmus", "value": "B BRUXEL04"}, {"scheme": "vat", "value": "BE0123456789"}]
    with database.transaction() as s:
        p = providers.create_provider(s, slug="ulb", legal_name="ULB", country="BE", did="did:key:z6Mk", did_method="key", identifiers=ids)
    with database.read() as s:
        assert providers.get_provider(s, p.id).identifiers == ids


def test_api_keys_are_stored_as_hashes_and_found_by_hash(database, provider):
    with database.transaction() as s:
        record, secret = providers.create_api_key(s, provider.id, label="SIS integration")
    assert secret.startswith(record.prefix) and len(secret) > 40
    with database.read() as s:
        stored = s.execute(select(ApiKey.key_hash, ApiKey.prefix)).one()
        assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in stored  # only the hash and a display prefix
        assert providers.find_api_key(s, secret) == record
        assert providers.find_api_key(s, secret + "x") is None
    with database.transaction() as s:
        providers.revoke_api_key(s, provider.id, record.id)
    with database.read() as s:
        assert providers.find_api_key(s, secret) is None
        assert providers.list_api_keys(s, provider.id)[0].revoked_at is not None


def test_rotation_retires_the_old_key_and_keeps_it_listed(database, provider):
    with database.transaction() as s:
        k1 = providers.add_signing_key(s, provider.id, kid="did:web:uni.example#key-1", algorithm="Ed25519", key_ref="k1.pem", public_multibase="z6MkOne")
    with pytest.raises(ConflictError):
        with database.transaction() as s:
            providers.add_signing_key(s, provider.id, kid="did:web:uni.example#key-x", algorithm="Ed25519", key_ref="x.pem", public_multibase="z6MkX")
    with database.transaction() as s:
        k2 = providers.rotate_signing_key(s, provider.id, kid="did:web:uni.example#key-2", algorithm="Ed25519", key_ref="k2.pem", public_multibase="z6MkTwo")
        # Another algorithm has its own active key.
        providers.add_signing_key(s, provider.id, kid="did:web:uni.example#p256", algorithm="P-256", key_ref="p.pem", public_jwk={"kty": "EC"})
    with database.read() as s:
        listed = providers.list_signing_keys(s, provider.id)
        assert [(k.kid, k.status) for k in listed] == [
            (k1.kid, "retired"),
            (k2.kid, "active"),
            ("did:web:uni.example#p256", "active"),
        ]
        assert listed[0].retired_at is not None and listed[0].public_multibase == "z6MkOne"
        assert providers.active_signing_key(s, provider.id, "Ed25519").kid == k2.kid
        assert providers.get_signing_key(s, k1.kid).status == "retired"
        assert [k.kid for k in providers.list_signing_keys(s, provider.id, include_retired=False)] == [k2.kid, "did:web:uni.example#p256"]
