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

DEFAULT_SCENARIOS="direct nginx isogate script_proxy node script"

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

# The script runtime. Scripts are written next to the scenario's config (paths
# in the config are relative to it). Same settings as the native proxy route:
# 1 worker, JSON access log on.
HELLO_JS='export default { async fetch() { return new Response("hello, world\n"); } }'
PROXY_JS='export default { fetch(request, env) { return env.ORIGIN.fetch(request); } }'

# write_script SCENARIO FILE SOURCE: puts a script into the scenario's dir.
write_script() {
  mkdir -p "$TMP/$1"
  printf '%s\n' "$3" >"$TMP/$1/$2"
}

# (d) isogate script route that proxies to the origin from JavaScript:
# env.ORIGIN.fetch(request), an origin binding (pooled origin connections).
setup_script_proxy() {
  need_origin
  write_script script_proxy proxy.js "$PROXY_JS"
  start_isogate script_proxy "$CPU_PROXY" '{
  "listen": ["127.0.0.1:0"],
  "workers": 1,
  "shutdown_grace_ms": 500,
  "kv": { "path": "kv" },
  "origins": { "o": { "url": "'"$ORIGIN_URL"'" } },
  "routes": [ { "match": { "path": "/*" }, "script": "proxy.js",
                "bindings": { "ORIGIN": { "type": "origin", "origin": "o" } } } ]
}'
  register script_proxy "isogate script route, env.ORIGIN.fetch(request)" \
    "http://127.0.0.1:$ISOGATE_PORT/" "$BODY" script_proxy
}

# (e) Node.js http.createServer, one process (one JS thread), answering with
# the same body and the same headers as isogate's hello script route
# (Content-Type text/plain;charset=UTF-8, Content-Length, Date, a random
# X-Request-ID; Node also sends Connection and Keep-Alive). No access log.
NODE_JS='
const http = require("http");
const { randomUUID } = require("crypto");
const body = Buffer.from("hello, world\n");
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain;charset=UTF-8",
                       "X-Request-ID": randomUUID(), "Content-Length": body.length });
  res.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1");
'
setup_node() {
  local dir="$TMP/node" attempt pid port
  if [ -z "$NODE" ] || [ ! -x "$NODE" ]; then die "node not found (set NODE_BIN)"; fi
  mkdir -p "$dir"
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    pinned "$CPU_PROXY"
    PORT=$port "${PINNED[@]}" "$NODE" -e "$NODE_JS" >"$dir/stdout.log" 2>"$dir/stderr.log" &
    pid=$!
    if wait_http "http://127.0.0.1:$port/" "$pid"; then
      PIDS+=("$pid"); SERVER_PIDS["node"]=$pid
      log "node: $("$NODE" --version) pid $pid on 127.0.0.1:$port$(pin_note "$CPU_PROXY")"
      register node "Node.js http.createServer, 1 process" "http://127.0.0.1:$port/" "$BODY" node
      return 0
    fi
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    log "node: did not start (attempt $attempt): $(tail -n 2 "$dir/stderr.log" | tr '\n' ' ')"
  done
  die "node failed to start; see $dir/stderr.log"
}

# (f) isogate hello-world script route, 1 worker.
setup_script() {
  write_script script hello.js "$HELLO_JS"
  start_isogate script "$CPU_PROXY" '{
  "listen": ["127.0.0.1:0"],
  "workers": 1,
  "shutdown_grace_ms": 500,
  "kv": { "path": "kv" },
  "routes": [ { "match": { "path": "/*" }, "script": "hello.js" } ]
}'
  register script "isogate hello script route, 1 worker" "http://127.0.0.1:$ISOGATE_PORT/" "$BODY" script
}

# Targets from the issues: the native proxy route >= 0.9x nginx's req/s, p99
# within 0.3 ms of nginx's; the script proxy >= 0.7x nginx's req/s; the hello
# script >= 2x Node.js's req/s (no p99 target: "-"). The added p99 column is
# relative to the direct run.
compare isogate nginx direct 0.90 0.3
compare script_proxy nginx direct 0.70 -
compare script node direct 2.00 -
