// The main job end to end: the built modules in the reference host, talking HTTP on the
// loopback to the Kustom emulator. Prints a readable trace; exits non-zero if a step does not
// hold. Run it with `bash scripts/demo.sh` (builds the package first). create cart → checkout
// (snippet) → cart changes (sync: pending and synced hashes converge) → the customer pays
// (validation runs) → confirm and push both arrive → one payment, cart completed, order
// acknowledged → the platform's order number becomes Kustom's merchant_reference1 → a partial
// capture with tracking (a mug is out of stock) → Kustom shows it → a T-shirt comes back: a
// partial refund → the delivery completes: what is left authorized is released → on a second
// channel the customer chooses the carrier in Kustom's iframe, and the order's delivery gets it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../emulator/emulator.mjs";
import { startHost } from "./host.mjs";

const TIME_SCALE = 600; // ten minutes of platform time per second: retries and pushes come quickly
const apiKey = "kco_test_api_demo";
const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), "kustom-demo-"));
let emulator, host;
const step = (text) => console.log(`\n● ${text}  (${Date.now() - started} ms)`);
const check = (ok, text) => {
  if (!ok) throw new Error(`✗ ${text}`);
  console.log(`  ✓ ${text}`);
};
async function call(method, path, body) {
  const response = await fetch(`${host.url}${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}
const kustom = async (path, init) => (await fetch(`${emulator.url}${path}`, init)).json();

try {
  // Callbacks keep Kustom's real 3 s timeout; only the clock (push schedule, retries) runs faster.
  emulator = await startEmulator({ port: 0, apiKey, timeScale: TIME_SCALE, minCallbackTimeoutMs: 3000 });
  host = await startHost({ kustomUrl: emulator.url, apiKey, dataFile: join(dir, "state.json"), timeScale: TIME_SCALE,
    log: (line) => console.log(`    host: ${line}`) });
  console.log(`Kustom emulator ${emulator.url}, reference host ${host.url}`);

  step("a customer fills a cart");
  const { body: { cartId } } = await call("POST", "/ingress/commerce/carts", { profileKey: "se", locale: "sv-SE" });
  await call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "TS-RED-M", quantity: 2 });
  const { body: cart } = await call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "MUG-1", quantity: 3 });
  check(cart.orderTotal === 716.7, `cart ${cartId}: SEK ${cart.orderTotal}`);

  step("checkout: the storefront asks for the Kustom iframe");
  const urls = { termsUrl: "https://shop.example.se/villkor", checkoutUrl: "https://shop.example.se/kassa", confirmationUrl: `https://shop.example.se/bekraftelse?cart=${cartId}` };
  const checkout = await call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, urls);
  check(checkout.status === 200 && checkout.body.htmlSnippet.includes("klarna-checkout-container"), `snippet for Kustom order ${checkout.body.kustomOrderId}`);
  const orderId = checkout.body.kustomOrderId;
  const again = await call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, urls);
  check(again.body.kustomOrderId === orderId, "a second checkout call returns the same order");

  step("the customer changes the cart in the iframe's page: a fourth mug, a coupon");
  const { body: changed } = await call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 4 });
  await call("POST", `/ingress/commerce/carts/${cartId}/add-coupon`, { couponCode: "TENOFF" });
  const { body: pending } = await call("GET", `/ingress/commerce/carts/${cartId}`);
  console.log(`    pending ${pending.fields.kustomPendingHash?.slice(0, 12)} synced ${pending.fields.kustomSyncHash?.slice(0, 12)}: the storefront suspends the iframe`);
  await host.idle();
  const { body: synced } = await call("GET", `/ingress/commerce/carts/${cartId}`);
  check(synced.fields.kustomSyncHash === synced.fields.kustomPendingHash, `hashes converged at ${synced.fields.kustomSyncHash.slice(0, 12)}: the iframe resumes`);
  const order = await kustom(`/checkout/v3/orders/${orderId}`, { headers: { authorization: `Basic ${apiKey}` } });
  check(order.order_amount === Math.round(synced.orderTotal * 100), `Kustom holds SEK ${order.order_amount / 100}, the cart's total (${changed.items.length} lines, coupon applied)`);

  step("the customer pays: Kustom calls the validation callback, then completes the order");
  const completed = await fetch(`${emulator.url}/__emulator/orders/${orderId}/complete`, { method: "POST", body: "{}" });
  check(completed.status === 200, "validation approved; Kustom order complete");

  step("the browser confirms and Kustom's push arrives, both at once");
  // Kustom POSTs an empty body to the push URL it was given; here it crosses the browser's confirm.
  const pushUrl = `${host.url}/ingress/kustom/webhook/push?kustom_order_id=${orderId}`;
  const [confirmed, pushed] = await Promise.all([call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`), fetch(pushUrl, { method: "POST" })]);
  check(confirmed.body.status === "checkout_complete", "confirm: checkout_complete");
  check(pushed.status === 200, `push: ${pushed.status}`);
  await host.idle();
  const state = host.state;
  const payments = Object.values(state.payments).filter((p) => p.externalReference === orderId);
  check(payments.length === 1, `exactly one payment (${payments[0]?.paymentNumber}), authorized SEK ${payments[0]?.authorizations[0].amount}`);
  check(state.carts[cartId].state === "completed", "cart completed with its payment");
  // The customer's data, from Kustom's order, set in the batch that completed the cart.
  const { body: done } = await call("GET", `/ingress/commerce/carts/${cartId}`);
  const line = (a) => a && [a.name, a.addressLine1, `${a.postalCode ?? ""} ${a.city ?? ""}`.trim(), a.countryCode].filter(Boolean).join(", ");
  check(done.address?.countryCode && done.email, `the order got: ship to ${line(done.address)}`);
  console.log(`    bill to ${line(done.invoiceRecipient)}; email ${done.email}; phone ${done.phone}`);
  const inspect = await kustom(`/__emulator/orders/${orderId}`);
  check(inspect.acknowledgements.length > 0, "order acknowledged at Kustom: it sends no more pushes");

  const paymentId = payments[0].paymentId;
  const omOrder = () => kustom(`/ordermanagement/v1/orders/${orderId}`, { headers: { authorization: `Basic ${apiKey}` } });
  step("the platform made the order from the cart: its number becomes the order number Kustom shows the customer");
  const platformOrder = Object.values(host.state.orders).find((o) => o.cartId === cartId);
  let om = await omOrder();
  check(om.merchant_reference1 === platformOrder.orderNumber, `Kustom's merchant_reference1: ${om.merchant_reference1}, the platform's order number (OnOrderCreated → setKustomOrderNumber)`);
  check(om.merchant_reference2 === cartId, `Kustom's merchant_reference2: ${om.merchant_reference2}, the cart, where the push and validation find it`);

  const mugPrice = 80.91; // 89.90 less the 10 % coupon
  step("the goods ship, but one mug is out of stock: the platform captures the rest, with the parcel's tracking");
  const shipped = Math.round((payments[0].authorizations[0].amount - mugPrice) * 100) / 100;
  const shippingInfo = [{ shippingCompany: "PostNord SE", trackingNumber: "00370712345678901234", shippingMethod: "PickUpPoint" }];
  const capture = await call("POST", `/admin/payments/${paymentId}/captures`, { amount: shipped, shippingInfo });
  await host.idle();
  om = await omOrder();
  check(om.captures.length === 1 && om.captured_amount === Math.round(shipped * 100), `Kustom shows capture ${om.captures[0]?.capture_id} of SEK ${om.captured_amount / 100} (${om.status}), SEK ${om.remaining_authorized_amount / 100} still authorized`);
  check(om.captures[0].shipping_info[0]?.tracking_number === shippingInfo[0].trackingNumber, `tracking ${shippingInfo[0].shippingCompany} ${shippingInfo[0].trackingNumber} on the capture`);
  check(host.state.payments[paymentId].captures[0].state === "completed", `the platform's capture ${capture.body.paymentCaptureId} completed by the charge`);

  step("a T-shirt comes back: the platform credits it, the capture is over-charged by SEK 179.10");
  await call("POST", `/admin/payments/${paymentId}/captures/${capture.body.paymentCaptureId}/credit`, { amount: 179.1 });
  await host.idle();
  om = await omOrder();
  const refunds = host.state.payments[paymentId].refunds ?? [];
  check(om.refunds.length === 1 && om.refunded_amount === 17910, `Kustom shows refund ${om.refunds[0]?.refund_id} of SEK ${om.refunded_amount / 100}`);
  check(refunds.length === 1 && refunds[0].transactionReference === om.refunds[0].refund_id, "the refund recorded once on the payment, with Kustom's refund id");
  check(host.state.payments[paymentId].captures[0].remainingAmount === 0, "the capture's balance is back at zero");

  step("the delivery completes: an hour later, what is left authorized is released");
  await call("POST", `/admin/orders/${platformOrder.orderId}/complete-delivery`, {});
  await host.idle();
  om = await omOrder();
  check(om.remaining_authorized_amount === 0 && om.status === "CAPTURED", `Kustom order ${om.status}: nothing left authorized, SEK ${(om.captured_amount - om.refunded_amount) / 100} kept`);

  step("channel webshop-se-iframe (registry kustomUsesShippingAssistant: true): the customer chooses the carrier in Kustom's iframe");
  const { body: { cartId: cart2 } } = await call("POST", "/ingress/commerce/carts", { profileKey: "se-iframe", locale: "sv-SE" });
  await call("POST", `/ingress/commerce/carts/${cart2}/add-item`, { productNumber: "BOOK-9789100123", quantity: 1 });
  const order2 = (await call("POST", `/ingress/commerce/carts/${cart2}/payment/kustom`, { ...urls, confirmationUrl: `https://shop.example.se/bekraftelse?cart=${cart2}` })).body.kustomOrderId;
  const held = await kustom(`/checkout/v3/orders/${order2}`, { headers: { authorization: `Basic ${apiKey}` } });
  check(!held.order_lines.some((l) => l.type === "shipping_fee") && held.shipping_options?.length === 3,
    `Kustom holds the goods (SEK ${held.order_amount / 100}, no shipping line) and the shop's carriers: ${held.shipping_options?.map((o) => `${o.name} ${o.price / 100}`).join(", ")}`);
  const control = (path, body) => fetch(`${emulator.url}/__emulator/orders/${order2}/${path}`, { method: "POST", body: JSON.stringify(body) });
  check((await control("shipping-option", { id: "dhl-home" })).ok && (await control("complete", { push: false })).ok, "the customer picks DHL Hem and pays; validation approved the choice");
  check((await call("POST", `/ingress/commerce/carts/${cart2}/payment/kustom/confirm`)).body.status === "checkout_complete", "confirm: checkout_complete");
  const order2Platform = Object.values(host.state.orders).find((o) => o.cartId === cart2);
  const delivery = order2Platform?.deliveries[0];
  const authorized = Object.values(host.state.payments).find((p) => p.externalReference === order2)?.authorizations[0].amount;
  check(delivery?.dynamic.kustomShippingOptionId === "dhl-home" && authorized === order2Platform.orderTotal,
    `the order's delivery: ${delivery?.dynamic.kustomCarrier} (${delivery?.dynamic.kustomShippingOptionName}, ${delivery?.dynamic.kustomShippingMethod}) SEK ${delivery?.shippingTotal}; authorized SEK ${authorized}, the order's total`);
  console.log(`\nDone in ${Date.now() - started} ms: one order, one payment, captured in part, one refund, the rest released; a second order shipped by the carrier chosen in Kustom's iframe.`);
} catch (error) {
  console.error(`\n${error.message}\n${error.stack?.split("\n").slice(1, 3).join("\n") ?? ""}`);
  process.exitCode = 1;
} finally {
  await host?.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
}
