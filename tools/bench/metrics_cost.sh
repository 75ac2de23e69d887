#!/usr/bin/env bash
# What recording metrics costs: tools/bench/metrics_cost.sh
#
# Builds isogate twice from this checkout, once as usual and once with
# -DISOGATE_METRICS=OFF (the record functions compile to nothing), starts
# both on the hello script route (1 worker each, JSON access log to
# /dev/null, as run.sh's "script" scenario), and runs wrk against them
# interleaved (on, off, off, on, ...) so that machine noise hits both alike.
# Prints the median req/s and p99 of each and the throughput cost of metrics
# in percent: the median over rounds of each round's on/off ratio (a round
# runs both back to back, so a noisy neighbour slows both), with the range.
# Everything it started is stopped and its temp dir removed.
#
# Environment (defaults in brackets):
#   BENCH_DURATION     wrk duration per run [5s]
#   BENCH_RUNS         timed runs per binary [9]
#   BENCH_CONNECTIONS  wrk connections [32]
#   BENCH_THREADS      wrk threads [1]
#   BENCH_PIN          1 = pin with taskset [1 when nproc >= 2]
#   BENCH_CPU_LOAD     core for wrk [0]
#   BENCH_CPU_PROXY    core for the servers under test [1]
#   METRICS_BUILD_ON / METRICS_BUILD_OFF  build dirs [build-metrics-on, build-metrics-off]
#   ISOGATE_ON_BIN / ISOGATE_OFF_BIN      use these binaries instead of building
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

DURATION=${BENCH_DURATION:-5s}
[[ "$DURATION" =~ ^[0-9]+$ ]] && DURATION="${DURATION}s"
RUNS=${BENCH_RUNS:-9}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
PIN=${BENCH_PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
CPU_PROXY=${BENCH_CPU_PROXY:-1}
BUILD_ON=${METRICS_BUILD_ON:-$root/build-metrics-on}
BUILD_OFF=${METRICS_BUILD_OFF:-$root/build-metrics-off}

log() { echo "metrics_cost: $*" >&2; }
die() { echo "metrics_cost: error: $*" >&2; exit 1; }

command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"

build() { # build DIR METRICS(ON|OFF) -> path of the binary
  if [ ! -f "$1/build.ninja" ]; then
    cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DISOGATE_METRICS="$2" >/dev/null
  fi
  cmake --build "$1" -j2 --target isogate >&2
  echo "$1/tools/isogate"
}

if [ -n "${ISOGATE_ON_BIN:-}" ]; then ON_BIN=$ISOGATE_ON_BIN; else log "building with metrics (ON) in $BUILD_ON"; ON_BIN=$(build "$BUILD_ON" ON); fi
if [ -n "${ISOGATE_OFF_BIN:-}" ]; then OFF_BIN=$ISOGATE_OFF_BIN; else log "building without metrics (OFF) in $BUILD_OFF"; OFF_BIN=$(build "$BUILD_OFF" OFF); fi
[ -x "$ON_BIN" ] && [ -x "$OFF_BIN" ] || die "isogate binaries not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/isogate-metrics-cost.XXXXXX")
PIDS=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pinned() { PINNED=(); if [ "$PIN" = 1 ]; then PINNED=(taskset -c "$1"); fi; }

# start NAME BINARY: the hello script route, 1 worker; sets PORT_<NAME>.
start() {
  local dir="$TMP/$1" port=
  mkdir -p "$dir"
  printf '%s\n' 'export default { async fetch() { return new Response("hello, world\n"); } }' >"$dir/hello.js"
  cat >"$dir/isogate.json" <<'EOF'
{
  "listen": ["127.0.0.1:0"],
  "workers": 1,
  "shutdown_grace_ms": 500,
  "admin": { "listen": "127.0.0.1:0" },
  "routes": [ { "name": "hello", "match": { "path": "/*" }, "script": "hello.js" } ]
}
EOF
  pinned "$CPU_PROXY"
  "${PINNED[@]}" "$2" serve -c "$dir/isogate.json" >/dev/null 2>"$dir/stderr.log" &
  PIDS+=("$!")
  for _ in $(seq 200); do
    port=$(sed -n 's#^isogate: listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$dir/stderr.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$dir/stderr.log" >&2; die "$1: isogate did not start"; }
  [ "$(curl -s "http://127.0.0.1:$port/")" = "hello, world" ] || die "$1: unexpected answer"
  printf -v "PORT_$1" '%s' "$port"
  log "$1: $2 on 127.0.0.1:$port"
}

start on "$ON_BIN"
start off "$OFF_BIN"

# run NAME -> "rps p99_ms"
run() {
  local port_var="PORT_$1" out="$TMP/$1.wrk"
  pinned "$CPU_LOAD"
  "${PINNED[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:${!port_var}/" >"$out"
  awk '/^Requests\/sec:/ { rps = $2 }
       $1 == "99%" { v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u)
                     if (u == "us") v /= 1000; else if (u == "s") v *= 1000; p99 = v }
       /Non-2xx|Socket errors/ { bad = 1 }
       END { if (bad) print "ERR"; else printf "%s %.3f\n", rps, p99 }' "$out"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

log "warm-up"
run on >/dev/null
run off >/dev/null
: >"$TMP/on.rps"; : >"$TMP/off.rps"; : >"$TMP/on.p99"; : >"$TMP/off.p99"; : >"$TMP/ratio"
for i in $(seq "$RUNS"); do
  order="on off"; [ $((i % 2)) = 0 ] && order="off on"
  for name in $order; do
    result=$(run "$name")
    [ "$result" != ERR ] || die "$name: wrk saw errors; see $TMP/$name.wrk"
    read -r rps p99 <<<"$result"
    echo "$rps" >>"$TMP/$name.rps"; echo "$p99" >>"$TMP/$name.p99"
    printf -v "RPS_$name" '%s' "$rps"
    log "run $i $name: $rps req/s, p99 $p99 ms"
  done
  awk -v on="$RPS_on" -v off="$RPS_off" 'BEGIN { printf "%.4f\n", on / off }' >>"$TMP/ratio"
done

on_rps=$(median <"$TMP/on.rps"); off_rps=$(median <"$TMP/off.rps")
on_p99=$(median <"$TMP/on.p99"); off_p99=$(median <"$TMP/off.p99")
ratio=$(median <"$TMP/ratio")
cost=$(awk -v r="$ratio" 'BEGIN { printf "%.1f", (1 - r) * 100 }')
range=$(sort -g "$TMP/ratio" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f to %.1f", (1 - hi) * 100, (1 - lo) * 100 }')
echo "| build | req/s (median of $RUNS) | p99 ms |"
echo "| --- | ---: | ---: |"
echo "| metrics on (default) | $on_rps | $on_p99 |"
echo "| metrics compiled out (-DISOGATE_METRICS=OFF) | $off_rps | $off_p99 |"
echo
echo "throughput cost of metrics: $cost % (median of the rounds' on/off ratios; rounds ranged $range %)"
echo "wrk -t$THREADS -c$CONNS -d$DURATION, $RUNS interleaved rounds"
