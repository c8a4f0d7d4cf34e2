// A realistic session with the emulator, its transcript (GET /__emulator/requests) checked by
// tests/spec/check_transcript.py against Kustom's OpenAPI specs: what a client sends and what the
// emulator answers must both be what Kustom documents. Needs python3 with pyyaml and
// openapi-schema-validator (as scripts/test.sh does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, call, receiver, cart } from './helpers.mjs';

const CHECKER = join(dirname(fileURLToPath(import.meta.url)), '..', 'spec', 'check_transcript.py');
const CHECKOUT = '/checkout/v3/orders', OM = '/ordermanagement/v1/orders';

function check(...files) {
  return new Promise((resolve) => execFile('python3', [CHECKER, ...files], { timeout: 20000 },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr, last: stdout.trim().split('\n').pop() })));
}

function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'kustom-transcript-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A shop's day with one order: the happy path and the errors a real client meets. */
async function session(t) {
  const emu = await start(t);
  let approve = false;
  const merchant = await receiver(t, () => (approve ? { status: 200 }
    : { status: 400, body: { error_type: 'approval_failed', error_text: 'Varukorgen har ändrats.' } }));
  const push = await receiver(t);
  const ok = (r, status) => assert.equal(r.status, status, `${status} expected: ${r.text}`);

  // Checkout: create, a refused update, an update, read; the customer is refused once, then buys.
  const created = await emu.api('POST', CHECKOUT, cart({ validation: `${merchant.url}/validate/{checkout.order.id}`, push: `${push.url}/push/{checkout.order.id}` }));
  ok(created, 201);
  const id = created.body.order_id, order = `${CHECKOUT}/${id}`;
  ok(await emu.api('POST', order, { order_amount: 1 }), 400);
  const c = cart();
  ok(await emu.api('POST', order, { order_lines: c.order_lines.slice(0, 3), order_amount: 118110, order_tax_amount: 23622,
    merchant_reference2: 'cart-8812', merchant_data: '{"cart":"8812","hash":"9f2c"}' }), 200);
  ok(await emu.api('GET', order), 200);
  ok(await emu.control('POST', `/orders/${id}/complete`, {}), 409);
  approve = true;
  ok(await emu.control('POST', `/orders/${id}/complete`, { address: { given_name: 'Astrid', family_name: 'Lindqvist' } }), 200);
  ok(await emu.api('GET', order), 200);
  ok(await emu.api('POST', order, { merchant_reference2: 'too late' }), 403);
  ok(await emu.api('POST', `${order}/abort`), 403);

  // Order management: what a push handler and a warehouse do.
  const om = `${OM}/${id}`;
  ok(await emu.api('GET', om), 200);
  ok(await emu.api('POST', `${om}/acknowledge`, undefined, { 'Klarna-Idempotency-Key': 'a1b2c3d4-0000-4000-8000-000000000001' }), 204);
  ok(await emu.api('PATCH', `${om}/merchant-references`, { merchant_reference1: 'H-100234' }), 204);
  const shirts = c.order_lines[0];
  const key = { 'Klarna-Idempotency-Key': 'a1b2c3d4-0000-4000-8000-000000000002' };
  await emu.control('POST', '/faults', { method: 'POST', path: `${om}/captures`, status: 503 });
  ok(await emu.api('POST', `${om}/captures`, { captured_amount: 99800 }, key), 503);
  await emu.control('POST', '/faults', { method: 'POST', path: `${om}/captures`, drop: true });
  const capture = { captured_amount: 99800, reference: 'SHIP-1', description: 'Linneskjorta, M × 2', order_lines: [shirts],
    shipping_info: [{ shipping_company: 'PostNord', shipping_method: 'PickUpPoint', tracking_number: '00370712345678901',
      tracking_uri: 'https://tracking.postnord.com/se/?id=00370712345678901' }] };
  await assert.rejects(emu.api('POST', `${om}/captures`, capture, key));
  const captured = await emu.api('POST', `${om}/captures`, capture, key);
  ok(captured, 201);
  ok(await emu.api('POST', `${om}/captures`, { captured_amount: 50000 }), 403);
  ok(await emu.api('GET', `${om}/captures`), 200);
  ok(await emu.api('GET', `${om}/captures/${captured.headers.get('capture-id')}`), 200);
  ok(await emu.api('POST', `${om}/extend-authorization-time`), 204);
  ok(await emu.api('POST', `${om}/release-remaining-authorization`), 204);
  ok(await emu.api('POST', `${om}/cancel`), 403);
  const refund = await emu.api('POST', `${om}/refunds`, { refunded_amount: 49900, reference: 'RMA-5521', description: 'Retur',
    order_lines: [{ ...shirts, quantity: 1, total_amount: 49900, total_tax_amount: 9980 }] });
  ok(refund, 201);
  ok(await emu.api('GET', `${om}/refunds/${refund.headers.get('refund-id')}`), 200);
  ok(await emu.api('POST', `${om}/refunds`, { refunded_amount: 60000 }), 403);
  ok(await emu.api('GET', om), 200);

  // Errors any client meets: a bad id, bad credentials, an order that is gone.
  ok(await emu.api('GET', `${OM}/100234`), 400);
  ok(await emu.api('GET', `${OM}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee`), 404);
  ok(await call(emu.url, 'GET', order, undefined, { authorization: 'Basic kco_test_api_revoked' }), 401);
  const stale = await emu.api('POST', CHECKOUT, cart());
  await emu.control('POST', `/orders/${stale.body.order_id}/expire`, {});
  ok(await emu.api('GET', `${CHECKOUT}/${stale.body.order_id}`), 404);

  return (await emu.control('GET', '/requests')).body;
}

test('transcript: a realistic session passes the OpenAPI check, request and response', { timeout: 30000 }, async (t) => {
  const log = await session(t);
  assert.equal(log.length, 28);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'session.json'), JSON.stringify(log, null, 1));
  const r = await check(join(dir, 'session.json'));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [, passed, failed] = /^transcript: (\d+) passed, (\d+) failed$/.exec(r.last) ?? [];
  assert.equal(failed, '0');
  // 28 answers less the injected 503 and the dropped capture, plus the 12 request bodies sent.
  assert.equal(Number(passed), 26 + 12, r.stdout);
});

test('transcript: the checker fails on a body Kustom would refuse and an answer Kustom would not give', { timeout: 30000 }, async (t) => {
  const log = await session(t);
  const dir = tempDir(t);
  const bad = structuredClone(log);
  const create = bad.find((e) => e.method === 'POST' && e.path === CHECKOUT);
  create.request_body.order_lines[0].total_tax_amount = 19970; // tax on the line 10 öre off: §2.8
  const read = bad.find((e) => e.method === 'GET' && /^\/ordermanagement\/v1\/orders\/[^/]+$/.test(e.path) && e.status === 200);
  read.response_body.order_amount = String(read.response_body.order_amount); // a string amount
  const capture = bad.find((e) => e.path.endsWith('/captures') && e.status === 201 && !e.dropped);
  delete capture.response_headers['Capture-Id'];
  writeFileSync(join(dir, 'good.json'), JSON.stringify(log));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
  const r = await check(dir); // a directory: both files
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.last, /^transcript: \d+ passed, 3 failed$/);
  assert.match(r.stdout, /FAIL .*bad\.json\[0\] POST \/checkout\/v3\/orders 201: request body:\n {2}order_lines\[0\]\.total_tax_amount 19970/);
  assert.match(r.stdout, /FAIL .*bad\.json\[\d+\] GET \/ordermanagement\/v1\/orders\/\S+ 200: response:\n {2}order_amount: '\d+' is not of type 'integer'/);
  assert.match(r.stdout, /FAIL .*bad\.json\[\d+\] POST \S+\/captures 201: response:\n {2}missing header Capture-Id/);
  // Nothing to check is a failure too: an empty transcript proves nothing.
  writeFileSync(join(dir, 'empty.json'), '[]');
  const empty = await check(join(dir, 'empty.json'));
  assert.equal(empty.code, 1);
  assert.equal(empty.last, 'transcript: 0 passed, 0 failed');
});

/**
 * Shipping chosen in the iframe, a customer from elsewhere, and the after-sale routes: every
 * answer the emulator gives for them (and every body sent) checked against the specs too.
 */
async function afterSaleSession(t) {
  const emu = await start(t);
  const ok = (r, status) => assert.equal(r.status, status, `${status} expected: ${r.text}`);
  const body = cart();
  body.order_lines.splice(2, 1); // shipping is chosen in the iframe
  Object.assign(body, { order_amount: 103210, order_tax_amount: 20642, shipping_countries: ['SE', 'NO'],
    options: { allow_separate_shipping_address: true }, customer: { date_of_birth: '1988-04-12' },
    billing_address: { email: 'kund@example.se', phone: '+46700000001' },
    shipping_options: [
      { id: 'pn-home', name: 'PostNord Hemleverans', price: 6900, tax_amount: 1380, tax_rate: 2500, shipping_method: 'Home', preselected: true },
      { id: 'pn-ombud', name: 'PostNord Ombud', price: 4900, tax_amount: 980, tax_rate: 2500, shipping_method: 'PickUpPoint',
        tms_reference: 'a1b2c3d4-0000-4000-8000-00000000aa01', selected_addons: [{ type: 'sms', price: 0 }],
        delivery_details: { carrier: 'postnord', class: 'standard', product: { name: 'MyPack Collect', identifier: 'P19' },
          timeslot: { id: 'ts-1', start: '2026-12-01T08:00:00Z', end: '2026-12-01T12:00:00Z' },
          pickup_location: { id: '98231', name: 'ICA Nära', address: { street_address: 'Storgatan 4', postal_code: '0150', city: 'Oslo', country: 'NO' } } } }] });
  const created = await emu.api('POST', CHECKOUT, body);
  ok(created, 201);
  const id = created.body.order_id, order = `${CHECKOUT}/${id}`, om = `${OM}/${id}`;
  ok(await emu.control('POST', `/orders/${id}/shipping-option`, { id: 'pn-ombud' }), 200);
  ok(await emu.api('GET', order), 200);
  ok(await emu.api('POST', order, { merchant_reference2: 'cart-8812' }), 200);
  ok(await emu.control('POST', `/orders/${id}/complete`, {
    billing_address: { given_name: 'Kari', family_name: 'Nordmann', street_address: 'Karl Johans gate 1', postal_code: '0154', city: 'Oslo', country: 'NO' },
    shipping_address: { given_name: 'Kari', family_name: 'Nordmann', street_address: 'S'.repeat(100), postal_code: '0150', city: 'Oslo', country: 'NO', attention: 'Resepsjonen' },
    push: false }), 200);
  ok(await emu.api('GET', order), 200);
  ok(await emu.api('GET', om), 200);
  ok(await emu.api('PATCH', `${om}/customer-details`, { shipping_address: { given_name: 'Kari', family_name: 'Nordmann', street_address: 'Storgata 9', postal_code: '0155', city: 'Oslo', country: 'NO' } }), 204);
  const shipping = { shipping_company: 'PostNord Norge', shipping_method: 'PickUpPoint', tracking_number: '70712345678901' };
  const cap = await emu.api('POST', `${om}/captures`, { captured_amount: 60000, shipping_info: [shipping] }, { 'Klarna-Idempotency-Key': 'b0000000-0000-4000-8000-000000000001' });
  ok(cap, 201);
  const captureId = cap.headers.get('capture-id');
  ok(await emu.api('POST', `${om}/captures/${captureId}/shipping-info`, { shipping_info: [{ return_tracking_number: '70798765432109' }] }), 204);
  ok(await emu.api('POST', `${om}/shipping-info`, { shipping_info: [shipping] }), 204);
  ok(await emu.api('GET', `${om}/captures/${captureId}`), 200);
  ok(await emu.api('POST', `${om}/cancel`), 403);
  ok(await emu.api('POST', `${om}/release-remaining-authorization`), 204);
  const refund = await emu.api('POST', `${om}/refunds`, { refunded_amount: 4900, reference: 'RMA-77' }, { 'Klarna-Idempotency-Key': 'b0000000-0000-4000-8000-000000000002' });
  ok(refund, 201);
  ok(await emu.api('GET', `${om}/refunds/${refund.headers.get('refund-id')}`), 200);
  ok(await emu.api('POST', `${om}/refunds`, { refunded_amount: 60000 }), 403);
  ok(await emu.api('POST', `${OM}/8cf27b55-53e8-4aba-9fb4-7c692e56ddee/refunds`, { refunded_amount: 100 }), 404);
  ok(await emu.api('GET', om), 200);
  // Cancel and a refused release on a second order.
  const { body: second } = await emu.api('POST', CHECKOUT, cart());
  ok(await emu.control('POST', `/orders/${second.order_id}/complete`, {}), 200);
  ok(await emu.api('POST', `${OM}/${second.order_id}/release-remaining-authorization`), 403);
  ok(await emu.api('POST', `${OM}/${second.order_id}/cancel`), 204);
  return { log: (await emu.control('GET', '/requests')).body, view: await emu.view(id) };
}

test('transcript: shipping options, a Norwegian customer and the after-sale routes pass the OpenAPI check', { timeout: 30000 }, async (t) => {
  const { log, view } = await afterSaleSession(t);
  // What the session is about, so that the check below is not vacuous.
  assert.equal(view.om.selected_shipping_option.location.address.country, 'no');
  assert.equal(view.om.shipping_address.street_address, 'Storgata 9');
  assert.equal(view.om.captures[0].shipping_info.length, 2);
  const read = log.findLast((e) => e.method === 'GET' && e.path.startsWith(OM) && e.status === 200 && e.path.split('/').length === 5);
  assert.equal(read.response_body.selected_shipping_option.price, 4900);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'after-sale.json'), JSON.stringify(log, null, 1));
  const r = await check(join(dir, 'after-sale.json'));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.last, /^transcript: \d+ passed, 0 failed$/);
  assert.equal(Number(/(\d+) passed/.exec(r.last)[1]), log.length + log.filter((e) => e.request_body !== null).length, r.stdout);
});
