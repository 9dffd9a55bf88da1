"""The API is versioned: info.version follows the package, and a change that breaks a client of the last
released document (openapi/released/<version>.json) fails here unless the major version changed."""

from __future__ import annotations

import copy
import json
import tomllib

import pytest

from app import __version__
from app.cli import openapi_document
from tests.conftest import ROOT
from tests.contract.openapi_compat import breaking, major

RELEASED = ROOT / "openapi" / "released"


def _version_key(path):
    return tuple(int(p) for p in path.stem.split("."))


@pytest.fixture(scope="module")
def doc():
    return openapi_document()


@pytest.fixture(scope="module")
def released():
    copies = sorted(RELEASED.glob("*.json"), key=_version_key)
    assert copies, "openapi/released/ holds no released document"
    return json.loads(copies[-1].read_text())


def test_info_version_follows_the_package(doc):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert doc["info"]["version"] == __version__ == pyproject["project"]["version"]


def test_no_breaking_change_since_the_last_release(doc, released):
    if major(doc["info"]["version"]) > major(released["info"]["version"]):
        return  # a new major version may break clients; its document becomes the next released copy
    problems = breaking(released, doc)
    assert not problems, "breaking changes without a major version bump:\n" + "\n".join(problems)


def _first(doc, path, method):
    return doc["paths"][path][method]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["paths"].pop("/credentials"), "GET /credentials: operation removed"),
        (lambda d: d["components"]["schemas"]["Learner"]["properties"].pop("email"), "Learner: property email removed"),
        (lambda d: d["components"]["schemas"]["BatchJob"]["properties"]["progress"].update(type="integer"), "BatchJob.progress: type narrowed"),
        (
            lambda d: d["components"]["schemas"]["IssueMicroCredential"]["properties"]["format"]["enum"].remove("edc"),
            "IssueMicroCredential.format: enum values removed: ['edc']",
        ),
        (lambda d: d["components"]["schemas"]["Learner"]["required"].append("email"), "Learner: newly required ['email']"),
        (lambda d: d["components"]["schemas"].pop("Offer"), "components/schemas/Offer: removed"),
    ],
)
def test_the_comparison_catches_each_kind_of_break(doc, mutate, expected):
    new = copy.deepcopy(doc)
    mutate(new)
    found = breaking(doc, new)
    assert any(line.startswith(expected) for line in found), found
    assert not breaking(doc, copy.deepcopy(doc))


def test_additions_are_not_breaks(doc):
    new = copy.deepcopy(doc)
    new["components"]["schemas"]["Learner"]["properties"]["nickname"] = {"type": "string"}
    new["components"]["schemas"]["IssueMicroCredential"]["properties"]["format"]["enum"].append("clr")
    new["paths"]["/new"] = {"get": {"responses": {"200": {"description": "OK"}}}}
    assert not breaking(doc, new)
