"""A TypeScript client type-checks against the contract: openapi-typescript generates the types from
openapi/openapi.json and ``tsc --noEmit`` accepts tests/contract/ts/client.ts, a small script using them
(and refuses it once the document stops saying what the script relies on).

The tools are pinned in tests/contract/ts/package.json (and its package-lock.json), installed by
``npm ci --prefix tests/contract/ts`` (.ci/run). Under CI=true a missing install fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TS = ROOT / "tests" / "contract" / "ts"
BIN = TS / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def tools():
    missing = [name for name in ("openapi-typescript", "tsc") if not (BIN / name).exists()] + ([] if shutil.which("node") else ["node"])
    if missing:
        message = f"{', '.join(missing)} missing: run `npm ci --prefix tests/contract/ts`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return BIN


def _check(tools, tmp_path, document: dict) -> subprocess.CompletedProcess:
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    # --default-non-nullable false: a property with a default (``identifiers: []``) is optional to send; the
    # tool's default would type it as required in request bodies too.
    gen = subprocess.run(
        [str(tools / "openapi-typescript"), str(tmp_path / "openapi.json"), "-o", str(tmp_path / "schema.d.ts"), "--default-non-nullable", "false"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gen.returncode == 0, gen.stdout + gen.stderr
    shutil.copy(TS / "client.ts", tmp_path / "client.ts")
    (tmp_path / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "ES2022",
                    "module": "ES2022",
                    "moduleResolution": "bundler",
                    "lib": ["ES2022", "DOM"],
                    "skipLibCheck": True,
                },
                "files": ["client.ts"],
            }
        )
    )
    return subprocess.run([str(tools / "tsc"), "--noEmit", "-p", str(tmp_path / "tsconfig.json")], capture_output=True, text=True, timeout=180)


def test_typescript_client_type_checks_against_the_document(tools, tmp_path):
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    out = _check(tools, tmp_path, document)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_type_check_has_teeth(tools, tmp_path):
    # The same script against a document whose record no longer lists "online" as a mode of participation.
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    mode = document["components"]["schemas"]["Participation"]["properties"]["mode"]
    mode["enum"] = [m for m in mode["enum"] if m != "online"]
    out = _check(tools, tmp_path, document)
    assert out.returncode != 0 and "online" in out.stdout, out.stdout + out.stderr
