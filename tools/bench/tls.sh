#!/usr/bin/env bash
# HTTPS benchmark (the "tls" stage of run.sh, or on its own):
#   tools/bench/tls.sh
#
# Servers, each 1 worker, pinned to BENCH_CPU_PROXY, with the same ECDSA
# P-256 certificate (self-signed, made here with the openssl CLI):
#   isogate  `isogate serve` with a "tls" listener and the hello script route
#            (export default { async fetch() { return new Response("hello, world\n"); } })
#   nginx    `listen ssl`, `return 200 "hello, world\n"`, TLS 1.2+1.3,
#            session tickets on, keepalive_requests 1000000, no access log
# Measures, interleaved isogate/nginx BENCH_RUNS times, medians:
#   keep-alive  wrk -t1 -cBENCH_CONNECTIONS -dBENCH_DURATION https://.../
#               (handshakes only at connection start; measures record
#               encryption + HTTP)
#   handshakes  wrk with "Connection: close": every request is a new TCP
#               connection and a full TLS 1.3 handshake (wrk does not resume
#               sessions), -cBENCH_HS_CONNECTIONS
#   s_time      openssl s_time -new for BENCH_STIME_SECONDS: sequential full
#               handshakes from one client process (bounded by the client)
# Prints a markdown table and the ratios (target: isogate >= 0.8 x nginx).
#
# Environment: ISOGATE_BIN [build-tls or build isogate], NGINX_BIN, WRK_BIN,
# BENCH_RUNS [5], BENCH_DURATION [4s], BENCH_CONNECTIONS [32],
# BENCH_HS_CONNECTIONS [16], BENCH_STIME_SECONDS [4], BENCH_PIN [1 when
# nproc >= 2], BENCH_CPU_LOAD [0], BENCH_CPU_PROXY [1], BENCH_OUT (append the
# report), BENCH_KEEP (keep the temp dir).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=processes.sh
. "$here/processes.sh"
root=$(cd "$here/../.." && pwd)
RUNS=${BENCH_RUNS:-5}
DURATION=${BENCH_DURATION:-4s}
[[ "$DURATION" =~ ^[0-9]+$ ]] && DURATION="${DURATION}s"
CONNS=${BENCH_CONNECTIONS:-32}
HS_CONNS=${BENCH_HS_CONNECTIONS:-16}
STIME=${BENCH_STIME_SECONDS:-4}
PIN=${BENCH_PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
CPU_LOAD=${BENCH_CPU_LOAD:-0}
CPU_PROXY=${BENCH_CPU_PROXY:-1}

log() { echo "bench-tls: $*" >&2; }
die() { echo "bench-tls: error: $*" >&2; exit 1; }

ISOGATE=${ISOGATE_BIN:-}
if [ -z "$ISOGATE" ]; then
  for candidate in "$root/build-tls/tools/isogate" "$root/build/tools/isogate"; do
    [ -x "$candidate" ] && { ISOGATE=$candidate; break; }
  done
fi
[ -x "$ISOGATE" ] || die "isogate binary not found (set ISOGATE_BIN or build it)"
NGINX=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
WRK=${WRK_BIN:-$(command -v wrk)}
[ -x "$NGINX" ] || die "nginx not found"
[ -x "$WRK" ] || die "wrk not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/isogate-bench-tls.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_processes "${PIDS[@]}"
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on() { if [ "$PIN" = 1 ]; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }
# For background servers: a prefix, not a function, so that $! is the server
# itself (taskset execs it) and cleanup can stop it.
pinned() { PINNED=(); if [ "$PIN" = 1 ]; then PINNED=(taskset -c "$1"); fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- certificate ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
  -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

# ---- isogate ----
mkdir -p "$TMP/isogate"
echo 'export default { async fetch() { return new Response("hello, world\n"); } }' >"$TMP/isogate/hello.js"
cat >"$TMP/isogate/isogate.json" <<EOF
{ "listen": ["127.0.0.1:0"], "workers": 1,
  "tls": { "listen": ["127.0.0.1:0"], "certificates": [{ "cert": "$TMP/cert.pem", "key": "$TMP/key.pem" }] },
  "routes": [ { "match": { "path": "/*" }, "script": "hello.js" } ] }
EOF
pinned "$CPU_PROXY"
"${PINNED[@]}" "$ISOGATE" serve -c "$TMP/isogate/isogate.json" >/dev/null 2>"$TMP/isogate/stderr.log" &
PIDS+=($!)
ISOGATE_PORT=
for _ in $(seq 200); do
  ISOGATE_PORT=$(sed -n 's#^isogate: listening on https://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$TMP/isogate/stderr.log")
  [ -n "$ISOGATE_PORT" ] && break
  sleep 0.05
done
[ -n "$ISOGATE_PORT" ] || { cat "$TMP/isogate/stderr.log" >&2; die "isogate did not start"; }

# ---- nginx ----
mkdir -p "$TMP/nginx/tmp"
NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    location / { default_type text/plain; return 200 "hello, world\n"; }
  }
}
EOF
"${PINNED[@]}" "$NGINX" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >/dev/null 2>&1 &
PIDS+=($!)
NGINX_MASTER=$!

# The process whose CPU time is measured: isogate, and nginx's worker.
declare -A CPU_PID=([isogate]=${PIDS[0]})
declare -A URL=([isogate]="https://127.0.0.1:$ISOGATE_PORT/" [nginx]="https://127.0.0.1:$NGINX_PORT/")
for name in isogate nginx; do
  for _ in $(seq 100); do curl -sk -o /dev/null "${URL[$name]}" && break; sleep 0.05; done
  body=$(curl -sk "${URL[$name]}") || die "$name does not answer on ${URL[$name]}"
  [ "$body" = "hello, world" ] || die "$name answered '$body'"
  log "$name: ${URL[$name]}"
done
CPU_PID[nginx]=$(pgrep -P "$NGINX_MASTER" | head -n 1)
[ -n "${CPU_PID[nginx]}" ] || die "nginx worker not found"
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk_rps NAME EXTRA...: one wrk run, prints "req/s server-CPU-us-per-request"
wrk_rps() {
  local name=$1 out t0 t1
  shift
  t0=$(cpu_ticks "${CPU_PID[$name]}")
  out=$(on "$CPU_LOAD" "$WRK" -t1 "$@" "${URL[$name]}" 2>&1) || die "wrk failed: $out"
  t1=$(cpu_ticks "${CPU_PID[$name]}")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then log "$name: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"; fi
  awk -v cpu=$(((t1 - t0) * TICK_US)) '/^Requests\/sec:/ { rps = $2 } / requests in / { n = $1 }
    END { printf "%s %.1f\n", rps, (n > 0) ? cpu / n : 0 }' <<<"$out"
}
# stime NAME: full handshakes per second from one openssl s_time client
stime() {
  local port=${URL[$1]##*:}
  port=${port%/}
  on "$CPU_LOAD" openssl s_time -connect "127.0.0.1:$port" -new -time "$STIME" 2>/dev/null |
    awk '/ connections in [0-9]+ real seconds/ && $4 > 0 { print $1 / $4 }' | tail -n 1
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

: >"$TMP/results.tsv"
for name in isogate nginx; do on "$CPU_LOAD" "$WRK" -t1 -c"$CONNS" -d1s "${URL[$name]}" >/dev/null 2>&1 || true; done  # warm-up
for run in $(seq "$RUNS"); do
  for name in isogate nginx; do
    echo "$name keepalive $(wrk_rps "$name" -c"$CONNS" -d"$DURATION")" >>"$TMP/results.tsv"
    echo "$name handshake $(wrk_rps "$name" -c"$HS_CONNS" -d"$DURATION" -H 'Connection: close')" >>"$TMP/results.tsv"
    echo "$name s_time $(stime "$name") 0" >>"$TMP/results.tsv"
  done
  log "round $run/$RUNS done"
done

kill -0 "${PIDS[0]}" 2>/dev/null || die "isogate died during the runs: $(tail -n 5 "$TMP/isogate/stderr.log")"

report() {
  echo "| measure | isogate | nginx | isogate / nginx | target |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for m in keepalive handshake s_time; do
    local a b ca cb
    a=$(awk -v m="$m" '$1 == "isogate" && $2 == m { print $3 }' "$TMP/results.tsv" | median)
    b=$(awk -v m="$m" '$1 == "nginx" && $2 == m { print $3 }' "$TMP/results.tsv" | median)
    ca=$(awk -v m="$m" '$1 == "isogate" && $2 == m { print $4 }' "$TMP/results.tsv" | median)
    cb=$(awk -v m="$m" '$1 == "nginx" && $2 == m { print $4 }' "$TMP/results.tsv" | median)
    local label
    case $m in
      keepalive) label="keep-alive req/s (wrk -c$CONNS)" ;;
      handshake) label="new connections/s, full TLS 1.3 handshake each (wrk -c$HS_CONNS, Connection: close)" ;;
      s_time) label="full handshakes/s, one openssl s_time -new client" ;;
    esac
    awk -v l="$label" -v a="$a" -v b="$b" 'BEGIN { printf "| %s | %.0f | %.0f | %.2f | ≥ 0.80 |\n", l, a, b, (b > 0) ? a / b : 0 }'
    if [ "$m" != s_time ]; then
      awk -v l="$m: server CPU µs per request (lower is better)" -v a="$ca" -v b="$cb" \
        'BEGIN { printf "| %s | %.1f | %.1f | %.2f (nginx / isogate) | |\n", l, a, b, (a > 0) ? b / a : 0 }'
    fi
  done
  echo
  echo "Runs: $RUNS interleaved, wrk $DURATION each; medians. Per run (req/s, server CPU µs per request):"
  echo
  for m in keepalive handshake s_time; do
    for name in isogate nginx; do
      printf '    %-9s %-9s %s\n' "$name" "$m" "$(awk -v m="$m" -v n="$name" '$1 == n && $2 == m { printf "%.0f (%.1f us) ", $3, $4 }' "$TMP/results.tsv")"
    done
  done
}
report | tee -a "${BENCH_OUT:-/dev/null}"
extra=$(grep -v -e '^isogate: listening on ' "$TMP/isogate/stderr.log" || true)
[ -z "$extra" ] || { echo; echo "isogate stderr:"; echo "$extra" | tail -n 20; }
