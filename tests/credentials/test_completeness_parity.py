"""What the Annex I reader (``app.credentials.completeness``) answers, frozen: a characterization test.

Council Recommendation 2022/C 243/02, Annex I, read back from Europass EDC and Open Badges 3.0 (model doc §2 and
§4). The readers ``_edc_facts`` and ``_ob3_facts`` were rewritten for readability (issue 10) on the promise that
nothing changes: this test holds them to it. The golden file beside it was written by the readers as they were
before the rewrite (commit it with any deliberate change of behaviour, and say why).

Cases, each a credential or anything handed to the reader as one:

* every sample credential the repository has (``tests/fixtures/samples``: the EC's reference EDC signed and
  unsigned, the EBSI VCDM 2.0 EDC, 1EdTech's and MyNextID's badges) and the benchmark's reference badge;
* what the service issues: ``render_edc`` / ``render_ob3`` of the example input (``app/credentials``,
  its byte-identical copy in ``app/samples``, since removed) under two issuer profiles, and of the input with each key deleted in turn, each list emptied
  and its languages swapped (random node ids, salts and hashes replaced by stable ones);
* each sample, the reference badge and the service's EDC and OB3 with one change at each place: a key or
  item deleted, a list emptied, a value made null, wrapped in a list or unwrapped, a text emptied, a scalar
  made a number, an object made a text, a language map's languages swapped, and all languages swapped at once;
* in the service's EDC and OB3, each of ``POOL`` (values the reader treats specially) at each place the reader
  reads, and two values that make it raise at each two of those places (so the order it reads in is pinned);
* seeded random documents: several changes at once with ``POOL`` values, and documents built from the
  property names the reader looks for.

For each case the golden file records what ``facts``, ``summary`` and the verifier's ``completeness_check``
return (an exception by class and message), and per group whether what was read was left as it was. Answers
are compared as JSON text, keys in their order, so a changed order, a ``2`` that became ``2.0`` or a tuple for
a list fails. The answers of the credentials themselves are kept in full, those of their variants by digest.

Regenerate: ``MICROCRED_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/credentials/test_completeness_parity.py``.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.credentials.conftest import NOW, STATUS_ENTRY

SAMPLES = ROOT / "tests" / "fixtures" / "samples"
GOLDEN = Path(__file__).with_name("completeness_parity.golden.json")
INPUTS = [ROOT / "app" / "credentials" / "example_input.json"]
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
SNB = "http://data.europa.eu/snb/"
AUTHORITY = "http://publications.europa.eu/resource/authority/"

_DELETE = object()
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LANG_KEY = re.compile(r"^[a-z]{2}$")
#: a bijection, so that swapping never merges two languages of one map
LANG_SWAP = {"en": "de", "de": "en", "es": "fr", "fr": "es", "ga": "it", "it": "ga"}
LANG_IRI_SWAP = {"ENG": "DEU", "DEU": "ENG", "SPA": "FRA", "FRA": "SPA", "GLE": "ITA", "ITA": "GLE"}


# -- the answers -------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON as it is, and anything else named by its type (so that a tuple for a list shows)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if type(value) is list:
        return [_plain(v) for v in value]
    if type(value) is dict and all(isinstance(k, str) for k in value):
        return {k: _plain(v) for k, v in value.items()}
    return {"!type": type(value).__name__, "repr": repr(value)}


def _call(fn: Callable[[Any], Any], document: Any) -> Any:
    try:
        return {"returned": _plain(fn(document))}
    except Exception as exc:  # the answer to record, whatever it is
        return {"raised": type(exc).__name__, "message": str(exc)}


def observe(document: Any) -> list[Any]:
    """What ``facts``, ``summary`` and the verifier's EU completeness check answer, in order."""
    from app.credentials.completeness import facts, summary
    from app.verification.completeness_check import completeness_check

    return [_call(facts, document), _call(summary, document), _call(lambda d: completeness_check(d).as_dict(), document)]


def _text(observation: list[Any]) -> str:
    return json.dumps(observation, ensure_ascii=False, allow_nan=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


# -- walking and changing a document -----------------------------------------------------------------------


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every value below the root, in document order, with its path."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield path + (key,), value
        yield from _walk(value, path + (key,))


def _with(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced by ``new`` (or removed): copies only along the path."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        out = dict(document)
        if rest:
            out[head] = _with(document[head], rest, new)
        elif new is _DELETE:
            del out[head]
        else:
            out[head] = new
        return out
    out_list = list(document)
    if rest:
        out_list[head] = _with(document[head], rest, new)
    elif new is _DELETE:
        del out_list[head]
    else:
        out_list[head] = new
    return out_list


def _is_lang_map(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and _LANG_KEY.match(k) and k != "id" for k in value)


def _swap_map(value: dict[str, Any]) -> dict[str, Any]:
    return {LANG_SWAP.get(k, k): v for k, v in value.items()}


def _swap_all(node: Any, key: str | None = None) -> Any:
    """Every language swapped: language-map keys, ``inLanguage`` / ``@language`` / ``primaryLanguage`` values,
    the EU language-table IRIs."""
    if _is_lang_map(node):
        return {LANG_SWAP.get(k, k): _swap_all(v) for k, v in node.items()}
    if isinstance(node, dict):
        return {k: _swap_all(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_swap_all(v, key) for v in node]
    if isinstance(node, str):
        if key in ("inLanguage", "@language", "primaryLanguage", "instructionLanguages", "language"):
            node = LANG_SWAP.get(node, node)
        if node.startswith(AUTHORITY + "language/"):
            tail = node.rsplit("/", 1)[-1]
            node = node[: -len(tail)] + LANG_IRI_SWAP.get(tail, tail)
    return node


def _changes(value: Any) -> Iterator[tuple[str, Any]]:
    """The single changes tried at one place, by name."""
    yield "del", _DELETE
    if isinstance(value, list):
        yield "empty", []
        if value:
            yield "unwrap", value[0]
    else:
        yield "wrap", [value]
    if value is not None:
        yield "null", None
    if isinstance(value, str) and value:
        yield "blank", ""
    if isinstance(value, (str, bool, float)) or (isinstance(value, int) and value != 7):
        yield "seven", 7
    if isinstance(value, dict):
        yield "text", "text"
    if _is_lang_map(value):
        yield "lang", _swap_map(value)


def mutations(name: str, document: Any) -> Iterator[tuple[str, Any]]:
    yield f"{name} lang-all", _swap_all(document)
    for path, value in _walk(document):
        for change, new in _changes(value):
            yield f"{name} {change} {_pointer(path)}", _with(document, path, new)


# -- the credentials ---------------------------------------------------------------------------------------


def _stable(node: Any, ids: dict[str, str], key: str | None = None) -> Any:
    """Random node ids, salts and hashes of a rendering replaced by stable ones, in order of appearance."""
    if isinstance(node, dict):
        return {k: _stable(v, ids, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_stable(v, ids) for v in node]
    if isinstance(node, str):
        if key == "salt":
            return "0" * len(node)
        if node.startswith("sha256$"):
            return "sha256$" + "0" * 64
        return _UUID.sub(lambda m: ids.setdefault(m.group(0), f"00000000-0000-4000-8000-{len(ids):012d}"), node)
    return node


def _issuers():
    from app.credentials import IssuerProfile

    common = {
        "id": "did:web:credentials.uniz.example.edu",
        "country": "IE",
        "homepage": "https://uniz.example.edu",
        "eidas_identifier": "VATIE-1234567X",
        "identifiers": (("ErasmusCode", "IRL ZED01"),),
    }
    return {
        "uniz": IssuerProfile(legal_name={"en": "University of Zed"}, **common),
        "uniz-ga": IssuerProfile(legal_name={"en": "University of Zed", "ga": "Ollscoil Zed"}, **common),
    }


def _renderings(name: str, record_input: dict[str, Any], issuers: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    from app.credentials import render_edc, render_ob3, validate_input

    try:
        record = validate_input(copy.deepcopy(record_input), now=NOW)
    except Exception as exc:  # an input the service refuses issues nothing
        yield f"{name} refused", {"refused": type(exc).__name__}
        return
    for issuer_name, issuer in issuers.items():
        for fmt, render in (("edc", render_edc), ("ob3", render_ob3)):
            for status_name, status in (("status", STATUS_ENTRY), ("no-status", None)):
                if status is None and issuer_name != "uniz":
                    continue
                doc = render(record, issuer=issuer, credential_id=f"urn:uuid:{fmt}-credential", issued=NOW, status_entry=status)
                yield f"{name} {fmt} {issuer_name} {status_name}", _stable(doc, {})


def _input_variants(record_input: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The example input with each key deleted in turn, each list emptied, its languages swapped or added."""
    yield "as-is", record_input
    yield "lang-all", _swap_all(record_input)
    two = copy.deepcopy(record_input)
    for _path, value in list(_walk(two)):
        if _is_lang_map(value) and "en" in value:
            value["ga"] = f"{value['en']} (ga)"
    two["instructionLanguages"] = ["en", "ga"]
    yield "lang-added", two
    yield "lang-added-primary-ga", {**two, "primaryLanguage": "ga"}
    for path, value in _walk(record_input):
        yield f"del {_pointer(path)}", _with(record_input, path, _DELETE)
        if isinstance(value, list) and value:
            yield f"empty {_pointer(path)}", _with(record_input, path, [])
        if _is_lang_map(value):
            yield f"lang {_pointer(path)}", _with(record_input, path, _swap_map(value))


def _samples() -> Iterator[tuple[str, Any]]:
    for path in sorted(SAMPLES.glob("*/*.json*")):
        document = json.loads(path.read_text())
        yield f"sample:{path.parent.name}/{path.name}", document
        if isinstance(document.get("payload"), str):  # a JWS JSON serialisation: the credential is the payload
            yield f"sample:{path.parent.name}/{path.name}#payload", json.loads(document["payload"])


def base_credentials() -> Iterator[tuple[str, Any]]:
    from bench.credential import reference_credential

    yield from _samples()
    yield "bench:reference-2", reference_credential(DID, 2)
    yield "bench:reference-30", reference_credential(DID, 30)
    issuers = _issuers()
    for path in INPUTS:
        yield from _renderings(f"render:{path.parent.name}/{path.name}", json.loads(path.read_text()), issuers)


def input_mutations() -> Iterator[tuple[str, Any]]:
    issuers = _issuers()
    record_input = json.loads(INPUTS[0].read_text())
    for variant, mutated in _input_variants(record_input):
        yield from _renderings(f"render-input:{variant}", mutated, {"uniz": issuers["uniz"]})


def edge_cases() -> Iterator[tuple[str, Any]]:
    yield "edge:none", None
    yield "edge:list", [{"type": ["VerifiableCredential", "OpenBadgeCredential"]}]
    yield "edge:text", "OpenBadgeCredential"
    yield "edge:empty", {}
    yield "edge:vc", {"type": ["VerifiableCredential"]}
    yield "edge:ob3-bare", {"type": "OpenBadgeCredential"}
    yield "edge:achievement-bare", {"@type": ["AchievementCredential"]}
    yield "edge:edc-bare", {"type": "EuropeanDigitalCredential"}
    yield "edge:edc-context", {"@context": ["https://www.w3.org/2018/credentials/v1", f"{SNB}model/context/edc-ap"]}
    yield "edge:both", {"type": ["OpenBadgeCredential", "EuropeanDigitalCredential"]}


# -- seeded random documents -------------------------------------------------------------------------------

#: values the reader treats specially (concept IRIs, durations, notes, narratives, alignments, identities)
POOL: list[Any] = [
    None,
    "",
    "x",
    0,
    7,
    2.5,
    "3",
    "abc",
    True,
    False,
    [],
    {},
    [None],
    ["a", "b"],
    {"en": "Text"},
    {"en": ["a", "b"]},
    {"en": ""},
    {"de": "Text", "en": "Text"},
    {"@value": "v", "@language": "fr"},
    {"@value": 3},
    {"@value": "v", "@language": ["en"]},
    {"id": f"{SNB}eqf/6"},
    {"id": f"{SNB}eqf/x"},
    {"id": 6},
    {"id": ""},
    {"id": f"{SNB}qdr/abc", "prefLabel": {"en": "NQF 6"}},
    {"id": f"{AUTHORITY}country/GRC"},
    {"id": f"{AUTHORITY}country/IRL/", "prefLabel": "Ireland"},
    {"id": f"{AUTHORITY}country/XXX"},
    {"id": f"{AUTHORITY}language/ENG"},
    {"id": f"{AUTHORITY}language/ZZZ"},
    f"{AUTHORITY}language/GLE",
    f"{SNB}eqf/7",
    {"id": f"{SNB}education-credit/6fcec5c5af"},
    {"id": f"{SNB}education-credit/60b314e826"},
    {"id": f"{SNB}education-credit/other"},
    "PT60H",
    "PT12.5H",
    "P2M",
    "QF-EHEA cycle: second",
    {"noteLiteral": {"en": "QF-EHEA cycle: third"}},
    {"noteLiteral": "plain"},
    "- first\n- second\nPrerequisites: none at all\nNotional workload: 12.5 hours",
    "Prerequisites: x",
    "- only",
    "ext:EQFLevel",
    "ext:AssessmentMode",
    "ext:FormOfParticipation",
    "IE",
    "ie",
    "GR",
    "ZZ",
    "en",
    "und",
    {"point": "2", "framework": {"id": f"{SNB}education-credit/6fcec5c5af"}},
    {"point": "x"},
    {"point": None},
    {"point": 4},
    {"targetType": "ext:EQFLevel", "targetUrl": f"{SNB}eqf/5", "targetCode": "5", "targetName": "EQF 5"},
    {"targetType": "ext:EQFLevel", "targetUrl": f"{SNB}eqf/high", "targetCode": "h"},
    {"targetType": "ext:QFEHEACycle", "targetName": "first cycle"},
    {"targetType": "ext:NQFLevel", "targetUrl": f"{SNB}qdr/x", "targetName": "N"},
    {"targetType": "ext:CreditSystem", "targetUrl": f"{SNB}education-credit/6fcec5c5af", "targetCode": "ECTS"},
    {"targetUrl": f"{SNB}education-credit/60b314e826"},
    {"targetType": "ext:AssessmentType", "targetUrl": f"{SNB}assessment/de4d165a6c", "targetName": "Artefact"},
    {"targetType": "ext:AssessmentMode", "targetUrl": f"{SNB}learning-assessment/920fbb3cbe", "targetName": "Online"},
    {"targetUrl": f"{SNB}learning-assessment/e92d221e4d", "targetName": "Blended"},
    {"targetType": "ext:FormOfParticipation", "targetUrl": f"{SNB}learning-assessment/9191af2ed9", "targetName": {"en": "Presential"}},
    {"targetType": "ext:LearningSetting", "targetUrl": f"{SNB}learning-setting/e207a81fc7", "targetName": "non-formal"},
    {"targetType": "ext:QualityAssurance", "targetName": "QA", "targetCode": "bb4618238e", "targetDescription": "d"},
    {"targetUrl": f"{SNB}accreditation/820101cba6", "targetCode": "a/b"},
    {"targetType": "ext:SupervisionVerification", "targetUrl": f"{SNB}supervision-verification/c598449d64", "targetName": "u"},
    {"targetType": "ext:StackableTowards", "targetUrl": "https://x.example/p", "targetName": "Programme"},
    {"targetType": "ext:ESCOSkill", "targetUrl": "http://data.europa.eu/esco/skill/abc", "targetName": "first"},
    {"targetUrl": "http://data.europa.eu/esco/skill/def"},
    {"identityType": "name", "hashed": False, "identityHash": "Ann"},
    {"identityType": "name", "hashed": True, "identityHash": "h"},
    {"identityType": "emailAddress", "hashed": True},
    {"identityType": "name"},
    {"schemeName": "Matriculation", "notation": "42"},
    {"notation": "N-1"},
    {"addressCountryCode": "gr", "addressRegion": "Attica"},
    {"addressCountryCode": "ZZ", "addressCountry": "Nowhere"},
    {"addressRegion": "R"},
    {"countryCode": {"id": f"{AUTHORITY}country/EUR"}},
    {"location": {"address": {"countryCode": {"id": f"{AUTHORITY}country/DEU"}}, "spatialCode": {"id": "urn:atu:1"}}},
    {"emailAddress": {"id": "mailto:a@b.c"}},
    {"contentURL": "https://x.example/doc"},
    {"value": "A"},
    {"status": "Completed"},
    {"id": "https://x.example/rel"},
    {"id": "urn:ev:1", "type": "Evidence"},
    {"title": {"en": "Part"}, "id": "urn:q:1"},
    {"dcType": {"id": f"{SNB}accreditation/bb4618238e"}, "title": {"en": "QA"}, "accreditingAgent": {"legalName": {"en": "Agency"}}},
    {"title": {"en": "Outcome"}, "relatedESCOSkill": [{"id": "http://data.europa.eu/esco/skill/1"}, "http://data.europa.eu/esco/skill/2"]},
    {"legalName": {"en": "Body"}, "location": {"address": {"countryCode": {"id": f"{AUTHORITY}country/FRA"}}}},
]

#: the property names the reader looks for, in EDC and OB3
KEYS = [
    "credentialSubject",
    "hasClaim",
    "specifiedBy",
    "awardedBy",
    "awardingBody",
    "provenBy",
    "influencedBy",
    "displayParameter",
    "issuer",
    "fullName",
    "givenName",
    "familyName",
    "id",
    "nationalID",
    "notation",
    "contactPoint",
    "emailAddress",
    "identifier",
    "schemeName",
    "dateOfBirth",
    "title",
    "language",
    "location",
    "address",
    "countryCode",
    "spatialCode",
    "legalName",
    "awardingDate",
    "issued",
    "issuanceDate",
    "validFrom",
    "learningOutcome",
    "relatedESCOSkill",
    "learningOutcomeSummary",
    "noteLiteral",
    "creditPoint",
    "point",
    "framework",
    "volumeOfLearning",
    "eqfLevel",
    "nqfLevel",
    "additionalNote",
    "dcType",
    "mode",
    "learningSetting",
    "accreditation",
    "accreditingAgent",
    "entryRequirement",
    "idVerification",
    "grade",
    "isPartialQualification",
    "isPartOf",
    "supplementaryDocument",
    "contentURL",
    "prefLabel",
    "@value",
    "@language",
    "type",
    "achievement",
    "creator",
    "inLanguage",
    "identityType",
    "hashed",
    "identityHash",
    "name",
    "addressCountryCode",
    "addressCountry",
    "addressRegion",
    "awardedDate",
    "criteria",
    "narrative",
    "creditsAvailable",
    "creditsEarned",
    "alignment",
    "targetType",
    "targetUrl",
    "targetName",
    "targetCode",
    "targetDescription",
    "result",
    "value",
    "status",
    "related",
    "evidence",
]


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.35:
        return _random_node(rng, depth + 1)
    if depth < 4 and roll < 0.5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return copy.deepcopy(rng.choice(POOL))


def _random_node(rng: random.Random, depth: int) -> dict[str, Any]:
    return {key: _random_value(rng, depth) for key in rng.sample(KEYS, rng.randint(0, 6 if depth else 12))}


def random_documents(bases: list[tuple[str, Any]], kind: str, count: int = 1500) -> Iterator[tuple[str, Any]]:
    """Seeded: ``change`` makes 2 to 6 random changes to a base credential, ``document`` builds one from ``KEYS``."""
    rng = random.Random(f"20261201 {kind}")
    tops = [{"type": ["VerifiableCredential", "EuropeanDigitalCredential"]}, {"type": "OpenBadgeCredential"}, {"@type": "AchievementCredential"}]
    for i in range(count if kind == "change" else 0):
        name, document = bases[rng.randrange(len(bases))]
        for _ in range(rng.randint(2, 6)):
            places = list(_walk(document))
            if not places:
                break
            path, _ = rng.choice(places)
            document = _with(document, path, _DELETE if rng.random() < 0.2 else copy.deepcopy(rng.choice(POOL)))
        yield f"random-change {i} of {name}", document
    for i in range(count if kind == "document" else 0):
        document = _random_node(rng, 0)
        document.update(rng.choice(tops))
        if rng.random() < 0.8:
            document["credentialSubject"] = _random_node(rng, 1) | {rng.choice(["hasClaim", "achievement"]): _random_node(rng, 1)}
        yield f"random-document {i}", document


#: where ``implants`` puts each ``POOL`` value: the places the reader looks at (``+``: appended to the list there)
IMPLANT_EDC = [
    "credentialSubject/fullName",
    "credentialSubject/givenName",
    "credentialSubject/familyName",
    "credentialSubject/nationalID",
    "credentialSubject/contactPoint",
    "credentialSubject/identifier",
    "credentialSubject/dateOfBirth",
    "credentialSubject/id",
    "displayParameter/language",
    "displayParameter/title",
    "issuer",
    "issuer/legalName",
    "credentialSubject/hasClaim/title",
    "credentialSubject/hasClaim/additionalNote",
    "credentialSubject/hasClaim/supplementaryDocument",
    "credentialSubject/hasClaim/awardedBy/awardingBody/+",
    "credentialSubject/hasClaim/awardedBy/awardingBody/0/location",
    "credentialSubject/hasClaim/awardedBy/awardingBody/0/location/address/countryCode",
    "credentialSubject/hasClaim/awardedBy/awardingBody/0/location/spatialCode",
    "credentialSubject/hasClaim/awardedBy/awardingDate",
    "credentialSubject/hasClaim/specifiedBy/title",
    "credentialSubject/hasClaim/specifiedBy/learningOutcome/+",
    "credentialSubject/hasClaim/specifiedBy/learningOutcome/0/relatedESCOSkill",
    "credentialSubject/hasClaim/specifiedBy/learningOutcomeSummary",
    "credentialSubject/hasClaim/specifiedBy/creditPoint",
    "credentialSubject/hasClaim/specifiedBy/creditPoint/framework",
    "credentialSubject/hasClaim/specifiedBy/volumeOfLearning",
    "credentialSubject/hasClaim/specifiedBy/eqfLevel",
    "credentialSubject/hasClaim/specifiedBy/nqfLevel",
    "credentialSubject/hasClaim/specifiedBy/additionalNote/+",
    "credentialSubject/hasClaim/specifiedBy/mode",
    "credentialSubject/hasClaim/specifiedBy/learningSetting",
    "credentialSubject/hasClaim/specifiedBy/accreditation/+",
    "credentialSubject/hasClaim/specifiedBy/entryRequirement",
    "credentialSubject/hasClaim/specifiedBy/isPartialQualification",
    "credentialSubject/hasClaim/specifiedBy/isPartOf",
    "credentialSubject/hasClaim/provenBy/title",
    "credentialSubject/hasClaim/provenBy/grade",
    "credentialSubject/hasClaim/provenBy/idVerification",
    "credentialSubject/hasClaim/provenBy/specifiedBy/dcType",
    "credentialSubject/hasClaim/provenBy/specifiedBy/mode",
    "credentialSubject/hasClaim/influencedBy/specifiedBy/mode",
]
IMPLANT_OB3 = [
    "credentialSubject/id",
    "credentialSubject/identifier/+",
    "credentialSubject/result/+",
    "credentialSubject/narrative",
    "credentialSubject/creditsEarned",
    "credentialSubject/achievement/alignment/+",
    "credentialSubject/achievement/related",
    "credentialSubject/achievement/creditsAvailable",
    "credentialSubject/achievement/inLanguage",
    "credentialSubject/achievement/name",
    "credentialSubject/achievement/criteria/narrative",
    "credentialSubject/achievement/creator",
    "credentialSubject/achievement/creator/address",
    "issuer/address",
    "issuer/name",
    "evidence",
    "awardedDate",
    "name",
]


def _implant(document: Any, place: str, value: Any) -> Any:
    path: list[Any] = [int(p) if p.isdigit() else p for p in place.split("/")]
    if path[-1] == "+":
        parent = tuple(path[:-1])
        return _with(document, parent, _at(document, parent) + [value])
    return _with(document, tuple(path), value)


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def implants(name: str, document: Any, places: list[str]) -> Iterator[tuple[str, Any]]:
    """Each ``POOL`` value at each place the reader reads (EDC or OB3)."""
    for place in places:
        for i, value in enumerate(POOL):
            yield f"{name} pool[{i}] at {place}", _implant(document, place, copy.deepcopy(value))


#: values that make a reader raise wherever it reads them (as a language map, a note, a concept's label, an
#: organisation's name, a learning outcome's title), each with its own message: which of two faults the reader
#: meets first shows the order it reads in
_UNHASHABLE = [{"@value": "v", "@language": ["en"]}, {"@value": "v", "@language": {}}]
RAISERS: list[Any] = [
    {**bad, **{key: bad for key in ("title", "noteLiteral", "legalName", "prefLabel", "fullName", "givenName", "name")}, "id": "urn:bad"} for bad in _UNHASHABLE
]


def pairs(name: str, document: Any, places: list[str]) -> Iterator[tuple[str, Any]]:
    """One of ``RAISERS`` at each of two places, both ways round: the exception the reader raises is the one
    it meets first, and a rewrite must read in the same order."""
    for i, first in enumerate(places):
        for second in places[i + 1 :]:
            if (second + "/").startswith(first.removesuffix("+") + "/") or (first + "/").startswith(second.removesuffix("+") + "/"):
                continue  # one inside the other
            for a, b in itertools.permutations(range(len(RAISERS)), 2):
                changed = _implant(_implant(document, first, copy.deepcopy(RAISERS[a])), second, copy.deepcopy(RAISERS[b]))
                yield f"{name} raiser[{a}] at {first}, raiser[{b}] at {second}", changed


def groups() -> Iterator[tuple[str, list[tuple[str, Any]], Any]]:
    """(group, its cases, what must be left unchanged: ``None`` for each case itself, else that document).

    A changed copy shares all but the changed path with its base (``_with``), so a reader that wrote into
    what it reads would change the base: checking the base once per group spares dumping every copy.
    """
    bases = list(base_credentials())
    credentials = [(name, doc) for name, doc in bases if isinstance(doc, dict) and "refused" not in doc]
    yield "credentials", bases, None
    yield "edge cases", list(edge_cases()), None
    yield "renderings of changed inputs", list(input_mutations()), None
    changed = [
        (name, doc)
        for name, doc in credentials
        if name.startswith(("sample:", "bench:reference-2")) or re.search(r"example_input.json (edc|ob3) uniz status$", name)
    ]
    for name, document in changed:
        yield f"changes of {name}", list(mutations(name, document)), document
    renders = dict(credentials)
    for fmt, places in (("edc", IMPLANT_EDC), ("ob3", IMPLANT_OB3)):
        name = f"render:credentials/example_input.json {fmt} uniz status"
        yield f"values at the places read in {name}", list(implants(name, renders[name], places)), renders[name]
        yield f"two faults at the places read in {name}", list(pairs(name, renders[name], places)), renders[name]
    yield "random changes", list(random_documents(changed, "change")), credentials
    yield "random documents", list(random_documents(changed, "document")), None


# -- the test ----------------------------------------------------------------------------------------------


def _dump(document: Any) -> str:
    return json.dumps(document, default=repr)


def _answers() -> dict[str, tuple[list[str], list[str], bool]]:
    """Per group: its case names, their answers (JSON text), and whether what they read was left unchanged."""
    out = {}
    for group, cases, kept in groups():
        names, texts = [], []
        before = _dump(kept) if kept is not None else None
        unchanged = True
        for name, document in cases:
            own = _dump(document) if kept is None else None
            texts.append(_text(observe(document)))
            names.append(name)
            unchanged = unchanged and (own is None or _dump(document) == own)
        unchanged = unchanged and (before is None or _dump(kept) == before)
        assert len(set(names)) == len(names), f"two cases of one name in {group}"
        out[group] = (names, texts, unchanged)
    return out


def _golden(answers: dict[str, tuple[list[str], list[str], bool]]) -> dict[str, Any]:
    """Distinct answers by digest; in full for the credentials themselves, by digest alone for their variants."""
    digests: list[str] = []
    index: dict[str, int] = {}
    shown: dict[str, Any] = {}
    out_groups = {}
    for group, (names, texts, unchanged) in answers.items():
        picks = []
        for text in texts:
            digest = _digest(text)
            if digest not in index:
                index[digest] = len(digests)
                digests.append(digest)
            if group in FULL:
                shown[digest] = json.loads(text)
            picks.append(index[digest])
        out_groups[group] = {"cases": len(names), "names": _digest("\n".join(names)), "unchanged": unchanged, "answers": picks}
    return {"digests": digests, "groups": out_groups, "answers": shown}


FULL = ("credentials", "edge cases")


def test_reader_answers_as_recorded():
    answers = _answers()
    now = _golden(answers)
    if os.environ.get("MICROCRED_WRITE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(now, ensure_ascii=False, separators=(",", ":"), allow_nan=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert all(_digest(_text(o)) == d for d, o in golden["answers"].items())  # the file is what it says
    assert list(now["groups"]) == list(golden["groups"])
    differ = []
    for group, (names, texts, unchanged) in answers.items():
        recorded = golden["groups"][group]
        assert (len(names), _digest("\n".join(names)), unchanged) == (recorded["cases"], recorded["names"], recorded["unchanged"]), group
        for name, text, pick in zip(names, texts, recorded["answers"], strict=True):
            if _digest(text) != golden["digests"][pick]:
                was = golden["answers"].get(golden["digests"][pick], golden["digests"][pick])
                differ.append((group, name, was, json.loads(text)))
    assert not differ, f"{len(differ)} cases answer differently; the first (group, case, recorded, now): {differ[:2]}"
