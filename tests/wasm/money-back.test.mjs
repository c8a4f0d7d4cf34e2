// The money-back modules (refund, release, and the capture's tracking) against inputs only a
// JavaScript host can produce and against hostile amounts: a clear error or a defined outcome,
// never a trap; and no setting value in any error, log or effect of any fixture.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadComponent } from "./fixtures.test.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixture = (id, name) => JSON.parse(readFileSync(join(root, "tests/fixtures", id, `${name}.json`), "utf8")).input;
const IDS = ["rules/refund", "jobs/refund-order", "rules/release", "jobs/release-authorization", "rules/capture", "jobs/capture-order"];

test("not an object at all: BAD_INPUT from every money-back module", () => {
  for (const id of IDS) {
    for (const input of [undefined, null, 42, "refund", [], () => 1]) {
      const output = loadComponent(id).run(input);
      assert.equal(output.error?.code, "BAD_INPUT", `${id} ${String(input)} -> ${JSON.stringify(output)}`);
    }
  }
});

test("hostile amounts in the refund rule and job: an error or nothing, never a trap", () => {
  const rule = loadComponent("rules/refund");
  const job = loadComponent("jobs/refund-order");
  for (const value of [NaN, Infinity, -Infinity, -1e300, 1e300, -1e15, -Number.MIN_VALUE, "-12.5", true, {}, 49n]) {
    const input = fixture("rules/refund", "over-charge-schedules-refund");
    input.capture.remainingAmount = value;
    const output = rule.run(input);
    assert.ok(output.error?.code === "BAD_INPUT" || Array.isArray(output.effects), `${String(value)} -> ${JSON.stringify(output)}`);
    const parameters = fixture("jobs/refund-order", "01-reads-the-payment");
    parameters.amount = value;
    const answered = job.run(parameters);
    assert.ok(answered.error?.code === "BAD_INPUT" || answered.calls, `${String(value)} -> ${JSON.stringify(answered)}`);
  }
});

test("a KWD over-charge is scheduled in fils, never scaled by 100", () => {
  const output = loadComponent("rules/refund").run(fixture("rules/refund", "kwd-over-charge-keeps-three-decimals"));
  assert.equal(output.effects[0].parameters.amount, 1.234);
  const call = loadComponent("jobs/refund-order").run(fixture("jobs/refund-order", "17-kwd-refund-in-fils")).calls[0];
  assert.equal(call.body.refunded_amount, 1234);
});

test("no setting value in any error, log or effect of the fixtures", () => {
  const secrets = ["kco_test_api_7f3a9c", "kco_test_api_x"];
  for (const kind of ["rules", "jobs", "ingresses"]) {
    for (const component of readdirSync(join(root, "tests/fixtures", kind))) {
      const id = `${kind}/${component}`;
      for (const file of readdirSync(join(root, "tests/fixtures", id)).filter((f) => f.endsWith(".json"))) {
        const input = JSON.parse(readFileSync(join(root, "tests/fixtures", id, file), "utf8")).input;
        const output = loadComponent(id).run(input);
        const visible = JSON.stringify([output.error ?? null, output.log ?? [], output.effects ?? [], output.response ?? null]);
        for (const secret of secrets) assert.ok(!visible.includes(secret), `${id}/${file} shows a setting value`);
      }
    }
  }
});
