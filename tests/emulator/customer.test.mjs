// The customer's data (kustom-api.md §2.2, §2.5, §2.6, §2.9, §6.2; issue 10): what the merchant
// pre-filled is kept unless the customer typed over it, the control routes can type full
// addresses (other countries, fields up to Kustom's limits), and the completed order carries
// them in both the checkout order and the OM order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, receiver, cart } from './helpers.mjs';

const T = { timeout: 5000 };
const CHECKOUT = '/checkout/v3/orders', OM = '/ordermanagement/v1/orders';

const ASTRID = { given_name: 'Astrid', family_name: 'Lindqvist', email: 'astrid.lindqvist@example.se', phone: '+46701234567',
  street_address: 'Sveavägen 44', street_address2: 'lgh 1102', postal_code: '11134', city: 'Stockholm' };

async function complete(emu, body, completion = {}) {
  const { body: o } = await emu.api('POST', CHECKOUT, body);
  const done = await emu.control('POST', `/orders/${o.order_id}/complete`, completion);
  return { id: o.order_id, done };
}

test('customer: a pre-filled address and customer are kept when the customer types nothing', T, async (t) => {
  const emu = await start(t);
  const body = cart();
  body.billing_address = { ...ASTRID };
  body.shipping_address = { ...ASTRID };
  body.customer = { date_of_birth: '1988-04-12' };
  const { id, done } = await complete(emu, body);
  assert.equal(done.status, 200, done.text);
  const co = (await emu.api('GET', `${CHECKOUT}/${id}`)).body;
  assert.deepEqual(co.billing_address, { ...ASTRID, country: 'se' });
  assert.deepEqual(co.shipping_address, { ...ASTRID, country: 'se' });
  assert.deepEqual(co.customer, { type: 'person', date_of_birth: '1988-04-12' });
  const om = (await emu.api('GET', `${OM}/${id}`)).body;
  assert.deepEqual(om.billing_address, { ...ASTRID, country: 'se' });
  assert.deepEqual(om.shipping_address, { ...ASTRID, country: 'se' });
  assert.deepEqual(om.customer, { date_of_birth: '1988-04-12' }, 'OM shows date_of_birth (and national id), not type');
  // Nothing pre-filled, nothing typed: Kustom's test person, complete with email and phone.
  const plain = await complete(emu, cart());
  const a = plain.done.body.om.billing_address;
  for (const k of ['given_name', 'family_name', 'email', 'phone', 'street_address', 'postal_code', 'city']) assert.ok(a[k], k);
  assert.equal(a.country, 'se');
});

test('customer: what is typed replaces the pre-fill field by field; later merchant updates are ignored (§2.9)', T, async (t) => {
  const emu = await start(t);
  const body = cart();
  body.billing_address = { email: 'kund@example.se', phone: '+46700000001' };
  const { body: o } = await emu.api('POST', CHECKOUT, body);
  const typed = await emu.control('POST', `/orders/${o.order_id}/customer`, { address: { given_name: 'Sven', family_name: 'Berg', postal_code: '41301', city: 'Göteborg' } });
  assert.equal(typed.status, 200, typed.text);
  assert.equal(typed.body.checkout.status, 'checkout_incomplete', 'typing does not complete');
  let b = typed.body.checkout.billing_address;
  assert.equal(b.given_name, 'Sven');
  assert.equal(b.email, 'kund@example.se', 'the pre-filled email stays');
  assert.equal(b.city, 'Göteborg');
  const upd = await emu.api('POST', `${CHECKOUT}/${o.order_id}`, { billing_address: { email: 'other@example.se' }, merchant_reference2: 'r2' });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.billing_address.email, 'kund@example.se', 'ignored once typed');
  const done = await emu.control('POST', `/orders/${o.order_id}/complete`, {});
  b = done.body.om.billing_address;
  assert.deepEqual([b.given_name, b.email, b.city], ['Sven', 'kund@example.se', 'Göteborg'], 'what was typed before stays at completion');
  assert.equal((await emu.control('POST', `/orders/${o.order_id}/customer`, { address: { given_name: 'Late' } })).status, 409);
});

test('customer: another country only where the merchant ships or bills (§2.2)', T, async (t) => {
  const emu = await start(t);
  const norway = { ...ASTRID, postal_code: '0150', city: 'Oslo', phone: '+4791234567', country: 'NO' };
  let r = await complete(emu, cart(), { address: norway });
  assert.equal(r.done.status, 400, 'a Swedish cart ships to Sweden only by default');
  assert.match(r.done.body.error, /billing_address\.country no is not offered/);
  const nordic = { ...cart(), shipping_countries: ['SE', 'NO', 'FI'] };
  r = await complete(emu, nordic, { address: norway });
  assert.equal(r.done.status, 200, r.done.text);
  assert.equal(r.done.body.om.billing_address.country, 'no');
  assert.equal(r.done.body.om.shipping_address.country, 'no');
  assert.equal(r.done.body.om.shipping_address.city, 'Oslo');
  r = await complete(emu, nordic, { address: { ...norway, country: 'DK' } });
  assert.equal(r.done.status, 400);
  // billing_countries, when given, limit billing only.
  r = await complete(emu, { ...cart(), shipping_countries: ['SE'], billing_countries: ['SE', 'FI'] }, { address: { country: 'FI' } });
  assert.equal(r.done.status, 400, 'the shipping address (the same one) must still be Swedish');
  assert.match(r.done.body.error, /shipping_address\.country fi/);
  const bad = await emu.api('POST', CHECKOUT, { ...cart(), shipping_countries: ['SWE'] });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error_messages, ['Bad value: shipping_countries']);
  // A US address needs a region (§6.2).
  const us = { ...cart(), purchase_country: 'US', purchase_currency: 'USD', locale: 'en-US', order_amount: 10800, order_tax_amount: 800,
    order_lines: [{ type: 'physical', name: 'Mug', quantity: 2, unit_price: 5000, tax_rate: 0, total_amount: 10000, total_tax_amount: 0 },
      { type: 'sales_tax', name: 'Sales Tax', quantity: 1, unit_price: 800, tax_rate: 0, total_amount: 800, total_tax_amount: 0 }] };
  const street = { given_name: 'Klara', family_name: 'Joyce', street_address: '1 Main St', postal_code: '37902', city: 'Knoxville', phone: '+18655550100' };
  r = await complete(emu, us, { address: street });
  assert.equal(r.done.status, 400);
  assert.match(r.done.body.error, /region is required/);
  r = await complete(emu, us, { address: { ...street, region: 'TN' } });
  assert.equal(r.done.status, 200, r.done.text);
  assert.equal(r.done.body.om.billing_address.region, 'TN');
});

test('customer: fields up to the lengths Kustom keeps, not beyond (§6.2 OM address)', T, async (t) => {
  const emu = await start(t);
  const long = { given_name: 'Å'.repeat(100), family_name: 'Ö'.repeat(100), email: `${'e'.repeat(88)}@example.se`,
    street_address: 'S'.repeat(100), street_address2: 'L'.repeat(100), postal_code: '1234567890', city: 'C'.repeat(200), care_of: 'c/o Berg' };
  let r = await complete(emu, cart(), { address: long });
  assert.equal(r.done.status, 200, r.done.text);
  assert.deepEqual(r.done.body.om.billing_address, { ...r.done.body.om.billing_address, ...long });
  for (const [field, value] of [['street_address', 'S'.repeat(101)], ['postal_code', '12345678901'], ['given_name', 'Å'.repeat(101)], ['city', 'C'.repeat(201)]]) {
    r = await complete(emu, cart(), { address: { [field]: value } });
    assert.equal(r.done.status, 400, field);
    assert.match(r.done.body.error, new RegExp(`billing_address\\.${field} is longer than`));
  }
  r = await complete(emu, cart(), { address: { postal_code: 11134 } });
  assert.equal(r.done.status, 400, 'fields are strings');
  r = await complete(emu, cart(), { customer: { date_of_birth: '12/04/1988' } });
  assert.equal(r.done.status, 400);
  r = await complete(emu, cart(), { customer: { shoe_size: '42' } });
  assert.equal(r.done.status, 400);
  r = await complete(emu, cart(), { address: 'Sveavägen 44' });
  assert.equal(r.done.status, 400);
});

test('customer: a separate shipping address only with allow_separate_shipping_address (§2.5)', T, async (t) => {
  const emu = await start(t);
  const office = { given_name: 'Astrid', family_name: 'Lindqvist', street_address: 'Kungsgatan 2', postal_code: '11143', city: 'Stockholm', attention: 'Reception' };
  let r = await complete(emu, cart(), { billing_address: ASTRID, shipping_address: office });
  assert.equal(r.done.status, 400);
  assert.match(r.done.body.error, /allow_separate_shipping_address/);
  const merchant = await receiver(t);
  const body = { ...cart({ validation: `${merchant.url}/v` }), options: { allow_separate_shipping_address: true } };
  r = await complete(emu, body, { billing_address: ASTRID, shipping_address: office });
  assert.equal(r.done.status, 200, r.done.text);
  const om = r.done.body.om;
  assert.equal(om.billing_address.street_address, 'Sveavägen 44');
  assert.equal(om.shipping_address.street_address, 'Kungsgatan 2');
  assert.equal(om.shipping_address.attention, 'Reception');
  assert.equal(om.shipping_address.email, ASTRID.email, 'contact details come from the billing side unless typed');
  assert.equal(merchant.calls[0].body.shipping_address.street_address, 'Kungsgatan 2', 'the validation callback sees both');
  assert.equal(merchant.calls[0].body.billing_address.street_address, 'Sveavägen 44');
});
