"""Operator mistakes stop `serve` with one line, and `/ready` tells them after the start (issue 13).

Before: the service started and reported ready with a key file that held another key's secret (it then issued
credentials that did not verify), with a missing, truncated or empty key file, or an edited context file, and
every issuance failed with 400 KEY_NOT_FOUND, blaming the client and showing the server's absolute path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live_process import ROOT, LiveService, free_port

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "keys").mkdir(exist_ok=True)
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MICROCRED_DATABASE_URL": f"sqlite:///{tmp_path / 'microcred.db'}",
        "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
        "MICROCRED_DEMO_PROVIDER": "false",
        **extra,
    }


def _provider(env: dict[str, str], slug: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "app", "provider", "create", "--slug", slug, "--name", slug.title(), "--country", "IE", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _key_file(tmp_path: Path, slug: str, *, p256: bool = False) -> Path:
    """The provider's Ed25519 key file, or (``p256``) the P-256 one it signs SD-JWT VCs with."""
    return next(f for f in (tmp_path / "keys").glob(f"{slug}-*.json") if f.name.startswith(f"{slug}-p256-") == p256)


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--workers", "1"]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def _swap(tmp_path: Path) -> None:
    """The key file of one provider holds another provider's secret (a restore gone wrong)."""
    shutil.copy(_key_file(tmp_path, "other"), _key_file(tmp_path, "uniz"))
    os.chmod(_key_file(tmp_path, "uniz"), 0o600)


MISTAKES = {
    "another key's secret": (_swap, "holds another key than the one"),
    "a missing key file": (lambda t: _key_file(t, "uniz").unlink(), "is missing"),
    "an empty key file": (lambda t: _key_file(t, "uniz").write_text(""), "cannot be read"),
    "a truncated key file": (lambda t: _key_file(t, "uniz").write_text(_key_file(t, "uniz").read_text()[:40]), "cannot be read"),
    "a key file readable by others": (lambda t: os.chmod(_key_file(t, "uniz"), 0o644), "readable by other users"),
    "another P-256 key's secret": (lambda t: shutil.copy(_key_file(t, "other", p256=True), _key_file(t, "uniz", p256=True)), "holds another key than the one"),
    "a missing P-256 key file": (lambda t: _key_file(t, "uniz", p256=True).unlink(), "is missing"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_serve_refuses_to_start_with_a_key_that_cannot_sign(tmp_path, mistake):
    env = _env(tmp_path)
    _provider(env, "uniz")
    _provider(env, "other")
    damage, said = MISTAKES[mistake]
    damage(tmp_path)
    done = _serve(env)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("microcred: cannot start:")]
    assert len(lines) == 1 and "provider uniz" in lines[0] and said in lines[0], done.stderr
    assert "Traceback" not in done.stderr and str(tmp_path) not in lines[0]


def test_serve_refuses_an_edited_context_and_a_bad_trust_registry_in_one_line_each(tmp_path):
    contexts = tmp_path / "contexts"
    shutil.copytree(ROOT / "contexts", contexts)
    manifest = json.loads((contexts / "manifest.json").read_text())
    edited = contexts / next(iter(manifest.values()))["file"]
    edited.write_bytes(edited.read_bytes().replace(b"{", b"{ ", 1))
    registry = tmp_path / "registry.json"
    registry.write_text('{"issuers": ')
    env = _env(tmp_path, MICROCRED_CONTEXTS_DIR=str(contexts), MICROCRED_TRUST_REGISTRY_FILE=str(registry))
    done = _serve(env)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("microcred: cannot start:")]
    assert len(lines) == 2 and "Traceback" not in done.stderr, done.stderr
    assert "does not match its digest" in lines[0] and "trust registry" in lines[1]


def test_ready_says_not_ready_when_a_key_file_goes_and_issuance_is_a_503_naming_no_path(tmp_path, example_input):
    env = _env(tmp_path)
    key = _provider(env, "uniz")["api_key"]
    with LiveService(tmp_path, env={k: env[k] for k in ("MICROCRED_DATABASE_URL", "MICROCRED_KEYS_DIR")}) as svc:
        assert httpx.get(f"{svc.url}/ready", timeout=30).status_code == 200
        _key_file(tmp_path, "uniz").unlink()
        r = httpx.get(f"{svc.url}/ready", timeout=30)
        assert r.status_code == 503 and {"pointer": "/checks/signing_keys", "detail": "KeyUnavailable"} in r.json()["errors"], r.text
        body = {"format": "ob3", "microcredential": example_input}
        issued = httpx.post(f"{svc.url}/microcredentials", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        # The provider's signer was loaded before? Not in this process: the first issuance reads the (missing) file.
        assert issued.status_code == 503, issued.text
        problem = issued.json()
        assert problem["code"] == "KEY_NOT_FOUND" and str(tmp_path) not in issued.text
