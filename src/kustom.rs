//! Requests to Kustom's APIs as `http` calls, and what their replies mean
//! (Kustom API reference §2, §7, §8).

use crate::error::{AppError, Code};
use crate::host::{Call, HttpReply, Output, Step, Steps};
use crate::payload::{CartPayload, LineType, OrderLine};
use crate::settings::Settings;
use crate::shipping::{read_selected, SelectedShipping};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Client timeout for Checkout API calls. Kustom's own server-side limit is 30 s (then 504);
/// a request still running when we give up may yet be applied, see `Outcome::Transient`.
pub const CHECKOUT_TIMEOUT_MS: u32 = 10_000;
/// Kustom answers a Checkout request within this long or not at all (its 504).
pub const SERVER_TIMEOUT_SECONDS: i64 = 30;

const USER_AGENT: &str = concat!(
    "Library/kustom-hantera_",
    env!("CARGO_PKG_VERSION"),
    " Language/Rust"
);

/// `POST /checkout/v3/orders/{order_id}`: update an incomplete checkout order.
pub fn update_order(settings: &Settings, order_id: &str, body: Value) -> Result<Call, AppError> {
    Ok(Call::Http {
        method: "POST".into(),
        url: format!(
            "{}/checkout/v3/orders/{}",
            settings.api_base_url()?,
            checked_order_id(order_id)?
        ),
        headers: headers(settings)?,
        body: Some(body),
        timeout_ms: CHECKOUT_TIMEOUT_MS,
    })
}

/// `GET /checkout/v3/orders/{order_id}`.
pub fn read_checkout_order(settings: &Settings, order_id: &str) -> Result<Call, AppError> {
    Ok(Call::Http {
        method: "GET".into(),
        url: format!(
            "{}/checkout/v3/orders/{}",
            settings.api_base_url()?,
            checked_order_id(order_id)?
        ),
        headers: headers(settings)?,
        body: None,
        timeout_ms: CHECKOUT_TIMEOUT_MS,
    })
}

/// `POST /checkout/v3/orders`: create a checkout order (no idempotency key exists for this).
pub fn create_checkout_order(settings: &Settings, body: Value) -> Result<Call, AppError> {
    Ok(Call::Http {
        method: "POST".into(),
        url: format!("{}/checkout/v3/orders", settings.api_base_url()?),
        headers: headers(settings)?,
        body: Some(body),
        timeout_ms: CHECKOUT_TIMEOUT_MS,
    })
}

/// `POST /ordermanagement/v1/orders/{order_id}/acknowledge`: stops Kustom's push retries.
pub fn acknowledge(settings: &Settings, order_id: &str) -> Result<Call, AppError> {
    let key = idempotency_key(&["acknowledge", order_id]);
    om_post(settings, order_id, "/acknowledge", None, &key)
}

/// Kustom's limits on a capture (Order Management spec `CaptureObject`): `captured_amount`
/// and the length of `reference`.
pub const MAX_CAPTURED_AMOUNT: i64 = 200_000_000;
pub const MAX_REFERENCE_CHARS: usize = 255;
/// The largest amount Order Management takes in a capture or refund (its schema: 0..200 000 000).
pub const OM_MAX_AMOUNT: i64 = 200_000_000;

pub use crate::shipping::SHIPPING_METHODS;

/// The platform's tracking of a delivery, `[{shippingCompany, trackingNumber, trackingUri?,
/// shippingMethod?}]`, as Kustom's `shipping_info`. An entry Kustom would refuse (no carrier or
/// number, a field too long, an unknown method) is left out, with the reason — the capture must
/// not fail for its tracking. At most 500 entries (Kustom's limit).
pub fn shipping_info(entries: &Value) -> (Vec<Value>, Vec<String>) {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let Some(entries) = entries.as_array() else {
        if !entries.is_null() {
            dropped.push("shippingInfo is not a list: no tracking sent".to_string());
        }
        return (kept, dropped);
    };
    for (index, entry) in entries.iter().enumerate() {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::trim);
        let company = text("shippingCompany");
        let number = text("trackingNumber");
        let uri = text("trackingUri");
        let method = text("shippingMethod");
        let problem = if kept.len() >= 500 {
            Some("more than 500 entries")
        } else {
            shipping_info_problem(company, number, uri, method)
        };
        if let Some(problem) = problem {
            dropped.push(format!("shippingInfo[{index}] left out: {problem}"));
            continue;
        }
        let mut info = serde_json::Map::new();
        info.insert(
            "shipping_company".into(),
            company.unwrap_or_default().into(),
        );
        info.insert("tracking_number".into(), number.unwrap_or_default().into());
        if let Some(uri) = uri {
            info.insert("tracking_uri".into(), uri.into());
        }
        if let Some(method) = method {
            info.insert("shipping_method".into(), method.into());
        }
        kept.push(Value::Object(info));
    }
    (kept, dropped)
}

/// Why Kustom would refuse one `shipping_info` entry (§6.2: carrier and number 1–100
/// characters, a tracking URI of 1–1024, a method it knows), if it would: one rule for the
/// entries the capture rule builds and for those a job is handed.
fn shipping_info_problem(
    company: Option<&str>,
    number: Option<&str>,
    uri: Option<&str>,
    method: Option<&str>,
) -> Option<&'static str> {
    let fits = |value: &str, max: usize| !value.is_empty() && value.chars().count() <= max;
    if !(company.is_some_and(|c| fits(c, 100)) && number.is_some_and(|n| fits(n, 100))) {
        Some("shippingCompany and trackingNumber must be 1–100 characters")
    } else if uri.is_some_and(|u| !fits(u, 1024)) {
        Some("trackingUri is empty or longer than 1024 characters")
    } else if method.is_some_and(|m| !SHIPPING_METHODS.contains(&m)) {
        Some("shippingMethod is not one Kustom knows")
    } else {
        None
    }
}

/// `shipping_info` as a job's parameters carry it (Kustom's shape, made by [`shipping_info`] in
/// the rule): a job sends it only if Kustom takes all of it — the parameters are the host's to
/// keep, so they are checked again, never trusted.
pub fn checked_shipping_info(info: &Value) -> Result<(), AppError> {
    let entry_fits = |entry: &Value| {
        // Each field as text; a field that is there but is not text is `Some(None)`.
        let [company, number, uri, method] = [
            "shipping_company",
            "tracking_number",
            "tracking_uri",
            "shipping_method",
        ]
        .map(|key| entry.get(key).map(Value::as_str));
        let all_text = [company, number, uri, method]
            .iter()
            .all(|f| f.is_none_or(|t| t.is_some()));
        entry.is_object()
            && all_text
            && shipping_info_problem(
                company.flatten(),
                number.flatten(),
                uri.flatten(),
                method.flatten(),
            )
            .is_none()
    };
    let ok = info.as_array().is_some_and(|entries| {
        (1..=500).contains(&entries.len()) && entries.iter().all(entry_fits)
    });
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "shippingInfo",
            "is not a shipping_info Kustom takes (1–500 entries, carrier and number 1–100 characters)",
        ))
    }
}

/// Client timeout for Order Management calls (plugins use 10 s).
pub const OM_TIMEOUT_MS: u32 = 10_000;

/// `GET /ordermanagement/v1/orders/{order_id}`.
pub fn read_om_order(settings: &Settings, order_id: &str) -> Result<Call, AppError> {
    Ok(Call::Http {
        method: "GET".into(),
        url: om_url(settings, order_id, "")?,
        headers: headers(settings)?,
        body: None,
        timeout_ms: OM_TIMEOUT_MS,
    })
}

/// `POST /ordermanagement/v1/orders/{order_id}/captures` with an idempotency key: Kustom runs a
/// request once per key (for 24 h) and answers every retry with the first result.
pub fn create_capture(
    settings: &Settings,
    order_id: &str,
    body: Value,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_post(settings, order_id, "/captures", Some(body), idempotency_key)
}

/// `POST /ordermanagement/v1/orders/{order_id}/refunds` (`{refunded_amount, reference, …}`):
/// 201 with `Refund-Id` and `Location`.
pub fn create_refund(
    settings: &Settings,
    order_id: &str,
    body: Value,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_post(settings, order_id, "/refunds", Some(body), idempotency_key)
}

/// `POST /ordermanagement/v1/orders/{order_id}/captures/{capture_id}/shipping-info`
/// (`{shipping_info: […]}`): tracking added to a capture made without it.
pub fn add_capture_shipping_info(
    settings: &Settings,
    order_id: &str,
    capture_id: &str,
    body: Value,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    let capture_id = checked_order_id(capture_id)
        .map_err(|_| AppError::bad_input("capture_id", "not a Kustom capture id"))?;
    om_post(
        settings,
        order_id,
        &format!("/captures/{capture_id}/shipping-info"),
        Some(body),
        idempotency_key,
    )
}

/// `POST /ordermanagement/v1/orders/{order_id}/cancel`: only before any capture.
pub fn cancel_order(
    settings: &Settings,
    order_id: &str,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_post(settings, order_id, "/cancel", None, idempotency_key)
}

/// `POST /ordermanagement/v1/orders/{order_id}/release-remaining-authorization`.
pub fn release_remaining_authorization(
    settings: &Settings,
    order_id: &str,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_post(
        settings,
        order_id,
        "/release-remaining-authorization",
        None,
        idempotency_key,
    )
}

/// `POST /ordermanagement/v1/orders/{order_id}/extend-authorization-time` (28 more days).
pub fn extend_authorization(
    settings: &Settings,
    order_id: &str,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_post(
        settings,
        order_id,
        "/extend-authorization-time",
        None,
        idempotency_key,
    )
}

/// The longest `merchant_reference1` / `merchant_reference2` Order Management takes (its
/// `Update merchant references` schema: 0..255 characters).
pub const MAX_MERCHANT_REFERENCE_CHARS: usize = 255;

/// `PATCH /ordermanagement/v1/orders/{order_id}/merchant-references`
/// (`{merchant_reference1?, merchant_reference2?}`; a key that is present overwrites, one left
/// out is kept): 204.
pub fn update_merchant_references(
    settings: &Settings,
    order_id: &str,
    body: Value,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_write(
        "PATCH",
        settings,
        order_id,
        "/merchant-references",
        Some(body),
        idempotency_key,
    )
}

fn om_post(
    settings: &Settings,
    order_id: &str,
    path: &str,
    body: Option<Value>,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    om_write("POST", settings, order_id, path, body, idempotency_key)
}

/// A write to Order Management (POST or PATCH), with its idempotency key.
fn om_write(
    method: &str,
    settings: &Settings,
    order_id: &str,
    path: &str,
    body: Option<Value>,
    idempotency_key: &str,
) -> Result<Call, AppError> {
    let mut headers = headers(settings)?;
    headers.insert("Klarna-Idempotency-Key".into(), idempotency_key.into());
    Ok(Call::Http {
        method: method.into(),
        url: om_url(settings, order_id, path)?,
        headers,
        body,
        timeout_ms: OM_TIMEOUT_MS,
    })
}

fn om_url(settings: &Settings, order_id: &str, path: &str) -> Result<String, AppError> {
    Ok(format!(
        "{}/ordermanagement/v1/orders/{}{path}",
        settings.api_base_url()?,
        checked_order_id(order_id)?
    ))
}

/// A `Klarna-Idempotency-Key` derived from the logical operation (never random: a retried job
/// must send the same key). UUID-shaped: the first 128 bits of SHA-256 over the parts, with the
/// version nibble set to 8 ("custom", RFC 9562) and the RFC 4122 variant bits.
pub fn idempotency_key(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]); // separator: ("ab","c") ≠ ("a","bc")
    }
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize()[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An Order Management order (`GET …/orders/{id}`): what the capture job decides on.
#[derive(Clone, Debug, Deserialize)]
pub struct OmOrder {
    pub status: String,
    #[serde(default)]
    pub order_amount: i64,
    #[serde(default)]
    pub fraud_status: Option<String>,
    pub purchase_currency: String,
    /// Absent reads as nothing left (a capture is then refused, never sent).
    #[serde(default)]
    pub remaining_authorized_amount: i64,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub captures: Vec<OmCapture>,
    #[serde(default)]
    pub captured_amount: i64,
    #[serde(default)]
    pub refunded_amount: i64,
    #[serde(default)]
    pub refunds: Vec<OmRefund>,
    /// The customer's addresses (§6.2), read liberally: see `customer.rs`.
    #[serde(default)]
    pub billing_address: Option<Value>,
    #[serde(default)]
    pub shipping_address: Option<Value>,
}

/// An Order Management order as the order-number job reads it: its status and merchant
/// references only (a struct of its own, so that the other jobs' modules do not grow).
#[derive(Clone, Debug, Deserialize)]
pub struct OmReferences {
    pub status: String,
    /// The order number Kustom shows the customer: the platform's, once `setKustomOrderNumber`
    /// ran; the cart id for orders from before the cart id moved to reference 2.
    #[serde(default)]
    pub merchant_reference1: Option<String>,
    /// The cart id, for orders created since it moved there.
    #[serde(default)]
    pub merchant_reference2: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OmRefund {
    #[serde(default)]
    pub refund_id: Option<String>,
    pub refunded_amount: i64,
    #[serde(default)]
    pub reference: Option<String>,
}

/// Reads the Order Management order for a job, as `T` ([`OmOrder`], or [`OmReferences`]).
/// Anything but a readable order ends the run (`Interrupt::Finish`): a transient failure with
/// `retry(reason)`, an unreadable answer or any other failure with `stop(code, why)`. The
/// capture, refund, release and order-number jobs share it.
pub fn read_om_order_or_end<T: serde::de::DeserializeOwned>(
    steps: &mut Steps,
    settings: &Settings,
    order_id: &str,
    retry: impl FnOnce(&str) -> Output,
    stop: impl FnOnce(Code, &str) -> Output,
) -> Step<T> {
    let reply = steps.http(read_om_order(settings, order_id)?)?;
    let ended = match classify(&reply) {
        Outcome::Success(body) => match crate::error::parse(&body, "Kustom order") {
            Ok(order) => return Ok(order),
            Err(error) => stop(Code::KustomReplyUnreadable, &error.message),
        },
        Outcome::Transient { reason, .. } => retry(&reason),
        failed => {
            let (code, why) = failed.failure();
            stop(code, &why)
        }
    };
    Err(ended.into())
}

/// What reading a Kustom order gave, kept as [`summary_only`] keeps it.
pub enum SummaryRead {
    Order(Box<OrderSummary>),
    /// 2xx, but not an order.
    Unreadable(AppError),
    NotFound,
    /// Any other failure: its code and text ([`Outcome::failure`]).
    Failed(Code, String),
}

/// Reads a Kustom order (Checkout API or Order Management) as its summary: the step and every
/// later one know the order by [`summary_only`]'s part of the reply alone.
pub fn read_summary(steps: &mut Steps, call: Call) -> Step<SummaryRead> {
    let kept = steps.learn(call, summary_only)?;
    let reply = HttpReply::of(&kept, "the http reply")?;
    Ok(match classify(&reply) {
        Outcome::Success(body) => match crate::error::parse(&body, "Kustom order") {
            Ok(order) => SummaryRead::Order(Box::new(order)),
            Err(error) => SummaryRead::Unreadable(error),
        },
        Outcome::NotFound => SummaryRead::NotFound,
        failed => {
            let (code, why) = failed.failure();
            SummaryRead::Failed(code, why)
        }
    })
}

/// The id of what a 201 created: its `<name>` header (`Capture-Id`, `Refund-Id`), else the last
/// segment of `Location`, else `<field>` in the body (some deployments answer with a body).
pub fn created_id(reply: &HttpReply, header: &str, field: &str) -> Option<String> {
    let from_location = || {
        reply
            .header("Location")
            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
    };
    let body = reply.json_body();
    reply
        .header(header)
        .or_else(from_location)
        .map(str::to_string)
        .or_else(|| match &*body {
            Value::Object(map) => map.get(field).and_then(Value::as_str).map(str::to_string),
            Value::String(text) => Some(text.trim().to_string()),
            _ => None,
        })
        .filter(|id| !id.is_empty() && id.len() <= 255)
}

#[derive(Clone, Debug, Deserialize)]
pub struct OmCapture {
    pub capture_id: String,
    pub captured_amount: i64,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub shipping_info: Vec<Value>,
}

fn headers(settings: &Settings) -> Result<BTreeMap<String, String>, AppError> {
    // Inserted one by one: `BTreeMap::from([…])` sorts its array first, which links a stable
    // sort for these pairs into every module that calls Kustom.
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".to_string(), settings.authorization()?);
    headers.insert("Content-Type".to_string(), "application/json".to_string());
    headers.insert("Accept".to_string(), "application/json".to_string());
    headers.insert("User-Agent".to_string(), USER_AGENT.to_string());
    Ok(headers)
}

/// Kustom order ids are UUID-shaped; anything else must not be spliced into a URL path.
pub fn checked_order_id(order_id: &str) -> Result<&str, AppError> {
    let ok = !order_id.is_empty()
        && order_id.len() <= 255
        && order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(order_id)
    } else {
        Err(AppError::bad_input(
            "kustomOrderId",
            format!("{order_id:?} is not a Kustom order id"),
        ))
    }
}

/// A checkout order as Kustom sends it (the validation callback's body, or a read): only the
/// fields the app compares with its own payload. Unknown fields are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct CheckoutOrder {
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The checkout iframe while incomplete; the confirmation iframe once complete.
    #[serde(default)]
    pub html_snippet: Option<String>,
    #[serde(default)]
    pub merchant_reference1: Option<String>,
    /// The cart id, for orders created since issue 10 (`merchant_reference1` is to become the
    /// merchant's order number); see [`CheckoutOrder::cart_reference`].
    #[serde(default)]
    pub merchant_reference2: Option<String>,
    pub purchase_currency: String,
    pub order_amount: i64,
    pub order_tax_amount: i64,
    pub order_lines: Vec<ReceivedLine>,
    /// `ACCEPTED`, `PENDING` or `REJECTED` once the order is complete (§4).
    #[serde(default)]
    pub fraud_status: Option<String>,
    /// The customer's addresses (§2.6), read liberally: see `customer.rs`.
    #[serde(default)]
    pub billing_address: Option<Value>,
    #[serde(default)]
    pub shipping_address: Option<Value>,
    /// The option the customer chose in the iframe, read by `shipping::read_selected`.
    #[serde(default)]
    pub selected_shipping_option: Option<Value>,
    /// The options the merchant sent (§2.7), as Kustom echoes them: kept as a tree, read only
    /// by [`CheckoutOrder::held_payload`], so that no echo can make an order unreadable.
    #[serde(default)]
    pub shipping_options: Option<Value>,
}

/// What the completion path decides on, read liberally from a Checkout API order — or an Order
/// Management one, whose fields of the same names mean the same (its `status` is OM's) — its
/// status, amount and currency, fraud status, the cart it names, the customer's addresses and
/// the chosen shipping option as trees (`customer.rs`, `shipping.rs` read them liberally). Not
/// the lines, whose types Kustom extends (`digital`, `store_credit`, …), so nothing else can
/// make a paid order unreadable.
#[derive(Clone, Debug, Deserialize)]
pub struct OrderSummary {
    #[serde(default)]
    pub status: Option<String>,
    pub purchase_currency: String,
    pub order_amount: i64,
    #[serde(default)]
    pub fraud_status: Option<String>,
    #[serde(default)]
    pub merchant_reference1: Option<String>,
    #[serde(default)]
    pub merchant_reference2: Option<String>,
    #[serde(default)]
    pub billing_address: Option<Value>,
    #[serde(default)]
    pub shipping_address: Option<Value>,
    #[serde(default)]
    pub selected_shipping_option: Option<Value>,
}

/// The keys [`OrderSummary`] reads: all a step keeps of an order it read.
const SUMMARY_KEYS: [&str; 9] = [
    "status",
    "purchase_currency",
    "order_amount",
    "fraud_status",
    "merchant_reference1",
    "merchant_reference2",
    "billing_address",
    "shipping_address",
    "selected_shipping_option",
];

/// An HTTP reply with a Kustom order, as a step keeps it (a [`crate::host::Reduce`]): status,
/// headers and transport error, and of a 2xx body only what [`OrderSummary`] reads — never the
/// order lines or the snippet, which were most of the bytes of every later step. A body that
/// is not an object (text, an empty body) is kept as it came; so is a failure's.
pub fn summary_only(reply: &Value) -> Value {
    let mut kept = Map::new();
    for key in ["status", "headers", "error"] {
        if let Some(value) = reply.get(key) {
            kept.insert(key.into(), value.clone());
        }
    }
    let succeeded = reply
        .get("status")
        .and_then(Value::as_u64)
        .is_some_and(|status| (200..300).contains(&status));
    if let Some(body) = reply.get("body") {
        let summary = match body {
            Value::Object(order) if succeeded => {
                // Inserted one by one: collecting into a map links a sort (4 KB of wasm).
                let mut summary = Map::new();
                for key in SUMMARY_KEYS {
                    if let Some(value) = order.get(key) {
                        summary.insert(key.into(), value.clone());
                    }
                }
                Value::Object(summary)
            }
            // A body given as text is kept whole (read when classified, as any reply's).
            other => other.clone(),
        };
        kept.insert("body".into(), summary);
    }
    Value::Object(kept)
}

impl OrderSummary {
    /// The cart the order was created for: `merchant_reference2` (orders created since the
    /// cart id moved there), else `merchant_reference1` (older orders, where it is the cart id).
    pub fn cart_reference(&self) -> Option<&str> {
        cart_reference(
            self.merchant_reference2.as_deref(),
            self.merchant_reference1.as_deref(),
        )
    }
}

/// `merchant_reference2` when it is a cart id (the app puts the cart id there), else
/// `merchant_reference1` (orders from before that; a merchant's own value in reference 2 does not
/// hide the cart).
fn cart_reference<'a>(second: Option<&'a str>, first: Option<&'a str>) -> Option<&'a str> {
    second.filter(|r| is_cart_id(r)).or(first)
}

/// Hantera cart (ticket) ids are UUIDs: 8-4-4-4-12 hex digits.
pub fn is_cart_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An order line as Kustom echoes it: the fields the app sends, with Kustom's defaults for the
/// optional ones (`type` physical, `total_discount_amount` 0).
#[derive(Clone, Debug, Deserialize)]
pub struct ReceivedLine {
    #[serde(default, rename = "type")]
    pub kind: Option<LineType>,
    #[serde(default)]
    pub reference: Option<String>,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub tax_rate: i64,
    pub total_amount: i64,
    #[serde(default)]
    pub total_discount_amount: i64,
    pub total_tax_amount: i64,
}

impl CheckoutOrder {
    /// The cart the order was created for: `merchant_reference2` (orders created since the
    /// cart id moved there), else `merchant_reference1` (older orders, where it is the cart id).
    pub fn cart_reference(&self) -> Option<&str> {
        cart_reference(
            self.merchant_reference2.as_deref(),
            self.merchant_reference1.as_deref(),
        )
    }

    /// Kustom's order without the `shipping_fee` line it adds for the option the customer chose
    /// (§2.7): what is left is the merchant's part, which must be the cart. A line that does not
    /// match the choice exactly stays, and so makes the order differ from the cart.
    pub fn merchant_part(&self, chosen: Option<&SelectedShipping>) -> CartPayload {
        let mut part = self.cart_payload();
        let Some(chosen) = chosen else {
            return part;
        };
        let is_the_choice = |line: &OrderLine| {
            line.kind == LineType::ShippingFee
                && line.reference == chosen.id
                && line.quantity == 1
                && line.total_amount == chosen.price
                && line.total_tax_amount == chosen.tax_amount
        };
        if let Some(index) = part.order_lines.iter().rposition(is_the_choice) {
            let line = part.order_lines.remove(index);
            part.order_amount = part.order_amount.saturating_sub(line.total_amount);
            part.order_tax_amount = part.order_tax_amount.saturating_sub(line.total_tax_amount);
        }
        part
    }

    /// The app's payload as Kustom holds it: the merchant's part, with the `shipping_options` it
    /// echoes. Its hash equals the cart's when Kustom is up to date, also once the customer chose
    /// a shipping option in the iframe; an echo that does not read as the app's own options only
    /// makes the caller push the cart again.
    pub fn held_payload(&self) -> CartPayload {
        let chosen = read_selected(self.selected_shipping_option.as_ref())
            .ok()
            .flatten();
        let mut held = self.merchant_part(chosen.as_ref());
        held.shipping_options = self
            .shipping_options
            .as_ref()
            .and_then(|options| options.as_array().cloned());
        held
    }

    /// The order's cart part in the app's own payload shape, to compare with what the cart
    /// would produce now.
    pub fn cart_payload(&self) -> CartPayload {
        CartPayload {
            purchase_currency: self.purchase_currency.to_ascii_uppercase(),
            order_amount: self.order_amount,
            order_tax_amount: self.order_tax_amount,
            order_lines: self
                .order_lines
                .iter()
                .map(|line| OrderLine {
                    kind: line.kind.unwrap_or(LineType::Physical),
                    reference: line.reference.clone().unwrap_or_default(),
                    name: line.name.clone(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    tax_rate: line.tax_rate,
                    total_amount: line.total_amount,
                    total_discount_amount: line.total_discount_amount,
                    total_tax_amount: line.total_tax_amount,
                })
                .collect(),
            shipping_options: None,
        }
    }
}

/// What a Checkout API reply means for the caller.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// 2xx, with the (parsed) body.
    Success(Cow<'a, Value>),
    /// 403 `READ_ONLY_ORDER`: the customer completed the purchase; the order can't change.
    ReadOnly,
    /// 404 (often with an empty body): the order expired (48 h) or never existed.
    NotFound,
    /// Worth retrying later: 5xx, 429, timeout, network. `applied_maybe` is true when the
    /// request may still have been applied (timeout, 5xx).
    Transient { reason: String, applied_maybe: bool },
    /// Any other refusal: retrying the same request cannot help.
    Permanent(ApiError),
}

impl Outcome<'_> {
    /// A failed call as the code and text an answer or a log gives it.
    pub fn failure(&self) -> (Code, String) {
        match self {
            Outcome::Success(_) => (Code::Internal, "a success is not a failure".into()),
            Outcome::NotFound => (
                Code::KustomOrderNotFound,
                "Kustom does not know the order (expired or gone)".into(),
            ),
            Outcome::ReadOnly => (
                Code::KustomRefused,
                "refused: the order is read-only (complete)".into(),
            ),
            Outcome::Transient { reason, .. } => (Code::KustomUnavailable, reason.clone()),
            Outcome::Permanent(error) => (Code::KustomRefused, error.summary()),
        }
    }
}

/// Kustom's error body `{error_code, error_messages, correlation_id}` with the status.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: Option<String>,
    pub messages: Vec<String>,
    pub correlation_id: Option<String>,
}

impl ApiError {
    fn from_body(status: u16, body: &Value) -> ApiError {
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        let messages = match body.get("error_messages") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => text("error_message").into_iter().collect(),
        };
        ApiError {
            status,
            code: text("error_code"),
            messages,
            correlation_id: text("correlation_id"),
        }
    }

    pub fn summary(&self) -> String {
        let mut out = format!("HTTP {}", self.status);
        if let Some(code) = &self.code {
            out.push_str(&format!(" {code}"));
        }
        if !self.messages.is_empty() {
            out.push_str(&format!(": {}", self.messages.join("; ")));
        }
        if let Some(id) = &self.correlation_id {
            out.push_str(&format!(" (correlation_id {id})"));
        }
        out
    }
}

pub fn classify<'a>(reply: &HttpReply<'a>) -> Outcome<'a> {
    let status = match reply {
        HttpReply::Failed { error } => {
            return Outcome::Transient {
                reason: format!("{}: {}", error.kind, error.message)
                    .trim_end_matches([':', ' '])
                    .to_string(),
                // A network error before sending is safe; a timeout is not known to be.
                applied_maybe: error.kind != "network",
            };
        }
        HttpReply::Response { status, .. } => *status,
    };
    let body = reply.json_body();
    let error = ApiError::from_body(status, &body);
    match status {
        200..=299 => Outcome::Success(body),
        403 if error.code.as_deref() == Some("READ_ONLY_ORDER") => Outcome::ReadOnly,
        404 => Outcome::NotFound,
        429 => Outcome::Transient {
            reason: error.summary(),
            applied_maybe: false,
        },
        500..=599 => Outcome::Transient {
            reason: error.summary(),
            applied_maybe: true,
        },
        _ => Outcome::Permanent(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A reply as the host gives it (leaked: a test's replies live as long as the test).
    fn reply(value: Value) -> HttpReply<'static> {
        HttpReply::of(Box::leak(Box::new(value)), "reply").unwrap()
    }

    #[test]
    fn classifies_kustom_answers() {
        assert_eq!(
            classify(&reply(json!({"status": 200, "body": {"order_id": "x"}}))),
            Outcome::Success(Cow::Owned(json!({"order_id": "x"})))
        );
        assert_eq!(
            classify(&reply(
                json!({"status": 403, "body": "{\"error_code\":\"READ_ONLY_ORDER\",\"error_messages\":[\"Resource is read-only\"]}"})
            )),
            Outcome::ReadOnly
        );
        assert_eq!(
            classify(&reply(json!({"status": 404, "body": ""}))),
            Outcome::NotFound
        );
        assert!(matches!(
            classify(&reply(json!({"status": 503, "body": "<html>busy</html>"}))),
            Outcome::Transient {
                applied_maybe: true,
                ..
            }
        ));
        assert!(matches!(
            classify(&reply(json!({"status": 429}))),
            Outcome::Transient {
                applied_maybe: false,
                ..
            }
        ));
        assert!(matches!(
            classify(&reply(json!({"error": {"kind": "timeout"}}))),
            Outcome::Transient {
                applied_maybe: true,
                ..
            }
        ));
        assert!(matches!(
            classify(&reply(
                json!({"error": {"kind": "network", "message": "refused"}})
            )),
            Outcome::Transient {
                applied_maybe: false,
                ..
            }
        ));
        let Outcome::Permanent(err) = classify(&reply(json!({"status": 400, "body": {
            "error_code": "BAD_VALUE", "error_messages": ["Bad value: order_lines[0].total_tax_amount"],
            "correlation_id": "1b4c6bfa"}})))
        else {
            panic!("400 is permanent")
        };
        assert_eq!(err.summary(), "HTTP 400 BAD_VALUE: Bad value: order_lines[0].total_tax_amount (correlation_id 1b4c6bfa)");
        // 403 without READ_ONLY_ORDER (e.g. merchant inactive) is not "already complete"
        assert!(matches!(
            classify(&reply(
                json!({"status": 403, "body": {"error_code": "MERCHANT_INACTIVE"}})
            )),
            Outcome::Permanent(_)
        ));
    }

    #[test]
    fn idempotency_keys_are_stable_uuid_shaped_and_distinct() {
        let key = idempotency_key(&["capture", "8cf27b55", "cap-1", "94080"]);
        assert_eq!(
            key,
            idempotency_key(&["capture", "8cf27b55", "cap-1", "94080"])
        );
        assert_eq!(key.len(), 36);
        assert_eq!((&key[14..15], &key[8..9]), ("8", "-"));
        assert!(matches!(&key[19..20], "8" | "9" | "a" | "b"), "{key}");
        assert_ne!(
            key,
            idempotency_key(&["capture", "8cf27b55", "cap-1", "94081"])
        );
        assert_ne!(idempotency_key(&["ab", "c"]), idempotency_key(&["a", "bc"]));
    }

    #[test]
    fn the_cart_reference_is_merchant_reference2_else_1() {
        let order = |refs: Value| {
            let mut body = json!({"purchase_currency": "SEK", "order_amount": 0,
                "order_tax_amount": 0, "order_lines": []});
            body.as_object_mut()
                .unwrap()
                .extend(refs.as_object().unwrap().clone());
            serde_json::from_value::<CheckoutOrder>(body).unwrap()
        };
        let (a, b) = (
            "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60",
            "1c8d3f9f-3b5e-4f8f-8b62-4d2e3f5a6b71",
        );
        let new = order(json!({"merchant_reference1": "100042", "merchant_reference2": a}));
        assert_eq!(new.cart_reference(), Some(a));
        let old = order(json!({"merchant_reference1": b}));
        assert_eq!(old.cart_reference(), Some(b), "orders from before the move");
        // A merchant's own value in reference 2 (Klarna's SDK examples have one) does not hide
        // the cart named in reference 1.
        let theirs = order(json!({"merchant_reference1": b, "merchant_reference2": "45aa52f3"}));
        assert_eq!(theirs.cart_reference(), Some(b));
        let blank = order(json!({"merchant_reference1": "cart-c", "merchant_reference2": ""}));
        assert_eq!(blank.cart_reference(), Some("cart-c"));
        assert_eq!(order(json!({})).cart_reference(), None);
    }

    #[test]
    fn shipping_info_from_a_jobs_parameters_is_checked_again() {
        let (made, _) = shipping_info(
            &json!([{"shippingCompany": "PostNord", "trackingNumber": "0037",
            "trackingUri": "https://t.example/0037", "shippingMethod": "PickUpPoint"}]),
        );
        assert!(checked_shipping_info(&Value::Array(made)).is_ok());
        for bad in [
            json!("0b7c2f8e"),
            json!([]),
            json!([{"shipping_company": "PostNord"}]),
            json!([{"shipping_company": "PostNord", "tracking_number": ""}]),
            json!([{"shipping_company": "P", "tracking_number": "1", "shipping_method": "Drone"}]),
            json!([{"shipping_company": "P", "tracking_number": "1".repeat(101)}]),
            json!([{"shipping_company": "P", "tracking_number": "1", "tracking_uri": 7}]),
            json!([{"shipping_company": "P", "tracking_number": "1", "tracking_uri": ""}]),
            json!([{"shipping_company": "P", "tracking_number": "1", "shipping_method": null}]),
            json!([{"shipping_company": "P", "tracking_number": 1}]),
            json!([7]),
        ] {
            assert!(checked_shipping_info(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn order_ids_are_checked_before_they_reach_a_url() {
        assert!(checked_order_id("8cf27b55-53e8-6aba-9fb4-7c692e56ddee").is_ok());
        for bad in ["", "../admin", "a/b", "x?y=1", "a b"] {
            assert_eq!(checked_order_id(bad).unwrap_err().code, "BAD_INPUT");
        }
    }
}
