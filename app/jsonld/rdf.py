"""JSON-LD → RDF with pyoxigraph, over the pinned contexts only, refusing silent data loss.

pyoxigraph's JSON-LD parser loads no remote context, so every context URL (at the top and in nested
``@context`` members) is replaced by the pinned document's ``@context`` value before parsing.

Data loss (Data Integrity §2.3 DATA_LOSS_DETECTION_ERROR; security-notes.md §3) is detected without a
second expansion: a sentinel ``@vocab`` is placed *before* the document's own contexts, so a term that no
context defines expands to a sentinel IRI instead of vanishing (a context that sets its own ``@vocab``,
such as the undefined-terms context, still wins); and a sentinel base IRI turns every relative IRI
(Data Integrity requires a null base) into a recognisable one. Either sentinel in the output is refused.
Unknown ``@``-keywords, which expansion ignores, are refused while inlining.

Speed: pyoxigraph processes every inlined context on every parse, and a type-scoped context (Open Badges
defines most terms inside them) again for every node of that type. Before parsing, term definitions that
the document cannot use are pruned: a term is kept when it occurs in the document (as a key, a string
value, or a compact-IRI prefix) or is referred to by a kept definition. Expansion uses only the
definitions of the terms a document uses, so the RDF is the same (tests compare it with the unpruned
parse on every sample); what pruning can hide is an error in an unused definition, such as a
redefinition of an unused protected term. This makes parsing about 3× faster.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pyoxigraph as ox

from app.errors import CanonicalizationLimitError, ContextError, DataLossError, MalformedValueError, MicrocredError
from app.jsonld import to_rdf
from app.jsonld.embedded import check_contexts
from app.jsonld.loader import ContextLoader
from app.jsonld.rdfc import Quad

UNDEFINED_VOCAB = "urn:microcred:undefined-term:"
RELATIVE_BASE = "https://relative-iri.microcred.invalid/"
log = logging.getLogger(__name__)

#: JSON-LD 1.1 §9.1 keywords; any other key of the form "@name" is ignored by expansion (so: data loss).
KEYWORDS = frozenset(
    "@base @container @context @direction @graph @id @import @included @index @json @language @list @nest "
    "@none @prefix @propagate @protected @reverse @set @type @value @version @vocab".split()
)


def _inline_context(value: Any, loader: ContextLoader) -> Any:
    if isinstance(value, str):
        inner = loader.document(value)["@context"]
        # A pinned context may itself name other contexts; they must be pinned too.
        return _inline_context(inner, loader) if isinstance(inner, list) and any(isinstance(c, str) for c in inner) else inner
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            inlined = _inline_context(item, loader)
            out.extend(inlined if isinstance(item, str) and isinstance(inlined, list) else [inlined])
        return out
    if value is None or isinstance(value, dict):
        return value
    raise ContextError(f"@context must be a URL, an object or an array, not {type(value).__name__}", code="INVALID_CONTEXT")


def _tokens(value: Any, out: set[str]) -> None:
    """Every string of ``value`` that could name a term: keys, string values, and compact-IRI prefixes."""
    if isinstance(value, str):
        out.add(value)
        if ":" in value:
            out.add(value.split(":", 1)[0])
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "@context":
                continue
            out.add(k)
            if ":" in k:
                out.add(k.split(":", 1)[0])
            _tokens(v, out)
    elif isinstance(value, list):
        for v in value:
            _tokens(v, out)


class _Prepared:
    """One walk over the document: inline contexts, refuse unknown keywords, collect term tokens."""

    def __init__(self, loader: ContextLoader):
        self.loader = loader
        self.tokens: set[str] = set()
        self.contexts: list[Any] = []
        #: the (fresh) objects of the prepared copy that hold an ``@context``, to prune in place
        self.holders: list[dict[str, Any]] = []

    def node(self, node: Any, top: bool) -> Any:
        if isinstance(node, list):
            return [self.node(x, False) for x in node]
        if isinstance(node, str):
            self.tokens.add(node)
            if ":" in node:
                self.tokens.add(node.split(":", 1)[0])
            return node
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@context":
                ctx = _inline_context(value, self.loader)
                if top:
                    ctx = [{"@vocab": UNDEFINED_VOCAB}, *(ctx if isinstance(ctx, list) else [ctx])]
                self.contexts.append(ctx)
                self.holders.append(out)
                out[key] = ctx
                continue
            if key.startswith("@") and key not in KEYWORDS and key[1:].isalpha():
                raise DataLossError(f"'{key}' is not a JSON-LD keyword; expansion would drop it")
            self.tokens.add(key)
            if ":" in key:
                self.tokens.add(key.split(":", 1)[0])
            if key in ("@value", "@json") or (isinstance(value, dict) and value.get("@type") == "@json"):
                out[key] = value  # literal JSON: never touch its contents
                _tokens(value, self.tokens)
            else:
                out[key] = self.node(value, False)
        return out

    def prune(self, document: dict[str, Any]) -> dict[str, Any]:
        """Drop term definitions the document cannot use; see ``_prune``."""
        used = _closure(self.contexts, self.tokens)
        for holder in self.holders:
            holder["@context"] = _prune(holder["@context"], used)
        return document


def _closure(contexts: list[Any], used: set[str]) -> set[str]:
    """Add the tokens that kept term definitions refer to (prefixes, scoped contexts' terms) until stable."""
    while True:
        before = len(used)
        for ctx in contexts:
            _closure_walk(ctx, used)
        if len(used) == before:
            return used


def _closure_walk(ctx: Any, used: set[str]) -> None:
    if isinstance(ctx, list):
        for c in ctx:
            _closure_walk(c, used)
        return
    if not isinstance(ctx, dict):
        return
    for term, definition in ctx.items():
        if not (term.startswith("@") or term in used):
            continue
        if isinstance(definition, dict):
            for k, v in definition.items():
                if k == "@context":
                    _closure_walk(v, used)
                else:
                    _tokens(v, used)
        else:
            _tokens(definition, used)


def _prune(ctx: Any, used: set[str]) -> Any:
    if isinstance(ctx, list):
        return [_prune(c, used) for c in ctx]
    if not isinstance(ctx, dict):
        return ctx
    out: dict[str, Any] = {}
    for term, definition in ctx.items():
        if term.startswith("@"):
            out[term] = definition
        elif term in used:
            if isinstance(definition, dict) and "@context" in definition:
                definition = dict(definition, **{"@context": _prune(definition["@context"], used)})
            out[term] = definition
    return out


def _term_name(iri: str) -> str:
    return iri[len(UNDEFINED_VOCAB) :] if iri.startswith(UNDEFINED_VOCAB) else iri


#: Most JSON objects one JSON-LD document may hold. Expansion and RDFC-1.0 cost grows with the nodes (a
#: 20,000-node document took half a second of CPU), and each proof of a proof set pays it again; the
#: largest credential among the samples and vectors holds about 300.
MAX_NODES = 10_000


def check_node_count(document: Any, limit: int = MAX_NODES) -> None:
    """Refuse a document of more than ``limit`` JSON objects before any JSON-LD processing (issue 13)."""
    count, stack = 0, [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            count += 1
            if count > limit:
                raise CanonicalizationLimitError(f"the document holds more than {limit} JSON objects; it is not processed")
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def to_quads(document: dict[str, Any], loader: ContextLoader) -> list[Quad]:
    """The RDF dataset of ``document`` (JSON-LD 1.1 Deserialize JSON-LD to RDF) as N-Quads term tuples.

    The walk over cached processed contexts (``app.jsonld.to_rdf``) takes the documents it covers,
    which is every credential microcred issues; pyoxigraph, below, takes the rest.
    """
    if not isinstance(document, dict):
        raise MalformedValueError("a JSON-LD document here must be a JSON object")
    if "@context" not in document:
        raise ContextError("the document has no @context", code="MISSING_CONTEXT")
    check_node_count(document)
    check_contexts(document, loader)
    try:
        return to_rdf.to_quads(document, loader)
    except to_rdf.Unsupported:
        pass
    except MicrocredError:
        raise
    except Exception:  # a bug in the fast walk must cost speed, not an answer
        log.exception("the JSON-LD fast path failed; using the general parser")
    return _general_quads(document, loader)


def _general_quads(document: dict[str, Any], loader: ContextLoader) -> list[Quad]:
    """pyoxigraph's JSON-LD parser over inlined, pruned contexts, with the sentinel data-loss checks."""
    walk = _Prepared(loader)
    prepared = walk.prune(walk.node(document, True))
    try:
        parsed = ox.parse(json.dumps(prepared).encode(), format=ox.RdfFormat.JSON_LD, base_iri=RELATIVE_BASE)
        # dict.fromkeys: an RDF dataset is a set (RDFC-1.0 §4.1); a repeated JSON value is one quad.
        quads = list(
            dict.fromkeys(
                (str(q.subject), str(q.predicate), str(q.object), "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)) for q in parsed
            )
        )
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
                relative.add(term[term.index(RELATIVE_BASE) + len(RELATIVE_BASE) :].rstrip(">").split(">")[0])
    if dropped:
        names = ", ".join(sorted(dropped)[:10])
        raise DataLossError(f"terms not defined by any @context would be dropped by JSON-LD expansion: {names}")
    if relative:
        names = ", ".join(sorted(relative)[:10])
        raise DataLossError(f"relative IRIs are not allowed (Data Integrity requires a null base): {names}")
    return quads
