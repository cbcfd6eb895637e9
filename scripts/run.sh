#!/usr/bin/env bash
# Builds Bedside (release), seeds the demo practice on first start and serves it on
# http://127.0.0.1:3000 with SQLite under ./data. Stop it with Ctrl-C.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
say "Building Bedside (release)"
cargo leptos build --release

mkdir -p data
./target/release/bedside seed-demo
say "Starting Bedside: open the address below in your browser"
exec ./target/release/bedside serve
