"""components/schemas say what the live service really takes and answers (issue 12).

The schemas are generated from the models the code validates with (``app/api/contract.py``); these tests hold
them to the service: real answers of the live service, over HTTP with default settings, validate against the
schema their operation declares, and the schema of the EU record is the validating model's.
"""

from __future__ import annotations

import copy

import httpx
import pytest
from jsonschema import Draft202012Validator

from app.api.contract import REPORT_EXAMPLES, example_input
from app.api.problems import problem_codes
from app.cli import openapi_document
from app.credentials.model import MicroCredentialInput, MicroCredentialSpecification


@pytest.fixture(scope="module")
def doc():
    return openapi_document()


def _validator(doc: dict, name: str) -> Draft202012Validator:
    # The document is the root, so "#/components/schemas/…" references resolve inside it.
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def _errors(doc: dict, name: str, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(doc, name).iter_errors(instance)]


def _answer_schema(doc: dict, path: str, method: str, status: str, media: str = "application/json") -> str:
    schema = doc["paths"][path][method]["responses"][status]["content"][media]["schema"]
    return schema["$ref"].rsplit("/", 1)[1]


def test_components_before_and_after(doc):
    # Before issue 12 the document had two component schemas (Problem, Readiness) and an untyped record.
    schemas = doc["components"]["schemas"]
    assert len(schemas) >= 40
    for name in (
        "MicroCredentialInput",
        "MicroCredentialSpecification",
        "MicroCredentialIssuance",
        "IssueMicroCredential",
        "VerificationReport",
        "CheckResult",
        "BatchJob",
        "BatchItems",
        "CatalogueEntry",
        "StatusChange",
        "StatusAnswer",
        "Offer",
        "Problem",
    ):
        assert name in schemas, name


def test_record_schema_is_the_validating_models(doc):
    schemas = doc["components"]["schemas"]
    for model in (MicroCredentialInput, MicroCredentialSpecification):
        schema = schemas[model.__name__]
        assert set(schema["properties"]) == set(model.model_fields)
        assert set(schema["required"]) == {n for n, f in model.model_fields.items() if f.is_required()}
        assert schema["additionalProperties"] is False
    record = schemas["MicroCredentialInput"]["properties"]
    # Each Annex I element is named where it lives.
    assert record["learner"]["description"].startswith("Annex I element 1. identification of the learner")
    assert record["qualityAssurance"]["description"].startswith("Annex I element 11.")
    assert "3. country or region" in schemas["AwardingBody"]["properties"]["country"]["description"]
    # Small closed code lists are enums, large vocabularies are named.
    assert "oral" in str(schemas["AssessmentSpecification"]["properties"]["type"]) or schemas["AssessmentSpecification"]["properties"]["type"].get("enum")
    assert "isced-f" in str(schemas["MicroCredentialInput"]["properties"]["fieldsOfEducation"])
    assert '"format": "uri"' in str(schemas["LearningOutcome"]).replace("'", '"')
    # The EU example validates against the schema and against the model.
    assert not _errors(doc, "MicroCredentialInput", example_input())
    MicroCredentialInput.model_validate(example_input())


def test_every_example_validates(doc):
    for name, example in REPORT_EXAMPLES.items():
        assert not _errors(doc, "VerificationReport", example["value"]), name
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                ref = content["schema"].get("$ref")
                if not ref or media != "application/json":
                    continue
                for example in [content.get("example")] + [e["value"] for e in content.get("examples", {}).values()]:
                    if example is not None:
                        assert not _errors(doc, ref.rsplit("/", 1)[1], example), f"{method} {path}"


def test_problem_codes_are_listed(doc):
    codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["examples"]
    assert codes == problem_codes()
    for code in (
        "VALIDATION_ERROR",
        "PARSING_ERROR",
        "TOO_LARGE",
        "NOT_FOUND",
        "UNAUTHORIZED",
        "RATE_LIMITED",
        "REVOCATION_IS_FINAL",
        "IDEMPOTENCY_KEY_REUSED",
    ):
        assert code in codes


def test_links_issue_get_revoke_verify(doc):
    links = doc["paths"]["/microcredentials"]["post"]["responses"]["201"]["links"]
    ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert {link["operationId"] for link in links.values()} == {"get_credential", "update_status", "verify_credential"} <= ids


def test_live_answers_validate_against_their_schemas(doc, live, provider):
    example = example_input()
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as c:
        issued = c.post("/microcredentials", json={"microcredential": example})
        assert issued.status_code == 201, issued.text
        credential = issued.json()
        listed = c.get("/credentials")
        assert listed.status_code == 200 and not _errors(doc, _answer_schema(doc, "/credentials", "get", "200"), listed.json())
        assert any(item["id"] == credential["id"] for item in listed.json()["items"])

        valid = c.post("/credentials/verify", json={"verifiableCredential": credential})
        assert valid.status_code == 200, valid.text
        assert not _errors(doc, _answer_schema(doc, "/credentials/verify", "post", "200"), valid.json())

        changed = c.post("/credentials/status", json={"credentialId": credential["id"], "status": "revoked"})
        assert changed.status_code == 200 and not _errors(doc, _answer_schema(doc, "/credentials/status", "post", "200"), changed.json())

        revoked = c.post("/credentials/verify", json={"verifiableCredential": credential})
        assert revoked.status_code == 422 and revoked.json()["verdict"] == "not valid"
        assert not _errors(doc, _answer_schema(doc, "/credentials/verify", "post", "422"), revoked.json())
        tampered = copy.deepcopy(credential)
        tampered["validFrom"] = "2020-01-01T00:00:00Z"
        broken = c.post("/credentials/verify", json={"verifiableCredential": tampered})
        assert broken.status_code == 422 and not _errors(doc, "VerificationReport", broken.json())

        problem = c.post("/microcredentials", json={"microcredential": {"title": {}}})
        assert problem.status_code == 422 and problem.headers["content-type"] == "application/problem+json"
        assert not _errors(doc, "Problem", problem.json()) and problem.json()["code"] in problem_codes()

        spec = {
            k: v for k, v in example.items() if k not in ("learner", "awardedAt", "externalId", "validUntil", "furtherInformation", "links", "displayImages")
        }
        spec["assessment"] = {k: v for k, v in spec["assessment"].items() if k not in ("date", "grade")}
        spec["participation"] = {k: v for k, v in spec["participation"].items() if k not in ("startDate", "endDate")}
        created = c.post("/specifications", json={"specification": spec, "published": True})
        assert created.status_code == 201, created.text
        assert not _errors(doc, _answer_schema(doc, "/specifications", "post", "201"), created.json())
        public = httpx.get(f"{live.url}/catalogue", timeout=30)
        assert public.status_code == 200 and public.json()["items"]
        assert not _errors(doc, _answer_schema(doc, "/catalogue", "get", "200"), public.json())

        job = c.post("/microcredentials/batch", json={"records": [example, {"title": {}}]})
        assert job.status_code == 202, job.text
        assert not _errors(doc, _answer_schema(doc, "/microcredentials/batch", "post", "202"), job.json())
        items = None
        for _ in range(600):  # the job runs in the background; bounded wait (a hang, not a timing, is caught)
            progress = c.get(f"/microcredentials/batch/{job.json()['id']}").json()
            if progress["done"] == progress["total"]:
                items = c.get(f"/microcredentials/batch/{job.json()['id']}/items")
                break
            import time

            time.sleep(0.1)
        assert items is not None and items.status_code == 200
        assert not _errors(doc, _answer_schema(doc, "/microcredentials/batch/{job_id}/items", "get", "200"), items.json())
        assert {i["status"] for i in items.json()["items"]} == {"issued", "invalid"}

        other = c.post("/microcredentials", json={"microcredential": example}).json()
        offer = c.post(f"/credentials/{other['id']}/offer")
        offer_schema = _answer_schema(doc, "/credentials/{credential_id}/offer", "post", "201")
        assert offer.status_code == 201 and not _errors(doc, offer_schema, offer.json())


def test_a_huge_ects_value_is_a_problem_not_a_500(live, provider):
    """Found by schemathesis on the typed schema: ``workload.ects`` 1e308 doubled to infinity and int() raised."""
    spec = {
        k: v
        for k, v in example_input().items()
        if k not in ("learner", "awardedAt", "externalId", "validUntil", "furtherInformation", "links", "displayImages")
    }
    spec["assessment"] = {k: v for k, v in spec["assessment"].items() if k not in ("date", "grade")}
    spec["participation"] = {k: v for k, v in spec["participation"].items() if k not in ("startDate", "endDate")}
    spec["workload"] = {**spec["workload"], "ects": 1e308}
    r = httpx.post(f"{live.url}/specifications", json={"specification": spec}, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=30)
    assert r.status_code == 422 and r.json()["code"] == "MALFORMED_VALUE_ERROR", r.text
    assert "/workload/ects" in [e["pointer"] for e in r.json()["errors"]]


def _resolve(expression, body):
    """An OpenAPI runtime expression (``$response.body`` or ``$response.body#/pointer``) against a JSON body."""
    if isinstance(expression, dict):
        return {k: _resolve(v, body) for k, v in expression.items()}
    if not isinstance(expression, str) or not expression.startswith("$response.body"):
        return expression
    value = body
    pointer = expression[len("$response.body") :].lstrip("#")
    for part in [p for p in pointer.split("/") if p]:
        value = value[part.replace("~1", "/").replace("~0", "~")]
    return value


def test_the_documents_links_lead_from_issue_to_get_revoke_verify(doc, live, provider):
    """Follow the links the document declares, as a client reading only the document would."""
    by_id = {op["operationId"]: (path, method) for path, item in doc["paths"].items() for method, op in item.items()}
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as c:

        def follow(link, body):
            path, method = by_id[link["operationId"]]
            for name, expression in link.get("parameters", {}).items():
                path = path.replace("{" + name + "}", str(_resolve(expression, body)))
            payload = _resolve(link["requestBody"], body) if "requestBody" in link else None
            return c.request(method.upper(), path, json=payload)

        issued = c.post("/microcredentials", json={"microcredential": example_input()})
        assert issued.status_code == 201
        links = doc["paths"]["/microcredentials"]["post"]["responses"]["201"]["links"]
        got = follow(links["GetCredential"], issued.json())
        assert got.status_code == 200 and got.json() == issued.json()
        assert follow(links["VerifyCredential"], issued.json()).status_code == 200
        revoked = follow(links["RevokeCredential"], issued.json())
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        again = doc["paths"]["/credentials/{credential_id}"]["get"]["responses"]["200"]["links"]["VerifyCredential"]
        report = follow(again, got.json())
        assert report.status_code == 422 and report.json()["verdict"] == "not valid"


def test_credentials_did_documents_status_lists_and_dry_runs_validate_against_their_schemas(doc, live, provider):
    """The answers that are not JSON objects of our own making: the signed credential in both renderings and
    proofs, the VC API's issue answer, a did:web document, a status list credential, a dry run."""
    example = example_input()
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as c:
        for fmt in ("ob3", "edc"):
            for proof in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
                issued = c.post("/microcredentials", json={"format": fmt, "proof": proof, "microcredential": example})
                assert issued.status_code == 201, issued.text
                media = issued.headers["content-type"].split(";")[0]
                assert not _errors(doc, _answer_schema(doc, "/microcredentials", "post", "201", media), issued.json())
                stored = c.get(f"/credentials/{issued.json()['id']}")
                assert not _errors(doc, _answer_schema(doc, "/credentials/{credential_id}", "get", "200", media), stored.json())
        jwt = c.post("/microcredentials", json={"proof": "vc+jwt", "microcredential": example})
        schema = doc["paths"]["/microcredentials"]["post"]["responses"]["201"]["content"]["application/vc+jwt"]["schema"]
        assert jwt.headers["content-type"].startswith("application/vc+jwt") and not list(Draft202012Validator(schema).iter_errors(jwt.text))
        dry = c.post("/microcredentials?dryRun=true", json={"microcredential": example})
        assert dry.status_code == 200 and not _errors(doc, _answer_schema(doc, "/microcredentials", "post", "200"), dry.json())
        for options in ({}, {"proofFormat": "vc+jwt"}):
            body = {
                "credential": {
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiableCredential"],
                    "credentialSubject": {"id": "did:example:learner"},
                },
                "options": options,
            }
            vc = c.post("/credentials/issue", json=body)
            assert vc.status_code == 201 and not _errors(doc, _answer_schema(doc, "/credentials/issue", "post", "201"), vc.json()), vc.text
        did = httpx.get(f"{live.url}/issuers/{provider[0].slug}/did.json", timeout=30)
        assert not _errors(doc, _answer_schema(doc, "/issuers/{slug}/did.json", "get", "200", "application/did+ld+json"), did.json())
        status_url = issued.json()["credentialStatus"]["statusListCredential"]
        listed = httpx.get(status_url, timeout=30)
        assert not _errors(doc, _answer_schema(doc, "/status/{list_id}", "get", "200", "application/vc+ld+json"), listed.json())
