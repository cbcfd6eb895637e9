#!/usr/bin/env bash
# Benchmark of the public website (not a timed test): serves the release build with the demo
# practice and loads the home page, the memberships page and a static-HTML route of the same
# size from the same binary (the baseline) with oha at 50 connections. Prints req/s,
# p50/p95/p99, the page/baseline ratio, and the brotli size of the JS+WASM a public page loads.
#
#   bench/run.sh            # 10 s per route
#   DURATION=30s bench/run.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
PORT="${BENCH_PORT:-3200}"
OUT="$ROOT/bench/results"
mkdir -p "$OUT"

ensure_build_tools
if ! command -v oha >/dev/null 2>&1; then
  say "Installing oha (HTTP load generator)"
  cargo install oha --locked
fi
say "Building the release binary"
cargo leptos build --release

DATA="$(mktemp -d)"
server_pid=""
stop_server() { if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
trap 'stop_server; rm -rf "$DATA"' EXIT
start_server() {
  BEDSIDE_DATABASE_URL="sqlite://$DATA/bedside.db?mode=rwc" BEDSIDE_DATA_DIR="$DATA" BEDSIDE_LISTEN="127.0.0.1:$PORT" \
    BEDSIDE_LOG_FORMAT=json RUST_LOG=warn "$@" ./target/release/bedside serve >"$DATA/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start:" >&2; cat "$DATA/server.log" >&2; exit 1
}

BEDSIDE_DATABASE_URL="sqlite://$DATA/bedside.db?mode=rwc" BEDSIDE_DATA_DIR="$DATA" ./target/release/bedside seed-demo >/dev/null
# The baseline is the home page's own HTML, served as a static route by the same binary.
start_server env
curl -fsS "http://127.0.0.1:$PORT/" -o "$DATA/baseline.html"
stop_server
start_server env BEDSIDE_BENCH_BASELINE_FILE="$DATA/baseline.html"

for pair in home:/ memberships:/memberships baseline:/__baseline; do
  name="${pair%%:*}" route="${pair#*:}"
  say "oha: $route for $DURATION at $CONNECTIONS connections"
  oha -z "$DURATION" -c "$CONNECTIONS" --no-tui --output-format json "http://127.0.0.1:$PORT$route" >"$OUT/$name.json"
done

# The JS and WASM a public page loads: every script and preload it references.
curl -fsS "http://127.0.0.1:$PORT/" -o "$DATA/home.html"
node "$ROOT/bench/report.mjs" "$OUT" "$DATA/home.html" "http://127.0.0.1:$PORT" | tee "$OUT/summary.txt"
