// What the benchmarks share (bench/run.mjs, bench/compare.mjs): the built modules, the carts of
// n lines, every component's whole execution as a host runs it, and the timing helpers.
import { createRequire } from "node:module";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
/// A component's JS glue in a package directory (relative to the project, or absolute).
export const glue = (id, dir = "dist/kustom-app") => resolve(root, dir, id, `${id.split("/")[1].replaceAll("-", "_")}.js`);
export const load = (id, dir) => require(glue(id, dir));

const CART = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";
const ORDER = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";
const PAYMENT = "7a3e9c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a";
export const settings = { apiKey: "kco_test_api_bench", publicBaseUrl: "https://shop.example.se" };
export const now = "2026-11-25T09:30:00Z";

/// A rendered cart of `n` lines at 25 % VAT plus shipping.
export function cart(n, fields = { kustomOrderId: ORDER }) {
  const items = Array.from({ length: n }, (_, i) => {
    const quantity = 1 + (i % 3);
    return { cartItemId: `item-${i}`, productNumber: `SKU-${String(i).padStart(5, "0")}`, description: `Product number ${i}`,
      quantity, reservedQuantity: 5, unitPrice: 125, total: 125 * quantity, tax: 25 * quantity, discount: 0 };
  });
  const total = items.reduce((s, it) => s + it.total, 0);
  return { hook: "OnCartMutation", cartId: CART, cartNumber: "C1", cartState: "open", channelKey: "se", currencyCode: "SEK",
    taxIncluded: true, locale: "sv-SE", orderTotal: total + 49, orderTaxTotal: total / 5 + 9.8, shippingTotal: 49, shippingTax: 9.8,
    items, fields, address: { countryCode: "SE" }, email: "anna@example.se" };
}

/// Every component's whole execution for an n-line cart: its first input and the replies a host
/// would feed it, recorded once by answering its calls.
export function scenarios(n) {
  const rule = load("rules/cart-kustom-sync");
  const ruleInput = { ...cart(n), settings, now };
  const ruleOutput = rule.run(ruleInput);
  const scheduled = ruleOutput.effects[1].parameters;
  const payload = ruleOutput.effects[0].fields.kustomPendingPayload;
  const order = { ...payload, order_id: ORDER, status: "checkout_incomplete", purchase_country: "se", locale: "sv-SE",
    merchant_reference1: CART, html_snippet: "<div id=\"klarna-checkout-container\"></div>" };
  const stored = { ...cart(n).fields, kustomPendingHash: scheduled.hash, kustomSyncHash: scheduled.hash };
  const rendered = { ...cart(n, stored) };
  const ticket = (pending) => ({ actorId: CART, paths: [], errors: [], data: { query: { state: "open",
    dynamic: { "field:kustomOrderId": ORDER, "field:kustomPendingHash": pending, kustomPendingPayload: payload } } } });
  const ok = (body) => ({ status: 200, body });
  const done = { actorId: CART, paths: [], data: {}, errors: [] };
  const capture = { paymentId: PAYMENT, paymentCaptureId: "c4f2a8b6-3d1e-4f7a-8b9c-0d1e2f3a4b5c", kustomOrderId: ORDER, amount: 940.8, currencyCode: "SEK" };
  const payment = { actorId: PAYMENT, paths: [], errors: [], data: { query: { captures: [{ paymentCaptureId: capture.paymentCaptureId, state: "pending", remainingAmount: 940.8 }] } } };
  const om = ok({ status: "AUTHORIZED", fraud_status: "ACCEPTED", purchase_currency: "sek", order_amount: 94080, remaining_authorized_amount: 94080, expires_at: "2026-12-23T00:00:00Z", captures: [] });
  const request = (extra) => ({ headers: {}, settings, now, ...extra });
  const paidOm = ok({ status: "AUTHORIZED", fraud_status: "ACCEPTED", purchase_currency: "sek", order_amount: payload.order_amount });
  const authorized = { actorId: PAYMENT, paths: [], errors: [], data: { query: { paymentId: PAYMENT,
    authorizations: [{ authorizationNumber: ORDER, authorizationState: "successful" }] } } };
  return {
    "rules/cart-kustom-sync": [ruleInput, []],
    "jobs/sync-kustom-order": [{ ...scheduled, settings, now }, [ticket(scheduled.hash), ok(order), done, ticket(scheduled.hash)]],
    "ingresses/checkout": [request({ route: { cartId: CART }, query: {}, body: { termsUrl: "https://a.se/t", checkoutUrl: "https://a.se/c", confirmationUrl: "https://a.se/k" } }),
      [rendered, ok(order)]],
    "ingresses/validate": [request({ route: {}, query: {}, body: JSON.stringify(order) }), [rendered, []]],
    // Paid: the Checkout API says complete, Order Management says authorized (issue 10).
    "ingresses/confirm": [request({ route: { cartId: CART }, query: {}, body: null }),
      [rendered, ok({ ...order, status: "checkout_complete" }), paidOm, [], { ...done, actorId: PAYMENT }, done, { status: 204, body: "" }]],
    "ingresses/webhook": [request({ route: {}, query: { kustom_order_id: ORDER }, body: "" }),
      [[{ cartId: CART }], rendered, ok({ ...order, status: "checkout_complete" }), paidOm, [{ paymentId: PAYMENT }], authorized, done, { status: 204, body: "" }]],
    "rules/capture": [{ hook: "OnPaymentCapture", settings, now, payment: { paymentId: PAYMENT, providerKey: "kustom", externalReference: ORDER, currencyCode: "SEK" },
      capture: { paymentCaptureId: capture.paymentCaptureId, state: "pending", remainingAmount: 940.8 } }, []],
    "jobs/capture-order": [{ ...capture, settings, now }, [payment, om, { status: 201, headers: { "Capture-Id": "cap-1" }, body: "" }, payment]],
    // The watchdog's quiet check (an abandoned checkout): the cart, one Kustom read, the next check.
    "jobs/watch-kustom-order": [{ cartId: CART, kustomOrderId: ORDER, since: now, check: 0, settings, now }, [rendered, ok(order)]],
  };
}

/// The components whose cost depends on the cart's size: measured at 1, 50 and 250 lines.
export const cartBound = new Set(["rules/cart-kustom-sync", "jobs/sync-kustom-order", "ingresses/checkout", "ingresses/validate", "ingresses/confirm", "ingresses/webhook", "jobs/watch-kustom-order"]);

/// The inputs of one whole execution, as a resuming host makes them: step k gets the trigger,
/// step k−1's continuation and reply k−1 alone. A module of an earlier release, which returns
/// no continuation, is replayed instead (every reply so far), so that compare.mjs can run both.
function stepInputs(run, [input, replies]) {
  const inputs = [];
  let continuation;
  for (let k = 0; k <= replies.length; k++) {
    const stepInput = continuation === undefined && k > 0
      ? { ...input, replies: replies.slice(0, k) }
      : { ...input, ...(continuation ? { continuation } : {}), replies: replies.slice(Math.max(0, k - 1), k) };
    inputs.push(stepInput);
    const output = run(stepInput);
    if (output.calls) continuation = output.continuation;
  }
  return inputs;
}

/// One whole execution, step by step as a host runs it. Checks it ends where it should.
export function execute(run, [input, replies]) {
  let output;
  let continuation;
  for (let k = 0; k <= replies.length; k++) {
    const stepInput = continuation === undefined && k > 0
      ? { ...input, replies: replies.slice(0, k) }
      : { ...input, ...(continuation ? { continuation } : {}), replies: replies.slice(Math.max(0, k - 1), k) };
    output = run(stepInput);
    if (output.calls) continuation = output.continuation;
  }
  if (output.calls || output.error) throw new Error(`did not finish: ${JSON.stringify(output).slice(0, 200)}`);
  return output;
}

/// What the host contract itself costs an execution, before the module does anything: the
/// engine's JSON.stringify + UTF-8 encoding of every step's input and JSON.parse of every step's
/// output. No component can take less.
export function contractCost(run, scenario) {
  const steps = stepInputs(run, scenario).map((stepInput) => [stepInput, JSON.stringify(run(stepInput))]);
  const encoder = new TextEncoder();
  return time(() => {
    for (const [stepInput, outputText] of steps) {
      encoder.encode(JSON.stringify(stepInput));
      JSON.parse(outputText);
    }
  }, 300);
}

/// Bytes the host stringifies over an execution ÷ bytes of the trigger and all replies once
/// (issue 21's budget: ≤ 1.5; replaying, it grows with steps × history).
export function contractBytesRatio(run, scenario) {
  const [input, replies] = scenario;
  const once = JSON.stringify(input).length + replies.reduce((n, r) => n + JSON.stringify(r).length, 0);
  const sent = stepInputs(run, scenario).reduce((n, stepInput) => n + JSON.stringify(stepInput).length, 0);
  return sent / once;
}

export const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
export function time(fn, runs) {
  for (let i = 0; i < Math.min(20, runs); i++) fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { median: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}
