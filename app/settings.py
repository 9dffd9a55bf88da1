"""Every setting of the service, in one place (pydantic-settings).

Read once at start-up (``get_settings()``) and passed down; no other module reads the environment.
Each field is an environment variable prefixed ``MICROCRED_`` (``DATABASE_URL`` also works unprefixed).
"""

from __future__ import annotations

import ipaddress
import sysconfig
import urllib.parse
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """A folder of data the service reads (``contexts``, ``trust``): the checkout's own when running from one,
    else the copy an installed wheel put in ``<prefix>/share/microcred/`` (pyproject.toml data-files)."""
    if (ROOT / "pyproject.toml").is_file() and (ROOT / name).is_dir():
        return ROOT / name
    return Path(sysconfig.get_path("data")) / "share" / "microcred" / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROCRED_", extra="ignore")

    # -- service
    base_url: str | None = Field(
        None,
        description="Public URL of this service; did:web and status list URLs derive from it. Production: required, an https URL "
        "of a public host. Unset: http://`host`:`port` (127.0.0.1 for a wildcard host), for development.",
    )
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, description="Port `serve` binds to.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes started by `serve`.")
    environment: str = Field("development", description="`development` or `production`; production refuses test-only allowances.")

    # -- storage and keys
    database_url: str = Field(
        f"sqlite:///{ROOT / 'var' / 'microcred.db'}",
        validation_alias=AliasChoices("MICROCRED_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; SQLite (WAL) by default, postgresql://… for production.",
    )
    database_busy_timeout_ms: int = Field(
        30_000, ge=0, description="SQLite: how long a writer waits for the write lock (writers serialize with BEGIN IMMEDIATE) before failing."
    )
    database_pool_size: int = Field(10, ge=1, description="PostgreSQL: connections kept open per worker process.")
    database_max_overflow: int = Field(10, ge=0, description="PostgreSQL: extra connections a worker may open under load beyond the pool size.")
    database_pool_timeout_seconds: float = Field(30.0, gt=0, description="PostgreSQL: how long a request waits for a free pooled connection.")
    status_list_size: int = Field(
        131_072, ge=131_072, multiple_of=8, description="Entries per new status list (Bitstring Status List: at least 131,072 for herd privacy)."
    )
    keys_dir: Path = Field(ROOT / "keys", description="Where file-backed signing keys live (0600, never committed).")
    pkcs11_module: Path | None = Field(
        None,
        description="PKCS#11 module (a `.so`) of the HSM that holds the keys of providers created with `--key-store pkcs11`, "
        "e.g. /usr/lib/softhsm/libsofthsm2.so. Unset: file-backed keys only.",
    )
    pkcs11_token_label: str | None = Field(None, description="The PKCS#11 token to use, by its label (or set `pkcs11_slot`).")
    pkcs11_slot: int | None = Field(None, ge=0, description="The PKCS#11 slot id of the token, when no `pkcs11_token_label` is set.")
    pkcs11_pin: str | None = Field(None, description="The PKCS#11 user PIN the service logs in with (keep it in the environment, never in a file).")
    pkcs12_password: str | None = Field(
        None,
        description="Password of the PKCS#12 file `provider seal-certificate --pkcs12` imports (read by that command only, "
        "from the environment; unset: it asks).",
    )
    contexts_dir: Path = Field(data_dir("contexts"), description="The pinned JSON-LD contexts.")

    # -- request limits (security-notes.md §5)
    max_body_bytes: int = Field(1_048_576, description="Largest accepted JSON request body.")
    max_json_depth: int = Field(64, description="Deepest accepted JSON nesting.")
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Longest a client may take to send a request's line and header fields before `serve` answers 408 and "
        "closes the connection (slow-header attacks; app/http_protocol.py).",
    )
    body_timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest a client may take to send a request's body, from the end of its header fields, before `serve` "
        "answers 408 and closes the connection (slow-body attacks; app/http_protocol.py).",
    )
    canonicalization_budget: int = Field(10_000, description="Most Hash N-Degree Quads calls one RDFC-1.0 run may make before it is refused as a poison graph.")

    # -- micro-credential rules
    ects_min: float = Field(1, description="Smallest workload in ECTS accepted for a micro-credential (MICROBOL: 1).")
    ects_max: float = Field(59, description="Largest workload in ECTS accepted for a micro-credential (MICROBOL: 59).")
    max_validity_years: int = Field(
        50,
        ge=1,
        le=1000,
        description="Furthest a credential's validUntil (or validFrom) may lie ahead when it is issued, in years; "
        "an end in the past is always refused (app/credentials/validity.py).",
    )

    # -- outbound fetches (security-notes.md §11)
    fetch_timeout_seconds: float = Field(3.0, description="Time cap of one did:web or status list fetch.")
    fetch_max_bytes: int = Field(2_000_000, description="Byte cap of one fetched document.")
    fetch_allow_loopback: bool = Field(
        False, description="Test-only: let did:web/status fetches reach 127.0.0.1 over http. Refused when environment=production."
    )
    status_cache_seconds: float = Field(
        10, description="Longest a verifier reuses a fetched status list (0: fetch every time); a revocation shows after at most this long."
    )
    did_cache_seconds: int = Field(300, description="Longest a resolved DID document or status list is reused.")
    fetch_connect_timeout_seconds: float = Field(
        2.0, description="Time cap of DNS resolution plus TCP connect of one fetch (never more than fetch_timeout_seconds)."
    )
    fetch_cache_entries: int = Field(256, ge=1, description="Most resolved DID documents or status lists kept in one in-memory cache.")
    status_list_max_decoded_bytes: int = Field(
        16_777_216, description="Cap on a decompressed status list (security-notes.md §9: a GZIP list is a bomb vector); 16 MiB = 134M entries."
    )

    # -- issuance
    suspension_enabled: bool = Field(
        True,
        description="Give credentials issued through the VC API a suspension entry besides their revocation entry "
        "(an EDC or an Open Badge carries one entry, for revocation).",
    )
    status_list_size: int = Field(131_072, ge=131_072, description="Entries per status list (Bitstring Status List minimum: 131,072).")
    batch_max_records: int = Field(10_000, ge=1, description="Most records one batch request may hold.")
    batch_max_body_bytes: int = Field(64 * 1_048_576, description="Largest accepted batch request body (JSON or CSV).")
    batch_processes: int = Field(0, ge=0, description="Signing processes per batch job (0: one per core).")
    # -- OpenID4VCI 1.0 (app/issuance/oid4vci.py)
    oid4vci_offer_ttl_seconds: int = Field(
        900, ge=30, le=2_592_000, description="How long a credential offer (its pre-authorized code and tx_code) can be redeemed (OID4VCI 1.0 §4.1.1)."
    )
    oid4vci_token_ttl_seconds: int = Field(300, ge=10, le=86_400, description="How long an OID4VCI access token can be used (once) at the credential endpoint.")
    oid4vci_nonce_ttl_seconds: int = Field(300, ge=10, le=86_400, description="How long a c_nonce from the nonce endpoint (OID4VCI 1.0 §7) can be used (once).")
    # -- VC API exchanges for the Learner Credential Wallet (app/issuance/vc_api.py)
    vc_api_exchange_ttl_seconds: int = Field(
        900, ge=30, le=2_592_000, description="How long a VC API exchange (its deep link for the Learner Credential Wallet) can be completed (once)."
    )
    oid4vci_proof_max_age_seconds: int = Field(
        300, ge=10, le=3600, description="How far a proof JWT's or DPoP proof's iat may be from now (OID4VCI 1.0 §8.2.1.1, RFC 9449 §11.1)."
    )
    oid4vci_batch_size: int = Field(
        10, ge=1, le=100, description="Most proofs, and so credentials, one credential request may carry (batch_credential_issuance.batch_size)."
    )
    oid4vci_tx_code_tries: int = Field(5, ge=1, le=20, description="Wrong tx_codes after which an offer is burnt.")
    auto_migrate: bool = Field(True, description="Apply database migrations when the app starts (`serve` migrates once, then starts workers with this off).")

    # -- verifier
    trust_registry_file: Path = Field(
        data_dir("trust") / "registry.json",
        description="The operator's trust registry (JSON or YAML): issuers by DID or did:web prefix; this service's providers are trusted too.",
    )
    trusted_lists_dir: Path | None = Field(
        data_dir("trust") / "eu-trusted-lists",
        description="The pinned, dated snapshot of the EU trusted lists (ETSI TS 119 612) the JAdES seal check reads, written by "
        "`microcred trust refresh-lotl`; never fetched. Missing: the check is indeterminate.",
    )
    lotl_signing_certificates: Path | None = Field(
        None,
        description="PEM file of the EU List of Trusted Lists signing certificates the Official Journal publishes, which "
        "`trust refresh-lotl` checks the LOTL's signature with (or give `--pinned`).",
    )
    challenge_ttl_seconds: int = Field(300, ge=10, le=86_400, description="How long a challenge from POST /challenges can be used (once) in a presentation.")
    presentation_request_ttl_seconds: int = Field(
        600, ge=30, le=86_400, description="How long an OpenID4VP request from POST /presentation-requests can be answered (once) by a wallet."
    )
    verify_upload_max_bytes: int = Field(
        4_194_304, ge=1024, description="Largest file accepted by POST /verify/upload and the verification page (a wallet PDF included)."
    )
    csrf_secret: str | None = Field(
        None, description="Key of the verification page's CSRF cookie; default: a random key kept in keys_dir (shared by the workers)."
    )

    # -- demo
    demo_provider: bool = Field(True, description="Create a demo provider on first start (development only).")

    # -- operations: logs, metrics, rate limits, probes (app/observability.py, app/api/ratelimit.py)
    log_format: Literal["auto", "json", "text"] = Field(
        "auto",
        description="`json`: one JSON object per line on stderr (for log shippers); `text`: one readable line per record; "
        "`auto`: text on a terminal, JSON in production or when stderr is not a terminal.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Lowest level logged (`DEBUG`, `INFO`, `WARNING`, `ERROR`).")
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose `X-Forwarded-For` `serve` trusts (uvicorn `--forwarded-allow-ips`); set to the load balancer's addresses, "
        "or the per-address rate limit sees only the balancer.",
    )
    metrics_multiproc_dir: Path | None = Field(
        None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR"),
        description="prometheus-client's own variable (read by the library at import): with several workers, each writes its metrics "
        "here and `/metrics` sums them. `serve` empties it at start; one directory per instance.",
    )
    tracemalloc_dir: Path | None = Field(
        None, description="Soak tests only (`bench soak`): trace allocations in each worker; SIGUSR2 writes the top growth here."
    )
    rate_limit_enabled: bool = Field(True, description="Answer 429 to clients over their rate (`/health`, `/ready`, `/metrics` are never limited).")
    rate_limit_per_key_per_minute: int = Field(
        600, ge=1, description="Requests per minute per API key (Bearer token), per worker process; bursts up to the same number."
    )
    rate_limit_per_ip_per_minute: int = Field(
        1200, ge=1, description="Requests per minute per client address, per worker process; bursts up to the same number."
    )
    rate_limit_max_clients: int = Field(
        100_000, ge=100, description="Most rate-limit buckets (keys plus addresses) one process keeps; the least recently seen are dropped first."
    )
    ready_timeout_seconds: float = Field(2.0, gt=0, description="Time cap of each `/ready` check (database ping and the others).")

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        # Derived from where `serve` listens, so two local instances on two ports mint two different did:web
        # identifiers (a fixed :8000 gave both the same DID with different keys).
        if not self.base_url:
            host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
            self.base_url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        return self

    def base_url_error(self) -> str | None:
        """In production, why ``base_url`` cannot be this service's public URL (None when it can).

        did:web (DID Web method §3.1: an https URL of a domain name) and status list URLs derive from it, and every
        credential carries them: an http URL, or one of a loopback or wildcard host, makes credentials that no one
        else can verify."""
        if self.environment != "production":
            return None
        fix = "set MICROCRED_BASE_URL to the service's public https URL (e.g. https://credentials.example.edu)"
        try:
            url = urllib.parse.urlsplit(self.base_url)
            host = (url.hostname or "").lower()
        except ValueError:
            return f"production: MICROCRED_BASE_URL {self.base_url!r} is not a URL; {fix}"
        if url.scheme != "https":
            return f"production: MICROCRED_BASE_URL {self.base_url!r} is not https; {fix}"
        try:
            address = ipaddress.ip_address(host)
            address = getattr(address, "ipv4_mapped", None) or address
            local = address.is_loopback or address.is_unspecified
        except ValueError:
            local = host in ("", "localhost") or host.endswith(".localhost")
        if local:
            return f"production: MICROCRED_BASE_URL {self.base_url!r} names a loopback or unspecified host; {fix}"
        return None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
