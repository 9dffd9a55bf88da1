"""Run the five W3C / CCG VC test suites against this checkout of microcred, offline
(shared/docs/w3c-suites.md, as a script).

    python3 dev.py bench w3c-suites --suites DIR [--install] [--only vcdm,eddsa,...] [--out DIR]

DIR holds the suites' repositories, extracted (nothing is downloaded here; bring them with git or a snapshot):

    vc-data-model-2.0-test-suite/  vc-di-eddsa-test-suite/  vc-api-issuer-test-suite/
    vc-api-verifier-test-suite/    vc-bitstring-status-list-test-suite/
    deps/w3c-impl/ (w3c/vc-test-suite-implementations)  deps/ccg-impl/ (w3c-ccg/vc-test-suite-implementations)
    deps/di-assertion/ (w3c-ccg/data-integrity-test-suite-assertion)

``--install`` packs the three deps, points each suite's package.json at the tarballs (the implementations package
finds localConfig.cjs through app-root-path, so it must be a real copy under node_modules), drops lint/allure
devDependencies and runs ``npm install`` in each suite (from the npm registry; once per DIR).

Then: a fresh SQLite database and keys under ``<out>/run``, a did:key provider (the suites resolve only did:key
offline), ``microcred serve`` on 127.0.0.1:18500, an https front on 127.0.0.1:8443 (self-signed, openssl; the
VCDM suite unwraps ``{verifiableCredential}`` and the status-list suite fetches lists only over https), which
adds the provider's API key; one ``localConfig.cjs`` in every suite; each suite under mocha's JSON reporter;
a summary per suite (passed/total, failures with their message) in ``<out>/summary.json``. Every process it
starts is stopped at the end. Never commit suite code: DIR stays outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = {
    "vcdm": ("vc-data-model-2.0-test-suite", 59),
    "eddsa": ("vc-di-eddsa-test-suite", 57),
    "vc-api-issuer": ("vc-api-issuer-test-suite", 14),
    "vc-api-verifier": ("vc-api-verifier-test-suite", 18),
    "bsl": ("vc-bitstring-status-list-test-suite", 27),
}
DEPS = {
    "github:w3c/vc-test-suite-implementations": ("w3c-impl", "vc-test-suite-implementations-2.0.0.tgz"),
    "github:w3c-ccg/vc-test-suite-implementations": ("ccg-impl", "vc-test-suite-implementations-0.0.1.tgz"),
    "github:w3c-ccg/data-integrity-test-suite-assertion": ("di-assertion", "data-integrity-test-suite-assertion-0.0.1.tgz"),
}
PORT, TLS_PORT = 18500, 8443

# The https front of w3c-suites.md §4, without its diagnostics: forwards to microcred, adds the API key, logs.
PROXY = r"""
import https from 'node:https'; import http from 'node:http'; import fs from 'node:fs';
const [,, cert, key, apiKey, logFile, upstreamPort, listenPort] = process.argv;
const log = fs.createWriteStream(logFile, {flags: 'a'}); let n = 0;
https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, (req, res) => {
  const id = ++n; const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = {...req.headers, host: `127.0.0.1:${upstreamPort}`, 'x-forwarded-proto': 'https'};
    if(apiKey && !headers.authorization) headers.authorization = `Bearer ${apiKey}`;
    headers['content-length'] = body.length;
    const up = http.request({host: '127.0.0.1', port: +upstreamPort, method: req.method, path: req.url, headers}, ur => {
      const rc = []; ur.on('data', c => rc.push(c));
      ur.on('end', () => {
        const rb = Buffer.concat(rc); res.writeHead(ur.statusCode, ur.headers); res.end(rb);
        log.write(JSON.stringify({id, method: req.method, url: req.url, reqBody: body.toString('utf8'),
          status: ur.statusCode, resBody: rb.toString('utf8')}) + '\n');
      });
    });
    up.on('error', e => { res.writeHead(502); res.end(String(e)); });
    up.end(body);
  });
}).listen(+listenPort, '127.0.0.1', () => console.log('proxy listening', listenPort));
"""


def local_config(did: str, base: str) -> str:
    issuer = f"{base}/credentials/issue"
    return f"""const baseUrl = process.env.BASE_URL || '{base}';
const did = process.env.ISSUER_DID || '{did}';
module.exports = {{
  settings: {{enableInteropTests: false, testAllImplementations: false}},
  implementations: [{{
    name: 'microcred', implementation: 'microcred',
    issuers: [
      {{id: did, endpoint: '{issuer}', tags: ['vc2.0', 'eddsa-rdfc-2022', 'vc-api', 'BitstringStatusList']}},
      {{id: did, endpoint: '{issuer}', options: {{cryptosuite: 'eddsa-jcs-2022'}}, tags: ['eddsa-jcs-2022']}},
      {{id: did, endpoint: '{issuer}', options: {{proofFormat: 'vc+jwt'}}, tags: ['EnvelopingProof', 'JWT', 'vc-api']}}
    ],
    verifiers: [{{id: `${{baseUrl}}/credentials/verify`, endpoint: `${{baseUrl}}/credentials/verify`,
      tags: ['vc2.0', 'eddsa-rdfc-2022', 'eddsa-jcs-2022', 'vc-api', 'BitstringStatusList', 'EnvelopingProof', 'JWT']}}],
    vpVerifiers: [{{id: `${{baseUrl}}/presentations/verify`, endpoint: `${{baseUrl}}/presentations/verify`,
      tags: ['vc2.0', 'BitstringStatusList', 'EnvelopingProof']}}]
  }}]
}};
"""


def install(work: Path) -> None:
    packs = work / "deps" / "packs"
    packs.mkdir(parents=True, exist_ok=True)
    for folder, _ in DEPS.values():
        subprocess.run(["npm", "pack", "--pack-destination", str(packs)], cwd=work / "deps" / folder, check=True)
    for name, _ in SUITES.values():
        f = work / name / "package.json"
        p = json.loads(f.read_text())
        for section in ("dependencies", "devDependencies"):
            deps = p.get(section, {})
            for k, v in list(deps.items()):
                if v in DEPS:
                    deps[k] = f"file:{packs / DEPS[v][1]}"
                elif isinstance(v, str) and v.startswith("github:"):
                    print(f"UNHANDLED {name} {k} {v}", file=sys.stderr)
                if section == "devDependencies" and k.startswith(("eslint", "allure")):
                    del deps[k]
        f.write_text(json.dumps(p, indent=2))
        (work / name / "package-lock.json").unlink(missing_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=work / name, check=True)


def _wait(url: str, deadline: float) -> None:
    import httpx

    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def summarize(results: Path, total: int) -> dict:
    r = json.loads(results.read_text())
    stats = r["stats"]
    return {
        "passed": stats["passes"],
        "failed": stats["failures"],
        "pending": stats.get("pending", 0),
        "ran": stats["tests"],
        "total": total,
        "failures": [{"test": t["fullTitle"][:300], "error": (t.get("err") or {}).get("message", "")[:300]} for t in r["failures"]],
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench w3c-suites", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suites", type=Path, required=True, help="folder with the extracted suites and deps/")
    ap.add_argument("--install", action="store_true", help="pack the deps and npm install every suite first")
    ap.add_argument("--only", default=",".join(SUITES), help="comma-separated: " + ",".join(SUITES))
    ap.add_argument("--out", type=Path, default=None, help="results folder (default: <suites>/results)")
    args = ap.parse_args(argv)
    work = args.suites.resolve()
    if ROOT in work.parents or work == ROOT:
        print("the suites folder must be outside the repository (never commit suite code)", file=sys.stderr)
        return 2
    out = (args.out or work / "results").resolve()
    run = out / "run"
    (run / "keys").mkdir(parents=True, exist_ok=True)
    os.chmod(run / "keys", 0o700)
    if args.install:
        install(work)
    env = {
        **os.environ,
        "MICROCRED_BASE_URL": f"https://127.0.0.1:{TLS_PORT}",
        "MICROCRED_HOST": "127.0.0.1",
        "MICROCRED_PORT": str(PORT),
        "MICROCRED_DATABASE_URL": f"sqlite:///{run / 'microcred.db'}",
        "MICROCRED_KEYS_DIR": str(run / "keys"),
        "MICROCRED_DEMO_PROVIDER": "false",
        "MICROCRED_RATE_LIMIT_ENABLED": "false",
        "MICROCRED_LOG_FORMAT": "text",
    }
    (run / "microcred.db").unlink(missing_ok=True)
    py = sys.executable
    made = subprocess.run(
        [py, "-m", "app", "provider", "create", "--slug", "w3c", "--name", "W3C Test", "--country", "IE", "--did-method", "key", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    provider = json.loads(made.stdout.strip().splitlines()[-1])
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(run / "tls.key"),
            "-out",
            str(run / "tls.crt"),
            "-days",
            "30",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    (run / "proxy.mjs").write_text(PROXY)
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [py, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=open(run / "serve.log", "w"), stderr=subprocess.STDOUT, start_new_session=True
            )
        )
        _wait(f"http://127.0.0.1:{PORT}/health", time.time() + 180)
        procs.append(
            subprocess.Popen(
                [
                    "node",
                    str(run / "proxy.mjs"),
                    str(run / "tls.crt"),
                    str(run / "tls.key"),
                    provider["api_key"],
                    str(run / "proxy.jsonl"),
                    str(PORT),
                    str(TLS_PORT),
                ],
                stdout=open(run / "proxy.log", "w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        _wait(f"https://127.0.0.1:{TLS_PORT}/health", time.time() + 60)
        config = local_config(provider["did"], f"https://127.0.0.1:{TLS_PORT}")
        summary = {}
        for key in [k for k in args.only.split(",") if k]:
            name, total = SUITES[key]
            (work / name / "localConfig.cjs").write_text(config)
            results = out / f"results-{key}.json"
            with open(out / f"console-{key}.log", "w") as console:
                subprocess.run(
                    ["npx", "mocha", "tests/", "--reporter", "json", "--reporter-option", f"output={results}", "--timeout", "15000", "--preserve-symlinks"],
                    cwd=work / name,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "NODE_TLS_REJECT_UNAUTHORIZED": "0", "ISSUER_NAME_JWT": "microcred"},
                    timeout=1800,
                )
            summary[key] = summarize(results, total) if results.exists() else {"error": "no results (see the console log)"}
            s = summary[key]
            print(f"{key}: {s.get('passed')}/{total} passed ({s.get('ran')} ran, {s.get('failed')} failed, {s.get('pending')} pending)")
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"details: {out / 'summary.json'}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)
    return 0
