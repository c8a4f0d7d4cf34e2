// Order Management after the purchase (kustom-api.md §6, §7.2, the OM spec; issue 11): tracking
// on captures and orders, the shipping address, and refunds, cancel and release as the app will
// use them (Klarna-Idempotency-Key, partial and repeated refunds, refunds with lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, cart, completed } from './helpers.mjs';

const T = { timeout: 5000 };
const OM = '/ordermanagement/v1/orders';
const NOBODY = '8cf27b55-53e8-4aba-9fb4-7c692e56ddee';
const POSTNORD = { shipping_company: 'PostNord Sverige', shipping_method: 'PickUpPoint', tracking_number: '00370712345678901',
  tracking_uri: 'https://tracking.postnord.com/se/?id=00370712345678901' };
const RETURN = { return_shipping_company: 'PostNord Sverige', return_tracking_number: '00370798765432109',
  return_tracking_uri: 'https://tracking.postnord.com/se/?id=00370798765432109' };

function assertError(r, status, code, message) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error_code, code, r.text);
  if (message) assert.deepEqual(r.body.error_messages, [message]);
  assert.match(r.body.correlation_id, /^[0-9a-f-]{36}$/);
}
const key = (n) => ({ 'Klarna-Idempotency-Key': `7e0c1d2a-5b6f-4c3d-9e8f-0000000000${String(n).padStart(2, '0')}` });

// ---- shipping_info (§6.1, §6.2) ----

test('shipping-info: added to a capture (204), kept in order, shown by the capture and the order', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const cap = await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800, shipping_info: [POSTNORD] });
  assert.equal(cap.status, 201, cap.text);
  const cid = cap.headers.get('capture-id'), path = `${OM}/${id}/captures/${cid}/shipping-info`;
  const add = await emu.api('POST', path, { shipping_info: [RETURN, { shipping_company: 'DHL Freight', shipping_method: 'PalletDelivery' }] });
  assert.equal(add.status, 204, add.text);
  assert.equal(add.text, '');
  const expected = [POSTNORD, RETURN, { shipping_company: 'DHL Freight', shipping_method: 'PalletDelivery' }];
  assert.deepEqual((await emu.api('GET', `${OM}/${id}/captures/${cid}`)).body.shipping_info, expected);
  assert.deepEqual((await emu.api('GET', `${OM}/${id}`)).body.captures[0].shipping_info, expected);
  assert.deepEqual((await emu.api('GET', `${OM}/${id}/captures`)).body[0].shipping_info, expected);
  // A retry with the same key adds nothing twice (§6.3).
  assert.equal((await emu.api('POST', path, { shipping_info: [{ tracking_number: 'X1' }] }, key(1))).status, 204);
  assert.equal((await emu.api('POST', path, { shipping_info: [{ tracking_number: 'X1' }] }, key(1))).status, 204);
  assert.equal((await emu.api('GET', `${OM}/${id}/captures/${cid}`)).body.shipping_info.length, 4);
  // The order-level route keeps its own list.
  assert.equal((await emu.api('POST', `${OM}/${id}/shipping-info`, { shipping_info: [POSTNORD] })).status, 204);
  const om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.deepEqual(om.shipping_info, [POSTNORD]);
  assert.equal(om.captures[0].shipping_info.length, 4);
});

test('shipping-info: no captures 403 NOT_ALLOWED, unknown capture 404 NO_SUCH_CAPTURE, unknown order 404', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  assertError(await emu.api('POST', `${OM}/${id}/captures/${NOBODY}/shipping-info`, { shipping_info: [POSTNORD] }), 403, 'NOT_ALLOWED',
    'Order has no captures');
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000 });
  assertError(await emu.api('POST', `${OM}/${id}/captures/${NOBODY}/shipping-info`, { shipping_info: [POSTNORD] }), 404, 'NO_SUCH_CAPTURE',
    `Capture could not be found. Shipping info cannot be added to capture ${NOBODY}`);
  assertError(await emu.api('POST', `${OM}/${NOBODY}/shipping-info`, { shipping_info: [POSTNORD] }), 404, 'NO_SUCH_ORDER');
  assertError(await emu.api('POST', `${OM}/${NOBODY}/captures/${NOBODY}/shipping-info`, { shipping_info: [POSTNORD] }), 404, 'NO_SUCH_ORDER');
});

test('shipping-info: 1..500 objects, strings within their lengths (422), OM shipping methods (§6.2)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const cid = (await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000 })).headers.get('capture-id');
  const add = (shipping_info) => emu.api('POST', `${OM}/${id}/captures/${cid}/shipping-info`, { shipping_info });
  assertError(await emu.api('POST', `${OM}/${id}/captures/${cid}/shipping-info`, {}), 400, 'BAD_VALUE', 'Bad value: shipping_info');
  assertError(await add([]), 400, 'BAD_VALUE', 'Bad value: shipping_info');
  assertError(await add(Array(501).fill({ tracking_number: '1' })), 400, 'BAD_VALUE', 'Bad value: shipping_info');
  assert.equal((await add(Array(500).fill({ tracking_number: '1' }))).status, 204);
  assertError(await add([{ shipping_company: 'x'.repeat(101) }]), 422, 'UNPROCESSABLE_ENTITY',
    'The size of the shipping_info/shipping_company value must be between 0 and 100');
  assert.equal((await add([{ shipping_company: 'x'.repeat(100), tracking_uri: `https://t.example/${'x'.repeat(1000)}` }])).status, 204);
  assertError(await add([{ tracking_number: '1'.repeat(101) }]), 422, 'UNPROCESSABLE_ENTITY');
  assertError(await add([{ tracking_uri: 'x'.repeat(1025) }]), 422, 'UNPROCESSABLE_ENTITY');
  assertError(await add([{ return_tracking_number: '1'.repeat(101) }]), 422, 'UNPROCESSABLE_ENTITY');
  assertError(await add([{ tracking_number: 370712345678901 }]), 400, 'BAD_VALUE', 'Bad value: shipping_info[0].tracking_number');
  assertError(await add([{ shipping_method: 'Drone' }]), 400, 'BAD_VALUE', 'Bad value: shipping_info[0].shipping_method');
  assertError(await add(['PostNord']), 400, 'BAD_VALUE', 'Bad value: shipping_info[0]');
  assert.equal((await emu.api('GET', `${OM}/${id}/captures/${cid}`)).body.shipping_info.length, 501, 'refused lists added nothing');
  // The same rules inside a capture body; a refused capture captures nothing.
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000, shipping_info: [{ shipping_company: 'x'.repeat(101) }] }),
    422, 'UNPROCESSABLE_ENTITY');
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000, shipping_info: POSTNORD }), 400, 'BAD_VALUE', 'Bad value: shipping_info');
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.captured_amount, 1000);
});

test('captures and refunds: texts within 255 (422) and order lines in OM\'s shape (400) (§6.2)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const shirt = cart().order_lines[0];
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000, description: 'd'.repeat(256) }), 422, 'UNPROCESSABLE_ENTITY',
    'The size of the description value must be between 0 and 255');
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000, reference: 'r'.repeat(256) }), 422, 'UNPROCESSABLE_ENTITY');
  const { name: _, ...nameless } = shirt;
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800, order_lines: [nameless] }), 400, 'BAD_VALUE',
    'Bad value: order_lines[0].name');
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800, order_lines: [{ ...shirt, unit_price: 499.5 }] }), 400, 'BAD_VALUE',
    'Bad value: order_lines[0].unit_price');
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800, order_lines: [{ ...shirt, quantity_unit: 'förpackning' }] }),
    422, 'UNPROCESSABLE_ENTITY', 'The size of the order_lines[0].quantity_unit value must be between 0 and 10');
  assertError(await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 1000, shipping_delay: -1 }), 400, 'BAD_VALUE', 'Bad value: shipping_delay');
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.captured_amount, 0, 'nothing captured by a refused capture');
  assert.equal((await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800, order_lines: [shirt] })).status, 201);
  assertError(await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 100, reference: 'r'.repeat(256) }), 422, 'UNPROCESSABLE_ENTITY');
  assertError(await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 100, order_lines: [{ ...shirt, type: 'refund' }] }), 400, 'BAD_VALUE',
    'Bad value: order_lines[0].type');
  // A return fee is an OM line type (§2.3).
  const fee = { type: 'return_fee', name: 'Returfrakt', quantity: 1, unit_price: -4900, total_amount: -4900, tax_rate: 2500, total_tax_amount: -980 };
  assert.equal((await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 45000, order_lines: [{ ...shirt, quantity: 1, total_amount: 49900, total_tax_amount: 9980 }, fee] })).status, 201);
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.refunded_amount, 45000);
});

// ---- customer-details (§6.1) ----

test('customer-details: the shipping address changes while the order is open; billing never (§6.1)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const before = (await emu.api('GET', `${OM}/${id}`)).body;
  const moved = { given_name: 'Testperson-se', family_name: 'Approved', street_address: 'Nygatan 7', postal_code: '21136', city: 'Malmö', country: 'SE' };
  assert.equal((await emu.api('PATCH', `${OM}/${id}/customer-details`, { shipping_address: moved })).status, 204);
  const om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.deepEqual(om.shipping_address, { ...moved, country: 'se' });
  assert.deepEqual(om.billing_address, before.billing_address);
  assertError(await emu.api('PATCH', `${OM}/${id}/customer-details`, { billing_address: moved }), 403, 'NOT_ALLOWED', 'Billing address cannot be updated');
  assertError(await emu.api('PATCH', `${OM}/${id}/customer-details`, { shipping_address: { ...moved, postal_code: '211 36 MALMÖ' } }), 422, 'INVALID_ADDRESS');
  assertError(await emu.api('PATCH', `${OM}/${id}/customer-details`, { shipping_address: { ...moved, country: 'Sweden' } }), 422, 'INVALID_ADDRESS');
  assertError(await emu.api('PATCH', `${OM}/${id}/customer-details`, {}), 422, 'INVALID_ADDRESS');
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 });
  assertError(await emu.api('PATCH', `${OM}/${id}/customer-details`, { shipping_address: moved }), 403, 'NOT_ALLOWED', 'Order is CAPTURED. Customer details cannot be updated');
  assertError(await emu.api('PATCH', `${OM}/${NOBODY}/customer-details`, { shipping_address: moved }), 404, 'NO_SUCH_ORDER');
});

// ---- refunds, cancel, release (§6.1, §6.3, §10.5) ----

test('refunds: partial and repeated, spread over the captures, each readable with its fields', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 99800 });
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 8310 });
  const shirt = { ...cart().order_lines[0], quantity: 1, total_amount: 49900, total_tax_amount: 9980 };
  const first = await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 49900, description: 'Retur: Linneskjorta, M', reference: 'RMA-1', order_lines: [shirt] });
  assert.equal(first.status, 201, first.text);
  const rid = first.headers.get('refund-id');
  assert.match(rid, /^[0-9a-f-]{36}$/);
  assert.equal(first.headers.get('location'), `${emu.url}${OM}/${id}/refunds/${rid}`);
  const refund = (await emu.api('GET', `${OM}/${id}/refunds/${rid}`)).body;
  assert.deepEqual(Object.keys(refund).sort(), ['description', 'order_lines', 'reference', 'refund_id', 'refunded_amount', 'refunded_at']);
  assert.equal(refund.refund_id, rid);
  assert.equal(refund.refunded_amount, 49900);
  assert.equal(refund.refunded_at, emu.now().slice(0, 11) + refund.refunded_at.slice(11), 'an ISO time of today');
  assert.deepEqual(refund.order_lines, [shirt]);
  // The second shirt and part of the socks: over both captures, oldest first.
  assert.equal((await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 55000 })).status, 201);
  let om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.refunded_amount, 104900);
  assert.equal(om.captured_amount, 108110, 'refunds do not change what was captured');
  assert.equal(om.remaining_authorized_amount, 0);
  assert.deepEqual(om.captures.map((c) => c.refunded_amount), [99800, 5100]);
  assert.deepEqual(om.refunds.map((r) => r.refunded_amount), [49900, 55000]);
  assertError(await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 3211 }), 403, 'REFUND_NOT_ALLOWED');
  assert.equal((await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 3210 })).status, 201, 'exactly what is left');
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.refunded_amount, om.captured_amount);
  assertError(await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 1 }), 403, 'REFUND_NOT_ALLOWED');
  assertError(await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 0 }), 400, 'BAD_VALUE');
  assertError(await emu.api('POST', `${OM}/${id}/refunds`, {}), 400, 'BAD_VALUE', 'Bad value: refunded_amount');
});

test('refunds: a Klarna-Idempotency-Key refunds once; the retry gets the same Refund-Id (§6.3)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 });
  const a = await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 10000 }, key(2));
  const b = await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 20000 }, key(2)); // body ignored: a replay
  assert.equal(b.status, 201);
  assert.equal(b.headers.get('refund-id'), a.headers.get('refund-id'));
  assert.equal(b.headers.get('location'), a.headers.get('location'));
  let om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.refunds.length, 1);
  assert.equal(om.refunded_amount, 10000);
  // A dropped answer: the refund happened; the keyed retry replays instead of refunding again.
  await emu.control('POST', '/faults', { method: 'POST', path: `${OM}/*/refunds`, drop: true });
  await assert.rejects(emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 5000 }, key(3)));
  const retry = await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 5000 }, key(3));
  assert.equal(retry.status, 201);
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.refunded_amount, 15000);
  assert.equal(om.refunds.at(-1).refund_id, retry.headers.get('refund-id'));
  // A refusal replays too, even once the refund would fit (§6.3: 4xx replay).
  const no = await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 200000 }, key(4));
  assertError(no, 403, 'REFUND_NOT_ALLOWED');
  const again = await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 100 }, key(4));
  assertError(again, 403, 'REFUND_NOT_ALLOWED');
  assert.equal(again.body.correlation_id, no.body.correlation_id);
  // No key: two refunds.
  await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 100 });
  await emu.api('POST', `${OM}/${id}/refunds`, { refunded_amount: 100 });
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.refunded_amount, 15200);
});

test('refunds: an unknown order or refund is 404 NOT_FOUND, as the OM spec declares for refunds', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  assertError(await emu.api('POST', `${OM}/${NOBODY}/refunds`, { refunded_amount: 100 }), 404, 'NOT_FOUND');
  assertError(await emu.api('GET', `${OM}/${NOBODY}/refunds/${NOBODY}`), 404, 'NOT_FOUND');
  assertError(await emu.api('GET', `${OM}/${id}/refunds/${NOBODY}`), 404, 'NOT_FOUND', `Refund ${NOBODY} cannot be found for order ${id}`);
  assertError(await emu.api('POST', `${OM}/100234/refunds`, { refunded_amount: 100 }), 400, 'INVALID_ORDER_ID');
  assertError(await emu.api('POST', `${OM}/${NOBODY}/captures`, { captured_amount: 100 }), 404, 'NO_SUCH_ORDER', `Order ${NOBODY} cannot be found`);
});

test('cancel before capture; release only after a capture, and only once (§6.1, §6.4, the OM spec)', T, async (t) => {
  const emu = await start(t);
  // Nothing captured: release is refused (cancel is for that), cancel works.
  const a = await completed(emu);
  assertError(await emu.api('POST', `${OM}/${a}/release-remaining-authorization`), 403, 'NOT_ALLOWED',
    'Order has no captures. Remaining authorization cannot be released.');
  assert.equal((await emu.api('GET', `${OM}/${a}`)).body.status, 'AUTHORIZED', 'the refused release changed nothing');
  const cancel = await emu.api('POST', `${OM}/${a}/cancel`, undefined, key(5));
  assert.equal(cancel.status, 204);
  assert.equal((await emu.api('POST', `${OM}/${a}/cancel`, undefined, key(5))).status, 204, 'a keyed retry replays the 204');
  assertError(await emu.api('POST', `${OM}/${a}/cancel`), 403, 'CANCEL_NOT_ALLOWED', 'Order is CANCELLED. Cancel not possible');
  assertError(await emu.api('POST', `${OM}/${a}/release-remaining-authorization`), 403, 'NOT_ALLOWED',
    'Order is CANCELLED. Remaining authorization cannot be released.');
  assertError(await emu.api('POST', `${OM}/${a}/refunds`, { refunded_amount: 100 }), 403, 'REFUND_NOT_ALLOWED', 'Order has no captures. Refund not possible');
  // Partly captured: cancel refused, release ends it; refunds still possible, captures not.
  const b = await completed(emu);
  await emu.api('POST', `${OM}/${b}/captures`, { captured_amount: 99800 });
  assertError(await emu.api('POST', `${OM}/${b}/cancel`), 403, 'CANCEL_NOT_ALLOWED', 'Order has previous captures. Cancel not possible');
  assert.equal((await emu.api('POST', `${OM}/${b}/release-remaining-authorization`)).status, 204);
  const om = (await emu.api('GET', `${OM}/${b}`)).body;
  assert.deepEqual([om.status, om.captured_amount, om.remaining_authorized_amount, om.order_amount], ['CAPTURED', 99800, 0, 108110]);
  assertError(await emu.api('POST', `${OM}/${b}/captures`, { captured_amount: 100 }), 403, 'CAPTURE_NOT_ALLOWED');
  assertError(await emu.api('POST', `${OM}/${b}/release-remaining-authorization`), 403, 'NOT_ALLOWED',
    'Order is fully captured. Remaining authorization cannot be released.');
  assert.equal((await emu.api('POST', `${OM}/${b}/refunds`, { refunded_amount: 99800 })).status, 201);
  // An expired authorization: nothing to release either.
  const c = await completed(emu);
  await emu.control('POST', `/orders/${c}/expire`, {});
  assertError(await emu.api('POST', `${OM}/${c}/release-remaining-authorization`), 403, 'NOT_ALLOWED');
  assertError(await emu.api('POST', `${OM}/${c}/cancel`), 403, 'CANCEL_NOT_ALLOWED');
});

// ---- merchant references (§6.1, the OM spec's `Update merchant references`; issue 10) ----

test('merchant-references: 204; a key present overwrites, one left out is kept; a key replays (§6.3)', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu, { ...cart(), merchant_reference2: 'cart-77' });
  const path = `${OM}/${id}/merchant-references`;
  const set = await emu.api('PATCH', path, { merchant_reference1: 'O10042' }, key(20));
  assert.equal(set.status, 204, set.text);
  assert.equal(set.text, '');
  let om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.deepEqual([om.merchant_reference1, om.merchant_reference2], ['O10042', 'cart-77'], 'reference 2 kept: it was left out');
  // The same key answers with the first result and changes nothing, whatever the body says.
  assert.equal((await emu.api('PATCH', path, { merchant_reference1: 'O99999' }, key(20))).status, 204);
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.equal(om.merchant_reference1, 'O10042');
  assert.equal((await emu.api('PATCH', path, { merchant_reference2: '' }, key(21))).status, 204);
  om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.deepEqual([om.merchant_reference1, om.merchant_reference2], ['O10042', ''], 'an empty reference is a value (minLength 0)');
});

test('merchant-references: 255 UTF-16 units at most, text only, an object body; 403 cancelled, 404 unknown', T, async (t) => {
  const emu = await start(t);
  const id = await completed(emu);
  const path = `${OM}/${id}/merchant-references`;
  assert.equal((await emu.api('PATCH', path, { merchant_reference1: '9'.repeat(255) })).status, 204);
  assertError(await emu.api('PATCH', path, { merchant_reference1: '9'.repeat(256) }), 400, 'BAD_VALUE', 'Bad value: merchant_reference1');
  assertError(await emu.api('PATCH', path, { merchant_reference2: '😀'.repeat(128) }), 400, 'BAD_VALUE', 'Bad value: merchant_reference2');
  assertError(await emu.api('PATCH', path, { merchant_reference1: 10042 }), 400, 'BAD_VALUE', 'Bad value: merchant_reference1');
  assertError(await emu.api('PATCH', path, ['O10042']), 400, 'BAD_VALUE');
  assertError(await emu.api('PATCH', path, '"O10042"'), 400, 'BAD_VALUE'); // JSON, but a string
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.merchant_reference1, '9'.repeat(255), 'refusals changed nothing');
  assertError(await emu.api('PATCH', `${OM}/${NOBODY}/merchant-references`, { merchant_reference1: 'O1' }), 404, 'NO_SUCH_ORDER',
    'Order cannot be found. Merchant references cannot be updated.');
  assert.equal((await emu.api('POST', `${OM}/${id}/cancel`)).status, 204);
  assertError(await emu.api('PATCH', path, { merchant_reference1: 'O1' }), 403, 'NOT_ALLOWED', 'Can not update a cancelled order');
});
