//! Job `captureOrder`: captures a pending platform capture at Kustom's Order Management API and
//! records the charge on the payment.
//!
//! Never twice:
//! - the capture carries `reference = paymentCaptureId`; a capture Kustom already holds with
//!   that reference and amount (an earlier run that died after Kustom answered) is recognised
//!   and not repeated;
//! - the `Klarna-Idempotency-Key` is derived from (order, capture id, amount), so a retried
//!   request inside Kustom's 24 h window replays the first answer instead of capturing again;
//! - the payment is read right before the charge: a capture the platform already completed is
//!   not charged again.
//!
//! Outcomes, each logged on the payment's activity log when it stops the job: order gone,
//! cancelled/expired/closed, fraud review rejected, amount above the remaining authorization,
//! `CAPTURE_NOT_ALLOWED` (after one authorization extension), other refusals. An authorization
//! that expires within 48 h is extended first. Transient failures (5xx, 429, timeouts) retry
//! on Kustom's documented schedule for OM calls (5 s, 5 min, 5 h) and then stop, logged; a
//! fraud review in progress is re-checked hourly for a day.

use super::capture::{CaptureJobParameters, JOB_DEFINITION};
use crate::currency::minor_unit_exponent;
use crate::decimal::Decimal;
use crate::error::Code;
use crate::error::{parse, AppError};
use crate::host::{finish, Effect, Envelope, HttpReply, Output, Step, Steps, TicketCommand};
use crate::instant::Instant;
use crate::kustom::{self, ApiError, OmOrder, Outcome};
use crate::payment;
use crate::retry::{schedule_job, Schedule};
use crate::settings::Settings;
use serde_json::{json, Value};

/// Kustom's retry policy for OM calls: after 5 s, 5 min and 5 h, then escalate to a human.
pub const RETRIES: Schedule = Schedule(&[5, 300, 18_000]);
/// Re-check an order in fraud review every hour, for a day (Kustom: at most 24 h).
pub const REVIEW_DELAY_SECONDS: i64 = 3600;
pub const MAX_REVIEW_CHECKS: u32 = 24;
/// Extend the authorization before capturing when it expires sooner than this.
pub const EXTEND_WHEN_EXPIRING_WITHIN_SECONDS: i64 = 48 * 3600;

struct Job {
    parameters: CaptureJobParameters,
    settings: Settings,
    now: Instant,
    amount: Decimal,
    amount_minor: i64,
    exponent: u32,
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let envelope: Envelope = parse(input, "input")?;
    let job = job(input, &envelope)?;
    let mut steps = Steps::replaying(input, "jobs/capture-order");
    let p = &job.parameters;

    let (pending, voided) = payment_state(&mut steps, &job)?;
    if pending && voided {
        // Never a capture after a cancel: the platform gave this authorization up.
        let why = "the payment's authorization was voided (its order was cancelled)";
        return Ok(stop(&job, Code::AuthorizationVoided, why, vec![]));
    }
    if !pending {
        return Ok(Output::done(
            vec![],
            vec![format!(
                "payment {}: capture {} is no longer pending; nothing to capture",
                p.payment_id, p.payment_capture_id
            )],
        ));
    }
    let order = read_order(&mut steps, &job)?;
    let mut log = vec![format!(
        "Kustom order {}: {} {}, {} {} authorized remaining",
        p.kustom_order_id,
        order.status,
        order.fraud_status.as_deref().unwrap_or("-"),
        order.remaining_authorized_amount,
        order.purchase_currency
    )];
    // An earlier run may have captured and died before recording the charge.
    if let Some(existing) = order.captures.iter().find(|c| {
        c.reference.as_deref() == Some(p.payment_capture_id.as_str())
            && c.captured_amount == job.amount_minor
    }) {
        log.push(format!(
            "Kustom already holds capture {} for this capture",
            existing.capture_id
        ));
        if existing.shipping_info.is_empty() {
            add_tracking(&mut steps, &job, &existing.capture_id, &mut log)?;
        }
        return charge(&mut steps, &job, &existing.capture_id.clone(), log);
    }
    if let Err(not_now) = capturable(&job, &order, &mut log) {
        return Ok(not_now);
    }
    let extended = expires_soon(&order, &job.now);
    if extended {
        extend(&mut steps, &job, &mut log)?;
    }
    let capture_id = capture(&mut steps, &job, extended, &mut log)?;
    charge(&mut steps, &job, &capture_id, log)
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

/// Whether this capture can go to Kustom now; otherwise the run's outcome (stop, or wait for
/// the fraud review).
fn capturable(job: &Job, order: &OmOrder, log: &mut Vec<String>) -> Result<(), Output> {
    let p = &job.parameters;
    if !order
        .purchase_currency
        .eq_ignore_ascii_case(&p.currency_code)
    {
        let why = format!(
            "the order is in {}, the capture in {}",
            order.purchase_currency, p.currency_code
        );
        return Err(stop(job, Code::CurrencyMismatch, &why, std::mem::take(log)));
    }
    let status = order.status.to_ascii_uppercase();
    if matches!(status.as_str(), "CANCELLED" | "EXPIRED" | "CLOSED") {
        let why = format!("the order is {status}: its authorization can no longer be captured");
        return Err(stop(
            job,
            Code::AuthorizationGone,
            &why,
            std::mem::take(log),
        ));
    }
    let fraud_status = order.fraud_status.as_deref().map(str::to_ascii_uppercase);
    match fraud_status.as_deref() {
        Some("REJECTED") => {
            let why = "Kustom's fraud review rejected the order";
            return Err(stop(job, Code::FraudRejected, why, std::mem::take(log)));
        }
        Some("PENDING") => return Err(await_review(job, std::mem::take(log))),
        _ => {}
    }
    if job.amount_minor > order.remaining_authorized_amount {
        let why = format!(
            "{} minor units asked, {} authorized remaining",
            job.amount_minor, order.remaining_authorized_amount
        );
        return Err(stop(
            job,
            Code::AboveRemainingAuthorization,
            &why,
            std::mem::take(log),
        ));
    }
    Ok(())
}

/// `POST …/captures`; the Kustom capture id. `CAPTURE_NOT_ALLOWED` extends the authorization
/// once (unless that was done already) and tries again; any other failure ends the run.
fn capture(
    steps: &mut Steps,
    job: &Job,
    mut extended: bool,
    log: &mut Vec<String>,
) -> Step<String> {
    let p = &job.parameters;
    loop {
        let mut body =
            json!({"captured_amount": job.amount_minor, "reference": p.payment_capture_id});
        if let Some(info) = &p.shipping_info {
            body["shipping_info"] = info.clone();
        }
        let key = kustom::idempotency_key(&[
            "capture",
            &p.kustom_order_id,
            &p.payment_capture_id,
            &job.amount_minor.to_string(),
        ]);
        let reply = steps.http(kustom::create_capture(
            &job.settings,
            &p.kustom_order_id,
            body,
            &key,
        )?)?;
        let ended = match kustom::classify(&reply) {
            Outcome::Success(body) => match capture_id(&reply, &body) {
                Some(capture_id) => {
                    log.push(format!(
                        "captured {} at Kustom: capture {capture_id}",
                        job.amount_minor
                    ));
                    return Ok(capture_id);
                }
                // Captured, but the answer lacks the id: the next run finds it by reference.
                None => retry(
                    job,
                    "the capture answer had no Capture-Id",
                    std::mem::take(log),
                ),
            },
            Outcome::Permanent(error)
                if error.code.as_deref() == Some("CAPTURE_NOT_ALLOWED") && !extended =>
            {
                // Perhaps the authorization ran out: extend once, then try again.
                log.push(format!(
                    "capture refused ({}); extending the authorization and retrying",
                    error.summary()
                ));
                extend(steps, job, log)?;
                extended = true;
                continue;
            }
            Outcome::Permanent(error) => refused(job, &error, std::mem::take(log)),
            Outcome::Transient { reason, .. } => retry(job, &reason, std::mem::take(log)),
            failed => {
                let (code, why) = failed.failure();
                stop(job, code, &why, std::mem::take(log))
            }
        };
        return Err(ended.into());
    }
}

fn job(input: &Value, envelope: &Envelope) -> Result<Job, AppError> {
    let parameters: CaptureJobParameters = parse(input, "input")?;
    let settings = Settings::from_input(input)?;
    let amount: Decimal = parse(&parameters.amount, "amount")?;
    let exponent = minor_unit_exponent(&parameters.currency_code).ok_or_else(|| {
        AppError::bad_input(
            "currencyCode",
            format!("{:?} is not an ISO 4217 currency", parameters.currency_code),
        )
    })?;
    let amount_minor = amount
        .to_minor_units(exponent)
        .filter(|minor| (1..=kustom::MAX_CAPTURED_AMOUNT).contains(minor))
        .ok_or_else(|| {
            AppError::bad_input(
                "amount",
                format!("{amount} is not a positive amount Kustom can capture"),
            )
        })?;
    kustom::checked_order_id(&parameters.kustom_order_id)?;
    if let Some(info) = &parameters.shipping_info {
        kustom::checked_shipping_info(info)?;
    }
    if parameters.payment_id.is_empty() {
        return Err(AppError::bad_input("paymentId", "is empty"));
    }
    if !(1..=kustom::MAX_REFERENCE_CHARS).contains(&parameters.payment_capture_id.chars().count()) {
        // It is the capture's `reference` at Kustom.
        return Err(AppError::bad_input(
            "paymentCaptureId",
            "longer than Kustom's capture reference takes",
        ));
    }
    Ok(Job {
        now: Instant::parse(&envelope.now)?,
        parameters,
        settings,
        amount,
        amount_minor,
        exponent,
    })
}

/// The payment as it is now (`None` when it is gone).
fn read_payment(steps: &mut Steps, job: &Job) -> Step<Option<payment::PaymentRecord>> {
    let reply = steps.actor(payment::read_payment(&job.parameters.payment_id))?;
    Ok(payment::parse_payment(reply)?)
}

/// Whether the platform capture still waits for this job's charge.
fn still_pending(payment: &payment::PaymentRecord, job: &Job) -> bool {
    let p = &job.parameters;
    payment
        .pending_capture(&p.payment_capture_id, job.amount, job.exponent)
        .is_some()
}

/// Whether the capture still waits for this charge, and whether the payment's authorization
/// (numbered by the Kustom order id) was voided.
fn payment_state(steps: &mut Steps, job: &Job) -> Step<(bool, bool)> {
    Ok(match read_payment(steps, job)? {
        Some(payment) => (
            still_pending(&payment, job),
            payment.authorization_voided(&job.parameters.kustom_order_id),
        ),
        None => (false, false),
    })
}

/// Tracking known now but not sent with the capture (an earlier run made it without): add it
/// to the capture. A failure is logged; it never stops the charge.
fn add_tracking(steps: &mut Steps, job: &Job, capture_id: &str, log: &mut Vec<String>) -> Step<()> {
    let p = &job.parameters;
    let Some(info) = &p.shipping_info else {
        return Ok(());
    };
    let key = kustom::idempotency_key(&["shipping-info", &p.kustom_order_id, capture_id]);
    let call = match kustom::add_capture_shipping_info(
        &job.settings,
        &p.kustom_order_id,
        capture_id,
        json!({"shipping_info": info}),
        &key,
    ) {
        Ok(call) => call,
        Err(error) => {
            log.push(format!("tracking not added: {}", error.message));
            return Ok(());
        }
    };
    let reply = steps.http(call)?;
    log.push(match kustom::classify(&reply) {
        Outcome::Success(_) => format!("tracking added to capture {capture_id}"),
        failed => format!(
            "tracking not added to capture {capture_id}: {}",
            failed.failure().1
        ),
    });
    Ok(())
}

/// Records Kustom's capture on the payment as a charge, once. The payment is read again first:
/// - the platform capture still pending: charge;
/// - no longer pending: the platform decides which pending capture a charge covers (the message
///   names none), so another job's charge may have covered this one (two equal captures, the
///   other charged first) while Kustom's capture is still unrecorded. The payment's charges say
///   which Kustom captures it holds (`transactionReference`): charged already → nothing; not
///   among them → charge, or Kustom would hold more than the platform's books. A payment whose
///   reply lists no charges cannot tell, and is left alone as before (logged).
fn charge(steps: &mut Steps, job: &Job, capture_id: &str, mut log: Vec<String>) -> Step {
    let p = &job.parameters;
    let Some(record) = read_payment(steps, job)? else {
        log.push(format!(
            "payment {} is gone; nothing to charge",
            p.payment_id
        ));
        return Ok(Output::done(vec![], log));
    };
    if !still_pending(&record, job) {
        match record.holds_charge(capture_id) {
            Some(false) => log.push(format!(
                "capture {} was covered by another charge meanwhile; Kustom's capture {capture_id} is not on the payment, recording it",
                p.payment_capture_id
            )),
            held => {
                log.push(format!(
                    "capture {} was completed meanwhile{}; not charging again",
                    p.payment_capture_id,
                    if held.is_some() { format!(" with Kustom's capture {capture_id}") } else { String::new() }
                ));
                return Ok(Output::done(vec![], log));
            }
        }
    }
    let charge = Effect::MessageActor {
        actor_type: "payment".into(),
        actor_id: p.payment_id.clone(),
        message_type: "charge".into(),
        body: json!({
            "amount": p.amount,
            "authorizationNumber": p.kustom_order_id,
            "transactionReference": capture_id,
        }),
    };
    let note = activity(
        job,
        "Captured {{amount}} {{currencyCode}} at Kustom (capture {{kustomCaptureId}}, order {{kustomOrderId}})",
        json!({"amount": p.amount, "currencyCode": p.currency_code, "kustomCaptureId": capture_id, "kustomOrderId": p.kustom_order_id}),
    );
    log.push(format!(
        "payment {}: charge {} recorded with transaction reference {capture_id}",
        p.payment_id, job.amount
    ));
    Ok(Output::done(vec![charge, note], log))
}

fn extend(steps: &mut Steps, job: &Job, log: &mut Vec<String>) -> Step<()> {
    let p = &job.parameters;
    // One extension per capture attempt: the key covers (order, capture id, amount).
    let key = kustom::idempotency_key(&[
        "extend",
        &p.kustom_order_id,
        &p.payment_capture_id,
        &job.amount_minor.to_string(),
    ]);
    let reply: HttpReply = steps.http(kustom::extend_authorization(
        &job.settings,
        &p.kustom_order_id,
        &key,
    )?)?;
    log.push(match kustom::classify(&reply) {
        Outcome::Success(_) => "authorization extended by 28 days".to_string(),
        Outcome::Permanent(error) => format!(
            "extending the authorization was refused ({}); capturing anyway",
            error.summary()
        ),
        Outcome::Transient { reason, .. } => {
            format!("extending the authorization failed ({reason}); capturing anyway")
        }
        Outcome::NotFound | Outcome::ReadOnly => {
            "extending the authorization: order not found".to_string()
        }
    });
    Ok(())
}

fn expires_soon(order: &OmOrder, now: &Instant) -> bool {
    order
        .expires_at
        .as_deref()
        .and_then(|at| Instant::parse(at).ok())
        .is_some_and(|at| {
            at.unix_seconds() - now.unix_seconds() < EXTEND_WHEN_EXPIRING_WITHIN_SECONDS
        })
}

/// `Capture-Id` header, else the last segment of `Location`, else a `capture_id` in the body.
fn capture_id(reply: &HttpReply, body: &Value) -> Option<String> {
    let from_location = || {
        reply
            .header("Location")
            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
    };
    reply
        .header("Capture-Id")
        .or_else(from_location)
        .or_else(|| body["capture_id"].as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

fn activity(job: &Job, template: &str, dynamic: Value) -> Effect {
    TicketCommand::activity_log(template, dynamic.as_object().cloned().unwrap_or_default())
        .to_actor("payment", &job.parameters.payment_id)
}

/// A definite outcome that retrying cannot change: logged on the payment, job ends.
fn stop(job: &Job, code: Code, why: &str, mut log: Vec<String>) -> Output {
    let p = &job.parameters;
    log.push(format!(
        "capture {} not captured: {code}: {why}",
        p.payment_capture_id
    ));
    let note = activity(
        job,
        "Kustom capture of {{amount}} {{currencyCode}} failed: {{code}}: {{reason}}",
        json!({"amount": p.amount, "currencyCode": p.currency_code, "code": code, "reason": why, "kustomOrderId": p.kustom_order_id}),
    );
    Output::done(vec![note], log)
}

fn refused(job: &Job, error: &ApiError, log: Vec<String>) -> Output {
    let code = match error.code.as_deref() {
        Some("CAPTURE_NOT_ALLOWED") => Code::CaptureNotAllowed,
        _ => Code::KustomRefused,
    };
    stop(job, code, &error.summary(), log)
}

fn retry(job: &Job, reason: &str, log: Vec<String>) -> Output {
    RETRIES.retry_or_give_up(
        JOB_DEFINITION,
        &job.parameters,
        &job.now,
        reason,
        log,
        |why, log| stop(job, Code::KustomUnavailable, &why, log),
    )
}

fn await_review(job: &Job, mut log: Vec<String>) -> Output {
    let p = &job.parameters;
    if p.review_checks >= MAX_REVIEW_CHECKS {
        return stop(
            job,
            Code::FraudReviewPending,
            "Kustom's fraud review did not finish within a day",
            log,
        );
    }
    log.push(format!(
        "order in fraud review; checking again in {REVIEW_DELAY_SECONDS} s"
    ));
    let parameters = CaptureJobParameters {
        review_checks: p.review_checks + 1,
        ..p.clone()
    };
    Output::done(
        vec![schedule_job(
            JOB_DEFINITION,
            &parameters,
            &job.now.plus_seconds(REVIEW_DELAY_SECONDS),
        )],
        log,
    )
}
