"""The demo wallet as an OpenID4VP 1.0 holder: read an ``openid4vp://`` request, say what is asked and by whom, find
the learner's credentials that answer its DCQL query, and answer with the credential and claims the learner chose.

Requests (§5): by reference (``request_uri``: a Request Object, ``typ: oauth-authz-req+jwt``, whose signature is
checked with the key of its ``decentralized_identifier:`` client id, a did:jwk, §5.9.3), or by value under
``redirect_uri:`` (unsigned, as the spec requires). The demo wallet answers requests of the verifier on this same
service only: it reads the Request Object from that verifier and hands it the ``direct_post`` response (§8.2)
directly, no network hop (a request naming another host is refused with the reason). Presentations: an SD-JWT VC
with the Disclosures of the chosen claims and a Key Binding JWT (RFC 9901 §4.3, ``nonce``, ``aud`` = client id), or a
Data Integrity presentation (``challenge`` = nonce, ``domain`` = client id, B.1.3.2).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from app import strict_json
from app.dids.did_jwk import decode_did_jwk
from app.errors import MalformedValueError
from app.keys.b64url import decode as b64u_decode
from app.keys.methods import public_key_from_method
from app.proofs import sd_jwt
from app.verification import dcql
from app.verification.oid4vp import DID_PREFIX, REDIRECT_PREFIX, REQUEST_TYP, SCHEME

MAX_LINK = 16_384


@dataclass
class Asked:
    """What a request asks, for the learner to decide on."""

    request_id: str
    client_id: str
    verifier_name: str
    purpose: str
    signed: bool
    nonce: str
    state: str
    response_uri: str
    query: dict[str, Any]
    #: holding id -> (credential query id, format, claim names a learner may choose to disclose, claims required)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


def _refused(detail: str) -> MalformedValueError:
    return MalformedValueError(detail, code="INVALID_AUTHORIZATION_REQUEST")


def _verify_request_object(token: str, client_id: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 1_048_576:
        raise _refused("the Request Object is not a compact JWS")
    header = strict_json.loads(b64u_decode(parts[0]), max_bytes=4096, max_depth=8)
    claims = strict_json.loads(b64u_decode(parts[1]), max_depth=32)
    if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("typ") != REQUEST_TYP or header.get("alg") != "ES256":
        raise _refused(f"the Request Object must be typ {REQUEST_TYP}, alg ES256")
    did = client_id.removeprefix(DID_PREFIX)
    if not client_id.startswith(DID_PREFIX + "did:jwk:") or not str(header.get("kid", "")).startswith(did + "#"):
        raise _refused("the Request Object's kid is not a key of its decentralized_identifier: client id")
    key = public_key_from_method({"type": "JsonWebKey", "publicKeyJwk": decode_did_jwk(did)})
    if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), b64u_decode(parts[2])):
        raise _refused("the Request Object's signature does not match its client id's key")
    if claims.get("client_id") != client_id:
        raise _refused("the Request Object's client_id is not the one of the link (§5.7)")
    return claims


def read_request(link: str, verifier) -> dict[str, Any]:
    """The request's parameters from an ``openid4vp://`` link, the Request Object's signature checked."""
    link = (link or "").strip()
    if not link.startswith(SCHEME) or len(link) > MAX_LINK:
        raise _refused(f"paste an {SCHEME} link (a request from a verifier)")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query, max_num_fields=16))
    client_id = params.get("client_id", "")
    own = verifier.base_url + "/presentation-requests/"
    if "request_uri" in params:
        uri = params["request_uri"]
        if not uri.startswith(own) or not uri.endswith("/request"):
            raise _refused("this demo wallet answers the requests of this service's verifier only")
        request_id = uri[len(own) : -len("/request")]
        claims = _verify_request_object(verifier.request_object(request_id), client_id)
        claims["_signed"] = True
    elif client_id.startswith(REDIRECT_PREFIX):
        claims = dict(params)
        for name in ("dcql_query", "client_metadata"):
            try:
                claims[name] = json.loads(params.get(name, "{}"))
            except ValueError:
                raise _refused(f"{name} is not JSON") from None
        if client_id != REDIRECT_PREFIX + claims.get("response_uri", ""):
            raise _refused("a redirect_uri: client id must be the response_uri (§5.9.3)")
        claims["_signed"] = False
    else:
        raise _refused("the request has neither a request_uri nor a redirect_uri: client id")
    response_uri = claims.get("response_uri", "")
    if not isinstance(response_uri, str) or not response_uri.startswith(own) or claims.get("response_mode") != "direct_post":
        raise _refused("this demo wallet answers direct_post requests of this service's verifier only")
    claims["_request_id"] = response_uri[len(own) :].removesuffix("/response")
    return claims


def asked(claims: dict[str, Any], holdings: list[tuple[str, str, Any, dict[str, Any] | None]]) -> Asked:
    """What the request asks and which holdings answer it: ``holdings`` is ``[(id, format, body, credential)]``
    with ``format`` ``dc+sd-jwt`` or ``ldp_vc`` and ``credential`` what it says (an SD-JWT VC's claims in full)."""
    query = dcql.validate(claims.get("dcql_query"))
    metadata = claims.get("client_metadata") if isinstance(claims.get("client_metadata"), dict) else {}
    out = Asked(
        request_id=claims["_request_id"],
        client_id=claims["client_id"],
        verifier_name=str(metadata.get("client_name") or claims["client_id"])[:200],
        purpose=str(metadata.get("purpose") or "")[:500],
        signed=claims["_signed"],
        nonce=claims["nonce"],
        state=claims["state"],
        response_uri=claims["response_uri"],
        query=query,
    )
    for holding_id, fmt, _, credential in holdings:
        for q in query["credentials"]:
            if dcql.match(q, fmt, credential).ok:
                required = [str(c["path"][0]) for c in q.get("claims", []) if c["path"]]
                names = sorted(set(credential) - set(sd_jwt_plain(credential))) if fmt == "dc+sd-jwt" else []
                out.options[holding_id] = {"query_id": q["id"], "format": fmt, "claims": names, "required": required}
                break
    return out


def sd_jwt_plain(claims: dict[str, Any]) -> set[str]:
    """The claims an SD-JWT VC always shows (never selectively disclosable here)."""
    from app.credentials.sd_jwt_vc import NEVER_DISCLOSABLE

    return set(NEVER_DISCLOSABLE) | {"cnf", "status", "vct#integrity", "iat", "nbf", "exp", "iss", "vct"}


def sd_jwt_presentation(body: str, chosen: set[str], signer, *, nonce: str, client_id: str) -> str:
    """RFC 9901 §4: the Disclosures of the chosen claims and a Key Binding JWT for this request."""
    return sd_jwt.present(body, lambda name, _: name in chosen, holder=signer, aud=client_id, nonce=nonce)


def answer(verifier, request: Asked, query_id: str, presentation: Any) -> dict[str, Any]:
    """§8.2 direct_post to this service's verifier: ``vp_token`` keyed by the credential query id, and ``state``."""
    form = {"vp_token": json.dumps({query_id: [presentation]}), "state": request.state}
    return verifier.respond(request.request_id, form)
