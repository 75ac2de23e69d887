#!/usr/bin/env bash
# One command for the isogate benchmarks: tools/bench/run.sh
#
# Stages (BENCH_STAGES, in this order):
#   wrk      starts every scenario's servers (see scenarios.sh) on 127.0.0.1 in
#            a temp dir, checks each endpoint once with curl, then runs wrk
#            BENCH_RUNS times per scenario, interleaved (a,b,c,a,b,c,...) to
#            spread machine noise, and prints a markdown table of medians plus
#            the comparisons (ratios, added p99).
#   fixed    latency at a fixed rate, a fraction of a scenario's peak, with
#            ratebench (fixed_rate.sh; the fixed_rate lines of scenarios.sh).
#   runtime  the script runtime's cold start and per-isolate memory
#            (script_runtime.sh) with fresh isogate processes.
#   jwt      JWT verify through env.AUTH.verify() vs Node.js, and limit()
#            in an isolate (micro.sh).
#   kv       kv_bench: KV store get/put and rate counters (micro.sh).
#   tls      HTTPS hello route vs nginx `return 200` over TLS: keep-alive
#            req/s and new-handshake rate, ECDSA P-256 (tls.sh; not in the
#            default list: BENCH_STAGES=tls tools/bench/run.sh)
#   cache    response-cache hits: an isogate proxy route with "cache" vs nginx
#            proxy_cache (CACHE_SCENARIOS in scenarios.sh), timed like the wrk
#            stage (same runs, interleaved, same report; not in the default
#            stages: BENCH_STAGES=cache, or "wrk cache" for both).
# Everything it started is stopped and the temp dir removed on exit.
#
# Environment (defaults in brackets):
#   BENCH_STAGES       stages to run [wrk fixed runtime jwt kv]
#   BENCH_DURATION     wrk duration per run [4s] (a bare number means seconds)
#   BENCH_RUNS         timed runs per scenario [7]
#   BENCH_CONNECTIONS  wrk connections [32]
#   BENCH_THREADS      wrk threads [1]
#   BENCH_WARMUP       untimed wrk run per scenario before timing [1s]; 0 = none
#   BENCH_SCENARIOS    space-separated scenario names [all in scenarios.sh];
#                      "none" skips the wrk part
#   BENCH_FIXED_RUNS   fixed-rate runs per scenario [5]
#   BENCH_FIXED_DURATION seconds per fixed-rate run [4] (+ BENCH_FIXED_WARMUP [1])
#   BENCH_FIXED_RATE   req/s for the fixed-rate runs [FRACTION x the subject's peak]
#   BENCH_FIXED_CONNECTIONS connections for the fixed-rate runs [BENCH_CONNECTIONS]
#   BENCH_FIXED_SPIN   1 = ratebench busy-polls instead of sleeping on a timer [0]
#   BENCH_JWT_RUNS     timed rounds of the JWT/limit() loops [7] (after BENCH_JWT_WARMUP [2])
#   BENCH_JWT_TOKENS   distinct tokens per algorithm [4500] (> the verify caches)
#   BENCH_KV_REPS      kv_bench repetitions (median) [3]
#   BENCH_COLD_STARTS  fresh isogate processes for the cold-start measure [10];
#                      0 skips it
#   BENCH_COLD_REQUESTS requests per cold-start process [10] (1st = cold)
#   BENCH_MEM_ROUTES   distinct hello script routes for the per-isolate memory
#                      measure [20]; 0 skips it
#   BENCH_MEM_REPEATS  processes per memory configuration [3]
#   BENCH_MEM_WORKERS  "workers" values measured [1 0] (0 = one per core)
#   BENCH_PIN          1 = pin with taskset [1 when nproc >= 2]
#   BENCH_CPU_LOAD     core for wrk and the origin [0]
#   BENCH_CPU_PROXY    core for the server under test [1]
#   BENCH_OUT          also write the markdown report to this file
#   BENCH_KEEP         1 = keep the temp dir (configs, logs, raw wrk output)
#   BENCH_QUIET        "other load" (%) up to which a round counts as quiet [10]
#   BENCH_NGINX_PROXY_ACCESS_LOG  1 = nginx proxy writes a buffered access log
#                      to /dev/null, like isogate's JSON log [0]
#   ISOGATE_BIN        use this isogate binary instead of building one
#   KV_BENCH_BIN       use this kv_bench instead of building one
#   RATEBENCH_BIN      use this ratebench instead of compiling ratebench.c
#   NGINX_BIN, WRK_BIN, NODE_BIN override the tools found on PATH
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=processes.sh
. "$here/processes.sh"
root=$(cd "$here/../.." && pwd)

DURATION=${BENCH_DURATION:-4s}
[[ "$DURATION" =~ ^[0-9]+$ ]] && DURATION="${DURATION}s"
RUNS=${BENCH_RUNS:-7}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
WARMUP=${BENCH_WARMUP:-1s}
[[ "$WARMUP" =~ ^[0-9]+$ ]] && [ "$WARMUP" != 0 ] && WARMUP="${WARMUP}s"
NPROC=$(nproc)
PIN=${BENCH_PIN:-$([ "$NPROC" -ge 2 ] && echo 1 || echo 0)}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
CPU_PROXY=${BENCH_CPU_PROXY:-1}
KEEP=${BENCH_KEEP:-0}
QUIET=${BENCH_QUIET:-10}
STAGES=" ${BENCH_STAGES:-wrk fixed runtime jwt kv} "
for stage in $STAGES; do
  case $stage in wrk | fixed | runtime | jwt | kv | tls | cache) ;; *) echo "bench: error: unknown stage '$stage' (known: wrk fixed runtime jwt kv tls cache)" >&2; exit 1 ;; esac
done
has_stage() { [[ "$STAGES" == *" $1 "* ]]; }

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools ----

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

has_candidate() { # package has an installable version in the apt lists
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { ok = ($2 != "(none)") } END { exit !ok }'
}

apt_install() {
  local args=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@")
  log "installing $* from Debian"
  if ! sudo_if_needed "${args[@]}" >/dev/null; then
    log "install failed; running apt-get update and retrying"
    sudo_if_needed apt-get update -qq
    sudo_if_needed "${args[@]}" >/dev/null
  fi
}

find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

ensure_tools() {
  local missing=()
  [ -n "${NGINX_BIN:-}" ] || [ -n "$(find_nginx)" ] || {
    if has_candidate nginx-light; then missing+=(nginx-light)
    else missing+=(nginx); fi   # nginx-light is gone from newer Debian releases
  }
  [ -n "${WRK_BIN:-}" ] || command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  command -v taskset >/dev/null || missing+=(util-linux)
  if need_node && [ -z "${NODE_BIN:-}" ] && ! command -v node >/dev/null; then
    log "node not found: installing Debian's nodejs (Debian 12 ships Node.js 18, not 20)"
    missing+=(nodejs)
  fi
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
  NODE=${NODE_BIN:-$(command -v node || true)}
  NGINX=${NGINX_BIN:-$(find_nginx)}
  WRK=${WRK_BIN:-$(command -v wrk)}
  [ -x "$NGINX" ] || die "nginx not found"
  [ -x "$WRK" ] || die "wrk not found"
}

# Node.js is needed by the node scenario, the gateway scenario (to mint its
# token with jose) and the jwt stage.
need_node() {
  [[ " $setup_list " == *" node "* ]] || [[ " $setup_list " == *" gw_auth "* ]] || has_stage jwt
}

# jose (tests/npm, pinned by its package-lock.json) mints the JWT keys and
# tokens and is the second Node.js reference; installed like tools/test.sh does.
ensure_jose() {
  JOSE_DIR=$root/tests/npm/node_modules/jose
  if [ ! -f "$JOSE_DIR/package.json" ]; then
    log "installing jose into tests/npm (npm ci)"
    (cd "$root/tests/npm" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in tests/npm failed"
  fi
  [ -f "$JOSE_DIR/package.json" ] || die "jose not found in tests/npm/node_modules"
}

ensure_isogate() {
  if [ -n "${ISOGATE_BIN:-}" ]; then
    ISOGATE=$ISOGATE_BIN
  else
    log "building isogate (tools/build.sh --target isogate)"
    "$root/tools/build.sh" --target isogate >&2
    ISOGATE=$root/build/tools/isogate
  fi
  [ -x "$ISOGATE" ] || die "isogate binary not found at $ISOGATE"
}

# ------------------------------------------------------ processes, ports ----

TMP=$(mktemp -d "${TMPDIR:-/tmp}/isogate-bench.XXXXXX")
PIDS=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # nginx masters also write pid files inside TMP; stop those too, in case a
  # start attempt was interrupted before its pid was recorded.
  for f in "$TMP"/*/nginx.pid; do
    if [ -s "$f" ]; then PIDS+=("$(cat "$f")"); fi
  done
  stop_processes "${PIDS[@]}"
  if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pin_note() { if [ "$PIN" = 1 ]; then echo " (cpu $1)"; fi; }

# pinned CPU: sets PINNED to the command prefix that runs a command on CPU
# (empty when pinning is off). Use it as `"${PINNED[@]}" cmd ... &` so that $!
# is the server's own pid (taskset execs it), not a subshell's.
pinned() {
  PINNED=()
  if [ "$PIN" = 1 ]; then PINNED=(taskset -c "$1"); fi
}

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    local p used
    used=$(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
    while :; do
      p=$((20000 + RANDOM % 40000))
      grep -qx "$p" <<<"$used" || { echo "$p"; return; }
    done
  fi
}

wait_http() { # wait_http URL PID: until URL answers (any status) or PID dies
  for _ in $(seq 100); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.05
  done
  return 1
}

# start_nginx NAME CPU HTTP_BLOCK: starts a 1-worker nginx whose http{} block
# is HTTP_BLOCK with @PORT@ replaced by a free port; sets NGINX_PORT.
start_nginx() {
  local name=$1 cpu=$2 block=$3 dir="$TMP/$1" attempt pid
  mkdir -p "$dir/tmp"
  for attempt in 1 2 3 4 5; do
    NGINX_PORT=$(free_port)
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
${block//@PORT@/$NGINX_PORT}
}
EOF
    pinned "$cpu"
    "${PINNED[@]}" "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
      >"$dir/stdout.log" 2>&1 &
    pid=$!
    if wait_http "http://127.0.0.1:$NGINX_PORT/" "$pid"; then
      PIDS+=("$pid"); SERVER_PIDS[$name]=$pid
      log "$name: nginx pid $pid on 127.0.0.1:$NGINX_PORT$(pin_note "$cpu")"
      return 0
    fi
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    log "$name: nginx did not start (attempt $attempt): $(tail -n 2 "$dir/error.log" 2>/dev/null | tr '\n' ' ')"
  done
  die "$name: nginx failed to start; see $dir/error.log"
}

# start_isogate NAME CPU CONFIG_JSON: runs `isogate serve` on CONFIG_JSON
# (must listen on 127.0.0.1:0); sets ISOGATE_PORT from its stderr line.
# stdout (JSON access log) goes to BENCH_ACCESS_LOG [/dev/null].
start_isogate() {
  local name=$1 cpu=$2 dir="$TMP/$1" pid
  mkdir -p "$dir"
  printf '%s\n' "$3" >"$dir/isogate.json"
  pinned "$cpu"
  "${PINNED[@]}" "$ISOGATE" serve -c "$dir/isogate.json" \
    >"${BENCH_ACCESS_LOG:-/dev/null}" 2>"$dir/stderr.log" &
  pid=$!
  PIDS+=("$pid"); SERVER_PIDS[$name]=$pid
  ISOGATE_PORT=
  for _ in $(seq 200); do
    ISOGATE_PORT=$(sed -n 's#^isogate: listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$dir/stderr.log" | head -n 1)
    [ -n "$ISOGATE_PORT" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/stderr.log" >&2; die "$name: isogate exited at start"; }
    sleep 0.05
  done
  [ -n "$ISOGATE_PORT" ] || { cat "$dir/stderr.log" >&2; die "$name: isogate did not report a listen address"; }
  log "$name: isogate pid $pid on 127.0.0.1:$ISOGATE_PORT$(pin_note "$cpu")"
}

# --------------------------------------------------------- scenarios -------

# shellcheck disable=SC2034  # SERVER_PIDS is also read by scenarios.sh
declare -A SC_DESC=() SC_URL=() SC_BODY=() SC_PID=() SC_HEADER=() SERVER_PIDS=()
REGISTERED=()
COMPARISONS=()

# register NAME DESCRIPTION URL EXPECTED_BODY [SERVER_NAME [HEADER]]: called by
# a scenario's setup function once its servers run. SERVER_NAME is the server
# under test (checked for crashes after each run); HEADER ("Name: value") is
# sent with every request of the scenario (curl, wrk, ratebench).
register() {
  SC_DESC[$1]=$2; SC_URL[$1]=$3; SC_BODY[$1]=$4
  SC_PID[$1]=${5:+${SERVER_PIDS[$5]}}
  SC_HEADER[$1]=${6:-}
  REGISTERED+=("$1")
}

# compare SUBJECT REFERENCE BASELINE MIN_RPS_RATIO MAX_P99_DIFF_MS: a target row
# (SUBJECT req/s >= MIN_RPS_RATIO x REFERENCE's, p99 at most MAX_P99_DIFF_MS
# above REFERENCE's, "-" for no req/s or no p99 target; p99 "added" figures
# are relative to BASELINE).
compare() { COMPARISONS+=("$*"); }

# shellcheck source=fixed_rate.sh
. "$here/fixed_rate.sh"
# shellcheck source=scenarios.sh
. "$here/scenarios.sh"
# shellcheck source=script_runtime.sh
. "$here/script_runtime.sh"
# shellcheck source=micro.sh
. "$here/micro.sh"

# ------------------------------------------------------------ wrk ----------

to_ms() { # wrk latency ("392.00us", "1.01ms", "1.20s", "1.00m") -> ms
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}

# parse_wrk FILE -> "rps p50_ms p99_ms requests non2xx socket_errors"
parse_wrk() {
  local rps p50 p99 reqs non2xx sock
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$1")
  p50=$(awk '$1 == "50%" { print $2 }' "$1")
  p99=$(awk '$1 == "99%" { print $2 }' "$1")
  reqs=$(awk '/ requests in / { print $1 }' "$1")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1")
  sock=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$1")
  if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ]; then cat "$1" >&2; die "cannot parse wrk output $1"; fi
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${reqs:-0} ${non2xx:-0} ${sock:-0}"
}

run_wrk() { # run_wrk SCENARIO DURATION OUTFILE
  local header=()
  [ -z "${SC_HEADER[$1]:-}" ] || header=(-H "${SC_HEADER[$1]}")
  pinned "$CPU_LOAD"
  "${PINNED[@]}" "$WRK" -t"$THREADS" -c"$CONNS" -d"$2" --latency ${header[@]+"${header[@]}"} "${SC_URL[$1]}" >"$3" 2>&1 ||
    { cat "$3" >&2; die "wrk failed against $1 (${SC_URL[$1]})"; }
}

CLK_TCK=$(getconf CLK_TCK)

# Process trees of the servers: a server's pid and its direct children (the
# workers of an nginx master), looked up once after set-up (tree_pids), so
# that a timed run forks as little as possible.
declare -A TREE=()
tree_pids() {
  local p
  for p in "${PIDS[@]}"; do TREE[$p]="$p $({ pgrep -P "$p" || true; } | tr '\n' ' ')"; done
}

# ticks_of PID...: user+system clock ticks of these processes (all threads).
ticks_of() {
  local files=() p
  for p in "$@"; do files+=("/proc/$p/stat"); done
  { cat "${files[@]}" 2>/dev/null || true; } | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# cpu_ticks PID: CPU ticks of a server's tree, for CPU per request of the
# server under test.
cpu_ticks() {
  # shellcheck disable=SC2086  # a list of pids
  ticks_of ${TREE[$1]:-$1}
}

# busy_ticks: user+nice+system+steal clock ticks of the cores the benchmark
# uses (both pinned cores, or all when unpinned), from /proc/stat. irq and
# softirq are left out: on loopback they are mostly the benchmark's own
# traffic and the kernel may not bill them to any process.
busy_ticks() {
  local cores="cpu"
  [ "$PIN" != 1 ] || cores="cpu$CPU_LOAD cpu$CPU_PROXY"
  awk -v want=" $cores " 'index(want, " " $1 " ") && !seen[$1]++ { b += $2 + $3 + $4 + $9 } END { print b + 0 }' /proc/stat
}

# server_ticks: CPU ticks of every server the benchmark started (and their
# workers). wrk_ticks: CPU ticks used so far by the shell's waited-for
# children (wrk), from the `times` builtin, which must run in this shell, not
# in a $(...) subshell.
server_ticks() {
  local all=() p
  # shellcheck disable=SC2206  # lists of pids
  for p in "${PIDS[@]}"; do all+=(${TREE[$p]:-$p}); done
  ticks_of "${all[@]}"
}
wrk_ticks() { # wrk_ticks VAR
  times >"$TMP/times"
  printf -v "$1" '%s' "$(awk -v hz="$CLK_TCK" 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.0f", s * hz }' "$TMP/times")"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

timed() { [[ " $want " == *" $1 "* ]]; }  # timed SCENARIO: was it in the wrk stage?

col() { # col SCENARIO FIELD: values of a results.tsv column for a scenario
  awk -v s="$1" -v f="$2" '$1 == s { print $f }' "$TMP/results.tsv"
}

# --------------------------------------------------------------- main ------

want=${BENCH_SCENARIOS:-$DEFAULT_SCENARIOS}
[ "$want" != none ] || want=
has_stage wrk || want=
if has_stage cache; then
  for s in $CACHE_SCENARIOS; do [[ " $want " == *" $s "* ]] || want+=" $s"; done
fi
# Servers to start: the wrk scenarios, plus what the fixed-rate stage needs.
setup_list=$want
if has_stage fixed; then
  for s in $(fixed_rate_scenarios); do
    [[ " $setup_list " == *" $s "* ]] || setup_list+=" $s"
  done
fi
for s in $setup_list; do
  declare -F "setup_$s" >/dev/null || die "unknown scenario '$s' (known: $DEFAULT_SCENARIOS $CACHE_SCENARIOS)"
done
ensure_tools
ensure_isogate
if [[ " $setup_list " == *" gw_auth "* ]] || has_stage jwt; then ensure_jose; fi
if has_stage kv; then ensure_kv_bench; fi
if [ "$PIN" = 1 ]; then
  [ "$NPROC" -ge 2 ] || log "warning: pinning with only $NPROC CPU"
  for c in "$CPU_LOAD" "$CPU_PROXY"; do taskset -c "$c" true 2>/dev/null || die "cannot pin to cpu $c"; done
fi
: >"${BENCH_OUT:-/dev/null}"

for s in $setup_list; do "setup_$s"; done

# Sanity check: one request per endpoint, exact status and body.
for s in ${REGISTERED[@]+"${REGISTERED[@]}"}; do
  header=()
  [ -z "${SC_HEADER[$s]}" ] || header=(-H "${SC_HEADER[$s]}")
  code=$(curl -s -o "$TMP/sanity.$s" -w '%{http_code}' --max-time 5 ${header[@]+"${header[@]}"} "${SC_URL[$s]}") || code=000
  if [ "$code" != 200 ] || [ "$(cat "$TMP/sanity.$s"; echo x)" != "${SC_BODY[$s]}x" ]; then
    die "sanity check failed for $s (${SC_URL[$s]}): status $code, body $(head -c 200 "$TMP/sanity.$s" | od -c | head -n 3)"
  fi
  log "sanity ok: $s ${SC_URL[$s]} -> 200, ${#SC_BODY[$s]}-byte body"
done

if [ "$WARMUP" != 0 ]; then
  for s in ${REGISTERED[@]+"${REGISTERED[@]}"}; do run_wrk "$s" "$WARMUP" "$TMP/warmup.$s.txt"; done
fi

mkdir -p "$TMP/wrk"
: >"$TMP/results.tsv"
tree_pids
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
[ -z "$want" ] || log "timing: $(wc -w <<<"$want") scenarios x $RUNS runs x $DURATION (wrk -t$THREADS -c$CONNS), interleaved"
for r in $(seq "$RUNS"); do
  [ -n "$want" ] || break
  for s in $want; do
    out="$TMP/wrk/$s.$r.txt"
    pid=${SC_PID[$s]}
    t0=$(date +%s%N); c0=$( [ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
    w0=0; w1=0; k0=$(busy_ticks); o0=$(server_ticks); wrk_ticks w0
    run_wrk "$s" "$DURATION" "$out"
    t1=$(date +%s%N); c1=$( [ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
    wrk_ticks w1; k1=$(busy_ticks); o1=$(server_ticks)
    vals=$(parse_wrk "$out")
    read -r rps p50 p99 reqs non2xx sock <<<"$vals"
    sockdetail=$(awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); gsub(/ /, ""); print }' "$out")
    # server CPU: microseconds per request, and % of one core over the run
    read -r cpu_us cpu_pct < <(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$reqs" -v ns=$((t1 - t0)) \
      'BEGIN { printf "%.2f %.0f\n", (n > 0 ? d / hz * 1e6 / n : 0), d / hz * 1e11 / ns }')
    # other load: CPU used on the benchmark's cores by processes that are not
    # part of it (builds, tests), in % of one core. High values = noisy run.
    other=$(awk -v b=$((k1 - k0)) -v own=$((o1 - o0 + w1 - w0)) -v hz="$CLK_TCK" -v ns=$((t1 - t0)) \
      'BEGIN { o = (b - own) / hz * 1e11 / ns; printf "%.0f", (o < 0 ? 0 : o) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$rps" "$p50" "$p99" "$reqs" "$non2xx" "$sock" \
      "${sockdetail:--}" "$cpu_us" "$cpu_pct" "$other" >>"$TMP/results.tsv"
    note=
    [ "$non2xx" = 0 ] || note+=", NON-2xx $non2xx"
    [ "$sock" = 0 ] || note+=", SOCKET ERRORS ($sockdetail)"
    log "run $r/$RUNS $s: $rps req/s, p50 $p50 ms, p99 $p99 ms, server CPU $cpu_us us/req ($cpu_pct% of a core), other load $other% (wrk $(( (w1 - w0) * 100 * 1000000000 / CLK_TCK / (t1 - t0) ))%)$note"
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then die "$s: server under test (pid $pid) died during run $r"; fi
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------- report ------

report() {
  local s rps p50 p99 non2xx sock
  echo "Machine: $NPROC CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)."
  echo "Versions: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $("$WRK" -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'), $("$ISOGATE" version 2>&1) ($ISOGATE)."
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'): wrk -t$THREADS -c$CONNS -d$DURATION --latency, $RUNS runs per scenario, interleaved; load average before $load_before, after $load_after."
  if [ "$PIN" = 1 ]; then
    echo "Pinning: wrk and origin on cpu $CPU_LOAD, server under test on cpu $CPU_PROXY."
  else
    echo "Pinning: off."
  fi
  echo
  echo "| scenario | what | req/s (median) | p50 ms | p99 ms | req/s min–max | p99 ms min–max | server CPU µs/req | server CPU % | other load % | non-2xx | socket errors |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in $want; do
    rps=$(col "$s" 3 | median); p50=$(col "$s" 4 | median); p99=$(col "$s" 5 | median)
    non2xx=$(col "$s" 7 | awk '{ t += $1 } END { print t + 0 }')
    sock=$(col "$s" 8 | awk '{ t += $1 } END { print t + 0 }')
    printf '| %s | %s | %.0f | %.3f | %.3f | %s | %s | %.2f | %.0f | %.0f | %s | %s |\n' "$s" "${SC_DESC[$s]}" "$rps" "$p50" "$p99" \
      "$(col "$s" 3 | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.0f–%.0f", a, b }')" \
      "$(col "$s" 5 | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f–%.3f", a, b }')" \
      "$(col "$s" 10 | median)" "$(col "$s" 11 | median)" "$(col "$s" 12 | median)" "$non2xx" "$sock"
  done
  local applicable=() line
  for line in "${COMPARISONS[@]}"; do
    # shellcheck disable=SC2086
    set -- $line
    if timed "$1" && timed "$2"; then applicable+=("$line"); fi
  done
  [ "${#applicable[@]}" -gt 0 ] || return 0
  for line in "${applicable[@]}"; do
    # shellcheck disable=SC2086  # split the compare line into its fields
    set -- $line
    local a=$1 b=$2 base=$3 min_ratio=$4 max_p99=$5 pbase bbase
    pbase=$(if timed "$base"; then col "$base" 5 | median; else echo 0; fi)
    bbase=$(if timed "$base"; then col "$base" 5 | sort -g | head -n 1; else echo 0; fi)
    # medians, and "best runs": each scenario's highest req/s, lowest p99 and
    # lowest CPU per request, the least disturbed estimate on a noisy machine.
    local ra rb pa pb ca cb bra brb bpa bpb bca bcb paired quiet
    ra=$(col "$a" 3 | median); rb=$(col "$b" 3 | median)
    pa=$(col "$a" 5 | median); pb=$(col "$b" 5 | median)
    ca=$(col "$a" 10 | median); cb=$(col "$b" 10 | median)
    bra=$(col "$a" 3 | sort -g | tail -n 1); brb=$(col "$b" 3 | sort -g | tail -n 1)
    bpa=$(col "$a" 5 | sort -g | head -n 1); bpb=$(col "$b" 5 | sort -g | head -n 1)
    bca=$(col "$a" 10 | sort -g | head -n 1); bcb=$(col "$b" 10 | sort -g | head -n 1)
    paired=$(paste <(col "$a" 3) <(col "$b" 3) | awk '{ print $1 / $2 }' | sort -g |
      awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f (%.3f–%.3f)", m, v[1], v[NR] }')
    # the same over quiet rounds only: other load <= QUIET % in both runs
    quiet=$(paste <(col "$a" 3) <(col "$b" 3) <(col "$a" 12) <(col "$b" 12) |
      awk -v q="$QUIET" '$3 <= q && $4 <= q { print $1 / $2 }' | sort -g |
      awk '{ v[NR] = $1 } END { if (!NR) { printf "no quiet round"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f (%.3f–%.3f), %d of the rounds", m, v[1], v[NR], NR }')
    echo
    if [ "$min_ratio" = - ] && [ "$max_p99" = - ]; then
      echo "**$a vs $b** (no target: for reference)"
    elif [ "$max_p99" = - ]; then
      echo "**$a vs $b** (target: req/s ratio ≥ $min_ratio; no p99 target)"
    elif [ "$min_ratio" = - ]; then
      echo "**$a vs $b** (target: p99 at most +$max_p99 ms over $b's; no req/s target)"
    else
      echo "**$a vs $b** (target: req/s ratio ≥ $min_ratio, p99 at most +$max_p99 ms over $b's)"
    fi
    echo
    echo "| measure | medians | best runs | target |"
    echo "| --- | ---: | ---: | ---: |"
    awk -v a="$a" -v b="$b" -v base="$base" -v ra="$ra" -v rb="$rb" -v pa="$pa" -v pb="$pb" -v ca="$ca" -v cb="$cb" \
      -v bra="$bra" -v brb="$brb" -v bpa="$bpa" -v bpb="$bpb" -v bca="$bca" -v bcb="$bcb" -v paired="$paired" -v quiet="$quiet" -v qmax="$QUIET" \
      -v pbase="$pbase" -v bbase="$bbase" -v mr="$min_ratio" -v md="$max_p99" '
      function verdict(r, d,   s) {
        if (mr == "-") s = "no req/s target"
        else s = (r >= mr) ? "req/s met" : sprintf("req/s MISSED (%.3f < %s, needs +%.0f%%)", r, mr, (mr / r - 1) * 100)
        if (md == "-") return s
        return s ", " ((d <= md + 0) ? "p99 met" : sprintf("p99 MISSED by %.3f ms", d - md))
      }
      BEGIN {
        printf "| req/s %s / %s | %.3f | %.3f | %s |\n", a, b, ra / rb, bra / brb, (mr == "-") ? "–" : "≥ " mr
        printf "| req/s ratio per round (median, min–max) | %s | | |\n", paired
        printf "| the same, quiet rounds only (other load ≤ %s%% in both runs) | %s | | |\n", qmax, quiet
        printf "| p99 %s − %s, ms | %+.3f | %+.3f | %s |\n", a, b, pa - pb, bpa - bpb, (md == "-") ? "–" : "≤ +" md
        printf "| p99 added over %s, ms (%s / %s) | %.3f / %.3f | %.3f / %.3f | |\n", base, a, b, pa - pbase, pb - pbase, bpa - bbase, bpb - bbase
        printf "| server CPU µs/req (%s / %s) | %.2f / %.2f | %.2f / %.2f | |\n", a, b, ca, cb, bca, bcb
        printf "| verdict | %s | %s | |\n", verdict(ra / rb, pa - pb), verdict(bra / brb, bpa - bpb)
      }'
  done
}

if [ -n "$want" ]; then
  echo
  report | tee -a "${BENCH_OUT:-/dev/null}"
  echo
  echo "Per run (req/s, p50 ms, p99 ms, server CPU µs/req, server CPU %, other load %):"
  awk '{ printf "  %-16s run %s  %10.0f  %7.3f  %7.3f  %6.2f  %4.0f  %4.0f%s\n", $1, $2, $3, $4, $5, $10, $11, $12, ($7 + $8 > 0) ? "  non-2xx " $7 ", socket errors " $8 " (" $9 ")" : "" }' "$TMP/results.tsv"
fi

# Latency at a fixed rate (fixed_rate.sh), with the wrk stage's servers.
if has_stage fixed; then fixed_rate_measures; fi

# The HTTP servers are done: stop them so they do not disturb what follows.
for pid in ${PIDS[@]+"${PIDS[@]}"}; do stop_server "$pid"; done

# Cold start and per-isolate memory of the script runtime (script_runtime.sh).
if has_stage runtime; then script_runtime_measures; fi

# JWT verify and limit() in an isolate, kv_bench (micro.sh).
micro_measures

# HTTPS vs nginx (tls.sh starts and stops its own servers).
if has_stage tls; then
  echo
  ISOGATE_BIN=$ISOGATE NGINX_BIN=$NGINX WRK_BIN=$WRK BENCH_PIN=$PIN BENCH_CPU_LOAD=$CPU_LOAD \
    BENCH_CPU_PROXY=$CPU_PROXY BENCH_DURATION=$DURATION "$here/tls.sh"
fi

# Anything the servers said beyond their start-up line is worth a look.
for f in "$TMP"/*/error.log "$TMP"/*/stderr.log; do
  [ -s "$f" ] || continue
  extra=$(grep -v -e '^isogate: listening on ' -e '^isogate: draining' "$f" || true)
  [ -z "$extra" ] || { echo; echo "${f#"$TMP"/}:"; echo "$extra" | tail -n 20 | sed 's/^/  /'; }
done
