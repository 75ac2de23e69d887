// Tests for crypto.subtle (bindings/js/subtle_crypto.js + bindings/subtle_crypto.cc).
//
// A plain script (no imports, no Node APIs) so that it runs both inside the
// real runtime (tests/e2e/js_api_test.cc, JsApiTest.SubtleCryptoCases) and
// under Node's own WebCrypto (tests/js/subtle_crypto/run.mjs), which checks
// the expectations here against an independent implementation. It defines:
//   subtleCryptoCases   [{ name, isogate?, fn: async (g) => {} }]
// `g` is the object holding the globals under test (crypto, CryptoKey,
// SubtleCrypto, DOMException, TextEncoder). Cases with `isogate: true` test
// what this build does differently from Node (Workers' extensions, the
// features it leaves out, or spec points where Node deviates); the Node
// driver skips them.
//
// Vectors: FIPS 180-2 (digests), RFC 4231 (HMAC), RFC 7515 appendix A.1-A.3
// (HS256, RS256, ES256), RFC 8037 appendix A.4 (Ed25519). The RSA-PSS and
// P-384 vectors were made once with the openssl command line.

const subtleAssert = (() => {
  function show(v) {
    if (typeof v === 'string') return JSON.stringify(v);
    try {
      return String(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  function fail(message, detail) {
    throw new Error(message + (detail ? ` (${detail})` : ''));
  }
  function canonical(value) {
    return JSON.stringify(value, (key, v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const sorted = {};
      for (const k of Object.keys(v).sort()) sorted[k] = v[k];
      return sorted;
    });
  }
  function checkError(error, expected, message) {
    const want = typeof expected === 'string' ? { name: expected } : expected;
    if (error === null || typeof error !== 'object') fail(message, `threw ${show(error)}, not an error object`);
    if (error.name !== want.name) fail(message, `got ${error.name}: ${error.message}; expected ${want.name}`);
    if (want.message && !want.message.test(error.message)) {
      fail(message, `message ${show(error.message)} does not match ${want.message}`);
    }
  }
  return {
    ok(value, message = 'expected a truthy value') {
      if (!value) fail(message, `got ${show(value)}`);
    },
    equal(actual, expected, message = 'values differ') {
      if (!Object.is(actual, expected)) fail(message, `got ${show(actual)}, expected ${show(expected)}`);
    },
    // Same members and values (property order aside).
    json(actual, expected, message = 'objects differ') {
      const a = canonical(actual), e = canonical(expected);
      if (a !== e) fail(message, `got ${a}, expected ${e}`);
    },
    // Same JSON text, property order included.
    orderedJson(actual, expected, message = 'objects differ') {
      const a = JSON.stringify(actual), e = JSON.stringify(expected);
      if (a !== e) fail(message, `got ${a}, expected ${e}`);
    },
    // `fn` must return a promise (never throw synchronously) that rejects
    // with `expected`: an error name, or { name, message: RegExp }.
    async rejects(fn, expected, message = 'expected a rejection') {
      let promise;
      try {
        promise = fn();
      } catch (e) {
        fail(message, `threw synchronously: ${e && e.name}: ${e && e.message}`);
      }
      if (!promise || typeof promise.then !== 'function') fail(message, 'did not return a promise');
      let error, settled = false;
      try {
        await promise;
        settled = true;
      } catch (e) {
        error = e;
      }
      if (settled) fail(message, 'the promise fulfilled');
      checkError(error, expected, message);
      return error;
    },
    throws(fn, expected, message = 'expected an exception') {
      let error, threw = false;
      try {
        fn();
      } catch (e) {
        error = e;
        threw = true;
      }
      if (!threw) fail(message, 'nothing was thrown');
      checkError(error, expected, message);
      return error;
    },
  };
})();

const scBytes = (text) => new TextEncoder().encode(text);
const scHex = (buffer) => {
  const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) :
    new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let out = '';
  for (const b of view) out += b.toString(16).padStart(2, '0');
  return out;
};
const scFromHex = (hex) => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
};
const scB64u = (text) => {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
};
const scFlip = (bytes, bit) => {
  const copy = new Uint8Array(bytes);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
};

const SC = {
  abc: {
    'SHA-1': 'a9993e364706816aba3e25717850c26c9cd0d89d',
    'SHA-256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    'SHA-384': 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    'SHA-512': 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd' +
               '454d4423643ce80e2a9ac94fa54ca49f',
  },
  rfc4231: [
    {
      key: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
      data: 'Hi There',
      'SHA-256': 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      'SHA-384': 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
      'SHA-512': '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4' +
                 'be9d914eeb61f1702e696c203a126854',
    },
    {
      key: '4a656665',  // "Jefe"
      data: 'what do ya want for nothing?',
      'SHA-256': '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      'SHA-384': 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
      'SHA-512': '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd' +
                 'caeab1a34d4a6b4b636e070a38bce737',
    },
  ],
  payload: 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ',
  a1: {
    jwk: { kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' },
    header: 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9',
    sig: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  },
  a2: {
    jwk: {
      kty: 'RSA',
      n: 'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-' +
         'SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-' +
         'UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2e' +
         'thFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
      e: 'AQAB',
    },
    header: 'eyJhbGciOiJSUzI1NiJ9',
    sig: 'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJ' +
         'dbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN' +
         '9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXL' +
         'IhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw',
  },
  a3: {
    jwk: {
      kty: 'EC', crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
    d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
    header: 'eyJhbGciOiJFUzI1NiJ9',
    sig: 'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q',
  },
  ed: {
    jwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
    input: 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc',
    sig: 'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
  },
  pss: {
    spki: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAv47oOr_NcPcu-7UqVX1xEWnH7yjDe2D4tiMJHoVGzXoMCH0TE2sI7yHuzP' +
          'z3lhi1JTHaVlfK3atEVsYwetr_jTOI_1iJV25sOWDEe9lLWzZzxj-wwZj4RFCS7Bb73WEwTwD9KMKa_C5vGRvMO9jnoDW_qPZEYwx7' +
          '8_FKCFYx55TQx2D13d8A69qGbVGioyy4L5x8jNzaN1hdFAo1u5zqYCRIFCtC5qaphOpt85K53iMuBIAr_L3Djq08bSwZv05UfnyAlh' +
          'JtqcALsRXLcjmHNGKpnzOzoLoMIuYjhqnPU95AUM_cqxfgjjLX_XJaK51xWujUf9PTEbEIZ7mJCyfscwIDAQAB',
    message: 'isogate RSA-PSS test vector',  // SHA-256, MGF1-SHA-256, salt 32
    sig: 'k9Up4SonLa6B_7tnGMiVVwnnfrXl_HVm_qUYlpYc2lir-RW4d4noOTB7StN5Vsc4ZIXCtnkauIUv_9gIDNX3_SJ74qeZgOn1xZFuak' +
         'ddfhqryjMqjGyAd01TJF9S0nK2dlNeMwv42I_Zy_G9-BU9heUyTJHSZ1YZG0gKAkwe8bjpo-b7vVvLVvrNP0y0AgPH9HY22VNQbcbN' +
         'HCDkOmOp0tUMAFSoo8oBQs5bbGl2gPJjl1w6fWi5ugLty7TWge394j94AC9VWRMtYxhh1xxc7lcpu8ODfvr4PbhCzLDnZjCU05Mcp6' +
         'VPsiD7ojOp3oDeMPYO8YRE01uI9Z-ThDCSlQ',
  },
  p384: {
    spki: 'MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAETRQZNbvn4tjE0ZEF9zMGoYaCliqthHh88_G2yIila8J1CKzIa94ubz7jz0w29Ph0drQnuk' +
          'AUNU2WwkKn6awcQo10Y5JjrcyP5GPMf6btDS0NHVccfyBRkBwLLOHl4dcZ',
    message: 'isogate ECDSA P-384 test vector',  // SHA-384
    sig: '7BatrwiMMhdPS1rIRtvBbMD0CTN0w12kdVMJ7vKaW4-vlwSepLplUYkw2B7XDz5NDc2zJvE0kg96sV7pU8C456aQtFHSIr7JvLK34J' +
         '9iPfMbh41RY1aHmYBdshiJmpgI',
  },
};

const scHmacKey = (g, hash = 'SHA-256', usages = ['sign', 'verify'], extractable = true, key = SC.rfc4231[0].key) =>
  g.crypto.subtle.importKey('raw', scFromHex(key), { name: 'HMAC', hash }, extractable, usages);
const scRs256Key = (g, usages = ['verify'], jwk = SC.a2.jwk) =>
  g.crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, usages);
const scEs256Key = (g, jwk = SC.a3.jwk) =>
  g.crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
const scEd25519Key = (g) => g.crypto.subtle.importKey('jwk', SC.ed.jwk, { name: 'Ed25519' }, true, ['verify']);

const subtleCryptoCases = [
  // ---------------------------------------------------------------------------
  // The interfaces

  {
    name: 'crypto.subtle is one SubtleCrypto; neither interface can be constructed',
    fn: async (g) => {
      const { ok, equal, throws } = subtleAssert;
      ok(g.crypto.subtle instanceof g.SubtleCrypto);
      equal(g.crypto.subtle, g.crypto.subtle);
      equal(Object.prototype.toString.call(g.crypto.subtle), '[object SubtleCrypto]');
      throws(() => new g.SubtleCrypto(), 'TypeError');
      throws(() => new g.CryptoKey(), 'TypeError');
      for (const m of ['digest', 'importKey', 'exportKey', 'sign', 'verify', 'encrypt', 'decrypt', 'generateKey',
                       'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey']) {
        equal(typeof g.SubtleCrypto.prototype[m], 'function', m);
      }
    },
  },
  {
    name: 'methods reject (never throw) on a wrong this or too few arguments',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      await rejects(() => s.digest.call({}, 'SHA-256', new Uint8Array(1)), 'TypeError');
      await rejects(() => s.digest('SHA-256'), 'TypeError');
      await rejects(() => s.importKey(), 'TypeError');
      await rejects(() => s.verify('HMAC'), 'TypeError');
      await rejects(() => s.exportKey('jwk'), 'TypeError');
    },
  },
  {
    name: 'a CryptoKey exposes no key material and caches algorithm and usages',
    fn: async (g) => {
      const { equal, json, ok } = subtleAssert;
      const key = await scHmacKey(g, 'SHA-256', ['verify', 'sign', 'verify'], false);
      ok(key instanceof g.CryptoKey);
      equal(Object.prototype.toString.call(key), '[object CryptoKey]');
      equal(Object.getOwnPropertyNames(key).length, 0);
      equal(JSON.stringify(key), '{}');
      equal(key.type, 'secret');
      equal(key.extractable, false);
      json(key.algorithm, { name: 'HMAC', hash: { name: 'SHA-256' }, length: 160 });
      equal(key.algorithm, key.algorithm);
      equal(key.usages, key.usages);
    },
  },
  {
    name: 'a CryptoKey lists usages in KeyUsage order; its algorithm object is a copy',
    isogate: true,  // Node keeps the order given and hands out its internal object
    fn: async (g) => {
      const { equal, orderedJson } = subtleAssert;
      const key = await scHmacKey(g, 'SHA-256', ['verify', 'sign', 'verify'], false);
      orderedJson(key.usages, ['sign', 'verify']);
      orderedJson(key.algorithm, { name: 'HMAC', hash: { name: 'SHA-256' }, length: 160 });
      key.algorithm.name = 'changed';
      key.algorithm.hash.name = 'SHA-1';
      key.usages.length = 0;
      const mac = await g.crypto.subtle.sign('HMAC', key, scBytes('Hi There'));
      equal(scHex(mac), SC.rfc4231[0]['SHA-256']);
    },
  },
  {
    name: 'exported JWKs list their members in Web IDL dictionary (lexicographic) order',
    isogate: true,  // Node builds them in another order
    fn: async (g) => {
      const { orderedJson } = subtleAssert;
      const s = g.crypto.subtle;
      orderedJson(Object.keys(await s.exportKey('jwk', await scHmacKey(g))), ['alg', 'ext', 'k', 'key_ops', 'kty']);
      orderedJson(Object.keys(await s.exportKey('jwk', await scRs256Key(g))),
                  ['alg', 'e', 'ext', 'key_ops', 'kty', 'n']);
      orderedJson(Object.keys(await s.exportKey('jwk', await scEs256Key(g))),
                  ['crv', 'ext', 'key_ops', 'kty', 'x', 'y']);
    },
  },

  // ---------------------------------------------------------------------------
  // digest

  {
    name: 'digest: FIPS 180-2 "abc" for every SHA, by string and by object',
    fn: async (g) => {
      const { equal, ok } = subtleAssert;
      for (const [name, hex] of Object.entries(SC.abc)) {
        const byString = await g.crypto.subtle.digest(name, scBytes('abc'));
        ok(byString instanceof ArrayBuffer, 'an ArrayBuffer');
        equal(scHex(byString), hex, name);
        equal(scHex(await g.crypto.subtle.digest({ name }, scBytes('abc'))), hex, name);
        equal(scHex(await g.crypto.subtle.digest(name.toLowerCase(), scBytes('abc'))), hex, name.toLowerCase());
      }
      equal(scHex(await g.crypto.subtle.digest('SHA-256', new Uint8Array(0))),
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    },
  },
  {
    name: 'digest: every BufferSource shape, offsets respected',
    fn: async (g) => {
      const { equal } = subtleAssert;
      const padded = scBytes('xxabcxx');
      const want = SC.abc['SHA-256'];
      const shapes = [
        padded.subarray(2, 5),
        new DataView(padded.buffer, 2, 3),
        scBytes('abc').buffer,
        new Int8Array(scBytes('abc')),
        new Uint8ClampedArray(scBytes('abc')),
      ];
      for (const data of shapes) {
        equal(scHex(await g.crypto.subtle.digest('SHA-256', data)), want, Object.prototype.toString.call(data));
      }
      equal(scHex(await g.crypto.subtle.digest('SHA-256', new Uint16Array([0x6261, 0x63]).subarray(0, 1))),
            scHex(await g.crypto.subtle.digest('SHA-256', scBytes('ab'))));
    },
  },
  {
    name: 'digest: data is copied when the call is made',
    fn: async (g) => {
      const { equal } = subtleAssert;
      const data = scBytes('abc');
      const promise = g.crypto.subtle.digest('SHA-256', data);
      data[0] = 0x7a;
      equal(scHex(await promise), SC.abc['SHA-256']);
    },
  },
  {
    name: 'digest: unknown algorithms reject NotSupportedError, bad arguments TypeError',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const data = scBytes('abc');
      for (const alg of ['SHA-224', 'MD5', 'SHA256', 'HMAC', { name: 'sha-3' }, 5]) {
        await rejects(() => s.digest(alg, data), 'NotSupportedError', JSON.stringify(alg));
      }
      await rejects(() => s.digest({}, data), 'TypeError');
      await rejects(() => s.digest({ name: undefined }, data), 'TypeError');
      for (const bad of ['abc', [97, 98, 99], null, undefined, {}, 42]) {
        await rejects(() => s.digest('SHA-256', bad), 'TypeError', String(bad));
      }
    },
  },

  // ---------------------------------------------------------------------------
  // HMAC

  {
    name: 'HMAC: RFC 4231 test cases 1 and 2 with SHA-256/384/512',
    fn: async (g) => {
      const { equal } = subtleAssert;
      for (const tc of SC.rfc4231) {
        for (const hash of ['SHA-256', 'SHA-384', 'SHA-512']) {
          const key = await scHmacKey(g, hash, ['sign', 'verify'], false, tc.key);
          const mac = await g.crypto.subtle.sign('HMAC', key, scBytes(tc.data));
          equal(scHex(mac), tc[hash], `${tc.data} ${hash}`);
          equal(await g.crypto.subtle.verify('HMAC', key, mac, scBytes(tc.data)), true);
        }
      }
    },
  },
  {
    name: 'HMAC verify: a wrong MAC resolves false',
    fn: async (g) => {
      const { equal } = subtleAssert;
      const key = await scHmacKey(g);
      const data = scBytes('Hi There');
      const mac = new Uint8Array(await g.crypto.subtle.sign('HMAC', key, data));
      equal(await g.crypto.subtle.verify('HMAC', key, scFlip(mac, 0), data), false, 'flipped bit');
      equal(await g.crypto.subtle.verify('HMAC', key, mac.subarray(0, 16), data), false, 'truncated');
      equal(await g.crypto.subtle.verify('HMAC', key, new Uint8Array(0), data), false, 'empty');
      equal(await g.crypto.subtle.verify('HMAC', key, mac, scBytes('Hi there')), false, 'other data');
    },
  },
  {
    name: 'HMAC: RFC 7515 A.1 (HS256) verifies from its JWK',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const key = await g.crypto.subtle.importKey('jwk', { ...SC.a1.jwk, alg: 'HS256' },
                                                  { name: 'hmac', hash: { name: 'sha-256' } }, true, ['verify']);
      json(key.algorithm, { name: 'HMAC', hash: { name: 'SHA-256' }, length: 512 });
      const input = scBytes(`${SC.a1.header}.${SC.payload}`);
      equal(await g.crypto.subtle.verify('HMAC', key, scB64u(SC.a1.sig), input), true);
      equal(await g.crypto.subtle.verify({ name: 'HMAC' }, key, scFlip(scB64u(SC.a1.sig), 100), input), false);
    },
  },
  {
    name: 'HMAC importKey: the length parameter',
    fn: async (g) => {
      const { equal, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const raw = new Uint8Array(32).fill(7);
      const imp = (length) => s.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256', length }, true, ['sign']);
      equal((await imp(256)).algorithm.length, 256);
      equal((await imp(undefined)).algorithm.length, 256);
      for (const bad of [257, 248, 8, 0]) await rejects(() => imp(bad), 'DataError', String(bad));
      for (const bad of [-1, NaN, Infinity, 2 ** 32]) await rejects(() => imp(bad), 'TypeError', String(bad));
    },
  },
  {
    name: 'HMAC importKey: a length that is not a multiple of 8 keeps only its bits',
    isogate: true,  // Node refuses such lengths (NotSupportedError); the spec allows them
    fn: async (g) => {
      const { equal } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await s.importKey('raw', new Uint8Array([0xff, 0xff]), { name: 'HMAC', hash: 'SHA-256', length: 12 },
                                    true, ['sign']);
      equal(key.algorithm.length, 12);
      equal(scHex(await s.exportKey('raw', key)), 'fff0');
    },
  },
  {
    name: 'HMAC importKey: empty or bad usages, empty keys, other formats',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const alg = { name: 'HMAC', hash: 'SHA-256' };
      const raw = new Uint8Array(16);
      await rejects(() => s.importKey('raw', raw, alg, true, []), 'SyntaxError');
      await rejects(() => s.importKey('raw', raw, alg, true, ['sign', 'encrypt']), 'SyntaxError');
      await rejects(() => s.importKey('raw', raw, alg, true, ['sign', 'bogus']), 'TypeError');
      await rejects(() => s.importKey('raw', raw, alg, true, 'sign'), 'TypeError');
      await rejects(() => s.importKey('raw', new Uint8Array(0), alg, true, ['sign']), 'DataError');
      await rejects(() => s.importKey('raw', raw, { name: 'HMAC' }, true, ['sign']), 'TypeError');
      await rejects(() => s.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-3' }, true, ['sign']),
                    'NotSupportedError');
      await rejects(() => s.importKey('bogus', raw, alg, true, ['sign']), 'TypeError');
      await rejects(() => s.importKey('raw', { kty: 'oct' }, alg, true, ['sign']), 'TypeError');
      await rejects(() => s.importKey('jwk', 'abc', alg, true, ['sign']), 'TypeError');
    },
  },
  {
    name: 'HMAC importKey jwk: mismatched or malformed members reject DataError',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const alg = { name: 'HMAC', hash: 'SHA-256' };
      const k = SC.a1.jwk.k;
      const bad = [
        [{ kty: 'RSA', k }, ['sign']],
        [{ k }, ['sign']],
        [{ kty: 'oct' }, ['sign']],
        [{ kty: 'oct', k, alg: 'HS384' }, ['sign']],
        [{ kty: 'oct', k, use: 'enc' }, ['sign']],
        [{ kty: 'oct', k, key_ops: ['verify'] }, ['sign']],
        [{ kty: 'oct', k, key_ops: ['sign', 'sign'] }, ['sign']],
        [{ kty: 'oct', k, ext: false }, ['sign'], true],
      ];
      for (const [jwk, usages, extractable = false] of bad) {
        await rejects(() => s.importKey('jwk', jwk, alg, extractable, usages), 'DataError', JSON.stringify(jwk));
      }
      // Accepted: ext false for a non-extractable key, matching alg/use/key_ops.
      await s.importKey('jwk', { kty: 'oct', k, alg: 'HS256', use: 'sig', key_ops: ['sign', 'verify'], ext: false },
                        alg, false, ['sign']);
    },
  },
  {
    name: 'spec points Node does not follow',
    isogate: true,
    fn: async (g) => {
      const { equal, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const hmac = { name: 'HMAC', hash: 'SHA-256' };
      // digest copies its data before normalizing the algorithm (whose getters may change it).
      const data = scBytes('abc');
      const alg = { get name() { data[0] = 0x7a; return 'SHA-256'; } };
      equal(scHex(await s.digest(alg, data)), SC.abc['SHA-256']);
      // An algorithm without the format: NotSupportedError; a jwk import of a BufferSource: TypeError.
      await rejects(() => s.importKey('spki', new Uint8Array(16), hmac, true, ['sign']), 'NotSupportedError');
      await rejects(() => s.importKey('pkcs8', new Uint8Array(16), hmac, true, ['sign']), 'NotSupportedError');
      await rejects(() => s.importKey('jwk', new Uint8Array(16), hmac, true, ['sign']), 'TypeError');
      // A JWK "k" of no bytes is an empty key (DataError).
      await rejects(() => s.importKey('jwk', { kty: 'oct', k: '' }, hmac, false, ['sign']), 'DataError');
      // Exporting a non-extractable key: InvalidAccessError.
      const key = await scHmacKey(g, 'SHA-256', ['sign'], false);
      await rejects(() => s.exportKey('raw', key), 'InvalidAccessError');
      await rejects(() => s.exportKey('jwk', key), 'InvalidAccessError');
      // A format the key's algorithm has no export steps for: NotSupportedError.
      const extractableHmac = await scHmacKey(g);
      const rs256 = await scRs256Key(g);
      await rejects(() => s.exportKey('spki', extractableHmac), 'NotSupportedError');
      await rejects(() => s.exportKey('raw', rs256), 'NotSupportedError');
      // RS256 and PS256 are different JWK algs.
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, alg: 'PS256' },
                                      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, alg: 'RS256' }, { name: 'RSA-PSS', hash: 'SHA-256' },
                                      true, ['verify']), 'DataError');
    },
  },
  {
    name: 'JWK members must be strict base64url (no padding, no +/, canonical)',
    isogate: true,  // Node decodes leniently
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const hmac = { name: 'HMAC', hash: 'SHA-256' };
      const k = SC.a1.jwk.k;
      for (const bad of [`${k}==`, 'a+b/', 'Zh', 'Z', `${k.slice(0, 10)} ${k.slice(10)}`]) {
        await rejects(() => s.importKey('jwk', { kty: 'oct', k: bad }, hmac, false, ['sign']), 'DataError', bad);
      }
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, n: 'not base64url!' }, rsa, true, ['verify']),
                    'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, e: 'AQAB=' }, rsa, true, ['verify']), 'DataError');
    },
  },
  {
    name: 'HMAC exportKey: raw and jwk round trips',
    fn: async (g) => {
      const { equal, json, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scHmacKey(g, 'SHA-384');
      equal(scHex(await s.exportKey('raw', key)), SC.rfc4231[0].key);
      const jwk = await s.exportKey('jwk', key);
      json(jwk, { alg: 'HS384', ext: true, k: 'CwsLCwsLCwsLCwsLCwsLCwsLCws', key_ops: ['sign', 'verify'], kty: 'oct' });
      const back = await s.importKey('jwk', jwk, { name: 'HMAC', hash: 'SHA-384' }, false, ['sign']);
      equal(scHex(await s.sign('HMAC', back, scBytes('Hi There'))), SC.rfc4231[0]['SHA-384']);
      await rejects(() => s.exportKey('bogus', key), 'TypeError');
      await rejects(() => s.exportKey('raw', {}), 'TypeError');
    },
  },
  {
    name: 'sign/verify: wrong usage or wrong algorithm rejects InvalidAccessError',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const data = scBytes('x');
      const verifyOnly = await scHmacKey(g, 'SHA-256', ['verify']);
      const signOnly = await scHmacKey(g, 'SHA-256', ['sign']);
      await rejects(() => s.sign('HMAC', verifyOnly, data), 'InvalidAccessError');
      await rejects(() => s.verify('HMAC', signOnly, new Uint8Array(32), data), 'InvalidAccessError');
      const rsa = await scRs256Key(g);
      await rejects(() => s.verify('HMAC', rsa, new Uint8Array(32), data), 'InvalidAccessError');
      await rejects(() => s.verify({ name: 'RSA-PSS', saltLength: 32 }, rsa, new Uint8Array(256), data),
                    'InvalidAccessError');
      await rejects(() => s.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyOnly, new Uint8Array(64), data),
                    'InvalidAccessError');
      await rejects(() => s.verify('HMAC', { type: 'secret' }, new Uint8Array(32), data), 'TypeError');
      await rejects(() => s.verify('HMAC', verifyOnly, 'sig', data), 'TypeError');
    },
  },

  // ---------------------------------------------------------------------------
  // RSA

  {
    name: 'RSASSA-PKCS1-v1_5: RFC 7515 A.2 (RS256) verifies from its JWK',
    fn: async (g) => {
      const { equal, json, ok } = subtleAssert;
      const key = await scRs256Key(g);
      equal(key.type, 'public');
      equal(key.algorithm.name, 'RSASSA-PKCS1-v1_5');
      equal(key.algorithm.modulusLength, 2048);
      ok(key.algorithm.publicExponent instanceof Uint8Array);
      json(Array.from(key.algorithm.publicExponent), [1, 0, 1]);
      json(key.algorithm.hash, { name: 'SHA-256' });
      json(Object.keys(key.algorithm), ['name', 'modulusLength', 'publicExponent', 'hash']);
      const input = scBytes(`${SC.a2.header}.${SC.payload}`);
      const sig = scB64u(SC.a2.sig);
      equal(await g.crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, sig, input), true);
      equal(await g.crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, scFlip(sig, 777), input), false);
      equal(await g.crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, sig.subarray(1), input), false);
      equal(await g.crypto.subtle.verify('rsassa-pkcs1-V1_5', key, sig, scBytes('other')), false);
    },
  },
  {
    name: 'RSA importKey: JWK checks, formats and usages',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, alg: 'RS384' }, alg, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, kty: 'EC' }, alg, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { kty: 'RSA', e: 'AQAB' }, alg, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', SC.a2.jwk, alg, true, ['sign']), 'SyntaxError');
      await rejects(() => s.importKey('jwk', SC.a2.jwk, { name: 'RSASSA-PKCS1-v1_5' }, true, ['verify']), 'TypeError');
      await rejects(() => s.importKey('raw', new Uint8Array(256), alg, true, ['verify']), 'NotSupportedError');
      await rejects(() => s.importKey('spki', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), alg, true, ['verify']),
                    'DataError');
      await rejects(() => s.importKey('spki', scB64u(SC.p384.spki), alg, true, ['verify']), 'DataError');
      await s.importKey('jwk', { ...SC.a2.jwk, alg: 'RS256', use: 'sig', key_ops: ['verify'] }, alg, true,
                        ['verify']);
      // A public key may have no usages at all.
      await s.importKey('jwk', SC.a2.jwk, alg, true, []);
    },
  },
  {
    name: 'RSA-PSS: a huge saltLength fails verification instead of meaning "any"',
    isogate: true,  // Node hands 2^32-1 to OpenSSL as -1 ("digest length") and verifies
    fn: async (g) => {
      const { equal } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await s.importKey('spki', scB64u(SC.pss.spki), { name: 'RSA-PSS', hash: 'SHA-256' }, true,
                                    ['verify']);
      for (const saltLength of [4294967295, 4294967294, 2147483648, 223]) {
        equal(await s.verify({ name: 'RSA-PSS', saltLength }, key, scB64u(SC.pss.sig), scBytes(SC.pss.message)),
              false, String(saltLength));
      }
    },
  },
  {
    name: 'RSA importKey: private keys are not supported in this build',
    isogate: true,
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      await rejects(() => s.importKey('jwk', { ...SC.a2.jwk, d: 'AQAB' }, alg, true, ['sign']),
                    { name: 'NotSupportedError', message: /private keys are not supported/ });
      await rejects(() => s.importKey('pkcs8', new Uint8Array(10), alg, true, ['sign']), 'NotSupportedError');
      const rsa = await scRs256Key(g);
      await rejects(() => s.sign('RSASSA-PKCS1-v1_5', rsa, scBytes('x')),
                    { name: 'NotSupportedError', message: /private keys are not supported/ });
    },
  },
  {
    name: 'RSA exportKey: jwk and spki round trips',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scRs256Key(g);
      json(await s.exportKey('jwk', key), { alg: 'RS256', e: 'AQAB', ext: true, key_ops: ['verify'], kty: 'RSA',
                                            n: SC.a2.jwk.n });
      const spki = await s.exportKey('spki', key);
      const again = await s.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
      equal(again.extractable, false);
      equal(await s.verify('RSASSA-PKCS1-v1_5', again, scB64u(SC.a2.sig), scBytes(`${SC.a2.header}.${SC.payload}`)),
            true);
    },
  },
  {
    name: 'RSA-PSS: verifies with the right saltLength only',
    fn: async (g) => {
      const { equal, json, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await s.importKey('spki', scB64u(SC.pss.spki), { name: 'RSA-PSS', hash: 'SHA-256' }, true,
                                    ['verify']);
      json(key.algorithm.hash, { name: 'SHA-256' });
      const sig = scB64u(SC.pss.sig);
      const data = scBytes(SC.pss.message);
      equal(await s.verify({ name: 'RSA-PSS', saltLength: 32 }, key, sig, data), true);
      equal(await s.verify({ name: 'RSA-PSS', saltLength: 20 }, key, sig, data), false);
      equal(await s.verify({ name: 'RSA-PSS', saltLength: 0 }, key, sig, data), false);
      equal(await s.verify({ name: 'RSA-PSS', saltLength: 32 }, key, scFlip(sig, 3), data), false);
      await rejects(() => s.verify({ name: 'RSA-PSS' }, key, sig, data), 'TypeError');
      await rejects(() => s.verify({ name: 'RSA-PSS', saltLength: -1 }, key, sig, data), 'TypeError');
      await rejects(() => s.verify('RSASSA-PKCS1-v1_5', key, sig, data), 'InvalidAccessError');
      equal((await s.exportKey('jwk', key)).alg, 'PS256');
    },
  },

  // ---------------------------------------------------------------------------
  // ECDSA

  {
    name: 'ECDSA: RFC 7515 A.3 (ES256) verifies from its JWK',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scEs256Key(g);
      json(key.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
      const input = scBytes(`${SC.a3.header}.${SC.payload}`);
      const sig = scB64u(SC.a3.sig);
      const alg = { name: 'ECDSA', hash: 'SHA-256' };
      equal(await s.verify(alg, key, sig, input), true);
      equal(await s.verify(alg, key, scFlip(sig, 5), input), false);
      equal(await s.verify(alg, key, scFlip(sig, 300), input), false);
      equal(await s.verify({ name: 'ECDSA', hash: 'SHA-384' }, key, sig, input), false);
      equal(await s.verify(alg, key, sig.subarray(0, 63), input), false);
      equal(await s.verify(alg, key, new Uint8Array(64), input), false);
    },
  },
  {
    name: 'ECDSA: P-384 with SHA-384 from SPKI',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await s.importKey('spki', scB64u(SC.p384.spki), { name: 'ECDSA', namedCurve: 'P-384' }, true,
                                    ['verify']);
      json(key.algorithm, { name: 'ECDSA', namedCurve: 'P-384' });
      const sig = scB64u(SC.p384.sig);
      equal(await s.verify({ name: 'ECDSA', hash: 'SHA-384' }, key, sig, scBytes(SC.p384.message)), true);
      equal(await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, scBytes(SC.p384.message)), false);
    },
  },
  {
    name: 'ECDSA importKey: curve mismatches, off-curve points, bad JWKs',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const p256 = { name: 'ECDSA', namedCurve: 'P-256' };
      const p384 = { name: 'ECDSA', namedCurve: 'P-384' };
      const y = scB64u(SC.a3.jwk.y);
      y[31] ^= 1;
      const offCurveY = btoa(String.fromCharCode(...y)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      await rejects(() => s.importKey('jwk', SC.a3.jwk, p384, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a3.jwk, y: offCurveY }, p256, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a3.jwk, alg: 'ES384' }, p256, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a3.jwk, kty: 'OKP' }, p256, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { ...SC.a3.jwk, x: SC.a3.jwk.x.slice(2) }, p256, true, ['verify']),
                    'DataError');
      await rejects(() => s.importKey('jwk', SC.a3.jwk, p256, true, ['sign']), 'SyntaxError');
      await rejects(() => s.importKey('spki', scB64u(SC.p384.spki), p256, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('spki', scB64u(SC.pss.spki), p256, true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', SC.a3.jwk, { name: 'ECDSA' }, true, ['verify']), 'TypeError');
      const es256 = await scEs256Key(g);
      await rejects(() => s.verify({ name: 'ECDSA' }, es256, new Uint8Array(64), scBytes('x')),
                    'TypeError');
      await s.importKey('jwk', { ...SC.a3.jwk, alg: 'ES256' }, p256, true, ['verify']);
    },
  },
  {
    name: 'ECDSA importKey: private keys and P-521 are not supported in this build',
    isogate: true,
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      await rejects(() => s.importKey('jwk', { ...SC.a3.jwk, d: SC.a3.d }, { name: 'ECDSA', namedCurve: 'P-256' },
                                      true, ['sign']), 'NotSupportedError');
      await rejects(() => s.importKey('raw', new Uint8Array(133), { name: 'ECDSA', namedCurve: 'P-521' }, true,
                                      ['verify']), { name: 'NotSupportedError', message: /P-521/ });
    },
  },
  {
    name: 'ECDSA exportKey: raw, spki and jwk round trips',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scEs256Key(g);
      const raw = new Uint8Array(await s.exportKey('raw', key));
      equal(raw.length, 65);
      equal(raw[0], 4);
      equal(scHex(raw.subarray(1, 33)), scHex(scB64u(SC.a3.jwk.x)));
      json(await s.exportKey('jwk', key), { crv: 'P-256', ext: true, key_ops: ['verify'], kty: 'EC',
                                            x: SC.a3.jwk.x, y: SC.a3.jwk.y });
      const input = scBytes(`${SC.a3.header}.${SC.payload}`);
      const alg = { name: 'ECDSA', hash: 'SHA-256' };
      const fromRaw = await s.importKey('raw', raw, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
      equal(await s.verify(alg, fromRaw, scB64u(SC.a3.sig), input), true);
      const fromSpki = await s.importKey('spki', await s.exportKey('spki', key), { name: 'ECDSA', namedCurve: 'P-256' },
                                         true, ['verify']);
      equal(await s.verify(alg, fromSpki, scB64u(SC.a3.sig), input), true);
    },
  },

  // ---------------------------------------------------------------------------
  // Ed25519

  {
    name: 'Ed25519: RFC 8037 A.4 verifies from its JWK and raw key',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scEd25519Key(g);
      json(key.algorithm, { name: 'Ed25519' });
      const sig = scB64u(SC.ed.sig);
      const input = scBytes(SC.ed.input);
      equal(await s.verify('Ed25519', key, sig, input), true);
      equal(await s.verify('ed25519', key, scFlip(sig, 9), input), false);
      equal(await s.verify('Ed25519', key, sig, scBytes(`${SC.ed.input}.`)), false);
      equal(await s.verify('Ed25519', key, sig.subarray(0, 63), input), false);
      const raw = await s.importKey('raw', scB64u(SC.ed.jwk.x), 'Ed25519', false, ['verify']);
      equal(await s.verify({ name: 'Ed25519' }, raw, sig, input), true);
    },
  },
  {
    name: 'Ed25519 importKey: bad keys reject',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const x = SC.ed.jwk.x;
      await rejects(() => s.importKey('raw', new Uint8Array(31), 'Ed25519', true, ['verify']), 'DataError');
      await rejects(() => s.importKey('jwk', { kty: 'OKP', crv: 'X25519', x }, 'Ed25519', true, ['verify']),
                    'DataError');
      await rejects(() => s.importKey('jwk', { kty: 'EC', crv: 'Ed25519', x }, 'Ed25519', true, ['verify']),
                    'DataError');
      await rejects(() => s.importKey('raw', scB64u(x), 'Ed25519', true, ['sign']), 'SyntaxError');
      await rejects(() => s.importKey('spki', scB64u(SC.p384.spki), 'Ed25519', true, ['verify']), 'DataError');
      await s.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x, alg: 'EdDSA' }, 'Ed25519', true, ['verify']);
    },
  },
  {
    name: 'Ed25519 JWK "alg": "Ed25519" or "EdDSA" on import, "Ed25519" on export',
    isogate: true,  // the current spec; Node 20 follows an older draft without alg
    fn: async (g) => {
      const { orderedJson, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const x = SC.ed.jwk.x;
      await rejects(() => s.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x, alg: 'ES256' }, 'Ed25519', true,
                                      ['verify']), 'DataError');
      const key = await s.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x, alg: 'Ed25519' }, 'Ed25519', true,
                                    ['verify']);
      orderedJson(await s.exportKey('jwk', key), { alg: 'Ed25519', crv: 'Ed25519', ext: true, key_ops: ['verify'],
                                                   kty: 'OKP', x });
    },
  },
  {
    name: 'Ed25519 exportKey: jwk, raw and spki',
    fn: async (g) => {
      const { equal, json } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scEd25519Key(g);
      const jwk = await s.exportKey('jwk', key);
      delete jwk.alg;
      json(jwk, { crv: 'Ed25519', ext: true, key_ops: ['verify'], kty: 'OKP', x: SC.ed.jwk.x });
      equal(scHex(await s.exportKey('raw', key)), scHex(scB64u(SC.ed.jwk.x)));
      const spki = await s.exportKey('spki', key);
      equal(scHex(spki), `302a300506032b6570032100${scHex(scB64u(SC.ed.jwk.x))}`);
    },
  },
  {
    name: 'Ed25519: a small-order key with a forged signature does not verify',
    isogate: true,  // the spec's small-order checks; Node (OpenSSL) accepts this forgery
    fn: async (g) => {
      const { equal } = subtleAssert;
      const s = g.crypto.subtle;
      const identity = new Uint8Array(32);
      identity[0] = 1;
      const key = await s.importKey('raw', identity, 'Ed25519', false, ['verify']);
      const forged = new Uint8Array(64);
      forged[0] = 1;  // R = identity, S = 0: [S]B = R + [k]A for any message
      equal(await s.verify('Ed25519', key, forged, scBytes('anything')), false);
    },
  },
  {
    name: 'NODE-ED25519 (Workers): import with namedCurve, verify under the same name',
    isogate: true,
    fn: async (g) => {
      const { equal, json, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const alg = { name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' };
      const key = await s.importKey('raw', scB64u(SC.ed.jwk.x), alg, false, ['verify']);
      json(key.algorithm, alg);
      const input = scBytes(SC.ed.input);
      equal(await s.verify('NODE-ED25519', key, scB64u(SC.ed.sig), input), true);
      equal(await s.verify(alg, key, scFlip(scB64u(SC.ed.sig), 1), input), false);
      await rejects(() => s.verify('Ed25519', key, scB64u(SC.ed.sig), input), 'InvalidAccessError');
      await rejects(() => s.importKey('raw', scB64u(SC.ed.jwk.x), { name: 'NODE-ED25519', namedCurve: 'Ed25519' },
                                      false, ['verify']), 'NotSupportedError');
      await rejects(() => s.importKey('raw', scB64u(SC.ed.jwk.x), { name: 'NODE-ED25519' }, false, ['verify']),
                    'TypeError');
    },
  },

  // ---------------------------------------------------------------------------
  // What this build leaves out, and Workers' extension

  {
    name: 'unknown algorithms and unsupported operations reject NotSupportedError',
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      await rejects(() => s.importKey('raw', new Uint8Array(16), { name: 'FOO' }, true, ['sign']),
                    'NotSupportedError');
      await rejects(() => s.sign({ name: 'FOO' }, {}, new Uint8Array(1)), 'TypeError');  // the key is checked first
      const hmac = await scHmacKey(g);
      await rejects(() => s.verify('MD5', hmac, new Uint8Array(1), new Uint8Array(1)),
                    'NotSupportedError');
    },
  },
  {
    name: 'encryption, key generation and derivation are not supported in this build',
    isogate: true,
    fn: async (g) => {
      const { rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scHmacKey(g);
      await rejects(() => s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, key, new Uint8Array(1)),
                    'NotSupportedError');
      await rejects(() => s.decrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, key, new Uint8Array(1)),
                    'NotSupportedError');
      await rejects(() => s.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign']), 'NotSupportedError');
      await rejects(() => s.deriveBits({ name: 'HKDF' }, key, 8), 'NotSupportedError');
      await rejects(() => s.encrypt('AES-GCM', {}, new Uint8Array(1)), 'TypeError');
    },
  },
  {
    name: 'patching Array.prototype does not widen what a key allows',
    isogate: true,
    fn: async (g) => {
      const { equal, rejects } = subtleAssert;
      const s = g.crypto.subtle;
      const key = await scHmacKey(g, 'SHA-256', ['verify'], false);
      const saved = [Array.prototype.includes, Array.prototype.indexOf];
      try {
        Array.prototype.includes = () => true;
        Array.prototype.indexOf = () => 0;
        await rejects(() => s.sign('HMAC', key, scBytes('x')), 'InvalidAccessError');
        await rejects(() => s.exportKey('raw', key), 'InvalidAccessError');
        const other = await scHmacKey(g, 'SHA-256', ['verify'], false);
        equal(other.usages.length, 1);
        equal(other.usages[0], 'verify');
      } finally {
        [Array.prototype.includes, Array.prototype.indexOf] = saved;
      }
    },
  },
  {
    name: 'timingSafeEqual (Workers): synchronous, TypeError on different lengths',
    isogate: true,
    fn: async (g) => {
      const { equal, throws } = subtleAssert;
      const s = g.crypto.subtle;
      equal(s.timingSafeEqual(scBytes('abc'), scBytes('abc')), true);
      equal(s.timingSafeEqual(scBytes('abc').buffer, new DataView(scBytes('xabc').buffer, 1)), true);
      equal(s.timingSafeEqual(scBytes('abc'), scBytes('abd')), false);
      equal(s.timingSafeEqual(new Uint8Array(0), new ArrayBuffer(0)), true);
      throws(() => s.timingSafeEqual(scBytes('abc'), scBytes('ab')), 'TypeError');
      throws(() => s.timingSafeEqual('abc', 'abc'), 'TypeError');
      throws(() => s.timingSafeEqual(scBytes('a')), 'TypeError');
    },
  },
];
