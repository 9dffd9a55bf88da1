"""JSON-LD → RDF with pyoxigraph, over the pinned contexts only, refusing silent data loss.

pyoxigraph's JSON-LD parser loads no remote context, so every context URL (at the top and in nested
``@context`` members) is replaced by the pinned document's ``@context`` value before parsing.

Data loss (Data Integrity §2.3 DATA_LOSS_DETECTION_ERROR; security-notes.md §3) is detected without a
second expansion: a sentinel ``@vocab`` is placed *before* the document's own contexts, so a term that no
context defines expands to a sentinel IRI instead of vanishing (a context that sets its own ``@vocab``,
such as the undefined-terms context, still wins); and a sentinel base IRI turns every relative IRI
(Data Integrity requires a null base) into a recognisable one. Either sentinel in the output is refused.
Unknown ``@``-keywords, which expansion ignores, are refused while inlining.
"""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from app.errors import ContextError, DataLossError, MalformedValueError
from app.jsonld.loader import ContextLoader
from app.jsonld.rdfc import Quad

UNDEFINED_VOCAB = "urn:microcred:undefined-term:"
RELATIVE_BASE = "https://relative-iri.microcred.invalid/"

#: JSON-LD 1.1 §9.1 keywords; any other key of the form "@name" is ignored by expansion (so: data loss).
KEYWORDS = frozenset(
    "@base @container @context @direction @graph @id @import @included @index @json @language @list @nest "
    "@none @prefix @propagate @protected @reverse @set @type @value @version @vocab".split()
)


def _inline_context(value: Any, loader: ContextLoader) -> Any:
    if isinstance(value, str):
        return loader.document(value)["@context"]
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            inlined = _inline_context(item, loader)
            out.extend(inlined if isinstance(item, str) and isinstance(inlined, list) else [inlined])
        return out
    if value is None or isinstance(value, dict):
        return value
    raise ContextError(f"@context must be a URL, an object or an array, not {type(value).__name__}", code="INVALID_CONTEXT")


def _inline(node: Any, loader: ContextLoader, top: bool) -> Any:
    if isinstance(node, list):
        return [_inline(x, loader, False) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "@context":
            ctx = _inline_context(value, loader)
            if top:
                ctx = [{"@vocab": UNDEFINED_VOCAB}, *(ctx if isinstance(ctx, list) else [ctx])]
            out[key] = ctx
        elif key.startswith("@") and key not in KEYWORDS and key[1:].isalpha():
            raise DataLossError(f"'{key}' is not a JSON-LD keyword; expansion would drop it")
        elif key in ("@value", "@json") or (isinstance(value, dict) and value.get("@type") == "@json"):
            out[key] = value  # literal JSON: never touch its contents
        else:
            out[key] = _inline(value, loader, False)
    return out


def _term_name(iri: str) -> str:
    return iri[len(UNDEFINED_VOCAB):] if iri.startswith(UNDEFINED_VOCAB) else iri


def to_quads(document: dict[str, Any], loader: ContextLoader) -> list[Quad]:
    """The RDF dataset of ``document`` (JSON-LD 1.1 Deserialize JSON-LD to RDF) as N-Quads term tuples."""
    if not isinstance(document, dict):
        raise MalformedValueError("a JSON-LD document here must be a JSON object")
    if "@context" not in document:
        raise ContextError("the document has no @context", code="MISSING_CONTEXT")
    prepared = _inline(document, loader, True)
    try:
        parsed = ox.parse(json.dumps(prepared).encode(), format=ox.RdfFormat.JSON_LD, base_iri=RELATIVE_BASE)
        quads = [
            (str(q.subject), str(q.predicate), str(q.object), "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name))
            for q in parsed
        ]
    except SyntaxError as exc:
        raise MalformedValueError(f"JSON-LD processing failed: {str(exc)[:300]}", code="JSONLD_ERROR") from None
    dropped: set[str] = set()
    relative: set[str] = set()
    for quad in quads:
        for term in quad:
            if UNDEFINED_VOCAB in term:
                # predicates and @vocab-typed values; strip "<" and ">"
                dropped.add(_term_name(term.strip("<>").split(">")[0].lstrip("<")) if term.startswith("<") else term)
            if RELATIVE_BASE in term:
                relative.add(term[term.index(RELATIVE_BASE) + len(RELATIVE_BASE):].rstrip(">").split(">")[0])
    if dropped:
        names = ", ".join(sorted(dropped)[:10])
        raise DataLossError(f"terms not defined by any @context would be dropped by JSON-LD expansion: {names}")
    if relative:
        names = ", ".join(sorted(relative)[:10])
        raise DataLossError(f"relative IRIs are not allowed (Data Integrity requires a null base): {names}")
    return quads
