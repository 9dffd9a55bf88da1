"""The issuer: providers, issuing one credential or a batch, status lists, and the catalogue.

* ``Issuance`` (``service``): one credential from a provider's request to its stored, signed bytes;
  ``Issuance.providers`` (``providers``) and ``Issuance.status_lists`` (``status_lists``) are its two subjects.
* ``BatchRunner`` (``batch``): many records as a job the provider polls.
* ``Catalogue`` (``catalogue``): specifications and the public catalogue.

Domain code: no HTTP, no SQL (``app.store`` keeps everything).
"""

from app.issuance.batch import BatchRequest, BatchRunner, parse_csv_request, parse_json_request
from app.issuance.catalogue import Catalogue
from app.issuance.providers import ApiKey, Providers
from app.issuance.service import SIGN_ON_LOOP_MAX_BYTES, Issuance, Issued
from app.issuance.status_lists import Entries, StatusLists
from app.store.providers import ProviderRecord

__all__ = [
    "SIGN_ON_LOOP_MAX_BYTES",
    "ApiKey",
    "BatchRequest",
    "BatchRunner",
    "Catalogue",
    "Entries",
    "Issuance",
    "Issued",
    "ProviderRecord",
    "Providers",
    "StatusLists",
    "parse_csv_request",
    "parse_json_request",
]
