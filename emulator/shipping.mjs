// Shipping for the Kustom emulator: the merchant's `shipping_options` (Checkout spec
// `shipping_option`, kustom-api.md §2.7), the option the customer picks in the iframe and the
// `shipping_fee` line Kustom folds into the order for it (§2.7 "How shipping interacts with
// totals", §10.4 step 2), its Order Management form (`SelectedShippingOptionDto`), and OM
// `shipping_info` (§6.2). Pure functions; emulator.mjs keeps the state.

const INT = (v) => Number.isSafeInteger(v);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
// Checkout `shipping_option.shipping_method` (§2.7) and OM `shipping_info.shipping_method` (§6.2).
export const SHIPPING_METHODS = ['PickUpStore', 'Home', 'BoxReg', 'BoxUnreg', 'PickUpPoint', 'Own', 'Postal', 'DHLPackstation', 'Digital'];
export const OM_SHIPPING_METHODS = [...SHIPPING_METHODS, 'Undefined', 'PickUpWarehouse', 'ClickCollect', 'PalletDelivery'];

/** The §2.8 rule 2 tax of a tax-inclusive amount (what a line's total_tax_amount must be within 1 of). */
export const taxOf = (amount, rate) => amount - (amount * 10000) / (10000 + rate);

/**
 * §2.7: `shipping_options` on create and update. Each broken rule is passed to fail(path, why) as
 * `shipping_options[i].<field>`. Beyond the spec's types and required fields, an option must be
 * able to become the `shipping_fee` line Kustom adds when the customer picks it, so its price and
 * tax follow the line rules of §2.8 ([I]): a non-negative integer price of at most 100 000 000, a
 * tax_rate of 0..10 000, a tax_amount within 1 of the formula; ids are unique (the customer's
 * choice is by id) and at most one option is preselected.
 */
export function checkShippingOptions(options, fail) {
  if (!Array.isArray(options)) return fail('shipping_options');
  const ids = new Set();
  let preselected = 0;
  options.forEach((s, i) => {
    const p = `shipping_options[${i}]`;
    if (!isObj(s)) return fail(p);
    if (typeof s.id !== 'string' || s.id.length < 1 || s.id.length > 255 || ids.has(s.id)) fail(`${p}.id`);
    ids.add(s.id);
    if (typeof s.name !== 'string' || s.name.length < 1 || s.name.length > 255) fail(`${p}.name`);
    const priceOk = INT(s.price) && s.price >= 0 && s.price <= 1e8;
    if (!priceOk) fail(`${p}.price`);
    const rateOk = INT(s.tax_rate) && s.tax_rate >= 0 && s.tax_rate <= 10000;
    if (!rateOk) fail(`${p}.tax_rate`);
    if (!INT(s.tax_amount) || s.tax_amount < 0) fail(`${p}.tax_amount`);
    else if (priceOk && rateOk) {
      const expected = taxOf(s.price, s.tax_rate);
      if (s.tax_rate === 0 ? s.tax_amount !== 0 : Math.abs(s.tax_amount - expected) > 1) {
        fail(`${p}.tax_amount`, `differs from the calculated value [${Math.round(expected)}] by more than [1]`);
      }
    }
    if (s.preselected !== undefined && typeof s.preselected !== 'boolean') fail(`${p}.preselected`);
    if (s.preselected === true && ++preselected > 1) fail(`${p}.preselected`, '(only one option can be preselected)');
    for (const k of ['description', 'promo', 'tms_reference']) if (s[k] !== undefined && typeof s[k] !== 'string') fail(`${p}.${k}`);
    if (s.shipping_method !== undefined && !SHIPPING_METHODS.includes(s.shipping_method)) fail(`${p}.shipping_method`);
    const d = s.delivery_details;
    if (d !== undefined) {
      if (!isObj(d)) fail(`${p}.delivery_details`);
      else {
        for (const k of ['carrier', 'class']) if (d[k] !== undefined && typeof d[k] !== 'string') fail(`${p}.delivery_details.${k}`);
        for (const k of ['product', 'timeslot', 'pickup_location']) if (d[k] !== undefined && !isObj(d[k])) fail(`${p}.delivery_details.${k}`);
      }
    }
    if (s.selected_addons !== undefined && (!Array.isArray(s.selected_addons) || !s.selected_addons.every(isObj))) fail(`${p}.selected_addons`);
  });
}

/** The line Kustom adds to the order for the option the customer picked (one unit, tax-inclusive price). */
export const shippingLine = (s) => ({ type: 'shipping_fee', reference: s.id, name: s.name, quantity: 1, unit_price: s.price,
  tax_rate: s.tax_rate, total_amount: s.price, total_discount_amount: 0, total_tax_amount: s.tax_amount });

/**
 * The checkout order as the merchant sent it, without the line Kustom added for the selected
 * option: what an update is merged into and checked against (§2.8 sums on the merchant's lines).
 */
export function withoutShipping(order) {
  const { selected_shipping_option: s, ...rest } = order;
  if (!s) return order;
  const lines = order.order_lines.slice();
  const last = lines[lines.length - 1];
  if (last?.type === 'shipping_fee' && last.reference === s.id) lines.pop(); else return rest;
  return { ...rest, order_lines: lines, order_amount: order.order_amount - last.total_amount,
    order_tax_amount: order.order_tax_amount - last.total_tax_amount };
}

/**
 * The merchant's order with the option `id` applied as Kustom does: the option (as the merchant
 * sent it) in `selected_shipping_option`, its `shipping_fee` line last in `order_lines`, and its
 * price and tax in `order_amount` / `order_tax_amount`, so §2.8's sums still hold. An id that is
 * not (or no longer) among the options selects nothing.
 */
export function withShipping(order, id) {
  const s = id == null ? undefined : (order.shipping_options ?? []).find((o) => o.id === id);
  if (!s) return order;
  return { ...order, selected_shipping_option: structuredClone(s), order_lines: [...order.order_lines, shippingLine(s)],
    order_amount: order.order_amount + s.price, order_tax_amount: order.order_tax_amount + s.tax_amount };
}

/**
 * The selected option as Order Management shows it (`SelectedShippingOptionDto`): the Checkout
 * option's `shipping_method` becomes `method`, and `delivery_details` become `carrier`, `class`,
 * `carrier_product`, `timeslot` and `location` (the pickup point, its address in OM's
 * `Address` shape: `street_address__2`, and `country` defaulting to the purchase country).
 */
export function omSelectedShippingOption(s, purchaseCountry) {
  const d = s.delivery_details ?? {};
  const out = { id: s.id, name: s.name, price: s.price, tax_amount: s.tax_amount, tax_rate: s.tax_rate,
    method: s.shipping_method, carrier: d.carrier, class: d.class, tms_reference: s.tms_reference,
    carrier_product: d.product && { identifier: d.product.identifier, name: d.product.name },
    timeslot: d.timeslot && { id: d.timeslot.id, start: d.timeslot.start, end: d.timeslot.end },
    selected_addons: (s.selected_addons ?? []).map((a) => ({ type: String(a.type ?? ''), price: INT(a.price) ? a.price : 0,
      external_id: a.external_id, user_input: a.user_input })) };
  const loc = d.pickup_location;
  if (loc) {
    const a = loc.address ?? {};
    out.location = { id: loc.id, name: loc.name, address: { street_address: a.street_address ?? '', street_address__2: a.street_address2,
      postal_code: a.postal_code, city: a.city, region: a.region, country: (a.country ?? purchaseCountry).toLowerCase() } };
  }
  return JSON.parse(JSON.stringify(out)); // drops what was not given
}

// §6.2 shipping_info: field → maximum length.
const SHIPPING_INFO_LIMITS = { shipping_company: 100, tracking_number: 100, tracking_uri: 1024,
  return_shipping_company: 100, return_tracking_number: 100, return_tracking_uri: 1024 };

/**
 * OM `shipping_info` lists (in a capture, and in the two shipping-info routes): at most 500
 * objects (at least `min`); fields are strings, `shipping_method` one of OM's methods. Returns
 * null when valid, else `{status, code, message}`: 400 `BAD_VALUE` for a wrong type or count, 422
 * `UNPROCESSABLE_ENTITY` for a value over its length, in the wording Kustom was seen to use
 * (§6.2: "The size of the shipping_info/shipping_company value must be between 0 and 100").
 */
export function checkShippingInfo(list, path = 'shipping_info', min = 0) {
  const bad = (p) => ({ status: 400, code: 'BAD_VALUE', message: `Bad value: ${p}` });
  if (!Array.isArray(list) || list.length < min || list.length > 500) return bad(path);
  for (const [i, info] of list.entries()) {
    const p = `${path}[${i}]`;
    if (!isObj(info)) return bad(p);
    for (const [k, max] of Object.entries(SHIPPING_INFO_LIMITS)) {
      if (info[k] === undefined) continue;
      if (typeof info[k] !== 'string') return bad(`${p}.${k}`);
      if (info[k].length > max) {
        return { status: 422, code: 'UNPROCESSABLE_ENTITY', message: `The size of the shipping_info/${k} value must be between 0 and ${max}` };
      }
    }
    if (info.shipping_method !== undefined && !OM_SHIPPING_METHODS.includes(info.shipping_method)) return bad(`${p}.shipping_method`);
  }
  return null;
}
