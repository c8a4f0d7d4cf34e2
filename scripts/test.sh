#!/usr/bin/env bash
# All tests: the native suite (unit, fixtures, properties, scenarios), every request body the
# fixtures send Kustom checked against Kustom's OpenAPI specs, the package build, the main job
# (the demo) on the built modules, then in Node: the same fixtures against the built wasm, the
# Kustom emulator's own tests (its rules, and a session's transcript against the same specs),
# the end-to-end suite (reference host + emulator as processes on the loopback) and the browser
# suite (the storefront module in the demo shop, in Debian's Chromium), the whole-system
# simulation (tests/sim/: a fixed seed and a fresh one); last, every request and
# answer those two suites exchanged with the emulator, checked against the specs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace
# The wasm boundary under Node (wasm-bindgen-test): what only a JS engine can show about the glue.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p component-glue --target wasm32-unknown-unknown
python3 tests/spec/check_requests.py
bash scripts/build-package.sh
# The README's first command runs on the same modules: keep it working.
node host/demo.mjs > /dev/null
rm -rf target/e2e-transcripts
node --test tests/wasm/ tests/emulator/ tests/e2e/ tests/sim/ tests/browser/
python3 tests/spec/check_transcript.py target/e2e-transcripts
