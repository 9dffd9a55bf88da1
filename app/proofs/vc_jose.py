"""VC-JOSE-COSE §3.1 (Securing with JOSE): credentials as ``application/vc+jwt`` compact JWS.

Securing signs the credential itself as the JWS payload (VC-JOSE-COSE §3.1.1), adding the JWT claims
``iss`` (= the credential's issuer), ``jti``, ``iat``, ``nbf``/``exp`` (from validFrom/validUntil).
Signing goes through the ``Signer`` interface, so a remote signer or HSM works unchanged.

Verification follows security-notes.md §8: compact JWS only (a JWE is refused); ``typ`` must be
``vc+jwt``; the algorithm is pinned to the key type (EdDSA ↔ Ed25519, ES256 ↔ P-256), never ``none``
or HMAC; the key comes only from the verification method that ``kid`` names, resolved through the DID
document, never from ``jwk``/``jku``/``x5u``/``x5c`` header members (a token naming them is refused);
``iss`` must equal the credential's issuer; ``exp``/``nbf`` and ``validFrom``/``validUntil`` are honoured.
VC 1.1 JWTs (a ``vc`` claim, VC Data Model 1.1 §6.3.1) are read too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from app import strict_json
from app.dids.resolver import relationship_allows
from app.errors import CryptoError, MicrocredError, ProofError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encode as _b64u
from app.keys.b64url import encoded_length
from app.keys.methods import public_key_from_method
from app.keys.signer import ED25519, P256, Signer
from app.proofs.data_integrity import ProofResult, ResolveMethod, VerificationResult
from app.vcdm import VC1, issuer_id
from app.xsd import parse_datetime_stamp

MEDIA_TYPE = "application/vc+jwt"
TYP = "vc+jwt"
#: A VC Data Model 1.1 credential (a Europass EDC) secured with JOSE: VC-JOSE-COSE §3.1.1 defines ``vc+jwt`` for
#: VC 2.0 credentials only, so it is a VC DM 1.1 §6.3.1 JWT (``typ: JWT``, the credential in the ``vc`` claim),
#: whose media type is RFC 7519's ``application/jwt`` (§10.3.1).
LEGACY_MEDIA_TYPE = "application/jwt"
LEGACY_TYP = "JWT"
#: The name a request gives this proof format (``proof`` of POST /microcredentials, ``proofFormat`` of the VC API).
PROOF_FORMAT = "vc+jwt"
ALG_FOR_KEY = {ED25519: "EdDSA", P256: "ES256"}
KEY_FOR_ALG = {alg: key_type for key_type, alg in ALG_FOR_KEY.items()}
_FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256")
JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf")
LEEWAY = timedelta(seconds=60)


#: Most bytes of a JOSE header this service reads (``alg``, ``typ``, ``cty`` and a ``kid`` DID URL of at
#: most 2048 characters, DID Core §3.1 as app.dids.resolver caps it), and of a signature (EdDSA and ES256: 64).
MAX_HEADER_BYTES = 4096
MAX_SIGNATURE_BYTES = 64
#: A payload is at most what strict_json.loads parses by default (the request body limit's default).
MAX_PAYLOAD_BYTES = 1_048_576


def _b64u_decode(part: str, what: str, max_bytes: int) -> bytes:
    """RFC 7515 §7.1: a JWS part, length-checked before it is decoded (app.keys.b64url)."""
    if not part:
        raise ProofError(f"JWS {what} is empty", code="MALFORMED_PROOF_ERROR")
    try:
        return b64u_decode(part, what=f"JWS {what}", max_chars=encoded_length(max_bytes), code="MALFORMED_PROOF_ERROR")
    except CryptoError as exc:
        raise ProofError(exc.detail, code="MALFORMED_PROOF_ERROR") from None


def secure(credential: dict[str, Any], signer: Signer, *, now: datetime | None = None, kid: str | None = None) -> str:
    """The credential as a compact JWS with ``typ: vc+jwt`` (VC-JOSE-COSE §3.1.1); ``kid`` names another
    verification method of the same key (its JsonWebKey form), the signer's own by default."""
    if not isinstance(credential, dict) or "proof" in credential:
        raise ProofError("a credential secured with JOSE is a JSON object without an embedded proof", code="PROOF_GENERATION_ERROR")
    alg = ALG_FOR_KEY.get(signer.key_type)
    if alg is None:
        raise ProofError(f"no JOSE algorithm for {signer.key_type} keys", code="UNSUPPORTED_KEY_TYPE")
    iss = issuer_id(credential)
    if not iss:
        raise ProofError("the credential has no issuer", code="PROOF_GENERATION_ERROR")
    now = now or datetime.now(UTC)
    if is_vc1(credential):
        return _secure_vc1(credential, signer, alg, iss, now, kid)
    payload = dict(credential)
    payload["iss"] = iss
    payload["iat"] = int(now.timestamp())
    if isinstance(credential.get("id"), str):
        payload["jti"] = credential["id"]
    if "validFrom" in credential:
        payload["nbf"] = int(parse_datetime_stamp(credential["validFrom"], field="validFrom").timestamp())
    if "validUntil" in credential:
        payload["exp"] = int(parse_datetime_stamp(credential["validUntil"], field="validUntil").timestamp())
    header = {"alg": alg, "kid": kid or signer.verification_method, "typ": TYP, "cty": "vc"}
    signing_input = _b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64u(strict_json.dumps(payload).encode())
    return signing_input + "." + _b64u(signer.sign(signing_input.encode("ascii")))


def is_vc1(credential: dict[str, Any]) -> bool:
    ctx = credential.get("@context")
    return (ctx[0] if isinstance(ctx, list) and ctx else ctx) == VC1


def media_type(credential: dict[str, Any]) -> str:
    """The media type of ``credential`` secured with JOSE: ``application/vc+jwt`` (VC 2.0) or ``application/jwt`` (VC 1.1)."""
    return LEGACY_MEDIA_TYPE if is_vc1(credential) else MEDIA_TYPE


def _secure_vc1(credential: dict[str, Any], signer: Signer, alg: str, iss: str, now: datetime, kid: str | None) -> str:
    """VC DM 1.1 §6.3.1 JWT encoding: ``iss`` the issuer, ``nbf`` the issuanceDate, ``exp`` the expirationDate, ``jti``
    the id, ``sub`` the subject's id, used "in addition to" the credential's own properties, which the ``vc`` claim
    keeps whole (so the credential read back is the credential signed)."""
    payload: dict[str, Any] = {"iss": iss, "iat": int(now.timestamp())}
    if "issuanceDate" in credential:
        payload["nbf"] = int(parse_datetime_stamp(credential["issuanceDate"], field="issuanceDate").timestamp())
    if "expirationDate" in credential:
        payload["exp"] = int(parse_datetime_stamp(credential["expirationDate"], field="expirationDate").timestamp())
    if isinstance(credential.get("id"), str):
        payload["jti"] = credential["id"]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        payload["sub"] = subject["id"]
    payload["vc"] = credential
    header = {"alg": alg, "kid": kid or signer.verification_method, "typ": LEGACY_TYP}
    signing_input = _b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64u(strict_json.dumps(payload).encode())
    return signing_input + "." + _b64u(signer.sign(signing_input.encode("ascii")))


def _jwk_for_method(method: dict[str, Any], alg: str) -> jwk.JWK:
    """A jwcrypto key from a verification method, pinned to the algorithm's key type (security-notes §8)."""
    return jwk.JWK(**public_key_from_method(method, KEY_FOR_ALG[alg]).jwk())


@dataclass
class JoseVerification:
    result: VerificationResult
    #: the credential from the payload (JWT claims removed), when the token could be read
    credential: dict[str, Any] | None
    header: dict[str, Any] | None
    #: the JWT claims set as signed (``exp``/``nbf`` for the validity check of a caller)
    claims: dict[str, Any] | None = None


def verify(
    token: str,
    resolve_method: ResolveMethod,
    *,
    clock: Callable[[], datetime] | None = None,
    expected_purpose: str = "assertionMethod",
    expected_typ: str = TYP,
    check_validity: bool = True,
    presentation: bool = False,
    challenge: str | None = None,
    domain: str | None = None,
) -> JoseVerification:
    """Verify a ``vc+jwt``; never raises for a bad token, returns the reasons instead.

    ``check_validity=False`` leaves exp/nbf and validFrom/validUntil to a caller that reports the
    validity period as a check of its own (the verifier's pipeline). ``presentation=True`` reads a
    presentation (VC-JOSE-COSE §3.2 ``vp+jwt``, or VC DM 1.1 §6.3.1 a ``vp`` claim with ``typ: JWT``): ``iss`` is
    the holder; a ``challenge`` must equal the ``nonce`` claim and a ``domain`` be the ``aud`` (or one of them).
    """
    now = (clock or (lambda: datetime.now(UTC)))()
    proof = ProofResult(False, type="vc+jwt")
    header: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None
    try:
        if not isinstance(token, str):
            raise ProofError("a VC-JOSE credential is a compact JWS string", code="PARSING_ERROR")
        token = token.strip()
        parts = token.split(".")
        if len(parts) == 5:
            raise ProofError("encrypted JWTs (JWE) are not accepted", code="MALFORMED_PROOF_ERROR")
        if len(parts) != 3:
            raise ProofError("a compact JWS has three dot-separated parts", code="PARSING_ERROR")
        # RFC 7515 §7.1: every part is length-checked before it is decoded (app.keys.b64url); the payload is at
        # most what strict_json would parse, the signature exactly what EdDSA or ES256 writes.
        header = strict_json.loads(_b64u_decode(parts[0], "header", MAX_HEADER_BYTES), max_depth=8)
        if not isinstance(header, dict):
            raise ProofError("the JWS header is not a JSON object", code="MALFORMED_PROOF_ERROR")
        payload = strict_json.loads(_b64u_decode(parts[1], "payload", MAX_PAYLOAD_BYTES))
        if not isinstance(payload, dict):
            raise ProofError("the JWS payload is not a JSON object", code="MALFORMED_PROOF_ERROR")
        credential = _presentation_from_payload(payload) if presentation else _credential_from_payload(payload)
        claims = payload
        alg = header.get("alg")
        proof.cryptosuite = alg if isinstance(alg, str) else None
        _check_header(header, payload, expected_typ, presentation)
        iss = payload.get("iss")
        issuer = holder_id(credential) if presentation else issuer_id(credential)
        if iss is not None and iss != issuer:
            raise ProofError(
                f"the JWT iss does not match the {'presentation' if presentation else 'credential'}'s {'holder' if presentation else 'issuer'}",
                code="PROOF_VERIFICATION_ERROR",
            )
        if presentation:
            _check_nonce_and_audience(payload, challenge, domain)
        _b64u_decode(parts[2], "signature", MAX_SIGNATURE_BYTES)  # before jwcrypto decodes it
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ProofError("the JWS header names no kid", code="INVALID_VERIFICATION_METHOD")
        if kid.startswith("#"):
            kid = f"{issuer}{kid}"
        proof.verification_method = kid
        proof.proof_purpose = expected_purpose
        method, controller_doc = resolve_method(kid)
        key = _jwk_for_method(method, alg)
        proof.controller = method.get("controller") if isinstance(method.get("controller"), str) else controller_doc.get("id")
        proof.purpose_authorized = relationship_allows(controller_doc, kid, expected_purpose)
        try:
            obj = jws.JWS()
            obj.deserialize(token)
            obj.allowed_algs = [alg]
            obj.verify(key, alg=alg)
        except (JWException, ValueError, TypeError):
            raise ProofError("the JWS signature does not match", code="PROOF_VERIFICATION_ERROR") from None
        if check_validity:
            _check_times(payload, credential, now)
        proof.verified = True
        return JoseVerification(VerificationResult(True, [proof]), credential, header, claims)
    except MicrocredError as exc:
        proof.error, proof.reason = (
            exc.code if exc.code.endswith("_ERROR") or exc.code == "INVALID_VERIFICATION_METHOD" else "PROOF_VERIFICATION_ERROR",
            exc.detail,
        )
        return JoseVerification(VerificationResult(False, [proof], proof.error, proof.reason), credential, header, claims)


def _check_header(header: dict[str, Any], payload: dict[str, Any], expected_typ: str, presentation: bool) -> None:
    """security-notes §8: EdDSA or ES256 only, no JWE, no key material in the header, no critical extensions, and the
    ``typ`` VC-JOSE-COSE names (``JWT`` or none for a VC DM 1.1 §6.3 token with a ``vc``/``vp`` claim)."""
    alg = header.get("alg")
    if alg not in ("EdDSA", "ES256"):
        raise ProofError(f"JWS algorithm {str(alg)[:20]} is not accepted (EdDSA or ES256 only)", code="PROOF_VERIFICATION_ERROR")
    if "enc" in header:
        raise ProofError("encrypted JWTs (JWE) are not accepted", code="MALFORMED_PROOF_ERROR")
    for name in _FORBIDDEN_HEADERS:
        if name in header:
            raise ProofError(f"keys are never taken from the token: header member {name} is refused", code="INVALID_VERIFICATION_METHOD")
    if header.get("crit"):
        raise ProofError("critical JWS header extensions are not supported", code="MALFORMED_PROOF_ERROR")
    typ = header.get("typ")
    legacy = ("vp" if presentation else "vc") in payload
    if typ != expected_typ and not (legacy and typ in (None, "JWT")):
        raise ProofError(f"JWS typ must be {expected_typ}, not {str(typ)[:30]}", code="MALFORMED_PROOF_ERROR")


def _numeric_date(value: Any, claim: str) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 253402300800:
        raise ProofError(f"JWT {claim} must be a NumericDate (RFC 7519 §2)", code="MALFORMED_PROOF_ERROR")
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _credential_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential a JWT carries. VC Data Model 1.1 §6.3.2 (JWT decoding) for a ``vc`` claim: ``iss`` is the
    issuer (its ``id`` when the issuer is an object), ``nbf`` the issuanceDate, ``exp`` the expirationDate, ``jti``
    the id and ``sub`` the id of the credential subject, each filled in where the credential lacks it. Otherwise
    VC-JOSE-COSE §3.1.1: the payload is the credential, beside registered JWT claims."""
    if "vc" not in payload:
        return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    vc = payload["vc"]
    if not isinstance(vc, dict):
        raise ProofError("the vc claim is not a JSON object", code="MALFORMED_PROOF_ERROR")
    credential = dict(vc)
    iss = payload.get("iss")
    if isinstance(iss, str):
        issuer = credential.get("issuer")
        if issuer is None:
            credential["issuer"] = iss
        elif isinstance(issuer, dict) and "id" not in issuer:
            credential["issuer"] = {**issuer, "id": iss}
    for claim, prop in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if claim in payload and prop not in credential:
            credential[prop] = _numeric_date(payload[claim], claim)
    if isinstance(payload.get("jti"), str) and "id" not in credential:
        credential["id"] = payload["jti"]
    subject = credential.get("credentialSubject")
    if isinstance(payload.get("sub"), str) and isinstance(subject, dict) and "id" not in subject:
        credential["credentialSubject"] = {**subject, "id": payload["sub"]}
    return credential


def holder_id(presentation: dict[str, Any]) -> str | None:
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    return holder if isinstance(holder, str) else None


def _presentation_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The presentation a JWT carries: VC DM 1.1 §6.3.2 for a ``vp`` claim (``iss`` is the holder, ``jti`` the
    id, each filled in where the presentation lacks it); otherwise VC-JOSE-COSE §3.2: the payload itself."""
    if "vp" not in payload:
        return {k: v for k, v in payload.items() if k not in JWT_CLAIMS + ("nonce",)}
    vp = payload["vp"]
    if not isinstance(vp, dict):
        raise ProofError("the vp claim is not a JSON object", code="MALFORMED_PROOF_ERROR")
    presentation = dict(vp)
    if isinstance(payload.get("iss"), str) and "holder" not in presentation:
        presentation["holder"] = payload["iss"]
    if isinstance(payload.get("jti"), str) and "id" not in presentation:
        presentation["id"] = payload["jti"]
    return presentation


def _check_nonce_and_audience(payload: dict[str, Any], challenge: str | None, domain: str | None) -> None:
    """VC DM 1.1 §6.3.1: a presentation's challenge is the JWT ``nonce``, its domain the ``aud``."""
    if challenge is not None and payload.get("nonce") != challenge:
        raise ProofError("the presentation's nonce is not the expected challenge", code="INVALID_CHALLENGE_ERROR")
    if domain is not None:
        aud = payload.get("aud")
        if not (aud == domain or (isinstance(aud, list) and domain in aud)):
            raise ProofError("the presentation's aud is not the expected domain", code="INVALID_DOMAIN_ERROR")


def claims_validity(claims: dict[str, Any] | None, now: datetime) -> str | None:
    """Why a JWT is outside its own validity window (RFC 7519 §4.1.4 exp, §4.1.5 nbf; 60 s leeway), or None.

    VC-JOSE-COSE §3.1.1 leaves the validity period to validFrom/validUntil *and* the JWT claims: a token whose
    ``exp`` has passed is expired even when the credential names no validUntil."""
    if not claims:
        return None
    ts = now.timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    for name, value in (("exp", exp), ("nbf", nbf)):
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            return f"JWT {name} must be a NumericDate (RFC 7519 §2)"
    if exp is not None and ts > exp + LEEWAY.total_seconds():
        return f"the JWT expired (exp {_numeric_date(exp, 'exp')})"
    if nbf is not None and ts + LEEWAY.total_seconds() < nbf:
        return f"the JWT is not valid before {_numeric_date(nbf, 'nbf')} (nbf)"
    return None


def _check_times(payload: dict[str, Any], credential: dict[str, Any], now: datetime) -> None:
    for claim in ("exp", "nbf", "iat"):
        if claim in payload and (not isinstance(payload[claim], (int, float)) or isinstance(payload[claim], bool)):
            raise ProofError(f"JWT {claim} must be a number (RFC 7519 §2 NumericDate)", code="MALFORMED_PROOF_ERROR")
    ts = now.timestamp()
    if "exp" in payload and ts > payload["exp"] + LEEWAY.total_seconds():
        raise ProofError("the JWT has expired (exp)", code="PROOF_VERIFICATION_ERROR")
    if "nbf" in payload and ts + LEEWAY.total_seconds() < payload["nbf"]:
        raise ProofError("the JWT is not yet valid (nbf)", code="PROOF_VERIFICATION_ERROR")
    if "validUntil" in credential and parse_datetime_stamp(credential["validUntil"], field="validUntil") < now:
        raise ProofError("the credential has expired (validUntil)", code="PROOF_VERIFICATION_ERROR")
    if "validFrom" in credential and parse_datetime_stamp(credential["validFrom"], field="validFrom") > now + LEEWAY:
        raise ProofError("the credential is not yet valid (validFrom)", code="PROOF_VERIFICATION_ERROR")
