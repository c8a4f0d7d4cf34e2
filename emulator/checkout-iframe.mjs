// The emulator's stand-in for Kustom's checkout iframe (kustom-api.md §2.9, §9.12–13): what the
// `html_snippet` loads, and the page inside the iframe.
//
// The snippet is, like Kustom's, a `klarna-checkout-container` div holding an inline <script>
// (a storefront must re-create it, since scripts set through innerHTML do not run). The script
// runs in the shop's page: it adds the iframe and defines `window._klarnaCheckout(callback)`,
// which calls back with `{suspend(options), resume(), on(handlers)}`. Messages to the iframe wait
// until it has loaded. It also performs the one thing the iframe asks of the shop's page: moving
// the top window to `merchant_urls.confirmation` after a purchase (or to a validation redirect).
//
// The iframe page shows the order as the emulator holds it now, and reads it again on every
// resume. While suspended it is visibly inert (dimmed, "Updating…", the button disabled); a
// suspension ends by itself after 10 s unless `suspend({autoResume: {enabled: false}})`, as at
// Kustom. Its button plays the customer through `POST /__emulator/orders/{id}/complete`: the
// sample address, the merchant's validation callback (a rejection's `error_text` is shown and
// nothing is bought), completion and the push schedule, then the redirect.
//
// With the merchant's `shipping_options` the page also shows Kustom's shipping selector (§2.7):
// one radio button per option with its price, the option Kustom holds as chosen checked, else the
// `preselected` one (shown in the total, but picked at Kustom only when the customer acts or
// pays). Choosing posts `POST /__emulator/orders/{id}/shipping-option`, the page shows the order
// Kustom answers (the option's `shipping_fee` line, the new total) and tells the shop's page
// `shipping_option_change` and `order_total_change`; the purchase completes with the checked
// option. The selector is inert while suspended, paying or choosing.
//
// For tests the page's <body> carries `data-state` (loading | ready | suspended | paying |
// redirecting | complete | gone), `data-order-amount` (minor units, as displayed),
// `data-order-id`, `data-loads` (how many times it read the order), `data-auto-resume` (on | off)
// and `data-shipping-option` (the option Kustom holds as chosen, '' for none).

const AUTO_RESUME_MS = 10_000; // Kustom's default auto-resume after a suspend (§9.12)

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The `html_snippet` for an order: `kind` is `checkout` or `confirmation`. */
export function snippet(base, id, kind) {
  const src = `${base}/__emulator/kco/orders/${id}`;
  return `<div id="klarna-checkout-container" style="overflow-x: hidden;">` +
    `<!-- Kustom emulator: ${kind} iframe for order ${id} -->` +
    `<script type="text/javascript">/* <![CDATA[ */${bootstrap(base, src)}/* ]]> */</script>` +
    `<noscript>Please enable JavaScript to use Kustom Checkout.</noscript></div>`;
}

// Runs in the shop's page (ES5, as a snippet must). JSON.stringify quotes the strings safely;
// `<\/` keeps a `</script>` out of the inline script.
function bootstrap(base, src) {
  const code = `(function (w, d, base, src) {
  var scripts = d.getElementsByTagName('script'), me = scripts[scripts.length - 1];
  var container = (d.currentScript || me).parentNode;
  var iframe = d.createElement('iframe');
  iframe.id = 'klarna-checkout-iframe'; iframe.name = 'klarna-checkout-iframe'; iframe.title = 'Kustom Checkout';
  iframe.setAttribute('scrolling', 'no'); iframe.setAttribute('frameborder', '0');
  iframe.style.cssText = 'width: 100%; height: 460px; border: 0; display: block; background: transparent;';
  iframe.src = src + '?origin=' + encodeURIComponent(w.location.origin);
  container.appendChild(iframe);
  var ready = false, queue = [], handlers = {};
  function send(message) { if (ready && iframe.contentWindow) iframe.contentWindow.postMessage(message, base); else queue.push(message); }
  var api = {
    suspend: function (options) {
      var auto = !(options && options.autoResume && options.autoResume.enabled === false);
      send({ kco: 'suspend', autoResume: auto });
    },
    resume: function () { send({ kco: 'resume' }); },
    on: function (more) { for (var k in more) handlers[k] = more[k]; }
  };
  w._klarnaCheckout = function (callback) { callback(api); };
  w.addEventListener('message', function (event) {
    if (event.origin !== base || event.source !== iframe.contentWindow) return;
    var m = event.data || {};
    if (m.kco === 'ready') { ready = true; var q = queue.splice(0); for (var i = 0; i < q.length; i++) send(q[i]); }
    else if (m.kco === 'event' && typeof handlers[m.name] === 'function') handlers[m.name](m.data);
    else if (m.kco === 'height' && m.height > 0) iframe.style.height = Math.max(460, Math.min(2000, Math.ceil(m.height))) + 'px';
    else if (m.kco === 'redirect') {
      if (typeof handlers.redirect_initiated === 'function') handlers.redirect_initiated({});
      w.location.href = m.url;
    }
  });
})(window, document, ${JSON.stringify(base)}, ${JSON.stringify(src)});`;
  return code.replaceAll('</', '<\\/');
}

/** The page inside the iframe for order `id`. */
export function iframePage(id) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kustom Checkout (emulator)</title>
<style>
  :root { font: 15px/1.4 system-ui, sans-serif; color: #1b1b1b; }
  body { margin: 0; padding: 16px; background: #fff; position: relative; min-height: 420px; box-sizing: border-box; }
  .brand { display: flex; justify-content: space-between; align-items: baseline; margin-bottom: 12px; }
  .brand b { font-size: 18px; letter-spacing: .02em; } .brand small { color: #777; }
  table { width: 100%; border-collapse: collapse; margin: 8px 0 12px; }
  td { padding: 6px 0; border-bottom: 1px solid #eee; } td.n { text-align: right; white-space: nowrap; }
  .total { display: flex; justify-content: space-between; font-size: 18px; font-weight: 600; margin: 8px 0 2px; }
  .tax { color: #666; font-size: 13px; text-align: right; margin-bottom: 14px; }
  .address { color: #444; font-size: 13px; background: #f6f6f6; padding: 8px 10px; border-radius: 6px; margin-bottom: 14px; }
  button { width: 100%; padding: 12px; font-size: 16px; font-weight: 600; border: 0; border-radius: 8px; background: #0f7b5f; color: #fff; cursor: pointer; }
  button:disabled { background: #9bb; cursor: default; }
  #kco-error { color: #a11; background: #fdecec; border-radius: 6px; padding: 8px 10px; margin-top: 12px; }
  #kco-overlay { position: absolute; inset: 0; background: rgba(255,255,255,.72); display: none; align-items: center; justify-content: center; font-weight: 600; color: #555; }
  body[data-state="suspended"] #kco-overlay { display: flex; }
  body[data-state="suspended"] #kco-order { filter: grayscale(1) blur(1px); }
  .done { text-align: center; padding: 24px 0; } .done h2 { margin: 0 0 8px; color: #0f7b5f; }
  fieldset { border: 0; padding: 0; margin: 0 0 14px; } legend { font-weight: 600; margin-bottom: 6px; }
  .ship { display: flex; gap: 10px; align-items: center; padding: 8px 10px; border: 1px solid #ddd; border-radius: 6px; margin-bottom: 6px; cursor: pointer; }
  .ship:has(input:checked) { border-color: #0f7b5f; background: #f1faf7; } .ship span { flex: 1; } .ship small { display: block; color: #666; }
  .ship:has(input:disabled) { cursor: default; }
  [hidden] { display: none !important; }
</style></head>
<body data-state="loading" data-order-id="${escape(id)}" data-loads="0" data-auto-resume="" data-shipping-option="">
<div class="brand"><b>kustom.</b><small>emulator · order ${escape(id.slice(0, 8))}</small></div>
<div id="kco-order"><p>Loading…</p></div>
<div id="kco-error" role="alert" hidden></div>
<div id="kco-overlay" aria-hidden="true">Updating…</div>
<script type="module">
const id = ${JSON.stringify(id)};
const parentOrigin = new URLSearchParams(location.search).get('origin') || '*';
const body = document.body, box = document.getElementById('kco-order'), errorBox = document.getElementById('kco-error');
const tell = (message) => { if (parent !== window) parent.postMessage(message, parentOrigin); };
let view = null, phase = 'loading', suspended = false, cycle = 0, autoResume = null, loads = 0, choosing = false;

const money = (minor, order) => new Intl.NumberFormat(order.locale || 'sv-SE', { style: 'currency', currency: order.purchase_currency })
  .format(minor / 100);
const esc = (t) => String(t ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
/// phase: loading | ready | paying | redirecting | complete | gone; a suspension shows over loading and ready.
function state() {
  body.dataset.state = suspended && (phase === 'ready' || phase === 'loading') ? 'suspended' : phase;
  const inert = suspended || phase !== 'ready' || choosing;
  const button = document.getElementById('kco-pay');
  if (button) button.disabled = inert;
  for (const radio of document.querySelectorAll('#kco-shipping input')) radio.disabled = inert;
}
/// The option shown checked: the one Kustom holds as chosen, else the preselected one.
function checkedOption(order) {
  const options = order.shipping_options ?? [];
  return options.find((o) => o.id === order.selected_shipping_option?.id) ?? options.find((o) => o.preselected === true) ?? null;
}
function shippingSelector(order, checked) {
  const options = order.shipping_options ?? [];
  if (!options.length) return '';
  return '<fieldset id="kco-shipping"><legend>Delivery</legend>' + options.map((o) =>
    '<label class="ship"><input type="radio" name="kco-shipping" value="' + esc(o.id) + '" data-testid="kco-shipping-' + esc(o.id) + '"' +
    (o.id === checked?.id ? ' checked' : '') + '><span>' + esc(o.name) + (o.description ? '<small>' + esc(o.description) + '</small>' : '') +
    '</span><b>' + esc(money(o.price, order)) + '</b></label>').join('') + '</fieldset>';
}
function showError(text) { errorBox.textContent = text || ''; errorBox.hidden = !text; }
function render() {
  const order = view.checkout;
  body.dataset.shippingOption = order.selected_shipping_option?.id ?? '';
  // A preselected option Kustom does not hold as chosen yet is in the total shown, as in Kustom's iframe.
  const checked = checkedOption(order);
  const extra = checked && !order.selected_shipping_option ? checked : null;
  const total = order.order_amount + (extra?.price ?? 0), tax = order.order_tax_amount + (extra?.tax_amount ?? 0);
  body.dataset.orderAmount = String(total);
  if (order.status === 'checkout_complete') {
    if (phase !== 'redirecting') phase = 'complete';
    const chosen = order.selected_shipping_option;
    box.innerHTML = '<div class="done"><h2>Thank you for your order!</h2><p>Order confirmation: <b>' + esc(view.om?.klarna_reference ?? '') +
      '</b></p><p>Paid <b data-testid="kco-total">' + esc(money(order.order_amount, order)) + '</b></p>' +
      (chosen ? '<p>Delivery: <b data-testid="kco-delivery">' + esc(chosen.name) + '</b></p>' : '') + '</div>';
    return state();
  }
  const lines = order.order_lines.map((l) => '<tr><td>' + esc(l.quantity) + ' × ' + esc(l.name) + '</td><td class="n">' + esc(money(l.total_amount, order)) + '</td></tr>').join('');
  const a = order.billing_address ?? {};
  box.innerHTML = '<table>' + lines + '</table>' +
    shippingSelector(order, checked) +
    '<div class="total"><span>Total</span><span data-testid="kco-total">' + esc(money(total, order)) + '</span></div>' +
    '<div class="tax">' + (extra ? 'incl. ' + esc(extra.name) + ' · ' : '') + 'incl. VAT ' + esc(money(tax, order)) + '</div>' +
    '<div class="address">' + (a.given_name ? esc(a.given_name + ' ' + a.family_name + ', ' + a.street_address + ', ' + a.postal_code + ' ' + a.city)
      : 'Testperson-se Approved, Stårgatan 1, 12345 Ankeborg (filled in when you pay)') + '</div>' +
    '<button id="kco-pay" type="button">Complete purchase</button>';
  document.getElementById('kco-pay').addEventListener('click', pay);
  document.getElementById('kco-shipping')?.addEventListener('change', (event) => choose(event.target.value));
  if (phase === 'loading') phase = 'ready';
  state();
}
async function load() {
  const response = await fetch('/__emulator/orders/' + id);
  loads += 1; body.dataset.loads = String(loads);
  const read = response.ok ? await response.json() : null;
  if (!read || read.checkout_expired || read.aborted) { phase = 'gone'; box.innerHTML = '<p>This checkout is no longer available.</p>'; return state(); }
  view = read;
  render();
  tell({ kco: 'event', name: 'order_total_change', data: { order_total: view.checkout.order_amount } });
}
/// The customer picks a shipping option: Kustom adds its line and answers the order.
async function choose(optionId) {
  if (suspended || phase !== 'ready' || choosing) return render();
  choosing = true; showError(''); state();
  let response, answer;
  try {
    response = await fetch('/__emulator/orders/' + id + '/shipping-option', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: optionId }) });
    answer = await response.json().catch(() => ({}));
  } catch (error) { answer = { error: String(error) }; }
  choosing = false;
  if (!response?.ok) { showError(answer.error || 'Something went wrong. Please try again.'); return load(); }
  view = answer;
  render();
  const chosen = view.checkout.selected_shipping_option;
  tell({ kco: 'event', name: 'shipping_option_change', data: chosen ? { id: chosen.id, name: chosen.name, price: chosen.price, tax_amount: chosen.tax_amount, tax_rate: chosen.tax_rate } : {} });
  tell({ kco: 'event', name: 'order_total_change', data: { order_total: view.checkout.order_amount } });
}
async function pay() {
  if (suspended || phase !== 'ready' || choosing) return;
  const checked = checkedOption(view.checkout);
  phase = 'paying'; showError(''); state();
  let response, answer;
  try {
    // With a shipping selector, the purchase is with the option the customer sees checked.
    const choice = checked ? { shipping_option_id: checked.id } : {};
    response = await fetch('/__emulator/orders/' + id + '/complete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(choice) });
    answer = await response.json().catch(() => ({}));
  } catch (error) { answer = { error: String(error) }; }
  if (response?.ok) {
    view = answer;
    phase = 'redirecting';
    render();
    return tell({ kco: 'redirect', url: view.checkout.merchant_urls.confirmation.replaceAll('{checkout.order.id}', id) });
  }
  if (answer.outcome === 'redirected' && answer.location) { phase = 'redirecting'; state(); return tell({ kco: 'redirect', url: answer.location }); }
  phase = 'ready';
  showError(answer.outcome === 'rejected' ? (answer.error_text || 'Sorry, this purchase cannot be processed.')
    : answer.outcome === 'failed' ? 'Sorry, this purchase cannot be processed.' : (answer.error || 'Something went wrong. Please try again.'));
  state();
  if (!suspended) load(); // the order may have changed (or be gone) meanwhile
}
function suspend(auto) {
  clearTimeout(autoResume);
  cycle += 1;
  body.dataset.autoResume = auto ? 'on' : 'off';
  suspended = true; state();
  if (auto) autoResume = setTimeout(resume, ${AUTO_RESUME_MS});
}
async function resume() {
  clearTimeout(autoResume);
  if (!suspended) return;
  const mine = ++cycle;
  await load(); // the order as Kustom holds it now
  if (mine === cycle) { suspended = false; state(); } // unless suspended again meanwhile
}
addEventListener('message', (event) => {
  if (event.source !== parent || (parentOrigin !== '*' && event.origin !== parentOrigin)) return;
  if (event.data?.kco === 'suspend') suspend(event.data.autoResume !== false);
  else if (event.data?.kco === 'resume') resume();
});
tell({ kco: 'ready' });
// Like Kustom's, the iframe tells the shop's page its height (at least the snippet's 460 px).
new ResizeObserver(() => tell({ kco: 'height', height: document.documentElement.scrollHeight })).observe(body);
await load();
tell({ kco: 'event', name: 'load', data: { order_id: id } });
</script>
</body></html>`;
}
