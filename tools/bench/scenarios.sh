# shellcheck shell=bash disable=SC2034  # variables are used by run.sh
# Benchmark scenarios, sourced by tools/bench/run.sh.
#
# Adding a scenario NAME:
#   1. write setup_NAME: start what it needs with the helpers from run.sh
#        need_origin                      the shared nginx origin (ORIGIN_URL)
#        start_nginx NAME CPU 'http block'  (@PORT@ = its port) -> NGINX_PORT
#        start_isogate NAME CPU 'config json' (listen 127.0.0.1:0) -> ISOGATE_PORT
#        pinned CPU; "${PINNED[@]}" cmd &  for anything else; add $! to PIDS
#      pin the server under test to "$CPU_PROXY", helpers to "$CPU_LOAD";
#      then call: register NAME "what it is" URL "expected body" [server name]
#   2. add NAME to DEFAULT_SCENARIOS (the order is the interleaving order);
#   3. optionally add a target: compare SUBJECT REFERENCE BASELINE MIN_RPS_RATIO MAX_P99_DIFF_MS
# Every endpoint must answer GET with status 200 and exactly the expected body
# (checked once with curl before timing).

DEFAULT_SCENARIOS="direct nginx isogate"

BODY=$'hello, world\n'   # 13 bytes, served by the origin

# The origin: nginx, 1 worker, `return 200` of a fixed body, no access log.
# Shares the load core with wrk.
need_origin() {
  [ -z "${ORIGIN_URL:-}" ] || return 0
  start_nginx origin "$CPU_LOAD" '
  access_log off;
  server {
    listen 127.0.0.1:@PORT@;
    keepalive_requests 1000000;
    location / { default_type text/plain; return 200 "hello, world\n"; }
  }'
  ORIGIN_PORT=$NGINX_PORT
  ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT"
}

# (a) wrk straight at the origin: the floor for latency.
setup_direct() {
  need_origin
  register direct "nginx origin, no proxy" "$ORIGIN_URL/" "$BODY" origin
}

# (b) nginx reverse proxy, 1 worker, upstream keepalive.
setup_nginx() {
  need_origin
  local access_log='access_log off;'
  [ "${BENCH_NGINX_PROXY_ACCESS_LOG:-0}" != 1 ] ||
    access_log='access_log /dev/null combined buffer=64k flush=100ms;'
  start_nginx nginx_proxy "$CPU_PROXY" "
  $access_log
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:@PORT@;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"
  register nginx "nginx proxy_pass, keepalive 64" "http://127.0.0.1:$NGINX_PORT/" "$BODY" nginx_proxy
}

# (c) isogate native proxy route, 1 worker, JSON access log on (to /dev/null
# unless BENCH_ACCESS_LOG names a file).
setup_isogate() {
  need_origin
  start_isogate isogate "$CPU_PROXY" '{
  "listen": ["127.0.0.1:0"],
  "workers": 1,
  "shutdown_grace_ms": 500,
  "kv": { "path": "kv" },
  "origins": { "origin": { "url": "'"$ORIGIN_URL"'" } },
  "routes": [ { "match": { "path": "/*" }, "proxy": { "origin": "origin" } } ]
}'
  register isogate "isogate proxy route, 1 worker" "http://127.0.0.1:$ISOGATE_PORT/" "$BODY" isogate
}

# Targets from the issue: isogate >= 0.9x nginx's req/s, p99 within 0.3 ms of
# nginx's (the added p99 column is relative to the direct run).
compare isogate nginx direct 0.90 0.3
