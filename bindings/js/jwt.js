// The `jwt` binding: env.NAME.verify(requestOrToken) checks a JWT against
// the binding's algorithms, keys and claim rules.
//
// Evaluated once per context, on first use by an env binding, and called
// with (global, native). Natives:
//   native.jwtVerify(handle, token) -> outcome, or a Promise of one (while the
//       JWKS is being fetched). outcome: [errorCode] for an invalid token, or
//       [null, claimsJson, headerJson, cacheableUntilMs, generation].
//   native.jwtGeneration(handle) -> Uint32Array(1): the key-set generation,
//       bumped by the host whenever the keys change.
// Returns { makeJwtVerifier(handle) -> JwtVerifier }.
//
// Valid results are deeply frozen and remembered per isolate by token, so a
// token seen again costs a Map lookup: no host call, no JSON parsing. They
// are dropped when the token's exp (+ skew) passes or the key set changes.
(function (global, native) {
  'use strict';

  const kInternal = Symbol('jwt internal');
  const kMaxCachedResults = 1024;
  const kMaxCachedTokenLength = 8192;
  const kMaxCachedHeaders = 64;
  const ArrayIsArray = Array.isArray;
  const DateNow = Date.now;
  const JSONParse = JSON.parse;
  const ObjectFreeze = Object.freeze;
  const PromiseResolve = Promise.resolve.bind(Promise);
  const $Request = global.Request;

  // The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or null.
  function bearerToken(request) {
    const value = request.headers.get('authorization');
    if (value === null) return null;
    const match = /^[ \t]*Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(value);
    return match === null ? null : match[1];
  }

  function deepFreeze(value) {
    if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) deepFreeze(value[key]);
      ObjectFreeze(value);
    }
    return value;
  }

  class JwtVerifier {
    #handle;
    #generation;
    #results = new Map();  // token -> { result, until, generation }
    // Frozen headers by their JSON text: the tokens of one key share a
    // header ({alg, kid, typ}), so it is parsed once, not per token.
    #headers = new Map();

    constructor(internal, handle) {
      if (internal !== kInternal) throw new TypeError('Illegal constructor');
      this.#handle = handle;
      this.#generation = native.jwtGeneration(handle);
    }

    verify(requestOrToken) {
      let token;
      if (typeof requestOrToken === 'string') {
        token = requestOrToken;
      } else if (requestOrToken instanceof $Request) {
        token = bearerToken(requestOrToken);
      } else {
        return Promise.reject(new TypeError('verify() expects a Request or a token string'));
      }
      if (token === null || token === '') return PromiseResolve({ valid: false, error: 'missing_token' });
      const hit = this.#results.get(token);
      if (hit !== undefined) {
        if (hit.until > DateNow() && hit.generation === this.#generation[0]) return PromiseResolve(hit.result);
        this.#results.delete(token);
      }
      const outcome = native.jwtVerify(this.#handle, token);
      if (ArrayIsArray(outcome)) return PromiseResolve(this.#finish(token, outcome));
      return outcome.then((settled) => this.#finish(token, settled));
    }

    #finish(token, outcome) {
      if (outcome[0] !== null) return { valid: false, error: outcome[0] };
      const result = ObjectFreeze({ valid: true, claims: deepFreeze(JSONParse(outcome[1])), header: this.#header(outcome[2]) });
      const until = outcome[3];
      if (until > DateNow() && token.length <= kMaxCachedTokenLength) {
        const results = this.#results;
        if (results.size >= kMaxCachedResults) results.delete(results.keys().next().value);
        results.set(token, { result, until, generation: outcome[4] });
      }
      return result;
    }

    #header(json) {
      let header = this.#headers.get(json);
      if (header === undefined) {
        header = deepFreeze(JSONParse(json));
        if (this.#headers.size >= kMaxCachedHeaders) this.#headers.clear();
        this.#headers.set(json, header);
      }
      return header;
    }
  }

  Object.defineProperty(JwtVerifier.prototype, Symbol.toStringTag, { value: 'JwtVerifier', configurable: true });

  return {
    makeJwtVerifier(handle) {
      return new JwtVerifier(kInternal, handle);
    },
  };
})
