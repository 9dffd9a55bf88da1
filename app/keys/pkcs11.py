"""Signing keys inside a PKCS#11 token (an HSM, or SoftHSM2 for tests), behind the ``Signer`` interface.

PKCS#11 v3.0 (OASIS, "PKCS #11 Cryptographic Token Interface Current Mechanisms Specification"):
Ed25519 keys are generated with ``CKM_EC_EDWARDS_KEY_PAIR_GEN`` (§2.3.5, ``CKA_EC_PARAMS`` the curve OID
1.3.101.112, RFC 8410) and sign with ``CKM_EDDSA`` (§2.3.14, pure Ed25519, RFC 8032 §5.1.6); P-256 keys with
``CKM_EC_KEY_PAIR_GEN`` and ``CKM_ECDSA`` over a SHA-256 digest (§2.3.6, raw r||s as JWS ES256 wants, RFC 7518
§3.4). Private keys are created ``CKA_SENSITIVE`` and not ``CKA_EXTRACTABLE``: they never leave the token, and
the service keeps only their label (the ``key_ref`` ``pkcs11:<label>``) and the public key it reads back.

security-notes.md §18: this is the key storage a qualified seal needs; the file store stays for development.
One logged-in session per process and token; PKCS#11 sessions are not for concurrent use, so signing holds a
lock (a token signs one request at a time per session in any case).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import CryptoError, KeyUnavailable
from app.keys import multikey
from app.keys.b64url import encode as _b64u

ED25519 = "Ed25519"
P256 = "P-256"
PREFIX = "pkcs11:"
_ED25519_OID = "1.3.101.112"  # RFC 8410 §3 id-Ed25519, the CKA_EC_PARAMS SoftHSM2 and most HSMs take

_libs: dict[str, Any] = {}
_libs_lock = threading.Lock()
_sessions: dict[tuple, dict[str, Any]] = {}


def is_pkcs11_ref(key_ref: str) -> bool:
    return key_ref.startswith(PREFIX)


def _ec_point(der: bytes, length: int) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING (PKCS#11 §2.3.3): tag 04, one length byte, then the point."""
    if len(der) != length + 2 or der[0] != 0x04 or der[1] != length:
        raise KeyUnavailable(f"the token returned an EC point of {len(der)} bytes, not a {length}-byte point", code="PKCS11_BAD_KEY")
    return der[2:]


@dataclass
class Pkcs11Signer:
    """A key inside the token: ``sign`` runs there; the public key was read back once at load."""

    store: Pkcs11KeyStore
    label: str
    key_type: str
    public: bytes  # Ed25519: 32 bytes; P-256: the 65-byte uncompressed point
    verification_method: str = ""
    _handle: Any = field(default=None, repr=False)

    def sign(self, data: bytes) -> bytes:
        """Signs inside the token. A session the token no longer knows (the HSM restarted, the connection to a
        network HSM dropped) is opened again and the key found again by its label, once; then a refusal is a
        ``KeyUnavailable`` (503) naming the key."""
        from pkcs11.exceptions import PKCS11Error

        with self.store.lock:
            try:
                return self._sign(data)
            except PKCS11Error:
                self.store.reset()
            try:
                found = self.store._find(self.label)
                if found is None:
                    raise KeyUnavailable(f"signing key {self.label} is no longer in the PKCS#11 token", code="KEY_NOT_FOUND")
                if bytes(found[0][_attr("EC_POINT")])[2:] != self.public:
                    raise KeyUnavailable(f"PKCS#11 key {self.label} now holds another key", code="KEY_MISMATCH")
                self._handle = found[1]
                return self._sign(data)
            except PKCS11Error as exc:
                self.store.reset()
                raise KeyUnavailable(f"the PKCS#11 token refused to sign with key {self.label} ({type(exc).__name__})", code="PKCS11_SIGN_FAILED") from None

    def _sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        if self.key_type == ED25519:
            return bytes(self._handle.sign(data, mechanism=Mechanism.EDDSA))
        return bytes(self._handle.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA))

    def public_multibase(self) -> str:
        if self.key_type == ED25519:
            return multikey.encode(multikey.ED25519_PUB, self.public)
        compressed = bytes([2 + (self.public[-1] & 1)]) + self.public[1:33]
        return multikey.encode(multikey.P256_PUB, compressed)

    def public_jwk(self) -> dict:
        if self.key_type == ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": _b64u(self.public)}
        return {"kty": "EC", "crv": "P-256", "x": _b64u(self.public[1:33]), "y": _b64u(self.public[33:65])}


class Pkcs11KeyStore:
    """Keys in one token, chosen by ``token_label`` (or ``slot``), logged in with ``pin``.

    Every failure to reach the token (no module, no such token, wrong PIN, locked PIN) is a ``KeyUnavailable``
    with a one-line reason that names no secret: ``serve`` refuses to start with it and ``/ready`` reports it.
    """

    def __init__(self, module: Path | None, token_label: str | None = None, slot: int | None = None, pin: str | None = None):
        self.module = Path(module) if module else None
        self.token_label = token_label
        self.slot = slot
        self.pin = pin
        key = (str(self.module), token_label, slot)
        with _libs_lock:
            # PKCS#11 login state belongs to the process (C_Login, §5.6): every store of one token shares one session
            self._shared = _sessions.setdefault(key, {"lock": threading.RLock(), "session": None, "pin": None})
        self.lock = self._shared["lock"]

    def _lib(self) -> Any:
        if self.module is None:
            raise KeyUnavailable("a PKCS#11 key is configured but no module is set (MICROCRED_PKCS11_MODULE)", code="PKCS11_NOT_CONFIGURED")
        try:
            import pkcs11
        except ImportError:
            raise KeyUnavailable(
                "a PKCS#11 key is configured but python-pkcs11 is not installed (pip install microcred[hsm])", code="PKCS11_NOT_INSTALLED"
            ) from None
        with _libs_lock:
            lib = _libs.get(str(self.module))
            if lib is None:
                if not self.module.is_file():
                    raise KeyUnavailable(f"the PKCS#11 module {self.module} does not exist", code="PKCS11_MODULE_MISSING")
                try:
                    lib = _libs[str(self.module)] = pkcs11.lib(str(self.module))
                except Exception as exc:  # a shared object that is not a PKCS#11 module, or fails C_Initialize
                    raise KeyUnavailable(f"the PKCS#11 module {self.module} cannot be loaded ({type(exc).__name__})", code="PKCS11_MODULE_MISSING") from None
        return lib

    def session(self) -> Any:
        """The logged-in read-write session of this process, opened on first use."""
        from pkcs11.exceptions import NoSuchToken, PinIncorrect, PinLenRange, PinLocked, PKCS11Error

        where = f"token {self.token_label!r}" if self.token_label else f"slot {self.slot}"
        with self.lock:
            if self._shared["session"] is not None:
                if self._shared["pin"] != self.pin:  # a token has one user PIN: another one than the one that logged in is wrong
                    raise KeyUnavailable(f"PKCS#11 {where}: the PIN is wrong", code="PKCS11_PIN_INCORRECT")
                return self._shared["session"]
            lib = self._lib()
            try:
                if self.token_label:
                    token = lib.get_token(token_label=self.token_label)
                elif self.slot is not None:
                    token = next((s.get_token() for s in lib.get_slots(token_present=True) if s.slot_id == self.slot), None)
                    if token is None:
                        raise NoSuchToken
                else:
                    raise KeyUnavailable("PKCS#11: set MICROCRED_PKCS11_TOKEN_LABEL or MICROCRED_PKCS11_SLOT", code="PKCS11_NOT_CONFIGURED")
                if not self.pin:
                    raise KeyUnavailable(f"PKCS#11 {where}: no PIN is set (MICROCRED_PKCS11_PIN)", code="PKCS11_NOT_CONFIGURED")
                self._shared["session"] = token.open(user_pin=self.pin, rw=True)
                self._shared["pin"] = self.pin
            except NoSuchToken:
                raise KeyUnavailable(f"PKCS#11 {where} is not present in {self.module}", code="PKCS11_NO_TOKEN") from None
            except (PinIncorrect, PinLenRange):
                raise KeyUnavailable(f"PKCS#11 {where}: the PIN is wrong", code="PKCS11_PIN_INCORRECT") from None
            except PinLocked:
                raise KeyUnavailable(f"PKCS#11 {where}: the PIN is locked", code="PKCS11_PIN_LOCKED") from None
            except PKCS11Error as exc:
                raise KeyUnavailable(f"PKCS#11 {where} cannot be opened ({type(exc).__name__})", code="PKCS11_UNAVAILABLE") from None
            return self._shared["session"]

    def reset(self) -> None:
        """Forget this process's session (it is opened again on next use), closing it if the token still knows it."""
        with self.lock:
            session, self._shared["session"], self._shared["pin"] = self._shared["session"], None, None
            if session is not None:
                try:
                    session.close()
                except Exception:  # a session the token already dropped: nothing left to close
                    pass

    def create(self, name: str, key_type: str = ED25519, verification_method: str = "") -> Pkcs11Signer:
        """A key pair generated inside the token, labelled ``name``; its private half is never extractable."""
        from pkcs11 import Attribute, KeyType, Mechanism
        from pkcs11.exceptions import PKCS11Error
        from pkcs11.util.ec import encode_named_curve_parameters

        if key_type not in (ED25519, P256):
            raise CryptoError(f"PKCS#11 keys are Ed25519 or P-256, not {key_type}", code="UNSUPPORTED_KEY_TYPE")
        with self.lock:
            session = self.session()
            if self._find(name) is not None:
                raise FileExistsError(name)
            private_template = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True}
            try:
                if key_type == ED25519:
                    params = session.create_domain_parameters(
                        KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: encode_named_curve_parameters(_ED25519_OID)}, local=True
                    )
                    pub, priv = params.generate_keypair(store=True, label=name, mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN, private_template=private_template)
                else:
                    params = session.create_domain_parameters(KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
                    pub, priv = params.generate_keypair(store=True, label=name, private_template=private_template)
            except PKCS11Error as exc:
                raise KeyUnavailable(f"the PKCS#11 token cannot generate a {key_type} key ({type(exc).__name__})", code="PKCS11_KEYGEN_FAILED") from None
        return self._signer(name, key_type, pub, priv, verification_method)

    def _find(self, name: str) -> tuple[Any, Any] | None:
        """(public, private) key objects labelled ``name``, or None; a dropped session is opened again once."""
        from pkcs11 import ObjectClass
        from pkcs11.exceptions import PKCS11Error

        for attempt in (1, 2):
            session = self.session()
            try:
                privs = list(session.get_objects({_attr("CLASS"): ObjectClass.PRIVATE_KEY, _attr("LABEL"): name}))
                pubs = list(session.get_objects({_attr("CLASS"): ObjectClass.PUBLIC_KEY, _attr("LABEL"): name}))
                break
            except PKCS11Error as exc:
                self.reset()
                if attempt == 2:
                    raise KeyUnavailable(f"the PKCS#11 token cannot be searched for key {name} ({type(exc).__name__})", code="PKCS11_UNAVAILABLE") from None
        if not privs:
            return None
        if len(privs) != 1 or len(pubs) != 1:
            raise KeyUnavailable(f"PKCS#11 key {name}: the token holds {len(privs)} private and {len(pubs)} public keys of that label", code="PKCS11_BAD_KEY")
        return pubs[0], privs[0]

    def load(self, name: str, verification_method: str = "") -> Pkcs11Signer:
        """The key labelled ``name`` (a ``key_ref`` ``pkcs11:<name>`` or the bare label)."""
        from pkcs11 import KeyType

        name = name.removeprefix(PREFIX)
        with self.lock:
            found = self._find(name)
        if found is None:
            raise KeyUnavailable(f"signing key {name} is not in the PKCS#11 token", code="KEY_NOT_FOUND")
        pub, priv = found
        key_type = ED25519 if priv.key_type == KeyType.EC_EDWARDS else P256 if priv.key_type == KeyType.EC else None
        if key_type is None:
            raise KeyUnavailable(f"PKCS#11 key {name} is neither Ed25519 nor P-256", code="PKCS11_BAD_KEY")
        return self._signer(name, key_type, pub, priv, verification_method)

    def _signer(self, name: str, key_type: str, pub: Any, priv: Any, verification_method: str) -> Pkcs11Signer:
        from pkcs11 import Attribute

        with self.lock:
            point = bytes(pub[Attribute.EC_POINT])
            if priv[Attribute.EXTRACTABLE] or not priv[Attribute.SENSITIVE]:
                raise KeyUnavailable(f"PKCS#11 key {name} is extractable; a signing key must stay in the token", code="PKCS11_KEY_EXTRACTABLE")
        public = _ec_point(point, 32 if key_type == ED25519 else 65)
        if key_type == P256 and public[0] != 0x04:
            raise KeyUnavailable(f"PKCS#11 key {name}: not an uncompressed P-256 point", code="PKCS11_BAD_KEY")
        return Pkcs11Signer(self, name, key_type, public, verification_method, priv)


def _attr(name: str) -> Any:
    from pkcs11 import Attribute

    return getattr(Attribute, name)
