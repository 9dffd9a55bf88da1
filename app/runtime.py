"""The composition root: builds the long-lived domain objects from the settings, once per process.

The API, the command line and the benchmarks all take their context loader, DID resolver and proof
engine from here, so each is configured in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from app.credentials import sd_jwt_vc
from app.dids.resolver import DidResolver
from app.jsonld import ContextLoader
from app.proofs import ProofEngine
from app.settings import Settings, get_settings
from app.verification import Verifier
from app.verification.completeness_check import completeness_check
from app.verification.status_check import StatusChecker
from app.verification.trust import TrustCheck, TrustRegistry
from app.verification.trusted_lists import SnapshotSource


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def loader(self) -> ContextLoader:
        return ContextLoader(self.settings.contexts_dir)

    @cached_property
    def resolver(self) -> DidResolver:
        return DidResolver(self.settings)

    @cached_property
    def resolve_method(self):
        """``vm_id -> (verification method, controller document)``: did:key, did:jwk, did:web."""
        return self.resolver.dereference

    @cached_property
    def engine(self) -> ProofEngine:
        return ProofEngine(self.loader, self.resolve_method, budget=self.settings.canonicalization_budget)

    @cached_property
    def status_checker(self) -> StatusChecker:
        return StatusChecker(
            self.resolver.fetcher,
            self.engine,
            cache_seconds=self.settings.status_cache_seconds,
            clock=lambda: datetime.now(UTC),
            max_bytes=self.settings.fetch_max_bytes,
            list_max_bytes=self.settings.status_list_max_decoded_bytes,
        )

    @cached_property
    def trust_check(self) -> TrustCheck:
        """The operator's registry; the app attaches this service's providers at start-up (``app.main``)."""
        return TrustCheck(TrustRegistry.load(self.settings.trust_registry_file))

    def attach_local(self, *, providers, did_documents, status_lists, status_tokens=None) -> None:
        """Wire in what this service hosts itself (``app.main``, once the database is open): its providers
        count as trusted issuers; its did:web documents and status lists are read from its own data."""
        self.trust_check.attach_providers(providers)
        self.resolver.local = did_documents
        self.status_checker.local = status_lists
        self.status_checker.local_token = status_tokens
        own_vct = sd_jwt_vc.vct_for(self.settings.base_url)
        self.verifier.type_metadata = lambda vct: sd_jwt_vc.type_metadata_bytes(vct) if vct == own_vct else None

    @cached_property
    def verifier(self) -> Verifier:
        return Verifier(
            self.loader,
            self.engine,
            self.resolve_method,
            status_check=self.status_checker,
            trust_check=self.trust_check,
            completeness_check=completeness_check,
            trusted_lists=SnapshotSource(self.settings.trusted_lists_dir).current,
        )


_runtime: Runtime | None = None


def get_runtime(settings: Settings | None = None) -> Runtime:
    global _runtime
    if settings is not None:
        return Runtime(settings)
    if _runtime is None:
        _runtime = Runtime(get_settings())
    return _runtime
