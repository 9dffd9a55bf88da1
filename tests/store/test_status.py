"""Status lists: indices unique and never reused (also across a killed process), revocations never lost (§14, §15)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.errors import ConflictError, NotFoundError
from app.status.bitstring import get_bit, set_bit
from app.status.permutation import permute_index
from app.store import credentials, status
from app.store.models import Credential, StatusAllocation

THREADS = 16


def _issue(db, provider_id: int, purpose: str = "revocation") -> tuple[str, int]:
    """What the issuer does: allocate an index and store the credential in one transaction."""
    cred_id = f"urn:uuid:{uuid.uuid4()}"
    with db.transaction() as s:
        alloc = status.allocate(s, provider_id, purpose, cred_id)
        credentials.insert_credential(
            s,
            credentials.NewCredential(
                id=cred_id,
                provider_id=provider_id,
                format="ob3",
                proof_format="eddsa-rdfc-2022",
                media_type="application/vc",
                body=f'{{"id":"{cred_id}","credentialStatus":{{"statusListIndex":"{alloc.index}"}}}}'.encode(),
                status_list_id=alloc.status_list_id,
                status_index=alloc.index,
            ),
        )
    return alloc.status_list_id, alloc.index


# -- the pieces


@pytest.mark.parametrize("size", [8, 100, 1000, 4096, 5000])
def test_permutation_is_a_bijection(size):
    key = os.urandom(32)
    assert sorted(permute_index(key, size, i) for i in range(size)) == list(range(size))


def test_permutation_depends_on_the_key_and_hides_order():
    size = status.MIN_SIZE
    a = [permute_index(b"a" * 32, size, i) for i in range(50)]
    b = [permute_index(b"b" * 32, size, i) for i in range(50)]
    assert a != b
    assert a != sorted(a)
    assert len(set(a)) == 50


def test_bit_order_index_zero_is_the_leftmost_bit():
    bits = bytearray(2)
    set_bit(bits, 0, True)
    assert bits == bytearray([0x80, 0x00])
    set_bit(bits, 7, True)
    set_bit(bits, 8, True)
    assert bits == bytearray([0x81, 0x80])
    assert get_bit(bits, 0) and get_bit(bits, 7) and get_bit(bits, 8) and not get_bit(bits, 1)
    set_bit(bits, 0, False)
    assert bits == bytearray([0x01, 0x80])


def test_list_size_has_a_floor(database, provider):
    from app.errors import RangeError

    with database.transaction() as s, pytest.raises(RangeError):
        status.create_status_list(s, provider.id, "revocation", size=1024)


# -- changes


def test_current_bits_reflect_revocations_in_bitstring_order(database, provider):
    issued = [_issue(database, provider.id) for _ in range(5)]
    list_id = issued[0][0]
    with database.transaction() as s:
        for _, index in issued[:3]:
            assert status.set_status(s, list_id, index, True, by="test")
    with database.read() as s:
        bits = status.current_bits(s, list_id)
    assert len(bits) == status.MIN_SIZE // 8
    for _, index in issued[:3]:
        assert bits[index // 8] & (0x80 >> (index % 8))
    for _, index in issued[3:]:
        assert not get_bit(bits, index)
    assert sum(bin(b).count("1") for b in bits) == 3


def test_revocation_is_final_and_idempotent(database, provider):
    list_id, index = _issue(database, provider.id)
    with database.transaction() as s:
        assert status.set_status(s, list_id, index, True, by="registrar", reason="fraud")
        assert not status.set_status(s, list_id, index, True, by="registrar")  # no second row
    with pytest.raises(ConflictError) as exc:
        with database.transaction() as s:
            status.set_status(s, list_id, index, False, by="registrar")
    assert exc.value.code == "REVOCATION_IS_FINAL"
    with database.read() as s:
        assert status.status_of(s, list_id, index)
        assert [h["by"] for h in status.status_history(s, list_id, index)] == ["registrar"]


def test_suspension_can_be_lifted(database, provider):
    list_id, index = _issue(database, provider.id, "suspension")
    cred_id = None
    with database.read() as s:
        cred_id = s.scalar(select(StatusAllocation.credential_id).where(StatusAllocation.idx == index))
    with database.transaction() as s:
        assert status.set_credential_status(s, provider.id, cred_id, "suspension", True, by="x")
    with database.transaction() as s:
        assert status.set_credential_status(s, provider.id, cred_id, "suspension", False, by="x")
    with database.read() as s:
        assert not status.status_of(s, list_id, index)
        assert status.current_bits(s, list_id) == bytes(status.MIN_SIZE // 8)
        assert [h["value"] for h in status.status_history(s, list_id, index)] == [True, False]


def test_only_allocated_indices_change(database, provider):
    list_id, index = _issue(database, provider.id)
    with pytest.raises(NotFoundError):
        with database.transaction() as s:
            status.set_status(s, list_id, (index + 1) % status.MIN_SIZE, True, by="x")
    with pytest.raises(NotFoundError):
        with database.transaction() as s:
            status.set_credential_status(s, provider.id, "urn:uuid:unknown", "revocation", True, by="x")


def test_published_bits_are_rebuilt_only_after_a_change(database, provider):
    issued = [_issue(database, provider.id) for _ in range(2)]
    list_id = issued[0][0]
    with database.transaction() as s:
        first = status.published_bits(s, list_id)
    with database.transaction() as s:
        again = status.published_bits(s, list_id)
        assert again == first and status.list_version(s, list_id) == first.version
    with database.transaction() as s:
        status.set_status(s, list_id, issued[1][1], True, by="x")
    with database.transaction() as s:
        after = status.published_bits(s, list_id)
    assert after.version == first.version + 1
    assert get_bit(after.bits, issued[1][1]) and not get_bit(first.bits, issued[1][1])
    with database.read() as s:
        assert status.current_bits(s, list_id) == after.bits


def test_sealed_lists_take_no_more_entries(database, provider):
    """The restore procedure: after restoring a backup, seal every open list; new credentials go to new lists."""
    old_list, _ = _issue(database, provider.id)
    with database.transaction() as s:
        assert status.seal_status_lists(s) == 1
    with pytest.raises(ConflictError) as exc:
        with database.transaction() as s:
            status.allocate_index(s, old_list, "urn:uuid:x")
    assert exc.value.code == "STATUS_LIST_FULL"
    new_list, _ = _issue(database, provider.id)
    assert new_list != old_list
    with database.read() as s:
        states = {lst.id: lst.state for lst in status.list_status_lists(s, provider.id)}
    assert states == {old_list: "sealed", new_list: "open"}


def test_a_full_list_rolls_over_to_a_new_one(database, provider):
    from sqlalchemy import update

    from app.store.models import StatusList

    list_id, _ = _issue(database, provider.id)
    with database.transaction() as s:  # pretend the list is nearly full
        s.execute(update(StatusList).where(StatusList.id == list_id).values(next_seq=StatusList.size - 1))
    last_list, _ = _issue(database, provider.id)
    next_list, _ = _issue(database, provider.id)
    assert last_list == list_id and next_list != list_id
    with database.read() as s:
        assert status.get_status_list(s, list_id).state == "full"


def test_a_credential_cannot_use_an_index_allocated_to_another(database, provider):
    list_id, index = _issue(database, provider.id)
    with pytest.raises(ConflictError):
        with database.transaction() as s:
            credentials.insert_credential(
                s,
                credentials.NewCredential(
                    id="urn:uuid:thief",
                    provider_id=provider.id,
                    format="ob3",
                    proof_format="vc+jwt",
                    media_type="application/vc+jwt",
                    body=b"x",
                    status_list_id=list_id,
                    status_index=index,
                ),
            )


# -- concurrency (security-notes §14, §15)


def test_800_concurrent_revocations_are_all_applied(database, provider):
    with database.transaction() as s:
        lst = status.create_status_list(s, provider.id, "revocation")
        indices = [status.allocate_index(s, lst.id, f"urn:uuid:{uuid.uuid4()}").index for _ in range(800)]

    def revoke(chunk):
        for index in chunk:
            with database.transaction() as s:  # each revocation its own session and transaction
                assert status.set_status(s, lst.id, index, True, by="concurrency-test")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(revoke, [indices[i::THREADS] for i in range(THREADS)]))

    with database.read() as s:
        bits = status.current_bits(s, lst.id)
        assert status.list_version(s, lst.id) == 800
    assert sum(bin(b).count("1") for b in bits) == 800
    assert all(get_bit(bits, i) for i in indices)


def test_1000_concurrent_issuances_get_1000_distinct_indices(database, provider):
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda _: _issue(database, provider.id), range(1000)))
    assert len({list_id for list_id, _ in results}) >= 1
    assert len(set(results)) == 1000
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(StatusAllocation)) == 1000
        assert s.scalar(select(func.count()).select_from(Credential)) == 1000


# -- crashes


def test_a_failed_transaction_leaves_neither_index_nor_credential(database, provider):
    list_id, first = _issue(database, provider.id)
    with pytest.raises(RuntimeError):
        with database.transaction() as s:
            for _ in range(20):
                cred_id = f"urn:uuid:{uuid.uuid4()}"
                alloc = status.allocate(s, provider.id, "revocation", cred_id)
                credentials.insert_credential(
                    s,
                    credentials.NewCredential(cred_id, provider.id, "ob3", "vc+jwt", "application/vc+jwt", b"jwt", None, alloc.status_list_id, alloc.index),
                )
            raise RuntimeError("signer crashed mid-batch")
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(Credential)) == 1
        assert s.scalar(select(func.count()).select_from(StatusAllocation)) == 1
        assert status.get_status_list(s, list_id).allocated == 1


def _crashing_issuer(url: str, provider_id: int, per_item_commit: bool, ready, count: int) -> None:
    """Child process: issue credentials in a loop; the parent SIGKILLs it mid-loop."""
    from app.store import Database

    db = Database(url)
    if per_item_commit:
        n = 0
        while True:
            _issue(db, provider_id)
            n += 1
            if n == count:
                ready.set()  # keep issuing: the kill lands mid-loop, maybe mid-transaction
    else:
        with db.transaction() as s:
            for n in range(10_000):
                cred_id = f"urn:uuid:{uuid.uuid4()}"
                alloc = status.allocate(s, provider_id, "revocation", cred_id)
                credentials.insert_credential(
                    s,
                    credentials.NewCredential(cred_id, provider_id, "edc", "eddsa-jcs-2022", "application/vc", b"{}", None, alloc.status_list_id, alloc.index),
                )
                if n == count:
                    ready.set()


@pytest.mark.parametrize("per_item_commit", [False, True], ids=["one-transaction-batch", "commit-per-item"])
def test_a_killed_issuer_leaves_consistent_rows_and_never_reuses_an_index(database, database_url, provider, per_item_commit):
    before = [_issue(database, provider.id) for _ in range(10)]
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_crashing_issuer, args=(database_url, provider.id, per_item_commit, ready, 40))
    child.start()
    try:
        assert ready.wait(60), "child never got going"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(30)
    assert child.exitcode == -signal.SIGKILL

    # "Restart": new work after the crash.
    after = [_issue(database, provider.id) for _ in range(50)]

    with database.read() as s:
        allocations = s.execute(select(StatusAllocation.status_list_id, StatusAllocation.idx, StatusAllocation.credential_id)).all()
        creds = s.execute(select(Credential.id, Credential.status_list_id, Credential.status_index)).all()
    by_cred = {c: (lst, i) for lst, i, c in allocations}
    # Every credential has its allocation record, and every allocation its credential.
    assert {c.id: (c.status_list_id, c.status_index) for c in creds} == by_cred
    # No index used twice, before, during or after the crash.
    assert len({(lst, i) for lst, i, _ in allocations}) == len(allocations)
    assert set(before) | set(after) <= set(by_cred.values())
    if per_item_commit:
        assert len(creds) >= 10 + 40 + 50
    else:
        assert len(creds) == 10 + 50  # the uncommitted batch vanished entirely


# -- runs of allocations (batch issuance)


def test_a_run_of_allocations_is_the_same_as_one_by_one(database, provider):
    """allocate_many takes a run of counter values at once: the same indices, in order, as single allocations."""
    ids = [f"urn:uuid:run-{i}" for i in range(50)]
    with database.transaction() as s:
        first = status.allocate(s, provider.id, "revocation", "urn:uuid:single")
        run = status.allocate_many(s, provider.id, "revocation", ids)
        lst = status.get_status_list(s, first.status_list_id)
    key = database.read_value("SELECT perm_key FROM status_lists WHERE id = ?", first.status_list_id)
    assert [a.index for a in run] == [permute_index(bytes(key), lst.size, seq) for seq in range(1, 51)]
    assert {a.status_list_id for a in run} == {first.status_list_id} and len({a.index for a in run}) == 50
    with database.read() as s:
        assert [status.allocations_of(s, cid)[0].index for cid in ids] == [a.index for a in run]


def test_a_run_that_does_not_fit_spills_into_a_new_list(database, provider):
    with database.transaction() as s:
        lst = status.create_status_list(s, provider.id, "revocation", size=status.MIN_SIZE)
        s.execute(status.update(status.StatusList).where(status.StatusList.id == lst.id).values(next_seq=lst.size - 3))
        run = status.allocate_many(s, provider.id, "revocation", [f"urn:uuid:spill-{i}" for i in range(10)])
    lists = [a.status_list_id for a in run]
    assert lists[:3] == [lst.id] * 3 and len(set(lists[3:])) == 1 and lists[3] != lst.id
    with database.read() as s:
        assert status.get_status_list(s, lst.id).state == "full"


def test_a_run_that_meets_a_taken_index_falls_back_and_never_reuses_it(database, provider):
    """After a restore the counter can be behind the allocations; the run is undone and each id is
    allocated on its own, which burns the taken counter values (``allocate_index``)."""
    with database.transaction() as s:
        taken = status.allocate(s, provider.id, "revocation", "urn:uuid:before")
        s.execute(status.update(status.StatusList).where(status.StatusList.id == taken.status_list_id).values(next_seq=0))  # "restored"
        run = status.allocate_many(s, provider.id, "revocation", [f"urn:uuid:after-{i}" for i in range(5)])
    assert taken.index not in {a.index for a in run} and len({a.index for a in run}) == 5
    with database.read() as s:
        assert status.allocations_of(s, "urn:uuid:before")[0].index == taken.index


# -- runs reserved ahead (single issuance)


def test_reserved_runs_take_what_is_left_and_close_a_full_list(database, provider):
    with database.transaction() as s:
        lst = status.create_status_list(s, provider.id, "revocation", size=status.MIN_SIZE)
        s.execute(status.update(status.StatusList).where(status.StatusList.id == lst.id).values(next_seq=lst.size - 5))
        first = status.reserve_run(s, provider.id, "revocation", 32)
        second = status.reserve_run(s, provider.id, "revocation", 32)
    assert (first.status_list_id, first.start, first.end) == (lst.id, lst.size - 5, lst.size)
    assert second.status_list_id != lst.id and (second.start, second.end) == (0, 32)
    assert len({i for _, i in first.allocations()}) == 5
    with database.read() as s:
        assert status.get_status_list(s, lst.id).state == "full"


def test_recording_a_reserved_index_that_is_taken_is_refused(database, provider):
    with database.transaction() as s:
        run = status.reserve_run(s, provider.id, "revocation", 2)
        (seq, idx), (seq2, idx2) = run.allocations()
        status.record_allocations(s, [(run.status_list_id, idx, seq, "urn:uuid:a")])
    with pytest.raises(ConflictError) as exc:
        with database.transaction() as s:
            status.record_allocations(s, [(run.status_list_id, idx2, seq2, "urn:uuid:b"), (run.status_list_id, idx, seq, "urn:uuid:c")])
    assert exc.value.code == "STATUS_LIST_INCONSISTENT"
    with database.read() as s:
        assert status.allocations_of(s, "urn:uuid:b") == []  # nothing of the refused call is stored


def test_workers_recording_into_a_list_and_reserving_from_it_do_not_deadlock(database, provider):
    """Two workers' group commits each record allocations in a list (on PostgreSQL the foreign key takes a
    KEY SHARE lock on the list's row) and then reserve a run from it. With ``FOR UPDATE`` each waited for
    the other's KEY SHARE: PostgreSQL found a deadlock and one issuance failed with 503 under load. The
    list is locked ``FOR NO KEY UPDATE`` (it never changes its key), which KEY SHARE does not block."""
    import threading

    from tests.database_fixture import on_postgresql

    with database.transaction() as s:
        run = status.reserve_run(s, provider.id, "revocation", 2)
    rows = [(run.status_list_id, idx, seq, f"urn:uuid:w{n}") for n, (seq, idx) in enumerate(run.allocations())]
    recorded = [threading.Event(), threading.Event()]
    out: dict[int, object] = {}

    def worker(n: int) -> None:
        try:
            with database.transaction() as s:
                status.record_allocations(s, [rows[n]])
                recorded[n].set()
                if on_postgresql():  # both hold their KEY SHARE before either reserves (SQLite serializes writers)
                    recorded[1 - n].wait(10)
                out[n] = status.reserve_run(s, provider.id, "revocation", 32)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            out[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
        if not on_postgresql():
            t.join(20)
    for t in threads:
        t.join(20)
    assert all(isinstance(out.get(n), status.Reserved) for n in (0, 1)), out
    assert {out[0].start, out[1].start} == {2, 34}  # disjoint runs
    with database.read() as s:
        assert {a.index for r in rows for a in status.allocations_of(s, r[3])} == {r[1] for r in rows}


def test_a_status_change_finds_its_credentials_entries_by_index_not_by_scanning_every_allocation(database, provider):
    """The read every status change makes (``status._ENTRIES_OF``) and the ownership fallback seek the allocations by
    credential id (migration 0008): without that index each change scanned every allocation of every list, so status
    changes slowed with every credential issued (``bench http-status``)."""
    from sqlalchemy import text

    _issue(database, provider.id)
    with database.read() as s:
        if s.get_bind().dialect.name == "sqlite":
            query = status._ENTRIES_OF.params(ids=["urn:uuid:x"])
            sql = str(query.compile(s.get_bind(), compile_kwargs={"render_postcompile": True, "literal_binds": True}))
            plan = " | ".join(row[-1] for row in s.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "SCAN status_allocations" not in plan, plan
            assert "ix_status_allocations_credential" in plan, plan
        else:
            names = {row[0] for row in s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'status_allocations'"))}
            assert "ix_status_allocations_credential" in names, names
