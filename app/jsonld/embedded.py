"""The one rule for the contexts of a document: pinned URLs, and embedded contexts that only add terms.

VC Data Model 2.0 §4.3: after the base context, ``@context`` holds "any combination of URLs and objects";
the base context (and every pinned context but the examples) is ``@protected``, and JSON-LD 1.1 §4.1.11
forbids redefining a protected term. A verifier that does not enforce that signs or accepts a document
whose words mean something else than the pinned contexts say. So an embedded context (an object in any
``@context``, at the top, in a node, or scoped inside a term definition) may:

* define new terms (names that no pinned context the document uses defines), as a string IRI or an
  expanded term definition;
* say ``@version: 1.1`` and ``@protected`` (true or false: it concerns only the new terms).

It may not:

* redefine a term of a pinned context the document names, whatever its ``@protected`` says (JSON-LD
  1.1 §4.1.11 "protected term redefinition"; an identical redefinition is also refused: it adds nothing);
* set ``@vocab`` (terms no context defines would then be signed instead of refused as data loss, Data
  Integrity §2.3), ``@base`` (Data Integrity requires a null base), ``@propagate`` (would stop the
  pinned definitions from reaching nested nodes), ``@import`` (loads another document), ``@language``
  or ``@direction`` (would change the value of every protected string term), or ``@type``;
* be ``null`` (it would wipe the active context, protected terms included).

Every context URL, wherever it occurs, must be in the pinned set (``ContextLoader``); contexts are
never fetched. ``check_contexts`` is called by ``app.jsonld.rdf.to_quads``, which both issuing and
verifying go through, and by the verifier's well-formedness check, so that its report says what was
checked.
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Any

from app.errors import ContextError
from app.jsonld.loader import ContextLoader

#: Keywords an embedded context may not set, and why.
FORBIDDEN = {
    "@vocab": "it would give terms that no context defines a meaning (they are refused as data loss)",
    "@base": "Data Integrity requires a null base for relative IRIs",
    "@propagate": "it would stop the pinned definitions from applying to nested nodes",
    "@import": "it would load another context document",
    "@language": "it would change the value of every string term of the pinned contexts",
    "@direction": "it would change the value of every string term of the pinned contexts",
    "@type": "it is not a context keyword credentials use",
}
ALLOWED = frozenset({"@version", "@protected"})
_MAX_SHOWN = 80
#: An IRI mapping (JSON-LD 1.1 §4.2.2: "an IRI, a blank node identifier, a keyword or a compact IRI") holds none
#: of the characters RFC 3987 §2.2 excludes from IRIs: a space, controls, <>"{}|\^`.
_BAD_IRI = re.compile(r"[\x00-\x20<>\"{}|\\^`]")

_terms_cache: weakref.WeakKeyDictionary[ContextLoader, dict[str, frozenset[str]]] = weakref.WeakKeyDictionary()
_terms_lock = threading.Lock()


def _refuse(why: str) -> ContextError:
    return ContextError(f"embedded @context refused: {why}; an embedded context may only add new terms")


def _collect(value: Any, urls: list[str], objects: list[dict[str, Any]]) -> None:
    """Every context URL and embedded context object of a document (walking nodes, not literal JSON)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, item in node.items():
                if key == "@context":
                    _collect_context(item, urls, objects)
                elif key not in ("@value", "@json") and not (isinstance(item, dict) and item.get("@type") == "@json"):
                    stack.append(item)


def _collect_context(ctx: Any, urls: list[str], objects: list[dict[str, Any]]) -> None:
    for item in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(item, str):
            urls.append(item)
        elif isinstance(item, dict):
            objects.append(item)
            for definition in item.values():  # scoped contexts inside term definitions
                if isinstance(definition, dict) and "@context" in definition:
                    _collect_context(definition["@context"], urls, objects)
        elif item is None:
            raise _refuse("a null context would clear the active context, protected terms included")
        else:
            raise ContextError(f"@context must be a URL, an object or an array, not {type(item).__name__}", code="INVALID_CONTEXT")


def pinned_terms(loader: ContextLoader, url: str) -> frozenset[str]:
    """The terms a pinned context defines, its scoped contexts' included (computed once per URL)."""
    with _terms_lock:
        known = _terms_cache.setdefault(loader, {})
        found = known.get(url)
    if found is not None:
        return found
    terms: set[str] = set()
    stack: list[Any] = [loader.document(url)["@context"]]
    while stack:
        ctx = stack.pop()
        if isinstance(ctx, list):
            stack.extend(ctx)
        elif isinstance(ctx, str) and ctx in loader:  # an unpinned one is refused when the document is expanded
            stack.append(loader.document(ctx)["@context"])
        elif isinstance(ctx, dict):
            for term, definition in ctx.items():
                if not term.startswith("@"):
                    terms.add(term)
                if isinstance(definition, dict) and "@context" in definition:
                    stack.append(definition["@context"])
    found = frozenset(terms)
    with _terms_lock:
        known[url] = found
    return found


def check_contexts(document: Any, loader: ContextLoader) -> int:
    """Apply the module's rule to every context of ``document``; raises ``ContextError`` (CONTEXT_NOT_ALLOWED).

    Returns the number of embedded context objects found (all allowed)."""
    urls: list[str] = []
    objects: list[dict[str, Any]] = []
    _collect(document, urls, objects)
    for url in urls:
        if url not in loader:
            shown = url if len(url) <= 200 else url[:200] + "…"
            raise ContextError(f"JSON-LD context {shown} is not in the pinned set; remote contexts are never fetched")
    if not objects:
        return 0
    protected: set[str] = set()
    for url in dict.fromkeys(urls):
        protected |= pinned_terms(loader, url)
    for ctx in objects:
        for key, definition in ctx.items():
            if key in FORBIDDEN:
                raise _refuse(f"it sets {key}: {FORBIDDEN[key]}")
            if key == "@context":
                # JSON-LD 1.1 API §4.1.2 step 5.13 hands every other key to Create Term Definition, whose step 5
                # raises "keyword redefinition" for a keyword; only a *remote* context document is unwrapped from
                # {"@context": …} (step 5.2.5). jsonld.js unwraps embedded ones too (lib/context.js); pyld and the spec do not.
                raise _refuse("'@context' inside a context definition is a keyword redefinition (JSON-LD 1.1 API §4.2.2 step 5): write the terms directly")
            if key.startswith("@"):
                if key not in ALLOWED:
                    raise _refuse(f"{key[:_MAX_SHOWN]!r} is not a keyword an embedded context may set")
                if key == "@version" and definition != 1.1:
                    raise _refuse("@version must be 1.1")
                if key == "@protected" and not isinstance(definition, bool):
                    raise _refuse("@protected must be true or false")
                continue
            if key in protected:
                raise _refuse(f"it redefines {key[:_MAX_SHOWN]!r}, a term of the pinned contexts (JSON-LD 1.1 §4.1.11)")
            # A new term may carry its own @language, @direction or scoped context (checked as its own
            # object above): that changes nothing the pinned contexts define.
            if not isinstance(definition, (str, dict)):
                raise _refuse(f"the definition of {key[:_MAX_SHOWN]!r} must be an IRI or an object")
            iri = definition if isinstance(definition, str) else definition.get("@id")
            if isinstance(iri, str) and _BAD_IRI.search(iri):
                raise _refuse(f"{key[:_MAX_SHOWN]!r} maps to {iri[:_MAX_SHOWN]!r}, which is not an IRI (RFC 3987 §2.2)")
    return len(objects)
