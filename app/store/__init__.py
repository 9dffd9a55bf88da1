"""Storage: the only package that knows SQL.

Open a ``Database`` (``Database.from_settings(settings)``), migrate it with ``upgrade(url)``, and call
the repository functions with a session from ``db.transaction()`` (writes) or ``db.read()``:

* ``providers``: providers, API keys (stored as hashes), signing keys (rotation keeps retired keys)
* ``specifications``: specifications and the public catalogue
* ``credentials``: issued credentials as exact signed bytes, paginated listing
* ``status``: status lists, index allocation (never reused), status changes, the derived bitstring
* ``idempotency``: Idempotency-Key handling for issuance
* ``batches``: batch jobs, items and progress
* ``recovery``: the append-only recovery log (issued indices, status changes), exported and replayed after a restore
* ``seals``: each provider's JAdES sealing key and certificate chain
* ``challenges``: the verifier's single-use presentation challenges
* ``presentation_requests``: the verifier's OpenID4VP requests, answered once
* ``oid4vci``: OpenID4VCI offers, access tokens, c_nonces and seen DPoP jtis
* ``wallet``: learners, sign-in links, sessions, offers, holdings, shares (tables in ``wallet_models``)

Repositories take plain values and return frozen dataclasses; ORM objects do not leave this package.
"""

from app.store import batches, challenges, credentials, idempotency, oid4vci, presentation_requests, providers, recovery, seals, specifications, status, wallet
from app.store._common import Page
from app.store.db import Database, create_db_engine, normalize_url
from app.store.migrate import current_revision, downgrade, open_database, upgrade

__all__ = [
    "Database",
    "Page",
    "batches",
    "challenges",
    "create_db_engine",
    "credentials",
    "current_revision",
    "downgrade",
    "idempotency",
    "normalize_url",
    "oid4vci",
    "open_database",
    "presentation_requests",
    "providers",
    "recovery",
    "seals",
    "specifications",
    "status",
    "upgrade",
    "wallet",
]
