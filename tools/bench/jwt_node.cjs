// Node.js side of the JWT micro-benchmark (tools/bench/micro.sh): the same
// keys and tokens as isogate's jwt_micro.js, verified in a loop per request.
//
//   PORT=... JOSE=.../jose node jwt_node.cjs DIR      (DIR from jwt_mint.cjs)
//   GET /?impl=crypto&alg=RS256&n=1000  crypto.verify() of each token's
//       signing input (header.payload) against its signature (base64url-
//       decoded in the loop), a different token each call, KeyObject made once
//   GET /?impl=jose&alg=ES256&n=400     await jose.jwtVerify(token, key,
//       { issuer, audience, algorithms }) (jose verifies on the libuv pool)
// Answers { n, ok, ms }, timed with performance.now() around the loop.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { performance } = require('perf_hooks');
const jose = require(process.env.JOSE || 'jose');

const dir = process.argv[2];
const keys = JSON.parse(fs.readFileSync(path.join(dir, 'keys.json'), 'utf8'));
const tokens = JSON.parse(fs.readFileSync(path.join(dir, 'tokens.json'), 'utf8'));
const next = {};

(async () => {
  const verifyKey = {}, joseKey = {};
  for (const alg of ['RS256', 'ES256']) {
    const key = crypto.createPublicKey({ key: keys[alg], format: 'jwk' });
    verifyKey[alg] = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
    joseKey[alg] = await jose.importJWK(keys[alg], alg);
  }
  const options = { issuer: keys.issuer, audience: keys.audience };

  async function run(impl, alg, n) {
    const list = tokens[alg];
    const id = `${impl}/${alg}`;
    let i = next[id] || 0, ok = 0, t0, t1;
    if (impl === 'crypto') {
      const key = verifyKey[alg];
      t0 = performance.now();
      for (let k = 0; k < n; k++) {
        const token = list[i];
        const dot = token.lastIndexOf('.');
        if (crypto.verify('sha256', Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), 'base64url'))) ok++;
        i = i + 1 === list.length ? 0 : i + 1;
      }
      t1 = performance.now();
    } else if (impl === 'jose') {
      const key = joseKey[alg];
      const opts = { ...options, algorithms: [alg] };
      t0 = performance.now();
      for (let k = 0; k < n; k++) {
        try {
          await jose.jwtVerify(list[i], key, opts);
          ok++;
        } catch {}
        i = i + 1 === list.length ? 0 : i + 1;
      }
      t1 = performance.now();
    } else {
      throw new Error('unknown impl');
    }
    next[id] = i;
    return { n, ok, ms: t1 - t0 };
  }

  http.createServer((req, res) => {
    const params = new URL(req.url, 'http://x').searchParams;
    run(params.get('impl'), params.get('alg'), Number(params.get('n'))).then(
      (out) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(out)); },
      (err) => { res.writeHead(400); res.end(String(err)); });
  }).listen(Number(process.env.PORT), '127.0.0.1');
})().catch((err) => { console.error(err); process.exit(1); });
