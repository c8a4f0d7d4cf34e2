// The reference host's minimal Commerce: a product catalog, coupons, cart profiles and their
// channels, the shop's carriers, and the rendered cart in the `OnCartMutation` shape (platform
// notes §2.3), computed the way a shop does: integer minor units, the discount and the tax
// rounded per line, totals as sums. Prices include 25 % / 6 % Swedish VAT; shipping is a flat
// SEK 49, or on a channel with carriers of its own the preselected carrier's price.
export const CATALOG = {
  "TS-RED-M": { description: "T-shirt, röd, M", price: 19900, taxRate: 25 },
  "BOOK-9789100123": { description: "Kokbok: Svensk husmanskost", price: 24900, taxRate: 6 },
  "MUG-1": { description: "Kaffemugg", price: 8990, taxRate: 25 },
};
/// Coupon code → percent off every line.
export const COUPONS = { TENOFF: 10 };
/// Coupon code → an amount off the order (minor units, 25 % VAT) that the promotion engine keeps
/// off the lines: a cart the app cannot send to Kustom (its lines no longer add up to the total).
export const ORDER_DISCOUNTS = { SAVE50: 5000 };
/// Coupon code → percent off the shipping the shop assumes (`shippingDiscount`): the shop's
/// shipping line carries it as its discount; on a channel with shipping chosen in Kustom's iframe
/// the app refuses the cart (SHIPPING_DISCOUNT_IN_IFRAME: Kustom would charge the full price).
export const SHIPPING_COUPONS = { FREESHIP: 100 };
const SHIPPING = { price: 4900, taxRate: 25 };
const NORDICS = ["SE", "NO", "DK", "FI"];
/// Cart profiles (Commerce's `GET cart-profiles`): a cart gets its channel, currency and allowed
/// countries from its profile (an address elsewhere is refused).
export const PROFILES = {
  se: { profileKey: "se", channelKey: "webshop-se", currencyCode: "SEK", taxIncluded: true, defaultCountryCode: "SE", allowedCountries: NORDICS },
  "se-iframe": { profileKey: "se-iframe", channelKey: "webshop-se-iframe", currencyCode: "SEK", taxIncluded: true, defaultCountryCode: "SE", allowedCountries: NORDICS },
};
export const DEFAULT_PROFILE = "se";
/// The registry's channel entries when the host starts (`channels/<channelKey>`, platform notes
/// §1.7): an installed app may add properties to them; the Kustom app reads
/// `kustomUsesShippingAssistant` (shipping chosen in Kustom's iframe, default false).
export const REGISTRY = {
  "channels/webshop-se": { label: "Webshop SE", countries: { SE: {} }, kustomUsesShippingAssistant: false },
  "channels/webshop-se-iframe": { label: "Webshop SE, shipping chosen in Kustom's checkout", countries: { SE: {} }, kustomUsesShippingAssistant: true },
};
/// The carriers a channel's shop offers itself (minor units, tax included at `taxRate` %): the
/// rendered cart lists them as `shippingOptions` [I], and its shipping is the preselected one's
/// until the customer chooses. A channel without an entry has the flat shipping above.
export const CARRIERS = {
  "webshop-se-iframe": [
    { id: "pn-ombud", name: "PostNord Ombud", description: "Hämta hos ditt ombud, 1–3 dagar", price: 4900, taxRate: 25, preselected: true,
      shippingMethod: "PickUpPoint", carrier: "PostNord", product: "MyPack Collect" },
    { id: "dhl-home", name: "DHL Hem", description: "Hemleverans kvällstid, 1–2 dagar", price: 7900, taxRate: 25,
      shippingMethod: "Home", carrier: "DHL", product: "DHL Home Delivery" },
    { id: "budbee-box", name: "Budbee Box", description: "Till en paketbox nära dig", price: 3900, taxRate: 25,
      shippingMethod: "BoxReg", carrier: "Budbee" },
  ],
};
/// The cart's ticket dynamic field that Commerce's cart-to-order rule copies onto the order's delivery.
export const DELIVERY_FIELDS = "deliveryDynamicFields";

const roundDiv = (numerator, divisor) => Math.sign(numerator) * Math.round(Math.abs(numerator) / divisor);
const major = (minor) => minor / 100;
export const profileOf = (cart) => PROFILES[cart.profileKey ?? DEFAULT_PROFILE];

/// The rendered cart as Commerce's `GET carts/{cartId}` answers it. `carriers` are the shop's per
/// channel (the host's state, so tests can change them). The host adds `channel` (the registry
/// entry) where it hands the cart to a component.
export function renderCart(cart, { stock, carriers = CARRIERS }) {
  const profile = profileOf(cart);
  const percentOff = cart.coupons.reduce((sum, code) => sum + (COUPONS[code] ?? 0), 0);
  const items = cart.items.map((item) => {
    const product = CATALOG[item.productNumber];
    const gross = item.quantity * product.price;
    const discount = roundDiv(gross * percentOff, 100);
    const total = gross - discount;
    const tax = roundDiv(total * product.taxRate, 100 + product.taxRate);
    return { cartItemId: item.cartItemId, productNumber: item.productNumber, description: product.description,
      quantity: item.quantity, reservedQuantity: Math.min(item.quantity, stock[item.productNumber] ?? 0),
      unitPrice: major(product.price), total: major(total), tax: major(tax), discount: major(discount), minor: { total, tax } };
  });
  // The shop's carriers on this channel (nothing to ship: none); its shipping until the customer
  // chooses is the preselected carrier's, else the first's.
  const offered = carriers[profile.channelKey];
  const options = offered && (items.length ? offered : []).map((c) => ({ ...c, tax: roundDiv(c.price * c.taxRate, 100 + c.taxRate) }));
  const assumed = options ? options.find((c) => c.preselected) ?? options[0] : items.length ? { price: SHIPPING.price, tax: roundDiv(SHIPPING.price * SHIPPING.taxRate, 100 + SHIPPING.taxRate) } : null;
  // [I] The host's stand-in for a Commerce shipping rule: the shipping the customer chose in
  // Kustom's iframe, once the app wrote it to the delivery data (in the batch that completes
  // the cart), is the cart's shipping, and so its order's: the order totals what Kustom authorized.
  const delivery = cart.dynamic[DELIVERY_FIELDS];
  const chosen = typeof delivery?.kustomShippingPrice === "number"
    ? { price: Math.round(delivery.kustomShippingPrice * 100), tax: typeof delivery.kustomShippingTax === "number" ? Math.round(delivery.kustomShippingTax * 100) : 0 } : null;
  const shippingPercentOff = Math.min(100, cart.coupons.reduce((sum, code) => sum + (SHIPPING_COUPONS[code] ?? 0), 0));
  const shippingDiscount = chosen ? 0 : roundDiv((assumed?.price ?? 0) * shippingPercentOff, 100);
  const base = chosen ?? assumed ?? { price: 0, tax: 0 };
  const shipping = base.price - shippingDiscount;
  const rate = assumed?.taxRate ?? SHIPPING.taxRate;
  const shippingTax = shippingDiscount ? roundDiv(shipping * rate, 100 + rate) : base.tax;
  const productTotal = items.reduce((s, i) => s + i.minor.total, 0);
  const productTax = items.reduce((s, i) => s + i.minor.tax, 0);
  const orderDiscount = Math.min(productTotal, cart.coupons.reduce((sum, code) => sum + (ORDER_DISCOUNTS[code] ?? 0), 0));
  const orderDiscountTax = roundDiv(orderDiscount * 25, 125);
  const fields = Object.fromEntries(Object.entries(cart.dynamic).filter(([k]) => k.startsWith("field:")).map(([k, v]) => [k.slice(6), v]));
  return {
    cartId: cart.cartId, cartNumber: `C${cart.cartId.slice(0, 6)}`, cartState: cart.state, channelKey: profile.channelKey,
    currencyCode: profile.currencyCode, taxIncluded: profile.taxIncluded, locale: cart.locale,
    orderTotal: major(productTotal + shipping - orderDiscount), orderTaxTotal: major(productTax + shippingTax - orderDiscountTax),
    shippingTotal: major(shipping), shippingTax: major(shippingTax), ...(shippingDiscount && { shippingDiscount: major(shippingDiscount) }), productTotal: major(productTotal),
    items: items.map(({ minor, ...item }) => item), coupons: cart.coupons, fields,
    promotions: [...(orderDiscount ? [{ description: `${major(orderDiscount)} kr off the order`, calculatedTotal: -major(orderDiscount) }] : []),
      ...(shippingDiscount ? [{ description: `${shippingPercentOff} % off shipping`, calculatedTotal: -major(shippingDiscount) }] : [])],
    ...(options && { shippingOptions: options.map(({ price, tax, taxRate, ...c }) => ({ ...c, price: major(price), tax: major(tax) })) }),
    ...(cart.dynamic[DELIVERY_FIELDS] && { deliveryDynamicFields: cart.dynamic[DELIVERY_FIELDS] }),
    // `invoiceRecipient` is the SDK's name since May 2026; the hook page still says `invoiceAddress`.
    email: cart.email ?? null, phone: cart.phone ?? null, address: cart.address ?? null,
    invoiceRecipient: cart.invoiceRecipient ?? null, invoiceAddress: cart.invoiceRecipient ?? null, profileKey: profile.profileKey,
  };
}
