//! Ingress `confirm`: `POST /ingress/commerce/carts/{cartId}/payment/kustom/confirm` → `{status}`.
//! Called by the storefront after Kustom redirects the customer to the confirmation URL; runs
//! the shared completion path (`completion.rs`). The storefront retries while `status` is not
//! `checkout_complete` (Kustom can redirect before its order is final).

use super::checkout::{answer, error_answer, render_route_cart};
use super::completion::{self, Completion};
use crate::error::parse;
use crate::fields;
use crate::host::{finish, Envelope, Interrupt, Output, Steps};
use crate::settings::Settings;
use serde_json::{json, Value};

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Result<Output, Interrupt> {
    parse::<Envelope>(input, "input")?; // `now` and `replies` are there
    let settings = Settings::from_input(input)?;
    let Some(cart_id) = input["route"]["cartId"]
        .as_str()
        .filter(|id| !id.is_empty())
    else {
        return Ok(error_answer(
            400,
            "BAD_REQUEST",
            "the route has no cartId",
            vec![],
        ));
    };
    let mut steps = Steps::of_input(input);
    let cart = match render_route_cart(&mut steps, cart_id)? {
        Ok(cart) => cart,
        Err(not_found) => return Ok(not_found),
    };
    let Some(order_id) = cart.field(fields::ORDER_ID).map(str::to_string) else {
        return Ok(error_answer(
            409,
            "NO_KUSTOM_ORDER",
            format!("cart {cart_id} has no Kustom order"),
            vec![],
        ));
    };
    crate::kustom::checked_order_id(&order_id)?;

    Ok(
        match completion::complete(&mut steps, &settings, &cart, &order_id)? {
            Completion::Completed { log, .. } => {
                answer(200, json!({"status": "checkout_complete"}), vec![], log)
            }
            Completion::NotYet { status } => {
                let log = vec![format!(
                    "Kustom order {order_id} is {status}: not completing yet"
                )];
                answer(200, json!({"status": status}), vec![], log)
            }
            Completion::Mismatch { message, record } => {
                let content = json!({"error": {"code": "AMOUNT_MISMATCH", "message": message}});
                answer(
                    409,
                    content,
                    record,
                    vec![format!("409 AMOUNT_MISMATCH: {message}")],
                )
            }
            Completion::OrderGone => error_answer(
                404,
                "KUSTOM_ORDER_NOT_FOUND",
                format!("Kustom does not know order {order_id}"),
                vec![],
            ),
            Completion::Unavailable { reason } => {
                error_answer(502, "KUSTOM_UNAVAILABLE", reason, vec![])
            }
        },
    )
}
