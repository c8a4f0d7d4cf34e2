// The reference host's minimal Commerce: a product catalog, coupons, and the rendered cart in
// the `OnCartMutation` shape (platform notes §2.3), computed the way a shop does: integer minor
// units, the discount and the tax rounded per line, totals as sums. Prices include 25 % / 6 %
// Swedish VAT; shipping is a flat SEK 49.
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
const SHIPPING = { price: 4900, taxRate: 25 };
/// The cart profile `se`'s allowed countries: an address elsewhere is refused.
export const ALLOWED_COUNTRIES = ["SE", "NO", "DK", "FI"];

const roundDiv = (numerator, divisor) => Math.sign(numerator) * Math.round(Math.abs(numerator) / divisor);
const major = (minor) => minor / 100;

export function renderCart(cart, stock) {
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
  const shipping = items.length ? SHIPPING.price : 0;
  const shippingTax = roundDiv(shipping * SHIPPING.taxRate, 100 + SHIPPING.taxRate);
  const productTotal = items.reduce((s, i) => s + i.minor.total, 0);
  const productTax = items.reduce((s, i) => s + i.minor.tax, 0);
  const orderDiscount = Math.min(productTotal, cart.coupons.reduce((sum, code) => sum + (ORDER_DISCOUNTS[code] ?? 0), 0));
  const orderDiscountTax = roundDiv(orderDiscount * 25, 125);
  const fields = Object.fromEntries(Object.entries(cart.dynamic).filter(([k]) => k.startsWith("field:")).map(([k, v]) => [k.slice(6), v]));
  return {
    cartId: cart.cartId, cartNumber: `C${cart.cartId.slice(0, 6)}`, cartState: cart.state, channelKey: "webshop-se",
    currencyCode: "SEK", taxIncluded: true, locale: cart.locale,
    orderTotal: major(productTotal + shipping - orderDiscount), orderTaxTotal: major(productTax + shippingTax - orderDiscountTax),
    shippingTotal: major(shipping), shippingTax: major(shippingTax), productTotal: major(productTotal),
    items: items.map(({ minor, ...item }) => item), coupons: cart.coupons, fields,
    promotions: orderDiscount ? [{ description: `${major(orderDiscount)} kr off the order`, calculatedTotal: -major(orderDiscount) }] : [],
    // `invoiceRecipient` is the SDK's name since May 2026; the hook page still says `invoiceAddress`.
    email: cart.email ?? null, phone: cart.phone ?? null, address: cart.address ?? null,
    invoiceRecipient: cart.invoiceRecipient ?? null, invoiceAddress: cart.invoiceRecipient ?? null, profileKey: "se",
  };
}
