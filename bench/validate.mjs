// Cost of one Kustom validation callback through the built wasm module, as a host runs it:
// three runs of `run` (→ renderCart, → triggerHook, → response), with the replies in between.
// Prints the median and p99 over many validations, warm, and cold (a fresh process each time).
// Usage: node bench/validate.mjs  (after scripts/build-package.sh)
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const glue = join(root, "dist/kustom-app/ingresses/validate/validate.js");
const fixture = (name) => JSON.parse(readFileSync(join(root, "tests/fixtures/ingresses/validate", name), "utf8")).input;

/// A cart of `n` lines at 25 % VAT, and the Kustom order that matches it.
export function scenario(n) {
  const base = fixture("02-fires-the-hook.json");
  const cart = structuredClone(base.replies[0]);
  cart.items = Array.from({ length: n }, (_, i) => ({
    cartItemId: `item-${i}`, productNumber: `SKU-${String(i).padStart(5, "0")}`, description: `Product ${i}`,
    quantity: 1 + (i % 3), reservedQuantity: 5, unitPrice: 125, total: 125 * (1 + (i % 3)), tax: 25 * (1 + (i % 3)),
  }));
  const total = cart.items.reduce((s, it) => s + it.total, 0);
  Object.assign(cart, { orderTotal: total + 49, orderTaxTotal: total / 5 + 9.8, shippingTotal: 49, shippingTax: 9.8 });
  const lines = cart.items.map((it) => ({
    type: "physical", reference: it.productNumber, name: it.description, quantity: it.quantity, unit_price: 12500,
    tax_rate: 2500, total_amount: it.total * 100, total_discount_amount: 0, total_tax_amount: it.tax * 100,
  }));
  lines.push({ type: "shipping_fee", reference: "shipping", name: "Shipping", quantity: 1, unit_price: 4900, tax_rate: 2500, total_amount: 4900, total_discount_amount: 0, total_tax_amount: 980 });
  const body = { ...base.body, order_lines: lines, order_amount: lines.reduce((s, l) => s + l.total_amount, 0), order_tax_amount: lines.reduce((s, l) => s + l.total_tax_amount, 0) };
  return { input: { ...base, body: JSON.stringify(body), replies: [] }, cart };
}

export function validateOnce(run, { input, cart }) {
  const step = { ...input, replies: [] };
  for (;;) {
    const out = run(step);
    if (out.response) return out.response.statusCode;
    step.replies = [...step.replies, out.calls[0].call === "renderCart" ? cart : []];
  }
}

if (process.argv[2] === "--cold") {
  const t0 = process.hrtime.bigint();
  const { run } = createRequire(import.meta.url)(glue);
  const status = validateOnce(run, scenario(Number(process.argv[3])));
  console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status }));
  process.exit(0);
}

const { run } = createRequire(import.meta.url)(glue);
const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
for (const n of [4, 50, 250]) {
  const s = scenario(n);
  if (validateOnce(run, s) !== 200) throw new Error(`the ${n}-line scenario is not approved`);
  for (let i = 0; i < 50; i++) validateOnce(run, s); // warm up
  const times = [];
  for (let i = 0; i < 500; i++) {
    const t0 = process.hrtime.bigint();
    validateOnce(run, s);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cold = Array.from({ length: 7 }, () =>
    JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--cold", String(n)], { encoding: "utf8" })).ms);
  console.log(`validate, ${String(n).padStart(3)} lines: warm median ${quantile(times, 0.5).toFixed(3)} ms, p99 ${quantile(times, 0.99).toFixed(3)} ms (500 runs); cold (load + first validation) median ${quantile(cold, 0.5).toFixed(2)} ms (7 processes)`);
}
