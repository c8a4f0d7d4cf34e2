// The simulation's invariants, checked on a quiet system: what the platform (the host's state),
// Kustom (the emulator: its orders and every request it was sent) and the shoppers saw must agree.
// Each failure is a sentence naming the cart or order; `count` is the number of checks made.
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/// The codes a component may answer with (docs/error-codes.md).
const DOCUMENTED = new Set([...readFileSync(join(root, "docs/error-codes.md"), "utf8").matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
const minor = (amount) => Math.round(amount * 100);
const sum = (list, f) => list.reduce((total, x) => total + f(x), 0);

/// `crashed`: the host was killed during the run. `validate(order)`: Kustom's validation
/// callback to the host with this order (what the shopper's next payment attempt sends).
export async function checkInvariants({ state, requests, sessions, kustom, control, lines, crashed, validate }) {
  const failures = [];
  let count = 0;
  const check = (ok, text) => { count++; if (!ok) failures.push(text); };
  const created = requests.filter((r) => r.method === "POST" && r.path === "/checkout/v3/orders" && r.status === 201).map((r) => r.response_body.order_id);
  const views = Object.fromEntries(await Promise.all(created.map(async (id) => [id, (await control(`/orders/${id}`)).body])));
  const carts = Object.values(state.carts);
  const payments = Object.values(state.payments);
  let paid = 0;

  // 1. Once a cart is quiet, Kustom's order holds its newest payload whenever the hashes meet
  //    (also checked before every payment attempt, sim.mjs). One exception, the one the sync
  //    explorer found: a host killed while a slow push was on its way, whose request landed after
  //    the whole next sync. No job can see that; the shopper's next attempt must: validation
  //    refuses it as the app's own older payload and re-asserts the newest.
  for (const cart of carts) {
    const view = views[cart.dynamic["field:kustomOrderId"]];
    const problem = quietCartProblem(cart, view);
    if (!problem) continue;
    if (problem.behind && crashed) {
      const answer = await validate(view.checkout);
      check(answer.status === 400 && /being updated/.test(answer.body?.error_text ?? ""),
        `${problem.text}, after a host crash; and validation did not re-assert: ${answer.status} ${JSON.stringify(answer.body)}`);
      continue;
    }
    check(false, problem.text);
  }

  // 2. Every order paid at Kustom ends as exactly one completed cart with one payment for
  //    Kustom's amount (confirm, the push or the watchdog), unless the app recorded why not.
  for (const [orderId, view] of Object.entries(views)) {
    if (!view.om) continue;
    const om = view.om;
    const mine = payments.filter((p) => p.externalReference === orderId);
    const cart = carts.find((c) => c.dynamic["field:kustomOrderId"] === orderId) ?? carts.find((c) => c.cartId === om.merchant_reference2);
    const refused = cart?.dynamic?.["field:kustomConfirmError"];
    const rejected = om.fraud_status === "REJECTED";
    paid++;
    check(mine.length <= 1, `Kustom order ${orderId}: ${mine.length} payments`);
    if (rejected) {
      const completed = cart?.state === "completed";
      const failed = mine[0]?.authorizations?.every((a) => a.authorizationState === "failed");
      check(!completed || failed, `Kustom order ${orderId} was fraud-rejected, yet cart ${cart?.cartId} is completed with a live authorization`);
      continue;
    }
    if (refused) continue; // AMOUNT_MISMATCH, ADDRESS_REFUSED: recorded on the cart for the merchant
    check(cart?.state === "completed", `Kustom order ${orderId} is paid (${om.status}) but cart ${cart?.cartId} is ${cart?.state}`);
    check(mine.length === 1, `Kustom order ${orderId} is paid but has ${mine.length} payments`);
    if (mine.length !== 1 || cart?.state !== "completed") continue;
    const payment = mine[0];
    check(cart.relations.filter((r) => r.key === "payments").map((r) => r.nodeId).join() === payment.paymentId, `cart ${cart.cartId} is not linked to payment ${payment.paymentId} alone`);
    check(payment.authorizations.length === 1 && minor(payment.authorizations[0].amount) === om.original_order_amount,
      `payment ${payment.paymentId}: authorized ${JSON.stringify(payment.authorizations.map((a) => a.amount))}, Kustom ${om.original_order_amount}`);
  }

  // 3. Nothing unpaid is completed.
  for (const cart of carts.filter((c) => c.state === "completed")) {
    const orderId = cart.dynamic["field:kustomOrderId"];
    const view = views[orderId];
    check(view?.om, `cart ${cart.cartId} is completed but its Kustom order ${orderId} was never paid`);
  }

  // 4. Money: captured at Kustom equals the platform's charges; refunds never exceed captures;
  //    nothing is captured or refunded twice.
  for (const payment of payments) {
    const om = views[payment.externalReference]?.om;
    if (!om) continue;
    const order = await kustom(`/ordermanagement/v1/orders/${payment.externalReference}`);
    const charged = sum(payment.charges, (c) => minor(c.amount));
    check(order.captured_amount === charged, `Kustom order ${order.order_id}: captured ${order.captured_amount} at Kustom, charged ${charged} on payment ${payment.paymentId}`);
    const refunded = sum(payment.refunds ?? [], (r) => minor(r.amount));
    check(order.refunded_amount === refunded, `Kustom order ${order.order_id}: refunded ${order.refunded_amount} at Kustom, ${refunded} on payment ${payment.paymentId}`);
    check(order.refunded_amount <= order.captured_amount, `Kustom order ${order.order_id}: refunded ${order.refunded_amount} of ${order.captured_amount} captured`);
    const captureRefs = order.captures.map((c) => c.reference).filter(Boolean);
    check(new Set(captureRefs).size === captureRefs.length, `Kustom order ${order.order_id}: a platform capture captured twice (${captureRefs})`);
    const refundRefs = order.refunds.map((r) => r.reference).filter(Boolean);
    check(new Set(refundRefs).size === refundRefs.length, `Kustom order ${order.order_id}: a refund made twice (${refundRefs})`);
    // Every capture the merchant made is taken at Kustom, or the payment's log says why not
    // (a cancelled order, a rejected fraud review, Kustom's refusal).
    const pending = payment.captures.filter((c) => c.state === "pending");
    const explained = payment.activity.some((a) => !/^Captured /.test(a.template));
    check(!pending.length || explained || order.status === "CANCELLED",
      `payment ${payment.paymentId}: capture ${pending.map((c) => `${c.paymentCaptureId} (${c.remainingAmount})`).join(", ")} still pending at the end, nothing logged`);
    const platformCaptured = sum(payment.captures, (c) => minor(c.capturedAmount));
    check(platformCaptured === charged - refunded, `payment ${payment.paymentId}: its captures hold ${platformCaptured}, charges less refunds ${charged - refunded}`);
  }

  // 5. No component error other than the documented ones.
  for (const line of lines) {
    const error = / error ([A-Z_]+): /.exec(line);
    if (error) check(DOCUMENTED.has(error[1]), `undocumented component error: ${line}`);
    if (/failed in the host/.test(line)) check(false, `a component failed in the host: ${line}`);
  }
  // The sessions' own expectations: a shopper whose payment went through at Kustom saw it paid.
  for (const session of sessions) count += session.calls.length;
  return { failures, count, orders: created.length, paid };
}

/// The cart's goods as `{productNumber: quantity}`, as the storefront shows them.
const renderedItems = (cart) => quantitiesOf(cart.items.map((item) => [item.productNumber, item.quantity]));
function quantitiesOf(pairs) {
  const quantities = {};
  for (const [reference, quantity] of pairs) quantities[reference] = (quantities[reference] ?? 0) + quantity;
  return Object.fromEntries(Object.entries(quantities).sort());
}

/// For an open cart whose Kustom order is still in checkout: why the cart and Kustom disagree
/// once the cart is quiet, as `{text, behind}` (`behind`: the hashes met but Kustom holds another
/// payload), or `null` when they agree or nothing is to check.
export function quietCartProblem(cart, view) {
  const f = cart.dynamic;
  const pending = f["field:kustomPendingHash"];
  if (cart.state !== "open" || !view || view.checkout_expired || view.aborted || view.checkout?.status !== "checkout_incomplete") return null;
  if (!pending || pending.startsWith("unsyncable:")) return null;
  // A quiet cart converges: the storefront keeps the iframe suspended while the hashes differ.
  if (pending !== f["field:kustomSyncHash"]) {
    return { behind: false, text: `cart ${cart.cartId} is quiet but its hashes never met (pending ${pending.slice(0, 12)}, synced ${String(f["field:kustomSyncHash"]).slice(0, 12)}): the iframe stays suspended` };
  }
  const held = quantitiesOf(view.checkout.order_lines.filter((l) => l.type === "physical").map((l) => [l.reference, l.quantity]));
  const rendered = renderedItems(cart);
  if (JSON.stringify(held) === JSON.stringify(rendered)) return null;
  return { behind: true, text: `cart ${cart.cartId}: the hashes met at ${pending.slice(0, 12)} but Kustom's order ${view.order_id} holds ${JSON.stringify(held)}, the cart ${JSON.stringify(rendered)}` };
}

