"""JSON-LD over pinned contexts: document loading, RDF conversion with data-loss detection, RDFC-1.0."""

from app.jsonld.loader import ContextLoader
from app.jsonld.rdf import to_quads
from app.jsonld.rdfc import Canonicalized, canonicalize

__all__ = ["ContextLoader", "Canonicalized", "canonicalize", "to_quads"]
