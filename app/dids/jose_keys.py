"""The JOSE form of a did:web provider's keys: a ``JsonWebKey`` verification method (Controlled Identifiers 1.0
§2.2.3, ``publicKeyJwk``) beside each ``Multikey`` one, for verifiers that take a vc+jwt's key as a JWK
(VC-JOSE-COSE §3.1.1 names the key with ``kid``). A method carries one form of its key material, so the JWK is a
method of its own, ``<did>#jwk-<multibase>``, listed under the same relationships as the Multikey method."""

from __future__ import annotations

import base64
from typing import Any

from app.keys import multikey

JWK_CONTEXT = "https://w3id.org/security/jwk/v1"


def jose_kid(kid: str) -> str:
    """The JsonWebKey method's id for a Multikey method id ``<did>#<multibase>``."""
    did, _, fragment = kid.partition("#")
    return f"{did}#jwk-{fragment}"


def jwk_method(kid: str, controller: str, public_multibase: str) -> dict[str, Any] | None:
    """The JsonWebKey method for an Ed25519 key (RFC 8037 §2: OKP, crv Ed25519), else None."""
    decoded = multikey.decode(public_multibase)
    if decoded.codec != multikey.ED25519_PUB:
        return None
    x = base64.urlsafe_b64encode(decoded.key).rstrip(b"=").decode()
    return {"id": jose_kid(kid), "type": "JsonWebKey", "controller": controller, "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": x}}


def with_jwk_methods(document: dict[str, Any]) -> dict[str, Any]:
    """A DID document with a JsonWebKey method beside every Ed25519 Multikey method, in the same relationships."""
    extra = [m for m in (jwk_method(v["id"], v["controller"], v["publicKeyMultibase"]) for v in document["verificationMethod"]) if m]
    out = dict(document, verificationMethod=[*document["verificationMethod"], *extra])
    out["@context"] = [*document["@context"], JWK_CONTEXT]
    for rel in ("assertionMethod", "authentication"):
        out[rel] = [*document[rel], *(m["id"] for m in extra)]
    return out


def jose_kid_for(signer) -> str | None:
    """The ``kid`` of a vc+jwt: a did:web key's JsonWebKey method; None (the signer's own method) for did:key, whose
    document is derived from the DID and has the Multikey form only."""
    vm = signer.verification_method
    return jose_kid(vm) if vm.startswith("did:web:") and getattr(signer, "key_type", None) == "Ed25519" else None
