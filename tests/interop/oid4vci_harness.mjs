// An independent OpenID4VCI 1.0 wallet: the OpenWallet Foundation's @openid4vc/openid4vci, @openid4vc/oauth2 and
// @openid4vc/utils 0.4.6, driven by tests/interop/test_oid4vci_interop.py against the live service.
//
//   node oid4vci_harness.mjs flow < {"baseUrl", "offer": "openid-credential-offer://…", "txCode", "configuration",
//        "dpop": bool, "holders": ["ES256" | "EdDSA", …], "binding": "jwk" | "did:jwk"}
//        -> {"offer", "metadata", "tokenType", "credentials": [...], "holders": [{"publicJwk", "privateJwk", "did"}]}
//        the offer resolved (by value or by reference), the issuer and authorization server metadata read, a token
//        for the pre-authorized code with the tx_code (DPoP-bound when "dpop"), a c_nonce from the nonce endpoint,
//        one proof per holder key (openid4vci-proof+jwt), the credentials received.
//   node oid4vci_harness.mjs token < {"baseUrl", "offer", "txCode"} -> {"ok", "error"}: only the token request
//        (for the refusals: a wrong tx_code, a replayed code, an expired offer).
//
// Nothing is fetched outside the test service: globalThis.fetch refuses every other origin.

import crypto from 'node:crypto';
import {setGlobalConfig} from '@openid4vc/utils';
import {clientAuthenticationAnonymous, calculateJwkThumbprint, HashAlgorithm} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import * as jose from 'jose';

console.log = console.info = console.warn = (...args) => console.error(...args);
setGlobalConfig({allowInsecureUrls: true});

const realFetch = globalThis.fetch;
let request = {};

globalThis.fetch = async (url, init) => {
  const target = new URL(typeof url === 'string' ? url : url.url);
  if(target.origin !== new URL(request.baseUrl).origin) {
    throw new Error(`fetch outside the test service refused: ${target}`);
  }
  return realFetch(url, init);
};

// The signing keys of this wallet, by their public JWK's thumbprint (the library hands us the signer it wants).
const privateKeys = new Map();

async function newKey(alg) {
  const {privateKey} = await jose.generateKeyPair(alg, {extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined});
  const privateJwk = await jose.exportJWK(privateKey);
  const {d, ...publicJwk} = privateJwk;
  privateKeys.set(await jose.calculateJwkThumbprint(publicJwk), {alg, privateKey, privateJwk, publicJwk});
  return {alg, privateJwk, publicJwk};
}

function didJwk(publicJwk) {
  return 'did:jwk:' + Buffer.from(JSON.stringify(publicJwk)).toString('base64url');
}

async function keyOf(signer) {
  let jwk = signer.publicJwk;
  if(signer.method === 'did') {
    jwk = JSON.parse(Buffer.from(signer.didUrl.split('#')[0].slice('did:jwk:'.length), 'base64url').toString('utf8'));
  }
  const key = privateKeys.get(await jose.calculateJwkThumbprint(jwk));
  if(!key) {
    throw new Error(`no private key for signer ${JSON.stringify(signer)}`);
  }
  return key;
}

const callbacks = {
  fetch: globalThis.fetch,
  hash: (data, alg) => {
    if(alg !== HashAlgorithm.Sha256) {
      throw new Error(`hash ${alg} not supported here`);
    }
    return new Uint8Array(crypto.createHash('sha256').update(data).digest());
  },
  generateRandom: bytes => new Uint8Array(crypto.randomBytes(bytes)),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, {header, payload}) => {
    const key = await keyOf(signer);
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({...header, alg: key.alg})
      .sign(key.privateKey);
    return {jwt, signerJwk: key.publicJwk};
  },
};

function errorText(e) {
  const response = e?.response ?? e?.errorResponse;
  const body = e?.errorResponse ?? e?.response?.body;
  return `${e?.name}: ${e?.message}${body ? ' ' + JSON.stringify(body) : ''}${response?.status ? ' status ' + response.status : ''}`;
}

async function token(client, offer, metadata, txCode, dpopKey) {
  const options = {credentialOffer: offer, issuerMetadata: metadata, txCode};
  if(dpopKey) {
    options.dpop = {signer: {method: 'jwk', alg: dpopKey.alg, publicJwk: dpopKey.publicJwk}};
  }
  return client.retrievePreAuthorizedCodeAccessTokenFromOffer(options);
}

async function flow() {
  const client = new Openid4vciClient({callbacks});
  const offer = await client.resolveCredentialOffer(request.offer);
  const metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const dpopKey = request.dpop ? await newKey('ES256') : undefined;
  const {accessTokenResponse, dpop} = await token(client, offer, metadata, request.txCode, dpopKey);
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata: metadata});
  const holders = [];
  const jwts = [];
  for(const alg of request.holders) {
    const key = await newKey(alg);
    const did = didJwk(key.publicJwk);
    const signer = request.binding === 'jwk'
      ? {method: 'jwk', alg, publicJwk: key.publicJwk}
      : {method: 'did', alg, didUrl: `${did}#0`};
    const jwt = await client.createCredentialRequestJwtProof({
      issuerMetadata: metadata, credentialConfigurationId: request.configuration, signer, nonce,
    });
    holders.push({publicJwk: key.publicJwk, privateJwk: key.privateJwk, did});
    jwts.push(typeof jwt === 'string' ? jwt : jwt.jwt);
  }
  const response = await client.retrieveCredentials({
    issuerMetadata: metadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: request.configuration,
    proofs: {jwt: jwts},
    dpop,
  });
  const body = response.credentialResponse;
  return {
    offer,
    metadata: {
      credentialIssuer: metadata.credentialIssuer.credential_issuer,
      authorizationServers: metadata.authorizationServers.map(s => s.issuer),
      tokenEndpoint: metadata.authorizationServers[0].token_endpoint,
      dpopAlgs: metadata.authorizationServers[0].dpop_signing_alg_values_supported,
      configurations: Object.keys(metadata.credentialIssuer.credential_configurations_supported),
    },
    tokenType: accessTokenResponse.token_type,
    dpopJkt: dpopKey ? await calculateJwkThumbprint({jwk: dpopKey.publicJwk, hashAlgorithm: HashAlgorithm.Sha256, hashCallback: callbacks.hash}) : null,
    credentials: body.credentials.map(c => c.credential),
    holders,
  };
}

async function tokenOnly() {
  const client = new Openid4vciClient({callbacks});
  const offer = await client.resolveCredentialOffer(request.offer);
  const metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  try {
    const {accessTokenResponse} = await token(client, offer, metadata, request.txCode);
    return {ok: true, tokenType: accessTokenResponse.token_type};
  } catch(e) {
    return {ok: false, error: errorText(e)};
  }
}

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const mode = process.argv[2];
try {
  const out = mode === 'flow' ? await flow() : mode === 'token' ? await tokenOnly() : null;
  if(out === null) {
    throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
} catch(e) {
  console.error(errorText(e), e?.stack);
  process.exit(1);
}
