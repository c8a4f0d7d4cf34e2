//! Reading a payment from a job: `messageActor('payment', paymentId, [{type: 'query', body:
//! {query: {fields: ['paymentId', 'providerKey', 'currencyCode', 'captures']}}}])`, reply
//! `data.query` in the platform's `Payment` shape (platform notes §1.6). Like the ticket query,
//! the query body is [I]; it lives here to be one place to change.

use crate::decimal::Decimal;
use crate::error::{parse, AppError};
use crate::host::{ActorReply, Call, Step, Steps};
use serde::Deserialize;
use serde_json::json;

/// The `providerKey` of the payments this app makes (`completion.rs`) and handles.
pub const PROVIDER_KEY: &str = "kustom";

pub fn read_payment(payment_id: &str) -> Call {
    Call::MessageActor {
        actor_type: "payment".into(),
        actor_id: payment_id.into(),
        messages: vec![json!({"type": "query", "body": {"query": {
            "fields": ["paymentId", "providerKey", "currencyCode", "authorizations", "captures", "charges"]}}})],
    }
}

/// The payments of a platform order: graph `query payments(paymentId, providerKey,
/// externalReference, currencyCode) filter 'orderId == "<orderId>"'`. [?] How an order names
/// its payments is not in the platform notes; this one place is what to change. The id is
/// checked before it is spliced into the filter.
pub fn order_payments(order_id: &str) -> Result<Call, AppError> {
    checked_order_id(order_id)?;
    Ok(Call::Query {
        set: "payments".into(),
        fields: vec![
            "paymentId".into(),
            "providerKey".into(),
            "externalReference".into(),
            "currencyCode".into(),
        ],
        filter: format!("orderId == '{order_id}'"),
    })
}

/// A platform order id as a filter may quote it: 1–64 ASCII letters, digits and `-` (UUIDs).
pub fn checked_order_id(order_id: &str) -> Result<&str, AppError> {
    let ok = !order_id.is_empty()
        && order_id.len() <= 64
        && order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(order_id)
    } else {
        Err(AppError::bad_input("orderId", "is not a platform order id"))
    }
}

/// A node of [`order_payments`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentNode {
    pub payment_id: String,
    #[serde(default)]
    pub provider_key: Option<String>,
    #[serde(default)]
    pub external_reference: Option<String>,
}

/// The payment as `OnPaymentCapture` hands it to a rule (the capture and refund rules).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookPayment {
    pub payment_id: String,
    #[serde(default)]
    pub provider_key: Option<String>,
    #[serde(default)]
    pub external_reference: Option<String>,
    pub currency_code: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    #[serde(default)]
    pub captures: Vec<CaptureRecord>,
    /// Only when the query asks for them ([`read_authorizations`]).
    #[serde(default)]
    pub authorizations: Vec<AuthorizationRecord>,
    /// The charges the payment holds, `[{amount, transactionReference}]` [?] (the documented
    /// `Payment` type's journal entries name the capture a charge covered, not its
    /// transactionReference); `None` when the reply has no such list.
    #[serde(default)]
    pub charges: Option<Vec<ChargeRecord>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRecord {
    #[serde(default)]
    pub transaction_reference: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRecord {
    #[serde(default)]
    pub authorization_number: Option<String>,
    #[serde(default)]
    pub authorization_state: Option<String>,
}

/// The payment's authorizations (the notification ingress: is the fraud review's outcome
/// already on it?).
pub fn read_authorizations(payment_id: &str) -> Call {
    Call::MessageActor {
        actor_type: "payment".into(),
        actor_id: payment_id.into(),
        messages: vec![json!({"type": "query", "body": {"query": {
            "fields": ["paymentId", "authorizations"]}}})],
    }
}

/// Payment command **[?]** (docs/host-contract.md): the state of the authorization numbered
/// `authorization_number` becomes `state` (`successful` or `failed`).
pub fn set_authorization_state(authorization_number: &str, state: &str) -> serde_json::Value {
    json!({"type": "setAuthorizationState", "authorizationNumber": authorization_number,
           "authorizationState": state})
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureRecord {
    pub payment_capture_id: String,
    pub state: String,
    pub remaining_amount: Decimal,
    #[serde(default)]
    pub captured_amount: Option<Decimal>,
}

/// `Ok(None)` when the payment does not exist.
pub fn parse_payment(reply: ActorReply) -> Result<Option<PaymentRecord>, AppError> {
    if reply.not_found() {
        return Ok(None);
    }
    if let Some(error) = reply.error() {
        return Err(AppError::host(format!(
            "reading the payment failed: {error}"
        )));
    }
    match reply.query() {
        None => Ok(None),
        Some(query) => parse(query, "replies: data.query").map(Some),
    }
}

/// The authorization state the app sets when it gives an authorization up (the Kustom order
/// cancelled): the platform's states are `pending`, `successful` and `failed`.
pub const VOIDED_STATE: &str = "failed";

impl PaymentRecord {
    /// Whether the authorization numbered `authorization_number` (the Kustom order id) was
    /// voided: the platform's order was cancelled and the app cancelled the Kustom order.
    pub fn authorization_voided(&self, authorization_number: &str) -> bool {
        self.authorizations.iter().any(|a| {
            a.authorization_number.as_deref() == Some(authorization_number)
                && a.authorization_state.as_deref() == Some(VOIDED_STATE)
        })
    }

    /// The capture, if it is still over-charged by at least `amount` minor units with
    /// `captured` minor units charged: the refund for that over-charge is not recorded yet.
    pub fn over_charged_capture(
        &self,
        capture_id: &str,
        amount: i64,
        captured: i64,
        exponent: u32,
    ) -> Option<&CaptureRecord> {
        self.captures.iter().find(|c| {
            c.payment_capture_id == capture_id
                && c.remaining_amount
                    .to_minor_units(exponent)
                    .is_some_and(|remaining| remaining.checked_add(amount).is_some_and(|r| r <= 0))
                && c.captured_amount
                    .map_or(Some(0), |a| a.to_minor_units(exponent))
                    == Some(captured)
        })
    }

    /// Whether a charge with this transaction reference (a Kustom capture id) is on the payment;
    /// `None` when the reply lists no charges.
    pub fn holds_charge(&self, transaction_reference: &str) -> Option<bool> {
        let charges = self.charges.as_ref()?;
        Some(
            charges
                .iter()
                .any(|c| c.transaction_reference.as_deref() == Some(transaction_reference)),
        )
    }

    /// The capture, if it still waits for a charge of at least `amount`.
    pub fn pending_capture(
        &self,
        capture_id: &str,
        amount: Decimal,
        exponent: u32,
    ) -> Option<&CaptureRecord> {
        self.captures.iter().find(|c| {
            c.payment_capture_id == capture_id
                && c.state == "pending"
                && c.remaining_amount.to_minor_units(exponent) >= amount.to_minor_units(exponent)
        })
    }
}

/// An order's Kustom payment: the platform's payment, and the Kustom order it pays.
pub struct KustomPayment {
    pub payment_id: String,
    pub kustom_order_id: String,
}

/// The first Kustom payment among an order's payments ([`order_payments`]), or `None` (logged)
/// for an order paid otherwise. The log says what the job does with it (`doing`: "releasing",
/// "setting the order number on") and what it leaves undone without one (`nothing`).
pub fn order_kustom_payment(
    steps: &mut Steps,
    order_id: &str,
    (doing, nothing): (&str, &str),
    log: &mut Vec<String>,
) -> Step<Option<KustomPayment>> {
    let nodes = steps.call(order_payments(order_id)?)?;
    let nodes: Vec<PaymentNode> = parse(nodes, "replies: payments")
        .map_err(|error| AppError::host(format!("the payments query: {}", error.message)))?;
    let mut kustom_payments = nodes.into_iter().filter(|n| {
        n.provider_key.as_deref() == Some(PROVIDER_KEY) && n.external_reference.is_some()
    });
    let Some(node) = kustom_payments.next() else {
        log.push(format!("order {order_id} has no Kustom payment; {nothing}"));
        return Ok(None);
    };
    if kustom_payments.next().is_some() {
        log.push(format!(
            "order {order_id} has several Kustom payments; {doing} {} only",
            node.payment_id
        ));
    }
    let kustom_order_id = node.external_reference.unwrap_or_default();
    crate::kustom::checked_order_id(&kustom_order_id)?;
    Ok(Some(KustomPayment {
        payment_id: node.payment_id,
        kustom_order_id,
    }))
}
