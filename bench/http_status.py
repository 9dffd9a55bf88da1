"""``python3 dev.py bench http-status``: status changes on one list through HTTP, the service on 2 workers.

Starts ``microcred serve --workers 2`` on a free port with a fresh SQLite database (or the PostgreSQL of
``--database-url``), creates a provider with the CLI, issues ``--credentials`` credentials with a batch
(all on the provider's one revocation list), then 16 concurrent clients POST /credentials/status for
``--seconds``, each revoking credentials of its own (every request a real change: a repeated revocation
is answered without a write, and would flatter the figure). Prints changes/s, p50 and p99 latency, and
checks afterwards that every change answered 200 is in the published list (nothing lost).

Target (issue 13): at least 1,000 status changes per second on one list, p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import os
import sys
import time
from urllib.parse import urlsplit

import httpx

from bench import loadgen
from bench.loadgen import build_request
from bench.service import EXAMPLE, BenchService, bench_service, cpu_seconds


async def _run(url: str, per_client: list[list[bytes]], seconds: float) -> loadgen.Result:
    parts = urlsplit(url)
    result = loadgen.Result()
    started = time.perf_counter()
    deadline = started + seconds
    # Each client its own requests, from its own start, so that no two revoke the same credential.
    await asyncio.gather(*(loadgen._client(parts.hostname, parts.port, requests, 0, deadline, result, 0) for requests in per_client))
    result.elapsed = time.perf_counter() - started
    return result


def _revoked_bits(c: httpx.Client, list_url: str) -> bytes:
    vc = c.get(urlsplit(list_url).path).json()
    encoded = vc["credentialSubject"]["encodedList"][1:]  # multibase base64url, "u" prefix
    return gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def _profile(workers: list[int], folder: str, seconds: float) -> list:
    """py-spy on every worker for the measurement (``pip install --target /tmp/pyspy py-spy``, or py-spy on PATH)."""
    import shutil
    import subprocess
    from pathlib import Path

    spy = shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy"
    Path(folder).mkdir(parents=True, exist_ok=True)
    record = [spy, "record", "--rate", "200", "-f", "raw", "--duration", str(max(1, int(seconds)))]
    return [subprocess.Popen([*record, "-o", f"{folder}/worker-{pid}.txt", "--pid", str(pid)], stdout=subprocess.DEVNULL) for pid in workers]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench http-status")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--credentials", type=int, default=20_000, help="credentials issued first (each is revoked at most once)")
    parser.add_argument("--database-url")
    parser.add_argument("--profile", metavar="DIR", help="record each worker with py-spy (collapsed stacks, -f raw) into DIR while measuring")
    args = parser.parse_args(argv)
    with bench_service(workers=args.workers, database_url=args.database_url, env={"MICROCRED_STATUS_CACHE_SECONDS": "0"}) as service:
        clean = _measure(service, args)
        service.failed = not clean
    return 0 if clean else 1


def _measure(service: BenchService, args) -> bool:
    """Issue ``args.credentials`` by batch, warm every worker, then revoke them from ``args.clients`` clients."""
    url = service.url
    key = service.provider(f"bench-{os.getpid()}", "Bench")
    headers = {"Authorization": f"Bearer {key}"}
    example = json.loads(EXAMPLE.read_text())
    with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
        from app.credentials import specification_of

        spec_id = c.post("/specifications", json={"specification": specification_of(example), "published": True}).json()["id"]
        ids = []
        for start in range(0, args.credentials, 5000):  # batches of at most 5,000 (the default limit is 10,000)
            learner = {"givenName": {"en": "L"}, "familyName": {"en": "S"}}
            rows = range(start, min(args.credentials, start + 5000))
            records = [{"learner": {"email": f"l{i}@example.org", **learner}} for i in rows]
            batch = {"format": "ob3", "specificationId": spec_id, "records": records}
            submitted = c.post("/microcredentials/batch", json=batch)
            assert submitted.status_code == 202, submitted.text
            job = submitted.headers["location"]
            while (state := c.get(job).json())["status"] not in ("done", "failed"):
                time.sleep(0.5)
            assert state["issued"] == len(records), state
            after = -1
            while after is not None:
                page = c.get(f"{job}/items", params={"after": after, "limit": 1000}).json()
                ids += [i["credentialId"] for i in page["items"]]
                after = page["next"]
        first = c.get(f"/credentials/{ids[0]}").json()
        entries = first["credentialStatus"] if isinstance(first["credentialStatus"], list) else [first["credentialStatus"]]
        list_url = next(e["statusListCredential"] for e in entries if e["statusPurpose"] == "revocation")
        for cid in ids[:20]:  # warm every worker
            assert c.post("/credentials/status", json={"credentialId": cid, "status": "revoked"}).status_code == 200
    todo = ids[20:]
    per_client = [
        [
            build_request(url, "POST", "/credentials/status", json.dumps({"credentialId": cid, "status": "revoked"}).encode(), headers)
            for cid in todo[k :: args.clients]
        ]
        for k in range(args.clients)
    ]
    workers = service.workers()
    profilers = _profile(workers, args.profile, args.seconds) if args.profile else []
    cpu_before, own_before = cpu_seconds(workers), time.process_time()
    try:
        import uvloop

        result = uvloop.run(_run(url, per_client, args.seconds))
    except ImportError:  # pragma: no cover
        result = asyncio.run(_run(url, per_client, args.seconds))
    cpu_workers, cpu_clients = cpu_seconds(workers) - cpu_before, time.process_time() - own_before
    for profiler in profilers:
        profiler.wait()
    changes, errors = result.count(200), len(result.latencies) - result.count(200)
    wrapped = len(result.latencies) > len(todo)
    p50, p99 = result.percentile(0.5) * 1000, result.percentile(0.99) * 1000
    print(
        f"status changes on one list: {len(result.latencies)} in {result.elapsed:.1f} s over {args.clients} clients, "
        f"{args.workers} workers: {result.rate:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors"
        + (" (WRAPPED: raise --credentials)" if wrapped else "")
    )
    if result.latencies:
        n = len(result.latencies)
        print(f"  CPU per change: {1000 * cpu_workers / n:.2f} ms in the workers, {1000 * cpu_clients / n:.2f} ms in the load generator")
    if errors:
        print(f"  responses by status: {dict(sorted(result.statuses.items()))}; the service's log: {service.log}")
    with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
        bits = _revoked_bits(c, list_url)
        set_count = sum(bin(b).count("1") for b in bits)
    expected = 20 + changes if not wrapped else None
    verdict = f" (expected {expected}: {'none lost' if set_count == expected else 'MISMATCH'})" if expected else ""
    print(f"revoked in the published list: {set_count}{verdict}")
    met = result.rate >= 1000 and p99 < 100 and not errors
    print(f"{'met ' if met else 'MISSED'}  >= 1,000 status changes/s on one list with p99 < 100 ms")
    return not errors and (expected is None or set_count == expected)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
