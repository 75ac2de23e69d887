// Generates keys and JWTs with jose (an independent JOSE library) for the
// isogate end-to-end JWT tests (tests/e2e/jwt_test.cc), and prints one JSON
// object on stdout.
//
//   node make_tokens.mjs NPM_DIR ATTACKER_BASE_URL HS_SECRET
//
// NPM_DIR is the folder whose node_modules holds jose (tests/npm);
// ATTACKER_BASE_URL is where the test serves the attacker's JWKS (jku/x5u);
// HS_SECRET is the HMAC key the gateway reads from its environment.
//
// Output:
//   jwks          public JWKS the gateway starts with (kids rs256-1, ps256-1,
//                 es256-1, es384-1, eddsa-1)
//   jwks_rotated  jwks plus the rotated key rs256-2
//   attacker_jwks the attacker's public JWKS (kid attacker-1)
//   rsa_public_pem  SPKI PEM of rs256-1
//   now           the epoch seconds the tokens were made at
//   valid         alg -> {token, sub, scopes (comma-joined as the gateway should forward them)}
//   tokens        name -> token (see the bottom of this file)
//   hs            HS256 tokens for the "secret" key source
import { createRequire } from 'node:module';
import path from 'node:path';

const [npmDir, attackerBase, hsSecret] = process.argv.slice(2);
if (!npmDir || !attackerBase || !hsSecret) {
  process.stderr.write('usage: node make_tokens.mjs NPM_DIR ATTACKER_BASE_URL HS_SECRET\n');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(npmDir), 'package.json'));
const jose = require('jose');

const ISS = 'https://auth.example.test';
const AUD = 'api';
const now = Math.floor(Date.now() / 1000);
const enc = new TextEncoder();

async function keyPair(alg, kid, options = {}) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...options });
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = kid;
  jwk.alg = alg;
  jwk.use = 'sig';
  return { alg, kid, publicKey, privateKey, jwk };
}

// A token with the standard claims; `overrides` replaces or (undefined) removes claims.
async function sign(key, claims = {}, header = {}) {
  const payload = {
    sub: 'user-' + key.kid,
    tenant: 't-1',
    iss: ISS,
    aud: AUD,
    iat: now,
    exp: now + 3600,
    ...claims,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

const rs = await keyPair('RS256', 'rs256-1', { modulusLength: 2048 });
const ps = await keyPair('PS256', 'ps256-1', { modulusLength: 2048 });
const es256 = await keyPair('ES256', 'es256-1');
const es384 = await keyPair('ES384', 'es384-1');
const ed = await keyPair('EdDSA', 'eddsa-1', { crv: 'Ed25519' });
const rotated = await keyPair('RS256', 'rs256-2', { modulusLength: 2048 });
const ghost = await keyPair('ES256', 'ghost-1');  // never published anywhere
const attacker = await keyPair('RS256', 'attacker-1', { modulusLength: 2048 });

const published = [rs, ps, es256, es384, ed];
const jwks = { keys: published.map((k) => k.jwk) };
const jwksRotated = { keys: [...published, rotated].map((k) => k.jwk) };
const attackerJwks = { keys: [attacker.jwk] };

// One valid token per algorithm; scopes alternate between "scope" (space-
// separated string) and "scp" (array) so both forms are exercised.
const valid = {};
for (const [i, key] of published.entries()) {
  const scopes = ['read:' + key.alg.toLowerCase(), 'write'];
  const claims = i % 2 === 0 ? { scope: scopes.join(' ') } : { scp: scopes };
  valid[key.alg] = { token: await sign(key, claims), sub: 'user-' + key.kid, scopes: scopes.join(',') };
}

const b64 = (obj) => jose.base64url.encode(enc.encode(JSON.stringify(obj)));
const rsaPublicPem = await jose.exportSPKI(rs.publicKey);

// Algorithm confusion: HS256 "signed" with the RSA public key's text as the HMAC key.
async function hmacWith(keyText, kid) {
  return new jose.SignJWT({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, iat: now, exp: now + 3600 })
    .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' })
    .sign(enc.encode(keyText));
}

const tokens = {
  // Signed with a real key but over 16 KB: malformed.
  oversized: await sign(rs, { pad: 'x'.repeat(20 * 1024) }),
  // Each of these must be refused with the error code in its name's comment.
  expired: await sign(rs, { exp: now - 3600, iat: now - 7200 }),                    // expired
  not_yet_valid: await sign(rs, { nbf: now + 3600 }),                                 // not_yet_valid
  wrong_iss: await sign(es256, { iss: 'https://evil.example.test' }),                 // invalid_issuer
  wrong_aud: await sign(es256, { aud: 'other-service' }),                             // invalid_audience
  wrong_aud_array: await sign(ed, { aud: ['x', 'y'] }),                               // invalid_audience
  missing_claim: await sign(ps, { tenant: undefined }),                               // missing_claim
  unknown_kid: await sign(ghost),                                                      // unknown_kid
  rs384_not_allowed: await new jose.SignJWT({ sub: 'x', tenant: 't-1', iss: ISS, aud: AUD, exp: now + 3600 })
    .setProtectedHeader({ alg: 'RS384', kid: rs.kid })
    .sign(rs.privateKey),                                                              // unsupported_alg
  // Within the default 60 s clock skew: valid.
  expired_within_skew: await sign(es384, { exp: now - 20 }),
  nbf_within_skew: await sign(es384, { nbf: now + 20 }),
  // aud as an array containing an accepted audience: valid.
  aud_array_ok: await sign(ed, { aud: ['other', 'admin'] }),
  rotated: await sign(rotated, { scope: 'rotated' }),
  // Attacks.
  alg_none: new jose.UnsecuredJWT({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, exp: now + 3600 }).encode(),
  alg_none_with_kid: `${b64({ alg: 'none', kid: rs.kid, typ: 'JWT' })}.${b64({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, exp: now + 3600 })}.`,
  kid_alg_mismatch: await sign({ ...rs, kid: es256.kid }),
  hs_confusion_pem: await hmacWith(rsaPublicPem, rs.kid),
  hs_confusion_pem_trimmed: await hmacWith(rsaPublicPem.trim(), rs.kid),
  hs_confusion_jwk: await hmacWith(JSON.stringify(rs.jwk), rs.kid),
  // Signed by the attacker, pointing at the attacker's JWKS.
  jku_attacker_kid: await sign(attacker, { sub: 'admin' }, { jku: attackerBase + '/attacker/jwks.json' }),
  jku_legit_kid: await sign({ ...attacker, kid: rs.kid }, { sub: 'admin' }, { jku: attackerBase + '/attacker/jwks.json' }),
  x5u_attacker_kid: await sign(attacker, { sub: 'admin' }, { x5u: attackerBase + '/attacker/cert.pem' }),
  jwk_embedded: await new jose.SignJWT({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, exp: now + 3600 })
    .setProtectedHeader({ alg: 'RS256', jwk: attacker.jwk })
    .sign(attacker.privateKey),
  jwk_embedded_legit_kid: await new jose.SignJWT({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, exp: now + 3600 })
    .setProtectedHeader({ alg: 'RS256', kid: rs.kid, jwk: attacker.jwk })
    .sign(attacker.privateKey),
};
{
  // A valid RS256 token whose payload was changed after signing: invalid_signature.
  const [h, , s] = valid.RS256.token.split('.');
  tokens.tampered = `${h}.${b64({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, iat: now, exp: now + 3600 })}.${s}`;
  // "NONE" with a (meaningless) signature segment copied from a real token.
  tokens.alg_none_upper_signed = `${b64({ alg: 'NONE', kid: rs.kid })}.${b64({ sub: 'admin', tenant: 't-1', iss: ISS, aud: AUD, exp: now + 3600 })}.${s}`;
}

// Correctly signed (RS256, kid rs256-1), but the payload is not a JSON object:
// malformed whatever order the verifier checks things in.
const signRaw = (payloadText) =>
  new jose.CompactSign(enc.encode(payloadText)).setProtectedHeader({ alg: 'RS256', kid: rs.kid }).sign(rs.privateKey);
tokens.payload_not_json = await signRaw('{"sub": ');
tokens.payload_json_string = await signRaw('"sub"');
tokens.payload_json_array = await signRaw('[{"sub":"admin"}]');

// HS256 with the shared secret ("secret" key source).
const hsKey = enc.encode(hsSecret);
const hsSign = (claims, alg = 'HS256', key = hsKey) =>
  new jose.SignJWT({ sub: 'hs-user', tenant: 't-1', iss: ISS, aud: AUD, iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .sign(key);
const hs = {
  valid: await hsSign({ scope: 'a b' }),
  wrong_secret: await hsSign({}, 'HS256', enc.encode(hsSecret + 'x')),
  expired: await hsSign({ exp: now - 3600 }),
  hs512_not_allowed: await hsSign({}, 'HS512'),
  rs256: valid.RS256.token,
};

// Sanity: jose itself accepts what we call valid (the test data is right).
const localSet = jose.createLocalJWKSet(jwksRotated);
for (const [alg, v] of Object.entries(valid)) {
  await jose.jwtVerify(v.token, localSet, { issuer: ISS, audience: AUD, algorithms: [alg] });
}
await jose.jwtVerify(tokens.rotated, localSet, { issuer: ISS, audience: AUD });
await jose.jwtVerify(hs.valid, hsKey, { issuer: ISS, audience: AUD, algorithms: ['HS256'] });

process.stdout.write(JSON.stringify({
  now,
  issuer: ISS,
  audience: AUD,
  jwks,
  jwks_rotated: jwksRotated,
  attacker_jwks: attackerJwks,
  rsa_public_pem: rsaPublicPem,
  valid,
  tokens,
  hs,
}));
