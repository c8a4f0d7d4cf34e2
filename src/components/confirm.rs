//! Ingress `confirm`: `POST /ingress/commerce/carts/{cartId}/payment/kustom/confirm` → `{status}`.
//! Called by the storefront after Kustom redirects the customer to the confirmation URL; runs
//! the shared completion path (`completion.rs`). The storefront retries while `status` is not
//! `checkout_complete` (Kustom can redirect before its order is final).

use super::completion::{self, Completion};
use super::ingress::{answer, error_answer, error_answer_with, route_cart_facts};
use crate::error::{parse, Code};
use crate::fields;
use crate::host::{finish, Envelope, Output, Step, Steps};
use crate::settings::Settings;
use serde_json::{json, Value};

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    parse::<Envelope>(input, "input")?; // `now` and `replies` are there
    let settings = Settings::from_input(input)?;
    let mut steps = Steps::of_input(input, "ingresses/confirm")?;
    let cart = route_cart_facts(&mut steps, input)?;
    let Some(order_id) = cart.field(fields::ORDER_ID).map(str::to_string) else {
        let message = format!("cart {} has no Kustom order", cart.cart_id);
        return Ok(error_answer(409, Code::NoKustomOrder, message));
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
                error_answer_with(409, Code::AmountMismatch, message, record)
            }
            Completion::Refused {
                code,
                message,
                record,
            } => error_answer_with(409, code, message, record),
            Completion::OrderGone => error_answer(
                404,
                Code::KustomOrderNotFound,
                format!("Kustom does not know order {order_id}"),
            ),
            Completion::Unavailable { reason } => {
                error_answer(502, Code::KustomUnavailable, reason)
            }
        },
    )
}
