// A Learner Credential Wallet stand-in for microcred's VC API exchanges, driven by tests/interop/test_vc_api_interop.py.
// It follows the request shapes of the DCC's learner-credential-wallet (app/lib/exchanges.ts: handleVcApiExchangeComplete,
// constructExchangeRequest; app/lib/credentialRequest.ts: requestCredential from the deep link), signing its DID
// Authentication presentation with Digital Bazaar's @digitalbazaar/vc and a did:key (Ed25519 Multikey, the
// DataIntegrityProof eddsa-rdfc-2022 suite; the LCW itself signs with Ed25519Signature2020, which is not installed here).
//
//   node vc_api_harness.mjs exchange < {"baseUrl", "contextsDir", "deepLink", "seed": "<32 bytes hex>",
//                                       "flow": "vcapi" | "direct", "challenge"?, "domain"?, "repeat"?: n}
//   → {"holder", "steps": [{"url", "status", "body"}]}
// vcapi: POST {} to vc_request_url → the VerifiablePresentationRequest → POST {"verifiablePresentation": VP(challenge,
// domain)} to interact.service[0].serviceEndpoint. direct: POST the bare VP (challenge only) to vc_request_url.
// "challenge"/"domain" replace what the service asked for (negative cases); "repeat" posts the same VP again.
// Contexts are read from contextsDir; nothing is fetched outside the test service.
import fs from 'node:fs';
import path from 'node:path';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as rdfcSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

console.log = console.info = console.warn = (...args) => console.error(...args);

let request = {};
let contexts = new Map();

function loadContexts(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const out = new Map();
  for(const [url, entry] of Object.entries(manifest)) {
    out.set(url, JSON.parse(fs.readFileSync(path.join(dir, entry.file), 'utf8')));
  }
  return out;
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  throw new Error(`document loader: ${url} is not a pinned context`);
}

async function post(url, body, steps) {
  if(new URL(url).origin !== new URL(request.baseUrl).origin) {
    throw new Error(`fetch outside the test service refused: ${url}`);
  }
  // exchanges.ts interactExchange / credentialRequest.ts: POST, Content-Type application/json
  const response = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body, null, 2)});
  const text = await response.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  steps.push({url, status: response.status, body: parsed});
  return parsed;
}

async function didAuth(challenge, domain) {
  const seed = Uint8Array.from(Buffer.from(request.seed, 'hex'));
  const keyPair = await Ed25519Multikey.generate({seed});
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  // constructExchangeRequest: an empty presentation with the holder, signed (purpose authentication)
  const presentation = vc.createPresentation({holder: did, version: 2.0});
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: rdfcSuite});
  const vp = await vc.signPresentation({presentation, suite, challenge, domain, documentLoader});
  return {did, vp};
}

async function exchange() {
  const link = new URL(request.deepLink);
  const params = Object.fromEntries(link.searchParams);
  // credentialRequest.ts isCredentialRequestParams / requestCredential
  if(!params.issuer || !params.vc_request_url || params.auth_type !== 'bearer') {
    throw new Error(`not an LCW credential request: ${request.deepLink}`);
  }
  const steps = [];
  let url = params.vc_request_url;
  let body;
  let holder;
  if(request.flow === 'direct') {
    const {did, vp} = await didAuth(request.challenge ?? params.challenge, request.domain);
    holder = did;
    body = vp;
  } else {
    const answer = await post(url, {}, steps);
    const vpr = answer && answer.verifiablePresentationRequest;
    if(!vpr) {
      return {steps};
    }
    const queries = Array.isArray(vpr.query) ? vpr.query : [vpr.query];
    if(!queries.some(q => q.type === 'DIDAuthentication' || q.type === 'DIDAuth')) {
      throw new Error(`no DIDAuthentication query: ${JSON.stringify(vpr)}`);
    }
    const {did, vp} = await didAuth(request.challenge ?? vpr.challenge, request.domain ?? vpr.domain);
    holder = did;
    body = {verifiablePresentation: vp};
    url = vpr.interact?.service?.[0]?.serviceEndpoint ?? url;
  }
  for(let i = 0; i < (request.repeat ?? 1); i++) {
    await post(url, body, steps);
  }
  return {holder, steps};
}

const mode = process.argv[2];
const input = fs.readFileSync(0, 'utf8');
request = JSON.parse(input);
contexts = loadContexts(request.contextsDir);
if(mode !== 'exchange') {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(JSON.stringify(await exchange()) + '\n');
