#!/usr/bin/env bash
# Builds the app package: every component's optimized .wasm with its wasm-bindgen JS glue,
# plus manifest.toml, in dist/kustom-app/ and as dist/kustom-app-<version>.tar.gz.
# Prints each module's size (raw and gzip).
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/kustom-app
components=$(ls -d rules/*/ jobs/*/ ingresses/*/ 2>/dev/null | sed 's:/$::')
packages=$(for c in $components; do echo "-p $(basename "$c")"; done)

# shellcheck disable=SC2086
cargo build --quiet --release --target wasm32-unknown-unknown $packages

rm -rf "$out" && mkdir -p "$out"
if command -v wasm-opt >/dev/null; then optimizer=wasm-opt; else optimizer=""; fi
printf '%-34s %10s %10s\n' component "raw bytes" "gzip bytes"
for c in $components; do
  name=$(basename "$c" | tr - _)
  wasm-bindgen --target nodejs --remove-name-section --out-dir "$out/$c" \
    "target/wasm32-unknown-unknown/release/$name.wasm"
  module="$out/$c/${name}_bg.wasm"
  if [ -n "$optimizer" ]; then
    # The features rustc enables by default for wasm32-unknown-unknown.
    wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
      "$module" -o "$module"
  fi
  printf '%-34s %10d %10d\n' "$c" "$(wc -c < "$module")" "$(gzip -9 -c "$module" | wc -c)"
done
[ -n "$optimizer" ] || echo "(wasm-opt not found: modules are not size-optimized; install binaryen)"
cp manifest.toml "$out/"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' manifest.toml | head -1)
tar czf "dist/kustom-app-$version.tar.gz" -C dist kustom-app
echo "package: $out/ and dist/kustom-app-$version.tar.gz"
