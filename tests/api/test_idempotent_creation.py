"""``Idempotency-Key`` on every POST that creates something besides a credential (issue 13): a batch job,
a specification. The same key and body give the first response again (same status, same body) and
create nothing more; the same key with another body is 409 ``IDEMPOTENCY_KEY_REUSED``.

Before, ``POST /microcredentials/batch`` ignored the header: the same batch sent twice made two jobs and
issued every credential twice.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import text

from app.credentials import specification_of


def _spec(client, example_input):
    return client.post("/specifications", json={"specification": specification_of(example_input), "published": True}).json()["id"]


def _records(n, tag="a"):
    return [{"learner": {"email": f"{tag}{i}@example.org", "givenName": {"en": "I"}, "familyName": {"en": "K"}}} for i in range(n)]


def _count(live, table):
    with live.app.state.db.read() as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _wait(client, location):
    deadline = time.monotonic() + 300  # catches a hang
    while (job := client.get(location).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def test_a_batch_sent_twice_with_one_key_makes_one_job(live, client, example_input):
    spec_id = _spec(client, example_input)
    body = {"format": "ob3", "specificationId": spec_id, "records": _records(20)}
    first = client.post("/microcredentials/batch", json=body, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == 202, first.text
    _wait(client, first.headers["location"])
    again = client.post("/microcredentials/batch", json=body, headers={"Idempotency-Key": "batch-1"})
    assert again.status_code == 202 and again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert _count(live, "batch_jobs") == 1 and _count(live, "credentials") == 20

    # The same body under its keys reordered is the same request (JCS): replayed too.
    reordered = {"records": body["records"], "specificationId": spec_id, "format": "ob3"}
    assert client.post("/microcredentials/batch", json=reordered, headers={"Idempotency-Key": "batch-1"}).content == first.content

    other = client.post("/microcredentials/batch", json={**body, "records": _records(3, "b")}, headers={"Idempotency-Key": "batch-1"})
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _count(live, "batch_jobs") == 1 and _count(live, "credentials") == 20

    # Without a key, a second request is a second job, as before.
    assert client.post("/microcredentials/batch", json=body).status_code == 202
    assert _count(live, "batch_jobs") == 2


def test_concurrent_batches_with_one_key_make_one_job(live, client, provider, example_input):
    spec_id = _spec(client, example_input)
    body = {"format": "ob3", "specificationId": spec_id, "records": _records(5)}

    def send(_):
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {provider[1]}"}, timeout=60) as c:
            return c.post("/microcredentials/batch", json=body, headers={"Idempotency-Key": "together"})

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert _count(live, "batch_jobs") == 1
    _wait(client, answers[0].headers["location"])
    assert _count(live, "credentials") == 5


def test_a_csv_batch_honours_the_key(live, client, example_input):
    spec_id = _spec(client, example_input)
    csv_text = "email,given_name,family_name\nana@example.org,Ana,A\nbo@example.org,Bo,B\n"
    send = lambda content: client.post(  # noqa: E731
        "/microcredentials/batch",
        params={"specificationId": spec_id},
        content=content.encode(),
        headers={"Content-Type": "text/csv", "Idempotency-Key": "csv-1"},
    )
    first, again = send(csv_text), send(csv_text)
    assert first.status_code == again.status_code == 202 and first.content == again.content
    assert send(csv_text + "cy@example.org,Cy,C\n").json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _count(live, "batch_jobs") == 1


def test_a_specification_sent_twice_with_one_key_is_made_once(live, client, example_input):
    body = {"specification": specification_of(example_input), "published": True}
    first = client.post("/specifications", json=body, headers={"Idempotency-Key": "spec-1"})
    again = client.post("/specifications", json=body, headers={"Idempotency-Key": "spec-1"})
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    assert _count(live, "specifications") == 1
    other = client.post("/specifications", json={**body, "published": False}, headers={"Idempotency-Key": "spec-1"})
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _count(live, "specifications") == 1


def test_a_bad_key_is_refused_and_creates_nothing(live, client, example_input):
    spec_id = _spec(client, example_input)
    body = {"specificationId": spec_id, "records": _records(2)}
    r = client.post("/microcredentials/batch", json=body, headers={"Idempotency-Key": "x" * 300})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert _count(live, "batch_jobs") == 0
