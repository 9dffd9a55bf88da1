"""The OpenAPI 3.1 document: what FastAPI generates, corrected to say what the service really answers.

``install(app)`` wraps ``app.openapi()`` so the document (served at ``/openapi.json`` and exported to
``openapi/``) carries:

* the ``Problem`` schema (RFC 9457, ``app/api/problems.py``) and the ``bearerAuth`` HTTP bearer security
  scheme (RFC 6750; the provider API key) as components;
* FastAPI's default ``422`` (``HTTPValidationError``, ``application/json``) replaced by the
  ``application/problem+json`` body the validation handler really sends; the unused default schemas removed;
* ``429`` on every operation the rate limiter covers (``app/api/ratelimit.py``) and ``401`` on every operation
  that requires ``bearerAuth``, since those answers come from middleware and dependencies the route
  never declares itself;
* the schemas of every body and answer, their examples and the links between operations
  (``app/api/contract.py``), and each operation's ``operationId`` as the route function's name (what a
  generated client calls its methods: ``issue_microcredential``, ``get_credential`` …).

The document must not depend on settings or environment: the committed copy in ``openapi/`` is checked
against the code (``microcred openapi --check``, exported by ``app.cli``; ``tests/contract/test_openapi.py``).
"""

from __future__ import annotations

import json
import re

from fastapi import FastAPI

from app.api import contract
from app.api.problems import PROBLEM, PROBLEM_REF, PROBLEM_SCHEMA, problem_responses
from app.observability import OPERATIONAL_PATHS

BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "provider API key"}

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _refers_to(node, name: str) -> bool:
    return f'"#/components/schemas/{name}"' in json.dumps(node)


def patch_document(doc: dict) -> dict:
    """Apply the corrections of the module docstring to a FastAPI-generated document, in place."""
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {}).setdefault("bearerAuth", {}).update(BEARER_SCHEME)
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if not operation:
                continue
            responses = operation.setdefault("responses", {})
            validation = responses.get("422")
            if validation and _refers_to(validation.get("content", {}), "HTTPValidationError"):
                responses["422"] = {
                    "description": "Request does not match the schema (code VALIDATION_ERROR)",
                    "content": {PROBLEM: {"schema": dict(PROBLEM_REF)}},
                }
            if path not in OPERATIONAL_PATHS:
                responses.setdefault("429", problem_responses(429, descriptions={429: "Rate limit exceeded; see Retry-After"})[429])
            if any("bearerAuth" in requirement for requirement in operation.get("security", [])):
                responses.setdefault("401", problem_responses(401, descriptions={401: "Missing or invalid API key"})[401])
    schemas = components["schemas"]
    for name in _FASTAPI_VALIDATION_SCHEMAS:  # HTTPValidationError first: it is what refers to ValidationError
        if name in schemas:
            others = {k: v for k, v in schemas.items() if k != name}
            if not _refers_to({**doc, "components": {**components, "schemas": others}}, name):
                del schemas[name]
    return doc


def _route_name(operation_id: str, path: str, method: str) -> str:
    """The route function's name out of FastAPI's default operationId (``{name}{path with _}_{method}``)."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    return operation_id[: -len(suffix)] if operation_id.endswith(suffix) and len(operation_id) > len(suffix) else operation_id


def short_operation_ids(doc: dict) -> dict:
    """Each operationId becomes its route function's name, as long as the names stay unique."""
    operations = [(path, method, op) for path, item in doc.get("paths", {}).items() for method, op in item.items() if method in _METHODS]
    names = [_route_name(op.get("operationId", ""), path, method) for path, method, op in operations]
    if len(set(names)) == len(names):
        for (_, _, op), name in zip(operations, names, strict=True):
            op["operationId"] = name
    return doc


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = contract.apply(short_operation_ids(patch_document(generate())))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
