//! Rule `capture` on the platform's `OnPaymentCapture`: for a Kustom payment with a pending
//! capture that still has an amount to charge, schedule `captureOrder`. Anything else — another
//! provider, a completed capture, nothing remaining — gives no effects.

use crate::currency::minor_unit_exponent;
use crate::decimal::Decimal;
use crate::error::{parse, AppError};
use crate::host::{finish, Effect, Envelope, Interrupt, Output};
use crate::instant::Instant;
use crate::kustom::checked_order_id;
use crate::payment::HookPayment as Payment;
use serde::Deserialize;
use serde_json::{json, Value};

pub use crate::jobs::{CaptureJobParameters, CAPTURE_JOB as JOB_DEFINITION};
pub use crate::payment::PROVIDER_KEY;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentCapture {
    payment_capture_id: String,
    state: String,
    remaining_amount: Decimal,
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Result<Output, Interrupt> {
    let envelope: Envelope = parse(input, "input")?;
    let now = Instant::parse(&envelope.now)?;
    let payment: Payment = parse(input.get("payment").unwrap_or(&Value::Null), "payment")?;
    let capture: PaymentCapture = parse(input.get("capture").unwrap_or(&Value::Null), "capture")?;
    let skip = |why: String| Ok(Output::done(vec![], vec![why]));

    if payment.provider_key.as_deref() != Some(PROVIDER_KEY) {
        return skip(format!(
            "payment {} is not a Kustom payment",
            payment.payment_id
        ));
    }
    if capture.state != "pending" {
        return skip(format!(
            "capture {} is {}: nothing to capture",
            capture.payment_capture_id, capture.state
        ));
    }
    let exponent =
        minor_unit_exponent(&payment.currency_code.to_ascii_uppercase()).ok_or_else(|| {
            AppError::bad_input(
                "payment.currencyCode",
                format!("{:?} is not an ISO 4217 currency", payment.currency_code),
            )
        })?;
    if capture
        .remaining_amount
        .to_minor_units(exponent)
        .is_none_or(|minor| minor <= 0)
    {
        return skip(format!(
            "capture {} has nothing remaining",
            capture.payment_capture_id
        ));
    }
    let order_id = payment.external_reference.as_deref().ok_or_else(|| {
        AppError::bad_input(
            "payment.externalReference",
            "a Kustom payment must carry the Kustom order id",
        )
    })?;
    checked_order_id(order_id)?;
    // The delivery's carrier and tracking, when the platform gives them with the capture.
    let (shipping_info, dropped) =
        crate::kustom::shipping_info(input["capture"].get("shippingInfo").unwrap_or(&Value::Null));

    let parameters = CaptureJobParameters {
        payment_id: payment.payment_id.clone(),
        payment_capture_id: capture.payment_capture_id.clone(),
        kustom_order_id: order_id.to_string(),
        amount: input["capture"]["remainingAmount"].clone(),
        currency_code: payment.currency_code.to_ascii_uppercase(),
        attempt: 0,
        review_checks: 0,
        shipping_info: (!shipping_info.is_empty()).then_some(Value::Array(shipping_info)),
    };
    let mut log = dropped;
    log.push(format!(
        "payment {}: capture {} of {} {} scheduled at Kustom order {order_id}",
        payment.payment_id,
        capture.payment_capture_id,
        capture.remaining_amount,
        parameters.currency_code
    ));
    let effect = Effect::ScheduleJob {
        definition: JOB_DEFINITION.into(),
        parameters: json!(parameters).into(),
        at: now.to_iso(),
    };
    Ok(Output::done(vec![effect], log))
}
