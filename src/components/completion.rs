//! Completing a cart whose Kustom order is paid: the one path that the browser's `confirm`,
//! Kustom's push (`webhook`) and the `watchKustomOrder` watchdog all run, in whichever order, as
//! often as they arrive.
//!
//! Exactly one payment, one completed cart, the order acknowledged — using the platform's own
//! guarantees and checking state before each step:
//! 1. The cart already completed (the other path won, or an earlier run got that far): only
//!    acknowledge; acknowledging is idempotent.
//! 2. Read the order from Kustom (never trust a request): not complete yet → nothing to do.
//!    Once the Checkout API says complete, Order Management is the authority on the order's
//!    state (`OrderState`): `AUTHORIZED`, `PART_CAPTURED`, `CAPTURED` are paid; `CANCELLED`,
//!    `EXPIRED`, `CLOSED` or `fraud_status` `REJECTED` never complete the cart (recorded once on
//!    it); `fraud_status` `PENDING` (or one the app does not know) is paid with a **pending**
//!    authorization. Its amount and currency must be what the cart produces now; a mismatch
//!    never completes silently (the caller records it on the cart).
//! 3. Find the payment by `externalReference` = Kustom order id, else create it (with an
//!    authorization of the order amount, successful or, in fraud review, pending, and a payment
//!    number); a fraud review that ended meanwhile is settled on it (`settle_fraud_review`). `externalReference`
//!    is unique across payments, so when two paths race to create, one create fails and that
//!    path finds the winner's payment: both end up holding the same payment.
//! 4. Set the customer's address, email and phone from the Kustom order (`customer.rs`), link
//!    the payment and complete the cart in **one** message to the ticket (one actor
//!    transaction), so a completed cart always has its payment and its address. If the platform
//!    refuses the address (`INVALID_COMMAND`/`INVALID_MESSAGE_BODY`, e.g. a country the profile
//!    does not allow), the cart stays open, `ADDRESS_REFUSED` is recorded once on it. A ticket
//!    completes once: the loser's message fails, and re-reading the cart shows it completed.
//! 5. Acknowledge (with an idempotency key). A failed acknowledgement is not fatal: Kustom
//!    keeps pushing until it gets one, and the push path acknowledges.
//!
//! A crash between steps leaves a state from which re-running the path finishes the job: a
//! payment without a completed cart is found in step 3 and linked; a completed cart without an
//! acknowledgement is acknowledged in step 1.

use crate::cart::CartState;
use crate::cart_facts::CartFacts;
use crate::currency::minor_unit_exponent;
use crate::customer::{self, CustomerData};
use crate::decimal::Decimal;
use crate::error::AppError;
use crate::error::Code;
use crate::fields::dynamic_key;
use crate::host::{whole, Call, DynamicFields, Effect, HttpReply, Step, Steps, TicketCommand};
use crate::kustom::{self, Outcome, SummaryRead};
use crate::settings::Settings;
use crate::shipping::{delivery_fields, read_selected, SelectedShipping};
use serde_json::{json, Map};

pub const PAYMENT_NUMBER_PREFIX: &str = "KU";
/// Set on the cart when a paid order does not match it; the merchant resolves it by hand.
pub const CONFIRM_ERROR_FIELD: &str = "kustomConfirmError";
/// The cart's delivery data, which Commerce copies onto the order's delivery (cookbook).
pub const DELIVERY_FIELDS: &str = "deliveryDynamicFields";

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
    /// The order must not complete the cart (cancelled, expired, closed or fraud-rejected at
    /// Kustom; the platform refused its address): recorded once on the cart, not completed.
    Refused {
        code: Code,
        message: String,
        record: Vec<Effect>,
    },
}

/// What the Kustom order says about payment, from the Checkout API or, once that forgets a
/// completed order, from Order Management.
struct PaidOrder {
    state: OrderState,
    status: String,
    amount: i64,
    currency: String,
    customer: CustomerData,
    /// The shipping option the customer chose in the iframe (`Err`: Kustom's report of it
    /// cannot be read).
    shipping: Result<Option<SelectedShipping>, String>,
}

/// What Kustom says the order is, from the Checkout API's `status` and, once complete, Order
/// Management's `status` and `fraud_status` (either API's, OM's when both answer).
#[derive(Debug, PartialEq)]
pub(crate) enum OrderState {
    /// The customer has not completed the purchase.
    NotYet,
    /// Paid; `pending` while Kustom's fraud review runs (or says something the app does not
    /// know: the money is then not assumed).
    Paid { pending: bool },
    /// Never completes the cart.
    Ended { code: Code, why: String },
    /// An OM status the app does not know: not completed, tried again later.
    Unknown(String),
}

/// `status` (OM, `None` when only the Checkout API answered) and `fraud_status` decide.
pub(crate) fn order_state(om_status: Option<&str>, fraud_status: Option<&str>) -> OrderState {
    if let Some(status) = om_status {
        match status.to_ascii_uppercase().as_str() {
            "AUTHORIZED" | "PART_CAPTURED" | "CAPTURED" => {}
            "CANCELLED" | "EXPIRED" | "CLOSED" => {
                return OrderState::Ended {
                    code: Code::AuthorizationGone,
                    why: format!("is {} at Kustom", status.to_ascii_uppercase()),
                }
            }
            _ => return OrderState::Unknown(status.chars().take(40).collect()),
        }
    }
    match fraud_status.map(str::to_ascii_uppercase).as_deref() {
        None | Some("ACCEPTED") => OrderState::Paid { pending: false },
        Some("REJECTED") => OrderState::Ended {
            code: Code::FraudRejected,
            why: "was rejected by Kustom's fraud review".into(),
        },
        Some(_) => OrderState::Paid { pending: true },
    }
}

pub fn complete(
    steps: &mut Steps,
    settings: &Settings,
    cart: &CartFacts,
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
    cart: &CartFacts,
    order_id: &str,
    record: &[TicketCommand],
) -> Step<Completion> {
    let mut log = Vec::new();
    if !cart.is_open() {
        log.push(format!(
            "cart {} is already {}",
            cart.cart_id,
            cart.cart_state.as_str()
        ));
        let acknowledged = acknowledge(steps, settings, order_id, &mut log)?;
        return Ok(Completion::Completed { acknowledged, log });
    }
    let (order, pending) = match paid_order(steps, settings, cart, order_id)? {
        Ok(paid) => paid,
        Err(ended) => return Ok(ended),
    };
    let exponent = minor_unit_exponent(&order.currency).unwrap_or(2);
    let amount = Decimal::from_minor_units(order.amount, exponent);
    let (payment_id, created) =
        match payment_for(steps, order_id, &order.currency, amount, pending, &mut log)? {
            Ok(found) => found,
            Err(ended) => return Ok(ended),
        };
    settle_fraud_review(
        steps,
        settings,
        order_id,
        &payment_id,
        (created, pending),
        &mut log,
    )?;
    if let Some(ended) =
        link_and_complete(steps, cart, order_id, &order, &payment_id, record, &mut log)?
    {
        return Ok(ended);
    }
    let acknowledged = acknowledge(steps, settings, order_id, &mut log)?;
    Ok(Completion::Completed { acknowledged, log })
}

/// The order as Kustom has it, if it is paid and is the cart (`pending`: in fraud review);
/// otherwise where the path ends.
fn paid_order(
    steps: &mut Steps,
    settings: &Settings,
    cart: &CartFacts,
    order_id: &str,
) -> Step<Result<(Box<PaidOrder>, bool), Completion>> {
    let order = match read_paid_order(steps, settings, order_id)? {
        OrderRead::Order(order) => order,
        OrderRead::Ended(completion) => return Ok(Err(completion)),
    };
    let pending = match &order.state {
        OrderState::NotYet => {
            let status = order.status.clone();
            return Ok(Err(Completion::NotYet { status }));
        }
        OrderState::Paid { pending } => *pending,
        OrderState::Ended { code, why } => {
            let message = format!("Kustom order {order_id} {why}: the cart is not completed");
            let record = record_once(cart, order_id, *code, &message);
            return Ok(Err(Completion::Refused {
                code: *code,
                message,
                record,
            }));
        }
        OrderState::Unknown(status) => {
            return Ok(Err(Completion::Unavailable {
                reason: format!("Kustom order {order_id} has a status the app does not know ({status}): not completed"),
            }))
        }
    };
    match check_amount(cart, order_id, &order) {
        Some(mismatch) => Ok(Err(mismatch)),
        None => Ok(Ok((order, pending))),
    }
}

/// The payment for the order, found or created (`true`: this run created it); where the path
/// ends when neither works.
fn payment_for(
    steps: &mut Steps,
    order_id: &str,
    currency: &str,
    amount: Decimal,
    pending: bool,
    log: &mut Vec<String>,
) -> Step<Result<(String, bool), Completion>> {
    if let Some(id) = find_payment(steps, order_id)? {
        log.push(format!("payment {id} for Kustom order {order_id} exists"));
        return Ok(Ok((id, false)));
    }
    let create_error = match create_payment(steps, order_id, currency, amount, pending)? {
        Ok(id) => {
            let state = if pending {
                "pending authorization (Kustom's fraud review)"
            } else {
                "authorization"
            };
            log.push(format!(
                "created payment {id}: {state} {amount} {currency} (Kustom order {order_id})"
            ));
            return Ok(Ok((id, true)));
        }
        Err(create_error) => create_error,
    };
    // Most likely the other path created it first (externalReference is unique).
    Ok(match find_payment(steps, order_id)? {
        Some(id) => {
            log.push(format!(
                "payment {id} was created concurrently ({create_error})"
            ));
            Ok((id, false))
        }
        None => Err(Completion::Unavailable {
            reason: format!("creating the payment failed: {create_error}"),
        }),
    })
}

/// The customer's data and the shipping chosen in the iframe onto the cart, the payment linked
/// and the cart completed, in one message; `Some` where the path ends instead (the platform
/// refused the address, or could not be reached).
fn link_and_complete(
    steps: &mut Steps,
    cart: &CartFacts,
    order_id: &str,
    order: &PaidOrder,
    payment_id: &str,
    record: &[TicketCommand],
    log: &mut Vec<String>,
) -> Step<Option<Completion>> {
    let mut commands = order.customer.commands.clone();
    // The shipping option chosen in the iframe, onto the delivery the order is created with.
    if let Ok(Some(chosen)) = &order.shipping {
        let exponent = minor_unit_exponent(&order.currency).unwrap_or(2);
        let fields = delivery_fields(cart.delivery_dynamic_fields.as_ref(), chosen, exponent);
        commands.push(json!({"type": "setDynamicFields", "fields": {DELIVERY_FIELDS: fields}}));
        log.push(format!(
            "shipping chosen in Kustom's iframe: {:?} ({}) {}",
            chosen.id,
            chosen.carrier.as_deref().unwrap_or("no carrier named"),
            Decimal::from_minor_units(chosen.price, exponent)
        ));
    }
    commands
        .push(json!({"type": "createRelation", "relationKey": "payments", "nodeId": payment_id}));
    commands.extend(record.iter().map(|command| json!(command)));
    let linked = steps.actor(Call::MessageActor {
        actor_type: "ticket".into(),
        actor_id: cart.cart_id.clone(),
        messages: vec![
            json!({"type": "applyCommands", "body": {"commands": commands}}),
            json!({"type": "complete"}),
        ],
    })?;
    let Some(error) = linked.error() else {
        log.push(format!(
            "cart {} completed with payment {payment_id}, with {}",
            cart.cart_id,
            order.customer.summary()
        ));
        let notes = order.customer.notes.iter();
        log.extend(notes.map(|note| format!("customer data: {note}")));
        return Ok(None);
    };
    // A ticket completes once: if the other path completed it, that is success.
    let again = steps.cart_facts(&cart.cart_id)?;
    if again.is_some_and(|again| again.cart_state == CartState::Completed) {
        log.push(format!("cart {} was completed concurrently", cart.cart_id));
        return Ok(None);
    }
    if linked.refused_command() && !order.customer.commands.is_empty() {
        let message = format!(
            "Kustom order {order_id} was paid but the cart refused its address ({})",
            linked.error_code().unwrap_or("refused")
        );
        let record = record_once(cart, order_id, Code::AddressRefused, &message);
        return Ok(Some(Completion::Refused {
            code: Code::AddressRefused,
            message,
            record,
        }));
    }
    Ok(Some(Completion::Unavailable {
        reason: format!("completing cart {} failed: {error}", cart.cart_id),
    }))
}

/// What reading the order from Kustom gave: the order, or where the completion path ends.
enum OrderRead {
    Order(Box<PaidOrder>),
    Ended(Completion),
}

fn read_paid_order(steps: &mut Steps, settings: &Settings, order_id: &str) -> Step<OrderRead> {
    let read = kustom::read_summary(steps, kustom::read_checkout_order(settings, order_id)?)?;
    let checkout = match read {
        SummaryRead::Order(order) => {
            let status = order
                .status
                .clone()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if status != "checkout_complete" {
                return Ok(OrderRead::Order(Box::new(PaidOrder {
                    state: OrderState::NotYet,
                    status,
                    amount: order.order_amount,
                    currency: order.purchase_currency.to_ascii_uppercase(),
                    customer: CustomerData::default(),
                    shipping: Ok(None),
                })));
            }
            Some(order)
        }
        SummaryRead::NotFound => None, // the Checkout API forgets completed orders: ask OM
        SummaryRead::Unreadable(error) => return Ok(OrderRead::Ended(unreadable(error))),
        SummaryRead::Failed(_, reason) => return Ok(unavailable(reason)),
    };
    // Complete: Order Management knows whether it is still paid (a merchant may have cancelled
    // it in Kustom's portal since; fraud review may have decided). Read with the Checkout API's
    // summary (the fields it decides on have the same names in both APIs).
    let om = match kustom::read_summary(steps, kustom::read_om_order(settings, order_id)?)? {
        SummaryRead::Order(order) => Some(order),
        SummaryRead::Unreadable(error) => return Ok(OrderRead::Ended(unreadable(error))),
        // Just completed and not in OM yet: the Checkout API's word is all there is.
        SummaryRead::NotFound if checkout.is_some() => None,
        SummaryRead::NotFound => return Ok(OrderRead::Ended(Completion::OrderGone)),
        SummaryRead::Failed(_, reason) => return Ok(unavailable(reason)),
    };
    let fraud_status = om
        .as_ref()
        .and_then(|om| om.fraud_status.clone())
        .or_else(|| checkout.as_ref().and_then(|c| c.fraud_status.clone()));
    let state = order_state(
        om.as_ref()
            .map(|om| om.status.as_deref().unwrap_or_default()),
        fraud_status.as_deref(),
    );
    // The Checkout API's order while it has it, else Order Management's.
    let Some(source) = checkout.or(om) else {
        return Ok(OrderRead::Ended(Completion::OrderGone));
    };
    Ok(OrderRead::Order(Box::new(PaidOrder {
        state,
        status: "checkout_complete".into(),
        amount: source.order_amount,
        currency: source.purchase_currency.to_ascii_uppercase(),
        customer: customer::from_order(
            source.billing_address.as_ref(),
            source.shipping_address.as_ref(),
        ),
        shipping: read_selected(source.selected_shipping_option.as_ref()),
    })))
}

fn unavailable(reason: String) -> OrderRead {
    OrderRead::Ended(Completion::Unavailable { reason })
}

/// Kustom answered 2xx with something that is not an order: as good as no answer.
fn unreadable(error: AppError) -> Completion {
    Completion::Unavailable {
        reason: format!("Kustom's answer is not an order: {}", error.message),
    }
}

/// The paid order must be the cart: same currency, and the amount of the payload it produces
/// now plus the shipping option the customer chose in the iframe (Kustom adds its price).
fn check_amount(cart: &CartFacts, order_id: &str, order: &PaidOrder) -> Option<Completion> {
    let shipping = match &order.shipping {
        Ok(chosen) => chosen.as_ref().map_or(0, |chosen| chosen.price),
        Err(why) => {
            let message = format!("Kustom order {order_id} was paid, but {why}");
            let code = Code::ShippingOptionUnknown;
            let record = record_once(cart, order_id, code, &message);
            return Some(Completion::Refused {
                code,
                message,
                record,
            });
        }
    };
    let expected = match &cart.payable {
        Ok((currency, amount)) => (currency.clone(), amount.saturating_add(shipping)),
        Err(code) => (format!("(cart unpayable: {code})"), -1),
    };
    if expected == (order.currency.clone(), order.amount) {
        return None;
    }
    let message = format!(
        "Kustom order {order_id} was paid as {} {} but the cart is {} {}{}",
        order.currency,
        order.amount,
        expected.0,
        expected.1,
        if shipping > 0 {
            format!(" with shipping {shipping}")
        } else {
            String::new()
        }
    );
    let record = record_once(cart, order_id, Code::AmountMismatch, &message);
    Some(Completion::Mismatch { message, record })
}

/// A fraud review can end while this path runs, and Kustom's notification finds no payment until
/// it exists (the `notification` ingress answers 503 then). So the path itself brings the
/// authorization up to what Kustom says once the payment exists:
/// - its own read said `PENDING` (it created the payment pending, or found one): read Order
///   Management again; accepted now → successful;
/// - it found a payment (an earlier run, or the other path, created it) and its own read says
///   accepted: a `pending` authorization becomes successful (a `failed` one never does).
///
/// The run that completes the cart settles after the payment exists: a decision before that
/// read is applied here, one after it is a notification that finds the payment (the scenario
/// `a_fraud_review_ending_during_completion_always_settles_the_authorization` explores it). A failure here is logged and
/// left to the notification (the capture job re-reads the fraud status too).
fn settle_fraud_review(
    steps: &mut Steps,
    settings: &Settings,
    order_id: &str,
    payment_id: &str,
    (created, pending): (bool, bool),
    log: &mut Vec<String>,
) -> Step<()> {
    let accepted_now = match (created, pending) {
        (true, false) => return Ok(()),
        (_, true) => {
            let read = kustom::read_summary(steps, kustom::read_om_order(settings, order_id)?)?;
            let SummaryRead::Order(om) = read else {
                return Ok(());
            };
            let status = om.status.as_deref().unwrap_or_default();
            order_state(Some(status), om.fraud_status.as_deref())
                == OrderState::Paid { pending: false }
        }
        (false, false) => {
            // Read as plain JSON: a typed payment record would add its parser to the module.
            let reply = steps.actor(crate::payment::read_authorizations(payment_id))?;
            let authorizations = reply.query().and_then(|q| q["authorizations"].as_array());
            authorizations.is_some_and(|all| {
                all.iter().any(|a| {
                    a["authorizationNumber"] == order_id && a["authorizationState"] == "pending"
                })
            })
        }
    };
    if !accepted_now {
        return Ok(());
    }
    let set = steps.actor(Call::MessageActor {
        actor_type: "payment".into(),
        actor_id: payment_id.into(),
        messages: vec![json!({"type": "applyCommands", "body": {"commands": [
            crate::payment::set_authorization_state(order_id, "successful")]}})],
    })?;
    log.push(match set.error() {
        None => {
            format!("Kustom's fraud review accepted order {order_id}: authorization successful")
        }
        Some(error) => format!(
            "setting authorization {order_id} successful failed ({error}); the notification retries"
        ),
    });
    Ok(())
}

/// `code` on the cart's `kustomConfirmError` and the message on its activity log, once: Kustom
/// re-pushes for 48 h and the storefront may retry confirm.
fn record_once(cart: &CartFacts, order_id: &str, code: Code, message: &str) -> Vec<Effect> {
    if cart.field(CONFIRM_ERROR_FIELD).is_some() {
        return vec![];
    }
    let mut flag = DynamicFields::new();
    flag.insert(dynamic_key(CONFIRM_ERROR_FIELD), json!(code).into());
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
}

pub(crate) fn find_payment(steps: &mut Steps, order_id: &str) -> Step<Option<String>> {
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
    order_id: &str,
    currency: &str,
    amount: Decimal,
    pending: bool,
) -> Step<Result<String, String>> {
    let state = if pending { "pending" } else { "successful" };
    let created = steps.actor(Call::MessageActor {
        actor_type: "payment".into(),
        actor_id: "new".into(),
        messages: vec![json!({"type": "create", "body": {
        "currencyCode": currency,
        "providerKey": super::capture::PROVIDER_KEY,
        "externalReference": order_id,
        "commands": [
            {"type": "createAuthorization", "authorizationNumber": order_id,
             "amount": amount.to_json_number(), "authorizationState": state},
            {"type": "generatePaymentNumberByPrefix", "prefix": PAYMENT_NUMBER_PREFIX},
        ]}})],
    })?;
    if let Some(error) = created.error() {
        return Ok(Err(error));
    }
    match created.actor_id {
        Some(id) => Ok(Ok(id.to_string())),
        None => Err(AppError::host(format!(
            "payment create for Kustom order {order_id} returned no actorId"
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
    let kept = steps.learn(kustom::acknowledge(settings, order_id)?, whole)?;
    let reply = HttpReply::of(&kept, "the http reply")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_state_is_what_kustom_says() {
        let paid = OrderState::Paid { pending: false };
        let pending = OrderState::Paid { pending: true };
        for status in ["AUTHORIZED", "PART_CAPTURED", "CAPTURED", "authorized"] {
            assert_eq!(
                order_state(Some(status), Some("ACCEPTED")),
                paid,
                "{status}"
            );
            assert_eq!(
                order_state(Some(status), Some("PENDING")),
                pending,
                "{status}"
            );
        }
        for status in ["CANCELLED", "EXPIRED", "CLOSED"] {
            for fraud in [None, Some("ACCEPTED"), Some("PENDING")] {
                assert!(
                    matches!(
                        order_state(Some(status), fraud),
                        OrderState::Ended {
                            code: Code::AuthorizationGone,
                            ..
                        }
                    ),
                    "{status} {fraud:?}"
                );
            }
        }
        assert!(matches!(
            order_state(Some("AUTHORIZED"), Some("REJECTED")),
            OrderState::Ended {
                code: Code::FraudRejected,
                ..
            }
        ));
        // Only the Checkout API answered: its fraud status decides.
        assert_eq!(order_state(None, None), paid);
        assert_eq!(order_state(None, Some("PENDING")), pending);
        // An unknown fraud status never makes a successful authorization.
        assert_eq!(order_state(None, Some("UNDER_REVIEW")), pending);
        // An unknown OM status never completes; a hostile one is shortened, never trusted.
        let long = "X".repeat(500);
        let OrderState::Unknown(shown) = order_state(Some(&long), None) else {
            panic!("unknown status")
        };
        assert_eq!(shown.len(), 40);
        assert!(matches!(
            order_state(Some("ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ-ÅÄÖ"), None),
            OrderState::Unknown(_)
        ));
    }
}
