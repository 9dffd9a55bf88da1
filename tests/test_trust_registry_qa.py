"""The trust registry's quality-assurance facts (issue 18, "A trust registry with quality-assurance facts"): the
facts recognition centres ask about (agency, EQAR registration, DEQAR ids and reports, accreditation status and
dates) are read, checked at start-up, and shown in the report with "trusted, QA by <agency> (EQAR-registered)
until <date>", through the live service."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from app.errors import MalformedValueError
from app.settings import Settings
from app.verification.trust import TrustCheck, TrustRegistry
from tests.conftest import ROOT

QA = {
    "agency": "Quality and Qualifications Ireland (QQI)",
    "agencyEqarRegistered": True,
    "eqarAgencyId": "EQAR-01",
    "deqarInstitutionId": "DEQARINST0001",
    "deqarReports": ["1234", "5678"],
    "accreditationStatus": "accredited",
    "accreditedFrom": "2024-06-30",
    "accreditedUntil": "2031-06-29",
}


def _registry(tmp_path, did: str, **entry) -> TrustRegistry:
    path = tmp_path / "registry.json"
    body = {"legalName": "University of Zed", "country": "IE", "status": "trusted", "qualityAssurance": QA, **entry}
    path.write_text(json.dumps({"issuers": {did: body}}))
    return TrustRegistry.load(path)


def test_the_shipped_registry_reads_with_its_sample_facts():
    entry = TrustRegistry.load(Settings().trust_registry_file).lookup("did:web:university.example:issuers:x")
    assert entry is not None and entry.quality_assurance["agencyEqarRegistered"] is True and entry.identifiers


def test_trusted_with_qa_by_an_eqar_registered_agency_until_a_date_through_http(database_url, tmp_path, example_input):
    from tests import live_server

    server = live_server.start(database_url, tmp_path)
    try:
        provider, key = server.app.state.issuance.providers.create(slug="uniz", name="University of Zed", country="IE")
        identifiers = [{"scheme": "ErasmusCode", "value": "IRL ZED01"}]
        server.app.state.runtime.trust_check.registry = _registry(tmp_path, provider.did, identifiers=identifiers)  # as read at start-up
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            issued = client.post("/microcredentials", json={"microcredential": example_input}).json()
            r = client.post("/credentials/verify", json={"verifiableCredential": issued})
        assert r.status_code == 200, r.text
        trust = next(c for c in r.json()["checks"] if c["id"] == "issuer_trust")
        assert trust["outcome"] == "passed"
        assert trust["reason"] == "University of Zed (IE): trusted, QA by Quality and Qualifications Ireland (QQI) (EQAR-registered) until 2031-06-29"
        assert trust["details"]["qualityAssurance"] == QA and trust["details"]["identifiers"] == identifiers
    finally:
        server.stop()


@pytest.mark.parametrize(
    "qa,today,outcome,code,said",
    [
        ({**QA, "agencyEqarRegistered": False}, date(2026, 12, 1), "passed", None, "(not EQAR-registered) until 2031-06-29"),
        (QA, date(2031, 7, 1), "indeterminate", "ACCREDITATION_EXPIRED", "its accreditation ended on 2031-06-29"),
        (QA, date(2024, 1, 1), "indeterminate", "ACCREDITATION_NOT_YET_VALID", "its accreditation begins on 2024-06-30"),
        ({**QA, "accreditationStatus": "withdrawn"}, date(2026, 12, 1), "failed", "ACCREDITATION_NOT_HELD", "its accreditation is withdrawn"),
        ({"agency": "NVAO"}, date(2026, 12, 1), "passed", None, "University of Zed (IE): trusted, QA by NVAO"),
    ],
)
def test_accreditation_facts_decide_the_reason(tmp_path, qa, today, outcome, code, said):
    check = TrustCheck(_registry(tmp_path, "did:web:zed.example", qualityAssurance=qa), today=lambda: today)("did:web:zed.example:issuers:a")
    assert check.outcome == outcome and check.code == code and said in check.reason, check


def test_not_trusted_and_unknown_stay_as_they_were(tmp_path):
    registry = _registry(tmp_path, "did:web:zed.example", status="not-trusted")
    assert TrustCheck(registry)("did:web:zed.example").code == "ISSUER_NOT_TRUSTED"
    assert TrustCheck(registry)("did:web:other.example").code == "UNKNOWN_ISSUER"


@pytest.mark.parametrize(
    "qa,said",
    [
        ({"agencyEqarRegistered": "yes"}, "agencyEqarRegistered must be true or false"),
        ({"deqarReports": "1234"}, "deqarReports must be a list of strings"),
        ({"accreditedUntil": "29/06/2031"}, "accreditedUntil must be a date YYYY-MM-DD"),
        ({"accreditationStatus": "maybe"}, "accreditationStatus must be one of"),
        ({"agency": 7}, "agency must be a string"),
    ],
)
def test_a_malformed_fact_is_refused_at_load_with_its_name(tmp_path, qa, said):
    with pytest.raises(MalformedValueError) as caught:
        _registry(tmp_path, "did:web:zed.example", qualityAssurance=qa)
    assert said in caught.value.detail


def test_malformed_identifiers_are_refused(tmp_path):
    with pytest.raises(MalformedValueError, match="identifiers must be a list"):
        _registry(tmp_path, "did:web:zed.example", identifiers=[{"scheme": "ETER"}])


DEQAR = ROOT / "docs" / "deqar-sample"


def _import(tmp_path, registry, *extra: str):
    import subprocess
    import sys

    argv = [sys.executable, "-m", "app", "trust", "import-deqar", "--did", "did:web:rwth-aachen.example", "--registry", str(registry), "--json"]
    argv += ["--institution", str(DEQAR / "institution.json"), "--reports", str(DEQAR / "reports-institutional.json"), *extra]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_deqar_writes_an_entry_the_service_reads(tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text((ROOT / "trust" / "registry.json").read_text())
    done = _import(tmp_path, registry)
    assert done.returncode == 0, done.stderr
    loaded = TrustRegistry.load(registry)
    assert "did:web:university.example" in loaded.entries  # the other entries stay
    entry = loaded.lookup("did:web:rwth-aachen.example:issuers:x")
    assert entry.legal_name == "RWTH Aachen" and entry.country == "DE"
    assert {"scheme": "DEQAR", "value": "DEQARINST0382"} in entry.identifiers and {"scheme": "ETER", "value": "DE0069"} in entry.identifiers
    qa = entry.quality_assurance
    assert qa["agency"] == "Swiss Agency of Accreditation and Quality Assurance (AAQ)" and qa["agencyEqarRegistered"] is True
    assert (qa["deqarReports"], qa["accreditationStatus"], qa["accreditedFrom"], qa["accreditedUntil"]) == (["47914"], "accredited", "2018-09-14", "2024-09-30")
    during = TrustCheck(loaded, today=lambda: date(2020, 1, 1))("did:web:rwth-aachen.example")
    assert during.outcome == "passed" and during.reason == (
        "RWTH Aachen (DE): trusted, QA by Swiss Agency of Accreditation and Quality Assurance (AAQ) (EQAR-registered) until 2024-09-30"
    )
    after = TrustCheck(loaded, today=lambda: date(2026, 12, 1))("did:web:rwth-aachen.example")
    assert after.outcome == "indeterminate" and "its accreditation ended on 2024-09-30" in after.reason


def test_import_deqar_refuses_files_that_are_not_deqar_records_and_keeps_the_registry(tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text('{"issuers": {}}')
    wrong = tmp_path / "reports.json"
    wrong.write_text('{"results": "none"}')
    done = _import(tmp_path, registry, "--reports", str(wrong))
    assert done.returncode == 2 and "DEQAR reports must be" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert registry.read_text() == '{"issuers": {}}' and len(list(tmp_path.iterdir())) == 2  # no temporary left


EQAR = ROOT / "docs" / "eqar-sample" / "agencies.json"


def _import_eqar(registry, register=EQAR):
    import subprocess
    import sys

    argv = [sys.executable, "-m", "app", "trust", "import-eqar", str(register), "--registry", str(registry), "--json"]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_eqar_records_which_agencies_are_registered_and_until_when(tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text('{"issuers": {}}')
    assert _import(tmp_path, registry).returncode == 0
    data = json.loads(registry.read_text())
    data["issuers"]["did:web:lapsed.example"] = {"legalName": "Lapsed College", "status": "trusted", "qualityAssurance": {"agency": "EQA"}}
    data["issuers"]["did:web:unknown-qa.example"] = {"legalName": "Other College", "status": "trusted", "qualityAssurance": {"agency": "Nobody's Agency"}}
    registry.write_text(json.dumps(data))
    done = _import_eqar(registry)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["agencies"] == 2
    loaded = TrustRegistry.load(registry)
    qa = loaded.lookup("did:web:rwth-aachen.example").quality_assurance
    assert (qa["agencyEqarRegistered"], qa["eqarAgencyId"], qa["eqarRegisteredUntil"]) == (True, "3", "2029-06-30")
    check = TrustCheck(loaded, today=lambda: date(2020, 1, 1))("did:web:rwth-aachen.example")
    assert check.reason == "RWTH Aachen (DE): trusted, QA by Swiss Agency of Accreditation and Quality Assurance (AAQ) (EQAR-registered) until 2024-09-30"
    assert check.details["qualityAssurance"]["eqarRegisteredUntil"] == "2029-06-30"
    lapsed = loaded.lookup("did:web:lapsed.example").quality_assurance
    assert lapsed == {"agency": "Example Quality Agency (EQA)", "eqarAgencyId": "9001", "agencyEqarRegistered": False, "eqarRegisteredUntil": "2022-12-31"}
    assert "QA by Example Quality Agency (EQA) (not EQAR-registered)" in TrustCheck(loaded)("did:web:lapsed.example").reason
    assert loaded.lookup("did:web:unknown-qa.example").quality_assurance["agencyEqarRegistered"] is False


@pytest.mark.parametrize(
    "register,message",
    [
        ('{"results": "none"}', "EQAR register is"),
        ('[{"id": 1}]', "name_primary"),
        ('[{"id": 1, "name_primary": "X", "registration_valid_to": "soon"}]', "not a date"),
    ],
)
def test_import_eqar_refuses_what_is_not_the_register_and_keeps_the_registry(tmp_path, register, message):
    registry = tmp_path / "registry.json"
    registry.write_text('{"issuers": {}}')
    wrong = tmp_path / "agencies.json"
    wrong.write_text(register)
    done = _import_eqar(registry, wrong)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert registry.read_text() == '{"issuers": {}}'
