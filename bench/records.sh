#!/usr/bin/env bash
# Benchmark of the medical record on PostgreSQL (not a timed test): the demo physician fetches
# the demo patients' charts (session, policy, every entry decrypted, one audit entry each) from
# 64 connections through POST /api/records/chart against the release build, side by side with a
# plain axum server answering the same bytes; then a 25 MB PDF is uploaded and downloaded and
# the process's peak memory measured around each. Prints req/s, latency percentiles, the share
# of plain axum's rate, and the memory figures (targets: >= 1,500 req/s with p95 < 20 ms at 64
# connections; each 25 MB transfer raises the peak resident size by < 32 MB).
#
#   bench/records.sh          # DATABASE_URL: the local socket if there is one, else 127.0.0.1:5432
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
bench_database_url
export LEPTOS_OUTPUT_NAME=bedside
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
say "Building and running the records benchmark (release)"
RUST_LOG="${RUST_LOG:-warn}" cargo run --release -p bedside --example bench_records | tee "$OUT/records-summary.txt"
