//! The rendered cart that Commerce passes to `OnCartMutation` (platform notes §2.3), with the
//! extra fields the HTTP rendering carries. Only what the app reads is typed: everything else
//! (cart number, channel, email, phone, invoice address, …) is skipped unparsed, so Commerce can
//! add fields without breaking the app.

use crate::decimal::Decimal;
use crate::error::AppError;
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
    // The three below are taken from the tree as they are by `from_tree`, not parsed: a field
    // in a derived parser costs every module that reads a cart, and these are only passed on
    // or read once.
    /// The cart's channel's registry entry (`channels/<channelKey>`), which the host adds beside
    /// the cart [I] (docs/host-contract.md): where a merchant switches shipping in Kustom's iframe
    /// (`kustomUsesShippingAssistant`, read by [`RenderedCart::uses_shipping_assistant`]).
    #[serde(skip)]
    pub channel: Option<Value>,
    /// Carriers the shop offers for the iframe [I] (not in the documented hook input),
    /// `[{id, name, price, tax, description?, preselected?, shippingMethod?, carrier?,
    /// product?}]`: sent to Kustom as `shipping_options` when the channel uses the Shipping
    /// Assistant (`payload.rs` reads them). Absent: the shop offers none itself (Kustom's
    /// Shipping Assistant gets them from a TMS); `[]`: nothing to ship.
    #[serde(skip)]
    pub shipping_options: Option<Value>,
    /// The cart's delivery data (a map), which Commerce copies onto the order's delivery; the
    /// completion path adds the shipping option the customer chose to what is there.
    #[serde(skip)]
    pub delivery_dynamic_fields: Option<Value>,
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
    /// The cart from its tree: the hook input, or a `renderCart` reply. `what` names it in an
    /// error (`cart`, `replies[2]`).
    pub fn from_tree(tree: &Value, what: &str) -> Result<RenderedCart, AppError> {
        let mut cart: RenderedCart = crate::error::parse(tree, what)?;
        cart.channel = tree.get("channel").cloned();
        cart.shipping_options = tree.get("shippingOptions").cloned();
        cart.delivery_dynamic_fields = tree.get("deliveryDynamicFields").cloned();
        Ok(cart)
    }

    /// Whether shipping is chosen in Kustom's iframe for this cart's channel: the channel's
    /// `kustomUsesShippingAssistant` (absent or null: no). Anything but a boolean is refused:
    /// a mistyped registry value must not silently pick a mode.
    pub fn uses_shipping_assistant(&self) -> Result<bool, AppError> {
        match self
            .channel
            .as_ref()
            .and_then(|channel| channel.get("kustomUsesShippingAssistant"))
        {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(on)) => Ok(*on),
            Some(_) => Err(AppError::bad_input(
                "channel.kustomUsesShippingAssistant",
                "must be true or false",
            )),
        }
    }

    /// A text custom field (`fields.<key>`), if present and a non-empty string.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}
