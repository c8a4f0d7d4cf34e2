//! Ingress `notification`: `POST /ingress/kustom/notification?kustom_order_id=…`, Kustom's
//! pending-order notification (`merchant_urls.notification`, Kustom API reference §5.4): the
//! outcome of a fraud review, `{order_id, event_type: FRAUD_RISK_ACCEPTED | FRAUD_RISK_REJECTED
//! | FRAUD_RISK_STOPPED}`.
//!
//! The body is never believed (Kustom's callbacks are unsigned): only an order id is taken from
//! the request (the query, else the body), and the order is read from Order Management with the
//! app's credentials. What OM says decides, with the completion path's own rule
//! (`completion::order_state`):
//! - paid and fraud `ACCEPTED` → the payment's authorization becomes `successful`;
//! - fraud `REJECTED`, or the order `CANCELLED`/`EXPIRED`/`CLOSED` → `failed`, logged on the
//!   payment (the merchant must not ship);
//! - still `PENDING` → nothing changes.
//!
//! A `failed` authorization is never made `successful` again (a notification never revives an
//! order). No payment yet (the customer's confirm and Kustom's push have not run): 503
//! `NOT_COMPLETE`, nothing written; the completion path reads the fraud status itself when it
//! creates the payment. The answer is 200 when the work is done or there is none, 503 when
//! Kustom or the platform could not be reached (Kustom may send it again), 400 for a request
//! without an order id.

use super::completion::{find_payment, order_state, OrderState};
use super::ingress::{answer, error_answer};
use crate::error::{parse, Code};
use crate::host::{finish, Effect, Envelope, Output, Step, Steps, TicketCommand};
use crate::kustom::{self, OmOrder, Outcome};
use crate::payment::{self, parse_payment};
use crate::settings::Settings;
use serde_json::{json, Map, Value};

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    parse::<Envelope>(input, "input")?; // `now` and `replies` are there
    let settings = Settings::from_input(input)?;
    let Some(order_id) = order_id(input) else {
        let message = "kustom_order_id is missing or not an order id";
        return Ok(error_answer(400, Code::BadRequest, message));
    };
    let mut steps = Steps::replaying(input, "ingresses/notification");

    let reply = steps.http(kustom::read_om_order(&settings, &order_id)?)?;
    let order: OmOrder = match kustom::classify(&reply) {
        Outcome::Success(body) => parse(&body, "Kustom order")?,
        Outcome::NotFound => {
            let message = format!("Kustom does not know order {order_id}");
            return Ok(error_answer(404, Code::KustomOrderNotFound, message));
        }
        failed => {
            let (code, reason) = failed.failure();
            return Ok(error_answer(503, code, reason));
        }
    };
    let target = match order_state(Some(&order.status), order.fraud_status.as_deref()) {
        OrderState::Paid { pending: true } | OrderState::NotYet => {
            let log = vec![format!(
                "Kustom order {order_id} is still in fraud review: nothing to change"
            )];
            return Ok(answer(200, json!({"status": "pending"}), vec![], log));
        }
        OrderState::Paid { pending: false } => "successful",
        OrderState::Ended { .. } => "failed",
        OrderState::Unknown(status) => {
            let message =
                format!("Kustom order {order_id} has a status the app does not know ({status})");
            return Ok(error_answer(503, Code::KustomUnavailable, message));
        }
    };

    let Some(payment_id) = find_payment(&mut steps, &order_id)? else {
        // Not completed here yet: the completion path reads the fraud status when it creates the
        // payment; a 503 asks a sender that retries to come back (one racing the completion
        // then finds the payment).
        let message = format!("no payment for Kustom order {order_id} yet: try again later");
        return Ok(error_answer(503, Code::NotComplete, message));
    };
    let record = match parse_payment(steps.actor(payment::read_authorizations(&payment_id))?) {
        Ok(Some(record)) => record,
        Ok(None) => {
            let message = format!("payment {payment_id} could not be read");
            return Ok(error_answer(503, Code::HostError, message));
        }
        Err(error) => return Ok(error_answer(503, Code::HostError, error.message)),
    };
    let current = record
        .authorizations
        .iter()
        .find(|a| a.authorization_number.as_deref() == Some(order_id.as_str()))
        .and_then(|a| a.authorization_state.as_deref());
    let log_line = |text: String| vec![text];
    match (current, target) {
        (None, _) => {
            let message = format!("payment {payment_id} has no authorization {order_id}");
            Ok(error_answer(409, Code::HostError, message))
        }
        (Some(now), _) if now == target => Ok(answer(
            200,
            json!({"status": target}),
            vec![],
            log_line(format!(
                "authorization {order_id} on payment {payment_id} is already {target}"
            )),
        )),
        (Some("failed"), "successful") => Ok(answer(
            200,
            json!({"status": "failed"}),
            vec![],
            log_line(format!(
                "authorization {order_id} on payment {payment_id} failed before: never revived"
            )),
        )),
        (Some(now), _) => {
            let mut effects = vec![Effect::MessageActor {
                actor_type: "payment".into(),
                actor_id: payment_id.clone(),
                message_type: "applyCommands".into(),
                body: json!({"commands": [payment::set_authorization_state(&order_id, target)]}),
            }];
            if target == "failed" {
                let mut dynamic = Map::new();
                dynamic.insert("kustomOrderId".into(), json!(order_id));
                dynamic.insert("status".into(), json!(order.status));
                dynamic.insert(
                    "fraudStatus".into(),
                    json!(order
                        .fraud_status
                        .as_deref()
                        .unwrap_or("none")
                        .chars()
                        .take(40)
                        .collect::<String>()),
                );
                effects.push(
                    TicketCommand::activity_log(
                        "Kustom order {{kustomOrderId}} is not paid (status {{status}}, fraud status {{fraudStatus}}): its authorization failed. Do not ship.",
                        dynamic,
                    )
                    .to_actor("payment", &payment_id),
                );
            }
            Ok(answer(
                200,
                json!({"status": target}),
                effects,
                log_line(format!(
                    "authorization {order_id} on payment {payment_id}: {now} → {target}"
                )),
            ))
        }
    }
}

/// The order id from the query (`kustom_order_id`), else the body's `order_id` (raw text or
/// parsed); only a well-formed order id.
fn order_id(input: &Value) -> Option<String> {
    let from_query = input["query"]["kustom_order_id"]
        .as_str()
        .map(str::to_string);
    let from_body = || {
        let body = match &input["body"] {
            Value::String(text) => serde_json::from_str::<Value>(text).ok()?,
            other => other.clone(),
        };
        body["order_id"].as_str().map(str::to_string)
    };
    from_query
        .or_else(from_body)
        .filter(|id| kustom::checked_order_id(id).is_ok())
}
