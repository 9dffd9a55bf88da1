"""``python3 dev.py bench oid4vci``: full OpenID4VCI redemptions through HTTP, the service on 2 workers.

Starts ``microcred serve --workers 2`` on a free port with a fresh SQLite database (or the PostgreSQL of
``--database-url``), creates a provider, then creates ``--offers`` offers (the EU example, one configuration; not
measured) and lets ``--clients`` concurrent wallets redeem them: each redemption is the token request (the
pre-authorized code and tx_code), the nonce request and the credential request with a fresh P-256 proof, timed from
the first request's start to the credential's arrival. Prints redemptions/s, p50 and p99 of a whole redemption.

The wallets run in this process (asyncio, one proof signature each): on a 2-core machine they take CPU from the
service, so the figure is a floor; the CPU seconds the workers spent per redemption (``cpu_seconds``) is the figure
that a shared machine disturbs least.

Target (issue 15): ≥ 300 redemptions/s with p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time

import httpx

from app.keys import P256Signer
from bench.service import EXAMPLE, bench_service, cpu_seconds

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _proof(signer: P256Signer, aud: str, nonce: str) -> str:
    header = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": signer.public_jwk()}
    signing_input = _b64u(json.dumps(header).encode()) + "." + _b64u(json.dumps({"aud": aud, "iat": int(time.time()), "nonce": nonce}).encode())
    return signing_input + "." + _b64u(signer.sign(signing_input.encode()))


async def _redeem(http: httpx.AsyncClient, offer: dict, holder: P256Signer, configuration: str) -> float:
    t = time.perf_counter()
    issuer = offer["credential_offer"]["credential_issuer"]
    code = offer["credential_offer"]["grants"][GRANT]["pre-authorized_code"]
    r = await http.post(f"{issuer}/token", data={"grant_type": GRANT, "pre-authorized_code": code, "tx_code": offer["tx_code"]})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = await http.post(f"{issuer}/nonce")
    assert r.status_code == 200, r.text
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [_proof(holder, issuer, r.json()["c_nonce"])]}}
    r = await http.post(f"{issuer}/credential", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return time.perf_counter() - t


async def _run(url: str, offers: list[dict], clients: int, configuration: str) -> tuple[list[float], int, float]:
    queue: asyncio.Queue = asyncio.Queue()
    for offer in offers:
        queue.put_nowait(offer)
    latencies: list[float] = []
    errors = 0
    holder = P256Signer.generate()

    async def wallet() -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30) as http:
            while not queue.empty():
                offer = queue.get_nowait()
                try:
                    latencies.append(await _redeem(http, offer, holder, configuration))
                except (AssertionError, httpx.HTTPError):
                    errors += 1

    t = time.perf_counter()
    await asyncio.gather(*(wallet() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - t


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench oid4vci")
    parser.add_argument("--offers", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--configuration", default="eu_microcredential_sd_jwt")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    example = json.loads(EXAMPLE.read_text())
    with bench_service(workers=args.workers, database_url=args.database_url) as service:
        key = service.provider("bench")
        body = json.dumps({"microcredential": example, "configurations": [args.configuration]}).encode()
        with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, timeout=60) as c:
            offers = []
            for _ in range(args.offers + 50):
                r = c.post("/microcredentials/offers", content=body)
                assert r.status_code == 201, r.text
                offers.append(r.json())
        asyncio.run(_run(service.url, offers[:50], 4, args.configuration))  # warm every worker's caches
        workers = service.workers()
        cpu_before, own_before = cpu_seconds(workers), time.process_time()
        latencies, errors, elapsed = asyncio.run(_run(service.url, offers[50:], args.clients, args.configuration))
        cpu_workers, cpu_clients = cpu_seconds(workers) - cpu_before, time.process_time() - own_before
        latencies.sort()
        rate = len(latencies) / elapsed
        p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0
        print(
            f"oid4vci redemptions ({args.configuration}; token + nonce + credential): {len(latencies)} in {elapsed:.1f} s over "
            f"{args.clients} wallets, {args.workers} workers: {rate:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors"
        )
        if latencies:
            n = len(latencies)
            print(f"  CPU per redemption: {1000 * cpu_workers / n:.2f} ms in the workers, {1000 * cpu_clients / n:.2f} ms in the wallets")
        print(f"{'met ' if rate >= 300 and p99 < 100 else 'MISSED'}  redemptions >= 300/s with p99 < 100 ms")
        service.failed = bool(errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
