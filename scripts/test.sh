#!/usr/bin/env bash
# All tests: the native suite (unit, fixtures, properties, scenarios), every request body the
# fixtures send Kustom checked against Kustom's OpenAPI specs, the Kustom emulator's own tests
# (its rules, and a session's transcript against the same specs), then the package build and the
# same fixtures against the built wasm modules in Node.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
python3 tests/spec/check_requests.py
node --test tests/emulator/
bash scripts/build-package.sh
# The README's first command runs on the same modules: keep it working.
node scripts/demo.mjs > /dev/null
node --test tests/wasm/
