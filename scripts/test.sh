#!/usr/bin/env bash
# All tests: the native suite (unit, fixtures, properties, scenarios), then the package build and
# the same fixtures against the built wasm modules in Node.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
bash scripts/build-package.sh
node --test tests/wasm/
