// bindings/js/cache.js: the Workers Cache API, `caches.default` and
// `caches.open(name)`, over the process's shared response cache.
//
// The file is ONE expression, `(function (global, native) { ... })`, which the
// host evaluates and calls once per V8 context, after fetch_api.js. It defines
// `caches` (a CacheStorage), `Cache` and `CacheStorage` on `global` and
// returns nothing.
//
// Natives (`ns` is null for caches.default, the name given to open()
// otherwise; bodies and headers never pass through JavaScript strings):
//   native.fetchApi: fetch_api.js's internals (requestParts, isResponse,
//       responseParts, makeResponse)
//   native.match(ns, url, flatHeaders) -> undefined | [status, statusText, flatHeaders, bodyHandle | null]
//       A fresh entry whose Vary'd request headers match; 304 for a matching
//       conditional request. Always looked up as a GET.
//   native.put(ns, url, reqFlatHeaders, status, statusText, respFlatHeaders, body)
//       -> undefined | Promise<undefined>. body: null | string (UTF-8 encoded
//       by the host) | Uint8Array | a host body handle (read natively, then
//       stored). Responses the cache may not store are dropped silently.
//   native.delete(ns, url, flatHeaders) -> boolean
//
// Errors and their messages follow Workers (workerd's api/cache.c++).
(function (global, native) {
  'use strict';

  const { requestParts, isResponse, responseParts, makeResponse } = native.fetchApi;
  const kInternal = Symbol('cache internal');
  const kMaxNameLength = 1024;

  function defineHidden(target, name, value) {
    Object.defineProperty(target, name,
        { value, writable: true, enumerable: false, configurable: true });
  }

  // Request.Info -> [method, url, flatHeaders]: a Request as is, anything
  // else is a URL (Workers: `new Request(input)`).
  function keyOf(input) {
    const request = typeof input === 'object' && input !== null && input instanceof global.Request
        ? input : new global.Request(input);
    const parts = requestParts(request);
    const url = parts[1];
    const hash = url.indexOf('#');
    return [parts[0], hash < 0 ? url : url.slice(0, hash), parts[2]];
  }

  function ignoreMethodOf(options) {
    if (options === undefined || options === null) return false;
    if (typeof options !== 'object' && typeof options !== 'function') {
      throw new TypeError('Cache query options must be an object.');
    }
    return Boolean(options.ignoreMethod);
  }

  class Cache {
    #ns = null;

    constructor(token = undefined, ns = null) {
      if (token !== kInternal) throw new TypeError('Illegal constructor');
      this.#ns = ns;
    }

    static #check(self) {
      if (typeof self !== 'object' || self === null || !(#ns in self)) {
        throw new TypeError('Illegal invocation');
      }
    }

    async match(request, options = undefined) {
      Cache.#check(this);
      const ignoreMethod = ignoreMethodOf(options);
      const [method, url, flat] = keyOf(request);
      if (method !== 'GET' && !ignoreMethod) return undefined;
      const hit = native.match(this.#ns, url, flat);
      if (hit === undefined) return undefined;
      return makeResponse(hit[0], hit[1], hit[2], hit[3], '');
    }

    async put(request, response) {
      Cache.#check(this);
      const [method, url, flat] = keyOf(request);
      if (!isResponse(response)) {
        throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
      }
      if (response.type === 'error') throw new TypeError('Cache is unable to store an error response');
      if (method !== 'GET') throw new TypeError('Cannot cache response to non-GET request.');
      if (response.status === 206) {
        throw new TypeError('Cannot cache response to a range request (206 Partial Content).');
      }
      const vary = response.headers.get('Vary');
      if (vary !== null && vary.indexOf('*') >= 0) {
        throw new TypeError("Cannot cache response with 'Vary: *' header.");
      }
      // Workers: a 304 is silently not stored (it would answer later
      // unconditional requests with an empty body), and its body is left alone.
      if (response.status === 304) return undefined;
      const parts = responseParts(response);  // takes the body: it is used from now on
      const [status, statusText, respFlat] = parts;
      let body = parts[3];
      if (body instanceof Promise) body = await body;  // a clone's shared read
      await native.put(this.#ns, url, flat, status, statusText, respFlat, body ?? null);
      return undefined;
    }

    async delete(request, options = undefined) {
      Cache.#check(this);
      const ignoreMethod = ignoreMethodOf(options);
      const [method, url, flat] = keyOf(request);
      if (method !== 'GET' && !ignoreMethod) return false;
      return native.delete(this.#ns, url, flat);
    }

    // Workers: not implemented.
    add() { return Promise.reject(new TypeError('Cache.add() is not implemented.')); }
    addAll() { return Promise.reject(new TypeError('Cache.addAll() is not implemented.')); }
    matchAll() { return Promise.reject(new TypeError('Cache.matchAll() is not implemented.')); }
    keys() { return Promise.reject(new TypeError('Cache.keys() is not implemented.')); }
  }
  Object.defineProperty(Cache.prototype, Symbol.toStringTag,
      { value: 'Cache', writable: false, enumerable: false, configurable: true });

  const defaultCache = new Cache(kInternal, null);

  class CacheStorage {
    constructor(token = undefined) {
      if (token !== kInternal) throw new TypeError('Illegal constructor');
    }

    get default() { return defaultCache; }

    async open(cacheName) {
      if (arguments.length === 0) {
        throw new TypeError("Failed to execute 'open' on 'CacheStorage': 1 argument required, but only 0 present.");
      }
      const name = typeof cacheName === 'string' ? cacheName : `${cacheName}`;
      if (name.length >= kMaxNameLength) throw new TypeError('Cache name is too long.');
      return new Cache(kInternal, name);
    }

    // Workers: not implemented.
    has() { return Promise.reject(new TypeError('CacheStorage.has() is not implemented.')); }
    delete() { return Promise.reject(new TypeError('CacheStorage.delete() is not implemented.')); }
    keys() { return Promise.reject(new TypeError('CacheStorage.keys() is not implemented.')); }
    match() { return Promise.reject(new TypeError('CacheStorage.match() is not implemented.')); }
  }
  Object.defineProperty(CacheStorage.prototype, Symbol.toStringTag,
      { value: 'CacheStorage', writable: false, enumerable: false, configurable: true });

  defineHidden(global, 'Cache', Cache);
  defineHidden(global, 'CacheStorage', CacheStorage);
  defineHidden(global, 'caches', new CacheStorage(kInternal));
})
