// Kustom API emulator: Checkout v3 + Order Management v1 with control routes for tests.
// Behaviour follows /work/shared/reference/kustom-api.md (section numbers below refer to it).
// No dependencies; all state lives in memory; binds to 127.0.0.1 only.
import http from 'node:http';
import https from 'node:https';
import { randomUUID, randomBytes } from 'node:crypto';
import { checkShippingOptions, withShipping, withoutShipping, omSelectedShippingOption, checkShippingInfo } from './shipping.mjs';
import { customerTypes, omCustomer, checkCustomerDetails } from './customer.mjs';
import { checkCaptureBody, checkRefundBody } from './om-bodies.mjs';
import { snippet, iframePage } from './checkout-iframe.mjs';

const SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LINE_TYPES = ['physical', 'discount', 'shipping_fee', 'sales_tax', 'digital', 'gift_card', 'store_credit', 'surcharge'];
const NEGATIVE_OK = new Set(['discount', 'gift_card', 'store_credit']); // §2.8 rule 8
const REQUIRED_URLS = ['terms', 'checkout', 'confirmation', 'push'];
// Fields Kustom sets itself; a merchant sending them is ignored rather than refused.
const READ_ONLY = ['order_id', 'name', 'status', 'html_snippet', 'started_at', 'completed_at', 'last_modified_at',
  'recurring_token', 'merchant_requested', 'discount_lines', 'selected_shipping_option'];
const OPTION_DEFAULTS = { require_validate_callback_success: false, allow_separate_shipping_address: false,
  date_of_birth_mandatory: false, require_client_validation: false };
const SAMPLE_ADDRESS = { given_name: 'Testperson-se', family_name: 'Approved', email: 'youremail@email.com',
  street_address: 'Stårgatan 1', postal_code: '12345', city: 'Ankeborg', phone: '+46765260000' };
const FAULT_CODES = { 401: 'UNAUTHORIZED', 404: 'NOT_FOUND', 409: 'CONFLICT', 429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR', 502: 'TEMPORARILY_UNAVAILABLE', 503: 'TEMPORARILY_UNAVAILABLE', 504: 'TEMPORARILY_UNAVAILABLE' };

export const DEFAULTS = {
  port: 0, apiKey: 'kco_test_api_emulator', username: null, timeScale: 1,
  pushDelaySeconds: 120, pushRetryMinutes: [5, 15, 30, 60], pushRepeatMinutes: 240, pushWindowHours: 48, // §5.2
  checkoutLifetimeHours: 48, authorizationDays: 28, maxAuthorizationDays: 90, idempotencyHours: 24,
  orderTaxTolerance: 0, minCallbackTimeoutMs: 100, requestLogLimit: 1000,
};
const LOGGED_HEADERS = ['Location', 'Capture-Id', 'Refund-Id'];

const INT = (v) => Number.isSafeInteger(v);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => JSON.parse(JSON.stringify(v));
const parse = (text) => { try { return JSON.parse(text); } catch { return undefined; } };
const reply = (status, body, headers = {}) => body === undefined
  ? { status, headers, body: '' }
  : { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
const error = (status, code, ...messages) =>
  reply(status, { error_code: code, error_messages: messages, correlation_id: randomUUID() });
const glob = (p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
const isHttpUrl = (v) => {
  try { return ['http:', 'https:'].includes(new URL(v.replaceAll('{checkout.order.id}', 'x')).protocol); } catch { return false; }
};

/** §2.2–2.8 and §10.2: every broken rule as a `Bad value: <path>` message (empty when valid). */
export function checkOrder(o, { create = false, taxTolerance = 0 } = {}) {
  const bad = [];
  const fail = (path, why) => bad.push(`Bad value: ${path}${why ? ` ${why}` : ''}`);
  const text = (path, v, max, pattern, min = 0) => {
    if (typeof v !== 'string' || v.length < min || v.length > max || (pattern && !pattern.test(v))) fail(path);
  };
  const optionalText = (path, v, max, min = 0) => v === undefined || text(path, v, max, null, min);
  text('purchase_country', o.purchase_country, 2, /^[A-Za-z]{2}$/);
  text('purchase_currency', o.purchase_currency, 3, /^[A-Za-z]{3}$/);
  text('locale', o.locale, 64, /^[A-Za-z]{2}(?:-[A-Za-z]{2})*$/);
  for (const k of ['order_amount', 'order_tax_amount']) if (!INT(o[k]) || o[k] < 0) fail(k);
  optionalText('merchant_reference1', o.merchant_reference1, 255);
  optionalText('merchant_reference2', o.merchant_reference2, 255);
  optionalText('merchant_data', o.merchant_data, 6000);
  for (const k of ['billing_address', 'shipping_address', 'customer', 'options']) {
    if (o[k] === undefined) continue;
    if (!isObj(o[k])) { fail(k); continue; }
    if (k.endsWith('address')) for (const [f, v] of Object.entries(o[k])) if (typeof v !== 'string') fail(`${k}.${f}`);
  }
  if (o.shipping_options !== undefined) checkShippingOptions(o.shipping_options, fail); // §2.7
  for (const k of ['shipping_countries', 'billing_countries']) {
    if (o[k] !== undefined && !(Array.isArray(o[k]) && o[k].every((c) => typeof c === 'string' && /^[A-Za-z]{2}$/.test(c)))) fail(k);
  }
  const flag = o.options?.require_validate_callback_success;
  if (flag !== undefined && typeof flag !== 'boolean') fail('options.require_validate_callback_success');

  const urls = o.merchant_urls;
  if (urls === undefined) { if (create) fail('merchant_urls'); } else if (!isObj(urls)) fail('merchant_urls');
  else {
    for (const k of new Set([...REQUIRED_URLS, ...Object.keys(urls)])) {
      const v = urls[k];
      if (typeof v !== 'string' || v.length > 2000 || !isHttpUrl(v)) fail(`merchant_urls.${k}`, '(must be a valid http or https URI)');
    }
  }

  const lines = o.order_lines;
  if (!Array.isArray(lines) || lines.length > 1000) { fail('order_lines'); return bad; }
  let linesOk = true;
  lines.forEach((l, i) => {
    const p = `order_lines[${i}]`, before = bad.length;
    if (!isObj(l)) { fail(p); linesOk = false; return; }
    if (l.type !== undefined && !LINE_TYPES.includes(l.type)) fail(`${p}.type`);
    text(`${p}.name`, l.name, 255, null, 1);
    optionalText(`${p}.reference`, l.reference, 255);
    optionalText(`${p}.quantity_unit`, l.quantity_unit, 8, 1);
    for (const k of ['merchant_data', 'product_url', 'image_url']) optionalText(`${p}.${k}`, l[k], 1024);
    if (!INT(l.quantity) || l.quantity < 0) fail(`${p}.quantity`);
    if (!INT(l.tax_rate) || l.tax_rate < 0 || l.tax_rate > 10000) fail(`${p}.tax_rate`);
    const negativeOk = NEGATIVE_OK.has(l.type);
    for (const k of ['unit_price', 'total_amount']) if (!INT(l[k]) || l[k] > 1e8 || (l[k] < 0 && !negativeOk)) fail(`${p}.${k}`);
    if (!INT(l.total_tax_amount) || (l.total_tax_amount < 0 && !negativeOk)) fail(`${p}.total_tax_amount`);
    const discount = l.total_discount_amount ?? 0;
    if (!INT(discount) || discount < 0) fail(`${p}.total_discount_amount`);
    if (bad.length > before) { linesOk = false; return; }
    // §2.8 rules 1–2: the total is exact; the tax is within 1 of the formula on the discounted total.
    if (l.total_amount !== l.quantity * l.unit_price - discount) { fail(`${p}.total_amount`); return; }
    if (l.type === 'sales_tax') return; // its tax is its total_amount (rule 5)
    const expected = l.total_amount - (l.total_amount * 10000) / (10000 + l.tax_rate);
    if (l.tax_rate === 0 ? l.total_tax_amount !== 0 : Math.abs(l.total_tax_amount - expected) > 1) {
      fail(`${p}.total_tax_amount`, `differs from the calculated value [${Math.round(expected)}] by more than [1]`);
    }
  });
  // §2.8 rules 3–5: the order totals are the line sums (sales_tax lines carry the tax of tax-exclusive carts).
  if (linesOk && INT(o.order_amount) && INT(o.order_tax_amount)) {
    if (o.order_amount !== lines.reduce((s, l) => s + l.total_amount, 0)) fail('order_amount');
    const tax = lines.reduce((s, l) => s + (l.type === 'sales_tax' ? l.total_amount : l.total_tax_amount), 0);
    if (Math.abs(o.order_tax_amount - tax) > taxTolerance) fail('order_tax_amount');
  }
  return bad;
}

export async function startEmulator(options = {}) {
  const opt = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const keys = [opt.apiKey].flat();
  const state = { orders: new Map(), idempotency: new Map(), faults: [], requests: [] };
  let closed = false;

  // Emulated clock: runs timeScale times faster than real time, plus manual advances.
  const realStart = Date.now();
  let offset = 0;
  const now = () => realStart + (Date.now() - realStart) * opt.timeScale + offset;
  const iso = (t = now()) => new Date(t).toISOString();
  const scaled = (ms) => Math.max(opt.minCallbackTimeoutMs, ms / opt.timeScale); // callback timeouts (real ms)

  // Scheduler on the emulated clock: one real timer for the earliest job.
  let jobs = [], timer = null;
  const arm = () => {
    clearTimeout(timer);
    if (closed || !jobs.length) return;
    const next = Math.min(...jobs.map((j) => j.at));
    timer = setTimeout(runDue, Math.min(2 ** 31 - 1, Math.max(0, (next - now()) / opt.timeScale)));
    timer.unref();
  };
  const schedule = (at, tag, fn) => { jobs.push({ at, tag, fn }); arm(); };
  const cancel = (tag) => { jobs = jobs.filter((j) => j.tag !== tag); arm(); };
  function runDue() { // until nothing is due: a job may schedule the next one inside the same clock jump
    for (let t = now(), due; (due = jobs.filter((j) => j.at <= t)).length; t = now()) {
      jobs = jobs.filter((j) => j.at > t);
      for (const j of due.sort((a, b) => a.at - b.at)) j.fn(j.at);
    }
    arm();
  }

  // Outbound calls to the merchant (validation, push, notification). Never throws.
  const outbound = new Set();
  function post(url, body, timeoutMs) {
    return new Promise((resolve) => {
      const started = Date.now(), data = body === undefined ? '' : JSON.stringify(body);
      let settled = false, req;
      const done = (r) => {
        if (settled) return;
        settled = true; clearTimeout(timeout); outbound.delete(req);
        resolve({ ...r, duration_ms: Date.now() - started });
      };
      const headers = { 'Content-Length': Buffer.byteLength(data), 'User-Agent': 'Kustom-Emulator/1' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      try {
        const u = new URL(url);
        req = (u.protocol === 'https:' ? https : http).request(u, { method: 'POST', agent: false, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c) => { text += c; }).on('end', () => done({ status: res.statusCode, headers: res.headers, body: text }));
        });
      } catch (e) { return done({ error: e.message }); }
      const timeout = setTimeout(() => { done({ error: 'timeout' }); req.destroy(); }, timeoutMs);
      req.on('error', (e) => done({ error: e.code || e.message }));
      outbound.add(req);
      req.end(data);
    });
  }
  const fill = (url, id) => url.replaceAll('{checkout.order.id}', id);

  // §1.2: `Basic <raw key>` or `Basic base64(username:key)`; returns the key (the credential) or null.
  function authenticate(header = '') {
    const m = /^Basic (\S+)$/.exec(header);
    if (!m) return null;
    if (keys.includes(m[1])) return m[1];
    const decoded = Buffer.from(m[1], 'base64').toString('utf8'), colon = decoded.indexOf(':');
    const [user, key] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    return colon > 0 && keys.includes(key) && (!opt.username || user === opt.username) ? key : null;
  }

  // ---- Checkout API (§2) ----
  const checkoutGone = (co) => now() > co.touchedAt + opt.checkoutLifetimeHours * HOUR;
  const strip = (body) => Object.fromEntries(Object.entries(body).filter(([k]) => !READ_ONLY.includes(k)));
  function normalize(o) { // what Kustom echoes: lower-case countries, defaults filled in (§2.10, §10.2)
    const country = o.purchase_country.toLowerCase();
    const address = (a) => ({ ...a, country: (a?.country ?? country).toLowerCase() });
    return { ...o, purchase_country: country, billing_address: address(o.billing_address),
      shipping_address: address(o.shipping_address), customer: o.customer ?? {},
      options: { ...OPTION_DEFAULTS, ...o.options },
      order_lines: o.order_lines.map((l) => ({ ...l, total_discount_amount: l.total_discount_amount ?? 0 })),
      external_payment_methods: o.external_payment_methods ?? [], external_checkouts: o.external_checkouts ?? [] };
  }
  const badValue = (bad) => error(400, 'BAD_VALUE', ...bad);

  function createOrder(body, base) {
    if (!isObj(body)) return error(400, 'BAD_VALUE', 'Bad value: request body (must be a JSON object)');
    const order = strip(body), bad = checkOrder(order, { create: true, taxTolerance: opt.orderTaxTolerance });
    if (bad.length) return badValue(bad);
    const id = randomUUID(), t = now();
    const co = { id, base, touchedAt: t, aborted: false, customerAddress: false, validations: [], om: null,
      acknowledgements: [], pushes: [], pushStopped: null, nextPushAt: null, notifications: [],
      order: { order_id: id, name: 'Kustom Emulator Store', status: 'checkout_incomplete', ...normalize(order),
        html_snippet: snippet(base, id, 'checkout'), started_at: iso(t), last_modified_at: iso(t) } };
    state.orders.set(id, co);
    return reply(201, co.order, { Location: `${base}/checkout/v3/orders/${id}` });
  }

  function checkoutOrder(method, id, abort, body) {
    const co = state.orders.get(id);
    if (!co) return error(404, 'NOT_FOUND', 'We did not find any order with given ID. You need to create a new order.');
    if (checkoutGone(co)) return reply(404); // expired orders answer with an empty body (§2.9)
    if (method === 'GET' && !abort) return reply(200, co.order);
    if (method !== 'POST') return error(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
    if (co.order.status !== 'checkout_incomplete' || (co.aborted && !abort)) return error(403, 'READ_ONLY_ORDER', 'Resource is read-only');
    co.touchedAt = now();
    if (abort) { co.aborted = true; return reply(200, co.order); }
    if (!isObj(body)) return error(400, 'BAD_VALUE', 'Bad value: request body (must be a JSON object)');
    const patch = strip(body);
    if (co.customerAddress) { delete patch.billing_address; delete patch.shipping_address; } // §2.9: ignored once typed
    const merged = { ...withoutShipping(co.order), ...patch }, bad = checkOrder(merged, { taxTolerance: opt.orderTaxTolerance });
    if (bad.length) return badValue(bad);
    co.order = withShipping({ ...normalize(merged), last_modified_at: iso(co.touchedAt) }, co.order.selected_shipping_option?.id);
    return reply(200, co.order);
  }

  // ---- Playing the customer (§4, §10.4) ----
  async function runValidation(co, target) {
    const required = co.order.options?.require_validate_callback_success === true;
    // §4.2: 3 s is enough when success is optional; with the flag Kustom waits up to 10 s and then fails.
    const r = await post(fill(target, co.id), co.order, scaled(required ? 10 * SEC : 3 * SEC));
    const rec = { at: iso(), url: fill(target, co.id), status: r.status ?? null, error: r.error, duration_ms: r.duration_ms };
    if (r.status >= 200 && r.status < 300) rec.outcome = 'approved';
    else if (r.status >= 300 && r.status < 400) Object.assign(rec, { outcome: 'redirected', location: r.headers.location });
    else if (r.status === 400) {
      const b = parse(r.body) ?? {};
      Object.assign(rec, { outcome: 'rejected', error_type: b.error_type, error_text: b.error_text });
    } else rec.outcome = required ? 'failed' : 'ignored'; // timeouts and odd answers only block with the flag
    rec.proceed = rec.outcome === 'approved' || rec.outcome === 'ignored';
    co.validations.push(rec);
    return rec;
  }

  async function complete(co, body) {
    const refuse = () => {
      if (checkoutGone(co)) return 'the checkout order has expired';
      if (co.aborted) return 'the order was aborted';
      if (co.order.status !== 'checkout_incomplete') return `the order is ${co.order.status}`;
      if (co.completing) return 'a completion is already in progress';
    };
    if (refuse()) return reply(409, { error: refuse() });
    const refused = customerActs(co, body, { type: true, pick: true }); // address, customer and shipping choice
    if (refused) return refused;
    if (body.push === false) co.pushOff = true; // Kustom's pushes never reach the merchant (see the push control route)
    const target = co.order.merchant_urls?.validation;
    if (target) {
      co.completing = true;
      const v = await runValidation(co, target).finally(() => { co.completing = false; });
      if (!v.proceed) {
        return reply(409, { error: 'validation failed', outcome: v.outcome, error_type: v.error_type,
          error_text: v.error_text, location: v.location, validation: v });
      }
      if (refuse()) return reply(409, { error: refuse() }); // changed while the merchant was thinking
    }
    finish(co, body.fraud_status ?? 'ACCEPTED');
    return reply(200, view(co));
  }

  // The customer in the iframe (§2.6, §2.7, §2.9): with `type`, the addresses and customer data are
  // typed (merged over the pre-fill; from then on merchant updates to them are ignored); a
  // `shipping_option_id` in the body picks that option (null: none), and with `pick` an order
  // without a choice gets the preselected option. Kustom folds the choice into lines and amounts.
  // Answers a 400 reply when the iframe would not allow it, else null with the order updated.
  function customerActs(co, body, { type = false, pick = false } = {}) {
    const typed = type ? customerTypes(co.order, body, SAMPLE_ADDRESS) : {};
    if (typed.error) return reply(400, { error: typed.error });
    const order = withoutShipping(co.order), options = order.shipping_options ?? [];
    let choice = co.order.selected_shipping_option?.id ?? null;
    if ('shipping_option_id' in body) choice = body.shipping_option_id;
    else if (pick && choice === null) choice = options.find((s) => s.preselected === true)?.id ?? null;
    if (choice !== null && !options.some((s) => s.id === choice)) {
      return reply(400, { error: `no shipping option ${JSON.stringify(choice)} among the order's shipping_options` });
    }
    co.order = withShipping({ ...order, ...typed }, choice);
    if (type) co.customerAddress = true;
    co.touchedAt = now();
    return null;
  }

  function finish(co, fraud) {
    const t = now(), o = co.order;
    Object.assign(o, { status: 'checkout_complete', completed_at: iso(t), last_modified_at: iso(t), html_snippet: snippet(co.base, co.id, 'confirmation') });
    co.touchedAt = co.completedMs = t;
    co.om = clone({ order_id: co.id, status: fraud === 'REJECTED' ? 'CANCELLED' : 'AUTHORIZED', fraud_status: fraud,
      order_amount: o.order_amount, original_order_amount: o.order_amount, captured_amount: 0, refunded_amount: 0,
      remaining_authorized_amount: fraud === 'REJECTED' ? 0 : o.order_amount,
      created_at: iso(t), expires_at: iso(t + opt.authorizationDays * DAY),
      klarna_reference: randomBytes(6).toString('base64').replace(/[^A-Za-z0-9]/g, 'X').toUpperCase().slice(0, 8),
      purchase_country: o.purchase_country, purchase_currency: o.purchase_currency, locale: o.locale,
      merchant_reference1: o.merchant_reference1, merchant_reference2: o.merchant_reference2, merchant_data: o.merchant_data,
      billing_address: clone(o.billing_address), shipping_address: clone(o.shipping_address), customer: omCustomer(o.customer),
      order_lines: clone(o.order_lines), captures: [], refunds: [], shipping_info: [],
      initial_payment_method: { type: 'INVOICE', description: 'Pay later' } }); // clone drops absent references
    if (o.selected_shipping_option) co.om.selected_shipping_option = omSelectedShippingOption(o.selected_shipping_option, o.purchase_country);
    co.nextPushAt = t + opt.pushDelaySeconds * SEC;
    schedule(co.nextPushAt, co.id, (at) => pushAttempt(co, 0, at));
  }

  // §5.1–5.3: POST with an empty body until acknowledged; the schedule is gaps between attempts.
  async function pushAttempt(co, n, at) {
    if (co.pushStopped) return;
    const next = at + (opt.pushRetryMinutes[n] ?? opt.pushRepeatMinutes) * MIN;
    if (next <= co.completedMs + opt.pushWindowHours * HOUR) {
      co.nextPushAt = next;
      schedule(next, co.id, (t) => pushAttempt(co, n + 1, t));
    } else Object.assign(co, { nextPushAt: null, pushStopped: 'push window elapsed' });
    const url = fill(co.order.merchant_urls.push, co.id);
    const rec = { attempt: n + 1, at: iso(), url, status: null };
    co.pushes.push(rec);
    if (co.pushOff) return Object.assign(rec, { error: 'switched off' }); // Kustom tried; nothing reached the merchant
    const r = await post(url, undefined, scaled(5 * SEC));
    Object.assign(rec, { status: r.status ?? null, error: r.error, duration_ms: r.duration_ms });
  }
  const stopPushes = (co, reason) => { co.pushStopped ??= reason; co.nextPushAt = null; cancel(co.id); };

  // ---- Order Management (§6, §10.5) ----
  const isOpen = (om) => om.status === 'AUTHORIZED' || om.status === 'PART_CAPTURED';
  function refresh(om) { // authorizations lapse at expires_at
    if (isOpen(om) && now() >= Date.parse(om.expires_at)) Object.assign(om, { status: 'EXPIRED', remaining_authorized_amount: 0 });
  }
  const amountOk = (v) => INT(v) && v >= 1 && v <= 2e8;

  function omRequest(method, id, sub, path, text, cred, key, base) {
    if (!UUID_RE.test(id)) return error(400, 'INVALID_ORDER_ID', 'Order ID must be a valid UUID.');
    // §6.3: same key (per credential and path) within 24 h replays the first answer; the body is ignored.
    const slot = key && (method === 'POST' || method === 'PATCH') ? `${cred} ${method} ${path} ${key}` : null;
    const hit = slot && state.idempotency.get(slot);
    if (hit && now() - hit.at < opt.idempotencyHours * HOUR) return hit.response;
    const response = omOperation(method, id, sub, parse(text) ?? {}, base);
    if (slot && response.status < 500) state.idempotency.set(slot, { at: now(), response });
    return response;
  }

  function omOperation(method, id, sub, body, base) {
    const co = state.orders.get(id), om = co?.om;
    if (!om) { // the OM spec's refund routes answer an unknown order with NOT_FOUND, the others with NO_SUCH_ORDER
      if (sub.startsWith('/refunds')) return error(404, 'NOT_FOUND', `Order ${id} cannot be found`);
      if (sub === '/merchant-references') return error(404, 'NO_SUCH_ORDER', 'Order cannot be found. Merchant references cannot be updated.');
      return error(404, 'NO_SUCH_ORDER', `Order ${id} cannot be found`);
    }
    refresh(om);
    const orderUrl = `${base}/ordermanagement/v1/orders/${id}`;
    let m;
    switch (`${method} ${sub}`) {
      case 'GET ': return reply(200, om);
      case 'POST /acknowledge':
        co.acknowledgements.push(iso());
        stopPushes(co, 'acknowledged');
        return reply(204);
      case 'GET /captures': return reply(200, om.captures);
      case 'POST /captures': {
        const amount = body.captured_amount;
        if (!amountOk(amount)) return error(400, 'BAD_VALUE', 'Bad value: captured_amount');
        const invalid = checkCaptureBody(body); // texts, order_lines, shipping_info (§6.2)
        if (invalid) return error(invalid.status, invalid.code, invalid.message);
        const why = !isOpen(om) ? `the order is ${om.status}` : om.fraud_status !== 'ACCEPTED' ? `fraud_status is ${om.fraud_status}`
          : amount > om.remaining_authorized_amount ? `${amount} exceeds the remaining authorized amount ${om.remaining_authorized_amount}` : null;
        if (why) return error(403, 'CAPTURE_NOT_ALLOWED', `Capture not allowed: ${why}`);
        const capture = clone({ capture_id: randomUUID(), klarna_reference: `${om.klarna_reference}-${om.captures.length + 1}`,
          captured_amount: amount, captured_at: iso(), description: body.description, reference: body.reference,
          order_lines: body.order_lines ?? [], refunded_amount: 0, billing_address: om.billing_address,
          shipping_address: om.shipping_address, shipping_info: body.shipping_info ?? [] });
        om.captures.push(capture);
        om.captured_amount += amount;
        om.remaining_authorized_amount -= amount;
        om.status = om.remaining_authorized_amount === 0 ? 'CAPTURED' : 'PART_CAPTURED';
        stopPushes(co, 'captured'); // §5.3: a capture also counts as acknowledgement
        const location = `${orderUrl}/captures/${capture.capture_id}`;
        return reply(201, undefined, { 'Capture-Id': capture.capture_id, Location: location });
      }
      case 'POST /refunds': {
        const amount = body.refunded_amount;
        if (!amountOk(amount)) return error(400, 'BAD_VALUE', 'Bad value: refunded_amount');
        const invalid = checkRefundBody(body); // texts, order_lines (§6.2)
        if (invalid) return error(invalid.status, invalid.code, invalid.message);
        if (!om.captures.length) return error(403, 'REFUND_NOT_ALLOWED', 'Order has no captures. Refund not possible');
        if (amount > om.captured_amount - om.refunded_amount) {
          return error(403, 'REFUND_NOT_ALLOWED', `Refund amount ${amount} exceeds the refundable amount ${om.captured_amount - om.refunded_amount}`);
        }
        let left = amount; // spread over the captures, oldest first, so each capture's refunded_amount adds up
        for (const c of om.captures) { const part = Math.min(left, c.captured_amount - c.refunded_amount); c.refunded_amount += part; left -= part; }
        const refund = clone({ refund_id: randomUUID(), refunded_amount: amount, refunded_at: iso(), description: body.description,
          reference: body.reference, order_lines: body.order_lines ?? [] });
        om.refunds.push(refund);
        om.refunded_amount += amount;
        return reply(201, undefined, { 'Refund-Id': refund.refund_id, Location: `${orderUrl}/refunds/${refund.refund_id}` });
      }
      case 'POST /cancel':
        if (om.captured_amount > 0) return error(403, 'CANCEL_NOT_ALLOWED', 'Order has previous captures. Cancel not possible');
        if (!isOpen(om)) return error(403, 'CANCEL_NOT_ALLOWED', `Order is ${om.status}. Cancel not possible`);
        Object.assign(om, { status: 'CANCELLED', remaining_authorized_amount: 0 });
        return reply(204);
      case 'POST /release-remaining-authorization':
        // The OM spec: "Can not release when order is cancelled or has no captures" (cancel is for that).
        if (isOpen(om) && !om.captures.length) return error(403, 'NOT_ALLOWED', 'Order has no captures. Remaining authorization cannot be released.');
        if (!isOpen(om)) {
          return error(403, 'NOT_ALLOWED', om.status === 'CAPTURED' ? 'Order is fully captured. Remaining authorization cannot be released.'
            : `Order is ${om.status}. Remaining authorization cannot be released.`);
        }
        Object.assign(om, { remaining_authorized_amount: 0, status: 'CAPTURED' });
        return reply(204);
      case 'POST /extend-authorization-time': {
        if (!isOpen(om)) return error(403, 'NOT_ALLOWED', `Order is ${om.status}. Authorization time cannot be extended.`);
        const until = now() + opt.authorizationDays * DAY; // 28 days from today, 90 days at most in total
        if (until > co.completedMs + opt.maxAuthorizationDays * DAY) {
          return error(403, 'NOT_ALLOWED', `Authorization cannot be extended beyond ${opt.maxAuthorizationDays} days`);
        }
        om.expires_at = iso(until);
        return reply(204);
      }
      case 'PATCH /merchant-references':
        // The OM spec's `Update merchant references`: an object; each reference 0..255, and a
        // key that is present overwrites (one left out is kept). Lengths in UTF-16 units, as
        // Kustom's Java service counts them.
        if (!isObj(body)) return error(400, 'BAD_VALUE', 'Bad value: request body (must be a JSON object)');
        if (om.status === 'CANCELLED') return error(403, 'NOT_ALLOWED', 'Can not update a cancelled order');
        for (const k of ['merchant_reference1', 'merchant_reference2']) {
          if (body[k] !== undefined && (typeof body[k] !== 'string' || body[k].length > 255)) return error(400, 'BAD_VALUE', `Bad value: ${k}`);
        }
        for (const k of ['merchant_reference1', 'merchant_reference2']) if (body[k] !== undefined) om[k] = body[k];
        return reply(204);
      case 'PATCH /authorization': {
        const amount = body.order_amount;
        if (!INT(amount) || amount < 0 || amount > 2e8) return error(400, 'BAD_VALUE', 'Bad value: order_amount');
        if (!isOpen(om)) return error(403, 'NOT_ALLOWED', `Order is ${om.status}. Order authorization cannot be updated`);
        if (amount < om.captured_amount) {
          return error(403, 'NOT_ALLOWED', `Resulting authorization amount ${amount} cannot be less than the captured amount ${om.captured_amount} for order. Order authorization cannot be updated`);
        }
        Object.assign(om, { order_amount: amount, remaining_authorized_amount: amount - om.captured_amount });
        if (Array.isArray(body.order_lines)) om.order_lines = body.order_lines;
        if (om.remaining_authorized_amount === 0 && om.captured_amount > 0) om.status = 'CAPTURED';
        return reply(204);
      }
    }
    if (method === 'GET' && (m = /^\/captures\/([^/]+)$/.exec(sub))) {
      const c = om.captures.find((x) => x.capture_id === m[1]);
      return c ? reply(200, c) : error(404, 'NO_SUCH_CAPTURE', `Capture ${m[1]} cannot be found`);
    }
    if ((m = /^\/captures\/([^/]+)\/shipping-info$/.exec(sub)) || sub === '/shipping-info' || sub === '/customer-details') {
      return omShipping(method, sub, m?.[1], om, body);
    }
    if (method === 'GET' && (m = /^\/refunds\/([^/]+)$/.exec(sub))) {
      const r = om.refunds.find((x) => x.refund_id === m[1]);
      return r ? reply(200, r) : error(404, 'NOT_FOUND', `Refund ${m[1]} cannot be found for order ${id}`);
    }
    return error(404, 'NOT_FOUND', `${method} ${sub} is not emulated`);
  }

  // §6.1: tracking on a capture or the order (`shipping_info`, appended) and the shipping address.
  function omShipping(method, sub, captureId, om, body) {
    if (sub === '/customer-details') {
      if (method !== 'PATCH') return error(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
      if (body.billing_address !== undefined) return error(403, 'NOT_ALLOWED', 'Billing address cannot be updated');
      if (!isOpen(om)) return error(403, 'NOT_ALLOWED', `Order is ${om.status}. Customer details cannot be updated`);
      if (checkCustomerDetails(body)) return error(422, 'INVALID_ADDRESS', 'The shipping and/or billing address is invalid');
      const a = body.shipping_address;
      om.shipping_address = { ...a, country: (a.country ?? om.shipping_address.country).toLowerCase() };
      return reply(204);
    }
    if (method !== 'POST') return error(405, 'METHOD_NOT_ALLOWED', `${method} is not supported here`);
    let target = om;
    if (captureId !== undefined) {
      if (!om.captures.length) return error(403, 'NOT_ALLOWED', 'Order has no captures');
      target = om.captures.find((c) => c.capture_id === captureId);
      if (!target) return error(404, 'NO_SUCH_CAPTURE', `Capture could not be found. Shipping info cannot be added to capture ${captureId}`);
    }
    const invalid = checkShippingInfo(body.shipping_info, 'shipping_info', 1);
    if (invalid) return error(invalid.status, invalid.code, invalid.message);
    target.shipping_info.push(...clone(body.shipping_info));
    return reply(204);
  }

  function api(req, path, text) {
    const cred = authenticate(req.headers.authorization);
    if (!cred) return error(401, 'UNAUTHORIZED');
    const base = `http://${req.headers.host}`, method = req.method;
    let m;
    if (path === '/checkout/v3/orders' && method === 'POST') return createOrder(parse(text), base);
    if ((m = /^\/checkout\/v3\/orders\/([^/]+)(\/abort)?$/.exec(path))) return checkoutOrder(method, m[1], !!m[2], parse(text));
    if ((m = /^\/ordermanagement\/v1\/orders\/([^/]+)(\/.*)?$/.exec(path))) {
      return omRequest(method, m[1], m[2] ?? '', path, text, cred, req.headers['klarna-idempotency-key'], base);
    }
    return error(404, 'NOT_FOUND', `${method} ${path} is not a Kustom API route`);
  }

  // ---- Control routes (test only, no auth) ----
  const view = (co) => ({ order_id: co.id, checkout: co.order, checkout_expired: checkoutGone(co), aborted: co.aborted,
    om: co.om, validations: co.validations, pushes: co.pushes, next_push_at: co.nextPushAt && iso(co.nextPushAt),
    push_stopped: co.pushStopped, acknowledgements: co.acknowledgements, notifications: co.notifications,
    push_enabled: !co.pushOff, confirmation_url: fill(co.order.merchant_urls.confirmation, co.id) });

  async function control(method, path, body = {}) {
    const route = `${method} ${path}`;
    if (route === 'POST /__emulator/reset') {
      for (const k of ['faults', 'requests']) state[k].length = 0;
      state.orders.clear(); state.idempotency.clear();
      jobs = []; offset = 0; arm();
      return reply(204);
    }
    if (route === 'GET /__emulator/clock') return reply(200, { now: iso(), time_scale: opt.timeScale });
    if (route === 'POST /__emulator/clock/advance') {
      if (!(Number(body.seconds) >= 0)) return reply(400, { error: 'seconds must be a non-negative number' });
      offset += Number(body.seconds) * SEC;
      runDue(); // whatever fell due inside the jump happens now
      return reply(200, { now: iso() });
    }
    if (route === 'GET /__emulator/faults') return reply(200, state.faults);
    if (route === 'DELETE /__emulator/faults') { state.faults.length = 0; return reply(204); }
    if (route === 'POST /__emulator/faults') {
      if (!(body.status || body.delay_ms || body.drop)) return reply(400, { error: 'a fault needs status, delay_ms or drop' });
      const fault = { id: randomUUID(), method: '*', path: '*', ...body, remaining: body.count ?? 1 };
      state.faults.push(fault);
      return reply(201, fault);
    }
    if (route === 'GET /__emulator/requests') return reply(200, state.requests);
    const extra = customerControl(method, path, body);
    if (extra) return extra;
    const m = /^\/__emulator\/orders\/([^/]+)(?:\/(complete|expire|fraud))?$/.exec(path);
    const co = m && state.orders.get(m[1]);
    if (!co) return reply(404, { error: m ? `no order ${m[1]}` : `no control route ${route}` });
    if (method === 'GET' && !m[2]) return reply(200, view(co));
    if (method !== 'POST' || !m[2]) return reply(405, { error: `${route} is not supported` });
    if (m[2] === 'complete') return complete(co, body);
    if (m[2] === 'expire') { // the checkout order while incomplete, otherwise the authorization
      if (!co.om || body.target === 'checkout') co.touchedAt = -Infinity;
      else { co.om.expires_at = iso(); refresh(co.om); }
      return reply(200, view(co));
    }
    // fraud: end a PENDING review and send the §5.4 notification
    if (!co.om || !['ACCEPTED', 'REJECTED'].includes(body.fraud_status)) return reply(409, { error: 'needs a completed order and fraud_status ACCEPTED or REJECTED' });
    co.om.fraud_status = body.fraud_status;
    if (body.fraud_status === 'REJECTED' && isOpen(co.om)) Object.assign(co.om, { status: 'CANCELLED', remaining_authorized_amount: 0 });
    const target = co.order.merchant_urls.notification;
    if (target) {
      const r = await post(fill(target, co.id), { order_id: co.id, event_type: `FRAUD_RISK_${body.fraud_status}` }, scaled(5 * SEC));
      co.notifications.push({ at: iso(), url: fill(target, co.id), status: r.status ?? null, error: r.error });
    }
    return reply(200, view(co));
  }

  // The customer before completion, and the push switch (test only):
  // POST /__emulator/orders/{id}/shipping-option {"id"}: the customer picks an option (null: none);
  // POST /__emulator/orders/{id}/customer {address?, billing_address?, shipping_address?, customer?}:
  //   the customer types into the iframe; POST /__emulator/orders/{id}/push {"enabled": false|true}.
  function customerControl(method, path, body) {
    const m = /^\/__emulator\/orders\/([^/]+)\/(shipping-option|customer|push)$/.exec(path);
    if (!m) return null;
    const co = state.orders.get(m[1]);
    if (!co) return reply(404, { error: `no order ${m[1]}` });
    if (method !== 'POST') return reply(405, { error: `${method} ${path} is not supported` });
    if (m[2] === 'push') {
      if (typeof body.enabled !== 'boolean') return reply(400, { error: 'enabled must be true or false' });
      co.pushOff = !body.enabled;
      return reply(200, view(co));
    }
    const why = checkoutGone(co) ? 'the checkout order has expired' : co.aborted ? 'the order was aborted'
      : co.order.status !== 'checkout_incomplete' ? `the order is ${co.order.status}` : co.completing ? 'a completion is in progress' : null;
    if (why) return reply(409, { error: why });
    if (m[2] === 'shipping-option') {
      if (!('id' in body) || (body.id !== null && typeof body.id !== 'string')) return reply(400, { error: 'id must be a shipping option id or null' });
      return customerActs(co, { shipping_option_id: body.id }) ?? reply(200, view(co));
    }
    return customerActs(co, body, { type: true }) ?? reply(200, view(co));
  }

  // ---- HTTP plumbing ----
  const sleeps = new Set();
  const sleep = (ms) => new Promise((resolve) => { const t = setTimeout(() => { sleeps.delete(t); resolve(); }, ms); sleeps.add(t); });
  function takeFault(method, path) {
    const i = state.faults.findIndex((f) => (f.method === '*' || f.method.toUpperCase() === method) && glob(f.path).test(path));
    if (i < 0) return null;
    const f = state.faults[i];
    if (--f.remaining <= 0) state.faults.splice(i, 1);
    return f;
  }
  function faultReply(f) {
    if (f.body === undefined) {
      const r = error(f.status, FAULT_CODES[f.status] ?? 'INTERNAL_SERVER_ERROR', 'Injected fault');
      return { ...r, headers: { ...r.headers, ...f.headers } };
    }
    const body = typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
    return { status: f.status, headers: f.headers ?? (typeof f.body === 'string' ? {} : { 'Content-Type': 'application/json' }), body };
  }
  // One API call as the client saw it: bodies parsed afresh, so later changes to an order do not
  // rewrite what was answered then. `injected`: a fault answered instead of Kustom.
  function transcript(req, path, text, out, fault) {
    const requestBody = text ? parse(text) : null, responseBody = out.body ? parse(out.body) : null;
    const headers = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const entry = { at: iso(), method: req.method, path, status: out.status, dropped: !!fault?.drop,
      idempotency_key: req.headers['klarna-idempotency-key'], injected: !!fault?.status,
      request_body: requestBody ?? null,
      response_headers: Object.fromEntries(LOGGED_HEADERS.filter((h) => h.toLowerCase() in headers).map((h) => [h, headers[h.toLowerCase()]])),
      response_body: responseBody ?? null };
    if (requestBody === undefined) entry.request_text = text.slice(0, 2000); // not JSON: keep what was sent
    if (responseBody === undefined) entry.response_text = out.body.slice(0, 2000);
    return entry;
  }
  function send(res, { status, headers, body }) {
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
  async function handle(req, res) {
    let text = '';
    for await (const chunk of req.setEncoding('utf8')) text += chunk;
    const path = new URL(req.url, 'http://localhost').pathname;
    const page = req.method === 'GET' && /^\/__emulator\/kco\/orders\/([^/]+)$/.exec(path); // the checkout iframe's page
    if (page && !state.orders.has(page[1])) return send(res, reply(404, { error: `no order ${page[1]}` }));
    if (page) return send(res, { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: iframePage(page[1]) });
    if (path.startsWith('/__emulator/')) return send(res, await control(req.method, path, parse(text) ?? {}));
    const fault = takeFault(req.method, path);
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    if (closed) return;
    const out = fault?.status ? faultReply(fault) : api(req, path, text);
    state.requests.push(transcript(req, path, text, out, fault));
    if (state.requests.length > opt.requestLogLimit) state.requests.shift();
    if (fault?.drop) return req.socket.destroy(); // applied, but the client never hears back
    send(res, out);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => { if (!res.headersSent) send(res, error(500, 'INTERNAL_SERVER_ERROR', e.message)); });
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(opt.port, '127.0.0.1', resolve));
  const { port } = server.address();
  const close = () => {
    closed = true;
    clearTimeout(timer);
    for (const t of sleeps) clearTimeout(t);
    for (const r of outbound) r.destroy();
    return new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  };
  return { url: `http://127.0.0.1:${port}`, port, state, now: () => iso(), close };
}
