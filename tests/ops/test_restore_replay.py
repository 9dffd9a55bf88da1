"""Restore after backup (issue 13): the recovery log, exported with ``microcred recovery-log export`` and replayed
with ``recovery-log replay`` after a restore, brings back the revocations and suspensions made since the backup,
keeps every index issued since then from being handed out again, and leaves the credentials whose rows the restore
lost revocable. A backup is a SQLite online copy (the sqlite3 backup API) or a ``pg_dump`` of the test's schema."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from app.status import bitstring
from tests import live_server
from tests.conftest import ROOT
from tests.database_fixture import TEST_DATABASE_URL, on_postgresql


def _backup(database_url: str, folder: Path) -> Path:
    if not on_postgresql():
        target = folder / "backup.db"
        source = sqlite3.connect(make_url(database_url).database)
        with sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        return target
    target = folder / "backup.sql"
    subprocess.run(["pg_dump", "--no-owner", f"--schema={_schema(database_url)}", "-f", str(target), _server()], check=True)
    return target


def _restore(database_url: str, backup: Path) -> None:
    if not on_postgresql():
        path = Path(make_url(database_url).database)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        with sqlite3.connect(backup) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return
    schema = _schema(database_url)
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", f'DROP SCHEMA "{schema}" CASCADE', _server()], check=True, capture_output=True)
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(backup), _server()], check=True, capture_output=True)


def _schema(database_url: str) -> str:
    return make_url(database_url).query["options"].split("=", 1)[1]


def _server() -> str:
    return TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")


def _cli(database_url: str, tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "MICROCRED_DATABASE_URL": database_url, "MICROCRED_KEYS_DIR": str(tmp_path / "keys"), "MICROCRED_ENVIRONMENT": "test"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _entries(credential: dict) -> dict[str, tuple[str, int]]:
    entries = credential["credentialStatus"]
    return {
        e["statusPurpose"]: (e["statusListCredential"].rsplit("/", 1)[1], int(e["statusListIndex"]))
        for e in (entries if isinstance(entries, list) else [entries])
    }


def _bit(client: httpx.Client, entry: tuple[str, int]) -> bool:
    status_list = client.get(f"/status/{entry[0]}").json()
    return bitstring.get_bit(bitstring.decode_list(status_list["credentialSubject"]["encodedList"]), entry[1])


def _issue(client: httpx.Client, key: str | None = None) -> dict:
    plain = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
    r = client.post("/credentials/issue", json={"credential": plain}, headers={"Idempotency-Key": key} if key else {})
    assert r.status_code == 201, r.text
    return r.json()["verifiableCredential"]


def _change(client: httpx.Client, credential: dict, word: str) -> None:
    r = client.post("/credentials/status", json={"credentialId": credential["id"], "status": word})
    assert r.status_code == 200, r.text


def test_backup_restore_and_replay_bring_back_revocations_and_reuse_no_index(database_url, tmp_path):
    server = live_server.start(database_url, tmp_path, status_cache_seconds=0)
    try:
        _, api_key = server.app.state.issuance.providers.create(slug="uniz", name="University of Zed", country="IE", homepage="https://uniz.example.edu")
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as c:
            before = [_issue(c) for _ in range(3)]
            _change(c, before[0], "revoked")
            backup = _backup(database_url, tmp_path)
            # lost by the restore; more than a worker reserves ahead (32), so that the counter moved after the backup
            after = [_issue(c, key=f"after-{n}") for n in range(40)]
            _change(c, before[1], "revoked")
            _change(c, before[2], "suspended")
            _change(c, after[0], "revoked")
            _change(c, after[1], "suspended")
            _change(c, after[1], "active")
            _change(c, after[2], "suspended")
    finally:
        server.stop()
        server.app.state.issuance.db.dispose()
    export = tmp_path / "recovery.jsonl"
    _cli(database_url, tmp_path, "recovery-log", "export", str(export))
    records = [json.loads(line) for line in export.read_text().splitlines()]
    assert {r["kind"] for r in records} == {"issued", "status"}
    assert not any("learner" in json.dumps(r) or "did:example:x" in json.dumps(r) for r in records)  # ids and indices only
    digests = {r.get("key_digest") for r in records if r["credential_id"] == after[0]["id"] and r["kind"] == "issued"}
    assert len(digests) == 1 and len(next(iter(digests))) == 64

    _restore(database_url, backup)
    replayed = json.loads(_cli(database_url, tmp_path, "recovery-log", "replay", str(export), "--json"))
    assert replayed["indices_bound"] == 2 * len(after) and replayed["changes_applied"] >= 4, replayed
    again = json.loads(_cli(database_url, tmp_path, "recovery-log", "replay", str(export), "--json"))
    assert again["indices_bound"] == again["changes_applied"] == 0 and again["skipped"] == again["records"], again

    server = live_server.start(database_url, tmp_path, status_cache_seconds=0)
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as c:
            # the changes made after the backup are back; those before it were never lost
            assert _bit(c, _entries(before[0])["revocation"]) and _bit(c, _entries(before[1])["revocation"])
            assert _bit(c, _entries(before[2])["suspension"]) and not _bit(c, _entries(before[2])["revocation"])
            assert _bit(c, _entries(after[0])["revocation"])
            assert not _bit(c, _entries(after[1])["suspension"]) and _bit(c, _entries(after[2])["suspension"])
            # a credential whose row the restore lost is still revocable by its provider
            assert c.get(f"/credentials/{after[3]['id']}").status_code == 404
            _change(c, after[3], "revoked")
            assert _bit(c, _entries(after[3])["revocation"])
            # no index issued before the restore is handed out again
            issued = {entry for credential in before + after for entry in _entries(credential).values()}
            fresh = [_issue(c) for _ in range(8)]
            reused = issued & {entry for credential in fresh for entry in _entries(credential).values()}
            assert not reused, f"indices handed out twice: {reused}"
            assert not any(_bit(c, entry) for credential in fresh for entry in _entries(credential).values())
    finally:
        server.stop()
        server.app.state.issuance.db.dispose()
