// End-to-end tests: the built wasm modules in the reference host, over HTTP on the loopback to
// the Kustom emulator — real processes' worth of servers, bounded in time. Each test starts its
// own emulator and host (fresh state file) and closes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../../emulator/emulator.mjs";
import { startHost } from "../../host/host.mjs";

const TIME_SCALE = 600;
const apiKey = "kco_test_api_e2e";
const urls = (cartId) => ({ termsUrl: "https://shop.example.se/villkor", checkoutUrl: "https://shop.example.se/kassa",
  confirmationUrl: `https://shop.example.se/bekraftelse?cart=${cartId}` });

async function world(t, hostOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "kustom-e2e-"));
  const emulator = await startEmulator({ port: 0, apiKey, timeScale: TIME_SCALE });
  const dataFile = join(dir, "state.json");
  const w = { emulator, dataFile, host: await startHost({ kustomUrl: emulator.url, apiKey, dataFile, timeScale: TIME_SCALE, ...hostOptions }) };
  w.call = async (method, path, body) => {
    const response = await fetch(`${w.host.url}${path}`, { method, headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  };
  w.kustom = async (path, init = {}) => (await fetch(`${emulator.url}${path}`, { ...init, headers: { authorization: `Basic ${apiKey}`, ...init.headers } })).json();
  w.control = (path, body = {}, method = "POST") => fetch(`${emulator.url}/__emulator${path}`,
    method === "GET" ? {} : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  w.restart = async () => {
    await w.host.close();
    w.host = await startHost({ kustomUrl: emulator.url, apiKey, dataFile, timeScale: TIME_SCALE, ...hostOptions });
  };
  t.after(async () => {
    await w.host.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return w;
}

/// A cart with 2 T-shirts and 3 mugs, checked out: the Kustom order exists.
async function checkedOut(w) {
  const { body: { cartId } } = await w.call("POST", "/ingress/commerce/carts", { profileKey: "se", locale: "sv-SE" });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "TS-RED-M", quantity: 2 });
  const { body: cart } = await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "MUG-1", quantity: 3 });
  const { status, body } = await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, urls(cartId));
  assert.equal(status, 200, JSON.stringify(body));
  return { cartId, orderId: body.kustomOrderId, cart };
}

async function assertPaidOnce(w, cartId, orderId) {
  const payments = Object.values(w.host.state.payments).filter((p) => p.externalReference === orderId);
  assert.equal(payments.length, 1, "exactly one payment");
  assert.equal(w.host.state.carts[cartId].state, "completed");
  assert.deepEqual(w.host.state.carts[cartId].relations.map((r) => r.nodeId), [payments[0].paymentId]);
  const inspected = await (await w.control(`/orders/${orderId}`, undefined, "GET")).json();
  assert.ok(inspected.acknowledged > 0 || inspected.acknowledgements?.length > 0, "acknowledged");
  return payments[0];
}

test("happy path: checkout, sync, pay, confirm and push, capture", { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 4 });
  await w.host.idle();
  const { body: synced } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(synced.fields.kustomSyncHash, synced.fields.kustomPendingHash);
  assert.equal((await w.kustom(`/checkout/v3/orders/${orderId}`)).order_amount, Math.round(synced.orderTotal * 100));
  assert.equal((await w.control(`/orders/${orderId}/complete`)).status, 200);
  const { body } = await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
  assert.equal(body.status, "checkout_complete");
  const payment = await assertPaidOnce(w, cartId, orderId);
  await w.call("POST", `/admin/payments/${payment.paymentId}/captures`, { amount: payment.authorizations[0].amount });
  await w.host.idle();
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(om.captures.length, 1);
  assert.equal(om.captured_amount, om.order_amount);
});

for (const order of [["confirm", "push"], ["push", "confirm"], ["concurrently"]]) {
  test(`confirm and push: ${order.join(" then ")}`, { timeout: 20_000 }, async (t) => {
    const w = await world(t);
    const { cartId, orderId } = await checkedOut(w);
    assert.equal((await w.control(`/orders/${orderId}/complete`)).status, 200);
    const confirm = () => w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
    const push = () => w.call("POST", `/ingress/kustom/webhook/push?kustom_order_id=${orderId}`);
    if (order[0] === "concurrently") await Promise.all([confirm(), push(), confirm(), push()]);
    else for (const name of order) await (name === "confirm" ? confirm() : push());
    await assertPaidOnce(w, cartId, orderId);
  });
}

test("push alone completes the cart, and retries until acknowledged", { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  await w.control("/faults", { method: "POST", path: `/ordermanagement/v1/orders/${orderId}/acknowledge`, status: 503, count: 2 });
  assert.equal((await w.control(`/orders/${orderId}/complete`)).status, 200);
  // the browser never confirms; pushes come 2, 5, 15, 30 emulated minutes apart
  const deadline = Date.now() + 10_000;
  let inspected;
  do {
    await new Promise((r) => setTimeout(r, 100));
    inspected = await (await w.control(`/orders/${orderId}`, undefined, "GET")).json();
  } while (!(inspected.acknowledged > 0 || inspected.acknowledgements?.length > 0) && Date.now() < deadline);
  await assertPaidOnce(w, cartId, orderId);
  assert.ok(inspected.pushes.length >= 3, `pushed ${inspected.pushes.length} times`);
});

test("a burst of cart changes with Kustom slowed down: the final cart wins", { timeout: 30_000 }, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await w.control("/faults", { method: "POST", path: `/checkout/v3/orders/${orderId}`, delay_ms: 150, count: 100 });
  for (let quantity = 4; quantity <= 9; quantity++) {
    await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity });
  }
  await w.host.idle(20_000);
  const { body: final } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(final.fields.kustomSyncHash, final.fields.kustomPendingHash, "synced hash caught up");
  const order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.order_amount, Math.round(final.orderTotal * 100));
  assert.equal(order.order_lines.find((l) => l.reference === "MUG-1").quantity, 9, "no stale payload won");
});

test("Kustom 5xx during sync and capture: retries converge, nothing doubled", { timeout: 30_000 }, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await w.control("/faults", { method: "POST", path: `/checkout/v3/orders/${orderId}`, status: 503, count: 2 });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 5 });
  await w.host.idle(20_000);
  const { body: synced } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(synced.fields.kustomSyncHash, synced.fields.kustomPendingHash);
  assert.equal((await w.kustom(`/checkout/v3/orders/${orderId}`)).order_amount, Math.round(synced.orderTotal * 100));
  assert.equal((await w.control(`/orders/${orderId}/complete`)).status, 200);
  await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
  const payment = await assertPaidOnce(w, cartId, orderId);
  await w.control("/faults", { method: "POST", path: `/ordermanagement/v1/orders/${orderId}/captures`, status: 503, count: 1 });
  await w.call("POST", `/admin/payments/${payment.paymentId}/captures`, { amount: payment.authorizations[0].amount });
  await w.host.idle(20_000);
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(om.captures.length, 1, "one capture at Kustom");
  assert.equal(w.host.state.payments[payment.paymentId].charges.length, 1, "one charge on the payment");
});

test("validation rejection: the customer stays in the checkout with the merchant's message", { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  await w.call("POST", "/admin/stock", { "MUG-1": 1 });
  const rejected = await w.control(`/orders/${orderId}/complete`);
  assert.equal(rejected.status, 409);
  const body = await rejected.json();
  assert.match(JSON.stringify(body), /only 1 left in stock/);
  const order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.status, "checkout_incomplete");
  assert.equal(w.host.state.carts[cartId].state, "open");
});

test("host restart in the middle of a checkout: nothing lost", { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 6 });
  await w.restart(); // the sync job may not have run yet: it is in the state file
  await w.host.idle();
  const { body: synced } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(synced.fields.kustomOrderId, orderId);
  assert.equal(synced.fields.kustomSyncHash, synced.fields.kustomPendingHash);
  assert.equal((await w.kustom(`/checkout/v3/orders/${orderId}`)).order_amount, Math.round(synced.orderTotal * 100));
  assert.equal((await w.control(`/orders/${orderId}/complete`)).status, 200);
  await w.restart();
  await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
  await assertPaidOnce(w, cartId, orderId);
});
