"""The JSON-LD walk over cached contexts (``app.jsonld.to_rdf``) against pyoxigraph's parser.

The walk is an optimization: wherever it answers, it must give the RDF (canonical N-Quads) and the
refusals that the general parser gives; where it cannot, it must say so (``Unsupported``) rather than
guess. Credentials microcred issues must all take the walk, or the speed is lost without a sound.
"""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import DataLossError, MicrocredError
from app.jsonld import ContextLoader, canonicalize, rdf, to_quads, to_rdf
from tests.conftest import ROOT, SHARED, VECTORS
from tests.jsonld.test_rdf import _unpruned_canonical

_LOADER = ContextLoader(ROOT / "contexts")
#: generated documents per property test; MICROCRED_PARITY_EXAMPLES=5000 for a deeper search
EXAMPLES = int(os.environ.get("MICROCRED_PARITY_EXAMPLES", "300"))
OB3 = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _outcome(fn, document, loader, *, detail: bool = False):
    """Canonical N-Quads, or the refusal: its class and code (and message when ``detail``: where the
    two paths notice different undefined names in one document, they may list them differently)."""
    try:
        return "rdf", canonicalize(fn(document, loader)).nquads
    except MicrocredError as exc:
        return (type(exc).__name__, exc.code, exc.detail) if detail else (type(exc).__name__, exc.code)


def _rendered():
    """What the issuer produces: both formats from the EC reference input, a status list, the bench credential."""
    from app.credentials import IssuerProfile, render_edc, render_ob3, validate_input
    from bench.credential import reference_credential
    from tests.credentials.conftest import NOW, STATUS_ENTRY

    issuer = IssuerProfile(
        id="did:web:credentials.uniz.example.edu",
        legal_name={"en": "University of Zed", "ga": "Ollscoil Zed"},
        country="IE",
        homepage="https://uniz.example.edu",
        eidas_identifier="VATIE-1234567X",
        identifiers=(("ErasmusCode", "IRL ZED01"),),
    )
    record = validate_input(json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text()), now=NOW)
    return {
        "edc": render_edc(record, issuer=issuer, credential_id="urn:uuid:0b7c3f52-8a51-4f5e-9d43-5b0e2a8c1f11", issued=NOW, status_entry=STATUS_ENTRY),
        "ob3": render_ob3(record, issuer=issuer, credential_id="urn:uuid:5e0d2f7a-1c3b-4d8e-a6f9-2b4c6d8e0a13", issued=NOW, status_entry=STATUS_ENTRY),
        "status-list": {  # as app.issuance publishes it (Bitstring Status List §2.2)
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "https://issuer.example.org/status/3",
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer.id,
            "validFrom": "2026-07-01T09:30:00Z",
            "credentialSubject": {
                "id": "https://issuer.example.org/status/3#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            },
        },
        "bench-credential": reference_credential(DID, 30),
    }


def _standards():
    out = {
        "vc-di-eddsa unsigned": json.loads((VECTORS / "vc-di-eddsa" / "unsigned.json").read_text()),
        "EDC sample": json.loads((SHARED / "samples" / "edc" / "ELM-repo_Sample-MC-Annex1-unsigned.jsonld").read_text()),
        "OB3 sample": json.loads((SHARED / "samples" / "ob3" / "1edtech_example_basicOpenBadgeCredential.json").read_text()),
    }
    signed = json.loads((VECTORS / "vc-di-eddsa" / "Ed25519Signature2020" / "signedEdSig.json").read_text())
    out["Ed25519Signature2020 signed, without proof"] = {k: v for k, v in signed.items() if k != "proof"}
    return out


def test_issued_documents_take_the_walk_and_match(loader):
    for name, document in _rendered().items():
        walked = canonicalize(to_rdf.to_quads(document, loader)).nquads  # no Unsupported: our output is covered
        assert walked == canonicalize(rdf._general_quads(document, loader)).nquads, name
        assert walked == _unpruned_canonical(document, loader), name
        assert walked.count("\n") >= 8, name


@pytest.mark.parametrize("name", list(_standards()))
def test_standards_documents_match(name, loader):
    document = _standards()[name]
    general = _outcome(rdf._general_quads, document, loader)
    try:
        walked = _outcome(to_rdf.to_quads, document, loader)
    except to_rdf.Unsupported:
        walked = general
    assert walked == general
    assert _outcome(to_quads, document, loader) == general


BROKEN = {
    "undefined property": {"issuer": DID, "credentialSubject": {"id": DID, "favouriteColour": "blue"}},
    "undefined type": {"issuer": DID, "credentialSubject": {"id": DID, "type": ["AchievementSubject", "MadeUpType"]}},
    "relative id": {"id": "credentials/42", "issuer": DID, "credentialSubject": {"id": DID}},
    "relative IRI value": {"issuer": "issuers/zed", "credentialSubject": {"id": DID}},
    "unknown keyword": {"issuer": DID, "@foo": "bar", "credentialSubject": {"id": DID}},
    "undefined term in a nested node": {"issuer": {"id": DID, "type": ["Profile"], "nickname": "Zed"}, "credentialSubject": {"id": DID}},
    "unpinned context": {"@context": [*OB3, "https://example.org/my-context.jsonld"], "issuer": DID, "credentialSubject": {"id": DID}},
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_refusals_are_the_same(name, loader):
    document = {"@context": OB3, "type": ["VerifiableCredential", "OpenBadgeCredential"], **copy.deepcopy(BROKEN[name])}
    general = _outcome(rdf._general_quads, document, loader, detail=True)
    assert general[0] in ("DataLossError", "ContextError")
    try:
        assert _outcome(to_rdf.to_quads, document, loader, detail=True) == general
    except to_rdf.Unsupported:
        assert "undefined" in name  # undefined terms: the general parser gives the verdict
    assert _outcome(to_quads, document, loader, detail=True) == general


UNSUPPORTED = {
    "embedded context": {"credentialSubject": {"@context": {"nick": "https://example.org/nick"}, "nick": "Zed"}},
    "value object": {"name": {"@value": "Zed", "@language": "en"}},
    "list": {"credentialSubject": {"id": DID, "https://example.org/steps": {"@list": ["a", "b"]}}},
    "term defined in an inline top context": {"@context": [*OB3, {"nick": "https://example.org/nick"}], "nick": "Zed"},
    "IRI with a space": {"id": "urn:x:has space"},
}


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_what_the_walk_does_not_cover_goes_to_the_general_parser(name, loader):
    document = {"@context": OB3, "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": DID, **copy.deepcopy(UNSUPPORTED[name])}
    with pytest.raises(to_rdf.Unsupported):
        to_rdf.to_quads(document, loader)
    assert _outcome(to_quads, document, loader) == _outcome(rdf._general_quads, document, loader)


# -- generated documents: OB3-shaped, with arbitrary text, numbers, identifiers, and the odd undefined term

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_NUMBER = st.one_of(st.integers(-(2**64), 2**64), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
_ID = st.sampled_from(
    [DID, "urn:uuid:5e0d2f7a-1c3b-4d8e-a6f9-2b4c6d8e0a13", "https://uniz.example.edu/a?b=c#d", "_:x1", "_:x2", "relative/ref", "mailto:ana@example.org"]
)
_NODE_TYPES = st.sampled_from(["Profile", "Address", "Alignment", "Achievement", "IdentityObject", "Criteria", "Image", "MadeUp"])
_PROPERTIES = {
    "Profile": ["name", "url", "email", "address", "description", "phone"],
    "Address": ["addressCountryCode", "addressRegion", "streetAddress", "postalCode"],
    "Alignment": ["targetName", "targetUrl", "targetCode", "targetType", "targetFramework", "targetDescription"],
    "Achievement": ["name", "description", "criteria", "alignment", "creditsAvailable", "fieldOfStudy", "inLanguage", "creator", "achievementType"],
    "IdentityObject": ["identityType", "hashed", "identityHash", "salt"],
    "Criteria": ["narrative", "id"],
    "Image": ["caption", "id"],
    "MadeUp": ["name", "colour"],
}


@st.composite
def _node(draw, depth: int = 0):
    kind = draw(_NODE_TYPES)
    node: dict = {"type": draw(st.sampled_from([kind, [kind]]))}
    if draw(st.booleans()):
        node["id"] = draw(_ID)
    for prop in draw(st.lists(st.sampled_from(_PROPERTIES[kind]), max_size=4, unique=True)):
        if prop in ("address", "criteria", "creator") and depth < 2:
            node[prop] = draw(_node(depth + 1))
        elif prop == "alignment" and depth < 2:
            node[prop] = draw(st.lists(_node(depth + 1), max_size=3))
        elif prop in ("url", "targetUrl", "id"):
            node[prop] = draw(_ID)
        else:
            node[prop] = draw(st.one_of(_TEXT, _NUMBER, st.lists(_TEXT, max_size=2), st.none()))
    return node


@st.composite
def _credential(draw):
    return {
        "@context": OB3,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "id": draw(_ID),
        "name": draw(st.one_of(_TEXT, st.lists(_TEXT, max_size=2))),
        "issuer": draw(st.one_of(_ID, _node())),
        "validFrom": "2026-06-30T10:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": draw(_node()), "creditsEarned": draw(_NUMBER)},
    }


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_credential())
def test_generated_documents_give_what_the_general_parser_gives(document):
    loader = _LOADER  # one for all examples: its processed contexts are what is under test
    general = _outcome(rdf._general_quads, document, loader)
    try:
        walked = _outcome(to_rdf.to_quads, document, loader)
    except to_rdf.Unsupported:
        walked = general
    assert walked == general
    assert _outcome(to_quads, document, loader) == general


def test_walk_refuses_unknown_keywords_and_relative_iris_itself(loader):
    document = {"@context": OB3, "type": ["VerifiableCredential"], "issuer": DID, "@bogus": 1}
    with pytest.raises(DataLossError, match="@bogus"):
        to_rdf.to_quads(document, loader)
    document = {"@context": OB3, "type": ["VerifiableCredential"], "issuer": "issuers/zed"}
    with pytest.raises(DataLossError, match="issuers/zed"):
        to_rdf.to_quads(document, loader)


def _leaves(node, path=()):
    """Paths to every mutable spot of a document (not its @context)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "@context":
                yield (*path, k)
                yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*path, i)
            yield from _leaves(v, (*path, i))


_RENDERED = None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_issued_documents_give_what_the_general_parser_gives(data):
    """EDC and OB3 as issued, with a few values replaced by arbitrary ones, keys dropped or added."""
    global _RENDERED
    if _RENDERED is None:
        _RENDERED = _rendered()
    document = copy.deepcopy(_RENDERED[data.draw(st.sampled_from(["edc", "ob3"]))])
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(list(_leaves(document))))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["text", "number", "null", "drop", "add", "id"]))
        if action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["nickname", "name", "id", "type", "@id", "prefLabel", "x:y"]))] = data.draw(_TEXT)
        elif action == "id":
            parent[path[-1]] = data.draw(_ID)
        else:
            parent[path[-1]] = data.draw({"text": _TEXT, "number": _NUMBER, "null": st.none()}.get(action, _TEXT))
    general = _outcome(rdf._general_quads, document, _LOADER)
    try:
        walked = _outcome(to_rdf.to_quads, document, _LOADER)
    except to_rdf.Unsupported:
        walked = general
    assert walked == general


def test_caches_stay_bounded_and_correct_when_they_overflow(monkeypatch):
    """Documents that combine many typed nodes make many processed contexts; the caches forget them
    all together past a bound (they refer to each other), and the answers stay right."""
    loader = ContextLoader(ROOT / "contexts")  # its own caches
    monkeypatch.setattr(to_rdf, "_MAX_CONTEXTS", 6)
    kinds = ["Profile", "Address", "Alignment", "Achievement", "IdentityObject", "Criteria", "Image"]
    x = to_rdf.expander(loader)
    for i in range(len(kinds)):
        for j in range(len(kinds)):
            document = {
                "@context": OB3,
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": DID,
                "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"type": [kinds[i], kinds[j]], "name": f"n{i}{j}"}},
            }
            assert _outcome(to_rdf.to_quads, document, loader) == _outcome(rdf._general_quads, document, loader)
            assert len(x._contexts) <= 6


# -- the kept walks of arrays (``_Walk.memoized``, issue 19): identical quads, labels and order to a walk without them


def _walked(document, loader, *, memo: bool):
    x = to_rdf.expander(loader)
    kept = x.memo_enabled
    x.memo_enabled = memo
    try:
        return to_rdf.to_quads(document, loader)
    finally:
        x.memo_enabled = kept


def _assert_same_with_and_without_memo(document, loader):
    plain = _walked(document, loader, memo=False)
    first, again = _walked(document, loader, memo=True), _walked(document, loader, memo=True)  # kept, then replayed
    assert first == plain and again == plain  # the same quads, blank node labels and order: the same canonical form
    assert canonicalize(again).nquads == canonicalize(plain).nquads


def test_issued_documents_give_identical_quads_with_kept_walks(loader):
    for document in _rendered().values():
        _assert_same_with_and_without_memo(document, loader)
    assert to_rdf.expander(loader).memo, "the issued Open Badge's alignments are kept"


def test_a_kept_walk_replayed_elsewhere_in_a_document_is_renumbered(loader):
    """The same alignments after another number of blank nodes: the kept quads' blank nodes take the new numbers."""
    from app.credentials import IssuerProfile, render_ob3, validate_input
    from tests.credentials.conftest import NOW

    record = validate_input(json.loads((SHARED / "samples" / "microcredential-input.example.json").read_text()), now=NOW)
    issuer = IssuerProfile(id="did:web:credentials.uniz.example.edu", legal_name={"en": "University of Zed"}, country="IE")
    document = render_ob3(record, issuer=issuer, credential_id="urn:uuid:5e0d2f7a-1c3b-4d8e-a6f9-2b4c6d8e0a13", issued=NOW)
    _assert_same_with_and_without_memo(document, loader)
    for extra in range(1, 4):
        shifted = copy.deepcopy(document)
        shifted["credentialSubject"] = {
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": f"n{i}"} for i in range(extra)],
            **{k: v for k, v in shifted["credentialSubject"].items() if k != "identifier"},
        }
        _assert_same_with_and_without_memo(shifted, loader)


@st.composite
def _with_long_arrays(draw):
    """Credentials whose achievement (named or not) holds 4 to 7 alignments, after a varying number of blank nodes,
    sometimes twice the same array under two subjects, sometimes with a blank node identifier inside."""
    alignments = draw(st.lists(_node(1), min_size=4, max_size=7))
    for alignment in alignments:
        alignment["type"] = ["Alignment"]
    achievement = {"type": ["Achievement"], "name": draw(_TEXT), "alignment": alignments}
    if draw(st.booleans()):
        achievement["id"] = draw(st.sampled_from(["urn:uuid:5a1f4c2e-0d3b-4e6f-8a9b-7c6d5e4f3a2b", "https://uniz.example.edu/a/1", "_:ach"]))
    subject = {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityHash": f"h{i}", "hashed": False} for i in range(draw(st.integers(0, 3)))],
        "achievement": achievement,
    }
    document = {
        "@context": OB3,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "id": draw(_ID),
        "issuer": draw(st.one_of(_ID, _node())),
        "validFrom": "2026-06-30T10:00:00Z",
        "credentialSubject": subject,
    }
    if draw(st.booleans()):
        document["evidence"] = [{"type": ["Evidence"], "id": f"https://uniz.example.edu/e/{i}"} for i in range(draw(st.integers(4, 5)))]
    return document


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_with_long_arrays(), st.integers(0, 2))
def test_generated_documents_give_identical_quads_with_kept_walks(document, shift):
    loader = _LOADER
    try:
        plain = _walked(document, loader, memo=False)
    except (to_rdf.Unsupported, MicrocredError) as exc:
        with pytest.raises(type(exc)):
            _walked(document, loader, memo=True)
        return
    _assert_same_with_and_without_memo(document, loader)
    moved = copy.deepcopy(document)  # the same arrays again, after more blank nodes
    moved["credentialSubject"]["identifier"] += [{"type": "IdentityObject", "identityHash": "x", "hashed": False}] * shift
    _assert_same_with_and_without_memo(moved, loader)
    assert plain == _walked(document, loader, memo=True)
