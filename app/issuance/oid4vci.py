"""OpenID for Verifiable Credential Issuance 1.0 (OID4VCI): every provider a Credential Issuer, pre-authorized code flow.

The issuer identifier of a provider is ``{base_url}/issuers/{slug}`` (§12.2.1); its metadata (§12.2.4), its OAuth
authorization server metadata (RFC 8414 §2, with ``pre-authorized_grant_anonymous_access_supported``, OID4VCI §12.3,
and DPoP, RFC 9449 §5.1) and its JWT VC Issuer Metadata (SD-JWT VC draft §4) are ``issuer_metadata``,
``authorization_server_metadata`` and ``jwt_vc_issuer_metadata``.

The flow (§3.5):

1. ``create_offer``: a provider's ``POST /microcredentials`` body, validated now, kept with a pre-authorized code and
   a tx_code (§4.1.1); nothing is rendered or signed yet;
2. ``token`` (§6): the pre-authorized code and the tx_code for an access token, bound to the offer, used once,
   DPoP-bound (``cnf.jkt``, RFC 9449 §6) when the request carries a DPoP proof; a wrong tx_code is counted and the
   offer is burnt after ``oid4vci_tx_code_tries``;
3. ``nonce`` (§7): a fresh single-use ``c_nonce``;
4. ``credential`` (§8): the proofs of possession (``openid4vci-proof+jwt``, §8.2.1.1 and Appendix F.1) checked, each
   nonce found fresh, then one credential per proof rendered and signed through ``Issuance.issue_planned`` (the same
   steps, status entries and storage as ``POST /microcredentials``), bound to the proof's key: ``credentialSubject.id``
   its did:jwk / did:key for ``ldp_vc`` and ``jwt_vc_json`` (signed ES256 for a P-256 proof key, ``_signing_alg``),
   ``cnf.jwk`` for ``dc+sd-jwt``. The nonces' use, the credentials, the token's use and the offer's redemption are
   written in one unit: a redemption that fails leaves the offer redeemable, a redeemed one cannot be redeemed again.

Writes: the token's exchange, the nonce and the redemption are each a unit of the group commit (``Database.grouped``),
which shares one transaction (one fsync) among concurrent requests; a redemption is three such units, where it was
four transactions of its own. An access token that lapses unused leaves its offer exchangeable again
(``store.exchange_code``).

Errors are ``OAuthError``: the error objects of RFC 6749 §5.2 (token endpoint), OID4VCI §8.3.1.2 (credential endpoint)
and RFC 6750 §3.1 / RFC 9449 §7.1 (``invalid_token`` with its ``WWW-Authenticate`` challenge). Domain code: no HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app import strict_json
from app.credentials import sd_jwt_vc
from app.credentials.edc import EDC_CONTEXT
from app.credentials.open_badges import OB3_CONTEXT
from app.dids.did_jwk import decode_did_jwk, did_jwk_from_jwk
from app.dids.did_key import resolve_did_key
from app.errors import MalformedValueError, MicrocredError, NotFoundError
from app.issuance.providers import ProviderRecord
from app.issuance.service import Issuance, Issued, MicrocredentialPlan, SdJwtVcPlan
from app.keys.b64url import decode, encoded_length
from app.keys.methods import public_key_from_method
from app.proofs import dpop, sd_jwt, vc_jose
from app.store import oid4vci as store
from app.xsd import format_datetime_stamp

__all__ = [
    "CONFIGURATIONS",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_TYP",
    "Configuration",
    "DpopContext",
    "OAuthError",
    "Oid4vci",
    "Redeemed",
]

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#: §8.2.1.1 / Appendix F.1: the ``typ`` of a key proof JWT.
PROOF_TYP = "openid4vci-proof+jwt"
PROOF_ALGS = ("ES256", "EdDSA")
TX_CODE_LENGTH = 6
MAX_PROOF_CHARS = 8192
MAX_CREDENTIAL_REQUEST_BYTES = 262_144


class OAuthError(Exception):
    """An OAuth / OID4VCI error object ``{"error", "error_description"}`` with its HTTP status (and, for a refused
    access token, the ``WWW-Authenticate`` challenge, RFC 6750 §3 / RFC 9449 §7.1)."""

    def __init__(self, error: str, description: str, status: int = 400, *, www_authenticate: str | None = None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.www_authenticate = www_authenticate

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Configuration:
    """One credential configuration (§12.2.4 ``credential_configurations_supported``) and how it is issued."""

    id: str
    #: the OID4VCI format identifier (Appendix A)
    format: str
    #: the rendering of the EU record (``ob3``, ``edc``, ``sd-jwt``) and its proof format
    render: str
    proof: str
    signing_algs: tuple[str, ...]
    binding: tuple[str, ...]
    names: dict[str, str]
    claims: tuple[tuple[tuple[str, ...], str, str], ...] = field(default=())


_OB3_CLAIMS = (
    (("credentialSubject", "achievement", "name"), "Title", "Titel"),
    (("credentialSubject", "achievement", "description"), "Description", "Beschreibung"),
    (("credentialSubject", "achievement", "creditsAvailable"), "Workload (ECTS)", "Arbeitsaufwand (ECTS)"),
    (("credentialSubject", "result"), "Result", "Ergebnis"),
    (("credentialSubject", "identifier"), "Learner", "Lernende Person"),
    (("issuer", "name"), "Issuer", "Aussteller"),
    (("validFrom",), "Date of issuing", "Ausstellungsdatum"),
)
_EDC_CLAIMS = (
    (("credentialSubject", "givenName"), "Given name", "Vorname"),
    (("credentialSubject", "familyName"), "Family name", "Nachname"),
    (("credentialSubject", "hasClaim", "title"), "Title", "Titel"),
    (("credentialSubject", "hasClaim", "awardedBy"), "Awarding body", "Vergebende Stelle"),
    (("issuer", "legalName"), "Issuer", "Aussteller"),
    (("issuanceDate",), "Date of issuing", "Ausstellungsdatum"),
)
_DID_BINDING = ("did:key", "did:jwk")
CONFIGURATIONS: dict[str, Configuration] = {
    c.id: c
    for c in (
        Configuration(
            "ob3_ldp_vc",
            "ldp_vc",
            "ob3",
            "eddsa-rdfc-2022",
            ("eddsa-rdfc-2022",),
            _DID_BINDING,
            {"en": "Micro-credential (Open Badges 3.0)", "de": "Microcredential (Open Badges 3.0)"},
            _OB3_CLAIMS,
        ),
        Configuration(
            "edc_ldp_vc",
            "ldp_vc",
            "edc",
            "eddsa-rdfc-2022",
            ("eddsa-rdfc-2022",),
            _DID_BINDING,
            {"en": "Micro-credential (Europass EDC)", "de": "Microcredential (Europass EDC)"},
            _EDC_CLAIMS,
        ),
        Configuration(
            "ob3_jwt_vc_json",
            "jwt_vc_json",
            "ob3",
            vc_jose.PROOF_FORMAT,
            ("EdDSA", "ES256"),
            _DID_BINDING,
            {"en": "Micro-credential (Open Badges 3.0, JWT)", "de": "Microcredential (Open Badges 3.0, JWT)"},
            _OB3_CLAIMS,
        ),
        Configuration(
            "eu_microcredential_sd_jwt",
            "dc+sd-jwt",
            sd_jwt_vc.FORMAT,
            sd_jwt.PROOF_FORMAT,
            ("ES256", "EdDSA"),
            ("jwk",),
            {"en": "EU micro-credential", "de": "EU-Microcredential"},
            tuple(((name,), en, de) for name, _, en, de in sd_jwt_vc.CLAIMS),
        ),
    )
}


@dataclass(frozen=True)
class DpopContext:
    """What the API knows of a request for a DPoP check (RFC 9449 §4.3): the proof header (None when absent)."""

    proof: str | None
    method: str = "POST"


@dataclass(frozen=True)
class Redeemed:
    """The credential endpoint's answer (§8.3): each credential as the wallet receives it (a string, or the JSON object
    of an ``ldp_vc``), and the stored credentials."""

    credentials: list[Any]
    issued: list[Issued]


@dataclass(frozen=True)
class _Holder:
    """The key of one proof: its public JWK, and the DID the credential names (``credentialSubject.id``)."""

    jwk: dict[str, str]
    did: str
    nonce: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _unauthorized(error: str, description: str, dpop_bound: bool) -> OAuthError:
    """RFC 6750 §3 / RFC 9449 §7.1: a 401 with the challenge of the token's scheme."""
    scheme = 'DPoP algs="ES256 EdDSA"' if dpop_bound else "Bearer"
    return OAuthError(error, description, 401, www_authenticate=f'{scheme}, error="{error}"')


class Oid4vci:
    """The OID4VCI issuer of every provider of this service (module docstring)."""

    def __init__(self, issuance: Issuance):
        self.issuance = issuance
        self.settings = issuance.settings
        self.db = issuance.db
        self.providers = issuance.providers
        #: the SD-JWT VC ``vct`` and its ``vct#integrity``: a function of the base URL alone (the type metadata is built
        #: from constants), computed once instead of per credential (a JSON dump and a SHA-256 of 4 kB each time)
        self._vct: tuple[str, str] | None = None
        #: slug -> provider id, for the public endpoints that name the issuer by its slug (nonce, metadata): a slug
        #: is never reassigned (providers are not deleted or renamed), and ``by_id`` keeps the records; an unknown
        #: slug is not remembered, so a provider created later is found
        self._slugs: dict[str, int] = {}

    # -- identifiers and metadata

    def issuer_id(self, slug: str) -> str:
        """§12.2.1: the Credential Issuer identifier, an https (here: the base) URL with the provider's path."""
        return f"{self.settings.base_url.rstrip('/')}/issuers/{slug}"

    def _provider(self, slug: str) -> ProviderRecord:
        if not isinstance(slug, str) or len(slug) > 64:
            raise NotFoundError("no such issuer")
        provider_id = self._slugs.get(slug)
        if provider_id is not None:
            return self.providers.by_id(provider_id)
        provider = self.providers.by_slug(slug)
        self._slugs[slug] = provider.id
        return provider

    def _vct_and_integrity(self) -> tuple[str, str]:
        if self._vct is None:
            vct = sd_jwt_vc.vct_for(self.settings.base_url)
            self._vct = (vct, sd_jwt_vc.integrity(sd_jwt_vc.type_metadata_bytes(vct)))
        return self._vct

    def issuer_metadata(self, slug: str) -> dict[str, Any]:
        """§12.2.4 Credential Issuer Metadata: endpoints, batch size, display, the four credential configurations."""
        provider = self._provider(slug)
        issuer = self.issuer_id(slug)
        logo = {"uri": f"{issuer}/logo.png", "alt_text": provider.legal_name}
        vct = sd_jwt_vc.vct_for(self.settings.base_url)
        configurations = {}
        for c in CONFIGURATIONS.values():
            entry: dict[str, Any] = {
                "format": c.format,
                "cryptographic_binding_methods_supported": list(c.binding),
                "credential_signing_alg_values_supported": list(c.signing_algs),
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}},
            }
            if c.format == "ldp_vc":
                context, types = (OB3_CONTEXT, "OpenBadgeCredential") if c.render == "ob3" else (EDC_CONTEXT, "EuropeanDigitalCredential")
                entry["credential_definition"] = {"@context": list(context), "type": ["VerifiableCredential", types]}
            elif c.format == "jwt_vc_json":
                entry["credential_definition"] = {"type": ["VerifiableCredential", "OpenBadgeCredential"]}
            else:
                entry["vct"] = vct
            entry["credential_metadata"] = {
                "display": [{"name": name, "locale": locale, "logo": logo} for locale, name in c.names.items()],
                "claims": [{"path": list(path), "display": [{"name": en, "locale": "en"}, {"name": de, "locale": "de"}]} for path, en, de in c.claims],
            }
            configurations[c.id] = entry
        return {
            "credential_issuer": issuer,
            "credential_endpoint": f"{issuer}/credential",
            "nonce_endpoint": f"{issuer}/nonce",
            "batch_credential_issuance": {"batch_size": self.settings.oid4vci_batch_size},
            "display": [{"name": provider.legal_name, "locale": "en", "logo": logo}],
            "credential_configurations_supported": configurations,
        }

    def authorization_server_metadata(self, slug: str) -> dict[str, Any]:
        """RFC 8414 §2 of the issuer's own authorization server (its issuer identifier is the Credential Issuer's)."""
        self._provider(slug)
        issuer = self.issuer_id(slug)
        return {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/token",
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "token_endpoint_auth_methods_supported": ["none"],
            "dpop_signing_alg_values_supported": list(dpop.ALGS),
            "response_types_supported": [],
        }

    def jwt_vc_issuer_metadata(self, slug: str) -> dict[str, Any]:
        """SD-JWT VC draft §4: the issuer and its keys (every JsonWebKey method of its DID document, retired ones too)."""
        provider = self._provider(slug)
        keys = []
        if provider.did_method == "web":
            document = self.providers.did_document(slug)
            keys = [dict(m["publicKeyJwk"], kid=m["id"]) for m in document["verificationMethod"] if isinstance(m.get("publicKeyJwk"), dict)]
        else:
            keys = [dict(self.providers.signer_for(provider).public_jwk(), kid=self.providers.signer_for(provider).verification_method)]
        return {"issuer": self.issuer_id(slug), "jwks": {"keys": keys}}

    # -- offers

    def create_offer(self, provider: ProviderRecord, payload: Any) -> dict[str, Any]:
        """A credential offer (§4.1.1) for a ``POST /microcredentials`` body (validated now; signed at redemption),
        with ``configurations`` (default: all four) and ``txCode`` (default true)."""
        if not isinstance(payload, dict):
            raise MalformedValueError("the body must be a JSON object")
        configurations = payload.get("configurations", list(CONFIGURATIONS))
        if (
            not isinstance(configurations, list)
            or not configurations
            or len(configurations) > len(CONFIGURATIONS)
            or any(c not in CONFIGURATIONS for c in configurations)
            or len(set(configurations)) != len(configurations)
        ):
            raise MalformedValueError(
                f"configurations must be a list of distinct ids among {', '.join(CONFIGURATIONS)}",
                errors=[{"pointer": "/configurations", "detail": "unknown or repeated credential configuration"}],
            )
        tx = payload.get("txCode", True)
        if not isinstance(tx, bool):
            raise MalformedValueError("txCode must be true or false", errors=[{"pointer": "/txCode", "detail": "boolean"}])
        request = {k: v for k, v in payload.items() if k not in ("configurations", "txCode", "format", "proof", "holder")}
        self.issuance.validated(provider, request)  # refused now, not at redemption
        now = datetime.now(UTC)
        offer_id = secrets.token_urlsafe(24)
        code = secrets.token_urlsafe(32)
        tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH)) if tx else None
        with self.db.transaction() as session:
            store.purge(session, before=now - timedelta(hours=1))
            offer = store.create_offer(
                session,
                offer_id=offer_id,
                provider_id=provider.id,
                pre_authorized_code=code,
                tx_code_hash=_sha256(f"{offer_id}:{tx_code}") if tx_code else None,
                configurations=list(configurations),
                request=request,
                now=now,
                expires_at=now + timedelta(seconds=self.settings.oid4vci_offer_ttl_seconds),
            )
        return {
            "id": offer.id,
            "credential_offer": self._credential_offer(provider, offer),
            "credential_offer_uri": self.offer_link(provider.slug, offer.id),
            "tx_code": tx_code,
            "expires_at": format_datetime_stamp(offer.expires_at),
        }

    def offer_uri(self, slug: str, offer_id: str) -> str:
        """§4.1.3: where the offer is served by reference."""
        return f"{self.issuer_id(slug)}/credential-offers/{offer_id}"

    def offer_link(self, slug: str, offer_id: str) -> str:
        """§4.1: the ``openid-credential-offer://`` link of the offer by reference (what a QR code carries)."""
        return "openid-credential-offer://?" + urllib.parse.urlencode({"credential_offer_uri": self.offer_uri(slug, offer_id)})

    def _credential_offer(self, provider: ProviderRecord, offer: store.OfferRecord) -> dict[str, Any]:
        grant: dict[str, Any] = {"pre-authorized_code": offer.pre_authorized_code}
        if offer.tx_code_hash:
            grant["tx_code"] = {
                "input_mode": "numeric",
                "length": TX_CODE_LENGTH,
                "description": f"The code {provider.legal_name} sent you separately",
            }
        return {
            "credential_issuer": self.issuer_id(provider.slug),
            "credential_configuration_ids": list(offer.configurations),
            "grants": {PRE_AUTHORIZED_GRANT: grant},
        }

    def _offer(self, offer_id: Any) -> store.OfferRecord:
        if not isinstance(offer_id, str) or len(offer_id) > 64:
            raise NotFoundError("no such offer")
        with self.db.read() as session:
            offer = store.get_offer(session, offer_id)
        if offer is None:
            raise NotFoundError("no such offer")
        return offer

    def credential_offer(self, slug: str, offer_id: str) -> dict[str, Any]:
        """§4.1.3: the offer object served by reference (while it can be redeemed)."""
        offer = self._offer(offer_id)
        provider = self.providers.by_id(offer.provider_id)
        if provider.slug != slug or offer.state != "offered" or offer.expires_at <= datetime.now(UTC):
            raise NotFoundError("no such offer, or it was used or has expired")
        return self._credential_offer(provider, offer)

    def offer_state(self, provider: ProviderRecord | None, offer_id: str) -> dict[str, Any]:
        """What the provider sees of its offer: ``offered``, ``redeemed`` or ``expired`` (burnt counts as expired), and
        the ids of the credentials issued from it. ``provider`` None: the learner's page (no credential ids)."""
        offer = self._offer(offer_id)
        if provider is not None and offer.provider_id != provider.id:
            raise NotFoundError("no such offer")
        if offer.state == "redeemed":
            state = "redeemed"
        elif offer.state == "burnt" or offer.expires_at <= datetime.now(UTC):
            state = "expired"
        else:
            state = "offered"
        owner = self.providers.by_id(offer.provider_id)
        view = {
            "id": offer.id,
            "state": state,
            "configurations": list(offer.configurations),
            "credential_ids": list(offer.credential_ids) if provider is not None else [],
            "created_at": format_datetime_stamp(offer.created_at),
            "expires_at": format_datetime_stamp(offer.expires_at),
            "redeemed_at": format_datetime_stamp(offer.redeemed_at) if offer.redeemed_at else None,
            "tx_code_required": offer.tx_code_hash is not None,
            "credential_offer_uri": self.offer_link(owner.slug, offer.id),
            "issuer": {"name": owner.legal_name, "id": self.issuer_id(owner.slug)},
        }
        if provider is None:
            view["title"] = _title(offer.request)
        return view

    # -- token endpoint (§6)

    def token(self, slug: str, form: dict[str, str], dpop_ctx: DpopContext) -> dict[str, Any]:
        """§6.1 / §6.2: an access token for a pre-authorized code (and its tx_code). ``resource``, the draft-era
        ``user_pin`` and other parameters the spec lets clients send are ignored."""
        if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
            raise OAuthError("unsupported_grant_type", "only the pre-authorized code grant is supported")
        code = form.get("pre-authorized_code")
        if not code:
            raise OAuthError("invalid_request", "pre-authorized_code is required")
        now = datetime.now(UTC)
        with self.db.read() as session:
            offer = store.offer_by_code(session, code) if len(code) <= 64 else None
        if offer is None or self.providers.by_id(offer.provider_id).slug != slug:
            raise OAuthError("invalid_grant", "the pre-authorized code is not known to this issuer")
        if offer.state not in ("offered", "token") or offer.expires_at <= now:  # "token": exchange_code decides
            raise OAuthError("invalid_grant", "the pre-authorized code was used, has expired, or its offer was burnt")
        if offer.tx_code_hash is not None:
            tx_code = form.get("tx_code")
            if not tx_code:
                raise OAuthError("invalid_request", "this offer needs its tx_code")
            if not hmac.compare_digest(_sha256(f"{offer.id}:{tx_code[:64]}"), offer.tx_code_hash):
                with self.db.transaction() as session:
                    failures = store.count_tx_code_failure(session, offer.id, burn_at=self.settings.oid4vci_tx_code_tries)
                left = max(self.settings.oid4vci_tx_code_tries - failures, 0)
                raise OAuthError("invalid_grant", f"wrong tx_code; {left} tries left" if left else "wrong tx_code; the offer is burnt")
        jkt, seen = None, None
        if dpop_ctx.proof is not None:
            proof, seen = self._dpop(dpop_ctx, f"{self.issuer_id(slug)}/token", None, "invalid_dpop_proof", 400)
            jkt = proof.jkt
        token = secrets.token_urlsafe(32)
        ttl = self.settings.oid4vci_token_ttl_seconds

        def exchange(session) -> None:  # in the group commit (``Database.grouped``): one conditional UPDATE decides
            if seen is not None:
                seen.record(session)
            if not store.exchange_code(session, offer.id, now=now):
                raise OAuthError("invalid_grant", "the pre-authorized code was used, has expired, or its offer was burnt")
            store.create_token(session, token_hash=_sha256(token), offer_id=offer.id, dpop_jkt=jkt, expires_at=now + timedelta(seconds=ttl))

        with _Seen.kept_on_failure(seen, self.db):
            self.db.grouped(exchange)
        return {"access_token": token, "token_type": "DPoP" if jkt else "Bearer", "expires_in": ttl}

    def _dpop(self, ctx: DpopContext, htu: str, access_token: str | None, error: str, status: int) -> tuple[dpop.DpopProof, _Seen]:
        """RFC 9449 §4.3 checks of the proof of this request, and its §11.1 replay record (``_Seen``): written in the
        same group-commit unit as the request's own writes, or alone if the request fails, so that a jti is never
        accepted twice and a refused request still uses its proof up, exactly as a record written first would."""
        now = datetime.now(UTC)
        max_age = timedelta(seconds=self.settings.oid4vci_proof_max_age_seconds)
        challenge = 'DPoP algs="ES256 EdDSA"' if status == 401 else None
        try:
            proof = dpop.verify_proof(ctx.proof, htm=ctx.method, htu=htu, now=now, max_age=max_age, access_token=access_token)
        except dpop.DpopError as exc:
            raise OAuthError(error, str(exc), status, www_authenticate=challenge and f'{challenge}, error="{error}"') from None
        replay = OAuthError(error, "the DPoP proof was used before (jti replay)", status, www_authenticate=challenge and f'{challenge}, error="{error}"')
        return proof, _Seen(_sha256(f"{htu} {proof.jti}"), now, now + 2 * max_age, replay)

    # -- nonce endpoint (§7)

    def nonce(self, slug: str) -> dict[str, Any]:
        """§7.2: a fresh ``c_nonce``, single-use, kept for ``oid4vci_nonce_ttl_seconds``."""
        self._provider(slug)
        value = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=self.settings.oid4vci_nonce_ttl_seconds)
        self.db.grouped(lambda session: store.create_nonce(session, value, expires_at=expires_at))
        return {"c_nonce": value}

    # -- credential endpoint (§8)

    def credential(self, slug: str, authorization: str | None, dpop_ctx: DpopContext, body: bytes) -> Redeemed:
        """§8.2 / §8.3: the credentials of the offer the access token belongs to, one per proof."""
        token, offer, seen = self._access(slug, authorization, dpop_ctx)
        with _Seen.kept_on_failure(seen, self.db):
            return self._redeem(slug, token, offer, seen, body)

    def _redeem(self, slug: str, token: store.TokenRecord, offer: store.OfferRecord, seen: _Seen | None, body: bytes) -> Redeemed:
        configuration, proofs = self._credential_request(body, offer)
        issuer = self.issuer_id(slug)
        holders = [self._proof(p, issuer) for p in proofs]
        now = datetime.now(UTC)
        nonces = list(dict.fromkeys(h.nonce for h in holders))
        stale = OAuthError("invalid_nonce", "the proof's nonce is not a fresh c_nonce of this issuer (get one from the nonce endpoint)")
        with self.db.read() as session:  # refused before signing; used up below, in the credentials' unit
            if not all(store.nonce_usable(session, nonce, now=now) for nonce in nonces):
                raise stale
        provider = self.providers.by_id(offer.provider_id)
        try:
            plans = self._plans(provider, configuration, offer.request, holders)
        except MicrocredError as exc:
            raise OAuthError("credential_request_denied", f"the offered credential cannot be issued now: {exc.detail}") from None

        def redeem(session, issued: list[Issued]) -> None:
            if seen is not None:  # the DPoP proof's jti, first: a replay stores nothing
                seen.record(session)
            for nonce in nonces:  # single use: the conditional UPDATE decides between concurrent requests
                if not store.consume_nonce(session, nonce, now=now):
                    raise OAuthError(stale.error, stale.description)
            ids = [one.id for one in issued]
            if not store.redeem(session, token_hash=token.token_hash, offer_id=offer.id, credential_ids=ids, now=datetime.now(UTC)):
                raise _unauthorized("invalid_token", "the access token was used or has expired", False)

        issued = self.issuance.issue_planned(provider, plans, redeem)
        return Redeemed([_wire(one) for one in issued], issued)

    def _access(self, slug: str, authorization: str | None, ctx: DpopContext) -> tuple[store.TokenRecord, store.OfferRecord, _Seen | None]:
        """RFC 6750 §2.1 / RFC 9449 §7.1: the access token of the request, valid, unused, and its DPoP proof if bound
        (with the proof's jti record to write, ``_Seen``)."""
        scheme, _, value = (authorization or "").partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme not in ("bearer", "dpop") or not value or len(value) > 128:
            raise OAuthError("invalid_token", "an access token is required", 401, www_authenticate='Bearer, DPoP algs="ES256 EdDSA"')
        with self.db.read() as session:
            token = store.get_token(session, _sha256(value))
            offer = store.get_offer(session, token.offer_id) if token else None
        bound = bool(token and token.dpop_jkt)
        if token is None or offer is None or token.used_at is not None or token.expires_at <= datetime.now(UTC) or offer.state != "token":
            raise _unauthorized("invalid_token", "the access token is unknown, used or expired", bound)
        if self.providers.by_id(offer.provider_id).slug != slug:
            raise _unauthorized("invalid_token", "the access token is not one of this issuer", bound)
        if bound:
            if scheme != "dpop" or ctx.proof is None:
                raise _unauthorized("invalid_token", "a DPoP-bound token needs the DPoP scheme and a DPoP proof", True)
            proof, seen = self._dpop(ctx, f"{self.issuer_id(slug)}/credential", value, "invalid_dpop_proof", 401)
            if not hmac.compare_digest(proof.jkt, token.dpop_jkt or ""):
                with _Seen.kept_on_failure(seen, self.db):
                    raise _unauthorized("invalid_dpop_proof", "the DPoP proof's key is not the token's", True)
            return token, offer, seen
        if scheme == "dpop":
            raise _unauthorized("invalid_token", "a Bearer token is sent with the Bearer scheme", False)
        return token, offer, None

    def _credential_request(self, body: bytes, offer: store.OfferRecord) -> tuple[Configuration, list[Any]]:
        """§8.2: the configuration asked for (one of the offer's) and the JWT proofs (``proofs.jwt``; ``proof`` too)."""
        try:
            request = strict_json.loads(body, max_bytes=MAX_CREDENTIAL_REQUEST_BYTES, max_depth=16)
        except MicrocredError as exc:
            raise OAuthError("invalid_credential_request", f"the credential request is not JSON: {exc.detail}") from None
        if not isinstance(request, dict):
            raise OAuthError("invalid_credential_request", "the credential request is a JSON object")
        if "credential_identifier" in request:
            raise OAuthError("unknown_credential_identifier", "this issuer issues by credential_configuration_id")
        config_id = request.get("credential_configuration_id")
        if not isinstance(config_id, str):
            raise OAuthError("invalid_credential_request", "credential_configuration_id is required")
        if config_id not in CONFIGURATIONS or config_id not in offer.configurations:
            raise OAuthError("unknown_credential_configuration", "the credential configuration is not one this offer has")
        proofs = request.get("proofs")
        if proofs is None and isinstance(request.get("proof"), dict):  # the single proof of the drafts before 1.0
            single = request["proof"]
            if single.get("proof_type") != "jwt":
                raise OAuthError("invalid_proof", "only proofs of type jwt are accepted")
            proofs = {"jwt": [single.get("jwt")]}
        if not isinstance(proofs, dict) or not proofs:
            raise OAuthError("invalid_proof", "the credential request needs proofs (proof of possession of the holder's key)")
        if set(proofs) != {"jwt"}:
            raise OAuthError("invalid_proof", "only proofs of type jwt are accepted")
        jwts = proofs["jwt"]
        if not isinstance(jwts, list) or not jwts:
            raise OAuthError("invalid_proof", "proofs.jwt is a non-empty array")
        if len(jwts) > self.settings.oid4vci_batch_size:
            raise OAuthError("invalid_credential_request", f"at most {self.settings.oid4vci_batch_size} proofs per request (batch_credential_issuance)")
        return CONFIGURATIONS[config_id], jwts

    def _proof(self, jwt: Any, issuer: str) -> _Holder:
        """§8.2.1.1 / Appendix F.1: ``typ``, ``alg`` (ES256, EdDSA), the key (``jwk`` or a did:key / did:jwk ``kid``, a
        public EC P-256 or OKP Ed25519 key), the signature, ``aud`` = the issuer, ``iat`` in the window, a ``nonce``."""
        try:
            key, did = None, None
            header = _peek_header(jwt)
            kid = header.get("kid")
            if "jwk" in header and kid is not None:
                raise dpop.DpopError("the proof names its key once: jwk or kid, not both")
            if "jwk" not in header:
                key, did = _key_of_kid(kid)
            read = dpop.read_key_jwt(jwt, typ=PROOF_TYP, max_chars=MAX_PROOF_CHARS, key=key)
        except dpop.DpopError as exc:
            raise OAuthError("invalid_proof", str(exc)) from None
        claims = read.payload
        aud = claims.get("aud")
        if not (aud == issuer or (isinstance(aud, list) and issuer in aud)):
            raise OAuthError("invalid_proof", "the proof's aud is not this credential issuer")
        iat = claims.get("iat")
        window = self.settings.oid4vci_proof_max_age_seconds
        if not isinstance(iat, int) or isinstance(iat, bool) or abs(datetime.now(UTC).timestamp() - iat) > window:
            raise OAuthError("invalid_proof", "the proof's iat is missing or outside the accepted window")
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not 0 < len(nonce) <= 64:
            raise OAuthError("invalid_nonce", "the proof needs a c_nonce from the nonce endpoint")
        return _Holder(read.jwk, did or did_jwk_from_jwk(read.jwk), nonce)

    def _plans(self, provider: ProviderRecord, configuration: Configuration, request: dict[str, Any], holders: list[_Holder]) -> list:
        """One plan per holder key, of the offer's request validated again now (as ``POST /microcredentials`` would)."""
        mc, spec_id, learner_ref = self.issuance.validated(provider, request)
        profile = self.providers.profile(provider)
        plans: list[Any] = []
        for holder in holders:
            if configuration.render == sd_jwt_vc.FORMAT:
                vct, integrity = self._vct_and_integrity()
                plans.append(SdJwtVcPlan(mc, profile, holder.jwk, vct, integrity, self.issuance.status_lists.token_url, learner_ref, spec_id))
            else:
                bound = mc.model_copy(update={"learner": mc.learner.model_copy(update={"id": holder.did})})
                alg = self._signing_alg(provider, configuration, holder)
                plans.append(MicrocredentialPlan(bound, profile, configuration.render, configuration.proof, learner_ref, spec_id, signing_alg=alg))
        return plans

    @staticmethod
    def _signing_alg(provider: ProviderRecord, configuration: Configuration, holder: _Holder) -> str | None:
        """Appendix A.1 / §12.2.4 ``credential_signing_alg_values_supported`` of ``jwt_vc_json`` (ES256 and EdDSA):
        the credential is signed with the algorithm of the wallet's own key proof, so a wallet that holds a P-256
        key (HAIP, DIIP: ES256 only) receives an ES256 credential, signed with the provider's P-256 key, and one that
        holds an Ed25519 key receives EdDSA. A did:key provider has only its Ed25519 key: EdDSA."""
        if configuration.format == "jwt_vc_json" and holder.jwk.get("kty") == "EC" and provider.did_method == "web":
            return "ES256"
        return None


@dataclass(frozen=True)
class _Seen:
    """A verified DPoP proof's jti record (RFC 9449 §11.1: its SHA-256 with the ``htu``), to write once.

    ``record`` runs inside the request's own group-commit unit (one write fewer than a transaction of its own): a
    jti seen before raises ``replay`` there, and the unit stores nothing. ``kept_on_failure`` writes it alone when
    the request fails after its proof was verified, so that, as when the record was written first, the proof is used
    up all the same and a replayed proof is told so before any other refusal."""

    digest: str
    now: datetime
    expires_at: datetime
    replay: OAuthError

    def record(self, session) -> None:
        if not store.record_jti(session, self.digest, now=self.now, expires_at=self.expires_at):
            raise OAuthError(self.replay.error, self.replay.description, self.replay.status, www_authenticate=self.replay.www_authenticate)

    @staticmethod
    @contextmanager
    def kept_on_failure(seen: _Seen | None, db) -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            if seen is None or (isinstance(exc, OAuthError) and exc.description == seen.replay.description):
                raise
            try:
                db.grouped(seen.record)
            except OAuthError as replay:
                raise replay from None
            raise


def _peek_header(jwt: Any) -> dict[str, Any]:
    if not isinstance(jwt, str) or len(jwt) > MAX_PROOF_CHARS or jwt.count(".") != 2:
        raise dpop.DpopError("a proof is a compact JWS of three parts")
    try:
        raw = decode(jwt.split(".", 1)[0], what="the proof's header", max_chars=encoded_length(dpop.MAX_HEADER_BYTES))
        header = strict_json.loads(raw, max_bytes=dpop.MAX_HEADER_BYTES, max_depth=8)
    except MicrocredError as exc:
        raise dpop.DpopError(exc.detail) from None
    if not isinstance(header, dict):
        raise dpop.DpopError("the proof's header is not a JSON object")
    return header


def _key_of_kid(kid: Any):
    """The key a proof's ``kid`` names: a did:key or did:jwk DID URL (anonymous pre-authorized access: no other)."""
    if not isinstance(kid, str) or len(kid) > 2048 or not kid.startswith(("did:key:", "did:jwk:")):
        raise dpop.DpopError("the proof's key must be a jwk header or a did:key / did:jwk kid")
    did = kid.split("#", 1)[0]
    try:
        method = resolve_did_key(did)["verificationMethod"][0] if did.startswith("did:key:") else {"type": "JsonWebKey", "publicKeyJwk": decode_did_jwk(did)}
        return public_key_from_method(method), did
    except MicrocredError as exc:
        raise dpop.DpopError(f"the proof's kid cannot be read: {exc.detail}") from None


def _wire(issued: Issued) -> Any:
    """§8.3: a credential as the wallet receives it: the JSON object of an ``ldp_vc``, the string of a JWT or SD-JWT."""
    if issued.proof in (vc_jose.PROOF_FORMAT, sd_jwt.PROOF_FORMAT):
        return issued.body.decode("ascii")
    return strict_json.loads(issued.body)


def _title(request: dict[str, Any]) -> str | None:
    record = request.get("microcredential")
    title = record.get("title") if isinstance(record, dict) else None
    if isinstance(title, dict):
        return next((v for v in title.values() if isinstance(v, str)), None)
    return title if isinstance(title, str) else None
