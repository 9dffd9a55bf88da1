"""The small shared things of the W3C Verifiable Credentials Data Model (VC DM 2.0, and 1.1 where read).

One home for the base context URLs and the accessors every part of the service uses on a credential
(``types``, ``issuer_id``, ``subject_id``), so that no module keeps its own copy.
"""

from __future__ import annotations

from typing import Any

#: VC DM 2.0 §4.3: the base context of a VC 2.0 credential or presentation.
VC2 = "https://www.w3.org/ns/credentials/v2"
#: VC DM 1.1 §4.1: the base context of a VC 1.1 credential (Europass EDC uses it).
VC1 = "https://www.w3.org/2018/credentials/v1"
#: Bitstring Status List §2.1: defines ``BitstringStatusListEntry`` for VC 1.1 documents.
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"

__all__ = ["STATUS_V1", "VC1", "VC2", "base_context", "contexts", "issuer_id", "subject_id", "types"]


def contexts(document: dict[str, Any]) -> list[Any]:
    """The ``@context`` value as a list (VC DM 2.0 §4.3: a string or an ordered set)."""
    ctx = document.get("@context")
    return list(ctx) if isinstance(ctx, list) else ([ctx] if ctx is not None else [])


def base_context(document: dict[str, Any]) -> Any:
    """The first ``@context`` entry, which names the data model version (VC DM 2.0 §4.3)."""
    ctx = contexts(document)
    return ctx[0] if ctx else None


def types(node: dict[str, Any]) -> list[str]:
    """The string members of ``type`` (or ``@type``) of a node (VC DM 2.0 §4.5)."""
    t = node.get("type", node.get("@type"))
    return [x for x in (t if isinstance(t, list) else [t]) if isinstance(x, str)]


def issuer_id(credential: dict[str, Any]) -> str | None:
    """VC DM 2.0 §4.7: ``issuer`` is a URL or an object whose ``id`` is one."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def subject_id(credential: dict[str, Any]) -> str | None:
    """The ``id`` of the (first) ``credentialSubject`` (VC DM 2.0 §4.8), if it has one."""
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    return subject.get("id") if isinstance(subject, dict) and isinstance(subject.get("id"), str) else None
