"""Logs an operator can use (issue 13): one line per sign-in link, text on a terminal and JSON in production, and an
audit record for every security-relevant refusal, with the request id and no personal data."""

from __future__ import annotations

import io
import json
import logging
import sys

import httpx

from app.observability import JsonFormatter, log_format
from app.settings import Settings


def _audits(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "microcred.audit"]


def test_the_sign_in_link_is_written_once(tmp_path):
    """The real service, as `serve` runs it: before, the wallet logger had a handler of its own besides the
    service's root handler, and each sign-in link was written twice (once outside JSON)."""
    import re

    from tests.live_process import LiveService

    with LiveService(tmp_path, env={"MICROCRED_LOG_FORMAT": "json"}) as svc, httpx.Client(base_url=svc.url, timeout=60) as c:
        page = c.get("/wallet/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert c.post("/wallet/signin", data={"email": "ana@example.org", "csrf": csrf}).status_code in (200, 303)
    lines = [line for line in svc.stderr().splitlines() if "/wallet/signin/" in line]
    assert len(lines) == 1, lines
    assert json.loads(lines[0])["logger"] == "microcred.wallet"


def test_text_on_a_terminal_json_in_production_or_when_piped(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert log_format(Settings()) == "text"
    assert log_format(Settings(environment="production", base_url="https://issuer.example.edu")) == "json"
    assert log_format(Settings(log_format="json")) == "json"
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert log_format(Settings()) == "json"
    assert log_format(Settings(log_format="text")) == "text"


def test_a_bad_api_key_is_an_audit_record_with_the_request_id_and_no_key(live, caplog):
    caplog.set_level(logging.WARNING, logger="microcred.audit")
    r = httpx.get(f"{live.url}/credentials", headers={"Authorization": "Bearer not-a-real-key-1234", "X-Request-ID": "req-audit-1"})
    assert r.status_code == 401
    [record] = _audits(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line["audit_event"] == "refused" and line["audit_code"] == "UNAUTHORIZED" and line["audit_path"] == "/credentials"
    assert line["request_id"] == "req-audit-1"
    assert "not-a-real-key" not in json.dumps(line)


def test_a_forged_credential_and_a_refused_fetch_are_audit_records(live, provider, example_input, caplog):
    caplog.set_level(logging.WARNING, logger="microcred.audit")
    issued = httpx.post(
        f"{live.url}/microcredentials", json={"format": "ob3", "microcredential": example_input}, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60
    )
    assert issued.status_code == 201, issued.text
    forged = json.loads(issued.content)
    forged["name"] = "Doctor of Everything"
    r = httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": forged}, timeout=60)
    assert r.status_code == 422
    refused = [r for r in _audits(caplog) if getattr(r, "audit_event", "") == "credential_refused"]
    assert refused and refused[0].audit_check == "proof" and refused[0].audit_issuer == provider[0].did
    assert "Everything" not in json.dumps(json.loads(JsonFormatter().format(refused[0])))
    ssrf = dict(json.loads(issued.content), issuer="did:web:10.0.0.7")
    httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": ssrf}, timeout=60)
    # did:web on an IP address is refused by the resolver before any fetch; a status list URL on one by the fetcher.
    entry = dict(json.loads(issued.content)["credentialStatus"], statusListCredential="https://10.0.0.7/status/1")
    httpx.post(f"{live.url}/credentials/verify", json={"verifiableCredential": dict(json.loads(issued.content), credentialStatus=entry)}, timeout=60)
    assert any(getattr(r, "audit_event", "") == "fetch_refused" for r in _audits(caplog)), [vars(r) for r in _audits(caplog)]
