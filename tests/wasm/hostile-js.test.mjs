// The built modules fed the JS values a host can hand them that JSON cannot carry, or that
// fight back while being read: getters and toJSON that throw (anything, `null` included),
// Proxies whose traps throw, BigInt, cycles, deep nesting, lone surrogates — at the top and
// deep inside every component's input (fixture inputs, so that each reaches past its first
// parse). Whatever the value, `run` returns one of the contract's three shapes: it never
// throws, never traps, never hangs.
//
// Randomized with a fixed seed (HOSTILE_SEED to vary it), bounded by HOSTILE_CASES per
// component (default 150): about 10 s for the whole file on a 2-core machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadComponent } from "./fixtures.test.mjs";
import { rng } from "../support/rng.mjs"; // deterministic (mulberry32)

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const components = [
  "rules/cart-kustom-sync",
  "jobs/sync-kustom-order",
  "ingresses/checkout",
  "ingresses/confirm",
  "ingresses/webhook",
  "ingresses/validate",
  "rules/capture",
  "jobs/capture-order",
];
const CASES = Number(process.env.HOSTILE_CASES ?? 150);

function fixtureInputs(id) {
  const dir = join(root, "tests", "fixtures", id);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).input);
}

function nested(depth, leaf) {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { v: value };
  return value;
}

// Values that cannot become JSON, or that throw while becoming it.
const hostile = [
  () => 10n,
  () => ({ toJSON() { throw null; } }),
  () => ({ toJSON() { throw undefined; } }),
  () => ({ toJSON() { throw 42; } }),
  () => ({ toJSON() { throw "a thrown string"; } }),
  () => ({ toJSON() { throw new Error("toJSON failed"); } }),
  () => ({ toJSON() { throw Object.defineProperty({}, "message", { get() { throw null; } }); } }),
  () => ({ toJSON() { throw new Proxy({}, { get() { throw null; }, getPrototypeOf() { throw null; } }); } }),
  () => ({ toJSON() { throw Symbol("thrown"); } }),
  () => Object.defineProperty({}, "x", { enumerable: true, get() { throw null; } }),
  () => new Proxy({}, { ownKeys() { throw null; } }),
  () => new Proxy({ a: 1 }, { get() { throw new TypeError("trap"); } }),
  () => { const o = { a: 1 }; o.self = o; return o; },
  () => { const a = [1]; a.push({ back: a }); return a; },
  () => nested(20000, 1),
  () => nested(130, "deep but printable"),
  () => "\ud83d",
  () => "before \udfff after",
  () => ({ "\ud800key": "\udc00" }),
  () => Symbol("s"),
  () => () => 1,
  () => undefined,
  () => NaN,
  () => -Infinity,
  () => -0,
  () => 2 ** 53 + 1,
  () => 1e308 * 10,
  () => new Date(NaN),
  () => new Map([["a", 1]]),
  () => new Uint8Array([1, 2, 3]),
  () => Object.create(null),
  () => "x".repeat(1 << 20),
  () => "é€𝄞".repeat(1000),
  () => 4294967295,
  () => 4294967296,
  () => -1,
];

// Every path in a JSON value (objects and arrays), shallow first.
function paths(value, prefix = [], out = [], limit = 400) {
  if (out.length >= limit || value === null || typeof value !== "object") return out;
  for (const key of Object.keys(value)) {
    out.push([...prefix, key]);
    paths(value[key], [...prefix, key], out, limit);
  }
  return out;
}

function setAt(target, path, value) {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
}

function checkShape(output, context) {
  assert.ok(output !== null && typeof output === "object", `${context}: ${output}`);
  const keys = Object.keys(output).sort().join(",");
  if ("calls" in output) {
    assert.ok(keys === "calls" || keys === "calls,continuation", `${context}: ${keys}`);
    assert.equal(output.calls.length, 1, context);
  } else if ("error" in output) {
    assert.equal(keys, "error", context);
    assert.match(output.error.code, /^[A-Z_]+$/, context);
    assert.equal(typeof output.error.message, "string", context);
  } else {
    assert.ok(Array.isArray(output.effects), `${context}: ${JSON.stringify(output).slice(0, 300)}`);
    for (const at of output.effects.map((e) => e.at).filter(Boolean)) {
      assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, context);
    }
  }
  // A host gets plain JSON values back.
  assert.deepStrictEqual(JSON.parse(JSON.stringify(output)), output, context);
}

for (const id of components) {
  test(`${id}: hostile JS values anywhere in the input give an answer, never a throw`, () => {
    const component = loadComponent(id);
    const inputs = fixtureInputs(id);
    const random = rng(Number(process.env.HOSTILE_SEED ?? 13));
    const pick = (list) => list[Math.floor(random() * list.length)];
    for (let i = 0; i < CASES; i++) {
      const input = structuredClone(pick(inputs));
      const where = pick([[], ...paths(input)]);
      const which = Math.floor(random() * hostile.length);
      const value = hostile[which]();
      let target = input;
      if (where.length === 0) target = value;
      else setAt(input, where, value);
      const context = `${id} case ${i}: hostile[${which}] at ${where.join(".") || "(the input)"}`;
      let output;
      assert.doesNotThrow(() => { output = component.run(target); }, context);
      checkShape(output, context);
    }
  });
}

test("a thrown null, undefined or Proxy while reading the input is BAD_INPUT, not a TypeError", () => {
  const rule = loadComponent("rules/cart-kustom-sync");
  for (const thrown of [null, undefined, 0, "", new Proxy({}, { get() { throw null; } })]) {
    const output = rule.run({ toJSON() { throw thrown; } });
    assert.equal(output.error?.code, "BAD_INPUT", JSON.stringify(output));
    assert.match(output.error.message, /cannot be written as JSON/);
  }
});

test("a lone surrogate becomes U+FFFD instead of refusing the input", () => {
  const rule = loadComponent("rules/cart-kustom-sync");
  const cart = fixtureInputs("rules/cart-kustom-sync").find((i) => i.items?.length && i.fields?.kustomOrderId && i.cartState === "open");
  const clean = rule.run(cart);
  assert.ok(clean.effects, JSON.stringify(clean));
  const broken = structuredClone(cart);
  broken.items[0].description = "T-shirt \ud83d";
  const output = rule.run(broken);
  assert.ok(output.effects, JSON.stringify(output));
  const payload = output.effects[0].fields.kustomPendingPayload;
  assert.equal(payload.order_lines[0].name, "T-shirt \ufffd");
  // Paired halves stay a pair.
  broken.items[0].description = "T-shirt \ud83d\ude00";
  assert.equal(rule.run(broken).effects[0].fields.kustomPendingPayload.order_lines[0].name, "T-shirt 😀");
});

test("a job's retry counter at 2^32 − 1 gives up cleanly on wasm32 (no 32-bit overflow)", () => {
  const job = loadComponent("jobs/sync-kustom-order");
  const input = JSON.parse(
    readFileSync(join(root, "tests/fixtures/jobs/sync-kustom-order/11-server-error-retries-with-backoff.json"), "utf8"),
  ).input;
  for (const attempt of [5, 4294967294, 4294967295]) {
    const output = job.run({ ...input, attempt });
    assert.ok(Array.isArray(output.effects), `${attempt}: ${JSON.stringify(output)}`);
    assert.equal(output.effects.filter((e) => e.effect === "scheduleJob").length, 0);
  }
});

test("multi-byte characters in a timestamp are refused, not trapped on", () => {
  const rule = loadComponent("rules/cart-kustom-sync");
  const cart = fixtureInputs("rules/cart-kustom-sync")[0];
  for (const now of ["2026-11-25T09:30:00é1:00", "2026-11-25T09:30:00+0é00", "2026-11-25T09:30:0€Z"]) {
    const output = rule.run({ ...cart, now });
    assert.equal(output.error?.code, "BAD_INPUT", `${now}: ${JSON.stringify(output)}`);
  }
});
