"""The independent verifiers (tests/interop/harness.mjs over Digital Bazaar's, the DCC's and jose's libraries,
installed by ``npm ci --prefix tests/interop``) and two issuers of the live service: one did:web, one did:key."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, ROOT

INTEROP = ROOT / "tests" / "interop"
HARNESS = INTEROP / "harness.mjs"
INSTALL = "npm ci --prefix tests/interop --ignore-scripts --no-audit --no-fund"


def _need_node() -> None:
    why = None
    if shutil.which("node") is None:
        why = "node (>= 20) is not on PATH"
    elif not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        why = f"tests/interop/node_modules is missing: run `{INSTALL}` from the repository root"
    if why:
        if IN_CI:
            pytest.fail(f"the independent verifiers are required under CI: {why}")
        pytest.skip(why)


class Independent:
    """Runs the Node harness; every call is one process (the libraries keep no state between calls)."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def _run(self, mode: str, request: dict) -> dict:
        body = json.dumps({"baseUrl": self.base_url, "contextsDir": str(ROOT / "contexts"), **request})
        # a generous deadline only against a hang: a run takes about a second
        done = subprocess.run(["node", str(HARNESS), mode], input=body, capture_output=True, text=True, timeout=180, cwd=INTEROP)
        assert done.returncode == 0, f"harness failed ({done.returncode}): {done.stderr[-3000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    def verify(self, credential) -> dict:
        return self._run("verify", {"credential": credential})

    def verify_presentation(self, presentation: dict, challenge: str | None = None, domain: str | None = None) -> dict:
        return self._run("verify", {"presentation": presentation, "challenge": challenge, "domain": domain})

    def sign(self, credential: dict, seed: bytes) -> dict:
        return self._run("sign", {"credential": credential, "seed": seed.hex()})


@pytest.fixture
def independent(live) -> Independent:
    _need_node()
    return Independent(live.url)


@pytest.fixture
def issuers(live):
    """{"web": client, "key": client}: an HTTP client with the API key of a did:web and of a did:key provider."""
    clients = {}
    for method in ("web", "key"):
        _, key = live.app.state.issuance.providers.create(
            slug=f"interop-{method}", name=f"Interop {method}", country="IE", homepage="https://interop.example.edu", did_method=method
        )
        clients[method] = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    yield clients
    for c in clients.values():
        c.close()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    _need_node()
    return INTEROP / "node_modules"


@pytest.fixture(scope="session")
def edc_shapes():
    """The EDC generic-full shapes together with the edc-generic-no-cv shapes they ``owl:import`` (pyshacl does not
    follow the import: the structural rules, credentialStatus ``sh:maxCount 1`` among them, are in the imported file)."""
    import rdflib

    shapes = rdflib.Graph()
    for name in ("EDC-generic-full.ttl", "EDC-generic-no-cv.ttl"):
        shapes.parse(ROOT / "contexts" / "shacl" / name)
    return shapes
