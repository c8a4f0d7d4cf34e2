//! What a rule hands a job: each job's definition name (as `manifest.toml` declares it) and its
//! parameters. Kept apart from the components so that the host contract (`host.rs`) can print
//! them without importing a component.

use crate::error::{parse, AppError};
use crate::host::Envelope;
use crate::instant::Instant;
use crate::settings::Settings;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a job starts from: its parameters, the app's settings and the host's time.
pub struct Job<P> {
    pub parameters: P,
    pub settings: Settings,
    pub now: Instant,
}

impl<P: DeserializeOwned> Job<P> {
    /// Reads the three from a job's input (its parameters are at the top level).
    pub fn from_input(input: &Value) -> Result<Job<P>, AppError> {
        let envelope: Envelope = parse(input, "input")?;
        Ok(Job {
            parameters: parse(input, "input")?,
            settings: Settings::from_input(input)?,
            now: Instant::parse(&envelope.now)?,
        })
    }
}

/// `syncKustomOrder`, scheduled by the `cart-kustom-sync` rule.
pub const SYNC_JOB: &str = "syncKustomOrder";
/// `captureOrder`, scheduled by the `capture` rule.
pub const CAPTURE_JOB: &str = "captureOrder";
/// `watchKustomOrder`, scheduled by the checkout ingress for each Kustom order it creates.
pub const WATCHDOG_JOB: &str = "watchKustomOrder";
/// `refundOrder`, scheduled by the `refund` rule.
pub const REFUND_JOB: &str = "refundOrder";
/// `releaseAuthorization`, scheduled by the `release` rule.
pub const RELEASE_JOB: &str = "releaseAuthorization";
/// `setKustomOrderNumber`, scheduled by the `order-number` rule.
pub const ORDER_NUMBER_JOB: &str = "setKustomOrderNumber";

/// The `syncKustomOrder` job's parameters. The payload itself is not among them: the rule stores
/// it on the cart beside its hash (`kustomPendingPayload`), the job pushes it from there, and
/// it crosses the boundary once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncJobParameters {
    /// How many times this sync was already retried after a transient failure.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
    pub cart_id: String,
    pub hash: String,
    pub kustom_order_id: String,
    /// Set when an earlier attempt may have reached Kustom unseen (timeout, 5xx): push the
    /// cart's current pending payload even if it is not this job's own (see the job).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reassert: bool,
}

/// The `captureOrder` job's parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureJobParameters {
    pub payment_id: String,
    pub payment_capture_id: String,
    pub kustom_order_id: String,
    /// The amount to capture, exactly as the platform gave it (the charge repeats it).
    pub amount: Value,
    pub currency_code: String,
    /// Retries so far after transient failures.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
    /// Times the order was found in Kustom's fraud review (`fraud_status: PENDING`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub review_checks: u32,
    /// Carrier and tracking of the delivery, when the platform knows them: sent with the
    /// capture as Kustom's `shipping_info` (already in Kustom's shape, checked by the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_info: Option<Value>,
}

/// The `refundOrder` job's parameters: one over-charge of one platform capture.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundJobParameters {
    pub payment_id: String,
    pub payment_capture_id: String,
    pub kustom_order_id: String,
    /// The amount to refund (the capture's over-charge, positive), in the currency's units.
    pub amount: Value,
    /// The capture's `capturedAmount` when the over-charge was seen: with the capture id, it
    /// names this refund among several of one capture (each refund lowers it).
    pub captured_amount: Value,
    pub currency_code: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

/// Why the authorization of an order's Kustom payment is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReleaseReason {
    /// The platform's order was cancelled: cancel the Kustom order (or, when something was
    /// captured already, release what is left).
    OrderCancelled,
    /// Every delivery of the order completed: release what is left authorized.
    OrderDelivered,
}

/// The `releaseAuthorization` job's parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseJobParameters {
    pub order_id: String,
    pub reason: ReleaseReason,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
    /// Times the job found captures still pending on the payment and waited for them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waits: u32,
}

/// The `setKustomOrderNumber` job's parameters: the platform order (its Kustom payment names the
/// Kustom order) and the number to show at Kustom, exactly as the platform gave it. The job checks
/// it; a retry carries the same number, so it never sends another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNumberJobParameters {
    pub order_id: String,
    pub order_number: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

/// The `watchKustomOrder` job's parameters: which order of which cart, when it was created (the
/// checks are timed from then), and which check of the schedule this run is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchdogParameters {
    pub cart_id: String,
    pub kustom_order_id: String,
    /// When the checkout created the order (ISO 8601).
    pub since: String,
    /// The check of the schedule this run is (0 = the first).
    #[serde(default)]
    pub check: u32,
    /// Retries of this check after transient failures.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The Order Management jobs count their retries (`retry::Schedule::retry_or_give_up`).
macro_rules! attempts {
    ($($parameters:ty),*) => {$(
        impl crate::retry::Attempts for $parameters {
            fn attempt(&self) -> u32 {
                self.attempt
            }
            fn set_attempt(&mut self, attempt: u32) {
                self.attempt = attempt;
            }
        }
    )*};
}
attempts!(
    CaptureJobParameters,
    RefundJobParameters,
    ReleaseJobParameters,
    OrderNumberJobParameters
);
