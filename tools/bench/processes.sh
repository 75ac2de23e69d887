# shellcheck shell=bash  # sourced by tools/bench/run.sh and tools/bench/tls.sh
# Stops the benchmark's background servers: SIGTERM to all, up to 5 s for
# each to exit, then SIGKILL, and reaps them.
stop_processes() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
