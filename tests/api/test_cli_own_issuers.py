"""`microcred verify` sees the service's own issuers as the HTTP verifier does (Issuance.attach_own_data): a credential
the local service issued (did:web on 127.0.0.1) verifies and its issuer is trusted, from the same settings and
database, without any network."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def _cli(live, *args, stdin: bytes):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(
        MICROCRED_DATABASE_URL=live.settings.database_url,
        MICROCRED_KEYS_DIR=str(live.settings.keys_dir),
        MICROCRED_BASE_URL=live.url,
        MICROCRED_ENVIRONMENT="test",
        MICROCRED_DEMO_PROVIDER="false",
    )
    return subprocess.run([sys.executable, "-m", "app", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=120, env=env)


def test_cli_verify_agrees_with_the_http_verifier(live, client, example_input):
    issued = client.post("/microcredentials", json={"format": "ob3", "microcredential": example_input})
    assert issued.status_code == 201, issued.text
    http = client.post("/credentials/verify", json={"verifiableCredential": issued.json()}).json()
    assert http["verified"] is True
    out = _cli(live, "verify", stdin=issued.content)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    report = json.loads(out.stdout)
    assert report["verified"] is True
    checks = {c["id"]: c["outcome"] for c in report["checks"]}
    assert checks == {c["id"]: c["outcome"] for c in http["checks"]}, (checks, http["checks"])
    assert checks["issuer_binding"] == "passed" and checks["status"] == "passed"
    # and a revocation made through the API is seen by the command line at once
    client.post("/credentials/status", json={"credentialId": issued.json()["id"], "status": "revoked"})
    out = _cli(live, "verify", stdin=issued.content)
    assert out.returncode == 1 and b"revoked" in out.stdout
