#!/usr/bin/env bash
# Page-render soak (not a timed test): renders the demo patient's, physician's and admin's
# signed-in pages 100,000 times from 32 connections against the release build on SQLite, and
# fails if any render took over a second or failed (DECISIONS #33: the stalled render).
#
#   bench/render.sh                          # 100,000 renders at 32 connections
#   RENDERS=20000 CONNECTIONS=64 bench/render.sh
#   BUILD_APPS_MEANWHILE=1 bench/render.sh   # while other applications are built in the process
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
export LEPTOS_OUTPUT_NAME=bedside
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
say "Building and running the render soak (release)"
RUST_LOG="${RUST_LOG:-warn}" cargo run --release -p bedside --example bench_render | tee "$OUT/render-summary.txt"
