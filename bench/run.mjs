// Benchmark (not a test): the cost of every component through its built wasm module in Node,
// for carts of 1, 50 and 250 lines, as a host runs it — every step of a multi-step component,
// each re-run with the replies so far. Prints, per component and size: warm median and p99 of a
// whole execution over many runs, and cold (load the module + first execution, a fresh process
// each time). Beside the sync rule: the floor (the engine's JSON.stringify + SHA-256 of the same
// cart) and the two boundary encodings (JSON text, the default, and serde-wasm-bindgen).
//
// Usage: bash scripts/bench.sh  (builds the package and the both-encodings rule first)
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const glue = (id, dir = "dist/kustom-app") => join(root, dir, id, `${id.split("/")[1].replaceAll("-", "_")}.js`);
const load = (id, dir) => require(glue(id, dir));

const CART = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";
const ORDER = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";
const PAYMENT = "7a3e9c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a";
const settings = { apiKey: "kco_test_api_bench", publicBaseUrl: "https://shop.example.se" };
const now = "2026-11-25T09:30:00Z";

/// A rendered cart of `n` lines at 25 % VAT plus shipping.
function cart(n, fields = { kustomOrderId: ORDER }) {
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
function scenarios(n) {
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

/// One whole execution: every step with the replies so far. Checks it ends where it should.
function execute(run, [input, replies]) {
  let output;
  for (let k = 0; k <= replies.length; k++) output = run({ ...input, replies: replies.slice(0, k) });
  if (output.calls || output.error) throw new Error(`did not finish: ${JSON.stringify(output).slice(0, 200)}`);
  return output;
}

/// What the host contract itself costs an execution, before the module does anything: the
/// engine's JSON.stringify + UTF-8 encoding of every step's input (each carries every earlier
/// reply) and JSON.parse of every step's output. No component can take less.
function contractCost(run, [input, replies]) {
  const steps = Array.from({ length: replies.length + 1 }, (_, k) => {
    const stepInput = { ...input, replies: replies.slice(0, k) };
    return [stepInput, JSON.stringify(run(stepInput))];
  });
  const encoder = new TextEncoder();
  return time(() => {
    for (const [stepInput, outputText] of steps) {
      encoder.encode(JSON.stringify(stepInput));
      JSON.parse(outputText);
    }
  }, 300);
}

const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
function time(fn, runs) {
  for (let i = 0; i < Math.min(20, runs); i++) fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { median: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}
const ms = (x) => x.toFixed(3).padStart(8);

if (process.argv[2] === "--cold") {
  // A fresh process that has never loaded the module (the scenario comes from a file: preparing
  // it here would load the sync rule). Three figures, in ms: compiling the wasm bytes; loading the
  // glue and instantiating (V8 reuses the module it just compiled from the same bytes) plus the
  // first call; and the rest of the whole first execution.
  const [id, file] = [process.argv[3], process.argv[4]];
  const scenario = JSON.parse(readFileSync(file, "utf8"));
  const bytes = readFileSync(glue(id).replace(/\.js$/, "_bg.wasm"));
  const clock = () => Number(process.hrtime.bigint()) / 1e6;
  const t0 = clock();
  new WebAssembly.Module(bytes);
  const t1 = clock();
  const { run } = require(glue(id));
  run({ ...scenario[0], replies: [] });
  const t2 = clock();
  execute(run, scenario);
  console.log(JSON.stringify([t1 - t0, t2 - t1, clock() - t2]));
  process.exit(0);
}

const sizes = [1, 50, 250];
// `node bench/run.mjs --warm`: warm figures only (no cold processes, no eager compilation), for
// measuring a change quickly; the floor comparison uses the packaged rule.
const warmOnly = process.argv[2] === "--warm";
const cartBound = new Set(["rules/cart-kustom-sync", "jobs/sync-kustom-order", "ingresses/checkout", "ingresses/validate", "ingresses/confirm", "ingresses/webhook", "jobs/watch-kustom-order"]);
console.log(`\nPer whole execution (all steps), Node ${process.version}; warm: median/p99 of 300 runs. Cold, median of 5 fresh processes:`);
console.log(`compile = the wasm bytes to a module; start = load the glue, instantiate, first call; rest = the other steps of the first execution\n`);
console.log(`contract = the engine's own JSON work the host contract makes (contractCost): the least any component can take\n`);
console.log(`${"component".padEnd(26)} ${"lines".padStart(5)} ${"steps".padStart(5)} ${"warm ms".padStart(8)} ${"p99 ms".padStart(8)} ${"contract".padStart(8)} ${"compile".padStart(8)} ${"start".padStart(8)} ${"rest".padStart(8)}`);
const scenarioFile = join(mkdtempSync(join(tmpdir(), "kustom-bench-")), "scenario.json");
for (const id of Object.keys(scenarios(1))) {
  for (const n of cartBound.has(id) ? sizes : [1]) {
    const scenario = scenarios(n)[id];
    const { run } = load(id);
    const warm = time(() => execute(run, scenario), 300);
    const contract = contractCost(run, scenario);
    writeFileSync(scenarioFile, JSON.stringify(scenario));
    const cold = warmOnly ? [[NaN, NaN, NaN]] : Array.from({ length: 5 }, () => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--cold", id, scenarioFile], { encoding: "utf8" })));
    const coldMs = (k) => ms(quantile(cold.map((c) => c[k]), 0.5));
    console.log(`${id.padEnd(26)} ${String(n).padStart(5)} ${String(scenario[1].length + 1).padStart(5)} ${ms(warm.median)} ${ms(warm.p99)} ${ms(contract.median)} ${coldMs(0)} ${coldMs(1)} ${coldMs(2)}`);
  }
}

// Node compiles wasm lazily, so the first call above also compiles every function it touches. A
// host that compiles a module once (at deploy, or with a code cache) pays that before any call:
// the same cold runs with eager compilation show what is then left for instantiate + first call.
if (!warmOnly) {
console.log(`\nCold with eager compilation (node --no-wasm-lazy-compilation), 1-line cart, median of 5: compile once, then start\n`);
console.log(`${"component".padEnd(26)} ${"compile".padStart(8)} ${"start".padStart(8)}`);
for (const id of Object.keys(scenarios(1))) {
  writeFileSync(scenarioFile, JSON.stringify(scenarios(1)[id]));
  const cold = Array.from({ length: 5 }, () => JSON.parse(execFileSync(process.execPath,
    ["--no-wasm-lazy-compilation", fileURLToPath(import.meta.url), "--cold", id, scenarioFile], { encoding: "utf8" })));
  console.log(`${id.padEnd(26)} ${ms(quantile(cold.map((c) => c[0]), 0.5))} ${ms(quantile(cold.map((c) => c[1]), 0.5))}`);
}
}

console.log(`\nThe hot path, cart-kustom-sync, against the floor (JSON.stringify + SHA-256 of the same cart) and by boundary encoding\n`);
console.log(`contract = the engine's JSON work the boundary makes (stringify + encode the input, parse the output): its ratio is the least the rule can have\n`);
console.log(`${"lines".padStart(5)} ${"floor ms".padStart(9)} ${"contract".padStart(9)} ${"ratio".padStart(6)} ${"JSON text".padStart(10)} ${"ratio".padStart(6)} ${"serde-wasm-bindgen".padStart(19)} ${"ratio".padStart(6)}`);
const both = warmOnly ? { ...load("rules/cart-kustom-sync"), runSerde: null } : load("rules/cart-kustom-sync", "bench/dist");
for (const n of sizes) {
  const input = { ...cart(n), settings, now };
  if (both.runSerde && !isDeepStrictEqual(both.run(input), both.runSerde(input))) throw new Error("the encodings disagree");
  const floor = time(() => createHash("sha256").update(JSON.stringify(input)).digest("hex"), 2000).median;
  const json = time(() => both.run(input), 1000).median;
  const contract = contractCost(both.run, [input, []]).median;
  const serde = both.runSerde ? time(() => both.runSerde(input), 1000).median : NaN;
  console.log(`${String(n).padStart(5)} ${ms(floor).padStart(9)} ${ms(contract).padStart(9)} ${(contract / floor).toFixed(1).padStart(6)} ${ms(json).padStart(10)} ${(json / floor).toFixed(1).padStart(6)} ${ms(serde).padStart(19)} ${(serde / floor).toFixed(1).padStart(6)}`);
}
