// Benchmark (not a test): the whole app through the reference host and the Kustom emulator, each
// a process of its own on the loopback, in real time (time scale 1), as bash scripts/bench.sh
// runs it after the per-component figures. Prints:
//   - checkouts per second end to end: a cart of two lines, the checkout ingress (Kustom order
//     created), the customer completing (Kustom calls the validation ingress), the confirm
//     ingress (payment, cart completed, order acknowledged); 10 customers at a time;
//   - sync convergence: many open checkouts changed at once (one mutation each); the time from
//     sending the mutation to the host reporting the cart's kustomSyncHash equal to the
//     kustomPendingHash that mutation set (the storefront's iframe may resume);
//   - the validation ingress as Kustom calls it: its order JSON posted to the host.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { startProcess, checkoutUrls } from "../tests/e2e/world.mjs";

const CARTS = Number(process.env.BENCH_CARTS ?? 100);
const CUSTOMERS = 10;
const ROUNDS = 3;
const VALIDATIONS = 300;
const apiKey = "kco_test_api_bench";

const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = (x) => x.toFixed(1).padStart(7);
const summary = (xs) => `p50 ${ms(quantile(xs, 0.5))}  p99 ${ms(quantile(xs, 0.99))}  max ${ms(Math.max(...xs))} ms  (${xs.length} samples)`;

const dir = mkdtempSync(join(tmpdir(), "kustom-bench-"));
const lines = [];
const emulator = await startProcess("emulator/server.mjs", ["--port", "0", "--api-key", apiKey], lines);
const host = await startProcess("host/server.mjs", ["--port", "0", "--kustom-url", emulator.url, "--api-key", apiKey,
  "--data-file", join(dir, "state.json")], lines);

// The host's log says when a cart's hashes agree again: resolve whoever waits for that hash. The
// line can come before the mutation's response does (a fast sync job): it is kept until asked for.
const waiting = new Map(); // `${cartId} ${hash}` → resolve
const early = new Map(); // `${cartId} ${hash}` → when the host said so, before anyone waited
host.child.stdout.on("data", (chunk) => {
  for (const line of String(chunk).split("\n")) {
    const match = /^cart (\S+) in sync at (\w+)/.exec(line);
    if (!match) continue;
    const key = `${match[1]} ${match[2]}`;
    const resolve = waiting.get(key);
    if (resolve) { waiting.delete(key); resolve(performance.now()); } else early.set(key, performance.now());
  }
});
const inSync = (key) => new Promise((resolve) => {
  if (early.has(key)) { resolve(early.get(key)); early.delete(key); } else waiting.set(key, resolve);
});

async function call(method, path, body, base = host.url) {
  const response = await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
async function openCheckout() {
  const { cartId } = await call("POST", "/ingress/commerce/carts", {});
  await call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "TS-RED-M", quantity: 2 });
  const cart = await call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "MUG-1", quantity: 3 });
  const { kustomOrderId } = await call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, checkoutUrls(cartId));
  return { cartId, cart, orderId: kustomOrderId };
}

try {
  console.log(`\nEnd to end: reference host + Kustom emulator, separate processes on the loopback, real time; ${cpus().length} cores, Node ${process.version}\n`);

  // 1. Whole checkouts, CUSTOMERS at a time.
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CUSTOMERS }, async () => {
    while (next++ < CARTS) {
      const t0 = performance.now();
      const { cartId, orderId } = await openCheckout();
      await call("POST", `/__emulator/orders/${orderId}/complete`, {}, emulator.url);
      const { status } = await call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
      if (status !== "checkout_complete") throw new Error(`confirm: ${status}`);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  console.log(`checkouts end to end      ${(CARTS / seconds).toFixed(1)} per second (${CARTS} in ${seconds.toFixed(2)} s, ${CUSTOMERS} at a time); each ${summary(latencies)}`);

  // 2. Sync convergence: CARTS open checkouts, each changed once, all at the same moment.
  const carts = await Promise.all(Array.from({ length: CARTS }, openCheckout));
  const convergence = [];
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(carts.map(async ({ cartId, cart }) => {
      const t0 = performance.now();
      const changed = await call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 4 + round });
      const key = `${cartId} ${changed.fields.kustomPendingHash}`;
      const t1 = await inSync(key);
      convergence.push(t1 - t0);
    }));
  }
  // The same, one cart at a time: the latency without queueing behind other carts.
  const alone = [];
  for (const [round, { cartId, cart }] of carts.entries()) {
    const t0 = performance.now();
    const changed = await call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 10 + round % 2 });
    alone.push(await inSync(`${cartId} ${changed.fields.kustomPendingHash}`) - t0);
  }
  console.log(`sync convergence          one cart at a time: ${summary(alone)}`);
  console.log(`sync convergence          ${CARTS} carts at once × ${ROUNDS} rounds: mutation → kustomSyncHash caught up: ${summary(convergence)}`);

  // 3. The validation callback as Kustom makes it, one at a time.
  const { orderId } = carts[0];
  const order = await (await fetch(`${emulator.url}/checkout/v3/orders/${orderId}`, { headers: { authorization: `Basic ${apiKey}` } })).json();
  const validations = [];
  for (let i = 0; i < VALIDATIONS; i++) {
    const t0 = performance.now();
    const response = await fetch(`${host.url}/ingress/kustom/validate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(order) });
    await response.text();
    if (response.status !== 200) throw new Error(`validate: ${response.status}`);
    validations.push(performance.now() - t0);
  }
  console.log(`validate ingress          through the host, as Kustom calls it: ${summary(validations)}`);
} catch (error) {
  console.error(`${error.stack}\n${lines.slice(-20).join("\n")}`);
  process.exitCode = 1;
} finally {
  for (const p of [host, emulator]) { p.child.kill("SIGTERM"); await p.exited; }
  rmSync(dir, { recursive: true, force: true });
}
