// The reference host's demo shop: static pages (host/shop/) that use the storefront module
// (storefront/, served as is: no build step), and the catalog they list. Only GET; everything
// the pages do goes through the Commerce routes and the app's ingresses on the same origin.
//
//   /shop/            products and the cart (quantities, coupons)
//   /shop/checkout    the cart beside Kustom Checkout (storefront/kustom-checkout.js)
//   /shop/vue         the same checkout through the Vue component (storefront/KustomCheckout.js)
//   /shop/terms       the terms page Kustom links to
import { readFileSync, existsSync } from "node:fs";
import { join, dirname, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { CATALOG, COUPONS, ORDER_DISCOUNTS, SHIPPING_COUPONS } from "./commerce.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png" };
const PAGES = { "/": "index.html", "/shop": "index.html", "/shop/": "index.html", "/shop/checkout": "checkout.html", "/shop/vue": "vue.html", "/shop/terms": "terms.html" };
// Vue for /shop/vue, from the browser suite's npm packages when they are installed.
const VUE = join(root, "tests/browser/node_modules/vue/dist/vue.esm-browser.prod.js");

const file = (path) => {
  if (!existsSync(path)) return null;
  return { status: 200, headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store" }, body: readFileSync(path) };
};

/** The answer for a GET of `pathname`, or null when it is not the shop's. */
export function shopFile(pathname) {
  if (PAGES[pathname]) return file(join(root, "host/shop", PAGES[pathname]));
  if (pathname === "/shop/catalog.json") {
    const products = Object.entries(CATALOG).map(([productNumber, p]) => ({ productNumber, description: p.description, price: p.price / 100, taxRate: p.taxRate }));
    const body = JSON.stringify({ currencyCode: "SEK", products, coupons: { ...Object.fromEntries(Object.entries(COUPONS).map(([c, pct]) => [c, `${pct} % off every line`])),
      ...Object.fromEntries(Object.entries(ORDER_DISCOUNTS).map(([c, minor]) => [c, `${minor / 100} kr off the order (kept off the lines: Kustom cannot take it)`])),
      ...Object.fromEntries(Object.entries(SHIPPING_COUPONS).map(([c, pct]) => [c, `${pct} % off shipping (not with shipping chosen in Kustom's checkout)`])) } });
    return { status: 200, headers: { "content-type": "application/json" }, body };
  }
  if (pathname === "/vendor/vue.esm-browser.prod.js") return file(VUE) ?? { status: 404, headers: { "content-type": "text/plain" }, body: "Vue is not installed: npm ci --prefix tests/browser" };
  const asset = pathname.match(/^\/(shop|storefront)\/([\w.-]+\.(?:js|css|png))$/);
  if (asset) return file(join(root, asset[1] === "shop" ? "host/shop" : "storefront", asset[2]));
  return null;
}
