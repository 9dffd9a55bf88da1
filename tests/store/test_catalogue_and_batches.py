"""The public catalogue (specifications) and batch job progress."""

from __future__ import annotations

import uuid

import pytest

from app.errors import ConflictError, NotFoundError
from app.store import batches, credentials, specifications
from app.store.specifications import CatalogueFilters


def _spec(s, provider_id, title, **kw):
    return specifications.create_specification(s, provider_id, {"title": {"en": title}}, title=title, **kw)


def test_catalogue_lists_published_specifications_with_filters(database, provider):
    with database.transaction() as s:
        a = _spec(s, provider.id, "Data Science Basics", country="BE", eqf=6, ects=5, isced=["0613", "0542"], published=True)
        b = _spec(s, provider.id, "Welding 100%", country="NL", eqf=4, ects=3, isced=["0715"], published=True)
        _spec(s, provider.id, "Draft course", country="BE", eqf=6, ects=5, isced=["0613"], published=False)

    def ids(**filters):
        with database.read() as s:
            return {r.id for r in specifications.list_catalogue(s, CatalogueFilters(**filters)).items}

    assert ids() == {a.id, b.id}
    assert ids(country="be") == {a.id}
    assert ids(eqf=4) == {b.id}
    assert ids(isced="06") == {a.id}  # broad field matches narrower codes
    assert ids(isced="0715") == {b.id}
    assert ids(ects_min=4) == {a.id}
    assert ids(ects_max=4) == {b.id}
    assert ids(text="science") == {a.id}
    assert ids(text="100%") == {b.id}  # LIKE wildcards are escaped
    assert ids(text="%") == {b.id}

    with database.transaction() as s:
        specifications.set_published(s, provider.id, b.id, False)
        updated = specifications.update_specification(s, provider.id, a.id, {"v": 2}, title="Data Science", eqf=6, ects=6, isced=["0688"])
    assert updated.isced == ["0688"]
    assert ids() == {a.id} and ids(isced="0613") == set() and ids(isced="0688") == {a.id}
    with database.read() as s:
        with pytest.raises(NotFoundError):
            specifications.get_specification(s, b.id, published_only=True)
        assert specifications.get_specification(s, a.id).data == {"v": 2}


def test_catalogue_paginates(database, provider):
    with database.transaction() as s:
        made = {_spec(s, provider.id, f"Course {i}", published=True).id for i in range(7)}
    seen, cursor = [], None
    with database.read() as s:
        while True:
            page = specifications.list_catalogue(s, None, limit=3, cursor=cursor)
            seen += [r.id for r in page.items]
            if not (cursor := page.next_cursor):
                break
        assert len(specifications.list_specifications(s, provider.id, limit=100).items) == 7
    assert len(seen) == 7 and set(seen) == made


def test_batch_job_progress_and_resume_point(database, provider):
    with database.transaction() as s:
        job = batches.create_job(s, provider.id, total=4)
        batches.start_job(s, job.id)
    for row in range(3):
        with database.transaction() as s:  # each row with its credential, in one transaction
            if row == 1:
                batches.record_item(s, job.id, row, "invalid", errors=[{"path": "/learner/email", "code": "MALFORMED_VALUE_ERROR"}])
                continue
            cred = credentials.insert_credential(
                s, credentials.NewCredential(f"urn:uuid:{uuid.uuid4()}", provider.id, "edc", "eddsa-rdfc-2022", "application/vc", b"{}")
            )
            batches.record_item(s, job.id, row, "issued", credential_id=cred.id)
    with database.read() as s:
        p = batches.job_progress(s, job.id, provider_id=provider.id)
        assert (p.status, p.total, p.done, p.issued, p.invalid, p.errored) == ("running", 4, 3, 2, 1, 0)
        assert p.fraction == 0.75
        assert batches.next_row(s, job.id) == 3
        assert [i.row_number for i in batches.list_items(s, job.id, status="invalid")] == [1]
        assert batches.list_items(s, job.id)[1].errors[0]["code"] == "MALFORMED_VALUE_ERROR"
    with pytest.raises(ConflictError):
        with database.transaction() as s:
            batches.record_item(s, job.id, 2, "error", errors=[])
    with database.transaction() as s:
        batches.record_item(s, job.id, 3, "error", errors=[{"code": "SIGNER_UNAVAILABLE"}])
        done = batches.finish_job(s, job.id)
    assert (done.status, done.done, done.errored) == ("done", 4, 1) and done.finished_at is not None
    with database.read() as s, pytest.raises(NotFoundError):
        batches.job_progress(s, job.id, provider_id=provider.id + 1)
