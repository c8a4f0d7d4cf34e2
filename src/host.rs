//! The host contract (docs/host-contract.md): a component is a pure function
//! `run(input) -> output`. It never does I/O; it asks the host to (`calls`) and hands back a
//! [`Continuation`]: what it learned from its earlier calls. The host runs it again with the
//! trigger, that continuation and the reply to the call just made, until it is done (`effects`,
//! and for ingresses a `response`). Each reply crosses the boundary once; what the component
//! keeps of it is what [`Steps`] reduced it to.

use crate::cart::RenderedCart;
use crate::cart_facts::CartFacts;
use crate::error::AppError;
use crate::error::Code;
use crate::payload::CartPayload;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What a component returns to the host.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Output {
    /// Perform these calls and run again with their replies as `replies` and this
    /// `continuation` (a host that replays instead appends the replies and drops it).
    Calls {
        calls: Vec<Call>,
        /// Absent from a component that still replays (see [`Steps::replaying`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        continuation: Option<Continuation>,
    },
    /// Finished: apply the effects (and send the response, for an ingress).
    Done {
        effects: Vec<Effect>,
        #[serde(skip_serializing_if = "Option::is_none")]
        response: Option<Response>,
        /// What happened and why, for the host's log. Never needed to apply the effects.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        log: Vec<String>,
    },
    /// The input was unusable; nothing is to be applied.
    Error { error: AppError },
}

impl Output {
    pub fn done(effects: Vec<Effect>, log: Vec<String>) -> Output {
        Output::Done {
            effects,
            response: None,
            log,
        }
    }

    /// The output as JSON text, printed straight from the typed output (no `Value` tree).
    pub fn to_json_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|err| {
            json_text(
                &serde_json::json!({"error": {"code": Code::Internal, "message": err.to_string()}}),
            )
        })
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(
            |err| serde_json::json!({"error": {"code": Code::Internal, "message": err.to_string()}}),
        )
    }
}

/// `value` as compact JSON text: what its `Display` prints. `Display` goes through a second
/// serializer (an `io::Write` adapter, with a pretty printer for `{:#}`); this is the one the
/// output is printed with.
pub fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A JSON value in an output: a tree, or the sync payload printed straight from its struct
/// (turning it into a tree only to print it was a fifth of the hot path's time). The printed
/// text is the same: the payload's fields are declared in the sorted order a tree prints them in.
/// (Splicing the text the hash was taken over would save one more print, but serde_json's
/// `raw_value` costs 10–15 KB in every module.)
#[derive(Clone, Debug)]
pub enum Json {
    Value(Value),
    Payload(CartPayload),
}

/// The custom fields a `setDynamicFields` writes.
pub type DynamicFields = BTreeMap<String, Json>;

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Json::Value(value)
    }
}

/// Equal when they print the same JSON.
impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        serde_json::to_value(self).ok() == serde_json::to_value(other).ok()
    }
}

impl Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Value(value) => value.serialize(serializer),
            Json::Payload(payload) => payload.serialize(serializer),
        }
    }
}

/// Read back as a tree (hosts send effects back only in tests and hook replies).
impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Json::Value)
    }
}

/// An ingress's HTTP answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status_code: u16,
    pub content: Value,
}

/// Effects, in Hantera's own shapes (`effect` is the discriminator).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "camelCase")]
pub enum Effect {
    /// A command on the ticket the hook is about (here: the cart).
    TicketCommand(TicketCommand),
    #[serde(rename_all = "camelCase")]
    ScheduleJob {
        definition: String,
        parameters: Json,
        at: String,
    },
    #[serde(rename_all = "camelCase")]
    MessageActor {
        actor_type: String,
        actor_id: String,
        message_type: String,
        body: Value,
    },
    ValidationError {
        code: String,
        message: Option<String>,
        details: Option<Value>,
    },
}

/// Ticket commands the app uses (platform notes §1.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TicketCommand {
    /// Fields left out are unchanged; `null` removes a field.
    SetDynamicFields { fields: DynamicFields },
    #[serde(rename_all = "camelCase")]
    AddActivityLog {
        message_template: String,
        dynamic: Map<String, Value>,
    },
}

impl TicketCommand {
    /// The same command sent from a job, where there is no hook ticket: `messageActor`
    /// `applyCommands` on the ticket.
    pub fn to_ticket(&self, ticket_id: &str) -> Effect {
        self.to_actor("ticket", ticket_id)
    }

    /// The command as `applyCommands` on any actor that takes it (`addActivityLog` exists on
    /// tickets and payments alike).
    pub fn to_actor(&self, actor_type: &str, actor_id: &str) -> Effect {
        Effect::MessageActor {
            actor_type: actor_type.into(),
            actor_id: actor_id.into(),
            message_type: "applyCommands".into(),
            body: serde_json::json!({ "commands": [self] }),
        }
    }

    pub fn activity_log(message: impl Into<String>, dynamic: Map<String, Value>) -> Self {
        TicketCommand::AddActivityLog {
            message_template: message.into(),
            dynamic,
        }
    }
}

/// Requests the host performs on the component's behalf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "camelCase")]
pub enum Call {
    /// An HTTP request (to Kustom). The reply is an `HttpReply`.
    #[serde(rename_all = "camelCase")]
    Http {
        method: String,
        url: String,
        headers: BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
        timeout_ms: u32,
    },
    /// Hantera's `messageActor(actorType, actorId, messages)`; the reply is its result
    /// `{actorId, paths, data, errors}`.
    #[serde(rename_all = "camelCase")]
    MessageActor {
        actor_type: String,
        actor_id: String,
        messages: Vec<Value>,
    },
    /// The cart as Commerce renders it (the `OnCartMutation` shape, without `hook`); the reply
    /// is that object, or `{error: {code: "NOT_FOUND"}}`.
    #[serde(rename_all = "camelCase")]
    RenderCart { cart_id: String },
    /// `input triggerHook '<hook>'`; the reply is the list of effects the listening rules
    /// returned (`[]` when none listens).
    TriggerHook { hook: String, input: Value },
    /// A graph query: `query <set>(<fields>) filter '<filter>'`; the reply is the list of
    /// nodes found (`[]` when none).
    Query {
        set: String,
        fields: Vec<String>,
        filter: String,
    },
}

/// The reply to an `http` call: either the response, or why there is none. The body stays
/// where the host's input has it (copying a Kustom order of 250 lines into the reply was a
/// sixth of a confirmation's time).
#[derive(Clone, Debug, PartialEq)]
pub enum HttpReply<'a> {
    Response {
        status: u16,
        /// Response headers; names are matched case-insensitively (`header`).
        headers: BTreeMap<String, String>,
        body: &'a Value,
    },
    Failed {
        error: TransportError,
    },
}

/// The two shapes `{status, body?}` and `{error: {kind, message?}}` without the body, told
/// apart by hand rather than with `#[serde(untagged)]`, whose buffering machinery costs
/// several KB of wasm.
#[derive(Debug, Deserialize)]
pub struct RawHttpReply {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    error: Option<TransportError>,
}

impl<'a> HttpReply<'a> {
    /// The reply `reply`, found at `path` of the input (for the error message).
    pub fn of(reply: &'a Value, path: &str) -> Result<Self, AppError> {
        match crate::error::parse::<RawHttpReply>(reply, path)? {
            RawHttpReply {
                error: Some(error), ..
            } => Ok(HttpReply::Failed { error }),
            RawHttpReply {
                status: Some(status),
                headers,
                ..
            } => Ok(HttpReply::Response {
                status,
                headers,
                body: reply.get("body").unwrap_or(&Value::Null),
            }),
            _ => Err(AppError::bad_input(
                path,
                "an http reply needs `status` or `error`",
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TransportError {
    /// `timeout` (the request may or may not have been applied) or `network` (not sent).
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

impl<'a> HttpReply<'a> {
    /// A response header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        match self {
            HttpReply::Response { headers, .. } => headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str()),
            HttpReply::Failed { .. } => None,
        }
    }

    /// The response body as JSON. Hosts may pass the body as text; an empty or non-JSON body
    /// (Kustom answers an expired order with an empty 404) becomes `Null` or a string.
    pub fn json_body(&self) -> Cow<'a, Value> {
        match self {
            HttpReply::Response {
                body: Value::String(text),
                ..
            } => Cow::Owned(if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }),
            HttpReply::Response { body, .. } => Cow::Borrowed(body),
            HttpReply::Failed { .. } => Cow::Owned(Value::Null),
        }
    }
}

/// Why a step did not run to the end: it needs a call's reply first (and what it learned so
/// far), it failed, or it already knows its output (an early answer, e.g. a 404 for a cart that
/// does not exist).
#[derive(Debug)]
pub enum Interrupt {
    Call(Box<(Call, Option<Continuation>)>),
    Error(AppError),
    Finish(Box<Output>),
}

impl From<AppError> for Interrupt {
    fn from(error: AppError) -> Self {
        Interrupt::Error(error)
    }
}

impl From<Output> for Interrupt {
    fn from(output: Output) -> Self {
        Interrupt::Finish(Box::new(output))
    }
}

/// A component's step: its output, or why it stopped before the end.
pub type Step<T = Output> = Result<T, Interrupt>;

/// An actor's answer to `messageActor`: `{actorId, paths, data, errors}`. The one place that
/// decides what an error reply is, for every actor the app talks to.
#[derive(Clone, Copy, Debug)]
pub struct ActorReply<'a> {
    pub actor_id: Option<&'a str>,
    /// The reply's `data` (`Null` when absent).
    pub data: &'a Value,
    errors: &'a [Value],
}

impl<'a> ActorReply<'a> {
    pub fn of(reply: &'a Value) -> Self {
        ActorReply {
            // An empty id names no actor: treated as absent, never addressed.
            actor_id: reply
                .get("actorId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty()),
            data: reply.get("data").unwrap_or(&Value::Null),
            errors: reply
                .get("errors")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
        }
    }

    /// The actor does not exist.
    pub fn not_found(&self) -> bool {
        self.errors
            .iter()
            .any(|e| e.get("code").and_then(Value::as_str) == Some("NOT_FOUND"))
    }

    /// The first error's `code`, if it has one.
    pub fn error_code(&self) -> Option<&'a str> {
        self.errors.first()?.get("code")?.as_str()
    }

    /// The actor refused the commands themselves (`INVALID_COMMAND`, `INVALID_MESSAGE_BODY`):
    /// sending them again cannot help.
    pub fn refused_command(&self) -> bool {
        matches!(
            self.error_code(),
            Some("INVALID_COMMAND" | "INVALID_MESSAGE_BODY")
        )
    }

    /// The first error, as text, if the messages were refused.
    pub fn error(&self) -> Option<String> {
        self.errors.first().map(json_text)
    }

    /// `data.query`: what a `query` message returns (`None` when the actor has none).
    pub fn query(&self) -> Option<&'a Value> {
        self.data.get("query").filter(|q| !q.is_null())
    }
}

/// The version of [`Continuation`] this release writes and resumes. A continuation of another
/// version is refused (`CONTINUATION_REFUSED`); the host then runs the component from the
/// start, which every component tolerates (a crashed host does the same).
pub const CONTINUATION_VERSION: u32 = 1;

/// What a component learned from its earlier calls, in call order: each reply as [`Steps`]
/// reduced it (what the component reads of it again), never more. The host keeps it with the
/// pending call and hands it back with that call's reply; it is opaque to the host. Read back
/// in place from the input (`learned_of`), never deserialized: that saves the derive's size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Continuation {
    pub version: u32,
    pub component: String,
    pub learned: Vec<Value>,
    /// A checksum over (version, component, learned): a truncated, altered or mixed-up
    /// continuation is refused, never resumed.
    pub digest: String,
}

impl Continuation {
    fn new(component: &str, learned: Vec<Value>) -> Continuation {
        let digest = Continuation::digest_of(CONTINUATION_VERSION, component, &learned);
        Continuation {
            version: CONTINUATION_VERSION,
            component: component.into(),
            learned,
            digest,
        }
    }

    /// FNV-1a (64 bits) over the version, the component and the learned values' JSON: an
    /// integrity check against truncation, damage
    /// and mix-ups, not a signature (a host that forges a continuation could as well forge the
    /// replies). SHA-256 over the printed text was most of a 250-line confirmation's time.
    fn digest_of(version: u32, component: &str, learned: &[Value]) -> String {
        let mut fnv = Fnv1a(0xcbf2_9ce4_8422_2325);
        fnv.eat(&version.to_le_bytes());
        fnv.eat(component.as_bytes());
        fnv.eat(b"\n");
        // Printed into a buffer, not streamed: a serializer for another writer costs 4 KB of wasm.
        fnv.eat(&serde_json::to_vec(learned).unwrap_or_default());
        format!("{:016x}", fnv.0)
    }
}

/// A 64-bit FNV-1a hasher.
struct Fnv1a(u64);

impl Fnv1a {
    fn eat(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The calls a component makes, in order, answered from what it learned (the continuation)
/// and then from the replies the host just performed. Component code makes its calls with
/// `steps.call(…)?` (or a typed variant); the first call without a reply interrupts the run and
/// is handed to the host with the continuation. A host that replays (every reply so far, no
/// continuation: the fixtures do) is served the same way.
pub struct Steps<'a> {
    component: &'static str,
    /// Whether this component hands back continuations (else the host replays it).
    resuming: bool,
    /// What earlier runs learned, from the input's continuation.
    learned: &'a [Value],
    /// The replies to the calls after those.
    replies: &'a [Value],
    /// What this run learned from `replies` so far (reduced).
    reduced: Vec<Value>,
    next: usize,
}

/// A reduction: what of a reply the component reads again at later steps.
pub type Reduce = fn(&Value) -> Value;

/// Keeps the whole reply (a call whose later steps read it all).
pub fn whole(reply: &Value) -> Value {
    reply.clone()
}

/// An HTTP reply whose success body later steps do not read (an update's echo of the order):
/// status, headers and transport error kept, the body only of a failure.
pub fn outcome_only(reply: &Value) -> Value {
    let mut kept = Map::new();
    for key in ["status", "headers", "error"] {
        if let Some(value) = reply.get(key) {
            kept.insert(key.into(), value.clone());
        }
    }
    let succeeded = reply
        .get("status")
        .and_then(Value::as_u64)
        .is_some_and(|status| (200..300).contains(&status));
    if !succeeded {
        if let Some(body) = reply.get("body") {
            kept.insert("body".into(), body.clone());
        }
    }
    Value::Object(kept)
}

impl<'a> Steps<'a> {
    pub fn new(component: &'static str, learned: &'a [Value], replies: &'a [Value]) -> Self {
        Steps {
            component,
            resuming: true,
            learned,
            replies,
            reduced: Vec::new(),
            next: 0,
        }
    }

    /// A component that still replays (every reply so far, no continuation): the components
    /// whose replies are not reduced yet, for which a continuation would carry every reply whole
    /// and cost more than replaying (issue 21 moves them one by one).
    pub fn replaying(input: &'a Value, component: &'static str) -> Self {
        let replies = input.get("replies").and_then(Value::as_array);
        let mut steps = Steps::new(component, &[], replies.map_or(&[][..], Vec::as_slice));
        steps.resuming = false;
        steps
    }

    /// The continuation and replies of `input` (`replies` already checked to be an array by
    /// parsing its `Envelope`). A continuation that is not this component's, not this
    /// version's, or not intact is refused.
    pub fn of_input(input: &'a Value, component: &'static str) -> Result<Self, AppError> {
        let replies = input.get("replies").and_then(Value::as_array);
        let replies = replies.map_or(&[][..], Vec::as_slice);
        let learned = match input.get("continuation") {
            None | Some(Value::Null) => &[][..],
            Some(continuation) => learned_of(continuation, component)?,
        };
        Ok(Steps::new(component, learned, replies))
    }

    /// Any call; its reply as the host gave it (or as it was reduced to when learned).
    pub fn call(&mut self, call: Call) -> Step<&'a Value> {
        self.call_reduced(call, whole)
    }

    /// A call whose reply is kept, for later steps, as `reduce` makes it: those steps must read
    /// no more of it than `reduce` keeps.
    pub fn call_reduced(&mut self, call: Call, reduce: Reduce) -> Step<&'a Value> {
        match self.take() {
            Some((learned, true)) => Ok(learned),
            Some((reply, false)) => {
                if self.resuming {
                    self.reduced.push(reduce(reply));
                }
                Ok(reply)
            }
            None => Err(self.pending(call)),
        }
    }

    /// A call whose reply this and every later step sees only as `learn` keeps it: fresh,
    /// resumed or replayed alike, so a call site cannot read more than its continuation holds.
    pub fn learn(&mut self, call: Call, learn: Reduce) -> Step<Cow<'a, Value>> {
        match self.take() {
            Some((learned, true)) => Ok(Cow::Borrowed(learned)),
            Some((reply, false)) => {
                let kept = learn(reply);
                if self.resuming {
                    self.reduced.push(kept.clone());
                }
                Ok(Cow::Owned(kept))
            }
            None => Err(self.pending(call)),
        }
    }

    /// The next call's answer, if there is one: what an earlier run learned (`true`), or the
    /// host's reply.
    fn take(&mut self) -> Option<(&'a Value, bool)> {
        let index = self.next;
        let found = match self.learned.get(index) {
            Some(learned) => (learned, true),
            None => (self.replies.get(index - self.learned.len())?, false),
        };
        self.next += 1;
        Some(found)
    }

    /// The interrupt that hands `call` to the host, with what this component learned so far.
    fn pending(&mut self, call: Call) -> Interrupt {
        if !self.resuming {
            return Interrupt::Call(Box::new((call, None)));
        }
        let mut learned = self.learned.to_vec();
        learned.append(&mut self.reduced);
        let continuation = Continuation::new(self.component, learned);
        Interrupt::Call(Box::new((call, Some(continuation))))
    }

    /// Commerce's rendering of a cart, known from here on by its [`CartFacts`] alone (the
    /// completion path's view of it); `None` when there is no such cart.
    pub fn cart_facts(&mut self, cart_id: &str) -> Step<Option<CartFacts>> {
        let call = Call::RenderCart {
            cart_id: cart_id.into(),
        };
        let kept = self.learn(call, CartFacts::learn)?;
        Ok(CartFacts::of(&kept)?)
    }

    /// Whether the next call already has its reply (the step is being replayed), so that a
    /// costly part of the call that only the host reads need not be built.
    pub fn has_reply(&self) -> bool {
        self.next < self.learned.len() + self.replies.len()
    }

    /// An HTTP call whose reply is parsed as an `HttpReply`.
    pub fn http(&mut self, call: Call) -> Step<HttpReply<'a>> {
        // Named by what it is, not its index: resumed, the input holds the last reply alone.
        Ok(HttpReply::of(self.call(call)?, "the http reply")?)
    }

    /// An HTTP call whose reply later steps read as `reduce` keeps it.
    pub fn http_reduced(&mut self, call: Call, reduce: Reduce) -> Step<HttpReply<'a>> {
        Ok(HttpReply::of(
            self.call_reduced(call, reduce)?,
            "the http reply",
        )?)
    }

    /// `messageActor`, its reply typed.
    pub fn actor(&mut self, call: Call) -> Step<ActorReply<'a>> {
        Ok(ActorReply::of(self.call(call)?))
    }

    /// `messageActor`, its reply typed and kept as `reduce` makes it.
    pub fn actor_reduced(&mut self, call: Call, reduce: Reduce) -> Step<ActorReply<'a>> {
        Ok(ActorReply::of(self.call_reduced(call, reduce)?))
    }

    /// Commerce's rendering of a cart: `None` when there is no such cart.
    pub fn render_cart(&mut self, cart_id: &str) -> Step<Option<Rendered<'a>>> {
        let reply = self.call(Call::RenderCart {
            cart_id: cart_id.into(),
        })?;
        if reply.is_null() || reply.get("error").is_some() {
            return Ok(None);
        }
        let cart = RenderedCart::from_tree(reply, "the rendered cart")?;
        Ok(Some(Rendered { cart, raw: reply }))
    }

    /// A graph query; the text field `field` of the first node found.
    pub fn query_first(&mut self, call: Call, field: &str) -> Step<Option<String>> {
        let nodes = self.call(call)?;
        Ok(nodes
            .as_array()
            .and_then(|nodes| nodes.first())
            .and_then(|node| node.get(field))
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string))
    }
}

/// The learned replies of a continuation, if it is intact and this component's, of this version.
fn learned_of<'a>(continuation: &'a Value, component: &str) -> Result<&'a [Value], AppError> {
    let refuse = |why: String| AppError::new(Code::ContinuationRefused, why);
    let version = continuation.get("version").and_then(Value::as_u64);
    if version != Some(u64::from(CONTINUATION_VERSION)) {
        return Err(refuse(format!(
            "continuation version {} is not {CONTINUATION_VERSION}: run from the start",
            version.map_or("(none)".to_string(), |v| v.to_string())
        )));
    }
    let of = continuation.get("component").and_then(Value::as_str);
    if of != Some(component) {
        return Err(refuse(format!(
            "the continuation is {}'s, not {component}'s",
            of.unwrap_or("(nobody)")
        )));
    }
    let Some(learned) = continuation.get("learned").and_then(Value::as_array) else {
        return Err(refuse("the continuation has no learned list".into()));
    };
    let digest = continuation.get("digest").and_then(Value::as_str);
    if digest != Some(Continuation::digest_of(CONTINUATION_VERSION, component, learned).as_str()) {
        return Err(refuse(
            "the continuation's digest does not match what it holds (truncated or altered)".into(),
        ));
    }
    Ok(learned)
}

/// A rendered cart, typed, and as the host sent it (for passing parts of it on unchanged).
pub struct Rendered<'a> {
    pub cart: RenderedCart,
    pub raw: &'a Value,
}

/// Turns a component's result into the contract's output.
pub fn finish(result: Step) -> Output {
    match result {
        Ok(output) => output,
        Err(Interrupt::Call(pending)) => {
            let (call, continuation) = *pending;
            Output::Calls {
                calls: vec![call],
                continuation,
            }
        }
        Err(Interrupt::Error(error)) => Output::Error { error },
        Err(Interrupt::Finish(output)) => *output,
    }
}

/// The fields every component input carries beside its trigger's own fields.
#[derive(Clone, Debug, Deserialize)]
pub struct Envelope {
    /// ISO 8601 instant supplied by the host; components never read a clock.
    pub now: String,
    /// Checked to be an array, not copied: a step reads the replies in place (`Steps::of_input`).
    /// Copying them (every earlier reply, carts and orders included) was most of what a late
    /// step of the sync job cost.
    #[serde(default)]
    pub replies: Vec<serde::de::IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_text_is_what_display_prints() {
        for value in [
            json!(null),
            json!(-0.5),
            json!(1e300),
            json!("quote \" backslash \\ newline \n tab \t bell \u{7} é 𝄞"),
            json!({"b": [1, 2.5, {"c": null}], "a": {"code": "NOT_FOUND"}, "": true}),
        ] {
            assert_eq!(json_text(&value), value.to_string());
        }
    }
}
