"""Fixtures for the micro-credential tests: the EC reference input, a fixed clock, an issuer, renderings."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOW = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # after the example's awardedAt (2026-06-30)
STATUS_ENTRY = {
    "id": "https://issuer.example.org/status/3#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://issuer.example.org/status/3",
}


@pytest.fixture(scope="session")
def example_input(shared_dir: Path) -> dict:
    return json.loads((shared_dir / "samples" / "microcredential-input.example.json").read_text())


@pytest.fixture
def example(example_input: dict) -> dict:
    """A fresh deep copy a test may break."""
    return copy.deepcopy(example_input)


@pytest.fixture(scope="session")
def issuer():
    from app.credentials import IssuerProfile

    return IssuerProfile(
        id="did:web:credentials.uniz.example.edu",
        legal_name={"en": "University of Zed"},
        country="IE",
        homepage="https://uniz.example.edu",
        eidas_identifier="VATIE-1234567X",
        identifiers=(("ErasmusCode", "IRL ZED01"),),
    )


@pytest.fixture(scope="session")
def record(example_input: dict):
    from app.credentials import validate_input

    return validate_input(example_input, now=NOW)


@pytest.fixture(scope="session")
def edc(record, issuer) -> dict:
    from app.credentials import render_edc

    return render_edc(record, issuer=issuer, credential_id="urn:uuid:0b7c3f52-8a51-4f5e-9d43-5b0e2a8c1f11", issued=NOW, status_entry=STATUS_ENTRY)


@pytest.fixture(scope="session")
def ob3(record, issuer) -> dict:
    from app.credentials import render_ob3

    return render_ob3(record, issuer=issuer, credential_id="urn:uuid:5e0d2f7a-1c3b-4d8e-a6f9-2b4c6d8e0a13", issued=NOW, status_entry=STATUS_ENTRY)


@pytest.fixture(scope="session")
def edc_shapes():
    """The EDC generic-full shapes together with the edc-generic-no-cv shapes they ``owl:import``.

    pyshacl does not follow owl:imports offline, and the structural rules (issuer eIDAS identifier 1..1,
    issued 1..1, grade 1..1, …) live in the imported file: validating against generic-full alone would
    check only the controlled vocabularies.
    """
    import rdflib

    shapes = rdflib.Graph()
    shapes.parse(ROOT / "contexts" / "shacl" / "EDC-generic-full.ttl")
    shapes.parse(ROOT / "contexts" / "shacl" / "EDC-generic-no-cv.ttl")
    return shapes


def data_graph(document: dict, loader):
    """JSON-LD → RDF over the pinned contexts (``to_quads`` refuses undefined terms), as an rdflib graph."""
    import rdflib

    from app.jsonld import to_quads

    quads = to_quads(document, loader)
    # an unsigned credential has only the default graph (a proof would be a named graph)
    assert all(g == "" for *_, g in quads)
    return rdflib.Graph().parse(data="\n".join(f"{s} {p} {o} ." for s, p, o, _ in quads), format="nt")


def shacl(document: dict, loader, shapes) -> tuple[bool, str]:
    import pyshacl

    conforms, _, text = pyshacl.validate(data_graph(document, loader), shacl_graph=shapes, inference="none")
    return conforms, text
