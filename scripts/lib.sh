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
