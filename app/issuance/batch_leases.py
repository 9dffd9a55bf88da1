"""Leases on batch jobs: a job whose worker died is resumed within seconds, by any worker, once.

The worker that runs a job holds a lease on its row (``batch_jobs.lease_owner``/``lease_until``) and renews
it every ``RENEW_EVERY`` seconds from a thread of its own, whatever its signing is doing. Every worker
looks for claimable jobs every ``CLAIM_EVERY`` seconds: queued ones, and running ones whose lease lapsed.
It takes one with a compare-and-set ``UPDATE … WHERE`` the lease lapsed (``store.batches.claim_job``), so of
all the workers that see it exactly one wins. The winner continues from the first row not recorded: a
chunk's credentials and its rows' outcomes are stored in one transaction, which also checks that the lease
is still this worker's (``check``); a worker that lost its lease (stalled longer than ``LEASE``) stops
before it stores anything more, and a row recorded twice would be refused by the store in any case.

Before, ``resume_unfinished()`` ran once at start-up and skipped jobs younger than 120 s: a batch killed at
3,000 of 10,000 records and restarted at once stayed ``running`` until a second restart.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from app.errors import MicrocredError
from app.store import batches

log = logging.getLogger("microcred.batch")

#: How long a claim lasts without renewal: the longest a crashed job waits before another worker takes it.
LEASE = timedelta(seconds=10)
RENEW_EVERY = 2.0
CLAIM_EVERY = 2.0


class LeaseLost(MicrocredError):
    """This worker no longer holds the job's lease: another worker resumes it."""

    code = "BATCH_LEASE_LOST"
    status = 409


class LeaseKeeper:
    """This worker's leases: claims jobs, renews the ones it runs, and finds lapsed ones for ``start_job``."""

    def __init__(self, db, start_job: Callable[[str], None], *, lease: timedelta = LEASE, renew_every: float = RENEW_EVERY, claim_every: float = CLAIM_EVERY):
        self.db = db
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = lease
        self._start_job = start_job
        self._renew_every = renew_every
        self._claim_every = claim_every
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self, session, job_id: str) -> bool:
        """Claim ``job_id`` in the caller's transaction; True if this worker now holds it."""
        if not batches.claim_job(session, job_id, owner=self.owner, lease=self.lease):
            return False
        with self._lock:
            self._held.add(job_id)
        return True

    def check(self, session, job_id: str) -> None:
        """Renew the lease in the caller's transaction, or raise ``LeaseLost`` (rolling that transaction back)."""
        if not batches.renew_lease(session, job_id, owner=self.owner, lease=self.lease):
            self.forget(job_id)
            raise LeaseLost(f"batch job {job_id} was taken over by another worker")

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._held.discard(job_id)

    def release(self, job_id: str) -> None:
        """Give a held job up at once (shutdown): another worker may claim it without waiting for the lease."""
        self.forget(job_id)
        try:
            with self.db.transaction() as session:
                batches.release_lease(session, job_id, owner=self.owner)
        except Exception:  # noqa: BLE001 - the lease then lapses by itself
            log.warning("could not release the lease on batch job %s; it lapses in %s", job_id, self.lease)

    def start(self) -> None:
        """Claim what is claimable now, then keep renewing and looking in a thread."""
        self.find_claimable()
        self._thread = threading.Thread(target=self._run, name="batch-leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def find_claimable(self) -> list[str]:
        """Start every claimable job (the claim itself happens in the job's thread: one worker wins)."""
        with self.db.read() as session:
            jobs = batches.unfinished_jobs(session)
        for job_id in jobs:
            self._start_job(job_id)
        return jobs

    def renew(self) -> None:
        with self._lock:
            held = sorted(self._held)
        if not held:
            return
        with self.db.transaction() as session:
            lost = [job_id for job_id in held if not batches.renew_lease(session, job_id, owner=self.owner, lease=self.lease)]
        for job_id in lost:  # its thread finds out at its next store (check) and stops
            self.forget(job_id)

    def _run(self) -> None:
        next_claim = time.monotonic() + self._claim_every
        failing = False
        while not self._stop.wait(self._renew_every if self._renew_every < self._claim_every else self._claim_every):
            try:
                self.renew()
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self._claim_every
                    self.find_claimable()
                if failing:
                    log.info("batch leases: the database answers again")
                failing = False
            except Exception as exc:  # noqa: BLE001 - an outage: try again at the next beat
                if not failing:
                    log.warning("batch leases: cannot reach the database (%s); retrying", type(exc).__name__)
                failing = True
