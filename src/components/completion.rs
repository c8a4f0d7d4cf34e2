//! Completing a cart whose Kustom order is paid: the one path that the browser's `confirm`,
//! Kustom's push (`webhook`) and the `watchKustomOrder` watchdog all run, in whichever order, as
//! often as they arrive.
//!
//! Exactly one payment, one completed cart, the order acknowledged — using the platform's own
//! guarantees and checking state before each step:
//! 1. The cart already completed (the other path won, or an earlier run got that far): only
//!    acknowledge; acknowledging is idempotent.
//! 2. Read the order from Kustom (never trust a request): not complete yet → nothing to do.
//!    Its amount and currency must be what the cart produces now; a mismatch never completes
//!    silently (the caller records it on the cart).
//! 3. Find the payment by `externalReference` = Kustom order id, else create it (with a
//!    successful authorization of the order amount and a payment number). `externalReference`
//!    is unique across payments, so when two paths race to create, one create fails and that
//!    path finds the winner's payment: both end up holding the same payment.
//! 4. Link the payment and complete the cart in **one** message to the ticket (one actor
//!    transaction), so a completed cart always has its payment. A ticket completes once: the
//!    loser's message fails, and re-reading the cart shows it completed.
//! 5. Acknowledge (with an idempotency key). A failed acknowledgement is not fatal: Kustom
//!    keeps pushing until it gets one, and the push path acknowledges.
//!
//! A crash between steps leaves a state from which re-running the path finishes the job: a
//! payment without a completed cart is found in step 3 and linked; a completed cart without an
//! acknowledgement is acknowledged in step 1.

use crate::cart::{CartState, RenderedCart};
use crate::currency::minor_unit_exponent;
use crate::decimal::Decimal;
use crate::error::Code;
use crate::error::{parse, AppError};
use crate::fields::dynamic_key;
use crate::host::{Call, DynamicFields, Effect, Step, Steps, TicketCommand};
use crate::kustom::{self, OmOrder, OrderSummary, Outcome};
use crate::payload;
use crate::settings::Settings;
use serde_json::{json, Map};

pub const PAYMENT_NUMBER_PREFIX: &str = "KU";
/// Set on the cart when a paid order does not match it; the merchant resolves it by hand.
pub const CONFIRM_ERROR_FIELD: &str = "kustomConfirmError";

/// Where the completion path ended.
#[derive(Debug)]
pub enum Completion {
    /// The cart is completed with its payment; `acknowledged` tells whether Kustom knows.
    Completed {
        acknowledged: bool,
        log: Vec<String>,
    },
    /// The customer has not finished paying (`status` is Kustom's).
    NotYet { status: String },
    /// Kustom does not know the order (expired, never completed).
    OrderGone,
    /// Paid amount or currency differ from the cart: recorded, not completed.
    Mismatch {
        message: String,
        record: Vec<Effect>,
    },
    /// Kustom or the host could not be reached; try again later.
    Unavailable { reason: String },
}

/// What the Kustom order says about payment, from the Checkout API or, once that forgets a
/// completed order, from Order Management.
struct PaidOrder {
    complete: bool,
    status: String,
    amount: i64,
    currency: String,
}

pub fn complete(
    steps: &mut Steps,
    settings: &Settings,
    cart: &RenderedCart,
    order_id: &str,
) -> Step<Completion> {
    complete_recording(steps, settings, cart, order_id, &[])
}

/// The same path, with `record` (commands on the cart: a field, an activity log entry) applied
/// in the very message that completes the cart: they land exactly when this run is the one that
/// completes it, never when another path got there first. The watchdog marks its work this way.
pub fn complete_recording(
    steps: &mut Steps,
    settings: &Settings,
    cart: &RenderedCart,
    order_id: &str,
    record: &[TicketCommand],
) -> Step<Completion> {
    let mut log = Vec::new();
    if !payload::is_open(cart) {
        log.push(format!(
            "cart {} is already {}",
            cart.cart_id,
            cart.cart_state.as_str()
        ));
        let acknowledged = acknowledge(steps, settings, order_id, &mut log)?;
        return Ok(Completion::Completed { acknowledged, log });
    }
    let order = match read_paid_order(steps, settings, order_id)? {
        OrderRead::Order(order) => order,
        OrderRead::Ended(completion) => return Ok(completion),
    };
    if !order.complete {
        return Ok(Completion::NotYet {
            status: order.status,
        });
    }
    if let Some(mismatch) = check_amount(cart, order_id, &order) {
        return Ok(mismatch);
    }

    let exponent = minor_unit_exponent(&order.currency).unwrap_or(2);
    let amount = Decimal::from_minor_units(order.amount, exponent);
    let payment_id = match find_payment(steps, order_id)? {
        Some(id) => {
            log.push(format!("payment {id} for Kustom order {order_id} exists"));
            id
        }
        None => match create_payment(steps, cart, order_id, &order.currency, amount)? {
            Ok(id) => {
                log.push(format!(
                    "created payment {id}: authorization {amount} {} (Kustom order {order_id})",
                    order.currency
                ));
                id
            }
            // Most likely the other path created it first (externalReference is unique).
            Err(create_error) => match find_payment(steps, order_id)? {
                Some(id) => {
                    log.push(format!(
                        "payment {id} was created concurrently ({create_error})"
                    ));
                    id
                }
                None => {
                    return Ok(Completion::Unavailable {
                        reason: format!("creating the payment failed: {create_error}"),
                    })
                }
            },
        },
    };

    let mut commands =
        vec![json!({"type": "createRelation", "relationKey": "payments", "nodeId": payment_id})];
    commands.extend(record.iter().map(|command| json!(command)));
    let linked = steps.actor(Call::MessageActor {
        actor_type: "ticket".into(),
        actor_id: cart.cart_id.clone(),
        messages: vec![
            json!({"type": "applyCommands", "body": {"commands": commands}}),
            json!({"type": "complete"}),
        ],
    })?;
    if let Some(error) = linked.error() {
        // A ticket completes once: if the other path completed it, that is success.
        let again = steps.render_cart(&cart.cart_id)?;
        if !again.is_some_and(|again| again.cart.cart_state == CartState::Completed) {
            return Ok(Completion::Unavailable {
                reason: format!("completing cart {} failed: {error}", cart.cart_id),
            });
        }
        log.push(format!("cart {} was completed concurrently", cart.cart_id));
    } else {
        log.push(format!(
            "cart {} completed with payment {payment_id}",
            cart.cart_id
        ));
    }
    let acknowledged = acknowledge(steps, settings, order_id, &mut log)?;
    Ok(Completion::Completed { acknowledged, log })
}

/// What reading the order from Kustom gave: the order, or where the completion path ends.
enum OrderRead {
    Order(PaidOrder),
    Ended(Completion),
}

fn read_paid_order(steps: &mut Steps, settings: &Settings, order_id: &str) -> Step<OrderRead> {
    let reply = steps.http(kustom::read_checkout_order(settings, order_id)?)?;
    match kustom::classify(&reply) {
        Outcome::Success(body) => {
            let order: OrderSummary = match parse(&body, "Kustom order") {
                Ok(order) => order,
                Err(error) => return Ok(OrderRead::Ended(unreadable(error))),
            };
            let status = order
                .status
                .clone()
                .unwrap_or_default()
                .to_ascii_lowercase();
            return Ok(OrderRead::Order(PaidOrder {
                complete: status == "checkout_complete",
                status,
                amount: order.order_amount,
                currency: order.purchase_currency.to_ascii_uppercase(),
            }));
        }
        Outcome::NotFound => {} // the Checkout API forgets completed orders: ask OM
        failed => return Ok(unavailable(&failed)),
    }
    let reply = steps.http(kustom::read_om_order(settings, order_id)?)?;
    match kustom::classify(&reply) {
        Outcome::Success(body) => {
            let order: OmOrder = match parse(&body, "Kustom order") {
                Ok(order) => order,
                Err(error) => return Ok(OrderRead::Ended(unreadable(error))),
            };
            Ok(OrderRead::Order(PaidOrder {
                complete: true, // an OM order exists only once the purchase completed
                status: "checkout_complete".into(),
                amount: order.order_amount,
                currency: order.purchase_currency.to_ascii_uppercase(),
            }))
        }
        Outcome::NotFound => Ok(OrderRead::Ended(Completion::OrderGone)),
        failed => Ok(unavailable(&failed)),
    }
}

fn unavailable(failed: &Outcome) -> OrderRead {
    let (_, reason) = failed.failure();
    OrderRead::Ended(Completion::Unavailable { reason })
}

/// Kustom answered 2xx with something that is not an order: as good as no answer.
fn unreadable(error: AppError) -> Completion {
    Completion::Unavailable {
        reason: format!("Kustom's answer is not an order: {}", error.message),
    }
}

/// The paid order must be the cart: same currency and amount as the payload it produces now.
fn check_amount(cart: &RenderedCart, order_id: &str, order: &PaidOrder) -> Option<Completion> {
    let expected = match payload::build(cart) {
        Ok(expected) => (expected.purchase_currency, expected.order_amount),
        Err(refusal) => (format!("(cart unpayable: {})", refusal.code), -1),
    };
    if expected == (order.currency.clone(), order.amount) {
        return None;
    }
    let message = format!(
        "Kustom order {order_id} was paid as {} {} but the cart is {} {}",
        order.currency, order.amount, expected.0, expected.1
    );
    // Record once: Kustom re-pushes for 48 h and the storefront may retry confirm.
    let record = if cart.field(CONFIRM_ERROR_FIELD).is_some() {
        vec![]
    } else {
        let mut flag = DynamicFields::new();
        flag.insert(
            dynamic_key(CONFIRM_ERROR_FIELD),
            json!(Code::AmountMismatch).into(),
        );
        let mut dynamic = Map::new();
        dynamic.insert("kustomOrderId".into(), json!(order_id));
        dynamic.insert("message".into(), json!(message));
        vec![
            TicketCommand::SetDynamicFields { fields: flag }.to_ticket(&cart.cart_id),
            TicketCommand::activity_log(
                "Kustom order {{kustomOrderId}} was not completed: {{message}}. Check the order in Kustom's portal before shipping or cancelling.",
                dynamic,
            )
            .to_ticket(&cart.cart_id),
        ]
    };
    Some(Completion::Mismatch { message, record })
}

fn find_payment(steps: &mut Steps, order_id: &str) -> Step<Option<String>> {
    let query = Call::Query {
        set: "payments".into(),
        fields: vec!["paymentId".into()],
        filter: format!("externalReference == '{order_id}'"),
    };
    steps.query_first(query, "paymentId")
}

/// `Ok(Ok(payment id))`, or `Ok(Err(why))` when the platform refused the create.
fn create_payment(
    steps: &mut Steps,
    cart: &RenderedCart,
    order_id: &str,
    currency: &str,
    amount: Decimal,
) -> Step<Result<String, String>> {
    let created = steps.actor(Call::MessageActor {
        actor_type: "payment".into(),
        actor_id: "new".into(),
        messages: vec![json!({"type": "create", "body": {
        "currencyCode": currency,
        "providerKey": super::capture::PROVIDER_KEY,
        "externalReference": order_id,
        "commands": [
            {"type": "createAuthorization", "authorizationNumber": order_id,
             "amount": amount.to_json_number(), "authorizationState": "successful"},
            {"type": "generatePaymentNumberByPrefix", "prefix": PAYMENT_NUMBER_PREFIX},
        ]}})],
    })?;
    if let Some(error) = created.error() {
        return Ok(Err(error));
    }
    match created.actor_id {
        Some(id) => Ok(Ok(id.to_string())),
        None => Err(AppError::host(format!(
            "payment create for cart {} returned no actorId",
            cart.cart_id
        ))
        .into()),
    }
}

fn acknowledge(
    steps: &mut Steps,
    settings: &Settings,
    order_id: &str,
    log: &mut Vec<String>,
) -> Step<bool> {
    let reply = steps.http(kustom::acknowledge(settings, order_id)?)?;
    let acknowledged = matches!(kustom::classify(&reply), Outcome::Success(_));
    log.push(if acknowledged {
        format!("acknowledged Kustom order {order_id}")
    } else {
        format!(
            "acknowledging Kustom order {order_id} failed; Kustom's push retries until it succeeds"
        )
    });
    Ok(acknowledged)
}
