//! Ingress `validate`: `POST /ingress/kustom/validate`, Kustom's server-side callback with the
//! full order just before the purchase completes (Kustom API reference §4).
//!
//! 1. Parse the order from the body; resolve the cart from `merchant_reference2` (the cart id),
//!    else `merchant_reference1` (orders created before it moved there).
//! 2. Built-in checks, each with its own code: the cart exists and is open; the order is the
//!    cart's current Kustom order; its currency, amounts and lines equal the payload the cart
//!    produces *now* (so nobody pays for a stale cart, e.g. one changed in another tab while
//!    the sync was in flight). The `shipping_fee` line Kustom adds for the shipping option the
//!    customer chose in the iframe is matched against that choice and set aside; with the
//!    channel's `kustomUsesShippingAssistant` a choice is required, and it must be one the cart
//!    offers at its price (docs/shipping.md).
//! 3. `triggerHook 'OnKustomValidation'`; the first `validationError` blocks the purchase.
//! 4. Answer 200 to approve, or 400 `{error_type, error_text}` to keep the customer in the
//!    checkout with `error_text` on screen.
//!
//! Input that cannot be verified (not JSON, no cart reference, unknown cart) is
//! **rejected**: an order nobody can match to a cart must not be paid for. Kustom's callbacks
//! are unsigned, so the body is never trusted for anything but a reason to say no; nothing is
//! written here.
//!
//! `error_type` must be one of the three values Kustom accepts. A merchant's `code` is passed on
//! when it is one of them and otherwise sent as `approval_failed`; the customer sees the
//! `message` (or a default text), and the original code is logged.

use crate::cart::RenderedCart;
use crate::error::parse;
use crate::error::Code;
use crate::fields;
use crate::fields::dynamic_key;
use crate::hash::payload_hash;
use crate::hash::short;
use crate::host::{
    finish, Call, DynamicFields, Effect, Envelope, Interrupt, Output, Rendered, Response, Step,
    Steps, TicketCommand,
};
use crate::instant::Instant;
use crate::jobs::{SyncJobParameters, SYNC_JOB};
use crate::kustom::CheckoutOrder;
use crate::payload;
use crate::retry::schedule_job;
use crate::shipping::{self, SelectedShipping};
use serde_json::{json, Map, Value};

pub const HOOK: &str = "OnKustomValidation";
/// The `error_type` values Kustom's callback API accepts.
pub const KUSTOM_ERROR_TYPES: [&str; 3] = [
    "address_error",
    "unsupported_shipping_address",
    "approval_failed",
];
const DEFAULT_ERROR_TYPE: &str = "approval_failed";

/// Why a purchase is blocked: the code for logs, the type and text Kustom shows.
struct Rejection {
    /// A built-in [`Code`], or the merchant rule's own code.
    code: String,
    error_type: String,
    customer_text: String,
    detail: String,
}

impl Rejection {
    fn builtin(code: Code, customer_text: &str, detail: String) -> Rejection {
        Rejection {
            code: code.as_str().into(),
            error_type: DEFAULT_ERROR_TYPE.into(),
            customer_text: customer_text.into(),
            detail,
        }
    }
}

const TEXT_UNVERIFIABLE: &str =
    "We could not verify your order. Please reload the checkout and try again.";
const TEXT_CART_CHANGED: &str =
    "Your cart changed while you were checking out. Please review your order and try again.";
const TEXT_ORDER_UPDATING: &str =
    "Your order is being updated. Please wait a moment and try again.";
const TEXT_SHIPPING_NOT_CHOSEN: &str = "Please choose a delivery option.";
const TEXT_NOT_OPEN: &str = "This cart has already been checked out or is no longer available.";
const TEXT_MERCHANT_DEFAULT: &str = "Your order could not be approved. Please review it.";

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let envelope: Envelope = parse(input, "input")?; // `now` and `replies` are there
    let now = Instant::parse(&envelope.now)?;
    let mut steps = Steps::replaying(input, "ingresses/validate");
    let approved = check(input.get("body").unwrap_or(&Value::Null), &mut steps, &now)?;
    Ok(respond(Ok(approved)))
}

/// The approval's log line; a rejection ends the step with its answer (`Interrupt::Finish`).
fn check(body: &Value, steps: &mut Steps, now: &Instant) -> Step<String> {
    let reject =
        |code, text, detail| Interrupt::from(respond(Err(Rejection::builtin(code, text, detail))));
    let order =
        read_order(body).map_err(|detail| reject(Code::BadRequest, TEXT_UNVERIFIABLE, detail))?;
    let order_id = order.order_id.clone().unwrap_or_default();
    let Some(cart_id) = order.cart_reference().filter(|id| is_uuid(id)) else {
        return Err(reject(
            Code::CartReferenceMissing,
            TEXT_UNVERIFIABLE,
            format!(
                "order {order_id}: merchant_reference2/1 {} is not a cart id",
                order.cart_reference().unwrap_or("(missing)")
            ),
        ));
    };

    let Some(Rendered { cart, raw }) = steps.render_cart(cart_id)? else {
        return Err(reject(
            Code::CartNotFound,
            TEXT_UNVERIFIABLE,
            format!("order {order_id}: cart {cart_id} not found"),
        ));
    };
    if !payload::is_open(&cart) {
        return Err(reject(
            Code::CartNotOpen,
            TEXT_NOT_OPEN,
            format!("cart {cart_id} is {}", cart.cart_state.as_str()),
        ));
    }
    // One cart, one payable order: an older order (replaced after it expired, open in another
    // tab) must not complete beside the current one.
    if cart.field(fields::ORDER_ID) != Some(order_id.as_str()) {
        return Err(reject(
            Code::OrderNotCurrent,
            TEXT_CART_CHANGED,
            format!(
                "order {order_id} is not cart {cart_id}'s current Kustom order {}",
                cart.field(fields::ORDER_ID).unwrap_or("(none)")
            ),
        ));
    }
    let mut expected = payload::build(&cart).map_err(|refusal| {
        reject(
            Code::CartNotPayable,
            TEXT_CART_CHANGED,
            format!("cart {cart_id} cannot be sent to Kustom: {refusal}"),
        )
    })?;
    let chosen =
        shipping::read_selected(order.selected_shipping_option.as_ref()).map_err(|why| {
            reject(
                Code::ShippingOptionUnknown,
                TEXT_CART_CHANGED,
                format!("order {order_id}: {why}"),
            )
        })?;
    // The options are checked against the choice below; the rest must be the cart exactly.
    let offered = expected.shipping_options.take();
    let received = order.merchant_part(chosen.as_ref());
    if received != expected {
        let held = payload_hash(&received);
        if let Some(behind) = kustom_behind(&cart, &held, &order_id, now) {
            return Err(behind.into());
        }
        return Err(reject(
            Code::CartChanged,
            TEXT_CART_CHANGED,
            format!(
                "order {order_id} holds {} {} in {} lines (payload {}), the cart now {} {} in {} lines (payload {})",
                received.purchase_currency,
                received.order_amount,
                received.order_lines.len(),
                short(&held),
                expected.purchase_currency,
                expected.order_amount,
                expected.order_lines.len(),
                short(&payload_hash(&expected)),
            ),
        ));
    }

    check_shipping(&cart, offered.as_deref(), chosen.as_ref()).map_err(
        |(code, text, detail)| reject(code, text, format!("order {order_id}: {detail}")),
    )?;

    let effects = steps.call(Call::TriggerHook {
        hook: HOOK.into(),
        input: hook_input(raw, cart_id, &order_id),
    })?;
    if let Some(rejection) = first_validation_error(effects) {
        return Err(respond(Err(rejection)).into());
    }
    let shipping = chosen.map_or(String::new(), |chosen| {
        format!(" + shipping {:?} {}", chosen.id, chosen.price)
    });
    Ok(format!(
        "order {order_id} for cart {cart_id} approved: {} {}{shipping}",
        expected.purchase_currency, expected.order_amount
    ))
}

/// Kustom holds an older payload of the app's own while the cart says Kustom is up to date (the
/// hashes met: no sync is on its way). A slow update that landed after a newer one leaves the
/// order so, and the shopper could never pay without changing the cart. Refuse this attempt,
/// re-assert the cart's newest payload (schedule the sync job) and clear `kustomSyncHash` so
/// that the storefront suspends the iframe until the job has pushed it and records it again.
///
/// Ours or foreign: the payload is one the rule made pending recently (its hash is in
/// `kustomRecentHashes`). A change the app never made (another system's update, a forged
/// callback) is refused as `CART_CHANGED` and re-asserts nothing.
fn kustom_behind(cart: &RenderedCart, held: &str, order_id: &str, now: &Instant) -> Option<Output> {
    let pending = cart.field(fields::PENDING_HASH)?;
    let ours = fields::is_recent(cart.field(fields::RECENT_HASHES), held);
    if !ours || held == pending || cart.field(fields::SYNC_HASH) != Some(pending) {
        return None;
    }
    let parameters = SyncJobParameters {
        attempt: 0,
        cart_id: cart.cart_id.clone(),
        hash: pending.to_string(),
        kustom_order_id: order_id.to_string(),
        reassert: true,
    };
    let mut cleared = DynamicFields::new();
    cleared.insert(dynamic_key(fields::SYNC_HASH), Value::Null.into());
    let rejection = Rejection::builtin(
        Code::KustomOrderBehind,
        TEXT_ORDER_UPDATING,
        format!(
            "order {order_id} holds the app's older payload {} although cart {} is synced at {}; re-asserting it",
            short(held),
            cart.cart_id,
            short(pending)
        ),
    );
    let effects = vec![
        TicketCommand::SetDynamicFields { fields: cleared }.to_ticket(&cart.cart_id),
        schedule_job(SYNC_JOB, &parameters, now),
    ];
    Some(respond_with(Err(rejection), effects))
}

/// The customer's choice of shipping, against what the cart offers: with shipping in the iframe
/// a choice is required (unless the cart offers `[]`: nothing to ship), and when the shop offers
/// its own carriers it must be one of them at the cart's price. Without the Shipping Assistant,
/// or with carriers from Kustom's TMS, Kustom's own choice stands (its line was matched above).
fn check_shipping(
    cart: &RenderedCart,
    offered: Option<&[Value]>,
    chosen: Option<&SelectedShipping>,
) -> Result<(), (Code, &'static str, String)> {
    match (chosen, offered) {
        (None, Some([])) => Ok(()),
        // `build` has read the mode already: it is a boolean here.
        (None, _) if cart.uses_shipping_assistant() == Ok(true) => Err((
            Code::ShippingNotChosen,
            TEXT_SHIPPING_NOT_CHOSEN,
            "no shipping option was chosen in Kustom's iframe".into(),
        )),
        (Some(chosen), Some(offered))
            if !offered.iter().any(|option| {
                option["id"] == chosen.id.as_str()
                    && option["price"] == chosen.price
                    && option["tax_amount"] == chosen.tax_amount
            }) =>
        {
            Err((
                Code::ShippingOptionUnknown,
                TEXT_CART_CHANGED,
                format!(
                    "the chosen shipping option {:?} at {} is not one the cart offers now",
                    chosen.id, chosen.price
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The body arrives raw (text) or already parsed, depending on the ingress's body mode.
fn read_order(body: &Value) -> Result<CheckoutOrder, String> {
    let parsed;
    let body = match body {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("the body is not JSON: {e}"))?;
            &parsed
        }
        other => other,
    };
    parse::<CheckoutOrder>(body, "body").map_err(|e| e.message)
}

/// The documented hook input (platform notes §3.8), from the rendered cart as Commerce gave it,
/// plus `cartId` and `kustomOrderId` for rules that want them.
fn hook_input(cart: &Value, cart_id: &str, order_id: &str) -> Value {
    const LINE: [(&str, &str); 7] = [
        ("productNumber", "productNumber"),
        ("description", "description"),
        ("quantity", "quantity"),
        ("reservedQuantity", "reservedQuantity"),
        ("unitPrice", "unitPrice"),
        ("salesTotal", "total"),
        ("taxTotal", "tax"),
    ];
    let lines: Vec<Value> = cart["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|item| Value::Object(copied(item, &LINE)))
        .collect();
    let same = |key| (key, key);
    let mut input = copied(
        cart,
        &[
            same("channelKey"),
            same("currencyCode"),
            same("locale"),
            same("taxIncluded"),
            same("orderTotal"),
            same("orderTaxTotal"),
        ],
    );
    input.insert("cartId".into(), cart_id.into());
    input.insert("kustomOrderId".into(), order_id.into());
    input.insert("orderLines".into(), Value::Array(lines));
    Value::Object(input)
}

/// `from`'s values under new names (`(to, from)`; `null` where absent). Built as maps rather
/// than with `json!`, which would print the 250-line list of lines into a second tree (a tenth
/// of the callback's time).
fn copied(from: &Value, names: &[(&str, &str)]) -> Map<String, Value> {
    let mut copy = Map::new();
    for (to, key) in names {
        copy.insert(
            to.to_string(),
            from.get(key).cloned().unwrap_or(Value::Null),
        );
    }
    copy
}

/// The first `validationError` among the hook's effects (others are not this hook's business).
fn first_validation_error(effects: &Value) -> Option<Rejection> {
    let list = match effects {
        Value::Array(list) => list.as_slice(),
        other => other["effects"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default(),
    };
    let error = list.iter().find(|e| e["effect"] == "validationError")?;
    let code = error["code"]
        .as_str()
        .unwrap_or(DEFAULT_ERROR_TYPE)
        .to_string();
    let message = error["message"].as_str().filter(|m| !m.trim().is_empty());
    let error_type = if KUSTOM_ERROR_TYPES.contains(&code.as_str()) {
        code.clone()
    } else {
        DEFAULT_ERROR_TYPE.to_string()
    };
    Some(Rejection {
        detail: format!(
            "merchant rule: {code}: {}",
            message.unwrap_or("(no message)")
        ),
        code,
        error_type,
        customer_text: message.unwrap_or(TEXT_MERCHANT_DEFAULT).to_string(),
    })
}

fn respond(outcome: Result<String, Rejection>) -> Output {
    respond_with(outcome, vec![])
}

/// The answer, with effects to apply beside it.
fn respond_with(outcome: Result<String, Rejection>, effects: Vec<Effect>) -> Output {
    match outcome {
        Ok(approved) => Output::Done {
            effects,
            response: Some(Response {
                status_code: 200,
                content: json!({}),
            }),
            log: vec![approved],
        },
        Err(rejection) => Output::Done {
            effects,
            response: Some(Response {
                status_code: 400,
                content: json!({
                    "error_type": rejection.error_type,
                    "error_text": rejection.customer_text,
                }),
            }),
            log: vec![format!(
                "rejected: {}: {}",
                rejection.code, rejection.detail
            )],
        },
    }
}

/// Hantera cart (ticket) ids are UUIDs: 8-4-4-4-12 hex digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_codes_map_onto_kustoms_error_types() {
        let reject = |effects: Value| first_validation_error(&effects).unwrap();
        let r = reject(
            json!([{"effect": "validationError", "code": "address_error", "message": "No PO boxes"}]),
        );
        assert_eq!(
            (r.error_type.as_str(), r.customer_text.as_str()),
            ("address_error", "No PO boxes")
        );
        let r = reject(
            json!([{"effect": "validationError", "code": "item_out_of_stock", "message": "Mug sold out"}]),
        );
        assert_eq!(
            (r.error_type.as_str(), r.code.as_str()),
            ("approval_failed", "item_out_of_stock")
        );
        let r = reject(
            json!({"effects": [{"effect": "custom", "type": "x"}, {"effect": "validationError", "code": "approval_failed", "message": null}]}),
        );
        assert_eq!(r.customer_text, TEXT_MERCHANT_DEFAULT);
        assert!(first_validation_error(&json!([{"effect": "custom"}])).is_none());
        assert!(first_validation_error(&json!([])).is_none());
    }

    #[test]
    fn cart_ids_must_be_uuids() {
        assert!(is_uuid("0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60"));
        for bad in [
            "",
            "C10042",
            "0b7c2f8e2a4d4f7e9a513c1d2e4f5a60",
            "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a6g",
            "../../x",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }
}
