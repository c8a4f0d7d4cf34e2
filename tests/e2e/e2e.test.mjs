// End-to-end tests: the built wasm modules in the reference host, the Kustom emulator, both as
// real processes talking HTTP on the loopback (tests/e2e/world.mjs). Each test has its own
// processes and state file and is bounded in time. Emulated time runs 600× faster than the
// wall clock, so Kustom's push schedule (2, 5, 15 … minutes) and the jobs' back-off take
// milliseconds.
//
// Invariants checked wherever an order is paid: exactly one payment for the Kustom order, the
// cart completed and linked to it, the order acknowledged at Kustom.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world, checkedOut, checkoutUrls, waitFor } from "./world.mjs";

const LIMIT = { timeout: 30_000 };

async function assertPaidOnce(w, cartId, orderId) {
  const state = await w.state();
  const payments = Object.values(state.payments).filter((p) => p.externalReference === orderId);
  assert.equal(payments.length, 1, "exactly one payment for the Kustom order");
  assert.equal(state.carts[cartId].state, "completed", "cart completed");
  assert.deepEqual(state.carts[cartId].relations.map((r) => r.nodeId), [payments[0].paymentId], "the cart links that payment only");
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(payments[0].authorizations.length, 1, "one authorization");
  assert.equal(Math.round(payments[0].authorizations[0].amount * 100), om.order_amount, "authorized what Kustom authorized");
  const inspected = (await w.control(`/orders/${orderId}`)).body;
  assert.ok(inspected.acknowledgements.length > 0, "acknowledged at Kustom");
  // The customer's data the order got, from Kustom's order (issue 10).
  const cart = state.carts[cartId];
  const billing = om.billing_address, shipping = om.shipping_address ?? billing;
  assert.equal(cart.address?.countryCode, shipping.country.toUpperCase(), "the shipping address's country");
  assert.equal(cart.address?.postalCode, shipping.postal_code, "the shipping address");
  assert.equal(cart.address?.name, `${shipping.given_name} ${shipping.family_name}`, "the ship-to name");
  assert.equal(cart.invoiceRecipient?.addressLine1, billing.street_address, "the billing address (invoiceRecipient)");
  assert.equal(cart.email, billing.email, "the email");
  assert.equal(cart.phone, billing.phone, "the phone");
  return payments[0];
}
const acknowledged = (w, orderId) => async () => (await w.control(`/orders/${orderId}`)).body.acknowledgements.length > 0;
const confirm = (w, cartId) => w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
const push = (w, orderId) => w.call("POST", `/ingress/kustom/webhook/push?kustom_order_id=${orderId}`);
const mugs = (w, cartId, cart, quantity) =>
  w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity });

/// The cart's Kustom order equals the cart now, and the hashes agree (the iframe may resume).
async function assertSynced(w, cartId, orderId) {
  const { body: cart } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.ok(cart.fields.kustomSyncHash, "a synced hash");
  assert.equal(cart.fields.kustomSyncHash, cart.fields.kustomPendingHash, "kustomSyncHash caught up with kustomPendingHash");
  const order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.order_amount, Math.round(cart.orderTotal * 100), "Kustom holds the cart's total");
  for (const item of cart.items) {
    assert.equal(order.order_lines.find((l) => l.reference === item.productNumber)?.quantity, item.quantity, `${item.productNumber} quantity`);
  }
  return { cart, order };
}

test("happy path: checkout, sync, pay, confirm, capture", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  const again = await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, checkoutUrls(cartId));
  assert.equal(again.body.kustomOrderId, orderId, "a second checkout returns the same order");
  await mugs(w, cartId, cart, 4);
  await w.idle();
  await assertSynced(w, cartId, orderId);
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  const { body } = await confirm(w, cartId);
  assert.equal(body.status, "checkout_complete");
  const payment = await assertPaidOnce(w, cartId, orderId);

  const { body: capture } = await w.call("POST", `/admin/payments/${payment.paymentId}/captures`, { amount: payment.authorizations[0].amount });
  await w.idle();
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(om.captures.length, 1);
  assert.equal(om.captured_amount, om.order_amount);
  assert.equal(om.status, "CAPTURED");
  const paid = (await w.state()).payments[payment.paymentId];
  assert.equal(paid.captures.find((c) => c.paymentCaptureId === capture.paymentCaptureId).state, "completed", "the charge completed the capture");
  assert.equal(paid.charges.length, 1);
  assert.equal(paid.charges[0].transactionReference, om.captures[0].capture_id);
});

for (const order of [["confirm", "push"], ["push", "confirm"], ["confirm", "confirm"], ["push", "push"]]) {
  test(`confirm and push in sequence: ${order.join(" then ")}`, LIMIT, async (t) => {
    const w = await world(t);
    const { cartId, orderId } = await checkedOut(w);
    assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
    for (const name of order) {
      const { status } = await (name === "confirm" ? confirm(w, cartId) : push(w, orderId));
      assert.equal(status, 200, `${name} answered ${status}`);
    }
    await assertPaidOnce(w, cartId, orderId);
  });
}

test("the platform's order number becomes Kustom's merchant_reference1; carts are still found by merchant_reference2", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  await assertPaidOnce(w, cartId, orderId);
  await w.idle(); // OnOrderCreated → setKustomOrderNumber
  const order = Object.values((await w.state()).orders).find((o) => o.cartId === cartId);
  assert.match(order?.orderNumber ?? "", /^O\d+$/, "the platform numbered the order");
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(om.merchant_reference1, order.orderNumber, "Kustom shows the customer the platform's order number");
  assert.equal(om.merchant_reference2, cartId, "the cart id stays in merchant_reference2");
  const patches = (await w.control("/requests")).body.filter((r) => r.method === "PATCH");
  assert.deepEqual(patches.map((r) => [r.path, r.status, r.request_body]),
    [[`/ordermanagement/v1/orders/${orderId}/merchant-references`, 204, { merchant_reference1: order.orderNumber }]],
    "one PATCH, of reference 1 only (Kustom keeps a key left out)");
  assert.match(patches[0].idempotency_key, /^[0-9a-f-]{36}$/);

  // Kustom pushes again (as when it missed an acknowledgement): the cart is found, acknowledged.
  const again = await push(w, orderId);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.status, "acknowledged");
  // The validation callback for this order as Kustom holds it now (reference 1 the order
  // number): the cart is found by reference 2 — and is completed, so the answer is that, not
  // "no cart reference".
  const checkoutOrder = await w.kustom(`/checkout/v3/orders/${orderId}`);
  const body = JSON.stringify({ ...checkoutOrder, merchant_reference1: om.merchant_reference1, merchant_reference2: om.merchant_reference2 });
  const validation = await fetch(`${w.hostUrl}/ingress/kustom/validate`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const answer = await validation.json();
  assert.equal(validation.status, 400);
  assert.equal(answer.error_text, "This cart has already been checked out or is no longer available.", JSON.stringify(answer));
  await assertPaidOnce(w, cartId, orderId);
});

test("the order number's PATCH gets a 503, then is applied without an answer: it arrives once, the same every time", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  const path = `/ordermanagement/v1/orders/${orderId}/merchant-references`;
  await w.control("/faults", { method: "PATCH", path, status: 503 });
  await w.control("/faults", { method: "PATCH", path, drop: true });
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  await confirm(w, cartId);
  const order = Object.values((await w.state()).orders).find((o) => o.cartId === cartId);
  await waitFor(async () => (await w.kustom(`/ordermanagement/v1/orders/${orderId}`)).merchant_reference1 === order.orderNumber, 15_000, "the order number at Kustom");
  await w.idle(); // the retry after the lost answer reads the order, finds the number, and ends
  const patches = (await w.control("/requests")).body.filter((r) => r.method === "PATCH");
  assert.deepEqual(patches.map((r) => [r.injected, r.dropped]), [[true, false], [false, true]], "a 503, then one applied without an answer");
  assert.ok(patches.every((r) => r.idempotency_key === patches[0].idempotency_key), "one idempotency key");
  assert.ok(patches.every((r) => JSON.stringify(r.request_body) === JSON.stringify({ merchant_reference1: order.orderNumber })), "the same reference every time");
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(om.merchant_reference2, cartId);
  assert.deepEqual((await w.state()).jobs.filter((j) => j.definition === "setKustomOrderNumber"), [], "no job left");
  const payment = await assertPaidOnce(w, cartId, orderId);
  assert.deepEqual(payment.activity, [], "nothing for the merchant to see: it worked");
});

test("confirm and push concurrently, twice each: one payment", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  const answers = await Promise.all([confirm(w, cartId), push(w, orderId), confirm(w, cartId), push(w, orderId)]);
  assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers));
  await assertPaidOnce(w, cartId, orderId);
});

test("push alone completes the cart, and Kustom retries until acknowledged", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  // The first two acknowledgements fail: the pushes 2, 7 and 22 emulated minutes after completion.
  await w.control("/faults", { method: "POST", path: `/ordermanagement/v1/orders/${orderId}/acknowledge`, status: 503, count: 2 });
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  await waitFor(acknowledged(w, orderId), 10_000, "the acknowledgement");
  await assertPaidOnce(w, cartId, orderId);
  const { pushes } = (await w.control(`/orders/${orderId}`)).body;
  assert.ok(pushes.length >= 3, `pushed ${pushes.length} times`);
});

test("the customer's own address and contact reach the completed cart", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  const billing = { given_name: "Märta", family_name: "Ödmann-Åkesson", street_address: "Östra Långgatan 12", postal_code: "41101",
    city: "Göteborg", country: "se", email: "marta@example.se", phone: "+46709876543" };
  assert.equal((await w.control(`/orders/${orderId}/complete`, { billing_address: billing, push: false })).status, 200);
  assert.equal((await confirm(w, cartId)).status, 200);
  await assertPaidOnce(w, cartId, orderId);
  const { body: cart } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(cart.address.city, "Göteborg");
  assert.equal(cart.invoiceRecipient.name, "Märta Ödmann-Åkesson");
  assert.equal(cart.email, "marta@example.se");
});

test("what the shop knows pre-fills Kustom's checkout, and comes back on the completed cart", LIMIT, async (t) => {
  const w = await world(t);
  const { body: { cartId } } = await w.call("POST", "/ingress/commerce/carts", { locale: "sv-SE" });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "MUG-1", quantity: 1 });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/email`, { email: "kund@example.se" });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/address`, { address: { name: "Kund Kundsson", addressLine1: "Kungsgatan 3", postalCode: "11143", city: "Stockholm", countryCode: "SE" } });
  const { status, body } = await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, checkoutUrls(cartId));
  assert.equal(status, 200, JSON.stringify(body));
  const orderId = body.kustomOrderId;
  const order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.billing_address.email, "kund@example.se", "pre-filled email");
  assert.equal(order.billing_address.street_address, "Kungsgatan 3", "pre-filled street");
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  assert.equal((await confirm(w, cartId)).status, 200);
  const cart = (await w.state()).carts[cartId];
  assert.equal(cart.email, "kund@example.se");
  assert.equal(cart.address.addressLine1, "Kungsgatan 3");
});

test("fraud review: a PENDING order completes the cart with a pending authorization", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, { fraud_status: "PENDING", push: false })).status, 200);
  const answers = await Promise.all([confirm(w, cartId), push(w, orderId)]);
  assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers));
  const payment = await assertPaidOnce(w, cartId, orderId);
  assert.equal(payment.authorizations[0].authorizationState, "pending", "never a successful authorization while Kustom reviews");
});

for (const [decision, expected] of [["ACCEPTED", "successful"], ["REJECTED", "failed"]]) {
  test(`fraud review ${decision} later: Kustom's notification makes the authorization ${expected}`, LIMIT, async (t) => {
    const w = await world(t);
    const { cartId, orderId } = await checkedOut(w);
    const order = await w.kustom(`/checkout/v3/orders/${orderId}`);
    assert.match(order.merchant_urls.notification, /\/ingress\/kustom\/notification\?kustom_order_id=/, "notification URL registered");
    assert.equal((await w.control(`/orders/${orderId}/complete`, { fraud_status: "PENDING", push: false })).status, 200);
    assert.equal((await confirm(w, cartId)).status, 200);
    await w.idle(); // the order number reaches Kustom while the review runs, as it does when Kustom takes its time
    assert.equal((await w.kustom(`/ordermanagement/v1/orders/${orderId}`)).merchant_reference1, Object.values((await w.state()).orders)[0].orderNumber);
    assert.equal((await w.control(`/orders/${orderId}/fraud`, { fraud_status: decision })).status, 200);
    const payment = async () => Object.values((await w.state()).payments).find((p) => p.externalReference === orderId);
    await waitFor(async () => (await payment()).authorizations[0].authorizationState === expected, 10_000, `the authorization ${expected}`);
    const { notifications } = (await w.control(`/orders/${orderId}`)).body;
    assert.ok(notifications.length >= 1, "Kustom notified");
    assert.equal((await payment()).activity.length, decision === "REJECTED" ? 1 : 0, "a rejection is logged on the payment");
    // A forged or repeated notification never revives a failed authorization nor changes an accepted one.
    const forged = await w.call("POST", `/ingress/kustom/notification?kustom_order_id=${orderId}`, { order_id: orderId, event_type: "FRAUD_RISK_ACCEPTED" });
    assert.equal(forged.status, 200);
    assert.equal((await payment()).authorizations[0].authorizationState, expected);
  });
}

test("a late push for an order no longer paid at Kustom never completes the cart", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  // Paid, but the push never reached the shop and the browser never confirmed; then the
  // authorization expires at Kustom. The push, switched on again, arrives late.
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  assert.equal((await w.control(`/orders/${orderId}/expire`, {})).status, 200);
  const answers = [await push(w, orderId), await confirm(w, cartId), await push(w, orderId)];
  for (const answer of answers) {
    assert.equal(answer.status, 409, JSON.stringify(answer));
    assert.equal(answer.body.error.code, "AUTHORIZATION_GONE");
  }
  const state = await w.state();
  assert.equal(state.carts[cartId].state, "open", "never completed");
  assert.equal(Object.values(state.payments).filter((p) => p.externalReference === orderId).length, 0, "no payment");
  assert.equal(state.carts[cartId].dynamic["field:kustomConfirmError"], "AUTHORIZATION_GONE", "recorded for the merchant");
  assert.equal(state.carts[cartId].activity.length, 1, "recorded once");
  assert.equal((await w.control(`/orders/${orderId}`)).body.acknowledgements.length, 0, "not acknowledged");
});

test("fraud review rejected before the shop heard of the order: never completed", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, { fraud_status: "REJECTED", push: false })).status, 200);
  const answer = await confirm(w, cartId);
  assert.equal(answer.status, 409, JSON.stringify(answer));
  assert.ok(["FRAUD_REJECTED", "AUTHORIZATION_GONE"].includes(answer.body.error.code), answer.body.error.code);
  const state = await w.state();
  assert.equal(state.carts[cartId].state, "open");
  assert.equal(Object.values(state.payments).filter((p) => p.externalReference === orderId).length, 0, "no payment");
});

test("a burst of cart changes with Kustom slowed down: the final cart wins", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await w.control("/faults", { method: "POST", path: `/checkout/v3/orders/${orderId}`, delay_ms: 150, count: 100 });
  await Promise.all([4, 5, 6, 7, 8, 9].map((quantity) => mugs(w, cartId, cart, quantity)));
  await mugs(w, cartId, cart, 9); // the last word, after the burst
  await w.idle(20_000);
  const { order } = await assertSynced(w, cartId, orderId);
  assert.equal(order.order_lines.find((l) => l.reference === "MUG-1").quantity, 9, "no stale payload won");
});

test("a slow first update lands after later ones: Kustom ends on the newest cart and the shopper pays it (issue 26)", LIMIT, async (t) => {
  // The shopper's session from the issue: Kustom's next update held for 1.5 s, "+" three times
  // 150 ms apart. The slow update lands last at Kustom; the job that sent it must see, from its own
  // snapshot of the cart, that the cart moved on, and re-assert the newest payload.
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await w.control("/faults", { method: "POST", path: `/checkout/v3/orders/${orderId}`, delay_ms: 1500, count: 1 });
  for (const quantity of [4, 5, 6]) {
    await mugs(w, cartId, cart, quantity);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await waitFor(async () => (await w.control("/faults")).body.length === 0, 5_000, "the slow update to be sent");
  await w.idle(20_000);
  const { cart: quiet, order } = await assertSynced(w, cartId, orderId);
  assert.equal(order.order_lines.find((l) => l.reference === "MUG-1").quantity, 6, "Kustom holds the newest cart");
  const updates = (await w.control("/requests")).body.filter((r) => r.method === "POST" && r.path === `/checkout/v3/orders/${orderId}`);
  assert.ok(updates.length >= 3, `the slow update and the later ones reached Kustom (${updates.length})`);
  // The shopper can pay the cart's total at the first attempt.
  const paid = await w.control(`/orders/${orderId}/complete`, {});
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.checkout?.order_amount ?? paid.body.order_amount, Math.round(quiet.orderTotal * 100), "paid the cart's total");
  await confirm(w, cartId);
  await assertPaidOnce(w, cartId, orderId);
});

/// Checkout, a cart change synced through `syncFaults`, payment, and a full capture through
/// `captureFaults` (emulator faults on the order's update and capture routes): the sync converges,
/// Kustom holds one capture and the payment one charge.
async function syncPayCapture(w, syncFaults, captureFaults) {
  const { cartId, orderId, cart } = await checkedOut(w);
  for (const fault of syncFaults) await w.control("/faults", { method: "POST", path: `/checkout/v3/orders/${orderId}`, ...fault });
  await mugs(w, cartId, cart, 5);
  await w.idle(20_000);
  await assertSynced(w, cartId, orderId);
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  await confirm(w, cartId);
  const payment = await assertPaidOnce(w, cartId, orderId);
  for (const fault of captureFaults) await w.control("/faults", { method: "POST", path: `/ordermanagement/v1/orders/${orderId}/captures`, ...fault });
  await w.call("POST", `/admin/payments/${payment.paymentId}/captures`, { amount: payment.authorizations[0].amount });
  await waitFor(async () => (await w.state()).payments[payment.paymentId].charges.length > 0, 20_000, "the charge");
  await w.idle(20_000);
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  assert.equal(om.captures.length, 1, "one capture at Kustom");
  assert.equal(om.captured_amount, om.order_amount);
  assert.equal((await w.state()).payments[payment.paymentId].charges.length, 1, "one charge on the payment");
}

test("Kustom 5xx during sync and capture: retries converge, nothing doubled", LIMIT, async (t) => {
  // Two 503s on the update; the first capture is applied but its answer lost, the retry a 503.
  await syncPayCapture(await world(t), [{ status: 503, count: 2 }], [{ drop: true, count: 1 }, { status: 503, count: 1 }]);
});

test("Kustom answers too late (the request was applied): sync and capture still converge, once", LIMIT, async (t) => {
  // The host gives up on a call after 300 ms; the emulator applies the request after 1 s.
  const w = await world(t, { hostArgs: ["--http-timeout-cap-ms", "300"] });
  await syncPayCapture(w, [{ delay_ms: 1000, count: 1 }], [{ delay_ms: 1000, count: 1 }]);
  assert.match(w.lines.join("\n"), /timeout/, "the host saw the timeouts");
});

test("validation rejection: the customer stays in the checkout with the merchant's message", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  await w.call("POST", "/admin/stock", { "MUG-1": 1 });
  const rejected = await w.control(`/orders/${orderId}/complete`, {});
  assert.equal(rejected.status, 409);
  assert.equal(rejected.body.error_type, "approval_failed");
  assert.match(rejected.body.error_text, /only 1 left in stock/);
  assert.equal((await w.kustom(`/checkout/v3/orders/${orderId}`)).status, "checkout_incomplete");
  assert.equal((await w.state()).carts[cartId].state, "open");
  assert.equal(Object.keys((await w.state()).payments).length, 0, "no payment");
});

test("the Kustom order expired: checkout creates a new one and the cart follows it", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  await w.control(`/orders/${orderId}/expire`, { target: "checkout" });
  const { status, body } = await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, checkoutUrls(cartId));
  assert.equal(status, 200, JSON.stringify(body));
  assert.notEqual(body.kustomOrderId, orderId, "a new order");
  assert.equal((await w.call("GET", `/ingress/commerce/carts/${cartId}`)).body.fields.kustomOrderId, body.kustomOrderId);
  assert.equal((await w.control(`/orders/${body.kustomOrderId}/complete`, {})).status, 200);
  await confirm(w, cartId);
  await assertPaidOnce(w, cartId, body.kustomOrderId);
});

test("host restart in the middle of a checkout: nothing lost", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await checkedOut(w);
  await mugs(w, cartId, cart, 6);
  await w.restart(); // killed: the sync job may not have run yet; it is in the state file
  await w.idle();
  const { cart: synced } = await assertSynced(w, cartId, orderId);
  assert.equal(synced.fields.kustomOrderId, orderId);
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  await w.restart();
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  await assertPaidOnce(w, cartId, orderId);
});

// A host that dies inside the completion path: Kustom's push (retried until acknowledged) is
// what finishes the work after the restart, without a second payment.
for (const [when, crashAfter] of [
  ["after creating the payment, before completing the cart", "messageActor payment create"],
  ["after completing the cart, before acknowledging", "messageActor ticket .*complete"],
]) {
  test(`host crashes ${when}: the push finishes, one payment`, LIMIT, async (t) => {
    const w = await world(t, { hostArgs: ["--crash-after", crashAfter] });
    const { cartId, orderId } = await checkedOut(w);
    assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
    await assert.rejects(confirm(w, cartId), "the browser's confirm loses its connection");
    await w.hostExited();
    await w.restart([]); // this time without the fault
    await waitFor(acknowledged(w, orderId), 10_000, "the acknowledgement after the restart");
    await assertPaidOnce(w, cartId, orderId);
  });
}

// The watchdog (issue 16). The checkout schedules `watchKustomOrder` 15 min, 2 h, 12 h and 40 h
// after it creates the order; at 600× the first check comes 1.5 s after the checkout.
const watchJobs = async (w, orderId) => (await w.state()).jobs.filter((j) => j.definition === "watchKustomOrder" && j.parameters.kustomOrderId === orderId);
const kustomReads = async (w, orderId) => (await w.control("/requests")).body
  .filter((r) => r.method === "GET" && r.path.endsWith(`/orders/${orderId}`)).length;

test("paid, but neither the redirect nor a push reaches the shop: the watchdog completes the order", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  // The customer pays and closes the tab (no confirm); every push fails to reach the shop.
  const paid = await w.control(`/orders/${orderId}/complete`, { push: false });
  assert.equal(paid.status, 200);
  assert.equal(paid.body.push_enabled, false);
  await waitFor(acknowledged(w, orderId), 15_000, "the watchdog's acknowledgement");
  await assertPaidOnce(w, cartId, orderId);
  const cart = (await w.state()).carts[cartId];
  assert.equal(cart.dynamic["field:kustomCompletedBy"], "watchdog", "the cart says who completed it");
  const note = cart.activity.find((a) => /watchdog found it/.test(a.template));
  assert.deepEqual(note?.dynamic, { kustomOrderId: orderId, after: "15 min" }, "the merchant reads it on the cart");
  const { pushes } = (await w.control(`/orders/${orderId}`)).body;
  assert.ok(pushes.every((p) => p.error === "switched off"), "no push reached the shop");
  assert.deepEqual(await watchJobs(w, orderId), [], "done watching");
  assert.match(w.lines.join("\n"), /watchdog \(15 min check\): Kustom order \S+ is paid/);
});

test("a normal checkout: the watchdog's first check finds the cart completed and asks Kustom nothing", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  await w.idle(); // the order number's job (its Kustom read and PATCH) is not the watchdog's
  const afterConfirm = (await w.control("/requests")).body.length;
  await waitFor(async () => (await watchJobs(w, orderId)).length === 0, 15_000, "the watchdog's first check");
  await w.idle(10_000, { watchdog: true });
  assert.equal((await w.control("/requests")).body.length, afterConfirm, "not one Kustom request from the watchdog");
  await assertPaidOnce(w, cartId, orderId);
  const cart = (await w.state()).carts[cartId];
  assert.equal(cart.dynamic["field:kustomCompletedBy"], undefined);
  assert.ok(!cart.activity.some((a) => /watchdog/.test(a.template)));
});

test("an abandoned checkout: the 15 min check reads the order once, writes nothing, and waits for the 2 h check", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId } = await checkedOut(w);
  const [first] = await watchJobs(w, orderId);
  assert.equal(Date.parse(first.at) - Date.parse(first.parameters.since), 15 * 60_000, "first check 15 min after checkout");
  const before = JSON.stringify((await w.state()).carts[cartId]);
  await waitFor(async () => (await watchJobs(w, orderId)).some((j) => j.parameters.check === 1), 15_000, "the 2 h check scheduled");
  const [second] = await watchJobs(w, orderId);
  assert.equal(Date.parse(second.at) - Date.parse(second.parameters.since), 2 * 3600_000, "next check 2 h after checkout");
  assert.equal(await kustomReads(w, orderId), 1, "one Kustom read");
  assert.equal(JSON.stringify((await w.state()).carts[cartId]), before, "the cart untouched");
});

test("host crashes inside the watchdog, after it completed the cart: the job's re-run acknowledges, one payment", LIMIT, async (t) => {
  const w = await world(t, { hostArgs: ["--crash-after", "messageActor ticket .*complete"] });
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  await w.hostExited(); // the watchdog's first check completed the cart, and the host died
  assert.deepEqual((await w.control(`/orders/${orderId}`)).body.acknowledgements, [], "died before acknowledging");
  await w.restart([]); // the job is still queued (removed only after it ran): it runs again
  await waitFor(acknowledged(w, orderId), 15_000, "the re-run's acknowledgement");
  await assertPaidOnce(w, cartId, orderId);
  assert.equal((await w.state()).carts[cartId].dynamic["field:kustomCompletedBy"], "watchdog");
});
