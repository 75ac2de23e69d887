#!/usr/bin/env bash
# Builds isogate (dependencies included) and runs `isogate dev` on the examples.
# Extra arguments go to `isogate dev` (e.g. --port 8080).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh" --target isogate
exec "$root/build/tools/isogate" dev -c "$root/scripts/examples/isogate.json" "$@"
