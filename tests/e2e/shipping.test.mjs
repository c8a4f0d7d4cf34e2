// End-to-end tests of shipping chosen in Kustom's iframe (issue 15, docs/shipping.md): the built
// wasm modules in the reference host, the Kustom emulator, both as processes on the loopback
// (tests/e2e/world.mjs). The host's channel `webshop-se-iframe` (cart profile `se-iframe`) has
// `kustomUsesShippingAssistant: true` in the registry and the shop's own carriers: PostNord Ombud
// 49 kr (preselected, PickUpPoint), DHL Hem 79 kr (Home), Budbee Box 39 kr (BoxReg). The
// customer acts through the emulator's control routes, as its iframe does.
//
// Invariants wherever an order is paid here: one payment, authorized what Kustom authorized (the
// goods and the chosen shipping); the platform's order totals the same; its delivery carries the
// choice, or no `kustom…` field at all when shipping is not chosen in the iframe.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world, checkoutUrls, waitFor } from "./world.mjs";

const LIMIT = { timeout: 30_000 };
const CHANNEL = "channels/webshop-se-iframe";
const minor = (amount) => Math.round(amount * 100);
/// What the cart's goods cost in öre: its total without the shipping the shop assumed.
const goods = (cart) => minor(cart.orderTotal) - minor(cart.shippingTotal);

/// A cart on the iframe channel with 2 T-shirts and 3 mugs, checked out: the Kustom order exists.
async function iframeCheckout(w, { profileKey = "se-iframe", deliveryFields } = {}) {
  const { status: created, body: { cartId } } = await w.call("POST", "/ingress/commerce/carts", { profileKey, locale: "sv-SE" });
  assert.equal(created, 200);
  await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "TS-RED-M", quantity: 2 });
  let { body: cart } = await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "MUG-1", quantity: 3 });
  if (deliveryFields) ({ body: cart } = await w.call("POST", `/ingress/commerce/carts/${cartId}/delivery-fields`, { fields: deliveryFields }));
  const { status, body } = await checkout(w, cartId);
  assert.equal(status, 200, JSON.stringify(body));
  return { cartId, orderId: body.kustomOrderId, cart };
}
const checkout = (w, cartId) => w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, checkoutUrls(cartId));
const confirm = (w, cartId) => w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom/confirm`);
const pick = (w, orderId, id) => w.control(`/orders/${orderId}/shipping-option`, { id });
const requests = async (w, method, path) => (await w.control("/requests")).body.filter((r) => r.method === method && r.path === path);

/// The paid cart as the platform holds it: its one payment, its order and the order's delivery.
async function paidOrder(w, cartId, orderId) {
  const state = await w.state();
  const payments = Object.values(state.payments).filter((p) => p.externalReference === orderId);
  assert.equal(payments.length, 1, "exactly one payment for the Kustom order");
  assert.equal(state.carts[cartId].state, "completed", "cart completed");
  const orders = Object.values(state.orders).filter((o) => o.cartId === cartId);
  assert.equal(orders.length, 1, "one platform order");
  const om = await w.kustom(`/ordermanagement/v1/orders/${orderId}`);
  const authorized = payments[0].authorizations;
  assert.equal(authorized.length, 1, "one authorization");
  assert.equal(minor(authorized[0].amount), om.order_amount, "the payment authorized what Kustom authorized");
  assert.equal(minor(orders[0].orderTotal), om.order_amount, "the platform's order totals what was authorized");
  const { body: completed } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(minor(completed.orderTotal), om.order_amount, "and so does the completed cart the storefront shows");
  return { payment: payments[0], order: orders[0], delivery: orders[0].deliveries[0], om, cart: state.carts[cartId] };
}

test("shipping in Kustom's iframe: options and no shipping line; the customer picks DHL, a cart change keeps it; the delivery carries DHL and the payment the goods + 79 kr", LIMIT, async (t) => {
  const w = await world(t);
  assert.equal((await w.call("GET", `/resources/registry/${CHANNEL}`)).body.kustomUsesShippingAssistant, true, "the channel's registry entry");
  const { cartId, orderId, cart } = await iframeCheckout(w, { deliveryFields: { doorCode: "1234" } });
  assert.equal(cart.shippingTotal, 49, "the shop assumes its preselected carrier until the customer chooses");
  assert.equal(cart.channel, undefined, "the storefront's cart does not carry the channel's registry entry");

  // What the checkout sent Kustom: the goods alone, and the shop's carriers to choose from.
  const [created] = await requests(w, "POST", "/checkout/v3/orders");
  const sent = created.request_body;
  assert.ok(!sent.order_lines.some((l) => l.type === "shipping_fee"), "no shipping line");
  assert.equal(sent.order_amount, goods(cart), "order_amount without the cart's shipping");
  assert.equal(sent.order_tax_amount, minor(cart.orderTaxTotal) - minor(cart.shippingTax), "order_tax_amount without its tax");
  assert.deepEqual(sent.shipping_options.map((o) => [o.id, o.price, o.tax_amount, o.tax_rate, o.shipping_method, o.preselected ?? false]),
    [["pn-ombud", 4900, 980, 2500, "PickUpPoint", true], ["dhl-home", 7900, 1580, 2500, "Home", false], ["budbee-box", 3900, 780, 2500, "BoxReg", false]]);
  assert.equal(sent.shipping_options[1].delivery_details.carrier, "DHL");
  let order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.selected_shipping_option, undefined, "nothing chosen before the customer acts");

  // The customer picks DHL in the iframe: Kustom adds its line and price.
  const picked = await pick(w, orderId, "dhl-home");
  assert.equal(picked.status, 200, JSON.stringify(picked.body));
  assert.equal(picked.body.checkout.order_amount, goods(cart) + 7900);
  // A reload of the checkout page: Kustom holds the cart, its options and the choice: no update.
  assert.equal((await checkout(w, cartId)).status, 200);
  assert.equal((await requests(w, "POST", `/checkout/v3/orders/${orderId}`)).length, 0, "the checkout sees Kustom up to date");

  // A cart change after the choice: synced, and Kustom keeps the choice on the new cart.
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 4 });
  await w.idle();
  const { body: changed } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(changed.fields.kustomSyncHash, changed.fields.kustomPendingHash, "synced: the iframe resumes");
  order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.order_lines.find((l) => l.reference === "MUG-1").quantity, 4);
  assert.equal(order.selected_shipping_option?.id, "dhl-home", "the choice kept");
  assert.deepEqual(order.order_lines.at(-1), { type: "shipping_fee", reference: "dhl-home", name: "DHL Hem", quantity: 1, unit_price: 7900,
    tax_rate: 2500, total_amount: 7900, total_discount_amount: 0, total_tax_amount: 1580 }, "Kustom's line for it");
  assert.equal(order.order_amount, goods(changed) + 7900);
  assert.deepEqual(order.shipping_options.map((o) => o.id), ["pn-ombud", "dhl-home", "budbee-box"], "the options synced with the cart");

  // The customer pays (Kustom's push comes too), the browser confirms.
  const paid = await w.control(`/orders/${orderId}/complete`, {});
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.validations.at(-1).outcome, "approved");
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  await waitFor(async () => (await w.control(`/orders/${orderId}`)).body.acknowledgements.length > 0, 10_000, "the acknowledgement");
  const { payment, delivery, om } = await paidOrder(w, cartId, orderId);
  assert.equal(om.selected_shipping_option.id, "dhl-home");
  assert.equal(minor(payment.authorizations[0].amount), goods(changed) + 7900, "authorized: the goods and DHL's 79 kr");
  assert.deepEqual(delivery.dynamic, { doorCode: "1234", kustomShippingOptionId: "dhl-home", kustomShippingOptionName: "DHL Hem",
    kustomShippingPrice: 79, kustomShippingTax: 15.8, kustomShippingTaxRate: 25, kustomShippingMethod: "Home", kustomCarrier: "DHL",
    kustomCarrierProduct: "DHL Home Delivery" }, "the delivery carries the choice, beside the shop's own delivery data");
  assert.equal(delivery.shippingTotal, 79, "the delivery's shipping is the chosen carrier's");
  assert.match(w.lines.join("\n"), /shipping chosen in Kustom's iframe: "dhl-home" \(DHL\) 79\.00/);
});

test("shipping in Kustom's iframe: paying without a choice is refused (SHIPPING_NOT_CHOSEN), the customer reads why; a choice then pays", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await iframeCheckout(w);
  const refused = await w.control(`/orders/${orderId}/complete`, { shipping_option_id: null, push: false });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.outcome, "rejected");
  assert.equal(refused.body.error_type, "approval_failed");
  assert.equal(refused.body.error_text, "Please choose a delivery option.", "what the customer sees in the iframe");
  assert.match(w.lines.join("\n"), /SHIPPING_NOT_CHOSEN/);
  assert.equal((await w.kustom(`/checkout/v3/orders/${orderId}`)).status, "checkout_incomplete");
  let state = await w.state();
  assert.equal(state.carts[cartId].state, "open");
  assert.deepEqual([Object.keys(state.payments).length, Object.keys(state.orders).length], [0, 0], "no payment, no order");

  const paid = await w.control(`/orders/${orderId}/complete`, { shipping_option_id: "budbee-box", push: false });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  const { payment, delivery } = await paidOrder(w, cartId, orderId);
  assert.equal(minor(payment.authorizations[0].amount), goods(cart) + 3900);
  assert.equal(delivery.dynamic.kustomShippingOptionId, "budbee-box");
  assert.equal(delivery.dynamic.kustomShippingMethod, "BoxReg");
  state = await w.state();
  assert.equal(state.carts[cartId].activity.length, 0, "nothing for the merchant to look at");
});

test("a carrier re-priced at the shop after the customer's pick: validation refuses the old price, never completed; the checkout brings Kustom the new one, the customer picks again and pays it", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await iframeCheckout(w);
  assert.equal((await pick(w, orderId, "dhl-home")).status, 200);
  const repriced = await w.call("POST", "/admin/carriers/webshop-se-iframe", { "dhl-home": { price: 89 } });
  assert.equal(repriced.body.find((c) => c.id === "dhl-home").price, 8900);

  const refused = await w.control(`/orders/${orderId}/complete`, { push: false });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.outcome, "rejected");
  assert.match(refused.body.error_text, /Your cart changed/);
  assert.match(w.lines.join("\n"), /SHIPPING_OPTION_UNKNOWN: .*"dhl-home" at 7900 is not one the cart offers/);
  const view = (await w.control(`/orders/${orderId}`)).body;
  assert.equal(view.om, null, "never completed at Kustom");
  assert.equal(Object.keys((await w.state()).payments).length, 0, "no payment");

  // The shopper reloads the checkout: the checkout pushes the cart's options; Kustom re-prices the choice.
  assert.equal((await checkout(w, cartId)).status, 200);
  let order = await w.kustom(`/checkout/v3/orders/${orderId}`);
  assert.equal(order.shipping_options.find((o) => o.id === "dhl-home").price, 8900);
  assert.equal(order.selected_shipping_option.price, 8900, "Kustom re-priced the choice");
  order = (await pick(w, orderId, "dhl-home")).body.checkout; // the customer picks it again, at 89 kr
  assert.equal(order.order_amount, goods(cart) + 8900);
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  const { payment, delivery } = await paidOrder(w, cartId, orderId);
  assert.equal(minor(payment.authorizations[0].amount), goods(cart) + 8900);
  assert.equal(delivery.dynamic.kustomShippingPrice, 89);
  assert.equal(delivery.shippingTotal, 89);
});

test("shipping not in the iframe (the channel's registry value switched off): the shop's shipping line goes to Kustom, no options; the delivery has no kustom fields", LIMIT, async (t) => {
  const w = await world(t);
  const entry = (await w.call("GET", `/resources/registry/${CHANNEL}`)).body;
  const off = await w.call("POST", `/resources/registry/${CHANNEL}`, { ...entry, kustomUsesShippingAssistant: false });
  assert.equal(off.status, 200);
  assert.equal((await w.call("GET", `/resources/registry/${CHANNEL}`)).body.kustomUsesShippingAssistant, false);
  const { cartId, orderId, cart } = await iframeCheckout(w);
  assert.ok(cart.shippingOptions.length, "the shop still offers its carriers; the app does not send them");
  const [created] = await requests(w, "POST", "/checkout/v3/orders");
  const sent = created.request_body;
  assert.equal(sent.shipping_options, undefined, "no shipping_options");
  assert.deepEqual(sent.order_lines.filter((l) => l.type === "shipping_fee").map((l) => [l.reference, l.total_amount, l.total_tax_amount]),
    [["shipping", 4900, 980]], "the shop's shipping line");
  assert.equal(sent.order_amount, minor(cart.orderTotal));

  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  const { payment, delivery, om } = await paidOrder(w, cartId, orderId);
  assert.equal(om.selected_shipping_option, undefined);
  assert.equal(minor(payment.authorizations[0].amount), minor(cart.orderTotal));
  assert.deepEqual(Object.keys(delivery.dynamic).filter((k) => k.startsWith("kustom")), [], "no kustom fields on the delivery");
  assert.equal(delivery.shippingTotal, 49, "the shop's shipping");
});

test("bad input end to end: a shop carrier with a negative price makes the cart unsyncable (the iframe stays suspended); nothing traps, and the fixed cart syncs and pays", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await iframeCheckout(w);
  await w.call("POST", "/admin/carriers/webshop-se-iframe", { "budbee-box": { price: -39 } });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 4 });
  await w.idle();
  let { body: now } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(now.fields.kustomPendingHash, "unsyncable:BAD_INPUT", "the storefront keeps the iframe suspended");
  assert.notEqual(now.fields.kustomPendingHash, now.fields.kustomSyncHash);
  const activity = (await w.state()).carts[cartId].activity;
  assert.equal(activity.length, 1, "said once on the cart");
  assert.match(activity[0].dynamic.message, /shippingOptions\[2\]\.price/, "naming the carrier");
  assert.equal((await w.kustom(`/checkout/v3/orders/${orderId}`)).order_lines.find((l) => l.reference === "MUG-1").quantity, 3, "Kustom keeps the last good cart");
  const reload = await checkout(w, cartId);
  assert.equal(reload.status, 422, JSON.stringify(reload.body));
  assert.equal(reload.body.error.code, "BAD_INPUT");
  const paying = await w.control(`/orders/${orderId}/complete`, { push: false });
  assert.equal(paying.status, 409, "the stale order cannot be paid");
  assert.equal((await w.state()).carts[cartId].state, "open");

  await w.call("POST", "/admin/carriers/webshop-se-iframe", { "budbee-box": { price: 39 } });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 5 });
  await w.idle();
  ({ body: now } = await w.call("GET", `/ingress/commerce/carts/${cartId}`));
  assert.equal(now.fields.kustomSyncHash, now.fields.kustomPendingHash, "synced again");
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 200);
  assert.equal((await confirm(w, cartId)).body.status, "checkout_complete");
  const { delivery } = await paidOrder(w, cartId, orderId);
  assert.equal(delivery.dynamic.kustomShippingOptionId, "pn-ombud", "the preselected carrier, as the customer paid without choosing");
});

test("bad input end to end: a mistyped registry flag (\"yes\") refuses the channel's carts in every component, Kustom's validation blocks the purchase, nothing is paid", LIMIT, async (t) => {
  const w = await world(t);
  const { cartId, orderId, cart } = await iframeCheckout(w);
  const entry = (await w.call("GET", `/resources/registry/${CHANNEL}`)).body;
  await w.call("POST", `/resources/registry/${CHANNEL}`, { ...entry, kustomUsesShippingAssistant: "yes" });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/set-quantity`, { cartItemId: cart.items[1].cartItemId, quantity: 4 });
  await w.idle();
  const { body: refused } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(refused.fields.kustomPendingHash, "unsyncable:BAD_INPUT", "the storefront keeps the iframe suspended");
  assert.match(w.lines.join("\n"), /not sent to Kustom order .*BAD_INPUT: channel\.kustomUsesShippingAssistant: must be true or false/);
  const reload = await checkout(w, cartId);
  assert.equal(reload.status, 422, JSON.stringify(reload.body));
  assert.equal(reload.body.error.code, "BAD_INPUT");
  const paying = await w.control(`/orders/${orderId}/complete`, { push: false });
  assert.equal(paying.status, 409, JSON.stringify(paying.body));
  assert.equal(paying.body.outcome, "rejected", "the validation refuses a cart it cannot build (CART_NOT_PAYABLE)");
  const state = await w.state();
  assert.equal(state.carts[cartId].state, "open");
  assert.equal(Object.keys(state.payments).length, 0, "no payment");
  assert.equal((await w.call("GET", "/admin/state")).status, 200, "the host is alive");
});

test("the promotions limit: a free-shipping coupon goes to Kustom as the shipping line's discount, but a cart with it on the iframe channel is refused (SHIPPING_DISCOUNT_IN_IFRAME) until it is removed", LIMIT, async (t) => {
  const w = await world(t);
  // The shop's shipping: the discount is on Kustom's shipping line.
  const flat = await iframeCheckout(w, { profileKey: "se" });
  await w.call("POST", `/ingress/commerce/carts/${flat.cartId}/add-coupon`, { couponCode: "FREESHIP" });
  await w.idle();
  const { body: freeShipping } = await w.call("GET", `/ingress/commerce/carts/${flat.cartId}`);
  assert.equal(freeShipping.fields.kustomSyncHash, freeShipping.fields.kustomPendingHash, "synced");
  const line = (await w.kustom(`/checkout/v3/orders/${flat.orderId}`)).order_lines.find((l) => l.type === "shipping_fee");
  assert.deepEqual([line.unit_price, line.total_discount_amount, line.total_amount], [4900, 4900, 0]);

  // Shipping chosen in the iframe: Kustom would charge the chosen carrier in full.
  const { cartId, orderId } = await iframeCheckout(w);
  await w.call("POST", `/ingress/commerce/carts/${cartId}/add-coupon`, { couponCode: "FREESHIP" });
  await w.idle();
  let { body: cart } = await w.call("GET", `/ingress/commerce/carts/${cartId}`);
  assert.equal(cart.fields.kustomPendingHash, "unsyncable:SHIPPING_DISCOUNT_IN_IFRAME", "the storefront keeps the iframe suspended, saying why");
  assert.match((await w.state()).carts[cartId].activity[0].dynamic.message, /promotion takes 49 off the shipping/);
  const reload = await checkout(w, cartId);
  assert.equal(reload.status, 422);
  assert.equal(reload.body.error.code, "SHIPPING_DISCOUNT_IN_IFRAME");
  assert.equal((await w.control(`/orders/${orderId}/complete`, { push: false })).status, 409, "not payable meanwhile");

  await w.call("POST", `/ingress/commerce/carts/${cartId}/remove-coupon`, { couponCode: "FREESHIP" });
  await w.idle();
  ({ body: cart } = await w.call("GET", `/ingress/commerce/carts/${cartId}`));
  assert.equal(cart.fields.kustomSyncHash, cart.fields.kustomPendingHash, "synced again without it");
});
