"""The holder side: a learner's demo wallet, free of HTTP.

* Sign-in by e-mail link: a one-time link (256 random bits, 15 minutes) is written to the service log
  (logger ``microcred.wallet``); no third-party IdP. In test mode the links are also kept in ``outbox``.
* Sessions: a random cookie value (kept hashed) bound to a server-side row that holds the CSRF
  synchronizer token (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern").
* Holder key: each learner gets an Ed25519 key (``FileKeyStore`` under ``keys/``) and its did:key
  (W3C CCG did:key v0.7), used to sign presentations.
* Offers: a provider asks for a claim link to one issued credential: single-use, expiring, 256 random
  bits (the OID4VCI "pre-authorized code" shape, without the protocol). Pending offers also appear in
  the wallet of the learner whose e-mail or DID is the credential's ``learner_ref``.
* Holdings: claimed or imported credentials as the exact bytes received; an import that does not
  verify is kept but marked, and never shown as valid. The status shown is re-checked on every view.
* Shares: links (≥128 random bits, default 7 days) to a page that re-verifies each shared credential
  when opened; each opening is recorded with its time and a coarse user agent (no IP address).
* Presentations: W3C VC Data Model 2.0 §4.13 verifiable presentations, signed with the holder key by
  Data Integrity (eddsa-rdfc-2022, ``proofPurpose: authentication`` with the verifier's challenge and domain; where
  RDFC-1.0 refuses, as for two credentials of one achievement whose blank nodes are symmetric, eddsa-jcs-2022).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app import strict_json
from app.credentials.completeness import eu_completeness, summary, vocabulary_labels
from app.credentials.logo import credential_logo, image_bytes
from app.errors import KeyUnavailable, MalformedValueError, MicrocredError, NotFoundError
from app.holder import oid4vci, oid4vp
from app.jsonld.rdfc import CanonicalizationLimitError
from app.keys import ED25519, P256, FileKeyStore
from app.keys.b64url import decode as b64u_decode
from app.proofs import sd_jwt
from app.store import Database
from app.store import wallet as store
from app.vcdm import VC2
from app.verification import NotACredential, Report

log = logging.getLogger("microcred.wallet")

SIGNIN_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
OFFER_TTL = timedelta(days=30)
SHARE_DEFAULT_DAYS = 7
SHARE_MAX_DAYS = 365
MAX_IMPORT_BYTES = 1_048_576
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


class Gone(MicrocredError):
    """A share link that was revoked or has expired (HTTP 410)."""

    code = "LINK_GONE"
    status = 410
    title = "This link is no longer available"


def token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise MalformedValueError("enter a valid e-mail address", code="INVALID_EMAIL")
    return email


def coarse_agent(user_agent: str | None) -> str:
    """``Chrome on Linux``-style: a browser family and a platform, never the full string."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("HeadlessChrome", "Headless Chrome"),
                ("Chrome/", "Chrome"),
                ("Firefox/", "Firefox"),
                ("Safari/", "Safari"),
                ("curl/", "curl"),
                ("python-httpx", "a script"),
                ("python", "a script"),
            )
            if key in ua
        ),
        "another client",
    )
    platform = next(
        (
            name
            for key, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
            if key in ua
        ),
        None,
    )
    return f"{browser} on {platform}" if platform else browser


@dataclass
class Card:
    """What the wallet shows of one held credential; ``state`` is re-derived from a fresh verification."""

    id: str
    state: str  # valid | expired | not-yet-valid | suspended | revoked | invalid | unknown | unverified
    reason: str
    title: Any = None
    provider: Any = None
    date: str | None = None
    ects: float | None = None
    eqf: Any = None
    source: str = "offer"
    problem: str | None = None
    media_type: str = "application/vc+ld+json"
    languages: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    elements: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    credential: dict[str, Any] | None = None
    logo: str | None = None  # the institution's logo the credential carries, a data: URI (app/credentials/logo.py)

    @property
    def valid(self) -> bool:
        return self.state == "valid"


def state_of(report: Report) -> tuple[str, str]:
    """(state, reason) from a verification report: the first failing blocking check decides."""
    for check in report.checks:
        if check.outcome not in ("failed", "indeterminate"):
            continue
        if check.id in ("well_formed", "proof", "issuer_binding"):
            return "invalid", check.reason
        if check.id == "validity":
            return ("not-yet-valid" if "before" in check.reason else "expired"), check.reason
        if check.id == "status":
            if check.code == "STATUS_REVOKED":
                return "revoked", check.reason
            if check.code == "STATUS_SUSPENDED":
                return "suspended", check.reason
            if check.outcome == "indeterminate":
                return "unknown", check.reason
            return "invalid", check.reason
    if report.verified:
        return "valid", "verified just now: signature, issuer, validity period and status"
    return "invalid", "the credential does not verify"


class Wallet:
    """Every holder-side operation, for every learner of this service."""

    def __init__(self, runtime, db: Database, *, clock=None):
        self.runtime = runtime
        self.settings = runtime.settings
        self.db = db
        self.keys = FileKeyStore(self.settings.keys_dir)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.base = self.settings.base_url.rstrip("/")
        #: test mode only: (email, link) of every sign-in link sent, for tests to follow
        self.outbox: list[tuple[str, str]] = []
        _ensure_log_output()

    @property
    def secure_cookies(self) -> bool:
        return self.base.startswith("https://")

    # -- sign-in -----------------------------------------------------------------------------------

    def request_signin(self, email: str, next_path: str | None = None) -> None:
        """Write a one-time sign-in link for ``email`` to the service log (the demo's "mailbox")."""
        email = normalize_email(email)
        raw = token()
        with self.db.transaction() as session:
            store.add_signin_link(session, token_hash=digest(raw), email=email, expires_at=self.clock() + SIGNIN_TTL)
        link = f"{self.base}/wallet/signin/{raw}" + (f"?next={urllib.parse.quote(next_path, safe='/')}" if safe_next(next_path) else "")
        # The demo's "mailbox" is the log: the address is masked (logs carry no learner's personal data),
        # enough for a person to tell their own link apart. A real deployment sends e-mail instead.
        local, _, domain = email.partition("@")
        log.info("sign-in link for %s***@%s: %s", local[:1], domain, link)
        if self.settings.environment == "test":
            self.outbox.append((email, link))

    def complete_signin(self, raw: str):
        """Use a sign-in link once: the learner (created on first sign-in, with a holder key), or NotFoundError."""
        now = self.clock()
        with self.db.transaction() as session:
            email = store.use_signin_link(session, digest(raw or ""), now)
            if email is None:
                raise NotFoundError("this sign-in link is unknown, used or expired; ask for a new one", code="SIGNIN_LINK_INVALID")
            learner = store.find_learner_by_email(session, email)
            if learner is None:
                key_name = f"holder-{uuid.uuid4().hex}"
                signer = self.keys.create(key_name, ED25519)
                learner = store.create_learner(session, email=email, holder_did=f"did:key:{signer.public_multibase()}", key_ref=key_name)
        return learner

    def learner(self, learner_id: int):
        with self.db.read() as session:
            return store.get_learner(session, learner_id)

    # -- sessions ----------------------------------------------------------------------------------

    def new_session(self, learner_id: int | None) -> tuple[str, str]:
        """(cookie value, CSRF token) of a new session; only the cookie's hash is stored."""
        raw, csrf = token(), token()
        with self.db.transaction() as session:
            store.add_session(session, id_hash=digest(raw), learner_id=learner_id, csrf_token=csrf, expires_at=self.clock() + SESSION_TTL)
        return raw, csrf

    def session(self, raw: str | None):
        if not raw or len(raw) > 100:
            return None
        with self.db.read() as session:
            return store.get_session(session, digest(raw), self.clock())

    def end_session(self, raw: str | None) -> None:
        if raw:
            with self.db.transaction() as session:
                store.delete_session(session, digest(raw))

    @staticmethod
    def csrf_ok(sess, submitted: str | None) -> bool:
        return bool(sess and submitted and hmac.compare_digest(sess.csrf_token.encode(), submitted.encode()))

    # -- reading credentials -----------------------------------------------------------------------

    def _verify(self, body: bytes) -> Report | None:
        try:
            return self.runtime.verifier.verify(body)
        except NotACredential:
            return None

    def card(self, holding, *, detail: bool = False) -> Card:
        report = self._verify(holding.body)
        if report is None:
            card = Card(holding.id, "invalid", "not a readable credential")
        else:
            state, reason = state_of(report)
            if not holding.verified_on_receipt and state == "valid":
                state, reason = "unverified", "this imported credential did not verify when it was imported"
            card = Card(holding.id, state, reason, report=report.as_dict() if detail else {}, credential=report.credential)
            if report.credential:
                try:
                    s = summary(report.credential)
                except (ValueError, KeyError, TypeError, AttributeError):
                    title = report.credential.get("name") or report.credential.get("title") or "Verifiable credential"
                    s = {"title": title, "issuer": report.issuer}
                card.title = s.get("title")
                card.provider = s.get("awardingBody") or s.get("issuer") or report.issuer
                card.date = s.get("date")
                card.ects = s.get("ects")
                card.eqf = s.get("eqf")
                card.languages = s.get("languages") or []
                card.summary = s
                if state != "invalid":  # a credential that failed its checks does not get the institution's face
                    card.logo = credential_logo(report.credential)
                if detail:
                    try:
                        card.elements = [e.as_dict() for e in eu_completeness(report.credential)]
                    except (ValueError, KeyError, TypeError, AttributeError):
                        card.elements = []
        card.source, card.problem, card.media_type = holding.source, holding.problem, holding.media_type
        return card

    def cards(self, learner) -> list[Card]:
        with self.db.read() as session:
            holdings = store.list_holdings(session, learner.id)
        return [self.card(h) for h in holdings]

    def holding(self, learner, holding_id: str):
        with self.db.read() as session:
            return store.get_holding(session, learner.id, holding_id)

    def detail(self, learner, holding_id: str) -> Card:
        return self.card(self.holding(learner, holding_id), detail=True)

    # -- offers (provider side and learner side) ---------------------------------------------------

    def create_offer(self, provider, credential_id: str, *, ttl: timedelta = OFFER_TTL) -> dict[str, Any]:
        """A claim link and its QR code (SVG) for one of ``provider``'s credentials."""
        import segno

        from app.store import credentials as credential_store

        raw = token()
        expires = self.clock() + ttl
        with self.db.transaction() as session:
            stored = credential_store.get_credential(session, credential_id, provider_id=provider.id)
            offer = store.add_offer(
                session, offer_id=str(uuid.uuid4()), token_hash=digest(raw), credential_id=stored.id, learner_ref=stored.learner_ref, expires_at=expires
            )
        url = f"{self.base}/wallet/claim/{raw}"
        svg = segno.make(url, error="m").svg_inline(scale=4, title="Claim your credential")
        return {"offerId": offer.id, "offerUrl": url, "qrSvg": svg, "expiresAt": expires.isoformat().replace("+00:00", "Z")}

    def _offer_view(self, session, offer) -> dict[str, Any]:
        body, media_type, _ = store.issued_credential(session, offer.credential_id)
        return {"offer": offer, "body": body, "media_type": media_type}

    def offer_preview(self, raw: str) -> dict[str, Any]:
        """The credential an offer link is for (unclaimed and unexpired), or NotFoundError."""
        with self.db.read() as session:
            offer = store.find_offer(session, token_hash=digest(raw or ""))
            if offer is None or offer.claimed_at is not None or offer.expires_at <= self.clock():
                raise NotFoundError("this claim link is unknown, already used or expired", code="OFFER_INVALID")
            view = self._offer_view(session, offer)
        view["card"] = self._preview_card(offer.id, view["body"], view["media_type"])
        return view

    def _preview_card(self, ident: str, body: bytes, media_type: str) -> Card:
        return self.card(store.HoldingRow(ident, 0, None, "offer", media_type, body, True, None, self.clock()))

    def pending_offers(self, learner) -> list[dict[str, Any]]:
        with self.db.read() as session:
            offers = store.pending_offers(session, [learner.email, learner.holder_did], self.clock())
            views = [self._offer_view(session, o) for o in offers if not store.holds_credential(session, learner.id, o.credential_id)]
        for v in views:
            v["card"] = self._preview_card(v["offer"].id, v["body"], v["media_type"])
        return views

    def claim(self, learner, *, raw: str | None = None, offer_id: str | None = None):
        """Claim an offer (by its link, or by id when it was addressed to this learner): once only."""
        now = self.clock()
        with self.db.transaction() as session:
            if raw is not None:
                offer = store.find_offer(session, token_hash=digest(raw))
            else:
                offer = store.find_offer(session, offer_id=offer_id)
                if offer is not None and offer.learner_ref not in (learner.email, learner.holder_did):
                    offer = None  # another learner's offer: as if it did not exist
            if offer is None or not store.claim_offer(session, offer.id, learner.id, now):
                raise NotFoundError("this offer is unknown, already claimed or expired", code="OFFER_INVALID")
            body, media_type, _ = store.issued_credential(session, offer.credential_id)
            return store.add_holding(
                session,
                holding_id=str(uuid.uuid4()),
                learner_id=learner.id,
                credential_id=offer.credential_id,
                source="offer",
                media_type=media_type,
                body=body,
                verified=True,
                problem=None,
            )

    # -- import ------------------------------------------------------------------------------------

    def import_credential(self, learner, data: bytes):
        """Keep an uploaded credential (JSON, JWT, or a PDF with one embedded); mark it if it does not verify."""
        if len(data) > MAX_IMPORT_BYTES * 10:
            raise MalformedValueError("the file is too large", code="TOO_LARGE")
        if data[:5] == b"%PDF-":
            from app.holder.pdf import extract_credential_from_pdf

            data = extract_credential_from_pdf(data).encode()
        if len(data) > MAX_IMPORT_BYTES:
            raise MalformedValueError("the credential is too large", code="TOO_LARGE")
        try:
            kind, value = self.runtime.verifier.parse(data)
            report = self.runtime.verifier.verify(data)
        except NotACredential as exc:
            raise MalformedValueError(f"this file is not a verifiable credential: {exc.detail}", code=exc.code) from None
        if report.kind != "credential":
            raise MalformedValueError("import a credential, not a presentation", code="NOT_A_CREDENTIAL")
        if kind == "sd-jwt":
            media_type = sd_jwt.MEDIA_TYPE
        else:
            media_type = "application/vc+jwt" if kind == "jwt" or report.format == "vc+jwt" else "application/vc+ld+json"
        body = data.strip() if kind in ("jwt", "sd-jwt") else data
        return self._keep(learner, report, source="import", media_type=media_type, body=body)

    def _keep(self, learner, report: Report | None, *, source: str, media_type: str, body) -> Any:
        """Store a credential the learner took in (imported or received), with its state when it came in."""
        state, reason = state_of(report) if report is not None else ("invalid", "not a readable credential")
        verified = state == "valid"
        credential = report.credential if report is not None and isinstance(report.credential, dict) else {}
        credential_id = credential.get("id") if isinstance(credential.get("id"), str) else None
        with self.db.transaction() as session:
            return store.add_holding(
                session,
                holding_id=str(uuid.uuid4()),
                learner_id=learner.id,
                credential_id=(credential_id or "")[:500] or None,
                source=source,
                media_type=media_type,
                body=body,
                verified=verified,
                problem=None if verified else f"{state}: {reason}"[:2000],
            )

    def delete(self, learner, holding_id: str) -> None:
        with self.db.transaction() as session:
            store.delete_holding(session, learner.id, holding_id)

    # -- download ----------------------------------------------------------------------------------

    def pdf(self, learner, holding_id: str, *, days: int = SHARE_DEFAULT_DAYS, lang: str = "en", gettext=None) -> tuple[bytes, str]:
        """(PDF bytes, file name): the facts, the credential attached, and a QR code to a share link made for it
        that lasts ``days`` (the learner's choice; a share link's default), or no QR code and no link with 0.
        In ``lang``: its dates in words, the credential's language maps in that language where it has it, and the
        PDF's words through ``gettext`` (the page layer's catalogue; the messages are marked in app/holder/pdf.py)."""
        from app.holder.pdf import DAYS, ONE_DAY, UNTITLED, date_in_words, render_pdf

        _ = gettext or (lambda message: message)

        if not 0 <= days <= SHARE_MAX_DAYS:
            raise MalformedValueError(f"the PDF's QR code lasts 0 (no code) to {SHARE_MAX_DAYS} days", code="INVALID_EXPIRY")
        holding = self.holding(learner, holding_id)
        card = self.card(holding, detail=True)
        # Never a link the learner did not ask for: it lasts what they chose, is listed and revocable under Share,
        # and the PDF says until when.
        share = self.create_share(learner, [holding_id], days=days, label=f"QR code of a PDF download ({days} days)") if days else None

        def localized(value: Any) -> str:
            return _loc(value, lang)

        s = card.summary
        facts = _pdf_facts(card, lang, _)
        issuer = (card.credential or {}).get("issuer")
        title = localized(card.title) or _(UNTITLED)
        body = render_pdf(
            facts=facts,
            title=title,
            credential=holding.body,
            media_type=holding.media_type,
            verify_url=share["url"] if share else None,
            institution=localized(card.provider) or localized(s.get("issuer")),
            learner=localized(s.get("learnerName")),
            awarded=date_in_words(card.date, lang),
            qr_until=(_(ONE_DAY) if days == 1 else _(DAYS)) % {"date": date_in_words(share["expiresAt"], lang), "n": days} if share else None,
            issuer_id=issuer.get("id") if isinstance(issuer, dict) else issuer if isinstance(issuer, str) else None,
            credential_id=holding.credential_id,
            gettext=_,
            logo=(image_bytes(card.logo) or (None, None))[1],
        )
        return body, f"credential-{holding.id[:8]}.pdf"

    # -- shares ------------------------------------------------------------------------------------

    def create_share(self, learner, holding_ids: list[str], *, days: int = SHARE_DEFAULT_DAYS, label: str | None = None) -> dict[str, Any]:
        ids = list(dict.fromkeys(h for h in holding_ids if isinstance(h, str)))
        if not ids:
            raise MalformedValueError("choose at least one credential to share", code="NOTHING_TO_SHARE")
        if len(ids) > 50:
            raise MalformedValueError("share at most 50 credentials at once")
        if not 1 <= days <= SHARE_MAX_DAYS:
            raise MalformedValueError(f"a share link lasts 1 to {SHARE_MAX_DAYS} days", code="INVALID_EXPIRY")
        raw = token()
        share_id = str(uuid.uuid4())
        now = self.clock()
        expires = now + timedelta(days=days)
        with self.db.transaction() as session:
            store.add_share(
                session,
                share_id=share_id,
                learner_id=learner.id,
                token_hash=digest(raw),
                label=(label or "").strip()[:200] or None,
                expires_at=expires,
                holding_ids=ids,
                created_at=now,
            )
        return {"id": share_id, "url": f"{self.base}/wallet/shared/{raw}", "expiresAt": expires}

    def shares(self, learner):
        with self.db.read() as session:
            return store.list_shares(session, learner.id)

    def revoke_share(self, learner, share_id: str) -> None:
        with self.db.transaction() as session:
            store.revoke_share(session, learner.id, share_id, self.clock())

    def _opened(self, raw: str, user_agent: str | None) -> tuple[Any, list[Any]]:
        now = self.clock()
        with self.db.transaction() as session:
            share = store.find_share_by_token(session, digest(raw or ""))
            if share is None:
                raise NotFoundError("no such link")
            if share.revoked_at is not None or share.expires_at <= now:
                raise Gone("this link was revoked or has expired")
            store.record_view(session, share.id, now, coarse_agent(user_agent))
            return share, store.shared_holdings(session, share)

    def open_share(self, raw: str, user_agent: str | None) -> tuple[Any, list[Card]]:
        """The shared credentials, each re-verified now; records the view. 404 unknown, 410 revoked or expired."""
        share, holdings = self._opened(raw, user_agent)
        return share, [self.card(h, detail=True) for h in holdings]

    def shared_bodies(self, raw: str, user_agent: str | None) -> list[bytes]:
        """The credentials behind one of this service's share links, as stored (the verify page's "by link"
        resolves its own links here, never over the network); the same rules and view record as ``open_share``."""
        return [h.body for h in self._opened(raw, user_agent)[1]]

    # -- presentations -----------------------------------------------------------------------------

    def present(self, learner, holding_ids: list[str], *, challenge: str, domain: str) -> dict[str, Any]:
        """A verifiable presentation of the chosen credentials, signed by the holder key for the verifier's challenge."""
        challenge, domain = (challenge or "").strip(), (domain or "").strip()
        if not challenge or not domain or len(challenge) > 500 or len(domain) > 500:
            raise MalformedValueError("a presentation needs the verifier's challenge and domain", code="CHALLENGE_REQUIRED")
        items = []
        for hid in dict.fromkeys(holding_ids):
            holding = self.holding(learner, hid)
            if holding.media_type.endswith("jwt"):
                items.append({"@context": [VC2], "id": f"data:application/vc+jwt,{holding.body.decode('ascii')}", "type": "EnvelopedVerifiableCredential"})
            else:
                items.append(strict_json.loads(holding.body))
        if not items:
            raise MalformedValueError("choose at least one credential to present", code="NOTHING_TO_PRESENT")
        vp = {
            "@context": [VC2],
            "type": ["VerifiablePresentation"],
            "id": f"urn:uuid:{uuid.uuid4()}",
            "holder": learner.holder_did,
            "verifiableCredential": items,
        }
        mb = learner.holder_did.removeprefix("did:key:")
        signer = self.keys.load(learner.key_ref, f"{learner.holder_did}#{mb}")
        try:
            return self.runtime.engine.add_proof(vp, signer, suite="eddsa-rdfc-2022", proof_purpose="authentication", challenge=challenge, domain=domain)
        except CanonicalizationLimitError:
            # Two credentials of one achievement (or one credential twice) are indistinguishable blank-node graphs:
            # RDFC-1.0 §4.8 Hash N-Degree Quads stops on such symmetric blank nodes. eddsa-jcs-2022 (VC-DI-EdDSA §3.3)
            # signs the RFC 8785 form of the JSON itself, which has no blank nodes to tell apart, and binds the same
            # holder key, challenge and domain; every verifier of this service accepts both suites.
            return self.runtime.engine.add_proof(vp, signer, suite="eddsa-jcs-2022", proof_purpose="authentication", challenge=challenge, domain=domain)

    # -- OpenID4VP (app/holder/oid4vp.py) ----------------------------------------------------------

    def oid4vp_request(self, learner, link: str, verifier) -> oid4vp.Asked:
        """What an ``openid4vp://`` request asks, by whom, and which of the learner's credentials answer it."""
        claims = oid4vp.read_request(link, verifier)
        with self.db.read() as session:
            holdings = store.list_holdings(session, learner.id)
        offered = []
        for h in holdings:
            fmt = {sd_jwt.MEDIA_TYPE: "dc+sd-jwt", "application/vc+ld+json": "ldp_vc"}.get(h.media_type)
            report = self._verify(h.body) if fmt else None
            if report is not None and report.credential is not None:
                offered.append((h.id, fmt, h.body, report.credential))
        return oid4vp.asked(claims, offered)

    def oid4vp_respond(self, learner, link: str, verifier, holding_id: str, chosen: list[str]) -> dict[str, Any]:
        """Answer the request with one credential: an SD-JWT VC disclosing ``chosen`` (and what the query requires),
        or a Data Integrity presentation; what the verifier answered (``redirect_uri`` perhaps)."""
        request = self.oid4vp_request(learner, link, verifier)
        option = request.options.get(holding_id)
        if option is None:
            raise MalformedValueError("this credential does not answer the request", code="CREDENTIAL_NOT_MATCHING")
        if option["format"] == "dc+sd-jwt":
            holding = self.holding(learner, holding_id)
            signer = self._sd_jwt_holder_key(learner, holding.body)
            disclosed = (set(chosen) & set(option["claims"])) | set(option["required"])
            presentation = oid4vp.sd_jwt_presentation(holding.body.decode("ascii"), disclosed, signer, nonce=request.nonce, client_id=request.client_id)
        else:
            presentation = self.present(learner, [holding_id], challenge=request.nonce, domain=request.client_id)
        return oid4vp.answer(verifier, request, option["query_id"], presentation)

    def _sd_jwt_holder_key(self, learner, body: bytes):
        """The holder key an SD-JWT VC is bound to (its ``cnf.jwk``, RFC 7800 §3.2): the learner's P-256 key for one
        received through OpenID4VCI with an ES256 proof, else the Ed25519 key."""
        try:
            payload = strict_json.loads(b64u_decode(body.split(b"~", 1)[0].split(b".")[1].decode("ascii")), max_depth=32)
            kty = payload["cnf"]["jwk"]["kty"]
        except (MicrocredError, IndexError, KeyError, TypeError, UnicodeDecodeError):
            kty = None
        if kty == "EC":
            return self._p256_key(learner)
        mb = learner.holder_did.removeprefix("did:key:")
        return self.keys.load(learner.key_ref, f"{learner.holder_did}#{mb}")

    # -- OpenID4VCI (app/holder/oid4vci.py) --------------------------------------------------------

    def _p256_key(self, learner):
        """The learner's second holder key, P-256 (ES256: HAIP wallets' one algorithm), made on first use; kept
        beside the Ed25519 one under a name derived from it, so no column is needed for it."""
        name = f"{learner.key_ref}-p256"
        try:
            return self.keys.load(name)
        except KeyUnavailable as exc:
            if exc.code != "KEY_NOT_FOUND":
                raise
            return self.keys.create(name, P256)

    def oid4vci_offer(self, link: str, transport) -> oid4vci.Offered:
        """What an ``openid-credential-offer://`` link offers and who offers it (nothing is redeemed yet)."""
        return oid4vci.read_offer(link, transport)

    def oid4vci_receive(self, learner, link: str, transport, configuration: str, tx_code: str | None):
        """Redeem the offer for one credential of ``configuration`` bound to the learner's key, and keep it as
        received (marked, like an import, when it does not verify now). A refusal stores nothing."""
        offered = oid4vci.read_offer(link, transport)
        if configuration not in offered.configurations:
            raise MalformedValueError("choose one of the offered credentials", code="OID4VCI_CONFIGURATION")
        if oid4vci.wants_p256(offered, configuration):
            signer, did = self._p256_key(learner), None
        else:
            mb = learner.holder_did.removeprefix("did:key:")
            signer, did = self.keys.load(learner.key_ref, f"{learner.holder_did}#{mb}"), learner.holder_did
        received = oid4vci.receive(offered, configuration, tx_code, signer, did=did, transport=transport)
        return self._keep(learner, self._verify(received.body), source="oid4vci", media_type=received.media_type, body=received.body)


def _pdf_facts(card: Card, lang: str = "en", gettext=None) -> list[tuple[str, Any]]:
    """The EU elements of a card as the PDF's table lists them (label, text or list of texts), in ``lang``; the
    labels are app/holder/pdf.py's FACT_LABELS (render_pdf translates them)."""
    from app.holder.pdf import ECTS, EQF, HOURS, QF_EHEA_CYCLES

    _ = gettext or (lambda message: message)

    def localized(value: Any) -> str:
        return _loc(value, lang)

    s = card.summary
    level = s.get("level") or {}
    cycle = level.get("qfEheaCycle")
    level_text = " · ".join(
        x
        for x in (
            _(EQF) % {"n": card.eqf} if card.eqf is not None else "",
            _(QF_EHEA_CYCLES.get(str(cycle).strip().lower(), f"QF-EHEA {cycle if 'cycle' in str(cycle) else str(cycle) + ' cycle'}")) if cycle else "",
        )
        if x
    )
    workload = s.get("workload") or {}
    hours = workload.get("hours")
    grade = s.get("grade")
    # the coded elements named by the EU vocabularies in the PDF's language, else as the credential names them
    try:
        named = vocabulary_labels(card.credential, lang) if isinstance(card.credential, dict) else None
    except ValueError:
        named = None
    named = named or {"assessment": None, "participation": None, "country": None, "qualityAssurance": [], "fieldsOfEducation": []}
    qa = s.get("qualityAssurance") or []
    qa_names = named["qualityAssurance"] + [None] * len(qa)
    fields = [f"{f['label'] or f['code']} ({f['code']})" for f in named["fieldsOfEducation"]]
    country = named["country"] or localized((s.get("awardingBodyCountry") or {}).get("label"))
    return [
        ("Workload", " · ".join(x for x in (_(ECTS) % {"n": f"{card.ects:g}"} if card.ects else "", _(HOURS) % {"n": f"{hours:g}"} if hours else "") if x)),
        ("Level", level_text),
        ("Field of education", fields),
        ("Learning outcomes", [localized(lo) for lo in s.get("learningOutcomes") or []]),
        ("Type of assessment", named["assessment"] or localized(s.get("assessment"))),
        ("Form of participation", named["participation"] or localized(s.get("participation"))),
        ("Quality assurance", [name or localized(q) for q, name in zip(qa, qa_names, strict=False)]),
        ("Grade", localized(grade.get("value") if isinstance(grade, dict) else grade)),
        ("Awarding body", " — ".join(x for x in (localized(s.get("awardingBody")), country) if x)),
    ]


def _loc(value: Any, lang: str = "en") -> str:
    """A language map as one line of text: ``lang`` first, then English, else the first language."""
    if isinstance(value, dict):
        for key in (lang, "en"):
            if isinstance(value.get(key), str):
                return value[key]
        return next((v for v in value.values() if isinstance(v, str)), "")
    if isinstance(value, list):
        return ", ".join(_loc(v, lang) for v in value)
    return "" if value is None else str(value)


def safe_next(path: str | None) -> bool:
    """Only this service's wallet pages are valid redirect targets (no open redirect)."""
    return bool(path) and path.startswith("/wallet") and "//" not in path and "\\" not in path and len(path) < 300


def _ensure_log_output() -> None:
    """The sign-in links must reach the service log even when logging is not configured at all; when it is (the
    service's root handler), the records go there alone: a handler here too wrote each link twice."""
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
