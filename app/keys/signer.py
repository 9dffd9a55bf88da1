"""Signing keys behind one interface, and a file-backed implementation for development.

security-notes.md §18: a software key is not an eIDAS seal. Everything that signs goes through the
``Signer`` protocol (bytes in, signature out, plus what a verifier needs to find the key), so a PKCS#11
module or a remote signing service can implement it without touching the proof code.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import nacl.signing
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from app.errors import CryptoError, KeyUnavailable
from app.keys import multikey
from app.keys.b64url import encode as _b64u
from app.keys.pkcs11 import PREFIX as PKCS11_PREFIX
from app.keys.pkcs11 import Pkcs11KeyStore, is_pkcs11_ref

ED25519 = "Ed25519"
P256 = "P-256"


@runtime_checkable
class Signer(Protocol):
    """What the proof engines need from a key. Implementations never expose the secret."""

    #: the full verification method id, e.g. ``did:key:z6Mk…#z6Mk…`` or ``did:web:host:issuers:x#key-1``
    verification_method: str
    #: ``Ed25519`` or ``P-256``
    key_type: str

    def sign(self, data: bytes) -> bytes:
        """Raw signature over ``data``: 64 bytes Ed25519, or IEEE P1363 r||s for P-256 (JWS ES256)."""

    def public_multibase(self) -> str:
        """The public key as a Multikey ``publicKeyMultibase``."""

    def public_jwk(self) -> dict:
        """The public key as a JWK (RFC 8037 OKP for Ed25519, RFC 7518 EC for P-256)."""


@dataclass
class Ed25519Signer:
    """An Ed25519 key held in memory (from a seed)."""

    seed: bytes
    verification_method: str = ""
    key_type: str = ED25519

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise CryptoError("an Ed25519 seed is 32 bytes", code="INVALID_KEY_LENGTH")
        self._key = nacl.signing.SigningKey(self.seed)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(os.urandom(32))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data).signature

    def public_key(self) -> bytes:
        return bytes(self._key.verify_key)

    def public_multibase(self) -> str:
        return multikey.encode(multikey.ED25519_PUB, self.public_key())

    def secret_multibase(self) -> str:
        return multikey.encode(multikey.ED25519_PRIV, self.seed)

    def public_jwk(self) -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64u(self.public_key())}


@dataclass
class P256Signer:
    """A P-256 key held in memory, for JOSE ES256."""

    secret: bytes
    verification_method: str = ""
    key_type: str = P256

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise CryptoError("a P-256 secret scalar is 32 bytes", code="INVALID_KEY_LENGTH")
        self._key = ec.derive_private_key(int.from_bytes(self.secret, "big"), ec.SECP256R1())

    @classmethod
    def generate(cls) -> P256Signer:
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(key.private_numbers().private_value.to_bytes(32, "big"))

    def sign(self, data: bytes) -> bytes:
        der = self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def public_multibase(self) -> str:
        point = self._key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        return multikey.encode(multikey.P256_PUB, point)

    def secret_multibase(self) -> str:
        return multikey.encode(multikey.P256_PRIV, self.secret)

    def public_jwk(self) -> dict:
        numbers = self._key.public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _b64u(numbers.x.to_bytes(32, "big")), "y": _b64u(numbers.y.to_bytes(32, "big"))}


def signer_from_secret(secret: str, verification_method: str = "") -> Ed25519Signer | P256Signer:
    """A signer from a secret Multikey (``z3u2…`` Ed25519 or P-256)."""
    decoded = multikey.decode(secret)
    if decoded.codec == multikey.ED25519_PRIV:
        return Ed25519Signer(decoded.key, verification_method)
    if decoded.codec == multikey.P256_PRIV:
        return P256Signer(decoded.key, verification_method)
    raise CryptoError(f"a secret Multikey is needed, found an {decoded.kind} key", code="UNSUPPORTED_KEY_TYPE")


_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class FileKeyStore:
    """Development key storage: one JSON file per key in ``keys/``, created on first use with mode 0600.

    Not for production seals (see module docstring); the ``key_ref`` a database row keeps is the file name.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise CryptoError(f"invalid key name {name!r}", code="INVALID_KEY_NAME")
        return self.directory / f"{name}.json"

    def load(self, name: str, verification_method: str = "") -> Ed25519Signer | P256Signer:
        """The key ``name``; ``KeyUnavailable`` (503, no path in it) when its file is missing, unreadable, not a
        key, or readable by other users than this service's (a secret key file must be 0600)."""
        path = self._path(name)
        try:
            mode = path.stat().st_mode
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise KeyUnavailable(f"signing key {name} is missing from the key folder", code="KEY_NOT_FOUND") from None
        except (OSError, ValueError):
            raise KeyUnavailable(f"signing key {name} cannot be read (truncated, empty or not a key file)", code="KEY_UNREADABLE") from None
        if mode & 0o077:
            raise KeyUnavailable(f"signing key {name} is readable by other users (mode {mode & 0o777:o}); it must be 0600", code="KEY_FILE_EXPOSED")
        secret = data.get("secretKeyMultibase") if isinstance(data, dict) else None
        if not isinstance(secret, str):
            raise KeyUnavailable(f"signing key {name} cannot be read (no secretKeyMultibase)", code="KEY_UNREADABLE")
        try:
            return signer_from_secret(secret, verification_method)
        except CryptoError:
            raise KeyUnavailable(f"signing key {name} cannot be read (not a valid secret key)", code="KEY_UNREADABLE") from None

    def create(self, name: str, key_type: str = ED25519, verification_method: str = "") -> Ed25519Signer | P256Signer:
        signer: Ed25519Signer | P256Signer = Ed25519Signer.generate() if key_type == ED25519 else P256Signer.generate()
        signer.verification_method = verification_method
        return self.save(name, signer)

    def save(self, name: str, signer: Ed25519Signer | P256Signer) -> Ed25519Signer | P256Signer:
        """Keeps a key made elsewhere (a sealing key out of a PKCS#12 file) as ``name``; never overwrites one."""
        key_type = signer.key_type
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        body = json.dumps(
            {"type": "Multikey", "keyType": key_type, "publicKeyMultibase": signer.public_multibase(), "secretKeyMultibase": signer.secret_multibase()}
        )
        # O_EXCL: never overwrite a key that signed credentials; 0600 from the first byte.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
        return signer

    def get_or_create(self, name: str, key_type: str = ED25519, verification_method: str = "") -> Ed25519Signer | P256Signer:
        try:
            return self.load(name, verification_method)
        except KeyUnavailable as exc:
            if exc.code != "KEY_NOT_FOUND":
                raise
        try:
            return self.create(name, key_type, verification_method)
        except FileExistsError:  # another worker created it first
            return self.load(name, verification_method)


class KeyStores:
    """Where each provider's key lives, chosen by its ``key_ref``: ``pkcs11:<label>`` is a key inside the
    PKCS#11 token (app/keys/pkcs11.py), any other name a file of the ``FileKeyStore``."""

    def __init__(self, files: FileKeyStore, pkcs11: Pkcs11KeyStore | None = None):
        self.files = files
        self.pkcs11 = pkcs11

    def _token(self) -> Pkcs11KeyStore:
        if self.pkcs11 is None:
            raise KeyUnavailable("a PKCS#11 key is configured but no module is set (MICROCRED_PKCS11_MODULE)", code="PKCS11_NOT_CONFIGURED")
        return self.pkcs11

    def load(self, key_ref: str, verification_method: str = "") -> Signer:
        if is_pkcs11_ref(key_ref):
            return self._token().load(key_ref, verification_method)
        return self.files.load(key_ref, verification_method)

    def create(self, name: str, key_type: str = ED25519, verification_method: str = "", store: str = "file") -> tuple[Signer, str]:
        """A new key in ``store`` (``file`` or ``pkcs11``) and the ``key_ref`` that finds it again."""
        if store == "pkcs11":
            return self._token().create(name, key_type, verification_method), PKCS11_PREFIX + name
        if store != "file":
            raise CryptoError(f"unknown key store {store!r}: file or pkcs11", code="UNKNOWN_KEY_STORE")
        return self.files.create(name, key_type, verification_method), name


def store_of(key_ref: str) -> str:
    """``pkcs11`` or ``file``: where the key a ``key_ref`` names lives."""
    return "pkcs11" if is_pkcs11_ref(key_ref) else "file"
