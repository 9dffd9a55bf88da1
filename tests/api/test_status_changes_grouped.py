"""Status changes of one group commit are a few set-based statements (issue 13: at least 1,000 changes/s on one
list): concurrent POST /credentials/status requests that meet in one group write their change rows with one
INSERT and bump each changed list's version once, while refused changes in the same group change nothing."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import event

from app.store import status
from tests.api.test_issuer import _issue, _status_bit, _vc_api_credential


def _wait(condition, what: str, timeout: float = 120.0) -> None:
    """For hangs only: a loaded machine may be slow to queue the requests."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def test_one_groups_changes_are_set_based_and_refusals_change_nothing(live, client, provider, example_input):
    db = live.app.state.issuance.db
    vc_api = [_vc_api_credential(client)[0] for _ in range(14)]
    badge = _issue(client, example_input, "ob3").json()  # revocation only: its suspension is refused
    final = vc_api.pop()
    assert client.post("/credentials/status", json={"credentialId": final["id"], "status": "revoked"}).status_code == 200
    changes = (
        [(c["id"], "revoked") for c in vc_api[:8]]
        + [(c["id"], "suspended") for c in vc_api[8:]]
        + [(badge["id"], "suspended"), (final["id"], "active")]  # refused: no suspension entry; revocation is final
    )

    def list_of(credential, purpose):
        entries = credential["credentialStatus"]
        entry = next(e for e in (entries if isinstance(entries, list) else [entries]) if e["statusPurpose"] == purpose)
        return entry["statusListCredential"].rsplit("/", 1)[1], int(entry["statusListIndex"])

    lists = {list_of(vc_api[0], "revocation")[0], list_of(vc_api[0], "suspension")[0], list_of(badge, "revocation")[0]}

    def versions():
        with db.read() as session:
            return {list_id: status.list_version(session, list_id) for list_id in lists}

    before = versions()
    badge_list, badge_index = list_of(badge, "revocation")
    with db.read() as session:
        badge_history = status.status_history(session, badge_list, badge_index)

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "microcred-group-commit":
            statements.append(statement)

    # Hold the committer at its CPU gate until every request has queued its change: they then form one group.
    submitted = []
    grouped_later = db.grouped_later

    def counting(work):  # instrumentation only: the real committer runs the work
        submitted.append(work)
        return grouped_later(work)

    gate = db.cpu_gate
    event.listen(db.engine, "before_cursor_execute", count)
    db.grouped_later = counting
    pool = ThreadPoolExecutor(len(changes))
    gate.acquire()
    try:

        def post(change):
            with httpx.Client(base_url=live.url, headers=client.headers, timeout=300) as c:
                return c.post("/credentials/status", json={"credentialId": change[0], "status": change[1]})

        futures = [pool.submit(post, change) for change in changes]
        _wait(lambda: len(submitted) >= len(changes), "every status change to reach the group committer")
    finally:
        gate.release()
        del db.grouped_later
    try:
        answers = [f.result() for f in futures]
    finally:
        pool.shutdown()
        event.remove(db.engine, "before_cursor_execute", count)

    for (cid, word), answer in zip(changes[:-2], answers[:-2], strict=True):
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == word and answer.json()["credentialId"] == cid
    assert answers[-2].status_code == 409 and answers[-2].json()["code"] == "NO_STATUS_ENTRY", answers[-2].text
    assert answers[-1].status_code == 409 and answers[-1].json()["code"] == "REVOCATION_IS_FINAL", answers[-1].text

    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO STATUS_CHANGES")]
    touching = [s for s in statements if "status_changes" in s]
    assert len(inserts) == 1, f"{len(inserts)} INSERTs of change rows for one group of {len(changes)} changes"
    assert len(touching) <= 2, f"{len(touching)} statements on status_changes for one group: {touching}"

    after = versions()
    changed = {list_of(vc_api[0], "revocation")[0], list_of(vc_api[0], "suspension")[0]}
    for list_id in lists:  # once per changed list, whatever the number of its changes; not at all for the others
        assert after[list_id] - before[list_id] == (1 if list_id in changed else 0), (list_id, before, after)

    for credential in vc_api[:8]:
        assert _status_bit(live, credential, "revocation") and not _status_bit(live, credential, "suspension")
    for credential in vc_api[8:]:
        assert _status_bit(live, credential, "suspension") and not _status_bit(live, credential, "revocation")
    assert _status_bit(live, final, "revocation") and not _status_bit(live, final, "suspension")
    assert not _status_bit(live, badge, "revocation")
    with db.read() as session:
        assert status.status_history(session, badge_list, badge_index) == badge_history


def test_a_refused_status_change_changes_nothing(live, client):
    """The route's one dependency (``deps.KeyedJsonBody``) refuses as the four did: no key or an unknown one 401 with a
    Bearer challenge (the key is checked before the body is read), another media type 415, a body that is not I-JSON or
    lacks credentialId 400, each as problem+json; none of them revokes anything."""
    credential, _ = _vc_api_credential(client)
    body = json.dumps({"credentialId": credential["id"], "status": "revoked"}).encode()
    url = f"{live.url}/credentials/status"
    refusals = [
        ({"Content-Type": "application/json"}, body, 401),
        ({"Content-Type": "application/json", "Authorization": "Bearer not-a-key"}, body, 401),
        ({"Content-Type": "text/plain", "Authorization": client.headers["authorization"]}, body, 415),
        ({"Content-Type": "application/json", "Authorization": client.headers["authorization"]}, b'{"credentialId": ', 400),
        ({"Content-Type": "application/json", "Authorization": client.headers["authorization"]}, b'{"status": "revoked"}', 400),
    ]
    for headers, content, expected in refusals:
        r = httpx.post(url, headers=headers, content=content)
        assert r.status_code == expected, (headers, content, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if expected == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
    assert _status_bit(live, credential, "revocation") is False
    r = client.post("/credentials/status", json={"credentialId": credential["id"], "status": "revoked"})
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert _status_bit(live, credential, "revocation") is True
