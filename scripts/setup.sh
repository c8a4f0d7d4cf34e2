#!/usr/bin/env bash
# Installs what the build, the demo and the tests need, when it is missing (quick when it is
# all there): the wasm32 target, wasm-bindgen-cli of exactly the version in Cargo.lock, Node,
# the spec checker's Python packages, and for the browser suite Chromium and two npm packages.
# demo.sh, shop.sh and test.sh call it first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  # --locked can fail when a locked dependency is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "$want"
fi

if ! command -v node >/dev/null; then
  apt-get update && apt-get install -y nodejs
fi

# The spec checks read Kustom's OpenAPI files (YAML) with an OpenAPI 3.0 schema validator.
if ! python3 -c 'import yaml, openapi_schema_validator' 2>/dev/null; then
  python3 -m pip install --quiet pyyaml openapi-schema-validator
fi

# The browser suite (tests/browser/): Chromium from Debian's packages (no browser is ever
# downloaded), and the npm packages pinned in tests/browser/package-lock.json (playwright-core,
# which drives that Chromium, and Vue for the component wrapper), installed again when the lock
# file changes.
if [ ! -x /usr/bin/chromium ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
if ! command -v npm >/dev/null; then # Debian's nodejs comes without it
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm
fi
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json; then
  (cd tests/browser && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
fi
