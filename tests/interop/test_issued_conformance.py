"""The field's own yardsticks on what the live service issues (``POST /microcredentials``, default settings):
the Europass EDC shapes (EDC-generic-full.ttl together with the EDC-generic-no-cv.ttl it ``owl:import``s) on
every EDC, the 1EdTech Open Badges 3.0 JSON schema on every OB3, for every proof and both DID methods."""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest

from app.proofs.vc_jose import JWT_CLAIMS
from tests.conftest import ROOT
from tests.credentials.conftest import shacl

PROOFS = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt")


def _credential(response) -> dict:
    """The credential as issued: the JSON body, the payload of a vc+jwt (VC-JOSE-COSE §3.1.1), or the vc claim of
    a VC 1.1 JWT (an EDC, VC DM 1.1 §6.3.1, application/jwt)."""
    if response.headers["content-type"].startswith(("application/vc+jwt", "application/jwt")):
        part = response.text.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        if "vc" in payload:
            return payload["vc"]
        # the registered JWT claims (RFC 7519 §4.1) are the JWT's, not terms of the credential
        return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    return response.json()


def _issue(client, example_input, fmt: str, proof: str) -> dict:
    r = client.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example_input})
    assert r.status_code == 201, r.text
    return _credential(r)


def _unsecured(credential: dict) -> dict:
    # The shapes are about the credential; an embedded proof is a separate named graph (VC 2.0 §4.12,
    # Data Integrity §2.1) that they do not cover, and data_graph() keeps the default graph only.
    return {k: v for k, v in credential.items() if k != "proof"}


@pytest.fixture(scope="module")
def ob3_validator():
    schema = json.loads((ROOT / "contexts" / "ob_v3p0_achievementcredential_schema.json").read_text())
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("method", ("web", "key"))
@pytest.mark.parametrize("proof", PROOFS)
def test_issued_edc_conforms_to_the_edc_shapes(issuers, example_input, loader, edc_shapes, proof, method):
    credential = _issue(issuers[method], example_input, "edc", proof)
    conforms, report = shacl(_unsecured(credential), loader, edc_shapes)
    assert conforms, report[:5000]
    # one status entry (sh:maxCount 1), of class elm:CredentialStatus, still a Bitstring Status List entry
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict) and entry["type"] == ["CredentialStatus", "BitstringStatusListEntry"]
    assert entry["statusPurpose"] == "revocation"


@pytest.mark.parametrize("method", ("web", "key"))
@pytest.mark.parametrize("proof", PROOFS)
def test_issued_ob3_passes_the_1edtech_schema(issuers, example_input, ob3_validator, proof, method):
    credential = _issue(issuers[method], example_input, "ob3", proof)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in ob3_validator.iter_errors(credential)]
    assert errors == []
    assert isinstance(credential["credentialStatus"], dict)  # OB 3.0 §B.1.2: CredentialStatus [0..1]
    if proof != "vc+jwt":
        # OB 3.0 §B.1.2: Proof [0..*], an array in the 1EdTech schema
        assert isinstance(credential["proof"], list) and credential["proof"][0]["cryptosuite"] == proof


def test_the_shapes_and_the_schema_have_teeth(issuers, example_input, loader, edc_shapes, ob3_validator):
    """What the service emitted before this change fails them: two status entries in an EDC, a status array and a
    bare proof object in an OB3."""
    edc = _unsecured(_issue(issuers["web"], example_input, "edc", "eddsa-rdfc-2022"))
    second = dict(edc["credentialStatus"], id=edc["credentialStatus"]["id"] + "-2", statusPurpose="suspension")
    conforms, report = shacl(dict(edc, credentialStatus=[edc["credentialStatus"], second]), loader, edc_shapes)
    assert not conforms and "credentialStatus" in report
    plain = dict(edc["credentialStatus"], type="BitstringStatusListEntry")
    conforms, report = shacl(dict(edc, credentialStatus=plain), loader, edc_shapes)
    assert not conforms and "CredentialStatus" in report  # the plain type fails sh:class elm:CredentialStatus
    ob3 = _issue(issuers["web"], example_input, "ob3", "eddsa-rdfc-2022")
    assert list(ob3_validator.iter_errors(dict(ob3, credentialStatus=[ob3["credentialStatus"]])))
    assert list(ob3_validator.iter_errors(dict(ob3, proof=ob3["proof"][0])))
