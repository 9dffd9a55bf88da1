"""The demo wallet as an OpenID4VCI 1.0 holder: the wallet side of the pre-authorized code flow (§3.5).

1. ``read_offer``: an ``openid-credential-offer://`` link (§4.1), the Credential Offer by value
   (``credential_offer``) or by reference (``credential_offer_uri``, §4.1.3, fetched), its
   ``pre-authorized_code`` grant and ``tx_code`` description (§4.1.1);
2. the Credential Issuer Metadata (§12.2.2: ``/.well-known/openid-credential-issuer`` inserted between the host and
   the path of the issuer identifier, whose ``credential_issuer`` must be the offer's, §12.2.3) and the Authorization
   Server Metadata (RFC 8414 §3.1, the same way; its ``issuer`` must be the one asked for, §3.3);
3. ``receive``: the token request (§6.1: the pre-authorized code and the tx_code the learner typed), a ``c_nonce``
   from the nonce endpoint (§7), a key proof JWT (``openid4vci-proof+jwt``, §8.2.1.1 / Appendix F.1) signed by the
   learner's holder key: the Ed25519 did:key for ``ldp_vc`` (the key that signs its presentations), a P-256 key for
   ``dc+sd-jwt`` (as a ``jwk``) and ``jwt_vc_json`` (as a did:jwk) when the configuration's
   ``proof_signing_alg_values_supported`` lists ES256, else the Ed25519 key; then the credential request (§8.2).

Every request goes to an ``IssuerTransport`` (``get`` / ``post``), so this module knows no HTTP: the demo wallet's
one (``wallet_demo/issuers.py``) answers the Credential Issuers of this same service from their own code, without a
network hop, as the OpenID4VP holder answers this service's verifier (``app/holder/oid4vp.py``); an offer naming
any other host is refused with the reason. Every value read from an issuer is size-checked before it is decoded.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Protocol

from app import strict_json
from app.dids.did_jwk import did_jwk_from_jwk
from app.errors import MalformedValueError, MicrocredError

SCHEME = "openid-credential-offer://"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
MAX_LINK = 16_384
MAX_OFFER_BYTES = 65_536
MAX_TX_CODE = 64
#: what each OID4VCI format is kept as (Appendix A)
MEDIA_TYPES = {"ldp_vc": "application/vc+ld+json", "jwt_vc_json": "application/vc+jwt", "dc+sd-jwt": "application/dc+sd-jwt"}


class IssuerTransport(Protocol):
    """How the holder reaches a Credential Issuer: JSON answers, or ``IssuerRefused`` with the OAuth error object."""

    def get(self, url: str) -> Any: ...

    def post(self, url: str, *, form: dict[str, str] | None = None, body: bytes | None = None, authorization: str | None = None) -> Any: ...


class IssuerRefused(MicrocredError):
    """The issuer answered with an error object (RFC 6749 §5.2, OID4VCI §8.3.1.2): ``error`` and its description."""

    code = "OID4VCI_REFUSED"
    status = 400
    title = "The issuer refused"

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description, code=_CODES.get(error, "OID4VCI_REFUSED"))
        self.error = error
        self.status = status if 400 <= status < 500 else 400


#: the OAuth errors the pages put in words (wallet_demo/wallet_pages.py); any other is "the issuer refused"
_CODES = {"invalid_grant": "OID4VCI_INVALID_GRANT", "not_found": "OID4VCI_OFFER_GONE", "invalid_request": "OID4VCI_INVALID_REQUEST"}


def _refused(detail: str) -> MalformedValueError:
    return MalformedValueError(detail, code="INVALID_CREDENTIAL_OFFER")


@dataclass
class Offered:
    """What an offer is for and who makes it, for the learner to decide on; and where to redeem it."""

    link: str
    issuer: str
    issuer_name: str
    pre_authorized_code: str
    #: §4.1.1 ``tx_code``: None when none is needed, else ``{"length", "input_mode", "description"}``
    tx_code: dict[str, Any] | None
    token_endpoint: str
    nonce_endpoint: str | None
    credential_endpoint: str
    #: configuration id -> {"format", "name", "proof_algs"} of the offered configurations the wallet can keep
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """A credential as the issuer sent it: its format, the bytes to keep and their media type."""

    configuration: str
    format: str
    body: bytes
    media_type: str


def well_known(identifier: str, name: str) -> str:
    """RFC 8414 §3.1 / OID4VCI §12.2.2: ``https://host/.well-known/{name}{path}`` of an identifier with a path."""
    parts = urllib.parse.urlsplit(identifier)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}{parts.path.rstrip('/')}", "", ""))


def _json_param(value: str, what: str) -> Any:
    if len(value.encode()) > MAX_OFFER_BYTES:
        raise _refused(f"{what} is larger than {MAX_OFFER_BYTES} bytes")
    try:
        return strict_json.loads(value, max_bytes=MAX_OFFER_BYTES, max_depth=16)
    except MicrocredError as exc:
        raise _refused(f"{what} is not JSON: {exc.detail}") from None


def _text(value: Any, limit: int = 2048) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _display_name(display: Any, lang: str = "en") -> str | None:
    if not isinstance(display, list):
        return None
    named = [d for d in display if isinstance(d, dict) and _text(d.get("name"), 200)]
    best = next((d for d in named if d.get("locale") == lang), named[0] if named else None)
    return best["name"] if best else None


def _offer_object(link: str, transport: IssuerTransport) -> dict[str, Any]:
    """§4.1: the Credential Offer of a link, by value or fetched by reference."""
    if not link.startswith(SCHEME) or len(link) > MAX_LINK:
        raise _refused(f"paste an {SCHEME} link (a credential offer)")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query, max_num_fields=8))
    if ("credential_offer" in params) == ("credential_offer_uri" in params):
        raise _refused("the link carries either credential_offer or credential_offer_uri (§4.1)")
    if "credential_offer" in params:
        offer = _json_param(params["credential_offer"], "credential_offer")
    else:
        uri = _text(params["credential_offer_uri"])
        if uri is None:
            raise _refused("credential_offer_uri is not a URL")
        offer = transport.get(uri)
    if not isinstance(offer, dict):
        raise _refused("the credential offer is not a JSON object")
    return offer


def _pre_authorized(offer: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """§4.1.1: the grant's ``pre-authorized_code`` and its ``tx_code`` description (None: no code to type)."""
    grants = offer.get("grants") if isinstance(offer.get("grants"), dict) else {}
    grant = grants.get(PRE_AUTHORIZED_GRANT)
    code = _text(grant.get("pre-authorized_code"), 1024) if isinstance(grant, dict) else None
    if code is None:
        raise _refused("this wallet redeems offers with a pre-authorized_code grant only (§4.1.1)")
    tx = grant.get("tx_code")
    if tx is None:
        return code, None
    if not isinstance(tx, dict):
        raise _refused("tx_code is an object (§4.1.1)")
    return code, {
        "length": tx.get("length") if isinstance(tx.get("length"), int) and not isinstance(tx.get("length"), bool) else None,
        "input_mode": "text" if tx.get("input_mode") == "text" else "numeric",
        "description": _text(tx.get("description"), 300) or "",
    }


def _metadata(issuer: str, transport: IssuerTransport) -> tuple[dict[str, Any], str]:
    """§12.2.2-3 the issuer's metadata (naming the offer's issuer) and RFC 8414 its authorization server's token
    endpoint (the server naming itself, §3.3)."""
    metadata = transport.get(well_known(issuer, "openid-credential-issuer"))
    if not isinstance(metadata, dict) or metadata.get("credential_issuer") != issuer:
        raise _refused("the issuer's metadata names another credential_issuer than the offer (§12.2.3)")
    if _text(metadata.get("credential_endpoint")) is None:
        raise _refused("the issuer's metadata has no credential_endpoint")
    servers = metadata.get("authorization_servers")
    server = servers[0] if isinstance(servers, list) and servers and _text(servers[0]) else issuer
    as_metadata = transport.get(well_known(server, "oauth-authorization-server"))
    if not isinstance(as_metadata, dict) or as_metadata.get("issuer") != server or _text(as_metadata.get("token_endpoint")) is None:
        raise _refused("the authorization server's metadata does not name it, or has no token_endpoint (RFC 8414 §3.3)")
    return metadata, as_metadata["token_endpoint"]


def _member(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _configurations(ids: list[str], metadata: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """§12.2.4 the offered configurations this wallet keeps: format, display name, proof algorithms, binding."""
    supported = _member(metadata, "credential_configurations_supported")
    out: dict[str, dict[str, Any]] = {}
    for config_id in ids:
        entry = _member(supported, config_id)
        if not isinstance(entry, dict) or entry.get("format") not in MEDIA_TYPES:
            continue  # a configuration this wallet cannot keep (or the metadata does not describe) is not offered to the learner
        algs = _member(_member(_member(entry, "proof_types_supported"), "jwt"), "proof_signing_alg_values_supported")
        display = _member(_member(entry, "credential_metadata"), "display") or entry.get("display")
        binding = entry.get("cryptographic_binding_methods_supported")
        out[config_id] = {
            "format": entry["format"],
            "name": _display_name(display) or config_id,
            "proof_algs": [a for a in algs if isinstance(a, str)] if isinstance(algs, list) else ["EdDSA"],
            "binding": [b for b in binding if isinstance(b, str)] if isinstance(binding, list) else [],
        }
    if not out:
        raise _refused("none of the offered credential configurations is one this wallet keeps (ldp_vc, jwt_vc_json, dc+sd-jwt)")
    return out


def read_offer(link: str, transport: IssuerTransport) -> Offered:
    """§4.1 the offer of a link, with the issuer's metadata and its authorization server's token endpoint."""
    link = (link or "").strip()
    offer = _offer_object(link, transport)
    issuer = _text(offer.get("credential_issuer"))
    ids = offer.get("credential_configuration_ids")
    if issuer is None or not isinstance(ids, list) or not ids or not all(_text(i, 200) for i in ids):
        raise _refused("the credential offer needs credential_issuer and credential_configuration_ids (§4.1.1)")
    code, tx_code = _pre_authorized(offer)
    metadata, token_endpoint = _metadata(issuer, transport)
    return Offered(
        link=link,
        issuer=issuer,
        issuer_name=_display_name(metadata.get("display")) or urllib.parse.urlsplit(issuer).netloc,
        pre_authorized_code=code,
        tx_code=tx_code,
        token_endpoint=token_endpoint,
        nonce_endpoint=_text(metadata.get("nonce_endpoint")),
        credential_endpoint=metadata["credential_endpoint"],
        configurations=_configurations(ids, metadata),
    )


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_proof(signer, *, issuer: str, nonce: str | None, kid: str | None, now: float | None = None) -> str:
    """§8.2.1.1 / Appendix F.1: ``typ`` openid4vci-proof+jwt, the key as ``kid`` (a DID URL) or ``jwk``; ``aud`` the
    Credential Issuer, ``iat``, and the ``c_nonce``. Pre-authorized and anonymous: no ``iss`` (§F.1)."""
    alg = "ES256" if signer.key_type == "P-256" else "EdDSA"
    header: dict[str, Any] = {"typ": PROOF_TYP, "alg": alg}
    if kid:
        header["kid"] = kid
    else:
        header["jwk"] = signer.public_jwk()
    claims: dict[str, Any] = {"aud": issuer, "iat": int(time.time() if now is None else now)}
    if nonce:
        claims["nonce"] = nonce
    signing_input = _b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64u(json.dumps(claims, separators=(",", ":")).encode())
    return signing_input + "." + _b64u(signer.sign(signing_input.encode("ascii")))


def wants_p256(offered: Offered, config_id: str) -> bool:
    """The SD-JWT VC and jwt_vc_json configurations get the P-256 key when the issuer takes ES256 proofs (HAIP)."""
    c = offered.configurations[config_id]
    return c["format"] in ("dc+sd-jwt", "jwt_vc_json") and "ES256" in c["proof_algs"]


def receive(offered: Offered, config_id: str, tx_code: str | None, signer, *, did: str | None, transport: IssuerTransport) -> Received:
    """§6 token, §7 nonce, §8 credential: one credential of ``config_id`` bound to ``signer`` (named by ``did``, a
    did:key, or for a P-256 key by its did:jwk unless the configuration binds by ``jwk``)."""
    if config_id not in offered.configurations:
        raise _refused("choose one of the offered credentials")
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offered.pre_authorized_code}
    if offered.tx_code is not None:
        tx_code = (tx_code or "").strip()
        if not tx_code or len(tx_code) > MAX_TX_CODE:
            raise MalformedValueError("type the code the issuer sent you", code="OID4VCI_TX_CODE_MISSING")
        form["tx_code"] = tx_code
    token = transport.post(offered.token_endpoint, form=form)
    access = _text(token.get("access_token"), 1024) if isinstance(token, dict) else None
    if access is None or str(token.get("token_type", "")).lower() != "bearer":
        raise _refused("the token endpoint answered no Bearer access token")
    nonce = None
    if offered.nonce_endpoint:
        answer = transport.post(offered.nonce_endpoint)
        nonce = _text(answer.get("c_nonce"), 512) if isinstance(answer, dict) else None
    configuration = offered.configurations[config_id]
    kid = None
    if signer.key_type == "P-256":
        if "jwk" not in configuration["binding"]:
            kid = did_jwk_from_jwk(signer.public_jwk()) + "#0"
    elif did:
        kid = f"{did}#{did.removeprefix('did:key:')}"
    proof = key_proof(signer, issuer=offered.issuer, nonce=nonce, kid=kid)
    request = json.dumps({"credential_configuration_id": config_id, "proofs": {"jwt": [proof]}}).encode()
    answer = transport.post(offered.credential_endpoint, body=request, authorization=f"Bearer {access}")
    credentials = answer.get("credentials") if isinstance(answer, dict) else None
    if not isinstance(credentials, list) or len(credentials) != 1 or not isinstance(credentials[0], dict) or "credential" not in credentials[0]:
        raise _refused("the credential endpoint answered no credential (§8.3)")
    credential = credentials[0]["credential"]
    fmt = configuration["format"]
    if fmt == "ldp_vc":
        if not isinstance(credential, dict):
            raise _refused("an ldp_vc credential is a JSON object")
        body = strict_json.dumps(credential).encode()
    else:
        if not isinstance(credential, str) or not credential.isascii():
            raise _refused(f"a {fmt} credential is a compact string")
        body = credential.encode("ascii")
    return Received(config_id, fmt, body, MEDIA_TYPES[fmt])
