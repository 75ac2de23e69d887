// bindings/js/fetch_api.js: Headers, Request, Response and fetch() as
// Cloudflare Workers exposes them (WHATWG Fetch, with Workers' deviations
// marked "Workers:" below).
//
// The file is ONE expression, `(function (global, native) { ... })`, which
// the host evaluates and calls once per V8 context, on the isolate's thread.
// It defines Headers, Request, Response and fetch on `global` (non-enumerable,
// writable, configurable) and returns `internals`, for the host only:
//
//   makeRequest(method, url, flatHeaders, bodyHandle, cf) -> Request
//       The client request. Headers stay as the host's flat array until
//       `request.headers` is read; they are immutable. bodyHandle: null or
//       a host body handle.
//   responseParts(response) -> [status, statusText, flatHeaders, body]
//       body: null | string (a string body; the host encodes it as UTF-8) |
//       Uint8Array (treat as read-only) | the host body handle
//       (never read in JS: stream it) | Promise<Uint8Array> (only for a clone
//       of a handle body whose shared read has not finished). Marks the body
//       used. TypeError if `response` is not a Response or its body was used.
//   makeOriginBinding(originName) -> { fetch(input, init) }
//   isResponse(value) -> boolean
//   makeResponse(status, statusText, flatHeaders, bodyHandle, url) -> Response
//       (extra) a Response with immutable headers, as fetch() returns them.
//   requestParts(request) -> [method, url, flatHeaders]   (extra; body untouched)
//
// Natives: native.readBody(handle) -> Promise<ArrayBuffer> (at most once per
// handle, enforced here), native.fetch(method, url, flatHeaders, body,
// originName, cacheTtl) -> Promise<[status, statusText, flatHeaders,
// handle|null, finalUrl]> (cacheTtl: whole seconds or undefined; with a
// number the host consults the response cache first and stores what the
// origin sends), native.isBodyHandle(value) -> boolean.
//
// Flat header arrays handed to or received from the host are never mutated
// here, so the host may pass the same array on (a forwarded request's headers
// reach native.fetch as the very array makeRequest got).
//
// Pending (the streams issue): `body` getters return null even when there is
// a body, so `new Response(res.body, res)` loses the body until ReadableStream
// lands; use `new Response(await res.arrayBuffer(), res)` or
// `new Request(url, request)` meanwhile.
(function (global, native) {
  'use strict';

  // ---------------------------------------------------------------------------
  // Shared helpers

  // Passed as the first constructor argument to build an empty instance whose
  // fields are then filled in directly. Never leaves this closure.
  const kInternal = Symbol('fetch_api internal');

  const USED_BODY = 'Body has already been used. It can only be used once. ' +
      'Use clone() first if you need to read it twice.';
  const IMMUTABLE = "Can't modify immutable headers.";

  // Web IDL ToString as used for ByteString/USVString: throws TypeError on a
  // Symbol (String(symbol) would not).
  function toStr(v) {
    return typeof v === 'string' ? v : `${v}`;
  }

  // Web IDL `unsigned short` conversion (no [EnforceRange]).
  function toUnsignedShort(v) {
    let n = +v;
    if (!Number.isFinite(n)) return 0;
    n = Math.trunc(n) % 65536;
    return n < 0 ? n + 65536 : n;
  }

  let encoder = null;
  let decoder = null;
  function utf8Encode(s) {
    return (encoder ??= new global.TextEncoder()).encode(s);
  }
  // TextDecoder's defaults are the Fetch "UTF-8 decode": a leading BOM is
  // dropped and invalid sequences become U+FFFD.
  function utf8Decode(bytes) {
    return (decoder ??= new global.TextDecoder()).decode(bytes);
  }

  // USVString conversion: lone surrogates become U+FFFD.
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  function toUSV(s) {
    LONE_SURROGATE.lastIndex = 0;
    return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
  }

  function parseAbsoluteUrl(input, what) {
    const s = toStr(input);
    try {
      // Workers: no base URL, so relative URLs are an error.
      return new global.URL(s).href;
    } catch (e) {
      throw new TypeError(`${what}: ${s}`);
    }
  }

  function stripFragment(url) {
    const i = url.indexOf('#');
    return i < 0 ? url : url.slice(0, i);
  }

  function abortReason(signal) {
    if (signal.reason !== undefined) return signal.reason;
    const DOMException = global.DOMException;
    if (typeof DOMException === 'function') {
      return new DOMException('The operation was aborted.', 'AbortError');
    }
    const e = new Error('The operation was aborted.');
    e.name = 'AbortError';
    return e;
  }

  function isAbortSignal(v) {
    const AbortSignal = global.AbortSignal;
    if (typeof AbortSignal === 'function') return v instanceof AbortSignal;
    return typeof v === 'object' && v !== null && 'aborted' in v;
  }

  function defineHidden(target, name, value) {
    Object.defineProperty(target, name,
        { value, writable: true, enumerable: false, configurable: true });
  }

  function setToStringTag(ctor, tag) {
    Object.defineProperty(ctor.prototype, Symbol.toStringTag,
        { value: tag, writable: false, enumerable: false, configurable: true });
  }

  // ---------------------------------------------------------------------------
  // Headers

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const BAD_VALUE_CHAR = /[\0\r\n]/;

  function checkName(name) {
    const s = toStr(name);
    if (!TOKEN.test(s)) throw new TypeError(`Invalid header name: ${JSON.stringify(s)}`);
    return s;
  }

  function isHttpWhitespace(c) {
    return c === 0x20 || c === 0x09 || c === 0x0A || c === 0x0D;
  }

  // Strip leading/trailing HTTP whitespace, then refuse NUL, CR and LF.
  // Workers: characters above U+00FF are allowed (sent as UTF-8) where the
  // spec's ByteString conversion would throw.
  function normalizeValue(value) {
    let s = toStr(value);
    let start = 0;
    let end = s.length;
    while (start < end && isHttpWhitespace(s.charCodeAt(start))) start++;
    while (end > start && isHttpWhitespace(s.charCodeAt(end - 1))) end--;
    if (start !== 0 || end !== s.length) s = s.slice(start, end);
    if (BAD_VALUE_CHAR.test(s)) throw new TypeError('Invalid header value.');
    return s;
  }

  const IteratorPrototype =
      Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

  const ITER_ENTRIES = 0;
  const ITER_KEYS = 1;
  const ITER_VALUES = 2;

  // Iterates a snapshot taken when it was created (as Workers and Chrome do).
  class HeadersIterator {
    #pairs;
    #kind;
    #index = 0;
    constructor(pairs, kind) {
      this.#pairs = pairs;
      this.#kind = kind;
    }
    next() {
      if (!(#pairs in this)) throw new TypeError('Illegal invocation');
      if (this.#index >= this.#pairs.length) return { value: undefined, done: true };
      const pair = this.#pairs[this.#index++];
      const value = this.#kind === ITER_ENTRIES ? pair
          : this.#kind === ITER_KEYS ? pair[0] : pair[1];
      return { value, done: false };
    }
  }
  Object.setPrototypeOf(HeadersIterator.prototype, IteratorPrototype);
  setToStringTag(HeadersIterator, 'Headers Iterator');

  // Set by Headers' static block; the rest of this file uses them.
  let headersFromFlat;     // (flat, guard) -> Headers, materialised lazily
  let headersCopy;         // (headers, guard) -> Headers
  let headersToFlat;       // (headers) -> flat array
  let headersSetGuard;     // (headers, guard)
  let headersGetGuard;     // (headers) -> guard
  let headersAddDefault;   // (headers, name, value): append unless present

  // Guards: "none" (new Headers()), "request"/"response" (a constructed
  // Request's/Response's; mutable: Workers does not filter forbidden header
  // names), "immutable" (fetch() responses, the incoming request,
  // Response.redirect/error).
  //
  // Storage: a list of entries { lower, name, values } in insertion (wire)
  // order, `name` being the casing first given. Lookups scan the list, which
  // is several times cheaper to build than a Map for the usual handful of
  // headers; past kIndexAt entries a Map index bounds the cost.
  const kIndexAt = 24;

  class Headers {
    #list = null;   // null while the headers are still the host's #flat
    #index = null;  // Map<lower, entry> once the list is long
    #flat = null;
    #guard = 'none';

    constructor(init = undefined) {
      if (init === kInternal) return;
      this.#list = [];
      if (init !== undefined) this.#fill(init);
    }

    #fill(init) {
      if (init === null || (typeof init !== 'object' && typeof init !== 'function')) {
        throw new TypeError('Headers init must be an object, an iterable of ' +
            '[name, value] pairs, or a Headers object.');
      }
      if (#list in init) {
        // Workers: copy the other Headers directly (keeps multiple values
        // and original name casing) rather than iterating it.
        if (init.#list === null) {
          this.#list = null;
          this.#flat = init.#flat;
        } else {
          for (const e of init.#list) this.#add(e.lower, e.name, e.values.slice());
        }
        return;
      }
      const iteratorMethod = init[Symbol.iterator];
      if (iteratorMethod !== undefined && iteratorMethod !== null) {
        if (typeof iteratorMethod !== 'function') {
          throw new TypeError('Headers init: Symbol.iterator is not a function.');
        }
        for (const pair of init) {
          if (pair === null || (typeof pair !== 'object' && typeof pair !== 'function')) {
            throw new TypeError('Headers init: each entry must be a [name, value] pair.');
          }
          const seq = [...pair];
          if (seq.length !== 2) {
            throw new TypeError('To initialize a Headers object from a sequence, ' +
                'each inner sequence must have exactly two elements.');
          }
          this.append(seq[0], seq[1]);
        }
        return;
      }
      for (const key of Reflect.ownKeys(init)) {
        const desc = Reflect.getOwnPropertyDescriptor(init, key);
        if (desc === undefined || !desc.enumerable) continue;
        this.append(toStr(key), init[key]);
      }
    }

    #materialize() {
      if (this.#list !== null) return;
      const flat = this.#flat;
      this.#list = [];
      this.#flat = null;
      // Host-provided names and values were validated on the wire.
      for (let i = 0; i + 1 < flat.length; i += 2) {
        this.#append(flat[i].toLowerCase(), flat[i], flat[i + 1]);
      }
    }

    #find(lower) {
      if (this.#list === null) this.#materialize();
      if (this.#index !== null) return this.#index.get(lower);
      const list = this.#list;
      for (let i = 0; i < list.length; i++) {
        if (list[i].lower === lower) return list[i];
      }
      return undefined;
    }

    #add(lower, name, values) {
      const entry = { lower, name, values };
      const list = this.#list;
      list.push(entry);
      if (this.#index !== null) {
        this.#index.set(lower, entry);
      } else if (list.length > kIndexAt) {
        this.#index = new Map();
        for (const e of list) this.#index.set(e.lower, e);
      }
    }

    #append(lower, name, value) {
      const entry = this.#find(lower);
      if (entry === undefined) this.#add(lower, name, [value]);
      else entry.values.push(value);
    }

    #checkMutable() {
      if (this.#guard === 'immutable') throw new TypeError(IMMUTABLE);
    }

    append(name, value) {
      name = checkName(name);
      value = normalizeValue(value);
      this.#checkMutable();
      this.#append(name.toLowerCase(), name, value);
    }

    set(name, value) {
      name = checkName(name);
      value = normalizeValue(value);
      this.#checkMutable();
      const lower = name.toLowerCase();
      const entry = this.#find(lower);
      if (entry === undefined) this.#add(lower, name, [value]);
      else entry.values = [value];
    }

    delete(name) {
      name = checkName(name);
      this.#checkMutable();
      const lower = name.toLowerCase();
      const entry = this.#find(lower);
      if (entry === undefined) return;
      this.#list.splice(this.#list.indexOf(entry), 1);
      if (this.#index !== null) this.#index.delete(lower);
    }

    get(name) {
      name = checkName(name);
      const entry = this.#find(name.toLowerCase());
      if (entry === undefined) return null;
      return entry.values.length === 1 ? entry.values[0] : entry.values.join(', ');
    }

    has(name) {
      name = checkName(name);
      return this.#find(name.toLowerCase()) !== undefined;
    }

    getSetCookie() {
      const entry = this.#find('set-cookie');
      return entry === undefined ? [] : entry.values.slice();
    }

    // Fetch "sort and combine": lower-case names in code-unit order, values
    // of one name joined with ", ", except set-cookie: one pair per value.
    #sortedPairs() {
      if (this.#list === null) this.#materialize();
      const sorted = this.#list.slice().sort((a, b) => (a.lower < b.lower ? -1 : 1));
      const pairs = [];
      for (const { lower, values } of sorted) {
        if (lower === 'set-cookie') {
          for (const v of values) pairs.push([lower, v]);
        } else {
          pairs.push([lower, values.length === 1 ? values[0] : values.join(', ')]);
        }
      }
      return pairs;
    }

    entries() {
      return new HeadersIterator(this.#sortedPairs(), ITER_ENTRIES);
    }

    keys() {
      return new HeadersIterator(this.#sortedPairs(), ITER_KEYS);
    }

    values() {
      return new HeadersIterator(this.#sortedPairs(), ITER_VALUES);
    }

    forEach(callback, thisArg = undefined) {
      if (typeof callback !== 'function') {
        throw new TypeError('Headers.forEach: callback is not a function.');
      }
      for (const [name, value] of this.#sortedPairs()) {
        callback.call(thisArg, value, name, this);
      }
    }

    static {
      headersFromFlat = (flat, guard) => {
        const h = new Headers(kInternal);
        h.#flat = flat;
        h.#guard = guard;
        return h;
      };
      headersCopy = (src, guard) => {
        const h = new Headers(kInternal);
        h.#list = [];
        h.#fill(src);
        h.#guard = guard;
        return h;
      };
      headersToFlat = (h) => {
        if (h.#list === null) return h.#flat;
        const flat = [];
        for (const entry of h.#list) {
          for (const v of entry.values) flat.push(entry.name, v);
        }
        return flat;
      };
      headersSetGuard = (h, guard) => { h.#guard = guard; };
      headersGetGuard = (h) => h.#guard;
      headersAddDefault = (h, name, value) => {
        const lower = name.toLowerCase();
        if (h.#find(lower) === undefined) h.#add(lower, name, [value]);
      };
    }
  }
  Headers.prototype[Symbol.iterator] = Headers.prototype.entries;
  Object.defineProperty(Headers.prototype, Symbol.iterator, { enumerable: false });
  setToStringTag(Headers, 'Headers');

  // ---------------------------------------------------------------------------
  // Bodies
  //
  // A body is null (no body) or a BodyState. Request/Response objects that
  // share a body (Workers: `new Request(url, otherRequest)`) share the
  // BodyState, so reading through either marks both used.

  const K_STRING = 0;  // value: a well-formed string, UTF-8 encoded on demand
  const K_BYTES = 1;   // value: a Uint8Array never handed to user code
  const K_HANDLE = 2;  // value: a host body handle, not yet read
  const K_SHARED = 3;  // value: SharedRead; a cloned handle (see cloneBody)

  class BodyState {
    constructor(kind, value, contentType = null) {
      this.kind = kind;
      this.value = value;
      this.used = false;
      this.contentType = contentType;  // from extraction; applied if absent
      this.stream = null;  // the BodyStream handed out by the body getter
    }
  }

  // A handle read once into memory on behalf of several clones.
  class SharedRead {
    constructor(handle) {
      this.handle = handle;
      this.promise = null;
      this.bytes = null;
    }
    read() {
      if (this.promise === null) {
        this.promise = native.readBody(this.handle).then((ab) => {
          this.bytes = new Uint8Array(ab);
          return this.bytes;
        });
      }
      return this.promise;
    }
  }

  // What `request.body` / `response.body` return until ReadableStream lands:
  // an opaque stand-in that can only be handed to another Request or
  // Response, which then takes the body over without reading it (so
  // `new Response(res.body, res)` keeps streaming an origin's body).
  class BodyStream {
    #state;
    constructor(state) { this.#state = state; }
    static take(stream) {
      const state = stream.#state;
      if (state.used) throw new TypeError('This ReadableStream is disturbed (has already been read from).');
      state.used = true;
      return new BodyState(state.kind, state.value, state.contentType);
    }
    get locked() { return this.#state.used; }
    get [Symbol.toStringTag]() { return 'ReadableStream'; }
  }
  function bodyStreamOf(state) {
    if (state === null) return null;
    return state.stream ??= new BodyStream(state);
  }

  // The first value of a header in a flat [name, value, ...] array.
  function flatHeaderValue(flat, lowerName) {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (String(flat[i]).toLowerCase() === lowerName) return String(flat[i + 1]);
    }
    return null;
  }
  // A flat header array without the headers that describe a request body.
  function withoutBodyHeaders(flat) {
    const out = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = String(flat[i]).toLowerCase();
      if (name === 'content-type' || name === 'content-length' || name === 'content-encoding' ||
          name === 'content-language' || name === 'content-location') continue;
      out.push(flat[i], flat[i + 1]);
    }
    return out;
  }

  const TEXT_PLAIN = 'text/plain;charset=UTF-8';
  const FORM_URLENCODED = 'application/x-www-form-urlencoded;charset=UTF-8';

  // Fetch "extract a body". Buffers are copied (the spec's rule; Workers does
  // not copy). Any other object is stringified, as the BodyInit union's
  // USVString member does. Blob, FormData and ReadableStream are not
  // supported yet.
  function extractBody(init) {
    if (typeof init === 'string') return new BodyState(K_STRING, toUSV(init), TEXT_PLAIN);
    if (typeof init === 'object' || typeof init === 'function') {
      if (init instanceof ArrayBuffer) {
        return new BodyState(K_BYTES, new Uint8Array(init.slice(0)));
      }
      if (ArrayBuffer.isView(init)) {
        return new BodyState(K_BYTES,
            new Uint8Array(init.buffer, init.byteOffset, init.byteLength).slice());
      }
      const URLSearchParams = global.URLSearchParams;
      if (typeof URLSearchParams === 'function' && init instanceof URLSearchParams) {
        return new BodyState(K_STRING, init.toString(), FORM_URLENCODED);
      }
      if (native.isBodyHandle(init)) return new BodyState(K_HANDLE, init);
      if (init instanceof BodyStream) return BodyStream.take(init);
    }
    return new BodyState(K_STRING, toUSV(toStr(init)), TEXT_PLAIN);
  }

  function isEmptyBody(state) {
    return (state.kind === K_STRING && state.value.length === 0) ||
        (state.kind === K_BYTES && state.value.length === 0);
  }

  const READ_TEXT = 0;
  const READ_JSON = 1;
  const READ_ARRAYBUFFER = 2;
  const READ_BYTES = 3;

  function fromString(s, mode) {
    switch (mode) {
      case READ_TEXT:
      case READ_JSON: {
        // Same result as encoding and "UTF-8 decode": drop a leading BOM.
        const text = s.charCodeAt(0) === 0xFEFF ? s.slice(1) : s;
        return mode === READ_TEXT ? text : JSON.parse(text);
      }
      case READ_ARRAYBUFFER: {
        const u8 = utf8Encode(s);
        return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength
            ? u8.buffer : u8.slice().buffer;
      }
      default:
        return utf8Encode(s);
    }
  }

  // `owned`: nobody else references these bytes, so they may be handed out.
  function fromBytes(u8, mode, owned) {
    switch (mode) {
      case READ_TEXT: return utf8Decode(u8);
      case READ_JSON: return JSON.parse(utf8Decode(u8));
      case READ_ARRAYBUFFER:
        return owned && u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength
            ? u8.buffer : u8.slice().buffer;
      default:
        return owned ? u8 : u8.slice();
    }
  }

  // The Body mixin's consume step. Marks the body used synchronously; every
  // failure is a rejection.
  async function consumeBody(state, mode) {
    if (state === null) {
      switch (mode) {
        case READ_TEXT: return '';
        case READ_JSON: return JSON.parse('');  // rejects with SyntaxError
        case READ_ARRAYBUFFER: return new ArrayBuffer(0);
        default: return new Uint8Array(0);
      }
    }
    if (state.used) throw new TypeError(USED_BODY);
    state.used = true;
    switch (state.kind) {
      case K_STRING: return fromString(state.value, mode);
      case K_BYTES: return fromBytes(state.value, mode, false);
      case K_HANDLE: {
        const ab = await native.readBody(state.value);
        return fromBytes(new Uint8Array(ab), mode, true);
      }
      default: return fromBytes(await state.value.read(), mode, false);
    }
  }

  // For Body mixin methods called on a foreign receiver: Web IDL makes a
  // promise-returning operation reject rather than throw.
  function illegalInvocation() {
    return Promise.reject(new TypeError('Illegal invocation'));
  }

  // clone(): both copies must be readable. Strings and bytes are immutable
  // here and simply shared. A handle can be read only once, so it turns into
  // a SharedRead: the first reader (through either copy, or the host via
  // responseParts/fetch) reads the whole body into memory and every copy
  // reads from that buffer. Memory cost: the full body, held until all
  // copies are garbage; a cloned 1 GB upload costs 1 GB.
  function cloneBody(state) {
    if (state === null) return null;
    if (state.used) throw new TypeError(USED_BODY);
    if (state.kind === K_HANDLE) {
      state.kind = K_SHARED;
      state.value = new SharedRead(state.value);
    }
    return new BodyState(state.kind, state.value);
  }

  // `new Request(request)`: the new request takes the body over and the old
  // one becomes used, as if its stream had been piped away.
  function transferBody(state) {
    if (state === null) return null;
    if (state.used) throw new TypeError('Cannot reconstruct a Request with a used body.');
    state.used = true;
    return new BodyState(state.kind, state.value);
  }

  // The body as the host takes it (responseParts, fetch). Marks it used.
  function takeBody(state) {
    if (state === null) return null;
    if (state.used) throw new TypeError(USED_BODY);
    state.used = true;
    switch (state.kind) {
      case K_STRING: return utf8Encode(state.value);
      case K_BYTES: return state.value;
      case K_HANDLE: return state.value;
      default: return state.value.bytes ?? state.value.read();
    }
  }

  // ---------------------------------------------------------------------------
  // Request

  function normalizeMethod(m) {
    const s = toStr(m);
    switch (s) {
      case 'GET': case 'POST': case 'PUT': case 'DELETE': case 'HEAD': case 'OPTIONS':
      case 'PATCH':
        return s;
    }
    if (!TOKEN.test(s)) throw new TypeError(`Invalid HTTP method string: ${s}`);
    const upper = s.toUpperCase();
    switch (upper) {
      case 'CONNECT': case 'TRACE': case 'TRACK':
        throw new TypeError(`Forbidden HTTP method: ${s}`);
      case 'DELETE': case 'GET': case 'HEAD': case 'OPTIONS': case 'POST': case 'PUT':
        return upper;
    }
    return s;
  }

  // Workers: "follow" and "manual" only.
  function parseRedirect(r) {
    const s = toStr(r);
    if (s === 'follow' || s === 'manual') return s;
    throw new TypeError('Invalid redirect value, must be one of "follow" or "manual" ' +
        '("error" won\'t be implemented since it does not make sense at the edge; ' +
        'use "manual" and check the response status code).');
  }

  function checkDictionary(init, what) {
    if (init === undefined || init === null) return undefined;
    if (typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError(`${what}: init must be an object.`);
    }
    return init;
  }

  let isRequest;       // (value) -> boolean
  let copyRequestHeaders;  // (request) -> mutable copy of its headers
  let requestFlat;     // (request) -> flat headers
  let makeRequest;     // host: the incoming request
  let requestParts;    // host: [method, url, flatHeaders]
  let fetchWith;       // (input, init, originName) -> Promise<Response>

  class Request {
    #method = 'GET';
    #url = '';
    // Either #headers is set, or #flat holds the host's array and #headers is
    // created from it on first access with #headersGuard.
    #headers = null;
    #flat = null;
    #headersGuard = 'request';
    #body = null;
    #redirect = 'follow';
    #signal = null;
    #ownSignal = null;
    #cf = undefined;

    constructor(input, init = undefined) {
      if (input === kInternal) return;
      let src = null;
      if (isRequest(input)) {
        src = input;
        this.#url = src.#url;
        this.#method = src.#method;
        this.#redirect = src.#redirect;
        this.#signal = src.#signal;
        this.#cf = src.#cf;
      } else {
        this.#url = parseAbsoluteUrl(input, 'Invalid URL');
      }
      init = checkDictionary(init, "Failed to construct 'Request'");

      // Workers: a Request as `init` is taken whole, body included (shared,
      // not transferred), rather than read as a dictionary. This is what
      // makes `new Request(newUrl, request)` forward a body.
      const initReq = init !== undefined && isRequest(init) ? init : null;
      let headersInit;
      let bodyInit;
      let hasBody = false;
      let hasMethod = false;
      if (initReq !== null) {
        this.#method = initReq.#method;
        this.#redirect = initReq.#redirect;
        this.#signal = initReq.#signal;
        this.#cf = initReq.#cf;
      } else if (init !== undefined) {
        // Dictionary members in Web IDL (lexicographic) order. `cf` is
        // accepted and ignored.
        bodyInit = init.body;
        hasBody = bodyInit !== undefined;
        headersInit = init.headers;
        const integrity = init.integrity;
        if (integrity !== undefined && toStr(integrity) !== '') {
          throw new TypeError('Subrequest integrity checking is not implemented. ' +
              'The integrity option must be either undefined or an empty string.');
        }
        const method = init.method;
        if (method !== undefined) {
          this.#method = normalizeMethod(method);
          hasMethod = true;
        }
        const redirect = init.redirect;
        if (redirect !== undefined) this.#redirect = parseRedirect(redirect);
        const signal = init.signal;
        if (signal !== undefined) {
          if (signal !== null && !isAbortSignal(signal)) {
            throw new TypeError("Failed to construct 'Request': signal is not an AbortSignal.");
          }
          this.#signal = signal;  // null drops an inherited signal
        }
      }

      let headers;
      if (initReq !== null) headers = copyRequestHeaders(initReq);
      else if (headersInit !== undefined) headers = new Headers(headersInit);
      else if (src !== null) headers = copyRequestHeaders(src);
      else headers = new Headers();
      headersSetGuard(headers, 'request');

      let body = null;
      if (initReq !== null) {
        body = initReq.#body;
        if (body !== null && body.used) throw new TypeError(USED_BODY);
      } else if (hasBody) {
        // Workers: an explicit `body: null` drops the input request's body.
        if (bodyInit !== null) body = extractBody(bodyInit);
      } else if (src !== null && src.#body !== null && src.#body.used) {
        throw new TypeError('Cannot reconstruct a Request with a used body.');
      }
      // Workers: only checked when init sets the method or the body, so a
      // GET with a body from elsewhere can still be proxied.
      if ((hasMethod || hasBody) && (this.#method === 'GET' || this.#method === 'HEAD') &&
          (hasBody ? body !== null : src !== null && src.#body !== null)) {
        throw new TypeError('Request with a GET or HEAD method cannot have a body.');
      }
      if (hasBody && body !== null && body.contentType !== null) {
        headersAddDefault(headers, 'Content-Type', body.contentType);
      }
      // Last, so that a throwing constructor leaves `input` untouched.
      if (initReq === null && !hasBody && src !== null) body = transferBody(src.#body);

      this.#headers = headers;
      this.#body = body;
    }

    get method() { return this.#method; }
    get url() { return this.#url; }
    get headers() {
      return this.#headers ??= headersFromFlat(this.#flat, this.#headersGuard);
    }
    get redirect() { return this.#redirect; }
    get signal() {
      if (this.#signal !== null) return this.#signal;
      if (this.#ownSignal === null && typeof global.AbortController === 'function') {
        this.#ownSignal = new global.AbortController().signal;  // never aborts
      }
      return this.#ownSignal;
    }
    get cf() { return this.#cf; }
    // An opaque stand-in until ReadableStream lands (see BodyStream).
    get body() { return this.#body === null ? null : bodyStreamOf(this.#body); }
    get bodyUsed() { return this.#body !== null && this.#body.used; }

    text() { return isRequest(this) ? consumeBody(this.#body, READ_TEXT) : illegalInvocation(); }
    json() { return isRequest(this) ? consumeBody(this.#body, READ_JSON) : illegalInvocation(); }
    arrayBuffer() {
      return isRequest(this) ? consumeBody(this.#body, READ_ARRAYBUFFER) : illegalInvocation();
    }
    bytes() { return isRequest(this) ? consumeBody(this.#body, READ_BYTES) : illegalInvocation(); }

    clone() {
      const body = cloneBody(this.#body);
      const r = new Request(kInternal);
      r.#method = this.#method;
      r.#url = this.#url;
      if (this.#headers === null) {
        r.#flat = this.#flat;
        r.#headersGuard = this.#headersGuard;
      } else {
        r.#headers = headersCopy(this.#headers, headersGetGuard(this.#headers));
      }
      r.#body = body;
      r.#redirect = this.#redirect;
      r.#signal = this.#signal;
      r.#cf = this.#cf;
      return r;
    }

    static {
      isRequest = (v) => typeof v === 'object' && v !== null && #method in v;

      copyRequestHeaders = (r) => (r.#headers === null
          ? headersFromFlat(r.#flat, 'request')
          : headersCopy(r.#headers, 'request'));

      requestFlat = (r) => (r.#headers === null ? r.#flat : headersToFlat(r.#headers));

      makeRequest = (method, url, flatHeaders, bodyHandle, cf) => {
        const r = new Request(kInternal);
        r.#method = method;
        r.#url = url;
        r.#flat = flatHeaders;
        r.#headersGuard = 'immutable';
        if (bodyHandle !== null && bodyHandle !== undefined) {
          r.#body = new BodyState(K_HANDLE, bodyHandle);
        }
        r.#cf = cf === null ? undefined : cf;
        return r;
      };

      requestParts = (r) => {
        if (!isRequest(r)) throw new TypeError('Not a Request.');
        return [r.#method, r.#url, requestFlat(r)];
      };

      // Fetch's "HTTP-redirect fetch" for redirect: "follow" (the default, as
      // in Workers): at most 20 hops; 303, and 301/302 after a POST, become a
      // GET without a body; a body streamed from the client cannot be sent
      // twice, so such a redirect is returned as is. Hops to another origin
      // go through the egress policy like any fetch.
      const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
      const followRedirects = (method, url, flat, body, originName, mode, hops, cacheTtl) =>
        native.fetch(method, url, flat, body, originName, cacheTtl).then((res) => {
          const status = res[0];
          const location = mode === 'follow' && REDIRECT_STATUSES.includes(status)
              ? flatHeaderValue(res[2], 'location') : null;
          if (location === null) return makeResponse(res[0], res[1], res[2], res[3], res[4], hops > 0);
          if (hops >= 20) throw new TypeError('Too many redirects.');
          let next;
          try {
            next = new global.URL(location, url);
          } catch {
            throw new TypeError(`Invalid redirect location: ${location}`);
          }
          let nextMethod = method;
          let nextBody = body;
          let nextFlat = flat;
          if ((status === 303 && method !== 'GET' && method !== 'HEAD') ||
              ((status === 301 || status === 302) && method === 'POST')) {
            nextMethod = 'GET';
            nextBody = null;
            nextFlat = withoutBodyHeaders(flat);
          } else if (body !== null && native.isBodyHandle(body)) {
            return makeResponse(res[0], res[1], res[2], res[3], res[4], hops > 0);
          }
          const from = new global.URL(url);
          const sameOrigin = from.protocol === next.protocol && from.host === next.host;
          return followRedirects(nextMethod, stripFragment(next.href), nextFlat, nextBody,
              sameOrigin ? originName : null, mode, hops + 1, cacheTtl);
        });

      // The response-cache TTL override: `init.cacheTtl` (isogate's short
      // form) or Workers' `init.cf.cacheTtl`, in whole seconds; undefined
      // when absent or not a finite number.
      const cacheTtlOf = (init) => {
        if (init === undefined || init === null || typeof init !== 'object' || isRequest(init)) {
          return undefined;
        }
        let value = init.cacheTtl;
        if (value === undefined || value === null) {
          const cf = init.cf;
          if (cf !== undefined && cf !== null && typeof cf === 'object') value = cf.cacheTtl;
        }
        if (value === undefined || value === null) return undefined;
        const n = Number(value);
        return Number.isFinite(n) ? Math.trunc(n) : undefined;
      };

      fetchWith = (input, init, originName) => {
        let request;
        let body;
        let cacheTtl;
        try {
          cacheTtl = cacheTtlOf(init);
          request = new Request(input, init);
          const signal = request.#signal;
          if (signal !== null && signal.aborted) return Promise.reject(abortReason(signal));
          body = takeBody(request.#body);
        } catch (e) {
          return Promise.reject(e);
        }
        const method = request.#method;
        const url = stripFragment(request.#url);
        const flat = requestFlat(request);
        const redirectMode = request.#redirect;
        const send = (b) => followRedirects(method, url, flat, b, originName, redirectMode, 0, cacheTtl);
        let p;
        try {
          p = body instanceof Promise ? body.then(send) : send(body);
        } catch (e) {
          return Promise.reject(e);
        }
        const signal = request.#signal;
        if (signal !== null && typeof signal.addEventListener === 'function') {
          // The host has no cancel yet: an abort rejects the caller's promise
          // while the origin request runs to completion and its handle is
          // dropped.
          p = new Promise((resolve, reject) => {
            const onAbort = () => reject(abortReason(signal));
            signal.addEventListener('abort', onAbort, { once: true });
            p.then((v) => {
              signal.removeEventListener('abort', onAbort);
              resolve(v);
            }, (e) => {
              signal.removeEventListener('abort', onAbort);
              reject(e);
            });
          });
        }
        return p;
      };
    }
  }
  setToStringTag(Request, 'Request');

  // ---------------------------------------------------------------------------
  // Response

  const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
  const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
  // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
  const REASON_PHRASE = /^[\t\x20-\x7E\x80-\xFF]*$/;

  const REASON = {
    100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
    200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information',
    204: 'No Content', 205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status',
    208: 'Already Reported', 226: 'IM Used',
    300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
    304: 'Not Modified', 305: 'Use Proxy', 307: 'Temporary Redirect',
    308: 'Permanent Redirect',
    400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
    404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
    407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict',
    410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed',
    413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
    416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a teapot",
    421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked',
    424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required',
    428: 'Precondition Required', 429: 'Too Many Requests',
    431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
    500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
    506: 'Variant Also Negotiates', 507: 'Insufficient Storage', 508: 'Loop Detected',
    510: 'Not Extended', 511: 'Network Authentication Required',
  };

  let isResponse;      // (value) -> boolean
  let makeResponse;    // (status, statusText, flat, handle, url) -> Response
  let responseParts;   // host: [status, statusText, flat, body]

  class Response {
    #status = 200;
    // null: Workers' default, the standard reason phrase for the status (the
    // spec's default is "").
    #statusText = null;
    #headers = null;
    #flat = null;
    #headersGuard = 'response';
    #body = null;
    #type = 'default';
    #redirected = false;
    #url = '';

    constructor(body = null, init = undefined) {
      if (body === kInternal) return;
      this.#init(body, init, false);
    }

    // Fetch "initialize a response". `isJson`: `body` is a JSON text from
    // Response.json().
    #init(bodyInit, init, isJson) {
      init = checkDictionary(init, "Failed to construct 'Response'");
      let headersInit;
      let status = 200;
      let statusText = null;
      if (init !== undefined) {
        headersInit = init.headers;
        const s = init.status;
        if (s !== undefined) status = toUnsignedShort(s);
        const t = init.statusText;
        if (t !== undefined) statusText = toStr(t);
      }
      if (status < 200 || status > 599) {
        throw new RangeError('Responses may only be constructed with status codes in ' +
            `the range 200 to 599, inclusive (got ${status}).`);
      }
      if (statusText !== null && !REASON_PHRASE.test(statusText)) {
        throw new TypeError('Invalid statusText.');
      }
      const headers = headersInit !== undefined ? new Headers(headersInit) : new Headers();
      headersSetGuard(headers, 'response');

      let body = null;
      if (bodyInit !== null && bodyInit !== undefined) {
        body = isJson ? new BodyState(K_STRING, bodyInit, 'application/json')
            : extractBody(bodyInit);
        if (NULL_BODY_STATUS.has(status)) {
          // Workers: a zero-length body is accepted and treated as no body.
          if (!isEmptyBody(body)) {
            throw new TypeError('Response with null body status (101, 204, 205, or 304) ' +
                'cannot have a body.');
          }
          body = null;
        }
      }
      if (body !== null && body.contentType !== null) {
        headersAddDefault(headers, 'Content-Type', body.contentType);
      }
      this.#status = status;
      this.#statusText = statusText;
      this.#headers = headers;
      this.#body = body;
    }

    static json(data, init = undefined) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('Value is not JSON serializable.');
      const r = new Response(kInternal);
      r.#init(text, init, true);
      return r;
    }

    static redirect(url, status = 302) {
      const href = parseAbsoluteUrl(url, 'Unable to parse URL');
      const code = toUnsignedShort(status);
      if (!REDIRECT_STATUS.has(code)) {
        throw new RangeError(`${code} is not a redirect status code. ` +
            'It must be one of: 301, 302, 303, 307, or 308.');
      }
      const r = new Response(kInternal);
      r.#status = code;
      r.#headers = headersFromFlat(['Location', href], 'immutable');
      return r;
    }

    static error() {
      const r = new Response(kInternal);
      r.#status = 0;
      r.#statusText = '';
      r.#type = 'error';
      r.#headers = headersFromFlat([], 'immutable');
      return r;
    }

    get status() { return this.#status; }
    get statusText() { return this.#statusText ?? REASON[this.#status] ?? ''; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    // Whether the host followed redirects is not reported, so always false.
    get redirected() { return this.#redirected; }
    get type() { return this.#type; }
    get url() { return this.#url; }
    get headers() {
      return this.#headers ??= headersFromFlat(this.#flat, this.#headersGuard);
    }
    // An opaque stand-in until ReadableStream lands (see BodyStream).
    get body() { return this.#body === null ? null : bodyStreamOf(this.#body); }
    get bodyUsed() { return this.#body !== null && this.#body.used; }

    text() { return isResponse(this) ? consumeBody(this.#body, READ_TEXT) : illegalInvocation(); }
    json() { return isResponse(this) ? consumeBody(this.#body, READ_JSON) : illegalInvocation(); }
    arrayBuffer() {
      return isResponse(this) ? consumeBody(this.#body, READ_ARRAYBUFFER) : illegalInvocation();
    }
    bytes() { return isResponse(this) ? consumeBody(this.#body, READ_BYTES) : illegalInvocation(); }

    clone() {
      const body = cloneBody(this.#body);
      const r = new Response(kInternal);
      r.#status = this.#status;
      r.#statusText = this.#statusText;
      if (this.#headers === null) {
        r.#flat = this.#flat;
        r.#headersGuard = this.#headersGuard;
      } else {
        r.#headers = headersCopy(this.#headers, headersGetGuard(this.#headers));
      }
      r.#body = body;
      r.#type = this.#type;
      r.#url = this.#url;
      return r;
    }

    static {
      isResponse = (v) => typeof v === 'object' && v !== null && #status in v;

      makeResponse = (status, statusText, flatHeaders, bodyHandle, url, redirected = false) => {
        const r = new Response(kInternal);
        r.#redirected = redirected === true;
        r.#status = status;
        r.#statusText = typeof statusText === 'string' ? statusText : null;
        r.#flat = flatHeaders ?? [];
        r.#headersGuard = 'immutable';
        if (bodyHandle !== null && bodyHandle !== undefined) {
          r.#body = new BodyState(K_HANDLE, bodyHandle);
        }
        r.#type = 'basic';
        r.#url = typeof url === 'string' ? stripFragment(url) : '';
        return r;
      };

      responseParts = (r) => {
        if (!isResponse(r)) throw new TypeError('The handler did not return a Response.');
        const state = r.#body;
        // A string body goes to the host as is: it encodes UTF-8 straight into
        // its write buffer (one copy fewer than a Uint8Array).
        let body;
        if (state !== null && state.kind === K_STRING && !state.used) {
          state.used = true;
          body = state.value;
        } else {
          body = takeBody(state);
        }
        const flat = r.#headers === null ? r.#flat : headersToFlat(r.#headers);
        return [r.#status, r.statusText, flat, body];
      };
    }
  }
  setToStringTag(Response, 'Response');

  // ---------------------------------------------------------------------------
  // fetch and what the host sees

  function fetch(input, init = undefined) {
    return fetchWith(input, init, null);
  }

  defineHidden(global, 'Headers', Headers);
  defineHidden(global, 'Request', Request);
  defineHidden(global, 'Response', Response);
  defineHidden(global, 'fetch', fetch);

  const internals = {
    makeRequest,
    responseParts,
    makeOriginBinding(originName) {
      return {
        // Independent of `this`, so `const { fetch } = env.USERS` works.
        fetch: function fetch(input, init = undefined) {
          return fetchWith(input, init, originName);
        },
      };
    },
    isResponse,
    makeResponse,
    requestParts,
  };
  return internals;
})
