// crypto.subtle (Web Cryptography API, https://w3c.github.io/webcrypto/):
// SubtleCrypto and CryptoKey, over the natives of bindings/subtle_crypto.cc.
//
// This file is a single function expression. The host evaluates it once per
// context and calls it with (global, native); it defines `subtle` on
// global.crypto and the SubtleCrypto and CryptoKey interfaces on global.
// What is here: digest (SHA-1/256/384/512); importKey raw (HMAC, ECDSA,
// Ed25519), jwk and spki; exportKey raw/jwk/spki; sign (HMAC) and verify
// (HMAC, RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA P-256/P-384, Ed25519 and Workers'
// NODE-ED25519); Workers' synchronous timingSafeEqual. The other methods
// exist and reject with NotSupportedError, as the spec's algorithm
// normalization does for an operation no algorithm is registered for.
//
// Argument conversion, algorithm normalization and the import/export steps
// follow the spec text, in its order, so that the same bad input fails with
// the same error as in other runtimes. Every method returns a promise and
// reports errors by rejecting it (Web IDL turns exceptions of promise-returning
// operations into rejections); the operations themselves are synchronous
// natives of a few microseconds, so there is nothing to run in parallel.
//
// Key material never enters JavaScript: a CryptoKey holds an opaque native
// handle in a private field, and bytes come out only through exportKey() of
// an extractable key. Host hooks on `native` (bytes travel as ArrayBuffers):
//   bufferSourceType(v) -> 0 not a BufferSource, 1 one, 2 over a SharedArrayBuffer
//   copyBytes(v) -> ArrayBuffer        a copy of a BufferSource's bytes
//   digest(hashId, bytes) -> ArrayBuffer
//   base64urlDecode(string) -> ArrayBuffer | undefined (strict, no padding)
//   importSecret(bytes, bitLength) / importJwk(json) / importSpki(bytes) /
//   importRaw(kindId, bytes) -> handle | string (why the data was refused)
//   keyInfo(handle) -> [kind, modulusBits, publicExponent ArrayBuffer]
//   exportJwk(handle) -> JSON text; exportSpki/exportRaw(handle) -> ArrayBuffer
//   sign(handle, hashId, bytes) -> ArrayBuffer (HMAC)
//   verify(schemeId, handle, hashId, saltLength, bytes, signature) -> boolean
//   timingSafeEqual(a, b) -> boolean (throws TypeError itself)
(function (global, native) {
  'use strict';

  const $DOMException = global.DOMException;
  const $Promise = Promise;
  const PromiseResolve = Promise.resolve;
  const PromiseReject = Promise.reject;
  const ReflectApply = Reflect.apply;
  const ReflectOwnKeys = Reflect.ownKeys;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const JSONStringify = JSON.stringify;
  const JSONParse = JSON.parse;
  const NumberIsFinite = Number.isFinite;
  const MathTrunc = Math.trunc;
  const ArrayBufferPrototypeByteLength =
      ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
  const $Uint8Array = Uint8Array;
  const $Map = Map;
  const $Set = Set;
  const SymbolIterator = Symbol.iterator;
  const SymbolToStringTag = Symbol.toStringTag;
  const StringFromCharCode = String.fromCharCode;
  const StringPrototypeCharCodeAt = String.prototype.charCodeAt;

  // Passed to constructors that scripts must not call.
  const kCreate = Symbol('create');

  // A key's usages and extractability are decided here from internal lists;
  // they are walked with plain loops, so that a script that patches
  // Array.prototype cannot widen what its own keys allow.
  function listHas(list, item) {
    for (let i = 0; i < list.length; i++) {
      if (list[i] === item) return true;
    }
    return false;
  }

  function copyList(list) {
    const out = [];
    for (let i = 0; i < list.length; i++) out[i] = list[i];
    return out;
  }

  // ---------------------------------------------------------------------------
  // Errors and Web IDL conversions

  function domError(name, message) {
    return new $DOMException(message, name);
  }

  function isObject(value) {
    return (typeof value === 'object' && value !== null) || typeof value === 'function';
  }

  function toDOMString(value) {
    return `${value}`;  // throws TypeError for symbols, like ToString
  }

  function requireArguments(count, required, context) {
    if (count < required) {
      throw new TypeError(`${context}: ${required} argument${required > 1 ? 's' : ''} required, ` +
                          `but only ${count} present.`);
    }
  }

  // unsigned long with [EnforceRange].
  function toEnforcedUnsignedLong(value, context) {
    const x = +value;
    if (!NumberIsFinite(x)) throw new TypeError(`${context} is not a finite number.`);
    const t = MathTrunc(x);
    if (t < 0 || t > 4294967295) throw new TypeError(`${context} is outside the range [0, 4294967295].`);
    return t + 0;  // no -0
  }

  function byteLength(buffer) {
    return ReflectApply(ArrayBufferPrototypeByteLength, buffer, []);
  }

  // BufferSource (ArrayBuffer or ArrayBufferView, not shared): checked when
  // the argument is converted, copied when the method's steps say so.
  function requireBufferSource(value, context) {
    const type = native.bufferSourceType(value);
    if (type === 1) return value;
    throw new TypeError(type === 2 ?
      `${context} is backed by a SharedArrayBuffer, which is not allowed.` :
      `${context} is not an ArrayBuffer, TypedArray or DataView.`);
  }

  function copyBufferSource(value, context) {
    return native.copyBytes(requireBufferSource(value, context));
  }

  // AlgorithmIdentifier is (object or DOMString).
  function toAlgorithmIdentifier(value) {
    return isObject(value) ? value : toDOMString(value);
  }

  const KEY_FORMATS = new $Set(['raw', 'spki', 'pkcs8', 'jwk']);
  function toKeyFormat(value, context) {
    const format = toDOMString(value);
    if (!KEY_FORMATS.has(format)) {
      throw new TypeError(`${context}: '${format}' is not a valid KeyFormat ("raw", "spki", "pkcs8" or "jwk").`);
    }
    return format;
  }

  // KeyUsage values in the enum's order, which is also the order a key's
  // usages are listed in (its "normalized value").
  const KEY_USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey',
                      'unwrapKey'];
  const KEY_USAGE_SET = new $Set(KEY_USAGES);

  // sequence<T> from an iterable (Web IDL "create a sequence from an iterable").
  function toSequence(value, context, convert) {
    if (!isObject(value)) throw new TypeError(`${context} is not a sequence.`);
    const method = value[SymbolIterator];
    if (typeof method !== 'function') throw new TypeError(`${context} is not iterable.`);
    const iterator = ReflectApply(method, value, []);
    if (!isObject(iterator)) throw new TypeError(`${context}: the iterator is not an object.`);
    const next = iterator.next;
    const out = [];
    for (;;) {
      const step = ReflectApply(next, iterator, []);
      if (!isObject(step)) throw new TypeError(`${context}: the iterator result is not an object.`);
      if (step.done) return out;
      out[out.length] = convert(step.value);
    }
  }

  function toKeyUsages(value, context) {
    return toSequence(value, `${context}: keyUsages`, (item) => {
      const usage = toDOMString(item);
      if (!KEY_USAGE_SET.has(usage)) throw new TypeError(`${context}: '${usage}' is not a valid KeyUsage.`);
      return usage;
    });
  }

  function normalizeUsages(usages) {
    const out = [];
    for (let i = 0; i < KEY_USAGES.length; i++) {
      if (listHas(usages, KEY_USAGES[i])) out[out.length] = KEY_USAGES[i];
    }
    return out;
  }

  // JsonWebKey, members converted in lexicographic order as Web IDL does.
  const JWK_STRING_MEMBERS = ['alg', 'crv', 'd', 'dp', 'dq', 'e'];
  const JWK_STRING_MEMBERS_2 = ['kty', 'n'];
  const JWK_STRING_MEMBERS_3 = ['p', 'q', 'qi', 'use', 'x', 'y'];
  function toJsonWebKey(value, context) {
    const jwk = {};
    if (value === undefined || value === null) return jwk;
    const strings = (names) => {
      for (let i = 0; i < names.length; i++) {
        const v = value[names[i]];
        if (v !== undefined) jwk[names[i]] = toDOMString(v);
      }
    };
    strings(JWK_STRING_MEMBERS);
    const ext = value.ext;
    if (ext !== undefined) jwk.ext = !!ext;
    strings(['k']);
    const keyOps = value.key_ops;
    if (keyOps !== undefined) jwk.key_ops = toSequence(keyOps, `${context}: key_ops`, toDOMString);
    strings(JWK_STRING_MEMBERS_2);
    const oth = value.oth;
    if (oth !== undefined) {
      jwk.oth = toSequence(oth, `${context}: oth`, (item) => {
        if (item !== undefined && item !== null && !isObject(item)) {
          throw new TypeError(`${context}: an oth entry is not an object.`);
        }
        const info = {};
        const names = ['d', 'r', 't'];
        for (let i = 0; i < names.length; i++) {
          const v = item == null ? undefined : item[names[i]];
          if (v !== undefined) info[names[i]] = toDOMString(v);
        }
        return info;
      });
    }
    strings(JWK_STRING_MEMBERS_3);
    return jwk;
  }

  // ---------------------------------------------------------------------------
  // Algorithms

  const HASH_IDS = new $Map([['SHA-1', 0], ['SHA-256', 1], ['SHA-384', 2], ['SHA-512', 3]]);
  const HASH_SUFFIX = new $Map([['SHA-1', '1'], ['SHA-256', '256'], ['SHA-384', '384'], ['SHA-512', '512']]);

  // Parameter dictionaries: [member, type, required], members in
  // lexicographic order (the order Web IDL converts them in).
  const DICTIONARIES = {
    __proto__: null,
    Algorithm: [],
    HmacImportParams: [['hash', 'hash', true], ['length', 'ulong', false]],
    RsaHashedImportParams: [['hash', 'hash', true]],
    EcKeyImportParams: [['namedCurve', 'string', true]],
    EcdsaParams: [['hash', 'hash', true]],
    RsaPssParams: [['saltLength', 'ulong', true]],
  };

  // The algorithms registered for each operation in this build, with the
  // dictionary their parameters convert to.
  const REGISTRY = {
    __proto__: null,
    digest: { __proto__: null, 'SHA-1': 'Algorithm', 'SHA-256': 'Algorithm', 'SHA-384': 'Algorithm', 'SHA-512': 'Algorithm' },
    importKey: {
      __proto__: null,
      'HMAC': 'HmacImportParams',
      'RSASSA-PKCS1-v1_5': 'RsaHashedImportParams',
      'RSA-PSS': 'RsaHashedImportParams',
      'ECDSA': 'EcKeyImportParams',
      'Ed25519': 'Algorithm',
      'NODE-ED25519': 'EcKeyImportParams',
    },
    sign: { __proto__: null, 'HMAC': 'Algorithm' },
    verify: {
      __proto__: null,
      'HMAC': 'Algorithm',
      'RSASSA-PKCS1-v1_5': 'Algorithm',
      'RSA-PSS': 'RsaPssParams',
      'ECDSA': 'EcdsaParams',
      'Ed25519': 'Algorithm',
      'NODE-ED25519': 'Algorithm',
    },
    encrypt: { __proto__: null },
    decrypt: { __proto__: null },
    generateKey: { __proto__: null },
    deriveBits: { __proto__: null },
    wrapKey: { __proto__: null },
    unwrapKey: { __proto__: null },
  };

  // Every algorithm name of the spec (and Workers' NODE-ED25519), to tell
  // "unsupported here" from "no such algorithm" in messages.
  const KNOWN_ALGORITHMS = ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP', 'ECDSA', 'ECDH', 'AES-CTR', 'AES-CBC',
                            'AES-GCM', 'AES-KW', 'HMAC', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'HKDF',
                            'PBKDF2', 'Ed25519', 'X25519', 'Ed448', 'X448', 'NODE-ED25519'];
  const ASYMMETRIC_SIGNERS = new $Set(['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'Ed25519', 'NODE-ED25519']);

  // ASCII case folding only: "case-insensitive string match" in the spec,
  // so that e.g. "ecdſa" (long s) is not ECDSA as toUpperCase() would make it.
  function asciiUpper(s) {
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = ReflectApply(StringPrototypeCharCodeAt, s, [i]);
      out += StringFromCharCode(c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
    }
    return out;
  }

  const CANONICAL = new $Map();
  for (const name of KNOWN_ALGORITHMS) CANONICAL.set(asciiUpper(name), name);

  function unsupported(op, name, context) {
    if (op === 'sign' && ASYMMETRIC_SIGNERS.has(name)) {
      return domError('NotSupportedError', `${context}: ${name} signing needs a private key, and asymmetric ` +
                      'private keys are not supported in this build (only HMAC can sign).');
    }
    return domError('NotSupportedError', `${context}: ${name} is not supported for ${op} in this build.`);
  }

  // "Normalize an algorithm" (spec §18.4): returns { name, ...params } with
  // the registered name and hash members normalized to their names.
  function normalizeAlgorithm(alg, op, context) {
    if (!isObject(alg)) return normalizeAlgorithm({ name: alg }, op, context);
    const rawName = alg.name;
    if (rawName === undefined) throw new TypeError(`${context}: the algorithm has no name.`);
    const algName = toDOMString(rawName);
    const canonical = CANONICAL.get(asciiUpper(algName));
    const registered = REGISTRY[op];
    if (canonical === undefined) {
      throw domError('NotSupportedError', `${context}: unrecognized algorithm name "${algName}".`);
    }
    const desiredType = registered[canonical];
    if (desiredType === undefined) throw unsupported(op, canonical, context);
    // Converting alg to desiredType reads its members again, base
    // dictionary (Algorithm: name) first.
    if (alg.name === undefined) throw new TypeError(`${context}: the algorithm has no name.`);
    const normalized = { name: canonical };
    const hashes = [];
    const members = DICTIONARIES[desiredType];
    for (let i = 0; i < members.length; i++) {
      const member = members[i][0], type = members[i][1], required = members[i][2];
      const value = alg[member];
      if (value === undefined) {
        if (required) throw new TypeError(`${context}: ${desiredType} requires "${member}".`);
        continue;
      }
      if (type === 'ulong') {
        normalized[member] = toEnforcedUnsignedLong(value, `${context}: ${desiredType}.${member}`);
      } else if (type === 'string') {
        normalized[member] = toDOMString(value);
      } else {
        normalized[member] = toAlgorithmIdentifier(value);
        hashes[hashes.length] = member;
      }
    }
    for (let i = 0; i < hashes.length; i++) {
      normalized[hashes[i]] = normalizeAlgorithm(normalized[hashes[i]], 'digest', context).name;
    }
    return normalized;
  }

  // ---------------------------------------------------------------------------
  // CryptoKey

  // Internal state of a key: { type, extractable, usages, handle, algorithm:
  // { name, hash?, length?, namedCurve?, modulusLength?, publicExponent? } }.
  let keyState;

  // The cached ECMAScript form of [[algorithm]] (dictionary members in Web
  // IDL order: the base dictionary's first, each level's in lexicographic order).
  function algorithmObject(algorithm) {
    const out = { name: algorithm.name };
    switch (algorithm.name) {
      case 'HMAC':
        out.hash = { name: algorithm.hash };
        out.length = algorithm.length;
        break;
      case 'RSASSA-PKCS1-v1_5':
      case 'RSA-PSS':
        out.modulusLength = algorithm.modulusLength;
        out.publicExponent = new $Uint8Array(algorithm.publicExponent);
        out.hash = { name: algorithm.hash };
        break;
      case 'ECDSA':
      case 'NODE-ED25519':
        out.namedCurve = algorithm.namedCurve;
        break;
    }
    return out;
  }

  class CryptoKey {
    #state;
    #algorithm;
    #usages;

    constructor(key = undefined, state = undefined) {
      if (key !== kCreate) throw new TypeError('Illegal constructor');
      this.#state = state;
      this.#algorithm = algorithmObject(state.algorithm);
      this.#usages = copyList(state.usages);
    }

    get type() {
      return this.#state.type;
    }

    get extractable() {
      return this.#state.extractable;
    }

    get algorithm() {
      return this.#algorithm;
    }

    get usages() {
      return this.#usages;
    }

    static {
      keyState = (value) => (isObject(value) && #state in value ? value.#state : undefined);
    }
  }

  function requireKey(value, context) {
    const state = keyState(value);
    if (state === undefined) throw new TypeError(`${context} is not a CryptoKey.`);
    return state;
  }

  // ---------------------------------------------------------------------------
  // Import

  function privateKeysUnsupported(name, context) {
    return domError('NotSupportedError', `${context}: importing a ${name} private key: asymmetric private ` +
                    'keys are not supported in this build (public keys and HMAC secrets are).');
  }

  function checkUsages(usages, allowed, name, context) {
    for (let i = 0; i < usages.length; i++) {
      if (!listHas(allowed, usages[i])) {
        throw domError('SyntaxError', `${context}: '${usages[i]}' is not a valid usage for this ${name} key ` +
                       `(allowed: ${allowed.join(', ')}).`);
      }
    }
  }

  // The JWK checks every algorithm's import steps share: "use", "key_ops"
  // (RFC 7517 §4.3: no duplicates, and it must allow every requested usage)
  // and "ext".
  function checkJwkUse(jwk, usages, extractable, context) {
    if (usages.length > 0 && jwk.use !== undefined && jwk.use !== 'sig') {
      throw domError('DataError', `${context}: the JWK "use" is "${jwk.use}", not "sig".`);
    }
    if (jwk.key_ops !== undefined) {
      const ops = jwk.key_ops;
      for (let i = 0; i < ops.length; i++) {
        for (let j = 0; j < i; j++) {
          if (ops[j] === ops[i]) throw domError('DataError', `${context}: the JWK "key_ops" lists "${ops[i]}" twice.`);
        }
      }
      for (let i = 0; i < usages.length; i++) {
        if (!listHas(ops, usages[i])) {
          throw domError('DataError', `${context}: the JWK "key_ops" does not allow "${usages[i]}".`);
        }
      }
    }
    if (jwk.ext === false && extractable) {
      throw domError('DataError', `${context}: the JWK has "ext": false but an extractable key was requested.`);
    }
  }

  function nativeKey(result, context) {
    if (typeof result === 'string') throw domError('DataError', `${context}: ${result}.`);
    return result;
  }

  function importJwkKey(members, context) {
    return nativeKey(native.importJwk(JSONStringify(members)), context);
  }

  const KIND_RAW_IDS = new $Map([['P-256', 1], ['P-384', 2], ['Ed25519', 3]]);
  const NAMED_CURVES = new $Set(['P-256', 'P-384', 'P-521']);

  function importHmac(format, bytes, jwk, alg, extractable, usages, context) {
    checkUsages(usages, ['sign', 'verify'], 'HMAC', context);
    let data;
    if (format === 'raw') {
      data = bytes;
    } else if (format === 'jwk') {
      if (jwk.kty !== 'oct') throw domError('DataError', `${context}: the JWK "kty" is not "oct".`);
      if (jwk.k === undefined) throw domError('DataError', `${context}: the JWK has no "k".`);
      data = native.base64urlDecode(jwk.k);
      if (data === undefined) throw domError('DataError', `${context}: the JWK "k" is not base64url.`);
      const expected = `HS${HASH_SUFFIX.get(alg.hash)}`;
      if (jwk.alg !== undefined && jwk.alg !== expected) {
        throw domError('DataError', `${context}: the JWK "alg" is "${jwk.alg}", but ${alg.hash} means ` +
                       `"${expected}".`);
      }
      checkJwkUse(jwk, usages, extractable, context);
    } else {
      throw domError('NotSupportedError', `${context}: HMAC keys are imported as "raw" or "jwk", not "${format}".`);
    }
    let length = byteLength(data) * 8;
    if (length === 0) throw domError('DataError', `${context}: an HMAC key must not be empty.`);
    if (alg.length !== undefined) {
      // The given length may only cut unused bits off the last byte.
      if (alg.length > length || alg.length <= length - 8) {
        throw domError('DataError', `${context}: length ${alg.length} does not fit ${length / 8} bytes of key ` +
                       'data (it may be at most 7 bits shorter).');
      }
      length = alg.length;
    }
    return {
      type: 'secret',
      algorithm: { name: 'HMAC', hash: alg.hash, length },
      handle: nativeKey(native.importSecret(data, length), context),
    };
  }

  function importRsa(format, bytes, jwk, alg, extractable, usages, context) {
    const name = alg.name;
    let handle;
    if (format === 'spki') {
      checkUsages(usages, ['verify'], name, context);
      handle = nativeKey(native.importSpki(bytes), context);
      if (native.keyInfo(handle)[0] !== 'rsa') {
        throw domError('DataError', `${context}: the SubjectPublicKeyInfo does not hold an RSA key.`);
      }
    } else if (format === 'pkcs8') {
      checkUsages(usages, ['sign'], name, context);
      throw privateKeysUnsupported(name, context);
    } else if (format === 'jwk') {
      const isPrivate = jwk.d !== undefined;
      checkUsages(usages, [isPrivate ? 'sign' : 'verify'], name, context);
      if (jwk.kty !== 'RSA') throw domError('DataError', `${context}: the JWK "kty" is not "RSA".`);
      checkJwkUse(jwk, usages, extractable, context);
      const expected = `${name === 'RSA-PSS' ? 'PS' : 'RS'}${HASH_SUFFIX.get(alg.hash)}`;
      if (jwk.alg !== undefined && jwk.alg !== expected) {
        throw domError('DataError', `${context}: the JWK "alg" is "${jwk.alg}", but ${name} with ${alg.hash} ` +
                       `means "${expected}".`);
      }
      if (isPrivate) throw privateKeysUnsupported(name, context);
      handle = importJwkKey({ kty: 'RSA', n: jwk.n, e: jwk.e }, context);
    } else {
      throw domError('NotSupportedError', `${context}: ${name} keys are imported as "spki" or "jwk", not "raw".`);
    }
    const info = native.keyInfo(handle);
    return {
      type: 'public',
      algorithm: { name, modulusLength: info[1], publicExponent: info[2], hash: alg.hash },
      handle,
    };
  }

  function importEcdsa(format, bytes, jwk, alg, extractable, usages, context) {
    const namedCurve = alg.namedCurve;
    const p521 = () => domError('NotSupportedError', `${context}: P-521 is not supported in this build ` +
                                '(P-256 and P-384 are).');
    let handle;
    if (format === 'spki') {
      checkUsages(usages, ['verify'], 'ECDSA', context);
      if (namedCurve === 'P-521') throw p521();
      handle = nativeKey(native.importSpki(bytes), context);
      const kind = native.keyInfo(handle)[0];
      if (kind !== 'P-256' && kind !== 'P-384') {
        throw domError('DataError', `${context}: the SubjectPublicKeyInfo does not hold an EC key.`);
      }
      if (kind !== namedCurve) {
        throw domError('DataError', `${context}: the key is on ${kind}, not on ${namedCurve}.`);
      }
    } else if (format === 'pkcs8') {
      checkUsages(usages, ['sign'], 'ECDSA', context);
      throw privateKeysUnsupported('ECDSA', context);
    } else if (format === 'jwk') {
      const isPrivate = jwk.d !== undefined;
      checkUsages(usages, [isPrivate ? 'sign' : 'verify'], 'ECDSA', context);
      if (jwk.kty !== 'EC') throw domError('DataError', `${context}: the JWK "kty" is not "EC".`);
      checkJwkUse(jwk, usages, extractable, context);
      if (jwk.crv !== namedCurve) {
        throw domError('DataError', `${context}: the JWK "crv" is ${jwk.crv === undefined ? 'missing' :
                       `"${jwk.crv}"`}, not "${namedCurve}".`);
      }
      if (!NAMED_CURVES.has(namedCurve)) {
        throw domError('DataError', `${context}: "${namedCurve}" is not a supported named curve.`);
      }
      if (jwk.alg !== undefined) {
        const algCurve = { __proto__: null, ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[jwk.alg];
        if (algCurve !== namedCurve) {
          throw domError('DataError', `${context}: the JWK "alg" "${jwk.alg}" does not go with ${namedCurve}.`);
        }
      }
      if (isPrivate) throw privateKeysUnsupported('ECDSA', context);
      if (namedCurve === 'P-521') throw p521();
      handle = importJwkKey({ kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }, context);
    } else {
      if (!NAMED_CURVES.has(namedCurve)) {
        throw domError('DataError', `${context}: "${namedCurve}" is not a supported named curve.`);
      }
      checkUsages(usages, ['verify'], 'ECDSA', context);
      if (namedCurve === 'P-521') throw p521();
      handle = nativeKey(native.importRaw(KIND_RAW_IDS.get(namedCurve), bytes), context);
    }
    return { type: 'public', algorithm: { name: 'ECDSA', namedCurve }, handle };
  }

  function importEd25519(format, bytes, jwk, alg, extractable, usages, context) {
    const name = alg.name;
    // Workers' pre-standard name takes a namedCurve, which must repeat it.
    if (name === 'NODE-ED25519' && alg.namedCurve !== 'NODE-ED25519') {
      throw domError('NotSupportedError', `${context}: NODE-ED25519 needs namedCurve "NODE-ED25519", not ` +
                     `"${alg.namedCurve}".`);
    }
    let handle;
    if (format === 'spki') {
      checkUsages(usages, ['verify'], name, context);
      handle = nativeKey(native.importSpki(bytes), context);
      if (native.keyInfo(handle)[0] !== 'Ed25519') {
        throw domError('DataError', `${context}: the SubjectPublicKeyInfo does not hold an Ed25519 key.`);
      }
    } else if (format === 'pkcs8') {
      checkUsages(usages, ['sign'], name, context);
      throw privateKeysUnsupported(name, context);
    } else if (format === 'jwk') {
      const isPrivate = jwk.d !== undefined;
      checkUsages(usages, [isPrivate ? 'sign' : 'verify'], name, context);
      if (jwk.kty !== 'OKP') throw domError('DataError', `${context}: the JWK "kty" is not "OKP".`);
      if (jwk.crv !== 'Ed25519') throw domError('DataError', `${context}: the JWK "crv" is not "Ed25519".`);
      if (jwk.alg !== undefined && jwk.alg !== 'Ed25519' && jwk.alg !== 'EdDSA') {
        throw domError('DataError', `${context}: the JWK "alg" is "${jwk.alg}", not "Ed25519" or "EdDSA".`);
      }
      checkJwkUse(jwk, usages, extractable, context);
      if (isPrivate) throw privateKeysUnsupported(name, context);
      handle = importJwkKey({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, context);
    } else {
      checkUsages(usages, ['verify'], name, context);
      if (byteLength(bytes) !== 32) {
        throw domError('DataError', `${context}: a raw Ed25519 public key is 32 bytes, not ${byteLength(bytes)}.`);
      }
      handle = nativeKey(native.importRaw(KIND_RAW_IDS.get('Ed25519'), bytes), context);
    }
    const algorithm = name === 'NODE-ED25519' ? { name, namedCurve: 'NODE-ED25519' } : { name };
    return { type: 'public', algorithm, handle };
  }

  const IMPORTERS = {
    __proto__: null,
    'HMAC': importHmac,
    'RSASSA-PKCS1-v1_5': importRsa,
    'RSA-PSS': importRsa,
    'ECDSA': importEcdsa,
    'Ed25519': importEd25519,
    'NODE-ED25519': importEd25519,
  };

  // ---------------------------------------------------------------------------
  // Export

  function exportJwk(state) {
    const material = JSONParse(native.exportJwk(state.handle));
    const { algorithm } = state;
    // Members in lexicographic order, as a JsonWebKey dictionary converts.
    const jwk = {};
    switch (algorithm.name) {
      case 'HMAC':
        jwk.alg = `HS${HASH_SUFFIX.get(algorithm.hash)}`;
        break;
      case 'RSASSA-PKCS1-v1_5':
        jwk.alg = `RS${HASH_SUFFIX.get(algorithm.hash)}`;
        break;
      case 'RSA-PSS':
        jwk.alg = `PS${HASH_SUFFIX.get(algorithm.hash)}`;
        break;
      case 'Ed25519':
        jwk.alg = 'Ed25519';
        break;
    }
    if (material.crv !== undefined) jwk.crv = material.crv;
    if (material.e !== undefined) jwk.e = material.e;
    jwk.ext = state.extractable;
    if (material.k !== undefined) jwk.k = material.k;
    jwk.key_ops = copyList(state.usages);
    jwk.kty = material.kty;
    if (material.n !== undefined) jwk.n = material.n;
    if (material.x !== undefined) jwk.x = material.x;
    if (material.y !== undefined) jwk.y = material.y;
    return jwk;
  }

  function exportKey(format, state, context) {
    const name = state.algorithm.name;
    if (!state.extractable) throw domError('InvalidAccessError', `${context}: the key is not extractable.`);
    if (format === 'jwk') return exportJwk(state);
    if (name === 'HMAC') {
      if (format === 'raw') return native.exportRaw(state.handle);
      throw domError('NotSupportedError', `${context}: HMAC keys are exported as "raw" or "jwk", not "${format}".`);
    }
    // Every asymmetric key here is a public key.
    if (format === 'spki') return native.exportSpki(state.handle);
    if (format === 'pkcs8') throw domError('InvalidAccessError', `${context}: a public key has no pkcs8 form.`);
    if (name === 'RSASSA-PKCS1-v1_5' || name === 'RSA-PSS') {
      throw domError('NotSupportedError', `${context}: ${name} keys are exported as "spki" or "jwk", not "raw".`);
    }
    return native.exportRaw(state.handle);
  }

  // ---------------------------------------------------------------------------
  // Sign and verify

  const VERIFY_SCHEMES = new $Map([['HMAC', 0], ['RSASSA-PKCS1-v1_5', 1], ['RSA-PSS', 2], ['ECDSA', 3],
                                   ['Ed25519', 4], ['NODE-ED25519', 4]]);

  function checkKeyFor(alg, state, usage, context) {
    if (alg.name !== state.algorithm.name) {
      throw domError('InvalidAccessError', `${context}: the key is a ${state.algorithm.name} key, not ${alg.name}.`);
    }
    if (!listHas(state.usages, usage)) {
      throw domError('InvalidAccessError', `${context}: the key's usages do not include "${usage}".`);
    }
  }

  // ---------------------------------------------------------------------------
  // SubtleCrypto

  let isSubtleCrypto;

  // Runs a promise-returning operation: any exception (from argument
  // conversion to the operation itself) becomes a rejection.
  function settle(self, method, argc, required, steps) {
    const context = `Failed to execute '${method}' on 'SubtleCrypto'`;
    try {
      if (!isSubtleCrypto(self)) throw new TypeError('Illegal invocation');
      requireArguments(argc, required, context);
      return ReflectApply(PromiseResolve, $Promise, [steps(context)]);
    } catch (error) {
      return ReflectApply(PromiseReject, $Promise, [error]);
    }
  }

  // An operation no algorithm is registered for in this build: normalizing
  // the algorithm fails (NotSupportedError, or TypeError for a nameless one).
  function unsupportedOperation(algorithm, op, context) {
    normalizeAlgorithm(algorithm, op, context);
    throw domError('NotSupportedError', `${context}: ${op} is not supported in this build.`);
  }

  class SubtleCrypto {
    #brand = true;

    constructor(key = undefined) {
      if (key !== kCreate) throw new TypeError('Illegal constructor');
    }

    digest(algorithm, data) {
      return settle(this, 'digest', arguments.length, 2, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        const bytes = copyBufferSource(data, `${context}: data`);
        const alg = normalizeAlgorithm(algorithm, 'digest', context);
        return native.digest(HASH_IDS.get(alg.name), bytes);
      });
    }

    importKey(format, keyData, algorithm, extractable, keyUsages) {
      return settle(this, 'importKey', arguments.length, 5, (context) => {
        format = toKeyFormat(format, context);
        let jwk;
        if (native.bufferSourceType(keyData) === 0) {
          if (keyData !== undefined && keyData !== null && !isObject(keyData)) {
            throw new TypeError(`${context}: keyData is neither a BufferSource nor a JsonWebKey.`);
          }
          jwk = toJsonWebKey(keyData, context);
        } else {
          requireBufferSource(keyData, `${context}: keyData`);
        }
        algorithm = toAlgorithmIdentifier(algorithm);
        extractable = !!extractable;
        const usages = toKeyUsages(keyUsages, context);
        const alg = normalizeAlgorithm(algorithm, 'importKey', context);
        let bytes;
        if (format === 'jwk') {
          if (jwk === undefined) throw new TypeError(`${context}: a "jwk" import takes a JsonWebKey object.`);
        } else {
          if (jwk !== undefined) throw new TypeError(`${context}: a "${format}" import takes a BufferSource.`);
          bytes = native.copyBytes(keyData);
        }
        const state = IMPORTERS[alg.name](format, bytes, jwk, alg, extractable, usages, context);
        if ((state.type === 'secret' || state.type === 'private') && usages.length === 0) {
          throw domError('SyntaxError', `${context}: a ${state.type} key needs at least one usage.`);
        }
        state.extractable = extractable;
        state.usages = normalizeUsages(usages);
        return new CryptoKey(kCreate, state);
      });
    }

    exportKey(format, key) {
      return settle(this, 'exportKey', arguments.length, 2, (context) => {
        format = toKeyFormat(format, context);
        return exportKey(format, requireKey(key, `${context}: key`), context);
      });
    }

    sign(algorithm, key, data) {
      return settle(this, 'sign', arguments.length, 3, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        const state = requireKey(key, `${context}: key`);
        const bytes = copyBufferSource(data, `${context}: data`);
        const alg = normalizeAlgorithm(algorithm, 'sign', context);
        checkKeyFor(alg, state, 'sign', context);
        return native.sign(state.handle, HASH_IDS.get(state.algorithm.hash), bytes);
      });
    }

    verify(algorithm, key, signature, data) {
      return settle(this, 'verify', arguments.length, 4, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        const state = requireKey(key, `${context}: key`);
        const sig = copyBufferSource(signature, `${context}: signature`);
        const bytes = copyBufferSource(data, `${context}: data`);
        const alg = normalizeAlgorithm(algorithm, 'verify', context);
        checkKeyFor(alg, state, 'verify', context);
        // RSA and HMAC use the key's hash; ECDSA names one per call.
        const hash = alg.name === 'ECDSA' ? alg.hash : state.algorithm.hash;
        const hashId = hash === undefined ? 0 : HASH_IDS.get(hash);
        const saltLength = alg.name === 'RSA-PSS' ? alg.saltLength : 0;
        return native.verify(VERIFY_SCHEMES.get(alg.name), state.handle, hashId, saltLength, bytes, sig);
      });
    }

    encrypt(algorithm, key, data) {
      return settle(this, 'encrypt', arguments.length, 3, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        requireKey(key, `${context}: key`);
        copyBufferSource(data, `${context}: data`);
        unsupportedOperation(algorithm, 'encrypt', context);
      });
    }

    decrypt(algorithm, key, data) {
      return settle(this, 'decrypt', arguments.length, 3, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        requireKey(key, `${context}: key`);
        copyBufferSource(data, `${context}: data`);
        unsupportedOperation(algorithm, 'decrypt', context);
      });
    }

    generateKey(algorithm, extractable, keyUsages) {
      return settle(this, 'generateKey', arguments.length, 3, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        toKeyUsages(keyUsages, context);
        unsupportedOperation(algorithm, 'generateKey', context);
      });
    }

    deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      return settle(this, 'deriveKey', arguments.length, 5, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        requireKey(baseKey, `${context}: baseKey`);
        toAlgorithmIdentifier(derivedKeyType);
        toKeyUsages(keyUsages, context);
        unsupportedOperation(algorithm, 'deriveBits', context);
      });
    }

    deriveBits(algorithm, baseKey, length = null) {
      return settle(this, 'deriveBits', arguments.length, 2, (context) => {
        algorithm = toAlgorithmIdentifier(algorithm);
        requireKey(baseKey, `${context}: baseKey`);
        if (length !== null && length !== undefined) toEnforcedUnsignedLong(length, `${context}: length`);
        unsupportedOperation(algorithm, 'deriveBits', context);
      });
    }

    wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      return settle(this, 'wrapKey', arguments.length, 4, (context) => {
        toKeyFormat(format, context);
        requireKey(key, `${context}: key`);
        requireKey(wrappingKey, `${context}: wrappingKey`);
        unsupportedOperation(toAlgorithmIdentifier(wrapAlgorithm), 'wrapKey', context);
      });
    }

    unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable,
              keyUsages) {
      return settle(this, 'unwrapKey', arguments.length, 7, (context) => {
        toKeyFormat(format, context);
        copyBufferSource(wrappedKey, `${context}: wrappedKey`);
        requireKey(unwrappingKey, `${context}: unwrappingKey`);
        unwrapAlgorithm = toAlgorithmIdentifier(unwrapAlgorithm);
        toAlgorithmIdentifier(unwrappedKeyAlgorithm);
        toKeyUsages(keyUsages, context);
        unsupportedOperation(unwrapAlgorithm, 'unwrapKey', context);
      });
    }

    // Cloudflare Workers' extension: constant-time comparison of two
    // BufferSources of the same length. Synchronous, unlike the rest.
    timingSafeEqual(a, b) {
      if (!isSubtleCrypto(this)) throw new TypeError('Illegal invocation');
      requireArguments(arguments.length, 2, "Failed to execute 'timingSafeEqual' on 'SubtleCrypto'");
      return native.timingSafeEqual(a, b);
    }

    static {
      isSubtleCrypto = (value) => isObject(value) && #brand in value;
    }
  }

  // ---------------------------------------------------------------------------
  // Install

  // Operations and attributes enumerable on the prototype, plus @@toStringTag.
  function finishInterface(ctor, tag) {
    const proto = ctor.prototype;
    for (const key of ReflectOwnKeys(proto)) {
      if (typeof key !== 'string' || key === 'constructor') continue;
      const desc = ObjectGetOwnPropertyDescriptor(proto, key);
      desc.enumerable = true;
      ObjectDefineProperty(proto, key, desc);
    }
    ObjectDefineProperty(proto, SymbolToStringTag,
                         { value: tag, writable: false, enumerable: false, configurable: true });
  }
  finishInterface(SubtleCrypto, 'SubtleCrypto');
  finishInterface(CryptoKey, 'CryptoKey');

  const subtle = new SubtleCrypto(kCreate);
  for (const [name, value] of [['SubtleCrypto', SubtleCrypto], ['CryptoKey', CryptoKey]]) {
    ObjectDefineProperty(global, name, { value, writable: true, enumerable: false, configurable: true });
  }
  // crypto.subtle is a read-only attribute returning the same object.
  const crypto = global.crypto;
  if (isObject(crypto)) {
    ObjectDefineProperty(crypto, 'subtle', {
      get: ObjectGetOwnPropertyDescriptor({ get subtle() { return subtle; } }, 'subtle').get,
      enumerable: false,  // like getRandomValues and randomUUID on this object
      configurable: true,
    });
  }
})
