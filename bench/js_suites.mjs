// Digital Bazaar's eddsa-jcs-2022 and eddsa-rdfc-2022 (the JavaScript stack behind the DCC's issuer), timed on
// the documents `bench signing` gives it, for the same-run comparison (bench/signing.py runs this script).
//
//   node bench/js_suites.mjs < request.json  ->  {"<label>": {"<suite>": {"sign": s, "verify": s, "proofValue": …}}}
//
// request.json: {"contextsDir": ".../contexts", "seed": "<32 bytes hex>", "created": "…Z", "budget": seconds,
// "documents": {"<label>": <unsigned credential>}, "suites": ["eddsa-jcs-2022", …]}. Medians of the CPU time of
// single operations (process.cpuUsage: V8's helper threads count too), after a warm-up. Uses
// tests/interop/node_modules (the interop harness's pinned packages); contexts come only from
// the pinned folder, did:key is resolved locally, nothing reaches the network.
//
// Signing is jsonld-signatures' sign through @digitalbazaar/vc `issue` and verification `verifyCredential`, as an
// issuer or verifier built on this stack calls them (status checking answered locally: the proof is measured).

import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, '..', 'tests', 'interop', 'node_modules');
const require = createRequire(path.join(modules, 'noop.js'));
const load = async name => import(pathToFileURL(require.resolve(name)).href);

const vc = await load('@digitalbazaar/vc');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite: rdfcSuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const jcs = await load('@digitalbazaar/eddsa-jcs-2022-cryptosuite');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
const didKey = await load('@digitalbazaar/did-method-key');

const request = JSON.parse(fs.readFileSync(0, 'utf8'));
const manifest = JSON.parse(fs.readFileSync(path.join(request.contextsDir, 'manifest.json'), 'utf8'));
const contexts = new Map(Object.entries(manifest).map(([url, entry]) => [url, JSON.parse(fs.readFileSync(path.join(request.contextsDir, entry.file), 'utf8'))]));

const didKeyDriver = didKey.driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  if(url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: await didKeyDriver.get({url})};
  }
  throw new Error(`document loader: ${url} is not a pinned context or a did:key`);
}

const seed = Uint8Array.from(Buffer.from(request.seed, 'hex'));
const keyPair = await Ed25519Multikey.generate({seed});
const did = `did:key:${keyPair.publicKeyMultibase}`;
keyPair.controller = did;
keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
const date = new Date(request.created);

function signSuite(name) {
  const cryptosuite = name === 'eddsa-jcs-2022' ? jcs.createSignCryptosuite() : rdfcSuite;
  return new DataIntegrityProof({signer: keyPair.signer(), cryptosuite, date});
}
const verifySuites = [new DataIntegrityProof({cryptosuite: rdfcSuite}), new DataIntegrityProof({cryptosuite: jcs.createVerifyCryptosuite()})];
const checkStatus = async () => ({verified: true});

// CPU time of this process (user + system, in microseconds), as bench/signing.py measures its own side.
const cpu = () => {
  const {user, system} = process.cpuUsage();
  return (user + system) / 1000;
};

async function median(fn, budget) {
  await fn();
  const times = [];
  const started = cpu();
  while(times.length < 5 || (cpu() - started < budget * 1000 && times.length < 2000)) {
    const t = cpu();
    await fn();
    times.push(cpu() - t);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return (times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2) / 1000;
}

const out = {};
for(const [label, document] of Object.entries(request.documents)) {
  out[label] = {};
  for(const name of request.suites) {
    const sign = () => vc.issue({credential: structuredClone(document), suite: signSuite(name), documentLoader});
    const secured = await sign();
    const verify = async () => {
      const result = await vc.verifyCredential({credential: secured, suite: verifySuites, documentLoader, checkStatus});
      if(!result.verified) {
        throw new Error(`${label} ${name}: Digital Bazaar does not verify its own proof: ${JSON.stringify(result.error ?? result).slice(0, 400)}`);
      }
    };
    out[label][name] = {sign: await median(sign, request.budget), verify: await median(verify, request.budget), proofValue: secured.proof.proofValue};
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
