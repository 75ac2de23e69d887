// The `jwt` binding: env.NAME.verify(requestOrToken) checks a JWT against
// the binding's algorithms, keys and claim rules.
//
// Evaluated once per context, on first use by an env binding, and called
// with (global, native). Native:
//   native.jwtVerify(handle, token) -> Promise<{ valid: true, claims, header } | { valid: false, error }>
// Returns { makeJwtVerifier(handle) -> JwtVerifier }.
(function (global, native) {
  'use strict';

  const kInternal = Symbol('jwt internal');
  const MISSING = Object.freeze({ valid: false, error: 'missing_token' });

  // The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or null.
  function bearerToken(request) {
    const value = request.headers.get('authorization');
    if (value === null) return null;
    const match = /^[ \t]*Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(value);
    return match === null ? null : match[1];
  }

  class JwtVerifier {
    #handle;

    constructor(internal, handle) {
      if (internal !== kInternal) throw new TypeError('Illegal constructor');
      this.#handle = handle;
    }

    verify(requestOrToken) {
      let token;
      if (typeof requestOrToken === 'string') {
        token = requestOrToken;
      } else if (requestOrToken instanceof global.Request) {
        token = bearerToken(requestOrToken);
      } else {
        return Promise.reject(new TypeError('verify() expects a Request or a token string'));
      }
      if (token === null || token === '') return Promise.resolve({ ...MISSING });
      return native.jwtVerify(this.#handle, token);
    }
  }

  Object.defineProperty(JwtVerifier.prototype, Symbol.toStringTag, { value: 'JwtVerifier', configurable: true });

  return {
    makeJwtVerifier(handle) {
      return new JwtVerifier(kInternal, handle);
    },
  };
})
