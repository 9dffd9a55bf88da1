"""Europass EDC rendering: SHACL conformance (EDC-generic-full + the shapes it imports), no data loss."""

from __future__ import annotations

import base64
import copy
import json
import zlib

import pytest

from app.credentials import IssuerProfile, render_edc, validate_input
from app.errors import DataLossError
from app.jsonld import to_quads
from tests.credentials.conftest import NOW, STATUS_ENTRY, shacl


def walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}/{i}")


def test_example_conforms_to_edc_shapes(edc, loader, edc_shapes):
    conforms, report = shacl(edc, loader, edc_shapes)
    assert conforms, report


def test_shapes_are_not_vacuous(edc, loader, edc_shapes):
    # the same credential without the mandatory eIDAS identifier of the sealer must fail
    broken = copy.deepcopy(edc)
    del broken["issuer"]["eIDASIdentifier"]
    conforms, report = shacl(broken, loader, edc_shapes)
    assert not conforms and "eidasLegalIdentifier" in report
    # and without the assessment's grade (LearningAssessment.grade 1..1, model doc §6.5)
    broken = copy.deepcopy(edc)
    del broken["credentialSubject"]["hasClaim"]["provenBy"]["grade"]
    assert not shacl(broken, loader, edc_shapes)[0]


def test_every_term_is_defined_by_the_contexts(edc, loader):
    quads = to_quads(edc, loader)  # raises DataLossError on any undefined term or relative IRI
    predicates = {q[1] for q in quads}
    assert "<http://data.europa.eu/snb/model/elm/EQFLevel>" in predicates
    assert "<http://data.europa.eu/snb/model/elm/accreditation>" in predicates
    assert "<https://www.w3.org/ns/credentials/status#statusListIndex>" in predicates
    leaked = copy.deepcopy(edc)
    leaked["credentialSubject"]["hasClaim"]["specifiedBy"]["ectsCredits"] = 2
    with pytest.raises(DataLossError):
        to_quads(leaked, loader)


def test_contexts_constants_and_server_owned_fields(edc, issuer):
    assert edc["@context"] == [
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
        "https://www.w3.org/ns/credentials/status/v1",
    ]
    assert edc["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert edc["credentialSchema"] == {"id": "http://data.europa.eu/snb/model/ap/edc-generic-full", "type": "ShaclValidator2017"}
    assert edc["credentialProfiles"]["id"] == "http://data.europa.eu/snb/credential/e34929035b"
    assert edc["issued"] == edc["issuanceDate"] == edc["validFrom"] == "2026-07-01T09:30:00Z"
    assert edc["issuer"]["id"] == issuer.id
    assert edc["issuer"]["eIDASIdentifier"]["notation"] == "VATIE-1234567X"
    assert edc["credentialStatus"]["type"] == ["CredentialStatus", "BitstringStatusListEntry"]
    assert edc["credentialStatus"]["statusListIndex"] == STATUS_ENTRY["statusListIndex"]
    assert edc["identifier"]["notation"] == "MC-2026-000123"


def test_annex_elements_render_as_in_the_model_doc(edc):
    cs = edc["credentialSubject"]
    claim = cs["hasClaim"]
    q = claim["specifiedBy"]
    assert cs["id"].startswith("did:key:")
    assert cs["dateOfBirth"] == "1999-10-02T00:00:00Z"
    assert cs["nationalID"]["spatial"]["id"].endswith("/country/ITA")
    assert cs["contactPoint"]["emailAddress"] == {"id": "mailto:ana.andromeda@example.org", "type": "Mailbox"}
    assert q["type"] == "Qualification"
    assert q["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"
    assert q["creditPoint"]["point"] == "2"
    assert q["creditPoint"]["framework"]["id"] == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert q["volumeOfLearning"] == "PT60H" and q["maximumDuration"] == "P1M"
    assert q["thematicArea"][0]["id"] == "http://data.europa.eu/snb/isced-f/0688"
    assert q["mode"]["id"].endswith("/e92d221e4d")
    assert q["learningSetting"]["id"].endswith("/e207a81fc7")
    assert q["dcType"]["id"].endswith("/74a4a268e8")
    assert q["isPartialQualification"] is True
    assert q["isPartOf"][0]["id"] == "https://uniz.example.edu/programmes/cert-digital-ed"
    assert q["accreditation"][0]["dcType"]["id"] == "http://data.europa.eu/snb/accreditation/bb4618238e"
    assert q["accreditation"][0]["accreditingAgent"]["location"]["address"]["countryCode"]["id"].endswith("/IRL")
    assert q["learningOutcome"][0]["relatedESCOSkill"][0]["inScheme"]["id"] == "http://data.europa.eu/esco/concept-scheme/skills"
    assert any("QF-EHEA cycle: first cycle" in n["noteLiteral"]["en"] for n in q["additionalNote"])
    assert claim["provenBy"]["specifiedBy"]["dcType"]["id"] == "http://data.europa.eu/snb/assessment/de4d165a6c"
    assert claim["provenBy"]["idVerification"]["id"].endswith("/c598449d64")
    assert claim["provenBy"]["grade"]["noteLiteral"] == {"en": "Pass"}
    assert claim["influencedBy"]["specifiedBy"]["dcType"]["id"].endswith("/bf2e3a7bae")
    assert claim["influencedBy"]["temporal"]["startDate"] == "2026-05-05T07:00:00Z"
    body = claim["awardedBy"]["awardingBody"][0]
    assert body["location"]["address"]["countryCode"]["id"].endswith("/IRL")
    assert body["location"]["spatialCode"]["id"].endswith("/atu/IRL_CTH_DUB")
    assert body["registration"]["notation"] == "0000"


def test_node_ids_are_unique_per_content(edc):
    """§6.7: an id is never used for two different contents (repeated nodes are verbatim repeats)."""
    seen: dict[str, str] = {}
    for path, node in walk(edc):
        if "id" not in node or path == "":
            continue
        content = json.dumps(node, sort_keys=True)
        assert seen.setdefault(node["id"], content) == content, f"{node['id']} reused with other content at {path}"
    urns = [n["id"] for _, n in walk(edc) if str(n.get("id", "")).startswith("urn:epass:")]
    assert urns and all(u.count(":") == 3 for u in urns)


def test_two_renderings_share_no_node_ids(record, issuer):
    a = render_edc(record, issuer=issuer, credential_id="urn:uuid:a", issued=NOW)
    b = render_edc(record, issuer=issuer, credential_id="urn:uuid:b", issued=NOW)
    ids = lambda doc: {n["id"] for _, n in walk(doc) if str(n.get("id", "")).startswith("urn:epass:")}  # noqa: E731
    assert not ids(a) & ids(b)
    assert "credentialStatus" not in a and "https://www.w3.org/ns/credentials/status/v1" not in a["@context"]


def test_generated_display_image_per_language_is_a_png(example, loader, edc_shapes):
    example["title"]["ga"] = "Cruthú micrea-dhintiúir dhigitigh"
    record = validate_input(example, now=NOW)
    issuer = IssuerProfile(id="https://uniz.example.edu/issuer", legal_name={"en": "University of Zed"}, country="IE", eidas_identifier="VATIE-1234567X")
    doc = render_edc(record, issuer=issuer, credential_id="urn:uuid:c", issued=NOW, status_entry=None)
    displays = doc["displayParameter"]["individualDisplay"]
    assert [d["language"]["id"].rsplit("/", 1)[1] for d in displays] == ["ENG", "GLE"]
    png = base64.b64decode(displays[0]["displayDetail"][0]["image"]["content"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    idat = png.index(b"IDAT")
    length = int.from_bytes(png[idat - 4 : idat], "big")
    raw = zlib.decompress(png[idat + 4 : idat + 4 + length])
    assert len(raw) == 224 * (1 + 320 * 3)  # 320×224 RGB scanlines
    conforms, report = shacl(doc, loader, edc_shapes)
    assert conforms, report


def test_provider_display_image_is_used(example):
    pixel = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 8).decode()
    example["displayImages"] = [{"language": "en", "page": 1, "mediaType": "image/png", "base64": pixel}]
    record = validate_input(example, now=NOW)
    issuer = IssuerProfile(id="did:web:x.example", legal_name={"en": "X"}, country="IE", eidas_identifier="E-1")
    doc = render_edc(record, issuer=issuer, credential_id="urn:uuid:d", issued=NOW)
    assert doc["displayParameter"]["individualDisplay"][0]["displayDetail"][0]["image"]["content"] == pixel


def test_minimal_record_conforms(example, loader, edc_shapes, issuer):
    """Only the mandatory elements (hours only, level not applicable, no optional parts)."""
    for field in (
        "externalId",
        "description",
        "learningOutcomeSummary",
        "prerequisites",
        "stackability",
        "furtherInformation",
        "fieldsOfEducation",
        "instructionLanguages",
        "learningOpportunityType",
    ):
        example.pop(field, None)
    example["learner"] = {"givenName": {"en": "Ana"}, "familyName": {"en": "Andromeda"}, "email": "ana@example.org"}
    example["workload"] = {"hours": 40}
    example["level"] = {"notApplicable": True}
    example["assessment"] = {"type": "quiz"}
    example["participation"] = {"mode": "online"}
    example["awardingBodies"] = [{"legalName": {"en": "Zed Academy"}, "country": "NL"}]
    example["qualityAssurance"] = [{"type": "programme-licence", "title": {"en": "Licence"}, "agency": {"legalName": {"en": "NVAO"}, "country": "NL"}}]
    record = validate_input(example, now=NOW)
    doc = render_edc(record, issuer=issuer, credential_id="urn:uuid:e", issued=NOW)
    assert doc["credentialSubject"]["id"].startswith("urn:epass:person:")
    conforms, report = shacl(doc, loader, edc_shapes)
    assert conforms, report
