//! Rule `cart-kustom-sync` on Commerce's `OnCartMutation`.
//!
//! Builds the Kustom update payload from the rendered cart and hashes it. When Kustom is not
//! known to hold exactly this payload, it records the hash as `kustomPendingHash` (the storefront
//! suspends the iframe while pending ≠ synced) together with the payload itself, and schedules
//! `syncKustomOrder` to push it. Nothing happens for a cart that is not open or has no Kustom
//! order yet.

use crate::cart::RenderedCart;
use crate::error::{parse, AppError};
use crate::fields::{self, dynamic_key};
use crate::hash::{payload_hash, short};
use crate::host::{
    finish, DynamicFields, Effect, Envelope, Interrupt, Json, Output, TicketCommand,
};
use crate::instant::Instant;
use crate::kustom::checked_order_id;
use crate::payload::{self, CartPayload};
use serde_json::{json, Map, Value};

pub use crate::jobs::{SyncJobParameters, SYNC_JOB as JOB_DEFINITION};
/// Written as the pending hash when the cart cannot be sent to Kustom: never equal to a synced
/// hash, so the storefront keeps the iframe suspended and nobody pays for a stale order.
pub const UNSYNCABLE_PREFIX: &str = "unsyncable:";

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Result<Output, Interrupt> {
    let envelope: Envelope = parse(input, "input")?;
    let now = Instant::parse(&envelope.now)?;
    let cart = RenderedCart::from_tree(input, "cart")?;

    if !payload::is_open(&cart) {
        return Ok(Output::done(
            vec![],
            vec![format!(
                "cart {} is {}: nothing to sync",
                cart.cart_id,
                cart.cart_state.as_str()
            )],
        ));
    }
    let Some(order_id) = cart.field(fields::ORDER_ID) else {
        return Ok(Output::done(
            vec![],
            vec![format!(
                "cart {} has no Kustom order yet: nothing to sync",
                cart.cart_id
            )],
        ));
    };
    let order_id = checked_order_id(order_id)?;
    let pending = cart.field(fields::PENDING_HASH);
    let synced = cart.field(fields::SYNC_HASH);

    let payload = match payload::build(&cart) {
        Ok(payload) => payload,
        Err(refusal) => return Ok(refuse(&cart, order_id, pending, refusal)),
    };
    let hash = payload_hash(&payload);

    // Converged on this exact payload: Kustom holds it and no other sync is in flight.
    // (Comparing with the synced hash alone is not enough: after A → B → A, a job for B is in
    // flight and would leave Kustom on B. Re-pending A makes that job stand down.)
    if synced == Some(hash.as_str()) && pending.is_none_or(|p| p == hash) {
        return Ok(Output::done(
            vec![],
            vec![format!(
                "cart {}: Kustom order {order_id} is up to date ({})",
                cart.cart_id,
                short(&hash)
            )],
        ));
    }

    let mut fields_to_set = DynamicFields::new();
    fields_to_set.insert(dynamic_key(fields::PENDING_HASH), json!(hash).into());
    // What validation compares Kustom's order with is the payload without `shipping_options`
    // (it checks the customer's choice against them apart): that part is what the recent list
    // names. Without options it is the payload, and its hash is the one just taken.
    let cart_part_hash = match payload.shipping_options {
        None => hash.clone(),
        Some(_) => payload_hash(&CartPayload {
            shipping_options: None,
            ..payload.clone()
        }),
    };
    fields_to_set.insert(
        dynamic_key(fields::RECENT_HASHES),
        json!(fields::recent_hashes_with(
            cart.field(fields::RECENT_HASHES),
            &cart_part_hash
        ))
        .into(),
    );
    fields_to_set.insert(fields::PENDING_PAYLOAD_KEY.into(), Json::Payload(payload));
    let parameters = SyncJobParameters {
        cart_id: cart.cart_id.clone(),
        kustom_order_id: order_id.to_string(),
        hash: hash.clone(),
        attempt: 0,
        reassert: false,
    };
    let effects = vec![
        Effect::TicketCommand(TicketCommand::SetDynamicFields {
            fields: fields_to_set,
        }),
        Effect::ScheduleJob {
            definition: JOB_DEFINITION.into(),
            parameters: json!(parameters).into(),
            at: now.to_iso(),
        },
    ];
    let log = vec![format!(
        "cart {}: payload {} differs from synced {}; scheduled {JOB_DEFINITION} for Kustom order {order_id}",
        cart.cart_id,
        short(&hash),
        synced.map(short).unwrap_or("(none)")
    )];
    Ok(Output::done(effects, log))
}

/// The cart cannot be represented as a Kustom order: keep the iframe suspended and say why on
/// the cart's activity log. This is a business outcome, not a broken app.
fn refuse(cart: &RenderedCart, order_id: &str, pending: Option<&str>, refusal: AppError) -> Output {
    let marker = format!("{UNSYNCABLE_PREFIX}{}", refusal.code);
    let message = format!(
        "cart {}: not sent to Kustom order {order_id}: {refusal}",
        cart.cart_id
    );
    if pending == Some(marker.as_str()) {
        return Output::done(vec![], vec![message]);
    }
    let mut fields_to_set = DynamicFields::new();
    fields_to_set.insert(dynamic_key(fields::PENDING_HASH), json!(marker).into());
    let mut dynamic = Map::new();
    dynamic.insert("code".into(), json!(refusal.code));
    dynamic.insert("message".into(), json!(refusal.message));
    dynamic.insert("kustomOrderId".into(), json!(order_id));
    Output::done(
        vec![
            Effect::TicketCommand(TicketCommand::SetDynamicFields {
                fields: fields_to_set,
            }),
            Effect::TicketCommand(TicketCommand::activity_log(
                "Kustom order {{kustomOrderId}} was not updated: {{code}}: {{message}}",
                dynamic,
            )),
        ],
        vec![message],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::json_text;

    /// The output prints the payload straight from its struct; the text must be what its tree
    /// prints, and what its hash is taken over.
    #[test]
    fn the_typed_payload_prints_as_its_tree() {
        let cart: RenderedCart = serde_json::from_value(json!({
            "cartId": "c \"1\"", "cartState": "open", "currencyCode": "SEK", "taxIncluded": true,
            "orderTotal": 272.9, "orderTaxTotal": 29.5, "shippingTotal": 49, "shippingTax": 9.8,
            "items": [{"productNumber": "A\\é", "quantity": 2, "unitPrice": 99.5, "total": 174.9,
                       "tax": 9.9, "discount": 24.1}, {"productNumber": "B", "quantity": 1,
                       "unitPrice": 49, "total": 49, "tax": 9.8}]
        }))
        .unwrap();
        let payload = payload::build(&cart).unwrap();
        let tree = json_text(&json!(payload));
        assert_eq!(
            serde_json::to_string(&Json::Payload(payload.clone())).unwrap(),
            tree
        );
        assert_eq!(payload_hash(&payload), crate::hash::hash_of(&payload));
    }
}
