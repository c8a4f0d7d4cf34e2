#!/usr/bin/env bash
# Builds the app package: every component's optimized .wasm with its wasm-bindgen JS glue,
# plus manifest.toml, in dist/kustom-app/ and as dist/kustom-app-<version>.tar.gz.
# Prints each module's size (raw and gzip).
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/kustom-app
shopt -s nullglob
components=()
for dir in rules/*/ jobs/*/ ingresses/*/; do components+=("${dir%/}"); done
# Built with the `speed` profile (opt-level 2, see Cargo.toml): the hot path; with `balanced`
# (opt-level "s"): the validation callback, which the customer waits on, and the sync job (at 2
# it passed 100 KiB with the resume contract; resuming, it no longer re-parses its history). The others
# stay size-optimized; at opt-level 2 or "s" the other ingresses would pass 100 KiB gzip.
speed=(rules/cart-kustom-sync)
balanced=(ingresses/validate jobs/sync-kustom-order)
profile_of() {
  case " ${speed[*]} " in *" $1 "*) echo speed; return ;; esac
  case " ${balanced[*]} " in *" $1 "*) echo balanced; return ;; esac
  echo release
}
packages=()
for c in "${components[@]}"; do
  if [ "$(profile_of "$c")" = release ]; then packages+=(-p "$(basename "$c")"); fi
done

cargo build --quiet --release --target wasm32-unknown-unknown "${packages[@]}"
# One at a time: built together, the job's `compact-sha` feature would also apply to the rule.
for c in "${speed[@]}" "${balanced[@]}"; do
  cargo build --quiet --profile "$(profile_of "$c")" --target wasm32-unknown-unknown -p "$(basename "$c")"
done

rm -rf "$out" && mkdir -p "$out"
# wasm-opt is opt-in (WASM_OPT=1): measured on these modules, -Oz cuts raw bytes ~12 % but makes
# the gzip size larger, and binaryen 108 (Debian 12) breaks wasm-bindgen's externref table.
optimizer=""
if [ -n "${WASM_OPT:-}" ]; then optimizer=wasm-opt; fi
printf '%-34s %10s %10s\n' component "raw bytes" "gzip bytes"
for c in "${components[@]}"; do
  name=$(basename "$c" | tr - _)
  wasm-bindgen --target nodejs --remove-name-section --out-dir "$out/$c" \
    "target/wasm32-unknown-unknown/$(profile_of "$c")/$name.wasm"
  module="$out/$c/${name}_bg.wasm"
  if [ -n "$optimizer" ]; then
    # The features rustc enables by default for wasm32-unknown-unknown.
    wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
      "$module" -o "$module"
  fi
  printf '%-34s %10d %10d\n' "$c" "$(wc -c < "$module")" "$(gzip -9 -c "$module" | wc -c)"
done
cp manifest.toml "$out/"
# The same manifest as JSON, for hosts without a TOML parser (the reference host).
python3 -c 'import json, sys, tomllib; json.dump(tomllib.load(open(sys.argv[1], "rb")), open(sys.argv[2], "w"), indent=2)' \
  manifest.toml "$out/manifest.json"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' manifest.toml | head -1)
tar czf "dist/kustom-app-$version.tar.gz" -C dist kustom-app
echo "package: $out/ and dist/kustom-app-$version.tar.gz"
