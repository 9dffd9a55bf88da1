"""What ``POST /microcredentials`` issues for the EU example, built in process through the service's own way.

``issued_service()`` opens the service as ``app.main`` does (default settings but a temporary SQLite database,
keys folder and a fixed ``base_url``), creates a provider as ``microcred provider create`` does (did:web, a
file key), and ``IssuedCredentials.issue`` runs ``Issuance.issue``: the same validation, renderer, status
entries, proof and stored bytes as the HTTP endpoint (which calls ``Issuance.issue_request``, the same steps
split across threads). The benchmark signs and verifies exactly those documents: the stored credential with
its proof removed, re-signed with the provider's key.

Cases: the EU example (``app/credentials/example_input.json``) as Open Badge 3.0 and as EDC (eddsa-rdfc-2022),
the Open Badge with 1,000 learning outcomes, and the SD-JWT VC (``"format": "sd-jwt"``, ES256).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.issuance import Issuance
from app.runtime import Runtime
from app.settings import Settings
from app.store import open_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "app" / "credentials" / "example_input.json"
BASE_URL = "https://issuer.example.edu"


def example_record(outcomes: int | None = None) -> dict[str, Any]:
    """The EU example; with ``outcomes``, its first learning outcome repeated that many times (distinct texts)."""
    record = json.loads(EXAMPLE.read_text())
    if outcomes is not None:
        first = record["learningOutcomes"][0]
        record["learningOutcomes"] = [dict(first, text={"en": f"{first['text']['en']} ({n})"}) for n in range(outcomes)]
    return record


@dataclass
class IssuedCredentials:
    issuance: Issuance
    provider: Any

    @property
    def runtime(self) -> Runtime:
        return self.issuance.runtime

    def signer(self):
        return self.issuance.providers.signer_for(self.provider)

    def sd_jwt_signer(self):
        return self.issuance.providers.sd_jwt_signer_for(self.provider)

    def issue(self, payload: dict[str, Any]) -> bytes:
        """The exact bytes the service stores and returns for ``payload`` (a ``POST /microcredentials`` body)."""
        return self.issuance.issue(self.provider, payload).body

    def unsigned(self, fmt: str, outcomes: int | None = None) -> dict[str, Any]:
        """The issued Data Integrity credential (``fmt``: ob3 or edc) with its proof removed: the document signed."""
        secured = json.loads(self.issue({"format": fmt, "proof": "eddsa-rdfc-2022", "microcredential": example_record(outcomes)}))
        return {k: v for k, v in secured.items() if k != "proof"}


@contextmanager
def issued_service() -> Iterator[IssuedCredentials]:
    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-issued-"))
    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        keys_dir=folder / "keys",
        base_url=BASE_URL,
        demo_provider=False,
        rate_limit_enabled=False,
    )
    db = open_database(settings, migrate=True)
    try:
        issuance = Issuance(Runtime(settings), db)
        issuance.attach_own_data()
        provider, _ = issuance.providers.create(slug="uniz", name="University of Zed", country="IE", homepage="https://uniz.example.edu")
        yield IssuedCredentials(issuance, provider)
    finally:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)
