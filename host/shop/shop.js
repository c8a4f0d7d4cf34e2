// The demo shop's pages: a cart kept in localStorage, rendered from Commerce's rendered cart.
// Everything goes through the host's Commerce routes and the app's ingresses (same origin).
import { mountKustomCheckout } from '/storefront/kustom-checkout.js';

const CART_KEY = 'kustom-demo-cart';
// The cart profile new carts get: `se` (the shop's flat shipping), or `se-iframe` (a channel whose
// carriers the customer chooses between in Kustom's checkout); `/shop/?profile=se-iframe` switches.
const PROFILE_KEY = 'kustom-demo-profile';
const requested = new URL(location.href).searchParams.get('profile');
if (requested) localStorage.setItem(PROFILE_KEY, requested);
const profile = () => localStorage.getItem(PROFILE_KEY) ?? 'se';
const $ = (selector) => document.querySelector(selector);
const money = (amount, cart) => new Intl.NumberFormat(cart?.locale ?? 'sv-SE', { style: 'currency', currency: cart?.currencyCode ?? 'SEK' }).format(amount);
const SWATCHES = { 'TS-RED-M': '#c94a3b', 'BOOK-9789100123': '#d8b25a', 'MUG-1': '#4d6f8f' };

async function api(method, path, body) {
  const response = await fetch(`/ingress/commerce/carts${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new Error(answer?.error?.message ?? `${method} ${path}: ${response.status}`);
  return answer;
}
/** The shopper's open cart: the one in localStorage, or a new one. */
async function openCart() {
  const known = localStorage.getItem(CART_KEY);
  if (known) {
    const cart = await api('GET', `/${known}`).catch(() => null);
    if (cart?.cartState === 'open' && cart.profileKey === profile()) return cart;
  }
  const { cartId } = await api('POST', '', { locale: 'sv-SE', profileKey: profile() });
  localStorage.setItem(CART_KEY, cartId);
  return api('GET', `/${cartId}`);
}
const mutate = (cart, action, body) => api('POST', `/${cart.cartId}/${action}`, body);

/** The shipping row: the shop's carriers are chosen between in Kustom's checkout (`picked`: the
 * option the customer picked there, before the purchase completes). */
function shippingRow(cart, picked) {
  const chosen = cart.deliveryDynamicFields?.kustomShippingOptionName;
  if (chosen) return `<div data-testid="shipping-choice"><span>Shipping: ${chosen} <span class="hint">(chosen in Kustom's checkout)</span></span><span>${money(cart.shippingTotal, cart)}</span></div>`;
  if (picked?.name && cart.shippingOptions) return `<div data-testid="shipping-choice"><span>Shipping: ${picked.name} <span class="hint">(chosen in Kustom's checkout)</span></span><span>${money(picked.price / 100, cart)}</span></div>`;
  const assumed = (cart.shippingOptions ?? []).find((o) => o.preselected) ?? cart.shippingOptions?.[0];
  const price = money(cart.shippingTotal + (cart.shippingDiscount ?? 0), cart); // a shipping promotion is listed below
  if (!assumed) return `<div><span>Shipping</span><span>${price}</span></div>`;
  return `<div data-testid="shipping-choice"><span>Shipping: ${assumed.name} <span class="hint">(${cart.shippingOptions.length} carriers to choose from at checkout)</span></span><span>${price}</span></div>`;
}

/** What the customer pays: with a carrier picked in Kustom's iframe, the goods and its price (as
 * Kustom shows), until the completed cart carries it. */
const total = (cart, picked) => (picked?.name && cart.shippingOptions && !cart.deliveryDynamicFields?.kustomShippingOptionName
  ? cart.orderTotal - cart.shippingTotal + picked.price / 100 : cart.orderTotal);

/** The cart's lines, coupons and totals into `box`; `onChange(cart)` after each change made here. */
function renderCart(box, cart, onChange, { editable = true, picked = null } = {}) {
  const lines = cart.items.map((item) => `
    <div class="line" data-testid="line-${item.productNumber}">
      <div>${item.description}<div class="hint">${money(item.unitPrice, cart)} each</div></div>
      <div class="qty">
        <button class="small" data-action="dec" data-item="${item.cartItemId}" ${editable ? '' : 'disabled'} aria-label="one less">−</button>
        <span data-testid="qty-${item.productNumber}">${item.quantity}</span>
        <button class="small" data-action="inc" data-item="${item.cartItemId}" ${editable ? '' : 'disabled'} aria-label="one more">+</button>
      </div>
      <div>${money(item.total, cart)}</div>
    </div>`).join('') || '<p class="hint">Your cart is empty.</p>';
  const coupons = cart.coupons.map((code) => `<span class="chip">${code} <button class="small" data-action="uncoupon" data-code="${code}" data-testid="remove-coupon-${code}" ${editable ? '' : 'disabled'}>×</button></span>`).join('');
  const promotions = (cart.promotions ?? []).map((p) => `<div><span>${p.description}</span><span>${money(p.calculatedTotal, cart)}</span></div>`).join('');
  box.innerHTML = `${lines}
    <div class="coupon"><input data-testid="coupon-input" placeholder="Coupon (TENOFF, SAVE50, FREESHIP)" ${editable ? '' : 'disabled'}><button data-action="coupon" data-testid="coupon-apply" ${editable ? '' : 'disabled'}>Apply</button></div>
    <div>${coupons}</div>
    <div class="totals">
      ${shippingRow(cart, picked)}${promotions}
      <div class="grand"><span>Total</span><span data-testid="cart-total">${money(total(cart, picked), cart)}</span></div>
      <div class="hint"><span>incl. VAT</span><span>${money(cart.orderTaxTotal, cart)}</span></div>
    </div>`;
  box.onclick = async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button || !editable) return;
    const item = cart.items.find((i) => i.cartItemId === button.dataset.item);
    const action = button.dataset.action;
    let next;
    if (action === 'inc') next = await mutate(cart, 'set-quantity', { cartItemId: item.cartItemId, quantity: item.quantity + 1 });
    else if (action === 'dec') next = item.quantity > 1 ? await mutate(cart, 'set-quantity', { cartItemId: item.cartItemId, quantity: item.quantity - 1 })
      : await mutate(cart, 'remove-item', { cartItemId: item.cartItemId });
    else if (action === 'coupon') {
      const code = box.querySelector('input').value.trim().toUpperCase();
      if (code) next = await mutate(cart, 'add-coupon', { couponCode: code });
    } else if (action === 'uncoupon') next = await mutate(cart, 'remove-coupon', { couponCode: button.dataset.code });
    if (next) onChange(next);
  };
}

/** /shop/: products and the cart. */
export async function productsPage() {
  const [{ products }, first] = await Promise.all([fetch('/shop/catalog.json').then((r) => r.json()), openCart()]);
  let cart = first;
  const show = (next) => {
    cart = next;
    renderCart($('#cart'), cart, show);
    $('#count').textContent = String(cart.items.reduce((n, i) => n + i.quantity, 0));
    $('#to-checkout').hidden = !cart.items.length;
  };
  $('#products').innerHTML = products.map((p) => `
    <div class="product"><div class="swatch" style="background:${SWATCHES[p.productNumber] ?? '#999'}"></div>
      <b>${p.description}</b><span class="price">${money(p.price, cart)}</span>
      <button data-product="${p.productNumber}" data-testid="add-${p.productNumber}">Add to cart</button></div>`).join('');
  $('#products').onclick = async (event) => {
    const button = event.target.closest('button[data-product]');
    if (!button) return;
    const line = cart.items.find((i) => i.productNumber === button.dataset.product);
    show(line ? await mutate(cart, 'set-quantity', { cartItemId: line.cartItemId, quantity: line.quantity + 1 })
      : await mutate(cart, 'add-item', { productNumber: button.dataset.product, quantity: 1 }));
  };
  show(cart);
}

/** /shop/checkout: the cart beside Kustom Checkout. */
export async function checkoutPage() {
  const fromRedirect = new URL(location.href).searchParams.get('cart');
  if (fromRedirect) localStorage.setItem(CART_KEY, fromRedirect);
  const cartId = localStorage.getItem(CART_KEY);
  if (!cartId) { location.href = '/shop/'; return; }
  let checkout;
  let editable = true;
  let picked = null; // the carrier picked in Kustom's iframe
  let shown = null;
  const show = (cart) => {
    shown = cart;
    renderCart($('#cart'), cart, (next) => { show(next); checkout.setCart(next); }, { editable, picked });
    const f = cart.fields ?? {};
    $('#sync').textContent = `pending ${String(f.kustomPendingHash ?? '–').slice(0, 14)} · synced ${String(f.kustomSyncHash ?? '–').slice(0, 14)}`;
  };
  checkout = mountKustomCheckout($('#kustom-checkout'), {
    cartId,
    termsUrl: new URL('/shop/terms', location.origin).toString(),
    checkoutUrl: new URL('/shop/checkout', location.origin).toString(),
    events: new URL(location.href).searchParams.get('events') !== 'off', // ?events=off: the polling fallback
    onCart: show,
    onShippingOption: (option) => { picked = option; if (shown) show(shown); },
    onState: (state) => {
      document.body.dataset.checkout = state.phase;
      if (state.phase === 'confirmed' || state.phase === 'confirming') editable = false;
      if (state.phase === 'confirmed') { localStorage.removeItem(CART_KEY); $('#again').hidden = false; if (state.cart) show(state.cart); }
    },
  });
  window.kustomCheckout = checkout; // for a person poking at it in the console
  const cart = await api('GET', `/${cartId}`).catch(() => null);
  if (cart && !checkout.state.cart) show(cart); // the checkout has not brought it yet (e.g. it failed)
}
