"""JAdES-sealed credentials (ETSI TS 119 182-1: a JWS in the JSON serialization, ``{"payload", "signatures"}``),
as the European Commission's Europass issuer seals an EDC.

What is checked, each as a check of the report with a reason:

* ``proof``: the seal's signature (RFC 7515 §5.2, with the unencoded payload of RFC 7797 §3 when ``b64`` is
  false) by the public key of the first ``x5c`` certificate (TS 119 182-1 §5.1.8), with an asymmetric JWS
  algorithm only (``none`` and HMAC are no seal), every ``crit`` parameter understood (RFC 7515 §4.1.11), and
  ``x5t#S256`` matching that certificate when present (§5.1.7).
* ``seal_certificate``: the ``x5c`` chain, each certificate issued (name and signature) by the next, the
  issuers CAs; each valid at the signing time ``sigT`` (§5.2.1) and now. A certificate that expired after
  ``sigT`` makes the check ``indeterminate`` (ETSI EN 319 102-1 §5.2.6 OUT_OF_BOUNDS_NO_POE): ``sigT`` is the
  sealer's own claim, and the time stamps that would prove it (``adoTst``, ``etsiU``) are not from a TSA checked
  against the trusted lists here.
* ``seal_trusted_list``: the certificate's issuer against the pinned, dated snapshot of the EU trusted lists
  (app/verification/trusted_lists.py, ETSI TS 119 612; never fetched); ``indeterminate`` when none is configured
  or it is stale. The certificate's own qualified-certificate statements (ETSI EN 319 412-5) are reported.

* ``seal_timestamps``: the T/LT/LTA properties: ``adoTst`` and ``sigTst`` tokens verified (RFC 3161, with the TSA
  certificate they carry; the TSA itself not checked against the trusted lists, so never "passed"), ``xVals``,
  ``rVals``, ``arcTst`` in the unprotected ``etsiU`` reported "present, not checked". Not blocking
  (``report.BLOCKING``): a baseline-B seal has none.

Every encoded value is length-checked before it is decoded; any malformed part is a failed check, never an
exception. The credential's validity period, status, issuer trust and EU completeness are then checked as for any
credential (``Verifier._rest``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from app import strict_json
from app.errors import MicrocredError
from app.verification.report import Check, Report
from app.verification.timestamps import TokenError, verify_token
from app.verification.trusted_lists import Snapshot

#: the protected header of the Commission's seal is about 8.8 KB (its x5c chain inside); 64 KiB is far above any seen
MAX_HEADER = 64 * 1024
MAX_PAYLOAD = 4 * 1024 * 1024
MAX_SIGNATURE = 2048  # base64url of a 8,192-bit RSA signature is 1,366 characters
MAX_CERTIFICATES = 10
MAX_CERTIFICATE = 16 * 1024

#: RFC 7518 §3.1 asymmetric algorithms (and RFC 8037 EdDSA): the ones a seal can use
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
SEAL_ALGS = {f"{p}{n}" for p in ("RS", "PS", "ES") for n in _HASHES} | {"EdDSA"}
#: header parameters this verifier understands when named in ``crit`` (RFC 7515 §4.1.11; TS 119 182-1 §5.1.10:
#: ``sigT`` and the unsigned-properties names must be understood); ``adoTst`` is understood as a name, and reported
#: as not verified
UNDERSTOOD_CRIT = {"b64", "sigT", "adoTst"}
_QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
_QC_COMPLIANCE = bytes.fromhex("060604008e460101")  # 0.4.0.1862.1.1, DER
_QC_TYPE_ESEAL = bytes.fromhex("060704008e46010602")  # 0.4.0.1862.1.6.2, DER
_QC_SSCD = bytes.fromhex("060604008e460104")  # 0.4.0.1862.1.4
_SIGT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class SealError(Exception):
    """A seal that fails one check, with the reason and the code of the report."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


def is_jades(document: Any) -> bool:
    """A JWS JSON serialization (RFC 7515 §7.2): general (``signatures``) or flattened (``protected``+``signature``)."""
    return isinstance(document, dict) and "payload" in document and ("signatures" in document or "signature" in document)


def _b64u(value: Any, what: str, limit: int) -> bytes:
    if not isinstance(value, str):
        raise SealError(f"the seal's {what} is not a string", "MALFORMED_SEAL")
    if len(value) > limit:
        raise SealError(f"the seal's {what} is {len(value):,} characters, more than the {limit:,} accepted", "SEAL_TOO_LARGE")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", value):
        raise SealError(f"the seal's {what} is not base64url", "MALFORMED_SEAL")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        raise SealError(f"the seal's {what} is not base64url", "MALFORMED_SEAL") from None


def _header(signature: dict[str, Any]) -> dict[str, Any]:
    data = _b64u(signature.get("protected"), "protected header", MAX_HEADER)
    try:
        header = strict_json.loads(data, max_depth=16)
    except (ValueError, MicrocredError):
        raise SealError("the seal's protected header is not JSON", "MALFORMED_SEAL") from None
    if not isinstance(header, dict):
        raise SealError("the seal's protected header is not a JSON object", "MALFORMED_SEAL")
    return header


def _payload(document: dict[str, Any], header: dict[str, Any]) -> tuple[bytes, dict[str, Any] | None]:
    """(the payload's bytes in the signing input, the credential it holds or None)."""
    raw = document.get("payload")
    if not isinstance(raw, str):
        raise SealError("the seal's payload is not a string (a detached payload is not supported)", "MALFORMED_SEAL")
    if len(raw) > MAX_PAYLOAD:
        raise SealError(f"the seal's payload is larger than {MAX_PAYLOAD:,} characters", "SEAL_TOO_LARGE")
    if header.get("b64") is False:
        signed, data = raw.encode(), raw.encode()  # RFC 7797 §5.2: the payload as it is
    else:
        signed, data = raw.encode("ascii", "replace"), _b64u(raw, "payload", MAX_PAYLOAD)
    try:
        value = strict_json.loads(data)
    except (ValueError, MicrocredError):
        return signed, None
    return signed, value if isinstance(value, dict) else None


def _certificates(header: dict[str, Any]) -> list[x509.Certificate]:
    chain = header.get("x5c")
    if not isinstance(chain, list) or not chain:
        raise SealError("the seal has no x5c certificate chain (TS 119 182-1 §5.1.8)", "NO_CERTIFICATE")
    if len(chain) > MAX_CERTIFICATES:
        raise SealError(f"the seal's x5c holds {len(chain)} certificates, more than {MAX_CERTIFICATES}", "SEAL_TOO_LARGE")
    out = []
    for n, item in enumerate(chain):
        if not isinstance(item, str) or len(item) > MAX_CERTIFICATE:
            raise SealError(f"x5c[{n}] is not a certificate of at most {MAX_CERTIFICATE:,} characters", "MALFORMED_CERTIFICATE")
        try:
            der = base64.b64decode(item, validate=True)  # RFC 7515 §4.1.6: base64, not base64url
            out.append(x509.load_der_x509_certificate(der))
        except (ValueError, binascii.Error):
            raise SealError(f"x5c[{n}] is not a DER X.509 certificate", "MALFORMED_CERTIFICATE") from None
    return out


def _verify_signature(alg: str, key: Any, signature: bytes, data: bytes) -> None:
    """RFC 7518 §3.3-3.5, RFC 8037 §3.1; raises ``InvalidSignature`` or ``SealError`` (key and alg disagree)."""
    if alg.startswith(("RS", "PS")):
        if not isinstance(key, rsa.RSAPublicKey):
            raise SealError(f"the seal says {alg} but its certificate holds no RSA key", "KEY_ALG_MISMATCH")
        hash_algorithm = _HASHES[alg[2:]]()
        pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(padding.MGF1(hash_algorithm), hash_algorithm.digest_size)
        key.verify(signature, data, pad, hash_algorithm)
    elif alg.startswith("ES"):
        curve = {"256": ec.SECP256R1, "384": ec.SECP384R1, "512": ec.SECP521R1}[alg[2:]]
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
            raise SealError(f"the seal says {alg} but its certificate holds no key on that curve", "KEY_ALG_MISMATCH")
        size = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            raise InvalidSignature
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_HASHES[alg[2:]]()))
    else:
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise SealError("the seal says EdDSA but its certificate holds no Ed25519 key", "KEY_ALG_MISMATCH")
        key.verify(signature, data)


def _name(certificate: x509.Certificate) -> str:
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        attributes = certificate.subject.get_attributes_for_oid(oid)
        if attributes:
            return str(attributes[0].value)[:200]
    return certificate.subject.rfc4514_string()[:200]


def _issuer_name(certificate: x509.Certificate) -> str:
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        attributes = certificate.issuer.get_attributes_for_oid(oid)
        if attributes:
            return str(attributes[0].value)[:200]
    return certificate.issuer.rfc4514_string()[:200]


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _signing_time(header: dict[str, Any]) -> datetime | None:
    value = header.get("sigT")
    if not isinstance(value, str) or not _SIGT.match(value):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def seal_signature(document: dict[str, Any], signature: dict[str, Any], header: dict[str, Any], signed_payload: bytes) -> Check:
    """The ``proof`` check: the JWS signature of the seal."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SEAL_ALGS:
        shown = str(alg)[:20]
        raise SealError(f"the seal's algorithm {shown!r} is not an asymmetric signature algorithm (none and HMAC are no seal)", "UNSUPPORTED_ALGORITHM")
    crit = header.get("crit", [])
    if not isinstance(crit, list) or not crit and "crit" in header or not all(isinstance(c, str) for c in crit):
        raise SealError("the seal's crit is not a non-empty list of names (RFC 7515 §4.1.11)", "MALFORMED_SEAL")
    unknown = [c for c in crit if c not in UNDERSTOOD_CRIT]
    if unknown:
        raise SealError(f"the seal marks {', '.join(sorted(unknown))[:200]} critical, which this verifier does not understand", "UNKNOWN_CRITICAL_HEADER")
    absent = [c for c in crit if c not in header]
    if absent:
        raise SealError(f"the seal marks {', '.join(absent)[:200]} critical but its header lacks it", "MALFORMED_SEAL")
    if "b64" in header and (header["b64"] not in (True, False) or "b64" not in crit):
        raise SealError("the seal's b64 must be a boolean named in crit (RFC 7797 §6)", "MALFORMED_SEAL")
    certificates = _certificates(header)
    leaf = certificates[0]
    thumbprint = header.get("x5t#S256")
    if thumbprint is not None and thumbprint != _thumbprint(leaf):
        raise SealError("the seal's x5t#S256 is not the thumbprint of its first x5c certificate", "CERTIFICATE_MISMATCH")
    raw_signature = _b64u(signature.get("signature"), "signature", MAX_SIGNATURE)
    data = signature["protected"].encode("ascii") + b"." + signed_payload
    try:
        _verify_signature(alg, leaf.public_key(), raw_signature, data)
    except InvalidSignature:
        raise SealError(
            f"the seal's {alg} signature does not verify with the key of its certificate ({_name(leaf)}): the credential or its seal was changed",
            "INVALID_SIGNATURE",
        ) from None
    return Check(
        "proof",
        "passed",
        f"valid seal: the {alg} signature by {_name(leaf)}'s certificate verifies over the credential",
        details={"alg": alg, "signer": leaf.subject.rfc4514_string()[:300], "b64": header.get("b64", True)},
    )


def _thumbprint(certificate: x509.Certificate) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()).rstrip(b"=").decode()


def seal_certificate(header: dict[str, Any], now: datetime) -> Check:
    """The ``seal_certificate`` check: the chain, and each certificate's validity at ``sigT`` and now."""
    certificates = _certificates(header)
    for n, (child, parent) in enumerate(zip(certificates, certificates[1:], strict=False)):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise SealError(f"broken certificate chain: x5c[{n}] ({_name(child)}) is not issued by x5c[{n + 1}] ({_name(parent)})", "BROKEN_CHAIN") from None
        try:
            constraints = parent.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise SealError(f"broken certificate chain: x5c[{n + 1}] ({_name(parent)}) is not a CA certificate", "BROKEN_CHAIN")
    signed_at = _signing_time(header)
    if "sigT" in header and signed_at is None:
        raise SealError("the seal's sigT is not a UTC date-time YYYY-MM-DDThh:mm:ssZ (TS 119 182-1 §5.2.1)", "MALFORMED_SEAL")
    if signed_at is not None and signed_at > now:
        raise SealError(f"the seal's signing time {_day(signed_at)} is in the future", "SIGNING_TIME_IN_FUTURE")
    leaf = certificates[0]
    details: dict[str, Any] = {
        "chain": [c.subject.rfc4514_string()[:300] for c in certificates],
        "notBefore": _day(leaf.not_valid_before_utc),
        "notAfter": _day(leaf.not_valid_after_utc),
    }
    if signed_at is not None:
        details["signingTime"] = _day(signed_at)
        for n, c in enumerate(certificates):
            if not c.not_valid_before_utc <= signed_at <= c.not_valid_after_utc:
                when = "was not yet valid" if signed_at < c.not_valid_before_utc else "had expired"
                raise SealError(f"x5c[{n}] ({_name(c)}) {when} at the signing time {_day(signed_at)}", "CERTIFICATE_NOT_VALID_AT_SIGNING_TIME")
    expired = [c for c in certificates if c.not_valid_after_utc < now]
    not_yet = [c for c in certificates if c.not_valid_before_utc > now]
    if not_yet:
        raise SealError(f"the certificate of {_name(not_yet[0])} is not valid before {_day(not_yet[0].not_valid_before_utc)}", "CERTIFICATE_NOT_YET_VALID")
    top = certificates[-1]
    if len(certificates) == 1:
        chain_text = f"one certificate in x5c, issued by {_issuer_name(top)} (not in x5c)"
    else:
        chain_text = f"a chain of {len(certificates)} certificates, each issued by the next"
        if top.issuer != top.subject:
            chain_text += f", the last issued by {_issuer_name(top)} (not in x5c)"
    if not expired:
        at = f"valid at the signing time {_day(signed_at)} and now" if signed_at else "valid now (the seal gives no signing time)"
        return Check("seal_certificate", "passed", f"{chain_text}; {at}", details=details)
    first = min(expired, key=lambda c: c.not_valid_after_utc)
    which = "the sealing certificate" if first is leaf else f"the certificate of {_name(first)}"
    if signed_at is None:
        raise SealError(f"{which} expired since {_day(first.not_valid_after_utc)} and the seal gives no signing time", "CERTIFICATE_EXPIRED")
    return Check(
        "seal_certificate",
        "indeterminate",
        f"{chain_text}; {which} expired since {_day(first.not_valid_after_utc)}, valid at the signing time {_day(signed_at)}, "
        "which is the sealer's claim (sigT): no time stamp from a trusted TSA proves it (seal_timestamps), so validity at signing time is not proven",
        "CERTIFICATE_EXPIRED_NO_PROOF_OF_EXISTENCE",
        details,
    )


def _qc_facts(leaf: x509.Certificate) -> dict[str, bool]:
    try:
        statements = leaf.extensions.get_extension_for_oid(_QC_STATEMENTS).value.value
    except x509.ExtensionNotFound:
        return {"qcStatements": False}
    return {
        "qcStatements": True,
        "qcCompliance": _QC_COMPLIANCE in statements,
        "qcTypeESeal": _QC_TYPE_ESEAL in statements,
        "qcSSCD": _QC_SSCD in statements,
    }


def seal_trusted_list(header: dict[str, Any], trusted_lists: Callable[[], Snapshot | None] | None = None, now: datetime | None = None) -> Check:
    """The ``seal_trusted_list`` check: the sealing certificate's issuer against the pinned EU trusted-list snapshot
    (app/verification/trusted_lists.py); indeterminate without one."""
    certificates = _certificates(header)
    facts = _qc_facts(certificates[0])  # the statements' OIDs found in the qcStatements extension
    issuer = _issuer_name(certificates[0])
    claim = (
        "the certificate says it is a qualified certificate for electronic seals (ETSI EN 319 412-5)"
        if facts.get("qcCompliance") and facts.get("qcTypeESeal")
        else "the certificate does not say it is a qualified certificate for electronic seals"
    )
    details = {"issuer": certificates[0].issuer.rfc4514_string()[:300], **facts}
    try:
        snapshot = trusted_lists() if trusted_lists is not None else None
    except MicrocredError as exc:
        return Check("seal_trusted_list", "indeterminate", f"the EU trusted-list snapshot cannot be used: {exc.detail}; {claim}", exc.code, details)
    if snapshot is None:
        return Check(
            "seal_trusted_list",
            "indeterminate",
            f"no pinned snapshot of the EU trusted lists is configured (none is fetched), so whether {issuer} is a qualified "
            f"trust service on them is not established; {claim}",
            "TRUSTED_LIST_UNAVAILABLE",
            details,
        )
    return snapshot.check(certificates, _signing_time(header), now or datetime.now(UTC), claim, details)


#: the unsigned properties of TS 119 182-1 §5.3 (in ``etsiU``) and the level each one makes a seal (§6.2)
_UNSIGNED_LEVELS = {"sigTst": "B-T", "xVals": "B-LT", "rVals": "B-LT", "axVals": "B-LT", "arVals": "B-LT", "arcTst": "B-LTA"}
_LEVEL_ORDER = ("B-B", "B-T", "B-LT", "B-LTA")
MAX_UNSIGNED = 64
MAX_UNSIGNED_ITEM = 256 * 1024


def _unsigned_properties(signature: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (name, value) pairs of the unprotected header's ``etsiU`` array (TS 119 182-1 §5.3.1: each a
    base64url-encoded JSON object, or the object itself), length-checked before decoding; ``SealError`` when it is
    not that."""
    unprotected = signature.get("header", {})
    if not isinstance(unprotected, dict):
        raise SealError("the seal's unprotected header is not a JSON object", "MALFORMED_UNSIGNED_PROPERTIES")
    items = unprotected.get("etsiU", [])
    if not isinstance(items, list) or len(items) > MAX_UNSIGNED:
        raise SealError(f"the seal's etsiU is not a list of at most {MAX_UNSIGNED} properties", "MALFORMED_UNSIGNED_PROPERTIES")
    out = []
    for n, item in enumerate(items):
        if isinstance(item, str):
            try:
                item = strict_json.loads(_b64u(item, f"etsiU[{n}]", MAX_UNSIGNED_ITEM), max_depth=32)
            except SealError as exc:
                raise SealError(exc.reason, "MALFORMED_UNSIGNED_PROPERTIES") from None
            except (ValueError, MicrocredError):
                raise SealError(f"the seal's etsiU[{n}] is not base64url JSON", "MALFORMED_UNSIGNED_PROPERTIES") from None
        if not isinstance(item, dict) or len(item) != 1:
            raise SealError(f"the seal's etsiU[{n}] is not an object with one property", "MALFORMED_UNSIGNED_PROPERTIES")
        name, value = next(iter(item.items()))
        out.append((str(name)[:40], value))
    return out


def _time_stamps(name: str, value: Any, imprint_input: bytes) -> list[str]:
    """Each token of a time-stamp property verified (app/verification/timestamps.py); ``SealError`` if one fails."""
    tokens = value.get("tstTokens") if isinstance(value, dict) else None
    if not isinstance(tokens, list) or not tokens or len(tokens) > 8:
        raise SealError(f"the seal's {name} holds no tstTokens list", "MALFORMED_UNSIGNED_PROPERTIES")
    out = []
    for token in tokens:
        try:
            stamp = verify_token(token.get("val") if isinstance(token, dict) else None, imprint_input)
        except TokenError as exc:
            raise SealError(f"{name}: {exc}", "TIMESTAMP_INVALID") from None
        out.append(f"{name} {_day(stamp.time)} by {stamp.tsa}")
    return out


def seal_timestamps(signature: dict[str, Any], header: dict[str, Any], signed_payload: bytes) -> Check:
    """``seal_timestamps``: the JAdES time stamps and validation data, read and reported. ``adoTst`` (signed, TS 119
    182-1 §5.2.8, over the payload as signed) and ``sigTst`` (§5.3.4, over the base64url signature value): each
    RFC 3161 token verified with the TSA certificate it carries (app/verification/timestamps.py). The TSA itself is
    not checked against an anchor or the EU trusted lists, so a present time stamp is never "passed": verified
    tokens make the check ``indeterminate`` with what they say; ``xVals``/``rVals``/``arcTst`` (B-LT, B-LTA) are
    "present, not checked"; a token that does not verify is ``failed``."""
    unsigned = _unsigned_properties(signature)
    found = (["adoTst"] if "adoTst" in header else []) + [n for n, _ in unsigned]
    if not found:
        return Check(
            "seal_timestamps",
            "skipped",
            "a baseline-B seal: no time stamp (adoTst, or sigTst / arcTst in etsiU); its signing time is the sealer's claim (sigT)",
            details={"level": "B-B"},
        )
    level = max((_UNSIGNED_LEVELS.get(n, "B-B") for n, _ in unsigned), key=_LEVEL_ORDER.index, default="B-B")
    verified = _time_stamps("adoTst", header["adoTst"], signed_payload) if "adoTst" in header else []
    for name, value in unsigned:
        if name == "sigTst":
            verified += _time_stamps(name, value, str(signature.get("signature", "")).encode("ascii", "replace"))
    unchecked = [n for n in dict.fromkeys(found) if n not in ("adoTst", "sigTst")]
    parts = []
    if verified:
        parts.append(f"{'; '.join(verified)[:400]}: signature and imprint verify with the TSA's certificate, the TSA not checked against the EU trusted lists")
    if unchecked:
        parts.append(f"{', '.join(unchecked)[:200]} present, not checked")
    return Check(
        "seal_timestamps",
        "indeterminate",
        f"JAdES-{level}: {'; '.join(parts)}; so no time stamp proves the signing time in this report",
        "TIMESTAMP_NOT_TRUSTED" if verified else "TIMESTAMP_NOT_CHECKED",
        {"level": level, "properties": list(dict.fromkeys(found)), "verifiedTimeStamps": verified},
    )


_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")  # ETSI EN 319 412-1 §5.1.4


def _texts(value: Any) -> list[str]:
    """The strings of a plain value, a language map or a list of either (the EDC's legalName, notation)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def seal_issuer_binding(header: dict[str, Any], credential: dict[str, Any] | None) -> Check:
    """``issuer_binding``: the organisation the sealing certificate names is the credential's issuer: its
    organizationIdentifier (ETSI EN 319 412-1 §5.1.4, e.g. ``VATES-A00000000``) is the issuer's eIDAS identifier
    (EDC ``issuer.eIDASIdentifier.notation``), or failing one, its organizationName is the issuer's legalName."""
    leaf = _certificates(header)[0]
    issuer = credential.get("issuer") if credential else None
    if not isinstance(issuer, dict):
        raise SealError("the credential's issuer is not an organisation the certificate could name", "ISSUER_MISMATCH")
    org_ids = [str(a.value) for a in leaf.subject.get_attributes_for_oid(_ORGANIZATION_IDENTIFIER)]
    eidas = issuer.get("eIDASIdentifier")
    eidas_ids = [t for e in (eidas if isinstance(eidas, list) else [eidas]) if isinstance(e, dict) for t in _texts(e.get("notation"))]
    if org_ids and eidas_ids:
        if set(org_ids) & set(eidas_ids):
            return Check(
                "issuer_binding", "passed", f"the sealing certificate names the issuer: organizationIdentifier {org_ids[0][:100]} is its eIDAS identifier"
            )
        raise SealError(
            f"the sealing certificate names organisation {org_ids[0][:100]}, the credential's issuer has eIDAS identifier {eidas_ids[0][:100]}",
            "ISSUER_MISMATCH",
        )
    names = {str(a.value).casefold() for a in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)}
    legal = {t.casefold() for t in _texts(issuer.get("legalName"))}
    if names & legal:
        return Check("issuer_binding", "passed", f"the sealing certificate names the issuer by its legal name {_name(leaf)} (no eIDAS identifier to compare)")
    raise SealError(
        f"the sealing certificate ({_name(leaf)}) does not name the credential's issuer (neither eIDAS identifier nor legal name match)", "ISSUER_MISMATCH"
    )


def jades_report(document: dict[str, Any], well_formed, now: datetime | None = None, trusted_lists: Callable[[], Snapshot | None] | None = None) -> Report:
    """The report of a JAdES-sealed credential: well-formedness of the payload, the seal's signature, its
    certificate chain and validity, and the trusted-list check (see the module docstring)."""
    now = now or datetime.now(UTC)
    signatures = document.get("signatures") if "signatures" in document else [document]
    signatures = [s for s in signatures if isinstance(s, dict)] if isinstance(signatures, list) else []
    header: dict[str, Any] = {}
    credential = None
    problem: SealError | None = None
    signed_payload = b""
    try:
        if len(signatures) != 1:
            raise SealError(f"the seal has {len(signatures)} signatures; exactly one is verified", "MALFORMED_SEAL")
        header = _header(signatures[0])
        signed_payload, credential = _payload(document, header)
    except SealError as exc:
        problem = exc
    issuer = credential.get("issuer") if credential else None
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    report = Report("credential", "jades", credential=credential, issuer=issuer if isinstance(issuer, str) else None)
    if credential is None:
        report.checks.append(Check("well_formed", "failed", "the JAdES payload is not a JSON credential", "PARSING_ERROR"))
    else:
        report.checks.append(well_formed(credential))
    if problem is not None:
        report.checks.append(Check("proof", "failed", problem.reason, problem.code))
        return report
    steps = [
        ("proof", lambda: seal_signature(document, signatures[0], header, signed_payload)),
        ("seal_certificate", lambda: seal_certificate(header, now)),
        ("seal_trusted_list", lambda: seal_trusted_list(header, trusted_lists, now)),
        ("issuer_binding", lambda: seal_issuer_binding(header, credential)),
        ("seal_timestamps", lambda: seal_timestamps(signatures[0], header, signed_payload)),
    ]
    for check_id, step in steps:
        try:
            report.checks.append(step())
        except SealError as exc:
            report.checks.append(Check(check_id, "failed", exc.reason, exc.code))
        except (ValueError, TypeError) as exc:  # a certificate cryptography can parse but not use: a failure, never a 500
            report.checks.append(Check(check_id, "failed", f"the seal cannot be checked: {str(exc)[:200]}", "MALFORMED_SEAL"))
    return report
