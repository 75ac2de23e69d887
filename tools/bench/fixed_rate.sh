# shellcheck shell=bash disable=SC2034  # sourced by tools/bench/run.sh
# Latency at a fixed request rate (BENCH_STAGES has "fixed"), run after the
# wrk stage while its servers are still up.
#
# For each `fixed_rate SUBJECT BASELINE FRACTION MAX_ADDED_P99_MS [REFERENCE...]`
# line of scenarios.sh: the rate is FRACTION x SUBJECT's peak req/s (the
# median of its wrk runs in this invocation; measured here with
# BENCH_FIXED_PEAK_RUNS wrk runs when the wrk stage did not run it), or
# BENCH_FIXED_RATE. Then BASELINE, the REFERENCEs and SUBJECT each get
# BENCH_FIXED_RUNS runs of ratebench (ratebench.c, compiled into the temp dir)
# at that rate, interleaved, BENCH_FIXED_DURATION s each after
# BENCH_FIXED_WARMUP s unrecorded, BENCH_FIXED_CONNECTIONS keep-alive
# connections, pinned like wrk. Latency counts from each request's scheduled
# send time (no coordinated omission) and, separately, from its write().
# Target: SUBJECT's p99 at most MAX_ADDED_P99_MS above BASELINE's.

FIXED_RATES=()
# fixed_rate SUBJECT BASELINE FRACTION MAX_ADDED_P99_MS [REFERENCE...]
fixed_rate() { FIXED_RATES+=("$*"); }

FIXED_RUNS=${BENCH_FIXED_RUNS:-5}
FIXED_DURATION=${BENCH_FIXED_DURATION:-4}
FIXED_WARMUP=${BENCH_FIXED_WARMUP:-1}
FIXED_CONNS=${BENCH_FIXED_CONNECTIONS:-${BENCH_CONNECTIONS:-32}}
FIXED_PEAK_RUNS=${BENCH_FIXED_PEAK_RUNS:-3}
FIXED_SPIN=${BENCH_FIXED_SPIN:-0}

# Scenario names the fixed-rate lines need (set up by run.sh with the others).
fixed_rate_scenarios() {
  local line
  for line in ${FIXED_RATES[@]+"${FIXED_RATES[@]}"}; do
    # shellcheck disable=SC2086
    set -- $line
    echo "$1 $2 ${*:5}"
  done
}

ensure_ratebench() {
  if [ -n "${RATEBENCH_BIN:-}" ]; then RATEBENCH=$RATEBENCH_BIN; return; fi
  RATEBENCH=$TMP/ratebench
  cc -O2 -o "$RATEBENCH" "$here/ratebench.c" || die "cannot compile tools/bench/ratebench.c (needs a C compiler)"
}

# run_ratebench SCENARIO RATE OUTFILE
run_ratebench() {
  local args=(-r "$2" -d "$FIXED_DURATION" -w "$FIXED_WARMUP" -c "$FIXED_CONNS")
  [ "$FIXED_SPIN" != 1 ] || args+=(-s)
  [ -z "${SC_HEADER[$1]:-}" ] || args+=(-H "${SC_HEADER[$1]}")
  pinned "$CPU_LOAD"
  "${PINNED[@]}" "$RATEBENCH" "${args[@]}" "${SC_URL[$1]}" >"$3" 2>&1 ||
    { cat "$3" >&2; die "ratebench failed against $1"; }
}

kv_field() { # kv_field FILE KEY: a key=value field of ratebench's output
  tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'
}

fixed_peak() { # fixed_peak SCENARIO: median wrk req/s (from the wrk stage or measured now)
  local s=$1 vals r
  vals=$( [ -s "$TMP/results.tsv" ] && col "$s" 3 || true)
  if [ -z "$vals" ]; then
    log "fixed: measuring $s's peak ($FIXED_PEAK_RUNS wrk runs of $DURATION)"
    for r in $(seq "$FIXED_PEAK_RUNS"); do
      run_wrk "$s" "$DURATION" "$TMP/fixed.peak.$s.$r.txt"
      parse_wrk "$TMP/fixed.peak.$s.$r.txt" | awk '{ print $1 }' >>"$TMP/fixed.peak.$s"
    done
    vals=$(cat "$TMP/fixed.peak.$s")
  fi
  echo "$vals" | median
}

measure_fixed_rate() {
  local line subject base frac max refs rate peak r s out pid c0 c1 t0 t1 k0 k1 o0 o1 w0 w1 cpu_us cpu_pct other
  [ "${#FIXED_RATES[@]}" -gt 0 ] || return 0
  ensure_ratebench
  : >"$TMP/fixed.tsv"; : >"$TMP/fixed.lines"
  mkdir -p "$TMP/fixed"
  for line in "${FIXED_RATES[@]}"; do
    # shellcheck disable=SC2086
    set -- $line
    subject=$1 base=$2 frac=$3 max=$4; shift 4; refs="$*"
    peak=$(fixed_peak "$subject")
    rate=${BENCH_FIXED_RATE:-$(awk -v p="$peak" -v f="$frac" 'BEGIN { printf "%.0f", p * f }')}
    echo "$subject $base $frac $max $peak $rate $refs" >>"$TMP/fixed.lines"
    log "fixed: $rate req/s ($frac x $subject's peak $peak req/s) for $base $refs $subject: $FIXED_RUNS runs x ${FIXED_DURATION}s, $FIXED_CONNS connections"
    for r in $(seq "$FIXED_RUNS"); do
      for s in $base $refs $subject; do
        out="$TMP/fixed/$subject.$s.$r.txt"
        pid=${SC_PID[$s]}
        t0=$(date +%s%N); c0=$( [ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
        w0=0; w1=0; k0=$(busy_ticks); o0=$(server_ticks); wrk_ticks w0
        run_ratebench "$s" "$rate" "$out"
        t1=$(date +%s%N); c1=$( [ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
        wrk_ticks w1; k1=$(busy_ticks); o1=$(server_ticks)
        read -r cpu_us cpu_pct < <(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$(kv_field "$out" requests)" \
          -v dur="$FIXED_DURATION" -v ns=$((t1 - t0)) -v warm="$FIXED_WARMUP" \
          'BEGIN { printf "%.2f %.0f\n", (n > 0 ? d / hz * 1e6 / (n * (dur + warm) / dur) : 0), d / hz * 1e11 / ns }')
        other=$(awk -v b=$((k1 - k0)) -v own=$((o1 - o0 + w1 - w0)) -v hz="$CLK_TCK" -v ns=$((t1 - t0)) \
          'BEGIN { o = (b - own) / hz * 1e11 / ns; printf "%.0f", (o < 0 ? 0 : o) }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$subject" "$s" "$r" \
          "$(kv_field "$out" achieved)" "$(kv_field "$out" p50_us)" "$(kv_field "$out" p90_us)" \
          "$(kv_field "$out" p99_us)" "$(kv_field "$out" p999_us)" "$(kv_field "$out" max_us)" \
          "$(kv_field "$out" sent_p99_us)" "$(kv_field "$out" lag_p99_us)" \
          "$(kv_field "$out" errors)" "$(kv_field "$out" non2xx)" "$cpu_us" "$cpu_pct" "$other" >>"$TMP/fixed.tsv"
        log "fixed run $r/$FIXED_RUNS $s at $rate req/s: $(cat "$out")"
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then die "$s: server under test (pid $pid) died during a fixed-rate run"; fi
      done
    done
  done
}

fixed_rate_report() {
  [ -s "$TMP/fixed.tsv" ] || return 0
  local subject base frac max peak rate refs s
  while read -r subject base frac max peak rate refs; do
    echo
    echo "**Fixed rate: $rate req/s** ($frac × $subject's peak of $(printf '%.0f' "$peak") req/s; ratebench, $FIXED_CONNS connections, ${FIXED_DURATION} s per run after ${FIXED_WARMUP} s unrecorded, $FIXED_RUNS runs per scenario, interleaved; latency in ms from each request's scheduled send time unless noted; median over runs, min–max in brackets)"
    echo
    echo "| scenario | achieved req/s | p50 | p90 | p99 | p99.9 | max | p99 from write() | generator lag p99 | server CPU µs/req | server CPU % | other load % | errors | non-2xx |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for s in $base $refs $subject; do
      awk -F'\t' -v sub_="$subject" -v s="$s" -v what="$s" '
        function med(x, k,   i, j, t) {
          for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
          return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
        }
        $1 == sub_ && $2 == s { k++; a[k] = $4; p50[k] = $5 / 1000; p90[k] = $6 / 1000; p99[k] = $7 / 1000; p999[k] = $8 / 1000
          mx[k] = $9 / 1000; sp99[k] = $10 / 1000; lag[k] = $11 / 1000; cu[k] = $14; cp[k] = $15; ot[k] = $16; err += $12; non += $13 }
        END {
          if (!k) exit
          m = med(p99, k)
          printf "| %s | %.0f | %.3f | %.3f | %.3f (%.3f–%.3f) | %.3f | %.3f | %.3f | %.3f | %.2f | %.0f | %.0f | %d | %d |\n",
            what, med(a, k), med(p50, k), med(p90, k), m, p99[1], p99[k], med(p999, k), med(mx, k), med(sp99, k), med(lag, k),
            med(cu, k), med(cp, k), med(ot, k), err, non
        }' "$TMP/fixed.tsv"
    done
    echo
    echo "| added over $base at $rate req/s, ms | p50 | p99 | p99, per round (median, min–max) | p99 from write() | target |"
    echo "| --- | ---: | ---: | ---: | ---: | --- |"
    for s in $refs $subject; do
      awk -F'\t' -v sub_="$subject" -v s="$s" -v b="$base" -v max="$max" -v is_subject="$([ "$s" = "$subject" ] && echo 1 || echo 0)" '
        function med(x, k,   i, j, t) {
          for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
          return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
        }
        $1 == sub_ && $2 == s { ka++; a50[ka] = $5; a99[ka] = $7; as99[ka] = $10; r99[$3] = $7 }
        $1 == sub_ && $2 == b { kb++; b50[kb] = $5; b99[kb] = $7; bs99[kb] = $10; q99[$3] = $7 }
        END {
          if (!ka || !kb) exit
          for (r in r99) if (r in q99) { k++; d[k] = (r99[r] - q99[r]) / 1000 }
          d99 = (med(a99, ka) - med(b99, kb)) / 1000; pd = med(d, k)
          t = is_subject ? sprintf("≤ %s ms: %s", max, (d99 <= max + 0) ? "**met**" : sprintf("**MISSED** by %.3f ms", d99 - max)) : "(reference)"
          printf "| %s | %+.3f | %+.3f | %+.3f (%+.3f–%+.3f) | %+.3f | %s |\n", s, (med(a50, ka) - med(b50, kb)) / 1000, d99, pd, d[1], d[k],
            (med(as99, ka) - med(bs99, kb)) / 1000, t
        }' "$TMP/fixed.tsv"
    done
  done <"$TMP/fixed.lines"
}

fixed_rate_measures() {
  measure_fixed_rate
  fixed_rate_report | tee -a "${BENCH_OUT:-/dev/null}"
}
