"""The ``credentialStatus`` entries this service puts into the credentials it issues.

Bitstring Status List v1.0 §2.1 (BitstringStatusListEntry): ``id``, ``type``, ``statusPurpose``,
``statusListIndex`` (a base-10 string) and ``statusListCredential`` (the URL of the list credential).
Built here only, whatever the issuance path (single, batch, VC API).
"""

from __future__ import annotations

from typing import Any

from app.status.bitstring import BITSTRING_ENTRY

__all__ = ["bitstring_entry"]


def bitstring_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """One BitstringStatusListEntry for index ``index`` of the list published at ``list_url`` (§2.1)."""
    return {
        "id": f"{list_url}#{index}",
        "type": BITSTRING_ENTRY,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
