// The emulator enforces Kustom's rules (../../../shared/reference/kustom-api.md, § numbers below),
// so that the app's tests against it fail where Kustom would. Each test starts its own emulator
// on the loopback, is bounded in time, and closes its servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, start, call, receiver, waitFor, cart, completed } from './helpers.mjs';

const T = { timeout: 5000 };
const CHECKOUT = '/checkout/v3/orders', OM = '/ordermanagement/v1/orders';
const MIN = 60, HOUR = 3600, DAY = 86400; // seconds, for clock advances

/** 400 BAD_VALUE with exactly these messages, in the §7.1 shape. */
function assertBadValue(r, ...messages) {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error_code, 'BAD_VALUE');
  assert.deepEqual(r.body.error_messages, messages);
  assert.match(r.body.correlation_id, /^[0-9a-f-]{36}$/);
}
function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error_code, code, r.text);
}
const minutesBetween = (a, b) => (Date.parse(b) - Date.parse(a)) / 60000;

// ---- §1.2 authentication ----

test('auth: the raw key and base64(username:key) are accepted; anything else is 401', T, async (t) => {
  const emu = await start(t, { username: 'M123456-x7k2' });
  const read = (authorization) => call(emu.url, 'GET', `${CHECKOUT}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee`, undefined,
    authorization ? { authorization } : {});
  const b64 = (s) => Buffer.from(s).toString('base64');
  // Authenticated requests reach the router: an unknown order is a 404, not a 401.
  assert.equal((await read(`Basic ${API_KEY}`)).status, 404);
  assert.equal((await read(`Basic ${b64(`M123456-x7k2:${API_KEY}`)}`)).status, 404);
  for (const bad of [undefined, `Basic kco_test_api_wrong`, `Bearer ${API_KEY}`, `Basic ${b64(`M123456-x7k2:wrong`)}`,
    `Basic ${b64(`someone-else:${API_KEY}`)}`, // a username, when sent, must be the right one
    `Basic ${b64(API_KEY)}`]) { // base64 of the bare key is neither form
    const r = await read(bad);
    assertError(r, 401, 'UNAUTHORIZED');
  }
  // Without a configured username, any username with the right key passes (it is optional).
  const open = await start(t);
  const r = await call(open.url, 'POST', CHECKOUT, cart(), { authorization: `Basic ${b64(`M999-abc:${API_KEY}`)}` });
  assert.equal(r.status, 201, r.text);
});

// ---- §2.1–2.8 create ----

test('create: 201, Location that reads the order back, and the echo Kustom gives (§2.10)', T, async (t) => {
  const emu = await start(t);
  const r = await emu.api('POST', CHECKOUT, cart());
  assert.equal(r.status, 201, r.text);
  const o = r.body;
  assert.match(o.order_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(r.headers.get('location'), `${emu.url}${CHECKOUT}/${o.order_id}`);
  assert.equal(o.status, 'checkout_incomplete');
  assert.equal(o.purchase_country, 'se'); // lower case, as Kustom echoes it
  assert.deepEqual(o.billing_address, { country: 'se' });
  assert.equal(o.order_lines[2].total_discount_amount, 0); // filled in on lines that had none
  assert.equal(o.options.require_validate_callback_success, false);
  assert.match(o.html_snippet, /klarna-checkout-container/);
  assert.equal(o.merchant_urls.push, cart().merchant_urls.push); // placeholders kept as registered
  const back = await call(r.headers.get('location'), 'GET', '', undefined, { authorization: `Basic ${API_KEY}` });
  assert.equal(back.status, 200);
  assert.deepEqual(back.body, o);
});

test('create: each required field and line field missing gives its own Bad value path', T, async (t) => {
  const emu = await start(t);
  for (const field of ['purchase_country', 'purchase_currency', 'locale', 'order_amount', 'order_tax_amount', 'order_lines']) {
    const body = cart();
    delete body[field];
    assertBadValue(await emu.api('POST', CHECKOUT, body), `Bad value: ${field}`);
  }
  for (const field of ['name', 'quantity', 'unit_price', 'tax_rate', 'total_amount', 'total_tax_amount']) {
    const body = cart();
    delete body.order_lines[1][field];
    assertBadValue(await emu.api('POST', CHECKOUT, body), `Bad value: order_lines[1].${field}`);
  }
  const bad = cart();
  Object.assign(bad, { purchase_country: 'SWE', purchase_currency: 'kr', locale: 'sv_SE' });
  assertBadValue(await emu.api('POST', CHECKOUT, bad), 'Bad value: purchase_country', 'Bad value: purchase_currency', 'Bad value: locale');
  assertBadValue(await emu.api('POST', CHECKOUT, '{"purchase_country":'), 'Bad value: request body (must be a JSON object)');
  assert.equal(emu.state.orders.size, 0, 'nothing created by a refused request');
});

test('create: §2.8 line arithmetic — total exact, tax within 1 of the formula', T, async (t) => {
  const emu = await start(t);
  const withLine0 = (patch, order = {}) => {
    const body = cart();
    Object.assign(body.order_lines[0], patch);
    return Object.assign(body, order);
  };
  // total_amount must be quantity × unit_price − discount, exactly (99799 ≠ 2 × 49900).
  assertBadValue(await emu.api('POST', CHECKOUT, withLine0({ total_amount: 99799 }, { order_amount: 108109 })),
    'Bad value: order_lines[0].total_amount');
  // Tax: the formula gives 19960 on 99800 at 25 %; 19962 is 2 away, the real message names the value.
  assertBadValue(await emu.api('POST', CHECKOUT, withLine0({ total_tax_amount: 19962 }, { order_tax_amount: 21624 })),
    'Bad value: order_lines[0].total_tax_amount differs from the calculated value [19960] by more than [1]');
  // One öre off is within Kustom's tolerance.
  assert.equal((await emu.api('POST', CHECKOUT, withLine0({ total_tax_amount: 19961 }, { order_tax_amount: 21623 }))).status, 201);
  // The tax is on the discounted total: socks 14900 − 1490 = 13410 → 2682, not 2980 (tax on the list price).
  const socks = cart();
  Object.assign(socks.order_lines[1], { total_tax_amount: 2980 });
  socks.order_tax_amount += 2980 - 2682;
  assertBadValue(await emu.api('POST', CHECKOUT, socks),
    'Bad value: order_lines[1].total_tax_amount differs from the calculated value [2682] by more than [1]');
  // Kustom's worked example (§2.8): 5 × 10000 at 10 % → 4545.45; 4546 passes, 4547 does not.
  const tshirts = (tax) => ({ ...cart(), order_amount: 50000, order_tax_amount: tax, order_lines: [
    { type: 'physical', name: 'Yellow T-Shirt', quantity: 5, unit_price: 10000, tax_rate: 1000, total_amount: 50000, total_tax_amount: tax }] });
  assert.equal((await emu.api('POST', CHECKOUT, tshirts(4546))).status, 201);
  assertBadValue(await emu.api('POST', CHECKOUT, tshirts(4547)),
    'Bad value: order_lines[0].total_tax_amount differs from the calculated value [4545] by more than [1]');
  // Minor units are integers; negative prices only on discount, gift card and store credit lines.
  assertBadValue(await emu.api('POST', CHECKOUT, withLine0({ unit_price: 499.5 })), 'Bad value: order_lines[0].unit_price');
  const negative = cart();
  Object.assign(negative.order_lines[3], { type: 'physical' });
  assertBadValue(await emu.api('POST', CHECKOUT, negative),
    'Bad value: order_lines[3].unit_price', 'Bad value: order_lines[3].total_amount', 'Bad value: order_lines[3].total_tax_amount');
});

test('create: §2.8 order sums — order_amount and order_tax_amount are the line sums', T, async (t) => {
  const emu = await start(t);
  assertBadValue(await emu.api('POST', CHECKOUT, { ...cart(), order_amount: 118110 }), 'Bad value: order_amount');
  // The campaign discount forgotten in the total: the most common real mistake.
  assertBadValue(await emu.api('POST', CHECKOUT, { ...cart(), order_tax_amount: 23622 }), 'Bad value: order_tax_amount');
  assertBadValue(await emu.api('POST', CHECKOUT, { ...cart(), order_tax_amount: 21623 }), 'Bad value: order_tax_amount'); // exact by default
  // §2.8 rule 5: a US cart's tax rides on a sales_tax line.
  const us = { ...cart(), purchase_country: 'US', purchase_currency: 'USD', locale: 'en-US', order_amount: 10800, order_tax_amount: 800,
    order_lines: [{ type: 'physical', name: 'Mug', quantity: 2, unit_price: 5000, tax_rate: 0, total_amount: 10000, total_tax_amount: 0 },
      { type: 'sales_tax', name: 'Sales Tax', quantity: 1, unit_price: 800, tax_rate: 0, total_amount: 800, total_tax_amount: 0 }] };
  assert.equal((await emu.api('POST', CHECKOUT, us)).status, 201);
  // The order-level tax tolerance is configurable (Klarna Payments allows ± items).
  const lenient = await start(t, { orderTaxTolerance: 1 });
  assert.equal((await lenient.api('POST', CHECKOUT, { ...cart(), order_tax_amount: 21623 })).status, 201);
});

test('create: merchant_urls are required and must be http(s) URIs of at most 2000 characters', T, async (t) => {
  const emu = await start(t);
  const urls = (patch) => { const b = cart(); Object.assign(b.merchant_urls, patch); return b; };
  const { merchant_urls: _, ...noUrls } = cart();
  assertBadValue(await emu.api('POST', CHECKOUT, noUrls), 'Bad value: merchant_urls');
  const noPush = cart();
  delete noPush.merchant_urls.push;
  assertBadValue(await emu.api('POST', CHECKOUT, noPush), 'Bad value: merchant_urls.push (must be a valid http or https URI)');
  assertBadValue(await emu.api('POST', CHECKOUT, urls({ terms: 'shop.example.se/villkor' })),
    'Bad value: merchant_urls.terms (must be a valid http or https URI)');
  assertBadValue(await emu.api('POST', CHECKOUT, urls({ validation: 'ftp://shop.example.se/validate' })),
    'Bad value: merchant_urls.validation (must be a valid http or https URI)');
  assertBadValue(await emu.api('POST', CHECKOUT, urls({ confirmation: `https://shop.example.se/${'x'.repeat(1980)}` })),
    'Bad value: merchant_urls.confirmation (must be a valid http or https URI)');
  assert.equal(emu.state.orders.size, 0);
});

// ---- §2.9 read and update ----

test('update: partial, checked on the merged order, and a refused update changes nothing', T, async (t) => {
  const emu = await start(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart());
  const path = `${CHECKOUT}/${o.order_id}`;
  await emu.advance(5 * MIN);
  // Only the reference: everything else keeps its value.
  const ref = await emu.api('POST', path, { merchant_reference2: 'cart-77' });
  assert.equal(ref.status, 200, ref.text);
  assert.equal(ref.body.merchant_reference2, 'cart-77');
  assert.equal(ref.body.order_amount, 108110);
  assert.equal(ref.body.merchant_reference1, '100234');
  assert.ok(Date.parse(ref.body.last_modified_at) >= Date.parse(o.started_at) + 5 * MIN * 1000);
  // Amount changed without the lines: the merged order no longer adds up.
  assertBadValue(await emu.api('POST', path, { order_amount: 98110 }), 'Bad value: order_amount');
  // The cart shrinks to the shirts: lines and totals together.
  const c = cart();
  const shirts = { order_lines: [c.order_lines[0]], order_amount: 99800, order_tax_amount: 19960 };
  const upd = await emu.api('POST', path, shirts);
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.body.order_lines.length, 1);
  // Read-only fields in an update are ignored, not applied.
  const sneaky = await emu.api('POST', path, { status: 'checkout_complete', order_id: 'x', html_snippet: '<p/>' });
  assert.equal(sneaky.status, 200);
  const read = await emu.api('GET', path);
  assert.equal(read.body.status, 'checkout_incomplete');
  assert.equal(read.body.order_id, o.order_id);
  assert.equal(read.body.order_amount, 99800);
  const missing = await emu.api('GET', `${CHECKOUT}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee`);
  assertError(missing, 404, 'NOT_FOUND');
  assert.deepEqual(missing.body.error_messages, ['We did not find any order with given ID. You need to create a new order.']);
});

test('update: the merchant cannot overwrite an address the customer has typed (§2.9)', T, async (t) => {
  const emu = await start(t);
  const merchant = await receiver(t, () => ({ status: 400, body: { error_type: 'address_error', error_text: 'Vi levererar inte dit.' } }));
  const body = cart({ validation: `${merchant.url}/v` });
  body.billing_address = { given_name: 'Prefilled', email: 'kund@example.se' }; // pre-fill is allowed before typing
  const { body: o } = await emu.api('POST', CHECKOUT, body);
  assert.equal(o.billing_address.given_name, 'Prefilled');
  // The customer types an address and presses buy; the merchant refuses, so the order stays open.
  await emu.control('POST', `/orders/${o.order_id}/complete`, { address: { given_name: 'Sven', postal_code: '11452' } });
  assert.equal(merchant.calls[0].body.billing_address.given_name, 'Sven');
  const upd = await emu.api('POST', `${CHECKOUT}/${o.order_id}`, { billing_address: { given_name: 'Overwritten' }, merchant_reference2: 'r2' });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.billing_address.given_name, 'Sven', 'ignored once typed');
  assert.equal(upd.body.merchant_reference2, 'r2', 'the rest of the update applies');
});

test('read-only: update and abort of a completed order are 403 READ_ONLY_ORDER; reads still work', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const path = `${CHECKOUT}/${id}`;
  const upd = await emu.api('POST', path, { merchant_reference2: 'late' });
  assertError(upd, 403, 'READ_ONLY_ORDER');
  assert.deepEqual(upd.body.error_messages, ['Resource is read-only']);
  assertError(await emu.api('POST', `${path}/abort`), 403, 'READ_ONLY_ORDER');
  const read = await emu.api('GET', path);
  assert.equal(read.status, 200);
  assert.equal(read.body.status, 'checkout_complete');
  assert.ok(read.body.completed_at);
  assert.equal(read.body.merchant_reference2, undefined, 'the refused update left nothing behind');
  assert.match(read.body.html_snippet, /confirmation/);
});

test('abort: the order stays readable, refuses updates and can never complete', T, async (t) => {
  const emu = await start(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart());
  const abort = await emu.api('POST', `${CHECKOUT}/${o.order_id}/abort`);
  assert.equal(abort.status, 200, abort.text);
  assertError(await emu.api('POST', `${CHECKOUT}/${o.order_id}`, { merchant_reference2: 'x' }), 403, 'READ_ONLY_ORDER');
  assert.equal((await emu.api('GET', `${CHECKOUT}/${o.order_id}`)).status, 200);
  const done = await emu.control('POST', `/orders/${o.order_id}/complete`, {});
  assert.equal(done.status, 409);
  assertError(await emu.api('GET', `${OM}/${o.order_id}`), 404, 'NO_SUCH_ORDER');
});

// ---- §2.9 expiry ----

test('expiry: 48 h after the last merchant update or customer interaction, then 404 with an empty body', T, async (t) => {
  const emu = await start(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart());
  const path = `${CHECKOUT}/${o.order_id}`;
  await emu.advance(40 * HOUR);
  assert.equal((await emu.api('POST', path, { merchant_reference2: 'touch' })).status, 200); // the clock restarts
  await emu.advance(47 * HOUR);
  assert.equal((await emu.api('GET', path)).status, 200, '87 h after creation, 47 h after the update');
  await emu.advance(HOUR + MIN);
  const gone = await emu.api('GET', path);
  assert.equal(gone.status, 404);
  assert.equal(gone.text, '', 'expired orders answer with an empty body');
  assert.equal((await emu.api('POST', path, { merchant_reference2: 'late' })).status, 404);
  assert.equal((await emu.control('POST', `/orders/${o.order_id}/complete`, {})).status, 409);
});

test('expiry: the expire control route ends a checkout order at once', T, async (t) => {
  const emu = await start(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart());
  const r = await emu.control('POST', `/orders/${o.order_id}/expire`, {});
  assert.equal(r.status, 200);
  assert.equal(r.body.checkout_expired, true);
  assert.equal((await emu.api('GET', `${CHECKOUT}/${o.order_id}`)).status, 404);
});

// ---- §4 validation callback ----

test('validation: 200 approves; Kustom posts the incomplete order to the URL with the id filled in', T, async (t) => {
  const emu = await start(t); // real time: the merchant has Kustom's full 3 s to answer
  const merchant = await receiver(t, () => ({ status: 200 }));
  const push = await receiver(t);
  const { body: o } = await emu.api('POST', CHECKOUT,
    cart({ validation: `${merchant.url}/kustom/validate?id={checkout.order.id}&token=s3cr3t`, push: `${push.url}/p` }));
  const done = await emu.control('POST', `/orders/${o.order_id}/complete`, {});
  assert.equal(done.status, 200, done.text);
  assert.equal(merchant.calls.length, 1);
  const v = merchant.calls[0];
  assert.equal(v.method, 'POST');
  assert.equal(v.url, `/kustom/validate?id=${o.order_id}&token=s3cr3t`);
  assert.match(v.headers['content-type'], /application\/json/);
  assert.equal(v.body.order_id, o.order_id);
  assert.equal(v.body.status, 'checkout_incomplete', 'validation happens before completion');
  assert.equal(v.body.order_amount, 108110);
  assert.equal(done.body.validations[0].outcome, 'approved');
  assert.equal((await emu.api('GET', `${CHECKOUT}/${o.order_id}`)).body.status, 'checkout_complete');
  const om = await emu.api('GET', `${OM}/${o.order_id}`);
  assert.equal(om.body.status, 'AUTHORIZED');
  assert.equal(om.body.order_amount, 108110);
});

test('validation: 400 {error_type, error_text} rejects; the order stays open for the customer', T, async (t) => {
  const emu = await start(t);
  let approve = false;
  const merchant = await receiver(t, () => (approve ? { status: 200 }
    : { status: 400, body: { error_type: 'approval_failed', error_text: 'Varukorgen har ändrats. Ladda om sidan.' } }));
  const push = await receiver(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart({ validation: `${merchant.url}/v/{checkout.order.id}`, push: `${push.url}/p` }));
  const refused = await emu.control('POST', `/orders/${o.order_id}/complete`, {});
  assert.equal(refused.status, 409);
  assert.equal(refused.body.outcome, 'rejected');
  assert.equal(refused.body.error_type, 'approval_failed');
  assert.equal(refused.body.error_text, 'Varukorgen har ändrats. Ladda om sidan.');
  assert.equal((await emu.api('GET', `${CHECKOUT}/${o.order_id}`)).body.status, 'checkout_incomplete');
  assertError(await emu.api('GET', `${OM}/${o.order_id}`), 404, 'NO_SUCH_ORDER');
  // The merchant fixes the cart; the customer presses buy again and this time it goes through.
  assert.equal((await emu.api('POST', `${CHECKOUT}/${o.order_id}`, { merchant_reference2: 'retry' })).status, 200);
  approve = true;
  assert.equal((await emu.control('POST', `/orders/${o.order_id}/complete`, {})).status, 200);
  assert.equal(merchant.calls.length, 2);
});

test('validation: a redirect denies; errors and timeouts block only with require_validate_callback_success', T, async (t) => {
  const emu = await start(t); // real time for merchants that answer: 3 s is plenty
  const hasty = await start(t, { timeScale: 6000 }); // for merchants that never answer: 3 s and 10 s become 100 ms
  const push = await receiver(t);
  const redirect = await receiver(t, () => ({ status: 303, headers: { Location: 'https://shop.example.se/kassa/fel' } }));
  const broken = await receiver(t, () => ({ status: 500 }));
  const silent = await receiver(t, () => 'hang');
  const attempt = async (validation, options) => {
    const body = cart({ validation: `${validation.url}/v`, push: `${push.url}/p` });
    if (options) body.options = options;
    const e = validation === silent ? hasty : emu;
    const { body: o } = await e.api('POST', CHECKOUT, body);
    return e.control('POST', `/orders/${o.order_id}/complete`, {});
  };
  const r = await attempt(redirect);
  assert.equal(r.status, 409);
  assert.equal(r.body.outcome, 'redirected');
  assert.equal(r.body.location, 'https://shop.example.se/kassa/fel');
  assert.equal((await attempt(broken)).status, 200, 'a 500 is ignored without the flag');
  assert.equal((await attempt(silent)).status, 200, 'no answer approves without the flag');
  const strict = { require_validate_callback_success: true };
  const failed = await attempt(broken, strict);
  assert.equal(failed.status, 409);
  assert.equal(failed.body.outcome, 'failed');
  const timedOut = await attempt(silent, strict);
  assert.equal(timedOut.status, 409);
  assert.equal(timedOut.body.validation.error, 'timeout');
});

// ---- §5 push ----

test('push: empty POSTs with the id filled in, in real time, until acknowledged (§5.1, §5.3)', T, async (t) => {
  const emu = await start(t, { timeScale: 6000 }); // 1 real ms = 6 emulated s: 2 min → 20 ms, 60 min → 600 ms
  const push = await receiver(t);
  const id = await completed(emu, cart({ push: `${push.url}/kustom/push?kustom_order_id={checkout.order.id}` }));
  await waitFor(() => push.calls.length >= 3, 4000, 'three pushes');
  for (const c of push.calls) {
    assert.equal(c.method, 'POST');
    assert.equal(c.url, `/kustom/push?kustom_order_id=${id}`);
    assert.equal(c.text, '', 'the push carries no body');
  }
  assert.equal((await emu.api('POST', `${OM}/${id}/acknowledge`)).status, 204);
  const v = await emu.view(id);
  assert.equal(v.push_stopped, 'acknowledged');
  assert.equal(v.next_push_at, null);
  await emu.advance(48 * HOUR); // the whole retry window passes: no attempt after the acknowledgement
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await emu.view(id)).pushes.length, v.pushes.length);
  assert.equal(push.calls.length, v.pushes.length);
});

test('push: a capture also counts as acknowledgement (§5.3)', T, async (t) => {
  const emu = await start(t, { timeScale: 6000 });
  const push = await receiver(t);
  const id = await completed(emu, cart({ push: `${push.url}/push/{checkout.order.id}` }));
  await waitFor(() => push.calls.length >= 1, 3000, 'the first push');
  assert.equal((await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 })).status, 201);
  const v = await emu.view(id);
  assert.equal(v.push_stopped, 'captured');
  await emu.advance(48 * HOUR);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await emu.view(id)).pushes.length, v.pushes.length);
  assert.equal(push.calls.length, v.pushes.length);
});

test('push: 2 min after completion, retries 5, 15, 30, 60 min apart, then every 4 h up to 48 h (§5.1–5.2)', T, async (t) => {
  const emu = await start(t); // real time: only clock advances move the schedule, so the minutes are exact
  const push = await receiver(t, () => ({ status: 200 })); // a 200 is not an acknowledgement
  const id = await completed(emu, cart({ push: `${push.url}/p` }));
  const attempts = async () => (await emu.view(id)).pushes.length;
  let elapsed = 0; // minutes since completion
  const at = async (minute) => { await emu.advance((minute - elapsed) * MIN); elapsed = minute; return attempts(); };
  // Minute by which the n-th attempt is due: 2, 7, 22, 52, 112, then 352 … 2752 every 240.
  const due = [2, 7, 22, 52, 112, 352, 592];
  for (const [n, minute] of due.entries()) {
    assert.equal(await at(minute - 1), n, `before minute ${minute}`);
    assert.equal(await at(minute), n + 1, `at minute ${minute}`);
  }
  await at(49 * 60);
  // 5 attempts on the short schedule and 11 more every 4 h fit in 2880 minutes; the next (2992) does not.
  await waitFor(() => push.calls.length === 16, 3000, '16 pushes delivered');
  const v = await emu.view(id);
  assert.equal(v.pushes.length, 16);
  assert.ok(v.pushes.every((p) => p.status === 200));
  assert.equal(v.push_stopped, 'push window elapsed');
});

// ---- §6 Order Management ----

test('OM: the order after completion, acknowledge, and INVALID_ORDER_ID / NO_SUCH_ORDER', T, async (t) => {
  const emu = await start(t);
  const { body: open } = await emu.api('POST', CHECKOUT, cart());
  assertError(await emu.api('GET', `${OM}/${open.order_id}`), 404, 'NO_SUCH_ORDER'); // not until completed
  const id = await completed(emu);
  const { status, body: om } = await emu.api('GET', `${OM}/${id}`);
  assert.equal(status, 200);
  assert.equal(om.order_id, id);
  assert.equal(om.status, 'AUTHORIZED');
  assert.equal(om.fraud_status, 'ACCEPTED');
  assert.equal(om.order_amount, 108110);
  assert.equal(om.original_order_amount, 108110);
  assert.equal(om.remaining_authorized_amount, 108110);
  assert.equal(om.captured_amount, 0);
  assert.equal(om.merchant_reference1, '100234');
  assert.equal(om.order_lines.length, 4);
  assert.match(om.klarna_reference, /^[A-Z0-9]{8}$/);
  assert.equal(Math.round((Date.parse(om.expires_at) - Date.parse(om.created_at)) / 86400000), 28);
  const ack = await emu.api('POST', `${OM}/${id}/acknowledge`);
  assert.equal(ack.status, 204);
  assert.equal(ack.text, '');
  const invalid = await emu.api('GET', `${OM}/100234`);
  assertError(invalid, 400, 'INVALID_ORDER_ID');
  assert.deepEqual(invalid.body.error_messages, ['Order ID must be a valid UUID.']);
  assertError(await emu.api('POST', `${OM}/not-a-uuid/captures`, { captured_amount: 100 }), 400, 'INVALID_ORDER_ID');
  assertError(await emu.api('GET', `${OM}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee`), 404, 'NO_SUCH_ORDER');
});

test('OM captures: partial then full; never above the remaining authorization (§6.1, §10.5)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const captures = `${OM}/${id}/captures`;
  assertError(await emu.api('POST', captures, { captured_amount: 108111 }), 403, 'CAPTURE_NOT_ALLOWED');
  assertError(await emu.api('POST', captures, { captured_amount: 0 }), 400, 'BAD_VALUE');
  // First shipment: the shirts.
  const first = await emu.api('POST', captures, { captured_amount: 99800, reference: 'SHIP-1',
    shipping_info: [{ shipping_company: 'PostNord', shipping_method: 'PickUpPoint', tracking_number: '00370712345678901' }] });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.text, '', 'a capture answers with headers only');
  const captureId = first.headers.get('capture-id');
  assert.equal(first.headers.get('location'), `${emu.url}${captures}/${captureId}`);
  let om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.status, 'PART_CAPTURED');
  assert.equal(om.captured_amount, 99800);
  assert.equal(om.remaining_authorized_amount, 8310);
  assertError(await emu.api('POST', captures, { captured_amount: 8311 }), 403, 'CAPTURE_NOT_ALLOWED');
  // The rest: socks, shipping, minus the campaign.
  assert.equal((await emu.api('POST', captures, { captured_amount: 8310 })).status, 201);
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.status, 'CAPTURED');
  assert.equal(om.remaining_authorized_amount, 0);
  assertError(await emu.api('POST', captures, { captured_amount: 1 }), 403, 'CAPTURE_NOT_ALLOWED');
  const list = await emu.api('GET', captures);
  assert.deepEqual(list.body.map((c) => c.captured_amount), [99800, 8310]);
  const one = await emu.api('GET', `${captures}/${captureId}`);
  assert.equal(one.body.reference, 'SHIP-1');
  assert.equal(one.body.shipping_info[0].tracking_number, '00370712345678901');
  assert.match(one.body.klarna_reference, new RegExp(`^${om.klarna_reference}-1$`));
  assertError(await emu.api('GET', `${captures}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee`), 404, 'NO_SUCH_CAPTURE');
});

test('OM idempotency: the same Klarna-Idempotency-Key replays the first answer and captures once (§6.3)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const captures = `${OM}/${id}/captures`;
  const key = { 'Klarna-Idempotency-Key': '6f1d7a52-3f0e-4a8c-9d4b-2b1a9c7e5d10' };
  const a = await emu.api('POST', captures, { captured_amount: 50000 }, key);
  // A retry of the same logical capture, even with a different body, replays: the body is ignored.
  const b = await emu.api('POST', captures, { captured_amount: 60000 }, key);
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(b.headers.get('capture-id'), a.headers.get('capture-id'));
  let om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.captures.length, 1);
  assert.equal(om.captured_amount, 50000);
  // Another key is another capture.
  const c = await emu.api('POST', captures, { captured_amount: 10000 }, { 'Klarna-Idempotency-Key': '0b8e2f1c-9a77-4d3e-8c55-1e2d3c4b5a69' });
  assert.notEqual(c.headers.get('capture-id'), a.headers.get('capture-id'));
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.captured_amount, 60000);
  // A refused answer replays too, with the same correlation id.
  const k2 = { 'Klarna-Idempotency-Key': 'c0ffee00-1234-4abc-8def-000000000001' };
  const r1 = await emu.api('POST', captures, { captured_amount: 999999 }, k2);
  const r2 = await emu.api('POST', captures, { captured_amount: 1000 }, k2);
  assertError(r2, 403, 'CAPTURE_NOT_ALLOWED');
  assert.equal(r2.body.correlation_id, r1.body.correlation_id);
  // The guarantee lasts 24 h; after that the key is new again.
  await emu.advance(25 * HOUR);
  const late = await emu.api('POST', captures, { captured_amount: 1000 }, key);
  assert.notEqual(late.headers.get('capture-id'), a.headers.get('capture-id'));
});

test('OM refunds: only what was captured and not yet refunded (§6.1, §10.5)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const refunds = `${OM}/${id}/refunds`;
  const none = await emu.api('POST', refunds, { refunded_amount: 1000 });
  assertError(none, 403, 'REFUND_NOT_ALLOWED');
  assert.deepEqual(none.body.error_messages, ['Order has no captures. Refund not possible']);
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800 });
  assertError(await emu.api('POST', refunds, { refunded_amount: 99801 }), 403, 'REFUND_NOT_ALLOWED');
  // A returned shirt.
  const r = await emu.api('POST', refunds, { refunded_amount: 49900, reference: 'RMA-5521', description: 'Retur: Linneskjorta, M',
    order_lines: [{ type: 'physical', reference: 'LS-100-M', name: 'Linneskjorta, M', quantity: 1, unit_price: 49900, tax_rate: 2500,
      total_amount: 49900, total_tax_amount: 9980 }] });
  assert.equal(r.status, 201, r.text);
  const refundId = r.headers.get('refund-id');
  assert.equal(r.headers.get('location'), `${emu.url}${refunds}/${refundId}`);
  assertError(await emu.api('POST', refunds, { refunded_amount: 49901 }), 403, 'REFUND_NOT_ALLOWED');
  assert.equal((await emu.api('POST', refunds, { refunded_amount: 49900 })).status, 201);
  assertError(await emu.api('POST', refunds, { refunded_amount: 1 }), 403, 'REFUND_NOT_ALLOWED');
  const om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.refunded_amount, 99800);
  assert.equal(om.refunds.length, 2);
  assert.equal(om.captures[0].refunded_amount, 99800);
  const one = await emu.api('GET', `${refunds}/${refundId}`);
  assert.equal(one.body.reference, 'RMA-5521');
  assert.equal(one.body.refunded_amount, 49900);
  assertError(await emu.api('GET', `${refunds}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee`), 404, 'NOT_FOUND');
});

test('OM cancel and release: cancel before any capture, release the rest after one (§6.4)', T, async (t) => {
  const emu = await start(t);
  const a = await completed(emu);
  assert.equal((await emu.api('POST', `${OM}/${a}/cancel`)).status, 204);
  let om = (await emu.api('GET', `${OM}/${a}`)).body;
  assert.equal(om.status, 'CANCELLED');
  assert.equal(om.remaining_authorized_amount, 0);
  assertError(await emu.api('POST', `${OM}/${a}/captures`, { captured_amount: 100 }), 403, 'CAPTURE_NOT_ALLOWED');
  assertError(await emu.api('POST', `${OM}/${a}/cancel`), 403, 'CANCEL_NOT_ALLOWED');
  assertError(await emu.api('PATCH', `${OM}/${a}/merchant-references`, { merchant_reference1: 'X' }), 403, 'NOT_ALLOWED');

  const b = await completed(emu);
  await emu.api('POST', `${OM}/${b}/captures`, { captured_amount: 99800 });
  const cancel = await emu.api('POST', `${OM}/${b}/cancel`);
  assertError(cancel, 403, 'CANCEL_NOT_ALLOWED');
  assert.deepEqual(cancel.body.error_messages, ['Order has previous captures. Cancel not possible']);
  assert.equal((await emu.api('POST', `${OM}/${b}/release-remaining-authorization`)).status, 204);
  om = (await emu.api('GET', `${OM}/${b}`)).body;
  assert.equal(om.status, 'CAPTURED');
  assert.equal(om.remaining_authorized_amount, 0);
  assert.equal(om.captured_amount, 99800);
  const again = await emu.api('POST', `${OM}/${b}/release-remaining-authorization`);
  assertError(again, 403, 'NOT_ALLOWED');
  assert.deepEqual(again.body.error_messages, ['Order is fully captured. Remaining authorization cannot be released.']);
});

test('OM authorization: extend to 28 days from today, never past 90 in total; expiry ends it', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  await emu.api('POST', `${OM}/${id}/acknowledge`); // no pushes while the clock jumps
  const created = Date.parse((await emu.api('GET', `${OM}/${id}`)).body.created_at);
  await emu.advance(20 * DAY);
  assert.equal((await emu.api('POST', `${OM}/${id}/extend-authorization-time`)).status, 204);
  let om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(Math.round((Date.parse(om.expires_at) - created) / 86400000), 48, 'day 20 + 28');
  await emu.advance(25 * DAY);
  assert.equal((await emu.api('POST', `${OM}/${id}/extend-authorization-time`)).status, 204); // day 45 → 73
  await emu.advance(20 * DAY);
  assertError(await emu.api('POST', `${OM}/${id}/extend-authorization-time`), 403, 'NOT_ALLOWED'); // day 65 → 93 > 90
  await emu.advance(9 * DAY); // day 74: past the day-73 expiry
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.status, 'EXPIRED');
  assert.equal(om.remaining_authorized_amount, 0);
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 100 }), 403, 'CAPTURE_NOT_ALLOWED');
  assertError(await emu.api('POST', `${OM}/${id}/extend-authorization-time`), 403, 'NOT_ALLOWED');
});

test('OM authorization: PATCH may not go below what is captured', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800 });
  const low = await emu.api('PATCH', `${OM}/${id}/authorization`, { order_amount: 90000 });
  assertError(low, 403, 'NOT_ALLOWED');
  assert.match(low.body.error_messages[0], /cannot be less than the captured amount 99800/);
  // The customer adds a gift wrap by phone: the authorization grows by 4900.
  assert.equal((await emu.api('PATCH', `${OM}/${id}/authorization`, { order_amount: 113010 })).status, 204);
  const om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.remaining_authorized_amount, 113010 - 99800);
  assert.equal(om.original_order_amount, 108110);
});

test('OM fraud review: a PENDING order cannot be captured until accepted; the notification says so (§5.4)', T, async (t) => {
  const emu = await start(t);
  const notify = await receiver(t);
  const id = await completed(emu, cart({ notification: `${notify.url}/kustom/notify?id={checkout.order.id}` }), { fraud_status: 'PENDING' });
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 }), 403, 'CAPTURE_NOT_ALLOWED');
  assert.equal((await emu.control('POST', `/orders/${id}/fraud`, { fraud_status: 'ACCEPTED' })).status, 200);
  assert.deepEqual(notify.calls.map((c) => [c.url, c.body]), [[`/kustom/notify?id=${id}`, { order_id: id, event_type: 'FRAUD_RISK_ACCEPTED' }]]);
  assert.equal((await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 })).status, 201);
});

// ---- §10.6 fault injection ----

test('faults: an injected status answers instead of Kustom, for the matching calls only, count times', T, async (t) => {
  const emu = await start(t);
  const f = await emu.control('POST', '/faults', { method: 'POST', path: '/checkout/v3/orders', status: 503, count: 2 });
  assert.equal(f.status, 201);
  for (let i = 0; i < 2; i++) assertError(await emu.api('POST', CHECKOUT, cart()), 503, 'TEMPORARILY_UNAVAILABLE');
  assert.equal(emu.state.orders.size, 0, 'a fault replaces the call: nothing was created');
  const ok = await emu.api('POST', CHECKOUT, cart());
  assert.equal(ok.status, 201, 'the third call goes through');
  // Globs and methods: a GET fault does not touch POSTs.
  await emu.control('POST', '/faults', { method: 'GET', path: '/checkout/v3/orders/*', status: 429 });
  assert.equal((await emu.api('POST', `${CHECKOUT}/${ok.body.order_id}`, { merchant_reference2: 'x' })).status, 200);
  assertError(await emu.api('GET', `${CHECKOUT}/${ok.body.order_id}`), 429, 'TOO_MANY_REQUESTS');
  // A custom body, e.g. the empty-body 404 of an expired order.
  await emu.control('POST', '/faults', { path: `${CHECKOUT}/*`, status: 404, body: '' });
  const empty = await emu.api('GET', `${CHECKOUT}/${ok.body.order_id}`);
  assert.equal(empty.status, 404);
  assert.equal(empty.text, '');
  assert.equal((await emu.control('GET', '/faults')).body.length, 0, 'used up faults are gone');
  assert.equal((await emu.control('POST', '/faults', { path: '*' })).status, 400, 'a fault must do something');
});

test('faults: drop applies the call but the client never hears back; a keyed retry is safe', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  await emu.control('POST', '/faults', { method: 'POST', path: `${OM}/*/captures`, drop: true });
  const key = { 'Klarna-Idempotency-Key': '5d3b1f0e-7c2a-4e69-b8d1-a0c9e8f7d6b5' };
  await assert.rejects(emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 }, key));
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.captured_amount, 108110, 'the capture happened');
  const retry = await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 }, key);
  assert.equal(retry.status, 201, 'the retry replays the lost answer instead of a 403');
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.captures.length, 1);
  const log = (await emu.control('GET', '/requests')).body.filter((r) => r.path.endsWith('/captures'));
  assert.deepEqual(log.map((r) => [r.status, r.dropped, r.idempotency_key]),
    [[201, true, key['Klarna-Idempotency-Key']], [201, false, key['Klarna-Idempotency-Key']]]);
});

test('faults: delay_ms holds the answer back, then Kustom answers normally', T, async (t) => {
  const emu = await start(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart());
  await emu.control('POST', '/faults', { method: 'GET', path: `${CHECKOUT}/*`, delay_ms: 300 });
  const slow = await emu.api('GET', `${CHECKOUT}/${o.order_id}`);
  assert.equal(slow.status, 200);
  assert.ok(slow.ms >= 290, `took ${slow.ms} ms`);
  const fast = await emu.api('GET', `${CHECKOUT}/${o.order_id}`);
  assert.ok(fast.ms < 200, `took ${fast.ms} ms`);
  // A client with a shorter timeout than the delay gives up (here: 100 ms).
  await emu.control('POST', '/faults', { method: 'GET', path: `${CHECKOUT}/*`, delay_ms: 1000 });
  await assert.rejects(fetch(`${emu.url}${CHECKOUT}/${o.order_id}`, { headers: { authorization: `Basic ${API_KEY}` },
    signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
});

test('control: reset forgets orders, faults and the log; the clock reports emulated time', T, async (t) => {
  const emu = await start(t, { timeScale: 60 });
  await emu.api('POST', CHECKOUT, cart());
  await emu.control('POST', '/faults', { path: '*', status: 500, count: 5 });
  const before = Date.parse((await emu.control('GET', '/clock')).body.now);
  await emu.advance(2 * HOUR);
  const after = (await emu.control('GET', '/clock')).body;
  assert.equal(after.time_scale, 60);
  assert.ok(Date.parse(after.now) - before >= 2 * HOUR * 1000);
  assert.equal((await emu.control('POST', '/reset')).status, 204);
  assert.equal(emu.state.orders.size, 0);
  assert.deepEqual((await emu.control('GET', '/faults')).body, []);
  assert.deepEqual((await emu.control('GET', '/requests')).body, []);
});

// ---- request log / transcript ----

test('requests log: each API call with its bodies and the headers that matter, as answered then', T, async (t) => {
  const emu = await start(t);
  const { body: o } = await emu.api('POST', CHECKOUT, cart());
  await emu.api('POST', `${CHECKOUT}/${o.order_id}`, { merchant_reference2: 'cart-77' });
  await emu.api('POST', `${CHECKOUT}/${o.order_id}`, '{not json');
  await emu.control('POST', `/orders/${o.order_id}/complete`, {});
  const cap = await emu.api('POST', `${OM}/${o.order_id}/captures`, { captured_amount: 99800 }, { 'Klarna-Idempotency-Key': 'k-1' });
  const log = (await emu.control('GET', '/requests')).body;
  assert.deepEqual(log.map((r) => `${r.method} ${r.status}`), ['POST 201', 'POST 200', 'POST 400', 'POST 201'], 'control routes are not logged');
  const [create, update, garbage, capture] = log;
  assert.deepEqual(create.request_body, cart());
  assert.equal(create.response_body.order_id, o.order_id);
  assert.deepEqual(create.response_headers, { Location: `${emu.url}${CHECKOUT}/${o.order_id}` });
  // A snapshot: the create answer has no merchant_reference2 even though the order has one now.
  assert.equal(create.response_body.merchant_reference2, undefined);
  assert.equal(update.response_body.merchant_reference2, 'cart-77');
  assert.deepEqual(capture.request_body, { captured_amount: 99800 });
  assert.equal(capture.response_body, null);
  assert.deepEqual(capture.response_headers, { 'Capture-Id': cap.headers.get('capture-id'), Location: cap.headers.get('location') });
  assert.equal(capture.idempotency_key, 'k-1');
  assert.equal(capture.injected, false);
  assert.equal(garbage.request_body, null);
  assert.equal(garbage.request_text, '{not json');
  assert.equal(garbage.response_body.error_code, 'BAD_VALUE');
});

test('requests log: injected answers are marked, and the log keeps only the newest entries', T, async (t) => {
  const emu = await start(t, { requestLogLimit: 3 });
  await emu.control('POST', '/faults', { path: '/checkout/v3/orders', status: 502 });
  for (let i = 0; i < 5; i++) await emu.api('GET', `${CHECKOUT}/8cf27b55-53e8-4aba-9fb4-7c692e56dd0${i}`);
  await emu.api('POST', CHECKOUT, cart());
  const log = (await emu.control('GET', '/requests')).body;
  assert.deepEqual(log.map((r) => r.path.slice(-2)), ['03', '04', 'rs']);
  assert.equal(log[2].injected, true);
  assert.equal(log[2].response_body.error_code, 'TEMPORARILY_UNAVAILABLE');
  assert.equal(log[1].injected, false);
});
