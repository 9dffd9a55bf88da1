"""The server-owned issuer block (model doc §1.2): the sealing/signing organisation, loaded from config.

For EDC it must match the e-seal certificate: ``O`` → ``legal_name``, ``C`` → ``country``,
``organizationIdentifier`` → ``eidas_identifier``. OB3 shows the same organisation as a Profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.credentials import vocab


@dataclass(frozen=True)
class IssuerProfile:
    """The issuer of every credential this service signs.

    ``id`` is the DID (did:web/did:key) or https URL the proof's verification method belongs to;
    ``legal_name`` a language map (ISO 639-1 keys); ``country`` ISO 3166-1 α2; ``eidas_identifier`` the
    e-seal certificate's organizationIdentifier (e.g. ``VATIE-1234567X``), mandatory for EDC;
    ``identifiers`` further (scheme, value) pairs (ErasmusCode, PIC, SCHAC, ROR…).
    """

    id: str
    legal_name: Mapping[str, str]
    country: str
    homepage: str | None = None
    eidas_identifier: str | None = None
    email: str | None = None
    identifiers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if ":" not in self.id:
            raise ValueError("issuer id must be an absolute URI (DID or https URL)")
        if not self.legal_name:
            raise ValueError("issuer legal_name must hold at least one language")
        vocab.country(self.country)  # KeyError for an unknown country: a configuration error

    def name(self, lang: str) -> str:
        return self.legal_name.get(lang) or next(iter(self.legal_name.values()))
