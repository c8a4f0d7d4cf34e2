// The customer in the Kustom emulator: the addresses and customer data typed in the iframe,
// merged over what the merchant pre-filled (kustom-api.md §2.2, §2.6, §2.9), held to the limits
// an Order Management order can carry (§6.2 "OM address"), and their OM form. Pure functions.

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// §6.2 OM address: field → maximum length. What Kustom keeps of an address, so what its iframe lets
// a customer type ([I]): a longer value cannot come out of a real checkout.
export const ADDRESS_LIMITS = { title: 20, given_name: 100, family_name: 100, email: 100, street_address: 100,
  street_address2: 100, postal_code: 10, city: 200, region: 200, phone: 100, attention: 255, organization_name: 255,
  street_name: 100, street_number: 100, house_extension: 100, care_of: 100 };
const CUSTOMER_FIELDS = ['type', 'gender', 'date_of_birth', 'organization_registration_id', 'vat_id', 'national_identification_number'];

const lower = (list) => list.map((c) => String(c).toLowerCase());

/**
 * What the customer ends up with after typing `input` ({address, billing_address,
 * shipping_address, customer}, all optional) into the iframe of `order`: each address is
 * `sample` (what a customer types when a test gives nothing), then what the merchant pre-filled
 * (or the customer typed before), then what is typed now.
 * Returns `{billing_address, shipping_address, customer}` or `{error}` (the iframe would not let
 * the customer do that):
 * - a field that is not a string, or longer than OM keeps;
 * - a billing country outside `billing_countries` (default: `shipping_countries`, default: the
 *   purchase country), a shipping country outside `shipping_countries` (§2.2);
 * - a US address without `region` (§6.2: required for US);
 * - a separate shipping address without `options.allow_separate_shipping_address` (§2.5);
 * - a `date_of_birth` that is not yyyy-mm-dd (§2.6).
 */
export function customerTypes(order, input = {}, sample = {}) {
  for (const k of ['address', 'billing_address', 'shipping_address', 'customer']) {
    if (input[k] !== undefined && !isObj(input[k])) return { error: `${k} must be an object` };
  }
  const typedBilling = { ...input.address, ...input.billing_address };
  const separate = order.options?.allow_separate_shipping_address === true;
  if (input.shipping_address && !separate) {
    return { error: 'a separate shipping_address needs options.allow_separate_shipping_address (the iframe offers none)' };
  }
  const billing = { ...sample, ...order.billing_address, ...typedBilling };
  billing.country = String(billing.country ?? order.purchase_country).toLowerCase();
  const shipping = separate ? { ...billing, ...order.shipping_address, ...input.address, ...input.shipping_address } : { ...billing };
  shipping.country = String(shipping.country ?? billing.country).toLowerCase();
  if (!separate) shipping.country = billing.country;

  const shipTo = lower(order.shipping_countries ?? [order.purchase_country]);
  const billTo = lower(order.billing_countries ?? order.shipping_countries ?? [order.purchase_country]);
  for (const [name, a, allowed, list] of [['billing_address', billing, billTo, 'billing_countries'], ['shipping_address', shipping, shipTo, 'shipping_countries']]) {
    for (const [f, v] of Object.entries(a)) {
      if (typeof v !== 'string') return { error: `${name}.${f} must be a string` };
      if (v.length > (ADDRESS_LIMITS[f] ?? 255)) return { error: `${name}.${f} is longer than the ${ADDRESS_LIMITS[f] ?? 255} characters Kustom keeps` };
    }
    if (!allowed.includes(a.country)) return { error: `${name}.country ${a.country} is not offered (${list}: ${allowed.join(', ')})` };
    if (a.country === 'us' && !a.region) return { error: `${name}.region is required for US addresses` };
  }
  const customer = { type: 'person', ...order.customer, ...input.customer };
  for (const [f, v] of Object.entries(input.customer ?? {})) {
    if (!CUSTOMER_FIELDS.includes(f) || typeof v !== 'string') return { error: `customer.${f} is not a customer field Kustom knows` };
  }
  if (customer.date_of_birth !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(customer.date_of_birth)) return { error: 'customer.date_of_birth must be yyyy-mm-dd' };
  return { billing_address: billing, shipping_address: shipping, customer };
}

/** The customer as Order Management shows it (§6.2: `date_of_birth`, `national_identification_number`). */
export function omCustomer(c = {}) {
  const out = {};
  for (const k of ['date_of_birth', 'national_identification_number']) if (typeof c[k] === 'string') out[k] = c[k];
  return out;
}

/**
 * §6.1 `PATCH …/customer-details` `{shipping_address}`: null when valid, else a message. Only the
 * shipping address can change (a billing address is refused: 403 NOT_ALLOWED by the caller); its
 * fields are strings within the OM limits and its country is alpha-2.
 */
export function checkCustomerDetails(body) {
  if (!isObj(body.shipping_address)) return 'shipping_address is required';
  for (const [f, v] of Object.entries(body.shipping_address)) {
    if (typeof v !== 'string' || v.length > (ADDRESS_LIMITS[f] ?? 255)) return `shipping_address.${f}`;
  }
  const country = body.shipping_address.country;
  if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) return 'shipping_address.country';
  return null;
}
