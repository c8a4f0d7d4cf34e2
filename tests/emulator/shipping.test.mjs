// Shipping chosen in the Kustom iframe (kustom-api.md §2.7, §2.8, §4, §10.4; issue 15): the
// merchant's shipping_options are checked, the customer picks one, and Kustom folds it into the
// order as a shipping_fee line, in the checkout order, the validation callback and the OM order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, receiver, cart } from './helpers.mjs';

const T = { timeout: 5000 };
const CHECKOUT = '/checkout/v3/orders', OM = '/ordermanagement/v1/orders';

/**
 * The helpers' cart without its own shipping line (shipping is chosen in the iframe):
 * 108110 − 4900 = 103210, VAT 21622 − 980 = 20642; and three options at 25 % VAT.
 */
export function shippingCart(urls = {}) {
  const body = cart(urls);
  body.order_lines.splice(2, 1);
  Object.assign(body, { order_amount: 103210, order_tax_amount: 20642, shipping_options: [
    { id: 'pn-home', name: 'PostNord Hemleverans', price: 6900, tax_amount: 1380, tax_rate: 2500, shipping_method: 'Home', preselected: true },
    { id: 'pn-ombud', name: 'PostNord Ombud', description: 'Hämta hos ditt ombud', price: 4900, tax_amount: 980, tax_rate: 2500,
      shipping_method: 'PickUpPoint', tms_reference: 'a1b2c3d4-0000-4000-8000-00000000aa01',
      delivery_details: { carrier: 'postnord', class: 'standard', product: { name: 'MyPack Collect', identifier: 'P19' },
        pickup_location: { id: '98231', name: 'ICA Nära Ankeborg', address: { street_address: 'Storgatan 4', postal_code: '12345', city: 'Ankeborg', country: 'SE' } } } },
    { id: 'store', name: 'Hämta i butik', price: 0, tax_amount: 0, tax_rate: 2500, shipping_method: 'PickUpStore' },
  ] });
  return body;
}
const sum = (lines, k) => lines.reduce((s, l) => s + l[k], 0);
function assertSums(o) { // §2.8 rules 3–4 on what Kustom answers
  assert.equal(o.order_amount, sum(o.order_lines, 'total_amount'));
  assert.equal(o.order_tax_amount, sum(o.order_lines, 'total_tax_amount'));
}
function assertBadValue(r, ...messages) {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error_code, 'BAD_VALUE');
  assert.deepEqual(r.body.error_messages, messages);
}

test('shipping_options: each option is checked as Kustom must to turn it into a line (§2.7, §2.8)', T, async (t) => {
  const emu = await start(t);
  assert.equal((await emu.api('POST', CHECKOUT, shippingCart())).status, 201);
  const withOption = (i, patch) => { const b = shippingCart(); Object.assign(b.shipping_options[i], patch); return b; };
  const { id: _, ...noId } = shippingCart().shipping_options[0];
  const missing = shippingCart();
  missing.shipping_options[0] = noId;
  assertBadValue(await emu.api('POST', CHECKOUT, missing), 'Bad value: shipping_options[0].id');
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(1, { name: '' })), 'Bad value: shipping_options[1].name');
  // Prices are integer minor units, not negative: 49.00 kr sent as 49.0 or as kronor with decimals is refused.
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(1, { price: 49.5 })), 'Bad value: shipping_options[1].price');
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(1, { price: -4900, tax_amount: -980 })),
    'Bad value: shipping_options[1].price', 'Bad value: shipping_options[1].tax_amount');
  // The tax is the §2.8 line formula on the price: 6900 at 25 % → 1380; 1382 is 2 away.
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(0, { tax_amount: 1382 })),
    'Bad value: shipping_options[0].tax_amount differs from the calculated value [1380] by more than [1]');
  assert.equal((await emu.api('POST', CHECKOUT, withOption(0, { tax_amount: 1381 }))).status, 201, 'within 1 passes');
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(0, { tax_rate: 10001 })), 'Bad value: shipping_options[0].tax_rate');
  // The customer's choice is by id: ids are unique; one option at most is preselected.
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(2, { id: 'pn-home' })), 'Bad value: shipping_options[2].id');
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(1, { preselected: true })),
    'Bad value: shipping_options[1].preselected (only one option can be preselected)');
  assertBadValue(await emu.api('POST', CHECKOUT, withOption(0, { shipping_method: 'Drone' })), 'Bad value: shipping_options[0].shipping_method');
  assertBadValue(await emu.api('POST', CHECKOUT, { ...shippingCart(), shipping_options: { id: 'x' } }), 'Bad value: shipping_options');
  // An update is checked the same way.
  const { body: o } = await emu.api('POST', CHECKOUT, shippingCart());
  assertBadValue(await emu.api('POST', `${CHECKOUT}/${o.order_id}`, { shipping_options: [{ id: 'x', name: 'X', price: 100 }] }),
    'Bad value: shipping_options[0].tax_rate', 'Bad value: shipping_options[0].tax_amount');
});

test('shipping: the customer picks an option; Kustom adds its shipping_fee line and amounts (§2.7, §2.8)', T, async (t) => {
  const emu = await start(t);
  const { body: created } = await emu.api('POST', CHECKOUT, shippingCart());
  const id = created.order_id, path = `${CHECKOUT}/${id}`;
  assert.equal(created.selected_shipping_option, undefined, 'nothing is chosen before the customer acts');
  assert.equal(created.order_amount, 103210);
  const pick = (optionId) => emu.control('POST', `/orders/${id}/shipping-option`, { id: optionId });
  const r = await pick('pn-ombud');
  assert.equal(r.status, 200, r.text);
  let o = (await emu.api('GET', path)).body;
  assert.deepEqual(o.selected_shipping_option, shippingCart().shipping_options[1], 'the option as the merchant sent it');
  assert.deepEqual(o.order_lines.at(-1), { type: 'shipping_fee', reference: 'pn-ombud', name: 'PostNord Ombud', quantity: 1,
    unit_price: 4900, tax_rate: 2500, total_amount: 4900, total_discount_amount: 0, total_tax_amount: 980 });
  assert.equal(o.order_lines.length, 4);
  assert.equal(o.order_amount, 103210 + 4900);
  assert.equal(o.order_tax_amount, 20642 + 980);
  assertSums(o);
  // Another choice replaces the line, never adds a second one.
  await pick('pn-home');
  o = (await emu.api('GET', path)).body;
  assert.equal(o.order_lines.length, 4);
  assert.equal(o.order_lines.filter((l) => l.type === 'shipping_fee').length, 1);
  assert.equal(o.order_amount, 103210 + 6900);
  assertSums(o);
  // A free option is a line of 0.
  await pick('store');
  o = (await emu.api('GET', path)).body;
  assert.equal(o.order_amount, 103210);
  assert.equal(o.order_lines.at(-1).reference, 'store');
  // None: back to the merchant's order.
  await pick(null);
  o = (await emu.api('GET', path)).body;
  assert.equal(o.selected_shipping_option, undefined);
  assert.deepEqual(o.order_lines, created.order_lines);
  assert.equal(o.order_amount, 103210);
  // An id the merchant did not offer is refused and changes nothing.
  const unknown = await pick('dhl-express');
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error, /no shipping option "dhl-express"/);
  assert.equal((await pick(42)).status, 400);
  assert.equal((await emu.control('POST', `/orders/${id}/shipping-option`, {})).status, 400, 'id is required (null for none)');
  assert.equal((await emu.api('GET', path)).body.selected_shipping_option, undefined);
  assert.equal((await emu.control('POST', '/orders/8cf27b55-53e8-4aba-9fb4-7c692e56ddee/shipping-option', { id: 'store' })).status, 404);
});

test('shipping: merchant updates are checked without Kustom\'s line, and the choice follows the options', T, async (t) => {
  const emu = await start(t);
  const { body: created } = await emu.api('POST', CHECKOUT, shippingCart());
  const id = created.order_id, path = `${CHECKOUT}/${id}`;
  await emu.control('POST', `/orders/${id}/shipping-option`, { id: 'pn-ombud' });
  // A partial update: still exactly one shipping line, and the sums still hold.
  let r = await emu.api('POST', path, { merchant_reference2: 'cart-77' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.order_lines.filter((l) => l.type === 'shipping_fee').length, 1);
  assert.equal(r.body.order_amount, 103210 + 4900);
  assertSums(r.body);
  // The merchant sends its own cart (without Kustom's line): accepted, the choice is re-applied.
  const shirts = cart().order_lines[0];
  r = await emu.api('POST', path, { order_lines: [shirts], order_amount: 99800, order_tax_amount: 19960 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.order_lines.map((l) => l.reference), ['LS-100-M', 'pn-ombud']);
  assert.equal(r.body.order_amount, 99800 + 4900);
  assertSums(r.body);
  // The merchant re-prices the option: the line follows.
  const options = shippingCart().shipping_options;
  options[1] = { ...options[1], price: 5900, tax_amount: 1180 };
  r = await emu.api('POST', path, { shipping_options: options });
  assert.equal(r.body.order_amount, 99800 + 5900);
  assert.equal(r.body.selected_shipping_option.price, 5900);
  assertSums(r.body);
  // The merchant withdraws the option: the choice is gone with it.
  r = await emu.api('POST', path, { shipping_options: options.filter((s) => s.id !== 'pn-ombud') });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.selected_shipping_option, undefined);
  assert.deepEqual(r.body.order_lines.map((l) => l.reference), ['LS-100-M']);
  assert.equal(r.body.order_amount, 99800);
});

test('shipping at completion: the preselected option by default, the one given, or none', T, async (t) => {
  const emu = await start(t);
  const complete = async (body, completion) => {
    const { body: o } = await emu.api('POST', CHECKOUT, body);
    return [o.order_id, await emu.control('POST', `/orders/${o.order_id}/complete`, completion)];
  };
  let [, done] = await complete(shippingCart(), {});
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.checkout.selected_shipping_option.id, 'pn-home');
  assert.equal(done.body.om.order_amount, 103210 + 6900);
  [, done] = await complete(shippingCart(), { shipping_option_id: 'store' });
  assert.equal(done.body.checkout.selected_shipping_option.id, 'store');
  [, done] = await complete(shippingCart(), { shipping_option_id: null });
  assert.equal(done.body.checkout.selected_shipping_option, undefined, 'null: the customer chose none');
  assert.equal(done.body.om.selected_shipping_option, undefined);
  assert.equal(done.body.om.order_amount, 103210);
  const noPreselect = shippingCart();
  delete noPreselect.shipping_options[0].preselected;
  [, done] = await complete(noPreselect, {});
  assert.equal(done.body.checkout.selected_shipping_option, undefined, 'nothing preselected: none');
  assert.equal(done.body.om.order_amount, 103210);
  // A choice made before completion stands.
  const { body: o } = await emu.api('POST', CHECKOUT, shippingCart());
  await emu.control('POST', `/orders/${o.order_id}/shipping-option`, { id: 'pn-ombud' });
  done = await emu.control('POST', `/orders/${o.order_id}/complete`, {});
  assert.equal(done.body.checkout.selected_shipping_option.id, 'pn-ombud');
  // An unknown id: 400, and the order is still open.
  let id;
  [id, done] = await complete(shippingCart(), { shipping_option_id: 'dhl-express' });
  assert.equal(done.status, 400);
  assert.equal((await emu.api('GET', `${CHECKOUT}/${id}`)).body.status, 'checkout_incomplete');
  // Once complete, the choice is final.
  const after = await emu.control('POST', `/orders/${o.order_id}/shipping-option`, { id: 'store' });
  assert.equal(after.status, 409);
});

test('shipping: the validation callback and the OM order carry the choice (§4.1, §6.2)', T, async (t) => {
  const emu = await start(t);
  const merchant = await receiver(t);
  const { body: created } = await emu.api('POST', CHECKOUT, shippingCart({ validation: `${merchant.url}/validate` }));
  const id = created.order_id;
  const done = await emu.control('POST', `/orders/${id}/complete`, { shipping_option_id: 'pn-ombud' });
  assert.equal(done.status, 200, done.text);
  const v = merchant.calls[0].body;
  assert.equal(v.status, 'checkout_incomplete');
  assert.equal(v.selected_shipping_option.id, 'pn-ombud');
  assert.equal(v.order_amount, 103210 + 4900);
  assert.equal(v.order_lines.at(-1).reference, 'pn-ombud');
  assertSums(v);
  const { body: om } = await emu.api('GET', `${OM}/${id}`);
  assert.equal(om.order_amount, 108110);
  assert.equal(om.original_order_amount, 108110);
  assert.equal(om.remaining_authorized_amount, 108110);
  assert.deepEqual(om.order_lines.at(-1), v.order_lines.at(-1));
  // OM's SelectedShippingOptionDto: method, carrier, carrier_product, location.
  assert.deepEqual(om.selected_shipping_option, { id: 'pn-ombud', name: 'PostNord Ombud', price: 4900, tax_amount: 980, tax_rate: 2500,
    method: 'PickUpPoint', carrier: 'postnord', class: 'standard', tms_reference: 'a1b2c3d4-0000-4000-8000-00000000aa01',
    carrier_product: { identifier: 'P19', name: 'MyPack Collect' }, selected_addons: [],
    location: { id: '98231', name: 'ICA Nära Ankeborg', address: { street_address: 'Storgatan 4', postal_code: '12345', city: 'Ankeborg', country: 'se' } } });
  // The shipping is part of what can be captured.
  assert.equal((await emu.api('POST', `${OM}/${id}/captures`, { captured_amount: 108110 })).status, 201);
  assert.equal((await emu.api('GET', `${OM}/${id}`)).body.status, 'CAPTURED');
});
