"""``python -m bench.hostile_input``: CPU seconds the live service spends refusing hostile bodies (issue 13).

Not a test: it prints figures. A real service (uvicorn in a thread, SQLite in a temporary folder) issues
one credential, then is sent, without an API key:

* ``proofValue``: that credential with a 64 KB base58 ``proofValue`` (base58 decoding is quadratic);
* ``presentation``: a presentation of as many copies of a minimal credential (``/credentials/issue``) as fit in the body limit;
* ``proof-set``: the minimal credential with as many copies of its proof as fit in the body limit.

Each figure is the process's CPU time (all threads) around one request, and the answer's status.
"""

from __future__ import annotations

import json
import random
import string
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VC2 = "https://www.w3.org/ns/credentials/v2"
sys.path.insert(0, str(ROOT))


def _timed(client: httpx.Client, path: str, body: bytes) -> tuple[float, float, int, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    return time.process_time() - cpu, time.perf_counter() - wall, r.status_code, len(body)


def main(argv: list[str]) -> int:
    from tests import live_server

    example = json.loads((ROOT / "app" / "credentials" / "example_input.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        server = live_server.start(f"sqlite:///{tmp}/bench.db", Path(tmp), rate_limit_enabled=False)
        try:
            _, key = server.app.state.issuance.providers.create(slug="bench", name="Bench", country="IE", homepage="https://bench.example")
            limit = server.settings.max_body_bytes
            with httpx.Client(base_url=server.url, timeout=600) as client:
                r = client.post("/microcredentials", json={"microcredential": example}, headers={"Authorization": f"Bearer {key}"})
                r.raise_for_status()
                vc = r.json()
                small = {"@context": [VC2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
                r = client.post("/credentials/issue", json={"credential": small}, headers={"Authorization": f"Bearer {key}"})
                r.raise_for_status()
                small = r.json()["verifiableCredential"]
                rows = []
                value = "z" + "".join(random.choices(string.digits[1:] + "ABCDEFGH", k=65_536))
                forged = dict(vc, proof=dict(vc["proof"], proofValue=value))
                body = json.dumps({"verifiableCredential": forged}).encode()
                rows.append(("proofValue 64 KB", *_timed(client, "/credentials/verify", body)))
                vc = small  # the smallest credential: the most of them fit in a body
                one = len(json.dumps(vc)) + 2
                many = max(1, (limit - 500) // one)
                vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "verifiableCredential": [vc] * many}
                body = json.dumps({"verifiablePresentation": vp, "options": {"challenge": "x" * 32}}).encode()
                rows.append((f"presentation of {many} credentials", *_timed(client, "/presentations/verify", body)))
                proof = json.dumps(vc["proof"])
                count = max(1, (limit - one - 500) // (len(proof) + 2))
                body = json.dumps({"verifiableCredential": dict(vc, proof=[vc["proof"]] * count)}).encode()
                rows.append((f"proof set of {count} proofs", *_timed(client, "/credentials/verify", body)))
                # The most the caps let through: 32 credentials of 4 proofs each; 4 proofs over 9,000 objects.
                four = dict(vc, proof=[vc["proof"]] * 4)
                vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "verifiableCredential": [four] * 32}
                body = json.dumps({"verifiablePresentation": vp, "options": {"challenge": "x" * 32}}).encode()
                rows.append(("presentation of 32 x 4 proofs (allowed)", *_timed(client, "/presentations/verify", body)))
                examples = "https://www.w3.org/ns/credentials/examples/v2"
                big = {"@context": [VC2, examples], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}
                big["credentialSubject"]["knows"] = [{"id": f"urn:example:{i}"} for i in range(9_000)]
                r = client.post("/credentials/issue", json={"credential": big}, headers={"Authorization": f"Bearer {key}"})
                r.raise_for_status()
                signed = r.json()["verifiableCredential"]
                body = json.dumps({"verifiableCredential": dict(signed, proof=[signed["proof"]] * 4)}).encode()
                rows.append(("9,000 objects x 4 proofs (allowed)", *_timed(client, "/credentials/verify", body)))
            for name, cpu, wall, status, size in rows:
                print(f"{name:40s} {size:>9,d} bytes  HTTP {status}  cpu {cpu:7.2f} s  wall {wall:7.2f} s")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
