#!/usr/bin/env bash
# Benchmarks (not part of the tests): module sizes, per-execution cost of every component in
# Node (warm and cold; 1, 50, 250 cart lines), the floor, both boundary encodings, and end to
# end through the reference host and the Kustom emulator (checkouts per second, sync convergence,
# the validation callback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-package.sh
# The sync rule once more with both encodings exported, for the side-by-side comparison.
cargo build --quiet --profile speed --target wasm32-unknown-unknown -p cart-kustom-sync --features both-encodings \
  --target-dir target/bench
wasm-bindgen --target nodejs --remove-name-section --out-dir bench/dist/rules/cart-kustom-sync \
  target/bench/wasm32-unknown-unknown/speed/cart_kustom_sync.wasm
node bench/run.mjs
# The whole app through the reference host and the Kustom emulator, as processes on the loopback.
node bench/e2e.mjs
