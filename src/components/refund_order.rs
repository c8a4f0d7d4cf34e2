//! Job `refundOrder`: refunds a capture's over-charge at Kustom's Order Management API and
//! records the refund on the payment (the payment actor's `refund` message).
//!
//! Never twice:
//! - the refund is named by the platform's ids: (order, capture id, the capture's charged
//!   amount when the over-charge was seen, amount). Each recorded refund lowers the charged
//!   amount, so a second refund of the same size on the same capture has another name, and a
//!   retry of this one has the same;
//! - that name is the `Klarna-Idempotency-Key` (a retried request inside Kustom's 24 h window
//!   replays the first answer) and the refund's `reference`: a refund Kustom already holds with
//!   that reference and amount (an earlier run that died after Kustom answered) is recognised and
//!   only recorded;
//! - the payment is read first and right before recording: an over-charge the platform no
//!   longer shows (recorded meanwhile) is not refunded or recorded again.
//!
//! Outcomes, each logged on the payment's activity log when it stops the job: order gone,
//! currency mismatch, more than Kustom holds captured and not yet refunded (nothing sent),
//! `REFUND_NOT_ALLOWED` and other refusals. Transient failures (5xx, 429, timeouts) retry on
//! Kustom's schedule for OM calls (5 s, 5 min, 5 h), then stop, logged.

use super::capture_order::RETRIES;
use crate::currency::minor_unit_exponent;
use crate::decimal::Decimal;
use crate::error::{parse, AppError, Code};
use crate::host::{finish, Effect, Envelope, Output, Step, Steps, TicketCommand};
use crate::instant::Instant;
use crate::jobs::{RefundJobParameters, REFUND_JOB};
use crate::kustom::{self, OmOrder, Outcome};
use crate::payment;
use crate::settings::Settings;
use serde_json::{json, Value};

struct Job {
    parameters: RefundJobParameters,
    settings: Settings,
    now: Instant,
    amount: Decimal,
    amount_minor: i64,
    captured_minor: i64,
    exponent: u32,
    /// The refund's name: idempotency key and `reference`.
    key: String,
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let envelope: Envelope = parse(input, "input")?;
    let job = job(input, &envelope)?;
    let mut steps = Steps::replaying(input, "jobs/refund-order");
    let p = &job.parameters;

    if !still_over_charged(&mut steps, &job)? {
        return Ok(Output::done(
            vec![],
            vec![format!(
                "payment {}: capture {} no longer shows this over-charge; nothing to refund",
                p.payment_id, p.payment_capture_id
            )],
        ));
    }
    let order = read_order(&mut steps, &job)?;
    let mut log = vec![format!(
        "Kustom order {}: {}, {} captured, {} refunded {}",
        p.kustom_order_id,
        order.status,
        order.captured_amount,
        order.refunded_amount,
        order.purchase_currency
    )];
    // An earlier run may have refunded and died before recording the refund.
    if let Some(existing) = order.refunds.iter().find(|r| {
        r.reference.as_deref() == Some(job.key.as_str()) && r.refunded_amount == job.amount_minor
    }) {
        let refund_id = existing
            .refund_id
            .clone()
            .unwrap_or_else(|| job.key.clone());
        log.push(format!(
            "Kustom already holds refund {refund_id} for this over-charge"
        ));
        return record(&mut steps, &job, &refund_id, log);
    }
    if let Err(not_now) = refundable(&job, &order, &mut log) {
        return Ok(not_now);
    }
    let refund_id = refund(&mut steps, &job, &mut log)?;
    record(&mut steps, &job, &refund_id, log)
}

fn job(input: &Value, envelope: &Envelope) -> Result<Job, AppError> {
    let parameters: RefundJobParameters = parse(input, "input")?;
    let settings = Settings::from_input(input)?;
    let currency = parameters.currency_code.to_ascii_uppercase();
    let exponent = minor_unit_exponent(&currency).ok_or_else(|| {
        AppError::bad_input(
            "currencyCode",
            format!("{:?} is not an ISO 4217 currency", parameters.currency_code),
        )
    })?;
    let amount: Decimal = parse(&parameters.amount, "amount")?;
    let amount_minor = amount
        .to_minor_units(exponent)
        .filter(|minor| *minor > 0 && *minor <= kustom::OM_MAX_AMOUNT)
        .ok_or_else(|| {
            AppError::bad_input(
                "amount",
                format!("{amount} is not a positive amount Kustom can refund"),
            )
        })?;
    let captured: Decimal = parse(&parameters.captured_amount, "capturedAmount")?;
    let captured_minor = captured
        .to_minor_units(exponent)
        .filter(|minor| *minor >= 0)
        .ok_or_else(|| AppError::bad_input("capturedAmount", "is not an amount ≥ 0 in range"))?;
    kustom::checked_order_id(&parameters.kustom_order_id)?;
    let key = refund_key(
        &parameters.kustom_order_id,
        &parameters.payment_capture_id,
        captured_minor,
        amount_minor,
    );
    Ok(Job {
        now: Instant::parse(&envelope.now)?,
        parameters,
        settings,
        amount,
        amount_minor,
        captured_minor,
        exponent,
        key,
    })
}

/// The refund's name, from the platform's ids: the same for every retry of one refund, another
/// for the next refund of the same capture (its charged amount is lower by then).
pub fn refund_key(
    order_id: &str,
    capture_id: &str,
    captured_minor: i64,
    amount_minor: i64,
) -> String {
    kustom::idempotency_key(&[
        "refund",
        order_id,
        capture_id,
        &captured_minor.to_string(),
        &amount_minor.to_string(),
    ])
}

fn still_over_charged(steps: &mut Steps, job: &Job) -> Step<bool> {
    let p = &job.parameters;
    let reply = steps.actor(payment::read_payment(&p.payment_id))?;
    let Some(payment) = payment::parse_payment(reply)? else {
        return Ok(false);
    };
    Ok(payment
        .over_charged_capture(
            &p.payment_capture_id,
            job.amount_minor,
            job.captured_minor,
            job.exponent,
        )
        .is_some())
}

/// The order as Order Management has it; a failed read ends the run (retry or stop).
fn read_order(steps: &mut Steps, job: &Job) -> Step<OmOrder> {
    kustom::read_om_order_or_end(
        steps,
        &job.settings,
        &job.parameters.kustom_order_id,
        |reason| retry(job, reason, vec![]),
        |code, why| stop(job, code, why, vec![]),
    )
}

/// Whether Kustom can take this refund: same currency, and no more than it holds captured and
/// not yet refunded (checked here so that nothing is sent that Kustom must refuse).
fn refundable(job: &Job, order: &OmOrder, log: &mut Vec<String>) -> Result<(), Output> {
    let p = &job.parameters;
    if !order
        .purchase_currency
        .eq_ignore_ascii_case(&p.currency_code)
    {
        let why = format!(
            "the order is in {}, the refund in {}",
            order.purchase_currency, p.currency_code
        );
        return Err(stop(job, Code::CurrencyMismatch, &why, std::mem::take(log)));
    }
    let refundable = order.captured_amount.saturating_sub(order.refunded_amount);
    if job.amount_minor > refundable {
        let why = format!(
            "{} minor units asked, {refundable} captured and not yet refunded",
            job.amount_minor
        );
        return Err(stop(
            job,
            Code::RefundAboveCaptured,
            &why,
            std::mem::take(log),
        ));
    }
    Ok(())
}

/// `POST …/refunds`; the Kustom refund id.
fn refund(steps: &mut Steps, job: &Job, log: &mut Vec<String>) -> Step<String> {
    let p = &job.parameters;
    let body = json!({
        "refunded_amount": job.amount_minor,
        "reference": job.key,
        "description": "Refund",
    });
    let reply = steps.http(kustom::create_refund(
        &job.settings,
        &p.kustom_order_id,
        body,
        &job.key,
    )?)?;
    let ended = match kustom::classify(&reply) {
        Outcome::Success(_) => match kustom::created_id(&reply, "Refund-Id", "refund_id") {
            Some(refund_id) => {
                log.push(format!(
                    "refunded {} at Kustom: refund {refund_id}",
                    job.amount_minor
                ));
                return Ok(refund_id);
            }
            // Refunded, but the answer lacks the id: the next run finds it by reference.
            None => retry(
                job,
                "the refund answer had no Refund-Id",
                std::mem::take(log),
            ),
        },
        Outcome::Permanent(error) => {
            let code = match error.code.as_deref() {
                Some("REFUND_NOT_ALLOWED") => Code::RefundNotAllowed,
                _ => Code::KustomRefused,
            };
            stop(job, code, &error.summary(), std::mem::take(log))
        }
        Outcome::Transient { reason, .. } => retry(job, &reason, std::mem::take(log)),
        failed => {
            let (code, why) = failed.failure();
            stop(job, code, &why, std::mem::take(log))
        }
    };
    Err(ended.into())
}

/// Records the refund on the payment — unless the platform already shows it recorded.
fn record(steps: &mut Steps, job: &Job, refund_id: &str, mut log: Vec<String>) -> Step {
    let p = &job.parameters;
    if !still_over_charged(steps, job)? {
        log.push(format!(
            "the over-charge of capture {} was settled meanwhile; not recording again",
            p.payment_capture_id
        ));
        return Ok(Output::done(vec![], log));
    }
    let amount = job.amount.to_json_number();
    let refund = Effect::MessageActor {
        actor_type: "payment".into(),
        actor_id: p.payment_id.clone(),
        message_type: "refund".into(),
        body: json!({
            "amount": amount,
            "paymentCaptureId": p.payment_capture_id,
            "transactionReference": refund_id,
        }),
    };
    let note = activity(
        job,
        "Refunded {{amount}} {{currencyCode}} at Kustom (refund {{kustomRefundId}}, order {{kustomOrderId}})",
        json!({"amount": amount, "currencyCode": p.currency_code, "kustomRefundId": refund_id, "kustomOrderId": p.kustom_order_id}),
    );
    log.push(format!(
        "payment {}: refund {} recorded with transaction reference {refund_id}",
        p.payment_id, job.amount
    ));
    Ok(Output::done(vec![refund, note], log))
}

fn activity(job: &Job, template: &str, dynamic: Value) -> Effect {
    TicketCommand::activity_log(template, dynamic.as_object().cloned().unwrap_or_default())
        .to_actor("payment", &job.parameters.payment_id)
}

/// A definite outcome that retrying cannot change: logged on the payment, job ends.
fn stop(job: &Job, code: Code, why: &str, mut log: Vec<String>) -> Output {
    let p = &job.parameters;
    log.push(format!(
        "over-charge of capture {} not refunded: {code}: {why}",
        p.payment_capture_id
    ));
    let note = activity(
        job,
        "Kustom refund of {{amount}} {{currencyCode}} failed: {{code}}: {{reason}}",
        json!({"amount": job.amount.to_json_number(), "currencyCode": p.currency_code, "code": code, "reason": why, "kustomOrderId": p.kustom_order_id}),
    );
    Output::done(vec![note], log)
}

fn retry(job: &Job, reason: &str, log: Vec<String>) -> Output {
    RETRIES.retry_or_give_up(
        REFUND_JOB,
        &job.parameters,
        &job.now,
        reason,
        log,
        |why, log| stop(job, Code::KustomUnavailable, &why, log),
    )
}
