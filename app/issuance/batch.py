"""Batch issuance: many micro-credentials per request, as a job the provider polls.

Semantics for partly invalid input: every record is validated on its own. Valid records are issued,
invalid ones are reported with their errors (JSON pointers, Annex I element) in the job's per-record
results; one bad record never stops the others. A request that is itself malformed (not JSON/CSV,
no records, too many, unknown format) is refused whole with a 4xx and stores nothing.

Work is done in chunks, pipelined. For each chunk: status indices are allocated in one short
transaction (a run of counter values per list); records are rendered and signed outside any
transaction (in a pool of processes, one per core, for large batches) while the next chunk is
validated and allocated; then the credentials and the per-record results are written in one
transaction. A process
killed mid-batch therefore leaves no credential without its record and never reuses an index (an
index allocated for a chunk that was never written stays unused). Any worker resumes the job from
the first unrecorded row within seconds of its lease lapsing (app/issuance/batch_leases.py); a row recorded twice
is refused by the store, so nothing is issued twice.

CSV layout (with ``specificationId``; UTF-8, a header row, comma-separated):
``email,learner_id,given_name,family_name,date_of_birth,awarded_at,grade,external_id,national_id,national_id_country``.
Empty cells are omitted; names are in the specification's primary language.

SD-JWT VC (``"format": "sd-jwt"``, JSON only): each record carries its holder's public key as ``POST /microcredentials``
takes it (``"holder": {"jwk": …}`` or a did:key / did:jwk, RFC 7800 §3.2 ``cnf.jwk``); a record without a readable
key is reported invalid on its own. Each credential is the EU record as an SD-JWT VC (``app.credentials.sd_jwt_vc``)
signed as ``POST /microcredentials`` signs one (ES256 with a did:web provider's P-256 key), its status the Token
Status List reference of its entry (draft-ietf-oauth-status-list §6.2).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app import strict_json
from app.credentials import FORMATS, RENDERERS, issue_from_specification, sd_jwt_vc, validate_input
from app.credentials.validity import check_validity_period
from app.errors import MalformedValueError, MicrocredError
from app.issuance.batch_leases import LeaseKeeper, LeaseLost
from app.issuance.service import Issuance, holder_key, media_type_of, secure
from app.issuance.status_lists import MICROCREDENTIAL_PURPOSES
from app.observability import CREDENTIALS_ISSUED
from app.proofs import PROOF_FORMATS, sd_jwt
from app.store import batches, providers, specifications
from app.store import credentials as credential_store
from app.store.unavailable import DatabaseUnavailable

log = logging.getLogger("microcred.batch")

CSV_COLUMNS = (
    "email",
    "learner_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "awarded_at",
    "grade",
    "external_id",
    "national_id",
    "national_id_country",
)
CHUNK = 500


@dataclass(frozen=True)
class BatchRequest:
    format: str
    proof: str
    specification_id: str | None
    records: list[dict[str, Any]]

    def to_bytes(self) -> bytes:
        return strict_json.dumps({"format": self.format, "proof": self.proof, "specificationId": self.specification_id, "records": self.records}).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> BatchRequest:
        d = json.loads(raw)
        return cls(d["format"], d["proof"], d["specificationId"], d["records"])


def parse_json_request(body: Any, max_records: int) -> BatchRequest:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise MalformedValueError(
            'the body is {"format", "proof", "specificationId"?, "records": [...]}', errors=[{"pointer": "/records", "detail": "required array"}]
        )
    fmt = body.get("format", "ob3")
    default_proof = sd_jwt.PROOF_FORMAT if fmt == sd_jwt_vc.FORMAT else "eddsa-rdfc-2022"
    return _request(fmt, body.get("proof", default_proof), body.get("specificationId"), body["records"], max_records)


def parse_csv_request(raw: bytes, *, fmt: str, proof: str, specification_id: str | None, max_records: int, primary_language: str) -> BatchRequest:
    if not specification_id:
        raise MalformedValueError(
            "a CSV batch issues against a specification: give specificationId", errors=[{"pointer": "/specificationId", "detail": "required"}]
        )
    if fmt == sd_jwt_vc.FORMAT:
        raise MalformedValueError(
            "an SD-JWT VC batch is JSON: each record names its holder's key", errors=[{"pointer": "/format", "detail": "sd-jwt needs a JSON batch"}]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedValueError("the CSV file is not UTF-8", code="PARSING_ERROR") from None
    reader = csv.DictReader(io.StringIO(text))
    unknown = [c for c in (reader.fieldnames or []) if c not in CSV_COLUMNS]
    if not reader.fieldnames or unknown:
        raise MalformedValueError(f"unknown CSV columns: {', '.join(unknown) or '(no header)'}; expected {', '.join(CSV_COLUMNS)}", code="PARSING_ERROR")
    records = []
    for row in reader:
        if len(records) > max_records:
            break
        records.append(_issuance_from_row({k: (v or "").strip() for k, v in row.items() if k}, primary_language))
    return _request(fmt, proof, specification_id, records, max_records)


def _issuance_from_row(row: dict[str, str], lang: str) -> dict[str, Any]:
    learner: dict[str, Any] = {}
    if row.get("learner_id"):
        learner["id"] = row["learner_id"]
    if row.get("email"):
        learner["email"] = row["email"]
    if row.get("given_name"):
        learner["givenName"] = {lang: row["given_name"]}
    if row.get("family_name"):
        learner["familyName"] = {lang: row["family_name"]}
    if row.get("date_of_birth"):
        learner["dateOfBirth"] = row["date_of_birth"]
    if row.get("national_id"):
        learner["nationalId"] = {"value": row["national_id"], "country": row.get("national_id_country", "")}
    issuance: dict[str, Any] = {"learner": learner}
    if row.get("awarded_at"):
        issuance["awardedAt"] = row["awarded_at"]
    if row.get("external_id"):
        issuance["externalId"] = row["external_id"]
    if row.get("grade"):
        issuance["assessment"] = {"grade": {"value": row["grade"]}}
    return issuance


def _request(fmt: Any, proof: Any, spec_id: Any, records: list, max_records: int) -> BatchRequest:
    if fmt == sd_jwt_vc.FORMAT:
        if proof != sd_jwt.PROOF_FORMAT:
            raise MalformedValueError(
                "an SD-JWT VC is secured as an SD-JWT: proof must be absent or sd-jwt", errors=[{"pointer": "/proof", "detail": "must be sd-jwt"}]
            )
    elif fmt not in FORMATS:
        raise MalformedValueError(f"format must be one of {', '.join(FORMATS)}", errors=[{"pointer": "/format", "detail": "unknown format"}])
    elif proof not in PROOF_FORMATS:
        raise MalformedValueError(f"proof must be one of {', '.join(PROOF_FORMATS)}", errors=[{"pointer": "/proof", "detail": "unknown proof"}])
    if spec_id is not None and not isinstance(spec_id, str):
        raise MalformedValueError("specificationId must be a string", errors=[{"pointer": "/specificationId", "detail": "string"}])
    if not records:
        raise MalformedValueError("the batch has no records", errors=[{"pointer": "/records", "detail": "at least one record"}])
    if len(records) > max_records:
        raise MalformedValueError(
            f"a batch holds at most {max_records} records", code="RANGE_ERROR", errors=[{"pointer": "/records", "detail": f"at most {max_records}"}]
        )
    return BatchRequest(fmt, proof, spec_id, records)


# -- the signing work, done in worker processes for large batches

_child: dict[str, Any] = {}


def _child_init(settings_json: str) -> None:
    """A signing process of the batch pool: the runtime once; signers are loaded by the first task that needs them."""
    from app.issuance.providers import key_stores
    from app.performance import tune_gc
    from app.runtime import Runtime
    from app.settings import Settings

    _exit_with_parent()
    settings = Settings.model_validate_json(settings_json)
    _child["runtime"] = Runtime(settings)
    _child["keys"] = key_stores(settings)
    _child["signers"] = {}
    tune_gc()


def _exit_with_parent() -> None:
    """A signing process whose worker died (killed, crashed) must not live on as an orphan holding its
    memory: it watches for being re-parented and exits."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _sign_in_child(fmt: str, proof: str, profile, key: tuple[str, str], items: list) -> list[tuple[bytes, str]]:
    """``_sign_many`` in a pool process, with the provider's key named by ``key`` (key_ref, kid)."""
    signer = _child["signers"].get(key)
    if signer is None:
        signer = _child["signers"][key] = _child["keys"].load(*key)
    return _sign_many(_child["runtime"], signer, fmt, proof, profile, items)


@dataclass(frozen=True)
class _SdJwtRecord:
    """A record of an SD-JWT VC batch: the validated input, its holder's key and the type it is issued as."""

    record: Any
    holder_jwk: dict[str, Any]
    vct: str
    vct_integrity: str
    #: the catalogue URL of the batch's specification (the claim a composite's rule matches, issue 17)
    specification: str | None = None


def _sign_many(runtime, signer, fmt: str, proof: str, profile, items: list[tuple[Any, str, Any, datetime]]) -> list[tuple[bytes, str]]:
    """Render and sign each (input, credential id, status entries, issued); for an SD-JWT VC, (``_SdJwtRecord``,
    credential id, its ``status`` claim, issued)."""
    out = []
    if fmt == sd_jwt_vc.FORMAT:
        for one, _, status, issued in items:
            credential = sd_jwt_vc.render_sd_jwt_vc(
                one.record,
                issuer=profile,
                vct=one.vct,
                issued=issued,
                holder_jwk=one.holder_jwk,
                status=status,
                vct_integrity=one.vct_integrity,
                specification=one.specification,
            )
            out.append((secure(runtime.engine, credential, signer, proof), sd_jwt.MEDIA_TYPE))
        return out
    renderer = RENDERERS[fmt]
    for mc, credential_id, entries, issued in items:
        credential = renderer(mc, issuer=profile, credential_id=credential_id, issued=issued, status_entry=entries)
        out.append((secure(runtime.engine, credential, signer, proof), media_type_of(credential, proof)))
    return out


class BatchRunner:
    """Runs batch jobs in background threads of this worker process."""

    def __init__(self, issuance: Issuance):
        self.issuance = issuance
        self.db = issuance.db
        self.settings = issuance.settings
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closing = False
        self._processes = self.settings.batch_processes or (os.cpu_count() or 1)
        self.leases = LeaseKeeper(self.db, self.start)

    def _signing_pool(self) -> ProcessPoolExecutor:
        """The signing processes, started by the first large batch and kept for the next ones: starting
        them (a Python each, importing the app) took most of a second, on every batch."""
        with self._lock:
            if self._pool is None:
                import multiprocessing

                self._pool = ProcessPoolExecutor(
                    self._processes, mp_context=multiprocessing.get_context("spawn"), initializer=_child_init, initargs=(self.settings.model_dump_json(),)
                )
            return self._pool

    def close(self) -> None:
        """Stop the signing processes (at shutdown)."""
        self._closing = True
        self.leases.stop()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, provider, request: BatchRequest, *, once=None) -> Any:
        """Queue and start a job; with ``once`` (app/issuance/idempotent.py) the job of an earlier request with the same
        ``Idempotency-Key`` is not made again: its stored response is returned instead."""
        with self.db.transaction() as session:
            if once is not None and (replay := once.replay(session)) is not None:
                return replay
            if request.specification_id:
                spec = specifications.get_specification(session, request.specification_id, provider_id=provider.id)  # 404 before queuing
                if spec.data.get("composite"):
                    exc = MalformedValueError(
                        "a composite is issued one learner at a time, over that learner's components: POST /microcredentials",
                        code="COMPOSITE_NOT_IN_BATCH",
                        errors=[{"pointer": "/specificationId", "detail": "a composite specification"}],
                    )
                    exc.status = 422
                    raise exc
            job = batches.create_job(session, provider.id, len(request.records), request=request.to_bytes())
            if once is not None:
                once.keep(session, job)
        self.start(job.id)
        return job

    def start(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._threads and self._threads[job_id].is_alive():
                return
            t = threading.Thread(target=self._run_safely, args=(job_id,), name=f"batch-{job_id[:8]}", daemon=True)
            self._threads[job_id] = t
            t.start()

    def resume_unfinished(self) -> None:
        """At start-up: claim the claimable jobs, and from now on renew this worker's leases and take over
        the jobs of workers that died (app/issuance/batch_leases.py)."""
        self.leases.start()

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        t = self._threads.get(job_id)
        if t:
            t.join(timeout)

    def _run_safely(self, job_id: str) -> None:
        try:
            self.run(job_id)
        except Exception as exc:  # noqa: BLE001 - a job-level failure is recorded, never lost
            if self._closing:  # shutting down: the job stays running and another worker resumes it at once
                log.warning("batch job %s interrupted by shutdown; another worker resumes it", job_id)
                self.leases.release(job_id)
                return
            if isinstance(exc, LeaseLost | DatabaseUnavailable):
                # Not the job's fault: another worker has it, or the database is away; its lease lapses and
                # a worker (maybe this one) resumes it from its last stored chunk.
                log.warning("batch job %s paused: %s", job_id, exc)
                self.leases.forget(job_id)
                return
            log.exception("batch job %s failed", job_id)
            if isinstance(exc, BrokenProcessPool):  # a signing process died: the next job starts a fresh pool
                with self._lock:
                    broken, self._pool = self._pool, None
                if broken is not None:
                    broken.shutdown(wait=False, cancel_futures=True)
            try:
                with self.db.transaction() as session:
                    batches.finish_job(session, job_id, error=f"{type(exc).__name__}: {str(exc)[:300]}")
            except MicrocredError:
                pass
        finally:
            self.leases.forget(job_id)

    def run(self, job_id: str) -> None:
        with self.db.transaction() as session:
            if not self.leases.claim(session, job_id):
                return  # another worker has it
            raw = batches.job_request(session, job_id)
            progress = batches.job_progress(session, job_id)
            start = batches.next_row(session, job_id)
            provider = providers.get_provider(session, progress.provider_id)
            spec = (
                specifications.get_specification(session, json.loads(raw)["specificationId"], provider_id=provider.id).data
                if json.loads(raw)["specificationId"]
                else None
            )
        request = BatchRequest.from_bytes(raw)
        del raw
        log.info("batch job %s: claimed by %s, from row %d of %d", job_id, self.leases.owner, start, len(request.records))
        sd = request.format == sd_jwt_vc.FORMAT
        signer = self.issuance.providers.sd_jwt_signer_for(provider) if sd else self.issuance.providers.signer_for(provider)
        profile = self.issuance.providers.profile(provider)
        pool = key = None
        processes = self._processes
        if len(request.records) - start >= 2 * CHUNK and processes > 1:
            pool, key = self._signing_pool(), self.issuance.providers.active_key_ref(provider, signer.key_type)
        sign = _Signing(self.issuance.runtime, signer, key, request, profile, pool, processes)
        try:
            # A pipeline: while the pool signs one chunk, this thread validates and allocates the next,
            # then stores the signed one. A chunk allocated but never stored (the process died) only
            # leaves unused indices, as before; the job resumes from its first unrecorded row.
            offsets = list(range(start, len(request.records), CHUNK))
            current = self._prepare(provider, spec, request, offsets[0]) if offsets else None
            pending = sign.dispatch(current) if current else None
            for offset in offsets[1:]:
                following = self._prepare(provider, spec, request, offset)
                self._store(job_id, provider, request, current, sign.collect(pending))
                current, pending = following, sign.dispatch(following)
            if current is not None:
                self._store(job_id, provider, request, current, sign.collect(pending))
        finally:
            sign.cancel(pending)
        with self.db.transaction() as session:
            self.leases.check(session, job_id)
            batches.finish_job(session, job_id)

    def _prepare(self, provider, spec, request: BatchRequest, offset: int) -> _Prepared:
        """Validate one chunk's records and allocate status indices for the valid ones (one transaction)."""
        rows = request.records[offset : offset + CHUNK]
        now = datetime.now(UTC)
        valid: list[tuple[int, Any, str | None]] = []
        invalid: list[tuple[int, list[dict]]] = []
        sd = request.format == sd_jwt_vc.FORMAT
        vct = sd_jwt_vc.vct_for(self.settings.base_url) if sd else ""
        integrity = sd_jwt_vc.integrity(sd_jwt_vc.type_metadata_bytes(vct)) if sd else ""
        spec_url = f"{self.settings.base_url.rstrip('/')}/catalogue/{request.specification_id}" if sd and request.specification_id else None
        for i, record in enumerate(rows, start=offset):
            try:
                if not isinstance(record, dict):
                    raise MalformedValueError("a record must be a JSON object", errors=[{"pointer": "", "detail": "object"}])
                holder = None
                if sd:
                    holder = holder_key(record.get("holder"))
                    record = {k: v for k, v in record.items() if k != "holder"}
                if spec is not None:
                    mc = issue_from_specification(spec, record, ects_min=self.settings.ects_min, ects_max=self.settings.ects_max, now=now)
                else:
                    mc = validate_input(record, ects_min=self.settings.ects_min, ects_max=self.settings.ects_max, now=now)
                if mc.composite is not None:
                    raise MalformedValueError(
                        "a composite is issued one learner at a time, over that learner's components: POST /microcredentials",
                        code="COMPOSITE_NOT_IN_BATCH",
                        errors=[{"pointer": "/composite", "detail": "not in a batch"}],
                    )
                check_validity_period(None, mc.validUntil, now=now, max_years=self.settings.max_validity_years)
                learner = mc.learner
                item = mc if holder is None else _SdJwtRecord(mc, holder, vct, integrity, spec_url)
                valid.append((i, item, learner.id or (str(learner.email) if getattr(learner, "email", None) else None)))
            except MicrocredError as exc:
                invalid.append((i, exc.errors or [{"pointer": "", "detail": exc.detail}]))
        ids = [f"urn:uuid:{uuid.uuid4()}" for _ in valid]
        with self.db.transaction() as session:
            statuses = self.issuance.status_lists.allocate_many(session, provider, ids, MICROCREDENTIAL_PURPOSES)
        token_url = self.issuance.status_lists.token_url

        def entries_of(e):  # an SD-JWT VC's status claim is the Token Status List reference of its first entry
            return {"status_list": {"idx": e.first.index, "uri": token_url(e.first.status_list_id)}} if sd else e.entries

        allocated = [(i, mc, ref, cid, entries_of(e), e.first) for (i, mc, ref), cid, e in zip(valid, ids, statuses, strict=True)]
        return _Prepared(now, allocated, invalid)

    def _store(self, job_id: str, provider, request: BatchRequest, prepared: _Prepared, signed: list[tuple[bytes, str]]) -> None:
        """Write a chunk's credentials and every row's outcome in one transaction."""
        outcomes = {i: ("invalid", None, errs) for i, errs in prepared.invalid}
        credentials = []
        for (i, _, ref, cid, _, first), (body, media_type) in zip(prepared.allocated, signed, strict=True):
            credentials.append(
                credential_store.NewCredential(
                    id=cid,
                    provider_id=provider.id,
                    format=request.format,
                    proof_format=request.proof,
                    media_type=media_type,
                    body=body,
                    learner_ref=ref,
                    status_list_id=first.status_list_id,
                    status_index=first.index,
                    specification_id=request.specification_id,
                )
            )
            outcomes[i] = ("issued", cid, None)
        with self.db.transaction() as session:
            self.leases.check(session, job_id)  # a worker that lost the job stores nothing more
            credential_store.insert_credentials(session, credentials)
            batches.record_items(session, job_id, [(i, *outcomes[i]) for i in sorted(outcomes)])
        CREDENTIALS_ISSUED.labels(request.format, request.proof).inc(len(prepared.allocated))


@dataclass
class _Signing:
    """How one job's chunks get signed: on the pool (split across its processes) or in this thread."""

    runtime: Any
    signer: Any
    key: tuple[str, str] | None
    request: BatchRequest
    profile: Any
    pool: ProcessPoolExecutor | None
    processes: int

    def dispatch(self, prepared: _Prepared) -> list:
        """Start signing a prepared chunk: futures on the pool, or the signed list when there is no pool."""
        items = [(mc, cid, entries, prepared.now) for _, mc, _, cid, entries, _ in prepared.allocated]
        fmt, proof = self.request.format, self.request.proof
        if self.pool is not None and items:
            parts = [items[k :: self.processes] for k in range(self.processes)]
            return [self.pool.submit(_sign_in_child, fmt, proof, self.profile, self.key, part) for part in parts if part]
        return _sign_many(self.runtime, self.signer, fmt, proof, self.profile, items) if items else []

    def collect(self, pending: list) -> list[tuple[bytes, str]]:
        if not pending or not isinstance(pending[0], Future):
            return pending or []
        parts = [f.result() for f in pending]
        signed: list[tuple[bytes, str]] = [None] * sum(len(part) for part in parts)  # type: ignore[list-item]
        for k, part in enumerate(parts):
            for j, value in enumerate(part):
                signed[k + j * self.processes] = value
        return signed

    @staticmethod
    def cancel(pending: list | None) -> None:
        for f in pending or []:
            if isinstance(f, Future):
                f.cancel()


@dataclass
class _Prepared:
    """One chunk between validation and storage."""

    now: datetime
    allocated: list[tuple[int, Any, str | None, str, list[dict], Any]]
    invalid: list[tuple[int, list[dict]]]
