"""The base URL every did:web and status list URL derives from (app/settings.py ``base_url``).

Production refuses to start, or to create a provider, with an http or loopback base URL: its credentials would
name a host no one else can resolve. Development derives the default from ``host`` and ``port``, so two local
instances on two ports mint two different DIDs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT
from tests.live_process import LiveService, free_port


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(
        PYTHONPATH=str(ROOT),
        MICROCRED_DATABASE_URL=f"sqlite:///{tmp_path / 'base-url.db'}",
        MICROCRED_KEYS_DIR=str(tmp_path / "keys"),
        MICROCRED_DEMO_PROVIDER="false",
        **extra,
    )
    return env


def _cli(env, *argv, timeout=120):
    return subprocess.run([sys.executable, "-m", "app", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


_BAD = ["http://credentials.example.edu", "https://127.0.0.1:8443", "https://localhost", "https://[::1]:8443", "https://0.0.0.0"]


@pytest.mark.parametrize("base_url", [None, *_BAD])
def test_production_refuses_to_serve_with_a_development_base_url(tmp_path, base_url):
    env = _env(tmp_path, MICROCRED_ENVIRONMENT="production", **({"MICROCRED_BASE_URL": base_url} if base_url else {}))
    done = _cli(env, "serve", "--host", "127.0.0.1", "--port", str(free_port()), timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one clear line, no traceback
    assert "MICROCRED_BASE_URL" in lines[0] and "production" in lines[0]
    assert not (tmp_path / "base-url.db").exists()  # refused before touching the database


@pytest.mark.parametrize("base_url", [None, *_BAD])
def test_production_refuses_to_create_a_provider_with_a_development_base_url(tmp_path, base_url):
    env = _env(tmp_path, MICROCRED_ENVIRONMENT="production", **({"MICROCRED_BASE_URL": base_url} if base_url else {}))
    done = _cli(env, "provider", "create", "--slug", "uniz", "--name", "University of Zed", "--country", "IE", "--json")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "MICROCRED_BASE_URL" in lines[0], done.stderr
    assert "did:web" not in done.stdout
    # Nothing was created.
    listed = _cli(_env(tmp_path), "provider", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_production_with_a_public_https_base_url_creates_its_did_there(tmp_path):
    env = _env(tmp_path, MICROCRED_ENVIRONMENT="production", MICROCRED_BASE_URL="https://credentials.example.edu")
    done = _cli(env, "provider", "create", "--slug", "uniz", "--name", "University of Zed", "--country", "IE", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["did"].startswith("did:web:credentials.example.edu:")


def test_development_base_url_follows_the_port(tmp_path):
    """Two instances on two ports: each provider's did:web and each credential's status list URL name its own port."""
    seen = []
    for n in range(2):
        workdir = tmp_path / f"instance{n}"
        workdir.mkdir()
        service = LiveService(workdir, env={"MICROCRED_RATE_LIMIT_ENABLED": "false"})
        for key in [k for k in service.env if k in ("MICROCRED_BASE_URL", "MICROCRED_PORT", "MICROCRED_HOST", "MICROCRED_ENVIRONMENT")]:
            del service.env[key]
        with service:
            # The CLI with MICROCRED_PORT alone (no base URL), as a developer running a second instance does.
            created = _cli(
                {**service.env, "MICROCRED_PORT": str(service.port)},
                "provider",
                "create",
                "--slug",
                "uniz",
                "--name",
                "University of Zed",
                "--country",
                "IE",
                "--json",
            )
            assert created.returncode == 0, created.stderr
            made = json.loads(created.stdout.strip().splitlines()[-1])
            assert made["did"].startswith(f"did:web:127.0.0.1%3A{service.port}:"), made["did"]
            example = json.loads((ROOT / "app" / "credentials" / "example_input.json").read_text())
            issued = httpx.post(
                f"{service.url}/microcredentials",
                headers={"Authorization": f"Bearer {made['api_key']}"},
                json={"format": "ob3", "proof": "eddsa-jcs-2022", "microcredential": example},
                timeout=60,
            )
            assert issued.status_code == 201, issued.text
            # What the serving worker derived from `serve --port`:
            status = issued.json()["credentialStatus"]  # one entry (an OB3 carries revocation only) or several
            lists = {e["statusListCredential"] for e in (status if isinstance(status, list) else [status])}
            assert all(url.startswith(f"{service.url}/status/") for url in lists), lists
            seen.append(made["did"])
    assert seen[0] != seen[1]
