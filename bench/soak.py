"""``python3 dev.py bench soak``: the service under a steady mixed load for a long time; does memory stay flat?

Starts ``microcred serve --workers 2`` on a fresh SQLite database (or ``--database-url``) with allocation
tracing on in every worker (``MICROCRED_TRACEMALLOC_DIR``), measures what the service sustains for a few
seconds, then for ``--minutes`` sends ``--fraction`` of that (half by default) as a paced mix: issuance
(``POST /microcredentials``), verification of issued credentials (``POST /credentials/verify``) and status
changes (``POST /credentials/status``, suspend then lift). Prints every ``--every`` seconds each worker's
resident set (RSS, from /proc) and the answers by status; at the end, each worker's RSS at the start of the
soak and at its end, and the 15 allocation sites that grew most (tracemalloc, between a snapshot taken after
the warm-up and one at the end). A benchmark, not a test: it judges nothing, it prints what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import loadgen
from bench.service import EXAMPLE, BenchService, bench_service

MIX = (("issue", 6), ("verify", 3), ("status", 1))


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


BACKLOG = 64  # requests in flight or waiting for a connection before the pacer skips a slot
DRAIN_SECONDS = 60  # after the soak, how long the answers still in flight may take


async def _paced(url: str, requests: dict[str, list[bytes]], rate: float, seconds: float, every: float, report) -> tuple[dict[int, int], int]:
    """Paced load: one request every ``1/rate`` seconds over a pool of keep-alive connections.

    Open-loop while the service keeps up; when it falls behind (a loaded machine), at most ``BACKLOG`` requests
    wait, and a slot that finds the backlog full is skipped and counted instead of queued. An unbounded queue
    made an earlier soak drain for longer than it soaked, and measured the queue rather than the service.
    Returns the answers by status and the number of skipped slots.
    """
    parts = httpx.URL(url)
    statuses: dict[int, int] = {}
    schedule = [kind for kind, weight in MIX for _ in range(weight)]
    free: asyncio.Queue = asyncio.Queue()
    for _ in range(16):
        free.put_nowait(await asyncio.open_connection(parts.host, parts.port))
    counters = dict.fromkeys(requests, 0)

    async def one(kind: str) -> None:
        reader, writer = await free.get()
        try:
            pool = requests[kind]
            writer.write(pool[counters[kind] % len(pool)])
            counters[kind] += 1
            status, _ = await loadgen._read_response(reader)
            statuses[status] = statuses.get(status, 0) + 1
        finally:
            free.put_nowait((reader, writer))

    started = time.perf_counter()
    next_report = started + every
    tasks: set[asyncio.Task] = set()
    n = skipped = 0
    while (now := time.perf_counter()) < started + seconds:
        due = started + n / rate
        await asyncio.sleep(max(0.0, due - now))  # yields even when behind schedule, so requests run
        if len(tasks) >= BACKLOG:
            skipped += 1
        else:
            task = asyncio.ensure_future(one(schedule[n % len(schedule)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        n += 1
        if time.perf_counter() >= next_report:
            report(time.perf_counter() - started, statuses, skipped)
            next_report += every
    if tasks:
        _, late = await asyncio.wait(set(tasks), timeout=DRAIN_SECONDS)
        for task in late:
            task.cancel()
        statuses[0] = statuses.get(0, 0) + len(late)  # 0: no answer within the drain time
    return statuses, skipped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench soak")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--fraction", type=float, default=0.5, help="share of the measured capacity to send")
    parser.add_argument("--every", type=float, default=60, help="seconds between progress lines")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--no-trace", action="store_true", help="without tracemalloc (its cost is part of what is measured otherwise)")
    args = parser.parse_args(argv)
    traces = Path(tempfile.mkdtemp(prefix="microcred-soak-traces-"))
    env = {} if args.no_trace else {"MICROCRED_TRACEMALLOC_DIR": str(traces)}
    with bench_service(workers=args.workers, database_url=args.database_url, env=env, prefix="microcred-soak-") as service:
        service.failed = not _soak(service, args, traces)
    if not service.failed:
        shutil.rmtree(traces, ignore_errors=True)
    else:
        print(f"kept the tracemalloc dumps in {traces}")
    return 0


def _soak(service: BenchService, args, traces: Path) -> bool:
    url, key, log = service.url, service.provider("soak", "Soak University"), service.log
    auth = {"Authorization": f"Bearer {key}"}
    example = json.loads(EXAMPLE.read_text())
    body = json.dumps({"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example}).encode()
    with httpx.Client(base_url=url, headers=auth, timeout=30) as c:
        issued = [c.post("/microcredentials", content=body, headers={"Content-Type": "application/json"}) for _ in range(64)]
    assert all(r.status_code == 201 for r in issued), [r.text for r in issued if r.status_code != 201][:1]
    # Suspend and lift on VC API credentials: an EDC or an OB3 carries a revocation entry only (README).
    plain = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:soak"}}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as c:
        vcs = [c.post("/credentials/issue", json={"credential": plain}) for _ in range(32)]
    assert all(r.status_code == 201 for r in vcs), [r.text for r in vcs if r.status_code != 201][:1]
    ids = [r.json()["verifiableCredential"]["id"] for r in vcs]
    requests = {
        "issue": [loadgen.build_request(url, "POST", "/microcredentials", body, auth)],
        "verify": [
            loadgen.build_request(url, "POST", "/credentials/verify", json.dumps({"verifiableCredential": json.loads(r.content)}).encode()) for r in issued[:32]
        ],
        "status": [
            loadgen.build_request(url, "POST", "/credentials/status", json.dumps({"credentialId": i, "status": s}).encode(), auth)
            for i in ids
            for s in ("suspended", "active")
        ],
    }
    mixed = [r for kind, weight in MIX for r in requests[kind][:1] * weight]
    capacity = loadgen.run(url, mixed, clients=16, seconds=10).rate
    rate = capacity * args.fraction
    workers = service.workers()
    if not args.no_trace:
        for pid in workers:
            os.kill(pid, signal.SIGUSR2)  # the first tracemalloc snapshot: after warm-up, before the soak
    start_rss = {pid: _rss_mb(pid) for pid in workers}
    print(f"capacity of the mix: {capacity:.0f} requests/s; soaking at {rate:.0f}/s for {args.minutes:g} min on {len(workers)} workers")

    def report(elapsed: float, statuses: dict[int, int], skipped: int) -> None:
        rss = ", ".join(f"{pid}: {_rss_mb(pid):.0f} MB" for pid in workers)
        load = os.getloadavg()[0]
        print(f"  {elapsed / 60:5.1f} min  RSS {rss}  answers {dict(sorted(statuses.items()))}  skipped {skipped}  load {load:.1f}", flush=True)

    statuses, skipped = asyncio.run(_paced(url, requests, rate, args.minutes * 60, args.every, report))
    gone = [pid for pid in workers if not Path(f"/proc/{pid}").exists()]
    if gone:
        print(f"workers {gone} are gone (restarted by serve?): see {log}")
    if not args.no_trace:
        for pid in set(workers) - set(gone):
            os.kill(pid, signal.SIGUSR2)
        for pid in set(workers) - set(gone):  # the handler runs when the worker's loop next runs Python code
            dump = traces / f"tracemalloc-{pid}.txt"
            deadline = time.monotonic() + 60
            while (not dump.exists() or dump.read_text().count("--\n") < 2) and time.monotonic() < deadline:
                time.sleep(0.5)
    errors = sum(n for status, n in statuses.items() if status >= 400 or status == 0)
    scheduled = int(rate * args.minutes * 60)
    print(f"answers by status: {dict(sorted(statuses.items()))} ({errors} errors; 0 = no answer within {DRAIN_SECONDS} s)")
    print(f"slots skipped because {BACKLOG} requests were already waiting: {skipped} of {scheduled} ({skipped / max(scheduled, 1):.1%})")
    for pid in workers:
        print(f"worker {pid}: RSS {start_rss[pid]:.0f} MB at the start of the soak, {_rss_mb(pid):.0f} MB at its end")
        dump = traces / f"tracemalloc-{pid}.txt"
        print(dump.read_text().split("--\n")[-2] if dump.exists() else "  (no tracemalloc dump)")
    return errors == 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
