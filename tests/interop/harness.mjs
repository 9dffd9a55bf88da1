// Independent verifiers for microcred's interop tests (tests/interop/test_independent_verifiers.py).
//
//   node harness.mjs verify < request.json   -> one JSON verdict per library on stdout
//   node harness.mjs sign   < request.json   -> credentials signed by the independent libraries
//
// request.json: {"baseUrl": "http://127.0.0.1:PORT", "contextsDir": ".../contexts", "credential": <object or
// compact JWS string>, "presentation": <object>, "challenge": "...", "domain": "..."} for verify;
// {"contextsDir": ..., "credential": <unsigned object>, "seed": "<32 bytes hex>"} for sign.
//
// Nothing reaches the network: JSON-LD contexts come only from the repository's pinned contexts/ folder
// (contexts/manifest.json), did:key is resolved locally, did:web and status lists are fetched only from
// the live test service at baseUrl (did:web:127.0.0.1%3APORT -> baseUrl, plain http, since the test service
// has no TLS). globalThis.fetch is replaced by a guard that enforces the same for libraries that fetch on
// their own (the DCC's verifier-core builds its own document loader with remote fetching on).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as rdfcSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createSignCryptosuite as jcsSign, createVerifyCryptosuite as jcsVerify} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus as dbCheckStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as didKey from '@digitalbazaar/did-method-key';
import * as jose from 'jose';

// stdout carries only the verdict: libraries that log (the DCC's schema check does) log to stderr
console.log = console.info = console.warn = (...args) => console.error(...args);

const realFetch = globalThis.fetch;
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

// did:web method §3.2 in reverse, only for the host of the live test service.
function didWebUrl(did) {
  const base = new URL(request.baseUrl);
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  if(host !== base.host) {
    throw new Error(`did:web outside the test service refused: ${did}`);
  }
  const tail = parts.length ? parts.join('/') + '/did.json' : '.well-known/did.json';
  return `${base.origin}/${tail}`;
}

function ownUrl(url) {
  const u = new URL(url);
  const base = new URL(request.baseUrl);
  // the service's own https URLs (did:web implies https) are served by the plain-http test service
  if(u.host === base.host) {
    return `${base.origin}${u.pathname}${u.search}`;
  }
  return null;
}

async function fetchJson(url) {
  const response = await realFetch(url, {headers: {accept: 'application/did+json, application/vc+ld+json, application/json'}});
  if(!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  return response.json();
}

const didKeyDriver = didKey.driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

async function resolveDid(url) {
  const [did, fragment] = url.split('#');
  if(did.startsWith('did:key:')) {
    return didKeyDriver.get({url});
  }
  if(did.startsWith('did:web:')) {
    const doc = await fetchJson(didWebUrl(did));
    if(doc.id !== did) {
      throw new Error(`DID document id ${doc.id} is not ${did}`);
    }
    if(!fragment) {
      return doc;
    }
    const method = (doc.verificationMethod || []).find(m => m.id === url || m.id === `#${fragment}`);
    if(!method) {
      throw new Error(`${url} not in its DID document`);
    }
    return {'@context': doc['@context'], ...method};
  }
  throw new Error(`unsupported DID method: ${url}`);
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  if(url.startsWith('did:')) {
    return {contextUrl: null, documentUrl: url, document: await resolveDid(url)};
  }
  const own = ownUrl(url);
  if(own) {  // status list credentials of the live service
    return {contextUrl: null, documentUrl: url, document: await fetchJson(own)};
  }
  throw new Error(`document loader: ${url} is neither a pinned context nor the test service`);
}

// The fetch guard: pinned contexts answered from files, the test service (http or its https form)
// forwarded to baseUrl, everything else refused.
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if(contexts.has(url)) {
    return new Response(JSON.stringify(contexts.get(url)), {status: 200, headers: {'content-type': 'application/ld+json'}});
  }
  const own = request.baseUrl ? ownUrl(url) : null;
  if(own) {
    return realFetch(own, {headers: init?.headers ?? (typeof input === 'object' && input.headers) ?? {}});
  }
  throw new TypeError(`fetch refused by the interop harness (offline): ${url}`);
};

const dbSuites = [new DataIntegrityProof({cryptosuite: rdfcSuite}), new DataIntegrityProof({cryptosuite: jcsVerify()})];

function errorText(e) {
  if(!e) {
    return null;
  }
  if(Array.isArray(e)) {
    return e.map(errorText).join('; ');
  }
  const inner = e.errors ? ` [${errorText(e.errors)}]` : '';
  const cause = e.cause ? ` (cause: ${errorText(e.cause)})` : '';
  return `${e.name || 'Error'}: ${e.message || String(e)}${inner}${cause}`.slice(0, 2000);
}

function statusFlags(statusResult) {
  const out = {};
  for(const r of statusResult?.results ?? []) {
    out[r.credentialStatus?.statusPurpose ?? '?'] = r.status;
  }
  return out;
}

// The proof alone (status not read: a checkStatus that reads nothing), to tell a proof that verifies from a
// status entry the library cannot read.
async function digitalBazaarProof(credential) {
  try {
    const result = await vc.verifyCredential({credential, suite: dbSuites, documentLoader, checkStatus: async () => ({verified: true})});
    return {verified: result.verified === true, error: errorText(result.error)};
  } catch(e) {
    return {verified: false, error: errorText(e)};
  }
}

async function digitalBazaarCredential(credential) {
  try {
    const result = await vc.verifyCredential({
      credential, suite: dbSuites, documentLoader,
      checkStatus: options => dbCheckStatus({...options, verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true})
    });
    return {
      verified: result.verified === true,
      proof: await digitalBazaarProof(credential),
      status: result.statusResult ? statusFlags(result.statusResult) : null,
      statusVerified: result.statusResult ? result.statusResult.verified === true : null,
      statusError: errorText(result.statusResult?.error),
      error: errorText(result.error)
    };
  } catch(e) {
    return {verified: false, error: errorText(e)};
  }
}

async function digitalBazaarPresentation(presentation, challenge, domain) {
  try {
    const result = await vc.verify({
      presentation, suite: dbSuites, documentLoader, challenge, domain,
      checkStatus: options => dbCheckStatus({...options, verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true})
    });
    return {
      verified: result.verified === true,
      presentationVerified: result.presentationResult?.verified === true,
      credentials: (result.credentialResults || []).map(r => ({verified: r.verified === true, error: errorText(r.error)})),
      error: errorText(result.error)
    };
  } catch(e) {
    return {verified: false, error: errorText(e)};
  }
}

// The DCC's verdict: its signature step and its status steps (the registry step needs registries this
// test does not give, and its schema step fetches schemas, refused offline: neither is part of the verdict).
function dccVerdict(response) {
  if(response.errors) {
    return {verified: false, errors: response.errors.map(e => `${e.name}: ${e.message}`)};
  }
  const log = response.log || [];
  const step = id => log.find(s => s.id === id);
  const signature = step('valid_signature');
  const status = {};
  for(const s of log) {
    if(s.id.endsWith('_status')) {
      status[s.id.replace(/_status$/, '')] = s.error ? `error: ${s.error.message}` : !s.valid;
    }
  }
  const expired = step('expiration');
  return {
    verified: signature?.valid === true && (!expired || expired.valid !== false),
    signature: signature?.valid ?? null,
    status,
    log: log.map(s => ({id: s.id, valid: s.valid, error: s.error?.message}))
  };
}

async function dcc(kind, input, challenge) {
  let core;
  try {
    core = await import('@digitalcredentials/verifier-core');
  } catch(e) {
    return {verified: false, errors: [`cannot load verifier-core: ${errorText(e)}`]};
  }
  try {
    if(kind === 'credential') {
      return dccVerdict(await core.verifyCredential({credential: input, knownDIDRegistries: []}));
    }
    const result = await core.verifyPresentation({presentation: input, challenge, knownDIDRegistries: []});
    if(result.errors) {
      return {verified: false, errors: result.errors.map(e => `${e.name}: ${e.message}`)};
    }
    const creds = result.credentialResults.map(dccVerdict);
    return {
      verified: result.presentationResult.signature === 'valid' && creds.every(c => c.verified),
      presentationSignature: result.presentationResult.signature,
      presentationErrors: result.presentationResult.errors?.map(e => String(e.message).slice(0, 500)),
      credentials: creds
    };
  } catch(e) {
    return {verified: false, errors: [errorText(e)]};
  }
}

// jose: a vc+jwt (VC-JOSE-COSE §3.1.1) verified with the issuer's key from its DID document (publicKeyJwk,
// or the Multikey converted by Digital Bazaar's ed25519-multikey).
async function joseVerify(jws) {
  try {
    const header = jose.decodeProtectedHeader(jws);
    if(!header.kid) {
      return {verified: false, error: 'no kid'};
    }
    const method = await resolveDid(header.kid.includes('#') ? header.kid : `${header.kid}#${header.kid.slice(8)}`);
    let jwk = method.publicKeyJwk;
    if(!jwk) {
      const key = await Ed25519Multikey.from(method);
      jwk = await Ed25519Multikey.toJwk({keyPair: key});
    }
    const key = await jose.importJWK({...jwk, alg: header.alg}, header.alg);
    const {payload, protectedHeader} = await jose.compactVerify(jws, key);
    const claims = JSON.parse(new TextDecoder().decode(payload));
    const now = Date.now() / 1000;
    const expired = typeof claims.exp === 'number' && claims.exp < now;
    const notYet = typeof claims.nbf === 'number' && claims.nbf > now;
    return {verified: !expired && !notYet, typ: protectedHeader.typ, cty: protectedHeader.cty ?? null, alg: protectedHeader.alg,
      usedPublicKeyJwk: Boolean(method.publicKeyJwk), payload: claims};
  } catch(e) {
    return {verified: false, error: errorText(e)};
  }
}

async function verify() {
  const {credential, presentation, challenge, domain} = request;
  const out = {};
  if(typeof credential === 'string') {
    out.jose = await joseVerify(credential);
    return out;
  }
  if(presentation) {
    out.digitalbazaar = await digitalBazaarPresentation(presentation, challenge, domain);
    out.dcc = await dcc('presentation', presentation, challenge);
    return out;
  }
  out.digitalbazaar = await digitalBazaarCredential(credential);
  out.dcc = await dcc('credential', credential);
  return out;
}

// Signing with the independent libraries, as a did:key issuer from a fixed seed.
async function sign() {
  const seed = Uint8Array.from(Buffer.from(request.seed, 'hex'));
  const keyPair = await Ed25519Multikey.generate({seed});
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  const credential = {...request.credential, issuer: did};
  const out = {did};
  for(const [name, cryptosuite] of [['eddsa-rdfc-2022', rdfcSuite], ['eddsa-jcs-2022', jcsSign()]]) {
    const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite});
    out[name] = await vc.issue({credential: structuredClone(credential), suite, documentLoader});
  }
  // the same seed as an RFC 8410 PKCS#8 key, exported as a JWK by Node's crypto
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
  const jwk = crypto.createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'}).export({format: 'jwk'});
  const privateKey = await jose.importJWK({...jwk, alg: 'EdDSA'}, 'EdDSA');
  out['vc+jwt'] = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(credential)))
    .setProtectedHeader({alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc', kid: keyPair.id})
    .sign(privateKey);
  return out;
}

const mode = process.argv[2];
const input = fs.readFileSync(process.argv[3] || 0, 'utf8');
request = JSON.parse(input);
contexts = loadContexts(request.contextsDir);
const result = mode === 'sign' ? await sign() : await verify();
process.stdout.write(JSON.stringify(result) + '\n');
