//! Shipping chosen in Kustom's iframe (Kustom API reference §2.7; the cookbook's per-channel
//! `kustomUsesShippingAssistant`, docs/shipping.md).
//!
//! - `shipping_options`, what the app sends, is built and checked by `payload.rs` from the
//!   carriers the cart offers (part of the sync payload, so it is hashed and kept in sync).
//! - [`SelectedShipping`]: the option the customer chose, read liberally from either API (the
//!   Checkout API's `shipping_option`, Order Management's `SelectedShippingOptionDto`).
//! - [`delivery_fields`]: the choice as the cart's `deliveryDynamicFields`, which Commerce copies
//!   onto the order's delivery.

use crate::decimal::Decimal;
use serde_json::{json, Map, Value};

/// `shipping_info.shipping_method` values Order Management accepts; a checkout option takes the
/// first nine ([`CHECKOUT_SHIPPING_METHODS`]).
pub const SHIPPING_METHODS: [&str; 13] = [
    "PickUpStore",
    "Home",
    "BoxReg",
    "BoxUnreg",
    "PickUpPoint",
    "Own",
    "Postal",
    "DHLPackstation",
    "Digital",
    "Undefined",
    "PickUpWarehouse",
    "ClickCollect",
    "PalletDelivery",
];
/// Kustom's `shipping_method` values for a checkout option (Checkout spec `shipping_option`).
pub const CHECKOUT_SHIPPING_METHODS: &[&str] = SHIPPING_METHODS.split_at(9).0;
/// Kustom's limit on an option's `id` and `name` (Checkout spec `shipping_option`); the app holds
/// its other texts to it too.
pub const MAX_TEXT_CHARS: usize = 255;
/// Kustom's limit on a line amount, which a chosen option becomes (`payload::MAX_LINE_AMOUNT`).
pub const MAX_PRICE: i64 = 100_000_000;

/// The option the customer chose in the iframe, as Kustom reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectedShipping {
    pub id: String,
    pub name: Option<String>,
    /// Tax included, minor units.
    pub price: i64,
    pub tax_amount: i64,
    pub tax_rate: i64,
    pub method: Option<String>,
    pub carrier: Option<String>,
    pub product: Option<String>,
    pub product_id: Option<String>,
    pub pickup_point_id: Option<String>,
    pub pickup_point_name: Option<String>,
    pub pickup_point_address: Option<String>,
    pub tms_reference: Option<String>,
}

/// Kustom's `selected_shipping_option` from an order of either API: `Ok(None)` when the customer
/// chose none (absent or null), an error saying what is wrong when it cannot be read as a choice
/// (no id, no price, a price Kustom never charges). Texts are cleaned and held to 255 characters.
pub fn read_selected(option: Option<&Value>) -> Result<Option<SelectedShipping>, String> {
    let option = match option {
        None | Some(Value::Null) => return Ok(None),
        Some(option) if option.is_object() => option,
        Some(_) => return Err("selected_shipping_option is not an object".into()),
    };
    let id = text(option.get("id")).ok_or("selected_shipping_option has no id")?;
    let amount = |key: &str| option.get(key).and_then(Value::as_i64);
    let price = amount("price")
        .filter(|price| (0..=MAX_PRICE).contains(price))
        .ok_or_else(|| {
            format!("selected_shipping_option {id:?} has no price from 0 to 100000000")
        })?;
    // Checkout API: `shipping_method` and `delivery_details {carrier, product, pickup_location}`;
    // Order Management: `method`, `carrier`, `carrier_product` and `location`.
    let details = option.get("delivery_details").unwrap_or(&Value::Null);
    let first = |a: Option<&Value>, b: Option<&Value>| text(a).or_else(|| text(b));
    let product = details
        .get("product")
        .or_else(|| option.get("carrier_product"))
        .unwrap_or(&Value::Null);
    let pickup = details
        .get("pickup_location")
        .or_else(|| option.get("location"))
        .unwrap_or(&Value::Null);
    Ok(Some(SelectedShipping {
        id,
        name: text(option.get("name")),
        price,
        tax_amount: amount("tax_amount").unwrap_or(0),
        tax_rate: amount("tax_rate").unwrap_or(0),
        method: first(option.get("shipping_method"), option.get("method")),
        carrier: first(details.get("carrier"), option.get("carrier")),
        product: text(product.get("name")),
        product_id: text(product.get("identifier")),
        pickup_point_id: text(pickup.get("id")),
        pickup_point_name: text(pickup.get("name")),
        pickup_point_address: pickup.get("address").and_then(address_line),
        tms_reference: text(option.get("tms_reference")),
    }))
}

/// The cart's `deliveryDynamicFields` with the customer's choice added (`kustom…` keys; the
/// shop's own keys kept). Amounts in the currency's major units, like the platform's.
pub fn delivery_fields(
    existing: Option<&Value>,
    chosen: &SelectedShipping,
    exponent: u32,
) -> Map<String, Value> {
    let mut fields = existing
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let money = |minor: i64| Decimal::from_minor_units(minor, exponent).to_json_number();
    let mut put = |key: &str, value: Value| {
        fields.insert(key.into(), value);
    };
    put("kustomShippingOptionId", json!(chosen.id));
    put("kustomShippingPrice", money(chosen.price));
    put("kustomShippingTax", money(chosen.tax_amount));
    // Hundredths of a percent → percent (2500 → 25).
    put(
        "kustomShippingTaxRate",
        Decimal::from_minor_units(chosen.tax_rate, 2).to_json_number(),
    );
    for (key, value) in [
        ("kustomShippingOptionName", &chosen.name),
        ("kustomShippingMethod", &chosen.method),
        ("kustomCarrier", &chosen.carrier),
        ("kustomCarrierProduct", &chosen.product),
        ("kustomCarrierProductId", &chosen.product_id),
        ("kustomPickupPointId", &chosen.pickup_point_id),
        ("kustomPickupPointName", &chosen.pickup_point_name),
        ("kustomPickupPointAddress", &chosen.pickup_point_address),
        ("kustomTmsReference", &chosen.tms_reference),
    ] {
        if let Some(value) = value {
            put(key, json!(value));
        }
    }
    fields
}

/// A text value, cleaned: control characters become spaces, trimmed, at most 255 characters
/// (cut at a character); `None` when absent, not text, or blank.
fn text(value: Option<&Value>) -> Option<String> {
    let cleaned = crate::customer::cleaned(value?.as_str()?)?;
    Some(cleaned.chars().take(MAX_TEXT_CHARS).collect())
}

/// A pickup point's address on one line: "street, street 2, postal code, city, COUNTRY" (the
/// Checkout API's `street_address2` or OM's `street_address__2`).
fn address_line(address: &Value) -> Option<String> {
    let mut line = String::new();
    for key in [
        "street_address",
        "street_address2",
        "street_address__2",
        "postal_code",
        "city",
        "country",
    ] {
        if let Some(mut part) = text(address.get(key)) {
            if key == "country" {
                part.make_ascii_uppercase();
            }
            if !line.is_empty() {
                line.push_str(", ");
            }
            line.push_str(&part);
        }
    }
    (!line.is_empty()).then(|| line.chars().take(MAX_TEXT_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_apis_shapes_of_a_choice_read_the_same() {
        let checkout = json!({"id": "pn-ombud", "name": "PostNord Ombud", "price": 4900,
            "tax_amount": 980, "tax_rate": 2500, "shipping_method": "PickUpPoint",
            "delivery_details": {"carrier": "PostNord", "product": {"name": "MyPack Collect", "identifier": "19"},
                "pickup_location": {"id": "PN-123", "name": "ICA Nära", "address": {"street_address": "Storgatan 1",
                    "postal_code": "111 22", "city": "Stockholm", "country": "se"}}}});
        let om = json!({"id": "pn-ombud", "name": "PostNord Ombud", "price": 4900, "tax_amount": 980,
            "tax_rate": 2500, "method": "PickUpPoint", "carrier": "PostNord",
            "carrier_product": {"name": "MyPack Collect", "identifier": "19"},
            "location": {"id": "PN-123", "name": "ICA Nära", "address": {"street_address": "Storgatan 1",
                "postal_code": "111 22", "city": "Stockholm", "country": "se"}}});
        let a = read_selected(Some(&checkout)).unwrap().unwrap();
        assert_eq!(a, read_selected(Some(&om)).unwrap().unwrap());
        assert_eq!(
            a.pickup_point_address.as_deref(),
            Some("Storgatan 1, 111 22, Stockholm, SE")
        );
        assert_eq!(a.carrier.as_deref(), Some("PostNord"));
        assert_eq!(a.product_id.as_deref(), Some("19"));
    }

    #[test]
    fn a_choice_that_cannot_be_read_says_why() {
        assert_eq!(read_selected(None), Ok(None));
        assert_eq!(read_selected(Some(&Value::Null)), Ok(None));
        for bad in [
            json!("pn"),
            json!({"name": "x", "price": 1}),
            json!({"id": " ", "price": 1}),
            json!({"id": "a"}),
            json!({"id": "a", "price": -1}),
            json!({"id": "a", "price": 1.5}),
            json!({"id": "a", "price": 100_000_001}),
        ] {
            assert!(read_selected(Some(&bad)).is_err(), "{bad}");
        }
        let long = "é".repeat(300);
        let read = read_selected(Some(&json!({"id": long, "price": 0, "name": "a\u{0}b"})))
            .unwrap()
            .unwrap();
        assert_eq!(read.id.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(read.name.as_deref(), Some("a b"));
    }

    #[test]
    fn the_choice_joins_the_shops_delivery_data_in_major_units() {
        let chosen = SelectedShipping {
            id: "dhl".into(),
            price: 1250,
            tax_amount: 250,
            tax_rate: 2500,
            carrier: Some("DHL".into()),
            ..SelectedShipping::default()
        };
        let mut existing = Map::new();
        existing.insert("doorCode".into(), json!("1234"));
        let fields = delivery_fields(Some(&Value::Object(existing)), &chosen, 3);
        assert_eq!(
            Value::Object(fields),
            json!({"doorCode": "1234", "kustomShippingOptionId": "dhl", "kustomShippingPrice": 1.25,
                   "kustomShippingTax": 0.25, "kustomShippingTaxRate": 25, "kustomCarrier": "DHL"})
        );
    }
}
