"""The institution's logo a credential carries, as an image a page may show without fetching anything.

Where a logo is: Open Badges 3.0 §B.1 ``Profile.image`` (``issuer.image``: an IRI or an ``Image`` object
with ``id``), and the European Learning Model's ``Organisation.logo`` (EDC: ``awardedBy.awardingBody[].logo``, a
``MediaObject`` with ``content`` in base64 and ``contentType``), then the issuer's own ``logo`` in EDC.

Only an RFC 2397 ``data:`` URI of a PNG, JPEG or WebP image is shown: an image by URL would be fetched by every
viewer (the institution then learns who looks at whose credential, and when) and may change after signing. The
bytes are length-checked before decoding, and their signature must match the media type. (SVG is refused: a page
never needs it, and it is a document, not a picture.)
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

#: the largest logo shown, encoded (a logo is a few kilobytes; the upload cap bounds the credential anyway)
MAX_LOGO_CHARS = 200_000
_SIGNATURES = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",), "image/webp": (b"RIFF",)}
_DATA_URI = re.compile(r"data:(image/(?:png|jpeg|webp));base64,([A-Za-z0-9+/]+={0,2})", re.ASCII)


def image_bytes(uri: Any) -> tuple[str, bytes] | None:
    """(media type, bytes) of a ``data:`` URI of a PNG, JPEG or WebP image, or None for anything else."""
    if not isinstance(uri, str) or len(uri) > MAX_LOGO_CHARS:
        return None
    m = _DATA_URI.fullmatch(uri.strip())
    if m is None:
        return None
    try:
        data = base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None
    media = m.group(1)
    return (media, data) if data.startswith(_SIGNATURES[media]) else None


def data_uri(value: Any) -> str | None:
    """The value as a checked ``data:`` URI (string, OB3 Image ``id``, or an ELM MediaObject), else None."""
    if isinstance(value, list):
        return next((u for u in (data_uri(v) for v in value[:5]) if u), None)
    if isinstance(value, dict):
        if isinstance(value.get("content"), str):  # ELM MediaObject: content (base64) + contentType (a concept)
            kind = value.get("contentType")
            kind = kind.get("id") or kind.get("notation") if isinstance(kind, dict) else kind
            media = next((m for m in _SIGNATURES if isinstance(kind, str) and kind.lower().rstrip("/").endswith(m.split("/")[1])), None)
            if media is None and isinstance(kind, str) and kind.lower().endswith("jpg"):
                media = "image/jpeg"
            content = value["content"].strip()
            return data_uri(f"data:{media};base64,{content}") if media and len(content) <= MAX_LOGO_CHARS else None
        value = value.get("id") or value.get("contentURL")
    return value.strip() if image_bytes(value) else None


def credential_logo(credential: Any) -> str | None:
    """The logo of the institution a credential names (OB3 issuer.image; EDC awarding body's, then issuer's, logo)."""
    if not isinstance(credential, dict):
        return None
    issuer = credential.get("issuer") if isinstance(credential.get("issuer"), dict) else {}
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    claims = subject.get("hasClaim") if isinstance(subject, dict) else None
    bodies: list[Any] = []
    for claim in claims if isinstance(claims, list) else [claims]:
        awarded = claim.get("awardedBy") if isinstance(claim, dict) else None
        body = awarded.get("awardingBody") if isinstance(awarded, dict) else None
        bodies += body if isinstance(body, list) else [body]
    candidates = [issuer.get("image"), *(b.get("logo") for b in bodies[:5] if isinstance(b, dict)), issuer.get("logo")]
    return next((u for u in (data_uri(c) for c in candidates if c is not None) if u), None)
