"""The OpenAPI 3.1 document: what FastAPI generates, corrected to say what the service really answers.

``install(app)`` wraps ``app.openapi()`` so the document (served at ``/openapi.json`` and exported to
``openapi/``) carries:

* the ``Problem`` schema (RFC 9457, ``app/api/problems.py``) and the ``bearerAuth`` HTTP bearer security
  scheme (RFC 6750; the provider API key) as components;
* FastAPI's default ``422`` (``HTTPValidationError``, ``application/json``) replaced by the
  ``application/problem+json`` body the validation handler really sends; the unused default schemas removed;
* ``429`` on every operation the rate limiter covers (``app/ratelimit.py``) and ``401`` on every operation
  that requires ``bearerAuth``, since those answers come from middleware and dependencies the route
  never declares itself.

The document must not depend on settings or environment: the committed copy in ``openapi/`` is checked
against the code (``microcred openapi --check``, ``tests/contract/test_openapi.py``).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.security import HTTPBearer

from app.api.problems import PROBLEM, PROBLEM_REF, PROBLEM_SCHEMA, problem_responses
from app.observability import OPERATIONAL_PATHS

BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "provider API key"}
#: A dependency for routes taking the provider API key; it also makes FastAPI list ``bearerAuth`` as the
#: operation's security requirement. ``auto_error=False``: the route (or an auth dependency) answers 401 as problem+json.
bearer_auth = HTTPBearer(scheme_name="bearerAuth", description="provider API key", auto_error=False)

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


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = patch_document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# Export and drift check (``microcred openapi [--check]``)


def render(doc: dict) -> dict[str, str]:
    """File name → text: sorted keys so the files are stable and merge-friendly; a final newline."""
    import yaml

    return {
        "openapi.json": json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "openapi.yaml": yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, default_flow_style=False, width=120),
    }


def current_document() -> dict:
    from app.main import create_app

    return create_app().openapi()


def export(out_dir: Path, doc: dict | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(doc or current_document()).items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    return written


def drift(out_dir: Path, doc: dict | None = None, max_lines: int = 40) -> list[str]:
    """A summary per file that differs from what the code generates (empty: all in step)."""
    report = []
    for name, want in render(doc or current_document()).items():
        path = out_dir / name
        have = path.read_text(encoding="utf-8") if path.exists() else None
        if have == want:
            continue
        if have is None:
            report.append(f"{path}: missing")
            continue
        diff = list(difflib.unified_diff(have.splitlines(), want.splitlines(), f"{path} (committed)", f"{path} (from the code)", lineterm=""))
        added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        shown = diff[:max_lines] + ([f"… {len(diff) - max_lines} more diff lines"] if len(diff) > max_lines else [])
        report.append(f"{path}: differs (+{added} -{removed} lines)\n" + "\n".join(shown))
    return report
