"""Status changes (revoke, suspend, lift a suspension) in the group commit, like issuance (``Database.grouped``).

Each change was a transaction of its own: on one list every change waited for the previous one's commit
(SQLite's write lock and its disk flush; on PostgreSQL the list row's lock, held to the commit). 2,400
changes on one list took up to 29 s per request on SQLite and 90 s on PostgreSQL. Now concurrent changes
share a transaction and its flush: the committer runs them one after another in it, each seeing the ones
before (so none is lost, and revocation stays final), and one that fails (not found, revocation is final)
is undone alone while the others commit.

What does not change under a change is checked before it, outside the write: the request's status word,
whether suspension is enabled, and that the credential is the provider's (a credential never changes
hands), so that the shared transaction holds the write lock for the status statements alone.
"""

from __future__ import annotations

from typing import Any

from app.errors import ConflictError, MalformedValueError, NotFoundError
from app.store import status
from app.store.models import Credential

CHANGES = {"revoked": ("revocation", True), "suspended": ("suspension", True), "active": ("suspension", False)}


def change_status(issuance, provider, credential_id: str, new_status: str, *, reason: str | None = None) -> dict[str, Any]:
    """revoked (final), suspended, or active (lifts a suspension); the credential's status afterwards."""
    if new_status not in CHANGES:
        errors = [{"pointer": "/status", "detail": "unknown status"}]
        raise MalformedValueError("status must be revoked, suspended or active", errors=errors)
    if new_status != "revoked" and not issuance.settings.suspension_enabled:
        raise ConflictError("suspension is not enabled on this service", code="SUSPENSION_DISABLED")
    db = issuance.db
    owned = db.read_value(f"SELECT 1 FROM {Credential.__tablename__} WHERE id = ? AND provider_id = ?", credential_id, provider.id)
    if owned is None:
        raise NotFoundError(f"no credential {credential_id}")  # 404 for others' credentials too
    purpose, value = CHANGES[new_status]

    def change(session) -> dict[str, Any]:
        if new_status == "active" and status.credential_status(session, provider.id, credential_id, "revocation"):
            raise ConflictError("a revoked credential cannot be made active again", code="REVOCATION_IS_FINAL")
        status.set_credential_status(session, provider.id, credential_id, purpose, value, by=provider.slug, reason=reason)
        return issuance.status_of(session, provider.id, credential_id)

    return db.grouped(change)
