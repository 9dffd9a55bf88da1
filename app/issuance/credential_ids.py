"""The caller's ``credential.id`` on the VC API's ``POST /credentials/issue``.

The VC API (issueCredential) lets the caller name its credential; VC 2.0 §4.4 says an ``id`` MUST be a URL
(an absolute one: RFC 3986 §4.3, a scheme then a non-empty rest, no whitespace). An id already used for a
credential of this service is refused with 409, since two credentials must never share one (their status and
their revocation would be ambiguous); without an id the issuer generates a ``urn:uuid:``.
``POST /microcredentials`` keeps setting its own.
"""

from __future__ import annotations

import re
from typing import Any

from app.errors import ConflictError, MalformedValueError, NotFoundError
from app.store import credentials as credential_store

_ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")
MAX_LENGTH = 2048


def client_credential_id(db, credential: dict[str, Any]) -> str | None:
    """The caller's id when it gave one (checked), else None; ``MalformedValueError`` / ``ConflictError`` (409)."""
    if "id" not in credential:
        return None
    value = credential["id"]
    if not isinstance(value, str) or len(value) > MAX_LENGTH or not _ABSOLUTE_URL.fullmatch(value):
        raise MalformedValueError(
            "credential.id must be an absolute URL (VC 2.0 §4.4), at most 2048 characters",
            errors=[{"pointer": "/credential/id", "detail": "not an absolute URL"}],
        )
    with db.read() as session:
        try:
            credential_store.get_credential(session, value)
        except NotFoundError:
            return value
    raise ConflictError(
        "credential.id has already been used for a credential of this service",
        code="CREDENTIAL_ID_IN_USE",
        errors=[{"pointer": "/credential/id", "detail": "already used"}],
    )
