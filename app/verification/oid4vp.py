"""OpenID for Verifiable Presentations 1.0: the verifier's side, over the pipeline, DCQL (``app.verification.dcql``)
and the store (``app.store.presentation_requests``). No HTTP here: the router maps errors to problem+json.

A request (§5) is made by ``create``: a fresh ``nonce`` and ``state`` (256 bits each), an expiry, the DCQL query
(§6; default: one EU micro-credential in any format microcred reads), response mode ``direct_post`` (§8.2) to the
request's ``response_uri``. It is offered two ways:

* by reference (§5.7, RFC 9101): ``openid4vp://?client_id=…&request_uri=…``; the Request Object at ``request_uri`` is
  a JWS (``typ: oauth-authz-req+jwt``, §5.8) signed ES256 with the verifier's own P-256 key under the client
  identifier prefix ``decentralized_identifier:`` (§5.9.3): the client id is ``decentralized_identifier:<did:jwk>``
  and the header's ``kid`` a verification method of that DID;
* by value, unsigned, under the prefix ``redirect_uri:`` (§5.9.3: its requests MUST NOT be signed), the client id
  being the ``response_uri`` itself.

The response (§8.1, §8.2): ``vp_token`` is a JSON object keyed by the DCQL Credential Query ids, each an array of
presentations; ``state`` is the request's. Each presentation's holder binding is checked against this request:
an SD-JWT VC's Key Binding JWT (RFC 9901 §4.3) must carry the ``nonce`` and, as ``aud``, the client id the wallet
used (B.3.6); an ``ldp_vc`` presentation's Data Integrity proof must have ``challenge`` = nonce and ``domain`` =
client id (B.1.3.2); a ``jwt_vc_json`` presentation's ``nonce`` and ``aud`` likewise (B.1.3.1). Each credential goes
through the whole pipeline, and the response is matched against the query (§6.4). A response that fails the protocol
(unknown or late request, wrong state, a replay, a wrong nonce or audience, a credential the query did not ask for)
is refused with its reason and stores nothing; a response that passes it is recorded once, with the report (which
may still say the credential failed, e.g. revoked), and ``status`` then answers ``received``.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app import strict_json
from app.credentials import sd_jwt_vc
from app.dids.did_jwk import did_jwk_from_jwk
from app.errors import MalformedValueError, MicrocredError, NotFoundError
from app.keys import P256Signer
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encode as b64u
from app.keys.signer import P256, FileKeyStore
from app.store import presentation_requests as store
from app.vcdm import VC2
from app.verification import dcql
from app.verification.pipeline import NotACredential, Verifier
from app.verification.report import Report
from app.verification.service import without_bodies
from app.xsd import format_datetime_stamp

SCHEME = "openid4vp://"
REQUEST_TYP = "oauth-authz-req+jwt"
#: §5.8 / §13.1: the audience of a Request Object under static discovery.
SELF_ISSUED = "https://self-issued.me/v2"
DID_PREFIX = "decentralized_identifier:"
REDIRECT_PREFIX = "redirect_uri:"
KEY_NAME = "oid4vp-verifier"
MAX_NAME = 200
MAX_PURPOSE = 500
MAX_CLAIM_NAMES = 32
MAX_VP_TOKEN = 4 * 1_048_576
MAX_PRESENTATIONS = 8
MAX_PEEK = 16_384
#: Requests expired longer ago than this are deleted, by a create at most every ``PURGE_EVERY`` per process.
PURGE_AFTER = timedelta(hours=1)
PURGE_EVERY = timedelta(minutes=1)

#: §11.1 ``vp_formats_supported``: what this verifier reads (Appendix B).
VP_FORMATS = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256", "EdDSA"], "kb-jwt_alg_values": ["ES256", "EdDSA"]},
    "ldp_vc": {
        "proof_type_values": ["DataIntegrityProof", "Ed25519Signature2020"],
        "cryptosuite_values": ["eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019"],
    },
    "jwt_vc_json": {"alg_values": ["ES256", "EdDSA"]},
}


class PresentationRefused(MicrocredError):
    """The wallet's response fails the protocol (OpenID4VP 1.0 §8.2): refused with the reason, nothing stored."""

    code = "INVALID_PRESENTATION_RESPONSE"
    status = 400
    title = "Presentation response refused"


class RequestExpired(MicrocredError):
    code = "PRESENTATION_REQUEST_EXPIRED"
    status = 410
    title = "The presentation request has expired"


def _jws(header: dict[str, Any], payload: dict[str, Any], signer: P256Signer) -> str:
    signing_input = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + b64u(json.dumps(payload, separators=(",", ":")).encode())
    return signing_input + "." + b64u(signer.sign(signing_input.encode("ascii")))


def _peek_payload(compact: str) -> dict[str, Any]:
    """The unverified payload of a compact JWS (to learn which of this request's client ids it names), size-capped."""
    parts = compact.split(".")
    if len(parts) != 3 or len(parts[1]) > MAX_PEEK * 4 // 3 + 4:
        return {}
    try:
        value = strict_json.loads(b64u_decode(parts[1]), max_bytes=MAX_PEEK, max_depth=16)
    except (MicrocredError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _text(body: dict[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value.strip()) <= limit:
        raise MalformedValueError(f"{name} must be a string of 1 to {limit} characters", errors=[{"pointer": f"/{name}", "detail": "required string"}])
    return value.strip()


class PresentationRequests:
    """The OpenID4VP verifier: create requests, serve their Request Objects, verify and record the wallets' answers."""

    def __init__(self, verifier: Verifier, db, settings):
        self.verifier = verifier
        self.db = db
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.signer = FileKeyStore(settings.keys_dir).get_or_create(KEY_NAME, P256)
        self.did = did_jwk_from_jwk(self.signer.public_jwk())
        self.kid = f"{self.did}#0"
        self.client_id = DID_PREFIX + self.did
        self._purge_lock = threading.Lock()
        self._purged_at: datetime | None = None

    # -- requests

    def urls(self, request_id: str) -> dict[str, str]:
        base = f"{self.base_url}/presentation-requests/{request_id}"
        return {"request_uri": f"{base}/request", "response_uri": f"{base}/response", "status_url": base}

    def _client_metadata(self, name: str, purpose: str) -> dict[str, Any]:
        # RFC 7591 §2 client_name; ``purpose`` is an extension member (RFC 7591 §2 lets metadata be extended), shown
        # to the learner by wallets that read it.
        return {"client_name": name, "purpose": purpose, "vp_formats_supported": VP_FORMATS}

    def create(self, body: Any, *, return_page: str | None = None) -> dict[str, Any]:
        """§5: a new request from ``{"verifier_name", "purpose", "dcql_query"?, "claims"?, "redirect_uri"?}``;
        ``return_page`` (the employer's page, a path of this service) makes the redirect ``<return_page>/<id>``."""
        if not isinstance(body, dict):
            raise MalformedValueError('the body is {"verifier_name": …, "purpose": …, "dcql_query"?: {…}}')
        if unknown := sorted(set(body) - {"verifier_name", "purpose", "dcql_query", "claims", "redirect_uri"}):
            raise MalformedValueError(f"unknown member {unknown[0][:40]}", errors=[{"pointer": f"/{unknown[0][:40]}", "detail": "unknown"}])
        name = _text(body, "verifier_name", MAX_NAME, required=True)
        purpose = _text(body, "purpose", MAX_PURPOSE, required=True)
        redirect = _text(body, "redirect_uri", 2048, required=False)
        if redirect is not None and urllib.parse.urlsplit(redirect)[:2] != urllib.parse.urlsplit(self.base_url)[:2]:
            raise MalformedValueError("redirect_uri must be a page of this service", errors=[{"pointer": "/redirect_uri", "detail": "not this service"}])
        claims = body.get("claims")
        if claims is not None and (
            not isinstance(claims, list) or not 0 < len(claims) <= MAX_CLAIM_NAMES or not all(isinstance(c, str) and 0 < len(c) <= 64 for c in claims)
        ):
            raise MalformedValueError(f"claims must be an array of at most {MAX_CLAIM_NAMES} claim names", errors=[{"pointer": "/claims", "detail": "array"}])
        if "dcql_query" in body:
            if claims is not None:
                raise MalformedValueError("give either dcql_query or claims, not both", errors=[{"pointer": "/claims", "detail": "with dcql_query"}])
            query = dcql.validate(body["dcql_query"])
        else:
            query = dcql.default_query(sd_jwt_vc.vct_for(self.base_url), claims)
        request_id = str(uuid.uuid4())
        if return_page is not None:
            redirect = f"{self.base_url}{return_page}/{request_id}"
        urls = self.urls(request_id)
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.settings.presentation_request_ttl_seconds)
        nonce, state = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        # No ``iss``: RFC 9101 §4 would have it be the client id (with its prefix), while @openid4vc/oauth2 0.4.6
        # (jwtSignerFromJwt) refuses a did ``kid`` that does not start with ``iss``; OpenID4VP 1.0 needs neither.
        claims_of_request = {
            "aud": SELF_ISSUED,
            "client_id": self.client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": urls["response_uri"],
            "nonce": nonce,
            "state": state,
            "dcql_query": query,
            "client_metadata": self._client_metadata(name, purpose),
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        request_object = _jws({"alg": "ES256", "typ": REQUEST_TYP, "kid": self.kid}, claims_of_request, self.signer)
        purge = self._purge_due(now)

        def keep(session):
            # Through the group committer: concurrent requests share one commit (one disk flush) instead of each
            # waiting for its own; the unit only touches the session, as ``Database.grouped`` requires.
            if purge:
                store.purge(session, before=now - PURGE_AFTER)
            return store.create(
                session,
                id=request_id,
                nonce=nonce,
                state=state,
                verifier_name=name,
                purpose=purpose,
                dcql_query=query,
                request_object=request_object,
                redirect_uri=redirect,
                created_at=now,
                expires_at=expires,
            )

        record = self.db.grouped(keep)
        return self._created(record)

    def _purge_due(self, now: datetime) -> bool:
        """Whether this create also deletes the requests expired over ``PURGE_AFTER`` ago: at most once every
        ``PURGE_EVERY`` per process. A DELETE with every create cost a statement each; an expired request is refused
        by its ``expires_at`` whether or not it was deleted yet, so the purge only bounds the table's size."""
        with self._purge_lock:
            if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
                return False
            self._purged_at = now
            return True

    def _created(self, record) -> dict[str, Any]:
        urls = self.urls(record.id)
        by_reference = SCHEME + "?" + urllib.parse.urlencode({"client_id": self.client_id, "request_uri": urls["request_uri"]})
        by_value = SCHEME + "?" + urllib.parse.urlencode(self.unsigned_request(record))
        return {
            "id": record.id,
            "request_uri": urls["request_uri"],
            "authorization_request": by_reference,
            "authorization_request_by_value": by_value,
            "client_id": self.client_id,
            "status_url": urls["status_url"],
            "expires": format_datetime_stamp(record.expires_at),
        }

    def authorization_link(self, request_id: str) -> str:
        """The ``openid4vp://`` link (by reference) of a request, as ``create`` returned it."""
        return self._created(self._get(request_id))["authorization_request"]

    def unsigned_request(self, record) -> dict[str, str]:
        """§5.9.3 ``redirect_uri:``: the request by value, never signed; its client id is the response URI."""
        response_uri = self.urls(record.id)["response_uri"]
        return {
            "client_id": REDIRECT_PREFIX + response_uri,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": response_uri,
            "nonce": record.nonce,
            "state": record.state,
            "dcql_query": json.dumps(record.dcql_query, separators=(",", ":")),
            "client_metadata": json.dumps(self._client_metadata(record.verifier_name, record.purpose), separators=(",", ":")),
        }

    def _get(self, request_id: str):
        if not isinstance(request_id, str) or len(request_id) > 36:
            raise NotFoundError("no such presentation request")
        record = store.read(self.db, request_id)
        if record is None:
            raise NotFoundError("no such presentation request")
        return record

    def request_object(self, request_id: str) -> str:
        """The signed Request Object (§5.7); 410 once the request has expired or was answered."""
        record = self._get(request_id)
        if record.status != "pending" or record.expires_at <= datetime.now(UTC):
            raise RequestExpired("the request has expired or was already answered")
        return record.request_object

    def status(self, request_id: str) -> dict[str, Any]:
        """``pending``, ``received`` (with the report) or ``expired``."""
        record = self._get(request_id)
        out: dict[str, Any] = {
            "id": record.id,
            "verifier_name": record.verifier_name,
            "purpose": record.purpose,
            "expires": format_datetime_stamp(record.expires_at),
        }
        if record.status == "received":
            return {**out, "status": "received", "received": format_datetime_stamp(record.received_at), "result": _shown(record.result)}
        return {**out, "status": "expired" if record.expires_at <= datetime.now(UTC) else "pending"}

    # -- responses

    def respond(self, request_id: str, form: dict[str, str]) -> dict[str, Any]:
        """§8.2 direct_post: ``vp_token`` and ``state`` (or a wallet's ``error``, §8.5), verified in full; what the
        wallet is answered (``redirect_uri`` when the request has one)."""
        record = self._get(request_id)
        if record.expires_at <= datetime.now(UTC):
            raise PresentationRefused("the request has expired: a late response", code="PRESENTATION_REQUEST_EXPIRED")
        if form.get("state") != record.state:
            raise PresentationRefused("state is not this request's: a response for another request", code="INVALID_STATE")
        if record.status != "pending":
            raise PresentationRefused("the request was already answered: a replayed response", code="ALREADY_ANSWERED")
        if "error" in form and "vp_token" not in form:
            result = {
                "verified": False,
                "error": str(form["error"])[:100],
                "error_description": str(form.get("error_description", ""))[:500],
                "presentations": [],
            }
        else:
            result = self._verify_response(record, form.get("vp_token"))
        code = secrets.token_urlsafe(24) if record.redirect_uri else None
        # Through the group committer: concurrent answers share a commit (one disk flush); the conditional UPDATE
        # still lets exactly one answer of a request win.
        won = self.db.grouped(lambda session: store.answer(session, record.id, result=result, response_code=code))
        if not won:
            raise PresentationRefused("the request was already answered or has expired", code="ALREADY_ANSWERED")
        if record.redirect_uri:
            joiner = "&" if "?" in record.redirect_uri else "?"
            return {"redirect_uri": f"{record.redirect_uri}{joiner}response_code={code}"}
        return {}

    def _client_ids(self, record) -> tuple[str, str]:
        return self.client_id, REDIRECT_PREFIX + self.urls(record.id)["response_uri"]

    def _verify_response(self, record, vp_token: Any) -> dict[str, Any]:
        if not isinstance(vp_token, str) or not vp_token or len(vp_token) > MAX_VP_TOKEN:
            raise PresentationRefused(f"vp_token is required: a JSON object of at most {MAX_VP_TOKEN} characters (§8.1)", code="INVALID_VP_TOKEN")
        try:
            token = strict_json.loads(vp_token.encode(), max_bytes=MAX_VP_TOKEN, max_depth=64)
        except MicrocredError as exc:
            raise PresentationRefused(f"vp_token is not JSON: {exc.detail}", code="INVALID_VP_TOKEN") from None
        queries = {q["id"]: q for q in record.dcql_query["credentials"]}
        if not isinstance(token, dict) or not token:
            raise PresentationRefused("vp_token must be a JSON object keyed by the DCQL credential query ids (§8.1)", code="INVALID_VP_TOKEN")
        presentations = []
        for query_id, items in token.items():
            query = queries.get(query_id)
            if query is None:
                raise PresentationRefused(f"vp_token names {query_id[:64]!r}, which is not a credential query of this request", code="INVALID_VP_TOKEN")
            if not isinstance(items, list) or not 0 < len(items) <= MAX_PRESENTATIONS:
                raise PresentationRefused(f"vp_token/{query_id}: an array of presentations (§8.1)", code="INVALID_VP_TOKEN")
            if len(items) > 1 and not query.get("multiple", False):
                raise PresentationRefused(f"vp_token/{query_id}: the query asks for one credential, not {len(items)} (§6.1 multiple)", code="INVALID_VP_TOKEN")
            presentations.extend(self._presentation(record, query, item) for item in items)
        unmet = dcql.satisfied(record.dcql_query, {p["query_id"] for p in presentations})
        if unmet:
            raise PresentationRefused("the response does not answer the query: " + "; ".join(unmet), code="QUERY_NOT_SATISFIED")
        return {"verified": all(p["report"]["verified"] for p in presentations), "presentations": presentations}

    def _presentation(self, record, query: dict[str, Any], item: Any) -> dict[str, Any]:
        """One presentation for one Credential Query: its holder binding to this request, the credential through the
        pipeline, and the query's format, type and claims."""
        fmt = query["format"]
        report, credential = self._verify_one(record, fmt, item)
        for check_id in ("well_formed", "proof", "holder_binding"):
            failing = next((c for c in _checks(report) if c.id == check_id and c.outcome == "failed"), None)
            if failing is not None:
                raise PresentationRefused(
                    f"the {fmt} presentation for {query['id']} does not verify: {failing.reason}", code=failing.code or "INVALID_PRESENTATION"
                )
        found = dcql.match(query, fmt, credential)
        if not found.ok:
            raise PresentationRefused(
                f"the credential presented for {query['id']} does not match the query: {'; '.join(found.missing)}", code="CREDENTIAL_NOT_MATCHING"
            )
        # The report is rendered once: the public one (``public_report``: without the credentials' bodies) and the
        # credential's own (with what it says, for the employer's page: the verdict as for a pasted one) share it.
        full = report.as_dict()
        out = {"query_id": query["id"], "format": fmt, "report": without_bodies(full)}
        if fmt in ("ldp_vc", "dc+sd-jwt"):
            # kept for a provider stacking the components of this answer (app/issuance/stacking.py), never shown: the
            # presentation as sent (a VP object, or the SD-JWT with its Key Binding JWT)
            out["vp"] = item
        if fmt == "dc+sd-jwt":
            out["claims"] = credential
        out["credential_report"] = full if fmt == "dc+sd-jwt" else full["credentials"][0]
        return out

    def _verify_one(self, record, fmt: str, item: Any) -> tuple[Report, dict[str, Any] | None]:
        nonce = record.nonce
        ids = self._client_ids(record)
        try:
            if fmt == "dc+sd-jwt":
                if not isinstance(item, str) or "~" not in item:
                    raise PresentationRefused("a dc+sd-jwt presentation is an SD-JWT with a Key Binding JWT (B.3.6)", code="INVALID_VP_TOKEN")
                aud = _peek_payload(item.rsplit("~", 1)[-1]).get("aud")
                report = self.verifier.verify_sd_jwt(item, nonce=nonce, aud=aud if aud in ids else ids[0])
                return report, report.credential
            if fmt == "ldp_vc":
                if not isinstance(item, dict):
                    raise PresentationRefused("an ldp_vc presentation is a Verifiable Presentation object (B.1.3.2)", code="INVALID_VP_TOKEN")
                proof = item.get("proof")
                domain = proof.get("domain") if isinstance(proof, dict) else None
                report = self.verifier.verify_presentation(item, challenge=nonce, domain=domain if domain in ids else ids[0])
                return report, _only_credential(report)
            if not isinstance(item, str):
                raise PresentationRefused("a jwt_vc_json presentation is a compact JWT (B.1.3.1)", code="INVALID_VP_TOKEN")
            aud = _peek_payload(item).get("aud")
            envelope = {"@context": [VC2], "type": "EnvelopedVerifiablePresentation", "id": "data:application/jwt," + item}
            report = self.verifier.verify_enveloped_presentation(envelope, challenge=nonce, domain=aud if aud in ids else ids[0])
            return report, _only_credential(report)
        except NotACredential as exc:
            raise PresentationRefused(f"the {fmt} presentation cannot be read: {exc.detail}", code="INVALID_VP_TOKEN") from None


def _shown(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """An answer's result as ``status`` shows it: without the presentations kept for stacking (``vp``)."""
    if not isinstance(result, dict):
        return result
    kept = [{k: v for k, v in p.items() if k != "vp"} if isinstance(p, dict) else p for p in result.get("presentations") or []]
    return {**result, "presentations": kept} if "presentations" in result else result


def _checks(report: Report):
    yield from report.checks
    for inner in report.credentials:
        yield from _checks(inner)


def _only_credential(report: Report) -> dict[str, Any] | None:
    """The one credential of a W3C presentation (a presentation answers one Credential Query with one credential)."""
    if len(report.credentials) != 1:
        raise PresentationRefused(f"a presentation answers one credential query with one credential, not {len(report.credentials)}", code="INVALID_VP_TOKEN")
    return report.credentials[0].credential
