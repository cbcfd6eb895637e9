#!/usr/bin/env bash
# Installs what the tests need and runs every test: formatting and lints, unit and property
# tests, integration tests on SQLite and on PostgreSQL (all from one fixed instant), the
# calendar matrix (the time-sensitive suites from many instants), then the browser tests.
#
# PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must let us
# create databases; each test creates its own and drops it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# The Redis session store is tested against this server (CI runs one at 127.0.0.1:6379).
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
# cargo-leptos compiles the server with this set; `cargo test` sets it too, so both share one build.
export LEPTOS_OUTPUT_NAME=bedside
# On a clean clone (CI) nothing is rebuilt incrementally, so incremental caches would only fill
# the disk (they are several GB for the Leptos crates; a CI run once ran out of space).
if [ ! -d target ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi
say "Disk space before the build: $(df -h --output=avail . | tail -1 | tr -d ' ') free"
trap 'status=$?; [ -z "${S3_PID:-}" ] || kill "$S3_PID" 2>/dev/null; [ $status -eq 0 ] || say "Failed (exit $status); disk space now: $(df -h --output=avail . | tail -1 | tr -d " ") free"' EXIT

ensure_build_tools
ensure_chromium
ensure_end2end_packages
ensure_python_tools

say "Checking formatting"
cargo fmt --all -- --check

say "Lints (clippy, warnings are errors)"
cargo clippy -p bedside -p bedside-app -p bedside-migrations --all-targets -- -D warnings
cargo clippy -p bedside-frontend --target wasm32-unknown-unknown -- -D warnings

say "Import circles between source files (DECISIONS #59)"
python3 scripts/import-circles.py app/src
python3 scripts/import-circles.py server/src

# The storage tests run against a real S3-compatible server as well as the local folder.
start_s3
say "Unit, property and integration tests (SQLite and PostgreSQL at ${DATABASE_URL%%@*}@…)"
cargo test -p bedside -p bedside-app -p bedside-migrations --features bedside-app/ssr

say "Calendar matrix: the time-sensitive suites from many starting instants (SQLite)"
./scripts/calendar-matrix.sh

say "Building the site for the browser tests"
cargo leptos build

say "Browser tests (Chromium)"
(cd end2end && npx playwright test)
