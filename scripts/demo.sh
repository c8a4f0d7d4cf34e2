#!/usr/bin/env bash
# The main job end to end: builds the app package, then runs a whole checkout on the built wasm
# modules in the reference host against the Kustom emulator (host/demo.mjs) and prints the trace.
# Exits non-zero if any step does not hold. `--shop` runs the demo shop instead (scripts/shop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--shop" ]; then exec bash scripts/shop.sh; fi
bash scripts/setup.sh
bash scripts/build-package.sh
node host/demo.mjs
