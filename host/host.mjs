// Reference host: runs the built component modules the way Hantera would, implementing the host
// contract (docs/host-contract.md) with the platform's semantics: HTTP ingresses on their
// manifest routes, ticket and payment actors (a ticket completes once, a payment's
// externalReference is unique, a message batch is one transaction), graph queries, hooks and
// `triggerHook`, and a job queue that honours `at`. A minimal Commerce cart fires
// `OnCartMutation` after each mutation. State lives in one JSON file, written after every
// change, so a restarted host carries on where it stopped.
//
//   import { startHost } from "./host/host.mjs";
//   const host = await startHost({ kustomUrl, dataFile, publicBaseUrl, timeScale });
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { renderCart, profileOf, CATALOG, PROFILES, DEFAULT_PROFILE, REGISTRY, CARRIERS, DELIVERY_FIELDS } from "./commerce.mjs";
import { openStore } from "./store.mjs";
import { shopFile } from "./shop.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/// docs/validation.md's sample merchant rule: block when an item is no longer in stock.
export function stockRule(input) {
  const line = input.orderLines.find((l) => l.reservedQuantity < l.quantity);
  if (!line) return [];
  return [{ effect: "validationError", code: "item_out_of_stock",
    message: `${line.description ?? line.productNumber}: only ${line.reservedQuantity} left in stock`, details: { productNumber: line.productNumber } }];
}

/// A value as it arrives on the far side of a wire: a deep copy that shares nothing with the
/// host's state (JSON, as the platform's replies and hook payloads are).
export const snapshot = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

export async function startHost({ port = 0, packageDir = join(root, "dist/kustom-app"), dataFile, kustomUrl, apiKey = "kco_test_api_emulator",
  publicBaseUrl, timeScale = 1, jobConcurrency = 8, crashAfter, httpTimeoutCapMs = Infinity, log = () => {}, onStep, defects = {}, merchantRules = { OnKustomValidation: [stockRule] } } = {}) {
  const manifest = JSON.parse(readFileSync(join(packageDir, "manifest.json"), "utf8"));
  const modules = Object.fromEntries(manifest.components.map((c) => {
    const file = join(packageDir, c.id, `${c.id.split("/")[1].replaceAll("-", "_")}.js`);
    return [c.id, require(file)];
  }));
  const jobComponents = Object.fromEntries(manifest.jobDefinitions.map((j) => [j.id, j.componentId]));
  // `defects.liveReplies` (test only: the simulator's proof that it finds the defect of issue 26)
  // is the host of then: it replays (every reply again at every step, no continuation) and hands
  // components its live objects instead of snapshots.
  const given = defects.liveReplies ? (value) => value : snapshot;
  const hookRules = (hook) => manifest.components.filter((c) => c.hook === hook).map((c) => c.id);

  // ---------------------------------------------------------------- state, persisted
  const store = openStore(dataFile, { carts: {}, payments: {}, orders: {}, jobs: [], stock: Object.fromEntries(Object.keys(CATALOG).map((k) => [k, 100])),
    registry: structuredClone(REGISTRY), carriers: structuredClone(CARRIERS) },
    { onCommit: (change) => Object.keys(change.carts ?? {}).forEach(cartChanged) });
  const { state } = store;
  const events = []; // the latest log lines, in memory only
  const crashPattern = crashAfter ? new RegExp(crashAfter) : null;
  const event = (text) => {
    events.push(text);
    if (events.length > 500) events.splice(0, events.length - 500);
    log(text);
  };
  // Kustom calls back (validation, push) on publicBaseUrl: by default the host's own address.
  const settings = { apiKey, environment: "playground", apiBaseUrl: kustomUrl, publicBaseUrl };
  // Emulated time runs `timeScale` times faster than the wall clock, from the host's start.
  const started = Date.now();
  const now = () => new Date(started + (Date.now() - started) * timeScale).toISOString();

  // ---------------------------------------------------------------- cart event streams
  // Commerce's `GET carts/{cartId}/events` (server-sent events `init`, then `updated`, each the
  // rendered cart): what the storefront follows to suspend and resume the Kustom iframe. A
  // mutation's cart goes out once the rules it fired have run (their fields with it), as one
  // update; other changes (a job's hash, a completion) go out when committed.
  const streams = new Map(); // cartId → Set of open responses
  let held = 0; // > 0 while a mutation and its rules run
  const waiting = new Set();
  function cartChanged(cartId) {
    if (!streams.has(cartId)) return;
    waiting.add(cartId);
    if (!held) flushStreams();
  }
  function flushStreams() {
    for (const cartId of waiting) {
      const cart = rendered(cartId);
      for (const response of streams.get(cartId) ?? []) response.write(`event: updated\ndata: ${JSON.stringify(cart)}\n\n`);
    }
    waiting.clear();
  }
  function openStream(cartId, request, response) {
    const cart = rendered(cartId);
    if (!cart) { response.writeHead(404, { "content-type": "application/json" }); return response.end(JSON.stringify({ error: { code: "CART_NOT_FOUND", message: cartId } })); }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    response.write(`retry: 1000\nevent: init\ndata: ${JSON.stringify(cart)}\n\n`);
    if (!streams.has(cartId)) streams.set(cartId, new Set());
    streams.get(cartId).add(response);
    const keepAlive = setInterval(() => response.write(": keep-alive\n\n"), 15_000);
    request.on("close", () => {
      clearInterval(keepAlive);
      streams.get(cartId)?.delete(response);
      if (!streams.get(cartId)?.size) streams.delete(cartId);
    });
  }

  // ---------------------------------------------------------------- actors
  /// The rendered cart as the storefront gets it (Commerce's `GET carts/{cartId}`, its events).
  const rendered = (cartId) => {
    const cart = state.carts[cartId];
    return cart ? renderCart(cart, { stock: state.stock, carriers: state.carriers }) : null;
  };
  /// The rendered cart as a component gets it (the `OnCartMutation` input, the `renderCart`
  /// reply): with `channel`, the registry entry `channels/<channelKey>` of the cart's channel
  /// (docs/host-contract.md). [I] On Hantera a Filtrera shim reads `registry->$'channels/{channelKey}'`.
  /// Not on the storefront's cart: a channel entry is the merchant's configuration.
  const renderedForApp = (cartId) => {
    const cart = rendered(cartId);
    return cart && { ...cart, channel: state.registry[`channels/${cart.channelKey}`] ?? null };
  };
  function applyTicketCommand(cart, command) {
    if (cart.state !== "open") throw { code: "INVALID_STATE", message: `ticket is ${cart.state}` };
    switch (command.type) {
      case "setDynamicFields":
        for (const [key, value] of Object.entries(command.fields)) {
          if (value === null) delete cart.dynamic[key]; else cart.dynamic[key] = value;
        }
        // What the storefront watches: the iframe resumes when the two hashes agree again.
        if ("field:kustomSyncHash" in command.fields && cart.dynamic["field:kustomSyncHash"] === cart.dynamic["field:kustomPendingHash"]) {
          event(`cart ${cart.cartId} in sync at ${cart.dynamic["field:kustomSyncHash"]}`);
        }
        break;
      case "addActivityLog": cart.activity.push({ template: command.messageTemplate, dynamic: command.dynamic }); break;
      case "createRelation": cart.relations.push({ key: command.relationKey, nodeId: command.nodeId }); break;
      // The customer's data (docs/host-contract.md, "customer data on the cart"); countries are
      // checked against the cart profile, as Commerce's address ingress does.
      case "setAddress": {
        for (const key of ["address", "invoiceRecipient"]) {
          const country = command[key]?.countryCode;
          const profile = profileOf(cart);
          if (command[key] && !profile.allowedCountries.includes(country)) throw { code: "INVALID_COMMAND", message: `${key}: country ${country ?? "(none)"} is not allowed in cart profile ${profile.profileKey}` };
        }
        if (command.address) cart.address = command.address;
        if (command.invoiceRecipient) cart.invoiceRecipient = command.invoiceRecipient;
        break;
      }
      case "setEmail": cart.email = command.email; break;
      case "setPhone": cart.phone = command.phone; break;
      default: throw { code: "INVALID_COMMAND", message: command.type };
    }
  }
  function applyPaymentCommand(payment, command) {
    switch (command.type) {
      case "createAuthorization": payment.authorizations.push({ authorizationNumber: command.authorizationNumber, amount: command.amount, authorizationState: command.authorizationState ?? "successful" }); break;
      // [?] the fraud review's outcome on the authorization (docs/host-contract.md)
      case "setAuthorizationState": {
        const authorization = payment.authorizations.find((a) => a.authorizationNumber === command.authorizationNumber);
        if (!authorization) throw { code: "INVALID_COMMAND", message: `no authorization ${command.authorizationNumber}` };
        authorization.authorizationState = command.authorizationState;
        break;
      }
      case "generatePaymentNumberByPrefix": payment.paymentNumber = `${command.prefix}${10000 + Object.keys(state.payments).length}`; break;
      case "addActivityLog": payment.activity.push({ template: command.messageTemplate, dynamic: command.dynamic }); break;
      case "setAuthorizationState": {
        const authorization = payment.authorizations.find((a) => a.authorizationNumber === command.authorizationNumber);
        if (!authorization) throw { code: "NOT_FOUND", message: `authorization ${command.authorizationNumber}` };
        authorization.authorizationState = command.authorizationState;
        event(`payment ${payment.paymentId}: authorization ${command.authorizationNumber} ${command.authorizationState}`);
        break;
      }
      default: throw { code: "INVALID_COMMAND", message: command.type };
    }
  }
  /// A batch of messages to one actor is one transaction: all apply, or none.
  function messageActor({ actorType, actorId, messages }) {
    // A batch is one transaction: keep the actor as it was, to put back if a message fails.
    const kind = actorType === "ticket" ? "carts" : "payments";
    const before = actorId && state[kind][actorId] ? structuredClone(state[kind][actorId]) : undefined;
    const data = {};
    const createdOrders = []; // by a `complete` in this batch: kept, and announced, only if it commits
    try {
      for (const message of messages) {
        if (actorType === "ticket") {
          const cart = state.carts[actorId];
          if (!cart) throw { code: "NOT_FOUND", message: `ticket ${actorId}` };
          if (message.type === "query") data.query = { state: cart.state, dynamic: cart.dynamic };
          else if (message.type === "applyCommands") message.body.commands.forEach((c) => applyTicketCommand(cart, c));
          else if (message.type === "complete") {
            if (cart.state !== "open") throw { code: "INVALID_STATE", message: `ticket is ${cart.state}` };
            if (!cart.relations.some((r) => r.key === "payments")) throw { code: "NO_PAYMENT", message: "a cart completes with its payment" };
            cart.state = "completed";
            event(`cart ${actorId} completed`);
            createdOrders.push(createOrder(cart));
          } else throw { code: "INVALID_MESSAGE_BODY", message: message.type };
          data[message.type] = data[message.type] ?? "OK";
        } else if (actorType === "payment") {
          if (message.type === "create") {
            const body = message.body;
            if (Object.values(state.payments).some((p) => p.externalReference === body.externalReference))
              throw { code: "DUPLICATE_EXTERNAL_REFERENCE", message: body.externalReference };
            actorId = randomUUID();
            state.payments[actorId] = { paymentId: actorId, providerKey: body.providerKey, externalReference: body.externalReference, currencyCode: body.currencyCode,
              authorizations: [], captures: [], charges: [], activity: [] };
            (body.commands ?? []).forEach((c) => applyPaymentCommand(state.payments[actorId], c));
            event(`payment ${actorId} created for ${body.externalReference}`);
          } else {
            const payment = state.payments[actorId];
            if (!payment) throw { code: "NOT_FOUND", message: `payment ${actorId}` };
            if (message.type === "query") data.query = payment;
            else if (message.type === "applyCommands") message.body.commands.forEach((c) => applyPaymentCommand(payment, c));
            else if (message.type === "charge") charge(payment, message.body);
            else if (message.type === "refund") refund(payment, message.body);
            else throw { code: "INVALID_MESSAGE_BODY", message: message.type };
          }
        }
      }
    } catch (error) {
      if (before) state[kind][actorId] = before; else if (actorId) delete state[kind][actorId]; // a payment created in this batch
      for (const orderId of createdOrders) delete state.orders[orderId];
      return { actorId: null, paths: [], data: {}, errors: [{ code: error.code ?? "ERROR", message: error.message ?? String(error) }] };
    }
    store.changed(kind, actorId);
    store.commit();
    // After the commit, as the platform's After hooks: the new order's rules (the order number at Kustom).
    for (const orderId of createdOrders) {
      queueMicrotask(() => fireHook("OnOrderCreated", { order: structuredClone(state.orders[orderId]) })
        .catch((error) => event(`OnOrderCreated for order ${orderId} failed in the host: ${error.message}`)));
    }
    return { actorId, paths: [], data, errors: [] };
  }
  /// Commerce's cart-to-order step, reduced to what the app reads and what a merchant checks: the
  /// order, its number, state and totals (the cart's), one delivery with the cart's shipping, and
  /// the cart's payments (the order's payments in the graph). The cart's `deliveryDynamicFields`
  /// become the delivery's `dynamic` (Commerce's cart-to-order rule); the shipping the customer
  /// chose in Kustom's iframe is already the cart's shipping (commerce.mjs, the host's stand-in
  /// for a Commerce shipping rule). The caller fires `OnOrderCreated {order}` once the batch that
  /// completed the cart commits.
  function createOrder(cart) {
    const orderId = randomUUID();
    const view = renderCart(cart, { stock: state.stock, carriers: state.carriers });
    const delivery = structuredClone(cart.dynamic[DELIVERY_FIELDS] ?? {});
    const chosen = typeof delivery.kustomShippingPrice === "number";
    state.orders[orderId] = { orderId, orderNumber: `O${10000 + Object.keys(state.orders).length}`, orderState: "confirmed", cartId: cart.cartId,
      channelKey: view.channelKey, currencyCode: view.currencyCode, orderTotal: view.orderTotal, orderTaxTotal: view.orderTaxTotal,
      paymentIds: cart.relations.filter((r) => r.key === "payments").map((r) => r.nodeId),
      deliveries: [{ deliveryId: randomUUID(), deliveryNumber: "D1", deliveryState: "pending", orderLines: [],
        shippingTotal: view.shippingTotal, shippingTax: view.shippingTax, dynamic: delivery }] };
    for (const paymentId of state.orders[orderId].paymentIds) if (state.payments[paymentId]) state.payments[paymentId].orderId = orderId;
    store.changed("orders");
    event(`order ${orderId} (${state.orders[orderId].orderNumber}) created from cart ${cart.cartId}${chosen ? `, delivery by ${delivery.kustomCarrier ?? delivery.kustomShippingOptionName ?? delivery.kustomShippingOptionId} ${view.shippingTotal}` : ""}`);
    return orderId;
  }
  /// `refund`: registers a refund of a capture's over-charge — the capture's balance rises by the
  /// amount, and the platform fires OnPaymentCapture for the update. [I] A refund whose
  /// transactionReference the payment already holds is refused (the platform's rule is not
  /// documented; this keeps a refund recorded once however often it is sent).
  function refund(payment, body) {
    payment.refunds ??= [];
    if (payment.refunds.some((r) => r.transactionReference === body.transactionReference)) {
      throw { code: "DUPLICATE_TRANSACTION_REFERENCE", message: body.transactionReference };
    }
    const capture = payment.captures.find((c) => c.paymentCaptureId === body.paymentCaptureId);
    if (!capture) throw { code: "NOT_FOUND", message: `capture ${body.paymentCaptureId}` };
    if (!(body.amount > 0) || body.amount > capture.capturedAmount + 1e-9) throw { code: "INVALID_AMOUNT", message: `refund ${body.amount} of ${capture.capturedAmount} charged` };
    payment.refunds.push(body);
    capture.remainingAmount = Math.round((capture.remainingAmount + body.amount) * 1e6) / 1e6;
    capture.capturedAmount = Math.round((capture.capturedAmount - body.amount) * 1e6) / 1e6;
    event(`payment ${payment.paymentId} refunded ${body.amount} (${body.transactionReference})`);
    queueMicrotask(() => fireHook("OnPaymentCapture", { payment, capture }));
  }
  /// `charge`: covers the oldest pending capture it fits (not necessarily the one its job was
  /// for: the message names none); a covered capture completes, and the platform fires
  /// OnPaymentCapture for the update.
  function charge(payment, body) {
    // [I] As for refunds: a charge whose transactionReference the payment already holds is
    // refused, so Kustom's capture is recorded once however often it is sent.
    if (body.transactionReference && payment.charges.some((c) => c.transactionReference === body.transactionReference)) {
      throw { code: "DUPLICATE_TRANSACTION_REFERENCE", message: body.transactionReference };
    }
    payment.charges.push(body);
    const capture = payment.captures.find((c) => c.state === "pending" && c.remainingAmount >= body.amount - 1e-9);
    if (!capture) return;
    capture.remainingAmount = Math.round((capture.remainingAmount - body.amount) * 100) / 100;
    capture.capturedAmount = Math.round((capture.capturedAmount + body.amount) * 100) / 100;
    if (capture.remainingAmount <= 0) capture.state = "completed";
    event(`payment ${payment.paymentId} charged ${body.amount} (${body.transactionReference})`);
    queueMicrotask(() => fireHook("OnPaymentCapture", { payment, capture }));
  }

  // ---------------------------------------------------------------- the contract
  /// "http POST /checkout/v3/orders", "messageActor payment create", …: what `crashAfter` matches.
  function describeCall(call) {
    if (call.call === "http") return `http ${call.method} ${new URL(call.url).pathname}`;
    if (call.call === "messageActor") return `messageActor ${call.actorType} ${call.messages.map((m) => m.type).join(",")}`;
    return call.call;
  }
  /// Fault injection for the restart tests: the process dies right after this call, as a killed
  /// host would (what it had saved stays; nothing after it happens).
  function crash(call) {
    log(`crashing after ${describeCall(call)} (crashAfter)`);
    process.kill(process.pid, "SIGKILL");
  }

  async function perform(call) {
    switch (call.call) {
      case "http": return httpCall(call);
      case "messageActor": return messageActor(call);
      case "renderCart": return renderedForApp(call.cartId) ?? { error: { code: "NOT_FOUND" } };
      case "query": {
        const value = call.filter.split("'")[1];
        if (call.set === "carts") return Object.entries(state.carts).filter(([, c]) => c.dynamic["field:kustomOrderId"] === value).map(([cartId]) => ({ cartId }));
        if (call.set === "payments" && call.filter.startsWith("orderId")) {
          return (state.orders[value]?.paymentIds ?? []).map((id) => state.payments[id]).filter(Boolean)
            .map((p) => ({ paymentId: p.paymentId, providerKey: p.providerKey, externalReference: p.externalReference, currencyCode: p.currencyCode }));
        }
        if (call.set === "payments") return Object.values(state.payments).filter((p) => p.externalReference === value).map((p) => ({ paymentId: p.paymentId }));
        return [];
      }
      case "triggerHook": return (merchantRules[call.hook] ?? []).flatMap((rule) => rule({ hook: call.hook, ...call.input }));
      default: throw new Error(`unknown call ${call.call}`);
    }
  }
  async function httpCall({ method, url, headers, body, timeoutMs }) {
    try {
      const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(Math.min(timeoutMs, httpTimeoutCapMs)) });
      return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    } catch (error) {
      return { error: { kind: error.name === "TimeoutError" ? "timeout" : "network", message: String(error.message ?? error) } };
    }
  }
  let runs = 0; // numbers each execution for `onStep` (tests: which steps belong together)
  /// Runs a component to the end: performs its calls one by one, re-running it with the replies.
  /// Runs a component to the end on the resume contract (docs/host-contract.md): each step gets
  /// the trigger, the continuation the previous step returned and the replies to the calls it
  /// asked for, nothing older (a component that returns no continuation is replayed: every reply
  /// so far). What it is handed is a snapshot taken when it is given, as the platform's values
  /// cross a wire (issue 26: a live object here made a correct sync job record a payload it never
  /// pushed); `snapshotted` says the caller took it already. A job keeps its continuation and
  /// pending calls in the queue (`persist`) before they are performed, so a host killed mid-job
  /// resumes it there and performs those calls again (`resumeFrom`). A continuation the module
  /// refuses (another release's) runs it from the start.
  async function run(componentId, input, context = {}, { resumeFrom, persist, snapshotted = false } = {}) {
    const trigger = snapshotted ? input : given(input);
    const runId = ++runs;
    let continuation = resumeFrom?.continuation ?? null;
    let replies = [];
    let pending = resumeFrom?.calls ?? null; // calls to perform before the next step
    for (let step = 0; step < 50; step++) {
      if (pending) {
        // Resuming, a step gets the newest replies alone. A component that returns no
        // continuation still replays: every reply so far (so did every component on the host of
        // issue 26, `defects.liveReplies`, which also kept them as the live objects it handed out).
        if (continuation) replies = [];
        for (const call of pending) {
          replies.push(given(await perform(call)));
          if (crashPattern?.test(describeCall(call))) crash(call);
        }
        pending = null;
      }
      const stepInput = { ...trigger, settings, now: now(), ...(continuation ? { continuation } : {}), replies };
      onStep?.(componentId, stepInput, runId);
      const output = modules[componentId].run(stepInput);
      if (output.error?.code === "CONTINUATION_REFUSED" && continuation) {
        event(`${componentId}: ${output.error.message}; running it from the start`);
        continuation = null;
        replies = [];
        continue;
      }
      if (output.error) { event(`${componentId}: error ${output.error.code}: ${output.error.message}`); return output; }
      if (!output.calls) {
        for (const line of output.log ?? []) log(`  ${componentId}: ${line}`);
        applyEffects(output.effects, context);
        return output;
      }
      continuation = defects.liveReplies ? null : output.continuation ?? null;
      pending = output.calls;
      if (continuation) persist?.(continuation, pending); // a replaying component starts again after a crash

    }
    throw new Error(`${componentId} made more than 50 calls`);
  }
  function applyEffects(effects, { cartId } = {}) {
    for (const effect of effects) {
      if (effect.effect === "ticketCommand") {
        try { applyTicketCommand(state.carts[cartId], effect); store.changed("carts", cartId); } catch (error) { event(`ticketCommand refused: ${error.message}`); }
      } else if (effect.effect === "messageActor") {
        const result = messageActor({ actorType: effect.actorType, actorId: effect.actorId, messages: [{ type: effect.messageType, body: effect.body }] });
        if (result.errors.length) event(`messageActor refused: ${JSON.stringify(result.errors)}`);
      } else if (effect.effect === "scheduleJob") {
        state.jobs.push({ id: randomUUID(), definition: effect.definition, parameters: effect.parameters, at: effect.at });
        store.changed("jobs");
        wakeJobs();
      }
    }
    store.commit();
  }
  /// Every rule of the hook gets the event as it was when it fired, not as an earlier rule's
  /// effects left the actors.
  async function fireHook(hook, input) {
    const fired = given({ hook, ...input });
    for (const id of hookRules(hook)) await run(id, fired, { cartId: fired.cartId }, { snapshotted: true });
  }

  // ---------------------------------------------------------------- jobs
  // Due jobs run concurrently, up to `jobConcurrency` at once, as a platform's workers would: two
  // sync jobs of one cart may overlap, which the job itself must (and does) tolerate.
  let timer = null, closed = false;
  const running = new Map(); // job id → its promise
  function wakeJobs() {
    if (closed) return;
    clearTimeout(timer);
    const waiting = state.jobs.filter((j) => !running.has(j.id));
    if (!waiting.length || running.size >= jobConcurrency) return;
    const due = Math.min(...waiting.map((j) => Date.parse(j.at)));
    const wait = Math.max(0, (due - Date.parse(now())) / timeScale);
    timer = setTimeout(startDueJobs, Math.min(wait, 2 ** 31 - 1));
  }
  function startDueJobs() {
    const t = Date.parse(now());
    const due = state.jobs.filter((j) => !running.has(j.id) && Date.parse(j.at) <= t).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    for (const job of due.slice(0, Math.max(0, jobConcurrency - running.size))) {
      const done = runJob(job).finally(() => { running.delete(job.id); wakeJobs(); });
      running.set(job.id, done);
    }
    wakeJobs();
  }
  async function runJob(job) {
    try {
      const resumeFrom = job.continuation ? { continuation: job.continuation, calls: job.calls } : undefined;
      if (resumeFrom) event(`job ${job.definition} ${job.id} resumes from its kept continuation, performing its pending call again`);
      await run(jobComponents[job.definition], job.parameters, { cartId: job.parameters.cartId }, {
        resumeFrom,
        persist: (continuation, calls) => { job.continuation = continuation; job.calls = calls; store.changed("jobs"); store.commit(); },
      });
    } catch (error) {
      event(`job ${job.definition} ${job.id} failed in the host: ${error.message}; it runs again`);
      job.at = new Date(Date.parse(now()) + 60_000).toISOString();
      store.changed("jobs");
      store.commit();
      return;
    }
    // Removed only after it ran: a host that dies mid-job runs it again (at least once).
    state.jobs = state.jobs.filter((j) => j.id !== job.id);
    store.changed("jobs");
    store.commit();
  }

  // ---------------------------------------------------------------- HTTP: ingresses, Commerce, admin
  const routes = manifest.ingresses.map((ingress) => ({ ingress, pattern: new RegExp(`^/ingress/${ingress.route.replace(/\{(\w+)\}/g, "(?<$1>[^/]+)")}$`) }));
  async function commerce(method, path, body) {
    const match = path.match(/^\/ingress\/commerce\/carts(?:\/([^/]+))?(?:\/([\w-]+))?$/);
    if (!match) return null;
    const [, cartId, action] = match;
    if (method === "POST" && !cartId) {
      const profileKey = body.profileKey ?? DEFAULT_PROFILE;
      if (!PROFILES[profileKey]) return [400, { error: { code: "UNKNOWN_PROFILE", message: String(profileKey) } }];
      const id = randomUUID();
      state.carts[id] = { cartId: id, state: "open", profileKey, locale: body.locale ?? "sv-SE", items: [], coupons: [], dynamic: {}, relations: [], activity: [], address: null, email: null };
      store.changed("carts", id);
      store.commit();
      return [200, { cartId: id }];
    }
    const cart = state.carts[cartId];
    if (!cart) return [404, { error: { code: "CART_NOT_FOUND", message: cartId } }];
    if (method === "GET" && !action) return [200, rendered(cartId)];
    if (cart.state !== "open") return [409, { error: { code: "CART_NOT_OPEN", message: cart.state } }];
    switch (action) {
      case "add-item": {
        if (!CATALOG[body.productNumber]) return [400, { error: { code: "UNKNOWN_PRODUCT", message: body.productNumber } }];
        cart.items.push({ cartItemId: randomUUID(), productNumber: body.productNumber, quantity: body.quantity ?? 1 });
        break;
      }
      case "set-quantity": cart.items.find((i) => i.cartItemId === body.cartItemId).quantity = body.quantity; break;
      case "remove-item": cart.items = cart.items.filter((i) => i.cartItemId !== body.cartItemId); break;
      case "add-coupon": cart.coupons.push(body.couponCode); break;
      case "remove-coupon": cart.coupons = cart.coupons.filter((c) => c !== body.couponCode); break;
      case "address": cart.address = body.address; break;
      case "email": cart.email = body.email; break;
      // [?] The cart's delivery data (ticket dynamic `deliveryDynamicFields`): merged, `null` removes a key.
      case "delivery-fields": {
        const fields = { ...cart.dynamic[DELIVERY_FIELDS] };
        for (const [key, value] of Object.entries(body.fields ?? {})) if (value === null) delete fields[key]; else fields[key] = value;
        cart.dynamic[DELIVERY_FIELDS] = fields;
        break;
      }
      default: return null; // not a Commerce route: maybe an ingress (payment/kustom)
    }
    held++;
    try {
      store.changed("carts", cartId);
      store.commit();
      const cartView = renderedForApp(cartId);
      await fireHook("OnCartMutation", cartView); // as Commerce does after every successful mutation
    } finally {
      held--;
      if (!held) flushStreams();
    }
    return [200, rendered(cartId)];
  }
  async function admin(method, path, body) {
    // The platform's side of a capture (e.g. a delivery shipped): a pending capture on the payment.
    const match = path.match(/^\/admin\/payments\/([^/]+)\/captures$/);
    if (method === "POST" && match) {
      const payment = state.payments[match[1]];
      // `shippingInfo` [{shippingCompany, trackingNumber, …}]: the delivery's tracking, when known.
      const capture = { paymentCaptureId: randomUUID(), state: "pending", remainingAmount: body.amount, capturedAmount: 0, orderId: payment.orderId ?? null,
        ...(body.shippingInfo ? { shippingInfo: body.shippingInfo } : {}) };
      payment.captures.push(capture);
      store.changed("payments", payment.paymentId);
      store.commit();
      await fireHook("OnPaymentCapture", { payment, capture });
      return [200, capture];
    }
    // The platform lowers a capture (a return credited): its balance goes below zero, an over-charge.
    const credit = path.match(/^\/admin\/payments\/([^/]+)\/captures\/([^/]+)\/credit$/);
    if (method === "POST" && credit) {
      const payment = state.payments[credit[1]];
      const capture = payment?.captures.find((c) => c.paymentCaptureId === credit[2]);
      if (!capture) return [404, { error: { code: "NOT_FOUND", message: path } }];
      capture.remainingAmount = Math.round((capture.remainingAmount - body.amount) * 1e6) / 1e6;
      event(`payment ${payment.paymentId}: capture ${capture.paymentCaptureId} credited ${body.amount}`);
      store.changed("payments", payment.paymentId);
      store.commit();
      await fireHook("OnPaymentCapture", { payment, capture });
      return [200, capture];
    }
    // Order commands: cancel the order, complete a delivery (the order's only one, or by id).
    const orderCommand = path.match(/^\/admin\/orders\/([^/]+)\/(cancel|complete-delivery)$/);
    if (method === "POST" && orderCommand) {
      const order = state.orders[orderCommand[1]];
      if (!order) return [404, { error: { code: "NOT_FOUND", message: path } }];
      const before = structuredClone(order);
      if (orderCommand[2] === "cancel") order.orderState = "cancelled";
      else for (const d of order.deliveries) if (!body?.deliveryId || d.deliveryId === body.deliveryId) d.deliveryState = "completed";
      event(`order ${order.orderId}: ${orderCommand[2]}`);
      store.changed("orders");
      store.commit();
      await fireHook("OnOrderCommands", { before, order });
      return [200, order];
    }
    // The registry (Hantera's `GET|POST|DELETE /resources/registry/<key>`, the value as the body
    // [I]): e.g. a channel's entry, where a merchant switches shipping into Kustom's iframe.
    const registry = path.match(/^\/resources\/registry\/(.+)$/);
    if (registry) {
      const key = decodeURIComponent(registry[1]);
      if (method === "GET") return key in state.registry ? [200, state.registry[key]] : [404, { error: { code: "NOT_FOUND", message: key } }];
      if (method === "POST" && body === null) return [400, { error: { code: "INVALID_BODY", message: "the value must be JSON" } }];
      if (method === "POST") state.registry[key] = body;
      else if (method === "DELETE") delete state.registry[key];
      else return [405, { error: { code: "METHOD_NOT_ALLOWED", message: method } }];
      event(`registry ${key} ${method === "POST" ? `= ${JSON.stringify(body)}` : "deleted"}`);
      store.changed("registry");
      store.commit();
      return [200, state.registry[key] ?? {}];
    }
    // The shop's own carriers on a channel (what its carts offer as `shippingOptions`):
    // `{<id>: {price?, name?, preselected?, shippingMethod?, carrier?, …}}` changes or adds
    // carriers (prices in major units, tax included at `taxRate`, 25 % unless given), `null`
    // removes one. Like a price change in a shop's shipping rules, it fires nothing: open carts
    // show it when next rendered, and Kustom gets it with the cart's next change or checkout call.
    const carriers = path.match(/^\/admin\/carriers\/([^/]+)$/);
    if (carriers && method === "GET") return [200, state.carriers[carriers[1]] ?? []];
    if (carriers && method === "POST") {
      const list = state.carriers[carriers[1]] ??= [];
      for (const [id, patch] of Object.entries(body ?? {})) {
        const at = list.findIndex((c) => c.id === id);
        if (patch === null) { if (at >= 0) list.splice(at, 1); continue; }
        const carrier = at >= 0 ? list[at] : list[list.push({ id, name: id, price: 0, taxRate: 25 }) - 1];
        Object.assign(carrier, patch, patch.price === undefined ? {} : { price: Math.round(patch.price * 100) });
      }
      event(`carriers on ${carriers[1]}: ${list.map((c) => `${c.id} ${c.price / 100}`).join(", ")}`);
      store.changed("carriers");
      store.commit();
      return [200, list];
    }
    if (method === "GET" && path === "/admin/state") return [200, state];
    if (method === "POST" && path === "/admin/idle") { await host.idle(body?.limitMs, { watchdog: body?.watchdog }); return [200, { jobs: state.jobs.length }]; }
    if (method === "POST" && path === "/admin/stock") { Object.assign(state.stock, body); store.changed("stock"); store.commit(); return [200, state.stock]; }
    return null;
  }
  async function handle(request, response) {
    const url = new URL(request.url, "http://host");
    const stream = request.method === "GET" && url.pathname.match(/^\/ingress\/commerce\/carts\/([^/]+)\/events$/);
    if (stream) return openStream(stream[1], request, response);
    const file = request.method === "GET" && shopFile(url.pathname);
    if (file) { response.writeHead(file.status, file.headers); return response.end(file.body); }
    const text = await new Promise((resolve) => { let t = ""; request.on("data", (c) => (t += c)); request.on("end", () => resolve(t)); });
    let json = null;
    try { json = text ? JSON.parse(text) : {}; } catch { json = null; }
    const send = (status, content) => { response.writeHead(status, { "content-type": "application/json" }); response.end(JSON.stringify(content ?? {})); };
    try {
      const answered = (await admin(request.method, url.pathname, json)) ?? (await commerce(request.method, url.pathname, json));
      if (answered) return send(...answered);
      for (const { ingress, pattern } of routes) {
        const match = url.pathname.match(pattern);
        if (!match || request.method !== ingress.httpMethod.toUpperCase()) continue;
        const input = { route: match.groups ?? {}, query: Object.fromEntries(url.searchParams), headers: request.headers,
          body: ingress.body?.mode === "raw" ? text : json };
        const output = await run(ingress.componentId, input, { cartId: input.route.cartId });
        if (output.error) return send(500, { error: output.error });
        return send(output.response.statusCode, output.response.content);
      }
      send(404, { error: { code: "NO_ROUTE", message: url.pathname } });
    } catch (error) {
      send(500, { error: { code: "HOST_ERROR", message: String(error.stack ?? error) } });
    }
  }

  const server = createServer((request, response) => { handle(request, response); });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  wakeJobs(); // jobs left by a previous run
  const url = `http://127.0.0.1:${server.address().port}`;
  settings.publicBaseUrl ??= url;
  const host = {
    url, state, now,
    /// Until no job is running or due within the limit (tests and the demo). The watchdog's checks
    /// (`watchKustomOrder`, minutes to hours apart) settle no flow: they count only with
    /// `{watchdog: true}`, so that waiting for a sync does not wait for them too.
    async idle(limitMs = 10_000, { watchdog = false } = {}) {
      const end = Date.now() + limitMs;
      const counted = (j) => watchdog || j.definition !== "watchKustomOrder";
      while (Date.now() < end && (running.size || state.jobs.some((j) => counted(j) && (Date.parse(j.at) - Date.parse(now())) / timeScale < limitMs))) {
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    /// Stops taking requests and starting jobs; the jobs already running finish first.
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.allSettled(running.values());
      await new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); });
    },
  };
  return host;
}
