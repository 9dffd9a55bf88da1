// jose (panva, an implementation microcred did not write) verifies a JAdES seal (ETSI TS 119 182-1 baseline-B):
// a JWS in the general JSON serialization over the unencoded payload (RFC 7797, b64 false), with the key of its first
// x5c certificate; sigT, which JAdES marks critical, is declared understood (RFC 7515 §4.1.11).
// Input on stdin: the sealed document. Output: one JSON line {verified, alg, error}.
import fs from 'node:fs';
import * as jose from 'jose';

const sealed = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = {verified: false};
try {
  const protectedHeader = jose.decodeProtectedHeader(sealed.signatures[0]);
  const pem = `-----BEGIN CERTIFICATE-----\n${protectedHeader.x5c[0].match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----`;
  const key = await jose.importX509(pem, protectedHeader.alg);
  const result = await jose.generalVerify(sealed, key, {crit: {sigT: true}, algorithms: [protectedHeader.alg]});
  out.verified = true;
  out.alg = result.protectedHeader.alg;
  out.payloadMatches = new TextDecoder().decode(result.payload) === sealed.payload;
} catch (error) {
  out.error = `${error.code || error.name}: ${error.message}`;
}
console.log(JSON.stringify(out));
