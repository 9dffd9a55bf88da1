"""Providers: who issues through this service, and with which identity, API keys and signing keys.

Each provider has a DID (did:web under this service's base URL, DID Web Method §3.2, or did:key), an
Ed25519 signing key kept behind the ``Signer`` interface (security-notes §18), for a did:web provider a
P-256 key beside it (ES256, which SD-JWT VC wallets and HAIP require; published as a ``JsonWebKey`` method
with ``publicKeyJwk``), and API keys stored only as hashes. Rotation adds a key and keeps the retired one in the did:web document, so that earlier
credentials keep verifying (security-notes §17).
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from app.credentials import IssuerProfile
from app.dids.jose_keys import with_jwk_methods
from app.errors import AuthError, ConflictError, KeyUnavailable, MalformedValueError, MicrocredError, NotFoundError
from app.keys import ED25519, P256, Ed25519Signer, FileKeyStore, KeyStores, P256Signer, Pkcs11KeyStore, Signer, store_of
from app.keys.methods import public_key_from_method
from app.proofs import jades
from app.settings import Settings
from app.store import Database, providers, seals
from app.store.providers import ProviderRecord

__all__ = ["ApiKey", "ProviderRecord", "Providers", "key_stores"]

DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def key_stores(settings: Settings) -> KeyStores:
    """The file key folder, and the PKCS#11 token when ``pkcs11_module`` is set (opened on first use)."""
    token = None
    if settings.pkcs11_module is not None:
        token = Pkcs11KeyStore(settings.pkcs11_module, settings.pkcs11_token_label, settings.pkcs11_slot, settings.pkcs11_pin)
    return KeyStores(FileKeyStore(settings.keys_dir), token)


class ApiKey(str):
    """A provider API key as presented by a caller (``Authorization: Bearer …``), not yet checked."""


def _slug_ok(slug: str) -> bool:
    return 2 <= len(slug) <= 40 and all(c.isalnum() and c.isascii() and (c.islower() or c.isdigit()) or c == "-" for c in slug) and slug[0] != "-"


class Providers:
    """Providers' identity: creation, API keys, authentication, signing keys and DID documents."""

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db
        self.keys = key_stores(settings)
        self._signers: dict[str, Signer] = {}
        #: kept as JSON text: each caller gets its own copy from the C parser (a deep copy took 0.2 ms per verification)
        self._did_documents: dict[str, str] = {}
        self._records: dict[int, ProviderRecord] = {}

    # -- identity

    def did_web_for(self, slug: str) -> str:
        """did:web method §3.2: host (port percent-encoded) then path segments joined by colons."""
        url = urllib.parse.urlsplit(self.settings.base_url)
        host = url.hostname or "localhost"
        if url.port:
            host += f"%3A{url.port}"
        path = [p for p in url.path.split("/") if p]
        return ":".join(["did:web", host, *path, "issuers", slug])

    def create(
        self,
        *,
        slug: str,
        name: str,
        country: str,
        homepage: str | None = None,
        identifiers: list[dict] | None = None,
        did_method: str = "web",
        key_store: str = "file",
    ) -> tuple[ProviderRecord, str]:
        """A provider with its signing key (in ``key_store``: ``file``, or ``pkcs11`` generated inside the token) and its
        first API key (returned once; only a hash is kept)."""
        if not _slug_ok(slug):
            raise MalformedValueError("slug must be 2–40 lowercase letters, digits or hyphens", code="INVALID_SLUG")
        if did_method not in ("web", "key"):
            raise MalformedValueError("did_method must be web or key")
        if key_store not in ("file", "pkcs11"):
            raise MalformedValueError("key_store must be file or pkcs11", code="UNKNOWN_KEY_STORE")
        key_name = f"{slug}-{secrets.token_hex(4)}"
        signer, key_ref = self.keys.create(key_name, ED25519, store=key_store)
        mb = signer.public_multibase()
        did = self.did_web_for(slug) if did_method == "web" else f"did:key:{mb}"
        with self.db.transaction() as session:
            provider = providers.create_provider(
                session, slug=slug, legal_name=name, country=country.upper(), did=did, did_method=did_method, homepage=homepage, identifiers=identifiers
            )
            providers.add_signing_key(session, provider.id, kid=f"{did}#{mb}", algorithm=ED25519, key_ref=key_ref, public_multibase=mb)
            if did_method == "web":
                self._add_p256(session, provider.id, did, slug, rotate=False, store=key_store)
            _, secret = providers.create_api_key(session, provider.id, label="initial")
        return provider, secret

    def by_id(self, provider_id: int) -> ProviderRecord:
        """A provider's record, kept per process: a record never changes once created (only its keys do)."""
        record = self._records.get(provider_id)
        if record is None:
            with self.db.read() as session:
                record = self._records[provider_id] = providers.get_provider(session, provider_id)
        return record

    def by_slug(self, slug: str) -> ProviderRecord:
        with self.db.read() as session:
            return providers.get_provider_by_slug(session, slug)

    def profile(self, provider: ProviderRecord) -> IssuerProfile:
        """The issuer block of the provider's credentials (model doc §1.2): name, country, identifiers."""
        identifiers = tuple((i.get("scheme", ""), i.get("value", "")) for i in (provider.identifiers or []) if isinstance(i, dict))
        eidas = next((v for s, v in identifiers if s == "eIDAS"), None) or f"NTR{provider.country}-{provider.slug}"
        return IssuerProfile(
            id=provider.did,
            legal_name={"en": provider.legal_name},
            country=provider.country,
            homepage=provider.homepage,
            eidas_identifier=eidas,
            identifiers=tuple((s, v) for s, v in identifiers if s != "eIDAS"),
        )

    # -- API keys

    def new_api_key(self, slug: str) -> str:
        with self.db.transaction() as session:
            provider = providers.get_provider_by_slug(session, slug)
            _, secret = providers.create_api_key(session, provider.id, label="rotated")
        return secret

    def revoke_api_key(self, slug: str, key_id: int) -> None:
        with self.db.transaction() as session:
            provider = providers.get_provider_by_slug(session, slug)
            providers.revoke_api_key(session, provider.id, key_id)

    def authenticate(self, secret: str | None) -> ProviderRecord:
        """The provider an API key belongs to, or ``AuthError`` (401)."""
        if not secret:
            raise AuthError("an API key is required: Authorization: Bearer <key>")
        provider_id = providers.provider_of_key(self.db, secret)  # every request: revocation counts at once
        if provider_id is None:
            raise AuthError("the API key is unknown or revoked")
        return self.by_id(provider_id)

    # -- signing keys

    def signer_for(self, provider: ProviderRecord) -> Signer:
        """The provider's active Ed25519 signer, loaded once per process (until the next rotation here)."""
        signer = self._signers.get(provider.did)
        if signer is None:
            with self.db.read() as session:
                key = providers.active_signing_key(session, provider.id, ED25519)
            signer = self.keys.load(key.key_ref, key.kid)
            self._signers[provider.did] = signer
        return signer

    def es256_signer_for(self, provider: ProviderRecord) -> Signer:
        """The did:web provider's active P-256 signer, its ``kid`` the key's JsonWebKey method. A provider created
        before P-256 keys existed gets one on first use (a concurrent first use by another worker wins)."""
        cache_key = provider.did + "#P-256"
        signer = self._signers.get(cache_key)
        if signer is not None:
            return signer
        if provider.did_method != "web":
            raise ConflictError("a did:key provider has no P-256 key: its DID is its Ed25519 key", code="UNSUPPORTED_KEY_TYPE")
        try:
            with self.db.read() as session:
                key = providers.active_signing_key(session, provider.id, P256)
        except NotFoundError:
            try:
                with self.db.transaction() as session:
                    self._add_p256(session, provider.id, provider.did, provider.slug, rotate=False)
            except ConflictError:
                pass  # another worker added it first
            self._did_documents.pop(provider.did, None)
            with self.db.read() as session:
                key = providers.active_signing_key(session, provider.id, P256)
        signer = self.keys.load(key.key_ref, key.kid)
        self._signers[cache_key] = signer
        return signer

    def sd_jwt_signer_for(self, provider: ProviderRecord) -> Signer:
        """The key an SD-JWT VC is signed with: the P-256 key (ES256) of a did:web provider, the Ed25519 key
        (EdDSA) of a did:key provider, whose DID names only that key."""
        return self.es256_signer_for(provider) if provider.did_method == "web" else self.signer_for(provider)

    def _add_p256(self, session, provider_id: int, did: str, slug: str, *, rotate: bool, store: str = "file") -> str:
        """A new P-256 key (``rotate``: retiring the active one) in ``store`` (beside the Ed25519 key: a provider in
        an HSM keeps both there), its kid ``<did>#jwk-<multibase>``."""
        key_name = f"{slug}-p256-{secrets.token_hex(4)}"
        signer, key_ref = self.keys.create(key_name, P256, store=store)
        kid = f"{did}#jwk-{signer.public_multibase()}"
        add = providers.rotate_signing_key if rotate else providers.add_signing_key
        add(session, provider_id, kid=kid, algorithm=P256, key_ref=key_ref, public_jwk=signer.public_jwk())
        return kid

    def active_key_ref(self, provider: ProviderRecord, key_type: str) -> tuple[str, str]:
        """(key_ref, kid) of the provider's active key: what a signing process needs to load it itself."""
        with self.db.read() as session:
            key = providers.active_signing_key(session, provider.id, key_type)
        return key.key_ref, key.kid

    def check_keys(self) -> list[str]:
        """Each provider's active keys (Ed25519, and P-256 for SD-JWT VC), read from their store, sign a probe that
        the public key this service publishes (its DID document, its did:key) verifies: an empty list, or one line
        per provider whose key cannot sign what verifiers will accept. Run by ``serve`` before it starts and by
        ``/ready``."""
        problems = []
        if self.keys.pkcs11 is not None:
            try:
                self.keys.pkcs11.session()
            except MicrocredError as exc:
                problems.append(exc.detail)
        for provider in self.list():
            try:
                with self.db.read() as session:
                    keys = providers.list_signing_keys(session, provider.id, include_retired=False)
                if not any(key.algorithm == ED25519 for key in keys):
                    raise KeyUnavailable(f"{provider.did} has no active Ed25519 key", code="KEY_NOT_FOUND")
                for key in keys:
                    self._probe(provider, key)
                self._probe_seal(provider)
            except MicrocredError as exc:
                problems.append(f"provider {provider.slug}: {exc.detail}")
        return problems

    def _probe(self, provider: ProviderRecord, key) -> None:
        """``key`` signs what its published form verifies (the DID document's Multikey or JsonWebKey method)."""
        signer = self.keys.load(key.key_ref, key.kid)
        probe = secrets.token_bytes(32)
        if key.public_multibase:
            method = {"type": "Multikey", "publicKeyMultibase": key.public_multibase}
        else:
            method = {"type": "JsonWebKey", "publicKeyJwk": key.public_jwk}
        published = public_key_from_method(method, key.algorithm)
        if not published.verify(probe, signer.sign(probe)):
            raise KeyUnavailable(f"signing key {key.key_ref} holds another key than the one {provider.did} publishes", code="KEY_MISMATCH")
        if key.algorithm == ED25519 and provider.did_method == "key" and provider.did != f"did:key:{key.public_multibase}":
            raise KeyUnavailable(f"{provider.did} is not the did:key of its active key", code="KEY_MISMATCH")

    def rotate_key(self, slug: str) -> str:
        """A new active key; the retired one stays in the DID document so earlier credentials verify (§17)."""
        with self.db.transaction() as session:
            provider = providers.get_provider_by_slug(session, slug)
            if provider.did_method != "web":
                raise ConflictError("a did:key provider cannot rotate: its DID is its key", code="ROTATION_UNSUPPORTED")
            current = providers.active_signing_key(session, provider.id, ED25519)
            key_name = f"{slug}-{secrets.token_hex(4)}"
            # the new key lives where the retired one did: a provider moved to an HSM stays there
            signer, key_ref = self.keys.create(key_name, ED25519, store=store_of(current.key_ref))
            mb = signer.public_multibase()
            providers.rotate_signing_key(session, provider.id, kid=f"{provider.did}#{mb}", algorithm=ED25519, key_ref=key_ref, public_multibase=mb)
            self._add_p256(session, provider.id, provider.did, slug, rotate=True, store=store_of(current.key_ref))
        self._signers.pop(provider.did, None)
        self._signers.pop(provider.did + "#P-256", None)
        self._did_documents.pop(provider.did, None)
        return f"{provider.did}#{mb}"

    # -- JAdES sealing keys (ETSI TS 119 182-1; app/proofs/jades.py)

    def set_seal_key(self, slug: str, key_ref: str, chain: list[x509.Certificate]) -> seals.SealKeyRecord:
        """The provider's sealing key (``key_ref``: a file key or ``pkcs11:<label>``) with its certificate chain, the
        sealing certificate first: it must hold that key, be valid now, and each certificate be issued by the next."""
        provider = self.by_slug(slug)
        signer = self.keys.load(key_ref)
        _check_chain(chain, signer)
        x5c = [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in chain]
        with self.db.transaction() as session:
            record = seals.set_seal_key(session, provider.id, key_ref=key_ref, key_type=signer.key_type, chain=x5c, not_after=chain[0].not_valid_after_utc)
        self._signers.pop(provider.did + "#seal", None)
        return record

    def import_pkcs12(self, slug: str, data: bytes, password: bytes | None) -> seals.SealKeyRecord:
        """A PKCS#12 file's key (P-256 or Ed25519) kept in the key folder (0600), and its certificates as the chain."""
        provider = self.by_slug(slug)
        try:
            key, certificate, others = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            raise MalformedValueError("the PKCS#12 file cannot be read: not PKCS#12, or a wrong password", code="PKCS12_UNREADABLE") from None
        if key is None or certificate is None:
            raise MalformedValueError("the PKCS#12 file holds no key with its certificate", code="PKCS12_UNREADABLE")
        signer: Ed25519Signer | P256Signer
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            signer = P256Signer(key.private_numbers().private_value.to_bytes(32, "big"))
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            signer = Ed25519Signer(key.private_bytes_raw())
        else:
            raise MalformedValueError("a sealing key is P-256 (ES256) or Ed25519 (EdDSA); the PKCS#12 file holds another key", code="UNSUPPORTED_KEY_TYPE")
        chain = _ordered_chain(certificate, list(others))
        _check_chain(chain, signer)
        name = f"{provider.slug}-seal-{secrets.token_hex(4)}"
        self.keys.files.save(name, signer)
        return self.set_seal_key(slug, name, chain)

    def sealer_for(self, provider: ProviderRecord) -> tuple[Signer, list[x509.Certificate]]:
        """The provider's sealing key and chain, or ``ConflictError`` (409) when the operator gave it none."""
        cache_key = provider.did + "#seal"
        cached = self._signers.get(cache_key)
        if cached is None:
            with self.db.read() as session:
                record = seals.get_seal_key(session, provider.id)
            if record is None:
                raise ConflictError(
                    f"provider {provider.slug} has no sealing certificate: the operator gives it one with `microcred provider seal-certificate`",
                    code="NO_SEALING_CERTIFICATE",
                )
            chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in record.chain]
            cached = (self.keys.load(record.key_ref), chain)
            self._signers[cache_key] = cached  # type: ignore[assignment]
        leaf = cached[1][0]  # type: ignore[index]
        if not leaf.not_valid_before_utc <= datetime.now(UTC) <= leaf.not_valid_after_utc:
            raise ConflictError(
                f"provider {provider.slug}'s sealing certificate is valid from {leaf.not_valid_before_utc:%Y-%m-%d} to "
                f"{leaf.not_valid_after_utc:%Y-%m-%d}, not now: the operator gives it a new one (provider seal-certificate)",
                code="SEALING_CERTIFICATE_NOT_VALID",
            )
        return cached  # type: ignore[return-value]

    def _probe_seal(self, provider: ProviderRecord) -> None:
        """The provider's sealing key, if it has one, signs what its certificate's key verifies."""
        with self.db.read() as session:
            record = seals.get_seal_key(session, provider.id)
        if record is None:
            return
        signer = self.keys.load(record.key_ref)
        leaf = x509.load_der_x509_certificate(base64.b64decode(record.chain[0]))
        probe = secrets.token_bytes(32)
        signature = signer.sign(probe)
        key = leaf.public_key()
        try:
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, probe)
            else:
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                key.verify(der, probe, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr, call-arg]
        except (InvalidSignature, TypeError, ValueError):
            raise KeyUnavailable(f"sealing key {record.key_ref} holds another key than its sealing certificate's", code="KEY_MISMATCH") from None

    def has_seal(self, provider: ProviderRecord) -> bool:
        with self.db.read() as session:
            return seals.get_seal_key(session, provider.id) is not None

    # -- DID documents

    def did_document(self, slug: str) -> dict[str, Any]:
        """The did:web DID document: every key, retired ones included, under assertionMethod and authentication."""
        with self.db.read() as session:
            provider = providers.get_provider_by_slug(session, slug)
            if provider.did_method != "web":
                raise NotFoundError(f"provider {slug} has no did:web document")
            keys = providers.list_signing_keys(session, provider.id, include_retired=True)
        methods = [{"id": k.kid, "type": "Multikey", "controller": provider.did, "publicKeyMultibase": k.public_multibase} for k in keys if k.public_multibase]
        ids = [m["id"] for m in methods]
        # Each Ed25519 key is also published as a JsonWebKey method: JOSE verifiers expect publicKeyJwk.
        document = with_jwk_methods(
            {"@context": list(DID_CONTEXT), "id": provider.did, "verificationMethod": methods, "assertionMethod": ids, "authentication": ids}
        )
        # P-256 keys (ES256) have the JsonWebKey form only (Controlled Identifiers 1.0 §2.2.3).
        p256 = [
            {"id": k.kid, "type": "JsonWebKey", "controller": provider.did, "publicKeyJwk": dict(k.public_jwk)}
            for k in keys
            if k.algorithm == P256 and k.public_jwk
        ]
        document["verificationMethod"] += p256
        for rel in ("assertionMethod", "authentication"):
            document[rel] = [*document[rel], *(m["id"] for m in p256)]
        return document

    def local_did_document(self, did: str, fresh: bool = False) -> dict[str, Any] | None:
        """The DID document of a did:web this service hosts (``did:web:<host>:issuers:<slug>``), else None.

        Kept per process: keys are only ever added to a provider's document (a retired key stays, §17),
        so a kept document can lack a key another worker has just added but never holds a wrong one.
        The resolver asks again with ``fresh`` when a verification method is not in the kept document.
        """
        prefix = self.did_web_for("")
        if not did.startswith(prefix) or ":" in did[len(prefix) :]:
            return None
        if not fresh and (kept := self._did_documents.get(did)) is not None:
            return json.loads(kept)
        try:
            document = self.did_document(did[len(prefix) :])
        except NotFoundError:
            return None
        self._did_documents[did] = json.dumps(document)
        return json.loads(self._did_documents[did])

    def list(self) -> list[ProviderRecord]:
        with self.db.read() as session:
            return providers.list_providers(session)


def _ordered_chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """``leaf``, then the certificate that issued it, and so on, as far as ``others`` go (x5c order, RFC 7515 §4.1.6)."""
    chain = [leaf]
    while chain[-1].issuer != chain[-1].subject:
        parent = next((c for c in others if c.subject == chain[-1].issuer and c not in chain), None)
        if parent is None:
            break
        chain.append(parent)
    return chain


def _check_chain(chain: list[x509.Certificate], signer: Signer) -> None:
    if not chain or jades.certificate_jwk(chain[0]) != signer.public_jwk():
        raise MalformedValueError("the sealing certificate does not hold the sealing key", code="CERTIFICATE_MISMATCH")
    now = datetime.now(UTC)
    for n, certificate in enumerate(chain):
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise MalformedValueError(
                f"certificate {n} of the chain ({certificate.subject.rfc4514_string()[:200]}) is not valid now "
                f"(from {certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d})",
                code="CERTIFICATE_NOT_VALID",
            )
    for n, (child, parent) in enumerate(zip(chain, chain[1:], strict=False)):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise MalformedValueError(f"certificate {n} of the chain is not issued by certificate {n + 1}", code="BROKEN_CHAIN") from None
