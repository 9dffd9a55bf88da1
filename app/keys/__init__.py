"""Keys: Multikey encoding and the Signer interface."""

from app.keys.pkcs11 import Pkcs11KeyStore, Pkcs11Signer
from app.keys.signer import ED25519, P256, Ed25519Signer, FileKeyStore, KeyStores, P256Signer, Signer, signer_from_secret, store_of

__all__ = [
    "ED25519",
    "P256",
    "Ed25519Signer",
    "FileKeyStore",
    "KeyStores",
    "P256Signer",
    "Pkcs11KeyStore",
    "Pkcs11Signer",
    "Signer",
    "store_of",
    "signer_from_secret",
]
