#!/usr/bin/env bash
# The main job end to end on the built modules: builds the app package, then runs the cart sync
# (rule + job) on a sample cart against an in-memory host and fake Kustom.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-package.sh
node scripts/demo.mjs
