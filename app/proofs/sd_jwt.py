"""RFC 9901 (Selective Disclosure for JWTs): issuing an SD-JWT, presenting it, and verifying a presentation.

Issuance (RFC 9901 §4): every claim the caller names as disclosable becomes a Disclosure
``[salt, name, value]`` (§4.2.1; a 128-bit random salt, §4.2.1 and §9.3), replaced in the payload by its
digest in ``_sd`` (sorted, §4.2.4.1), with ``_sd_alg: sha-256`` (§4.1.1). The Issuer-signed JWT goes through the
``Signer`` interface (EdDSA for Ed25519, ES256 for P-256), like VC-JOSE. The serialization is
``<JWT>~<Disclosure 1>~…~<Disclosure N>~`` (§4), with a Key Binding JWT after the last tilde in a presentation
(§4.3).

Verification (RFC 9901 §7.1 and §7.3): the header's ``alg`` pinned to the key type (no ``none``, no HMAC), the key
only from the verification method ``kid`` names (never ``jwk``/``jku``/``x5c`` headers, as in
``app.proofs.vc_jose``), the signature, then every Disclosure: its digest must appear exactly once in the payload
(§7.1 step 4: a Disclosure not referenced, or two with the same digest, reject the whole SD-JWT), a claim name must
not be ``_sd``/``...`` or already present, and nested (recursive) and array-element Disclosures are processed as
§4.2.6 and §4.2.2 describe. A Key Binding JWT (§4.3) is checked with the holder's ``cnf.jwk`` (RFC 7800 §3.2):
``typ: kb+jwt``, ``iat`` within a window, ``nonce`` and ``aud`` as the verifier expects, and ``sd_hash`` over the
presentation as received (§4.3.1). Every encoded part is length-checked before it is decoded.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app import strict_json
from app.dids.resolver import relationship_allows
from app.errors import CryptoError, MicrocredError, ProofError
from app.keys.b64url import decode as b64u_decode
from app.keys.b64url import encode as b64u
from app.keys.b64url import encoded_length
from app.keys.methods import PublicKey, public_key_from_method
from app.keys.signer import ED25519, P256, Signer
from app.proofs.data_integrity import ProofResult, ResolveMethod, VerificationResult

#: The SD-JWT VC media type and ``typ`` (SD-JWT VC draft §3.1); ``vc+sd-jwt`` is the earlier name, still read.
TYP = "dc+sd-jwt"
ACCEPTED_TYPS = ("dc+sd-jwt", "vc+sd-jwt")
MEDIA_TYPE = "application/dc+sd-jwt"
#: The name a request gives this proof format (``proof`` of a stored credential).
PROOF_FORMAT = "sd-jwt"
KB_TYP = "kb+jwt"
SD_ALG = "sha-256"
ALG_FOR_KEY = {ED25519: "EdDSA", P256: "ES256"}
KEY_FOR_ALG = {alg: key_type for key_type, alg in ALG_FOR_KEY.items()}
_FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256")
LEEWAY = timedelta(seconds=60)
#: How old a Key Binding JWT's ``iat`` may be (RFC 9901 §7.3 step 5: "within an acceptable window").
KB_MAX_AGE = timedelta(minutes=5)

#: Most bytes of a JOSE header, a signature (EdDSA / ES256), a payload, one Disclosure, and how many Disclosures.
MAX_HEADER_BYTES = 4096
MAX_SIGNATURE_BYTES = 64
MAX_PAYLOAD_BYTES = 1_048_576
MAX_DISCLOSURE_BYTES = 262_144
MAX_DISCLOSURES = 1000


def _decode(part: str, what: str, max_bytes: int) -> bytes:
    """A base64url part, length-checked before it is decoded (RFC 9901 §4: every part is base64url)."""
    if not part:
        raise ProofError(f"the SD-JWT's {what} is empty", code="MALFORMED_PROOF_ERROR")
    try:
        return b64u_decode(part, what=what, max_chars=encoded_length(max_bytes), code="MALFORMED_PROOF_ERROR")
    except CryptoError as exc:
        raise ProofError(exc.detail, code="MALFORMED_PROOF_ERROR") from None


def digest(disclosure: str) -> str:
    """§4.2.3: base64url(SHA-256(the Disclosure's ASCII base64url form))."""
    return b64u(hashlib.sha256(disclosure.encode("ascii")).digest())


def make_disclosure(name: str | None, value: Any, salt: str | None = None) -> str:
    """§4.2.1 (object property ``[salt, name, value]``) or §4.2.2 (array element ``[salt, value]``)."""
    salt = salt or b64u(secrets.token_bytes(16))
    array = [salt, value] if name is None else [salt, name, value]
    return b64u(json.dumps(array, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _jws(header: dict[str, Any], payload: dict[str, Any], signer: Signer) -> str:
    signing_input = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + b64u(strict_json.dumps(payload).encode())
    return signing_input + "." + b64u(signer.sign(signing_input.encode("ascii")))


def issue(claims: dict[str, Any], signer: Signer, *, disclosable: Iterable[str], kid: str | None = None, typ: str = TYP) -> str:
    """The SD-JWT (§4) of ``claims``, each top-level claim in ``disclosable`` made selectively disclosable
    (§4.2.1), signed by ``signer`` with ``kid`` (its own verification method by default)."""
    alg = ALG_FOR_KEY.get(signer.key_type)
    if alg is None:
        raise ProofError(f"no JOSE algorithm for {signer.key_type} keys", code="UNSUPPORTED_KEY_TYPE")
    names = set(disclosable)
    payload: dict[str, Any] = {}
    disclosures: list[str] = []
    for name, value in claims.items():
        if name in names:
            disclosures.append(make_disclosure(name, value))
        else:
            payload[name] = value
    if disclosures:
        payload["_sd"] = sorted(digest(d) for d in disclosures)
        payload["_sd_alg"] = SD_ALG
    header = {"alg": alg, "typ": typ, "kid": kid or signer.verification_method}
    return _jws(header, payload, signer) + "~" + "".join(d + "~" for d in disclosures)


def split(token: str) -> tuple[str, list[str], str | None]:
    """(Issuer-signed JWT, Disclosures, Key Binding JWT or None) of an SD-JWT or a presentation (§4)."""
    if not isinstance(token, str) or "~" not in token:
        raise ProofError("an SD-JWT is <JWT>~<Disclosure>~…~ (RFC 9901 §4)", code="PARSING_ERROR")
    parts = token.strip().split("~")
    if len(parts) > MAX_DISCLOSURES + 2:
        raise ProofError(f"an SD-JWT with more than {MAX_DISCLOSURES} Disclosures is not read", code="MALFORMED_PROOF_ERROR")
    jwt, *disclosures, last = parts
    if any(not d for d in disclosures):
        raise ProofError("an SD-JWT has no empty Disclosure (RFC 9901 §4)", code="MALFORMED_PROOF_ERROR")
    return jwt, disclosures, (last or None)


def peek_key_binding(token: str) -> dict[str, Any]:
    """The unverified payload of a presentation's Key Binding JWT (§4.3), ``{}`` without a readable one: which nonce
    and audience it names, for a verifier that takes the holder's word for them (the verification then holds the
    KB-JWT to them: its signature by the ``cnf`` key and its ``sd_hash``)."""
    try:
        _, _, kb_jwt = split(token)
    except ProofError:
        return {}
    parts = (kb_jwt or "").split(".")
    if len(parts) != 3:
        return {}
    try:
        value = json.loads(_decode(parts[1], "Key Binding JWT payload", MAX_HEADER_BYTES))
    except (ProofError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def present(sd_jwt: str, disclose: Callable[[str | None, Any], bool], *, holder: Signer | None = None, aud: str | None = None, nonce: str | None = None) -> str:
    """A presentation (§4, §7.2 of the Holder): the Disclosures ``disclose(name, value)`` keeps, and a Key Binding
    JWT signed by ``holder`` for ``aud`` and ``nonce`` when one is given (§4.3)."""
    jwt, disclosures, _ = split(sd_jwt)
    kept = []
    for d in disclosures:
        decoded = json.loads(_decode(d, "Disclosure", MAX_DISCLOSURE_BYTES))
        name, value = (decoded[1], decoded[2]) if len(decoded) == 3 else (None, decoded[1])
        if disclose(name, value):
            kept.append(d)
    presentation = jwt + "~" + "".join(d + "~" for d in kept)
    if holder is None:
        return presentation
    kb_payload = {"iat": int(datetime.now(UTC).timestamp()), "aud": aud, "nonce": nonce, "sd_hash": digest(presentation)}
    return presentation + _jws({"alg": ALG_FOR_KEY[holder.key_type], "typ": KB_TYP}, kb_payload, holder)


@dataclass
class SdJwtVerification:
    result: VerificationResult
    #: the processed payload (§7.1 step 5: every disclosed claim in place, ``_sd``/``_sd_alg``/``...`` removed)
    claims: dict[str, Any] | None
    header: dict[str, Any] | None
    #: the JSON paths of the claims the presentation disclosed (a top-level claim as ``["name"]``)
    disclosed: list[list[str | int]] = field(default_factory=list)
    #: how many digests were not disclosed (withheld claims and decoys cannot be told apart, §4.2.5)
    undisclosed_digests: int = 0
    #: the Key Binding JWT's claims when the presentation had one and it verified
    key_binding: dict[str, Any] | None = None
    #: the payload as signed (``_sd`` and all), for the validity and status checks of a caller
    payload: dict[str, Any] | None = None


def _read_jws(compact: str, what: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, payload, signing input, signature) of a compact JWS, each part length-checked first."""
    parts = compact.split(".")
    if len(parts) == 5:
        raise ProofError("encrypted JWTs (JWE) are not accepted", code="MALFORMED_PROOF_ERROR")
    if len(parts) != 3:
        raise ProofError(f"the {what} is not a compact JWS of three parts", code="PARSING_ERROR")
    header = strict_json.loads(_decode(parts[0], f"{what} header", MAX_HEADER_BYTES), max_depth=8)
    payload = strict_json.loads(_decode(parts[1], f"{what} payload", MAX_PAYLOAD_BYTES))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ProofError(f"the {what}'s header and payload must be JSON objects", code="MALFORMED_PROOF_ERROR")
    signature = _decode(parts[2], f"{what} signature", MAX_SIGNATURE_BYTES)
    for name in _FORBIDDEN_HEADERS:
        if name in header:
            raise ProofError(f"keys are never taken from the token: header member {name} is refused", code="INVALID_VERIFICATION_METHOD")
    if header.get("crit"):
        raise ProofError("critical JWS header extensions are not supported", code="MALFORMED_PROOF_ERROR")
    if header.get("alg") not in KEY_FOR_ALG:
        raise ProofError(f"JWS algorithm {str(header.get('alg'))[:20]} is not accepted (EdDSA or ES256 only)", code="PROOF_VERIFICATION_ERROR")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def verify(
    token: str,
    resolve_method: ResolveMethod,
    *,
    clock: Callable[[], datetime] | None = None,
    nonce: str | None = None,
    aud: str | None = None,
    require_key_binding: bool = False,
    expected_purpose: str = "assertionMethod",
) -> SdJwtVerification:
    """Verify an SD-JWT or SD-JWT presentation (§7.1, §7.3); never raises for a bad token, returns the reasons.

    Validity (``exp``/``nbf``) and status are left to the caller, which reports them as checks of their own."""
    now = (clock or (lambda: datetime.now(UTC)))()
    proof = ProofResult(False, type="sd-jwt")
    out = SdJwtVerification(VerificationResult(False, [proof]), None, None)
    try:
        jwt, disclosures, kb_jwt = split(token)
        header, payload, signing_input, signature = _read_jws(jwt, "Issuer-signed JWT")
        out.header, out.payload = header, payload
        alg = header["alg"]
        proof.cryptosuite = alg
        if header.get("typ") not in ACCEPTED_TYPS:
            raise ProofError(f"the SD-JWT VC typ must be {TYP}, not {str(header.get('typ'))[:30]}", code="MALFORMED_PROOF_ERROR")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ProofError("the JWS header names no kid", code="INVALID_VERIFICATION_METHOD")
        iss = payload.get("iss")
        if kid.startswith("#") and isinstance(iss, str):
            kid = f"{iss}{kid}"
        proof.verification_method = kid
        proof.proof_purpose = expected_purpose
        method, controller_doc = resolve_method(kid)
        key = public_key_from_method(method, KEY_FOR_ALG[alg])
        proof.controller = method.get("controller") if isinstance(method.get("controller"), str) else controller_doc.get("id")
        if isinstance(iss, str) and proof.controller != iss:
            raise ProofError("the key that signed the SD-JWT is not the iss's", code="PROOF_VERIFICATION_ERROR")
        proof.purpose_authorized = relationship_allows(controller_doc, kid, expected_purpose)
        if not key.verify(signing_input, signature):
            raise ProofError("the SD-JWT's signature does not match", code="PROOF_VERIFICATION_ERROR")
        if payload.get("_sd_alg", SD_ALG) != SD_ALG:
            raise ProofError(f"_sd_alg {str(payload.get('_sd_alg'))[:20]} is not supported (sha-256 only)", code="MALFORMED_PROOF_ERROR")
        out.claims, out.disclosed, out.undisclosed_digests = _process(payload, disclosures)
        if kb_jwt is not None:
            out.key_binding = _check_key_binding(token[: len(token) - len(kb_jwt)], kb_jwt, payload, now, nonce, aud)
        elif require_key_binding:
            raise ProofError("the presentation has no Key Binding JWT (RFC 9901 §4.3)", code="PROOF_VERIFICATION_ERROR")
        proof.verified = True
        out.result = VerificationResult(True, [proof])
        return out
    except MicrocredError as exc:
        proof.error = exc.code if exc.code.endswith("_ERROR") or exc.code == "INVALID_VERIFICATION_METHOD" else "PROOF_VERIFICATION_ERROR"
        proof.reason = exc.detail
        out.result = VerificationResult(False, [proof], proof.error, proof.reason)
        return out


def _process(payload: dict[str, Any], disclosures: list[str]) -> tuple[dict[str, Any], list[list[str | int]], int]:
    """§7.1 steps 3–5: (processed payload, paths of the disclosed claims, digests left undisclosed)."""
    by_digest: dict[str, Any] = {}
    for d in disclosures:
        h = digest(d)
        if h in by_digest:
            raise ProofError("two Disclosures have the same digest (RFC 9901 §7.1 step 4)", code="MALFORMED_PROOF_ERROR")
        try:
            decoded = strict_json.loads(_decode(d, "Disclosure", MAX_DISCLOSURE_BYTES), max_depth=32)
        except ProofError:
            raise
        except MicrocredError as exc:
            raise ProofError(f"a Disclosure is not JSON: {exc.detail}", code="MALFORMED_PROOF_ERROR") from None
        if not isinstance(decoded, list) or len(decoded) not in (2, 3) or not isinstance(decoded[0], str):
            raise ProofError("a Disclosure is [salt, name, value] or [salt, value] (RFC 9901 §4.2)", code="MALFORMED_PROOF_ERROR")
        if len(decoded) == 3 and (not isinstance(decoded[1], str) or decoded[1] in ("_sd", "...")):
            raise ProofError("a Disclosure's claim name must be a string other than _sd and ... (§7.1 step 3.2.2)", code="MALFORMED_PROOF_ERROR")
        by_digest[h] = decoded
    used: set[str] = set()
    disclosed: list[list[str | int]] = []
    seen_digests: set[str] = set()
    undisclosed = 0

    def take(h: str, size: int, where: str) -> list[Any] | None:
        """The Disclosure of digest ``h`` (``size`` 3 in an object, 2 in an array), or None when it is withheld."""
        nonlocal undisclosed
        if h in seen_digests:
            raise ProofError("a digest appears twice in the SD-JWT (§7.1 step 3.5)", code="MALFORMED_PROOF_ERROR")
        seen_digests.add(h)
        decoded = by_digest.get(h)
        if decoded is None:
            undisclosed += 1
            return None
        if len(decoded) != size:
            raise ProofError(where, code="MALFORMED_PROOF_ERROR")
        used.add(h)
        return decoded

    def walk(node: Any, path: list[str | int]) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            sd = node.get("_sd", [])
            if not isinstance(sd, list) or not all(isinstance(x, str) for x in sd):
                raise ProofError("_sd must be an array of digests (RFC 9901 §4.2.4.1)", code="MALFORMED_PROOF_ERROR")
            for name, value in node.items():
                if name in ("_sd", "_sd_alg") and (name == "_sd" or not path):
                    continue
                if name == "...":
                    raise ProofError("'...' is reserved for array elements (§4.2.4.2)", code="MALFORMED_PROOF_ERROR")
                out[name] = walk(value, [*path, name])
            for h in sd:
                decoded = take(h, 3, "an array-element Disclosure is referenced from an object (§7.1 step 3.2.2)")
                if decoded is None:
                    continue
                _, name, value = decoded
                if name in out:
                    raise ProofError(f"the disclosed claim {name[:60]} is already in the payload (§7.1 step 3.2.2.4)", code="MALFORMED_PROOF_ERROR")
                disclosed.append([*path, name])
                out[name] = walk(value, [*path, name])
            return out
        if isinstance(node, list):
            items: list[Any] = []
            for element in node:
                if isinstance(element, dict) and "..." in element:
                    if len(element) != 1 or not isinstance(element["..."], str):
                        raise ProofError("an array element digest is {'...': digest} alone (§4.2.4.2)", code="MALFORMED_PROOF_ERROR")
                    decoded = take(element["..."], 2, "an object-property Disclosure is referenced from an array (§7.1 step 3.3.2)")
                    if decoded is None:
                        continue
                    disclosed.append([*path, len(items)])
                    items.append(walk(decoded[1], [*path, len(items)]))
                else:
                    items.append(walk(element, [*path, len(items)]))
            return items
        return node

    claims = walk(payload, [])
    if len(used) != len(by_digest):
        raise ProofError("a Disclosure is not referenced by the SD-JWT (RFC 9901 §7.1 step 4)", code="MALFORMED_PROOF_ERROR")
    return claims, disclosed, undisclosed


def holder_key(payload: dict[str, Any]) -> PublicKey:
    """The holder's public key from ``cnf.jwk`` (RFC 7800 §3.2), an Ed25519 or P-256 public JWK only."""
    cnf = payload.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise ProofError("the SD-JWT has a Key Binding JWT but no cnf.jwk to check it with", code="PROOF_VERIFICATION_ERROR")
    return public_key_from_method({"type": "JsonWebKey", "publicKeyJwk": cnf["jwk"]})


def _check_key_binding(presentation: str, kb_jwt: str, payload: dict[str, Any], now: datetime, nonce: str | None, aud: str | None) -> dict[str, Any]:
    """§7.3 steps 1–5: the KB-JWT's typ, signature (with cnf.jwk), iat, nonce, aud and sd_hash."""
    header, claims, signing_input, signature = _read_jws(kb_jwt, "Key Binding JWT")
    if header.get("typ") != KB_TYP:
        raise ProofError(f"the Key Binding JWT's typ must be {KB_TYP}", code="MALFORMED_PROOF_ERROR")
    key = holder_key(payload)
    if KEY_FOR_ALG[header["alg"]] != key.key_type:
        raise ProofError(f"the Key Binding JWT's alg does not fit the holder's {key.key_type} key", code="PROOF_VERIFICATION_ERROR")
    if not key.verify(signing_input, signature):
        raise ProofError("the Key Binding JWT's signature does not match the holder's key (cnf.jwk)", code="PROOF_VERIFICATION_ERROR")
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        raise ProofError("the Key Binding JWT has no iat (RFC 9901 §4.3)", code="MALFORMED_PROOF_ERROR")
    ts = now.timestamp()
    if iat > ts + LEEWAY.total_seconds() or iat < ts - KB_MAX_AGE.total_seconds():
        raise ProofError("the Key Binding JWT's iat is outside the accepted window", code="PROOF_VERIFICATION_ERROR")
    if not isinstance(claims.get("nonce"), str) or not isinstance(claims.get("aud"), str):
        raise ProofError("the Key Binding JWT needs nonce and aud (RFC 9901 §4.3)", code="MALFORMED_PROOF_ERROR")
    if nonce is not None and claims["nonce"] != nonce:
        raise ProofError("the Key Binding JWT's nonce is not the expected one", code="PROOF_VERIFICATION_ERROR")
    if aud is not None and claims["aud"] != aud:
        raise ProofError("the Key Binding JWT's aud is not this verifier", code="PROOF_VERIFICATION_ERROR")
    if claims.get("sd_hash") != digest(presentation):
        raise ProofError("the Key Binding JWT's sd_hash does not match the presentation (RFC 9901 §4.3.1)", code="PROOF_VERIFICATION_ERROR")
    return claims
