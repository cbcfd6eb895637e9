#!/usr/bin/env bash
# Starts the built Bedside for the browser tests on a fresh SQLite database with the demo
# practice. BEDSIDE_BIN picks the binary (default: the dev build of `cargo leptos build`);
# E2E_DATA the data folder (a second server, whose clock the tests move, has its own).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DATA="${E2E_DATA:-$HERE/.data}"
rm -rf "$DATA" && mkdir -p "$DATA"
export BEDSIDE_DATABASE_URL="sqlite://$DATA/bedside.db?mode=rwc"
export BEDSIDE_DATA_DIR="$DATA"
export BEDSIDE_LISTEN="127.0.0.1:${E2E_PORT:-3100}"
export BEDSIDE_PUBLIC_URL="http://127.0.0.1:${E2E_PORT:-3100}"
export BEDSIDE_CONTACT__MESSAGES_PER_HOUR=1000
# Short enough that the idle warning (two minutes before the end) appears within a test.
export BEDSIDE_SESSIONS__PATIENT_IDLE_MINUTES=3
export BEDSIDE_SIGN_IN__ATTEMPTS_PER_MINUTE=1000
export LEPTOS_SITE_ROOT="$ROOT/target/site"
# The test output shows what the server warns about, not a line per request.
export RUST_LOG="${RUST_LOG:-info,tower_http=warn,sqlx=warn,sea_orm=warn}"
BIN="${BEDSIDE_BIN:-$ROOT/target/debug/bedside}"
cd "$ROOT"
"$BIN" seed-demo
"$BIN" serve &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' TERM INT EXIT
wait "$pid"
