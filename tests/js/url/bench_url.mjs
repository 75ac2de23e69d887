// Micro-benchmark: bindings/js/url.js against node's built-in URL (ada, C++).
//
//   node tests/js/url/bench_url.mjs [iterations]
//
// Prints ns/op per workload: after a warm-up run, the best of RUNS timed runs
// (the two implementations alternate), which resists noise from other load
// on the machine better than a mean.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { domainToASCII, fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const install = (0, eval)(readFileSync(join(root, 'bindings/js/url.js'), 'utf8'));
const ours = {};
install(ours, { domainToASCII: (s) => domainToASCII(s) });

const N = Number(process.argv[2]) || 3e5;
const RUNS = 9;
let sink = 0;

const workloads = {
  'new URL(abs) + pathname + searchParams.get': (URL) => {
    const u = new URL('https://api.example.com/v1/users/123?x=1&y=2');
    sink += u.pathname.length + u.searchParams.get('x').length;
  },
  'new URL(abs)': (URL) => {
    sink += new URL('https://api.example.com/v1/users/123?x=1&y=2') ? 1 : 0;
  },
  'new URL(abs) + href + search': (URL) => {
    const u = new URL('http://127.0.0.1:8787/v1/users/123?x=1');
    sink += u.href.length + u.search.length;
  },
  'new URL(rel, base)': (URL) => {
    sink += new URL('../orders/7?full=1', 'https://api.example.com/v1/users/123').pathname.length;
  },
  'new URL(non-canonical)': (URL) => {
    sink += new URL('HTTPS://Api.Example.COM:443/a/./b/../c d?q=1 2#f').href.length;
  },
  'url.pathname (getter only)': null,  // filled below
};

const pre = { ours: new ours.URL('https://a.example/x/y?z=1'), node: new URL('https://a.example/x/y?z=1') };
workloads['url.pathname (getter only)'] = (URL, which) => {
  sink += pre[which].pathname.length;
};

function time(fn, URL, which) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(URL, which);
  return Number(process.hrtime.bigint() - t0) / N;
}

console.log(`node ${process.version}, ${N} iterations per run, best of ${RUNS} (ns/op)`);
console.log('workload'.padEnd(46) + 'url.js'.padStart(10) + 'node URL'.padStart(10));
for (const [name, fn] of Object.entries(workloads)) {
  const result = { ours: Infinity, node: Infinity };
  const impls = [['ours', ours.URL], ['node', globalThis.URL]];
  for (const [which, URL] of impls) time(fn, URL, which);
  for (let run = 0; run < RUNS; run++) {
    for (const [which, URL] of impls) result[which] = Math.min(result[which], time(fn, URL, which));
  }
  console.log(name.padEnd(46) + result.ours.toFixed(0).padStart(10) +
              result.node.toFixed(0).padStart(10));
}
if (sink === 42) console.log('');
