"""Open Badges 3.0 rendering: 1EdTech JSON schema, every term defined, EU elements as alignments."""

from __future__ import annotations

import copy
import hashlib
import json

import jsonschema
import pytest

from app.credentials import render_ob3, validate_input
from app.jsonld import to_quads
from tests.conftest import ROOT
from tests.credentials.conftest import NOW, STATUS_ENTRY


@pytest.fixture(scope="module")
def ob3_validator():
    schema = json.loads((ROOT / "contexts" / "ob_v3p0_achievementcredential_schema.json").read_text())
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(validator, doc) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)]


def test_example_validates_against_the_1edtech_schema(ob3, ob3_validator):
    # The schema does not require `proof`, but where present it must be an array: we validate the
    # unsigned credential as rendered, and a copy with a dummy DataIntegrityProof array, as it will be signed.
    assert schema_errors(ob3_validator, ob3) == []
    signed_shape = copy.deepcopy(ob3)
    signed_shape["proof"] = [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-07-01T09:30:00Z",
            "proofPurpose": "assertionMethod",
            "verificationMethod": "did:web:x#key-1",
            "proofValue": "z3FXQ",
        }
    ]
    assert schema_errors(ob3_validator, signed_shape) == []
    signed_shape["proof"] = signed_shape["proof"][0]
    assert schema_errors(ob3_validator, signed_shape)  # a bare proof object is refused: the check has teeth


def test_every_term_is_defined_by_the_contexts(ob3, loader):
    quads = to_quads(ob3, loader)  # DataLossError on any undefined term
    objects = {q[2] for q in quads}
    assert any(o.startswith('"http://data.europa.eu/snb/eqf/6"') for o in objects)  # targetUrl is an anyURI literal
    assert "<https://www.w3.org/ns/credentials/status#BitstringStatusListEntry>" in objects


def test_contexts_and_server_owned_fields(ob3, issuer):
    assert ob3["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert ob3["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert ob3["validFrom"] == "2026-07-01T09:30:00Z" and ob3["awardedDate"] == "2026-06-30T10:00:00Z"
    assert ob3["issuer"]["id"] == issuer.id
    assert ob3["issuer"]["address"]["addressCountryCode"] == "IE"
    assert {"type": "IdentifierEntry", "identifier": "VATIE-1234567X", "identifierType": "ext:eIDASIdentifier"} in ob3["issuer"]["otherIdentifier"]
    assert ob3["credentialStatus"] == STATUS_ENTRY


def test_eu_elements_align_to_the_same_concepts_as_edc(ob3, edc):
    ach = ob3["credentialSubject"]["achievement"]
    by_type = {}
    for a in ach["alignment"]:
        by_type.setdefault(a["targetType"], []).append(a["targetUrl"])
    q = edc["credentialSubject"]["hasClaim"]["specifiedBy"]
    proven = edc["credentialSubject"]["hasClaim"]["provenBy"]
    assert by_type["ext:EQFLevel"] == [q["eqfLevel"]["id"]]
    assert by_type["ext:ISCEDF"] == [c["id"] for c in q["thematicArea"]]
    assert by_type["ext:AssessmentType"] == [proven["specifiedBy"]["dcType"]["id"]]
    assert by_type["ext:FormOfParticipation"] == [q["mode"]["id"]]
    assert by_type["ext:SupervisionVerification"] == [proven["idVerification"]["id"]]
    assert by_type["ext:CreditSystem"] == [q["creditPoint"]["framework"]["id"]]
    assert by_type["ext:ESCOSkill"] == [s["id"] for lo in q["learningOutcome"] for s in lo["relatedESCOSkill"]]
    assert by_type["ext:StackableTowards"] == ["https://uniz.example.edu/programmes/cert-digital-ed"]
    qa = next(a for a in ach["alignment"] if a["targetType"] == "ext:QualityAssurance")
    assert qa["targetCode"] == "bb4618238e" and "Quality and Qualifications Ireland (IE)" in qa["targetDescription"]
    assert ach["achievementType"] == "MicroCredential"
    assert ach["creditsAvailable"] == 2.0 and ob3["credentialSubject"]["creditsEarned"] == 2.0
    assert "- Developing digital content" in ach["criteria"]["narrative"]
    assert ach["creator"]["address"] == {
        "type": ["Address"],
        "addressCountry": "Ireland",
        "addressCountryCode": "IE",
        "addressRegion": "IRL_CTH_DUB",
        "streetAddress": "Instant Street 16, D08 Dublin",
    }


def test_learner_identity_objects(ob3):
    ids = {i["identityType"]: i for i in ob3["credentialSubject"]["identifier"]}
    assert ids["name"] == {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": "Ana Andromeda"}
    email = ids["emailAddress"]
    assert email["hashed"] is True
    assert email["identityHash"] == "sha256$" + hashlib.sha256(("ana.andromeda@example.org" + email["salt"]).encode()).hexdigest()
    assert "LA-234218" not in json.dumps(ob3)  # national id only hashed


def test_grade_as_result(ob3):
    cs = ob3["credentialSubject"]
    rd = cs["achievement"]["resultDescription"][0]
    assert rd["resultType"] == "Status"
    assert cs["result"] == [{"type": ["Result"], "resultDescription": rd["id"], "value": "Pass", "status": "Completed"}]


def test_achievement_id_is_stable_per_offering(example, issuer, ob3):
    other_learner = copy.deepcopy(example)
    other_learner["learner"] = {"givenName": {"en": "Bo"}, "familyName": {"en": "Bell"}, "email": "bo@example.org"}
    second = render_ob3(validate_input(other_learner, now=NOW), issuer=issuer, credential_id="urn:uuid:x", issued=NOW)
    assert second["credentialSubject"]["achievement"]["id"] == ob3["credentialSubject"]["achievement"]["id"]
    assert "id" not in second["credentialSubject"]  # no learner id: identified by identity objects only
    changed = copy.deepcopy(example)
    changed["workload"]["ects"] = 3
    third = render_ob3(validate_input(changed, now=NOW), issuer=issuer, credential_id="urn:uuid:y", issued=NOW)
    assert third["credentialSubject"]["achievement"]["id"] != ob3["credentialSubject"]["achievement"]["id"]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(learner={"givenName": {"en": "Bo"}, "familyName": {"en": "Bell"}, "email": "bo@example.org"}),
        lambda r: r.update(externalId="MC-other", awardedAt="2026-06-29T10:00:00Z"),
        lambda r: r["assessment"].update(date="2026-06-01T10:00:00Z"),
        lambda r: r["assessment"].setdefault("grade", {}).update(value="B", status="pass"),
        lambda r: r["participation"].update(startDate="2026-05-01T07:00:00Z", endDate="2026-06-01T15:00:00Z"),
        lambda r: r["workload"].update(ects=3),
        lambda r: r["title"].update(en="Another title"),
        lambda r: r["learningOutcomes"].pop(),
        lambda r: r["assessment"].setdefault("grade", {}).update(scheme={"title": {"en": "A-F"}}),
        lambda r: r["awardingBodies"][0].update(legalName={"en": "Zed University"}),
    ],
)
def test_kept_achievement_id_is_the_computed_one(example, issuer, change):
    """The kept id (per issuer and offering) is the one computed from the specification, for a change of a learner's
    field (same id) and of the offering's (another id); an issuer of another id gets another id."""
    from app.credentials.open_badges import _achievement_id, achievement_id
    from app.credentials.profile import IssuerProfile

    base = validate_input(example, now=NOW)
    achievement_id(base, issuer)  # kept
    changed = copy.deepcopy(example)
    change(changed)
    record = validate_input(changed, now=NOW)
    for _ in range(2):
        assert achievement_id(record, issuer) == _achievement_id(record, issuer)
    other = IssuerProfile(id="did:web:other.example.edu", legal_name={"en": "Other"}, country="IE")
    assert achievement_id(record, other) == _achievement_id(record, other) != achievement_id(record, issuer)


def test_minimal_record_validates(example, issuer, ob3_validator, loader):
    example["workload"] = {"hours": 40}
    example["level"] = {"notApplicable": True}
    example["assessment"] = {"type": "quiz"}
    example["participation"] = {"mode": "online"}
    for field in ("description", "stackability", "prerequisites", "furtherInformation"):
        del example[field]
    doc = render_ob3(validate_input(example, now=NOW), issuer=issuer, credential_id="urn:uuid:z", issued=NOW)
    assert doc["credentialSubject"]["achievement"]["description"] == "Digital micro-credential creation"
    assert "creditsAvailable" not in doc["credentialSubject"]["achievement"]
    assert schema_errors(ob3_validator, doc) == []
    to_quads(doc, loader)
