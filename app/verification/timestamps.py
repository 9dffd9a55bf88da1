"""RFC 3161 time-stamp tokens (a CMS SignedData, RFC 5652, holding a TSTInfo), as JAdES carries them (ETSI TS 119
182-1 §5.2.8 ``adoTst``, §5.3.4 ``sigTst``: ``{"tstTokens": [{"val": base64 DER}]}``).

``verify_token(der, imprint_input)``: the token's TSTInfo message imprint is the hash of ``imprint_input`` (RFC 3161
§2.4.2), the signed attributes' message digest is the hash of the TSTInfo (RFC 5652 §5.4), and the signature over
them verifies with the signer's certificate carried in the token, which is valid at the time stamped and made for
time stamping (RFC 3161 §2.3, extended key usage id-kp-timeStamping). What is not established here: that the TSA is
trusted (a qualified time-stamp service on the EU trusted lists, or a chain to an anchor): the caller says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MAX_TOKEN = 64 * 1024
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class TokenError(Exception):
    """A token that does not verify, with the reason."""


@dataclass(frozen=True)
class TimeStamp:
    time: datetime
    tsa: str


def _tsa_name(certificate: x509.Certificate) -> str:
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        attributes = certificate.subject.get_attributes_for_oid(oid)
        if attributes:
            return str(attributes[0].value)[:200]
    return certificate.subject.rfc4514_string()[:200]


def _signer_certificate(signed_data, signer_info) -> x509.Certificate:
    sid = signer_info["sid"]
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        candidate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            matches = candidate.issuer == sid.chosen["issuer"] and candidate.serial_number == sid.chosen["serial_number"].native
        else:
            matches = candidate.key_identifier == sid.chosen.native
        if matches:
            return x509.load_der_x509_certificate(candidate.dump())
    raise TokenError("the token does not carry its signer's certificate")


def _verify_signature(certificate: x509.Certificate, signer_info, data: bytes) -> None:
    digest = _HASHES.get(signer_info["digest_algorithm"]["algorithm"].native)
    if digest is None:
        raise TokenError(f"the token's digest algorithm {signer_info['digest_algorithm']['algorithm'].native} is not accepted")
    signature = signer_info["signature"].native
    algorithm = signer_info["signature_algorithm"].signature_algo
    key = certificate.public_key()
    try:
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), digest())
        elif algorithm == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PSS(padding.MGF1(digest()), padding.PSS.AUTO), digest())
        elif algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest()))
        else:
            raise TokenError(f"the token's signature algorithm {algorithm} does not fit its certificate's key")
    except InvalidSignature:
        raise TokenError("the token's signature does not verify with its TSA certificate") from None


def verify_token(value: object, imprint_input: bytes) -> TimeStamp:
    """The time and TSA of a token over ``imprint_input``; ``TokenError`` with the reason otherwise."""
    from asn1crypto import cms, tsp  # tsp registers the TSTInfo content type with cms

    del tsp

    if not isinstance(value, str) or len(value) > MAX_TOKEN:
        raise TokenError(f"a time-stamp token is a base64 string of at most {MAX_TOKEN:,} characters")
    try:
        info = cms.ContentInfo.load(base64.b64decode(value, validate=True))
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info" or len(signed_data["signer_infos"]) != 1:
            raise TokenError("not a time-stamp token (a SignedData of one TSTInfo, RFC 3161 §2.4.2)")
        tst_bytes = encap["content"].contents
        tst = encap["content"].parsed
        signer_info = signed_data["signer_infos"][0]
        imprint = tst["message_imprint"]
        digest = _HASHES.get(imprint["hash_algorithm"]["algorithm"].native)
        if digest is None:
            raise TokenError(f"the token's imprint algorithm {imprint['hash_algorithm']['algorithm'].native} is not accepted")
        if imprint["hashed_message"].native != _hash(digest, imprint_input):
            raise TokenError("the token's message imprint is not the hash of what it should time-stamp")
        attributes = signer_info["signed_attrs"]
        digests = [a["values"][0].native for a in attributes if a["type"].native == "message_digest"]
        signer_digest = _HASHES.get(signer_info["digest_algorithm"]["algorithm"].native)
        if not digests or signer_digest is None or digests[0] != _hash(signer_digest, tst_bytes):
            raise TokenError("the token's signed message digest is not the hash of its TSTInfo")
        certificate = _signer_certificate(signed_data, signer_info)
        _verify_signature(certificate, signer_info, b"\x31" + attributes.dump()[1:])  # RFC 5652 §5.4: as a SET OF
        moment = tst["gen_time"].native
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise TokenError(f"the time-stamp token cannot be read ({type(exc).__name__})") from None
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise TokenError(f"the TSA certificate of {_tsa_name(certificate)} was not valid at the time stamped")
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if ExtendedKeyUsageOID.TIME_STAMPING not in usages:
        raise TokenError(f"the certificate of {_tsa_name(certificate)} is not a time-stamping certificate (id-kp-timeStamping)")
    return TimeStamp(moment, _tsa_name(certificate))


def _hash(algorithm, data: bytes) -> bytes:
    return hashlib.new(algorithm.name, data).digest()
