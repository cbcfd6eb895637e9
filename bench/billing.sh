#!/usr/bin/env bash
# Benchmark of enrollment and payment webhooks on PostgreSQL (not a timed test): 400
# enrollments, 16 at a time (password hashing excluded), then 4,000 signed invoice.paid events
# from 32 connections against the release build. Prints enrollment latency percentiles
# (target: p95 < 150 ms) and webhook events/s (target: >= 500 events/s).
#
#   bench/billing.sh          # DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export LEPTOS_OUTPUT_NAME=bedside
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
say "Building and running the billing benchmark (release)"
RUST_LOG="${RUST_LOG:-warn}" cargo run --release -p bedside --example bench_billing | tee "$OUT/billing-summary.txt"
