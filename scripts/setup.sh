#!/usr/bin/env bash
# Installs what the build, the demo and the tests need, when it is missing (quick when it is
# all there): the wasm32 target, wasm-bindgen-cli of exactly the version in Cargo.lock, Node,
# and the spec checker's Python packages. demo.sh and test.sh call it first.
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
