// Runs tests/js/subtle_crypto/cases.js against Node's own WebCrypto (>= 20),
// an independent implementation: a case that fails here while passing in
// isogate (JsApiTest.SubtleCryptoCases) is an expectation worth a second
// look. Cases marked `isogate: true` cover what this build does differently
// (Workers' extensions, features it leaves out, spec points Node does not
// follow) and are skipped.
//
//   node tests/js/subtle_crypto/run.mjs
//
// Prints "N passed, M failed (K skipped)" and exits 1 on failure.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const source = readFileSync(join(here, 'cases.js'), 'utf8');

// The case file is a plain script; evaluate it in this realm so that its
// ArrayBuffers and errors are Node's own.
const cases = vm.runInThisContext(`${source}\n;subtleCryptoCases`, { filename: 'cases.js' });

let passed = 0, failed = 0, skipped = 0;
for (const c of cases) {
  if (c.isogate) {
    skipped++;
    continue;
  }
  try {
    await c.fn(globalThis);
    passed++;
  } catch (error) {
    failed++;
    console.log(`FAIL ${c.name}: ${error && error.message}`);
  }
}
console.log(`${passed} passed, ${failed} failed (${skipped} skipped)`);
process.exitCode = failed === 0 ? 0 : 1;
