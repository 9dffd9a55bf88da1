"""VC API exchanges for the DCC Learner Credential Wallet (W3C VCALM draft §3.6 "Exchanges"; the DCC
workflow-coordinator's issuing flow, which the LCW's ``app/lib/exchanges.ts`` and ``credentialRequest.ts`` follow).

1. ``create``: a provider's ``POST /microcredentials`` body (the learner's record), validated now, kept with a fresh
   challenge under a workflow (``ob3_ldp_vc`` or ``edc_ldp_vc``: the credential's rendering, Data Integrity
   ``eddsa-rdfc-2022``); answered with the exchange URL and the two deep links the LCW opens
   (``https://lcw.app/request.html?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…`` and
   ``dccrequest://request?…``). Nothing is signed yet.
2. ``step`` (VCALM "Participate in an exchange"): an empty body ``{}`` is answered with the
   ``verifiablePresentationRequest`` (VP Request Spec: a ``DIDAuthentication`` query, the challenge, the domain,
   ``interact.service`` = this exchange as ``UnmediatedPresentationService2021``); ``{"verifiablePresentation": VP}``
   (the VC API form: the proof's ``challenge`` and ``domain`` both required) or the bare VP the LCW posts to
   ``vc_request_url`` from a deep link (``credentialRequest.ts``: ``challenge`` only, ``domain`` checked when
   present) is verified (a presentation proof with purpose ``authentication``, the challenge, the domain, made by a
   key of ``holder``, a did:key or did:jwk), then the credential is rendered with ``credentialSubject.id`` = the
   holder DID and signed through ``Issuance.issue_planned`` (the status entries and storage of ``POST
   /microcredentials``), the exchange marked complete in the same unit. The answer is
   ``{"verifiablePresentation": {…the credential}}`` (the VC API form) or that presentation itself (the deep link
   form: the LCW's ``extractCredentialsFrom`` reads a VP).

A refused step stores nothing and leaves the exchange usable; a complete one answers 409, an expired one 410.
Domain code: no HTTP.
"""

from __future__ import annotations

import secrets
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from app import strict_json
from app.errors import MalformedValueError, MicrocredError, NotFoundError
from app.issuance.oid4vci import CONFIGURATIONS
from app.issuance.providers import ProviderRecord
from app.issuance.service import Issuance, Issued, MicrocredentialPlan
from app.store import vc_api as store
from app.vcdm import types
from app.xsd import format_datetime_stamp

__all__ = ["WORKFLOWS", "ExchangeComplete", "ExchangeExpired", "ExchangeRefused", "Exchanges"]

#: the workflows: the OpenID4VCI ``ldp_vc`` configurations (the LCW holds JSON-LD credentials with embedded proofs)
WORKFLOWS = tuple(c.id for c in CONFIGURATIONS.values() if c.format == "ldp_vc")
LCW_REQUEST = "https://lcw.app/request.html"
DCC_REQUEST = "dccrequest://request"
MAX_ID = 64
_HOLDER_METHODS = ("did:key:", "did:jwk:")


class ExchangeRefused(MicrocredError):
    """The wallet's DID Authentication is refused (challenge, domain, proof, holder): nothing stored."""

    code = "INVALID_DID_AUTHENTICATION"
    status = 400
    title = "DID Authentication refused"


class ExchangeComplete(MicrocredError):
    code = "EXCHANGE_COMPLETE"
    status = 409
    title = "The exchange is complete"


class ExchangeExpired(MicrocredError):
    code = "EXCHANGE_EXPIRED"
    status = 410
    title = "The exchange has expired"


class Exchanges:
    """The exchanges of every provider: ``/workflows/{workflow}/exchanges/{id}``."""

    def __init__(self, issuance: Issuance, verifier):
        self.issuance = issuance
        self.verifier = verifier
        self.db = issuance.db
        self.settings = issuance.settings
        self.providers = issuance.providers

    @property
    def domain(self) -> str:
        """The ``domain`` the DIDAuth proof must carry: this service's origin (as the coordinator's exchangeHost)."""
        parts = urllib.parse.urlsplit(self.settings.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def exchange_url(self, workflow_id: str, exchange_id: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/workflows/{workflow_id}/exchanges/{exchange_id}"

    def create(self, provider: ProviderRecord, workflow_id: str, payload: Any) -> dict[str, Any]:
        """An exchange for a learner's record (a ``POST /microcredentials`` body), validated now, single use."""
        _workflow(workflow_id)
        if not isinstance(payload, dict):
            raise MalformedValueError("the body must be a JSON object (a POST /microcredentials body)")
        request = {k: v for k, v in payload.items() if k not in ("format", "proof", "holder")}
        self.issuance.validated(provider, request)  # refused now, not when the wallet comes
        now = datetime.now(UTC)
        exchange_id = secrets.token_urlsafe(24)
        challenge = secrets.token_urlsafe(24)
        with self.db.transaction() as session:
            store.purge(session, before=now - timedelta(hours=1))
            record = store.create(
                session,
                id=exchange_id,
                workflow_id=workflow_id,
                provider_id=provider.id,
                challenge=challenge,
                request=request,
                now=now,
                expires_at=now + timedelta(seconds=self.settings.vc_api_exchange_ttl_seconds),
            )
        url = self.exchange_url(workflow_id, exchange_id)
        query = urllib.parse.urlencode(
            {"issuer": urllib.parse.urlsplit(self.settings.base_url).netloc, "auth_type": "bearer", "challenge": challenge, "vc_request_url": url}
        )
        return {
            "exchangeId": record.id,
            "workflowId": workflow_id,
            "exchangeUrl": url,
            "challenge": challenge,
            "deepLink": f"{LCW_REQUEST}?{query}",
            "dccRequestLink": f"{DCC_REQUEST}?{query}",
            "expires": format_datetime_stamp(record.expires_at),
        }

    def _pending(self, workflow_id: str, exchange_id: str) -> store.ExchangeRecord:
        _workflow(workflow_id)
        record = None
        if 0 < len(exchange_id) <= MAX_ID:
            with self.db.read() as session:
                record = store.get(session, exchange_id)
        if record is None or record.workflow_id != workflow_id:
            raise NotFoundError("no such exchange in this workflow")
        if record.state != "pending":
            raise ExchangeComplete("the exchange is complete: its credential was delivered (an exchange is used once)")
        if record.expires_at <= datetime.now(UTC):
            raise ExchangeExpired("the exchange has expired: ask the provider for a new link")
        return record

    def step(self, workflow_id: str, exchange_id: str, body: Any) -> dict[str, Any]:
        """One step of the exchange: ``{}`` → the VP request; the DIDAuth presentation → the credential."""
        record = self._pending(workflow_id, exchange_id)
        if not isinstance(body, dict):
            raise MalformedValueError('the body must be a JSON object: {} or {"verifiablePresentation": …}')
        if not body:
            return {"verifiablePresentationRequest": self._request(record)}
        if "verifiablePresentation" in body:
            if set(body) != {"verifiablePresentation"}:
                raise MalformedValueError("the body holds only verifiablePresentation")
            vp, wrapped = body["verifiablePresentation"], True
        elif "VerifiablePresentation" in types(body):
            vp, wrapped = body, False  # the LCW's deep link request (credentialRequest.ts)
        else:
            raise MalformedValueError(
                'the body must be {} or {"verifiablePresentation": …}', errors=[{"pointer": "/verifiablePresentation", "detail": "required"}]
            )
        holder = self._authenticated(record, vp, domain_required=wrapped)
        presentation = self._issue(record, holder)
        return {"verifiablePresentation": presentation} if wrapped else presentation

    def _request(self, record: store.ExchangeRecord) -> dict[str, Any]:
        """VP Request Spec §3 (DID Authentication), in the coordinator's shape."""
        return {
            "query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}, {"method": "jwk"}]}],
            "challenge": record.challenge,
            "domain": self.domain,
            "interact": {"service": [{"type": "UnmediatedPresentationService2021", "serviceEndpoint": self.exchange_url(record.workflow_id, record.id)}]},
        }

    def _authenticated(self, record: store.ExchangeRecord, vp: Any, *, domain_required: bool) -> str:
        """The holder DID of a verified DID Authentication presentation (VC DM 2.0 §4.13; VC-DI §2.1 challenge/domain)."""
        if not isinstance(vp, dict):
            raise ExchangeRefused("verifiablePresentation must be a JSON object")
        holder = vp.get("holder")
        holder = holder.get("id") if isinstance(holder, dict) else holder
        if not isinstance(holder, str) or len(holder) > 2048 or not holder.startswith(_HOLDER_METHODS):
            raise ExchangeRefused("the presentation's holder must be a did:key or did:jwk: the credential is issued to it")
        proofs = vp.get("proof")
        proofs = proofs if isinstance(proofs, list) else [proofs]
        if not proofs or not all(isinstance(p, dict) for p in proofs):
            raise ExchangeRefused("the presentation needs its proof: a Data Integrity proof object (purpose authentication)")
        domains = [p.get("domain") for p in proofs]
        if any(d != self.domain for d in domains if d is not None) or (domain_required and None in domains):
            raise ExchangeRefused(f"the proof's domain must be {self.domain}")
        domain = self.domain if any(d is not None for d in domains) else None
        report = self.verifier.verify_presentation(vp, challenge=record.challenge, domain=domain)
        if not report.verified:
            reasons = [c.reason for c in report.checks if c.outcome == "failed"]
            raise ExchangeRefused("; ".join(reasons)[:1000] or "the presentation is not verified")
        return holder

    def _issue(self, record: store.ExchangeRecord, holder: str) -> dict[str, Any]:
        configuration = CONFIGURATIONS[record.workflow_id]
        provider = self.providers.by_id(record.provider_id)
        mc, spec_id, learner_ref = self.issuance.validated(provider, record.request)
        bound = mc.model_copy(update={"learner": mc.learner.model_copy(update={"id": holder})})
        plan = MicrocredentialPlan(bound, self.providers.profile(provider), configuration.render, configuration.proof, learner_ref, spec_id)

        def complete(session, issued: list[Issued]) -> None:
            if not store.complete(session, record.id, holder=holder, credential_id=issued[0].id, now=datetime.now(UTC)):
                raise ExchangeComplete("the exchange was completed meanwhile (an exchange is used once)")

        (issued,) = self.issuance.issue_planned(provider, [plan], complete)
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [strict_json.loads(issued.body)],
        }


def _workflow(workflow_id: str) -> None:
    if workflow_id not in WORKFLOWS:
        raise NotFoundError(f"no such workflow: use one of {', '.join(WORKFLOWS)}")
