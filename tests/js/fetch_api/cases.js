// tests/js/fetch_api/cases.js: cases for bindings/js/fetch_api.js.
//
// A plain script (no imports, no Node APIs) defining `fetchApiCases`, a list
// of { name, host?, fn: async (g, h) => ... }. `g` is the global object the
// API was installed on; `h` is a host harness (see run.mjs: h.internals,
// h.handle(data), h.calls, h.origin, h.peek, h.readBodyCalls). Cases with
// `host: true` use h; the others need only g, so the real runtime can run
// them with (globalThis, null). Errors are checked by `name`, so the cases
// also work across realms.

const fetchApiAssert = (() => {
  function show(v) {
    if (typeof v === 'string') return JSON.stringify(v);
    if (v instanceof Uint8Array) return `Uint8Array[${Array.from(v).join(',')}]`;
    try {
      return JSON.stringify(v);
    } catch (e) {
      return String(v);
    }
  }
  function canon(v) {
    if (v instanceof Uint8Array) return `u8:${Array.from(v).join(',')}`;
    if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
    }
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  }
  function checkError(e, name, pattern, what) {
    if (!(e instanceof Object) || e.name !== name) {
      throw new Error(`${what}: expected ${name}, got ${e && e.name}: ${e && e.message}`);
    }
    if (pattern && !pattern.test(String(e.message))) {
      throw new Error(`${what}: message ${JSON.stringify(e.message)} does not match ${pattern}`);
    }
  }
  return {
    ok(v, msg = 'expected truthy') {
      if (!v) throw new Error(`${msg} (got ${show(v)})`);
    },
    equal(actual, expected, msg = 'not equal') {
      if (!Object.is(actual, expected)) {
        throw new Error(`${msg}: got ${show(actual)}, expected ${show(expected)}`);
      }
    },
    deepEqual(actual, expected, msg = 'not deep-equal') {
      if (canon(actual) !== canon(expected)) {
        throw new Error(`${msg}: got ${canon(actual)}, expected ${canon(expected)}`);
      }
    },
    throws(fn, name, pattern, msg = 'throws') {
      let threw = false;
      try {
        fn();
      } catch (e) {
        threw = true;
        checkError(e, name, pattern, msg);
      }
      if (!threw) throw new Error(`${msg}: expected ${name}, nothing thrown`);
    },
    // `p` must be a promise (checks that the failure is a rejection, not a
    // synchronous throw).
    async rejects(p, name, pattern, msg = 'rejects') {
      if (!(p instanceof Object) || typeof p.then !== 'function') {
        throw new Error(`${msg}: not a promise`);
      }
      let rejected = false;
      try {
        await p;
      } catch (e) {
        rejected = true;
        checkError(e, name, pattern, msg);
      }
      if (!rejected) throw new Error(`${msg}: expected rejection with ${name}`);
    },
  };
})();

const fetchApiCases = (() => {
  const A = fetchApiAssert;
  const cases = [];
  const test = (name, fn, opts = {}) => cases.push({ name, fn, host: !!opts.host });
  const hostTest = (name, fn) => test(name, fn, { host: true });
  const entries = (h) => Array.from(h);
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const decode = (g, u8) => new g.TextDecoder().decode(u8);

  // ---------------------------------------------------------------- globals

  test('globals: non-enumerable, writable, configurable', async (g) => {
    for (const name of ['Headers', 'Request', 'Response', 'fetch']) {
      const d = Object.getOwnPropertyDescriptor(g, name);
      A.ok(d, `${name} defined`);
      A.equal(typeof d.value, 'function', `${name} is a function`);
      A.equal(d.enumerable, false, `${name} enumerable`);
      A.equal(d.writable, true, `${name} writable`);
      A.equal(d.configurable, true, `${name} configurable`);
    }
    A.equal(g.Headers.length, 0);
    A.equal(g.Request.length, 1);
    A.equal(g.Response.length, 0);
    A.equal(g.fetch.length, 1);
  });

  test('globals: toStringTag and new-only constructors', async (g) => {
    A.equal(Object.prototype.toString.call(new g.Headers()), '[object Headers]');
    A.equal(Object.prototype.toString.call(new g.Request('https://a.test/')), '[object Request]');
    A.equal(Object.prototype.toString.call(new g.Response()), '[object Response]');
    A.throws(() => g.Headers(), 'TypeError');
    A.throws(() => g.Request('https://a.test/'), 'TypeError');
    A.throws(() => g.Response(), 'TypeError');
  });

  // ---------------------------------------------------------------- Headers

  test('Headers: init from record, pairs, Map, Headers', async (g) => {
    const a = new g.Headers({ 'Content-Type': 'text/html', 'X-A': '1' });
    A.equal(a.get('content-type'), 'text/html');
    const b = new g.Headers([['X-B', '1'], ['x-b', '2']]);
    A.equal(b.get('X-B'), '1, 2');
    const c = new g.Headers(new Map([['X-C', 'v']]));
    A.equal(c.get('x-c'), 'v');
    const d = new g.Headers(b);
    A.equal(d.get('x-b'), '1, 2');
    d.append('x-b', '3');
    A.equal(b.get('x-b'), '1, 2', 'copy is independent');
    A.deepEqual(entries(new g.Headers()), []);
    A.deepEqual(entries(new g.Headers(undefined)), []);
  });

  test('Headers: invalid init throws TypeError', async (g) => {
    A.throws(() => new g.Headers(null), 'TypeError');
    A.throws(() => new g.Headers(1), 'TypeError');
    A.throws(() => new g.Headers('a: b'), 'TypeError');
    A.throws(() => new g.Headers([['a']]), 'TypeError', /two elements/);
    A.throws(() => new g.Headers([['a', 'b', 'c']]), 'TypeError');
    A.throws(() => new g.Headers(['ab']), 'TypeError');
    A.throws(() => new g.Headers({ 'bad name': 'x' }), 'TypeError');
    A.throws(() => new g.Headers({ [Symbol('s')]: 'x' }), 'TypeError');
  });

  test('Headers: case-insensitive get/has/set/append/delete', async (g) => {
    const h = new g.Headers();
    h.append('X-Thing', 'a');
    A.equal(h.get('x-thing'), 'a');
    A.equal(h.get('X-THING'), 'a');
    A.ok(h.has('x-ThInG'));
    h.append('x-thing', 'b');
    A.equal(h.get('X-Thing'), 'a, b');
    h.set('X-THING', 'c');
    A.equal(h.get('x-thing'), 'c');
    h.delete('x-THING');
    A.equal(h.has('X-Thing'), false);
    A.equal(h.get('X-Thing'), null);
    h.delete('absent');  // no-op
  });

  test('Headers: iteration is sorted, lower-cased, combined', async (g) => {
    const h = new g.Headers([['Zed', '1'], ['alpha', 'x'], ['B', '2'], ['ALPHA', 'y']]);
    A.deepEqual(entries(h), [['alpha', 'x, y'], ['b', '2'], ['zed', '1']]);
    A.deepEqual(Array.from(h.keys()), ['alpha', 'b', 'zed']);
    A.deepEqual(Array.from(h.values()), ['x, y', '2', '1']);
    A.deepEqual(Array.from(h.entries()), entries(h));
    A.equal(g.Headers.prototype[Symbol.iterator], g.Headers.prototype.entries);
  });

  test('Headers: set-cookie iterates as separate entries; getSetCookie', async (g) => {
    const h = new g.Headers();
    A.deepEqual(h.getSetCookie(), []);
    h.append('Set-Cookie', 'a=1');
    h.append('X-Z', 'z');
    h.append('set-cookie', 'b=2; Path=/');
    h.append('Accept', 'x');
    A.deepEqual(entries(h), [['accept', 'x'], ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2; Path=/'], ['x-z', 'z']]);
    A.deepEqual(h.getSetCookie(), ['a=1', 'b=2; Path=/']);
    A.equal(h.get('set-cookie'), 'a=1, b=2; Path=/');
    const copy = h.getSetCookie();
    copy.push('c');
    A.equal(h.getSetCookie().length, 2, 'getSetCookie returns a copy');
  });

  test('Headers: forEach arguments and thisArg', async (g) => {
    const h = new g.Headers({ B: '2', a: '1' });
    const seen = [];
    const self = {};
    h.forEach(function (value, name, obj) {
      seen.push([name, value, obj === h, this === self]);
    }, self);
    A.deepEqual(seen, [['a', '1', true, true], ['b', '2', true, true]]);
    A.throws(() => h.forEach(null), 'TypeError');
  });

  test('Headers: iterator object', async (g) => {
    const h = new g.Headers({ a: '1' });
    const it = h.entries();
    A.equal(Object.prototype.toString.call(it), '[object Headers Iterator]');
    A.equal(it[Symbol.iterator](), it, 'iterator is iterable');
    A.deepEqual(it.next(), { value: ['a', '1'], done: false });
    A.deepEqual(it.next(), { value: undefined, done: true });
    A.throws(() => it.next.call({}), 'TypeError');
  });

  test('Headers: invalid names throw TypeError everywhere', async (g) => {
    const h = new g.Headers();
    for (const bad of ['', 'a b', 'a:b', 'é', 'a\n', '(x)', 'a/b', '"q"']) {
      A.throws(() => h.append(bad, 'v'), 'TypeError', null, `append ${JSON.stringify(bad)}`);
      A.throws(() => h.set(bad, 'v'), 'TypeError', null, `set ${JSON.stringify(bad)}`);
      A.throws(() => h.get(bad), 'TypeError', null, `get ${JSON.stringify(bad)}`);
      A.throws(() => h.has(bad), 'TypeError', null, `has ${JSON.stringify(bad)}`);
      A.throws(() => h.delete(bad), 'TypeError', null, `delete ${JSON.stringify(bad)}`);
    }
    h.append("!#$%&'*+-.^_`|~09azAZ", 'ok');
    A.equal(h.get("!#$%&'*+-.^_`|~09AZaz"), 'ok');
    A.throws(() => h.append(Symbol('x'), 'v'), 'TypeError');
  });

  test('Headers: values are normalised and validated', async (g) => {
    const h = new g.Headers();
    h.set('a', ' \t value with  inner  spaces \r\n ');
    A.equal(h.get('a'), 'value with  inner  spaces');
    h.set('b', '');
    A.equal(h.get('b'), '');
    h.set('c', '\t\r\n ');
    A.equal(h.get('c'), '');
    h.set('d', 42);
    A.equal(h.get('d'), '42');
    for (const bad of ['a\0b', 'a\rb', 'a\nb', 'x\r\nInjected: 1']) {
      A.throws(() => h.set('e', bad), 'TypeError', null, `value ${JSON.stringify(bad)}`);
      A.throws(() => h.append('e', bad), 'TypeError');
      A.throws(() => new g.Headers({ e: bad }), 'TypeError');
    }
    // Workers: non-Latin-1 characters are accepted (sent as UTF-8).
    h.set('f', 'café ☕');
    A.equal(h.get('f'), 'café ☕');
    A.equal(h.has('e'), false);
  });

  test('Headers: many headers (indexed lookups) behave the same', async (g) => {
    const h = new g.Headers();
    for (let i = 0; i < 40; i++) h.append(`X-H${String(i).padStart(2, '0')}`, `v${i}`);
    h.append('x-h05', 'again');
    A.equal(h.get('X-H05'), 'v5, again');
    A.equal(h.get('x-h39'), 'v39');
    h.set('x-h10', 'set');
    A.equal(h.get('x-h10'), 'set');
    h.delete('X-H20');
    A.equal(h.has('x-h20'), false);
    A.equal(h.get('x-h21'), 'v21');
    h.append('x-h20', 'back');
    const names = Array.from(h.keys());
    A.equal(names.length, 40);
    A.deepEqual(names, names.slice().sort());
    const copy = new g.Headers(h);
    copy.delete('x-h00');
    A.equal(copy.has('x-h00'), false);
    A.equal(h.get('x-h00'), 'v0');
    A.equal(copy.get('X-H05'), 'v5, again');
  });

  hostTest('Headers: wire order and first-seen casing reach the host', async (g, h) => {
    const r = new g.Response(null, { headers: [['X-Foo', 'a'], ['Accept', '1']] });
    r.headers.append('x-foo', 'b');
    r.headers.set('ACCEPT', '2');
    r.headers.append('New-One', 'n');
    r.headers.delete('accept');
    r.headers.append('accept', '3');
    A.deepEqual(h.internals.responseParts(r)[2],
        ['X-Foo', 'a', 'X-Foo', 'b', 'New-One', 'n', 'accept', '3']);
  });

  test('Headers: new Headers() is mutable (guard none)', async (g) => {
    const h = new g.Headers({ a: '1' });
    h.set('a', '2');
    h.append('b', '3');
    h.delete('a');
    A.deepEqual(entries(h), [['b', '3']]);
  });

  // ---------------------------------------------------------------- guards

  test('guards: constructed Request/Response headers are mutable', async (g) => {
    const req = new g.Request('https://a.test/', { headers: { a: '1' } });
    req.headers.set('a', '2');
    req.headers.append('Cookie', 'x=1');
    A.equal(req.headers.get('a'), '2');
    const res = new g.Response('x', { headers: { a: '1' } });
    res.headers.set('Set-Cookie', 'k=v');
    res.headers.delete('a');
    A.deepEqual(entries(res.headers), [['content-type', 'text/plain;charset=UTF-8'],
      ['set-cookie', 'k=v']]);
    A.equal(req.headers, req.headers, 'same object each time');
  });

  test('guards: Response.redirect and Response.error headers are immutable', async (g) => {
    for (const r of [g.Response.redirect('https://a.test/x'), g.Response.error()]) {
      A.throws(() => r.headers.set('a', 'b'), 'TypeError', /immutable/);
      A.throws(() => r.headers.append('a', 'b'), 'TypeError', /immutable/);
      A.throws(() => r.headers.delete('location'), 'TypeError', /immutable/);
    }
  });

  hostTest('guards: incoming request headers are immutable; copies are mutable', async (g, h) => {
    const req = h.internals.makeRequest('GET', 'https://a.test/p',
        ['Host', 'a.test', 'X-Id', '7'], null, null);
    A.throws(() => req.headers.set('x', 'y'), 'TypeError', /^Can't modify immutable headers\.$/);
    A.throws(() => req.headers.append('x', 'y'), 'TypeError', /immutable/);
    A.throws(() => req.headers.delete('x-id'), 'TypeError', /immutable/);
    A.equal(req.headers.get('x-id'), '7');
    const copy = new g.Request('https://b.test/q', req);
    copy.headers.set('X-User-ID', 'u1');
    A.equal(copy.headers.get('x-id'), '7');
    A.equal(req.headers.has('x-user-id'), false, 'original unchanged');
    const copy2 = new g.Request(req);
    copy2.headers.delete('x-id');
    A.equal(req.headers.get('x-id'), '7');
    A.throws(() => req.clone().headers.set('a', 'b'), 'TypeError', /immutable/,
        'clone keeps the guard');
  });

  hostTest('guards: fetch() response headers are immutable; new Response(b, res) is not',
      async (g, h) => {
        const res = await g.fetch('https://a.test/');
        A.throws(() => res.headers.set('a', 'b'), 'TypeError', /immutable/);
        A.throws(() => res.clone().headers.set('a', 'b'), 'TypeError', /immutable/);
        const mutable = new g.Response(await res.text(), res);
        mutable.headers.set('a', 'b');
        A.equal(mutable.headers.get('x-echo'), 'yes');
        A.equal(mutable.status, 200);
        const c = new g.Response('x').clone();
        c.headers.set('a', 'b');  // clone of a mutable one stays mutable
      });

  // ---------------------------------------------------------------- Request

  test('Request: defaults and absolute URL', async (g) => {
    const r = new g.Request('HTTPS://EXAMPLE.com:443/a/../b?x=1#frag');
    A.equal(r.url, 'https://example.com/b?x=1#frag');
    A.equal(r.method, 'GET');
    A.equal(r.redirect, 'follow');
    A.equal(r.bodyUsed, false);
    A.equal(r.body, null);
    A.deepEqual(entries(r.headers), []);
    A.equal(r.cf, undefined);
    A.equal(new g.Request(new g.URL('https://a.test/u')).url, 'https://a.test/u');
  });

  test('Request: relative or invalid URL is a TypeError', async (g) => {
    A.throws(() => new g.Request('/relative'), 'TypeError', /Invalid URL/);
    A.throws(() => new g.Request('not a url'), 'TypeError');
    A.throws(() => new g.Request('http://'), 'TypeError');
    A.throws(() => new g.Request(), 'TypeError');
  });

  test('Request: method normalisation and validation', async (g) => {
    const m = (method) => new g.Request('https://a.test/', { method }).method;
    for (const x of ['get', 'post', 'put', 'delete', 'head', 'options']) {
      A.equal(m(x), x.toUpperCase());
    }
    A.equal(m('DeLeTe'), 'DELETE');
    A.equal(m('patch'), 'patch', 'patch is not normalised');
    A.equal(m('PATCH'), 'PATCH');
    A.equal(m('PROPFIND'), 'PROPFIND');
    A.equal(m('custom-Method'), 'custom-Method');
    for (const bad of ['', 'GE T', 'a(b', 'é', 'GET\n']) {
      A.throws(() => m(bad), 'TypeError', null, `method ${JSON.stringify(bad)}`);
    }
    for (const forbidden of ['CONNECT', 'connect', 'TRACE', 'trace', 'TRACK', 'Track']) {
      A.throws(() => m(forbidden), 'TypeError', /Forbidden/, `method ${forbidden}`);
    }
  });

  test('Request: GET/HEAD with a body is a TypeError', async (g) => {
    A.throws(() => new g.Request('https://a.test/', { body: 'x' }), 'TypeError', /GET or HEAD/);
    A.throws(() => new g.Request('https://a.test/', { method: 'HEAD', body: '' }), 'TypeError');
    A.throws(() => new g.Request('https://a.test/', { method: 'get', body: new Uint8Array(1) }),
        'TypeError');
    new g.Request('https://a.test/', { body: null });
    new g.Request('https://a.test/', { body: undefined, method: 'HEAD' });
    const post = new g.Request('https://a.test/', { method: 'POST', body: 'x' });
    A.throws(() => new g.Request(post, { method: 'GET' }), 'TypeError', /GET or HEAD/);
    A.equal(post.bodyUsed, false, 'failed construction leaves input untouched');
    const get = new g.Request(post, { method: 'GET', body: null });
    A.equal(get.method, 'GET');
    A.equal(await get.text(), '');
  });

  test('Request: string body sets text/plain;charset=UTF-8 unless given', async (g) => {
    const r = new g.Request('https://a.test/', { method: 'POST', body: 'héllo' });
    A.equal(r.headers.get('content-type'), 'text/plain;charset=UTF-8');
    A.equal(await r.text(), 'héllo');
    const r2 = new g.Request('https://a.test/', {
      method: 'POST', body: '{}', headers: { 'CONTENT-TYPE': 'application/json' },
    });
    A.equal(r2.headers.get('content-type'), 'application/json');
    A.deepEqual(await r2.json(), {});
  });

  test('Request: redirect values', async (g) => {
    A.equal(new g.Request('https://a.test/', { redirect: 'manual' }).redirect, 'manual');
    A.equal(new g.Request('https://a.test/', { redirect: 'follow' }).redirect, 'follow');
    A.throws(() => new g.Request('https://a.test/', { redirect: 'error' }), 'TypeError',
        /"follow" or "manual"/);
    A.throws(() => new g.Request('https://a.test/', { redirect: 'bogus' }), 'TypeError');
    const r = new g.Request('https://a.test/', { redirect: 'manual' });
    A.equal(new g.Request(r).redirect, 'manual', 'copied from input');
  });

  test('Request: signal stored, inherited, dropped, validated', async (g) => {
    if (typeof g.AbortController !== 'function') return;
    const ac = new g.AbortController();
    const r = new g.Request('https://a.test/', { signal: ac.signal });
    A.equal(r.signal, ac.signal);
    A.equal(new g.Request(r).signal, ac.signal, 'inherited');
    A.equal(new g.Request('https://b.test/', r).signal, ac.signal, 'from a Request init');
    const dropped = new g.Request(r, { signal: null });
    A.ok(dropped.signal !== ac.signal, 'signal: null drops it');
    A.equal(dropped.signal.aborted, false);
    A.equal(dropped.signal, dropped.signal, 'same default signal each time');
    A.ok(new g.Request('https://a.test/').signal instanceof g.AbortSignal);
    A.throws(() => new g.Request('https://a.test/', { signal: {} }), 'TypeError');
    A.throws(() => new g.Request('https://a.test/', { signal: 'x' }), 'TypeError');
  });

  test('Request: cf in init is ignored; integrity must be empty', async (g) => {
    A.equal(new g.Request('https://a.test/', { cf: { cacheTtl: 5 } }).cf, undefined);
    new g.Request('https://a.test/', { integrity: '' });
    A.throws(() => new g.Request('https://a.test/', { integrity: 'sha256-x' }), 'TypeError');
  });

  test('Request: init must be an object', async (g) => {
    new g.Request('https://a.test/', null);
    new g.Request('https://a.test/', undefined);
    A.throws(() => new g.Request('https://a.test/', 5), 'TypeError');
    A.throws(() => new g.Request('https://a.test/', 'GET'), 'TypeError');
    A.throws(() => new g.Request('https://a.test/', { headers: null }), 'TypeError');
  });

  test('Request: new Request(request) copies fields and transfers the body', async (g) => {
    const a = new g.Request('https://a.test/x', {
      method: 'POST', body: 'payload', headers: { 'X-A': '1' }, redirect: 'manual',
    });
    const b = new g.Request(a);
    A.equal(b.url, a.url);
    A.equal(b.method, 'POST');
    A.equal(b.redirect, 'manual');
    A.equal(b.headers.get('x-a'), '1');
    A.equal(b.headers.get('content-type'), 'text/plain;charset=UTF-8');
    A.equal(a.bodyUsed, true, 'input body is transferred (disturbed)');
    A.equal(b.bodyUsed, false);
    A.equal(await b.text(), 'payload');
    await A.rejects(a.text(), 'TypeError', /already been used/);
    A.throws(() => new g.Request(a), 'TypeError', /used body/);
  });

  test('Request: init.body replaces the input body without consuming it', async (g) => {
    const a = new g.Request('https://a.test/', { method: 'PUT', body: 'old' });
    const b = new g.Request(a, { body: 'new' });
    A.equal(a.bodyUsed, false);
    A.equal(await b.text(), 'new');
    A.equal(await a.text(), 'old');
    const c = new g.Request(new g.Request('https://a.test/', { method: 'PUT', body: 'x' }),
        { headers: { 'X-New': '1' } });
    A.equal(c.headers.get('x-new'), '1');
    A.equal(c.headers.has('content-type'), false, 'init.headers replaces the input headers');
    A.equal(c.method, 'PUT');
  });

  test('Request: a Request as init shares its body (Workers)', async (g) => {
    const a = new g.Request('https://a.test/in', {
      method: 'POST', body: 'shared', headers: { 'X-A': '1' }, redirect: 'manual',
    });
    const b = new g.Request('https://b.test/out', a);
    A.equal(b.url, 'https://b.test/out');
    A.equal(b.method, 'POST');
    A.equal(b.redirect, 'manual');
    A.equal(b.headers.get('x-a'), '1');
    A.equal(await b.text(), 'shared');
    A.equal(a.bodyUsed, true, 'one body, two requests');
    A.throws(() => new g.Request('https://c.test/', a), 'TypeError', /already been used/);
  });

  test('Request: clone()', async (g) => {
    const a = new g.Request('https://a.test/', {
      method: 'POST', body: 'twice', headers: { 'X-A': '1' },
    });
    const b = a.clone();
    b.headers.set('x-a', '2');
    A.equal(a.headers.get('x-a'), '1', 'independent headers');
    A.equal(b.method, 'POST');
    A.equal(b.url, a.url);
    A.equal(await a.text(), 'twice');
    A.equal(await b.text(), 'twice');
    A.throws(() => a.clone(), 'TypeError', /already been used/);
    const noBody = new g.Request('https://a.test/');
    await noBody.text();
    noBody.clone();  // a null body is never "used"
  });

  // ---------------------------------------------------------------- bodies

  test('Body: string, ArrayBuffer, views, URLSearchParams, other objects', async (g) => {
    const buf = new Uint8Array([104, 105, 33]).buffer;
    A.equal(await new g.Response(buf).text(), 'hi!');
    const big = new Uint8Array([0, 1, 2, 3, 4, 5]);
    A.deepEqual(await new g.Response(big.subarray(2, 4)).bytes(), new Uint8Array([2, 3]));
    A.deepEqual(await new g.Response(new DataView(big.buffer, 1, 2)).bytes(),
        new Uint8Array([1, 2]));
    const f32 = new Float32Array([1]);
    A.equal((await new g.Response(f32).arrayBuffer()).byteLength, 4);
    const usp = new g.URLSearchParams({ a: '1 2', b: 'é' });
    const r = new g.Response(usp);
    A.equal(r.headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
    A.equal(await r.text(), 'a=1+2&b=%C3%A9');
    const n = new g.Response(42);
    A.equal(n.headers.get('content-type'), 'text/plain;charset=UTF-8');
    A.equal(await n.text(), '42');
    A.equal(await new g.Response({}).text(), '[object Object]');
    A.equal(new g.Response(buf).headers.has('content-type'), false, 'no type for buffers');
  });

  test('Body: buffers are copied at construction', async (g) => {
    const src = new Uint8Array([1, 2, 3]);
    const r = new g.Response(src);
    const r2 = new g.Response(src.buffer);
    src[0] = 9;
    A.deepEqual(await r.bytes(), new Uint8Array([1, 2, 3]));
    A.deepEqual(await r2.bytes(), new Uint8Array([1, 2, 3]));
  });

  test('Body: text/json/arrayBuffer/bytes results', async (g) => {
    const t = await new g.Response('€uro').arrayBuffer();
    A.ok(t instanceof ArrayBuffer, 'arrayBuffer() gives an ArrayBuffer');
    A.deepEqual(new Uint8Array(t), new Uint8Array([0xE2, 0x82, 0xAC, 0x75, 0x72, 0x6F]));
    const b = await new g.Response('ab').bytes();
    A.ok(b instanceof Uint8Array, 'bytes() gives a Uint8Array');
    A.deepEqual(b, new Uint8Array([97, 98]));
    A.deepEqual(await new g.Response('{"a":[1,2]}').json(), { a: [1, 2] });
    A.equal(await new g.Response(new Uint8Array([0xE2, 0x82, 0xAC])).text(), '€');
    const p = new g.Response('x').text();
    A.ok(p instanceof Promise, 'returns a Promise');
    await p;
  });

  test('Body: UTF-8 decoding details (BOM, invalid bytes, lone surrogates)', async (g) => {
    A.equal(await new g.Response('\uFEFFabc').text(), 'abc');
    A.equal(await new g.Response(new Uint8Array([0xEF, 0xBB, 0xBF, 0x61])).text(), 'a');
    A.equal(await new g.Response(new Uint8Array([0x61, 0xFF, 0x62])).text(), 'a\uFFFDb');
    A.equal(await new g.Response('a\uD800b').text(), 'a\uFFFDb');
    A.deepEqual(await new g.Response('\uDC00').bytes(), new Uint8Array([0xEF, 0xBF, 0xBD]));
    A.equal(await new g.Response('😀').text(), '😀');
    A.deepEqual(await new g.Response('\uFEFF{"a":1}').json(), { a: 1 });
  });

  test('Body: second read rejects with TypeError; bodyUsed', async (g) => {
    for (const method of ['text', 'json', 'arrayBuffer', 'bytes']) {
      const r = new g.Response('"x"');
      A.equal(r.bodyUsed, false);
      const first = r[method]();
      A.equal(r.bodyUsed, true, `${method} marks used synchronously`);
      await first;
      let threw = false;
      let p;
      try {
        p = r.text();
      } catch (e) {
        threw = true;
      }
      A.equal(threw, false, 'no synchronous throw');
      await A.rejects(p, 'TypeError', /already been used/);
      await A.rejects(r.json(), 'TypeError');
      await A.rejects(r.arrayBuffer(), 'TypeError');
      await A.rejects(r.bytes(), 'TypeError');
    }
  });

  test('Body: a null body reads as empty, repeatedly, and is never used', async (g) => {
    const r = new g.Response(null);
    A.equal(await r.text(), '');
    A.equal(await r.text(), '');
    A.equal((await r.arrayBuffer()).byteLength, 0);
    A.equal((await r.bytes()).length, 0);
    A.equal(r.bodyUsed, false);
    await A.rejects(r.json(), 'SyntaxError');
    await A.rejects(new g.Response('{bad').json(), 'SyntaxError');
    A.equal(await new g.Request('https://a.test/').text(), '');
    A.equal(await new g.Response(undefined).text(), '');
  });

  test('Body: methods reject on a foreign receiver', async (g) => {
    await A.rejects(g.Response.prototype.text.call({}), 'TypeError');
    await A.rejects(g.Request.prototype.json.call(new g.Response('1')), 'TypeError');
    A.throws(() => Object.getOwnPropertyDescriptor(g.Response.prototype, 'status').get.call({}),
        'TypeError');
  });

  test('Body: arrayBuffer results of clones do not share memory', async (g) => {
    const a = new g.Response(new Uint8Array([1, 2]));
    const b = a.clone();
    const ua = new Uint8Array(await a.arrayBuffer());
    ua[0] = 99;
    A.deepEqual(await b.bytes(), new Uint8Array([1, 2]));
  });

  // ---------------------------------------------------------------- Response

  test('Response: defaults', async (g) => {
    const r = new g.Response();
    A.equal(r.status, 200);
    A.equal(r.statusText, 'OK', 'Workers: default reason phrase');
    A.equal(r.ok, true);
    A.equal(r.redirected, false);
    A.equal(r.type, 'default');
    A.equal(r.url, '');
    A.equal(r.body, null);
    A.equal(r.bodyUsed, false);
    A.deepEqual(entries(r.headers), []);
    A.equal(new g.Response(null, { status: 404 }).statusText, 'Not Found');
    A.equal(new g.Response(null, { status: 299 }).statusText, '');
  });

  test('Response: status range and conversion', async (g) => {
    for (const s of [0, 100, 101, 199, 600, 1000, -1]) {
      A.throws(() => new g.Response(null, { status: s }), 'RangeError', null, `status ${s}`);
    }
    A.equal(new g.Response(null, { status: 599 }).status, 599);
    A.equal(new g.Response(null, { status: '201' }).status, 201);
    A.equal(new g.Response(null, { status: 404.7 }).status, 404);
    A.equal(new g.Response(null, { status: 65536 + 200 }).status, 200, 'unsigned short wraps');
    A.equal(new g.Response(null, { status: 404 }).ok, false);
    A.equal(new g.Response(null, { status: 299 }).ok, true);
    A.equal(new g.Response(null, { status: 302 }).ok, false);
  });

  test('Response: statusText validation', async (g) => {
    A.equal(new g.Response(null, { statusText: 'Fine Thanks' }).statusText, 'Fine Thanks');
    A.equal(new g.Response(null, { statusText: '' }).statusText, '');
    A.equal(new g.Response(null, { statusText: 'tab\there é' }).statusText, 'tab\there é');
    for (const bad of ['\n', 'a\r\nSet-Cookie: x', '\0', 'Ā', '\x7F', '☕']) {
      A.throws(() => new g.Response(null, { statusText: bad }), 'TypeError', null,
          `statusText ${JSON.stringify(bad)}`);
    }
  });

  test('Response: null body statuses', async (g) => {
    for (const status of [204, 205, 304]) {
      A.throws(() => new g.Response('body', { status }), 'TypeError', /null body status/);
      A.throws(() => new g.Response(new Uint8Array(1), { status }), 'TypeError');
      const r = new g.Response(null, { status });
      A.equal(r.status, status);
      // Workers: a zero-length body is accepted and dropped.
      const e = new g.Response('', { status });
      A.equal(e.headers.has('content-type'), false);
      A.equal(await e.text(), '');
    }
    A.throws(() => new g.Response(null, { status: 101 }), 'RangeError');
  });

  test('Response: init may be another Response', async (g) => {
    const a = new g.Response('a', { status: 201, statusText: 'Made', headers: { 'X-A': '1' } });
    const b = new g.Response('b', a);
    A.equal(b.status, 201);
    A.equal(b.statusText, 'Made');
    A.equal(b.headers.get('x-a'), '1');
    A.equal(b.headers.get('content-type'), 'text/plain;charset=UTF-8');
    A.equal(await b.text(), 'b');
    A.equal(a.bodyUsed, false);
  });

  test('Response.json()', async (g) => {
    const r = g.Response.json({ a: 1, b: 'é' });
    A.equal(r.status, 200);
    A.equal(r.headers.get('content-type'), 'application/json');
    A.deepEqual(await r.json(), { a: 1, b: 'é' });
    const r2 = g.Response.json([1], {
      status: 401, headers: { 'Content-Type': 'application/problem+json', 'X-B': '2' },
    });
    A.equal(r2.status, 401);
    A.equal(r2.headers.get('content-type'), 'application/problem+json');
    A.equal(r2.headers.get('x-b'), '2');
    A.equal(await r2.text(), '[1]');
    r2.headers.set('x-c', '3');  // mutable
    A.equal(await g.Response.json(null).text(), 'null');
    A.equal(await g.Response.json('s').text(), '"s"');
    A.throws(() => g.Response.json(undefined), 'TypeError');
    A.throws(() => g.Response.json(() => 1), 'TypeError');
    A.throws(() => g.Response.json(1n), 'TypeError');
    const cyclic = {};
    cyclic.self = cyclic;
    A.throws(() => g.Response.json(cyclic), 'TypeError');
    A.throws(() => g.Response.json({}, { status: 204 }), 'TypeError');
    A.throws(() => g.Response.json({}, { status: 700 }), 'RangeError');
  });

  test('Response.redirect()', async (g) => {
    const r = g.Response.redirect('https://a.test/x?y#z');
    A.equal(r.status, 302);
    A.equal(r.statusText, 'Found');
    A.equal(r.headers.get('location'), 'https://a.test/x?y#z');
    A.equal(r.body, null);
    A.equal(await r.text(), '');
    for (const s of [301, 302, 303, 307, 308]) {
      A.equal(g.Response.redirect('https://a.test/', s).status, s);
    }
    for (const s of [200, 300, 304, 306, 309, 0]) {
      A.throws(() => g.Response.redirect('https://a.test/', s), 'RangeError', null, `status ${s}`);
    }
    A.throws(() => g.Response.redirect('/relative'), 'TypeError');
    A.equal(g.Response.redirect(new g.URL('https://A.test')).headers.get('Location'),
        'https://a.test/');
  });

  test('Response.error()', async (g) => {
    const r = g.Response.error();
    A.equal(r.type, 'error');
    A.equal(r.status, 0);
    A.equal(r.statusText, '');
    A.equal(r.ok, false);
    A.equal(r.body, null);
    A.deepEqual(entries(r.headers), []);
    A.throws(() => new g.Response(null, r), 'RangeError', null, 'status 0 is not constructible');
  });

  test('Response: clone()', async (g) => {
    const a = new g.Response('twice', { status: 201, statusText: 'C', headers: { 'X-A': '1' } });
    const b = a.clone();
    A.equal(b.status, 201);
    A.equal(b.statusText, 'C');
    A.equal(b.type, 'default');
    b.headers.set('x-a', '2');
    A.equal(a.headers.get('x-a'), '1');
    A.equal(await b.text(), 'twice');
    A.equal(await a.text(), 'twice');
    A.throws(() => a.clone(), 'TypeError', /already been used/);
    const e = g.Response.error().clone();
    A.equal(e.type, 'error');
  });

  test('Response: subclassing works', async (g) => {
    class Mine extends g.Response {
      get extra() { return 1; }
    }
    const m = new Mine('x', { status: 202 });
    A.equal(m.status, 202);
    A.equal(m.extra, 1);
    A.equal(await m.text(), 'x');
  });

  // ---------------------------------------------------------------- internals

  hostTest('internals: shape and isResponse', async (g, h) => {
    const i = h.internals;
    for (const name of ['makeRequest', 'responseParts', 'makeOriginBinding', 'isResponse']) {
      A.equal(typeof i[name], 'function', name);
    }
    A.equal(i.isResponse(new g.Response()), true);
    A.equal(i.isResponse(g.Response.error()), true);
    A.equal(i.isResponse(g.Response.json(1)), true);
    for (const v of [null, undefined, 0, 'x', {}, new g.Request('https://a.test/'),
      Promise.resolve(new g.Response()), { status: 200, headers: {} }]) {
      A.equal(i.isResponse(v), false);
    }
  });

  hostTest('internals.makeRequest: fields, lazy and case-insensitive headers', async (g, h) => {
    let touched = 0;
    const flat = ['Host', 'a.test', 'X-Multi', '1', 'Content-Type', 'text/plain',
      'x-multi', '2', 'Set-Cookie', 'a', 'set-cookie', 'b'];
    const spy = new Proxy(flat, { get(t, k) { touched++; return t[k]; } });
    const cf = { colo: 'LHR' };
    const req = h.internals.makeRequest('POST', 'https://a.test/p?q=1', spy, h.handle('hi'), cf);
    A.equal(req.method, 'POST');
    A.equal(req.url, 'https://a.test/p?q=1');
    A.equal(req.cf, cf);
    A.equal(req.redirect, 'follow');
    A.equal(req.bodyUsed, false);
    A.equal(touched, 0, 'flat headers untouched before request.headers');
    const hs = req.headers;
    A.equal(hs, req.headers);
    A.equal(hs.get('X-MULTI'), '1, 2');
    A.ok(touched > 0);
    A.deepEqual(entries(hs), [['content-type', 'text/plain'], ['host', 'a.test'],
      ['set-cookie', 'a'], ['set-cookie', 'b'], ['x-multi', '1, 2']]);
    A.deepEqual(hs.getSetCookie(), ['a', 'b']);
    A.deepEqual(flat, ['Host', 'a.test', 'X-Multi', '1', 'Content-Type', 'text/plain',
      'x-multi', '2', 'Set-Cookie', 'a', 'set-cookie', 'b'], 'host array not mutated');
    const noCf = h.internals.makeRequest('GET', 'https://a.test/', [], null, null);
    A.equal(noCf.cf, undefined);
    A.equal(await noCf.text(), '');
    A.equal(noCf.bodyUsed, false);
  });

  hostTest('internals.makeRequest: body handle is read once via readBody', async (g, h) => {
    const handle = h.handle('{"x":1}');
    const req = h.internals.makeRequest('POST', 'https://a.test/', [], handle, null);
    A.deepEqual(await req.json(), { x: 1 });
    A.equal(handle.reads, 1);
    A.equal(req.bodyUsed, true);
    await A.rejects(req.text(), 'TypeError', /already been used/);
    await A.rejects(req.arrayBuffer(), 'TypeError');
    A.equal(handle.reads, 1, 'no second readBody');
    A.equal(h.readBodyCalls, 1);
    for (const [mode, check] of [
      ['text', (v) => A.equal(v, 'abc')],
      ['arrayBuffer', (v) => A.deepEqual(new Uint8Array(v), new Uint8Array([97, 98, 99]))],
      ['bytes', (v) => A.deepEqual(v, new Uint8Array([97, 98, 99]))],
    ]) {
      const r = h.internals.makeRequest('PUT', 'https://a.test/', [], h.handle('abc'), null);
      check(await r[mode]());
    }
  });

  hostTest('internals.makeRequest: clone() of a handle body shares one read', async (g, h) => {
    const handle = h.handle('payload');
    const req = h.internals.makeRequest('POST', 'https://a.test/', ['A', '1'], handle, null);
    const c = req.clone();
    A.equal(handle.reads, 0, 'clone does not read');
    A.throws(() => c.headers.set('x', 'y'), 'TypeError', /immutable/);
    A.equal(c.headers.get('a'), '1');
    A.equal(await c.text(), 'payload');
    A.equal(await req.text(), 'payload');
    A.equal(handle.reads, 1);
    A.throws(() => req.clone(), 'TypeError');
    // A clone of a clone, read in the other order.
    const r2 = h.internals.makeRequest('POST', 'https://a.test/', [], h.handle('xyz'), null);
    const r3 = r2.clone();
    const r4 = r3.clone();
    A.deepEqual(await r2.bytes(), new Uint8Array([120, 121, 122]));
    A.equal(await r4.text(), 'xyz');
    A.equal(await r3.text(), 'xyz');
  });

  hostTest('internals.responseParts: bodies, headers, status text', async (g, h) => {
    const { responseParts } = h.internals;
    const [status, statusText, flat, body] = responseParts(
        new g.Response('héllo', { status: 201, headers: { 'X-A': '1' } }));
    A.equal(status, 201);
    A.equal(statusText, 'Created');
    A.deepEqual(flat, ['X-A', '1', 'Content-Type', 'text/plain;charset=UTF-8']);
    // String bodies reach the host as strings (it encodes them to UTF-8).
    A.equal(typeof body, 'string');
    A.equal(body, 'héllo');
    A.deepEqual(responseParts(new g.Response(new Uint8Array([1, 2]).buffer))[3],
        new Uint8Array([1, 2]));
    A.deepEqual(responseParts(new g.Response(new Uint16Array([0x0201])))[3],
        new Uint8Array([1, 2]));
    A.equal(responseParts(new g.Response(new g.URLSearchParams('a=b')))[3], 'a=b');
    A.equal(responseParts(new g.Response(null, { status: 204 }))[3], null);
    A.deepEqual(responseParts(new g.Response(null, { statusText: 'Custom' })).slice(0, 3),
        [200, 'Custom', []]);
    const json = responseParts(g.Response.json({ a: 1 }));
    A.deepEqual(json[2], ['Content-Type', 'application/json']);
    A.equal(json[3], '{"a":1}');
    const redirect = responseParts(g.Response.redirect('https://a.test/z', 307));
    A.deepEqual(redirect, [307, 'Temporary Redirect', ['Location', 'https://a.test/z'], null]);
    const err = responseParts(g.Response.error());
    A.deepEqual(err, [0, '', [], null]);
    const multi = new g.Response(null);
    multi.headers.append('Set-Cookie', 'a=1');
    multi.headers.append('Set-Cookie', 'b=2');
    multi.headers.append('Vary', 'A');
    multi.headers.append('vary', 'B');
    A.deepEqual(responseParts(multi)[2],
        ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Vary', 'A', 'Vary', 'B']);
  });

  hostTest('internals.responseParts: marks used; rejects non-Responses', async (g, h) => {
    const { responseParts } = h.internals;
    const r = new g.Response('x');
    responseParts(r);
    A.equal(r.bodyUsed, true);
    A.throws(() => responseParts(r), 'TypeError', /already been used/);
    await A.rejects(r.text(), 'TypeError');
    for (const v of [undefined, null, 'x', {}, { status: 200 }, new g.Request('https://a.test/'),
      Promise.resolve(new g.Response())]) {
      A.throws(() => responseParts(v), 'TypeError');
    }
    const used = new g.Response('y');
    await used.text();
    A.throws(() => responseParts(used), 'TypeError');
    const nullBody = new g.Response(null);
    responseParts(nullBody);
    responseParts(nullBody);  // a null body is never used
  });

  hostTest('internals.responseParts: an unread fetched body is the handle', async (g, h) => {
    let origin;
    h.origin = () => Promise.resolve([200, 'OK', origin.flat, origin.handle, 'https://o.test/']);
    origin = { flat: ['Content-Length', '5', 'X-O', '1'], handle: h.handle('hello') };
    const res = await g.fetch('https://o.test/');
    const parts = h.internals.responseParts(res);
    A.equal(parts[0], 200);
    A.equal(parts[1], 'OK');
    A.equal(parts[2], origin.flat, 'host flat array passed through untouched');
    A.equal(parts[3], origin.handle, 'the handle itself');
    A.equal(origin.handle.reads, 0, 'never read in JS');
    A.equal(res.bodyUsed, true);
  });

  hostTest('internals.responseParts: cloned handle body: bytes or a promise', async (g, h) => {
    const mk = () => h.internals.makeResponse(200, 'OK', ['A', '1'], h.handle('abc'),
        'https://o.test/');
    // Read through the clone first: the host gets the buffered bytes.
    const a = mk();
    const ac = a.clone();
    A.equal(await ac.text(), 'abc');
    const partsA = h.internals.responseParts(a);
    A.ok(partsA[3] instanceof Uint8Array, 'already in memory');
    A.equal(decode(g, partsA[3]), 'abc');
    // Nothing read yet: the body is a promise of the bytes (the host awaits it).
    const b = mk();
    const bc = b.clone();
    const partsB = h.internals.responseParts(b);
    A.ok(partsB[3] instanceof Promise, 'pending shared read');
    A.equal(decode(g, await partsB[3]), 'abc');
    A.equal(await bc.text(), 'abc', 'the clone still reads');
  });

  hostTest('internals.makeResponse: like a fetch() response', async (g, h) => {
    const r = h.internals.makeResponse(404, 'Nope', ['X-A', '1'], h.handle('gone'),
        'https://o.test/p#f');
    A.equal(r.status, 404);
    A.equal(r.statusText, 'Nope');
    A.equal(r.ok, false);
    A.equal(r.url, 'https://o.test/p');
    A.equal(r.type, 'basic');
    A.equal(r.headers.get('x-a'), '1');
    A.throws(() => r.headers.set('b', '2'), 'TypeError', /immutable/);
    A.equal(await r.text(), 'gone');
    const empty = h.internals.makeResponse(204, '', [], null, '');
    A.equal(empty.statusText, '');
    A.equal(await empty.text(), '');
  });

  hostTest('internals.requestParts', async (g, h) => {
    const req = h.internals.makeRequest('GET', 'https://a.test/', ['A', '1'], h.handle('b'), null);
    const parts = h.internals.requestParts(req);
    A.deepEqual(parts, ['GET', 'https://a.test/', ['A', '1']]);
    A.equal(req.bodyUsed, false, 'body untouched');
    A.throws(() => h.internals.requestParts({}), 'TypeError');
  });

  hostTest('internals.makeOriginBinding: fetch with originName', async (g, h) => {
    const users = h.internals.makeOriginBinding('users');
    const res = await users.fetch('http://users/v1/x?y=1', {
      method: 'post', body: 'b', headers: { 'X-A': '1' },
    });
    const call = h.calls[0];
    A.equal(call.originName, 'users');
    A.equal(call.method, 'POST');
    A.equal(call.url, 'http://users/v1/x?y=1');
    A.deepEqual(call.flatHeaders, ['X-A', '1', 'Content-Type', 'text/plain;charset=UTF-8']);
    A.equal(decode(g, call.body), 'b');
    A.equal((await res.json()).originName, 'users');
    A.throws(() => res.headers.set('a', 'b'), 'TypeError', /immutable/);
    // Unbound use and a Request input.
    const { fetch } = h.internals.makeOriginBinding('other');
    const incoming = h.internals.makeRequest('PUT', 'https://gw.test/a', ['H', 'v'],
        h.handle('up'), null);
    await fetch(incoming, { cacheTtl: 60 });
    const call2 = h.calls[1];
    A.equal(call2.originName, 'other');
    A.equal(call2.method, 'PUT');
    A.equal(call2.url, 'https://gw.test/a');
    A.ok(h.isHandle(call2.body), 'body handle passed through');
    await A.rejects(fetch('/relative'), 'TypeError');
  });

  // ---------------------------------------------------------------- fetch

  hostTest('fetch: GET a URL string', async (g, h) => {
    const p = g.fetch('https://a.test/path?q#frag');
    A.ok(p instanceof Promise);
    const res = await p;
    A.equal(h.calls.length, 1);
    const call = h.calls[0];
    A.equal(call.method, 'GET');
    A.equal(call.url, 'https://a.test/path?q', 'fragment not sent');
    A.deepEqual(call.flatHeaders, []);
    A.equal(call.body, null);
    A.equal(call.originName, null);
    A.ok(h.internals.isResponse(res));
    A.ok(res instanceof g.Response);
    A.equal(res.status, 200);
    A.equal(res.statusText, 'OK');
    A.equal(res.url, 'https://a.test/path?q', 'finalUrl without fragment');
    A.equal(res.redirected, false);
    A.equal(res.headers.get('content-type'), 'application/json');
    const echo = await res.json();
    A.equal(echo.bodyKind, 'null');
  });

  hostTest('fetch: init with method, headers and a body', async (g, h) => {
    await g.fetch('https://a.test/', {
      method: 'PATCH', headers: [['X-A', '1'], ['x-a', '2']], body: new Uint8Array([1, 2, 3]),
    });
    const call = h.calls[0];
    A.equal(call.method, 'PATCH');
    A.deepEqual(call.flatHeaders, ['X-A', '1', 'X-A', '2']);
    A.deepEqual(call.body, new Uint8Array([1, 2, 3]));
    await g.fetch('https://a.test/', { method: 'POST', body: 'text' });
    A.deepEqual(h.calls[1].flatHeaders, ['Content-Type', 'text/plain;charset=UTF-8']);
    A.equal(decode(g, h.calls[1].body), 'text');
  });

  hostTest('fetch(request) forwards the incoming request untouched (streams)', async (g, h) => {
    const flat = ['Host', 'gw.test', 'Content-Length', '1000000000'];
    const handle = h.handle('pretend this is 1 GB');
    const incoming = h.internals.makeRequest('POST', 'https://gw.test/up', flat, handle, null);
    await g.fetch(incoming);
    const call = h.calls[0];
    A.equal(call.body, handle, 'the very handle');
    A.equal(handle.reads, 0, 'not read in JS');
    A.equal(call.flatHeaders, flat, 'the very flat array: headers never materialised');
    A.equal(call.method, 'POST');
    A.equal(incoming.bodyUsed, true, 'the request body is consumed');
    await A.rejects(g.fetch(incoming), 'TypeError', /used/);
  });

  hostTest('fetch: cacheTtl and cf.cacheTtl reach the host as whole seconds', async (g, h) => {
    await g.fetch('https://a.test/1', { cacheTtl: 60 });
    await g.fetch('https://a.test/2', { cf: { cacheTtl: 30.9 } });
    await g.fetch('https://a.test/3', { cacheTtl: 5, cf: { cacheTtl: 7 } });
    await g.fetch('https://a.test/4', { cacheTtl: 'soon' });
    await g.fetch('https://a.test/5');
    await g.fetch('https://a.test/6', { cacheTtl: -1 });
    await h.internals.makeOriginBinding('users').fetch('http://users/7', { cacheTtl: '0' });
    A.deepEqual(h.calls.map((c) => c.cacheTtl), [60, 30, 5, undefined, undefined, -1, 0]);
  });

  hostTest('fetch: DESIGN.md example (rewrite URL, add header, stream body)', async (g, h) => {
    const handle = h.handle('upload');
    const request = h.internals.makeRequest('PUT', 'https://gw.test/v1/users/42?x=1',
        ['Host', 'gw.test', 'Authorization', 'Bearer t'], handle, null);
    const url = new g.URL(request.url);
    const req = new g.Request('http://users' + url.pathname.slice(3) + url.search, request);
    req.headers.set('X-User-ID', 'u1');
    await h.internals.makeOriginBinding('users').fetch(req, { cacheTtl: 60 });
    const call = h.calls[0];
    A.equal(call.url, 'http://users/users/42?x=1');
    A.equal(call.method, 'PUT');
    A.equal(call.body, handle, 'body still the handle');
    A.deepEqual(call.flatHeaders, ['Host', 'gw.test', 'Authorization', 'Bearer t',
      'X-User-ID', 'u1']);
    A.equal(req.bodyUsed, true);
    A.equal(request.bodyUsed, true, 'shared body (Workers)');
  });

  hostTest('fetch: rewritten URL, untouched headers: the host array again', async (g, h) => {
    const flat = ['Host', 'gw.test', 'Accept', '*/*'];
    const handle = h.handle('b');
    const incoming = h.internals.makeRequest('POST', 'https://gw.test/a', flat, handle, null);
    await g.fetch(new g.Request('https://o.test/b', incoming));
    A.equal(h.calls[0].flatHeaders, flat);
    A.equal(h.calls[0].body, handle);
    A.equal(h.calls[0].url, 'https://o.test/b');
  });

  hostTest('fetch: a cloned incoming request sends buffered bytes', async (g, h) => {
    const handle = h.handle('dup');
    const incoming = h.internals.makeRequest('POST', 'https://gw.test/', [], handle, null);
    const copy = incoming.clone();
    await g.fetch(copy);
    const call = h.calls[0];
    A.ok(call.body instanceof Uint8Array, 'bytes, not the handle');
    A.equal(decode(g, call.body), 'dup');
    A.equal(await incoming.text(), 'dup', 'the original still reads');
    A.equal(handle.reads, 1);
  });

  hostTest('fetch: errors are rejections, never synchronous throws', async (g, h) => {
    await A.rejects(g.fetch('/relative'), 'TypeError');
    await A.rejects(g.fetch('https://a.test/', { method: 'TRACE' }), 'TypeError');
    await A.rejects(g.fetch('https://a.test/', { body: 'x' }), 'TypeError');
    await A.rejects(g.fetch('https://a.test/', 3), 'TypeError');
    A.equal(h.calls.length, 0);
    h.origin = () => Promise.reject(new TypeError('Fetch to https://evil.test/ is not allowed'));
    await A.rejects(g.fetch('https://evil.test/'), 'TypeError', /not allowed/);
    h.origin = () => { throw new TypeError('sync host failure'); };
    await A.rejects(g.fetch('https://a.test/'), 'TypeError', /sync host/);
  });

  hostTest('fetch: an already aborted signal rejects with its reason', async (g, h) => {
    if (typeof g.AbortController !== 'function') return;
    const ac = new g.AbortController();
    ac.abort();
    await A.rejects(g.fetch('https://a.test/', { signal: ac.signal }), 'AbortError');
    const ac2 = new g.AbortController();
    const reason = new Error('custom');
    ac2.abort(reason);
    let got;
    try {
      await g.fetch(new g.Request('https://a.test/', { signal: ac2.signal }));
    } catch (e) {
      got = e;
    }
    A.equal(got, reason);
    A.equal(h.calls.length, 0, 'native.fetch not called');
    const body = new g.Request('https://a.test/', { method: 'POST', body: 'x', signal: ac.signal });
    await A.rejects(g.fetch(body), 'AbortError');
  });

  hostTest('fetch: abort while in flight rejects', async (g, h) => {
    if (typeof g.AbortController !== 'function') return;
    const ac = new g.AbortController();
    let release;
    h.origin = () => new Promise((resolve) => { release = resolve; });
    const p = g.fetch('https://a.test/', { signal: ac.signal });
    await tick();
    ac.abort();
    await A.rejects(p, 'AbortError');
    release([200, 'OK', [], null, 'https://a.test/']);
    const ac2 = new g.AbortController();
    h.origin = null;
    const res = await g.fetch('https://a.test/', { signal: ac2.signal });
    ac2.abort();  // after completion: no effect
    A.equal(res.status, 200);
  });

  return cases;
})();
