"""Issuing one credential: from a provider's request to a signed credential durably stored.

The domain service behind ``POST /microcredentials`` and ``POST /credentials/issue``. It knows neither
HTTP nor SQL: it validates and renders with ``app.credentials``, signs with ``app.proofs``, takes status
entries from ``StatusLists`` and keeps everything through ``app.store``, so that a credential is
returned only once it is durably stored with the exact signed bytes and its status indices
(security-notes §14–16).

One way through, in typed steps (``issue`` runs them in the caller's thread, ``issue_request`` as the API
does):

1. ``_start`` → ``Started``: a replay of an earlier response with the same Idempotency-Key, or the
   ``Plan`` (what to render, validated under the CPU gate), the key claimed, status ``Entries`` taken
   from indices this process reserved (no database write);
2. ``_sign`` → ``Signed``: rendered and secured under the CPU gate, with the unit of work that stores it;
3. ``_keep``: the unit written in a grouped commit (``Database.grouped``), waited for, then counted.

A refused request stores nothing. A process that dies before step 3 leaves indices that are never
reused and no credential; its claim on the key is taken over by a retry after a minute.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio.to_thread

from app import strict_json
from app.credentials import FORMATS, RENDERERS, IssuerProfile, MicroCredentialInput, issue_from_specification, sd_jwt_vc, validate_input, warnings
from app.credentials.composite import Part, add_parts_edc, add_parts_ob3, clr_embeddable, render_clr
from app.credentials.open_badges import secured_form
from app.credentials.validity import check_document_validity, check_validity_period
from app.dids.did_jwk import decode_did_jwk
from app.dids.did_key import resolve_did_key
from app.dids.jose_keys import jose_kid_for
from app.errors import MalformedValueError, MicrocredError
from app.issuance.catalogue import Catalogue
from app.issuance.credential_ids import client_credential_id
from app.issuance.providers import ApiKey, Providers
from app.issuance.stacking import Evaluation, Stacking
from app.issuance.status_lists import MICROCREDENTIAL_PURPOSES, Entries, StatusLists
from app.jsonld import to_quads
from app.keys.methods import public_key_from_method
from app.observability import CREDENTIALS_ISSUED
from app.proofs import LD_MEDIA_TYPE, MEDIA_TYPES, PROOF_FORMATS, jades, sd_jwt, vc_jose
from app.runtime import Runtime
from app.status.entries import bitstring_entry
from app.store import Database, idempotency, specifications
from app.store import credentials as credential_store
from app.store.providers import ProviderRecord
from app.strict_json import JsonRequest
from app.vcdm import STATUS_V1, VC1, VC2, base_context, contexts, subject_id
from app.verification.well_formed import require_well_formed
from app.xsd import format_datetime_stamp

__all__ = ["SIGN_ON_LOOP_MAX_BYTES", "Issuance", "Issued", "MicrocredentialPlan", "SdJwtVcPlan", "holder_key", "secure"]

#: Bodies up to this size are signed on the event loop (the EU example, 5 KB, signs in about 0.3 ms);
#: larger ones in a worker thread, so that the loop is never held for long.
SIGN_ON_LOOP_MAX_BYTES = 32_768
#: The format of a composite rendered as a 1EdTech CLR 2.0 ClrCredential (only a composite's issuance names it).
CLR_FORMAT = "clr"
#: The id a credential is validated with before it is given its own.
_PROBE_ID = "urn:uuid:00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Issued:
    """A signed credential as returned to the provider (``replayed``: the stored answer to a retry)."""

    id: str
    media_type: str
    body: bytes
    format: str
    proof: str
    status: int = 201
    replayed: bool = False


class Plan(Protocol):
    """What one kind of issuance renders: validated input, before it has an id or status entries."""

    format: str
    proof: str
    learner_ref: str | None
    specification_id: str | None
    #: the credential's id when the caller named it (the VC API), else one is generated
    requested_id: str | None
    #: the status purposes its entries serve (``None``: every purpose the service has)
    status_purposes: tuple[str, ...] | None

    def render(self, credential_id: str, entries: Entries | None, issued: datetime) -> dict[str, Any]: ...


@dataclass(frozen=True)
class MicrocredentialPlan:
    """``POST /microcredentials``: the EU record (model doc §2), rendered as EDC or OB3."""

    record: MicroCredentialInput
    profile: IssuerProfile
    format: str
    proof: str
    learner_ref: str | None
    specification_id: str | None
    requested_id: str | None = None
    status_purposes: tuple[str, ...] | None = MICROCREDENTIAL_PURPOSES
    #: a composite's components (app/credentials/composite.py), recorded in the rendering; ``format`` may then be clr
    parts: tuple[Part, ...] = ()
    #: a vc+jwt's JOSE algorithm: ``ES256`` signs with the provider's P-256 key (an OpenID4VCI wallet holding a P-256
    #: key, ``app.issuance.oid4vci``), None with its Ed25519 key (EdDSA)
    signing_alg: str | None = None

    def render(self, credential_id: str, entries: Entries | None, issued: datetime) -> dict[str, Any]:
        status = entries.entries if entries is not None else None
        if self.format == CLR_FORMAT:
            return render_clr(self.record, list(self.parts), issuer=self.profile, credential_id=credential_id, issued=issued, status_entry=status)
        credential = RENDERERS[self.format](self.record, issuer=self.profile, credential_id=credential_id, issued=issued, status_entry=status)
        if self.parts and self.format == "ob3":
            return add_parts_ob3(credential, list(self.parts), self.record.primaryLanguage)
        if self.parts and self.format == "edc":
            return add_parts_edc(credential, list(self.parts), self.record)
        return credential


@dataclass(frozen=True)
class SdJwtVcPlan:
    """``POST /microcredentials`` with ``"format": "sd-jwt"``: the EU record as an SD-JWT VC bound to the holder's
    key (``cnf.jwk``), its status a Token Status List reference (draft-ietf-oauth-status-list §6.2)."""

    record: MicroCredentialInput
    profile: IssuerProfile
    holder_jwk: dict[str, Any]
    vct: str
    vct_integrity: str
    status_url: Callable[[str], str]
    learner_ref: str | None
    specification_id: str | None
    format: str = sd_jwt_vc.FORMAT
    proof: str = sd_jwt.PROOF_FORMAT
    requested_id: str | None = None
    status_purposes: tuple[str, ...] | None = MICROCREDENTIAL_PURPOSES
    #: the catalogue URL of ``specification_id`` (the ``specification`` claim a composite's rule matches)
    specification_url: str | None = None

    def render(self, credential_id: str, entries: Entries | None, issued: datetime) -> dict[str, Any]:
        status = None
        if entries is not None:
            status = {"status_list": {"idx": entries.first.index, "uri": self.status_url(entries.first.status_list_id)}}
        return sd_jwt_vc.render_sd_jwt_vc(
            self.record,
            issuer=self.profile,
            vct=self.vct,
            issued=issued,
            holder_jwk=self.holder_jwk,
            status=status,
            vct_integrity=self.vct_integrity,
            specification=self.specification_url,
        )


@dataclass(frozen=True)
class CredentialPlan:
    """``POST /credentials/issue`` (W3C VC API): a ready VC 2.0 or 1.1 credential, given its id and status."""

    document: dict[str, Any]
    proof: str
    learner_ref: str | None
    requested_id: str | None = None
    format: str = "vc"
    specification_id: str | None = None
    status_purposes: tuple[str, ...] | None = None

    def render(self, credential_id: str, entries: Entries | None, issued: datetime) -> dict[str, Any]:
        doc = dict(self.document, id=credential_id)
        if entries is not None:
            doc["credentialStatus"] = with_client_status(self.document.get("credentialStatus"), entries.credential_status)
        return doc


@dataclass(frozen=True)
class Started:
    """Step 1's outcome: the replay of an earlier response, or a plan with its id, key claim and entries."""

    provider: ProviderRecord
    idempotency_key: str | None
    replay: Issued | None = None
    plan: Plan | None = None
    entries: Entries | None = None


@dataclass(frozen=True)
class Signed:
    """Step 2's outcome: the credential and the unit of work that stores it (run by the group committer)."""

    issued: Issued
    keep: Callable[[Any], None]


#: Validates a parsed request body into what to render (``Issuance._plan_microcredential``, ``_plan_credential``).
Planner = Callable[[ProviderRecord, Any], Plan]


class Issuance:
    """Issuing for every provider of this service; ``providers`` and ``status_lists`` are its two subjects."""

    def __init__(self, runtime: Runtime, db: Database):
        self.runtime = runtime
        self.settings = runtime.settings
        self.db = db
        self.providers = Providers(self.settings, db)
        self.status_lists = StatusLists(self.settings, db, self.providers, runtime.engine)
        self.stacking = Stacking(runtime, db, Catalogue(self.settings, db))

    def attach_own_data(self) -> None:
        """Give the runtime's verifier this service's own view (the app and the command line alike): its providers
        count as trusted issuers; its did:web documents and status lists are read from its own data, never fetched."""
        self.runtime.attach_local(
            providers=self.providers.list,
            did_documents=self.providers.local_did_document,
            status_lists=self.status_lists.local_credential,
            status_tokens=self.status_lists.local_token,
        )

    # -- the two kinds of request

    def issue(self, provider: ProviderRecord, payload: dict[str, Any], *, idempotency_key: str | None = None) -> Issued:
        """Validate, render, take status entries, sign and store one micro-credential, in this thread."""
        return self._run(provider, payload, idempotency_key, self._plan_microcredential)

    def issue_credential(self, provider: ProviderRecord, body: dict[str, Any], *, idempotency_key: str | None = None) -> Issued:
        """W3C VC API ``POST /credentials/issue`` (``{"credential", "options"}``), in this thread."""
        return self._run(provider, body, idempotency_key, self._plan_credential)

    async def issue_request(self, caller: ApiKey, body: JsonRequest, *, idempotency_key: str | None = None) -> Issued:
        """``issue`` as the API runs it: the key checked, the body parsed, validated and given its status
        entries in one worker-thread hop (it reads and may wait for the database); then signed on the
        event loop and the grouped write awaited.

        Signing on the loop is cheaper for a credential of ordinary size than a worker thread, which
        shared the GIL with the event loop: each waited for the other, and the service issued 7–16%
        fewer credentials per second (bench http-issue, same runs). A body over
        ``SIGN_ON_LOOP_MAX_BYTES`` is signed on a thread instead, so the loop is never held for long.
        """
        return await self._request(caller, body, idempotency_key, self._plan_microcredential)

    async def issue_credential_request(self, caller: ApiKey, body: JsonRequest, *, idempotency_key: str | None = None) -> Issued:
        """W3C VC API §3.2 ``POST /credentials/issue`` (``{"credential", "options"}``), run as ``issue_request``."""
        return await self._request(caller, body, idempotency_key, self._plan_credential)

    async def dry_run_request(self, caller: ApiKey, body: JsonRequest) -> dict[str, Any]:
        """The validation result and the rendered, unsigned credential; nothing is stored or allocated."""
        return await anyio.to_thread.run_sync(lambda: self.dry_run(self.providers.authenticate(caller), _object(body.parse())))

    def dry_run(self, provider: ProviderRecord, payload: dict[str, Any]) -> dict[str, Any]:
        fmt = _choice(payload, "format", (*FORMATS, sd_jwt_vc.FORMAT, CLR_FORMAT), "ob3")
        if fmt == sd_jwt_vc.FORMAT:  # the claims before they are made disclosable and signed
            plan = self._plan_microcredential(provider, payload)
            return {"valid": True, "warnings": warnings(plan.record), "credential": plan.render(f"urn:uuid:{uuid.uuid4()}", None, datetime.now(UTC))}
        plan = self._plan_microcredential(provider, dict(payload, proof=PROOF_FORMATS[0]), stacked=self._evaluated_components(provider, payload))
        mc = plan.record
        credential = plan.render(f"urn:uuid:{uuid.uuid4()}", None, datetime.now(UTC))
        return {"valid": True, "warnings": warnings(mc), "credential": credential}

    def issue_planned(self, provider: ProviderRecord, plans: list[Plan], then: Callable[[Any, list[Issued]], None]) -> list[Issued]:
        """Several credentials of already validated plans (an OpenID4VCI redemption, ``app.issuance.oid4vci``), each
        given its status entries and signed as ``issue`` does, then stored in ONE grouped unit with ``then(session, issued)``:
        if ``then`` raises (the offer redeemed meanwhile), nothing of them is stored."""
        signed = []
        for plan in plans:
            entries = self.status_lists.reserve(provider, plan.requested_id or f"urn:uuid:{uuid.uuid4()}", plan.status_purposes)
            signed.append(self._sign(Started(provider, None, plan=plan, entries=entries)))

        def keep(session) -> None:
            for one in signed:
                one.keep(session)
            then(session, [one.issued for one in signed])

        self.db.grouped(keep)
        return [self._counted(one.issued) for one in signed]

    def validated(self, provider: ProviderRecord, payload: dict[str, Any]) -> tuple[MicroCredentialInput, str | None, str | None]:
        """(validated record, specification id, learner reference) of a ``POST /microcredentials`` body, under the CPU gate."""
        with self.db.cpu_gate:
            return self._validated(provider, payload)

    # -- reading

    def list(self, provider: ProviderRecord, *, limit: int, cursor: str | None, fmt: str | None) -> dict[str, Any]:
        with self.db.read() as session:
            page = credential_store.list_credentials(session, provider.id, filters=credential_store.CredentialFilter(format=fmt), limit=limit, cursor=cursor)
        items = [
            {
                "id": c.id,
                "format": c.format,
                "proof": c.proof_format,
                "mediaType": c.media_type,
                "learner": c.learner_ref,
                "createdAt": format_datetime_stamp(c.created_at),
            }
            for c in page.items
        ]
        return {"items": items, "next": page.next_cursor}

    def get(self, provider: ProviderRecord, credential_id: str):
        with self.db.read() as session:
            return credential_store.get_credential(session, credential_id, provider_id=provider.id)

    # -- the steps

    def _run(self, provider: ProviderRecord, payload: Any, key: str | None, plan: Planner) -> Issued:
        started = self._start(provider, payload, key, plan)
        if started.replay is not None:
            return started.replay
        signed = self._sign(started)
        self.db.grouped(signed.keep)
        return self._counted(signed.issued)

    async def _request(self, caller: ApiKey, body: JsonRequest, key: str | None, plan: Planner) -> Issued:
        if len(body.raw) > SIGN_ON_LOOP_MAX_BYTES:
            return await anyio.to_thread.run_sync(lambda: self._run(self.providers.authenticate(caller), body.parse(), key, plan))
        started = await anyio.to_thread.run_sync(lambda: self._start(self.providers.authenticate(caller), body.parse(), key, plan))
        if started.replay is not None:
            return started.replay
        signed = self._sign(started)
        future = self.db.grouped_later(signed.keep)
        # Shielded: a client that goes away must not cancel the write of a credential already signed.
        # asyncio.wait returns without raising; future.result() raises the unit's error, if any.
        await asyncio.wait([asyncio.shield(asyncio.wrap_future(future))])
        future.result()
        return self._counted(signed.issued)

    def _start(self, provider: ProviderRecord, payload: Any, key: str | None, plan: Planner) -> Started:
        """Step 1, holding the database's write lock only briefly: a short transaction claims the key."""
        body_hash = idempotency.request_hash(payload) if key else None
        if key:
            with self.db.read() as session:
                replay = idempotency.lookup(session, provider.id, key, body_hash)
            if replay is not None:
                return Started(provider, key, replay=_replayed(replay))
        # A composite's components are verified before the gate: verification reads status lists, which may write
        stacked = self._evaluated_components(provider, payload) if plan == self._plan_microcredential else None
        with self.db.cpu_gate:
            planned = plan(provider, payload) if stacked is None else self._plan_microcredential(provider, payload, stacked=stacked)
        if key:
            replay = self.db.grouped(lambda session: idempotency.begin(session, provider.id, key, body_hash))
            if replay is not None:
                return Started(provider, key, replay=_replayed(replay))
        credential_id = planned.requested_id or f"urn:uuid:{uuid.uuid4()}"
        entries = self.status_lists.reserve(provider, credential_id, planned.status_purposes)
        return Started(provider, key, plan=planned, entries=entries)

    def _sign(self, started: Started) -> Signed:
        """Step 2, under the CPU gate (a group's commit waits for this gate, not for the GIL)."""
        plan, entries, provider, key = started.plan, started.entries, started.provider, started.idempotency_key
        assert plan is not None and entries is not None
        sd = plan.proof == sd_jwt.PROOF_FORMAT
        # read once per process, before the gate
        chain = None
        if plan.proof == jades.PROOF_FORMAT:
            signer, chain = self.providers.sealer_for(provider)
        elif sd:
            signer = self.providers.sd_jwt_signer_for(provider)
        elif getattr(plan, "signing_alg", None) == "ES256":
            signer = self.providers.es256_signer_for(provider)
        else:
            signer = self.providers.signer_for(provider)
        with self.db.cpu_gate:
            credential = plan.render(entries.credential_id, entries, datetime.now(UTC))
            if chain is not None:  # the credential's JSON bytes as they are, sealed (RFC 7797 b64: false)
                body = strict_json.dumps(jades.seal(strict_json.dumps(credential).encode(), signer, chain)).encode()
            else:
                body = secure(self.runtime.engine, credential, signer, plan.proof)
        issued = Issued(entries.credential_id, sd_jwt.MEDIA_TYPE if sd else media_type_of(credential, plan.proof), body, plan.format, plan.proof)
        record = credential_store.NewCredential(
            id=issued.id,
            provider_id=provider.id,
            format=plan.format,
            proof_format=plan.proof,
            media_type=issued.media_type,
            body=body,
            learner_ref=plan.learner_ref,
            status_list_id=entries.first.status_list_id,
            status_index=entries.first.index,
            specification_id=plan.specification_id,
            idempotency_key=key,
        )

        def keep(session) -> None:
            self.status_lists.record(session, entries, provider.id, key=key)
            credential_store.insert_credential(session, record)
            if key:
                headers = {"content-type": issued.media_type, "x-credential-id": issued.id, "x-format": issued.format, "x-proof": issued.proof}
                idempotency.store_response(session, provider.id, key, status=201, body=body, headers=headers)

        return Signed(issued, keep)

    @staticmethod
    def _counted(issued: Issued) -> Issued:
        CREDENTIALS_ISSUED.labels(issued.format, issued.proof).inc()
        return issued

    # -- plans

    def _plan_microcredential(self, provider: ProviderRecord, payload: Any, *, stacked: Evaluation | None = None) -> MicrocredentialPlan | SdJwtVcPlan:
        fmt = _choice(_object(payload), "format", (*FORMATS, sd_jwt_vc.FORMAT, CLR_FORMAT), "ob3")
        if fmt == sd_jwt_vc.FORMAT:
            if payload.get("proof", sd_jwt.PROOF_FORMAT) != sd_jwt.PROOF_FORMAT:
                raise MalformedValueError(
                    "an SD-JWT VC is secured as an SD-JWT: proof must be absent or sd-jwt", errors=[{"pointer": "/proof", "detail": "must be sd-jwt"}]
                )
            holder_jwk = holder_key(payload.get("holder"))
            mc, spec_id, learner_ref = self._validated(provider, payload)
            vct = sd_jwt_vc.vct_for(self.settings.base_url)
            integrity = sd_jwt_vc.integrity(sd_jwt_vc.type_metadata_bytes(vct))
            spec_url = f"{self.settings.base_url.rstrip('/')}/catalogue/{spec_id}" if spec_id else None
            return SdJwtVcPlan(
                mc, self.providers.profile(provider), holder_jwk, vct, integrity, self.status_lists.token_url, learner_ref, spec_id, specification_url=spec_url
            )
        proof = _choice(payload, "proof", (*PROOF_FORMATS, jades.PROOF_FORMAT), "eddsa-rdfc-2022")
        if proof == jades.PROOF_FORMAT:
            self._check_sealable(provider, fmt)
        mc, spec_id, learner_ref = self._validated(provider, payload)
        parts: tuple[Part, ...] = ()
        if mc.composite is not None and spec_id is not None:
            mc, parts = self._stacked(payload, mc, stacked)
            if fmt == CLR_FORMAT and stacked is not None:
                require_embeddable(parts, [c.index for c in stacked.accepted])
        elif mc.composite is not None:
            exc = MalformedValueError(
                "composite rules belong to a specification: publish it (POST /specifications), then issue against it with the learner's components",
                errors=[{"pointer": "/microcredential/composite", "detail": "only in a specification"}],
            )
            exc.status = 422
            raise exc
        elif fmt == CLR_FORMAT:
            raise MalformedValueError(
                "format clr is the rendering of a composite: issue against a composite specification with the learner's components",
                errors=[{"pointer": "/format", "detail": "only for a composite"}],
            )
        return MicrocredentialPlan(mc, self.providers.profile(provider), fmt, proof, learner_ref, spec_id, parts=parts)

    def _evaluated_components(self, provider: ProviderRecord, payload: Any) -> Evaluation | None:
        """The evaluation of the learner's components when ``payload`` issues a composite with them (issue 17),
        run outside the CPU gate; ``None`` for any other request (its plan refuses what is wrong with it)."""
        if not isinstance(payload, dict) or not isinstance(payload.get("specificationId"), str):
            return None
        if all(payload.get(k) is None for k in ("presentation", "credentials", "presentationRequestId")):
            return None
        record, rules = self.stacking.composite_of(provider, payload["specificationId"], required=False)
        if rules is None:
            return None
        issuance = payload.get("issuance") if isinstance(payload.get("issuance"), dict) else {}
        learner = issuance.get("learner") if isinstance(issuance.get("learner"), dict) else {}
        learner_id = learner.get("id") if isinstance(learner.get("id"), str) else None
        return self.stacking.evaluate(record.id, rules, payload, learner_id=learner_id)

    def _stacked(self, payload: dict[str, Any], mc: MicroCredentialInput, evaluation: Evaluation | None) -> tuple[MicroCredentialInput, tuple[Part, ...]]:
        """A composite's issuance (issue 17): issued only when the evaluation of the learner's components is
        eligible, its workload the ECTS it is awarded for, each accepted component recorded."""
        if evaluation is None:
            raise MalformedValueError(
                "a composite is issued over the learner's components: send them as 'presentation' (or 'credentials')",
                errors=[{"pointer": "/presentation", "detail": "required for a composite"}],
            )
        if not evaluation.eligible:
            raise evaluation.refusal()
        workload = mc.workload.model_copy(update={"ects": evaluation.ects, "hours": None})
        parts = tuple(self.stacking.part(c) for c in evaluation.accepted)
        return mc.model_copy(update={"workload": workload}), parts

    def _check_sealable(self, provider: ProviderRecord, fmt: str) -> None:
        """``"proof": "jades"``: an EDC sealed like Europass's (ETSI TS 119 182-1 baseline-B), by a provider the operator
        gave a sealing certificate; refused before anything is allocated."""
        if fmt != "edc":
            raise MalformedValueError(
                "a JAdES seal secures an EDC (format edc), as Europass seals them", errors=[{"pointer": "/proof", "detail": "jades needs format edc"}]
            )
        self.providers.sealer_for(provider)  # ConflictError (409) without a sealing certificate

    def _validated(self, provider: ProviderRecord, payload: dict[str, Any]) -> tuple[MicroCredentialInput, str | None, str | None]:
        """(validated record, specification id, learner reference) for a POST /microcredentials body."""
        now = datetime.now(UTC)
        limits = {"ects_min": self.settings.ects_min, "ects_max": self.settings.ects_max, "now": now}
        spec_id = payload.get("specificationId")
        if spec_id is not None:
            if not isinstance(spec_id, str):
                raise MalformedValueError("specificationId must be a string")
            with self.db.read() as session:
                spec = specifications.get_specification(session, spec_id, provider_id=provider.id)
            learner_data = payload.get("issuance")
            if not isinstance(learner_data, dict):
                raise MalformedValueError(
                    "with a specificationId, the learner's data goes in 'issuance'", errors=[{"pointer": "/issuance", "detail": "required"}]
                )
            mc = issue_from_specification(spec.data, learner_data, **limits)
        else:
            data = payload.get("microcredential")
            if not isinstance(data, dict):
                raise MalformedValueError(
                    "the body needs 'microcredential' (the EU record) or 'specificationId' with 'issuance'",
                    errors=[{"pointer": "/microcredential", "detail": "required"}],
                )
            mc = validate_input(data, **limits)
        check_validity_period(None, mc.validUntil, now=now, max_years=self.settings.max_validity_years)
        learner = mc.learner
        return mc, spec_id, learner.id or (str(learner.email) if getattr(learner, "email", None) else None)

    def _plan_credential(self, provider: ProviderRecord, body: Any) -> CredentialPlan:
        """VC API §3.2 issueCredential: the caller's credential, with this provider as its issuer."""
        if not isinstance(body, dict) or "credential" not in body:
            raise MalformedValueError('the body is {"credential": …, "options": …}', errors=[{"pointer": "/credential", "detail": "required"}])
        credential, options = body.get("credential"), body.get("options")
        if not isinstance(credential, dict):
            raise MalformedValueError("credential must be a JSON object", errors=[{"pointer": "/credential", "detail": "required object"}])
        options = options if isinstance(options, dict) else {}
        requested_id = client_credential_id(self.db, credential)  # an absolute URL not used before, or absent
        # the verifier's rules (app/verification/well_formed.py); an absent issuer is the caller's
        require_well_formed(credential, skip=() if "issuer" in credential else ("issuer",))
        if "proof" in credential:
            raise MalformedValueError(
                "the issuer sets proof; a client cannot", code="FORBIDDEN_PROPERTY", errors=[{"pointer": "/credential/proof", "detail": "set by the issuer"}]
            )
        _check_client_status(credential.get("credentialStatus"))
        issuer = credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer_id not in (None, provider.did):
            raise MalformedValueError(
                "the credential's issuer is not the caller's DID",
                code="ISSUER_MISMATCH",
                errors=[{"pointer": "/credential/issuer", "detail": f"must be {provider.did}"}],
            )
        first = base_context(credential)
        if first not in (VC2, VC1):
            raise MalformedValueError(
                "the first @context must be the VC 2.0 or 1.1 base context", errors=[{"pointer": "/credential/@context", "detail": "unknown base context"}]
            )
        types = credential.get("type")
        if not ((isinstance(types, list) and "VerifiableCredential" in types) or types == "VerifiableCredential"):
            raise MalformedValueError(
                "type must include VerifiableCredential", errors=[{"pointer": "/credential/type", "detail": "missing VerifiableCredential"}]
            )
        proof = options.get("proofFormat") or options.get("cryptosuite") or "eddsa-rdfc-2022"
        if proof not in PROOF_FORMATS:
            raise MalformedValueError(
                f"options.cryptosuite must be one of {', '.join(PROOF_FORMATS)}", errors=[{"pointer": "/options/cryptosuite", "detail": "unsupported"}]
            )
        doc = dict(credential)
        doc["issuer"] = dict(issuer, id=provider.did) if isinstance(issuer, dict) else provider.did
        now = format_datetime_stamp(datetime.now(UTC))
        if first == VC2:
            doc.setdefault("validFrom", now)
        else:
            doc.setdefault("issuanceDate", now)
            ctx = contexts(credential)
            if STATUS_V1 not in ctx:
                ctx.append(STATUS_V1)  # BitstringStatusListEntry is defined for VC 1.1 documents there
            doc["@context"] = ctx
        check_document_validity(doc, now=datetime.now(UTC), max_years=self.settings.max_validity_years, pointer="/credential")
        # Validate the document as it will be signed (contexts, data loss) before anything is allocated.
        probe_url = self.status_lists.url("probe")
        probe_status = with_client_status(doc.get("credentialStatus"), [bitstring_entry(probe_url, 0, "revocation")])
        to_quads(dict(doc, id=_PROBE_ID, credentialStatus=probe_status), self.runtime.loader)
        return CredentialPlan(doc, proof, subject_id(doc), requested_id)


def holder_key(holder: Any) -> dict[str, Any]:
    """The holder's public key for ``cnf.jwk`` (RFC 7800 §3.2): ``{"jwk": …}``, or a did:key / did:jwk (as a string
    or ``{"id": …}``); an Ed25519 or P-256 public key only, returned in its canonical public JWK form."""
    if isinstance(holder, dict) and "jwk" in holder:
        method, pointer = {"type": "JsonWebKey", "publicKeyJwk": holder["jwk"]}, "/holder/jwk"
        if not isinstance(holder["jwk"], dict):
            raise MalformedValueError("holder.jwk must be a JSON object (RFC 7517)", errors=[{"pointer": pointer, "detail": "not a JWK"}])
    else:
        did = holder.get("id") if isinstance(holder, dict) else holder
        pointer = "/holder/id" if isinstance(holder, dict) else "/holder"
        if not isinstance(did, str) or not did.startswith(("did:key:", "did:jwk:")):
            raise MalformedValueError(
                'an SD-JWT VC needs the holder\'s key: "holder": {"jwk": …} or a did:key / did:jwk',
                errors=[{"pointer": pointer, "detail": "required: a public JWK, did:key or did:jwk"}],
            )
        did = did.split("#", 1)[0]
        try:
            if did.startswith("did:key:"):
                method = resolve_did_key(did)["verificationMethod"][0]
            else:
                method = {"type": "JsonWebKey", "publicKeyJwk": decode_did_jwk(did)}
        except MicrocredError as exc:
            raise MalformedValueError(f"the holder's DID cannot be read: {exc.detail}", errors=[{"pointer": pointer, "detail": exc.detail}]) from None
    try:
        return public_key_from_method(method).jwk()
    except MicrocredError as exc:
        raise MalformedValueError(
            f"the holder's key is not an Ed25519 or P-256 public key: {exc.detail}", errors=[{"pointer": pointer, "detail": exc.detail}]
        ) from None


def secure(engine, credential: dict[str, Any], signer, proof: str) -> bytes:
    """The credential secured with ``proof``, as the exact bytes stored and returned: a vc+jwt naming the key's
    JsonWebKey method when its DID document has one (``app.dids.jose_keys``), an SD-JWT (RFC 9901) with every
    claim but those the SD-JWT VC draft keeps plain selectively disclosable, or an embedded Data Integrity proof
    (an Open Badge's as the array OB 3.0 writes, ``secured_form``)."""
    if proof == sd_jwt.PROOF_FORMAT:
        return sd_jwt.issue(credential, signer, disclosable=sd_jwt_vc.disclosable(credential)).encode("ascii")
    if proof == vc_jose.PROOF_FORMAT:
        return vc_jose.secure(credential, signer, kid=jose_kid_for(signer)).encode("ascii")
    return strict_json.dumps(secured_form(engine.add_proof(credential, signer, suite=proof))).encode()


def media_type_of(credential: dict[str, Any], proof: str) -> str:
    """The media type of ``credential`` secured with ``proof``: a VC 1.1 credential (an EDC) as JOSE is a VC DM 1.1
    §6.3.1 JWT, ``application/jwt``; a VC 2.0 one ``application/vc+jwt`` (``app.proofs.vc_jose``)."""
    if proof == jades.PROOF_FORMAT:
        return jades.MEDIA_TYPE
    return vc_jose.media_type(credential) if proof == vc_jose.PROOF_FORMAT else MEDIA_TYPES[proof]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedValueError("the body must be a JSON object")
    return body


def _choice(payload: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = payload.get(name, default)
    if value not in allowed:
        raise MalformedValueError(f"{name} must be one of {', '.join(allowed)}", errors=[{"pointer": f"/{name}", "detail": f"unknown {name}"}])
    return value


def _replayed(replay) -> Issued:
    h = replay.headers
    return Issued(
        h.get("x-credential-id", ""),
        h.get("content-type", LD_MEDIA_TYPE),
        replay.body,
        h.get("x-format", ""),
        h.get("x-proof", ""),
        status=replay.status,
        replayed=True,
    )


def _check_client_status(value: Any) -> None:
    """A caller's own ``credentialStatus`` on ``POST /credentials/issue`` (VC 2.0 §4.10: any status method, typed).

    Kept beside this issuer's own entries: the caller (the provider, authenticated) answers for a status method it
    runs elsewhere, and this service's verifier reports such an entry as not checked (status indeterminate), never as
    "not revoked". A Bitstring Status List entry is refused: this issuer allocates those itself, and a caller's entry
    could name a bit of another credential on this service's lists."""
    if value is None:
        return
    for i, entry in enumerate(value if isinstance(value, list) else [value]):
        kinds = entry.get("type") if isinstance(entry, dict) else None
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(k in ("BitstringStatusListEntry", "StatusList2021Entry") for k in kinds):
            where = f"/credential/credentialStatus/{i}" if isinstance(value, list) else "/credential/credentialStatus"
            raise MalformedValueError(
                "this issuer allocates its own Bitstring Status List entries; a client's cannot be signed",
                code="FORBIDDEN_PROPERTY",
                errors=[{"pointer": where, "detail": "set by the issuer"}],
            )


def with_client_status(client: Any, own: Any) -> Any:
    """The caller's status entries first, then this issuer's: one entry as an object, several as an array (§4.10)."""
    combined = [*(client if isinstance(client, list) else [client] if client is not None else []), *(own if isinstance(own, list) else [own])]
    return combined[0] if len(combined) == 1 else combined


def require_embeddable(parts: tuple[Part, ...], indexes: list[int]) -> None:
    """A CLR 2.0 rendering embeds the AchievementCredentials among the components (``ClrSubject.verifiableCredential``,
    required, at least one: CLR 2.0 §B.1.3 and its JSON schema) and records the others by digest; with none to
    embed there is no CLR: 422 naming each component and why it cannot be embedded."""
    reasons = [(i, p, clr_embeddable(p.credential)) for i, p in zip(indexes, parts, strict=True)]
    if any(why is None for _, _, why in reasons):
        return
    errors = [{"pointer": f"/presentation/verifiableCredential/{i}", "detail": f"{p.text('en')} ({p.id}): {why}", "rule": "clr"} for i, p, why in reasons]
    exc = MalformedValueError(
        "format clr needs at least one component that is an Open Badges 3.0 AchievementCredential (CLR 2.0 "
        "ClrSubject.verifiableCredential holds only those, and at least one): " + "; ".join(e["detail"] for e in errors),
        code="CLR_NOT_EMBEDDABLE",
        errors=[{"pointer": "/format", "detail": "no component can be embedded in a CLR"}, *errors],
    )
    exc.status = 422
    raise exc
