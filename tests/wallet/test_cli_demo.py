"""``microcred demo issue --email``: one step from the demo provider to a claim link the wallet accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from tests import live_server
from tests.conftest import ROOT
from tests.wallet.conftest import Learner


def test_demo_issue_prints_a_claim_link_that_the_wallet_accepts(database_url, tmp_path):
    from app.store import upgrade

    upgrade(database_url)
    server = live_server.start(database_url, tmp_path, status_cache_seconds=0)
    try:
        env = {
            **os.environ,
            "MICROCRED_DATABASE_URL": database_url,
            "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
            "MICROCRED_BASE_URL": server.url,
            "MICROCRED_ENVIRONMENT": "development",
        }
        out = subprocess.run(
            [sys.executable, "-m", "app", "demo", "issue", "--email", "learner@example.org", "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["offerUrl"].startswith(f"{server.url}/wallet/claim/") and result["wallet"] == f"{server.url}/wallet"
        learner = Learner(server, "learner@example.org")
        assert "Waiting for you" in learner.http.get("/wallet").text
        path = result["offerUrl"].removeprefix(server.url)
        page = learner.http.get(path)
        r = learner.post("/wallet/claim", {"link": path.rsplit("/", 1)[-1]})
        assert page.status_code == 200 and r.status_code == 303
        cards = server.app.state.wallet.cards(learner.learner())
        assert [c.state for c in cards] == ["valid"], [c.reason for c in cards]
        learner.close()
        assert httpx.get(result["offerUrl"]).status_code in (303, 307)  # used: sign-in first, then 404
    finally:
        server.stop()


def test_serve_prints_the_wallet_url(database_url, tmp_path):
    port = live_server.free_port()
    env = {
        **os.environ,
        "MICROCRED_DATABASE_URL": database_url,
        "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
        "MICROCRED_BASE_URL": f"http://127.0.0.1:{port}",
        "MICROCRED_DEMO_PROVIDER": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "wallet:" in line or len(lines) > 50:
                break
        assert f"microcred: wallet: http://127.0.0.1:{port}/wallet\n" in lines, lines
    finally:
        proc.terminate()
        proc.wait(20)
