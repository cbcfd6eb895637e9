#!/usr/bin/env bash
# Benchmark of messaging on PostgreSQL (not a timed test): `bedside serve` holds 1,000 open live
# streams while the physician writes at 50 messages a second (p95 from due to heard < 100 ms,
# its resident size < 300 MB), beside plain axum serving the same streams (the outside
# reference), then search over 50,000 messages (p95 < 200 ms).
#
#   bench/messaging.sh        # DATABASE_URL: the local socket if there is one, else 127.0.0.1:5432
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
bench_database_url
export LEPTOS_OUTPUT_NAME=bedside
# 1,000 streams are 2,000 sockets in one process (the server's and the load generator's).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
say "Building and running the messaging benchmark (release)"
# Bedside runs as `target/release/bedside serve`, its own process, beside the load generator.
cargo build --release -p bedside --bin bedside --example bench_messaging
RUST_LOG="${RUST_LOG:-warn}" target/release/examples/bench_messaging | tee "$OUT/messaging-summary.txt"
