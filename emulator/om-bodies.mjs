// Order Management request bodies beyond their amounts (kustom-api.md §6.2, the OM spec's
// CaptureObject, RefundObject and order_line): texts, order lines and shipping_info. Pure.
// A wrong type, a missing required field or too many items is 400 `BAD_VALUE` (`Bad value: <path>`);
// a string over its length is 422 `UNPROCESSABLE_ENTITY` (§7.2: OM field size violations).
import { checkShippingInfo } from './shipping.mjs';

const INT = (v) => Number.isSafeInteger(v);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const OM_LINE_TYPES = ['physical', 'discount', 'shipping_fee', 'sales_tax', 'store_credit', 'gift_card', 'digital', 'surcharge', 'return_fee'];
const LINE_TEXTS = { name: 255, reference: 255, quantity_unit: 10, merchant_data: 1024, product_url: 1024, image_url: 1024 };

const bad = (path) => ({ status: 400, code: 'BAD_VALUE', message: `Bad value: ${path}` });
const tooLong = (path, max) => ({ status: 422, code: 'UNPROCESSABLE_ENTITY', message: `The size of the ${path} value must be between 0 and ${max}` });

/** Optional string fields of obj within their limits ({field: max}), or the first problem. */
function texts(obj, limits, prefix = '') {
  for (const [k, max] of Object.entries(limits)) {
    if (obj[k] === undefined) continue;
    if (typeof obj[k] !== 'string') return bad(`${prefix}${k}`);
    if (obj[k].length > max) return tooLong(`${prefix}${k}`, max);
  }
  return null;
}

/** OM order lines (§6.2): name, quantity, unit_price and total_amount required; amounts ≤ 200 000 000. */
export function checkOmLines(lines) {
  if (lines === undefined) return null;
  if (!Array.isArray(lines) || lines.length > 1000) return bad('order_lines');
  for (const [i, l] of lines.entries()) {
    const p = `order_lines[${i}]`;
    if (!isObj(l)) return bad(p);
    if (l.name === undefined) return bad(`${p}.name`);
    const t = texts(l, LINE_TEXTS, `${p}.`);
    if (t) return t;
    if (l.type !== undefined && !OM_LINE_TYPES.includes(l.type)) return bad(`${p}.type`);
    if (!INT(l.quantity) || l.quantity < 0) return bad(`${p}.quantity`);
    for (const k of ['unit_price', 'total_amount']) if (!INT(l[k]) || l[k] > 2e8) return bad(`${p}.${k}`);
    if (l.total_tax_amount !== undefined && (!INT(l.total_tax_amount) || l.total_tax_amount > 2e8)) return bad(`${p}.total_tax_amount`);
    if (l.total_discount_amount !== undefined && (!INT(l.total_discount_amount) || l.total_discount_amount < 0 || l.total_discount_amount > 2e8)) {
      return bad(`${p}.total_discount_amount`);
    }
    if (l.tax_rate !== undefined && (!INT(l.tax_rate) || l.tax_rate < 0)) return bad(`${p}.tax_rate`);
  }
  return null;
}

/** The rest of a capture body (CaptureObject): description, reference, order_lines, shipping_info, shipping_delay. */
export function checkCaptureBody(body) {
  return texts(body, { description: 255, reference: 255 }) ?? checkOmLines(body.order_lines)
    ?? (body.shipping_info === undefined ? null : checkShippingInfo(body.shipping_info))
    ?? (body.shipping_delay !== undefined && (!INT(body.shipping_delay) || body.shipping_delay < 0) ? bad('shipping_delay') : null);
}

/** The rest of a refund body (RefundObject): description, reference, order_lines. */
export function checkRefundBody(body) {
  return texts(body, { description: 255, reference: 255 }) ?? checkOmLines(body.order_lines);
}
