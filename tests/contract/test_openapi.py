"""The OpenAPI document: committed copy in step with the code, valid OpenAPI 3.1, and truthful about
the answers FastAPI's defaults misdescribe (422 validation errors, 429, 401)."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
import schemathesis
from fastapi import Body, Depends
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from pydantic import BaseModel, Field

from app.api.deps import bearer_auth
from app.api.problems import PROBLEM_SCHEMA, problem_responses
from app.cli import openapi_document as current_document
from app.cli import openapi_drift as drift
from app.cli import openapi_files as render
from app.main import create_app
from tests.conftest import ROOT

OUT = ROOT / "openapi"


def test_committed_document_matches_the_code():
    report = drift(OUT)
    assert not report, "run `microcred openapi` and commit openapi/:\n" + "\n".join(report)


def test_document_is_valid_openapi_3_1():
    doc = current_document()
    assert doc["openapi"].startswith("3.1.")
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert json.loads((OUT / "openapi.json").read_text()) == doc


def test_components_problem_and_bearer_auth():
    components = current_document()["components"]
    assert components["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer", "description": "provider API key"}
    assert components["schemas"]["Problem"] == PROBLEM_SCHEMA
    assert "HTTPValidationError" not in components["schemas"]


def test_check_exits_1_with_a_diff_summary_when_files_drift(tmp_path):
    for name, text in render(current_document()).items():
        (tmp_path / name).write_text(text)
    ok = subprocess.run([sys.executable, "-m", "app", "openapi", "--check", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads((tmp_path / "openapi.json").read_text())
    doc["info"]["title"] = "changed"
    (tmp_path / "openapi.json").write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    (tmp_path / "openapi.yaml").unlink()
    out = subprocess.run([sys.executable, "-m", "app", "openapi", "--check", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1
    assert "openapi.json: differs (+1 -1 lines)" in out.stderr and '+    "title": "microcred"' in out.stderr
    assert "openapi.yaml: missing" in out.stderr


def test_export_writes_both_files_with_a_final_newline(tmp_path):
    out = subprocess.run([sys.executable, "-m", "app", "openapi", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for name in ("openapi.json", "openapi.yaml"):
        text = (tmp_path / name).read_text()
        assert text.endswith("\n") and not text.endswith("\n\n")
    assert (tmp_path / "openapi.json").read_text() == (OUT / "openapi.json").read_text()


# -- the corrections, on an app with the kinds of routes other routers add


class Thing(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    ects: int = Field(ge=1, le=59)


def _app_with_routes():
    app = create_app()

    @app.post("/things", status_code=201, responses=problem_responses(400))
    def make(thing: Thing = Body(...)) -> Thing:
        return thing

    @app.get("/private", dependencies=[Depends(bearer_auth)])
    def private() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def test_validation_errors_are_documented_as_they_are_sent():
    app = _app_with_routes()
    doc = app.openapi()
    validate(doc, cls=OpenAPIV31SpecValidator)
    responses = doc["paths"]["/things"]["post"]["responses"]
    problem_ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert responses["422"]["content"] == problem_ref
    assert responses["400"]["content"] == problem_ref and responses["400"]["description"] == "Bad Request"
    assert responses["429"]["content"] == problem_ref
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(doc["components"]["schemas"])
    # Operational routes are never rate limited, so they do not declare 429.
    assert "429" not in doc["paths"]["/health"]["get"]["responses"]
    private = doc["paths"]["/private"]["get"]
    assert private["security"] == [{"bearerAuth": []}] and private["responses"]["401"]["content"] == problem_ref
    # And what the app really answers matches the declared schema.
    r = TestClient(app).post("/things", json={"name": "", "ects": 99})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    jsonschema.validate(r.json(), PROBLEM_SCHEMA)
    assert {e["pointer"] for e in r.json()["errors"]} == {"/name", "/ects"}


@pytest.mark.slow
def test_schemathesis_accepts_validation_problems_of_a_body_route():
    """Fuzzing a route with a body (valid and invalid bodies) finds nothing the document does not declare."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app_with_routes())
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path == "/things")
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate()

        run()
