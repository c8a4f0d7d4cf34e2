// Shared by the emulator tests: an emulator per test, a merchant-side receiver for callbacks,
// and a realistic Swedish cart. Everything listens on 127.0.0.1 and is closed by t.after.
import http from 'node:http';
import { startEmulator } from '../../emulator/emulator.mjs';

export const API_KEY = 'kco_test_api_4f1c0b6a2e';

/** Starts an emulator for test t (closed when t ends) with helpers bound to it. */
export async function start(t, options = {}) {
  const emu = await startEmulator({ apiKey: API_KEY, ...options });
  t.after(() => emu.close());
  emu.api = (method, path, body, headers = {}) => call(emu.url, method, path, body, { authorization: `Basic ${API_KEY}`, ...headers });
  emu.control = (method, path, body) => call(emu.url, method, `/__emulator${path}`, body);
  emu.view = async (id) => (await emu.control('GET', `/orders/${id}`)).body;
  emu.advance = (seconds) => emu.control('POST', '/clock/advance', { seconds });
  return emu;
}

/** One HTTP call; the body is parsed when it is JSON, otherwise null (text keeps the raw answer). */
export async function call(base, method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const started = Date.now();
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed, text, ms: Date.now() - started };
}

/**
 * A merchant endpoint on the loopback that records every call. `answer(call, n)` returns
 * `{status, body?, headers?}`, or 'hang' to never answer (a timeout on Kustom's side).
 */
export async function receiver(t, answer = () => ({ status: 200 })) {
  const calls = [];
  const server = http.createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req.setEncoding('utf8')) text += chunk;
    const c = { method: req.method, url: req.url, headers: req.headers, text, body: text ? JSON.parse(text) : null, at: Date.now() };
    calls.push(c);
    const a = await answer(c, calls.length);
    if (a === 'hang') return;
    const data = a.body === undefined ? '' : JSON.stringify(a.body);
    res.writeHead(a.status, { ...(data && { 'Content-Type': 'application/json' }), ...a.headers });
    res.end(data);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
  return { url: `http://127.0.0.1:${server.address().port}`, calls };
}

/** Polls until fn() is truthy (returns it) or fails after ms. */
export async function waitFor(fn, ms = 3000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A Swedish web-shop cart in öre, 25 % VAT, tax-inclusive prices: two shirts, socks with a line
 * discount, shipping, and a campaign discount line. Amounts are written out, not computed, so the
 * emulator's arithmetic is checked against numbers a person can verify:
 * 99800 + 13410 + 4900 − 10000 = 108110; VAT 19960 + 2682 + 980 − 2000 = 21622 (each total / 5).
 */
export function cart(urls = {}) {
  return {
    purchase_country: 'SE', purchase_currency: 'SEK', locale: 'sv-SE',
    order_amount: 108110, order_tax_amount: 21622,
    order_lines: [
      { type: 'physical', reference: 'LS-100-M', name: 'Linneskjorta, M', quantity: 2, quantity_unit: 'pcs',
        unit_price: 49900, tax_rate: 2500, total_amount: 99800, total_discount_amount: 0, total_tax_amount: 19960 },
      { type: 'physical', reference: 'WS-3P', name: 'Ullstrumpor 3-pack', quantity: 1, quantity_unit: 'pcs',
        unit_price: 14900, tax_rate: 2500, total_amount: 13410, total_discount_amount: 1490, total_tax_amount: 2682 },
      { type: 'shipping_fee', reference: 'SHIP-PN', name: 'PostNord MyPack', quantity: 1,
        unit_price: 4900, tax_rate: 2500, total_amount: 4900, total_tax_amount: 980 },
      { type: 'discount', reference: 'SPRING100', name: 'Vårkampanj -100 kr', quantity: 1,
        unit_price: -10000, tax_rate: 2500, total_amount: -10000, total_tax_amount: -2000 },
    ],
    merchant_reference1: '100234',
    merchant_urls: {
      terms: 'https://shop.example.se/villkor',
      checkout: 'https://shop.example.se/kassa?kustom_order_id={checkout.order.id}',
      confirmation: 'https://shop.example.se/bekraftelse?kustom_order_id={checkout.order.id}',
      // A closed loopback port: a push that fires in a test that does not watch for it goes nowhere.
      push: 'http://127.0.0.1:9/kustom/push?kustom_order_id={checkout.order.id}',
      ...urls,
    },
  };
}

/** Creates the cart's checkout order and completes it as the customer; returns the order id. */
export async function completed(emu, body = cart(), completion = {}) {
  const created = await emu.api('POST', '/checkout/v3/orders', body);
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
  const done = await emu.control('POST', `/orders/${created.body.order_id}/complete`, completion);
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${done.text}`);
  return created.body.order_id;
}
