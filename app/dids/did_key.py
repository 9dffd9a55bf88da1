"""The did:key method (W3C CCG did:key v0.7): DIDs that are their own public key.

``did:key:<Multikey>``; the DID document is derived, never fetched. Ed25519 keys (``z6Mk…``) get a Multikey
verification method under every verification relationship, plus a derived X25519 key agreement key
(§3.1.2 "enableEncryptionKeyDerivation"); P-256 keys (``zDn…``) get the Multikey method alone.
"""

from __future__ import annotations

import nacl.bindings

from app.errors import DidResolutionError, MicrocredError
from app.keys import multikey

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation")


def x25519_from_ed25519(public: bytes) -> bytes:
    """Birational map of an Ed25519 public key to X25519 (RFC 7748 §4.1), as libsodium does."""
    return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public)


def resolve_did_key(did: str) -> dict:
    """The DID document of a did:key (did:key v0.7 §3.1 "Document Creation Algorithm")."""
    if not isinstance(did, str) or not did.startswith("did:key:"):
        raise DidResolutionError(f"not a did:key: {str(did)[:80]}", code="INVALID_DID")
    value = did[len("did:key:") :]
    if "#" in value or "/" in value or "?" in value:
        raise DidResolutionError("a did:key has no path, query or fragment", code="INVALID_DID")
    try:
        decoded = multikey.decode(value)
    except MicrocredError as exc:
        raise DidResolutionError(f"did:key does not hold a valid Multikey: {exc.detail}", code="INVALID_DID") from None
    if decoded.codec not in (multikey.ED25519_PUB, multikey.P256_PUB):
        raise DidResolutionError(f"did:key holds an {decoded.kind} key, which cannot sign", code="INVALID_DID")
    vm_id = f"{did}#{value}"
    doc: dict = {
        "@context": list(CONTEXT),
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": value}],
    }
    for rel in RELATIONSHIPS:
        doc[rel] = [vm_id]
    if decoded.codec == multikey.ED25519_PUB:
        try:
            x_key = multikey.encode(multikey.X25519_PUB, x25519_from_ed25519(decoded.key))
        except Exception:  # noqa: BLE001 - libsodium refuses small-order points: such a key has no X25519 twin
            return doc
        ka_id = f"{did}#{x_key}"
        doc["verificationMethod"].append({"id": ka_id, "type": "Multikey", "controller": did, "publicKeyMultibase": x_key})
        doc["keyAgreement"] = [ka_id]
    return doc
