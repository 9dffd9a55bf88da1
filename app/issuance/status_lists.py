"""The issuer's status lists: indices for new credentials, status changes, and the published lists.

The standard itself (bit order, encoding, entries, the index permutation) is ``app.status``; storage is
``app.store.status``. This module is what joins them for an issuer: it reserves indices ahead per
process (so single issuance writes once), builds each credential's entries, changes a credential's
status, and publishes each list as a signed ``BitstringStatusListCredential`` (Bitstring Status List
v1.0 §2.2), rebuilt only when the list changed.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app import strict_json
from app.errors import AuthError, ConflictError, MalformedValueError, NotFoundError
from app.issuance.providers import Providers
from app.proofs import ProofEngine
from app.settings import Settings
from app.status import bitstring
from app.status import token_status_list as tsl
from app.status.entries import bitstring_entry
from app.store import Database, status
from app.store import providers as provider_store
from app.store.providers import ProviderRecord
from app.vcdm import VC2
from app.xsd import format_datetime_stamp

__all__ = ["MICROCREDENTIAL_PURPOSES", "Entries", "StatusLists"]

#: What a credential's status changes to, by the name a request gives it.
CHANGES = ("revoked", "suspended", "active")
#: The status entries of an EU micro-credential: OB 3.0 allows one ``credentialStatus`` (§B.1.2, [0..1]) and the
#: EDC shapes one (sh:maxCount 1); no single entry reads as both revocation and suspension to the independent
#: status libraries (README, "Status of EDC and Open Badges"), so an EDC or OB3 carries revocation only.
MICROCREDENTIAL_PURPOSES = ("revocation",)


@dataclass(frozen=True)
class Entries:
    """A new credential's status entries (Bitstring Status List §2.1) and the allocation rows that bind
    their indices to it, written with the credential (``StatusLists.record``)."""

    credential_id: str
    entries: list[dict[str, Any]]
    #: the first entry's list and index (the credential row keeps it)
    first: status.Allocation
    #: (list id, index, seq, credential id, purpose) per entry
    rows: list[tuple[str, int, int, str, str]]

    @property
    def credential_status(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The ``credentialStatus`` value: one entry as an object, several as an array (VC DM 2.0 §4.10)."""
        return self.entries if len(self.entries) > 1 else self.entries[0]


@dataclass(frozen=True)
class _KeyedChange:
    """A status change as requested: by the hash of the API key that asked for it (``StatusLists.change_later``)."""

    key_hash: str
    credential_id: str
    purpose: str
    value: bool
    reason: str | None


def _apply_by_key(session, changes: list[_KeyedChange]) -> list[dict[str, Any] | Exception]:
    """The group's changes in its transaction: their keys in one read, then ``status.apply_changes`` as one set;
    a change with an unknown or revoked key is refused (401) and writes nothing."""
    owners = provider_store.providers_of_keys(session, [c.key_hash for c in changes])
    known = [
        status.Change(owners[c.key_hash][0], c.credential_id, c.purpose, c.value, owners[c.key_hash][1], c.reason) for c in changes if c.key_hash in owners
    ]
    applied = iter(status.apply_changes(session, known))
    outcomes: list[dict[str, Any] | Exception] = []
    for change in changes:
        if change.key_hash not in owners:
            outcomes.append(AuthError("the API key is unknown or revoked"))
            continue
        after = next(applied)
        outcomes.append(after if isinstance(after, Exception) else _answer(change.credential_id, after.revoked, after.suspended))
    return outcomes


def _answer(credential_id: str, revoked: bool, suspended: bool) -> dict[str, Any]:
    """A credential's status as the API shows it."""
    return {
        "credentialId": credential_id,
        "revoked": revoked,
        "suspended": suspended,
        "status": "revoked" if revoked else "suspended" if suspended else "active",
    }


class StatusLists:
    """Status for every provider of this service: allocation, changes, publication."""

    def __init__(self, settings: Settings, db: Database, providers: Providers, engine: ProofEngine):
        self.settings = settings
        self.db = db
        self.providers = providers
        self.engine = engine
        self._reserved = _Reservations(db, settings.status_list_size)
        self._published: dict[str, tuple[int, bytes]] = {}
        self._tokens: dict[str, tuple[int, bytes]] = {}

    @property
    def purposes(self) -> tuple[str, ...]:
        return ("revocation", "suspension") if self.settings.suspension_enabled else ("revocation",)

    def url(self, list_id: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/status/{list_id}"

    def token_url(self, list_id: str) -> str:
        """Where the list is published as a Status List Token (draft-ietf-oauth-status-list §8), for SD-JWT VCs."""
        return f"{self.settings.base_url.rstrip('/')}/status-lists/{list_id}"

    # -- entries of new credentials

    def reserve(self, provider: ProviderRecord, credential_id: str, purposes: tuple[str, ...] | None = None) -> Entries:
        """Entries (one per purpose, all configured ones by default) from indices this process has reserved:
        no database write here (``_Reservations``)."""
        purposes = purposes or self.purposes
        entries, rows = [], []
        for purpose in purposes:
            list_id, index, seq = self._reserved.take(provider.id, purpose)
            entries.append(bitstring_entry(self.url(list_id), index, purpose))
            rows.append((list_id, index, seq, credential_id, purpose))
        first = status.Allocation(rows[0][0], rows[0][1], purposes[0])
        return Entries(credential_id, entries, first, rows)

    def record(self, session, entries: Entries, provider_id: int, *, key: str | None = None) -> None:
        """Bind reserved indices to their credential, in the transaction that stores it (and log them for a restore:
        ``app/store/recovery.py``, with the request's Idempotency-Key)."""
        try:
            status.record_allocations(session, entries.rows, provider_id=provider_id, key=key)
        except ConflictError as exc:
            if exc.code == "STATUS_LIST_INCONSISTENT":
                self._reserved.forget({row[0] for row in entries.rows})
            raise

    def allocate_many(self, session, provider: ProviderRecord, credential_ids: list[str], purposes: tuple[str, ...] | None = None) -> list[Entries]:
        """Entries for a batch chunk, allocated in ``session`` as runs of counter values (``status.allocate_many``)."""
        purposes = purposes or self.purposes
        by_purpose = [status.allocate_many(session, provider.id, purpose, credential_ids, size=self.settings.status_list_size) for purpose in purposes]
        out = []
        for credential_id, allocations in zip(credential_ids, zip(*by_purpose, strict=True), strict=True):
            entries = [bitstring_entry(self.url(a.status_list_id), a.index, purpose) for purpose, a in zip(purposes, allocations, strict=True)]
            out.append(Entries(credential_id, entries, allocations[0], []))
        return out

    # -- status changes

    def change_later(self, secret: str, credential_id: str, new_status: str, *, reason: str | None = None) -> Future:
        """revoked (final), suspended, or active (lifts a suspension): the future of the credential's status
        afterwards, as the API shows it (``AuthError`` for an unknown or revoked API key).

        In the group commit, like issuance (``Database.grouped``): each change was a transaction of its own, so
        on one list every change waited for the previous one's commit (2,400 changes on one list took up to 29 s
        per request on SQLite, 90 s on PostgreSQL). Concurrent changes now share a transaction and its flush, and
        run in it as one set (``Database.grouped_later`` with ``_apply_by_key``: four statements for the group's
        changes, not about ten each), each seeing those before (none is lost, revocation stays final); a refused
        change writes nothing and the others commit.

        The API key is resolved in that transaction too, for the whole group in one read, and ownership is the
        entries' own provider (``status.apply_changes``): a change is one hand-off to the committer thread and
        back, where it was three (the key's read, the change's thread, the commit). Thread hand-offs were the
        largest cost of a change on these machines (about a third of a worker's CPU per request, measured with
        ``bench http-status``). What needs no database is checked here, before queueing: the status word,
        whether suspension is enabled.
        """
        if new_status not in CHANGES:
            raise MalformedValueError("status must be revoked, suspended or active", errors=[{"pointer": "/status", "detail": "unknown status"}])
        if new_status != "revoked" and not self.settings.suspension_enabled:
            raise ConflictError("suspension is not enabled on this service", code="SUSPENSION_DISABLED")
        purpose = "revocation" if new_status == "revoked" else "suspension"
        change = _KeyedChange(provider_store.hash_api_key(secret), credential_id, purpose, new_status != "active", reason)
        return self.db.grouped_batch_later(_apply_by_key, change)

    @staticmethod
    def of(session, provider_id: int, credential_id: str) -> dict[str, Any]:
        """A credential's status as the API shows it."""
        revoked = status.credential_status(session, provider_id, credential_id, "revocation")
        try:
            suspended = status.credential_status(session, provider_id, credential_id, "suspension")
        except NotFoundError:
            suspended = False
        return _answer(credential_id, revoked, suspended)

    # -- publication (Bitstring Status List §2.2)

    def credential(self, list_id: str) -> bytes:
        """The signed BitstringStatusListCredential, rebuilt when the list changes."""
        return self._rebuilt(self._published, list_id, self._sign_credential)

    def _rebuilt(self, cache: dict[str, tuple[int, bytes]], list_id: str, build) -> bytes:
        """``cache``'s body of the list while its version holds, else ``build(list_id, record, published)`` anew:
        one version read on every verification (the cheapest read there is), the bits only when the list changed."""
        version = status.current_version(self.db, list_id)
        cached = cache.get(list_id)
        if cached and cached[0] == version:
            return cached[1]
        # A write transaction: published_bits rebuilds and stores the list's cached bits when it changed.
        with self.db.transaction() as session:
            record = status.get_status_list(session, list_id)
            published = status.published_bits(session, list_id)
        body = build(list_id, record, published)
        cache[list_id] = (published.version, body)
        return body

    def _sign_credential(self, list_id: str, record, published) -> bytes:
        provider = self.providers.by_id(record.provider_id)
        url = self.url(list_id)
        document = {
            "@context": [VC2],
            "id": url,
            "type": ["VerifiableCredential", bitstring.BITSTRING_CREDENTIAL],
            "issuer": provider.did,
            "validFrom": format_datetime_stamp(datetime.now(UTC)),
            "credentialSubject": {
                "id": f"{url}#list",
                "type": bitstring.BITSTRING_LIST,
                "statusPurpose": record.purpose,
                "encodedList": bitstring.encode_list(published.bits),
            },
        }
        return strict_json.dumps(self.engine.add_proof(document, self.providers.signer_for(provider))).encode()

    def token(self, list_id: str) -> bytes:
        """The list as a Status List Token (draft-ietf-oauth-status-list §5.1, ``typ: statuslist+jwt``), rebuilt when
        the list changes: the same indices as the W3C list, each byte bit-reversed (§4.1 counts from the least
        significant bit); a revocation list is 1 bit per entry (1 = INVALID), a suspension list 2 bits (2 = SUSPENDED).
        Signed with the key SD-JWT VCs are (``Providers.sd_jwt_signer_for``); ``iss`` is the provider's DID, as in
        the credentials that name the list, ``ttl`` how long a verifier may keep it (``status_cache_seconds``)."""
        return self._rebuilt(self._tokens, list_id, self._sign_token)

    def _sign_token(self, list_id: str, record, published) -> bytes:
        provider = self.providers.by_id(record.provider_id)
        bits, value = (1, tsl.INVALID) if record.purpose == "revocation" else (2, tsl.SUSPENDED)
        payload = tsl.token_payload(
            uri=self.token_url(list_id),
            data=tsl.from_bitstring(published.bits, bits, value),
            bits=bits,
            iat=int(datetime.now(UTC).timestamp()),
            iss=provider.did,
            ttl=max(1, int(self.settings.status_cache_seconds)),
        )
        return tsl.sign_token(payload, self.providers.sd_jwt_signer_for(provider)).encode("ascii")

    def local_token(self, url: str) -> bytes | None:
        """The Status List Token behind one of this service's status list URIs, else None."""
        return _local(url, self.token_url(""), self.token)

    def local_credential(self, url: str) -> bytes | None:
        """The signed status list credential behind one of this service's status URLs, else None."""
        return _local(url, self.url(""), self.credential)


def _local(url: str, prefix: str, read) -> bytes | None:
    """``read(list_id)`` when ``url`` is ``prefix`` followed by one path segment of a list this service has, else None."""
    list_id = url[len(prefix) :] if url.startswith(prefix) else ""
    if not list_id or "/" in list_id:
        return None
    try:
        return read(list_id)
    except NotFoundError:
        return None


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
