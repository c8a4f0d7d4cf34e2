// Nothing lost (issue 16): the customer pays, but neither the confirmation redirect nor the push
// reaches the merchant. The emulator can switch an order's pushes off (Kustom still tries on its
// §5.2 schedule; nothing is delivered) and never plays the browser's redirect; a test moves the
// emulated clock with --time-scale and clock advances together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, receiver, waitFor, cart } from './helpers.mjs';

const T = { timeout: 5000 };
const OM = '/ordermanagement/v1/orders';
const MIN = 60;

test('push off at completion: paid at Kustom, the attempts are made on schedule, none reaches the merchant', T, async (t) => {
  const emu = await start(t); // real time: only clock advances move the schedule
  const shop = await receiver(t);
  const { body: o } = await emu.api('POST', '/checkout/v3/orders',
    cart({ push: `${shop.url}/push?id={checkout.order.id}`, confirmation: `${shop.url}/confirm?id={checkout.order.id}` }));
  const done = await emu.control('POST', `/orders/${o.order_id}/complete`, { push: false });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.push_enabled, false);
  // The control route plays no browser: the confirmation page was never visited; its URL is in the view.
  assert.equal(done.body.confirmation_url, `${shop.url}/confirm?id=${o.order_id}`);
  await emu.advance(23 * MIN); // attempts due at minutes 2, 7 and 22
  await new Promise((r) => setTimeout(r, 50));
  const v = await emu.view(o.order_id);
  assert.deepEqual(v.pushes.map((p) => [p.attempt, p.status, p.error]), [[1, null, 'switched off'], [2, null, 'switched off'], [3, null, 'switched off']]);
  assert.equal(shop.calls.length, 0, 'neither push nor confirmation reached the shop');
  assert.ok(v.next_push_at, 'Kustom keeps trying');
  // What a watchdog finds when it reads the order: paid, not acknowledged.
  assert.equal((await emu.api('GET', `/checkout/v3/orders/${o.order_id}`)).body.status, 'checkout_complete');
  const om = (await emu.api('GET', `${OM}/${o.order_id}`)).body;
  assert.equal(om.status, 'AUTHORIZED');
  assert.deepEqual(v.acknowledgements, []);
  // The outage ends: the next scheduled attempt (minute 52) is delivered.
  const on = await emu.control('POST', `/orders/${o.order_id}/push`, { enabled: true });
  assert.equal(on.body.push_enabled, true);
  await emu.advance(30 * MIN);
  await waitFor(() => shop.calls.length === 1, 2000, 'the fourth attempt');
  assert.equal(shop.calls[0].url, `/push?id=${o.order_id}`);
  assert.equal((await emu.view(o.order_id)).pushes.at(-1).status, 200);
});

test('push switch: off before completion, on and off at any time; bad bodies are refused', T, async (t) => {
  const emu = await start(t);
  const shop = await receiver(t);
  const { body: o } = await emu.api('POST', '/checkout/v3/orders', cart({ push: `${shop.url}/push` }));
  const off = await emu.control('POST', `/orders/${o.order_id}/push`, { enabled: false });
  assert.equal(off.status, 200, off.text);
  assert.equal((await emu.control('POST', `/orders/${o.order_id}/complete`, {})).body.push_enabled, false, 'stays off through completion');
  await emu.advance(3 * MIN);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(shop.calls.length, 0);
  assert.equal((await emu.view(o.order_id)).pushes.length, 1);
  assert.equal((await emu.control('POST', `/orders/${o.order_id}/push`, { enabled: 'no' })).status, 400);
  assert.equal((await emu.control('POST', `/orders/${o.order_id}/push`, {})).status, 400);
  assert.equal((await emu.control('GET', `/orders/${o.order_id}/push`)).status, 405);
  assert.equal((await emu.control('POST', '/orders/8cf27b55-53e8-4aba-9fb4-7c692e56ddee/push', { enabled: false })).status, 404);
  // An acknowledgement still stops Kustom trying, delivered or not (§5.3).
  assert.equal((await emu.api('POST', `${OM}/${o.order_id}/acknowledge`)).status, 204);
  assert.equal((await emu.view(o.order_id)).next_push_at, null);
});

test('time scale and clock advances together: a fast clock plus a jump, as a watchdog test needs', T, async (t) => {
  const emu = await start(t, { timeScale: 3600 }); // 1 real ms = 3.6 emulated s
  const shop = await receiver(t);
  const { body: o } = await emu.api('POST', '/checkout/v3/orders', cart({ push: `${shop.url}/push` }));
  await emu.control('POST', `/orders/${o.order_id}/complete`, { push: false });
  const before = Date.parse((await emu.control('GET', '/clock')).body.now);
  await emu.advance(40 * 60 * MIN); // 40 h: past 2, 7, 22, 52, 112 min and 4 h steps up to 40 h
  const now = Date.parse((await emu.control('GET', '/clock')).body.now);
  assert.ok(now - before >= 40 * 3600 * 1000);
  const v = await emu.view(o.order_id);
  assert.ok(v.pushes.length >= 14, `${v.pushes.length} attempts in 40 h`); // 5 + 9 every 4 h (352 … 2272 min)
  assert.ok(v.pushes.every((p) => p.error === 'switched off'));
  assert.equal(shop.calls.length, 0);
  // 40 h after completion the checkout order is still readable, the authorization still open.
  assert.equal((await emu.api('GET', `/checkout/v3/orders/${o.order_id}`)).status, 200);
  assert.equal((await emu.api('GET', `${OM}/${o.order_id}`)).body.status, 'AUTHORIZED');
  // The real clock keeps running at 3600×: within 300 real ms at least 18 emulated minutes pass.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(Date.parse((await emu.control('GET', '/clock')).body.now) - now >= 18 * 60 * 1000);
  // Past 48 h Kustom gives up; the watchdog is the only one left.
  await emu.advance(9 * 60 * MIN);
  assert.equal((await emu.view(o.order_id)).push_stopped, 'push window elapsed');
});
