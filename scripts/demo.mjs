// The sync flow on the built wasm modules, with a minimal in-memory host and a fake Kustom:
// cart mutation → cart-kustom-sync → syncKustomOrder (its calls answered step by step) →
// hashes converge → the same cart again does nothing. Exits non-zero if any step does not hold.
// (Issue 6 replaces the fakes with the reference host and the Kustom emulator.)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const load = (id) => require(join(root, "dist/kustom-app", id, `${id.split("/")[1].replaceAll("-", "_")}.js`));
const rule = load("rules/cart-kustom-sync");
const job = load("jobs/sync-kustom-order");

const settings = { apiKey: "kco_test_api_demo", environment: "playground" };
let clock = Date.parse("2026-11-25T09:30:00Z");
const now = () => new Date((clock += 1000)).toISOString();
const money = (minor) => (minor / 100).toFixed(2);
const short = (h) => (h ? String(h).slice(0, 12) : "(none)");
function check(ok, what) {
  if (!ok) { console.error(`✗ ${what}`); process.exit(1); }
  console.log(`✓ ${what}`);
}

// --- the host's state: one cart ticket, one Kustom order
const cart = JSON.parse(readFileSync(join(root, "examples/sample-cart.json"), "utf8"));
const ticket = { state: "open", dynamic: { "field:kustomOrderId": cart.fields.kustomOrderId } };
const kustom = { [cart.fields.kustomOrderId]: { status: "checkout_incomplete", order_lines: [], order_amount: 0, order_tax_amount: 0 } };
const jobs = [];

function renderedFields() {
  const fields = {};
  for (const [k, v] of Object.entries(ticket.dynamic)) if (k.startsWith("field:") && v != null) fields[k.slice(6)] = v;
  return fields;
}
function applyCommand(command) {
  if (command.type === "setDynamicFields") Object.assign(ticket.dynamic, command.fields);
  if (command.type === "addActivityLog") console.log(`    activity log: ${command.messageTemplate}`);
}
function perform(call) {
  if (call.call === "messageActor") {
    const [message] = call.messages;
    if (message.type === "applyCommands") {
      message.body.commands.forEach(applyCommand);
      return { actorId: call.actorId, paths: [], data: { applyCommands: "OK" }, errors: [] };
    }
    return { actorId: call.actorId, paths: [], data: { query: structuredClone(ticket) }, errors: [] };
  }
  const id = call.url.split("/").pop();
  const body = call.body;
  // The one rule that matters here: Kustom refuses lines that do not add up.
  const sum = body.order_lines.reduce((s, l) => s + l.total_amount, 0);
  if (sum !== body.order_amount) return { status: 400, body: { error_code: "BAD_VALUE", error_messages: ["Bad value: order_amount"] } };
  Object.assign(kustom[id], body);
  return { status: 200, body: { order_id: id, ...kustom[id] } };
}

function mutate(description, change) {
  change(cart);
  console.log(`\n● ${description}`);
  const output = rule.run({ ...cart, fields: renderedFields(), now: now(), settings });
  check(!output.error, `cart-kustom-sync ran${output.error ? `: ${JSON.stringify(output.error)}` : ""}`);
  for (const line of output.log ?? []) console.log(`    rule: ${line}`);
  for (const effect of output.effects) {
    if (effect.effect === "ticketCommand") applyCommand(effect);
    if (effect.effect === "scheduleJob") jobs.push(effect.parameters);
  }
  return output;
}

function runJobs() {
  while (jobs.length) {
    const parameters = jobs.shift();
    const input = { ...parameters, settings, now: now(), replies: [] };
    for (;;) {
      const output = job.run(input);
      check(!output.error, `syncKustomOrder step ${input.replies.length}${output.error ? `: ${JSON.stringify(output.error)}` : ""}`);
      if (!output.calls) {
        for (const line of output.log ?? []) console.log(`    job: ${line}`);
        for (const effect of output.effects) {
          if (effect.effect === "messageActor") effect.body.commands.forEach(applyCommand);
          if (effect.effect === "scheduleJob") jobs.push(effect.parameters);
        }
        break;
      }
      for (const call of output.calls) {
        const reply = perform(call);
        const what = call.call === "http" ? `${call.method} ${call.url}` : `ticket ${call.messages[0].type}`;
        console.log(`    job → ${what}  ← ${reply.status ?? "ok"}`);
        input.replies.push(reply);
      }
    }
  }
}

function show(orderId) {
  const order = kustom[orderId];
  console.log(`    Kustom order ${orderId}: ${order.purchase_currency} ${money(order.order_amount)} (tax ${money(order.order_tax_amount)})`);
  for (const l of order.order_lines)
    console.log(`      ${l.type.padEnd(12)} ${l.reference.padEnd(16)} ${String(l.quantity).padStart(3)} × ${money(l.unit_price).padStart(8)}  −${money(l.total_discount_amount).padStart(7)}  = ${money(l.total_amount).padStart(8)}  tax ${String(l.tax_rate / 100).padStart(4)} % ${money(l.total_tax_amount).padStart(7)}`);
}

const orderId = cart.fields.kustomOrderId;
mutate("customer opens the checkout with 2 T-shirts, a cookbook and 3 mugs", () => {});
check(ticket.dynamic["field:kustomPendingHash"] !== ticket.dynamic["field:kustomSyncHash"], `pending ${short(ticket.dynamic["field:kustomPendingHash"])} ≠ synced ${short(ticket.dynamic["field:kustomSyncHash"])}: the storefront suspends the iframe`);
runJobs();
show(orderId);
check(ticket.dynamic["field:kustomSyncHash"] === ticket.dynamic["field:kustomPendingHash"], "hashes converged: the storefront resumes the iframe");
check(kustom[orderId].order_amount === 94080, "Kustom holds SEK 940.80, the cart's total");

mutate("customer adds a fourth mug", (c) => {
  const mug = c.items[2];
  mug.quantity = 4; mug.total = 359.6; mug.tax = 71.92;
  c.orderTotal = 1030.7; c.orderTaxTotal = 174; c.productTotal = 981.7;
});
runJobs();
show(orderId);
check(ticket.dynamic["field:kustomSyncHash"] === ticket.dynamic["field:kustomPendingHash"], "hashes converged again");
check(kustom[orderId].order_amount === 103070 && kustom[orderId].order_lines[2].quantity === 4, "Kustom holds the new cart: SEK 1030.70 with 4 mugs");

const output = mutate("customer types an email address (payload unchanged)", (c) => { c.email = "anna@example.se"; });
check(output.effects.length === 0, "no sync scheduled for a mutation that does not change the Kustom payload");
console.log("\nDone: the cart and the Kustom order agree.");
