# shellcheck shell=bash disable=SC2034  # sourced by tools/bench/run.sh
# In-process micro-benchmarks, run after the HTTP stages:
#
# jwt (BENCH_STAGES has "jwt"): JWT verification through env.AUTH.verify()
#   against Node.js on the same keys and tokens. jwt_mint.cjs mints, with
#   jose, an RSA-2048 (RS256) and a P-256 (ES256) key and BENCH_JWT_TOKENS
#   distinct tokens per key. One isogate process (1 worker, jwt_micro.js, a
#   jwks_file binding) and one Node.js process (jwt_node.cjs) are pinned to
#   the server core; curl on the load core asks each for one loop of n calls
#   per request, and the loop is timed inside with performance.now(). Cases,
#   interleaved, BENCH_JWT_RUNS rounds after BENCH_JWT_WARMUP untimed ones:
#     isogate uncached  await env.AUTH.verify(token), a different token each
#                       call, cycling through more tokens than the worker's
#                       caches hold (4096 host-side, 1024 in the isolate;
#                       evicted oldest-first, so a cycle never hits)
#     node crypto       crypto.verify() of the token's signing input and
#                       base64url-decoded signature, KeyObject made once
#     node jose         await jose.jwtVerify(token, key, { issuer, audience,
#                       algorithms }) (jose verifies on libuv's thread pool)
#     isogate cached    the same token every call
#   plus, on the same isolate, await env.LIMITER.limit({ key }) (8 keys, a
#   limit of 1e12 per 60 s) and a bare `await` of a resolved promise (the
#   loop's own cost).
#
# kv (BENCH_STAGES has "kv"): tools/bench/kv_bench (Google Benchmark):
#   Store get, put (sync off and on), RateCounters hit (what limit() does per
#   call) and hitBatch, on 1 and 2 threads, BENCH_KV_REPS repetitions
#   (median), pinned to both benchmark cores, stores under the temp dir.

JWT_TOKENS=${BENCH_JWT_TOKENS:-4500}
JWT_RUNS=${BENCH_JWT_RUNS:-7}
JWT_WARMUP=${BENCH_JWT_WARMUP:-2}
KV_REPS=${BENCH_KV_REPS:-3}

# Loop sizes per request (tens of ms each on this machine).
JWT_N_RS=2000
JWT_N_ES=800
JWT_N_CACHED=500000
JWT_N_LIMIT=100000
JWT_N_AWAIT=500000

# Targets from the issues.
JWT_UNCACHED_MAX_RATIO=1.2      # isogate uncached µs/verify <= 1.2 x Node.js crypto.verify
JWT_CACHED_MIN_RATE=1000000     # cached verifies/s on one core
KV_GET_MIN_RATE=1000000         # per core
KV_PUT_MIN_RATE=100000
KV_LIMIT_MIN_RATE=300000        # per core

# ---------------------------------------------------------------- jwt ------

JWT_CASES="iso_rs node_rs jose_rs iso_es node_es jose_es iso_rs_cached iso_es_cached iso_limit iso_await"
declare -A JWT_WHAT=(
  [iso_rs]="isogate RS256, uncached: await env.AUTH.verify(token)"
  [node_rs]="Node.js RS256: crypto.verify(signing input)"
  [jose_rs]="Node.js RS256: await jose.jwtVerify()"
  [iso_es]="isogate ES256, uncached: await env.AUTH.verify(token)"
  [node_es]="Node.js ES256: crypto.verify(signing input)"
  [jose_es]="Node.js ES256: await jose.jwtVerify()"
  [iso_rs_cached]="isogate RS256, cached (same token)"
  [iso_es_cached]="isogate ES256, cached (same token)"
  [iso_limit]="isogate: await env.LIMITER.limit({ key })"
  [iso_await]="isogate: await of a resolved promise (loop cost)"
)

jwt_case_url() { # jwt_case_url CASE -> URL
  local i="http://127.0.0.1:$JWT_ISO_PORT" n="http://127.0.0.1:$JWT_NODE_PORT"
  case $1 in
    iso_rs) echo "$i/?mode=uncached&alg=RS256&n=$JWT_N_RS" ;;
    node_rs) echo "$n/?impl=crypto&alg=RS256&n=$JWT_N_RS" ;;
    jose_rs) echo "$n/?impl=jose&alg=RS256&n=$JWT_N_RS" ;;
    iso_es) echo "$i/?mode=uncached&alg=ES256&n=$JWT_N_ES" ;;
    node_es) echo "$n/?impl=crypto&alg=ES256&n=$JWT_N_ES" ;;
    jose_es) echo "$n/?impl=jose&alg=ES256&n=$JWT_N_ES" ;;
    iso_rs_cached) echo "$i/?mode=cached&alg=RS256&n=$JWT_N_CACHED" ;;
    iso_es_cached) echo "$i/?mode=cached&alg=ES256&n=$JWT_N_CACHED" ;;
    iso_limit) echo "$i/?mode=limit&n=$JWT_N_LIMIT" ;;
    iso_await) echo "$i/?mode=await&n=$JWT_N_AWAIT" ;;
  esac
}

start_jwt_servers() {
  local dir="$TMP/jwt_micro" pid attempt port
  need_jwt_material
  mkdir -p "$dir"
  cp "$here/jwt_micro.js" "$JWT_DIR/tokens.js" "$JWT_DIR/jwks.json" "$dir/"
  start_isogate jwt_micro "$CPU_PROXY" '{
  "listen": ["127.0.0.1:0"],
  "workers": 1,
  "shutdown_grace_ms": 500,
  "limits": { "cpu_ms": 10000, "wall_ms": 60000, "startup_ms": 10000, "memory_mb": 256 },
  "kv": { "path": "kv" },
  "routes": [ { "match": { "path": "/*" }, "script": "jwt_micro.js",
    "bindings": {
      "AUTH": { "type": "jwt", "jwks_file": "jwks.json", "algorithms": ["RS256", "ES256"],
                "issuer": "https://auth.example.com", "audience": "api" },
      "LIMITER": { "type": "ratelimit", "limit": 1000000000000, "period": 60 } } } ]
}'
  JWT_ISO_PORT=$ISOGATE_PORT
  JWT_ISO_PID=${SERVER_PIDS[jwt_micro]}
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    pinned "$CPU_PROXY"
    PORT=$port JOSE=$JOSE_DIR "${PINNED[@]}" "$NODE" "$here/jwt_node.cjs" "$JWT_DIR" \
      >"$dir/node.stdout.log" 2>"$dir/node.stderr.log" &
    pid=$!
    if wait_http "http://127.0.0.1:$port/" "$pid"; then
      PIDS+=("$pid"); SERVER_PIDS["jwt_node"]=$pid
      JWT_NODE_PORT=$port; JWT_NODE_PID=$pid
      log "jwt: node $("$NODE" --version) pid $pid on 127.0.0.1:$port$(pin_note "$CPU_PROXY")"
      return 0
    fi
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    log "jwt: node did not start (attempt $attempt): $(tail -n 2 "$dir/node.stderr.log" | tr '\n' ' ')"
  done
  die "jwt: node reference failed to start; see $dir/node.stderr.log"
}

# jwt_request CASE -> "n ok ms" (dies on a bad answer)
jwt_request() {
  local url body
  url=$(jwt_case_url "$1")
  pinned "$CPU_LOAD"
  body=$("${PINNED[@]}" curl -s --max-time 120 "$url") || die "jwt: $1: request failed ($url)"
  awk -v b="$body" -v c="$1" 'BEGIN {
    if (!match(b, /"n":[0-9]+/)) { print "bad answer for " c ": " b > "/dev/stderr"; exit 1 }
    n = substr(b, RSTART + 4, RLENGTH - 4)
    match(b, /"ok":[0-9]+/); ok = substr(b, RSTART + 5, RLENGTH - 5)
    match(b, /"ms":[0-9.e+-]+/); ms = substr(b, RSTART + 5, RLENGTH - 5)
    if (ok != n) { print "jwt: " c ": only " ok " of " n " calls succeeded: " b > "/dev/stderr"; exit 1 }
    print n, ok, ms }' || die "jwt: $1: unexpected answer"
}

# shell_ticks VAR: CPU ticks of this shell and every child it has waited for
# (curl, awk, date...), from `times`, which must run in this shell.
shell_ticks() {
  times >"$TMP/times"
  printf -v "$1" '%s' "$(awk -v hz="$CLK_TCK" '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } } END { printf "%.0f", s * hz }' "$TMP/times")"
}

measure_jwt() {
  : >"$TMP/jwt.tsv"
  start_jwt_servers
  local r c n ok ms k0 k1 o0 o1 t0 t1 s0=0 s1=0 other rows out
  log "jwt: $JWT_WARMUP untimed + $JWT_RUNS timed rounds of: $JWT_CASES"
  for r in $(seq $((JWT_WARMUP + JWT_RUNS))); do
    # other load per round (a request is too short for clock ticks): the
    # benchmark cores' busy time minus isogate's, Node's and this shell's
    # (with its children: curl, awk, ...)
    rows=
    t0=$(date +%s%N); k0=$(busy_ticks); o0=$(ticks_of "$JWT_ISO_PID" "$JWT_NODE_PID"); shell_ticks s0
    for c in $JWT_CASES; do
      out=$(jwt_request "$c") || die "jwt: case $c failed"
      read -r n ok ms <<<"$out"
      rows+="$c $n $ms"$'\n'
    done
    t1=$(date +%s%N); k1=$(busy_ticks); o1=$(ticks_of "$JWT_ISO_PID" "$JWT_NODE_PID"); shell_ticks s1
    [ "$r" -gt "$JWT_WARMUP" ] || continue
    other=$(awk -v b=$((k1 - k0)) -v own=$((o1 - o0 + s1 - s0)) -v hz="$CLK_TCK" -v ns=$((t1 - t0)) \
      'BEGIN { o = (b - own) / hz * 1e11 / ns; printf "%.0f", (o < 0 ? 0 : o) }')
    while read -r c n ms; do
      [ -n "$c" ] || continue
      printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$((r - JWT_WARMUP))" "$n" "$ms" "$other" >>"$TMP/jwt.tsv"
    done <<<"$rows"
    [ "$r" -le "$JWT_WARMUP" ] ||
      log "jwt round $((r - JWT_WARMUP))/$JWT_RUNS: µs per call $(awk -v r=$((r - JWT_WARMUP)) '$2 == r { printf "%s %.3f  ", $1, $4 * 1000 / $3 }' "$TMP/jwt.tsv"); other load $other%"
  done
  stop_server "$JWT_ISO_PID"
  stop_server "$JWT_NODE_PID"
}

jwt_report() {
  [ -s "$TMP/jwt.tsv" ] || return 0
  echo
  echo "**JWT verify** (one isogate worker and one Node.js process on cpu $CPU_PROXY; each request runs one loop timed with performance.now(); $JWT_RUNS rounds, interleaved; median, min–max in brackets; $JWT_TOKENS distinct tokens per algorithm, RSA 2048 / P-256)"
  echo
  echo "| case | calls per request | µs per call | calls/s (one core) | other load % (per round) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  local c
  for c in $JWT_CASES; do
    awk -v c="$c" -v what="${JWT_WHAT[$c]}" -F'\t' '
      function med(a, k,   i, j, t) {
        for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      $1 == c { k++; us[k] = $4 * 1000 / $3; o[k] = $5; n = $3 }
      END {
        if (!k) exit
        m = med(us, k); mo = med(o, k)
        printf "| %s | %d | %.3f (%.3f–%.3f) | %.0f | %.0f |\n", what, n, m, us[1], us[k], 1e6 / m, mo
      }' "$TMP/jwt.tsv"
  done
  echo
  # ratios: median of the per-round ratios, and ratio of the medians
  local a b label
  echo "| ratio (µs per call) | of medians | per round: median (min–max) | target |"
  echo "| --- | ---: | ---: | --- |"
  for pair in "iso_rs node_rs" "iso_rs jose_rs" "iso_es node_es" "iso_es jose_es"; do
    # shellcheck disable=SC2086
    set -- $pair
    a=$1; b=$2
    label="${JWT_WHAT[$a]%%:*} / ${JWT_WHAT[$b]}"
    awk -v a="$a" -v b="$b" -v label="$label" -v target="$JWT_UNCACHED_MAX_RATIO" -F'\t' '
      function med(x, k,   i, j, t) {
        for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
        return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
      }
      $1 == a { ua[$2] = $4 * 1000 / $3 } $1 == b { ub[$2] = $4 * 1000 / $3 }
      END {
        for (r in ua) if (r in ub) { k++; q[k] = ua[r] / ub[r] }
        i = 0; for (r in ua) va[++i] = ua[r]; na = i
        i = 0; for (r in ub) vb[++i] = ub[r]; nb = i
        m = med(va, na) / med(vb, nb); pr = med(q, k)
        t = (b ~ /^node_/) ? sprintf("≤ %s: %s", target, (m <= target + 0) ? "**met**" : sprintf("**MISSED** (needs −%.0f%% µs/verify)", (1 - target / m) * 100)) : "(second reference)"
        printf "| %s | %.3f | %.3f (%.3f–%.3f) | %s |\n", label, m, pr, q[1], q[k], t
      }' "$TMP/jwt.tsv"
  done
  awk -v target="$JWT_CACHED_MIN_RATE" -F'\t' '
    function med(x, k,   i, j, t) {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
      return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
    }
    $1 == "iso_rs_cached" { rs[++a] = $4 * 1000 / $3 } $1 == "iso_es_cached" { es[++b] = $4 * 1000 / $3 }
    END {
      if (!a || !b) exit
      r = 1e6 / med(rs, a); e = 1e6 / med(es, b); lo = (r < e) ? r : e
      printf "\nTarget: cached verify ≥ %.0f/s per core. RS256 %.0f/s, ES256 %.0f/s: %s.\n", target, r, e,
        (lo >= target) ? "**met**" : sprintf("**MISSED** (%.2f× the target)", lo / target)
    }' "$TMP/jwt.tsv"
  awk -v target="$KV_LIMIT_MIN_RATE" -F'\t' '
    function med(x, k,   i, j, t) {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
      return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
    }
    $1 == "iso_limit" { l[++a] = $4 * 1000 / $3 } $1 == "iso_await" { w[++b] = $4 * 1000 / $3 }
    END {
      if (!a) exit
      r = 1e6 / med(l, a)
      printf "\nlimit() through the binding, in the isolate: %.0f/s on one core (%.3f µs per call, of which %.3f µs is the loop and its await); target for limit() ≥ %.0f/s per core: %s (kv_bench below has RateCounters::hit alone).\n",
        r, med(l, a), (b ? med(w, b) : 0), target, (r >= target) ? "**met**" : sprintf("**MISSED** (%.2f× the target)", r / target)
    }' "$TMP/jwt.tsv"
}

# ----------------------------------------------------------------- kv ------

ensure_kv_bench() {
  if [ -n "${KV_BENCH_BIN:-}" ]; then
    KV_BENCH=$KV_BENCH_BIN
  else
    log "building kv_bench (tools/build.sh --target kv_bench)"
    "$root/tools/build.sh" --target kv_bench >&2
    KV_BENCH=$root/build/tools/bench/kv_bench
  fi
  [ -x "$KV_BENCH" ] || die "kv_bench not found at $KV_BENCH"
}

measure_kv() {
  local cpus="$CPU_LOAD,$CPU_PROXY" t0 t1 k0 k1 s0=0 s1=0
  mkdir -p "$TMP/kv_bench"
  log "kv: $KV_BENCH, $KV_REPS repetitions$( [ "$PIN" = 1 ] && echo ", cpus $cpus")"
  pinned "$cpus"
  t0=$(date +%s%N); k0=$(busy_ticks); shell_ticks s0
  TMPDIR="$TMP/kv_bench" "${PINNED[@]}" "$KV_BENCH" --benchmark_repetitions="$KV_REPS" \
    --benchmark_report_aggregates_only=true --benchmark_format=csv \
    >"$TMP/kv_bench.csv" 2>"$TMP/kv_bench.stderr" || { cat "$TMP/kv_bench.stderr" >&2; die "kv_bench failed"; }
  t1=$(date +%s%N); k1=$(busy_ticks); shell_ticks s1
  # other load: the two cores' busy time minus kv_bench's (and this shell's),
  # in % of one core, over the whole run
  KV_OTHER=$(awk -v b=$((k1 - k0)) -v own=$((s1 - s0)) -v hz="$CLK_TCK" -v ns=$((t1 - t0)) \
    'BEGIN { o = (b - own) / hz * 1e11 / ns; printf "%.0f", (o < 0 ? 0 : o) }')
  # name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,...
  # the medians with repetitions, the plain rows without
  awk -F, -v reps="$KV_REPS" 'NR > 1 { n = $1; gsub(/"/, "", n)
      if (reps > 1) { if (n !~ /_median$/) next; sub(/_median$/, "", n) }
      else if (n ~ /_(mean|median|stddev|cv)$/) next
      print n, $7 }' "$TMP/kv_bench.csv" >"$TMP/kv.tsv"
  [ -s "$TMP/kv.tsv" ] || { cat "$TMP/kv_bench.csv" >&2; die "kv: no results parsed"; }
}

kv_report() {
  [ -s "$TMP/kv.tsv" ] || return 0
  local fs
  fs=$(df -PT "$TMP" | awk 'NR == 2 { print $2 " on " $1 }')
  echo
  echo "**KV store and rate counters in-process** (kv_bench, Google Benchmark, median of $KV_REPS repetitions; $( [ "$PIN" = 1 ] && echo "pinned to cpus $CPU_LOAD,$CPU_PROXY" || echo "unpinned"); stores in the temp dir, $fs; 100 000 keys of 100-byte values; other load during the run ${KV_OTHER:-?} %)"
  echo
  echo "| operation | 1 thread ops/s | 2 threads ops/s (total) | 2 threads per core | target | verdict |"
  echo "| --- | ---: | ---: | ---: | --- | --- |"
  awk -v get="$KV_GET_MIN_RATE" -v put="$KV_PUT_MIN_RATE" -v lim="$KV_LIMIT_MIN_RATE" '
    { split($1, p, "/threads:"); base = p[1]; th = p[2]; sub(/\/real_time/, "", base); v[base, th] = $2; if (!(base in seen)) { seen[base] = 1; order[++n] = base } }
    function label(b) {
      if (b == "BM_Get") return "get (Store::get)"
      if (b == "BM_Put/sync:0") return "put, sync off (up to 1024 in flight per thread)"
      if (b == "BM_Put/sync:1") return "put, sync on (up to 1024 in flight per thread)"
      if (b == "BM_CounterHit") return "limit(): RateCounters::hit, one key per call"
      if (b == "BM_CounterHitBatch/batch:64") return "RateCounters::hitBatch, 64 keys per transaction (per key)"
      return b
    }
    END {
      for (i = 1; i <= n; i++) {
        b = order[i]; one = v[b, 1]; two = v[b, 2]; per = two / 2
        t = "–"; verdict = ""
        if (b == "BM_Get") { t = sprintf("≥ %.0f/s per core", get); ok = (one >= get && per >= get) }
        else if (b ~ /^BM_Put/) { t = sprintf("≥ %.0f/s", put); ok = (one >= put) }
        else if (b == "BM_CounterHit") { t = sprintf("≥ %.0f/s per core", lim); ok = (one >= lim && per >= lim) }
        if (t != "–") verdict = ok ? "**met**" : "**MISSED**"
        printf "| %s | %.0f | %.0f | %.0f | %s | %s |\n", label(b), one, two, per, t, verdict
      }
    }' "$TMP/kv.tsv"
  echo
  echo "Per core with 2 threads = total / 2 (both threads on their own core). put: the writer thread group-commits; the benchmark thread only queues, so ops/s is the writer's commit rate."
}

micro_measures() {
  if has_stage jwt; then measure_jwt; fi
  if has_stage kv; then measure_kv; fi
  { jwt_report; kv_report; } | tee -a "${BENCH_OUT:-/dev/null}"
}
