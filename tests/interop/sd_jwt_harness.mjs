// The OpenWallet Foundation's SD-JWT libraries (@sd-jwt/* 0.19.0) against microcred's SD-JWT VCs, driven by
// tests/interop/test_sd_jwt_interop.py.
//
//   node sd_jwt_harness.mjs verify  < {"baseUrl", "credential", "nonce"?, "requireKb"?}
//        -> {"verified", "payload", "kb", "typeMetadata", "error"}: signature, disclosures, KB-JWT, status, vct metadata
//   node sd_jwt_harness.mjs present < {"baseUrl", "credential", "holderJwk", "disclose": [names], "aud", "nonce"}
//        -> {"presentation"}: a presentation of the named claims with a KB-JWT signed by the holder's key
//   node sd_jwt_harness.mjs status  < {"baseUrl", "uri", "indices": [..]} -> {"bits", "statuses"}
//   node sd_jwt_harness.mjs metadata < {"baseUrl", "uri"} -> {"valid", "metadata" | "error"}: the Type Metadata document
//        read with the library's own schema (TypeMetadataFormatSchema)
//
// "typeMetadata": true makes verify fetch the vct and check vct#integrity too (loadTypeMetadataFormat).
//
// The issuer's key is found as a verifier does: the kid of the JWT's header is a DID URL of the provider's did:web,
// whose document is fetched from the live test service (did:web:127.0.0.1%3APORT -> baseUrl over plain http). Nothing
// else is fetched: globalThis.fetch refuses every URL outside the test service.


import {SDJwtVcInstance, TypeMetadataFormatSchema} from '@sd-jwt/sd-jwt-vc';
import {ES256, digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import {getListFromStatusListJWT} from '@sd-jwt/jwt-status-list';

console.log = console.info = console.warn = (...args) => console.error(...args);

const realFetch = globalThis.fetch;
let request = {};

globalThis.fetch = async (url, init) => {
  const target = new URL(typeof url === 'string' ? url : url.url);
  if(target.origin !== new URL(request.baseUrl).origin) {
    throw new Error(`fetch outside the test service refused: ${target}`);
  }
  return realFetch(url, init);
};

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// did:web method §3.2 in reverse, only for the host of the live test service.
function didWebUrl(did) {
  const base = new URL(request.baseUrl);
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  if(host !== base.host) {
    throw new Error(`did:web outside the test service refused: ${did}`);
  }
  return `${base.origin}/${parts.join('/')}/did.json`;
}

async function keyFor(kid) {
  if(!kid.startsWith('did:web:')) {
    throw new Error(`only did:web kids are resolved here: ${kid}`);
  }
  const did = kid.split('#')[0];
  const document = await (await fetch(didWebUrl(did))).json();
  const method = document.verificationMethod.find(m => m.id === kid);
  if(!method || !method.publicKeyJwk) {
    throw new Error(`no JsonWebKey method ${kid} in ${did}`);
  }
  if(!(document.assertionMethod || []).includes(kid)) {
    throw new Error(`${kid} is not an assertionMethod of ${did}`);
  }
  return method.publicKeyJwk;
}

// (data, signature) -> boolean, the key taken from the kid of the JWS header inside `data`
async function verifyByKid(data, signature) {
  const header = b64json(data.split('.')[0]);
  if(header.alg !== 'ES256') {
    throw new Error(`this harness verifies ES256 only, not ${header.alg}`);
  }
  const verifier = await ES256.getVerifier(await keyFor(header.kid));
  return verifier(data, signature);
}

async function kbVerifier(data, signature, payload) {
  const jwk = payload?.cnf?.jwk;
  if(!jwk || jwk.kty !== 'EC') {
    throw new Error('the SD-JWT has no P-256 cnf.jwk');
  }
  return (await ES256.getVerifier(jwk))(data, signature);
}

function instance(extra = {}) {
  return new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    verifier: verifyByKid,
    statusVerifier: verifyByKid,
    kbVerifier,
    loadTypeMetadataFormat: Boolean(request.typeMetadata),
    ...extra,
  });
}

async function verify() {
  try {
    const options = {};
    if(request.nonce) {
      options.keyBindingNonce = request.nonce;
    }
    const result = await instance().verify(request.credential, options);
    const claims = await instance().getClaims(request.credential);
    return {
      verified: true,
      header: result.header,
      payload: claims,
      kb: result.kb ? result.kb.payload : null,
      typeMetadata: result.typeMetadata ? result.typeMetadata.mergedTypeMetadata : null,
    };
  } catch(e) {
    return {verified: false, error: `${e.name}: ${e.message}`};
  }
}

async function present() {
  const holderJwk = request.holderJwk;
  const signer = await ES256.getSigner(holderJwk);
  const sdjwt = instance({kbSigner: signer, kbSignAlg: 'ES256'});
  const frame = Object.fromEntries(request.disclose.map(name => [name, true]));
  const presentation = await sdjwt.present(request.credential, frame, {
    kb: {payload: {iat: Math.floor(Date.now() / 1000), aud: request.aud, nonce: request.nonce}},
  });
  return {presentation};
}

async function status() {
  const token = await (await fetch(request.uri)).text();
  const header = b64json(token.split('.')[0]);
  const [head, body, signature] = token.split('.');
  const signed = await verifyByKid(`${head}.${body}`, signature);
  const list = getListFromStatusListJWT(token);
  return {typ: header.typ, signed, bits: list.getBitsPerStatus(), statuses: request.indices.map(i => list.getStatus(i))};
}

async function metadata() {
  const parsed = TypeMetadataFormatSchema.safeParse(await (await fetch(request.uri)).json());
  return parsed.success ? {valid: true, metadata: parsed.data} : {valid: false, error: String(parsed.error)};
}

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const mode = process.argv[2];
const handlers = {verify, present, status, metadata};
if(!handlers[mode]) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
const out = await handlers[mode]();
process.stdout.write(JSON.stringify(out) + '\n');
