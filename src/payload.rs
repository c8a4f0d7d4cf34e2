//! Builds the cart part of a Kustom order (`purchase_currency`, `order_amount`,
//! `order_tax_amount`, `order_lines`) from a rendered cart. The checkout ingress and the sync
//! rule both use this one builder, so an unchanged cart always hashes the same.
//!
//! Money rules (Kustom API reference §2.8):
//! - amounts are integers in the currency's minor units (`currency.rs`);
//! - per line `total_amount = quantity × unit_price − total_discount_amount`, and
//!   `total_tax_amount = round(total_amount × tax_rate / (10000 + tax_rate))` (tax included);
//! - `order_amount = Σ total_amount` and `order_tax_amount = Σ total_tax_amount` hold by
//!   construction (plus the `sales_tax` line for tax-exclusive carts);
//! - the cart's own total is authoritative for what the customer pays: a difference from the
//!   line sum of at most one minor unit per line (rounding) becomes an explicit `Rounding` line;
//!   a larger one is refused.

use crate::cart::{CartState, RenderedCart};
use crate::currency::minor_unit_exponent;
use crate::decimal::{round_half_away, Decimal};
use crate::error::AppError;
use crate::error::Code;
use crate::shipping::{CHECKOUT_SHIPPING_METHODS, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Kustom's limit on `order_lines` (Checkout spec).
pub const MAX_ORDER_LINES: usize = 1000;
/// Kustom's limit on `unit_price` and `total_amount` of a line.
pub const MAX_LINE_AMOUNT: i64 = 100_000_000;
/// Plugins saw `Bad value: order_lines[N].reference` above 64 characters.
const MAX_REFERENCE_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 255;
pub const ROUNDING_REFERENCE: &str = "rounding";
/// The name of an item that has neither a description nor a product number.
pub const UNNAMED_ITEM: &str = "Item";
/// Kustom's limits on a line's `name` and `reference` (Checkout spec `order_line`).
const KUSTOM_MAX_TEXT_CHARS: usize = 255;
/// Kustom's limit on a line's `tax_rate` (hundredths of a percent).
const MAX_TAX_RATE: i64 = 10_000;
/// Most units of one item: far above any real cart line, and small enough that
/// `quantity × amount` fits in an `i64` for every amount `Decimal` lets through.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// VAT rates in use in Kustom's markets (hundredths of a percent). A derived rate prefers these:
/// on small totals several rates give the same rounded tax, and the invoice must show the real one.
const COMMON_TAX_RATES: [i64; 27] = [
    0, 250, 260, 370, 380, 500, 550, 600, 700, 770, 800, 810, 900, 1000, 1200, 1300, 1400, 1500,
    1600, 1700, 1900, 2000, 2100, 2200, 2400, 2500, 2550,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineType {
    Physical,
    Discount,
    ShippingFee,
    SalesTax,
    GiftCard,
    Surcharge,
    /// A type the app never sends, read from Kustom (`digital`, `store_credit`, one Kustom adds
    /// later): an order is read liberally, and such a line simply differs from every line the
    /// app builds. Never sent (`check`).
    #[serde(other)]
    Other,
}

/// One Kustom `order_line`, with exactly the fields the app sends. Fields are declared in
/// sorted order of their JSON names, so that serializing prints canonical JSON (`hash.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub name: String,
    pub quantity: i64,
    pub reference: String,
    pub tax_rate: i64,
    pub total_amount: i64,
    pub total_discount_amount: i64,
    pub total_tax_amount: i64,
    #[serde(rename = "type")]
    pub kind: LineType,
    pub unit_price: i64,
}

/// The body of `POST /checkout/v3/orders/{id}` (update), and the cart part of a create.
/// Fields in sorted order, like `OrderLine`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartPayload {
    pub order_amount: i64,
    pub order_lines: Vec<OrderLine>,
    pub order_tax_amount: i64,
    pub purchase_currency: String,
    /// Kustom's `shipping_option` objects: only with shipping in Kustom's iframe, and only when
    /// the shop offers carriers itself. Absent otherwise, so a cart without them hashes as it
    /// always did. Trees (keys print sorted), built by `shipping_options` and checked by
    /// `check`: typed structs would cost every module kilobytes of derived code.
    /// Not derived when reading a payload: see [`CartPayload::from_tree`].
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub shipping_options: Option<Vec<Value>>,
}

impl CartPayload {
    /// A payload from a tree (the one stored on the cart): `shipping_options` is taken as the
    /// tree it is — a derived parser of trees costs a module that has none ~3 KB — and, like the
    /// rest, is only trusted after `check`.
    pub fn from_tree(tree: &Value) -> Result<CartPayload, AppError> {
        let mut payload: CartPayload = crate::error::parse(tree, "payload")?;
        payload.shipping_options = match tree.get("shipping_options") {
            None => None,
            Some(Value::Array(options)) => Some(options.clone()),
            Some(_) => {
                return Err(AppError::bad_input(
                    "payload.shipping_options",
                    "must be a list",
                ))
            }
        };
        Ok(payload)
    }
}

/// Builds the payload, or says exactly why the cart cannot be sent to Kustom.
pub fn build(cart: &RenderedCart) -> Result<CartPayload, AppError> {
    let (mut payload, money) = cart_part(cart)?;
    if cart.uses_shipping_assistant()? {
        payload.shipping_options = shipping_options(cart, money)?;
    }
    Ok(payload)
}

/// What the customer pays for the cart, without the carriers it offers: the amount the
/// completion path checks a paid order against (so that its modules do not link the options'
/// builder).
pub fn amount(cart: &RenderedCart) -> Result<(String, i64), AppError> {
    cart_part(cart).map(|(payload, _)| (payload.purchase_currency, payload.order_amount))
}

/// The payload without `shipping_options`.
fn cart_part(cart: &RenderedCart) -> Result<(CartPayload, Money), AppError> {
    let currency = cart.currency_code.trim().to_ascii_uppercase();
    let exponent = minor_unit_exponent(&currency).ok_or_else(|| {
        AppError::new(
            Code::UnknownCurrency,
            format!(
                "currencyCode {:?} is not an ISO 4217 currency",
                cart.currency_code
            ),
        )
    })?;
    let money = Money { exponent };
    let mut lines = Lines::new(cart.tax_included);
    item_lines(cart, money, &mut lines)?;
    let mut order_total = money.minor(cart.order_total, "orderTotal")?;
    let mut order_tax_total = money.minor(cart.order_tax_total, "orderTaxTotal")?;
    let shipping = cart_shipping(cart, money, order_tax_total - lines.cart_item_tax)?;
    if cart.uses_shipping_assistant()? {
        // Shipping is chosen in the iframe: Kustom adds the chosen option's price itself, so
        // the cart's own shipping is taken off the totals (the cookbook's rule), never sent.
        if shipping.discount > 0 {
            return Err(AppError::new(
                Code::ShippingDiscountInIframe,
                format!(
                    "a promotion takes {} off the shipping, which Kustom's iframe shipping cannot \
                     show: Kustom would charge the chosen option's full price \
                     (channel setting kustomUsesShippingAssistant)",
                    cart.shipping_discount.unwrap_or(Decimal::ZERO)
                ),
            ));
        }
        // `orderTotal` includes tax: a tax-exclusive cart's shipping tax comes off it too.
        order_total -= shipping.total + if cart.tax_included { 0 } else { shipping.tax };
        order_tax_total -= shipping.tax;
    } else {
        shipping_line(&shipping, &mut lines)?;
    }
    if !cart.tax_included {
        sales_tax_line(order_tax_total, &mut lines)?;
    }
    let gift_card_total = gift_card_lines(cart, money, &mut lines)?;
    rounding_line(cart, order_total - gift_card_total, &mut lines)?;

    let order_amount = lines.amount_sum();
    if order_amount < 0 {
        return Err(AppError::new(
            Code::NegativeOrderAmount,
            format!(
                "the order amount would be {order_amount}: gift cards (or, with shipping in \
                 the iframe, the cart's own rounding) exceed what is left to pay"
            ),
        ));
    }
    let order_tax_amount = lines.tax_sum();
    if cart.tax_included {
        // The Kustom tax is recomputed per line from the line total; it may differ from the
        // cart's (per-unit rounded) tax by a little, but not by more than the rounding allows.
        let cart_tax = order_tax_total;
        let tax_tolerance = lines.tax_tolerance;
        if (cart_tax - order_tax_amount).abs() > tax_tolerance {
            return Err(AppError::new(
                Code::TaxMismatch,
                format!(
                    "the cart's tax total {} ({cart_tax} minor units) differs from the lines' \
                     tax ({order_tax_amount}) by more than the rounding tolerance of {tax_tolerance}",
                    cart.order_tax_total
                ),
            ));
        }
    }
    let payload = CartPayload {
        purchase_currency: currency,
        order_amount,
        order_tax_amount,
        order_lines: lines.lines,
        shipping_options: None,
    };
    Ok((payload, money))
}

/// Exact conversion of the cart's decimal amounts into the currency's minor units.
#[derive(Clone, Copy)]
struct Money {
    exponent: u32,
}

impl Money {
    /// Every amount enters as minor units bounded by `MAX_MINOR_UNITS`, so the i64 arithmetic
    /// on lines cannot overflow (quantities are bounded by `MAX_QUANTITY`). `path` is only
    /// formatted for an error: formatting paths for every line was a tenth of the hot path.
    fn minor_at(self, amount: Decimal, path: &dyn Fn() -> String) -> Result<i64, AppError> {
        amount.to_minor_units(self.exponent).ok_or_else(|| {
            AppError::new(
                Code::AmountTooLarge,
                format!(
                    "{}: {amount} is beyond what a Kustom order can carry",
                    path()
                ),
            )
        })
    }

    fn minor(self, amount: Decimal, path: &str) -> Result<i64, AppError> {
        self.minor_at(amount, &|| path.to_string())
    }

    fn optional(self, amount: Option<Decimal>, path: &str) -> Result<i64, AppError> {
        amount.map_or(Ok(0), |amount| self.minor(amount, path))
    }
}

/// One `physical` line per item bought; the cart's own arithmetic must hold first.
fn item_lines(cart: &RenderedCart, money: Money, lines: &mut Lines) -> Result<(), AppError> {
    for (index, item) in cart.items.iter().enumerate() {
        let at = |field: &str| format!("items[{index}].{field}");
        let quantity = item
            .quantity
            .to_integer()
            .filter(|q| (0..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| {
                AppError::bad_input(
                    at("quantity"),
                    format!(
                        "must be a whole number from 0 to {MAX_QUANTITY}, got {}",
                        item.quantity
                    ),
                )
            })?;
        for (name, value) in [("unitPrice", item.unit_price), ("total", item.total)] {
            if value.is_negative() {
                return Err(AppError::bad_input(
                    at(name),
                    format!("must not be negative, got {value}"),
                ));
            }
        }
        // The cart's own arithmetic must hold exactly (to below one minor unit) before we
        // derive anything from it; otherwise we would be guessing what the customer pays.
        let discount = item.discount.unwrap_or(Decimal::ZERO);
        let drift = item
            .unit_price
            .checked_mul_int(quantity)
            .and_then(|gross| gross.checked_sub(discount))
            .and_then(|net| net.checked_sub(item.total));
        if !drift.is_some_and(|d| d.is_below_one_minor_unit(money.exponent)) {
            return Err(AppError::new(
                Code::ItemTotalMismatch,
                format!(
                    "{}: quantity {} × unitPrice {} − discount {} ≠ total {}",
                    at("total"),
                    quantity,
                    item.unit_price,
                    discount,
                    item.total
                ),
            ));
        }
        if quantity == 0 {
            // Nothing is bought; Kustom would show an empty line.
            continue;
        }
        // Kustom requires a name of at least one character: the description, else the product
        // number, else a word (an item may carry neither).
        let name = [
            item.description.as_deref(),
            Some(item.product_number.as_str()),
        ]
        .into_iter()
        .flatten()
        .find(|text| !text.trim().is_empty())
        .unwrap_or(UNNAMED_ITEM);
        lines.goods_line(
            LineType::Physical,
            &item.product_number,
            name,
            quantity,
            money.minor_at(item.unit_price, &|| at("unitPrice"))?,
            money.minor_at(item.total, &|| at("total"))?,
            money.minor_at(item.tax, &|| at("tax"))?,
            &|| at("tax"),
        )?;
    }
    Ok(())
}

/// The cart's shipping (minor units): after discount, its discount, and its tax.
struct Shipping {
    total: i64,
    discount: i64,
    tax: i64,
}

/// `tax_left` is the cart's tax after its items' tax: the shipping tax when the hook input
/// carries none.
fn cart_shipping(cart: &RenderedCart, money: Money, tax_left: i64) -> Result<Shipping, AppError> {
    let total = money.optional(cart.shipping_total, "shippingTotal")?;
    let discount = money.optional(cart.shipping_discount, "shippingDiscount")?;
    if total < 0 || discount < 0 {
        return Err(AppError::bad_input(
            "shippingTotal",
            "shipping amounts must not be negative",
        ));
    }
    let tax = match cart.shipping_tax {
        _ if total == 0 && discount == 0 => 0,
        Some(tax) => money.minor(tax, "shippingTax")?,
        // Not in the hook input: what the items' tax leaves of the cart's.
        None => tax_left,
    };
    Ok(Shipping {
        total,
        discount,
        tax,
    })
}

/// One `shipping_fee` line for the cart's shipping, if it has any.
fn shipping_line(shipping: &Shipping, lines: &mut Lines) -> Result<(), AppError> {
    if shipping.total == 0 && shipping.discount == 0 {
        return Ok(());
    }
    lines.goods_line(
        LineType::ShippingFee,
        "shipping",
        "Shipping",
        1,
        shipping.total + shipping.discount,
        shipping.total,
        shipping.tax,
        &|| "shippingTax".into(),
    )
}

/// Kustom's `shipping_options` from the carriers the cart offers (`None` when it offers none
/// itself). Each option's price includes its tax, as Kustom's do: in a tax-exclusive cart the
/// tax is added to the price at rate 0, as the goods carry theirs on the `sales_tax` line.
fn shipping_options(cart: &RenderedCart, money: Money) -> Result<Option<Vec<Value>>, AppError> {
    let offers = match &cart.shipping_options {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(offers)) => offers,
        Some(_) => return Err(AppError::bad_input("shippingOptions", "must be a list")),
    };
    let mut options: Vec<Value> = Vec::with_capacity(offers.len());
    let mut preselected = false;
    for (index, offer) in offers.iter().enumerate() {
        let at = |field: &str| format!("shippingOptions[{index}].{field}");
        let refuse = |field: &str, why: &str| AppError::bad_input(at(field), why);
        let text = |field: &str| match offer.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(truncate(text.trim(), MAX_TEXT_CHARS))),
            Some(_) => Err(refuse(field, "must be text")),
        };
        let amount = |field: &str| match offer.get(field) {
            None | Some(Value::Null) => Ok(0),
            Some(value) => crate::value_de::from_value::<Decimal>(value)
                .map_err(|_| refuse(field, "must be a number"))
                .and_then(|amount| money.minor_at(amount, &|| at(field))),
        };
        // An id is never cut (the customer's choice comes back by it); other texts are.
        let id = offer["id"].as_str().map(str::trim);
        let Some(id) = id.filter(|id| (1..=MAX_TEXT_CHARS).contains(&id.chars().count())) else {
            return Err(refuse("id", "must be text of 1 to 255 characters"));
        };
        if options.iter().any(|option| option["id"] == id) {
            return Err(refuse("id", &format!("{id:?} is offered twice")));
        }
        let Some(name) = text("name")? else {
            return Err(refuse("name", "must be text of 1 to 255 characters"));
        };
        let (price, tax) = (amount("price")?, amount("tax")?);
        if price < 0 || tax < 0 {
            return Err(refuse(
                "price",
                "the price and its tax must not be negative",
            ));
        }
        let (price, tax_rate, tax_amount) = if cart.tax_included {
            let rate = derive_tax_rate(price, tax, 1).ok_or_else(|| {
                refuse(
                    "tax",
                    &format!("tax {tax} does not fit price {price} at any tax rate"),
                )
            })?;
            (price, rate, line_tax(price, rate))
        } else {
            (price + tax, 0, 0)
        };
        if price > MAX_LINE_AMOUNT {
            return Err(refuse(
                "price",
                "exceeds Kustom's limit of 100000000 minor units",
            ));
        }
        let mut option = Map::new();
        option.insert("id".into(), json!(id));
        option.insert("name".into(), json!(name));
        option.insert("price".into(), json!(price));
        option.insert("tax_amount".into(), json!(tax_amount));
        option.insert("tax_rate".into(), json!(tax_rate));
        if let Some(method) = text("shippingMethod")? {
            if !CHECKOUT_SHIPPING_METHODS.contains(&method.as_str()) {
                return Err(refuse(
                    "shippingMethod",
                    "must be one of Kustom's shipping methods (PickUpPoint, Home, …)",
                ));
            }
            option.insert("shipping_method".into(), json!(method));
        }
        if offer.get("preselected").is_some_and(|p| p == true) {
            if preselected {
                return Err(refuse("preselected", "only one option can be preselected"));
            }
            preselected = true;
            option.insert("preselected".into(), json!(true));
        }
        if let Some(description) = text("description")? {
            option.insert("description".into(), json!(description));
        }
        let mut details = Map::new();
        if let Some(carrier) = text("carrier")? {
            details.insert("carrier".into(), json!(carrier));
        }
        if let Some(product) = text("product")? {
            details.insert("product".into(), json!({ "name": product }));
        }
        if !details.is_empty() {
            option.insert("delivery_details".into(), Value::Object(details));
        }
        options.push(Value::Object(option));
    }
    Ok(Some(options))
}

/// Kustom's sales-tax convention for tax-exclusive carts: goods at tax_rate 0, all tax on one
/// `sales_tax` line.
fn sales_tax_line(order_tax_total: i64, lines: &mut Lines) -> Result<(), AppError> {
    let sales_tax = order_tax_total;
    if sales_tax < 0 {
        return Err(AppError::bad_input("orderTaxTotal", "must not be negative"));
    }
    if sales_tax == 0 {
        return Ok(());
    }
    lines.push(OrderLine {
        kind: LineType::SalesTax,
        reference: "sales-tax".into(),
        name: "Sales tax".into(),
        quantity: 1,
        unit_price: sales_tax,
        tax_rate: 0,
        total_amount: sales_tax,
        total_discount_amount: 0,
        total_tax_amount: 0,
    })
}

/// One negative `gift_card` line per redeemed card; their total.
fn gift_card_lines(cart: &RenderedCart, money: Money, lines: &mut Lines) -> Result<i64, AppError> {
    let mut gift_card_total = 0i64;
    for (index, card) in cart.gift_cards.iter().enumerate() {
        let amount = money.minor(card.amount, &format!("giftCards[{index}].amount"))?;
        if amount <= 0 {
            return Err(AppError::bad_input(
                format!("giftCards[{index}].amount"),
                "must be positive",
            ));
        }
        gift_card_total += amount;
        lines.push(OrderLine {
            kind: LineType::GiftCard,
            reference: truncate(
                card.code.as_deref().unwrap_or("gift-card"),
                MAX_REFERENCE_CHARS,
            ),
            name: "Gift card".into(),
            quantity: 1,
            unit_price: -amount,
            tax_rate: 0,
            total_amount: -amount,
            total_discount_amount: 0,
            total_tax_amount: 0,
        })?;
    }
    Ok(gift_card_total)
}

/// Reconcile the line sum with what the cart says the customer pays (`expected`): a rounding
/// difference becomes an explicit `Rounding` line; a larger one is refused.
fn rounding_line(cart: &RenderedCart, expected: i64, lines: &mut Lines) -> Result<(), AppError> {
    let difference = expected - lines.amount_sum();
    if difference == 0 {
        return Ok(());
    }
    let tolerance = lines.rounding_tolerance();
    if difference.abs() > tolerance {
        return Err(AppError::new(
            Code::TotalsMismatch,
            format!(
                "the cart total {} ({} minor units after gift cards) differs from its lines \
                 ({} minor units) by {}, more than the rounding tolerance of {}; \
                 order-level amounts that are not on a line cannot be sent to Kustom",
                cart.order_total,
                expected,
                lines.amount_sum(),
                difference,
                tolerance
            ),
        ));
    }
    lines.push(OrderLine {
        kind: if difference > 0 {
            LineType::Surcharge
        } else {
            LineType::Discount
        },
        reference: ROUNDING_REFERENCE.into(),
        name: "Rounding".into(),
        quantity: 1,
        unit_price: difference,
        tax_rate: 0,
        total_amount: difference,
        total_discount_amount: 0,
        total_tax_amount: 0,
    })
}

/// Whether Kustom accepts `payload` as an order update: its limits (Checkout spec `order` and
/// `order_line`) and money rules (API reference §2.8), exactly. What `build` produces always
/// passes; a payload that comes from outside — a job's parameters, the one stored on the cart —
/// is checked before it is sent, so that Kustom is never sent what it refuses.
pub fn check(payload: &CartPayload) -> Result<(), AppError> {
    let refuse = |what: String| Err(AppError::bad_input("payload", what));
    if minor_unit_exponent(&payload.purchase_currency).is_none() {
        return refuse("purchase_currency is not an ISO 4217 currency".into());
    }
    if payload.order_lines.len() > MAX_ORDER_LINES {
        return refuse(format!("more than {MAX_ORDER_LINES} order lines"));
    }
    let (mut amount, mut tax) = (0i128, 0i128);
    for (index, line) in payload.order_lines.iter().enumerate() {
        let chars = |text: &str| text.chars().count();
        let wide = |n: i64| i128::from(n);
        let fits = line.kind != LineType::Other
            && (1..=KUSTOM_MAX_TEXT_CHARS).contains(&chars(&line.name))
            && chars(&line.reference) <= KUSTOM_MAX_TEXT_CHARS
            && (0..=MAX_QUANTITY).contains(&line.quantity)
            // Ranges, not `abs()`: the payload comes from outside and `i64::MIN.abs()` overflows.
            && (-MAX_LINE_AMOUNT..=MAX_LINE_AMOUNT).contains(&line.unit_price)
            && (-MAX_LINE_AMOUNT..=MAX_LINE_AMOUNT).contains(&line.total_amount)
            && (0..=MAX_TAX_RATE).contains(&line.tax_rate)
            && (0..=MAX_LINE_AMOUNT).contains(&line.total_discount_amount)
            && wide(line.quantity) * wide(line.unit_price) - wide(line.total_discount_amount)
                == wide(line.total_amount)
            && line.total_tax_amount == line_tax(line.total_amount, line.tax_rate);
        if !fits {
            return refuse(format!(
                "order_lines[{index}] breaks Kustom's limits or arithmetic"
            ));
        }
        amount += wide(line.total_amount);
        tax += wide(match line.kind {
            LineType::SalesTax => line.total_amount,
            _ => line.total_tax_amount,
        });
    }
    if payload.order_amount < 0
        || differs(payload.order_amount, amount)
        || differs(payload.order_tax_amount, tax)
    {
        return refuse("order_amount or order_tax_amount is not the sum of its lines".into());
    }
    check_shipping_options(payload.shipping_options.as_deref().unwrap_or_default())
}

/// Kustom's rules for `shipping_options` (Checkout spec `shipping_option`), and the line rules
/// an option must meet to become the `shipping_fee` line Kustom adds when it is chosen. Only the
/// fields the app sends, with the types it sends them in.
fn check_shipping_options(options: &[Value]) -> Result<(), AppError> {
    let mut preselected = 0;
    for (index, option) in options.iter().enumerate() {
        let fits = option_fits(option) && !options[..index].iter().any(|o| o["id"] == option["id"]);
        preselected += usize::from(option.get("preselected").is_some());
        if !fits || preselected > 1 {
            return Err(AppError::bad_input(
                "payload",
                format!("shipping_options[{index}] breaks Kustom's limits or arithmetic"),
            ));
        }
    }
    Ok(())
}

fn option_fits(option: &Value) -> bool {
    let Some(fields) = option.as_object() else {
        return false;
    };
    let text = |value: &Value| {
        value
            .as_str()
            .is_some_and(|t| (1..=KUSTOM_MAX_TEXT_CHARS).contains(&t.chars().count()))
    };
    let integer = |key: &str, range: std::ops::RangeInclusive<i64>| {
        option[key].as_i64().is_some_and(|n| range.contains(&n))
    };
    let (price, rate) = (option["price"].as_i64(), option["tax_rate"].as_i64());
    text(&option["id"])
        && text(&option["name"])
        && integer("price", 0..=MAX_LINE_AMOUNT)
        && integer("tax_rate", 0..=MAX_TAX_RATE)
        && price.zip(rate).map(|(p, r)| line_tax(p, r)) == option["tax_amount"].as_i64()
        && fields.iter().all(|(key, value)| match key.as_str() {
            "id" | "name" | "price" | "tax_rate" | "tax_amount" => true,
            "description" => text(value),
            "preselected" => value == true,
            "shipping_method" => value
                .as_str()
                .is_some_and(|m| CHECKOUT_SHIPPING_METHODS.contains(&m)),
            "delivery_details" => value.as_object().is_some_and(|details| {
                details.iter().all(|(key, value)| match key.as_str() {
                    "carrier" => text(value),
                    "product" => {
                        value.as_object().is_some_and(|p| p.len() == 1) && text(&value["name"])
                    }
                    _ => false,
                })
            }),
            _ => false,
        })
}

/// Whether `value` differs from the exact sum `sum`.
fn differs(value: i64, sum: i128) -> bool {
    i128::from(value) != sum
}

/// Whether the sync rule should look at this cart at all.
pub fn is_open(cart: &RenderedCart) -> bool {
    cart.cart_state == CartState::Open
}

/// Accumulates lines and the tolerances their rounding allows.
struct Lines {
    tax_included: bool,
    lines: Vec<OrderLine>,
    /// Σ of the cart's own item tax (minor units), for deriving a missing shipping tax.
    cart_item_tax: i64,
    /// How far Σ line tax may be from the cart's tax total: per line max(1, quantity).
    tax_tolerance: i64,
}

impl Lines {
    fn new(tax_included: bool) -> Self {
        Lines {
            tax_included,
            lines: Vec::new(),
            cart_item_tax: 0,
            tax_tolerance: 0,
        }
    }

    fn push(&mut self, line: OrderLine) -> Result<(), AppError> {
        if self.lines.len() >= MAX_ORDER_LINES {
            return Err(AppError::new(
                Code::CartTooLarge,
                format!("Kustom accepts at most {MAX_ORDER_LINES} order lines"),
            ));
        }
        for (name, value) in [
            ("unit_price", line.unit_price),
            ("total_amount", line.total_amount),
        ] {
            if value.abs() > MAX_LINE_AMOUNT {
                return Err(AppError::new(
                    Code::AmountTooLarge,
                    format!(
                        "line {:?}: {name} {value} exceeds Kustom's limit of {MAX_LINE_AMOUNT} minor units",
                        line.reference
                    ),
                ));
            }
        }
        self.lines.push(line);
        Ok(())
    }

    /// A goods or shipping line from the cart's amounts (minor units).
    #[allow(clippy::too_many_arguments)]
    fn goods_line(
        &mut self,
        kind: LineType,
        reference: &str,
        name: &str,
        quantity: i64,
        unit_price: i64,
        total: i64,
        cart_tax: i64,
        tax_field: &dyn Fn() -> String,
    ) -> Result<(), AppError> {
        // The line total is authoritative. When the unit price had sub-minor decimals its
        // rounding can make quantity × unit_price fall short of the total; round it up instead,
        // so that total_discount_amount stays ≥ 0 as Kustom requires.
        let mut unit_price = unit_price;
        if quantity * unit_price < total {
            unit_price = (total + quantity - 1) / quantity;
        }
        let discount = quantity * unit_price - total;
        let (tax_rate, total_tax_amount) = if self.tax_included {
            let rate = derive_tax_rate(total, cart_tax, quantity).ok_or_else(|| {
                AppError::bad_input(
                    tax_field(),
                    format!("tax {cart_tax} does not fit line total {total} at any tax rate"),
                )
            })?;
            (rate, line_tax(total, rate))
        } else {
            (0, 0)
        };
        if kind == LineType::Physical {
            self.cart_item_tax += cart_tax;
        }
        self.tax_tolerance += quantity.max(1);
        self.push(OrderLine {
            kind,
            reference: truncate(reference, MAX_REFERENCE_CHARS),
            name: truncate(name, MAX_NAME_CHARS),
            quantity,
            unit_price,
            tax_rate,
            total_amount: total,
            total_discount_amount: discount,
            total_tax_amount,
        })
    }

    fn amount_sum(&self) -> i64 {
        self.lines.iter().map(|l| l.total_amount).sum()
    }

    /// Σ total_tax_amount, plus the sales-tax line's amount (tax-exclusive carts).
    fn tax_sum(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| match l.kind {
                LineType::SalesTax => l.total_amount,
                _ => l.total_tax_amount,
            })
            .sum()
    }

    /// One minor unit per converted line: each conversion can round by at most half a unit, and
    /// the cart's own total by another half.
    fn rounding_tolerance(&self) -> i64 {
        (self.lines.len() as i64).max(1)
    }
}

/// Kustom's per-line tax for a tax-inclusive total: `total × rate / (10000 + rate)`, rounded
/// half away from zero (5 × 100.00 at 10 % → 45.45, as in Kustom's docs).
pub fn line_tax(total_amount: i64, tax_rate: i64) -> i64 {
    round_half_away(
        i128::from(total_amount) * i128::from(tax_rate),
        i128::from(10_000 + tax_rate),
    ) as i64
}

/// The tax rate (hundredths of a percent) of a tax-inclusive line, from its total and tax.
///
/// The rendered cart carries no rate, so it is derived. In order of preference:
/// 1. a common VAT rate that reproduces the cart's tax exactly (whole percents first, then the
///    nearest to the implied rate);
/// 2. a whole or tenth of a percent that does (nearest first);
/// 3. the same two within the rounding a cart may apply per unit (max(1, quantity) minor units);
/// 4. the implied rate itself, if within that rounding.
pub fn derive_tax_rate(total: i64, tax: i64, quantity: i64) -> Option<i64> {
    if tax == 0 {
        return Some(0);
    }
    let net = total - tax;
    if total <= 0 || tax < 0 || net <= 0 {
        return None;
    }
    let implied = round_half_away(i128::from(tax) * 10_000, i128::from(net)) as i64;
    let error = |rate: i64| (line_tax(total, rate) - tax).abs();
    // Fast path, and the usual case: the nearest common whole-percent rate reproduces the tax
    // exactly. It would be the first pick of step 1 below, found without allocating.
    let nearest_whole = COMMON_TAX_RATES
        .iter()
        .copied()
        .filter(|r| r % 100 == 0)
        .min_by_key(|r| (r - implied).abs());
    if let Some(rate) = nearest_whole.filter(|r| error(*r) == 0) {
        return Some(rate);
    }
    let tenths = (implied / 10 - 20..=implied / 10 + 20).map(|t| t * 10);
    let round: Vec<i64> = tenths.filter(|r| (0..=10_000).contains(r)).collect();
    // Whole percents first (on a small total 25 % and 25.5 % can both fit; 25 % is far more
    // common), then nearest the implied rate, then the lower of two as near.
    let preference = |r: &i64| (r % 100 != 0, (r - implied).abs(), *r);
    let best = |candidates: &[i64], allowed: i64| {
        candidates
            .iter()
            .copied()
            .filter(|r| error(*r) <= allowed)
            .min_by_key(preference)
    };
    let tolerance = quantity.max(1);
    best(&COMMON_TAX_RATES, 0)
        .or_else(|| best(&round, 0))
        .or_else(|| best(&COMMON_TAX_RATES, tolerance))
        .or_else(|| best(&round, tolerance))
        .or_else(|| {
            ((0..=10_000).contains(&implied) && error(implied) <= tolerance).then_some(implied)
        })
}

fn truncate(text: &str, max_chars: usize) -> String {
    // No more bytes than allowed characters: nothing to cut (the usual case, copied at once).
    if text.len() <= max_chars {
        return text.to_string();
    }
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_tax_matches_kustoms_worked_examples() {
        // 5 × 100.00 at 10 %: 50000 − 50000·10000/11000 = 4545.45 → 4545
        assert_eq!(line_tax(50_000, 1000), 4545);
        // discount example: total 250.00 at 25 % → 50.00
        assert_eq!(line_tax(25_000, 2500), 5000);
        assert_eq!(line_tax(-2_500, 2500), -500);
        assert_eq!(line_tax(0, 2500), 0);
    }

    #[test]
    fn tax_rates_snap_to_the_rate_the_cart_used() {
        assert_eq!(derive_tax_rate(12_500, 2_500, 1), Some(2500));
        // 9.99 at 25 %: tax 2.00 → the exact rate would be 25.03 %; 25 % fits within 1 öre.
        assert_eq!(derive_tax_rate(999, 200, 1), Some(2500));
        // per-unit rounded tax of 100 × 9.99 at 25 % (100 × 2.00) still gives 25 %
        assert_eq!(derive_tax_rate(99_900, 20_000, 100), Some(2500));
        // Swiss 8.1 %: 108.10 incl. 8.10
        assert_eq!(derive_tax_rate(10_810, 810, 1), Some(810));
        // Small totals where 8 % also comes within a rounding unit (found by the property tests)
        assert_eq!(derive_tax_rate(990, 74, 1), Some(810)); // CHF 9.90 at 8.1 %
        assert_eq!(derive_tax_rate(2_302, 172, 1), Some(810));
        assert_eq!(derive_tax_rate(4_000, 300, 20), Some(810));
        assert_eq!(derive_tax_rate(240, 17, 4), Some(770)); // 7.7 %: 7.6 % fits too, 7.7 is a real rate
        assert_eq!(derive_tax_rate(238, 48, 7), Some(2500)); // 25.5 % fits too; 25 % is likelier
        assert_eq!(derive_tax_rate(10_000, 0, 1), Some(0));
        assert_eq!(derive_tax_rate(100, 100, 1), None);
        assert_eq!(derive_tax_rate(100, -5, 1), None);
        assert_eq!(derive_tax_rate(8_200, 4_200, 2), None); // 105 %: beyond Kustom's 100 %
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;
    use serde_json::json;

    fn cart(items: Vec<serde_json::Value>, total: &str, tax: &str) -> RenderedCart {
        serde_json::from_value(json!({
            "cartId": "c1", "cartState": "open", "currencyCode": "SEK", "taxIncluded": true,
            "orderTotal": total, "orderTaxTotal": tax, "items": items
        }))
        .unwrap()
    }

    #[test]
    fn more_lines_than_kustom_accepts_is_refused() {
        let item =
            json!({"productNumber": "PIN", "quantity": 1, "unitPrice": 1, "total": 1, "tax": 0.2});
        let at_limit = cart(vec![item.clone(); MAX_ORDER_LINES], "1000", "200");
        assert_eq!(build(&at_limit).unwrap().order_lines.len(), MAX_ORDER_LINES);
        let over = cart(vec![item; MAX_ORDER_LINES + 1], "1001", "200.2");
        assert_eq!(build(&over).unwrap_err().code, "CART_TOO_LARGE");
    }

    #[test]
    fn a_line_above_kustoms_amount_limit_is_refused() {
        // 1 000 001.00 SEK on one line: 100 000 100 öre > 100 000 000
        let item = json!({"productNumber": "CAR", "quantity": 1, "unitPrice": 1000001, "total": 1000001, "tax": 200000.2});
        let err = build(&cart(vec![item], "1000001", "200000.2")).unwrap_err();
        assert_eq!(err.code, "AMOUNT_TOO_LARGE", "{err}");
    }

    #[test]
    fn item_arithmetic_that_does_not_hold_is_refused() {
        let item =
            json!({"productNumber": "X", "quantity": 2, "unitPrice": 10, "total": 25, "tax": 5});
        assert_eq!(
            build(&cart(vec![item], "25", "5")).unwrap_err().code,
            "ITEM_TOTAL_MISMATCH"
        );
    }
}
