//! Reading the cart ticket from a job (which, unlike a rule, is not handed the cart):
//! `messageActor('ticket', cartId, [{type: 'query', body: {query: {fields: ['state', 'dynamic']}}}])`.
//! The query body and the reply's `data.query.{state, dynamic}` shape follow the cookbook's
//! preview-then-query example ([I] in the platform notes); they live here so that they are one
//! place to change.

use crate::error::AppError;
use crate::fields;
use crate::host::{ActorReply, Call};
use serde_json::{json, Value};

/// The app's view of a cart ticket. The pending payload stays in the reply (a copy of a
/// 250-line payload, made and dropped at every step, was a tenth of the sync job's time).
#[derive(Clone, Debug, PartialEq)]
pub struct CartRecord<'a> {
    pub state: String,
    pub order_id: Option<String>,
    pub pending_hash: Option<String>,
    pub sync_hash: Option<String>,
    pub pending_payload: Option<&'a Value>,
}

impl CartRecord<'_> {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

pub fn read_cart(cart_id: &str) -> Call {
    Call::MessageActor {
        actor_type: "ticket".into(),
        actor_id: cart_id.into(),
        messages: vec![
            json!({"type": "query", "body": {"query": {"fields": ["state", "dynamic"]}}}),
        ],
    }
}

/// The cart read as later steps of a job read it again: the state and the app's fields, with
/// the stored payload replaced by `true` (it is sent once, at the step its read arrives; a step
/// that replays the read only needs to know one was stored). Everything [`parse_cart`] reads.
pub fn reduced(reply: &Value) -> Value {
    let query = reply.pointer("/data/query");
    let mut dynamic = serde_json::Map::new();
    if let Some(fields) = query
        .and_then(|q| q.get("dynamic"))
        .and_then(Value::as_object)
    {
        for field in [fields::ORDER_ID, fields::PENDING_HASH, fields::SYNC_HASH] {
            let key = fields::dynamic_key(field);
            if let Some(value) = fields.get(&key) {
                dynamic.insert(key, value.clone());
            }
        }
        if fields
            .get(fields::PENDING_PAYLOAD_KEY)
            .is_some_and(|v| !v.is_null())
        {
            dynamic.insert(fields::PENDING_PAYLOAD_KEY.into(), Value::Bool(true));
        }
    }
    let data = match query {
        Some(query) if !query.is_null() => {
            json!({"query": {"state": query.get("state").cloned().unwrap_or(Value::Null), "dynamic": dynamic}})
        }
        _ => Value::Null,
    };
    json!({"actorId": reply.get("actorId").cloned().unwrap_or(Value::Null),
           "errors": reply.get("errors").cloned().unwrap_or_else(|| json!([])), "data": data})
}

/// `Ok(None)` when the ticket does not exist.
pub fn parse_cart(reply: ActorReply<'_>) -> Result<Option<CartRecord<'_>>, AppError> {
    if reply.not_found() {
        return Ok(None);
    }
    if let Some(error) = reply.error() {
        return Err(AppError::host(format!("reading the cart failed: {error}")));
    }
    let Some(query) = reply.query() else {
        return Ok(None);
    };
    let state = query.get("state").and_then(Value::as_str).ok_or_else(|| {
        AppError::bad_input(
            "replies: data.query.state",
            "the cart query reply has no state",
        )
    })?;
    let dynamic = query.get("dynamic").unwrap_or(&Value::Null);
    let text = |field: &str| {
        dynamic
            .get(fields::dynamic_key(field))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(Some(CartRecord {
        state: state.to_string(),
        order_id: text(fields::ORDER_ID),
        pending_hash: text(fields::PENDING_HASH),
        sync_hash: text(fields::SYNC_HASH),
        pending_payload: dynamic
            .get(fields::PENDING_PAYLOAD_KEY)
            .filter(|v| !v.is_null()),
    }))
}
