# Shared helpers for scripts/run.sh, scripts/test.sh and bench/run.sh: each tool is installed
# only when the right version is missing, so a second run is quick.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/tools/node_modules/.bin:$PATH"
CARGO_LEPTOS_VERSION="0.3.8"

say() { printf '\033[1;36m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes on 2 cores, once)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  fi
}

ensure_wasm_bindgen_cli() {
  local version; version="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $version\$"; then
    say "Installing wasm-bindgen-cli $version (matches Cargo.lock)"
    # Without --locked: the CLI's own lockfile names a crate version the registry lacks.
    cargo install wasm-bindgen-cli --version "$version" --force
  fi
}

# wasm-opt (from the npm package binaryen, pinned in tools/package-lock.json) for release builds.
ensure_wasm_opt() {
  if [ ! -x "$ROOT/tools/node_modules/.bin/wasm-opt" ]; then
    say "Installing wasm-opt (npm package binaryen)"
    npm ci --prefix "$ROOT/tools" --no-audit --no-fund
  fi
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen_cli
  ensure_wasm_opt
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "Installing Debian's chromium for the browser tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
}

ensure_end2end_packages() {
  local stamp="$ROOT/end2end/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
    say "Installing the browser tests' npm packages (from end2end/package-lock.json)"
    npm ci --prefix "$ROOT/end2end" --no-audit --no-fund
  fi
}

# The test servers and checkers that come from PyPI, in a venv of their own (pinned in
# tools/requirements-test.txt): moto's S3-compatible server; and the FHIR checker in a second one
# (tools/requirements-checkers.txt: FHIR and JOSE; the FHIR models need pydantic 1, moto 2).
PY_TOOLS="$ROOT/tools/.venv"
CHECK_TOOLS="$ROOT/tools/.venv-checkers"
ensure_python_tools() {
  local stamp="$PY_TOOLS/.installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/tools/requirements-test.txt" -nt "$stamp" ]; then
    say "Installing the test servers from PyPI (tools/requirements-test.txt)"
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      # Debian and Ubuntu ship venv's pip bootstrap in a package of its own.
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    fi
    python3 -m venv "$PY_TOOLS"
    "$PY_TOOLS/bin/pip" install -q -r "$ROOT/tools/requirements-test.txt"
    touch "$stamp"
  fi
  local check_stamp="$CHECK_TOOLS/.installed"
  if [ ! -f "$check_stamp" ] || [ "$ROOT/tools/requirements-checkers.txt" -nt "$check_stamp" ]; then
    say "Installing the FHIR and JOSE checkers from PyPI (tools/requirements-checkers.txt)"
    python3 -m venv "$CHECK_TOOLS"
    "$CHECK_TOOLS/bin/pip" install -q -r "$ROOT/tools/requirements-checkers.txt"
    touch "$check_stamp"
  fi
  # The API tests hold what they export against them (tools/fhir_check.py, tools/jose_check.py).
  export BEDSIDE_TEST_CHECKERS="$CHECK_TOOLS/bin/python"
}

# Starts moto's S3-compatible server on a free loopback port with an empty bucket, and exports
# where it is (BEDSIDE_TEST_S3_ENDPOINT, BEDSIDE_TEST_S3_BUCKET) for the storage tests.
# S3_PID is the server's process: stop it when done.
start_s3() {
  local port
  port=$("$PY_TOOLS/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$ROOT/target"
  "$PY_TOOLS/bin/moto_server" -H 127.0.0.1 -p "$port" > "$ROOT/target/moto.log" 2>&1 &
  S3_PID=$!
  "$PY_TOOLS/bin/python" - "$port" <<'PY'
import sys, time, urllib.request
import boto3
url = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        urllib.request.urlopen(url + "/moto-api/", timeout=1)
        break
    except Exception:
        time.sleep(0.2)
boto3.client("s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test",
             region_name="us-east-1").create_bucket(Bucket="bedside-test")
PY
  export BEDSIDE_TEST_S3_ENDPOINT="http://127.0.0.1:$port" BEDSIDE_TEST_S3_BUCKET=bedside-test
  say "S3-compatible server (moto) at $BEDSIDE_TEST_S3_ENDPOINT"
}

# The PostgreSQL the benchmarks measure on, exported as DATABASE_URL unless already set: its local
# socket when there is one, as a server on the same machine would use it, else 127.0.0.1:5432
# (DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres measures over TCP).
bench_database_url() {
  if [ -z "${DATABASE_URL:-}" ]; then
    if [ -S /var/run/postgresql/.s.PGSQL.5432 ]; then
      DATABASE_URL="postgres://postgres@localhost/postgres?host=/var/run/postgresql"
    else
      DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    fi
  fi
  export DATABASE_URL
}
