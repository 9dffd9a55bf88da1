"""The service's view of its own data, for every verifier of this service (the HTTP app and the command line):
its providers count as trusted issuers, its did:web documents and its status lists are read from its own
database instead of being fetched (authoritative and current; a did:web on an IP address or loopback, as a
local service has, resolves too)."""

from __future__ import annotations


def providers_of(db):
    """This service's providers, for the trust check."""
    from app.store import providers

    def read():
        with db.read() as session:
            return providers.list_providers(session)

    return read


def attach(runtime, issuance) -> None:
    """Give ``runtime``'s verifier the service's own issuers, DID documents and status lists (``issuance``)."""
    runtime.trust_check.attach_providers(providers_of(issuance.db))
    runtime.resolver.local = issuance.local_did_document
    runtime.status_checker.local = issuance.local_status_list
