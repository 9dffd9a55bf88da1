"""JSON-LD 1.1 Expansion (§5.1) and Deserialize JSON-LD to RDF (§8.2, Object to RDF §8.6) in one walk,
over processed contexts that are computed once per process.

Why: pyoxigraph processes every context on every parse, and a type-scoped context (Open Badges defines
most of its terms in them) again for every node of that type, so most of the time of a credential's
canonicalization went into re-reading the same contexts. Here the Context Processing Algorithm (§4.1)
is pyld's own, run once per (active context, local context) pair and cached; the per-document walk is
then dictionary lookups.

It covers the JSON-LD that credentials use: pinned context URLs at the top, node objects with ``id``
and ``type``, type- and property-scoped contexts, ``@set`` and ``@language`` containers, ``@id``,
``@vocab`` and datatype coercion, term languages, compact IRIs, blank node identifiers, native
numbers and booleans. Anything else (embedded contexts, ``@list``, ``@graph``, ``@nest``, ``@reverse``,
``@index``/``@id``/``@type`` maps, value objects, ``@json``, directions, IRIs or language tags with
unusual characters) raises ``Unsupported`` and ``app.jsonld.rdf`` uses the general parser, pyoxigraph,
instead. The tests hold the two to the same output on every vector, sample and issued credential and on
generated documents, so this is an optimization and never a second opinion.

Data loss (Data Integrity §2.3): an unknown ``@``-keyword and a relative IRI (the base is null) are
refused here as the general path refuses them; a term that no context defines sends the document to
the general path, which walks all of it and gives the verdict.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from decimal import Decimal
from typing import Any

from pyld import jsonld

from app.errors import DataLossError
from app.jsonld.loader import ContextLoader
from app.jsonld.rdfc import Quad

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING, XSD_BOOLEAN, XSD_INTEGER, XSD_DOUBLE = (XSD + n for n in ("string", "boolean", "integer", "double"))
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: An IRI this walk writes itself; anything else with a colon is left to the general parser (RFC 3987
#: IRIREF characters of N-Quads, minus the ones a parser might reject or rewrite).
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>\"{}|\\^`]*")
#: A relative reference that is plainly one (reported as data loss, like the general path does).
_RELATIVE = re.compile(r"[A-Za-z0-9._~/\-#?=&%!$'()*+,;@]*")
_KEYWORD_LIKE = re.compile(r"@[A-Za-z]+")
_LANGUAGE = re.compile(r"[a-z]{1,8}(-[a-z0-9]{1,8})*")
_BLANK = re.compile(r"_:[A-Za-z0-9_.\-]+")
KEYWORDS = frozenset(
    "@base @container @context @direction @graph @id @import @included @index @json @language @list @nest "
    "@none @prefix @propagate @protected @reverse @set @type @value @version @vocab".split()
)

#: Canonical N-Quads string escaping (RDFC-1.0 §4.4 step 7; the same as pyoxigraph's Display).
_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
_ESCAPES.update({c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if c not in _ESCAPES})
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
#: Bounds of the caches. Processed contexts are the large entries (tens of kB: a shallow copy of the
#: term mappings each); a document combining many typed nodes cannot make them hold more than ~20 MB.
_MAX_CONTEXTS = 512
_MAX_CACHED = 8192
#: Walked arrays kept (``_Walk.memoized``): arrays of at least this many items under a named subject, and at most
#: this many characters of their JSON in all (the keys hold it).
_MEMO_MIN_ITEMS = 4
_MEMO_MAX_CHARS = 8_000_000


class Unsupported(Exception):
    """The document uses JSON-LD this walk does not implement; the general parser must handle it."""


def _literal(lexical: str, datatype: str | None, language: str | None) -> str:
    text = '"' + (lexical.translate(_ESCAPES) if _NEEDS_ESCAPE.search(lexical) else lexical) + '"'
    if language is not None:
        return f"{text}@{language}"
    if datatype is None or datatype == XSD_STRING:
        return text
    return f"{text}^^<{datatype}>"


def _double(value: float) -> str:
    """The canonical xsd:double form (JSON-LD 1.1 §8.6 step 10), as pyoxigraph writes it: the shortest
    digits that read back as the same double (XSD 1.1 canonical mapping), in ``d.dddEn`` notation."""
    if value == 0:
        return "-0.0E0" if str(value).startswith("-") else "0.0E0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + exponent  # type: ignore[operator]
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


class _Term:
    """What a key means in one active context, resolved once."""

    __slots__ = ("key", "predicate", "context", "coerce", "language", "language_map", "_child", "_reference")

    def __init__(self, key: str, predicate: str, context: dict, coerce: str | None, language: str | None, language_map: bool):
        self.key = key
        self.predicate = predicate  # "<iri>"
        #: the active context the values are expanded in: the property-scoped context applied (§5.1.2 step 3)
        self.context = context
        self.coerce = coerce  # None, "@id", "@vocab" or a datatype IRI
        self.language = language
        self.language_map = language_map
        self._child: dict | None = None
        self._reference: dict | None = None


class Expander:
    """Processed contexts and term resolutions for one ``ContextLoader``; thread-safe."""

    def __init__(self, loader: ContextLoader):
        self.loader = loader
        self._processor = jsonld.JsonLdProcessor()
        self._options = {
            "documentLoader": loader.pyld_loader,
            "contextResolver": jsonld.ContextResolver({}, loader.pyld_loader),
            "processingMode": "json-ld-1.1",
            "base": None,
        }
        self._lock = threading.Lock()
        # Keyed by id() of contexts: every context whose id is in a key is held in that entry's value,
        # so an id in a key always belongs to a live object and can never be reused by another.
        # Bounded (_MAX_CONTEXTS, _MAX_CACHED).
        self._contexts: dict[tuple, tuple[dict, Any, dict]] = {}
        self._tops: dict[tuple[str, ...], dict] = {}
        self._terms: dict[tuple[int, str], tuple[dict, _Term | str | None]] = {}
        self._types: dict[tuple[int, str], tuple[dict, str | None]] = {}
        #: (id(term), subject, the array's JSON) → (term, its quads, the blank node counter before, nodes issued,
        #: relative references): what ``_Walk.memoized`` replays
        self.memo: dict[tuple[int, str, str], tuple[_Term, dict[Quad, None], int, int, frozenset[str]]] = {}
        self.memo_chars = 0
        self.memo_enabled = True

    @staticmethod
    def _put(cache: dict, key: Any, value: Any) -> None:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[key] = value

    # -- contexts (§4.1, pyld's implementation), each computed once

    def _process(self, active: dict, local: Any, kind: str, name: str, source: dict | None = None) -> dict:
        key = (id(active), kind, name, id(source))
        hit = self._contexts.get(key)
        if hit is not None:
            return hit[2]
        with self._lock:
            try:
                result = self._processor._process_context(active, local, self._options, override_protected=kind == "property", propagate=kind != "type")
            except jsonld.JsonLdError as exc:
                raise Unsupported(f"context processing: {exc}") from None
            if result.get("@base") is not None or result.get("@direction") is not None:
                raise Unsupported("@base or @direction in a context")
            if len(self._contexts) >= _MAX_CONTEXTS:
                # The term caches hold contexts too: forget everything together, so that what is held
                # stays within the bound whatever documents come in.
                self._contexts.clear()
                self._terms.clear()
                self._types.clear()
                self.memo.clear()
            self._contexts[key] = (active, source, result)
        return result

    def top(self, urls: tuple[str, ...]) -> dict:
        found = self._tops.get(urls)
        if found is None:
            for url in urls:
                self.loader.document(url)  # refuses an unpinned URL with the loader's own error
            initial = self._processor._get_initial_context(self._options)
            found = self._process(initial, list(urls), "top", "\n".join(urls))
            with self._lock:
                self._put(self._tops, urls, found)
        return found

    def scoped(self, active: dict, source: dict, term: str, kind: str) -> dict:
        """``active`` with the scoped context that ``term`` has in ``source`` applied.

        ``kind`` "type": a type-scoped context, not propagated to nested nodes (§4.1.2 step 6);
        "property": a property-scoped context, which may override protected terms (§4.1.2 step 5.5).
        """
        mapping = source["mappings"].get(term)
        local = mapping.get("@context") if mapping else None
        if local is None or local is False:
            return active
        return self._process(active, local, kind, term, source)

    # -- IRI expansion (§5.2), cached for keys and types

    def term(self, active: dict, key: str) -> _Term | str | None:
        """A key's meaning: a ``_Term``, the keyword it is an alias of, or None when nothing defines it."""
        cache_key = (id(active), key)
        hit = self._terms.get(cache_key)
        if hit is not None:
            return hit[1]
        result = self._term(active, key)
        with self._lock:
            self._put(self._terms, cache_key, (active, result))
        return result

    def _term(self, active: dict, key: str) -> _Term | str | None:
        if key in active["mappings"] and active["mappings"][key] is None:
            raise Unsupported("a term defined as null")  # dropped without a trace: the general path decides
        iri = self._processor._expand_iri(active, key, vocab=True)
        if iri is None or (not iri.startswith("@") and ":" not in iri):
            return None
        if iri.startswith("@"):
            return iri
        if iri.startswith("_:") or not _ABSOLUTE.fullmatch(iri):
            raise Unsupported(f"property IRI {iri!r}")
        outer = active["mappings"].get(key) or {}
        if outer.get("reverse"):
            raise Unsupported("reverse property")
        context = self.scoped(active, active, key, "property")
        # Values are expanded with the term as the property-scoped context defines it (§5.1.2 step 3).
        mapping = context["mappings"].get(key, outer) if context is not active else outer
        if mapping is None:
            raise Unsupported("a term its own scoped context removes")
        for m in (outer, mapping):
            if "@index" in m or "@nest" in m or "@direction" in m:
                raise Unsupported("index, nest or direction on a term")
            if any(c not in ("@set", "@language") for c in m.get("@container") or []):
                raise Unsupported(f"container {m.get('@container')}")
        coerce = mapping.get("@type")
        if coerce in ("@json", "@none"):
            raise Unsupported(f"@type {coerce}")
        if coerce not in (None, "@id", "@vocab") and not _ABSOLUTE.fullmatch(coerce):
            raise Unsupported(f"datatype {coerce!r}")
        if context.get("@direction") is not None:
            raise Unsupported("@direction")
        language = mapping["@language"] if "@language" in mapping else context.get("@language")
        if language is not None and not _LANGUAGE.fullmatch(language):
            raise Unsupported(f"language {language!r}")
        return _Term(key, f"<{iri}>", context, coerce, language, "@language" in (outer.get("@container") or []))

    def child_context(self, term: _Term, reference: bool) -> dict:
        """The active context for a node object that is a value of ``term`` (§5.1.2 steps 7-8).

        A type-scoped context is not used for a new node object unless it is a bare reference
        (``{"id": …}``); the property-scoped context is then applied to what remains.
        """
        cached = term._reference if reference else term._child
        if cached is not None:
            return cached
        context = term.context
        if "previousContext" in context and not reference:
            context = context["previousContext"]
        context = self.scoped(context, term.context, term.key, "property")
        if reference:
            term._reference = context
        else:
            term._child = context
        return context

    def type_iri(self, active: dict, value: str) -> str | None:
        """A ``@type`` value expanded (vocabulary-relative); None when nothing defines it."""
        cache_key = (id(active), value)
        hit = self._types.get(cache_key)
        if hit is not None:
            return hit[1]
        iri = self._processor._expand_iri(active, value, vocab=True, base=None)
        if iri is not None and iri.startswith("_:"):
            raise Unsupported("blank node type")
        if iri is not None and ":" in iri and not _ABSOLUTE.fullmatch(iri):
            raise Unsupported(f"type IRI {iri!r}")
        result = iri if iri is not None and ":" in iri else None
        with self._lock:
            self._put(self._types, cache_key, (active, result))
        return result

    def id_iri(self, active: dict, value: str, vocab: bool = False) -> str:
        """An identifier expanded (document-relative with a null base, or vocabulary-relative)."""
        if value.startswith("_:"):
            return value
        if vocab or value.find(":") > 0:
            iri = self._processor._expand_iri(active, value, vocab=vocab, base=None)
            if iri is None:
                raise Unsupported("keyword-like identifier")
            return iri
        return value


_expanders: weakref.WeakKeyDictionary[ContextLoader, Expander] = weakref.WeakKeyDictionary()
_expanders_lock = threading.Lock()


def expander(loader: ContextLoader) -> Expander:
    found = _expanders.get(loader)
    if found is None:
        with _expanders_lock:
            found = _expanders.setdefault(loader, Expander(loader))
    return found


class _Walk:
    def __init__(self, expander: Expander):
        self.x = expander
        self.quads: dict[Quad, None] = {}
        self.labels: dict[str, str] = {}
        self.counter = 0
        self.relative: set[str] = set()

    def fresh(self) -> str:
        self.counter += 1
        return f"_:b{self.counter}"

    def node_term(self, iri: str) -> str:
        """An IRI or blank node as an N-Quads term; a relative reference is kept as ``<ref>`` and noted
        (``self.relative``) only when a quad uses it, as the general parser reports only what reaches
        the RDF."""
        if iri.startswith("_:"):
            if not _BLANK.fullmatch(iri):
                raise Unsupported("blank node label")
            found = self.labels.get(iri)
            if found is None:
                found = self.labels[iri] = self.fresh()
            return found
        if ":" in iri:
            if not _ABSOLUTE.fullmatch(iri):
                raise Unsupported("IRI with unusual characters")
            return f"<{iri}>"
        if not _RELATIVE.fullmatch(iri):
            raise Unsupported("unusual relative reference")
        return f"<{iri}>"

    def drop(self, name: str) -> None:
        """A term no context defines: data loss, which the general parser reports. It walks the whole
        document and may find a harder error further on (a malformed ``@id`` under the undefined key,
        say), so the walk does not try to give the verdict itself."""
        raise Unsupported(f"an undefined term: {name[:80]!r}")

    def emit(self, s: str, p: str, o: str) -> None:
        self.quads[(s, p, o, "")] = None
        for term in (s, o):
            if term[0] == "<" and ":" not in term:
                self.relative.add(term[1:-1])

    def node(self, element: dict[str, Any], active: dict, top: bool) -> str:
        """Expansion §5.1.2 steps 9-14 for a node object, emitting its quads; returns its subject."""
        # Type-scoped contexts (step 11), in lexicographic order, each looked up in the context in force
        # before any of them applies.
        type_scoped = active
        type_values: list[str] = []
        for key, value in element.items():
            if key == "@context":
                if not top:
                    raise Unsupported("embedded @context")
                continue
            if (key if key.startswith("@") else self.x.term(type_scoped, key)) == "@type":
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) for v in values):
                    raise Unsupported("non-string @type")
                type_values.extend(values)
        for name in sorted(set(type_values)):
            active = self.x.scoped(active, type_scoped, name, "type")

        subject = ""
        identified = types_seen = False
        properties: list[tuple[_Term, Any]] = []
        types: list[str] = []
        for key, value in element.items():
            if key == "@context":
                continue
            meaning: Any
            if key.startswith("@"):
                if key in ("@id", "@type"):
                    meaning = key
                elif key in KEYWORDS:
                    raise Unsupported(f"keyword {key}")
                elif _KEYWORD_LIKE.fullmatch(key):
                    raise DataLossError(f"'{key}' is not a JSON-LD keyword; expansion would drop it")
                else:
                    raise Unsupported(f"key {key!r}")
            else:
                meaning = self.x.term(active, key)
            if meaning is None:
                if not _empty(value):  # a null value is dropped before its key is looked at
                    self.drop(key)
            elif meaning == "@id":
                if not isinstance(value, str) or identified:
                    raise Unsupported("a non-string or second @id")  # colliding keywords: the general path's error
                subject = self.node_term(self.x.id_iri(active, value))
                identified = True
            elif meaning == "@type":
                if types_seen:
                    raise Unsupported("a second key for @type")
                types_seen = True
                for name in value if isinstance(value, list) else [value]:
                    iri = self.x.type_iri(type_scoped, name)
                    if iri is None:
                        self.drop(name)
                    else:
                        types.append(iri)
            elif isinstance(meaning, str):
                raise Unsupported(f"alias of {meaning}")
            else:
                properties.append((meaning, value))
        if not identified:
            subject = self.fresh()
        for iri in types:
            self.emit(subject, RDF_TYPE, f"<{iri}>")
        for term, value in properties:
            self.values(subject, term, value)
        return subject

    def values(self, subject: str, term: _Term, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, list):
            if len(value) >= _MEMO_MIN_ITEMS and subject[0] == "<" and self.x.memo_enabled and self.memoized(subject, term, value):
                return
            for item in value:
                if isinstance(item, list):
                    raise Unsupported("nested array")
                self.values(subject, term, item)
            return
        if isinstance(value, dict):
            if term.language_map:
                self.language_map(subject, term, value)
                return
            # A bare reference keeps the type-scoped context (pyld: "subject reference found, do not revert").
            only = next(iter(value)) if len(value) == 1 else None
            reference = only is not None and (only if only.startswith("@") else self.x.term(term.context, only)) == "@id"
            obj = self.node(value, self.x.child_context(term, reference), False)
        else:
            obj = self.scalar(term, value)
        self.emit(subject, term.predicate, obj)

    def memoized(self, subject: str, term: _Term, value: list[Any]) -> bool:
        """Emit the quads of ``subject``'s array ``value`` of ``term`` as a walk of it emitted them the last time
        (issue 19: the learner-independent part of a credential, such as an achievement's alignments, is the same
        for every credential of one specification), or walk it and keep them. False: walk it the ordinary way.

        Sound because the walk of an array is a function of (term, subject, the array's JSON, the blank node counter):
        the term holds its active context, the JSON (order kept, 1, 1.0 and true told apart) the values, and an array
        with a blank node identifier of its own (``_:``), which would share ``self.labels`` with the rest, is not
        kept. Blank nodes issued inside are renumbered when the counter stands elsewhere; quads are replayed in the
        order the walk emitted them, so the merged dataset, its order and every label are what the walk gives
        (tests/jsonld/test_to_rdf.py holds the two to identical quads).
        """
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return False
        if "_:" in text:
            return False
        key = (id(term), subject, text)
        hit = self.x.memo.get(key)
        if hit is not None and hit[0] is term:
            _, quads, base, issued, relative = hit
            if base != self.counter:
                shift = self.counter - base
                quads = dict.fromkeys(tuple(_shifted(t, base, issued, shift) for t in quad) for quad in quads)
            self.quads.update(quads)
            self.counter += issued
            self.relative |= relative
            return True
        outer, outer_relative, base = self.quads, self.relative, self.counter
        self.quads, self.relative = {}, set()
        try:
            for item in value:
                if isinstance(item, list):
                    raise Unsupported("nested array")
                self.values(subject, term, item)
            inner, relative = self.quads, frozenset(self.relative)
        finally:
            self.quads, self.relative = outer, outer_relative
        outer.update(inner)
        outer_relative |= relative
        memo = self.x.memo
        if self.x.memo_chars + len(text) > _MEMO_MAX_CHARS:
            memo.clear()
            self.x.memo_chars = 0
        memo[key] = (term, inner, base, self.counter - base, relative)
        self.x.memo_chars += len(text)
        return True

    def language_map(self, subject: str, term: _Term, value: dict[str, Any]) -> None:
        for language, texts in value.items():
            if not _LANGUAGE.fullmatch(language):
                raise Unsupported(f"language map key {language!r}")
            for text in texts if isinstance(texts, list) else [texts]:
                if text is None:
                    continue
                if not isinstance(text, str):
                    raise Unsupported("non-string in a language map")
                self.emit(subject, term.predicate, _literal(text, None, language))

    def scalar(self, term: _Term, value: Any) -> str:
        """Value Expansion (§5.3.2) and Object to RDF (§8.6) for a native value."""
        coerce = term.coerce
        if isinstance(value, str):
            if coerce == "@id" or coerce == "@vocab":
                return self.node_term(self.x.id_iri(term.context, value, vocab=coerce == "@vocab"))
            if coerce is not None:
                return _literal(value, coerce, None)
            return _literal(value, None, term.language)
        if coerce in ("@id", "@vocab"):
            coerce = None  # coercion to an IRI applies to strings only
        if isinstance(value, bool):
            return _literal("true" if value else "false", coerce or XSD_BOOLEAN, None)
        if (isinstance(value, int) or (isinstance(value, float) and value.is_integer())) and abs(value) > 2**53:
            raise Unsupported("an integer beyond 2^53")  # formatters differ on where the digits end
        if isinstance(value, int):
            if coerce == XSD_DOUBLE:
                return _literal(_double(float(value)), coerce or XSD_DOUBLE, None)
            return _literal(str(value), coerce or XSD_INTEGER, None)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise Unsupported("non-finite number")
            if not value.is_integer() or coerce == XSD_DOUBLE:
                return _literal(_double(value), coerce or XSD_DOUBLE, None)
            return _literal(str(int(value)), coerce or XSD_INTEGER, None)
        raise Unsupported(f"value of type {type(value).__name__}")


def _shifted(term: str, base: int, issued: int, shift: int) -> str:
    """``term`` with a blank node issued after ``base`` (one of ``issued``) renumbered by ``shift``."""
    if term.startswith("_:b"):
        number = int(term[3:])
        if base < number <= base + issued:
            return f"_:b{number + shift}"
    return term


def _empty(value: Any) -> bool:
    """Expands to nothing: null, or an array of nothing."""
    return value is None or (isinstance(value, list) and all(_empty(v) for v in value))


def to_quads(document: dict[str, Any], loader: ContextLoader) -> list[Quad]:
    """The RDF dataset of ``document`` as N-Quads term tuples (duplicates merged), or ``Unsupported``.

    Raises ``DataLossError`` for undefined terms and relative IRIs, ``ContextError`` for an unpinned
    context, as ``app.jsonld.rdf.to_quads`` does.
    """
    context = document.get("@context")
    urls = (context,) if isinstance(context, str) else tuple(context) if isinstance(context, list) else None
    if not urls or not all(isinstance(u, str) for u in urls):
        raise Unsupported("@context is not a list of URLs")
    x = expander(loader)
    walk = _Walk(x)
    try:
        walk.node(document, x.top(urls), True)
    except RecursionError:
        raise Unsupported("too deep") from None
    if walk.relative:
        names = ", ".join(sorted(walk.relative)[:10])
        raise DataLossError(f"relative IRIs are not allowed (Data Integrity requires a null base): {names}")
    return list(walk.quads)


__all__ = ["Expander", "Unsupported", "expander", "to_quads"]
