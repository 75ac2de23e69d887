#!/usr/bin/env bash
# Builds everything (dependencies included) and runs every test with ctest:
# unit tests, the V8 smoke test and end-to-end tests against the real binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
# Independent JS libraries the e2e tests verify against (e.g. jose for JWTs),
# pinned by tests/npm/package-lock.json; skipped when already installed.
if [ ! -f "$root/tests/npm/node_modules/.package-lock.json" ] ||
   [ "$root/tests/npm/package-lock.json" -nt "$root/tests/npm/node_modules/.package-lock.json" ]; then
  (cd "$root/tests/npm" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cd "$root/build"
ctest --output-on-failure -j2 --timeout 300 "$@"
