#!/usr/bin/env bash
# Builds Bedside (release), seeds the demo practice on first start and serves it on
# http://127.0.0.1:3000 with SQLite under ./data. Stop it with Ctrl-C.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
say "Building Bedside (release)"
cargo leptos build --release

mkdir -p data
./target/release/bedside seed-demo >/dev/null
if [ -f data/demo-accounts.txt ]; then
  say "Sign in at http://127.0.0.1:3000/signin with one of the demo accounts:"
  cat data/demo-accounts.txt
  echo "  For the physician's code without an authenticator app, run in another terminal:"
  echo "    ./target/release/bedside mfa-code dr.marsh@harborstreetmedicine.example"
fi
say "Starting Bedside: open the address below in your browser"
exec ./target/release/bedside serve
