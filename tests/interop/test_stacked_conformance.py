"""A composite micro-credential (issue 17) in its three renderings, over components from a did:web and a did:key
provider of the live service, judged by the field's yardsticks: Digital Bazaar's and the DCC's verifiers
(tests/interop/harness.mjs), the Europass EDC shapes, the 1EdTech Open Badges 3.0 schema and 1EdTech's CLR 2.0
ClrCredential schema (contexts/clr_v2p0_clrcredential_schema.json)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from app.credentials import specification_of
from tests.conftest import ROOT
from tests.credentials.conftest import shacl
from tests.interop.test_independent_verifiers import DB_EDC_STATUS, DCC_EDC_NO_VERDICT
from tests.interop.test_issued_conformance import _unsecured

LEARNER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _spec(client, example_input, title: str, ects: float, composite: dict | None = None) -> str:
    spec = specification_of(example_input)
    spec["title"] = {"en": title}
    spec["workload"] = {"ects": ects, "creditSystem": "ECTS"}
    if composite:
        spec["composite"] = composite
    r = client.post("/specifications", json={"specification": spec, "published": True})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _issuance(example_input) -> dict:
    return {"learner": dict(example_input["learner"], id=LEARNER), "awardedAt": example_input["awardedAt"], "assessment": {"grade": {"value": "Pass"}}}


@pytest.fixture
def composite(issuers, example_input):
    """fmt -> the composite issued in it, over an OB3 component of the did:web provider and an EDC one of the did:key."""
    web, key = issuers["web"], issuers["key"]
    a = _spec(web, example_input, "Module A", 2)
    b = _spec(key, example_input, "Module B", 3)
    stack = _spec(web, example_input, "Stacked certificate", 5, {"components": [{"specification": a}, {"specification": b}], "minEcts": 5})
    parts = []
    for client, spec_id, fmt in ((web, a, "ob3"), (key, b, "edc")):
        r = client.post("/microcredentials", json={"format": fmt, "specificationId": spec_id, "issuance": _issuance(example_input)})
        assert r.status_code == 201, r.text
        parts.append(r.json())

    def issue(fmt: str) -> dict:
        r = web.post("/microcredentials", json={"format": fmt, "specificationId": stack, "issuance": _issuance(example_input), "credentials": parts})
        assert r.status_code == 201, r.text
        return r.json()

    return issue


@pytest.mark.parametrize("fmt", ["ob3", "edc", "clr"])
def test_composite_verifies_in_microcred_and_the_independent_verifiers(issuers, independent, composite, fmt):
    credential = composite(fmt)
    report = issuers["web"].post("/credentials/verify", json={"verifiableCredential": credential}).json()
    assert report["verified"], report
    verdict = independent.verify(credential)
    db, dcc = verdict["digitalbazaar"], verdict["dcc"]
    assert db["proof"]["verified"], db
    if fmt == "edc":  # the EDC status entry's type array, as for every EDC (test_independent_verifiers.py)
        assert not db["verified"] and db["statusError"] == f"Error: {DB_EDC_STATUS}", db
        assert {k: dcc.get(k) for k in DCC_EDC_NO_VERDICT} == DCC_EDC_NO_VERDICT, dcc
    else:
        assert db["verified"] and db["statusVerified"], db
        assert dcc["verified"] and dcc["signature"] is True, dcc


def test_composite_edc_conforms_to_the_edc_shapes(composite, loader, edc_shapes):
    credential = composite("edc")
    conforms, report = shacl(_unsecured(credential), loader, edc_shapes)
    assert conforms, report[:5000]
    assert len(credential["credentialSubject"]["hasClaim"]["hasPart"]) == 2


def test_composite_ob3_passes_the_1edtech_schema(composite):
    schema = json.loads((ROOT / "contexts" / "ob_v3p0_achievementcredential_schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())
    credential = composite("ob3")
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(credential)] == []
    assert len(credential["relatedResource"]) == 2


def test_composite_clr_passes_the_clr_schema(composite):
    schema = json.loads((ROOT / "contexts" / "clr_v2p0_clrcredential_schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())
    credential = composite("clr")
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(credential)] == []
    # and the schema has teeth: without its ClrSubject.verifiableCredential it fails
    subject = dict(credential["credentialSubject"])
    del subject["verifiableCredential"]
    assert list(validator.iter_errors(dict(credential, credentialSubject=subject)))
