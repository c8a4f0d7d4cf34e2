// Inputs only a JavaScript host can produce (NaN, Infinity, undefined, functions, BigInt, no
// object at all): the module must answer with a clear error, never trap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadComponent } from "./fixtures.test.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sampleCart = () =>
  JSON.parse(readFileSync(join(root, "tests/fixtures/rules/cart-kustom-sync/new-order-schedules-sync.json"), "utf8")).input;

const rule = loadComponent("rules/cart-kustom-sync");
const job = loadComponent("jobs/sync-kustom-order");
const watchdog = loadComponent("jobs/watch-kustom-order");

test("non-finite amounts are refused with the field's path", () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    const cart = sampleCart();
    cart.items[1].unitPrice = value;
    const output = rule.run(cart);
    assert.equal(output.error?.code, "BAD_INPUT", JSON.stringify(output));
    assert.match(output.error.message, /items\[1\]\.unitPrice/);
  }
});

test("not an object at all", () => {
  for (const input of [undefined, null, 42, "cart", [], () => 1]) {
    for (const component of [rule, job, watchdog]) {
      const output = component.run(input);
      assert.equal(output.error?.code, "BAD_INPUT", `${String(input)} -> ${JSON.stringify(output)}`);
    }
  }
});

test("values JSON cannot carry (BigInt, cycles) are refused with a clear error, not trapped on", () => {
  const cart = sampleCart();
  cart.shippingTotal = 49n;
  const output = rule.run(cart);
  assert.equal(output.error?.code, "BAD_INPUT");
  assert.match(output.error.message, /cannot be written as JSON/);
  const cyclic = sampleCart();
  cyclic.fields.self = cyclic;
  assert.equal(job.run(cyclic).error?.code, "BAD_INPUT");
});

test("a huge cart (1001 lines) is refused with CART_TOO_LARGE", () => {
  const cart = sampleCart();
  const line = { productNumber: "PIN", quantity: 1, unitPrice: 1, total: 1, tax: 0.2, discount: 0 };
  cart.items = Array.from({ length: 1001 }, (_, i) => ({ ...line, cartItemId: `i${i}` }));
  cart.orderTotal = 1001;
  cart.orderTaxTotal = 200.2;
  cart.shippingTotal = 0;
  cart.shippingTax = 0;
  const output = rule.run(cart);
  assert.equal(output.effects?.[0]?.fields?.["field:kustomPendingHash"], "unsyncable:CART_TOO_LARGE", JSON.stringify(output).slice(0, 300));
});

test("the same input twice gives the same output (pure)", () => {
  const cart = sampleCart();
  assert.deepStrictEqual(rule.run(cart), rule.run(cart));
});
