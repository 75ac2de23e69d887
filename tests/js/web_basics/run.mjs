// Runs tests/js/web_basics/cases.js against bindings/js/web_basics.js under
// Node (>= 18), plus randomized comparisons with Node's own TextEncoder,
// TextDecoder, atob and btoa as oracles, then prints a micro-benchmark.
//
//   node tests/js/web_basics/run.mjs [--seed N] [--quick] [--no-bench | --bench-only]
//                                    [--source FILE]
//
// The file under test is evaluated with an indirect eval and installed on a
// fresh object (so Node's globals are not what is tested), then a second time
// into an empty vm context, where a stray reference to a host global would
// fail. Prints "N passed, M failed" and exits 1 on failure.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};

const SOURCE_PATH = argValue('--source') ?? join(root, 'bindings', 'js', 'web_basics.js');
const CASES_PATH = join(here, 'cases.js');
const source = readFileSync(SOURCE_PATH, 'utf8');
const casesSource = readFileSync(CASES_PATH, 'utf8');
const CASES_EXPORTS = '\n;({ webBasicsCases, runWebBasicsCases, makeWebBasicsFakeHost })';
const seed = Number(argValue('--seed') ?? 0x5EED);
const quick = args.includes('--quick');
const bench = !args.includes('--no-bench');
const benchOnly = args.includes('--bench-only');

let totalPassed = 0, totalFailed = 0, totalSkipped = 0;
const log = (line) => console.log(`  ${line}`);

// ---------------------------------------------------------------------------
// Mode 1: a fresh object in Node's realm.

const casesA = (0, eval)(casesSource + CASES_EXPORTS);
const detach = (buffer) => structuredClone(buffer, { transfer: [buffer] });
const hostA = casesA.makeWebBasicsFakeHost();
hostA.h.detach = detach;
const gA = {};
const internals = (0, eval)(source)(gA, hostA.native);
if (!benchOnly) {
  const r = await casesA.runWebBasicsCases(gA, hostA.h, log);
  console.log(`fresh object: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  totalPassed += r.passed;
  totalFailed += r.failed;
  totalSkipped += r.skipped;
}

// ---------------------------------------------------------------------------
// Mode 2: the global of an empty vm context (no Node globals at all).

if (!benchOnly) {
  const context = vm.createContext({});
  const casesB = vm.runInContext(casesSource + CASES_EXPORTS, context, { filename: CASES_PATH });
  const hostB = casesB.makeWebBasicsFakeHost();
  hostB.h.detach = detach;
  const install = vm.runInContext(source, context, { filename: SOURCE_PATH });
  install(vm.runInContext('globalThis', context), hostB.native);
  const r = await casesB.runWebBasicsCases(vm.runInContext('globalThis', context), hostB.h, log);
  console.log(`vm context:   ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  totalPassed += r.passed;
  totalFailed += r.failed;
  totalSkipped += r.skipped;
}

// ---------------------------------------------------------------------------
// Oracle comparisons with Node's implementations (in the fresh-object mode).

function prng(s) {
  // mulberry32
  return () => {
    s = (s + 0x6D2B79F5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seed);
const randInt = (n) => Math.floor(random() * n);
const pick = (list) => list[randInt(list.length)];

const NodeTextEncoder = globalThis.TextEncoder;
const NodeTextDecoder = globalThis.TextDecoder;
const nodeEncoder = new NodeTextEncoder();
const nodeDecoder = new NodeTextDecoder();
const nodeFatal = new NodeTextDecoder('utf-8', { fatal: true });
const ourEncoder = new gA.TextEncoder();
const ourDecoder = new gA.TextDecoder();
const ourFatal = new gA.TextDecoder('utf-8', { fatal: true });

// Bytes that matter to a UTF-8 decoder.
const INTERESTING = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                     0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5,
                     0xF7, 0xF8, 0xFE, 0xFF, 0xBB];

function randomString(maxLength) {
  const length = randInt(maxLength + 1);
  let s = '';
  for (let i = 0; i < length; i++) {
    switch (randInt(9)) {
      case 0: case 1: case 2: s += String.fromCharCode(randInt(0x80)); break;
      case 3: s += String.fromCharCode(0x80 + randInt(0x780)); break;
      case 4: s += String.fromCharCode(0x800 + randInt(0xD000)); break;
      case 5: s += String.fromCharCode(0xE000 + randInt(0x2000)); break;
      case 6: s += String.fromCodePoint(0x10000 + randInt(0x100000)); break;
      case 7: s += String.fromCharCode(0xD800 + randInt(0x800)); break;   // lone surrogate
      default: s += pick(['\uFEFF', '\uFFFD', '\uFFFF', '\u07FF', '\u0800', '\0', '\uDBFF\uDFFF']);
    }
  }
  return s;
}

function randomBytes(maxLength) {
  const bytes = new Uint8Array(randInt(maxLength + 1));
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = random() < 0.7 ? pick(INTERESTING) : randInt(256);
  }
  return bytes;
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
const fmt = (s) => JSON.stringify(s);

function outcome(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: error.name };
  }
}
const sameOutcome = (a, b) => a.error === b.error && a.value === b.value;

function streamed(Decoder, bytes, cuts, options) {
  const decoder = new Decoder('utf-8', options);
  let out = '';
  let start = 0;
  for (const cut of cuts) {
    out += decoder.decode(bytes.subarray(start, cut), { stream: true });
    start = cut;
  }
  return out + decoder.decode(bytes.subarray(start));
}

const oracleCases = [];
const oracle = (name, fn) => oracleCases.push({ name, fn });
const scale = quick ? 0.1 : 1;

oracle('oracle: encode random strings', (failures) => {
  for (let i = 0; i < 20000 * scale; i++) {
    const s = randomString(i % 10 === 0 ? 3000 : 40);
    const ours = ourEncoder.encode(s), theirs = nodeEncoder.encode(s);
    if (Buffer.compare(Buffer.from(ours), Buffer.from(theirs)) !== 0) {
      failures.push(`encode(${fmt(s)}): ${hex(ours)} vs ${hex(theirs)}`);
    }
    if (ours.buffer.byteLength !== ours.length) failures.push('encode buffer not exact');
  }
});

oracle('oracle: encodeInto random strings and capacities', (failures) => {
  for (let i = 0; i < 20000 * scale; i++) {
    const s = randomString(24);
    const capacity = randInt(s.length * 3 + 2);
    const a = new Uint8Array(capacity), b = new Uint8Array(capacity);
    const ra = ourEncoder.encodeInto(s, a), rb = nodeEncoder.encodeInto(s, b);
    if (ra.read !== rb.read || ra.written !== rb.written || Buffer.compare(a, b) !== 0) {
      failures.push(`encodeInto(${fmt(s)}, ${capacity}): ${JSON.stringify(ra)} ` +
                    `vs ${JSON.stringify(rb)}`);
    }
  }
});

oracle('oracle: round-trip random strings', (failures) => {
  for (let i = 0; i < 20000 * scale; i++) {
    const s = randomString(60);
    const back = ourDecoder.decode(ourEncoder.encode(s));
    const expected = nodeDecoder.decode(nodeEncoder.encode(s));
    if (back !== expected) failures.push(`round trip ${fmt(s)}: ${fmt(back)}`);
  }
});

oracle('oracle: decode random bytes (replacement and fatal)', (failures) => {
  for (let i = 0; i < 50000 * scale; i++) {
    const bytes = randomBytes(i % 20 === 0 ? 5000 : 24);
    const ours = ourDecoder.decode(bytes), theirs = nodeDecoder.decode(bytes);
    if (ours !== theirs) failures.push(`decode [${hex(bytes)}]: ${fmt(ours)} vs ${fmt(theirs)}`);
    const a = outcome(() => ourFatal.decode(bytes)), b = outcome(() => nodeFatal.decode(bytes));
    if (!sameOutcome(a, b)) {
      failures.push(`fatal decode [${hex(bytes)}]: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
});

oracle('oracle: decode all 1- and 2-byte sequences', (failures) => {
  const bytes = new Uint8Array(2);
  for (let a = 0; a < 256; a++) {
    if (ourDecoder.decode(bytes.subarray(0, 1).fill(a)) !== nodeDecoder.decode(u8of(a))) {
      failures.push(`decode [${a}]`);
    }
    for (let b = 0; b < 256; b++) {
      bytes[0] = a;
      bytes[1] = b;
      const ours = ourDecoder.decode(bytes), theirs = nodeDecoder.decode(bytes);
      if (ours !== theirs) failures.push(`decode [${hex(bytes)}]: ${fmt(ours)} vs ${fmt(theirs)}`);
      const fa = outcome(() => ourFatal.decode(bytes)), fb = outcome(() => nodeFatal.decode(bytes));
      if (!sameOutcome(fa, fb)) failures.push(`fatal [${hex(bytes)}]`);
    }
  }
});
function u8of(...bytes) {
  return new Uint8Array(bytes);
}

oracle('oracle: decode 3- and 4-byte sequences (lead x all x interesting)', (failures) => {
  const three = new Uint8Array(3), four = new Uint8Array(5);
  for (let a = 0xC0; a < 0x100; a++) {
    for (let b = 0; b < 256; b++) {
      for (const c of INTERESTING) {
        three[0] = a; three[1] = b; three[2] = c;
        const ours = ourDecoder.decode(three), theirs = nodeDecoder.decode(three);
        if (ours !== theirs) failures.push(`decode [${hex(three)}]`);
        if (a < 0xF0 || a > 0xF4 || (quick && b % 7 !== 0)) continue;
        for (const d of INTERESTING) {
          four[0] = a; four[1] = b; four[2] = c; four[3] = d; four[4] = 0x41;
          const o4 = ourDecoder.decode(four), t4 = nodeDecoder.decode(four);
          if (o4 !== t4) failures.push(`decode [${hex(four)}]: ${fmt(o4)} vs ${fmt(t4)}`);
        }
      }
    }
  }
});

oracle('oracle: streaming, split at every position and byte by byte', (failures) => {
  for (let i = 0; i < 4000 * scale; i++) {
    const bytes = randomBytes(16);
    const whole = nodeDecoder.decode(bytes);
    const each = [];
    for (let k = 1; k < bytes.length; k++) each.push(k);
    const splits = [each];
    for (let cut = 0; cut <= bytes.length; cut++) splits.push([cut]);
    for (let k = 0; k < 4; k++) {
      const x = randInt(bytes.length + 1), y = randInt(bytes.length + 1);
      splits.push([Math.min(x, y), Math.max(x, y)]);
    }
    for (const cuts of splits) {
      for (const options of [undefined, { ignoreBOM: true }]) {
        const ours = streamed(gA.TextDecoder, bytes, cuts, options);
        const theirs = streamed(NodeTextDecoder, bytes, cuts, options);
        const oneShot = new NodeTextDecoder('utf-8', options).decode(bytes);
        if (ours !== theirs || ours !== oneShot) {
          failures.push(`stream [${hex(bytes)}] cuts ${cuts} ${JSON.stringify(options)}: ` +
                        `${fmt(ours)} vs node stream ${fmt(theirs)} / one-shot ${fmt(oneShot)}`);
        }
        if (options === undefined && ours !== whole) failures.push('stream vs whole');
        const fa = outcome(() => streamed(gA.TextDecoder, bytes, cuts, { fatal: true }));
        const fb = outcome(() => streamed(NodeTextDecoder, bytes, cuts, { fatal: true }));
        if (!sameOutcome(fa, fb)) {
          failures.push(`fatal stream [${hex(bytes)}] cuts ${cuts}: ${JSON.stringify(fa)} vs ` +
                        `${JSON.stringify(fb)}`);
        }
      }
    }
  }
});

oracle('oracle: BOM with random continuations, streamed', (failures) => {
  for (let i = 0; i < 3000 * scale; i++) {
    const tail = randomBytes(6);
    const bytes = new Uint8Array([0xEF, 0xBB, 0xBF, ...(random() < 0.3 ? [0xEF, 0xBB, 0xBF] : []),
                                  ...tail]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (const options of [undefined, { ignoreBOM: true }]) {
        const ours = streamed(gA.TextDecoder, bytes, [cut], options);
        const theirs = new NodeTextDecoder('utf-8', options).decode(bytes);
        if (ours !== theirs) {
          failures.push(`BOM [${hex(bytes)}] cut ${cut} ${JSON.stringify(options)}: ` +
                        `${fmt(ours)} vs ${fmt(theirs)}`);
        }
      }
    }
  }
});

oracle('oracle: atob on random input', (failures) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const extra = ['=', '=', '=', ' ', '\t', '\n', '\f', '\r', '\v', '-', '_', '\0', '\u00A0', '\u0100',
                 '.', '\uD800'];
  for (let i = 0; i < 40000 * scale; i++) {
    const length = randInt(i % 50 === 0 ? 400 : 14);
    let s = '';
    for (let k = 0; k < length; k++) s += random() < 0.85 ? pick(alphabet) : pick(extra);
    if (random() < 0.3) s += '='.repeat(randInt(3));
    const a = outcome(() => gA.atob(s)), b = outcome(() => atob(s));
    if (!sameOutcome(a, b)) {
      failures.push(`atob(${fmt(s)}): ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
});

oracle('oracle: btoa on random input', (failures) => {
  for (let i = 0; i < 20000 * scale; i++) {
    const length = randInt(i % 50 === 0 ? 5000 : 20);
    let s = '';
    for (let k = 0; k < length; k++) {
      s += String.fromCharCode(random() < 0.995 ? randInt(256) : 0x100 + randInt(0xFF00));
    }
    const a = outcome(() => gA.btoa(s)), b = outcome(() => btoa(s));
    if (!sameOutcome(a, b)) {
      failures.push(`btoa(${fmt(s.slice(0, 40))}…): ${JSON.stringify(a).slice(0, 80)} vs ` +
                    `${JSON.stringify(b).slice(0, 80)}`);
    }
  }
});

oracle('internals: returned hooks work', (failures) => {
  const c = new gA.AbortController();
  if (!internals.isAbortSignal(c.signal) || internals.isAbortSignal({})) failures.push('isAbortSignal');
  let ran = 0;
  const algorithm = () => ran++;
  internals.addAbortAlgorithm(c.signal, algorithm);
  internals.addAbortAlgorithm(c.signal, () => ran++);
  internals.removeAbortAlgorithm(c.signal, algorithm);
  const boom = new Error('algorithm');
  internals.addAbortAlgorithm(c.signal, () => {
    throw boom;
  });
  let events = 0;
  c.signal.onabort = () => events++;
  const reportedBefore = hostA.h.reported.length;
  internals.signalAbort(c.signal, 'r');
  if (ran !== 1 || c.signal.reason !== 'r') failures.push('abort algorithms');
  if (events !== 1 || hostA.h.reported[reportedBefore] !== boom) {
    failures.push('a throwing abort algorithm stops the abort event or is not reported');
  }
  const s = internals.createAbortSignal();
  if (s.aborted || !(s instanceof gA.AbortSignal)) failures.push('createAbortSignal');
  if (!internals.isEvent(new gA.Event('x')) || internals.isEvent({})) failures.push('isEvent');
});

if (!benchOnly) {
  let passed = 0, failed = 0;
  for (const c of oracleCases) {
    const failures = [];
    try {
      c.fn(failures);
    } catch (error) {
      failures.push(`threw ${error && error.stack}`);
    }
    if (failures.length === 0) {
      passed++;
    } else {
      failed++;
      log(`FAIL ${c.name}: ${failures.length} mismatches`);
      for (const f of failures.slice(0, 8)) log(`    ${f}`);
    }
  }
  console.log(`oracle:       ${passed} passed, ${failed} failed (seed ${seed})`);
  totalPassed += passed;
  totalFailed += failed;
}

// ---------------------------------------------------------------------------
// Garbage collection of AbortSignal.any() dependents: a long-lived source must
// not keep them alive, unless they have abort listeners.

if (!benchOnly) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const nextTask = () => new Promise((resolve) => setImmediate(resolve));
  const collect = async () => {
    await nextTask();              // WeakRef targets are kept until the job ends
    gc();
    await nextTask();
    gc();
  };
  const failures = [];
  const root = new gA.AbortController();
  let fired = 0;
  let probe = new WeakRef(gA.AbortSignal.any([root.signal]));
  gA.AbortSignal.any([root.signal]).addEventListener('abort', () => fired++);
  gA.AbortSignal.any([root.signal]).onabort = () => fired++;
  await collect();
  if (probe.deref() !== undefined) failures.push('a dependent without listeners was kept alive');
  await collect();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 50000; i++) gA.AbortSignal.any([root.signal]);
    await collect();
  }
  const grown = process.memoryUsage().heapUsed - heapBefore;
  if (grown > 16 * 1048576) {
    failures.push(`500000 dropped AbortSignal.any() results kept ${(grown / 1048576).toFixed(1)} MiB`);
  }
  root.abort();
  if (fired !== 2) failures.push(`dependents with listeners were collected (${fired} of 2 fired)`);
  // A dependent that aborted through one source is released by the others.
  const longLived = new gA.AbortController();
  probe = (() => {
    const shortLived = new gA.AbortController();
    const dependent = gA.AbortSignal.any([longLived.signal, shortLived.signal]);
    dependent.onabort = () => {};
    shortLived.abort();
    return new WeakRef(dependent);
  })();
  await collect();
  if (probe.deref() !== undefined) failures.push('an aborted dependent was kept by its other source');
  for (const f of failures) log(`FAIL gc: ${f}`);
  console.log(`gc:           ${failures.length ? 0 : 1} passed, ${failures.length ? 1 : 0} failed ` +
              `(heap grew ${(grown / 1048576).toFixed(1)} MiB over 500000 dropped results)`);
  if (failures.length) totalFailed++;
  else totalPassed++;
}

// ---------------------------------------------------------------------------
// Micro-benchmark (not asserted).

function nsPerOp(fn, budgetMs = 150) {
  for (let i = 0; i < 2000; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    let iterations = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    do {
      for (let i = 0; i < 200; i++) fn();
      iterations += 200;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < BigInt(budgetMs / 5 * 1e6));
    best = Math.min(best, Number(elapsed) / iterations);
  }
  return best;
}

if (bench) {
  // A separate instance (own context, own script name, so no code or type
  // feedback shared with the tests above, which feed it every kind of string).
  const benchContext = vm.createContext({});
  const benchGlobal = vm.runInContext('globalThis', benchContext);
  vm.runInContext(source, benchContext, { filename: 'web_basics.bench.js' })(
      benchGlobal, casesA.makeWebBasicsFakeHost().native);
  const ourEncoder = new benchGlobal.TextEncoder();
  const ourDecoder = new benchGlobal.TextDecoder();
  const { atob: ourAtob, btoa: ourBtoa } = benchGlobal;
  let ascii = '';
  for (let i = 0; i < 1024; i++) ascii += String.fromCharCode(0x20 + (i * 37) % 95);
  // 1 KiB of UTF-8 (~ 2/3 ASCII by bytes, plus 2-, 3- and 4-byte characters).
  let mixed = '';
  const pieces = ['The quick brown fox ', 'caf\xE9 ', '\u4E2D\u6587 ', '\u{1F600} ', 'na\xEFve '];
  for (let i = 0; Buffer.byteLength(mixed) < 1024; i++) mixed += pieces[i % pieces.length];
  while (Buffer.byteLength(mixed) > 1024) mixed = mixed.slice(0, -1);
  const inputs = [['1 KiB ASCII', ascii], [`1 KiB mixed (${mixed.length} UTF-16 units)`, mixed]];
  console.log(`\nbenchmark (node ${process.versions.node}, V8 ${process.versions.v8}; ns/op, ` +
              'best of 5; not asserted)');
  console.log(`  ${'input'.padEnd(36)} ${'op'.padEnd(7)} ${'ours'.padStart(8)} ` +
              `${'node'.padStart(8)}  ratio`);
  for (const [name, s] of inputs) {
    const bytes = nodeEncoder.encode(s);
    const rows = [
      ['encode', () => ourEncoder.encode(s), () => nodeEncoder.encode(s)],
      ['decode', () => ourDecoder.decode(bytes), () => nodeDecoder.decode(bytes)],
    ];
    for (const [op, a, b] of rows) {
      const ours = nsPerOp(a), theirs = nsPerOp(b);
      console.log(`  ${name.padEnd(36)} ${op.padEnd(7)} ${ours.toFixed(0).padStart(8)} ` +
                  `${theirs.toFixed(0).padStart(8)}  ${(ours / theirs).toFixed(1)}x`);
    }
  }
  const latin1 = Buffer.from(ascii).toString('latin1').repeat(3);
  const b64 = btoa(latin1);
  const rows = [
    ['btoa 3 KiB', () => ourBtoa(latin1), () => btoa(latin1)],
    ['atob 4 KiB', () => ourAtob(b64), () => atob(b64)],
  ];
  for (const [name, a, b] of rows) {
    const ours = nsPerOp(a), theirs = nsPerOp(b);
    console.log(`  ${name.padEnd(36)} ${''.padEnd(7)} ${ours.toFixed(0).padStart(8)} ` +
                `${theirs.toFixed(0).padStart(8)}  ${(ours / theirs).toFixed(1)}x`);
  }
}

console.log(`\n${totalPassed} passed, ${totalFailed} failed` +
            (totalSkipped ? ` (${totalSkipped} skipped)` : ''));
process.exitCode = totalFailed === 0 ? 0 : 1;
