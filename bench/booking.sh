#!/usr/bin/env bash
# Benchmark of booking and availability on PostgreSQL (not a timed test): 64 signed-in patients
# book distinct times at once through POST /portal/book against the release build; then 30 days
# of availability are computed 200 times. Prints bookings/s, latency percentiles and the
# availability p95 (targets: >= 300 req/s with p95 < 50 ms; availability p95 < 20 ms).
#
#   bench/booking.sh          # DATABASE_URL: the local socket if there is one, else 127.0.0.1:5432
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
bench_database_url
export LEPTOS_OUTPUT_NAME=bedside
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
say "Building and running the booking benchmark (release)"
RUST_LOG="${RUST_LOG:-warn}" cargo run --release -p bedside --example bench_booking | tee "$OUT/booking-summary.txt"
