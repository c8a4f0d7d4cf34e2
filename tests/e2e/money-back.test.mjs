// End-to-end tests of the money-back flows (refunds, cancel, release, tracking on capture): the
// built wasm modules in the reference host and the Kustom emulator as processes
// (tests/e2e/world.mjs). The platform's side is driven through the host's admin routes: a capture
// (with the delivery's tracking), a credit that lowers a capture below what was charged (an
// over-charge: the refund rule's trigger), an order cancelled, a delivery completed.
//
// Invariants wherever money moves back: one Kustom refund per over-charge, recorded once on the
// payment with Kustom's refund id; never a capture after a cancel; what is left authorized after
// the last delivery is released.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world, checkedOut, waitFor } from "./world.mjs";

const LIMIT = { timeout: 40_000 };
const TRACKING = [{ shippingCompany: "PostNord SE", trackingNumber: "00370712345678901234", shippingMethod: "PickUpPoint" }];

/// A checked-out cart, paid and confirmed: the payment and the platform's order.
async function paid(w) {
  const { cartId, orderId } = await checkedOut(w);
  assert.equal((await w.control(`/orders/${orderId}/complete`, {})).status, 200);
  await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
  await w.idle();
  const state = await w.state();
  const payment = Object.values(state.payments).find((p) => p.externalReference === orderId);
  const order = Object.values(state.orders).find((o) => o.cartId === cartId);
  assert.ok(payment && order, "a payment and an order");
  return { orderId, payment, order };
}

async function capture(w, payment, amount, extra = {}) {
  const { body } = await w.call("POST", `/admin/payments/${payment.paymentId}/captures`, { amount, ...extra });
  await waitFor(async () => (await w.state()).payments[payment.paymentId].charges.length > 0, 20_000, "the charge");
  await w.idle();
  return body;
}

async function credit(w, payment, captureId, amount) {
  await w.call("POST", `/admin/payments/${payment.paymentId}/captures/${captureId}/credit`, { amount });
  await w.idle(20_000);
}

const om = (w, orderId) => w.kustom(`/ordermanagement/v1/orders/${orderId}`);

test("partial capture with tracking, two partial refunds, release after the last delivery", LIMIT, async (t) => {
  const w = await world(t);
  const { orderId, payment, order } = await paid(w);
  const captured = await capture(w, payment, 400, { shippingInfo: TRACKING });
  let kustom = await om(w, orderId);
  assert.equal(kustom.captured_amount, 40000);
  assert.deepEqual(kustom.captures[0].shipping_info.map((s) => [s.shipping_company, s.tracking_number]),
    [["PostNord SE", "00370712345678901234"]], "the tracking went with the capture");

  await credit(w, payment, captured.paymentCaptureId, 99.5);
  await credit(w, payment, captured.paymentCaptureId, 99.5); // the same amount again: a second refund
  kustom = await om(w, orderId);
  assert.deepEqual(kustom.refunds.map((r) => r.refunded_amount), [9950, 9950], "two refunds at Kustom");
  const state = await w.state();
  const refunds = state.payments[payment.paymentId].refunds;
  assert.deepEqual(refunds.map((r) => [r.amount, r.transactionReference]), kustom.refunds.map((r) => [r.refunded_amount / 100, r.refund_id]),
    "each recorded once on the payment, with Kustom's refund id");
  const settled = state.payments[payment.paymentId].captures.find((c) => c.paymentCaptureId === captured.paymentCaptureId);
  assert.equal(settled.remainingAmount, 0, "the over-charge is settled");

  await w.call("POST", `/admin/orders/${order.orderId}/complete-delivery`, {});
  await waitFor(async () => (await om(w, orderId)).remaining_authorized_amount === 0, 20_000, "the release (an hour of platform time later)");
  kustom = await om(w, orderId);
  assert.equal(kustom.status, "CAPTURED");
  assert.equal(kustom.captured_amount, 40000, "nothing more captured");
  const log = (await w.state()).payments[payment.paymentId].activity.map((a) => a.template);
  assert.ok(log.some((l) => l.startsWith("Released the remaining")), log.join("\n"));
});

test("a refund above what Kustom holds captured is refused and logged, nothing sent", LIMIT, async (t) => {
  const w = await world(t);
  const { orderId, payment } = await paid(w);
  const captured = await capture(w, payment, 100);
  // The platform credits more than the capture charged: the app must not ask Kustom for it.
  await credit(w, payment, captured.paymentCaptureId, 150);
  const kustom = await om(w, orderId);
  assert.equal(kustom.refunds.length, 0);
  const activity = (await w.state()).payments[payment.paymentId].activity;
  assert.ok(activity.some((a) => a.dynamic?.code === "REFUND_ABOVE_CAPTURED"), JSON.stringify(activity));
});

test("cancel before any capture: Kustom order cancelled, authorization voided, a late capture never sent", LIMIT, async (t) => {
  const w = await world(t);
  const { orderId, payment, order } = await paid(w);
  await w.call("POST", `/admin/orders/${order.orderId}/cancel`, {});
  await waitFor(async () => (await w.state()).payments[payment.paymentId].authorizations[0].authorizationState === "failed", 20_000, "the void");
  assert.equal((await om(w, orderId)).status, "CANCELLED");
  await w.call("POST", `/admin/payments/${payment.paymentId}/captures`, { amount: 100 });
  await w.idle();
  const requests = (await w.control("/requests")).body;
  const captures = requests.filter((r) => r.method === "POST" && /\/captures$/.test(r.path ?? r.url ?? ""));
  assert.equal(captures.length, 0, "no capture request after the cancel");
  const activity = (await w.state()).payments[payment.paymentId].activity;
  assert.ok(activity.some((a) => a.dynamic?.code === "AUTHORIZATION_VOIDED"), JSON.stringify(activity));
});

test("Kustom's answer to the refund is lost: one refund, recorded once", LIMIT, async (t) => {
  const w = await world(t);
  const { orderId, payment } = await paid(w);
  const captured = await capture(w, payment, 300);
  await w.control("/faults", { method: "POST", path: `/ordermanagement/v1/orders/${orderId}/refunds`, drop: true, count: 1 });
  await credit(w, payment, captured.paymentCaptureId, 50);
  await waitFor(async () => ((await w.state()).payments[payment.paymentId].refunds ?? []).length > 0, 20_000, "the recorded refund");
  await w.idle();
  assert.equal((await om(w, orderId)).refunds.length, 1, "one refund at Kustom");
  assert.equal((await w.state()).payments[payment.paymentId].refunds.length, 1, "recorded once");
});

test("host crashes after Kustom took the refund, before recording it: exactly one refund", LIMIT, async (t) => {
  const w = await world(t);
  const { orderId, payment } = await paid(w);
  const captured = await capture(w, payment, 300);
  await w.restart(["--crash-after", "http POST .*/refunds"]);
  w.call("POST", `/admin/payments/${payment.paymentId}/captures/${captured.paymentCaptureId}/credit`, { amount: 50 }).catch(() => {});
  await w.hostExited();
  assert.equal((await om(w, orderId)).refunds.length, 1, "Kustom refunded before the crash");
  await w.restart([]);
  await waitFor(async () => ((await w.state()).payments[payment.paymentId].refunds ?? []).length > 0, 20_000, "the refund recorded after the restart");
  await w.idle();
  assert.equal((await om(w, orderId)).refunds.length, 1, "still one refund at Kustom");
  assert.equal((await w.state()).payments[payment.paymentId].refunds.length, 1, "recorded once");
});
