//! Job `setKustomOrderNumber`: the platform's order number becomes the Kustom order's
//! `merchant_reference1`, the number Kustom shows the customer (confirmation, emails, its app)
//! and puts in settlement files. The cart id stays in `merchant_reference2`, where the app finds
//! carts (validate, push).
//!
//! 1. The order's payments (graph query): no Kustom payment → nothing to do, nothing sent.
//! 2. The number is checked ([`order_number_problem`]): Kustom takes up to 255 characters (the
//!    app counts UTF-16 units, the stricter reading); the app sends only clean text (not empty,
//!    no control characters, not blank at either end) — else `ORDER_NUMBER_INVALID` on the
//!    payment, nothing sent.
//! 3. The Order Management order: `merchant_reference1` is the number already → done (a second
//!    run, or a retry after a PATCH applied unseen); the order is cancelled → done (Kustom
//!    would refuse, and the cancellation is what the merchant hears of).
//! 4. `PATCH …/merchant-references {merchant_reference1}` under a `Klarna-Idempotency-Key` derived
//!    from the Kustom order and the number. A key left out is kept by Kustom (the OM spec: "Old
//!    reference will be overwritten if this field is present"), so `merchant_reference2` is left
//!    out — except for an order from before the cart id moved there: its reference 2 is empty and
//!    the cart id is in reference 1, about to be overwritten, so the cart id goes to reference 2
//!    in the same request.
//!
//! Kustom's 204 → done. 403 `NOT_ALLOWED` (a cancelled order) → `MERCHANT_REFERENCES_NOT_ALLOWED`,
//! 404 → `KUSTOM_ORDER_NOT_FOUND`, other refusals → `KUSTOM_REFUSED`, each on the payment's
//! activity log; 5xx, 429 and timeouts retry on Kustom's OM schedule (5 s, 5 min, 5 h), then
//! `KUSTOM_UNAVAILABLE` on the payment. The parameters never change between runs, so a retry
//! never sends another number.

use super::capture_order::RETRIES;
use crate::error::Code;
use crate::host::{finish, Output, Step, Steps, TicketCommand};
use crate::jobs::{OrderNumberJobParameters, ORDER_NUMBER_JOB};
use crate::kustom::{self, OmReferences, Outcome, MAX_MERCHANT_REFERENCE_CHARS};
use crate::payment::{self, KustomPayment as Target};
use serde_json::{json, Map, Value};

type Job = crate::jobs::Job<OrderNumberJobParameters>;

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let job = Job::from_input(input)?;
    let p = &job.parameters;
    let mut steps = Steps::replaying(input, "jobs/set-kustom-order-number");
    let mut log = vec![];

    let Some(target) = kustom_payment(&mut steps, &job, &mut log)? else {
        return Ok(Output::done(vec![], log));
    };
    if let Some(problem) = order_number_problem(&p.order_number) {
        return Ok(stop(&target, Code::OrderNumberInvalid, &problem, log));
    }
    let order: OmReferences = kustom::read_om_order_or_end(
        &mut steps,
        &job.settings,
        &target.kustom_order_id,
        |reason| retry(&job, &target, reason, log.clone()),
        |code, why| stop(&target, code, why, log.clone()),
    )?;
    if order.status.eq_ignore_ascii_case("CANCELLED") {
        // Kustom refuses to change a cancelled order's references (403 NOT_ALLOWED), and the
        // cancellation is what the merchant hears of: nothing to send, nothing to record.
        log.push(format!(
            "Kustom order {} is cancelled: its merchant references stay as they are",
            target.kustom_order_id
        ));
        return Ok(Output::done(vec![], log));
    }
    let first = order.merchant_reference1.as_deref();
    if first == Some(p.order_number.as_str()) {
        log.push(format!(
            "Kustom order {} shows order number {} already; nothing to do",
            target.kustom_order_id, p.order_number
        ));
        return Ok(Output::done(vec![], log));
    }
    let mut body = json!({ "merchant_reference1": p.order_number });
    let second_empty = order
        .merchant_reference2
        .as_deref()
        .is_none_or(str::is_empty);
    if let Some(cart_id) = first.filter(|r| second_empty && kustom::is_cart_id(r)) {
        // An order from before the cart id moved to reference 2: keep the cart findable.
        body["merchant_reference2"] = json!(cart_id);
        log.push(format!(
            "the cart id {cart_id} moves from merchant_reference1 to merchant_reference2"
        ));
    }
    let key = kustom::idempotency_key(&[
        "merchant-references",
        &target.kustom_order_id,
        &p.order_number,
    ]);
    let reply = steps.http(kustom::update_merchant_references(
        &job.settings,
        &target.kustom_order_id,
        body,
        &key,
    )?)?;
    match kustom::classify(&reply) {
        Outcome::Success(_) => {
            log.push(format!(
                "Kustom order {}: merchant_reference1 is order number {}",
                target.kustom_order_id, p.order_number
            ));
            Ok(Output::done(vec![], log))
        }
        Outcome::Permanent(error) if error.code.as_deref() == Some("NOT_ALLOWED") => Ok(stop(
            &target,
            Code::MerchantReferencesNotAllowed,
            &error.summary(),
            log,
        )),
        Outcome::Transient { reason, .. } => Ok(retry(&job, &target, &reason, log)),
        failed => {
            let (code, why) = failed.failure();
            Ok(stop(&target, code, &why, log))
        }
    }
}

/// Why `number` cannot be Kustom's `merchant_reference1`, if it cannot. The number is sent as
/// the platform gave it or not at all: never trimmed or cut, so Kustom never shows a number the
/// platform does not know. Its length is counted in UTF-16 units, as a Java service counts a
/// string (the OM spec's 255 "characters" are code points; UTF-16 units are never fewer, so a
/// number within that count passes either reading).
pub fn order_number_problem(number: &str) -> Option<String> {
    let units = number.encode_utf16().count();
    if number.trim().is_empty() {
        Some("the order number is empty".into())
    } else if units > MAX_MERCHANT_REFERENCE_CHARS {
        Some(format!(
            "the order number has {units} characters (UTF-16 units); Kustom takes at most {MAX_MERCHANT_REFERENCE_CHARS}"
        ))
    } else if number.trim() != number {
        Some("the order number begins or ends with white space".into())
    } else if number.chars().any(char::is_control) {
        Some("the order number holds control characters".into())
    } else {
        None
    }
}

/// The order's Kustom payment: the first payment with provider `kustom` and an external
/// reference (the Kustom order id).
fn kustom_payment(steps: &mut Steps, job: &Job, log: &mut Vec<String>) -> Step<Option<Target>> {
    let doing = ("setting the order number on", "no order number to send");
    payment::order_kustom_payment(steps, &job.parameters.order_id, doing, log)
}

/// A definite outcome that retrying cannot change: logged on the payment, the job ends. The
/// order number is not quoted (it may be what was wrong); the merchant sees it on the order.
fn stop(target: &Target, code: Code, why: &str, mut log: Vec<String>) -> Output {
    log.push(format!(
        "Kustom order {}: order number not set: {code}: {why}",
        target.kustom_order_id
    ));
    let mut dynamic = Map::new();
    dynamic.insert("kustomOrderId".into(), json!(target.kustom_order_id));
    dynamic.insert("code".into(), json!(code));
    dynamic.insert("reason".into(), json!(why));
    let note = TicketCommand::activity_log(
        "The order number was not set on Kustom order {{kustomOrderId}}: {{code}}: {{reason}}",
        dynamic,
    )
    .to_actor("payment", &target.payment_id);
    Output::done(vec![note], log)
}

fn retry(job: &Job, target: &Target, reason: &str, log: Vec<String>) -> Output {
    RETRIES.retry_or_give_up(
        ORDER_NUMBER_JOB,
        &job.parameters,
        &job.now,
        reason,
        log,
        |why, log| stop(target, Code::KustomUnavailable, &why, log),
    )
}

#[cfg(test)]
mod tests {
    use super::order_number_problem;

    #[test]
    fn order_numbers_kustom_would_refuse_or_show_wrong_are_refused() {
        for good in ["O10042", "10001", "Ordre 42", "注文-7", &"9".repeat(255)] {
            assert_eq!(order_number_problem(good), None, "{good}");
        }
        // Counted as Kustom's Java service counts: 255 UTF-16 units, not bytes, not code points.
        assert_eq!(order_number_problem(&"é".repeat(255)), None);
        assert_eq!(order_number_problem(&"😀".repeat(127)), None);
        assert!(order_number_problem(&"😀".repeat(128))
            .unwrap()
            .contains("256 characters"));
        for bad in [
            "",
            "   ",
            " O1",
            "O1\n",
            "O\u{0}1",
            "O\u{1b}[31m1",
            "O\u{85}1",
        ] {
            assert!(order_number_problem(bad).is_some(), "{bad:?}");
        }
    }
}
