// The `ratelimit` binding: env.NAME.limit({ key }) counts one request for
// `key` against the binding's limit per period, in counters every worker
// and process on the same kv.path shares.
//
// Evaluated once per context, on first use by an env binding, and called
// with (global, native). Native:
//   native.rateLimit(handle, key) -> [success, remaining, reset]
//       (never throws for store failures: the host fails open)
// Returns { makeRateLimiter(handle, limit, period) -> RateLimiter }.
(function (global, native) {
  'use strict';

  const kInternal = Symbol('ratelimit internal');
  const kMaxKeyLength = 1024;

  // One limit() answer. `headers()` gives the IETF RateLimit header fields
  // (draft-ietf-httpapi-ratelimit-headers) for the handler to attach.
  class RateLimitOutcome {
    #period;

    constructor(success, limit, remaining, reset, period) {
      this.success = success;
      this.limit = limit;
      this.remaining = remaining;
      this.reset = reset;
      this.#period = period;
    }

    headers() {
      return {
        'RateLimit-Policy': `"default";q=${this.limit};w=${this.#period}`,
        'RateLimit': `"default";r=${this.remaining};t=${this.reset}`,
      };
    }
  }

  class RateLimiter {
    #handle;
    #limit;
    #period;

    constructor(internal, handle, limit, period) {
      if (internal !== kInternal) throw new TypeError('Illegal constructor');
      this.#handle = handle;
      this.#limit = limit;
      this.#period = period;
    }

    limit(options) {
      if (options === null || typeof options !== 'object') {
        return Promise.reject(new TypeError('limit() expects an object: { key: string }'));
      }
      const key = options.key;
      if (typeof key !== 'string' || key === '') {
        return Promise.reject(new TypeError('limit() needs a non-empty string key: { key: "..." }'));
      }
      if (key.length > kMaxKeyLength) {
        return Promise.reject(new TypeError(`limit() keys are at most ${kMaxKeyLength} characters`));
      }
      const [success, remaining, reset] = native.rateLimit(this.#handle, key);
      return Promise.resolve(new RateLimitOutcome(success, this.#limit, remaining, reset, this.#period));
    }
  }

  Object.defineProperty(RateLimiter.prototype, Symbol.toStringTag, { value: 'RateLimiter', configurable: true });

  return {
    makeRateLimiter(handle, limit, period) {
      return new RateLimiter(kInternal, handle, limit, period);
    },
  };
})
