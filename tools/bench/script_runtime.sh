# shellcheck shell=bash disable=SC2034  # sourced by tools/bench/run.sh
# Script-runtime measures that wrk cannot give, run after the wrk scenarios:
#
# Cold start: BENCH_COLD_STARTS fresh `isogate serve` processes (1 worker, the
#   hello script route of scenarios.sh, pinned like the wrk scenarios), each
#   sent BENCH_COLD_REQUESTS sequential curl requests, one new connection each.
#   The first request builds the route's isolate (create isolate + context,
#   install the bindings, compile and evaluate the module) and then calls
#   fetch(). Figures: isogate's own latency_ms from its JSON access log (from
#   the first request byte to the last response byte written, so without TCP
#   connect and curl start-up) and curl's time_starttransfer / time_total;
#   per process the 1st request, the 2nd, the median of the 3rd and later
#   ("steady"), and the differences; medians over the processes.
#
# Per-isolate memory: a process with BENCH_MEM_ROUTES hello script routes
#   /r0 ... /rN-1, each its own file (so each gets its own isolate). VmRSS
#   (and RssAnon) from /proc after start-up, after one request to /r0, after
#   one request to every route; (RSS_all - RSS_1) / (N - 1) is the memory of
#   one more idle hello isolate. Repeated BENCH_MEM_REPEATS times for each
#   "workers" value in BENCH_MEM_WORKERS (0 = one worker per core).

COLD_STARTS=${BENCH_COLD_STARTS:-10}
COLD_REQUESTS=${BENCH_COLD_REQUESTS:-10}
MEM_ROUTES=${BENCH_MEM_ROUTES:-20}
MEM_REPEATS=${BENCH_MEM_REPEATS:-3}
MEM_WORKERS=${BENCH_MEM_WORKERS:-1 0}
MEM_SETTLE=0.3   # seconds to wait before reading RSS

# Targets from the issue.
COLD_TARGET_MS=5
ISOLATE_TARGET_MB=3

# stop_server PID: SIGTERM (isogate drains and flushes its access log), wait,
# and forget the pid.
stop_server() {
  local pid=$1 p keep=()
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=(${keep[@]+"${keep[@]}"})
}

# status_kb PID FIELD: a /proc/PID/status field (VmRSS, RssAnon) in kB.
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# get URL: one request from the load core; prints the status code and
# curl's time_starttransfer in ms.
get() {
  pinned "$CPU_LOAD"
  "${PINNED[@]}" curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_starttransfer}' "$1" |
    awk '{ printf "%s %.3f\n", $1, $2 * 1000 }' || echo "000 0"
}

# ------------------------------------------------------------ cold start ----

cold_start_one() { # cold_start_one I: one fresh process; appends to cold.tsv
  local i=$1 name="cold$1" dir="$TMP/cold$1" pid j line code
  write_script "$name" hello.js "$HELLO_JS"
  BENCH_ACCESS_LOG="$dir/access.log" start_isogate "$name" "$CPU_PROXY" '{
  "listen": ["127.0.0.1:0"],
  "workers": 1,
  "shutdown_grace_ms": 500,
  "kv": { "path": "kv" },
  "routes": [ { "match": { "path": "/*" }, "script": "hello.js" } ]
}'
  pid=${SERVER_PIDS[$name]}
  sleep 0.3   # start-up done; no request has reached the worker yet
  pinned "$CPU_LOAD"
  for j in $(seq "$COLD_REQUESTS"); do
    line=$("${PINNED[@]}" curl -s -o "$dir/body" --max-time 10 \
      -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}' "http://127.0.0.1:$ISOGATE_PORT/") || true
    read -r code _ _ _ <<<"$line"
    if [ "$code" != 200 ] || [ "$(cat "$dir/body"; echo x)" != "${BODY}x" ]; then
      die "cold start: request $j to fresh process $i: status ${code:-none} or wrong body"
    fi
    echo "$i $j $line" >>"$TMP/cold.curl"
  done
  stop_server "$pid"
  # access-log lines are in request order (one connection at a time)
  grep -o '"latency_ms":[0-9.]*' "$dir/access.log" | cut -d: -f2 |
    awk -v i="$i" '{ print i, NR, $1 }' >>"$TMP/cold.lat"
  [ "$(wc -l <"$dir/access.log")" -eq "$COLD_REQUESTS" ] ||
    die "cold start: process $i logged $(wc -l <"$dir/access.log") requests, expected $COLD_REQUESTS"
}

measure_cold_start() {
  [ "$COLD_STARTS" -gt 0 ] || return 0
  [ "$COLD_REQUESTS" -ge 3 ] || die "BENCH_COLD_REQUESTS must be at least 3"
  : >"$TMP/cold.curl"; : >"$TMP/cold.lat"
  log "cold start: $COLD_STARTS fresh isogate processes x $COLD_REQUESTS requests"
  local i
  for i in $(seq "$COLD_STARTS"); do cold_start_one "$i"; done
  # one table: process request latency_ms starttransfer_ms total_ms
  join <(awk '{ print $1 "_" $2, $3 }' "$TMP/cold.lat" | sort) \
       <(awk '{ print $1 "_" $2, $5 * 1000, $6 * 1000 }' "$TMP/cold.curl" | sort) |
    awk '{ split($1, k, "_"); print k[1], k[2], $2, $3, $4 }' | sort -k1,1n -k2,2n >"$TMP/cold.tsv"
  log "cold start: first-request latency_ms per process: $(awk '$2 == 1 { printf "%s ", $3 }' "$TMP/cold.tsv")"
}

cold_start_report() {
  [ -s "$TMP/cold.tsv" ] || return 0
  echo
  echo "**Cold start** ($COLD_STARTS fresh \`isogate serve\` processes, workers 1, hello script route, pinned like the wrk runs; $COLD_REQUESTS sequential curl requests each, new connection each; ms, median over processes, min–max in brackets)"
  echo
  echo "| measure | 1st request | 2nd request | steady (3rd–${COLD_REQUESTS}th) | 1st − 2nd | 1st − steady |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  local f label
  for f in 3:"latency_ms (access log)" 4:"curl time_starttransfer" 5:"curl time_total"; do
    label=${f#*:}
    awk -v c="${f%%:*}" -v label="$label" '
      { v[$1, $2] = $c; if ($1 > np) np = $1; if ($2 > nr) nr = $2 }
      function med(a, n,   i, j, t) {   # median of a[1..n] (sorts a)
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      function cell(a, n,   m) { m = med(a, n); return sprintf("%.3f (%.3f–%.3f)", m, a[1], a[n]) }
      END {
        for (p = 1; p <= np; p++) {
          k = 0; delete s
          for (r = 3; r <= nr; r++) s[++k] = v[p, r]
          steady = med(s, k)
          first[p] = v[p, 1]; second[p] = v[p, 2]; st[p] = steady
          d2[p] = v[p, 1] - v[p, 2]; ds[p] = v[p, 1] - steady
        }
        printf "| %s | %s | %s | %s | %s | %s |\n", label, cell(first, np), cell(second, np), cell(st, np), cell(d2, np), cell(ds, np)
      }' "$TMP/cold.tsv"
  done
  awk -v t="$COLD_TARGET_MS" '
    { v[$1, $2] = $3; if ($1 > np) np = $1 }
    END {
      for (p = 1; p <= np; p++) { a[p] = v[p, 1] - v[p, 2]; b[p] = v[p, 1] }
      n = np
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
      for (i = 2; i <= n; i++) for (j = i; j > 1 && b[j - 1] > b[j]; j--) { x = b[j]; b[j] = b[j - 1]; b[j - 1] = x }
      d = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      f = (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
      printf "\nTarget: cold start < %s ms. Median latency_ms of the 1st request minus the 2nd: %.3f ms, %s; the 1st request alone takes %.3f ms.\n",
        t, d, (d < t) ? "**met**" : sprintf("**MISSED** by %.3f ms (%.1f× the target)", d - t, d / t), f
    }' "$TMP/cold.tsv"
}

# ----------------------------------------------------- per-isolate memory ----

mem_one() { # mem_one WORKERS REP: one process; appends to mem.tsv
  local workers=$1 rep=$2 name="mem_w$1_$2" dir="$TMP/mem_w$1_$2" pid k routes="" code ttfb
  local rss0 rss1 rssn anon0 anon1 anonn
  for k in $(seq 0 $((MEM_ROUTES - 1))); do
    write_script "$name" "r$k.js" "const ROUTE = \"r$k\";
$HELLO_JS"
    routes+="${routes:+,
    }{ \"match\": { \"path\": \"/r$k\" }, \"script\": \"r$k.js\" }"
  done
  BENCH_ACCESS_LOG="$dir/access.log" start_isogate "$name" "$CPU_PROXY" '{
  "listen": ["127.0.0.1:0"],
  "workers": '"$workers"',
  "shutdown_grace_ms": 500,
  "kv": { "path": "kv" },
  "routes": [ '"$routes"' ]
}'
  pid=${SERVER_PIDS[$name]}
  sleep "$MEM_SETTLE"
  rss0=$(status_kb "$pid" VmRSS); anon0=$(status_kb "$pid" RssAnon)
  read -r code ttfb < <(get "http://127.0.0.1:$ISOGATE_PORT/r0")
  [ "$code" = 200 ] || die "memory: /r0 answered $code"
  echo "$workers $rep 0 $ttfb" >>"$TMP/mem.ttfb"
  sleep "$MEM_SETTLE"
  rss1=$(status_kb "$pid" VmRSS); anon1=$(status_kb "$pid" RssAnon)
  for k in $(seq 1 $((MEM_ROUTES - 1))); do
    read -r code ttfb < <(get "http://127.0.0.1:$ISOGATE_PORT/r$k")
    [ "$code" = 200 ] || die "memory: /r$k answered $code"
    echo "$workers $rep $k $ttfb" >>"$TMP/mem.ttfb"
  done
  sleep "$MEM_SETTLE"
  rssn=$(status_kb "$pid" VmRSS); anonn=$(status_kb "$pid" RssAnon)
  stop_server "$pid"
  # latency_ms of each route's first request (by path: with several
  # workers the log lines need not be in request order)
  sed -n 's#.*"path":"/r\([0-9]*\)".*"latency_ms":\([0-9.]*\).*#\1 \2#p' "$dir/access.log" |
    awk -v w="$workers" -v r="$rep" '{ print w, r, $1, $2 }' >>"$TMP/mem.lat"
  echo "$workers $rep $rss0 $rss1 $rssn $anon0 $anon1 $anonn" >>"$TMP/mem.tsv"
  log "memory: workers $workers, process $rep: VmRSS ${rss0} kB at start, ${rss1} kB after 1 isolate, ${rssn} kB after $MEM_ROUTES"
}

measure_isolate_memory() {
  [ "$MEM_ROUTES" -ge 2 ] || return 0
  : >"$TMP/mem.tsv"; : >"$TMP/mem.ttfb"; : >"$TMP/mem.lat"
  local w r
  for w in $MEM_WORKERS; do
    for r in $(seq "$MEM_REPEATS"); do mem_one "$w" "$r"; done
  done
}

isolate_memory_report() {
  [ -s "$TMP/mem.tsv" ] || return 0
  echo
  echo "**Per-isolate memory** ($MEM_ROUTES hello script routes, each its own file; VmRSS of the isogate process ${MEM_SETTLE} s after the requests; $MEM_REPEATS processes per row, median, min–max in brackets)"
  echo
  echo "| workers | RSS at start MB | after 1st isolate MB | after $MEM_ROUTES isolates MB | 1st isolate MB (RSS₁ − RSS₀) | per further idle isolate MB (RSSₙ − RSS₁)/$((MEM_ROUTES - 1)) | same from RssAnon MB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  local w
  for w in $MEM_WORKERS; do
    awk -v w="$w" -v n="$MEM_ROUTES" -v cores="$NPROC" '
      function med(a, k,   i, j, t) {
        for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      function cell(a, k,   m) { m = med(a, k); return (k > 1) ? sprintf("%.2f (%.2f–%.2f)", m, a[1], a[k]) : sprintf("%.2f", m) }
      $1 == w { k++; r0[k] = $3 / 1024; r1[k] = $4 / 1024; rn[k] = $5 / 1024
                first[k] = ($4 - $3) / 1024; per[k] = ($5 - $4) / 1024 / (n - 1); pa[k] = ($8 - $7) / 1024 / (n - 1) }
      END {
        if (!k) exit
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", (w == 0) ? "0 (" cores ")" : w,
          cell(r0, k), cell(r1, k), cell(rn, k), cell(first, k), cell(per, k), cell(pa, k)
      }' "$TMP/mem.tsv"
  done
  awk -v n="$MEM_ROUTES" -v t="$ISOLATE_TARGET_MB" '
    { k++; per[k] = ($5 - $4) / 1024 / (n - 1) }
    END {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && per[j - 1] > per[j]; j--) { x = per[j]; per[j] = per[j - 1]; per[j - 1] = x }
      m = (k % 2) ? per[(k + 1) / 2] : (per[k / 2] + per[k / 2 + 1]) / 2
      printf "\nTarget: an idle hello isolate < %s MB. Median over all processes: %.2f MB per isolate, %s.\n",
        t, m, (m < t) ? "**met**" : sprintf("**MISSED** by %.2f MB (%.1f× the target)", m - t, m / t)
    }' "$TMP/mem.tsv"
  echo
  echo "First request to each route in those processes (sequential curl, new connection each, one route after the other: the 1st and the $((MEM_ROUTES - 1)) that follow it back to back; ms, median over requests, max in brackets):"
  echo
  echo "| workers | 1st route: latency_ms | 1st route: curl time_starttransfer | next routes: latency_ms | next routes: curl time_starttransfer |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for w in $MEM_WORKERS; do
    join <(awk -v w="$w" '$1 == w { print $2 "_" $3, $4 }' "$TMP/mem.lat" | sort) \
         <(awk -v w="$w" '$1 == w { print $2 "_" $3, $4 }' "$TMP/mem.ttfb" | sort) |
      awk -v w="$w" -v cores="$NPROC" '
        function med(a, k,   i, j, t) {
          for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
          return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
        }
        function cell(a, k,   m) { m = med(a, k); return sprintf("%.3f (%.3f)", m, a[k]) }
        { split($1, id, "_"); if (id[2] == 0) { f++; fl[f] = $2; ft[f] = $3 } else { n++; nl[n] = $2; nt[n] = $3 } }
        END { if (f && n) printf "| %s | %s | %s | %s | %s |\n", (w == 0) ? "0 (" cores ")" : w, cell(fl, f), cell(ft, f), cell(nl, n), cell(nt, n) }'
  done
}

# ------------------------------------------------------------------ main ----

script_runtime_measures() {
  measure_cold_start
  measure_isolate_memory
  { cold_start_report; isolate_memory_report; } | tee -a "${BENCH_OUT:-/dev/null}"
}
