// Node driver for the URL conformance tests: loads bindings/js/url.js the way
// the V8 host does (evaluate the file to a function, call it with a fresh
// global object and a `native` hook), then runs wpt_url_cases.js against it.
//
//   node tests/js/url/run_wpt_url.mjs [--verbose] [--data DIR]
//
// DIR defaults to ../shared/conformance/wpt-url relative to the project root.
// Exit status 1 when a suite passes below its floor in FLOORS (95% for the
// urltestdata.json parse cases), or when a toascii.json case fails that
// node's own URL passes: here the IDNA hook is node's domainToASCII, so IDNA
// data that node lacks (Unicode 15.1 mapping changes) fails for both.

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { domainToASCII, fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const dataArg = args.indexOf('--data');
const dataDir = dataArg !== -1 ? resolve(args[dataArg + 1]) :
    resolve(root, '../shared/conformance/wpt-url');

// The host's contract: the file is one function expression.
export function loadUrlBindings() {
  const install = (0, eval)(readFileSync(join(root, 'bindings/js/url.js'), 'utf8'));
  if (typeof install !== 'function') throw new Error('url.js did not evaluate to a function');
  const global = {};
  install(global, { domainToASCII: (s) => domainToASCII(s) });
  return global;
}

// Defines runUrlTestData & co. as globals (a plain script, like in V8).
(0, eval)(readFileSync(join(here, 'wpt_url_cases.js'), 'utf8'));

const { URL, URLSearchParams } = loadUrlBindings();

function load(name) {
  const file = join(dataDir, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

// Minimum pass fraction per suite.
const FLOORS = {
  'URL parse cases': 0.95,
  'URL.canParse/URL.parse cases': 0.95,
  'URL setter cases': 0.95,
  'URL toASCII cases': 0,  // see hookFailures
  'URL percent-encoding cases': 1,
  'URLSearchParams cases': 1,
};

const suites = [];
const urltestdata = load('urltestdata.json');
if (urltestdata === null) {
  console.error(`no urltestdata.json in ${dataDir}`);
  process.exit(1);
}
suites.push(['URL parse cases', globalThis.runUrlTestData(URL, urltestdata)]);
suites.push(['URL.canParse/URL.parse cases', globalThis.runUrlStaticsTestData(URL, urltestdata)]);
const setters = load('setters_tests.json');
if (setters !== null) suites.push(['URL setter cases', globalThis.runSetterTestData(URL, setters)]);
const toascii = load('toascii.json');
let hookFailures = null;  // toascii.json failures of node's built-in URL
if (toascii !== null) {
  suites.push(['URL toASCII cases', globalThis.runToASCIITestData(URL, toascii)]);
  hookFailures = new Set(globalThis.runToASCIITestData(globalThis.URL, toascii).failures
      .map((f) => f.name));
}
const percent = load('percent-encoding.json');
if (percent !== null) {
  suites.push(['URL percent-encoding cases', globalThis.runPercentEncodingTestData(URL, percent)]);
}
suites.push(['URLSearchParams cases', globalThis.runSearchParamsTests(URL, URLSearchParams)]);

let ok = true;
for (const [name, result] of suites) {
  const pct = result.total === 0 ? 100 : (100 * result.passed / result.total);
  console.log(`${name}: ${result.passed}/${result.total} (${pct.toFixed(1)}%)`);
  const shown = verbose ? result.failures : result.failures.slice(0, 50);
  for (const f of shown) {
    const note = name === 'URL toASCII cases' && hookFailures.has(f.name) ?
        ' [node\'s URL fails this too: IDNA data of the test hook]' : '';
    console.log(`  FAIL ${f.name}: ${f.message}${note}`);
  }
  if (name === 'URL toASCII cases') {
    const own = result.failures.filter((f) => !hookFailures.has(f.name)).length;
    console.log(`  ${result.failures.length - own} failures shared with node's URL, ${own} not`);
    if (own > 0) ok = false;
  }
  if (shown.length < result.failures.length) {
    console.log(`  ... ${result.failures.length - shown.length} more (--verbose)`);
  }
  if (result.passed < FLOORS[name] * result.total) ok = false;
}
process.exit(ok ? 0 : 1);
