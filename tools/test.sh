#!/usr/bin/env bash
# Builds everything (dependencies included) and runs every test with ctest:
# unit tests, the V8 smoke test and end-to-end tests against the real binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j2 --timeout 300 "$@"
