//! Reading a payment from a job: `messageActor('payment', paymentId, [{type: 'query', body:
//! {query: {fields: ['paymentId', 'providerKey', 'currencyCode', 'captures']}}}])`, reply
//! `data.query` in the platform's `Payment` shape (platform notes §1.6). Like the ticket query,
//! the query body is [I]; it lives here to be one place to change.

use crate::decimal::Decimal;
use crate::error::{parse, AppError};
use crate::host::{ActorReply, Call};
use serde::Deserialize;
use serde_json::json;

pub fn read_payment(payment_id: &str) -> Call {
    Call::MessageActor {
        actor_type: "payment".into(),
        actor_id: payment_id.into(),
        messages: vec![json!({"type": "query", "body": {"query": {
            "fields": ["paymentId", "providerKey", "currencyCode", "captures"]}}})],
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    #[serde(default)]
    pub captures: Vec<CaptureRecord>,
    /// Only when the query asks for them ([`read_authorizations`]).
    #[serde(default)]
    pub authorizations: Vec<AuthorizationRecord>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRecord {
    pub authorization_number: String,
    pub authorization_state: String,
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

impl PaymentRecord {
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
