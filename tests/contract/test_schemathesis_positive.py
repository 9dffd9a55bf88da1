"""schemathesis against the live service with a provider's API key: positive data is accepted, and the
stateful links the document declares (issue → get → revoke → verify) are followed.

Positive data: a request valid against the document is answered 2xx, or with a documented 4xx problem whose
reason the schema cannot express. Those reasons are listed in ``EXCEPTIONS`` (operation, status, code → why);
anything else fails. The document says every shape, length and code list it can; what it cannot say is the
domain's cross-field rules, the contents of stores and opaque values.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import ROOT
from tests.live_process import LiveService

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_EXAMPLES = 15
_RECORD_RULES = (
    "the EU record's cross-field rules (each language map holds primaryLanguage, dates in the past and in order, ECTS a multiple "
    "of 0.5 in 1–59, level rules) and code-list membership of large vocabularies (languages, countries, ISCED-F, NQF)"
)
_NOT_A_CREDENTIAL = "schema-valid JSON that is not a credential (the document cannot describe a signed credential's validity)"

#: (method path, status, problem code or "report") → why a schema-valid request may be refused.
EXCEPTIONS: dict[tuple[str, int, str], str] = {
    ("POST /microcredentials", 422, "MALFORMED_VALUE_ERROR"): _RECORD_RULES,
    ("POST /microcredentials", 404, "NOT_FOUND"): "a specificationId that does not exist",
    ("POST /microcredentials", 400, "MALFORMED_VALUE_ERROR"): "a body with neither microcredential nor specificationId with issuance (the "
    "schema's description says so; an anyOf of required members would leave generated clients untyped)",
    ("POST /microcredentials/batch", 422, "MALFORMED_VALUE_ERROR"): _RECORD_RULES + "; a CSV batch needs ?specificationId",
    ("POST /microcredentials/batch", 404, "NOT_FOUND"): "a specificationId that does not exist",
    ("POST /microcredentials/batch", 400, "MALFORMED_VALUE_ERROR"): "records that match neither a full record nor an issuance, or a "
    "specificationId given with full records",
    ("POST /microcredentials/batch", 400, "PARSING_ERROR"): "a text/csv body that is not CSV of the documented columns",
    ("POST /specifications", 422, "MALFORMED_VALUE_ERROR"): _RECORD_RULES,
    ("POST /stacks/evaluate", 400, "MALFORMED_VALUE_ERROR"): "a body with neither presentation nor credentials, or a presentation that is "
    "not one (the schema's descriptions say so; an anyOf of required members would leave generated clients untyped)",
    ("POST /stacks/evaluate", 404, "NOT_FOUND"): "a specificationId that does not exist",
    ("POST /stacks/evaluate", 422, "NOT_A_COMPOSITE"): "a specification that declares no components",
    ("POST /workflows/{workflow_id}/exchanges", 422, "MALFORMED_VALUE_ERROR"): _RECORD_RULES,
    ("POST /workflows/{workflow_id}/exchanges", 404, "NOT_FOUND"): "a workflow other than ob3_ldp_vc and edc_ldp_vc, or a specificationId that does not exist",
    ("POST /workflows/{workflow_id}/exchanges", 400, "MALFORMED_VALUE_ERROR"): "a body with neither microcredential nor specificationId with "
    "issuance, as for POST /microcredentials",
    ("POST /presentation-requests", 400, "MALFORMED_VALUE_ERROR"): "cross-field rules: dcql_query or claims, not both; a redirect_uri that is "
    "a page of this service; DCQL's own rules (OpenID4VP 1.0 §6: unique ids, credential sets naming known queries, claim paths)",
    ("POST /presentation-requests/{request_id}/response", 400, "PARSING_ERROR"): "a form with a parameter given twice (OpenID4VP 1.0 §8.2: "
    "each response parameter once), which a form schema cannot forbid",
    ("POST /credentials/issue", 422, "MALFORMED_VALUE_ERROR"): "a VC API credential missing what the issuer sets or needs (issuer, @context, type)",
    ("POST /credentials/issue", 400, "PARSING_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /credentials/issue", 400, "MALFORMED_VALUE_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /credentials/status", 404, "NOT_FOUND"): "a credentialId the provider never issued",
    ("POST /credentials/verify", 400, "PARSING_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /credentials/verify", 400, "MALFORMED_VALUE_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /credentials/verify", 422, "report"): _NOT_A_CREDENTIAL + ": a report with verified false",
    ("POST /presentations/verify", 400, "PARSING_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /presentations/verify", 400, "MALFORMED_VALUE_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /presentations/verify", 422, "report"): _NOT_A_CREDENTIAL + ": a report with verified false",
    ("POST /presentations/verify", 400, "CHALLENGE_REQUIRED"): "a challenge that POST /challenges did not hand out",
    ("POST /verify/upload", 415, "UNSUPPORTED_FILE_TYPE"): "the uploaded file's name must end in .json, .jsonld, .jwt, .txt or .pdf",
    ("POST /verify/upload", 400, "PARSING_ERROR"): _NOT_A_CREDENTIAL,
    ("POST /verify/upload", 422, "report"): _NOT_A_CREDENTIAL + ": a report with verified false",
    ("POST /microcredentials/offers", 422, "MALFORMED_VALUE_ERROR"): _RECORD_RULES,
    ("POST /microcredentials/offers", 400, "MALFORMED_VALUE_ERROR"): "a body with neither microcredential nor specificationId with issuance",
    # OAuth error objects (RFC 6749 §5.2), not problem+json: no problem code
    ("POST /issuers/{slug}/token", 400, "?"): "a pre-authorized code (and tx_code) that only an offer hands out: invalid_grant",
    ("POST /issuers/{slug}/credential", 401, "?"): "an access token that only the token endpoint hands out: invalid_token",
}
#: Any operation with a path parameter or a page cursor: the document cannot list which ids or cursors exist.
GENERIC = {
    (404, "NOT_FOUND"): "an id that does not exist",
    (404, "OFFER_INVALID"): "an offer that does not exist",
    (400, "INVALID_CURSOR"): "an opaque page cursor the service did not hand out",
    (400, "NUMBER_OUT_OF_RANGE"): "I-JSON (RFC 7493 §2.2): a number beyond ±(2**53 − 1) anywhere in a free-form object (a credential, options)",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("schemathesis-positive")
    env = {"MICROCRED_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000", "MICROCRED_RATE_LIMIT_PER_KEY_PER_MINUTE": "1000000"}
    with LiveService(workdir, env=env) as svc:
        made = subprocess.run(
            [sys.executable, "-m", "app", "provider", "create", "--slug", "fuzz", "--name", "Fuzz University", "--country", "IE", "--json"],
            cwd=ROOT,
            env=svc.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        svc.api_key = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
        yield svc


@pytest.fixture(scope="module")
def api_schema(service):
    return schemathesis.openapi.from_url(service.url + "/openapi.json")


def _code(response) -> str:
    if response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        return response.json().get("code", "?")
    try:
        body = response.json()
    except ValueError:
        return "?"
    return "report" if isinstance(body, dict) and "verdict" in body else "?"


def _positive(operation, auth: dict, seen: set[tuple[int, str]]):
    """A Hypothesis test of ``operation`` with positive data; the (status, code) of each non-2xx answer goes to ``seen``."""

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call_and_validate(headers=auth, timeout=30, excluded_checks=[positive_data_acceptance])
        if not 200 <= response.status_code < 300:
            seen.add((response.status_code, _code(response)))

    return run


def test_positive_data_is_accepted(service, api_schema):
    auth = {"Authorization": f"Bearer {service.api_key}"}
    refused: dict[str, set[tuple[int, str]]] = {}
    failures = []
    for operation in [result.ok() for result in api_schema.get_all_operations()]:
        label = f"{operation.method.upper()} {operation.path}"
        seen: set[tuple[int, str]] = set()
        run = _positive(operation, auth, seen)
        try:
            run()
        except Unsatisfiable:
            failures.append(f"{label}: no valid request can be generated")
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{label}: {exc}")
        unexplained = {s for s in seen if (label, *s) not in EXCEPTIONS and s not in GENERIC}
        if unexplained:
            refused[label] = unexplained
    assert not failures, "\n\n".join(failures)
    assert not refused, "schema-valid requests refused for a reason EXCEPTIONS does not list:\n" + "\n".join(
        f"{label}: {sorted(s)}" for label, s in sorted(refused.items())
    )


def test_stateful_links_issue_get_revoke_verify(service, api_schema):
    auth = {"Authorization": f"Bearer {service.api_key}"}
    example = json.loads((ROOT / "app" / "credentials" / "example_input.json").read_text())
    issued = httpx.post(service.url + "/microcredentials", json={"microcredential": example}, headers=auth, timeout=60)
    assert issued.status_code == 201, issued.text
    base = api_schema.as_state_machine()
    steps: list[tuple[str, int]] = []

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": auth, "timeout": 30}

        def after_call(self, response, case):
            super().after_call(response, case)
            steps.append((f"{case.operation.method.upper()} {case.operation.path}", response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Every default check but positive_data_acceptance, which test_positive_data_is_accepted runs with its
            # exceptions, and negative_data_rejection: get_call_kwargs puts the provider's key on every call, so a
            # generated "missing Authorization" case is never sent as one and its 200 is no acceptance of bad data
            # (negative data is test_schemathesis.py's, where a missing key is itself the refusal).
            excluded = [positive_data_acceptance, negative_data_rejection]
            case.validate_response(response, additional_checks=additional_checks, excluded_checks=excluded, transport_kwargs=kwargs)

    run_state_machine_as_test(
        Machine, settings=settings(max_examples=25, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    )
    print(sorted(set(steps)))
