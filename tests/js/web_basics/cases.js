// Tests for bindings/js/web_basics.js: TextEncoder/TextDecoder, atob/btoa,
// DOMException, Event/EventTarget, AbortController/AbortSignal,
// queueMicrotask, performance.
//
// A plain script (no imports, no Node APIs) so that it runs both under
// tests/js/web_basics/run.mjs and inside the real runtime. It defines:
//   webBasicsCases              [{ name, needs?, fn: async (g, h) => {} }]
//   runWebBasicsCases(g, h, log) -> Promise<{ passed, failed, skipped }>
//   makeWebBasicsFakeHost()     -> { native, h }: fake natives for the file
//                                  under test and the matching harness.
// `g` is the object holding the globals under test. `h` is the harness:
//   h.sleep(ms)        let ms of (fake or real) time pass, firing due timers
//   h.reported         errors passed to native.reportError, or null
//   h.timeouts         delays passed to native.setTimeout, or null
//   h.now()            the value native.now() returns next, or null
//   h.timeOrigin       native.timeOrigin, or null
//   h.detach(buffer)   detaches an ArrayBuffer (e.g. by a transfer), or null
// A case lists in `needs` the harness members it requires; it is skipped
// where they are null.

const webBasicsAssert = (() => {
  function show(v) {
    if (typeof v === 'string') return JSON.stringify(v);
    if (ArrayBuffer.isView(v)) return `${Object.prototype.toString.call(v)}[${Array.from(v)}]`;
    if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
    try {
      return String(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  function fail(message, detail) {
    throw new Error(message + (detail ? ` (${detail})` : ''));
  }
  function sameSequence(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    return true;
  }
  return {
    ok(value, message = 'expected a truthy value') {
      if (!value) fail(message, `got ${show(value)}`);
    },
    equal(actual, expected, message = 'values differ') {
      if (!Object.is(actual, expected)) {
        fail(message, `got ${show(actual)}, expected ${show(expected)}`);
      }
    },
    // Arrays, typed arrays and strings compared element by element.
    sequence(actual, expected, message = 'sequences differ') {
      if (!sameSequence(actual, expected)) {
        fail(message, `got ${show(actual)}, expected ${show(expected)}`);
      }
    },
    // `expected`: an error name ('TypeError'), or { name, code, message }.
    throws(fn, expected, message = 'expected an exception') {
      let error;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      if (error === undefined) fail(message, 'nothing was thrown');
      const want = typeof expected === 'string' ? { name: expected } : expected;
      for (const key of Object.keys(want)) {
        if (!Object.is(error[key], want[key])) {
          fail(message, `${key} is ${show(error[key])}, expected ${show(want[key])}; ` +
                        `error: ${show(error)}`);
        }
      }
      return error;
    },
  };
})();

// Code points to a string; bytes to a Uint8Array.
const cpStr = (...cps) => String.fromCodePoint(...cps);
const u8 = (...bytes) => new Uint8Array(bytes);
const FFFD = '\uFFFD';

// Invalid and edge-case UTF-8 with the Encoding Standard's output
// (one U+FFFD per maximal subpart).
const UTF8_DECODE_TABLE = [
  ['empty', [], ''],
  ['NUL', [0x00], '\0'],
  ['ASCII', [0x41, 0x7F], 'A\x7F'],
  ['U+0080', [0xC2, 0x80], '\x80'],
  ['U+07FF', [0xDF, 0xBF], '\u07FF'],
  ['U+0800', [0xE0, 0xA0, 0x80], '\u0800'],
  ['U+D7FF', [0xED, 0x9F, 0xBF], '\uD7FF'],
  ['U+E000', [0xEE, 0x80, 0x80], '\uE000'],
  ['U+FFFF', [0xEF, 0xBF, 0xBF], '\uFFFF'],
  ['U+10000', [0xF0, 0x90, 0x80, 0x80], '\u{10000}'],
  ['U+10FFFF', [0xF4, 0x8F, 0xBF, 0xBF], '\u{10FFFF}'],
  ['lone continuation 80', [0x80], FFFD],
  ['lone continuation BF', [0xBF], FFFD],
  ['two continuations', [0x80, 0xBF], FFFD + FFFD],
  ['C0 80 overlong NUL', [0xC0, 0x80], FFFD + FFFD],
  ['C1 BF overlong', [0xC1, 0xBF], FFFD + FFFD],
  ['E0 80 80 overlong', [0xE0, 0x80, 0x80], FFFD + FFFD + FFFD],
  ['E0 9F BF overlong', [0xE0, 0x9F, 0xBF], FFFD + FFFD + FFFD],
  ['ED A0 80 surrogate D800', [0xED, 0xA0, 0x80], FFFD + FFFD + FFFD],
  ['ED BF BF surrogate DFFF', [0xED, 0xBF, 0xBF], FFFD + FFFD + FFFD],
  ['ED A0 80 ED B0 80 surrogate pair', [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80], FFFD.repeat(6)],
  ['F0 80 80 80 overlong', [0xF0, 0x80, 0x80, 0x80], FFFD.repeat(4)],
  ['F0 8F BF BF overlong', [0xF0, 0x8F, 0xBF, 0xBF], FFFD.repeat(4)],
  ['F4 90 80 80 above U+10FFFF', [0xF4, 0x90, 0x80, 0x80], FFFD.repeat(4)],
  ['F5 80 80 80', [0xF5, 0x80, 0x80, 0x80], FFFD.repeat(4)],
  ['F8 88 80 80 80 5-byte form', [0xF8, 0x88, 0x80, 0x80, 0x80], FFFD.repeat(5)],
  ['FC 84 80 80 80 80 6-byte form', [0xFC, 0x84, 0x80, 0x80, 0x80, 0x80], FFFD.repeat(6)],
  ['FE FF', [0xFE, 0xFF], FFFD + FFFD],
  ['truncated 2-byte at end', [0xC3], FFFD],
  ['truncated 2-byte before ASCII', [0xC3, 0x41], FFFD + 'A'],
  ['truncated 3-byte at end (1)', [0xE2], FFFD],
  ['truncated 3-byte at end (2)', [0xE2, 0x82], FFFD],
  ['truncated 3-byte before ASCII', [0xE2, 0x82, 0x41], FFFD + 'A'],
  ['truncated 4-byte at end (3)', [0xF0, 0x9F, 0x98], FFFD],
  ['truncated 4-byte before ASCII', [0xF0, 0x9F, 0x98, 0x41], FFFD + 'A'],
  ['truncated 4-byte before lead', [0xF0, 0x9F, 0xE2, 0x82, 0xAC], FFFD + '\u20AC'],
  ['E0 followed by valid char', [0xE0, 0xC3, 0xA9], FFFD + '\xE9'],
  ['F4 8F truncated then 80 ok', [0xF4, 0x8F, 0x41], FFFD + 'A'],
  ['Unicode 3-8 example',
    [0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64],
    'a' + FFFD + FFFD + FFFD + 'b' + FFFD + 'c' + FFFD + FFFD + 'd'],
  ['mixed valid', [0x68, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9D, 0x84, 0x9E],
    'h\xE9\u20AC\u{1D11E}'],
];

// Decodes `bytes` in chunks ending at each of `cuts`, streaming.
function webBasicsDecodeSplit(g, bytes, cuts, options) {
  const decoder = new g.TextDecoder('utf-8', options);
  let out = '';
  let start = 0;
  for (const cut of cuts) {
    out += decoder.decode(bytes.subarray(start, cut), { stream: true });
    start = cut;
  }
  return out + decoder.decode(bytes.subarray(start));
}

const webBasicsCases = [];
{
  const assert = webBasicsAssert;
  const test = (name, fn, needs) => webBasicsCases.push({ name, fn, needs: needs || [] });

  // ---------------------------------------------------------------------------
  // Shape of the globals

  const INTERFACES = {
    DOMException: 0, Event: 1, EventTarget: 0, AbortController: 0, AbortSignal: 0,
    TextEncoder: 0, TextDecoder: 0,
  };
  const FUNCTIONS = { atob: 1, btoa: 1, queueMicrotask: 1 };

  test('globals: non-enumerable, writable, configurable', (g) => {
    for (const name of [...Object.keys(INTERFACES), ...Object.keys(FUNCTIONS), 'performance']) {
      const d = Object.getOwnPropertyDescriptor(g, name);
      assert.ok(d !== undefined, `${name} is missing`);
      assert.equal(d.enumerable, false, `${name} enumerable`);
      assert.equal(d.writable, true, `${name} writable`);
      assert.equal(d.configurable, true, `${name} configurable`);
    }
  });

  test('interfaces: name, length, toStringTag, prototype shape', (g) => {
    for (const [name, length] of Object.entries(INTERFACES)) {
      const C = g[name];
      assert.equal(typeof C, 'function', name);
      assert.equal(C.name, name, `${name}.name`);
      assert.equal(C.length, length, `${name}.length`);
      const tag = Object.getOwnPropertyDescriptor(C.prototype, Symbol.toStringTag);
      assert.equal(tag.value, name, `${name} @@toStringTag`);
      assert.equal(tag.writable, false);
      assert.equal(tag.enumerable, false);
      assert.equal(tag.configurable, true);
      const p = Object.getOwnPropertyDescriptor(C, 'prototype');
      assert.equal(p.writable, false, `${name}.prototype writable`);
      assert.equal(Object.getOwnPropertyDescriptor(C.prototype, 'constructor').enumerable, false);
      assert.throws(() => C(), 'TypeError', `${name} called without new`);
    }
    assert.equal(Object.getPrototypeOf(g.AbortSignal), g.EventTarget);
    assert.equal(Object.getPrototypeOf(g.AbortSignal.prototype), g.EventTarget.prototype);
  });

  test('functions: name, length, not constructors', (g) => {
    for (const [name, length] of Object.entries(FUNCTIONS)) {
      assert.equal(g[name].name, name);
      assert.equal(g[name].length, length, `${name}.length`);
      assert.throws(() => new g[name]('x'), 'TypeError', `new ${name}`);
      assert.throws(() => g[name](), 'TypeError', `${name}() without arguments`);
    }
  });

  test('operations and attributes are enumerable with Web IDL lengths', (g) => {
    const expect = {
      TextEncoder: { encode: 0, encodeInto: 2, encoding: 'get' },
      TextDecoder: { decode: 0, encoding: 'get', fatal: 'get', ignoreBOM: 'get' },
      EventTarget: { addEventListener: 2, removeEventListener: 2, dispatchEvent: 1 },
      Event: {
        type: 'get', target: 'get', currentTarget: 'get', srcElement: 'get', eventPhase: 'get',
        composedPath: 0, stopPropagation: 0, stopImmediatePropagation: 0, preventDefault: 0,
        bubbles: 'get', cancelable: 'get', defaultPrevented: 'get', composed: 'get',
        timeStamp: 'get', cancelBubble: 'get', returnValue: 'get', initEvent: 1,
      },
      AbortController: { signal: 'get', abort: 0 },
      AbortSignal: { aborted: 'get', reason: 'get', throwIfAborted: 0, onabort: 'get' },
      DOMException: { name: 'get', message: 'get', code: 'get' },
    };
    for (const [iface, members] of Object.entries(expect)) {
      const proto = g[iface].prototype;
      for (const [key, kind] of Object.entries(members)) {
        const d = Object.getOwnPropertyDescriptor(proto, key);
        assert.ok(d !== undefined, `${iface}.prototype.${key} missing`);
        assert.equal(d.enumerable, true, `${iface}.prototype.${key} enumerable`);
        assert.equal(d.configurable, true, `${iface}.prototype.${key} configurable`);
        if (kind === 'get') {
          assert.equal(typeof d.get, 'function', `${iface}.prototype.${key} is an accessor`);
        } else {
          assert.equal(d.value.length, kind, `${iface}.prototype.${key}.length`);
          assert.equal(d.writable, true);
        }
      }
    }
    const statics = { abort: 0, timeout: 1, any: 1 };
    for (const [key, length] of Object.entries(statics)) {
      const d = Object.getOwnPropertyDescriptor(g.AbortSignal, key);
      assert.equal(d.enumerable, true, `AbortSignal.${key} enumerable`);
      assert.equal(d.value.length, length, `AbortSignal.${key}.length`);
    }
  });

  test('brand checks throw TypeError', (g) => {
    const get = (C, key) => Object.getOwnPropertyDescriptor(C.prototype, key).get;
    assert.throws(() => g.TextEncoder.prototype.encode.call({}, 'x'), 'TypeError');
    assert.throws(() => get(g.TextEncoder, 'encoding').call({}), 'TypeError');
    assert.throws(() => g.TextDecoder.prototype.decode.call({}), 'TypeError');
    assert.throws(() => get(g.TextDecoder, 'fatal').call(new g.TextEncoder()), 'TypeError');
    assert.throws(() => get(g.DOMException, 'name').call({}), 'TypeError');
    assert.throws(() => g.DOMException.prototype.code, 'TypeError');
    assert.throws(() => get(g.Event, 'type').call({}), 'TypeError');
    assert.throws(() => g.EventTarget.prototype.addEventListener.call({}, 'x', null),
                  'TypeError');
    assert.throws(() => get(g.AbortSignal, 'aborted').call(new g.EventTarget()), 'TypeError');
    assert.throws(() => get(g.AbortController, 'signal').call({}), 'TypeError');
    assert.throws(() => g.performance.now.call({}), 'TypeError');
  });

  test('illegal constructors', (g) => {
    assert.throws(() => new g.AbortSignal(), 'TypeError');
    assert.throws(() => new g.performance.constructor(), 'TypeError');
  });

  // ---------------------------------------------------------------------------
  // TextEncoder

  test('TextEncoder: encoding and basic encode', (g) => {
    const e = new g.TextEncoder();
    assert.equal(e.encoding, 'utf-8');
    assert.equal(Object.prototype.toString.call(e), '[object TextEncoder]');
    const out = e.encode('h\xE9\u20AC\u{1D11E}');
    assert.ok(out instanceof Uint8Array, 'returns a Uint8Array');
    assert.sequence(out, [0x68, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9D, 0x84, 0x9E]);
    assert.equal(out.buffer.byteLength, out.length, 'buffer is exactly sized');
    assert.sequence(e.encode(), []);
    assert.sequence(e.encode(undefined), []);
    assert.sequence(e.encode(''), []);
    assert.sequence(e.encode(null), [0x6E, 0x75, 0x6C, 0x6C]);
    assert.sequence(e.encode(12), [0x31, 0x32]);
    assert.sequence(e.encode({ toString: () => 'x' }), [0x78]);
    assert.throws(() => e.encode(Symbol('s')), 'TypeError');
    const ascii = e.encode('plain ASCII');
    assert.equal(ascii.buffer.byteLength, 11);
  });

  test('TextEncoder: code point boundaries', (g) => {
    const e = new g.TextEncoder();
    const cases = [
      [0x7F, [0x7F]], [0x80, [0xC2, 0x80]], [0x7FF, [0xDF, 0xBF]], [0x800, [0xE0, 0xA0, 0x80]],
      [0xD7FF, [0xED, 0x9F, 0xBF]], [0xE000, [0xEE, 0x80, 0x80]], [0xFFFF, [0xEF, 0xBF, 0xBF]],
      [0x10000, [0xF0, 0x90, 0x80, 0x80]], [0x10FFFF, [0xF4, 0x8F, 0xBF, 0xBF]],
    ];
    for (const [cp, bytes] of cases) {
      assert.sequence(e.encode(cpStr(cp)), bytes, `U+${cp.toString(16)}`);
      assert.sequence(e.encode('a' + cpStr(cp)), [0x61, ...bytes], `a U+${cp.toString(16)}`);
    }
  });

  test('TextEncoder: lone surrogates become U+FFFD', (g) => {
    const e = new g.TextEncoder();
    const R = [0xEF, 0xBF, 0xBD];
    assert.sequence(e.encode('\uD800'), R);
    assert.sequence(e.encode('\uDC00'), R);
    assert.sequence(e.encode('\uDBFF'), R);
    assert.sequence(e.encode('a\uD800b'), [0x61, ...R, 0x62]);
    assert.sequence(e.encode('\uDC00\uD800'), [...R, ...R]);
    assert.sequence(e.encode('\uD800\uD800\uDC00'), [...R, 0xF0, 0x90, 0x80, 0x80]);
    assert.sequence(e.encode('\uD800\uDC00\uDC00'), [0xF0, 0x90, 0x80, 0x80, ...R]);
    assert.sequence(e.encode('\uDBFF\uDFFF'), [0xF4, 0x8F, 0xBF, 0xBF]);
    assert.sequence(e.encode('abc\uD83D'), [0x61, 0x62, 0x63, ...R]);
  });

  test('TextEncoder: long strings', (g) => {
    const e = new g.TextEncoder();
    const d = new g.TextDecoder();
    const ascii = 'abcdefghij'.repeat(1000);
    assert.equal(e.encode(ascii).length, 10000);
    assert.equal(d.decode(e.encode(ascii)), ascii);
    const mixed = ('x\xE9\u4E2D\u{1F600}').repeat(3000) + '\uD800';
    const bytes = e.encode(mixed);
    assert.equal(bytes.length, 3000 * 10 + 3);
    assert.equal(d.decode(bytes), mixed.slice(0, -1) + FFFD);
    // Beyond the encoder's one-pass scratch space (16384 code units).
    const huge = ('\uDC00a\u{1F600}\xE9').repeat(5000) + '\uD83D';
    const hugeBytes = e.encode(huge);
    assert.equal(hugeBytes.length, 5000 * 10 + 3);
    assert.equal(d.decode(hugeBytes), ('\uFFFDa\u{1F600}\xE9').repeat(5000) + FFFD);
    const lateNonAscii = 'a'.repeat(5000) + '\xE9';
    assert.equal(d.decode(e.encode(lateNonAscii)), lateNonAscii);
  });

  test('TextEncoder.encodeInto', (g) => {
    const e = new g.TextEncoder();
    const buf = new Uint8Array(8).fill(0xAA);
    let r = e.encodeInto('h\xE9', buf);
    assert.equal(r.read, 2);
    assert.equal(r.written, 3);
    assert.sequence(buf, [0x68, 0xC3, 0xA9, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]);
    assert.sequence(Object.keys(r), ['read', 'written']);
    // Never writes a partial sequence.
    r = e.encodeInto('a\u20AC', new Uint8Array(3));
    assert.sequence([r.read, r.written], [1, 1]);
    r = e.encodeInto('a\u20AC', new Uint8Array(4));
    assert.sequence([r.read, r.written], [2, 4]);
    r = e.encodeInto('\u{1F600}', new Uint8Array(3));
    assert.sequence([r.read, r.written], [0, 0]);
    r = e.encodeInto('\u{1F600}x', new Uint8Array(5));
    assert.sequence([r.read, r.written], [3, 5]);
    r = e.encodeInto('\xE9', new Uint8Array(1));
    assert.sequence([r.read, r.written], [0, 0]);
    // Lone surrogates: 3 bytes of U+FFFD for one code unit.
    const lone = new Uint8Array(6);
    r = e.encodeInto('\uD800\uDC00'.slice(0, 1) + 'z', lone);
    assert.sequence([r.read, r.written], [2, 4]);
    assert.sequence(lone.subarray(0, 4), [0xEF, 0xBF, 0xBD, 0x7A]);
    // Into a view with an offset.
    const big = new Uint8Array(10);
    r = e.encodeInto('xyz', big.subarray(4, 6));
    assert.sequence([r.read, r.written], [2, 2]);
    assert.sequence(big, [0, 0, 0, 0, 0x78, 0x79, 0, 0, 0, 0]);
    r = e.encodeInto('', new Uint8Array(0));
    assert.sequence([r.read, r.written], [0, 0]);
    r = e.encodeInto('abc', new Uint8Array(0));
    assert.sequence([r.read, r.written], [0, 0]);
  });

  test('TextEncoder.encodeInto: argument errors', (g) => {
    const e = new g.TextEncoder();
    assert.throws(() => e.encodeInto('x'), 'TypeError');
    assert.throws(() => e.encodeInto('x', new Uint16Array(4)), 'TypeError');
    assert.throws(() => e.encodeInto('x', new Uint8ClampedArray(4)), 'TypeError');
    assert.throws(() => e.encodeInto('x', new ArrayBuffer(4)), 'TypeError');
    assert.throws(() => e.encodeInto('x', new DataView(new ArrayBuffer(4))), 'TypeError');
    assert.throws(() => e.encodeInto('x', [0, 0]), 'TypeError');
    assert.throws(() => e.encodeInto('x', null), 'TypeError');
    assert.throws(() => e.encodeInto(Symbol('s'), new Uint8Array(4)), 'TypeError');
  });

  // ---------------------------------------------------------------------------
  // TextDecoder

  test('TextDecoder: labels', (g) => {
    for (const label of ['utf-8', 'UTF-8', 'utf8', 'Utf8', 'unicode-1-1-utf-8', 'unicode11utf8',
                         'unicode20utf8', 'x-unicode20utf8', ' utf-8', 'utf-8\n',
                         '\t\n\f\r UTF-8 \r\f\n\t']) {
      const d = new g.TextDecoder(label);
      assert.equal(d.encoding, 'utf-8', JSON.stringify(label));
    }
    assert.equal(new g.TextDecoder().encoding, 'utf-8');
    assert.equal(new g.TextDecoder(undefined).encoding, 'utf-8');
    for (const label of ['', 'utf-16le', 'utf-16', 'latin1', 'ascii', 'windows-1252', 'utf-8x',
                         'utf 8', '\vutf-8', '\u00A0utf-8', 'utf-8\u0000', 'replacement',
                         'iso-2022-kr', null]) {
      assert.throws(() => new g.TextDecoder(label), 'RangeError', JSON.stringify(label));
    }
    assert.throws(() => new g.TextDecoder(Symbol('x')), 'TypeError');
  });

  test('TextDecoder: options', (g) => {
    const d = new g.TextDecoder();
    assert.equal(d.fatal, false);
    assert.equal(d.ignoreBOM, false);
    const f = new g.TextDecoder('utf-8', { fatal: 1, ignoreBOM: 'yes' });
    assert.equal(f.fatal, true);
    assert.equal(f.ignoreBOM, true);
    assert.equal(new g.TextDecoder('utf-8', null).fatal, false);
    assert.throws(() => new g.TextDecoder('utf-8', 5), 'TypeError');
    assert.throws(() => new g.TextDecoder('utf-8', 'fatal'), 'TypeError');
    // The options are read before the label is rejected.
    let read = false;
    assert.throws(() => new g.TextDecoder('nope', { get fatal() { read = true; } }), 'RangeError');
    assert.ok(read, 'options read');
    assert.throws(() => d.decode(u8(0x41), 5), 'TypeError');
    assert.equal(d.decode(u8(0x41), null), 'A');
    assert.equal(Object.prototype.toString.call(d), '[object TextDecoder]');
  });

  test('TextDecoder: input types', (g) => {
    const d = new g.TextDecoder();
    assert.equal(d.decode(), '');
    assert.equal(d.decode(undefined), '');
    const bytes = u8(0x00, 0x68, 0x69, 0xC3, 0xA9, 0x00);
    assert.equal(d.decode(bytes), '\0hi\xE9\0');
    assert.equal(d.decode(bytes.buffer), '\0hi\xE9\0');
    assert.equal(d.decode(bytes.subarray(1, 5)), 'hi\xE9');
    assert.equal(d.decode(new DataView(bytes.buffer, 1, 2)), 'hi');
    assert.equal(d.decode(new Int8Array(bytes.buffer, 3, 2)), '\xE9');
    assert.equal(d.decode(new Uint8ClampedArray(bytes.buffer, 1, 4)), 'hi\xE9');
    assert.equal(d.decode(new Uint16Array(bytes.buffer, 2, 2)), 'i\xE9\0');
    assert.equal(d.decode(new Float64Array(0)), '');
    assert.equal(d.decode(new ArrayBuffer(0)), '');
    if (typeof SharedArrayBuffer === 'function') {
      const shared = new SharedArrayBuffer(2);
      new Uint8Array(shared).set([0x6F, 0x6B]);
      assert.equal(d.decode(shared), 'ok');
      assert.equal(d.decode(new Uint8Array(shared)), 'ok');
    }
    for (const bad of [null, 'abc', 42, {}, [0x41], { buffer: new ArrayBuffer(1) }]) {
      assert.throws(() => d.decode(bad), 'TypeError', `decode(${String(bad)})`);
    }
  });

  test('TextDecoder: detached buffers read as empty', (g, h) => {
    const d = new g.TextDecoder();
    const buffer = u8(0x61, 0x62).buffer;
    const views = [new Uint8Array(buffer), new Int16Array(buffer), new DataView(buffer, 1)];
    h.detach(buffer);
    assert.equal(buffer.byteLength, 0, 'detached');
    assert.equal(d.decode(buffer), '');
    for (const view of views) assert.equal(d.decode(view), '', Object.prototype.toString.call(view));
  }, ['detach']);

  test('TextDecoder: replacement per maximal subpart', (g) => {
    const d = new g.TextDecoder();
    for (const [name, bytes, expected] of UTF8_DECODE_TABLE) {
      assert.equal(d.decode(new Uint8Array(bytes)), expected, name);
    }
  });

  test('TextDecoder: every single byte', (g) => {
    const d = new g.TextDecoder();
    for (let b = 0; b < 256; b++) {
      assert.equal(d.decode(u8(b)), b < 0x80 ? String.fromCharCode(b) : FFFD, `byte ${b}`);
    }
  });

  test('TextDecoder: fatal', (g) => {
    const d = new g.TextDecoder('utf-8', { fatal: true });
    for (const [name, bytes, expected] of UTF8_DECODE_TABLE) {
      if (expected.includes(FFFD)) {
        assert.throws(() => d.decode(new Uint8Array(bytes)), 'TypeError', name);
      } else {
        assert.equal(d.decode(new Uint8Array(bytes)), expected, name);
      }
    }
    // Usable after an error, also after one in the middle of a stream.
    assert.equal(d.decode(u8(0xC3, 0xA9)), '\xE9');
    assert.equal(d.decode(u8(0xE2, 0x82), { stream: true }), '');
    assert.throws(() => d.decode(u8(0x41)), 'TypeError', 'flush of a partial sequence');
    assert.equal(d.decode(u8(0x41)), 'A');
    assert.equal(d.decode(u8(0xE2), { stream: true }), '');
    assert.throws(() => d.decode(u8(0x41), { stream: true }), 'TypeError');
    // After an error the decoder starts a new stream (the pending E2 is gone).
    assert.throws(() => d.decode(u8(0x82, 0x41)), 'TypeError');
    assert.equal(d.decode(u8(0xE2, 0x82), { stream: true }), '');
    assert.equal(d.decode(u8(0xAC)), '\u20AC');
  });

  test('TextDecoder: BOM handling', (g) => {
    const BOM = [0xEF, 0xBB, 0xBF];
    const d = new g.TextDecoder();
    assert.equal(d.decode(u8(...BOM, 0x41)), 'A');
    assert.equal(d.decode(u8(...BOM)), '');
    assert.equal(d.decode(u8(...BOM, ...BOM, 0x41)), '\uFEFFA', 'only the first BOM');
    assert.equal(d.decode(u8(0x41, ...BOM)), 'A\uFEFF', 'not at the start');
    assert.equal(d.decode(u8(...BOM, 0x41)), 'A', 'each non-stream call starts afresh');
    const keep = new g.TextDecoder('utf-8', { ignoreBOM: true });
    assert.equal(keep.decode(u8(...BOM, 0x41)), '\uFEFFA');
    // Streaming: the BOM may be split, and only the stream's start counts.
    const s = new g.TextDecoder();
    assert.equal(s.decode(u8(0xEF), { stream: true }), '');
    assert.equal(s.decode(u8(0xBB), { stream: true }), '');
    assert.equal(s.decode(u8(0xBF, 0x41), { stream: true }), 'A');
    assert.equal(s.decode(u8(...BOM), { stream: true }), '\uFEFF');
    assert.equal(s.decode(), '');
    assert.equal(s.decode(u8(...BOM, 0x42)), 'B', 'new stream');
    // An error as the first output counts as "BOM seen".
    const e = new g.TextDecoder();
    assert.equal(e.decode(u8(0x80), { stream: true }), FFFD);
    assert.equal(e.decode(u8(...BOM)), '\uFEFF');
    // An empty first chunk does not.
    const f = new g.TextDecoder();
    assert.equal(f.decode(u8(), { stream: true }), '');
    assert.equal(f.decode(u8(...BOM, 0x43)), 'C');
    // The fatal decoder accepts a BOM.
    assert.equal(new g.TextDecoder('utf-8', { fatal: true }).decode(u8(...BOM, 0x41)), 'A');
  });

  test('TextDecoder: streaming state machine', (g) => {
    const d = new g.TextDecoder();
    assert.equal(d.decode(u8(0xE2, 0x82), { stream: true }), '');
    assert.equal(d.decode(u8(0xAC), { stream: true }), '\u20AC');
    assert.equal(d.decode(u8(0xF0), { stream: true }), '');
    assert.equal(d.decode(u8(0x9F), { stream: true }), '');
    assert.equal(d.decode(u8(0x98), { stream: true }), '');
    assert.equal(d.decode(u8(0x80, 0x41), { stream: true }), '\u{1F600}A');
    // A pending sequence cut by an invalid byte in the next chunk.
    assert.equal(d.decode(u8(0xE2), { stream: true }), '');
    assert.equal(d.decode(u8(0x41), { stream: true }), FFFD + 'A');
    // Boundary checks survive the chunk break (E0 needs A0..BF next).
    assert.equal(d.decode(u8(0xE0), { stream: true }), '');
    assert.equal(d.decode(u8(0x80), { stream: true }), FFFD + FFFD);
    assert.equal(d.decode(u8(0xF4), { stream: true }), '');
    assert.equal(d.decode(u8(0x90), { stream: true }), FFFD + FFFD);
    assert.equal(d.decode(u8(0xED), { stream: true }), '');
    assert.equal(d.decode(u8(0x9F, 0xBF), { stream: true }), '\uD7FF');
    // The final call flushes a partial sequence as one U+FFFD.
    assert.equal(d.decode(u8(0xF0, 0x9F), { stream: true }), '');
    assert.equal(d.decode(), FFFD);
    // A non-stream call after a stream continues it, then the next starts afresh.
    assert.equal(d.decode(u8(0xE2), { stream: true }), '');
    assert.equal(d.decode(u8(0x82, 0xAC)), '\u20AC');
    assert.equal(d.decode(u8(0x82, 0xAC)), FFFD + FFFD);
    assert.equal(d.decode(undefined, { stream: true }), '');
    assert.equal(d.decode(), '');
  });

  test('TextDecoder: streaming splits at every position equal one-shot decoding', (g) => {
    const e = new g.TextEncoder();
    const d = new g.TextDecoder();
    const inputs = [
      e.encode('a\xE9\u20AC\u{1D11E}z\u0800\uFFFF\u{10FFFF}'),
      new Uint8Array([0xEF, 0xBB, 0xBF, 0x61, 0xF0, 0x9F, 0x98, 0x80]),
    ];
    for (const [, bytes] of UTF8_DECODE_TABLE) inputs.push(new Uint8Array(bytes));
    inputs.push(new Uint8Array(UTF8_DECODE_TABLE.flatMap(([, bytes]) => bytes)));
    for (const bytes of inputs) {
      const whole = d.decode(bytes);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.equal(webBasicsDecodeSplit(g, bytes, [cut]), whole, `split at ${cut} of [${bytes}]`);
        for (let cut2 = cut; cut2 <= bytes.length && bytes.length < 24; cut2++) {
          assert.equal(webBasicsDecodeSplit(g, bytes, [cut, cut2]), whole,
                       `split at ${cut},${cut2} of [${bytes}]`);
        }
      }
      const each = [];
      for (let i = 1; i < bytes.length; i++) each.push(i);
      assert.equal(webBasicsDecodeSplit(g, bytes, each), whole, `byte by byte [${bytes}]`);
      assert.equal(webBasicsDecodeSplit(g, bytes, [0, 0, bytes.length, bytes.length]), whole,
                   'empty chunks');
    }
  });

  test('TextDecoder: long inputs across internal chunk boundaries', (g) => {
    const d = new g.TextDecoder();
    const e = new g.TextEncoder();
    for (const pad of [4093, 4094, 4095, 4096, 4097, 8191, 8192]) {
      const a = 'a'.repeat(pad);
      assert.equal(d.decode(e.encode(a + '\u{1F600}b')), a + '\u{1F600}b', `pad ${pad} emoji`);
      assert.equal(d.decode(e.encode(a + '\xE9')), a + '\xE9', `pad ${pad} 2-byte`);
      const truncated = new Uint8Array(pad + 1).fill(0x61);
      truncated[pad] = 0xE2;
      assert.equal(d.decode(truncated), a + FFFD, `pad ${pad} truncated`);
      const invalid = new Uint8Array(pad + 2).fill(0x80);
      invalid.fill(0x61, 0, pad);
      assert.equal(d.decode(invalid), a + FFFD + FFFD, `pad ${pad} invalid`);
    }
    const mixed = ('\u{1F600}\xE9\u4E2Dx').repeat(5000);
    assert.equal(d.decode(e.encode(mixed)), mixed);
    const garbage = new Uint8Array(20000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) & 0xFF;
    const once = d.decode(garbage);
    assert.equal(webBasicsDecodeSplit(g, garbage, [4096, 4097, 12345]), once);
  });

  // ---------------------------------------------------------------------------
  // atob / btoa

  test('btoa: RFC 4648 vectors and Latin-1', (g) => {
    const vectors = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='],
                     ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy'], ['\xFF\xFE\0', '//4A'],
                     ['\0', 'AA=='], ['\xFF', '/w==']];
    for (const [plain, encoded] of vectors) {
      assert.equal(g.btoa(plain), encoded, `btoa(${JSON.stringify(plain)})`);
      assert.equal(g.atob(encoded), plain, `atob(${JSON.stringify(encoded)})`);
    }
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    assert.equal(g.atob(g.btoa(all)), all);
    const long = all.repeat(60);
    assert.equal(g.btoa(long).length, Math.ceil(long.length / 3) * 4);
    assert.equal(g.atob(g.btoa(long)), long);
    assert.equal(g.btoa(undefined), 'dW5kZWZpbmVk');
    assert.equal(g.btoa(null), 'bnVsbA==');
    assert.equal(g.btoa(12), 'MTI=');
  });

  test('btoa: code units above U+00FF throw InvalidCharacterError', (g) => {
    for (const s of ['\u0100', 'abc\u20AC', 'ab\u0100', 'a\u0100', '\u{1F600}', '\uD800']) {
      const error = assert.throws(() => g.btoa(s),
                                  { name: 'InvalidCharacterError', code: 5 }, JSON.stringify(s));
      assert.ok(error instanceof g.DOMException, 'a DOMException');
    }
    assert.throws(() => g.btoa(Symbol('s')), 'TypeError');
  });

  test('atob: forgiving-base64 decode', (g) => {
    const ok = [
      ['', ''], ['Zg', 'f'], ['Zg==', 'f'], ['Zm8', 'fo'], ['Zm8=', 'fo'], ['Zm9v', 'foo'],
      ['ab==', 'i'], ['abc=', 'i\xB7'], ['abcd', 'i\xB7\x1D'], ['ab', 'i'],
      // Non-zero trailing bits are accepted.
      ['Zh==', 'f'], ['Zh', 'f'], ['Zm9=', 'fo'],
      // ASCII whitespace anywhere, including inside the padding.
      [' Zm9v YmFy\n', 'foobar'], ['\tZ\nm\f9\rv ', 'foo'], ['Zg= =', 'f'], ['Z g = =', 'f'],
      ['  ', ''], ['Zm9v Zg==', 'foof'], ['\n\nZm9vYmFy\n', 'foobar'],
      ['++//', '\xFB\xEF\xFF'],
    ];
    for (const [input, output] of ok) {
      assert.equal(g.atob(input), output, `atob(${JSON.stringify(input)})`);
    }
    assert.equal(g.atob(null), '\x9E\xE9e');
    assert.equal(g.atob({ toString: () => 'Zm9v' }), 'foo');
  });

  test('atob: invalid input throws InvalidCharacterError', (g) => {
    const bad = [
      'ab=', 'Zg=', 'Zg===', '=', '==', '===', '====', 'Z', 'Zm9vY', 'Zm9v=', 'Zm9v==', 'Zm=9',
      'Zm9v-_', 'Zm9v\0', '\vZm9v', '\u00A0Zm9v', 'Zm9v\u2028', '\u0100AAA', 'Zg\uD800',
      'a===', '=Zm9', 'Zm9v!', 'Z===', undefined,
    ];
    for (const input of bad) {
      const error = assert.throws(() => g.atob(input), { name: 'InvalidCharacterError', code: 5 },
                                  `atob(${JSON.stringify(input)})`);
      assert.ok(error instanceof g.DOMException);
    }
    assert.throws(() => g.atob(Symbol('s')), 'TypeError');
  });

  // ---------------------------------------------------------------------------
  // DOMException

  test('DOMException: defaults, codes, constants', (g) => {
    const D = g.DOMException;
    const e = new D();
    assert.equal(e.name, 'Error');
    assert.equal(e.message, '');
    assert.equal(e.code, 0);
    const f = new D('gone', 'NotFoundError');
    assert.equal(f.name, 'NotFoundError');
    assert.equal(f.message, 'gone');
    assert.equal(f.code, 8);
    assert.equal(new D(undefined, undefined).name, 'Error');
    assert.equal(new D(null, null).message, 'null');
    assert.equal(new D(null, null).name, 'null');
    assert.equal(new D(1, 'x').message, '1');
    assert.throws(() => new D(Symbol('s')), 'TypeError');
    const codes = {
      IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
      InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8,
      NotSupportedError: 9, InUseAttributeError: 10, InvalidStateError: 11, SyntaxError: 12,
      InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
      TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
      URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24,
      DataCloneError: 25, DOMStringSizeError: 0, NoDataAllowedError: 0, ValidationError: 0,
      EncodingError: 0, NotReadableError: 0, UnknownError: 0, ConstraintError: 0, DataError: 0,
      OperationError: 0, NotAllowedError: 0, Error: 0, abortError: 0,
    };
    for (const [name, code] of Object.entries(codes)) {
      assert.equal(new D('', name).code, code, name);
    }
    const constants = {
      INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3, WRONG_DOCUMENT_ERR: 4,
      INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6, NO_MODIFICATION_ALLOWED_ERR: 7,
      NOT_FOUND_ERR: 8, NOT_SUPPORTED_ERR: 9, INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11,
      SYNTAX_ERR: 12, INVALID_MODIFICATION_ERR: 13, NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15,
      VALIDATION_ERR: 16, TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18, NETWORK_ERR: 19,
      ABORT_ERR: 20, URL_MISMATCH_ERR: 21, QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23,
      INVALID_NODE_TYPE_ERR: 24, DATA_CLONE_ERR: 25,
    };
    for (const [key, value] of Object.entries(constants)) {
      for (const target of [D, D.prototype]) {
        const d = Object.getOwnPropertyDescriptor(target, key);
        assert.ok(d !== undefined, `${key} missing`);
        assert.equal(d.value, value, key);
        assert.equal(d.writable, false, `${key} writable`);
        assert.equal(d.enumerable, true, `${key} enumerable`);
        assert.equal(d.configurable, false, `${key} configurable`);
      }
      assert.equal(e[key], value);
    }
  });

  test('DOMException: an Error', (g) => {
    const D = g.DOMException;
    assert.equal(Object.getPrototypeOf(D.prototype), Error.prototype);
    const e = new D('boom', 'AbortError');
    assert.ok(e instanceof Error, 'instanceof Error');
    assert.ok(e instanceof D, 'instanceof DOMException');
    assert.equal(String(e), 'AbortError: boom');
    assert.equal(Object.prototype.toString.call(e), '[object DOMException]');
    assert.sequence(Object.keys(e), [], 'no own enumerable properties');
    assert.ok(!Object.prototype.hasOwnProperty.call(e, 'name'), 'name is not own');
    assert.ok(!Object.prototype.hasOwnProperty.call(e, 'message'), 'message is not own');
    if (typeof Error.captureStackTrace === 'function') {
      assert.equal(typeof e.stack, 'string');
      assert.ok(e.stack.startsWith('AbortError: boom'), `stack: ${e.stack}`);
    }
    class MyError extends D {}
    const m = new MyError('m', 'TimeoutError');
    assert.equal(m.code, 23);
    assert.ok(m instanceof D && m instanceof MyError);
    let caught;
    try {
      throw new D('x', 'SyntaxError');
    } catch (err) {
      caught = err;
    }
    assert.equal(caught.code, 12);
  });

  // ---------------------------------------------------------------------------
  // Event

  test('Event: construction', (g, h) => {
    assert.throws(() => new g.Event(), 'TypeError');
    const e = new g.Event('ping');
    assert.equal(e.type, 'ping');
    assert.equal(e.bubbles, false);
    assert.equal(e.cancelable, false);
    assert.equal(e.composed, false);
    assert.equal(e.defaultPrevented, false);
    assert.equal(e.returnValue, true);
    assert.equal(e.cancelBubble, false);
    assert.equal(e.isTrusted, false);
    assert.equal(e.eventPhase, g.Event.NONE);
    assert.equal(e.target, null);
    assert.equal(e.currentTarget, null);
    assert.equal(e.srcElement, null);
    assert.sequence(e.composedPath(), []);
    assert.equal(typeof e.timeStamp, 'number');
    assert.equal(Object.prototype.toString.call(e), '[object Event]');
    const f = new g.Event(12, { bubbles: 1, cancelable: true, composed: 'y' });
    assert.equal(f.type, '12');
    assert.equal(f.bubbles, true);
    assert.equal(f.cancelable, true);
    assert.equal(f.composed, true);
    assert.equal(new g.Event('x', null).bubbles, false);
    assert.throws(() => new g.Event('x', 5), 'TypeError');
    assert.throws(() => new g.Event(Symbol('x')), 'TypeError');
    assert.sequence([g.Event.NONE, g.Event.CAPTURING_PHASE, g.Event.AT_TARGET,
                     g.Event.BUBBLING_PHASE], [0, 1, 2, 3]);
    assert.equal(g.Event.prototype.AT_TARGET, 2);
  });

  test('Event: timeStamp comes from native.now()', (g, h) => {
    const expected = h.now();
    assert.equal(new g.Event('x').timeStamp, expected);
  }, ['now']);

  test('Event: isTrusted is an own unforgeable accessor', (g) => {
    const a = new g.Event('a'), b = new g.Event('b');
    const d = Object.getOwnPropertyDescriptor(a, 'isTrusted');
    assert.equal(typeof d.get, 'function');
    assert.equal(d.set, undefined);
    assert.equal(d.enumerable, true);
    assert.equal(d.configurable, false);
    assert.equal(d.get, Object.getOwnPropertyDescriptor(b, 'isTrusted').get, 'one getter');
    assert.equal(Object.getOwnPropertyDescriptor(g.Event.prototype, 'isTrusted'), undefined);
    assert.throws(() => d.get.call({}), 'TypeError');
    assert.throws(() => Object.defineProperty(a, 'isTrusted', { value: true }), 'TypeError');
  });

  test('Event: preventDefault and returnValue', (g) => {
    const plain = new g.Event('x');
    plain.preventDefault();
    assert.equal(plain.defaultPrevented, false, 'not cancelable');
    plain.returnValue = false;
    assert.equal(plain.defaultPrevented, false);
    const c = new g.Event('x', { cancelable: true });
    c.preventDefault();
    assert.equal(c.defaultPrevented, true);
    assert.equal(c.returnValue, false);
    c.returnValue = true;
    assert.equal(c.defaultPrevented, true, 'returnValue = true does not un-cancel');
    const r = new g.Event('x', { cancelable: true });
    r.returnValue = false;
    assert.equal(r.defaultPrevented, true);
    const s = new g.Event('x');
    s.cancelBubble = false;
    assert.equal(s.cancelBubble, false);
    s.stopPropagation();
    assert.equal(s.cancelBubble, true);
    s.cancelBubble = false;
    assert.equal(s.cancelBubble, true, 'cannot be unset');
  });

  test('Event: subclasses', (g) => {
    class PingEvent extends g.Event {
      constructor(detail) {
        super('ping', { cancelable: true });
        this.detail = detail;
      }
    }
    const t = new g.EventTarget();
    let seen;
    t.addEventListener('ping', (e) => {
      seen = e.detail;
      e.preventDefault();
    });
    assert.equal(t.dispatchEvent(new PingEvent(7)), false);
    assert.equal(seen, 7);
  });

  // ---------------------------------------------------------------------------
  // EventTarget

  test('EventTarget: dispatch basics', (g) => {
    const t = new g.EventTarget();
    const log = [];
    const e = new g.Event('ping', { cancelable: true });
    function first(ev) {
      log.push(['first', this === t, ev === e, ev.target === t, ev.currentTarget === t,
                ev.eventPhase, ev.composedPath().length === 1 && ev.composedPath()[0] === t,
                ev.srcElement === t]);
    }
    t.addEventListener('ping', first);
    t.addEventListener('ping', () => log.push('second'));
    t.addEventListener('other', () => log.push('other'));
    assert.equal(t.dispatchEvent(e), true);
    assert.equal(JSON.stringify(log),
                 JSON.stringify([['first', true, true, true, true, 2, true, true], 'second']));
    assert.equal(e.target, t, 'target stays set');
    assert.equal(e.currentTarget, null);
    assert.equal(e.eventPhase, 0);
    assert.sequence(e.composedPath(), []);
    assert.equal(e.isTrusted, false);
    t.addEventListener('ping', (ev) => ev.preventDefault());
    assert.equal(t.dispatchEvent(e), false, 're-dispatch, canceled');
    assert.equal(t.dispatchEvent(new g.Event('none')), true, 'no listeners');
    assert.equal(Object.prototype.toString.call(t), '[object EventTarget]');
  });

  test('EventTarget: duplicates, capture, removal', (g) => {
    const t = new g.EventTarget();
    const log = [];
    const a = () => log.push('a');
    const b = () => log.push('b');
    t.addEventListener('x', a);
    t.addEventListener('x', a);
    t.addEventListener('x', a, false);
    t.addEventListener('x', a, { capture: false, once: true });
    t.addEventListener('x', b, true);
    t.addEventListener('x', b, { capture: true });
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, ['b', 'a'], 'capture listeners run first');
    log.length = 0;
    t.removeEventListener('x', b);
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, ['b', 'a'], 'capture flag must match to remove');
    log.length = 0;
    t.removeEventListener('x', b, { capture: true });
    t.removeEventListener('x', a, {});
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, []);
    t.removeEventListener('x', a);
    t.removeEventListener('never', a);
    t.removeEventListener('x', null);
    t.addEventListener('x', null);
    t.addEventListener('x', undefined);
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, []);
  });

  test('EventTarget: argument checks', (g) => {
    const t = new g.EventTarget();
    assert.throws(() => t.addEventListener('x'), 'TypeError');
    assert.throws(() => t.addEventListener('x', 5), 'TypeError');
    assert.throws(() => t.addEventListener('x', 'f'), 'TypeError');
    assert.throws(() => t.addEventListener('x', () => {}, { signal: null }), 'TypeError');
    assert.throws(() => t.addEventListener('x', () => {}, { signal: {} }), 'TypeError');
    assert.throws(() => t.removeEventListener('x'), 'TypeError');
    assert.throws(() => t.removeEventListener('x', 1), 'TypeError');
    assert.throws(() => t.dispatchEvent(), 'TypeError');
    assert.throws(() => t.dispatchEvent({ type: 'x' }), 'TypeError');
    assert.throws(() => t.dispatchEvent('x'), 'TypeError');
    // Options that are neither objects nor undefined mean `capture`.
    const log = [];
    const f = () => log.push(1);
    t.addEventListener('y', f, 1);
    t.removeEventListener('y', f, 'yes');
    t.dispatchEvent(new g.Event('y'));
    assert.sequence(log, []);
  });

  test('EventTarget: once', (g) => {
    const t = new g.EventTarget();
    let count = 0;
    t.addEventListener('x', () => {
      count++;
      t.dispatchEvent(new g.Event('x'));     // already removed
    }, { once: true });
    t.dispatchEvent(new g.Event('x'));
    t.dispatchEvent(new g.Event('x'));
    assert.equal(count, 1);
    // Can be added again afterwards.
    const f = () => count++;
    t.addEventListener('y', f, { once: true });
    t.dispatchEvent(new g.Event('y'));
    t.addEventListener('y', f, { once: true });
    t.dispatchEvent(new g.Event('y'));
    assert.equal(count, 3);
  });

  test('EventTarget: passive listeners cannot cancel', (g) => {
    const t = new g.EventTarget();
    let inside;
    t.addEventListener('x', (e) => {
      e.preventDefault();
      inside = e.defaultPrevented;
    }, { passive: true });
    const e = new g.Event('x', { cancelable: true });
    assert.equal(t.dispatchEvent(e), true);
    assert.equal(inside, false);
    t.addEventListener('x', (ev) => ev.preventDefault(), { passive: false });
    assert.equal(t.dispatchEvent(e), false);
  });

  test('EventTarget: handleEvent objects', (g, h) => {
    const t = new g.EventTarget();
    const log = [];
    const listener = {
      handleEvent(e) {
        log.push([this === listener, e.type]);
      },
    };
    t.addEventListener('x', listener);
    t.dispatchEvent(new g.Event('x'));
    // handleEvent is looked up at each dispatch.
    listener.handleEvent = function () {
      log.push('replaced');
    };
    t.dispatchEvent(new g.Event('x'));
    assert.equal(JSON.stringify(log), JSON.stringify([[true, 'x'], 'replaced']));
    t.removeEventListener('x', listener);
    t.dispatchEvent(new g.Event('x'));
    assert.equal(log.length, 2);
  });

  test('EventTarget: listener errors are reported, others still run', (g, h) => {
    const t = new g.EventTarget();
    const log = [];
    const boom = new Error('boom');
    t.addEventListener('x', () => {
      throw boom;
    });
    t.addEventListener('x', { handleEvent: 42 });
    t.addEventListener('x', {
      get handleEvent() {
        throw new RangeError('getter');
      },
    });
    t.addEventListener('x', () => log.push('after'));
    const before = h.reported.length;
    assert.equal(t.dispatchEvent(new g.Event('x')), true);
    assert.sequence(log, ['after']);
    const reported = h.reported.slice(before);
    assert.equal(reported.length, 3);
    assert.equal(reported[0], boom);
    assert.equal(reported[1].name, 'TypeError');
    assert.equal(reported[2].name, 'RangeError');
  }, ['reported']);

  test('EventTarget: stopPropagation and stopImmediatePropagation', (g) => {
    const t = new g.EventTarget();
    const log = [];
    t.addEventListener('x', (e) => {
      log.push('capture');
      if (e.cancelable) e.stopPropagation();
    }, true);
    t.addEventListener('x', (e) => {
      log.push('a');
      e.stopPropagation();
    });
    t.addEventListener('x', () => log.push('b'));
    t.dispatchEvent(new g.Event('x', { cancelable: true }));
    assert.sequence(log, ['capture'], 'stopped in the capture pass');
    log.length = 0;
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, ['capture', 'a', 'b'], 'stopPropagation spares the same target');
    log.length = 0;
    const u = new g.EventTarget();
    u.addEventListener('y', (e) => {
      log.push('1');
      e.stopImmediatePropagation();
    });
    u.addEventListener('y', () => log.push('2'));
    const e = new g.Event('y');
    u.dispatchEvent(e);
    assert.sequence(log, ['1']);
    assert.equal(e.cancelBubble, false, 'flags reset after dispatch');
    // Stopped before dispatch: no listener runs, and the flag is then cleared.
    log.length = 0;
    const s = new g.Event('y');
    s.stopPropagation();
    u.dispatchEvent(s);
    assert.sequence(log, []);
    u.dispatchEvent(s);
    assert.sequence(log, ['1']);
  });

  test('EventTarget: listeners added or removed during dispatch', (g) => {
    const t = new g.EventTarget();
    const log = [];
    const late = () => log.push('late');
    const removed = () => log.push('removed');
    t.addEventListener('x', () => {
      log.push('first');
      t.addEventListener('x', late);
      t.removeEventListener('x', removed);
    });
    t.addEventListener('x', removed);
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, ['first']);
    log.length = 0;
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, ['first', 'late']);
    // A capture listener adding a bubbling one: it runs in the same dispatch.
    const u = new g.EventTarget();
    log.length = 0;
    u.addEventListener('y', () => {
      log.push('capture');
      u.addEventListener('y', () => log.push('added'));
    }, true);
    u.dispatchEvent(new g.Event('y'));
    assert.sequence(log, ['capture', 'added']);
  });

  test('EventTarget: re-dispatching an event being dispatched', (g) => {
    const t = new g.EventTarget();
    let error;
    const e = new g.Event('x');
    t.addEventListener('x', (ev) => {
      try {
        t.dispatchEvent(ev);
      } catch (err) {
        error = err;
      }
    });
    t.dispatchEvent(e);
    assert.ok(error instanceof g.DOMException, 'DOMException');
    assert.equal(error.name, 'InvalidStateError');
    assert.equal(error.code, 11);
  });

  test('EventTarget: subclasses and this', (g) => {
    class Emitter extends g.EventTarget {
      fire() {
        return this.dispatchEvent(new g.Event('fire'));
      }
    }
    const em = new Emitter();
    let self;
    em.addEventListener('fire', function () {
      self = this;
    });
    assert.equal(em.fire(), true);
    assert.equal(self, em);
    assert.ok(em instanceof g.EventTarget);
  });

  test('EventTarget: signal option removes the listener', (g) => {
    const t = new g.EventTarget();
    const c = new g.AbortController();
    const log = [];
    t.addEventListener('x', () => log.push('x'), { signal: c.signal });
    t.addEventListener('x', () => log.push('y'));
    t.dispatchEvent(new g.Event('x'));
    // The removal happens before the signal's abort event fires.
    c.signal.addEventListener('abort', () => t.dispatchEvent(new g.Event('x')));
    c.abort();
    assert.sequence(log, ['x', 'y', 'y']);
    t.addEventListener('x', () => log.push('z'), { signal: c.signal });
    t.dispatchEvent(new g.Event('x'));
    assert.sequence(log, ['x', 'y', 'y', 'y'], 'not added with an aborted signal');
    // Removing the listener first, then aborting, is harmless.
    const c2 = new g.AbortController();
    const f = () => log.push('f');
    t.addEventListener('q', f, { signal: c2.signal });
    t.removeEventListener('q', f);
    c2.abort();
    t.dispatchEvent(new g.Event('q'));
    assert.equal(log.includes('f'), false);
  });

  // ---------------------------------------------------------------------------
  // AbortController / AbortSignal

  test('AbortController: abort with the default reason', (g) => {
    const c = new g.AbortController();
    const s = c.signal;
    assert.equal(c.signal, s, 'same signal');
    assert.ok(s instanceof g.AbortSignal && s instanceof g.EventTarget);
    assert.equal(s.aborted, false);
    assert.equal(s.reason, undefined);
    s.throwIfAborted();
    const events = [];
    s.addEventListener('abort', (e) => events.push(e));
    c.abort();
    assert.equal(s.aborted, true);
    assert.ok(s.reason instanceof g.DOMException);
    assert.equal(s.reason.name, 'AbortError');
    assert.equal(s.reason.code, 20);
    assert.equal(s.reason.message, 'The operation was aborted');
    assert.equal(events.length, 1);
    const e = events[0];
    assert.equal(e.type, 'abort');
    assert.equal(e.isTrusted, true);
    assert.equal(e.bubbles, false);
    assert.equal(e.cancelable, false);
    assert.equal(e.target, s);
    const reason = s.reason;
    c.abort('again');
    assert.equal(s.reason, reason, 'second abort is a no-op');
    assert.equal(events.length, 1);
    assert.equal(assert.throws(() => s.throwIfAborted(), 'AbortError'), reason);
    assert.equal(Object.prototype.toString.call(s), '[object AbortSignal]');
    assert.equal(Object.prototype.toString.call(c), '[object AbortController]');
  });

  test('AbortController: custom reasons', (g) => {
    const reasons = ['why', 0, null, false, { a: 1 }, new Error('e')];
    for (const reason of reasons) {
      const c = new g.AbortController();
      c.abort(reason);
      assert.equal(c.signal.aborted, true);
      assert.equal(c.signal.reason, reason);
      let thrown = 'nothing';
      try {
        c.signal.throwIfAborted();
      } catch (e) {
        thrown = e;
      }
      assert.equal(thrown, reason);
    }
    const c = new g.AbortController();
    c.abort(undefined);
    assert.equal(c.signal.reason.name, 'AbortError');
  });

  test('AbortSignal: onabort event handler attribute', (g) => {
    const c = new g.AbortController();
    const s = c.signal;
    const log = [];
    assert.equal(s.onabort, null);
    s.addEventListener('abort', () => log.push('listener 1'));
    const h1 = function (e) {
      log.push(['h1', this === s, e.type]);
    };
    s.onabort = h1;
    assert.equal(s.onabort, h1);
    s.addEventListener('abort', () => log.push('listener 2'));
    // Replacing the handler keeps its place in the list.
    const h2 = () => log.push('h2');
    s.onabort = h2;
    assert.equal(s.onabort, h2);
    c.abort();
    assert.equal(JSON.stringify(log), JSON.stringify(['listener 1', 'h2', 'listener 2']));
    const t = new g.AbortController();
    t.signal.onabort = () => log.push('nope');
    t.signal.onabort = null;
    assert.equal(t.signal.onabort, null);
    t.signal.onabort = 'not a function';
    assert.equal(t.signal.onabort, null, 'non-objects become null');
    const obj = { handleEvent() { log.push('handleEvent not used'); } };
    t.signal.onabort = obj;
    assert.equal(t.signal.onabort, obj, 'objects are kept');
    t.abort();
    assert.equal(log.length, 3, 'neither null nor a non-callable handler runs');
  });

  test('AbortSignal: handler returning false cancels only cancelable events', (g) => {
    const s = new g.AbortController().signal;
    s.onabort = () => false;
    assert.equal(s.dispatchEvent(new g.Event('abort', { cancelable: true })), false);
    assert.equal(s.dispatchEvent(new g.Event('abort')), true);
    assert.equal(s.aborted, false, 'a synthetic event does not abort');
  });

  test('AbortSignal.abort()', (g) => {
    const s = g.AbortSignal.abort();
    assert.equal(s.aborted, true);
    assert.equal(s.reason.name, 'AbortError');
    assert.equal(g.AbortSignal.abort('r').reason, 'r');
    assert.equal(g.AbortSignal.abort(undefined).reason.code, 20);
    assert.ok(g.AbortSignal.abort() !== s, 'a new signal each time');
  });

  test('AbortSignal.timeout()', async (g, h) => {
    const s = g.AbortSignal.timeout(20);
    assert.equal(s.aborted, false);
    const events = [];
    s.onabort = (e) => events.push(e);
    await h.sleep(5);
    assert.equal(s.aborted, false, 'not yet');
    await h.sleep(40);
    assert.equal(s.aborted, true, 'aborted after the delay');
    assert.ok(s.reason instanceof g.DOMException);
    assert.equal(s.reason.name, 'TimeoutError');
    assert.equal(s.reason.code, 23);
    assert.equal(s.reason.message, 'The operation was aborted due to timeout');
    assert.equal(events.length, 1);
    assert.equal(events[0].isTrusted, true);
  }, ['sleep']);

  test('AbortSignal.timeout(): argument conversion', (g, h) => {
    const before = h.timeouts.length;
    g.AbortSignal.timeout(1.9);
    g.AbortSignal.timeout('7');
    g.AbortSignal.timeout(-0.5);
    g.AbortSignal.timeout(null);
    g.AbortSignal.timeout(2 ** 53 - 1);
    assert.sequence(h.timeouts.slice(before), [1, 7, 0, 0, 2 ** 53 - 1]);
    for (const bad of [-1, NaN, Infinity, -Infinity, 2 ** 53, undefined, 'x', {}]) {
      assert.throws(() => g.AbortSignal.timeout(bad), 'TypeError', String(bad));
    }
    assert.throws(() => g.AbortSignal.timeout(), 'TypeError');
    assert.throws(() => g.AbortSignal.timeout(1n), 'TypeError');
    assert.equal(h.timeouts.length, before + 5, 'no timer for rejected arguments');
  }, ['timeouts']);

  test('AbortSignal.any(): basics', (g) => {
    const a = new g.AbortController(), b = new g.AbortController();
    const any = g.AbortSignal.any([a.signal, b.signal]);
    assert.ok(any instanceof g.AbortSignal);
    assert.equal(any.aborted, false);
    const log = [];
    a.signal.addEventListener('abort', () => log.push(['a', any.aborted]));
    any.addEventListener('abort', (e) => log.push(['any', e.isTrusted]));
    b.signal.addEventListener('abort', () => log.push(['b', any.aborted]));
    b.abort('because');
    assert.equal(any.aborted, true);
    assert.equal(any.reason, 'because');
    assert.equal(JSON.stringify(log), JSON.stringify([['b', true], ['any', true]]),
                 'the source event first; the dependent is already aborted then');
    a.abort('later');
    assert.equal(any.reason, 'because');
    assert.equal(log.length, 3, 'a fired, any did not fire again');
  });

  test('AbortSignal.any(): already aborted, empty, iterables, errors', (g) => {
    const reason = new Error('r');
    const done = g.AbortSignal.abort(reason);
    const live = new g.AbortController();
    const any = g.AbortSignal.any([live.signal, done]);
    assert.equal(any.aborted, true);
    assert.equal(any.reason, reason);
    const empty = g.AbortSignal.any([]);
    assert.equal(empty.aborted, false);
    const fromSet = g.AbortSignal.any(new Set([live.signal, live.signal]));
    const fromGenerator = g.AbortSignal.any((function* () {
      yield live.signal;
    })());
    live.abort('x');
    assert.equal(fromSet.reason, 'x');
    assert.equal(fromGenerator.reason, 'x');
    assert.throws(() => g.AbortSignal.any(), 'TypeError');
    assert.throws(() => g.AbortSignal.any(live.signal), 'TypeError', 'not iterable');
    assert.throws(() => g.AbortSignal.any(null), 'TypeError');
    assert.throws(() => g.AbortSignal.any([live.signal, {}]), 'TypeError');
    assert.throws(() => g.AbortSignal.any('ab'), 'TypeError');
  });

  test('AbortSignal.any(): dependents of dependents, and timeouts', async (g, h) => {
    const root = new g.AbortController();
    const d1 = g.AbortSignal.any([root.signal]);
    const d2 = g.AbortSignal.any([d1, g.AbortSignal.any([])]);
    const log = [];
    d2.onabort = () => log.push('d2');
    d1.onabort = () => log.push('d1');
    root.abort('root');
    assert.equal(d2.reason, 'root');
    assert.sequence(log, ['d1', 'd2']);
    const t = g.AbortSignal.any([new g.AbortController().signal, g.AbortSignal.timeout(10)]);
    await h.sleep(20);
    assert.equal(t.aborted, true);
    assert.equal(t.reason.name, 'TimeoutError');
  }, ['sleep']);

  test('AbortSignal: many AbortSignal.any() dependents of one signal', (g) => {
    const root = new g.AbortController();
    const signals = [];
    let fired = 0;
    for (let i = 0; i < 2000; i++) {
      const s = g.AbortSignal.any([root.signal]);
      if (i % 100 === 0) {
        s.addEventListener('abort', () => fired++);
        signals.push(s);
      }
    }
    root.abort();
    assert.equal(fired, 20);
    assert.ok(signals.every((s) => s.aborted));
  });

  // ---------------------------------------------------------------------------
  // queueMicrotask

  test('queueMicrotask: ordering', async (g) => {
    const log = [];
    g.queueMicrotask(() => log.push('task 1'));
    Promise.resolve().then(() => log.push('promise'));
    g.queueMicrotask(function () {
      'use strict';
      log.push(this === undefined ? 'task 2' : 'bad this');
    });
    log.push('sync');
    await null;
    await null;
    assert.sequence(log, ['sync', 'task 1', 'promise', 'task 2']);
  });

  test('queueMicrotask: argument checks', (g) => {
    for (const bad of [undefined, null, 1, 'f', {}, Symbol('s')]) {
      assert.throws(() => g.queueMicrotask(bad), 'TypeError');
    }
    assert.throws(() => g.queueMicrotask(), 'TypeError');
  });

  test('queueMicrotask: errors are reported', async (g, h) => {
    const before = h.reported.length;
    const boom = new Error('boom');
    const log = [];
    g.queueMicrotask(() => {
      throw boom;
    });
    g.queueMicrotask(() => log.push('next'));
    await null;
    await null;
    assert.sequence(log, ['next']);
    assert.equal(h.reported.length, before + 1);
    assert.equal(h.reported[before], boom);
  }, ['reported']);

  // ---------------------------------------------------------------------------
  // performance

  test('performance', (g) => {
    const p = g.performance;
    assert.equal(Object.prototype.toString.call(p), '[object Performance]');
    const a = p.now();
    const b = p.now();
    assert.equal(typeof a, 'number');
    assert.ok(b >= a, 'monotonic');
    assert.equal(typeof p.timeOrigin, 'number');
    assert.equal(JSON.stringify(p), JSON.stringify({ timeOrigin: p.timeOrigin }));
    assert.equal(Object.getOwnPropertyDescriptor(Object.getPrototypeOf(p), 'now').enumerable,
                 true);
  });

  test('performance: native clock and origin', (g, h) => {
    const expected = h.now();
    assert.equal(g.performance.now(), expected);
    assert.equal(g.performance.timeOrigin, h.timeOrigin);
  }, ['now', 'timeOrigin']);
}

async function runWebBasicsCases(g, h, log = () => {}, cases = webBasicsCases) {
  let passed = 0, failed = 0, skipped = 0;
  for (const c of cases) {
    if (c.needs && c.needs.some((need) => h == null || h[need] == null)) {
      skipped++;
      log(`skip ${c.name} (needs ${c.needs.join(', ')})`);
      continue;
    }
    try {
      await c.fn(g, h);
      passed++;
    } catch (error) {
      failed++;
      log(`FAIL ${c.name}: ${error && error.stack ? error.stack : error}`);
    }
  }
  return { passed, failed, skipped };
}

// Fake natives for web_basics.js and the harness that drives them: a clock
// that advances 0.25 ms per now() call, timers fired by h.sleep(ms).
function makeWebBasicsFakeHost() {
  let clock = 0;
  let nextNow = 0.125;
  const timers = [];
  let nextId = 1;
  const reported = [];
  const timeouts = [];
  const native = {
    now() {
      const value = nextNow;
      nextNow += 0.25;
      return value;
    },
    timeOrigin: 1700000000000.5,
    setTimeout(callback, ms) {
      timeouts.push(ms);
      const id = nextId++;
      timers.push({ id, at: clock + ms, callback });
      return id;
    },
    reportError(error) {
      reported.push(error);
    },
  };
  const drain = async () => {
    for (let i = 0; i < 20; i++) await null;
  };
  const h = {
    reported,
    timeouts,
    detach: null,
    now: () => nextNow,
    timeOrigin: native.timeOrigin,
    async sleep(ms) {
      const until = clock + ms;
      for (;;) {
        await drain();
        let next = null;
        for (const t of timers) if (t.at <= until && (next === null || t.at < next.at)) next = t;
        if (next === null) break;
        timers.splice(timers.indexOf(next), 1);
        clock = next.at;
        next.callback();
      }
      clock = until;
      await drain();
    },
  };
  return { native, h };
}
