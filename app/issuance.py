"""Issuance: providers, their DIDs and keys, signed micro-credentials, status changes, status lists.

The domain service behind the issuer API and the admin commands. It knows neither HTTP nor SQL: it
validates and renders with ``app.credentials``, signs with ``app.proofs``, and keeps everything through
the repositories of ``app.store``, in one transaction per credential, so that a credential is returned
only once it is durably stored with the exact signed bytes and its status index (security-notes §15–16).
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import threading
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app import strict_json
from app.credentials import IssuerProfile, issue_from_specification, render_edc, render_ob3, validate_input
from app.errors import AuthError, ConflictError, MalformedValueError, NotFoundError
from app.keys import ED25519, FileKeyStore, Signer
from app.observability import CREDENTIALS_ISSUED
from app.proofs import vc_jose
from app.runtime import Runtime
from app.status import bitstring
from app.store import Database, idempotency, providers, specifications, status
from app.store import credentials as credential_store
from app.xsd import format_datetime_stamp

FORMATS = ("ob3", "edc")
PROOFS = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt")
MEDIA_TYPES = {"vc+jwt": "application/vc+jwt"}
LD_MEDIA_TYPE = "application/vc+ld+json"
VC1 = "https://www.w3.org/2018/credentials/v1"
VC2 = "https://www.w3.org/ns/credentials/v2"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"


@dataclass(frozen=True)
class _Started:
    """An issuance validated and given its status indices, to be signed and stored (``Issuance._start``)."""

    provider: Any
    key: str | None
    prepared: Any
    allocated: Any
    sign: Any
    store: Any


@dataclass(frozen=True)
class Issued:
    id: str
    media_type: str
    body: bytes
    format: str
    proof: str


def _slug_ok(slug: str) -> bool:
    return 2 <= len(slug) <= 40 and all(c.isalnum() and c.isascii() and (c.islower() or c.isdigit()) or c == "-" for c in slug) and slug[0] != "-"


class Issuance:
    """Everything an issuer does, for every provider of this service."""

    def __init__(self, runtime: Runtime, db: Database):
        self.runtime = runtime
        self.settings = runtime.settings
        self.db = db
        self.keys = FileKeyStore(self.settings.keys_dir)
        self._signers: dict[str, Signer] = {}
        self._status_cache: dict[str, tuple[int, bytes]] = {}
        self._did_documents: dict[str, dict[str, Any]] = {}
        self._providers: dict[int, Any] = {}
        self._reserved = _Reservations(db, self.settings.status_list_size)

    # -- providers and their identity (did:web under this service, or did:key)

    def did_web_for(self, slug: str) -> str:
        """did:web method §3.2: host (port percent-encoded) then path segments joined by colons."""
        url = urllib.parse.urlsplit(self.settings.base_url)
        host = url.hostname or "localhost"
        if url.port:
            host += f"%3A{url.port}"
        path = [p for p in url.path.split("/") if p]
        return ":".join(["did:web", host, *path, "issuers", slug])

    def create_provider(
        self, *, slug: str, name: str, country: str, homepage: str | None = None, identifiers: list[dict] | None = None, did_method: str = "web"
    ) -> tuple[Any, str]:
        """A provider with its signing key and its first API key (returned once; only a hash is kept)."""
        if not _slug_ok(slug):
            raise MalformedValueError("slug must be 2–40 lowercase letters, digits or hyphens", code="INVALID_SLUG")
        if did_method not in ("web", "key"):
            raise MalformedValueError("did_method must be web or key")
        key_name = f"{slug}-{secrets.token_hex(4)}"
        signer = self.keys.create(key_name, ED25519)
        mb = signer.public_multibase()
        did = self.did_web_for(slug) if did_method == "web" else f"did:key:{mb}"
        kid = f"{did}#{mb}"
        with self.db.transaction() as session:
            provider = providers.create_provider(
                session, slug=slug, legal_name=name, country=country.upper(), did=did, did_method=did_method, homepage=homepage, identifiers=identifiers
            )
            providers.add_signing_key(session, provider.id, kid=kid, algorithm=ED25519, key_ref=key_name, public_multibase=mb)
            _, secret = providers.create_api_key(session, provider.id, label="initial")
        return provider, secret

    def rotate_key(self, slug: str) -> str:
        """A new active key; the retired one stays in the DID document so earlier credentials verify (§17)."""
        with self.db.transaction() as session:
            provider = providers.get_provider_by_slug(session, slug)
            if provider.did_method != "web":
                raise ConflictError("a did:key provider cannot rotate: its DID is its key", code="ROTATION_UNSUPPORTED")
            key_name = f"{slug}-{secrets.token_hex(4)}"
            signer = self.keys.create(key_name, ED25519)
            mb = signer.public_multibase()
            providers.rotate_signing_key(session, provider.id, kid=f"{provider.did}#{mb}", algorithm=ED25519, key_ref=key_name, public_multibase=mb)
        self._signers.pop(provider.did, None)
        self._did_documents.pop(provider.did, None)
        return f"{provider.did}#{mb}"

    def new_api_key(self, slug: str) -> str:
        with self.db.transaction() as session:
            provider = providers.get_provider_by_slug(session, slug)
            _, secret = providers.create_api_key(session, provider.id, label="rotated")
        return secret

    def revoke_api_key(self, slug: str, key_id: int) -> None:
        with self.db.transaction() as session:
            provider = providers.get_provider_by_slug(session, slug)
            providers.revoke_api_key(session, provider.id, key_id)

    def authenticate(self, secret: str | None):
        """The provider an API key belongs to, or ``AuthError`` (401)."""
        if not secret:
            raise AuthError("an API key is required: Authorization: Bearer <key>")
        provider_id = providers.provider_of_key(self.db, secret)  # every request: revocation counts at once
        if provider_id is None:
            raise AuthError("the API key is unknown or revoked")
        provider = self._providers.get(provider_id)
        if provider is None:  # a provider's record never changes once created (only its keys do)
            with self.db.read() as session:
                provider = self._providers[provider_id] = providers.get_provider(session, provider_id)
        return provider

    def did_document(self, slug: str) -> dict[str, Any]:
        """The did:web DID document: every key, retired ones included, under assertionMethod and authentication."""
        with self.db.read() as session:
            provider = providers.get_provider_by_slug(session, slug)
            if provider.did_method != "web":
                raise NotFoundError(f"provider {slug} has no did:web document")
            keys = providers.list_signing_keys(session, provider.id, include_retired=True)
        methods = [{"id": k.kid, "type": "Multikey", "controller": provider.did, "publicKeyMultibase": k.public_multibase} for k in keys if k.public_multibase]
        ids = [m["id"] for m in methods]
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": provider.did,
            "verificationMethod": methods,
            "assertionMethod": ids,
            "authentication": ids,
        }

    def local_did_document(self, did: str, fresh: bool = False) -> dict[str, Any] | None:
        """The DID document of a did:web this service hosts (``did:web:<host>:issuers:<slug>``), else None.

        Kept per process: keys are only ever added to a provider's document (a retired key stays, §17),
        so a kept document can lack a key another worker has just added but never holds a wrong one.
        The resolver asks again with ``fresh`` when a verification method is not in the kept document.
        """
        prefix = self.did_web_for("")
        if not did.startswith(prefix) or ":" in did[len(prefix):]:
            return None
        if not fresh and (kept := self._did_documents.get(did)) is not None:
            return copy.deepcopy(kept)
        try:
            document = self.did_document(did[len(prefix):])
        except NotFoundError:
            return None
        self._did_documents[did] = document
        return copy.deepcopy(document)

    def local_status_list(self, url: str) -> bytes | None:
        """The signed status list credential behind one of this service's status URLs, else None."""
        prefix = self.status_url("")
        if not url.startswith(prefix) or "/" in url[len(prefix):] or not url[len(prefix):]:
            return None
        try:
            return self.status_list_credential(url[len(prefix):])
        except NotFoundError:
            return None

    def signer_for(self, provider) -> Signer:
        signer = self._signers.get(provider.did)
        if signer is None:
            with self.db.read() as session:
                key = providers.active_signing_key(session, provider.id, ED25519)
            signer = self.keys.load(key.key_ref, key.kid)
            self._signers[provider.did] = signer
        return signer

    def profile(self, provider) -> IssuerProfile:
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

    # -- status entries (Bitstring Status List §2.1)

    def status_url(self, list_id: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/status/{list_id}"

    def _status_entries(self, session, provider, credential_id: str) -> tuple[list[dict[str, Any]], Any]:
        return self.status_entries_many(session, provider, [credential_id])[0]

    def status_entries_many(self, session, provider, credential_ids: list[str]) -> list[tuple[list[dict[str, Any]], Any]]:
        """For each credential id: its ``BitstringStatusListEntry`` objects and its first allocation."""
        purposes = ("revocation", "suspension") if self.settings.suspension_enabled else ("revocation",)
        by_purpose = [status.allocate_many(session, provider.id, purpose, credential_ids, size=self.settings.status_list_size) for purpose in purposes]
        out = []
        for allocations in zip(*by_purpose):
            entries = []
            for purpose, alloc in zip(purposes, allocations):
                url = self.status_url(alloc.status_list_id)
                entries.append(
                    {
                        "id": f"{url}#{alloc.index}",
                        "type": "BitstringStatusListEntry",
                        "statusPurpose": purpose,
                        "statusListIndex": str(alloc.index),
                        "statusListCredential": url,
                    }
                )
            out.append((entries, allocations[0]))
        return out

    # -- issuing

    def _allocator(self, provider):
        """The allocation step of ``_idempotent``: a fresh credential id, its status entries from indices
        this process has reserved, and the allocation rows ``keep`` will write with the credential."""

        def allocate(prepared):
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            purposes = ("revocation", "suspension") if self.settings.suspension_enabled else ("revocation",)
            entries, rows = [], []
            for purpose in purposes:
                list_id, index, seq = self._reserved.take(provider.id, purpose)
                url = self.status_url(list_id)
                entries.append(
                    {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": str(index), "statusListCredential": url}
                )
                rows.append((list_id, index, seq, credential_id))
            return credential_id, entries, status.Allocation(rows[0][0], rows[0][1], purposes[0]), rows

        return allocate

    def _sign(self, credential: dict[str, Any], signer: Signer, proof: str) -> tuple[bytes, str]:
        if proof == "vc+jwt":
            return vc_jose.secure(credential, signer).encode("ascii"), MEDIA_TYPES["vc+jwt"]
        secured = self.runtime.engine.add_proof(credential, signer, suite=proof)
        return strict_json.dumps(secured).encode(), LD_MEDIA_TYPE

    def render(self, provider, mc, *, fmt: str, credential_id: str, issued: datetime, status_entries: list[dict] | None) -> dict[str, Any]:
        renderer = render_ob3 if fmt == "ob3" else render_edc
        return renderer(mc, issuer=self.profile(provider), credential_id=credential_id, issued=issued, status_entry=status_entries)

    def validate(self, payload: dict[str, Any], provider) -> tuple[Any, str | None, str | None]:
        """(validated input, specification id, learner reference) for a POST /microcredentials body."""
        now = datetime.now(UTC)
        spec_id = payload.get("specificationId")
        if spec_id is not None:
            if not isinstance(spec_id, str):
                raise MalformedValueError("specificationId must be a string")
            with self.db.read() as session:
                spec = specifications.get_specification(session, spec_id, provider_id=provider.id)
            issuance = payload.get("issuance")
            if not isinstance(issuance, dict):
                raise MalformedValueError("with a specificationId, the learner's data goes in 'issuance'", errors=[{"pointer": "/issuance", "detail": "required"}])
            mc = issue_from_specification(spec.data, issuance, ects_min=self.settings.ects_min, ects_max=self.settings.ects_max, now=now)
        else:
            data = payload.get("microcredential")
            if not isinstance(data, dict):
                raise MalformedValueError(
                    "the body needs 'microcredential' (the EU record) or 'specificationId' with 'issuance'",
                    errors=[{"pointer": "/microcredential", "detail": "required"}],
                )
            mc = validate_input(data, ects_min=self.settings.ects_min, ects_max=self.settings.ects_max, now=now)
        learner = mc.learner
        ref = learner.id or (str(learner.email) if getattr(learner, "email", None) else None)
        return mc, spec_id, ref

    def _idempotent(self, provider, key: str | None, payload: Any, prepare, allocate, sign, store) -> tuple[int, Issued, bool]:
        """Issue once per Idempotency-Key, holding the database's write lock only briefly (security-notes §14–16).

        ``prepare()`` validates; with a key, one short transaction claims it; ``allocate(prepared)`` takes
        status indices this process has reserved (``_Reservations``); signing (``sign``) runs outside any
        transaction; one transaction then binds the indices, stores the credential and the response
        (``store(session, signed)``). A refused request stores nothing. A process that dies before the
        last step leaves indices that are never reused and no credential; its claim on the key is taken
        over by a retry after a minute. A replay returns the stored bytes; the same key with another
        body is a ``ConflictError``. ``_start``, ``_sign_started`` and ``_kept`` are its three steps;
        ``start_issue`` and ``finish_issue`` run them apart, so that the API can sign on its event loop.
        """
        started = self._start(provider, key, payload, prepare, allocate, sign, store)
        if isinstance(started, tuple):
            return started
        issued, keep = self._sign_started(started)
        return self._kept(started, issued, lambda: self.db.grouped(keep))

    def _start(self, provider, key: str | None, payload: Any, prepare, allocate, sign, store) -> tuple[int, Issued, bool] | _Started:
        """Up to signing: the replay of an earlier response (status, credential, True), or what to sign."""
        body_hash = idempotency.request_hash(payload) if key else None
        if key:
            with self.db.read() as session:
                replay = idempotency.lookup(session, provider.id, key, body_hash)
            if replay is not None:
                return replay.status, _issued_from_response(replay), True
        with self.db.cpu_gate:
            prepared = prepare()
        if key:
            replay = self.db.grouped(lambda session: idempotency.begin(session, provider.id, key, body_hash))
            if replay is not None:
                return replay.status, _issued_from_response(replay), True
        allocated = allocate(prepared)  # reserved indices: no database write here
        return _Started(provider, key, prepared, allocated, sign, store)

    def _sign_started(self, started: _Started):
        """Render and sign (a group's commit waits for this under the CPU gate, not for the GIL); the
        credential and the unit of work that stores it."""
        with self.db.cpu_gate:
            issued, record = started.sign(started.prepared, started.allocated)
        provider, key = started.provider, started.key

        def keep(session):
            status.record_allocations(session, started.allocated[3])
            started.store(session, record)
            if key:
                headers = {"content-type": issued.media_type, "x-credential-id": issued.id, "x-format": issued.format, "x-proof": issued.proof}
                idempotency.store_response(session, provider.id, key, status=201, body=issued.body, headers=headers)

        return issued, keep

    def _kept(self, started: _Started, issued: Issued, store) -> tuple[int, Issued, bool]:
        """Run ``store()`` (the grouped write of ``keep``, waited for), then count the credential."""
        # Grouped with other requests' writes (Database.grouped): one disk flush for many.
        try:
            store()
        except ConflictError as exc:
            if exc.code == "STATUS_LIST_INCONSISTENT":
                self._reserved.forget({row[0] for row in started.allocated[3]})
            raise
        CREDENTIALS_ISSUED.labels(issued.format, issued.proof).inc()
        return 201, issued, False

    def start_issue(self, provider, payload: dict[str, Any], *, idempotency_key: str | None = None) -> tuple[int, Issued, bool] | _Started:
        """``issue`` up to signing (in a worker thread: it reads and may wait for the database)."""
        return self._start(provider, idempotency_key, payload, *self._microcredential_steps(provider, payload, idempotency_key))

    async def finish_issue(self, started: _Started) -> tuple[int, Issued, bool]:
        """The rest of ``start_issue`` on the event loop: render and sign there, then await the grouped write.

        For a credential of ordinary size (signing takes well under a millisecond) this is cheaper than
        a worker thread, which shared the GIL with the event loop: each waited for the other, and the
        service issued 7–16% fewer credentials per second (bench http-issue, same runs). The caller keeps
        large documents on a thread, so the loop is never held for long.
        """
        issued, keep = self._sign_started(started)
        future = self.db.grouped_later(keep)
        # Shielded: a client that goes away must not cancel the write of a credential already signed.
        # asyncio.wait returns without raising; future.result() raises in _kept, which handles it.
        await asyncio.wait([asyncio.shield(asyncio.wrap_future(future))])
        return self._kept(started, issued, future.result)

    def issue(self, provider, payload: dict[str, Any], *, idempotency_key: str | None = None) -> tuple[int, Issued, bool]:
        """Validate, render, allocate status, sign and store one micro-credential: (status, credential, replayed)."""
        return self._idempotent(provider, idempotency_key, payload, *self._microcredential_steps(provider, payload, idempotency_key))

    def _microcredential_steps(self, provider, payload: dict[str, Any], idempotency_key: str | None) -> tuple:
        """The prepare, allocate, sign and store steps of ``_idempotent`` for a POST /microcredentials body
        (its format and proof are checked here, first)."""
        fmt = payload.get("format", "ob3")
        proof = payload.get("proof", "eddsa-rdfc-2022")
        if fmt not in FORMATS:
            raise MalformedValueError(f"format must be one of {', '.join(FORMATS)}", errors=[{"pointer": "/format", "detail": "unknown format"}])
        if proof not in PROOFS:
            raise MalformedValueError(f"proof must be one of {', '.join(PROOFS)}", errors=[{"pointer": "/proof", "detail": "unknown proof"}])
        signer = self.signer_for(provider)

        def sign(prepared, allocated):
            (mc, spec_id, learner_ref), (credential_id, entries, first, _) = prepared, allocated
            credential = self.render(provider, mc, fmt=fmt, credential_id=credential_id, issued=datetime.now(UTC), status_entries=entries)
            body, media_type = self._sign(credential, signer, proof)
            record = credential_store.NewCredential(
                id=credential_id, provider_id=provider.id, format=fmt, proof_format=proof, media_type=media_type, body=body,
                learner_ref=learner_ref, status_list_id=first.status_list_id, status_index=first.index,
                specification_id=spec_id, idempotency_key=idempotency_key,
            )
            return Issued(credential_id, media_type, body, fmt, proof), record

        return lambda: self.validate(payload, provider), self._allocator(provider), sign, credential_store.insert_credential

    def list(self, provider, *, limit: int, cursor: str | None, fmt: str | None) -> dict[str, Any]:
        with self.db.read() as session:
            page = credential_store.list_credentials(session, provider.id, filters=credential_store.CredentialFilter(format=fmt), limit=limit, cursor=cursor)
        items = [
            {"id": c.id, "format": c.format, "proof": c.proof_format, "mediaType": c.media_type, "learner": c.learner_ref, "createdAt": format_datetime_stamp(c.created_at)}
            for c in page.items
        ]
        return {"items": items, "next": page.next_cursor}

    def dry_run(self, provider, payload: dict[str, Any]) -> dict[str, Any]:
        """Validation result and the rendered, unsigned credential; nothing is stored or allocated."""
        fmt = payload.get("format", "ob3")
        if fmt not in FORMATS:
            raise MalformedValueError(f"format must be one of {', '.join(FORMATS)}")
        mc, _, _ = self.validate(payload, provider)
        credential = self.render(provider, mc, fmt=fmt, credential_id=f"urn:uuid:{uuid.uuid4()}", issued=datetime.now(UTC), status_entries=None)
        from app.credentials import warnings

        return {"valid": True, "warnings": warnings(mc), "credential": credential}

    def issue_vc_idempotent(self, provider, body: dict[str, Any], key: str | None) -> Issued:
        return self._idempotent(provider, key, body, lambda: self._prepare_vc(provider, body.get("credential"), body.get("options")), *self._vc_steps(provider))[1]

    def issue_vc(self, provider, credential: Any, options: Any = None) -> Issued:
        """W3C VC API ``POST /credentials/issue``: sign a ready credential as the caller's provider."""
        return self.issue_vc_idempotent(provider, {"credential": credential, "options": options}, None)

    def _prepare_vc(self, provider, credential: Any, options: Any) -> tuple[dict[str, Any], str]:
        if not isinstance(credential, dict):
            raise MalformedValueError("credential must be a JSON object", errors=[{"pointer": "/credential", "detail": "required object"}])
        options = options if isinstance(options, dict) else {}
        for forbidden in ("proof", "credentialStatus", "id"):
            if forbidden in credential:
                raise MalformedValueError(
                    f"the issuer sets {forbidden}; a client cannot", code="FORBIDDEN_PROPERTY", errors=[{"pointer": f"/credential/{forbidden}", "detail": "set by the issuer"}]
                )
        issuer = credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer_id not in (None, provider.did):
            raise MalformedValueError("the credential's issuer is not the caller's DID", code="ISSUER_MISMATCH", errors=[{"pointer": "/credential/issuer", "detail": f"must be {provider.did}"}])
        contexts = credential.get("@context")
        first = contexts[0] if isinstance(contexts, list) and contexts else contexts
        if first not in (VC2, VC1):
            raise MalformedValueError("the first @context must be the VC 2.0 or 1.1 base context", errors=[{"pointer": "/credential/@context", "detail": "unknown base context"}])
        types = credential.get("type")
        if not ((isinstance(types, list) and "VerifiableCredential" in types) or types == "VerifiableCredential"):
            raise MalformedValueError("type must include VerifiableCredential", errors=[{"pointer": "/credential/type", "detail": "missing VerifiableCredential"}])
        proof = options.get("proofFormat") or options.get("cryptosuite") or "eddsa-rdfc-2022"
        if proof not in PROOFS:
            raise MalformedValueError(f"options.cryptosuite must be one of {', '.join(PROOFS)}", errors=[{"pointer": "/options/cryptosuite", "detail": "unsupported"}])
        doc = dict(credential)
        doc["issuer"] = dict(issuer, id=provider.did) if isinstance(issuer, dict) else provider.did
        now = format_datetime_stamp(datetime.now(UTC))
        if first == VC2:
            doc.setdefault("validFrom", now)
        else:
            doc.setdefault("issuanceDate", now)
            ctx = list(contexts)
            if STATUS_V1 not in ctx:
                ctx.append(STATUS_V1)  # BitstringStatusListEntry is defined for VC 1.1 documents there
            doc["@context"] = ctx
        # Validate the document as it will be signed (contexts, data loss) before anything is allocated.
        probe = dict(doc, id="urn:uuid:00000000-0000-4000-8000-000000000000", credentialStatus=_probe_status(self.status_url("probe")))
        from app.jsonld import to_quads

        to_quads(probe, self.runtime.loader)
        return doc, proof

    def _vc_steps(self, provider):
        signer = self.signer_for(provider)

        def sign(prepared, allocated):
            (doc, proof), (credential_id, entries, first, _) = prepared, allocated
            doc = dict(doc, id=credential_id, credentialStatus=entries if len(entries) > 1 else entries[0])
            body, media_type = self._sign(doc, signer, proof)
            record = credential_store.NewCredential(
                id=credential_id, provider_id=provider.id, format="vc", proof_format=proof, media_type=media_type, body=body,
                learner_ref=_subject_id(doc), status_list_id=first.status_list_id, status_index=first.index,
            )
            return Issued(credential_id, media_type, body, "vc", proof), record

        return self._allocator(provider), sign, credential_store.insert_credential

    # -- reading and status changes

    def get(self, provider, credential_id: str):
        with self.db.read() as session:
            return credential_store.get_credential(session, credential_id, provider_id=provider.id)

    def change_status(self, provider, credential_id: str, new_status: str, *, reason: str | None = None) -> dict[str, Any]:
        """revoked (final), suspended, or active (lifts a suspension), in the group commit (app/status_changes.py)."""
        from app import status_changes

        return status_changes.change_status(self, provider, credential_id, new_status, reason=reason)

    def _need_suspension(self) -> None:
        if not self.settings.suspension_enabled:
            raise ConflictError("suspension is not enabled on this service", code="SUSPENSION_DISABLED")

    @staticmethod
    def status_of(session, provider_id: int, credential_id: str) -> dict[str, Any]:
        revoked = status.credential_status(session, provider_id, credential_id, "revocation")
        try:
            suspended = status.credential_status(session, provider_id, credential_id, "suspension")
        except NotFoundError:
            suspended = False
        return {"credentialId": credential_id, "revoked": revoked, "suspended": suspended, "status": "revoked" if revoked else "suspended" if suspended else "active"}

    def status_list_credential(self, list_id: str) -> bytes:
        """The signed BitstringStatusListCredential (Bitstring Status List §2.2), rebuilt when the list changes."""
        version = status.current_version(self.db, list_id)  # on every verification: the cheapest read there is
        cached = self._status_cache.get(list_id)
        if cached and cached[0] == version:
            return cached[1]
        # A write transaction: published_bits rebuilds and stores the list's cached bits when it changed.
        with self.db.transaction() as session:
            record = status.get_status_list(session, list_id)
            published = status.published_bits(session, list_id)
            provider = providers.get_provider(session, record.provider_id)
        url = self.status_url(list_id)
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": provider.did,
            "validFrom": format_datetime_stamp(datetime.now(UTC)),
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": record.purpose,
                "encodedList": bitstring.encode_list(published.bits),
            },
        }
        body = strict_json.dumps(self.runtime.engine.add_proof(credential, self.signer_for(provider))).encode()
        self._status_cache[list_id] = (published.version, body)
        return body


def _subject_id(doc: dict[str, Any]) -> str | None:
    subject = doc.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    return subject.get("id") if isinstance(subject, dict) and isinstance(subject.get("id"), str) else None


def _issued_from_response(replay) -> Issued:
    h = replay.headers
    return Issued(h.get("x-credential-id", ""), h.get("content-type", LD_MEDIA_TYPE), replay.body, h.get("x-format", ""), h.get("x-proof", ""))


def _probe_status(url: str) -> list[dict[str, Any]]:
    return [{"id": f"{url}#0", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "0", "statusListCredential": url}]


class _Reservations:
    """Status-list indices this process has taken ahead, per (provider, purpose).

    Single issuance then writes once (the credential with its allocation rows) instead of twice; a
    run of counter values is reserved in one short transaction every ``RUN`` credentials, in the
    background once fewer than ``LOW`` are left, so that a request seldom waits for it (one in 32
    waiting for an extra commit made the latency's tail). Values a process reserved and never used
    (it stopped) stay unused: indices are never reused, and a run of 32 out of a list of 131,072
    costs nothing that matters.
    """

    RUN = 32
    LOW = 8

    def __init__(self, db, size: int):
        self.db = db
        self.size = size
        self._runs: dict[tuple[int, str], deque[tuple[str, int, int]]] = {}
        self._refilling: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def _reserve(self, provider_id: int, purpose: str):
        return lambda session: status.reserve_run(session, provider_id, purpose, self.RUN, size=self.size)

    def take(self, provider_id: int, purpose: str) -> tuple[str, int, int]:
        """(list id, index, seq) for one credential."""
        key = (provider_id, purpose)
        with self._lock:
            queue = self._runs.get(key)
            item = queue.popleft() if queue else None
            refill = item is not None and len(queue) < self.LOW and key not in self._refilling
            if refill:
                self._refilling.add(key)
        if refill:
            self._refill(key)
        if item is not None:
            return item
        items = self._items(self.db.grouped(self._reserve(*key)))  # nothing left: wait for a run
        with self._lock:
            self._runs.setdefault(key, deque()).extend(items[1:])
        return items[0]

    @staticmethod
    def _items(run) -> list[tuple[str, int, int]]:
        return [(run.status_list_id, index, seq) for seq, index in run.allocations()]

    def _refill(self, key: tuple[int, str]) -> None:
        def done(future) -> None:  # on the group-commit thread: only the queue, no database work
            with self._lock:
                self._refilling.discard(key)
                if future.exception() is None:
                    self._runs.setdefault(key, deque()).extend(self._items(future.result()))

        try:
            self.db.grouped_later(self._reserve(*key)).add_done_callback(done)
        except RuntimeError:  # the database is closing: the next take reserves, or fails, itself
            with self._lock:
                self._refilling.discard(key)

    def forget(self, status_list_ids: set[str]) -> None:
        """Drop what is reserved in these lists (one of their indices turned out to be taken)."""
        with self._lock:
            for key, queue in self._runs.items():
                self._runs[key] = deque(item for item in queue if item[0] not in status_list_ids)
