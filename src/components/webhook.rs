//! Ingress `webhook`: `POST /ingress/kustom/webhook/push?kustom_order_id=…`, Kustom's push after
//! a purchase, the fallback when the browser never confirmed. Kustom re-pushes (5, 15, 30, 60 min,
//! then every 4 h for 48 h) until the order is **acknowledged**, whatever the HTTP answer; the
//! status code only tells our own logs and Kustom's whether the work is done (200) or should be
//! retried (503).
//!
//! The request is never trusted: only the order id is taken from it, and the order is read from
//! Kustom with the app's credentials. The cart is found by the graph field `kustomOrderId`, else
//! by the order's cart reference (`merchant_reference2`, else `merchant_reference1`); then the same completion path as `confirm` runs.

use super::completion::{self, Completion};
use super::ingress::{answer, error_answer, error_answer_with};
use crate::cart_facts::CartFacts;
use crate::error::{parse, Code};
use crate::fields;
use crate::host::{finish, Call, Envelope, Output, Step, Steps, TicketCommand};
use crate::kustom::{self, SummaryRead};
use crate::settings::Settings;
use serde_json::{json, Map, Value};

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    parse::<Envelope>(input, "input")?; // `now` and `replies` are there
    let settings = Settings::from_input(input)?;
    let order_id = input["query"]["kustom_order_id"]
        .as_str()
        .filter(|id| kustom::checked_order_id(id).is_ok());
    let Some(order_id) = order_id else {
        let message = "kustom_order_id is missing or not an order id";
        return Ok(error_answer(400, Code::BadRequest, message));
    };
    let mut steps = Steps::of_input(input, "ingresses/webhook")?;

    let Some(cart) = find_cart(&mut steps, &settings, order_id)? else {
        // Perhaps the checkout's write has not landed yet: Kustom pushes again.
        let message = format!("no cart for Kustom order {order_id} (yet)");
        return Ok(error_answer(503, Code::CartNotFound, message));
    };
    if cart.field(fields::ORDER_ID) != Some(order_id) {
        // Paid for an order the cart has replaced: money without a cart. Never complete the cart
        // with it, never acknowledge it silently: the merchant decides.
        let message = format!(
            "Kustom order {order_id} was pushed for cart {}, whose current Kustom order is {}",
            cart.cart_id,
            cart.field(fields::ORDER_ID).unwrap_or("(none)")
        );
        let mut dynamic = Map::new();
        dynamic.insert("kustomOrderId".into(), json!(order_id));
        let note = TicketCommand::activity_log(
            "Kustom pushed order {{kustomOrderId}}, which this cart replaced; it was not completed or acknowledged. Check it in Kustom's portal.",
            dynamic,
        )
        .to_ticket(&cart.cart_id);
        return Ok(error_answer_with(
            409,
            Code::OrderNotCurrent,
            message,
            vec![note],
        ));
    }

    Ok(
        match completion::complete(&mut steps, &settings, &cart, order_id)? {
            Completion::Completed {
                acknowledged: true,
                log,
            } => answer(200, json!({"status": "acknowledged"}), vec![], log),
            Completion::Completed {
                acknowledged: false,
                log,
            } => answer(
                503,
                json!({"error": {"code": Code::AcknowledgeFailed, "message": "completed; acknowledgement will be retried"}}),
                vec![],
                log,
            ),
            Completion::NotYet { status } => error_answer(
                503,
                Code::NotComplete,
                format!("Kustom order {order_id} is {status}"),
            ),
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
                error_answer(503, Code::KustomUnavailable, reason)
            }
        },
    )
}

/// By the graph field `kustomOrderId`, else by the order's cart reference (`merchant_reference2`,
/// or `merchant_reference1` for orders created before the cart id moved there).
fn find_cart(steps: &mut Steps, settings: &Settings, order_id: &str) -> Step<Option<CartFacts>> {
    let by_field = Call::Query {
        set: "carts".into(),
        fields: vec!["cartId".into()],
        filter: format!("kustomOrderId == '{order_id}'"),
    };
    let mut cart_id = steps.query_first(by_field, "cartId")?;
    if cart_id.is_none() {
        let read = kustom::read_summary(steps, kustom::read_checkout_order(settings, order_id)?)?;
        if let SummaryRead::Order(order) = read {
            cart_id = order.cart_reference().map(str::to_string);
        }
    }
    let Some(cart_id) = cart_id.filter(|id| !id.is_empty()) else {
        return Ok(None);
    };
    steps.cart_facts(&cart_id)
}
