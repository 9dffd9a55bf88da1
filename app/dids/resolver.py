"""DID resolution and verification-method dereferencing (DID Core v1.0 §7.1 Resolution, §7.2 Dereferencing).

Supported methods: did:key (``app.dids.did_key``), did:jwk and did:web. did:web documents are cached
for at most ``did_cache_seconds`` (bounded in number too); failures are never cached.

``dereference`` does what security-notes.md §10 asks of a verifier before it trusts a key: the method
must be found in the document the DID resolves to, its id must be a fragment of that DID, and its
``controller`` must be that DID. ``relationship_allows`` then checks the method is listed under the
verification relationship the proof purpose names (DID Core §5.3: assertionMethod, authentication, …).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from app.dids.did_jwk import resolve_did_jwk
from app.dids.did_key import resolve_did_key
from app.dids.did_web import resolve_did_web
from app.errors import DidResolutionError
from app.net import Fetcher, TTLCache
from app.settings import Settings, get_settings

# DID Core §3.1 DID Syntax: did:method-name:method-specific-id (pct-encoded allowed, no path/query/fragment).
_DID = re.compile(r"did:([a-z0-9]+):((?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}))")
_FRAGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]+|(?:%[0-9A-Fa-f]{2})+")  # RFC 3986 fragment, simplified
MAX_DID_LENGTH = 2048

#: DID Core §5.3 verification relationships.
RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation")


def method_of(did: str) -> str:
    """The method name of a syntactically valid DID, or ``DidResolutionError`` (INVALID_DID)."""
    if not isinstance(did, str) or len(did) > MAX_DID_LENGTH:
        raise DidResolutionError("a DID must be a string of at most 2048 characters", code="INVALID_DID")
    match = _DID.fullmatch(did)
    if not match:
        raise DidResolutionError(f"{did[:80]!r} is not a DID (DID Core §3.1)", code="INVALID_DID")
    return match[1]


def _absolute(ref: str, document_id: str) -> str:
    # DID Core §3.2.2: a relative DID URL ("#key-1") is resolved against the document's id.
    return document_id + ref if ref.startswith("#") else ref


def _embedded_methods(document: dict):
    """Every verification method the document defines: the verificationMethod list, and maps embedded in relationships."""
    methods = document.get("verificationMethod", [])
    if isinstance(methods, list):
        yield from (m for m in methods if isinstance(m, dict))
    for relationship in RELATIONSHIPS:
        entries = document.get(relationship, [])
        if isinstance(entries, list):
            yield from (m for m in entries if isinstance(m, dict))


def relationship_allows(document: dict, vm_id: str, relationship: str) -> bool:
    """Whether ``vm_id`` is listed under ``relationship`` of ``document``, by reference or embedded (DID Core §5.3)."""
    if relationship not in RELATIONSHIPS or not isinstance(document, dict) or not isinstance(document.get("id"), str):
        return False
    doc_id = document["id"]
    wanted = _absolute(vm_id, doc_id)
    entries = document.get(relationship, [])
    if not isinstance(entries, list):
        return False
    for entry in entries:
        ref = entry if isinstance(entry, str) else entry.get("id") if isinstance(entry, dict) else None
        if isinstance(ref, str) and _absolute(ref, doc_id) == wanted:
            return True
    return False


class DidResolver:
    """Resolve DIDs to documents and verification-method ids to (method, document)."""

    def __init__(self, settings: Settings | None = None, *, fetcher: Fetcher | None = None, cache: TTLCache[dict] | None = None):
        self.settings = settings or get_settings()
        self._fetcher = fetcher
        self._cache: TTLCache[dict] = cache if cache is not None else TTLCache.from_settings(self.settings)
        #: did:web DIDs this service hosts itself are answered from its own data, never over the network
        #: (set by the app: ``Providers.local_did_document``); ``None`` for a DID it does not host.
        #: ``local(did, fresh)``: ``fresh`` when a kept document lacked the method asked for.
        self.local: Callable[[str, bool], dict | None] | None = None

    def clear_cache(self) -> None:
        """Forget cached did:web documents (after a key rotation, or in tests)."""
        self._cache.clear()

    @property
    def fetcher(self) -> Fetcher:
        # Built on first did:web use, so did:key/did:jwk-only callers never construct a network client.
        if self._fetcher is None:
            self._fetcher = Fetcher(self.settings)
        return self._fetcher

    def resolve(self, did: str, *, fresh: bool = False) -> dict:
        """DID Core §7.1 resolve(): the DID document of ``did``. Raises ``DidResolutionError``.

        ``fresh``: for a DID this service hosts, read its document again rather than the kept one.
        """
        method = method_of(did)
        if method == "key":
            document = resolve_did_key(did)
        elif method == "jwk":
            document = resolve_did_jwk(did)
        elif method == "web" and self.local is not None and (own := self.local(did, fresh)) is not None:
            document = own
        elif method == "web":
            # A deep copy out of the cache: callers must never be able to edit what later callers get.
            return copy.deepcopy(self._cache.get_or_load(did, lambda: resolve_did_web(did, self.fetcher)))
        else:
            raise DidResolutionError(f"DID method {method!r} is not supported (did:key, did:jwk and did:web are)", code="METHOD_NOT_SUPPORTED")
        if not isinstance(document, dict) or document.get("id") != did:
            raise DidResolutionError(f"the DID document of {did} does not name that DID", code="INVALID_DID_DOCUMENT")
        return document

    def dereference(self, vm_id: str) -> tuple[dict, dict]:
        """DID Core §7.2 for a verification method: ``(method, document)``, the method's id made absolute.

        Refuses a method that is missing, whose id is not a fragment of the resolved DID, or whose
        ``controller`` is not that DID (security-notes.md §10).
        """
        if not isinstance(vm_id, str) or "#" not in vm_id:
            raise DidResolutionError("a verification method is named by a DID URL with a fragment (did:…#key)", code="INVALID_VERIFICATION_METHOD")
        did, fragment = vm_id.split("#", 1)
        if not fragment or not _FRAGMENT.fullmatch(fragment):
            raise DidResolutionError("the verification method's fragment is empty or malformed", code="INVALID_VERIFICATION_METHOD")
        document = self.resolve(did)
        method = _find_method(document, vm_id, did)
        if method is None and self.local is not None and method_of(did) == "web":
            # A document this service hosts may have gained a key in another worker since it was kept.
            document = self.resolve(did, fresh=True)
            method = _find_method(document, vm_id, did)
        if method is None:
            raise DidResolutionError(f"{vm_id} is not a verification method of {did}", code="INVALID_VERIFICATION_METHOD")
        if method.get("controller") != did:
            raise DidResolutionError(f"{vm_id} is controlled by {str(method.get('controller'))[:80]!r}, not by {did}", code="INVALID_VERIFICATION_METHOD")
        if not isinstance(method.get("type"), str):
            raise DidResolutionError(f"{vm_id} has no type", code="INVALID_VERIFICATION_METHOD")
        resolved = copy.deepcopy(method)
        resolved["id"] = vm_id
        return resolved, document


def _find_method(document: dict, vm_id: str, did: str) -> dict | None:
    for method in _embedded_methods(document):
        if isinstance(method.get("id"), str) and _absolute(method["id"], did) == vm_id:
            return method
    return None
