"""Run the five W3C / CCG VC test suites against this checkout of microcred, offline
(shared/docs/w3c-suites.md, as a script).

    python3 dev.py bench w3c-suites --suites DIR [--install] [--only vcdm,eddsa,...] [--out DIR] [--no-stub]
    .venv/bin/python -m bench.w3c_suites --suites DIR ...   (the same; not as a file: bench/http.py would shadow http)

DIR holds the suites' repositories, extracted (nothing is downloaded here; bring them with git or a snapshot):

    vc-data-model-2.0-test-suite/  vc-di-eddsa-test-suite/  vc-api-issuer-test-suite/
    vc-api-verifier-test-suite/    vc-bitstring-status-list-test-suite/
    deps/w3c-impl/ (w3c/vc-test-suite-implementations)  deps/ccg-impl/ (w3c-ccg/vc-test-suite-implementations)
    deps/di-assertion/ (w3c-ccg/data-integrity-test-suite-assertion)

Only the suites named by ``--only`` (default: all five) and the deps they use need to be there.
``--install`` packs those deps (once: a tarball already in ``deps/packs`` is kept), points each chosen suite's
package.json at the tarballs (the implementations package finds localConfig.cjs through app-root-path, so it
must be a real copy under node_modules), drops lint/allure devDependencies and runs ``npm install`` in it (from
the npm registry, its ordinary client; the only download, and only with ``--install``).

Then: a fresh SQLite database and keys under ``<out>/run``, a did:key provider (the suites resolve only did:key
offline), ``microcred serve`` on 127.0.0.1:18500, an https front on 127.0.0.1:8443 (self-signed, openssl; the
VCDM suite unwraps ``{verifiableCredential}`` and the status-list suite fetches lists only over https), which
adds the provider's API key and logs every exchange to ``<out>/run/proxy.jsonl``; one ``localConfig.cjs`` in
every suite; each suite under mocha's JSON reporter; a summary per suite in ``<out>/summary.json``.

Positive and negative tests (w3c-suites.md §7): most tests are "must reject X", which a do-nothing server passes.
Unless ``--no-stub``, every chosen suite first runs against such a stub (a small node https server with an all-zero
status list) twice: refusing every POST, and answering an issue request with 201, the credential, a status entry
and a dummy proof. A test the refusing stub passes is negative; so is one it never reached (a before-all hook that
issues failed) that the accepting stub passes; every other test is *positive* (``negative_tests``). The summary
gives passed/ran and positive passed/positive ran, and lists every failure with its kind.
A positive test that fails because of the suite itself is listed in ``KNOWN_SUITE_DEFECTS`` with its source; the
run exits 1 when any other positive test fails, when a known defect passes or does not run (``judge``), or when a
suite gives no results. Every process it starts is
stopped at the end. Never commit suite code: DIR stays outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: key: (folder under DIR, the suite's fixed total with its default tags, the deps it needs)
SUITES = {
    "vcdm": ("vc-data-model-2.0-test-suite", 59, ("w3c-impl",)),
    "eddsa": ("vc-di-eddsa-test-suite", 57, ("w3c-impl", "di-assertion")),
    "vc-api-issuer": ("vc-api-issuer-test-suite", 14, ("ccg-impl",)),
    "vc-api-verifier": ("vc-api-verifier-test-suite", 18, ("ccg-impl",)),
    "bsl": ("vc-bitstring-status-list-test-suite", 27, ("w3c-impl",)),
}
#: the suites' GitHub dependencies: package.json value -> (folder under DIR/deps, the tarball ``npm pack`` makes)
DEPS = {
    "github:w3c/vc-test-suite-implementations": ("w3c-impl", "vc-test-suite-implementations-2.0.0.tgz"),
    "github:w3c-ccg/vc-test-suite-implementations": ("ccg-impl", "vc-test-suite-implementations-0.0.1.tgz"),
    "github:w3c-ccg/data-integrity-test-suite-assertion": ("di-assertion", "data-integrity-test-suite-assertion-0.0.1.tgz"),
}
PORT, TLS_PORT = 18500, 8443


@dataclass(frozen=True)
class KnownDefect:
    """A test that fails because of the suite, not microcred (README, implementation report): asserted, so the run
    fails when it starts passing (then remove it here) as it fails on any positive failure not listed."""

    suite: str  #: a key of SUITES
    title: str  #: mocha's fullTitle, exactly (with our implementation name, "microcred")
    defect: str  #: one sentence
    source: str  #: repository@commit of the snapshot run, file:line of the offending code or fixture
    issue: str = ""  #: an upstream issue, where one exists


_DI_ASSERTION = "w3c-ccg/data-integrity-test-suite-assertion@8d84d182f022f02049135f7d1ad3d5d0181e5560"
_LOADER = (
    "its documentLoader answers only from a static map of seven contexts (credentials v1/v2, data-integrity v1/v2, "
    "DID v1, Multikey v1, undefined-terms v2), so expanding a proof under any other @context fails with "
    '"Dereferencing a URL did not result in a valid JSON-LD object" (here https://www.w3.org/ns/credentials/status/v1, '
    "which the VC 1.1 status entry needs and Digital Bazaar's status library requires by URL)"
)
_LOADER_SOURCE = (
    f"{_DI_ASSERTION} vc-generator/documentLoader.js:49 (contexts.get(url), nothing else), "
    "map built in vc-generator/contexts.js:15-17; the test at suites/create.js:"
)
_LOADER_ISSUE = (
    "none found on the assertion library; the same issue (an issuer's added context missing from the suite's "
    "loader) raised for the VCDM suite: https://github.com/w3c/vc-data-model-2.0-test-suite/issues/102"
)
_EDDSA_ISSUERS = "Data Integrity (eddsa-rdfc-2022 issuers) microcred "
#: every test microcred fails for a reason of the suite's own, with its source (issue 11): the positive ones, and the
#: negative ones whose expectation contradicts the spec (so a change of microcred's right behaviour is noticed too)
KNOWN_SUITE_DEFECTS: tuple[KnownDefect, ...] = (
    KnownDefect(
        "eddsa",
        _EDDSA_ISSUERS + "The specific type of proof MUST be specified as a string that maps to a URL.",
        _LOADER,
        _LOADER_SOURCE + "67",
        _LOADER_ISSUE,
    ),
    KnownDefect(
        "eddsa",
        _EDDSA_ISSUERS + "A verification method is the means and information needed to verify the proof. "
        "If included, the value MUST be a string that maps to a [URL].",
        _LOADER,
        _LOADER_SOURCE + "166 (shouldMapToUrl, assertions.js:212)",
        _LOADER_ISSUE,
    ),
    KnownDefect(
        "eddsa",
        _EDDSA_ISSUERS + 'The reason the proof was created ("proof.proofPurpose") MUST be specified as a string that maps to a URL.',
        _LOADER,
        _LOADER_SOURCE + "185 (shouldMapToUrl, assertions.js:212)",
        _LOADER_ISSUE,
    ),
    KnownDefect(
        "eddsa",
        _EDDSA_ISSUERS + "The value of the cryptosuite property MUST be a string that identifies the cryptographic suite. If the processing "
        "environment supports subtypes of string, the type of the cryptosuite value MUST be the "
        "https://w3id.org/security#cryptosuiteString subtype of string.",
        _LOADER,
        _LOADER_SOURCE + "271",
        _LOADER_ISSUE,
    ),
    KnownDefect(
        "eddsa",
        "Data Integrity (eddsa-rdfc-2022 verifiers) microcred An OPTIONAL string value (proof.previousProof) or unordered list of "
        "string values. Each value identifies another data integrity proof that MUST verify before the current proof is processed.",
        'its previousProof fixtures put {"@context": {...}} inside the credential\'s @context array, a keyword redefinition '
        "error by JSON-LD 1.1 API §4.2.2 step 5 (pyld raises it; jsonld.js unwraps the object, which is how the suite signed it).",
        f"{_DI_ASSERTION} inputs/eddsa-rdfc-2022/2.0-previousProofStringOk-SimpleSigned2.json:5 and "
        "2.0-previousProofArrayOk-SimpleSigned2.json:5 (1.1-…:6), loaded by vc-generator/staticFixtures.js:9-27; the test at suites/verify.js:266",
        "https://github.com/w3c/json-ld-api/issues/590 (nested @context: not allowed; negative test er56 in w3c/json-ld-api#591)",
    ),
    KnownDefect(
        "vc-api-issuer",
        "Issue Credential - JWT microcred MUST successfully issue a credential.",
        "its JWT file is a copy of the Data Integrity one: it asserts an embedded proof, credentialSubject and issuer on the "
        "result, which an EnvelopedVerifiableCredential (VC 2.0 §4.13.1: @context, id the data: URL, type) never has.",
        "w3c-ccg/vc-api-issuer-test-suite@4aa46e285c24cf1f5afa5bb808bb086a39524f22 tests/11-issuer-jwt.js:30-41 calling "
        "tests/assertions.js:23 shouldBeIssuedVc (credentialSubject at :39)",
    ),
    *(
        KnownDefect(
            "vc-api-issuer",
            f'Issue Credential - {file} microcred credential MUST have property "issuer"',
            "a negative test against the VC API itself: it wants a credential without issuer refused, while the request's "
            "IssuerRequest schema says \"The presence of object 'issuer' is optional (and it SHOULD be omitted)\" "
            "(w3c/vcalm@24d8fc0 components/Issuer.yml:29, added 2024-02-27 in 23790c4; microcred signs it as the caller's DID, VC 2.0 §4.7).",
            f"w3c-ccg/vc-api-issuer-test-suite@4aa46e285c24cf1f5afa5bb808bb086a39524f22 {where} (delete body.credential.issuer, then shouldThrowInvalidInput)",
            "https://github.com/w3c/vcalm/issues/265 (issuer optional in an issue request; the text came with w3c/vcalm#365)",
        )
        for file, where in (("Data Integrity", "tests/10-issuer.js:123-132"), ("JWT", "tests/11-issuer-jwt.js:120-129"))
    ),
)

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
        log.write(JSON.stringify({id, t: new Date().toISOString(), method: req.method, url: req.url,
          reqBody: body.toString('utf8'), status: ur.statusCode, resBody: rb.toString('utf8')}) + '\n');
      });
    });
    up.on('error', e => { res.writeHead(502); res.end(String(e)); });
    up.end(body);
  });
}).listen(+listenPort, '127.0.0.1', () => console.log('proxy listening', listenPort));
"""

# The do-nothing server of w3c-suites.md §7, in two modes. "accept": 201 with the credential, a status entry and a
# dummy proof for any issue request with a credential, 400 for every other POST. "refuse": 400 for every POST.
STUB = r"""
import https from 'node:https'; import fs from 'node:fs'; import zlib from 'node:zlib';
const [,, cert, key, listenPort, did, mode] = process.argv;
const base = `https://127.0.0.1:${listenPort}`;
const encodedList = 'u' + zlib.gzipSync(Buffer.alloc(16384)).toString('base64url');
https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, (req, res) => {
  const chunks = []; req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const send = (status, body) => { res.writeHead(status, {'content-type': 'application/json'}); res.end(JSON.stringify(body)); };
    let body = null; try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch(e) {}
    if(req.method === 'GET' && req.url === '/health') return send(200, {status: 'ok'});
    if(req.method === 'GET' && req.url.startsWith('/status/')) {
      const id = base + req.url;
      return send(200, {'@context': ['https://www.w3.org/ns/credentials/v2'], id,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'], issuer: did, validFrom: '2026-01-01T00:00:00Z',
        credentialSubject: {id: id + '#list', type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList}});
    }
    const credential = body && body.credential;
    if(mode === 'accept' && req.method === 'POST' && req.url.startsWith('/credentials/issue') && credential && typeof credential === 'object') {
      const list = base + '/status/1';
      return send(201, {verifiableCredential: {...credential,
        credentialStatus: {id: list + '#0', type: 'BitstringStatusListEntry', statusPurpose: 'revocation',
          statusListIndex: '0', statusListCredential: list},
        proof: {type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', created: '2026-01-01T00:00:00Z',
          verificationMethod: did + '#' + did.slice(8), proofPurpose: 'assertionMethod', proofValue: 'z' + '1'.repeat(86)}}});
    }
    send(400, {error: 'stub'});
  });
}).listen(+listenPort, '127.0.0.1', () => console.log('stub listening', listenPort));
"""
#: any did:key: the stub signs nothing
STUB_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def local_config(did: str, base: str) -> str:
    """One localConfig.cjs for all five suites (w3c-suites.md §5 with its vc+jwt extras: EnvelopingProof, JWT)."""
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


def point_at_packs(package: dict, packs: Path) -> tuple[dict, list[str]]:
    """A suite's package.json with its GitHub dependencies replaced by the packed tarballs and its lint/allure
    devDependencies dropped; and the GitHub dependencies it does not know (to report). Idempotent."""
    package = json.loads(json.dumps(package))
    unknown = []
    for section in ("dependencies", "devDependencies"):
        deps = package.get(section, {})
        for name, value in list(deps.items()):
            if value in DEPS:
                deps[name] = f"file:{packs / DEPS[value][1]}"
            elif isinstance(value, str) and value.startswith("github:"):
                unknown.append(f"{name} {value}")
            if section == "devDependencies" and name.startswith(("eslint", "allure")):
                del deps[name]
    return package, unknown


def layout_problems(work: Path, keys: list[str], *, installed: bool) -> list[str]:
    """What is missing in DIR for these suites (before anything is started)."""
    problems = []
    for key in keys:
        folder, _, deps = SUITES[key]
        if not (work / folder / "package.json").is_file():
            problems.append(f"{key}: {work / folder} is not an extracted suite (no package.json)")
        elif installed and not (work / folder / "node_modules").is_dir():
            problems.append(f"{key}: {work / folder}/node_modules is missing (run once with --install)")
        if not installed:
            problems += [f"{key}: dependency {work / 'deps' / d} is missing" for d in deps if not (work / "deps" / d / "package.json").is_file()]
    return problems


def install(work: Path, keys: list[str]) -> None:
    packs = work / "deps" / "packs"
    packs.mkdir(parents=True, exist_ok=True)
    needed = {d for key in keys for d in SUITES[key][2]}
    for folder, tarball in DEPS.values():
        if folder in needed and not (packs / tarball).is_file():
            subprocess.run(["npm", "pack", "--pack-destination", str(packs)], cwd=work / "deps" / folder, check=True)
    for key in keys:
        name = SUITES[key][0]
        f = work / name / "package.json"
        package, unknown = point_at_packs(json.loads(f.read_text()), packs)
        for line in unknown:
            print(f"UNHANDLED {name} {line}", file=sys.stderr)
        f.write_text(json.dumps(package, indent=2))
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


def _titles(results: dict, kind: str) -> set[str]:
    return {t["fullTitle"] for t in results.get(kind, [])}


def negative_tests(refuse: dict, accept: dict) -> set[str]:
    """The tests a do-nothing server passes: those the refuse-everything stub passes ("must reject X"), and, where
    that stub never reached a test (a before-all hook that issues failed), those the accept-every-issue stub passes
    (such as a verifier's "must reject X" on a credential the hook issued). Every other test needs the
    implementation to issue or verify correctly: it is *positive*."""
    refuse_ran = _titles(refuse, "passes") | _titles(refuse, "failures") | _titles(refuse, "pending")
    return _titles(refuse, "passes") | (_titles(accept, "passes") - refuse_ran)


def summarize(results: dict, total: int, negative: set[str] | None = None) -> dict:
    """passed/ran/failed/pending of one mocha JSON report; given the negative tests (``negative_tests``), how many
    of the other, positive, tests ran and passed. Every failure is listed with its kind."""
    stats = results["stats"]
    passed = _titles(results, "passes")
    out = {
        "passed": stats["passes"],
        "failed": stats["failures"],
        "pending": stats.get("pending", 0),
        "ran": stats["tests"],
        "total": total,
    }
    if negative is not None:
        positive = (passed | _titles(results, "failures")) - negative
        out["positive_ran"] = len(positive)
        out["positive_passed"] = len(positive & passed)

    def kind(title: str) -> str:
        return "unknown" if negative is None else "negative" if title in negative else "positive"

    out["failures"] = [
        {"test": t["fullTitle"][:300], "kind": kind(t["fullTitle"]), "error": (t.get("err") or {}).get("message", "")[:300]} for t in results["failures"]
    ]
    return out


def judge(key: str, results: dict, summary: dict, known: tuple[KnownDefect, ...] = KNOWN_SUITE_DEFECTS) -> list[str]:
    """What makes this suite's run a failure (empty: it passes): a positive test that fails and is not a known suite
    defect; a known defect that now passes ("remove it from the table") or did not run at all (its title changed, or
    the suite did: the table no longer says what fails). Adds ``known_suite_defects`` (the titles) and ``problems``
    to the summary. Without the stub run a failure's kind is unknown: it is listed, and does not fail the run."""
    mine = {d.title: d for d in known if d.suite == key}
    passed, failed = _titles(results, "passes"), _titles(results, "failures")
    problems = []
    for f in summary["failures"]:
        if f["kind"] == "positive" and f["test"] not in mine and _full(results, f["test"]) not in mine:
            problems.append(f"positive test fails: {f['test']}")
    for title in sorted(mine):
        if title in passed:
            problems.append(f"known failure now passes: remove it from the table (KNOWN_SUITE_DEFECTS): {title}")
        elif title not in failed:
            problems.append(f"known failure did not run: {title}")
    summary["known_suite_defects"] = sorted(t for t in mine if t in failed)
    summary["problems"] = problems
    return problems


def _full(results: dict, truncated: str) -> str:
    """The failure's full title (``summarize`` cuts it at 300 characters)."""
    return next((t["fullTitle"] for t in results.get("failures", []) if t["fullTitle"][:300] == truncated), truncated)


def _mocha(work: Path, key: str, config: str, results: Path, console: Path) -> dict | None:
    folder = SUITES[key][0]
    (work / folder / "localConfig.cjs").write_text(config)
    results.unlink(missing_ok=True)
    with open(console, "w") as log:
        subprocess.run(
            ["npx", "mocha", "tests/", "--reporter", "json", "--reporter-option", f"output={results}", "--timeout", "15000", "--preserve-symlinks"],
            cwd=work / folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NODE_TLS_REJECT_UNAUTHORIZED": "0", "ISSUER_NAME_JWT": "microcred"},
            timeout=1800,
        )
    return json.loads(results.read_text()) if results.exists() else None


def _tls(run: Path) -> None:
    if (run / "tls.crt").exists() and (run / "tls.key").exists():
        return
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(run / "tls.key"), "-out", str(run / "tls.crt")]
        + ["-days", "30", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )


def _start(args: list[str], log: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True, **kw)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        p.wait(timeout=30)
    procs.clear()


def run_stub(work: Path, keys: list[str], out: Path, tls_port: int, mode: str) -> dict[str, dict]:
    """Every chosen suite against the stub in ``mode`` ("accept" or "refuse"): {key: mocha report}."""
    run = out / "run"
    (run / "stub.mjs").write_text(STUB)
    stub = ["node", str(run / "stub.mjs"), str(run / "tls.crt"), str(run / "tls.key"), str(tls_port), STUB_DID, mode]
    procs = [_start(stub, run / f"stub-{mode}.log")]
    reports = {}
    try:
        _wait(f"https://127.0.0.1:{tls_port}/health", time.time() + 60)
        config = local_config(STUB_DID, f"https://127.0.0.1:{tls_port}")
        for key in keys:
            report = _mocha(work, key, config, out / f"stub-{mode}-results-{key}.json", out / f"stub-{mode}-console-{key}.log")
            if report is not None:
                reports[key] = report
    finally:
        _stop(procs)
    return reports


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench w3c-suites", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suites", type=Path, required=True, help="folder with the extracted suites and deps/")
    ap.add_argument("--install", action="store_true", help="pack the deps and npm install the chosen suites first")
    ap.add_argument("--only", default=",".join(SUITES), help="comma-separated, one or more of: " + ",".join(SUITES))
    ap.add_argument("--out", type=Path, default=None, help="results folder (default: <suites>/results)")
    ap.add_argument("--no-stub", action="store_true", help="skip the stub run (no positive/negative split)")
    ap.add_argument("--port", type=int, default=PORT, help=f"microcred's own port (default {PORT})")
    ap.add_argument("--tls-port", type=int, default=TLS_PORT, help=f"the https front's port (default {TLS_PORT})")
    args = ap.parse_args(argv)
    work = args.suites.resolve()
    if ROOT in work.parents or work == ROOT:
        print("the suites folder must be outside the repository (never commit suite code)", file=sys.stderr)
        return 2
    keys = [k for k in args.only.split(",") if k]
    if unknown := [k for k in keys if k not in SUITES]:
        print(f"unknown suite {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    if problems := layout_problems(work, keys, installed=False):
        print("\n".join(problems), file=sys.stderr)
        return 2
    if args.install:
        install(work, keys)
    if problems := layout_problems(work, keys, installed=True):
        print("\n".join(problems), file=sys.stderr)
        return 2
    out = (args.out or work / "results").resolve()
    run = out / "run"
    (run / "keys").mkdir(parents=True, exist_ok=True)
    os.chmod(run / "keys", 0o700)
    _tls(run)
    negative: dict[str, set[str]] = {}
    if not args.no_stub:
        accept = run_stub(work, keys, out, args.tls_port, "accept")
        refuse = run_stub(work, keys, out, args.tls_port, "refuse")
        negative = {k: negative_tests(refuse[k], accept[k]) for k in keys if k in accept and k in refuse}
    base = f"https://127.0.0.1:{args.tls_port}"
    env = {
        **os.environ,
        "MICROCRED_BASE_URL": base,
        "MICROCRED_HOST": "127.0.0.1",
        "MICROCRED_PORT": str(args.port),
        "MICROCRED_DATABASE_URL": f"sqlite:///{run / 'microcred.db'}",
        "MICROCRED_KEYS_DIR": str(run / "keys"),
        "MICROCRED_DEMO_PROVIDER": "false",
        "MICROCRED_RATE_LIMIT_ENABLED": "false",
        "MICROCRED_LOG_FORMAT": "text",
    }
    (run / "microcred.db").unlink(missing_ok=True)
    (run / "proxy.jsonl").unlink(missing_ok=True)
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
    (run / "proxy.mjs").write_text(PROXY)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_start([py, "-m", "app", "serve"], run / "serve.log", cwd=ROOT, env=env))
        _wait(f"http://127.0.0.1:{args.port}/health", time.time() + 180)
        proxy = [str(run / "proxy.mjs"), str(run / "tls.crt"), str(run / "tls.key"), provider["api_key"], str(run / "proxy.jsonl")]
        procs.append(_start(["node", *proxy, str(args.port), str(args.tls_port)], run / "proxy.log"))
        _wait(f"{base}/health", time.time() + 60)
        config = local_config(provider["did"], base)
        summary = {}
        problems: list[str] = []
        for key in keys:
            total = SUITES[key][1]
            report = _mocha(work, key, config, out / f"results-{key}.json", out / f"console-{key}.log")
            if report is None:
                summary[key] = {"error": f"no results (see {out / f'console-{key}.log'})"}
                print(f"{key}: no results")
                problems.append(f"{key}: no results")
                continue
            s = summary[key] = summarize(report, total, negative.get(key))
            positive = f", positive {s['positive_passed']}/{s['positive_ran']}" if "positive_ran" in s else ""
            print(f"{key}: {s['passed']}/{s['ran']} passed{positive} ({s['failed']} failed, {s['pending']} pending; fixed total {total})")
            problems += [f"{key}: {p}" for p in judge(key, report, s)]
            print(f"  known suite defects: {len(s['known_suite_defects'])} (bench/w3c_suites.py KNOWN_SUITE_DEFECTS, summary.json)")
            for title in s["known_suite_defects"]:
                print(f"    {title[:150]}")
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"details: {out / 'summary.json'}")
        for p in problems:
            print(f"FAIL {p}")
        print("every positive test passes or is a known suite defect" if not problems else f"{len(problems)} problem(s)")
    finally:
        _stop(procs)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
