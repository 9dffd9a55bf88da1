"""Property-based contract test: the live service, fuzzed from its own ``/openapi.json``, never answers
5xx and every answer conforms to the document (status code declared, content type declared, body
valid against its schema, required headers present).

Schemathesis 4 (Python API, ``schemathesis.pytest.from_fixture``) generates valid and invalid
requests for every operation in the document, so routers added later are covered without changing
this file. Examples are bounded (positive and negative data) per operation to keep the run near a minute.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.live_process import LiveService

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("schemathesis")
    # The limiter stays on (its code is exercised) but is set high enough not to refuse the fuzzer.
    env = {"MICROCRED_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000", "MICROCRED_RATE_LIMIT_PER_KEY_PER_MINUTE": "1000000"}
    with LiveService(workdir, env=env) as svc:
        yield svc


@pytest.fixture(scope="module")
def api_schema(service):
    return schemathesis.openapi.from_url(service.url + "/openapi.json")


def _fuzz(operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        # schemathesis' default checks (not_a_server_error, status code / content type / body schema / header
        # conformance, negative data rejected, …) but positive_data_acceptance: the document describes bodies
        # only as far as their shape (an EU record is validated by the domain against code lists, an opaque
        # page cursor by the store), so a schema-valid request can rightly be refused with a documented 4xx.
        case.call_and_validate(timeout=10, excluded_checks=[positive_data_acceptance])

    run()


def test_api_conforms_to_its_document(api_schema):
    # Each operation and generation mode gets its own Hypothesis run; failures are gathered so one report
    # names every operation at fault. (schemathesis.pytest.from_fixture, the lazy loader, does not run under
    # pytest 9: it reads the removed ``Item._nodeid``.)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations, "the document has no operations"
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode)
            except Unsatisfiable:
                # Nothing to make invalid: an operation without parameters or body has no negative data.
                assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be generated"
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)


def test_log_lines_are_json_and_carry_no_query_strings(service, api_schema):
    """Runs after the fuzzing (same module): every stderr line the service wrote is one JSON object."""
    lines = [line for line in service.stderr().split("\n") if line.strip()]  # not splitlines(): U+2028, \x85… are inside lines
    assert lines, "the service logged nothing"
    for line in lines:
        record = json.loads(line)
        assert {"timestamp", "level", "logger", "message"} <= record.keys()
        if record["logger"] == "microcred.access":
            assert "?" not in record["path"] and "?" not in record["message"]
