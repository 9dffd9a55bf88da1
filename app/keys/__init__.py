"""Keys: Multikey encoding and the Signer interface."""

from app.keys.signer import ED25519, P256, Ed25519Signer, FileKeyStore, P256Signer, Signer, signer_from_secret

__all__ = ["ED25519", "P256", "Ed25519Signer", "FileKeyStore", "P256Signer", "Signer", "signer_from_secret"]
