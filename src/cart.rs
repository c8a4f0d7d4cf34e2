//! The rendered cart that Commerce passes to `OnCartMutation` (platform notes §2.3), with the
//! extra fields the HTTP rendering carries. Only what the app reads is typed: everything else
//! (cart number, channel, email, phone, invoice address, …) is skipped unparsed, so Commerce can
//! add fields without breaking the app.

use crate::decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderedCart {
    pub cart_id: String,
    pub cart_state: CartState,
    pub currency_code: String,
    pub tax_included: bool,
    /// What the customer pays, tax included, before gift cards.
    pub order_total: Decimal,
    pub order_tax_total: Decimal,
    #[serde(default)]
    pub shipping_total: Option<Decimal>,
    /// Only in the HTTP rendering; when absent the shipping tax is what is left of
    /// `orderTaxTotal` after the items' tax.
    #[serde(default)]
    pub shipping_tax: Option<Decimal>,
    #[serde(default)]
    pub shipping_discount: Option<Decimal>,
    pub items: Vec<CartItem>,
    /// Gift cards redeemed against the cart [I]: not in the documented hook input; a host that
    /// has them passes `[{code, amount}]` and each becomes a `gift_card` line.
    #[serde(default)]
    pub gift_cards: Vec<GiftCard>,
    /// Custom fields, without Commerce's `field:` prefix (see `fields.rs`).
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub address: Option<Value>,
    /// The customer's email, if the shop has it (pre-fills Kustom's checkout).
    #[serde(default)]
    pub email: Option<Value>,
    #[serde(default)]
    pub locale: Option<String>,
    /// The cart's channel's registry entry (`channels/<channelKey>`), which the host adds beside
    /// the cart [I] (docs/host-contract.md): where a merchant switches shipping in Kustom's iframe.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Carriers the shop offers for the iframe [I] (not in the documented hook input): sent to
    /// Kustom as `shipping_options` when the channel uses the Shipping Assistant. Absent: the
    /// shop offers none itself (Kustom's Shipping Assistant gets them from a TMS); `[]`: nothing
    /// to ship.
    #[serde(default)]
    pub shipping_options: Option<Vec<ShippingOffer>>,
    /// The cart's delivery data, which Commerce copies onto the order's delivery; the completion
    /// path adds the shipping option the customer chose to what is there.
    #[serde(default)]
    pub delivery_dynamic_fields: Option<Map<String, Value>>,
}

/// The app's properties on a channel's registry entry (platform notes §1.7, cookbook).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// Shipping is chosen in Kustom's iframe (default false): no shipping line, and the cart's
    /// shipping taken off `order_amount` / `order_tax_amount`.
    #[serde(default)]
    pub kustom_uses_shipping_assistant: Option<bool>,
}

/// One carrier the shop offers, in the cart's money (tax included like its prices, or not).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOffer {
    pub id: String,
    pub name: String,
    pub price: Decimal,
    /// The tax in `price` (tax-included carts) or on top of it (tax-exclusive carts).
    #[serde(default)]
    pub tax: Option<Decimal>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub preselected: Option<bool>,
    /// One of Kustom's `shipping_method` values (`PickUpPoint`, `Home`, …).
    #[serde(default)]
    pub shipping_method: Option<String>,
    #[serde(default)]
    pub carrier: Option<String>,
    /// The carrier's product (e.g. "MyPack Collect").
    #[serde(default)]
    pub product: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CartState {
    Open,
    Completed,
    Rejected,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub product_number: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A whole number of units; anything else is refused (Kustom quantities are integers).
    pub quantity: Decimal,
    /// Price of one unit before discount, in the cart's price mode (tax included or not).
    pub unit_price: Decimal,
    /// The line total after discount, in the cart's price mode.
    pub total: Decimal,
    /// The tax of the line.
    pub tax: Decimal,
    /// The discount on the line; `quantity × unitPrice − discount` must equal `total`.
    #[serde(default)]
    pub discount: Option<Decimal>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftCard {
    #[serde(default)]
    pub code: Option<String>,
    pub amount: Decimal,
}

impl CartState {
    pub fn as_str(self) -> &'static str {
        match self {
            CartState::Open => "open",
            CartState::Completed => "completed",
            CartState::Rejected => "rejected",
        }
    }
}

impl RenderedCart {
    /// Whether shipping is chosen in Kustom's iframe for this cart's channel.
    pub fn uses_shipping_assistant(&self) -> bool {
        self.channel
            .as_ref()
            .and_then(|channel| channel.kustom_uses_shipping_assistant)
            .unwrap_or(false)
    }

    /// A text custom field (`fields.<key>`), if present and a non-empty string.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}
