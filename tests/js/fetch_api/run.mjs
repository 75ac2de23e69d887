// tests/js/fetch_api/run.mjs: runs cases.js against bindings/js/fetch_api.js
// under node (v20), with fake host natives.
//
//   node tests/js/fetch_api/run.mjs [name-filter] [--bench]
//
// fetch_api.js is evaluated with an indirect eval and called with a fresh
// plain object as its global: it holds node's URL, URLSearchParams,
// TextEncoder, TextDecoder, DOMException, AbortController and AbortSignal,
// and never node's own Headers/Request/Response/fetch, so only ours are
// tested. Each case gets (g, h): g is that global, h the harness below (fake
// handles and the record of native.fetch calls). Cases marked `host: true`
// need h; the real runtime can run the others with (globalThis, null).
// Exit status 1 if any case fails.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const apiSource = readFileSync(join(root, 'bindings', 'js', 'fetch_api.js'), 'utf8');
const casesSource = readFileSync(join(here, 'cases.js'), 'utf8');

const args = process.argv.slice(2);
const bench = args.includes('--bench');
const filter = args.find((a) => !a.startsWith('--'));

// A fake host body handle: bytes plus a read counter. Reading one twice is a
// bug in fetch_api.js, so the fake rejects loudly.
class FakeHandle {
  constructor(bytes) {
    this.bytes = bytes;
    this.reads = 0;
  }
}

function makeHarness() {
  const h = {
    calls: [],          // every native.fetch call, as an object
    readBodyCalls: 0,
    // Replaces the echo origin for the next native.fetch calls when set:
    // (call) -> Promise<[status, statusText, flat, handle, finalUrl]>.
    origin: null,
    handle(data) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data)
          : data instanceof Uint8Array ? data : new Uint8Array(data ?? 0);
      return new FakeHandle(bytes);
    },
    isHandle(v) {
      return v instanceof FakeHandle;
    },
    // What the host would see when streaming a body: the bytes, as text.
    peek(body) {
      if (body === null) return null;
      if (body instanceof FakeHandle) return new TextDecoder().decode(body.bytes);
      return new TextDecoder().decode(body);
    },
  };
  h.native = {
    readBody(handle) {
      h.readBodyCalls++;
      if (!(handle instanceof FakeHandle)) {
        return Promise.reject(new Error('readBody: not a handle'));
      }
      handle.reads++;
      if (handle.reads > 1) return Promise.reject(new Error('readBody: handle read twice'));
      // Resolve on a later turn, like real I/O.
      return new Promise((resolve) => setTimeout(() => resolve(handle.bytes.slice().buffer), 0));
    },
    isBodyHandle(v) {
      return v instanceof FakeHandle;
    },
    fetch(method, url, flatHeaders, body, originName, cacheTtl) {
      const call = { method, url, flatHeaders, body, originName, cacheTtl };
      h.calls.push(call);
      if (h.origin) return h.origin(call);
      const echo = JSON.stringify({
        method, url, headers: flatHeaders, body: h.peek(body), originName,
        bodyKind: body === null ? 'null' : body instanceof FakeHandle ? 'handle'
            : body instanceof Uint8Array ? 'bytes' : typeof body,
      });
      return new Promise((resolve) => setTimeout(() => resolve([
        200, 'OK', ['Content-Type', 'application/json', 'X-Echo', 'yes'],
        h.handle(echo), url + '#final',
      ]), 0));
    },
  };
  return h;
}

function makeGlobal() {
  const g = {
    URL, URLSearchParams, TextEncoder, TextDecoder, DOMException,
    AbortController, AbortSignal, setTimeout, clearTimeout, console,
  };
  // Make sure nothing of node's fetch leaks in.
  for (const name of ['Headers', 'Request', 'Response', 'fetch', 'FormData', 'Blob']) {
    delete g[name];
  }
  return g;
}

function load() {
  const g = makeGlobal();
  const h = makeHarness();
  const factory = (0, eval)(apiSource);
  h.internals = factory(g, h.native);
  return { g, h };
}

const fetchApiCases = (0, eval)(`${casesSource}\n;fetchApiCases`);

let passed = 0;
let failed = 0;
for (const c of fetchApiCases) {
  if (filter && !c.name.includes(filter)) continue;
  const { g, h } = load();  // a fresh "context" per case
  try {
    await c.fn(g, h);
    passed++;
  } catch (e) {
    failed++;
    const detail = e && e.stack ? e.stack.split('\n').slice(0, 4).join('\n  ') : e;
    console.log(`FAIL ${c.name}\n  ${detail}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);

if (bench) {
  const { g, h } = load();
  const { makeRequest, responseParts } = h.internals;
  const flat = ['Host', 'example.com', 'User-Agent', 'bench', 'Accept', '*/*',
    'X-Request-ID', 'abc', 'Authorization', 'Bearer x'];
  const N = 200000;
  for (let round = 0; round < 3; round++) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const req = makeRequest('GET', 'http://example.com/a?b', flat, null, null);
      if (req.method !== 'GET') throw new Error();
      responseParts(new g.Response('hello', { status: 200 }));
    }
    const ns1 = Number(process.hrtime.bigint() - t) / N;
    t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const req = makeRequest('GET', 'http://example.com/a?b', flat, null, null);
      req.headers.get('authorization');
    }
    const ns2 = Number(process.hrtime.bigint() - t) / N;
    console.log(`bench: makeRequest + Response + responseParts ${ns1.toFixed(0)} ns; ` +
        `makeRequest + headers.get ${ns2.toFixed(0)} ns`);
  }
}

process.exitCode = failed === 0 ? 0 : 1;
