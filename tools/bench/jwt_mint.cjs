// Keys and tokens for the JWT benchmarks, minted with jose (tests/npm).
//
//   JOSE=/path/to/node_modules/jose node jwt_mint.cjs OUTDIR COUNT
//
// Writes to OUTDIR:
//   jwks.json      public keys: RSA 2048 (kid "rs", RS256) and P-256 (kid "es", ES256)
//   keys.json      the same public JWKs plus their kids, for the Node.js reference
//   tokens.js      ES module for isogate: export const RS256 = [...], ES256 = [...]
//                  (COUNT distinct tokens each: iss, aud, sub, scope, jti, iat, exp = now + 6 h)
//   tokens.json    the same tokens, for the Node.js reference
//   gateway.token  one ES256 token for the gateway route (sub "user-1", scope "read write")
// Signing runs on the libuv thread pool (jose signs asynchronously), so the
// RSA tokens take a few seconds on 2 cores.
'use strict';
const fs = require('fs');
const path = require('path');
const jose = require(process.env.JOSE || 'jose');

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'api';

async function mint(alg, kid, privateKey, count, now) {
  const out = new Array(count);
  const batch = 64;
  for (let i = 0; i < count; i += batch) {
    const jobs = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      jobs.push(new jose.SignJWT({ scope: 'read write', jti: `${alg}-${j}` })
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(`user-${j}`)
        .setIssuedAt(now).setExpirationTime(now + 6 * 3600)
        .sign(privateKey)
        .then((t) => { out[j] = t; }));
    }
    await Promise.all(jobs);
  }
  return out;
}

(async () => {
  const [outdir, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (!outdir || !(count > 0)) throw new Error('usage: node jwt_mint.cjs OUTDIR COUNT');
  const now = Math.floor(Date.now() / 1000);
  const rs = await jose.generateKeyPair('RS256', { modulusLength: 2048 });
  const es = await jose.generateKeyPair('ES256');
  const rsJwk = { ...(await jose.exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' };
  const esJwk = { ...(await jose.exportJWK(es.publicKey)), kid: 'es', alg: 'ES256', use: 'sig' };
  const tokens = {
    RS256: await mint('RS256', 'rs', rs.privateKey, count, now),
    ES256: await mint('ES256', 'es', es.privateKey, count, now),
  };
  const gateway = await new jose.SignJWT({ scope: 'read write' })
    .setProtectedHeader({ alg: 'ES256', kid: 'es', typ: 'JWT' })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('user-1')
    .setIssuedAt(now).setExpirationTime(now + 6 * 3600)
    .sign(es.privateKey);
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, 'jwks.json'), JSON.stringify({ keys: [rsJwk, esJwk] }));
  fs.writeFileSync(path.join(outdir, 'keys.json'), JSON.stringify({ RS256: rsJwk, ES256: esJwk, issuer: ISSUER, audience: AUDIENCE }));
  fs.writeFileSync(path.join(outdir, 'tokens.json'), JSON.stringify(tokens));
  fs.writeFileSync(path.join(outdir, 'tokens.js'),
    `export const RS256 = ${JSON.stringify(tokens.RS256)};\nexport const ES256 = ${JSON.stringify(tokens.ES256)};\n`);
  fs.writeFileSync(path.join(outdir, 'gateway.token'), gateway);
})().catch((err) => { console.error(err); process.exit(1); });
