"""``python3 dev.py bench http-verify``: POST /credentials/verify over real HTTP, 2 workers, 16 clients.

The service runs as it would in production (``python -m app serve --workers 2``: uvloop, httptools) on
a free port, SQLite in a temporary folder, with the test-only loopback allowance so it can fetch its own
did:web documents and status lists. DID documents and status lists are cached (``did_cache_seconds``,
``status_cache_seconds``), so a verification is the proof, the issuer binding, the validity, a cached
status read, trust and EU completeness. The reference EU credential (app/credentials/example_input.json, OB3 with an
eddsa-rdfc-2022 proof) is issued 64 times, then 16 concurrent keep-alive clients (``bench.loadgen``: one
asyncio loop, so the client takes little of the two cores from the service) verify them for ~15 s.

In the same run, in process: the full verification pipeline against the pyld-only reference pipeline
(``bench.signing.PyldOnly``) on the same kind of credential, since only same-run ratios mean something
on these noisy machines. A missed target is printed as MISSED, never hidden.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import loadgen
from bench.loadgen import build_request

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "app" / "credentials" / "example_input.json"  # the same record as bench/http_issue.py issues
CLIENTS = 16
CREDENTIALS = 64
SECONDS = 15.0
TARGET_RPS = 500


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MICROCRED_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        MICROCRED_KEYS_DIR=str(tmp / "keys"),
        MICROCRED_BASE_URL=f"http://127.0.0.1:{port}",
        MICROCRED_HOST="127.0.0.1",
        MICROCRED_PORT=str(port),
        MICROCRED_FETCH_ALLOW_LOOPBACK="true",
        MICROCRED_ENVIRONMENT="test",
        MICROCRED_DEMO_PROVIDER="false",
        MICROCRED_DID_CACHE_SECONDS="300",
        MICROCRED_STATUS_CACHE_SECONDS="60",
        MICROCRED_RATE_LIMIT_ENABLED="false",  # a load generator on one address is not what the limiter is for
        MICROCRED_LOG_LEVEL="WARNING",
    )
    env.pop("DATABASE_URL", None)
    return env


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:  # a deadline for hangs (a loaded machine migrates slowly)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out: the service did not answer /health within {timeout:g} s")


def _in_process() -> tuple[float, float, float]:
    """Median seconds: full pipeline, proof only, pyld-only reference (same credential, same run)."""
    from app.dids.resolver import DidResolver
    from app.jsonld import ContextLoader
    from app.keys import Ed25519Signer
    from app.proofs import ProofEngine
    from app.verification import Verifier
    from app.verification.completeness_check import completeness_check
    from app.verification.trust import TrustCheck, TrustRegistry
    from bench.credential import reference_credential
    from bench.signing import PyldOnly, median_seconds

    loader = ContextLoader(ROOT / "contexts")
    resolve = DidResolver().dereference
    engine = ProofEngine(loader, resolve)
    signer = Ed25519Signer.generate()
    mb = signer.public_multibase()
    signer.verification_method = f"did:key:{mb}#{mb}"
    secured = engine.add_proof(reference_credential(f"did:key:{mb}", 2), signer, created="2026-06-30T10:00:00Z")
    verifier = Verifier(loader, engine, resolve, trust_check=TrustCheck(TrustRegistry()), completeness_check=completeness_check)
    assert verifier.verify(secured).verified
    ref = PyldOnly(loader, signer)
    assert ref.verify(secured)
    full = median_seconds(lambda: verifier.verify(secured), budget=3.0)
    proof = median_seconds(lambda: engine.verify(secured), budget=3.0)
    pyld = median_seconds(lambda: ref.verify(secured), budget=3.0, min_runs=3)
    return full, proof, pyld


def verify_http() -> int:
    if not SAMPLE.exists():
        print(f"the reference EU credential input {SAMPLE} is missing")
        return 2
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmpdir:
        tmp = Path(tmpdir)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = _env(tmp, port)
        made = subprocess.run(
            [sys.executable, "-m", "app", "provider", "create", "--slug", "bench", "--name", "Bench", "--country", "IE", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        api_key = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
        proc = subprocess.Popen(
            # stderr to a file, never an unread pipe: the service logs a line per request and would block on a full pipe.
            [sys.executable, "-m", "app", "serve", "--workers", "2", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "service.log", "wb"),
        )
        try:
            _wait_up(url, proc)
            sample = json.loads(SAMPLE.read_text())
            bodies = []
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as c:
                for _ in range(CREDENTIALS):  # distinct credentials: every verification does the whole work
                    issued = c.post("/microcredentials", json={"format": "ob3", "proof": "eddsa-rdfc-2022", "microcredential": sample})
                    issued.raise_for_status()
                    bodies.append(json.dumps({"verifiableCredential": issued.json(), "options": {}}).encode())
            check = httpx.post(f"{url}/credentials/verify", content=bodies[0], headers={"Content-Type": "application/json"}, timeout=30)
            if check.status_code != 200:
                print(f"the reference credential did not verify: {check.status_code} {check.text[:500]}")
                return 1
            requests = [build_request(url, "POST", "/credentials/verify", body) for body in bodies]
            loadgen.run(url, requests, clients=CLIENTS, seconds=2.0)  # warm both workers' DID and status caches
            result = loadgen.run(url, requests, clients=CLIENTS, seconds=SECONDS)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    rps, elapsed, errors = result.rate, result.elapsed, len(result.latencies) - result.count(200)
    p50, p99 = result.percentile(0.5), result.percentile(0.99)
    full, proof, pyld = _in_process()
    print(
        f"POST /credentials/verify, {CREDENTIALS} distinct EU reference credentials (OB3, eddsa-rdfc-2022, status entries), "
        f"2 workers, {CLIENTS} clients, {elapsed:.1f} s"
    )
    print(f"  {len(result.latencies):,} requests, {errors} not 200: {rps:,.0f} verifications/s, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print("in process, one core, same run (reference credential, did:key):")
    print(f"  full pipeline (proof, binding, validity, trust, EU completeness) {full * 1000:7.3f} ms  {1 / full:7,.0f}/s")
    print(f"  proof only (JSON-LD walk, bounded RDFC-1.0)                    {proof * 1000:7.3f} ms  {1 / proof:7,.0f}/s")
    print(
        f"  pyld-only reference verify                                      {pyld * 1000:7.3f} ms  {1 / pyld:7,.0f}/s  "
        f"({pyld / full:.1f}x slower than the full pipeline)"
    )
    ok = rps >= TARGET_RPS and errors == 0
    print(f"{'met ' if ok else 'MISSED'}  >= {TARGET_RPS} verifications/s over HTTP with every answer 200 (measured {rps:,.0f}/s, {errors} errors)")
    return 0


def main(argv: list[str]) -> int:
    which = argv[0] if argv else "http-verify"
    if which in ("http-verify", "http"):
        return verify_http()
    print(f"bench {which}: not implemented here (bench/http.py measures http-verify)")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
