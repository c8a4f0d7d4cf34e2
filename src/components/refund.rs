//! Rule `refund` on the platform's `OnPaymentCapture`: Hantera has no refund hook. Like its
//! PayPal app, the app refunds when a capture's remaining balance shows an over-charge: a
//! capture whose amount the platform lowered (a return, a credit) below what was charged has a
//! negative `remainingAmount`, and that much is refunded at Kustom (`refundOrder`). Recording
//! the refund on the payment raises the balance back to zero, which fires the hook again with
//! nothing to do. Anything else — another provider, a balance ≥ 0 — gives no effects.

use crate::currency::minor_unit_exponent;
use crate::decimal::Decimal;
use crate::error::{parse, AppError};
use crate::host::{finish, Effect, Envelope, Interrupt, Output};
use crate::instant::Instant;
use crate::kustom::checked_order_id;
use crate::payment::HookPayment as Payment;
use serde::Deserialize;
use serde_json::{json, Value};

pub use super::capture::PROVIDER_KEY;
pub use crate::jobs::{RefundJobParameters, REFUND_JOB as JOB_DEFINITION};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentCapture {
    payment_capture_id: String,
    remaining_amount: Decimal,
    #[serde(default)]
    captured_amount: Option<Decimal>,
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
    let currency = payment.currency_code.to_ascii_uppercase();
    let exponent = minor_unit_exponent(&currency).ok_or_else(|| {
        AppError::bad_input(
            "payment.currencyCode",
            format!("{:?} is not an ISO 4217 currency", payment.currency_code),
        )
    })?;
    let remaining = capture
        .remaining_amount
        .to_minor_units(exponent)
        .ok_or_else(|| AppError::bad_input("capture.remainingAmount", "is out of range"))?;
    // A balance ≥ 0 is not an over-charge; less than one minor unit below is rounding.
    let Some(over_charge) = remaining.checked_neg().filter(|minor| *minor > 0) else {
        return skip(format!(
            "capture {} is not over-charged",
            capture.payment_capture_id
        ));
    };
    let captured = capture
        .captured_amount
        .unwrap_or(Decimal::ZERO)
        .to_minor_units(exponent)
        .filter(|minor| *minor >= 0)
        .ok_or_else(|| {
            AppError::bad_input("capture.capturedAmount", "is not an amount ≥ 0 in range")
        })?;
    let order_id = payment.external_reference.as_deref().ok_or_else(|| {
        AppError::bad_input(
            "payment.externalReference",
            "a Kustom payment must carry the Kustom order id",
        )
    })?;
    checked_order_id(order_id)?;

    let amount = Decimal::from_minor_units(over_charge, exponent);
    let parameters = RefundJobParameters {
        payment_id: payment.payment_id.clone(),
        payment_capture_id: capture.payment_capture_id.clone(),
        kustom_order_id: order_id.to_string(),
        amount: amount.to_json_number(),
        captured_amount: Decimal::from_minor_units(captured, exponent).to_json_number(),
        currency_code: currency,
        attempt: 0,
    };
    let log = format!(
        "payment {}: capture {} over-charged by {amount} {}; refund scheduled at Kustom order {order_id}",
        payment.payment_id, capture.payment_capture_id, parameters.currency_code
    );
    let effect = Effect::ScheduleJob {
        definition: JOB_DEFINITION.into(),
        parameters: json!(parameters).into(),
        at: now.to_iso(),
    };
    Ok(Output::done(vec![effect], vec![log]))
}
