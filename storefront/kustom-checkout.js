// Kustom Checkout for a Hantera storefront: a framework-free ES module, no build step.
//
//   import { mountKustomCheckout } from './kustom-checkout.js';
//   const checkout = mountKustomCheckout(document.querySelector('#checkout'), { cartId });
//
// What it does, as the platform's KustomCheckout.vue does (hantera-platform.md §3.10):
// - posts the checkout ingress and injects the returned `htmlSnippet`, re-creating its <script>
//   elements (scripts set through innerHTML do not run);
// - follows the cart over the cart's server-sent events (`GET …/carts/{cartId}/events`), or by
//   polling where that is not available; while the cart is "syncing" it also polls, slowly, so
//   that a lost or reordered event cannot leave the iframe suspended;
// - suspends the Kustom iframe while `fields.kustomPendingHash ≠ fields.kustomSyncHash` and shows
//   "Updating order…"; resumes it when they meet (a resume makes Kustom read the order again);
//   when the synced hash moved on without a suspension seen, suspends and resumes at once, which
//   refreshes the iframe;
// - a cart the app cannot send to Kustom (the sync rule writes a pending hash `unsyncable:<code>`
//   and says why on the cart's activity log) keeps the iframe suspended, with a reason;
// - on Kustom's redirect to the confirmation URL (`redirect_status=succeeded`) calls the confirm
//   ingress, retrying while Kustom's status is not yet `checkout_complete`, then shows the
//   confirmation (Kustom's confirmation snippet when it can still be had) and removes
//   `redirect_status`, `cart` and `checkout` from the address bar;
// - a cart that completes while the page is open (Kustom's push won) shows the confirmation too;
// - every failure is said to the shopper in the container (no snippet, an ingress error, a
//   confirmation that did not come through).

/**
 * @typedef {object} RenderedCart The Commerce cart as its ingresses render it (the fields used here).
 * @property {string} cartId
 * @property {string} [cartNumber]
 * @property {'open'|'completed'|'rejected'} cartState
 * @property {string} currencyCode
 * @property {string} [locale]
 * @property {number} orderTotal
 * @property {Record<string, unknown>} [fields] custom fields: kustomOrderId, kustomPendingHash, kustomSyncHash
 */

/**
 * @typedef {'loading'|'checkout'|'syncing'|'blocked'|'confirming'|'confirmed'|'error'} Phase
 * - `loading`: asking for the checkout; `checkout`: the iframe is live;
 * - `syncing`: the cart changed and Kustom does not hold it yet (iframe suspended, notice shown);
 * - `blocked`: the cart cannot be sent to Kustom (iframe suspended, the reason shown);
 * - `confirming`: back from Kustom, confirming the payment; `confirmed`: paid, confirmation shown;
 * - `error`: something the shopper must know went wrong (the message says what).
 */

/**
 * @typedef {object} CheckoutState
 * @property {Phase} phase
 * @property {string|null} message what the shopper is told, if anything
 * @property {string|null} code the error or refusal code behind the message
 * @property {RenderedCart|null} cart the cart as last seen
 * @property {string|null} kustomOrderId
 */

/**
 * @typedef {object} KustomCheckoutOptions
 * @property {string} cartId the cart to check out
 * @property {string} [apiBase] origin of the Hantera ingresses ('' = this page's origin)
 * @property {string} [termsUrl] the shop's terms page (default: `/terms` on this origin)
 * @property {string} [checkoutUrl] where Kustom sends a shopper who goes back (default: this page, cleaned)
 * @property {string} [confirmationUrl] where Kustom redirects after the purchase (default: this page
 *   with `redirect_status=succeeded&cart=<cartId>&checkout=kustom`); it must carry `redirect_status=succeeded`
 * @property {boolean} [events] follow the cart over server-sent events (default true where EventSource exists)
 * @property {number} [pollMs] polling interval without events (default 2000)
 * @property {number} [syncPollMs] polling interval while syncing, beside the events (default 1500)
 * @property {number[]} [confirmDelaysMs] the confirm retries' delays (default [0, 1000, 2000, 4000, 8000])
 * @property {Partial<Messages>} [messages] shopper-facing texts to replace
 * @property {(state: CheckoutState) => void} [onState] called on every change of phase or message
 * @property {(cart: RenderedCart) => void} [onCart] called with every cart seen (to re-render a summary)
 * @property {(option: ShippingChoice) => void} [onShippingOption] called when the customer picks a
 *   shipping option in Kustom's iframe (Kustom's `shipping_option_change`; shipping chosen there,
 *   docs/shipping.md), to show it beside the cart before the purchase completes
 * @property {typeof fetch} [fetch] the fetch to use (default: window.fetch)
 */

/**
 * @typedef {object} ShippingChoice Kustom's `shipping_option_change` data (amounts in minor units)
 * @property {string} [id]
 * @property {string} [name]
 * @property {number} [price]
 * @property {number} [tax_amount]
 */

/**
 * @typedef {object} Messages
 * @property {string} loading
 * @property {string} updating
 * @property {string} confirming
 * @property {string} confirmed
 * @property {string} noSnippet
 * @property {string} loadFailed
 * @property {(code: string, message: string, status: number) => string} ingressError
 * @property {(code: string) => string} unsyncable
 * @property {(code: string|null, message: string|null) => string} confirmFailed
 */

/** @type {Messages} */
export const DEFAULT_MESSAGES = {
  loading: 'Loading checkout…',
  updating: 'Updating order… Please wait.',
  confirming: 'Confirming your payment…',
  confirmed: 'Thank you! Your order is confirmed.',
  noSnippet: 'No checkout snippet returned',
  loadFailed: 'Failed to load Kustom Checkout',
  ingressError: (code, message, status) => code === 'CART_EMPTY' ? 'Your cart is empty.'
    : UNSYNCABLE_REASONS[code] ? `${UNSYNCABLE_REASONS[code]} Change your cart to pay with Kustom. (${code})`
      : status >= 500 ? `Kustom Checkout could not be loaded right now. Please try again in a moment. (${code})`
        : `Kustom Checkout could not be loaded: ${message}`,
  unsyncable: (code) => `${UNSYNCABLE_REASONS[code] ?? 'Your cart cannot be paid with Kustom as it is now.'} ` +
    `Change your cart to continue. (${code})`,
  confirmFailed: (code, message) => code === 'AMOUNT_MISMATCH'
    ? 'Your payment does not match your cart, so your order was not placed. Please contact us before paying again.'
    : `We could not confirm your payment yet${message ? `: ${message}` : ''}. Reload this page to try again; you will not be charged twice.`,
};

/** What the shopper is told for the codes the sync rule refuses a cart with. */
export const UNSYNCABLE_REASONS = {
  TOTALS_MISMATCH: 'Your cart has a discount or fee that is not on any of its lines, which Kustom cannot show.',
  TAX_MISMATCH: 'Your cart\'s tax cannot be shown line by line in Kustom.',
  NEGATIVE_ORDER_AMOUNT: 'Your gift cards cover more than the order.',
  AMOUNT_TOO_LARGE: 'Your order is larger than Kustom can take.',
  UNKNOWN_CURRENCY: 'Your cart\'s currency is not one Kustom takes.',
  SHIPPING_DISCOUNT_IN_IFRAME: 'Your cart has a shipping discount, which Kustom cannot apply to the delivery you choose there.',
};

export const UNSYNCABLE_PREFIX = 'unsyncable:';
const REDIRECT_PARAMS = ['redirect_status', 'cart', 'checkout'];
const KCO_WAIT = { tries: 10, everyMs: 200 }; // the playground's wait for the snippet's script

/**
 * The cart's Kustom sync state, from its two hashes.
 * @param {RenderedCart|null|undefined} cart
 * @returns {{syncing: boolean, unsyncable: string|null, pending: string|null, synced: string|null}}
 */
export function syncState(cart) {
  const pending = /** @type {string|null} */ (cart?.fields?.kustomPendingHash ?? null);
  const synced = /** @type {string|null} */ (cart?.fields?.kustomSyncHash ?? null);
  const unsyncable = typeof pending === 'string' && pending.startsWith(UNSYNCABLE_PREFIX) ? pending.slice(UNSYNCABLE_PREFIX.length) : null;
  return { syncing: pending != null && pending !== synced, unsyncable, pending, synced };
}

/**
 * Injects HTML and runs its scripts: innerHTML leaves <script> elements inert, so each is
 * replaced by a fresh one with the same attributes and text, in document order.
 * @param {Element} target
 * @param {string} html
 */
export function injectSnippet(target, html) {
  target.innerHTML = html;
  for (const old of Array.from(target.querySelectorAll('script'))) {
    const script = document.createElement('script');
    for (const { name, value } of Array.from(old.attributes)) script.setAttribute(name, value);
    script.text = old.text;
    old.replaceWith(script);
  }
}

/**
 * Whether this page is Kustom's redirect back after a purchase of this cart.
 * @param {string} href
 * @param {string} cartId
 */
export function isConfirmationRedirect(href, cartId) {
  const params = new URL(href).searchParams;
  return params.get('redirect_status') === 'succeeded' && (!params.has('cart') || params.get('cart') === cartId);
}

/**
 * The address without the redirect's parameters.
 * @param {string} href
 */
export function withoutRedirectParams(href) {
  const url = new URL(href);
  for (const name of REDIRECT_PARAMS) url.searchParams.delete(name);
  return url.toString();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Mounts Kustom Checkout for a cart into a container.
 * @param {Element} container
 * @param {KustomCheckoutOptions} options
 */
export function mountKustomCheckout(container, options) {
  const { cartId } = options;
  if (!cartId) throw new Error('mountKustomCheckout: cartId is required');
  const apiBase = (options.apiBase ?? '').replace(/\/$/, '');
  const doFetch = options.fetch ?? window.fetch.bind(window);
  const messages = { ...DEFAULT_MESSAGES, ...options.messages };
  const here = withoutRedirectParams(window.location.href);
  const withRedirect = new URL(options.checkoutUrl ?? here);
  withRedirect.searchParams.set('redirect_status', 'succeeded');
  withRedirect.searchParams.set('cart', cartId);
  withRedirect.searchParams.set('checkout', 'kustom');
  const urls = {
    termsUrl: options.termsUrl ?? new URL('/terms', window.location.origin).toString(),
    checkoutUrl: options.checkoutUrl ?? here,
    confirmationUrl: options.confirmationUrl ?? withRedirect.toString(),
  };
  const cartPath = `${apiBase}/ingress/commerce/carts/${encodeURIComponent(cartId)}`;

  container.innerHTML = '';
  const root = element('div', 'kustom-checkout');
  root.hidden = false;
  const notice = element('div', 'kustom-checkout__notice');
  notice.setAttribute('role', 'status');
  notice.setAttribute('aria-live', 'polite');
  const alert = element('div', 'kustom-checkout__error');
  alert.setAttribute('role', 'alert');
  const confirmation = element('div', 'kustom-checkout__confirmation');
  const snippetBox = element('div', 'kustom-checkout__snippet');
  root.append(notice, alert, confirmation, snippetBox);
  container.append(root);

  /** @type {CheckoutState} */
  const state = { phase: 'loading', message: null, code: null, cart: null, kustomOrderId: null };
  let destroyed = false;
  let suspended = false; // as far as we told Kustom
  let lastSynced = /** @type {string|null|undefined} */ (undefined);
  let snippetShown = false;
  /** @type {EventSource|null} */
  let events = null;
  let pollTimer = /** @type {ReturnType<typeof setTimeout>|undefined} */ (undefined);

  function element(tag, className) {
    const node = document.createElement(tag);
    node.className = className;
    node.hidden = true;
    return node;
  }
  function show(phase, message = null, code = null) {
    Object.assign(state, { phase, message, code });
    root.dataset.phase = phase;
    notice.hidden = !(phase === 'syncing' || phase === 'confirming' || phase === 'loading');
    notice.textContent = phase === 'syncing' ? messages.updating : phase === 'confirming' ? messages.confirming
      : phase === 'loading' ? messages.loading : '';
    alert.hidden = !(phase === 'error' || phase === 'blocked');
    alert.textContent = alert.hidden ? '' : (message ?? '');
    snippetBox.hidden = !snippetShown || phase === 'confirming' || phase === 'confirmed';
    options.onState?.({ ...state });
  }

  async function call(method, path) {
    const response = await doFetch(`${cartPath}${path}`, {
      method, headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: method === 'POST' ? JSON.stringify(path === '/payment/kustom' ? urls : {}) : undefined,
    });
    const body = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, body };
  }
  const failure = (body) => ({ code: body?.error?.code ?? null, message: body?.error?.message ?? null });

  // ---- the Kustom iframe's JS API
  async function kustomApi() {
    for (let i = 0; i < KCO_WAIT.tries; i++) {
      if (typeof window._klarnaCheckout === 'function') return window._klarnaCheckout;
      await sleep(KCO_WAIT.everyMs);
    }
    return null;
  }
  async function suspend() {
    if (suspended) return; // never twice
    suspended = true;
    // Kustom resumes by itself after 10 s unless told not to: a sync may take longer, and a cart
    // it cannot take must stay suspended.
    (await kustomApi())?.((api) => api.suspend({ autoResume: { enabled: false } }));
  }
  async function resume() {
    if (!suspended) return;
    suspended = false;
    (await kustomApi())?.((api) => api.resume());
  }
  async function refresh() { // Kustom reads the order again on resume
    suspended = true;
    const kco = await kustomApi();
    kco?.((api) => api.suspend({ autoResume: { enabled: false } }));
    setTimeout(() => { // unless the cart started syncing again meanwhile
      if (suspended && !destroyed && !syncState(state.cart).syncing) { suspended = false; kco?.((api) => api.resume()); }
    }, 0);
  }

  // ---- following the cart
  /** @param {RenderedCart} cart */
  function applyCart(cart) {
    if (destroyed || !cart || cart.cartId !== cartId) return;
    state.cart = cart;
    options.onCart?.(cart);
    if (state.phase === 'confirming' || state.phase === 'confirmed') return;
    if (cart.cartState === 'completed') { stopFollowing(); confirmFlow(); return; } // the push completed it
    if (!snippetShown) return;
    const sync = syncState(cart);
    if (sync.unsyncable) {
      suspend();
      show('blocked', messages.unsyncable(sync.unsyncable), sync.unsyncable);
    } else if (sync.syncing) {
      suspend();
      show('syncing');
    } else {
      if (suspended) resume();
      else if (lastSynced !== undefined && sync.synced !== lastSynced) refresh(); // synced again while we did not look
      show('checkout');
    }
    lastSynced = sync.synced;
    schedulePoll();
  }
  async function fetchCart() {
    try {
      const { ok, body } = await call('GET', '');
      if (ok) applyCart(body);
    } catch { /* offline for a moment: the next poll or event brings it */ }
  }
  function schedulePoll() {
    clearTimeout(pollTimer);
    if (destroyed || state.phase === 'confirming' || state.phase === 'confirmed') return;
    const live = events && events.readyState !== 2; // 2: CLOSED
    const syncing = state.phase === 'syncing' || state.phase === 'blocked';
    if (live && !syncing) return;
    pollTimer = setTimeout(fetchCart, live ? (options.syncPollMs ?? 1500) : (options.pollMs ?? 2000));
  }
  function follow() {
    const wanted = options.events ?? typeof window.EventSource === 'function';
    if (wanted) {
      events = new EventSource(`${cartPath}/events`);
      const onCart = (event) => { try { applyCart(JSON.parse(event.data)); } catch { /* not a cart */ } };
      for (const name of ['init', 'updated']) events.addEventListener(name, onCart);
      events.addEventListener('error', () => schedulePoll()); // reconnecting, or closed for good: poll meanwhile
    }
    schedulePoll();
  }
  function stopFollowing() {
    events?.close();
    events = null;
    clearTimeout(pollTimer);
  }

  // ---- checkout
  async function start() {
    show('loading');
    let answer;
    try {
      answer = await call('POST', '/payment/kustom');
    } catch {
      return show('error', messages.loadFailed, 'NETWORK');
    }
    if (destroyed) return;
    if (!answer.ok) {
      const { code, message } = failure(answer.body);
      if (code === 'CART_NOT_OPEN') return confirmFlow(); // paid already (push or another tab)
      return show('error', message ? messages.ingressError(code ?? 'ERROR', message, answer.status) : messages.loadFailed, code);
    }
    state.kustomOrderId = answer.body.kustomOrderId ?? null;
    if (answer.body.status === 'checkout_complete') return confirmFlow(answer.body.htmlSnippet); // paid, not yet confirmed
    if (!answer.body.htmlSnippet) return show('error', messages.noSnippet, 'NO_SNIPPET');
    injectSnippet(snippetBox, answer.body.htmlSnippet);
    snippetShown = true;
    show('checkout');
    follow();
    listen();
  }

  // ---- what the customer picks in Kustom's iframe
  async function listen() {
    if (!options.onShippingOption) return;
    const handler = (data) => { if (!destroyed) options.onShippingOption?.(data ?? {}); };
    (await kustomApi())?.((api) => api.on({ shipping_option_change: handler }));
  }

  // ---- back from Kustom: confirm
  let confirming = null;
  function confirmFlow(knownSnippet) {
    confirming ??= confirm(knownSnippet);
    return confirming;
  }
  async function confirm(knownSnippet) {
    stopFollowing();
    show('confirming');
    // Kustom's confirmation snippet: the checkout ingress answers it for a paid order while the
    // cart is still open. Once confirmed (or completed by the push) only the cart is left.
    let confirmationSnippet = knownSnippet ?? null;
    if (!confirmationSnippet && state.cart?.cartState !== 'completed') {
      const answer = await call('POST', '/payment/kustom').catch(() => null);
      if (answer?.ok && answer.body.status === 'checkout_complete') {
        confirmationSnippet = answer.body.htmlSnippet ?? null;
        state.kustomOrderId = answer.body.kustomOrderId ?? state.kustomOrderId;
      }
    }
    let last = { code: null, message: null };
    let done = false;
    for (const delay of options.confirmDelaysMs ?? [0, 1000, 2000, 4000, 8000]) {
      await sleep(delay);
      if (destroyed) return;
      try {
        const answer = await call('POST', '/payment/kustom/confirm');
        if (answer.ok && answer.body?.status === 'checkout_complete') { done = true; break; }
        last = answer.ok ? { code: 'NOT_COMPLETE', message: null } : failure(answer.body);
        if (last.code === 'AMOUNT_MISMATCH') break; // retrying cannot help
      } catch {
        last = { code: 'NETWORK', message: null };
      }
    }
    const cart = await call('GET', '').then((r) => (r.ok ? r.body : null)).catch(() => null);
    if (cart) { state.cart = cart; options.onCart?.(cart); }
    if (!done && cart?.cartState !== 'completed') return show('error', messages.confirmFailed(last.code, last.message), last.code);
    window.history.replaceState(window.history.state, '', withoutRedirectParams(window.location.href));
    snippetBox.innerHTML = '';
    snippetShown = false;
    confirmation.hidden = false;
    confirmation.innerHTML = '';
    const heading = document.createElement('h2');
    heading.textContent = messages.confirmed;
    confirmation.append(heading);
    if (cart) {
      const summary = document.createElement('p');
      const total = new Intl.NumberFormat(cart.locale ?? undefined, { style: 'currency', currency: cart.currencyCode }).format(cart.orderTotal);
      summary.textContent = `Order ${cart.cartNumber ?? cart.cartId}: ${total} paid with Kustom.`;
      summary.className = 'kustom-checkout__summary';
      confirmation.append(summary);
    }
    if (confirmationSnippet) {
      const box = document.createElement('div');
      box.className = 'kustom-checkout__kustom-confirmation';
      confirmation.append(box);
      injectSnippet(box, confirmationSnippet);
    }
    show('confirmed');
  }

  if (isConfirmationRedirect(window.location.href, cartId)) confirmFlow();
  else start();

  return {
    /** The current state (a copy). */
    get state() { return { ...state }; },
    /**
     * Hand over a cart the shop already has (e.g. a mutation's answer): the iframe suspends at
     * once instead of waiting for the event.
     * @param {RenderedCart} cart
     */
    setCart(cart) { applyCart(cart); },
    /** Unmounts: stops following the cart and empties the container. */
    destroy() {
      destroyed = true;
      stopFollowing();
      container.innerHTML = '';
    },
  };
}
