//! Job `releaseAuthorization`: gives up what is left of the Kustom authorization of a platform
//! order that will not be captured (more).
//!
//! - Order cancelled, nothing captured at Kustom: `POST …/cancel`, then the payment's
//!   authorization is set `failed` (voided) — the capture job never captures a voided one.
//! - Order cancelled after a capture, or every delivery completed: `POST
//!   …/release-remaining-authorization` for what is left (a refund of what was captured is the
//!   refund flow's business: the platform credits the capture).
//! - Order delivered while a capture is still pending on the payment: wait for it (every
//!   [`WAIT_SECONDS`], at most [`MAX_WAITS`] times), so that the release never comes before the
//!   platform's last capture.
//!
//! Idempotent: Kustom's state is read first (an order already cancelled, released or without
//! anything left is only recorded), and both requests carry a `Klarna-Idempotency-Key` derived
//! from the Kustom order id. Failures are classified and logged on the payment; transient ones
//! retry on Kustom's OM schedule (5 s, 5 min, 5 h).

use super::capture_order::RETRIES;
use crate::currency::minor_unit_exponent;
use crate::decimal::Decimal;
use crate::error::Code;
use crate::host::{finish, Effect, Output, Step, Steps, TicketCommand};
use crate::jobs::{ReleaseJobParameters, ReleaseReason, RELEASE_JOB};
use crate::kustom::{self, OmOrder, Outcome};
use crate::payment::{self, KustomPayment as Target, PaymentRecord, VOIDED_STATE};
use crate::retry::schedule_job;
use serde_json::{json, Value};

/// Re-check pending captures every 15 minutes…
pub const WAIT_SECONDS: i64 = 900;
/// …for a day.
pub const MAX_WAITS: u32 = 96;

type Job = crate::jobs::Job<ReleaseJobParameters>;

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let job = Job::from_input(input)?;
    let p = &job.parameters;
    let mut steps = Steps::replaying(input, "jobs/release-authorization");
    let mut log = vec![];

    let Some(target) = kustom_payment(&mut steps, &job, &mut log)? else {
        return Ok(Output::done(vec![], log));
    };
    let reply = steps.actor(payment::read_payment(&target.payment_id))?;
    let Some(record) = payment::parse_payment(reply)? else {
        log.push(format!(
            "payment {} is gone; nothing to release",
            target.payment_id
        ));
        return Ok(Output::done(vec![], log));
    };
    let voided = record.authorization_voided(&target.kustom_order_id);
    if voided {
        log.push(format!(
            "payment {}: authorization already voided; nothing to do",
            target.payment_id
        ));
        return Ok(Output::done(vec![], log));
    }
    if p.reason == ReleaseReason::OrderDelivered && has_pending_capture(&record) {
        return Ok(wait(&job, &target, log));
    }
    let order = read_order(&mut steps, &job, &target)?;
    log.push(format!(
        "Kustom order {}: {}, {} captured, {} authorized remaining",
        target.kustom_order_id,
        order.status,
        order.captured_amount,
        order.remaining_authorized_amount
    ));
    let status = order.status.to_ascii_uppercase();
    if status == "CANCELLED" {
        // An earlier run cancelled and died before voiding: only record it.
        log.push("already cancelled at Kustom".into());
        return Ok(void(&target, log));
    }
    if matches!(status.as_str(), "EXPIRED" | "CLOSED") || order.remaining_authorized_amount <= 0 {
        log.push("nothing left authorized at Kustom; nothing to release".into());
        return Ok(Output::done(vec![], log));
    }
    match p.reason {
        ReleaseReason::OrderCancelled if order.captured_amount == 0 => {
            cancel(&mut steps, &job, &target, log)
        }
        ReleaseReason::OrderDelivered if order.captured_amount == 0 => {
            // Delivered but never captured: giving the money up is the merchant's decision.
            log.push("nothing captured yet; the authorization is left for the merchant".into());
            Ok(Output::done(vec![], log))
        }
        _ => release(&mut steps, &job, &target, &order, log),
    }
}

/// The order's Kustom payment: the first payment with provider `kustom` and an order id.
fn kustom_payment(steps: &mut Steps, job: &Job, log: &mut Vec<String>) -> Step<Option<Target>> {
    let doing = ("releasing", "nothing to release");
    payment::order_kustom_payment(steps, &job.parameters.order_id, doing, log)
}

fn has_pending_capture(record: &PaymentRecord) -> bool {
    record.captures.iter().any(|c| c.state == "pending")
}

fn read_order(steps: &mut Steps, job: &Job, target: &Target) -> Step<OmOrder> {
    kustom::read_om_order_or_end(
        steps,
        &job.settings,
        &target.kustom_order_id,
        |reason| retry(job, target, reason, vec![]),
        |code, why| stop(job, target, code, why, vec![]),
    )
}

/// `POST …/cancel`; on success the authorization is voided. Kustom's `CANCEL_NOT_ALLOWED` (a
/// capture made since the read) falls back to releasing what is left.
fn cancel(steps: &mut Steps, job: &Job, target: &Target, mut log: Vec<String>) -> Step {
    let key = kustom::idempotency_key(&["cancel", &target.kustom_order_id]);
    let reply = steps.http(kustom::cancel_order(
        &job.settings,
        &target.kustom_order_id,
        &key,
    )?)?;
    match kustom::classify(&reply) {
        Outcome::Success(_) => {
            log.push(format!("Kustom order {} cancelled", target.kustom_order_id));
            Ok(void(target, log))
        }
        Outcome::Permanent(error) if error.code.as_deref() == Some("CANCEL_NOT_ALLOWED") => {
            log.push(format!(
                "cancel refused ({}); releasing what is left instead",
                error.summary()
            ));
            let order = read_order(steps, job, target)?;
            if order.remaining_authorized_amount <= 0
                || order.status.eq_ignore_ascii_case("CANCELLED")
            {
                log.push("nothing left authorized".into());
                return Ok(Output::done(vec![], log));
            }
            release(steps, job, target, &order, log)
        }
        Outcome::Permanent(error) => Ok(stop(
            job,
            target,
            Code::CancelNotAllowed,
            &error.summary(),
            log,
        )),
        Outcome::Transient { reason, .. } => Ok(retry(job, target, &reason, log)),
        failed => {
            let (code, why) = failed.failure();
            Ok(stop(job, target, code, &why, log))
        }
    }
}

/// `POST …/release-remaining-authorization`.
fn release(
    steps: &mut Steps,
    job: &Job,
    target: &Target,
    order: &OmOrder,
    mut log: Vec<String>,
) -> Step {
    let remaining = order.remaining_authorized_amount;
    // In the order's own currency units for the merchant (KWD: three decimals).
    let currency = order.purchase_currency.to_ascii_uppercase();
    let amount = minor_unit_exponent(&currency).map_or(Value::from(remaining), |exponent| {
        Decimal::from_minor_units(remaining, exponent).to_json_number()
    });
    let key = kustom::idempotency_key(&["release", &target.kustom_order_id]);
    let reply = steps.http(kustom::release_remaining_authorization(
        &job.settings,
        &target.kustom_order_id,
        &key,
    )?)?;
    match kustom::classify(&reply) {
        Outcome::Success(_) => {
            log.push(format!("released {remaining} left authorized at Kustom"));
            let note = activity(
                target,
                "Released the remaining Kustom authorization of {{amount}} {{currencyCode}} (order {{kustomOrderId}})",
                json!({"amount": amount, "currencyCode": currency, "kustomOrderId": target.kustom_order_id}),
            );
            Ok(Output::done(vec![note], log))
        }
        Outcome::Permanent(error) => Ok(stop(
            job,
            target,
            Code::ReleaseNotAllowed,
            &error.summary(),
            log,
        )),
        Outcome::Transient { reason, .. } => Ok(retry(job, target, &reason, log)),
        failed => {
            let (code, why) = failed.failure();
            Ok(stop(job, target, code, &why, log))
        }
    }
}

/// The payment's authorization set `failed` (voided), with an activity log line, in one message.
fn void(target: &Target, mut log: Vec<String>) -> Output {
    let commands = json!([
        {"type": "setAuthorizationState", "authorizationNumber": target.kustom_order_id, "authorizationState": VOIDED_STATE},
        TicketCommand::activity_log(
            "Kustom order {{kustomOrderId}} cancelled; authorization voided",
            json!({"kustomOrderId": target.kustom_order_id}).as_object().cloned().unwrap_or_default(),
        ),
    ]);
    log.push(format!(
        "payment {}: authorization voided",
        target.payment_id
    ));
    Output::done(
        vec![Effect::MessageActor {
            actor_type: "payment".into(),
            actor_id: target.payment_id.clone(),
            message_type: "applyCommands".into(),
            body: json!({ "commands": commands }),
        }],
        log,
    )
}

fn wait(job: &Job, target: &Target, mut log: Vec<String>) -> Output {
    let p = &job.parameters;
    if p.waits >= MAX_WAITS {
        return stop(
            job,
            target,
            Code::CapturesPending,
            "captures were still pending a day after the order was delivered",
            log,
        );
    }
    log.push(format!(
        "payment {}: a capture is still pending; checking again in {WAIT_SECONDS} s",
        target.payment_id
    ));
    let parameters = ReleaseJobParameters {
        waits: p.waits.saturating_add(1),
        ..p.clone()
    };
    Output::done(
        vec![schedule_job(
            RELEASE_JOB,
            &parameters,
            &job.now.plus_seconds(WAIT_SECONDS),
        )],
        log,
    )
}

fn activity(target: &Target, template: &str, dynamic: Value) -> Effect {
    TicketCommand::activity_log(template, dynamic.as_object().cloned().unwrap_or_default())
        .to_actor("payment", &target.payment_id)
}

fn what(job: &Job) -> &'static str {
    match job.parameters.reason {
        ReleaseReason::OrderCancelled => "cancel",
        ReleaseReason::OrderDelivered => "release",
    }
}

/// A definite outcome that retrying cannot change: logged on the payment, job ends.
fn stop(job: &Job, target: &Target, code: Code, why: &str, mut log: Vec<String>) -> Output {
    log.push(format!(
        "Kustom order {}: {} failed: {code}: {why}",
        target.kustom_order_id,
        what(job)
    ));
    let note = activity(
        target,
        "Kustom {{operation}} of order {{kustomOrderId}} failed: {{code}}: {{reason}}",
        json!({"operation": what(job), "code": code, "reason": why, "kustomOrderId": target.kustom_order_id}),
    );
    Output::done(vec![note], log)
}

fn retry(job: &Job, target: &Target, reason: &str, log: Vec<String>) -> Output {
    RETRIES.retry_or_give_up(
        RELEASE_JOB,
        &job.parameters,
        &job.now,
        reason,
        log,
        |why, log| stop(job, target, Code::KustomUnavailable, &why, log),
    )
}
