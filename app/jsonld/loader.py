"""The pinned-context document loader: the only source of JSON-LD contexts.

Data Integrity §4.7 / security-notes.md §2: a verifier must not fetch contexts from the network. The loader
serves exactly the URLs in ``contexts/manifest.json`` (copied from ``shared/contexts/INDEX.md``), checks
each file's SHA-384 digest when it first reads it, and refuses every other URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from app.errors import ContextError


class ContextLoader:
    """Maps pinned context URLs to their parsed documents; thread-safe, files read once."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        manifest = json.loads((self.directory / "manifest.json").read_text())
        self._entries: dict[str, dict[str, str]] = manifest
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._entries)

    def __contains__(self, url: object) -> bool:
        return url in self._entries

    def document(self, url: str) -> dict[str, Any]:
        """The whole context document for ``url`` (an object with an ``@context`` member)."""
        doc = self._cache.get(url)
        if doc is not None:
            return doc
        entry = self._entries.get(url)
        if entry is None:
            shown = url if isinstance(url, str) and len(url) < 200 else repr(url)[:200]
            raise ContextError(f"JSON-LD context {shown} is not in the pinned set; remote contexts are never fetched")
        raw = (self.directory / entry["file"]).read_bytes()
        digest = "sha384-" + base64.b64encode(hashlib.sha384(raw).digest()).decode()
        if digest != entry["sha384"]:
            raise ContextError(f"pinned context file {entry['file']} does not match its digest", code="CONTEXT_DIGEST_MISMATCH")
        doc = json.loads(raw)
        with self._lock:
            self._cache[url] = doc
        return doc

    def verify_all(self) -> None:
        """Every pinned file there and matching its digest (start-up and ``/ready``): an edited or deleted context
        would otherwise be noticed only by the first request that needs it, with every such request failing."""
        for url, entry in self._entries.items():
            path = self.directory / entry["file"]
            try:
                raw = path.read_bytes()
            except OSError:
                raise ContextError(f"pinned context file {entry['file']} ({url}) is missing", code="CONTEXT_MISSING") from None
            if "sha384-" + base64.b64encode(hashlib.sha384(raw).digest()).decode() != entry["sha384"]:
                raise ContextError(f"pinned context file {entry['file']} does not match its digest", code="CONTEXT_DIGEST_MISMATCH")

    def pyld_loader(self, url: str, options: dict | None = None) -> dict[str, Any]:
        """The ``documentLoader`` signature pyld expects; never touches the network."""
        return {"contextUrl": None, "documentUrl": url, "document": self.document(url)}
