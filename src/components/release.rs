//! Rule `release` on the platform's `OnOrderCommands` (`{hook, before: Order, order: Order}`):
//! when a command batch moves the order into a state where its Kustom authorization will not be
//! captured (more), schedule `releaseAuthorization`:
//! - the order became `cancelled`: cancel the Kustom order (or, when something was captured
//!   already, release what is left) — right away;
//! - the order's deliveries all became `completed`: release what is left authorized — after
//!   [`DELIVERED_RELEASE_DELAY_SECONDS`], so that the captures the platform creates on delivery
//!   are made first (the job also waits while any is pending).
//!
//! Which order states and delivery states mean this is the app's choice where the platform notes
//! are silent (docs/host-contract.md): [`CANCELLED_STATE`], [`DELIVERED_STATE`].

use crate::error::{parse, AppError};
use crate::host::{finish, Envelope, Interrupt, Output};
use crate::instant::Instant;
use crate::jobs::{ReleaseJobParameters, ReleaseReason};
use crate::retry::schedule_job;
use serde::Deserialize;
use serde_json::Value;

pub use crate::jobs::RELEASE_JOB as JOB_DEFINITION;

/// The order state of a cancelled order (the cookbook's `setOrderState 'cancelled'`).
pub const CANCELLED_STATE: &str = "cancelled";
/// The delivery state of a shipped delivery (the cookbook's `deliveryState: 'completed'`).
pub const DELIVERED_STATE: &str = "completed";
/// How long after the last delivery completed the remaining authorization is released.
pub const DELIVERED_RELEASE_DELAY_SECONDS: i64 = 3600;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: String,
    #[serde(default)]
    order_state: Option<String>,
    #[serde(default)]
    deliveries: Vec<Delivery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    #[serde(default)]
    delivery_state: Option<String>,
}

impl Order {
    fn cancelled(&self) -> bool {
        self.order_state.as_deref() == Some(CANCELLED_STATE)
    }

    fn fully_delivered(&self) -> bool {
        !self.deliveries.is_empty()
            && self
                .deliveries
                .iter()
                .all(|d| d.delivery_state.as_deref() == Some(DELIVERED_STATE))
    }
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Result<Output, Interrupt> {
    let envelope: Envelope = parse(input, "input")?;
    let now = Instant::parse(&envelope.now)?;
    let order: Order = parse(input.get("order").unwrap_or(&Value::Null), "order")?;
    // No `before` (a host that sends none): every state counts as new.
    let before: Option<Order> = match input.get("before") {
        None | Some(Value::Null) => None,
        Some(value) => Some(parse(value, "before")?),
    };
    if before
        .as_ref()
        .is_some_and(|b| b.order_id != order.order_id)
    {
        return Err(AppError::bad_input("before.orderId", "is not the order's id").into());
    }
    let was = |check: fn(&Order) -> bool| before.as_ref().is_some_and(check);
    let (reason, at) = if order.cancelled() && !was(Order::cancelled) {
        (ReleaseReason::OrderCancelled, now.clone())
    } else if order.fully_delivered() && !order.cancelled() && !was(Order::fully_delivered) {
        (
            ReleaseReason::OrderDelivered,
            now.plus_seconds(DELIVERED_RELEASE_DELAY_SECONDS),
        )
    } else {
        return Ok(Output::done(
            vec![],
            vec![format!(
                "order {}: not newly cancelled or delivered; nothing to release",
                order.order_id
            )],
        ));
    };
    let parameters = ReleaseJobParameters {
        order_id: order.order_id.clone(),
        reason,
        attempt: 0,
        waits: 0,
    };
    let log = format!(
        "order {}: {}; releaseAuthorization scheduled at {}",
        order.order_id,
        match reason {
            ReleaseReason::OrderCancelled => "cancelled",
            ReleaseReason::OrderDelivered => "every delivery completed",
        },
        at.to_iso()
    );
    Ok(Output::done(
        vec![schedule_job(JOB_DEFINITION, &parameters, &at)],
        vec![log],
    ))
}
