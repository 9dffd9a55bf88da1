"""did:web Method Specification (W3C CCG): identifier → URL (§3.2 Read / Resolve), fetch, and check.

* ``did:web:example.com`` → ``https://example.com/.well-known/did.json``
* ``did:web:example.com:user:alice`` → ``https://example.com/user/alice/did.json``
* ``did:web:example.com%3A8443`` → ``https://example.com:8443/.well-known/did.json`` (the port's colon
  is percent-encoded, §3.1 "Method-specific identifier")

Identifiers naming an IP address are refused (security-notes.md §11; the method spec itself says the
domain name must not be an IP address), as are names an address parser would read as one
(``2130706433``, ``0x7f.1``, ``127.1``). The single exception is the test-only allowance of the
Fetcher: ``did:web:127.0.0.1%3APORT:…`` then maps to ``http://127.0.0.1:PORT/…/did.json``.

The document is fetched only through ``app.net.Fetcher``, parsed with ``app.strict_json.loads``, and
its ``id`` must equal the DID (§3.2 step 5 / DID Core §6.2.1: a document for another DID is refused).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote

from app.errors import DidResolutionError, FetchError, MicrocredError
from app.net import Fetcher
from app.strict_json import loads

PREFIX = "did:web:"
ACCEPT = "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8"

_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.-]{1,253})(?:%3[Aa](?P<port>[0-9]{1,5}))?")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SEGMENT = re.compile(r"(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+")


def _invalid(did: str, why: str) -> DidResolutionError:
    return DidResolutionError(f"{did[:80]!r} is not a usable did:web identifier: {why}", code="INVALID_DID")


def did_web_to_url(did: str, *, allow_loopback: bool = False) -> str:
    """The URL of the DID document of ``did`` (did:web §3.2 steps 1–4); raises ``DidResolutionError``."""
    if not isinstance(did, str) or not did.startswith(PREFIX) or len(did) > 2048:
        raise _invalid(str(did), "it must start with did:web: and be at most 2048 characters")
    msid = did[len(PREFIX) :]
    if any(c in msid for c in "/?#"):
        # A DID URL (path, query, fragment) is dereferenced by the resolver, not turned into a fetch.
        raise _invalid(did, "a DID (without path, query or fragment) is expected")
    host_part, *path = msid.split(":")
    match = _HOST_PORT.fullmatch(host_part)
    if not match:
        raise _invalid(did, "the domain name is missing or holds characters other than letters, digits, '.' and '-'")
    host = match["host"].lower()
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 1 <= port <= 65535:
        raise _invalid(did, f"port {port} is out of range")

    loopback = False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if not (allow_loopback and ip.is_loopback):
            raise _invalid(did, "it names an IP address; did:web identifiers name a domain")
        loopback = True
    else:
        labels = host.split(".")
        if not all(_LABEL.fullmatch(label) for label in labels):
            raise _invalid(did, "the domain name is not a valid DNS name")
        if labels[-1].isdigit() or host.startswith("0x"):
            # RFC 3696 §2: a top-level label is never all-numeric; inet_aton would read such a name
            # (2130706433, 127.1, 0x7f.1) as an IP address.
            raise _invalid(did, "it names an IP address in another notation; did:web identifiers name a domain")

    for segment in path:
        if not _SEGMENT.fullmatch(segment):
            raise _invalid(did, "a path segment is empty or holds characters a DID does not allow")
        decoded = unquote(segment)
        if decoded in (".", "..") or any(c in decoded for c in "/\\?#") or not decoded.isprintable():
            raise _invalid(did, "a path segment would change the URL's path")

    scheme = "http" if loopback else "https"  # the Fetcher refuses http unless the test allowance is on
    authority = host if port is None else f"{host}:{port}"
    location = "/".join(path) if path else ".well-known"
    return f"{scheme}://{authority}/{location}/did.json"


def resolve_did_web(did: str, fetcher: Fetcher) -> dict:
    """Fetch, parse and check the DID document of ``did`` (did:web §3.2 Read)."""
    url = did_web_to_url(did, allow_loopback=fetcher.allow_loopback)
    try:
        fetched = fetcher.fetch(url, accept=ACCEPT)
    except FetchError as exc:
        raise DidResolutionError(f"the DID document of {did} could not be fetched: {exc.detail}", code="DID_NOT_FOUND") from exc
    try:
        document = loads(fetched.content, max_bytes=fetcher.max_bytes)
    except MicrocredError as exc:
        raise DidResolutionError(f"the DID document of {did} is not valid JSON: {exc.detail}", code="INVALID_DID_DOCUMENT") from exc
    if not isinstance(document, dict):
        raise DidResolutionError(f"the DID document of {did} is not a JSON object", code="INVALID_DID_DOCUMENT")
    if document.get("id") != did:
        # DID Core §6.2.1: the document must be about the DID that was resolved, or anyone's
        # document could be passed off as ours.
        raise DidResolutionError(f"the DID document at {url} has id {str(document.get('id'))[:80]!r}, not {did}", code="INVALID_DID_DOCUMENT")
    return document
