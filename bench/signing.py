"""In-process signing and verification of what the service issues, each against references measured in the same run.

The credentials are what ``POST /microcredentials`` returns for the EU example (``bench/issued.py`` builds them
through ``Issuance.issue`` with default settings): the Open Badge 3.0 and the EDC (their proof removed and signed
again), the Open Badge with 1,000 learning outcomes, and the SD-JWT VC. References, each measured alternately with
microcred's own operation:

- the cryptographic floor: two SHA-256 hashes over the proof's own canonical bytes (proof configuration and
  document) and one Ed25519 signature (ES256 for the SD-JWT VC);
- a pyld-only pipeline: pyld ``normalize`` (URDNA2015 = RDFC-1.0) of document and proof configuration with the
  same pinned loader (pyld caches resolved contexts), SHA-256, the same Ed25519 signature;
- Digital Bazaar's JavaScript (``bench/js_suites.mjs`` with ``tests/interop/node_modules``), on the same documents
  with the same key and ``created``: the proofValues must be identical.

``--hsm``: the same signing with an Ed25519 key inside a SoftHSM2 token beside a file-backed key (needs softhsm2
and python-pkcs11; not part of the default run, so the bench runs where SoftHSM is absent).
"""

from __future__ import annotations

import json
import statistics
import time
from hashlib import sha256
from pathlib import Path

import base58
import nacl.signing
from pyld import jsonld

from app.dids.resolver import DidResolver
from app.jsonld import ContextLoader
from app.keys import Ed25519Signer
from app.performance import tune_gc
from app.proofs import SUITES, ProofEngine, vc_jose
from bench.credential import reference_credential

ROOT = Path(__file__).resolve().parent.parent
#: CPU time of this process: on a machine shared with other work, wall-clock medians of a millisecond-long
#: operation include the time-slices other processes took, and so penalise long operations more than the floor.
_clock = time.process_time


def floor_seconds(engine: ProofEngine, signer, doc: dict, suite: str, created: str) -> float:
    """Two SHA-256 hashes over the proof's own canonical bytes and one Ed25519 signature (the floor)."""
    secured = engine.add_proof(doc, signer, suite=suite, created=created)
    proof = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    data = engine.hash_data(SUITES[suite], {k: v for k, v in secured.items() if k != "proof"}, proof)
    config, document = data.canonical_proof_config, data.canonical_document
    return median_seconds(lambda: signer.sign(sha256(config).digest() + sha256(document).digest()))


def median_seconds(fn, *, min_runs: int = 5, budget: float = 2.0) -> float:
    fn()  # warm caches
    times = []
    started = _clock()
    while len(times) < min_runs or (_clock() - started < budget and len(times) < 2000):
        t = _clock()
        fn()
        times.append(_clock() - t)
    return statistics.median(times)


def paired_medians(ours, reference, *, min_pairs: int = 5, budget: float = 4.0) -> tuple[float, float]:
    """Medians of both pipelines, measured alternately (ours, reference, ours, …) so that the machine's
    noise falls on both alike; their ratio is the figure to trust."""
    ours()
    reference()
    a: list[float] = []
    b: list[float] = []
    started = _clock()
    while len(a) < min_pairs or (_clock() - started < budget and len(a) < 1000):
        t = _clock()
        ours()
        a.append(_clock() - t)
        t = _clock()
        reference()
        b.append(_clock() - t)
    return statistics.median(a), statistics.median(b)


class PyldOnly:
    """The reference pipeline: what a straightforward Python implementation does."""

    def __init__(self, loader: ContextLoader, signer: Ed25519Signer):
        self.options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader.pyld_loader, "safe": False}
        self.signer = signer

    def _hash(self, doc, proof):
        config = dict(proof, **{"@context": doc["@context"]})
        config.pop("proofValue", None)
        return sha256(jsonld.normalize(config, self.options).encode()).digest() + sha256(jsonld.normalize(doc, self.options).encode()).digest()

    def sign(self, doc, created):
        proof = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": created,
            "verificationMethod": self.signer.verification_method,
            "proofPurpose": "assertionMethod",
        }
        sig = self.signer.sign(self._hash(doc, proof))
        return dict(doc, proof=dict(proof, proofValue="z" + base58.b58encode(sig).decode()))

    def verify(self, secured):
        doc = {k: v for k, v in secured.items() if k != "proof"}
        proof = secured["proof"]
        nacl.signing.VerifyKey(self.signer.public_key()).verify(self._hash(doc, proof), base58.b58decode(proof["proofValue"][1:]))
        return True


def hsm_signer(folder: Path):
    """An Ed25519 key generated inside a fresh SoftHSM2 token in ``folder`` (as tests/hsm.py makes one)."""
    import os
    import subprocess

    from app.keys import ED25519, Pkcs11KeyStore

    module = Path(os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so"))
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    argv = ["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", "1234", "--so-pin", "12345678"]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    signer = Pkcs11KeyStore(module, "bench", None, "1234").create("bench-ed25519", ED25519)
    mb = signer.public_multibase()
    signer.verification_method = f"did:key:{mb}#{mb}"
    return signer


def hsm_comparison(engine: ProofEngine) -> int:
    """``--hsm``: signatures per second with a key in a PKCS#11 token (SoftHSM2) beside a file-backed key, same run:
    the raw Ed25519 signature, and the eddsa-jcs-2022, eddsa-rdfc-2022 and VC-JOSE signing of credential (a)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-hsm-") as folder:
        hsm = hsm_signer(Path(folder))
        file_key = Ed25519Signer.generate()
        mb = file_key.public_multibase()
        file_key.verification_method = f"did:key:{mb}#{mb}"
        created = "2026-06-30T10:00:00Z"
        rows = []

        def doc(key) -> dict:
            return reference_credential(key.verification_method.split("#")[0], 2)

        for name, make in [
            ("Ed25519 signature (64 B)", lambda k: lambda: k.sign(b"x" * 64)),
            ("eddsa-jcs-2022 sign (a)", lambda k: lambda d=doc(k): engine.add_proof(d, k, suite="eddsa-jcs-2022", created=created)),
            ("eddsa-rdfc-2022 sign (a)", lambda k: lambda d=doc(k): engine.add_proof(d, k, created=created)),
            ("VC-JOSE EdDSA sign (a)", lambda k: lambda d=doc(k): vc_jose.secure(d, k)),
        ]:
            on_file, on_hsm = paired_medians(make(file_key), make(hsm), budget=4.0)
            rows.append((name, 1 / on_file, 1 / on_hsm))
        secured = engine.add_proof(doc(hsm), hsm, created=created)
        assert engine.verify(secured).verified, "an HSM-signed proof does not verify"
    print(f"{'operation (one core)':<28} {'file key/s':>12} {'SoftHSM2/s':>12} {'HSM/file':>9}")
    for name, per_file, per_hsm in rows:
        print(f"{name:<28} {per_file:12,.0f} {per_hsm:12,.0f} {per_hsm / per_file:8.2f}x")
    return 0


def floor_of(engine: ProofEngine, signer, secured: dict, suite: str):
    """The floor of one proof, as a function: two SHA-256 hashes over that proof's own canonical bytes (proof
    configuration and document) and one Ed25519 signature over their concatenation."""
    proof = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    data = engine.hash_data(SUITES[suite], {k: v for k, v in secured.items() if k != "proof"}, proof)
    config, document = data.canonical_proof_config, data.canonical_document
    return lambda: signer.sign(sha256(config).digest() + sha256(document).digest()), len(config) + len(document)


def sd_jwt_case(service, budget: float) -> dict:
    """The SD-JWT VC of the EU example: rendered through the service's own plan (``Issuance._plan_microcredential``,
    status entries reserved as ``_start`` does), secured as ``Issuance._sign`` does (``secure``), verified with
    ``sd_jwt.verify``. Its floor: two SHA-256 over the issuer-signed JWT and one ES256 signature by the same key."""
    from datetime import UTC, datetime

    from app.issuance.service import secure
    from app.keys import P256Signer
    from app.proofs import sd_jwt
    from bench.issued import example_record

    issuance, provider = service.issuance, service.provider
    payload = {"format": "sd-jwt", "holder": {"jwk": P256Signer.generate().public_jwk()}, "microcredential": example_record()}
    issued = service.issue(payload)
    plan = issuance._plan_microcredential(provider, payload)
    credential_id = "urn:uuid:0b8f2c8e-6f7c-4d8a-9a3e-1c2d3e4f5a6b"
    claims = plan.render(credential_id, issuance.status_lists.reserve(provider, credential_id, plan.status_purposes), datetime.now(UTC))
    signer = service.sd_jwt_signer()
    token = secure(service.runtime.engine, claims, signer, sd_jwt.PROOF_FORMAT).decode()
    assert sd_jwt.verify(token, service.runtime.resolve_method).result.verified
    assert sd_jwt.verify(issued.decode(), service.runtime.resolve_method).result.verified
    jwt = token.split("~", 1)[0].encode()
    sign, floor_s = paired_medians(
        lambda: secure(service.runtime.engine, claims, signer, sd_jwt.PROOF_FORMAT),
        lambda: signer.sign(sha256(jwt).digest() + sha256(jwt).digest()),
        budget=budget,
    )
    verify, floor_v = paired_medians(
        lambda: sd_jwt.verify(token, service.runtime.resolve_method), lambda: signer.sign(sha256(jwt).digest() + sha256(jwt).digest()), budget=budget
    )
    return {
        "label": "sd-jwt",
        "suite": "SD-JWT VC (ES256)",
        "size": len(issued),
        "sign": sign,
        "verify": verify,
        "floor_sign": floor_s,
        "floor_verify": floor_v,
    }


def js_comparison(engine: ProofEngine, loader: ContextLoader, documents: dict[str, dict], budget: float) -> list[dict]:
    """Digital Bazaar's JavaScript (bench/js_suites.mjs) against microcred on the same documents, the same key (a did:key
    from one seed) and the same ``created``, measured one after the other in this run; the two proofValues must match."""
    import os
    import subprocess

    seed = bytes(range(32))
    signer = Ed25519Signer(seed)
    mb = signer.public_multibase()
    signer.verification_method = f"did:key:{mb}#{mb}"
    suites = ["eddsa-jcs-2022", "eddsa-rdfc-2022"]
    # Digital Bazaar's verifier binds the issuer to the key's controller: the documents name the did:key as issuer.
    did = f"did:key:{mb}"
    documents = {label: dict(doc, issuer=dict(doc["issuer"], id=did) if isinstance(doc["issuer"], dict) else did) for label, doc in documents.items()}
    request = {"contextsDir": str(loader.directory), "seed": seed.hex(), "created": CREATED, "budget": budget, "documents": documents, "suites": suites}
    script = ROOT / "bench" / "js_suites.mjs"
    done = subprocess.run(
        ["node", str(script)], input=json.dumps(request), capture_output=True, text=True, timeout=1200, env=dict(os.environ, NODE_NO_WARNINGS="1")
    )
    if done.returncode != 0:
        raise SystemExit(f"bench/js_suites.mjs failed: {done.stderr[-2000:]}")
    theirs = json.loads(done.stdout)
    rows = []
    for label, doc in documents.items():
        for suite in suites:
            secured = engine.add_proof(doc, signer, suite=suite, created=CREATED)
            sign = median_seconds(lambda doc=doc, suite=suite: engine.add_proof(doc, signer, suite=suite, created=CREATED), budget=budget)
            verify = median_seconds(lambda s=secured: engine.verify(s), budget=budget)
            js = theirs[label][suite]
            same = js["proofValue"] == secured["proof"]["proofValue"]
            rows.append({"label": label, "suite": suite, "sign": sign, "verify": verify, "js_sign": js["sign"], "js_verify": js["verify"], "same": same})
    return rows


CREATED = "2026-06-30T10:00:00Z"
TARGETS = {"eddsa-rdfc-2022": 5.0, "eddsa-jcs-2022": 2.0}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="bench signing")
    parser.add_argument("--hsm", action="store_true", help="SoftHSM2 key beside a file key (needs softhsm2)")
    parser.add_argument("--budget", type=float, default=1.0, help="scale every measuring budget (seconds) by this")
    parser.add_argument("--no-js", action="store_true", help="leave out Digital Bazaar's JavaScript (needs node and tests/interop/node_modules)")
    parser.add_argument("--js-1000", action="store_true", help="Digital Bazaar's JavaScript on the 1,000-outcome credential too")
    parser.add_argument("--cases", default="ob3,edc,ob3-1000,sd-jwt", help="which credentials (ob3, edc, ob3-1000, sd-jwt)")
    args = parser.parse_args(argv)
    from bench.issued import issued_service

    if args.hsm:
        return hsm_comparison(ProofEngine(ContextLoader(ROOT / "contexts"), DidResolver().dereference))
    wanted = args.cases.split(",")
    tune_gc()  # as the service does at start-up (app/performance.py); every pipeline runs under it
    with issued_service() as service:
        engine, loader, signer = service.runtime.engine, service.runtime.loader, service.signer()
        ref = PyldOnly(loader, signer)
        floors: list[dict] = []
        pyld_rows: list[tuple] = []
        plain_docs: dict[str, dict] = {}
        for label in [c for c in ("ob3", "edc", "ob3-1000") if c in wanted]:
            doc = service.unsigned(label.split("-")[0], 1000 if label.endswith("1000") else None)
            big = label.endswith("1000")
            budget = (10.0 if big else 3.0) * args.budget
            secured = engine.add_proof(doc, signer, created=CREATED)
            assert engine.verify(secured).verified
            # The engine adds the Data Integrity context to a VC 1.1 document (an EDC); the references sign that same document.
            plain = plain_docs[label] = {k: v for k, v in secured.items() if k != "proof"}
            assert ref.sign(plain, CREATED)["proof"]["proofValue"] == secured["proof"]["proofValue"], "pyld and microcred disagree on the signature"
            size = len(json.dumps(doc))
            for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
                mine = engine.add_proof(doc, signer, suite=suite, created=CREATED)
                assert engine.verify(mine).verified
                floor, nbytes = floor_of(engine, signer, mine, suite)
                sign, floor_s = paired_medians(lambda doc=doc, suite=suite: engine.add_proof(doc, signer, suite=suite, created=CREATED), floor, budget=budget)
                verify, floor_v = paired_medians(lambda s=mine: engine.verify(s), floor, budget=budget)
                floors.append(
                    {
                        "label": label,
                        "suite": suite,
                        "size": size,
                        "bytes": nbytes,
                        "sign": sign,
                        "verify": verify,
                        "floor_sign": floor_s,
                        "floor_verify": floor_v,
                    }
                )
            ref_budget = (20.0 if big else 3.0) * args.budget
            sign_ours, sign_ref = paired_medians(
                lambda doc=doc: engine.add_proof(doc, signer, created=CREATED), lambda p=plain: ref.sign(p, CREATED), budget=ref_budget
            )
            verify_ours, verify_ref = paired_medians(lambda s=secured: engine.verify(s), lambda s=secured: ref.verify(s), budget=ref_budget)
            jose = median_seconds(lambda doc=doc: vc_jose.secure(doc, signer), budget=budget)
            pyld_rows += [
                (label, "eddsa-rdfc-2022 sign", sign_ours, sign_ref),
                (label, "eddsa-rdfc-2022 verify", verify_ours, verify_ref),
                (label, "VC-JOSE EdDSA sign", jose, None),
            ]
        if "sd-jwt" in wanted:
            floors.append(sd_jwt_case(service, 3.0 * args.budget))
        # Digital Bazaar at 1,000 outcomes takes seconds per operation: only with --js-1000.
        js_docs = {k: v for k, v in plain_docs.items() if args.js_1000 or not k.endswith("1000")}
        js_rows = [] if args.no_js or not js_docs else js_comparison(engine, loader, js_docs, 2.0 * args.budget)
    report(floors, pyld_rows, js_rows)
    return 0


def report(floors: list[dict], pyld_rows: list[tuple], js_rows: list[dict]) -> None:
    """The three tables and the targets; every ratio is of two figures measured alternately in this run."""
    print("What POST /microcredentials issues for the EU example (bench/issued.py), against the floor measured alternately:")
    print(f"{'credential':<10} {'JSON':>9} {'suite':<18} {'sign':>10} {'verify':>10} {'floor':>10} {'sign/floor':>11} {'verify/floor':>13} {'verify/sign':>12}")
    for r in floors:
        print(
            f"{r['label']:<10} {r['size']:>9,} {r['suite']:<18} {_ms(r['sign']):>10} {_ms(r['verify']):>10} {_ms(r['floor_sign']):>10} "
            f"{r['sign'] / r['floor_sign']:10.1f}x {r['verify'] / r['floor_verify']:12.1f}x {r['verify'] / r['sign']:11.2f}x"
        )
    print()
    print(f"{'credential':<10} {'operation':<24} {'microcred':>12} {'pyld-only':>12} {'speed-up':>9} {'per s/core':>11}")
    for label, op, ours, theirs in pyld_rows:
        ratio = f"{theirs / ours:8.1f}x" if theirs else ""
        print(f"{label:<10} {op:<24} {_ms(ours):>12} {(_ms(theirs) if theirs else ''):>12} {ratio:>9} {1 / ours:11,.0f}")
    if js_rows:
        print()
        print("Digital Bazaar's JavaScript (bench/js_suites.mjs, @digitalbazaar/vc issue/verifyCredential), same documents and key:")
        print(f"{'credential':<10} {'suite':<16} {'sign':>10} {'JS sign':>10} {'faster':>8} {'verify':>10} {'JS verify':>10} {'faster':>8} {'same proof':>11}")
        for r in js_rows:
            print(
                f"{r['label']:<10} {r['suite']:<16} {_ms(r['sign']):>10} {_ms(r['js_sign']):>10} {r['js_sign'] / r['sign']:7.1f}x "
                f"{_ms(r['verify']):>10} {_ms(r['js_verify']):>10} {r['js_verify'] / r['verify']:7.1f}x {'yes' if r['same'] else 'NO':>11}"
            )
    print()
    for r in floors:
        limit = TARGETS.get(r["suite"])
        if limit is None:
            continue
        sign_limit = limit * 2 if r["label"].endswith("1000") and r["suite"] == "eddsa-rdfc-2022" else limit
        ok = r["sign"] / r["floor_sign"] <= sign_limit
        print(f"{'met ' if ok else 'MISSED'}  {r['suite']} sign ({r['label']}) <= {sign_limit:g}x the floor: {r['sign'] / r['floor_sign']:.1f}x")
        if r["suite"] == "eddsa-jcs-2022":
            ok = r["verify"] / r["floor_verify"] <= limit
            print(f"{'met ' if ok else 'MISSED'}  {r['suite']} verify ({r['label']}) <= {limit:g}x the floor: {r['verify'] / r['floor_verify']:.1f}x")
        else:
            ok = r["verify"] / r["sign"] <= 1.5
            print(f"{'met ' if ok else 'MISSED'}  {r['suite']} verify ({r['label']}) <= 1.5x its signing: {r['verify'] / r['sign']:.2f}x")
    for r in js_rows:
        if r["suite"] == "eddsa-jcs-2022":
            for op in ("sign", "verify"):
                ratio = r[f"js_{op}"] / r[op]
                print(f"{'met ' if ratio >= 10 else 'MISSED'}  eddsa-jcs-2022 {op} ({r['label']}) >= 10x faster than Digital Bazaar: {ratio:.1f}x")


if __name__ == "__main__":
    raise SystemExit(main([]))
