// An independent OpenID4VP 1.0 holder answering microcred's requests, driven by tests/interop/test_oid4vp_interop.py:
// the OpenWallet Foundation's @openid4vc/openid4vp 0.4.6 resolves the request (fetches and verifies the signed
// Request Object, checks the client id prefix) and submits the response by direct_post; dcql 3.0.0 matches the held
// credentials against the DCQL query and checks the presentation answers it; the SD-JWT VC presentation is made by
// @sd-jwt/sd-jwt-vc 0.19.0 (withholding the claims not named), the ldp_vp by Digital Bazaar's @digitalbazaar/vc with
// an eddsa-rdfc-2022 proof whose challenge is the nonce and domain the client id.
//
//   node oid4vp_harness.mjs present < {"baseUrl", "contextsDir", "authorizationRequest": "openid4vp://…",
//        "sdJwt"?: {"credential", "holderJwk" (private P-256 JWK), "disclose": [names]},
//        "ldp"?: {"credential", "seed": "<32 bytes hex>"},
//        "tamper"?: "nonce" | "aud"}
//     -> {"clientId", "clientIdPrefix", "verifierName", "queryIds", "matched", "status", "body"}
//
// Nothing is fetched outside the test service: globalThis.fetch refuses every other URL, and the pinned JSON-LD
// contexts are read from contextsDir.

import fs from 'node:fs';
import path from 'node:path';

import {setGlobalConfig} from '@openid4vc/oauth2';
import {Openid4vpClient} from '@openid4vc/openid4vp';
import {DcqlQuery, DcqlPresentationResult} from 'dcql';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {ES256, digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as rdfcSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as jose from 'jose';
import crypto from 'node:crypto';

// the live test service is plain http on 127.0.0.1 (the library refuses http:// URLs unless told)
setGlobalConfig({allowInsecureUrls: true});

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

globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if(new URL(url).origin !== new URL(request.baseUrl).origin) {
    throw new TypeError(`fetch outside the test service refused: ${url}`);
  }
  return realFetch(input, init);
};

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  throw new Error(`document loader: ${url} is not a pinned context`);
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// did:jwk (the only decentralized_identifier: client id microcred uses): the key is the DID itself.
function didJwkKey(didUrl) {
  const did = didUrl.split('#')[0];
  if(!did.startsWith('did:jwk:')) {
    throw new Error(`only did:jwk is resolved here: ${didUrl}`);
  }
  return b64json(did.slice('did:jwk:'.length));
}

async function verifyJwt(signer, jwt) {
  let jwk;
  if(signer.method === 'did') {
    jwk = didJwkKey(signer.didUrl);
  } else if(signer.method === 'jwk') {
    jwk = signer.publicJwk;
  } else {
    return {verified: false};
  }
  try {
    const key = await jose.importJWK(jwk, jwt.header.alg);
    await jose.compactVerify(jwt.compact, key);
    return {verified: true, signerJwk: jwk};
  } catch(e) {
    return {verified: false, signerJwk: jwk};
  }
}

const callbacks = {
  fetch: globalThis.fetch,
  verifyJwt,
  hash: (data, alg) => crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  generateRandom: n => crypto.randomBytes(n),
  signJwt: async () => {
    throw new Error('this holder signs no JARM responses');
  },
  encryptJwe: async () => {
    throw new Error('this holder encrypts no responses');
  },
  decryptJwe: async () => {
    throw new Error('no encrypted requests expected');
  },
};

function sdJwtClaims(token) {
  const [jwt, ...rest] = token.split('~');
  const payload = b64json(jwt.split('.')[1]);
  const claims = {...payload};
  for(const d of rest.filter(Boolean)) {
    const decoded = b64json(d);
    if(decoded.length === 3) {
      claims[decoded[1]] = decoded[2];
    }
  }
  delete claims._sd;
  delete claims._sd_alg;
  return claims;
}

async function present() {
  const client = new Openid4vpClient({callbacks});
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: request.authorizationRequest});
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({authorizationRequestPayload: parsed.params});
  const payload = resolved.authorizationRequestPayload;
  const query = DcqlQuery.parse(resolved.dcql.query);
  DcqlQuery.validate(query);
  // what the holder has, in the dcql library's credential model
  const held = [];
  if(request.sdJwt) {
    const claims = sdJwtClaims(request.sdJwt.credential);
    held.push({credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true});
  }
  if(request.ldp) {
    const c = request.ldp.credential;
    held.push({credential_format: 'ldp_vc', type: expandedTypes(c.type), claims: c, cryptographic_holder_binding: true});
  }
  const result = DcqlQuery.query(query, held);
  const matched = Object.entries(result.credential_matches).filter(([, m]) => m.success).map(([id]) => id);
  if(!matched.length) {
    throw new Error(`no held credential matches the query: ${JSON.stringify(result.credential_matches).slice(0, 2000)}`);
  }
  const clientId = payload.client_id;
  const nonce = request.tamper === 'nonce' ? 'not-the-nonce' : payload.nonce;
  const aud = request.tamper === 'aud' ? 'decentralized_identifier:did:jwk:someone-else' : clientId;
  const vpToken = {};
  const presented = {};
  for(const id of matched.slice(0, 1)) {
    const sdJwt = query.credentials.find(q => q.id === id).format === 'dc+sd-jwt';
    vpToken[id] = [sdJwt ? await sdJwtPresentation(nonce, aud) : await ldpPresentation(nonce, aud)];
    const credential = held.find(h => (h.credential_format === 'dc+sd-jwt') === sdJwt);
    // what the verifier will see of an SD-JWT VC: the plain claims and the disclosed ones
    presented[id] = [sdJwt ? {...credential, claims: withheld(credential.claims)} : credential];
  }
  // the dcql library's own check that what will be sent answers the query
  const check = DcqlPresentationResult.fromDcqlPresentation(presented, {dcqlQuery: query});
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: {vp_token: vpToken},
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: response.authorizationResponsePayload,
  });
  const text = await submitted.response.text();
  return {
    clientId,
    clientIdPrefix: resolved.client.prefix,
    signedRequest: Boolean(resolved.jar),
    verifierName: payload.client_metadata?.client_name ?? null,
    version: resolved.version,
    queryIds: query.credentials.map(q => q.id),
    matched: Object.keys(vpToken),
    walletSideSatisfied: check.can_be_satisfied,
    responseMode: submitted.responseMode,
    status: submitted.response.status,
    body: text ? JSON.parse(text) : null,
  };
}

function withheld(claims) {
  const plain = b64json(request.sdJwt.credential.split('~')[0].split('.')[1]);
  const keep = new Set([...Object.keys(plain), ...request.sdJwt.disclose]);
  return Object.fromEntries(Object.entries(claims).filter(([name]) => keep.has(name)));
}

const TYPE_IRIS = {
  VerifiableCredential: 'https://www.w3.org/2018/credentials#VerifiableCredential',
  OpenBadgeCredential: 'https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential',
  EuropeanDigitalCredential: 'http://data.europa.eu/snb/model/elm/EuropeanDigitalCredential',
};

// B.1.1 type_values are expanded type IRIs; the two microcred types are mapped as their contexts define them
function expandedTypes(types) {
  return [].concat(types).map(t => TYPE_IRIS[t] ?? t);
}

async function sdJwtPresentation(nonce, aud) {
  const {credential, holderJwk, disclose} = request.sdJwt;
  const sdjwt = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(holderJwk), kbSignAlg: 'ES256',
  });
  const frame = Object.fromEntries(disclose.map(name => [name, true]));
  return sdjwt.present(credential, frame, {kb: {payload: {iat: Math.floor(Date.now() / 1000), aud, nonce}}});
}

async function ldpPresentation(challenge, domain) {
  const seed = Uint8Array.from(Buffer.from(request.ldp.seed, 'hex'));
  const keyPair = await Ed25519Multikey.generate({seed});
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  const presentation = vc.createPresentation({verifiableCredential: [request.ldp.credential], holder: did, version: 2.0});
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: rdfcSuite});
  return vc.signPresentation({presentation, suite, challenge, domain, documentLoader});
}

const mode = process.argv[2];
request = JSON.parse(fs.readFileSync(0, 'utf8'));
contexts = loadContexts(request.contextsDir);
let result;
try {
  if(mode !== 'present') {
    throw new Error(`unknown mode ${mode}`);
  }
  result = await present();
} catch(e) {
  result = {error: `${e.name}: ${e.message}`};
}
process.stdout.write(JSON.stringify(result) + '\n');
