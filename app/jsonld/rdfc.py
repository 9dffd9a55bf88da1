"""RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 2024) with a work limit.

Quads are tuples of four N-Quads term strings ``(subject, predicate, object, graph)``, the graph ``""``
for the default graph, blank nodes written ``_:label``. Terms come from pyoxigraph, whose string forms
follow the canonical N-Quads escaping that RDFC-1.0 §4.4 (step 7) requires.

Neither pyld nor pyoxigraph bounds the algorithm, and RDFC-1.0 §4.4 asks implementations to guard
against poison graphs. Here every call of Hash N-Degree Quads (§4.8) and every permutation it tries
counts against ``budget``; going past it raises ``CanonicalizationLimitError``. Graphs whose blank
nodes all have distinct first-degree hashes (nearly every real credential) never reach §4.8 at all,
so they cost one hash per blank node.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import permutations

from app.errors import CanonicalizationLimitError

Quad = tuple[str, str, str, str]
_POSITIONS = ((0, "s"), (2, "o"), (3, "g"))


@dataclass
class IdentifierIssuer:
    """RDFC-1.0 §4.3: issues ``prefix`` + counter identifiers, remembering the order."""

    prefix: str
    counter: int = 0
    issued: dict[str, str] = field(default_factory=dict)

    def issue(self, existing: str) -> str:
        found = self.issued.get(existing)
        if found is None:
            found = self.issued[existing] = f"{self.prefix}{self.counter}"
            self.counter += 1
        return found

    def copy(self) -> IdentifierIssuer:
        return IdentifierIssuer(self.prefix, self.counter, dict(self.issued))


@dataclass
class Canonicalized:
    nquads: str
    #: input blank node label (without ``_:``) → canonical label (``c14nN``), RDFC-1.0 §4.4 step 7
    issued: dict[str, str]


def _is_blank(term: str) -> bool:
    return term.startswith("_:")


class _State:
    def __init__(self, quads: list[Quad], budget: int, hash_algorithm: str):
        self.quads = quads
        self._hash: Callable[[bytes], str] = lambda data: hashlib.new(hash_algorithm, data).hexdigest()
        self.budget = budget
        self.work = 0
        self.bnode_quads: dict[str, list[Quad]] = defaultdict(list)
        bnode_quads = self.bnode_quads
        # Hot loop (every quad of a credential): terms are N-Quads strings, a blank node starts with "_".
        for quad in quads:
            s, _, o, g = quad
            if s[0] == "_":
                bnode_quads[s].append(quad)
            if o[0] == "_" and o != s:  # a blank node used twice in one quad is listed once (§4.4 step 2)
                bnode_quads[o].append(quad)
            if g and g[0] == "_" and g != s and g != o:
                bnode_quads[g].append(quad)
        self.canonical = IdentifierIssuer("_:c14n")
        self._first_degree: dict[str, str] = {}

    def _spend(self, units: int = 1) -> None:
        self.work += units
        if self.work > self.budget:
            raise CanonicalizationLimitError(
                f"RDFC-1.0 canonicalization stopped after {self.budget} steps of Hash N-Degree Quads (§4.8): the document's blank nodes form a poison graph"
            )

    def hash_first_degree(self, node: str) -> str:
        """RDFC-1.0 §4.6 Hash First Degree Quads."""
        found = self._first_degree.get(node)
        if found is not None:
            return found
        lines = []
        for s, p, o, g in self.bnode_quads[node]:
            if s[0] == "_":
                s = "_:a" if s == node else "_:z"
            if o[0] == "_":
                o = "_:a" if o == node else "_:z"
            if g:
                lines.append(f"{s} {p} {o} {('_:a' if g == node else '_:z') if g[0] == '_' else g} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        found = self._first_degree[node] = self._hash("".join(lines).encode())
        return found

    def hash_related(self, related: str, quad: Quad, issuer: IdentifierIssuer, position: str) -> str:
        """RDFC-1.0 §4.7 Hash Related Blank Node."""
        ident = self.canonical.issued.get(related) or issuer.issued.get(related) or self.hash_first_degree(related)
        data = position + (f"{quad[1]}" if position != "g" else "") + ident
        return self._hash(data.encode())

    def hash_n_degree(self, node: str, issuer: IdentifierIssuer) -> tuple[str, IdentifierIssuer]:
        """RDFC-1.0 §4.8 Hash N-Degree Quads, charging each call and each permutation to the budget."""
        self._spend()
        groups: dict[str, list[str]] = defaultdict(list)
        for quad in self.bnode_quads[node]:
            for index, position in _POSITIONS:
                term = quad[index]
                if _is_blank(term) and term != node:
                    groups[self.hash_related(term, quad, issuer, position)].append(term)
        data = []
        for related_hash in sorted(groups):
            data.append(related_hash)
            chosen_path: str | None = None
            chosen_issuer: IdentifierIssuer | None = None
            for perm in permutations(groups[related_hash]):
                self._spend()
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in perm:
                    canonical = self.canonical.issued.get(related)
                    if canonical is not None:
                        path += canonical
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path is not None and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related) + "<" + result_hash + ">"
                    issuer_copy = result_issuer
                    if chosen_path is not None and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if chosen_path is None or path < chosen_path:
                    chosen_path, chosen_issuer = path, issuer_copy
            assert chosen_path is not None and chosen_issuer is not None
            data.append(chosen_path)
            issuer = chosen_issuer
        return self._hash("".join(data).encode()), issuer

    def run(self) -> Canonicalized:
        """RDFC-1.0 §4.4 Canonicalization Algorithm."""
        by_hash: dict[str, list[str]] = defaultdict(list)
        for node in self.bnode_quads:  # step 3
            by_hash[self.hash_first_degree(node)].append(node)
        shared: list[list[str]] = []
        for h in sorted(by_hash):  # step 4
            nodes = by_hash[h]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append(nodes)
        for nodes in shared:  # step 5
            results = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                temporary = IdentifierIssuer("_:b")
                temporary.issue(node)
                results.append(self.hash_n_degree(node, temporary))
            for _, issuer in sorted(results, key=lambda r: r[0]):
                for existing in issuer.issued:  # dicts keep issue order
                    self.canonical.issue(existing)
        relabel = self.canonical.issued
        lines = []
        for s, p, o, g in self.quads:
            if s[0] == "_":
                s = relabel[s]
            if o[0] == "_":
                o = relabel[o]
            if g:
                lines.append(f"{s} {p} {o} {relabel[g] if g[0] == '_' else g} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        # Step 6 of §4.4 merges duplicate quads: identical lines after relabelling are one quad.
        out = []
        prev = None
        for line in lines:
            if line != prev:
                out.append(line)
            prev = line
        return Canonicalized("".join(out), {k[2:]: v[2:] for k, v in relabel.items()})


def canonicalize(quads: list[Quad], *, budget: int = 10_000, hash_algorithm: str = "sha256") -> Canonicalized:
    """Canonical N-Quads of ``quads`` (RDFC-1.0 §4.4) and the issued identifiers map.

    ``hash_algorithm`` is SHA-256 by default; RDFC-1.0 §4.4 lets the caller choose another (SHA-384).
    """
    if hash_algorithm not in ("sha256", "sha384"):
        raise ValueError(f"unsupported RDFC-1.0 hash algorithm {hash_algorithm}")
    return _State(quads, budget, hash_algorithm).run()
