//! Rule `order-number` on the platform's `OnOrderCreated`: the platform made an order (from a
//! completed cart), so schedule `setKustomOrderNumber`, which puts the order's number at Kustom
//! as `merchant_reference1` — the number Kustom shows the customer — when the order was paid with
//! Kustom.
//!
//! The rule makes no call. Which orders are Kustom's is only known from the order's payments, so
//! the job reads them (as `releaseAuthorization` does for `rules/release`), and the rule stays a
//! function of the hook's payload: an order paid otherwise costs one job run and one payments
//! query, and nothing reaches Kustom. The job also checks the number (it logs a refusal on the
//! Kustom payment, which only it knows); the rule checks only that the payload has one.
//!
//! The hook's payload is not documented: [`HookOrder`] is the one place that reads it
//! (docs/host-contract.md, "Choices made where the platform is silent").

use crate::error::{parse, AppError};
use crate::host::{finish, Envelope, Interrupt, Output};
use crate::instant::Instant;
use crate::jobs::OrderNumberJobParameters;
use crate::payment;
use crate::retry::schedule_job;
use serde::Deserialize;
use serde_json::Value;

pub use crate::jobs::ORDER_NUMBER_JOB as JOB_DEFINITION;

/// The hook this rule listens on (`manifest.toml`).
pub const HOOK: &str = "OnOrderCreated";

/// **[?]** `OnOrderCreated`'s payload is `{hook: 'OnOrderCreated', order: Order}`, like
/// `OnOrderCommands {before, order}` in the cookbook; of the order, only its id and number are
/// read (`channelKey` and the rest are ignored). Change it here if the platform says otherwise.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HookOrder {
    order_id: String,
    order_number: String,
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Result<Output, Interrupt> {
    let envelope: Envelope = parse(input, "input")?;
    let now = Instant::parse(&envelope.now)?;
    let order: HookOrder = parse(input.get("order").unwrap_or(&Value::Null), "order")?;
    // Checked here too, so that a malformed id fails the hook, not a job later.
    payment::checked_order_id(&order.order_id)
        .map_err(|_| AppError::bad_input("order.orderId", "is not a platform order id"))?;
    let log = format!(
        "order {}: created; {JOB_DEFINITION} scheduled at {}",
        order.order_id,
        now.to_iso()
    );
    let parameters = OrderNumberJobParameters {
        order_id: order.order_id,
        order_number: order.order_number,
        attempt: 0,
    };
    Ok(Output::done(
        vec![schedule_job(JOB_DEFINITION, &parameters, &now)],
        vec![log],
    ))
}
