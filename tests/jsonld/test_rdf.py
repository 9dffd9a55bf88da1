"""JSON-LD → RDF over pinned contexts: pruned contexts give the same RDF; data loss is refused."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from app.jsonld import canonicalize, to_quads
from app.jsonld.rdf import UNDEFINED_VOCAB, _inline_context
from tests.conftest import SHARED, VECTORS


def _unpruned_canonical(document, loader) -> str:
    """Reference: the same document with every context inlined whole, canonicalized by pyoxigraph."""

    def inline(node, top):
        if isinstance(node, list):
            return [inline(x, False) for x in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if k == "@context":
                ctx = _inline_context(v, loader)
                out[k] = [{"@vocab": UNDEFINED_VOCAB}, *(ctx if isinstance(ctx, list) else [ctx])] if top else ctx
            else:
                out[k] = inline(v, False)
        return out

    ds = ox.Dataset(ox.parse(json.dumps(inline(document, True)).encode(), format=ox.RdfFormat.JSON_LD, base_iri="https://relative-iri.microcred.invalid/"))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted(f"{q} .\n" for q in ds))


def _samples():
    files = [
        VECTORS / "vc-di-eddsa" / "unsigned.json",
        VECTORS / "vc-di-eddsa" / "Ed25519Signature2020" / "signedEdSig.json",
        SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-unsigned.jsonld",
        SHARED / "samples" / "ob3" / "1edtech_example_basicOpenBadgeCredential.json",
    ]
    return [pytest.param(f, id=f.name) for f in files]


@pytest.mark.parametrize("path", _samples())
def test_pruned_contexts_give_identical_rdf(path, loader):
    document = json.loads(path.read_text())
    ours = canonicalize(to_quads(document, loader)).nquads
    assert ours == _unpruned_canonical(document, loader)
    assert ours.count("\n") > 5


def test_bench_credential_identical_rdf(loader):
    from bench.credential import reference_credential

    doc = reference_credential("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", 20)
    assert canonicalize(to_quads(doc, loader)).nquads == _unpruned_canonical(doc, loader)


def test_unpinned_extension_context_is_refused(loader):
    from app.errors import ContextError

    document = json.loads((SHARED / "samples" / "ob3" / "mynextid_open-badge-mc-example.json").read_text())
    with pytest.raises(ContextError) as err:
        to_quads(document, loader)
    assert "extensions.json" in err.value.detail
