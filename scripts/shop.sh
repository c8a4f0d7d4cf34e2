#!/usr/bin/env bash
# The demo shop, for a person to click through: builds the app package, starts the Kustom
# emulator and the reference host (which serves the shop and runs the built modules), and prints
# the shop's URL. The host's log (what each component did) follows; Ctrl-C stops both.
#   PORT (default 8080) and KUSTOM_PORT (default 8787) choose the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-package.sh > /dev/null
port=${PORT:-8080}
kustom_port=${KUSTOM_PORT:-8787}
key=kco_test_api_demo_shop
dir=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 0' INT TERM

# Starts `node <args>` logging to $dir/<name>.log and waits for its `listening on` line.
start() {
  local name=$1; shift
  node "$@" > "$dir/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$dir/$name.log"; then return; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then cat "$dir/$name.log"; exit 1; fi
    sleep 0.1
  done
  echo "$name did not start:"; cat "$dir/$name.log"; exit 1
}
start emulator emulator/server.mjs --port "$kustom_port" --api-key "$key"
start host host/server.mjs --port "$port" --kustom-url "http://127.0.0.1:$kustom_port" --api-key "$key" --data-file "$dir/host.json"
url=$(sed -n 's/^listening on //p' "$dir/host.log")
cat <<TEXT

  Demo shop:  $url/shop/
  (the same checkout as a Vue component: $url/shop/vue)

  Kustom emulator on http://127.0.0.1:$kustom_port: its iframe plays the customer (the
  "Complete purchase" button); Kustom's push follows 2 minutes after a purchase, as at Kustom.
  Try: quantities and the coupon TENOFF while the checkout is open (the iframe suspends until
  Kustom has the new cart); SAVE50 (an order discount Kustom cannot take: it stays suspended);
  POST /admin/stock {"TS-RED-M": 0} on the host, then pay (the merchant's rule refuses);
  $url/shop/?profile=se-iframe: a channel whose carriers you choose between in Kustom's
  iframe (docs/shipping.md; FREESHIP there is refused).
  Ctrl-C stops the shop.

TEXT
tail -n +2 -f "$dir/host.log" &
pids+=($!)
wait "${pids[1]}"
