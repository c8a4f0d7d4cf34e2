//! Property tests for the Kustom order-line builder (`kustom::payload::build`) and the sync hash.
//!
//! Kustom refuses an order whose arithmetic is off by a single minor unit (`order_amount` ≠
//! Σ `total_amount`, a line whose `total_amount` ≠ `quantity × unit_price −
//! total_discount_amount`, a tax that is not `total × rate / (10000 + rate)`), so a builder
//! mistake shows up as a checkout that cannot be opened or updated. These tests generate carts
//! the way a shop computes them (integer minor units, one tax rate per line, tax rounded per
//! line, totals as sums), send the amounts the way a JS host does (JSON numbers in major units),
//! and check that the builder accepts them and that what it produces obeys Kustom's rules.
//!
//! Amounts in the model below are integers in minor units; only the rendering to JSON divides
//! by 10^exponent, exactly like a host that computed `19999 / 100` and serialized `199.99`.

use kustom::cart::RenderedCart;
use kustom::decimal::Decimal;
use kustom::error::{parse, AppError};
use kustom::hash::payload_hash;
use kustom::payload::{
    build, CartPayload, LineType, MAX_LINE_AMOUNT, MAX_ORDER_LINES, ROUNDING_REFERENCE,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{json, Value};

/// Currencies with different minor-unit exponents: 2, 2, 2, 0 (yen) and 3 (fils).
const CURRENCIES: [(&str, u32); 5] = [("SEK", 2), ("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3)];
/// Realistic VAT rates in hundredths of a percent (Kustom's unit): 0, 6, 10, 12, 25 %, the
/// former Swiss 7.7 % and the current Swiss 8.1 %.
const RATES: [i64; 7] = [0, 600, 1000, 1200, 2500, 770, 810];
/// Carts up to this many items keep 256 cases per property within a few seconds.
const MAX_ITEMS: usize = 40;
/// Below this line total (minor units) a rounded tax cannot tell the rates apart.
const RATE_DETERMINABLE_FROM: i64 = 100;

/// 256 cases per property (`PROPTEST_CASES=20000` for a deeper run).
fn config() -> Config {
    config_with_cases(256)
}

fn config_with_cases(cases: u32) -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        // Never write `proptest-regressions/` files into the repository; a failure prints the
        // minimal input instead.
        failure_persistence: None,
        ..default
    }
}

/// `numerator / divisor` rounded half away from zero, as shops (and Kustom's docs) round.
fn round_half_away(numerator: i64, divisor: i64) -> i64 {
    let (n, d) = (i128::from(numerator), i128::from(divisor));
    let rounded = if 2 * (n % d).abs() >= d {
        n / d + n.signum()
    } else {
        n / d
    };
    rounded as i64
}

// ---------------------------------------------------------------------------------------------
// The shop's model of a cart, in integer minor units.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Line {
    /// Stable item id, so that removing a line does not rename the others.
    id: usize,
    quantity: i64,
    unit: i64,
    discount: i64,
    /// Hundredths of a percent.
    rate: i64,
    /// Send `unitPrice` as `total / quantity` with two more decimals than the currency and no
    /// discount (a computed unit price); the cart's arithmetic still holds to below one minor
    /// unit, which the builder documents it accepts.
    computed_unit: bool,
}

impl Line {
    fn total(&self) -> i64 {
        self.quantity * self.unit - self.discount
    }
}

#[derive(Clone, Debug)]
struct Shipping {
    total: i64,
    rate: i64,
    /// Whether the host sends `shippingTax` (the hook input does not; the builder then takes
    /// what is left of `orderTaxTotal` after the items).
    send_tax: bool,
}

#[derive(Clone, Debug)]
struct Cart {
    currency: &'static str,
    exponent: u32,
    tax_included: bool,
    lines: Vec<Line>,
    shipping: Option<Shipping>,
    /// The shop's own rounding of the cart total: −1, 0 or +1 minor unit off the line sum.
    rounding: i64,
    /// Tax rounded per unit (`quantity × round(unit tax)`) instead of per line, on lines
    /// without a discount. Only used where the test says so.
    tax_per_unit: bool,
    /// Send whole amounts as JSON integers, as `JSON.stringify(398)` does.
    whole_as_integers: bool,
}

impl Cart {
    fn tax_of(&self, amount: i64, rate: i64) -> i64 {
        if self.tax_included {
            round_half_away(amount * rate, 10_000 + rate)
        } else {
            round_half_away(amount * rate, 10_000)
        }
    }

    fn line_tax(&self, line: &Line) -> i64 {
        if self.tax_per_unit && line.discount == 0 {
            line.quantity * self.tax_of(line.unit, line.rate)
        } else {
            self.tax_of(line.total(), line.rate)
        }
    }

    fn shipping_total(&self) -> i64 {
        self.shipping.as_ref().map_or(0, |s| s.total)
    }

    fn shipping_tax(&self) -> i64 {
        self.shipping
            .as_ref()
            .map_or(0, |s| self.tax_of(s.total, s.rate))
    }

    fn order_tax_total(&self) -> i64 {
        self.lines.iter().map(|l| self.line_tax(l)).sum::<i64>() + self.shipping_tax()
    }

    /// Σ line totals + shipping (+ tax for a tax-exclusive cart).
    fn line_sum(&self) -> i64 {
        let goods = self.lines.iter().map(Line::total).sum::<i64>() + self.shipping_total();
        if self.tax_included {
            goods
        } else {
            goods + self.order_tax_total()
        }
    }

    /// The rounding actually applied: a shop never rounds a cart below zero.
    fn applied_rounding(&self) -> i64 {
        if self.line_sum() + self.rounding < 0 {
            0
        } else {
            self.rounding
        }
    }

    fn order_total(&self) -> i64 {
        self.line_sum() + self.applied_rounding()
    }

    /// How many lines the payload has before any rounding line (the builder's tolerance).
    fn payload_lines_before_rounding(&self) -> i64 {
        let goods = self.lines.iter().filter(|l| l.quantity > 0).count() as i64;
        let shipping = i64::from(self.shipping_total() > 0);
        let sales_tax = i64::from(!self.tax_included && self.order_tax_total() > 0);
        goods + shipping + sales_tax
    }

    /// An amount as a JS host sends it: a JSON number in major units.
    fn amount(&self, minor: i64) -> Value {
        self.scaled(minor, self.exponent)
    }

    fn scaled(&self, minor: i64, exponent: u32) -> Value {
        let scale = 10i64.pow(exponent);
        if self.whole_as_integers && minor % scale == 0 {
            json!(minor / scale)
        } else {
            json!(minor as f64 / scale as f64)
        }
    }

    fn item_json(&self, line: &Line) -> Value {
        let total = line.total();
        let (unit_price, discount) = if line.computed_unit && line.quantity > 0 {
            // total / quantity with two extra decimals, e.g. 100.00 / 3 → 33.3333
            let unit = round_half_away(total * 100, line.quantity);
            (self.scaled(unit, self.exponent + 2), self.amount(0))
        } else {
            (self.amount(line.unit), self.amount(line.discount))
        };
        json!({
            "cartItemId": format!("item-{}", line.id),
            "productNumber": format!("SKU-{}", line.id),
            "description": format!("Product {}", line.id),
            "quantity": line.quantity,
            "unitPrice": unit_price,
            "discount": discount,
            "total": self.amount(total),
            "tax": self.amount(self.line_tax(line)),
        })
    }

    /// The rendered cart, as `OnCartMutation` receives it.
    fn to_json(&self) -> Value {
        let items: Vec<Value> = self.lines.iter().map(|l| self.item_json(l)).collect();
        let mut cart = json!({
            "cartId": "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60",
            "cartNumber": "C10042",
            "cartState": "open",
            "channelKey": "webshop",
            "currencyCode": self.currency,
            "taxIncluded": self.tax_included,
            "items": items,
            "orderTotal": self.amount(self.order_total()),
            "orderTaxTotal": self.amount(self.order_tax_total()),
            "fields": {},
            "email": "anna.andersson@example.se",
            "address": {"name": "Anna Andersson", "city": "Stockholm", "countryCode": "SE"},
            "locale": "sv-SE",
        });
        if let Some(shipping) = &self.shipping {
            cart["shippingTotal"] = self.amount(shipping.total);
            if shipping.send_tax {
                cart["shippingTax"] = self.amount(self.shipping_tax());
            }
        }
        cart
    }
}

fn line_strategy() -> impl Strategy<Value = Line> {
    let quantity = prop_oneof![1 => Just(0i64), 9 => 1..=20i64];
    let unit = prop_oneof![3 => 0..=100i64, 5 => 100..=10_000i64, 2 => 10_000..=250_000i64];
    let discount_permille = prop_oneof![7 => Just(0i64), 2 => 0..=1000i64, 1 => Just(1000i64)];
    let rate = prop::sample::select(RATES.to_vec());
    let computed_unit = prop::bool::weighted(0.1);
    (quantity, unit, discount_permille, rate, computed_unit).prop_map(
        |(quantity, unit, permille, rate, computed_unit)| Line {
            id: 0,
            quantity,
            unit,
            discount: quantity * unit * permille / 1000,
            rate,
            computed_unit,
        },
    )
}

fn shipping_strategy() -> impl Strategy<Value = Option<Shipping>> {
    prop::option::weighted(
        0.6,
        (
            prop_oneof![1 => Just(0i64), 4 => 1..=20_000i64],
            prop::sample::select(RATES.to_vec()),
            any::<bool>(),
        )
            .prop_map(|(total, rate, send_tax)| Shipping {
                total,
                rate,
                send_tax,
            }),
    )
}

/// A consistent cart; `per_unit_tax` is the probability that the shop rounds tax per unit.
fn cart_strategy(min_lines: usize, per_unit_tax: f64) -> impl Strategy<Value = Cart> {
    (
        prop::sample::select(CURRENCIES.to_vec()),
        any::<bool>(),
        prop::collection::vec(line_strategy(), min_lines..=MAX_ITEMS),
        shipping_strategy(),
        prop_oneof![8 => Just(0i64), 1 => Just(1i64), 1 => Just(-1i64)],
        prop::bool::weighted(per_unit_tax),
        any::<bool>(),
    )
        .prop_map(
            |(
                (currency, exponent),
                tax_included,
                mut lines,
                shipping,
                rounding,
                tax_per_unit,
                whole_as_integers,
            )| {
                for (id, line) in lines.iter_mut().enumerate() {
                    line.id = id;
                }
                Cart {
                    currency,
                    exponent,
                    tax_included,
                    lines,
                    shipping,
                    rounding,
                    tax_per_unit,
                    whole_as_integers,
                }
            },
        )
}

/// What a component does with the hook input: parse the cart, then build the payload.
fn build_json(input: &Value) -> Result<CartPayload, AppError> {
    build(&RenderedCart::from_tree(input, "cart")?)
}

/// Kustom's arithmetic rules for an order, checked on any payload the builder returns.
fn check_kustom_rules(payload: &CartPayload, tax_included: bool) -> Result<(), TestCaseError> {
    let lines = &payload.order_lines;
    prop_assert!(lines.len() <= MAX_ORDER_LINES);
    prop_assert_eq!(
        payload.order_amount,
        lines.iter().map(|l| l.total_amount).sum::<i64>(),
        "order_amount must be the sum of the line totals"
    );
    let tax_sum: i64 = lines
        .iter()
        .map(|l| match l.kind {
            LineType::SalesTax => l.total_amount,
            _ => l.total_tax_amount,
        })
        .sum();
    prop_assert_eq!(payload.order_tax_amount, tax_sum, "order_tax_amount");
    for line in lines {
        prop_assert_eq!(
            line.total_amount,
            line.quantity * line.unit_price - line.total_discount_amount,
            "line {:?}: total = quantity × unit_price − discount",
            line.reference
        );
        prop_assert!(line.total_discount_amount >= 0, "{line:?}");
        prop_assert!(line.quantity >= 0, "{line:?}");
        prop_assert!((0..=10_000).contains(&line.tax_rate), "{line:?}");
        prop_assert!(line.unit_price.abs() <= MAX_LINE_AMOUNT, "{line:?}");
        prop_assert!(line.total_amount.abs() <= MAX_LINE_AMOUNT, "{line:?}");
        if tax_included {
            // Kustom validates each line's tax against its total and rate.
            let kustom_tax =
                round_half_away(line.total_amount * line.tax_rate, 10_000 + line.tax_rate);
            prop_assert!(
                (line.total_tax_amount - kustom_tax).abs() <= 1,
                "line tax {line:?} ≠ {kustom_tax}"
            );
        } else if matches!(line.kind, LineType::Physical | LineType::ShippingFee) {
            // Sales-tax convention: goods carry no tax, the tax is its own line.
            prop_assert_eq!(line.tax_rate, 0, "{:?}", line);
            prop_assert_eq!(line.total_tax_amount, 0, "{:?}", line);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 1: whatever the builder accepts obeys Kustom's arithmetic.
// ---------------------------------------------------------------------------------------------

/// A small deviation from a consistent cart, so that property 1 also sees carts the builder
/// accepts with odd amounts (and many it refuses).
#[derive(Clone, Debug)]
enum Nudge {
    /// Add `delta` minor units to one amount of one item (`quantity` by `delta` units).
    Item {
        item: Index,
        field: usize,
        delta: i64,
    },
    /// Add `delta` minor units to a cart-level amount.
    Cart { field: usize, delta: i64 },
}

const ITEM_FIELDS: [&str; 5] = ["quantity", "unitPrice", "discount", "total", "tax"];
const CART_FIELDS: [&str; 4] = [
    "orderTotal",
    "orderTaxTotal",
    "shippingTotal",
    "shippingTax",
];

fn nudge_strategy() -> impl Strategy<Value = Nudge> {
    let delta = prop_oneof![Just(-2i64), Just(-1i64), Just(1i64), Just(2i64)];
    prop_oneof![
        (any::<Index>(), 0..ITEM_FIELDS.len(), delta.clone())
            .prop_map(|(item, field, delta)| Nudge::Item { item, field, delta }),
        (0..CART_FIELDS.len(), delta).prop_map(|(field, delta)| Nudge::Cart { field, delta }),
    ]
}

fn nudge_amount(cart: &Cart, value: &mut Value, delta: i64, whole: bool) {
    let exponent = if whole { 0 } else { cart.exponent };
    let current: Decimal = serde_json::from_value(value.clone()).unwrap_or(Decimal::ZERO);
    *value = cart.scaled(current.to_minor_units(exponent).unwrap() + delta, exponent);
}

fn apply_nudges(cart: &Cart, nudges: &[Nudge]) -> Value {
    let mut input = cart.to_json();
    for nudge in nudges {
        match nudge {
            Nudge::Item { item, field, delta } => {
                let items = input["items"].as_array_mut().expect("items");
                if items.is_empty() {
                    continue;
                }
                let name = ITEM_FIELDS[*field];
                let i = item.index(items.len());
                let value = &mut items[i][name];
                nudge_amount(cart, value, *delta, name == "quantity");
            }
            Nudge::Cart { field, delta } => {
                let value = &mut input[CART_FIELDS[*field]];
                nudge_amount(cart, value, *delta, false);
            }
        }
    }
    input
}

proptest! {
    #![proptest_config(config())]

    /// Kustom rejects any order whose totals, line arithmetic or line taxes do not add up, so
    /// every payload the builder hands over — for a clean cart or a slightly odd one — must
    /// satisfy all of Kustom's rules at once.
    #[test]
    fn accepted_payloads_obey_kustoms_arithmetic(
        cart in cart_strategy(0, 0.25),
        nudges in prop::collection::vec(nudge_strategy(), 0..=2),
    ) {
        let input = apply_nudges(&cart, &nudges);
        let tax_included = cart.tax_included;
        if let Ok(payload) = build_json(&input) {
            check_kustom_rules(&payload, tax_included)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 2: a real shop's cart is always accepted, and the customer pays the cart's total.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Refusing a consistent cart would block the customer's checkout; charging anything but
    /// the cart's total would charge the customer the wrong amount.
    #[test]
    fn consistent_carts_are_accepted_at_their_total(cart in cart_strategy(0, 0.0)) {
        let payload = build_json(&cart.to_json())
            .map_err(|e| TestCaseError::fail(format!("consistent cart refused: {e}")))?;
        check_kustom_rules(&payload, cart.tax_included)?;
        prop_assert_eq!(payload.order_amount, cart.order_total());
        prop_assert_eq!(&payload.purchase_currency, cart.currency);
        let line_count = payload.order_lines.len() as i64;
        for line in &payload.order_lines {
            if line.reference == ROUNDING_REFERENCE {
                prop_assert!(line.total_amount.abs() <= line_count, "{line:?}");
            }
        }
        if cart.tax_included {
            // Kustom's per-line tax may differ from the shop's by the rounding only.
            let tolerance: i64 = cart.lines.iter().map(|l| l.quantity.max(1)).sum::<i64>() + 1;
            prop_assert!((payload.order_tax_amount - cart.order_tax_total()).abs() <= tolerance);
        } else {
            prop_assert_eq!(payload.order_tax_amount, cart.order_tax_total());
        }
    }

    /// Same, for a shop that rounds tax per unit (`quantity × round(unit tax)`): the builder
    /// documents that it accepts the per-unit rounding difference.
    #[test]
    fn per_unit_rounded_tax_is_accepted(cart in cart_strategy(0, 1.0)) {
        let payload = build_json(&cart.to_json())
            .map_err(|e| TestCaseError::fail(format!("consistent cart refused: {e}")))?;
        check_kustom_rules(&payload, cart.tax_included)?;
        prop_assert_eq!(payload.order_amount, cart.order_total());
    }
}

// ---------------------------------------------------------------------------------------------
// Property 3: the derived tax rate is the rate the shop used.
// ---------------------------------------------------------------------------------------------

/// Whether `rate` is the only realistic rate (a whole percent, or one of `RATES`) whose per-line
/// tax on `total` is `tax`. Otherwise the cart's amounts cannot tell which rate the shop used
/// (100 at 7.7 % and at 8 % both have a tax of 7), and any of them is a fair answer.
fn rate_is_determined(total: i64, tax: i64, rate: i64) -> bool {
    let candidates = (0..=100).map(|percent| percent * 100).chain(RATES);
    let mut fitting: Vec<i64> = candidates
        .filter(|c| round_half_away(total * c, 10_000 + c) == tax)
        .collect();
    fitting.sort_unstable();
    fitting.dedup();
    total >= RATE_DETERMINABLE_FROM && fitting == [rate]
}

fn tax_included_cart() -> impl Strategy<Value = Cart> {
    cart_strategy(1, 0.0).prop_map(|mut cart| {
        cart.tax_included = true;
        cart
    })
}

proptest! {
    #![proptest_config(config())]

    /// The rendered cart carries no rate, so the builder derives it from total and tax. A wrong
    /// rate still passes Kustom's check, but Kustom prints it on the customer's invoice and the
    /// line's tax then differs from what the shop booked.
    #[test]
    fn derived_tax_rate_is_the_shops_rate(cart in tax_included_cart()) {
        let payload = build_json(&cart.to_json())
            .map_err(|e| TestCaseError::fail(format!("consistent cart refused: {e}")))?;
        let goods = payload.order_lines.iter().filter(|l| l.kind == LineType::Physical);
        let bought = cart.lines.iter().filter(|l| l.quantity > 0);
        for (line, sent) in bought.zip(goods) {
            prop_assert_eq!(&sent.reference, &format!("SKU-{}", line.id));
            let (total, tax) = (line.total(), cart.line_tax(line));
            if rate_is_determined(total, tax, line.rate) {
                prop_assert_eq!(
                    sent.tax_rate,
                    line.rate,
                    "{} × {} − {} = total {} with tax {} at rate {}; \
                     Kustom tax at the derived rate: {}",
                    line.quantity,
                    line.unit,
                    line.discount,
                    total,
                    tax,
                    line.rate,
                    sent.total_tax_amount
                );
            }
        }
        if let Some(shipping) = &cart.shipping {
            if rate_is_determined(shipping.total, cart.shipping_tax(), shipping.rate) {
                let sent = payload
                    .order_lines
                    .iter()
                    .find(|l| l.kind == LineType::ShippingFee)
                    .expect("a shipping line");
                prop_assert_eq!(sent.tax_rate, shipping.rate, "shipping {:?}", shipping);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 4: the sync hash depends on the payload's content, not on the JSON's key order.
// ---------------------------------------------------------------------------------------------

/// A tiny deterministic generator for key permutations (the seed comes from proptest).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// JSON text with every object's keys in a shuffled order (serde_json's `Map` is sorted, so a
/// reordered `Value` would not be reordered at all: the text has to be written by hand).
fn shuffled_json(value: &Value, rng: &mut SplitMix) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            for i in (1..entries.len()).rev() {
                let j = (rng.next() % (i as u64 + 1)) as usize;
                entries.swap(i, j);
            }
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), shuffled_json(v, rng)))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(|v| shuffled_json(v, rng)).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

/// One change to a cart that must reach Kustom, applied to the model so the cart stays
/// consistent (line totals, tax and cart totals are recomputed). A line's tax alone is not in
/// the list: for a tax-included cart Kustom's tax is recomputed from total and derived rate, so
/// a one-unit change of the cart's tax may rightly leave the payload as it was.
#[derive(Clone, Debug)]
enum Change {
    Quantity { item: Index, quantity: i64 },
    UnitPrice { item: Index },
    Discount { item: Index },
    Shipping,
    Remove { item: Index },
}

fn change_strategy() -> impl Strategy<Value = Change> {
    prop_oneof![
        (any::<Index>(), 0..=20i64)
            .prop_map(|(item, quantity)| Change::Quantity { item, quantity }),
        any::<Index>().prop_map(|item| Change::UnitPrice { item }),
        any::<Index>().prop_map(|item| Change::Discount { item }),
        Just(Change::Shipping),
        any::<Index>().prop_map(|item| Change::Remove { item }),
    ]
}

/// Applies `change` to a line that is bought (quantity > 0); a zero-quantity line is not sent
/// to Kustom, so changing its price legitimately leaves the hash alone.
fn apply_change(cart: &mut Cart, change: &Change) {
    let bought: Vec<usize> = (0..cart.lines.len())
        .filter(|&i| cart.lines[i].quantity > 0)
        .collect();
    let pick = |item: &Index| bought[item.index(bought.len())];
    match change {
        Change::Quantity { item, quantity } => {
            let i = item.index(cart.lines.len());
            let line = &mut cart.lines[i];
            line.quantity = if *quantity == line.quantity {
                (line.quantity + 1) % 21
            } else {
                *quantity
            };
            line.discount = line.discount.min(line.quantity * line.unit);
        }
        Change::UnitPrice { item } => cart.lines[pick(item)].unit += 1,
        Change::Discount { item } => {
            let line = &mut cart.lines[pick(item)];
            if line.total() > 0 {
                line.discount += 1;
            } else if line.discount > 0 {
                line.discount -= 1;
            } else {
                line.unit += 1;
            }
        }
        Change::Shipping => match cart.shipping.as_mut().filter(|s| s.total > 0) {
            Some(shipping) => shipping.total += 1,
            // A cart without shipping: change a price instead.
            None => cart.lines[bought[0]].unit += 1,
        },
        Change::Remove { item } => {
            cart.lines.remove(pick(item));
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// The hash decides whether the sync rule calls Kustom again: it must not change when the
    /// host merely serializes the same cart differently (or every mutation would re-sync), and
    /// it must change whenever anything Kustom shows changes (or Kustom keeps a stale cart).
    #[test]
    fn hash_ignores_key_order_but_not_content(
        mut cart in cart_strategy(1, 0.25),
        seed in any::<u64>(),
        change in change_strategy(),
    ) {
        // The changes below act on a bought line.
        if cart.lines.iter().all(|l| l.quantity == 0) {
            cart.lines[0].quantity = 1;
        }
        let input = cart.to_json();
        let payload = build_json(&input)
            .map_err(|e| TestCaseError::fail(format!("consistent cart refused: {e}")))?;
        let hash = payload_hash(&payload);

        let text = shuffled_json(&input, &mut SplitMix(seed));
        // Through a `Value`, as the components receive it (its sorted map hides the order)…
        let reparsed: Value = serde_json::from_str(&text).expect("shuffled JSON parses");
        let reparsed_payload = build_json(&reparsed).expect("same cart");
        prop_assert_eq!(payload_hash(&reparsed_payload), hash.clone());
        // …and deserialized straight from the reordered text.
        let direct: RenderedCart = serde_json::from_str(&text).expect("shuffled cart parses");
        prop_assert_eq!(payload_hash(&build(&direct).expect("same cart")), hash.clone());

        let mut changed = cart.clone();
        apply_change(&mut changed, &change);
        let changed_payload = build_json(&changed.to_json())
            .map_err(|e| TestCaseError::fail(format!("changed cart refused: {e}")))?;
        prop_assert_ne!(
            payload_hash(&changed_payload),
            hash,
            "{:?} did not change the hash; payload {:?}",
            change,
            changed_payload
        );
    }

    /// Adding or removing a zero-quantity line (never sent to Kustom) must not trigger a
    /// re-sync.
    #[test]
    fn zero_quantity_lines_do_not_change_the_hash(
        cart in cart_strategy(0, 0.0),
        unit in 0..=250_000i64,
        at in any::<Index>(),
    ) {
        let mut with_zero = cart.clone();
        let zero = Line {
            id: MAX_ITEMS + 1,
            quantity: 0,
            unit,
            discount: 0,
            rate: 2500,
            computed_unit: false,
        };
        with_zero.lines.insert(at.index(cart.lines.len() + 1), zero);
        let before = build_json(&cart.to_json()).expect("consistent cart");
        let after = build_json(&with_zero.to_json()).expect("consistent cart");
        prop_assert_eq!(payload_hash(&before), payload_hash(&after));
    }
}

// ---------------------------------------------------------------------------------------------
// Property 5: garbage in gives an error, never a panic; unreconcilable totals are refused.
// ---------------------------------------------------------------------------------------------

/// Values a buggy or hostile host might put where an amount belongs; weighted towards the
/// extremes the decimal parser still accepts (magnitudes just below 10^15, 18 decimals), where
/// products and sums of amounts can overflow.
fn garbage() -> impl Strategy<Value = Value> {
    let extreme = prop::sample::select(vec![
        json!(9.99e14),
        json!(-9.99e14),
        json!(999_999_999_999_999i64),
        json!(-999_999_999_999_999i64),
        json!(4.99e14),
        json!(1e14),
        json!(1e15),
        json!(1e20),
        json!(1e-18),
        json!(1e-10),
        json!("99999999999999.999999999999999999"),
        json!("-99999999999999.999999999999999999"),
        json!("0.000000000000000001"),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(i64::MAX),
    ]);
    let junk = prop::sample::select(vec![
        json!(0.1 + 0.2),
        json!(2.5),
        json!("12.50"),
        json!("abc"),
        json!(""),
        json!("1e5"),
        json!("-0"),
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
    ]);
    prop_oneof![
        4 => extreme,
        1 => (-1_000_000_000i64..=-1).prop_map(|n| json!(n)),
        1 => (-1e6f64..-1e-4).prop_map(|x| json!(x)),
        1 => (0.0f64..50.0).prop_map(|x| json!(x)),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_map(|x| json!(x)),
        2 => junk,
    ]
}

#[derive(Clone, Debug)]
enum Spoil {
    /// One field of one item.
    Item {
        item: Index,
        field: usize,
        value: Value,
    },
    /// The same field of every item (sums over lines).
    EveryItem {
        field: usize,
        value: Value,
    },
    Cart {
        field: usize,
        value: Value,
    },
    Currency(&'static str),
    GiftCard(Value),
}

const SPOILED_CART_FIELDS: [&str; 6] = [
    "orderTotal",
    "orderTaxTotal",
    "shippingTotal",
    "shippingTax",
    "shippingDiscount",
    "taxIncluded",
];

fn spoil_strategy() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        4 => (any::<Index>(), 0..ITEM_FIELDS.len(), garbage())
            .prop_map(|(item, field, value)| Spoil::Item { item, field, value }),
        2 => (0..ITEM_FIELDS.len(), garbage())
            .prop_map(|(field, value)| Spoil::EveryItem { field, value }),
        3 => (0..SPOILED_CART_FIELDS.len(), garbage())
            .prop_map(|(field, value)| Spoil::Cart { field, value }),
        2 => prop::sample::select(vec!["CLF", "BHD", "KWD", "XXX", " sek ", "", "jpy"])
            .prop_map(Spoil::Currency),
        1 => garbage().prop_map(Spoil::GiftCard),
    ]
}

fn spoil(input: &mut Value, spoil: &Spoil) {
    match spoil {
        Spoil::Item { item, field, value } => {
            let items = input["items"].as_array_mut().expect("items");
            if !items.is_empty() {
                let i = item.index(items.len());
                items[i][ITEM_FIELDS[*field]] = value.clone();
            }
        }
        Spoil::EveryItem { field, value } => {
            for item in input["items"].as_array_mut().expect("items") {
                item[ITEM_FIELDS[*field]] = value.clone();
            }
        }
        Spoil::Cart { field, value } => input[SPOILED_CART_FIELDS[*field]] = value.clone(),
        Spoil::Currency(code) => input["currencyCode"] = json!(code),
        Spoil::GiftCard(amount) => {
            input["giftCards"] = json!([{"code": "GIFT-1", "amount": amount}]);
        }
    }
}

proptest! {
    // Cheap cases, and the overflows hide in rare combinations: look at more of them.
    #![proptest_config(config_with_cases(1024))]

    /// A panic aborts the wasm component (panic = "abort"), so the host gets no error to show
    /// and the cart mutation fails; bad input must come back as an `AppError`.
    #[test]
    fn garbage_amounts_never_panic(
        cart in cart_strategy(0, 0.25),
        spoils in prop::collection::vec(spoil_strategy(), 1..=8),
    ) {
        let mut input = cart.to_json();
        for s in &spoils {
            spoil(&mut input, s);
        }
        if let Ok(rendered) = parse::<RenderedCart>(&input, "cart") {
            if let Ok(payload) = build(&rendered) {
                check_kustom_rules(&payload, rendered.tax_included)?;
            }
        }
    }

}

proptest! {
    #![proptest_config(config())]

    /// A cart total that is off from its lines by more than rounding is an order-level amount
    /// no line explains; sending it would make Kustom charge something the cart does not show.
    #[test]
    fn unreconcilable_totals_are_refused(
        cart in cart_strategy(0, 0.0),
        extra in 1i64..=10_000,
        below in any::<bool>(),
    ) {
        let mut input = cart.to_json();
        let tolerance = cart.payload_lines_before_rounding().max(1);
        let off = if below { -(tolerance + extra) } else { tolerance + extra };
        input["orderTotal"] = cart.amount(cart.line_sum() + off);
        match build_json(&input) {
            Ok(payload) => {
                prop_assert!(false, "accepted with orderTotal off by {off}: {payload:?}")
            }
            Err(err) => prop_assert_eq!(err.code.as_str(), "TOTALS_MISMATCH", "{}", err),
        }
    }
}

/// A cart whose arithmetic holds exactly but whose amounts sit at the edges of what the decimal
/// parser accepts: magnitudes just below 10^15, up to 18 decimals, huge quantities, currencies
/// with 3 and 4 decimals. Random spoiling rarely gets past the item arithmetic check; these do,
/// and reach the builder's own sums and products.
#[derive(Clone, Debug)]
struct ExtremeCart {
    currency: &'static str,
    tax_included: bool,
    /// Every amount is written with this many decimals (as a string, so it stays exact).
    scale: u32,
    items: Vec<ExtremeItem>,
    order_tax: Option<i128>,
    shipping: Option<(i128, i128, Option<i128>)>,
    gift_card: Option<i128>,
}

#[derive(Clone, Debug)]
struct ExtremeItem {
    quantity: i64,
    /// Whole part of the unit price, and its decimals (below 10^scale).
    unit: i128,
    unit_decimals: u64,
    /// 0: no discount, 1: the smallest decimal, 2: everything (a free item).
    discount: u8,
    tax: i128,
}

fn edge_amount() -> impl Strategy<Value = i128> {
    prop_oneof![
        2 => 0i128..=1_000,
        1 => prop::sample::select(vec![
            100_000_000_000_000i128,
            499_000_000_000_000,
            999_999_999_999_999,
            -999_999_999_999_999,
            4_611_686_018_427,
        ]),
    ]
}

fn extreme_cart_strategy() -> impl Strategy<Value = ExtremeCart> {
    let item = (
        prop::sample::select(vec![0i64, 1, 2, 3, 20, 1_000_000, 100_000_000_000_000]),
        edge_amount(),
        any::<u64>(),
        0u8..=2,
        edge_amount(),
    )
        .prop_map(
            |(quantity, unit, unit_decimals, discount, tax)| ExtremeItem {
                quantity,
                unit: unit.abs(),
                unit_decimals,
                discount,
                tax,
            },
        );
    (
        prop::sample::select(vec!["SEK", "JPY", "KWD", "BHD", "CLF"]),
        any::<bool>(),
        prop::sample::select(vec![0u32, 2, 3, 4, 10, 18]),
        prop::collection::vec(item, 0..=15),
        prop::option::weighted(0.3, edge_amount()),
        prop::option::weighted(
            0.4,
            (
                edge_amount(),
                edge_amount(),
                prop::option::of(edge_amount()),
            ),
        ),
        prop::option::weighted(0.2, edge_amount()),
    )
        .prop_map(
            |(currency, tax_included, scale, items, order_tax, shipping, gift_card)| ExtremeCart {
                currency,
                tax_included,
                scale,
                items,
                order_tax,
                shipping,
                gift_card,
            },
        )
}

/// `mantissa × 10^-scale` as a decimal string.
fn decimal_text(mantissa: i128, scale: u32) -> String {
    let sign = if mantissa < 0 { "-" } else { "" };
    let digits = format!(
        "{:0>width$}",
        mantissa.unsigned_abs(),
        width = scale as usize + 1
    );
    let (whole, fraction) = digits.split_at(digits.len() - scale as usize);
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

impl ExtremeCart {
    fn to_json(&self) -> Value {
        let one = 10i128.pow(self.scale);
        let text = |mantissa: Option<i128>| json!(decimal_text(mantissa.unwrap_or(0), self.scale));
        let whole = |amount: i128| amount.checked_mul(one);
        let mut total_sum = Some(0i128);
        let mut tax_sum = Some(0i128);
        let mut items = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let unit =
                whole(item.unit).and_then(|u| u.checked_add(i128::from(item.unit_decimals) % one));
            let gross = unit.and_then(|u| u.checked_mul(i128::from(item.quantity)));
            let discount = match item.discount {
                0 => Some(0),
                1 => Some(1),
                _ => gross,
            };
            let total = gross.zip(discount).and_then(|(g, d)| g.checked_sub(d));
            let tax = whole(item.tax);
            total_sum = total_sum.zip(total).and_then(|(s, t)| s.checked_add(t));
            tax_sum = tax_sum.zip(tax).and_then(|(s, t)| s.checked_add(t));
            items.push(json!({
                "productNumber": format!("X-{i}"),
                "quantity": item.quantity,
                "unitPrice": text(unit),
                "discount": text(discount),
                "total": text(total),
                "tax": text(tax),
            }));
        }
        let mut cart = json!({
            "cartId": "extreme",
            "cartState": "open",
            "currencyCode": self.currency,
            "taxIncluded": self.tax_included,
            "items": items,
        });
        if let Some((total, discount, tax)) = self.shipping {
            cart["shippingTotal"] = text(whole(total));
            cart["shippingDiscount"] = text(whole(discount));
            if let Some(tax) = tax {
                cart["shippingTax"] = text(whole(tax));
            }
            total_sum = total_sum
                .zip(whole(total))
                .and_then(|(s, t)| s.checked_add(t));
        }
        let order_tax = self.order_tax.map_or(tax_sum, whole);
        if !self.tax_included {
            total_sum = total_sum.zip(order_tax).and_then(|(s, t)| s.checked_add(t));
        }
        if let Some(amount) = self.gift_card {
            cart["giftCards"] = json!([{"code": "GIFT", "amount": text(whole(amount))}]);
        }
        cart["orderTotal"] = text(total_sum);
        cart["orderTaxTotal"] = text(order_tax);
        cart
    }
}

proptest! {
    #![proptest_config(config_with_cases(1024))]

    /// Same as above, for amounts that pass the cart's own arithmetic check at the edges of
    /// the accepted range: the builder's sums and products must not overflow.
    #[test]
    fn extreme_consistent_amounts_never_panic(cart in extreme_cart_strategy()) {
        let input = cart.to_json();
        if let Ok(rendered) = parse::<RenderedCart>(&input, "cart") {
            if let Ok(payload) = build(&rendered) {
                check_kustom_rules(&payload, rendered.tax_included)?;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shipping chosen in Kustom's iframe (issue 15): the channel's `kustomUsesShippingAssistant`.
// ---------------------------------------------------------------------------------------------

/// A carrier the shop offers: its price in minor units (tax included in a tax-included cart,
/// net otherwise) and its VAT rate.
fn offers_strategy() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec(
        (
            prop_oneof![1 => Just(0i64), 6 => 1..=20_000i64, 1 => 20_000..=2_000_000i64],
            prop::sample::select(RATES.to_vec()),
        ),
        0..=4,
    )
}

/// The cart on a channel with the flag on, offering `offers` (the first preselected).
fn with_iframe_shipping(cart: &Cart, offers: &[(i64, i64)]) -> Value {
    let mut json = cart.to_json();
    json["channel"] = json!({"label": "Webshop", "kustomUsesShippingAssistant": true});
    let offers: Vec<Value> = offers
        .iter()
        .enumerate()
        .map(|(i, &(price, rate))| {
            json!({"id": format!("carrier-{i}"), "name": format!("Carrier {i}"),
                   "price": cart.amount(price), "tax": cart.amount(cart.tax_of(price, rate)),
                   "preselected": i == 0, "shippingMethod": "Home"})
        })
        .collect();
    json["shippingOptions"] = json!(offers);
    json
}

proptest! {
    #![proptest_config(config())]

    /// With the flag on, the payload is the flag-off payload without its shipping line: the
    /// cart's shipping (and, tax-exclusive, its tax) comes off `order_amount` to the minor unit,
    /// in 0-, 2- and 3-decimal currencies; it still obeys Kustom's arithmetic and `check`; and
    /// every offered carrier goes out at the shop's price with Kustom's tax formula.
    #[test]
    fn iframe_shipping_takes_exactly_the_carts_shipping_off(
        cart in cart_strategy(1, 0.0),
        offers in offers_strategy(),
    ) {
        let off = build_json(&cart.to_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let shipping_off = cart.shipping_total()
            + if cart.tax_included { 0 } else { cart.shipping_tax() };
        let on = build_json(&with_iframe_shipping(&cart, &offers));
        if off.order_amount - shipping_off < 0 {
            // The shop rounded a shipping-only cart down: nothing is left to pay for the goods.
            prop_assert_eq!(on.map_err(|e| e.code.as_str()), Err("NEGATIVE_ORDER_AMOUNT"));
            return Ok(());
        }
        let on = on.map_err(|e| TestCaseError::fail(format!("refused with the flag on: {e}")))?;
        check_kustom_rules(&on, cart.tax_included)?;
        prop_assert!(kustom::payload::check(&on).is_ok(), "{:?}", kustom::payload::check(&on));
        prop_assert!(on.order_lines.iter().all(|l| l.kind != LineType::ShippingFee));
        prop_assert_eq!(on.order_amount, off.order_amount - shipping_off);
        let goods = |p: &CartPayload| -> Vec<_> {
            p.order_lines.iter().filter(|l| l.kind == LineType::Physical).cloned().collect()
        };
        prop_assert_eq!(goods(&on), goods(&off));
        let sent = on.shipping_options.clone().unwrap_or_default();
        prop_assert_eq!(sent.len(), offers.len());
        for (option, &(price, rate)) in sent.iter().zip(&offers) {
            let tax = cart.tax_of(price, rate);
            let expected_price = if cart.tax_included { price } else { price + tax };
            prop_assert_eq!(option["price"].as_i64(), Some(expected_price));
            let (sent_rate, sent_tax) = (option["tax_rate"].as_i64().unwrap(), option["tax_amount"].as_i64().unwrap());
            prop_assert_eq!(sent_tax, kustom::payload::line_tax(expected_price, sent_rate));
            if cart.tax_included {
                prop_assert!((sent_tax - tax).abs() <= 1, "tax {} for the shop's {}", sent_tax, tax);
            } else {
                prop_assert_eq!(sent_tax, 0);
            }
        }
        // Without the flag the offers are not sent, and the payload is what it always was.
        let mut flag_off = with_iframe_shipping(&cart, &offers);
        flag_off["channel"]["kustomUsesShippingAssistant"] = json!(false);
        prop_assert_eq!(payload_hash(&build_json(&flag_off).unwrap()), payload_hash(&off));
    }

    /// Whatever carrier the customer picks, Kustom's order (the payload plus the `shipping_fee`
    /// line Kustom adds for it) is approved by the validation callback, and one minor unit more
    /// or less on the chosen option is refused: the amount check includes the chosen price.
    #[test]
    fn the_chosen_carrier_is_paid_exactly(
        cart in cart_strategy(1, 0.0),
        offers in offers_strategy().prop_filter("a carrier to choose", |o| !o.is_empty()),
        pick in any::<Index>(),
        drift in prop_oneof![Just(0i64), Just(1i64), Just(-1i64)],
    ) {
        let mut cart_json = with_iframe_shipping(&cart, &offers);
        let order_id = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";
        cart_json["fields"] = json!({"kustomOrderId": order_id});
        let Ok(payload) = build_json(&cart_json) else {
            return Ok(()); // refused (the property above says when): nothing to pay for
        };
        let options = payload.shipping_options.clone().unwrap();
        let chosen = options[pick.index(options.len())].clone();
        let mut selected = chosen.clone();
        let (price, tax) = (chosen["price"].as_i64().unwrap() + drift, chosen["tax_amount"].as_i64().unwrap());
        selected["price"] = json!(price);
        let mut lines: Vec<Value> = payload.order_lines.iter().map(|l| json!(l)).collect();
        lines.push(json!({"type": "shipping_fee", "reference": chosen["id"], "name": chosen["name"],
            "quantity": 1, "unit_price": price, "tax_rate": chosen["tax_rate"], "total_amount": price,
            "total_discount_amount": 0, "total_tax_amount": tax}));
        let body = json!({"order_id": order_id, "status": "checkout_incomplete",
            "purchase_currency": payload.purchase_currency, "order_amount": payload.order_amount + price,
            "order_tax_amount": payload.order_tax_amount + tax, "order_lines": lines,
            "shipping_options": options, "selected_shipping_option": selected,
            "merchant_reference2": cart_json["cartId"]});
        let input = json!({"route": {}, "query": {}, "headers": {}, "body": body,
            "now": "2026-11-25T09:30:00Z", "settings": {"apiKey": "kco_test_api_x"},
            "replies": [cart_json, []]});
        let validate = kustom::components::by_id("ingresses/validate").unwrap();
        let answer = (validate.run)(&input).to_json();
        let status = answer["response"]["statusCode"].as_i64();
        if drift == 0 {
            prop_assert_eq!(status, Some(200), "{}", answer);
        } else {
            prop_assert_eq!(status, Some(400), "{}", answer);
        }
    }
}
