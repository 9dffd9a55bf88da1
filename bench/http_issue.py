"""``python3 dev.py bench http-issue``: issuance through HTTP with persistence, the service on 2 workers.

Starts ``microcred serve --workers 2`` on a free port with a fresh SQLite database (or the PostgreSQL of
``--database-url``), creates a provider with the CLI, then:

1. single requests: 16 concurrent clients POST /microcredentials (the EU example, Open Badges 3.0,
   eddsa-rdfc-2022) for a fixed time; prints credentials/s, p50 and p99 latency;
2. after a warm-up batch of 1,000 records (it starts the worker's signing pool, which is kept), a
   batch of 10,000 records against a specification; prints credentials/s and the peak RSS of the
   worker processes (VmHWM from /proc) while it ran.

``--batch 0`` measures single requests only. The temporary folder (database, keys, the service's log)
is removed after a clean run and kept, and named, when a request failed.

Targets (issue 3): ≥ 600 single credentials/s with p99 ≤ 60 ms; batches ≥ 1,000 credentials/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

from bench import loadgen
from bench.loadgen import build_request
from bench.service import EXAMPLE, BenchService, bench_service


def _rss_peak_kb(pid: int) -> int:
    """The largest peak resident set (VmHWM) among ``pid`` and all its descendants (the workers and their
    signing processes), in kB."""
    peak = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench http-issue")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    with bench_service(workers=args.workers, database_url=args.database_url) as service:
        service.failed = not _measure(service, args)
    return 0


def _measure(service: BenchService, args) -> bool:
    """Single requests for ``args.seconds``, then (unless ``--batch 0``) a warm-up batch and a measured one."""
    url, key, log, server = service.url, service.provider("bench"), service.log, service.process
    headers = {"Authorization": f"Bearer {key}"}
    example = json.loads(EXAMPLE.read_text())
    body = json.dumps({"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": example}).encode()
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
        for _ in range(20):  # warm every worker's caches
            assert c.post("/microcredentials", content=body, headers={"Content-Type": "application/json"}).status_code == 201
    request = build_request(url, "POST", "/microcredentials", body, {"Authorization": f"Bearer {key}"})
    result = loadgen.run(url, [request], clients=args.clients, seconds=args.seconds)
    rate, errors = result.rate, len(result.latencies) - result.count(201)
    p50, p99 = result.percentile(0.5) * 1000, result.percentile(0.99) * 1000
    print(
        f"single requests: {len(result.latencies)} credentials in {result.elapsed:.1f} s over {args.clients} clients, {args.workers} workers: "
        f"{rate:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors"
    )
    if errors:
        print(f"  responses by status: {dict(sorted(result.statuses.items()))}; the service's log: {log}")
    print(f"{'met ' if rate >= 600 and p99 <= 60 else 'MISSED'}  single issuance >= 600/s with p99 <= 60 ms")

    if args.batch:  # --batch 0: single requests only
        with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
            from app.credentials import specification_of

            spec_id = c.post("/specifications", json={"specification": specification_of(example), "published": True}).json()["id"]
            records = [
                {"learner": {"email": f"learner{i}@example.org", "givenName": {"en": f"L{i}"}, "familyName": {"en": "Bench"}}} for i in range(args.batch)
            ]
            # Warm-up: one batch large enough for the signing pool, which a worker then keeps; the first
            # batch after a start pays about a second more to start it (same keep-alive connection, so
            # the same worker takes the measured batch).
            warm = c.post("/microcredentials/batch", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "specificationId": spec_id, "records": records[:1_000]})
            while c.get(warm.headers["location"]).json()["status"] not in ("done", "failed"):
                time.sleep(0.25)
            t = time.perf_counter()
            r = c.post("/microcredentials/batch", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "specificationId": spec_id, "records": records})
            location = r.headers["location"]
            peak = 0
            while True:
                job = c.get(location).json()
                peak = max(peak, _rss_peak_kb(server.pid))
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.25)
            took = time.perf_counter() - t
        batch_rate = job["issued"] / took
        print(
            f"batch: {job['issued']:,} of {job['total']:,} issued in {took:.1f} s: {batch_rate:.0f}/s; "
            f"peak RSS of a worker or signing process {peak / 1024:.0f} MB"
        )
        print(f"{'met ' if batch_rate >= 1000 else 'MISSED'}  batch issuance >= 1,000/s")
    return not errors


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
