//! Scenario tests of the money-back flows on a simulated platform: a payment actor whose
//! captures a `charge` completes and a `refund` settles (each firing `OnPaymentCapture`, as the
//! platform does), an order whose cancellation or delivery fires `OnOrderCommands`, the app's
//! rules and jobs, and a fake Kustom Order Management API that applies Kustom's rules
//! (remaining authorization, captured − refunded, cancel only before a capture, idempotency-key
//! replay) and logs every request.
//!
//! Each invariant was checked by breaking the code on purpose and watching a test here fail:
//! the refund's `Klarna-Idempotency-Key` varied per retry → `a_refund_applied_after_the_timeout_
//! is_not_repeated`; its `reference` varied per retry → `refund_races_capture_in_every_
//! interleaving`; every currency scaled by 100 → `a_kwd_refund_is_never_scaled_by_100` (and five
//! more); the payment not re-read before recording → `a_fault_at_any_step_still_refunds_and_
//! records_exactly_once`; the capture job's voided-authorization check skipped →
//! `never_a_capture_after_a_cancel`; the release not waiting for a pending capture →
//! `release_after_delivery_never_comes_before_the_last_capture`; an earlier cancel not
//! recognised → `a_fault_at_any_step_of_the_cancel_still_cancels_once_and_voids`.
//!
//! Races are explored exhaustively: every interleaving, at call granularity, of the jobs that
//! run at once (refund ∥ capture, cancel ∥ capture, release ∥ capture); faults (a lost reply, a
//! host crash after any call, a crash after the effects) at every step of a job. Each scenario
//! asserts the invariants — exactly one refund per over-charge, the platform's records equal to
//! Kustom's, never a capture after a cancel — and the number of runs it explored.

use kustom::components::{
    capture, capture_order, refund, refund_order, release, release_authorization,
};
use kustom::host::Output;
use serde_json::{json, Value};
use std::collections::HashMap;

const PAYMENT: &str = "7a3e9c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a";
const ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";
const PLATFORM_ORDER: &str = "e1d2c3b4-a5f6-4789-8abc-def012345678";
const NOW: &str = "2026-12-02T10:15:00Z";

#[derive(Clone, Copy, Debug)]
struct Currency {
    code: &'static str,
    exponent: u32,
}
const SEK: Currency = Currency {
    code: "SEK",
    exponent: 2,
};
const JPY: Currency = Currency {
    code: "JPY",
    exponent: 0,
};
const KWD: Currency = Currency {
    code: "KWD",
    exponent: 3,
};
const CURRENCIES: [Currency; 3] = [SEK, JPY, KWD];

impl Currency {
    fn major(self, minor: i64) -> Value {
        if self.exponent == 0 {
            json!(minor)
        } else {
            json!(minor as f64 / 10f64.powi(self.exponent as i32))
        }
    }
    fn minor(self, major: &Value) -> i64 {
        (major.as_f64().unwrap() * 10f64.powi(self.exponent as i32)).round() as i64
    }
}

// ---------------------------------------------------------------- Kustom

#[derive(Clone, Debug)]
struct FakeOm {
    currency: Currency,
    status: String,
    authorized: i64,
    captured: i64,
    refunded: i64,
    released: bool,
    captures: Vec<(String, i64, String)>, // (id, amount, reference)
    refunds: Vec<(String, i64, String)>,
    replays: HashMap<String, Value>,
    /// Every request that changed something, in order: "capture", "refund", "cancel", "release".
    applied: Vec<String>,
    /// Every POST /captures received (applied or not), by its position in `applied` then.
    capture_attempts_after_cancel: usize,
    refuse_refunds: bool,
}

impl FakeOm {
    fn new(currency: Currency, authorized: i64) -> FakeOm {
        FakeOm {
            currency,
            status: "AUTHORIZED".into(),
            authorized,
            captured: 0,
            refunded: 0,
            released: false,
            captures: vec![],
            refunds: vec![],
            replays: HashMap::new(),
            applied: vec![],
            capture_attempts_after_cancel: 0,
            refuse_refunds: false,
        }
    }

    fn remaining(&self) -> i64 {
        if self.released || matches!(self.status.as_str(), "CANCELLED" | "EXPIRED") {
            0
        } else {
            self.authorized - self.captured
        }
    }

    fn handle(&mut self, call: &Value) -> Value {
        let url = call["url"].as_str().unwrap();
        let path = url.split(ORDER).nth(1).unwrap().to_string();
        let method = call["method"].as_str().unwrap();
        if let Some(key) = call["headers"]["Klarna-Idempotency-Key"].as_str() {
            let slot = format!("{path} {key}");
            if let Some(reply) = self.replays.get(&slot) {
                return reply.clone();
            }
            let reply = self.apply(method, &path, &call["body"]);
            self.replays.insert(slot, reply.clone());
            return reply;
        }
        self.apply(method, &path, &call["body"])
    }

    fn refused(code: &str) -> Value {
        json!({"status": 403, "body": {"error_code": code, "error_messages": [code]}})
    }

    fn apply(&mut self, method: &str, path: &str, body: &Value) -> Value {
        match (method, path) {
            ("GET", "") => json!({"status": 200, "body": {
                "order_id": ORDER, "status": self.status, "fraud_status": "ACCEPTED",
                "purchase_currency": self.currency.code.to_ascii_lowercase(),
                "order_amount": self.authorized, "captured_amount": self.captured,
                "refunded_amount": self.refunded, "remaining_authorized_amount": self.remaining(),
                "expires_at": "2026-12-30T09:31:05Z",
                "captures": self.captures.iter().map(|(id, amount, reference)| json!({"capture_id": id, "captured_amount": amount, "reference": reference})).collect::<Vec<_>>(),
                "refunds": self.refunds.iter().map(|(id, amount, reference)| json!({"refund_id": id, "refunded_amount": amount, "reference": reference})).collect::<Vec<_>>()}}),
            ("POST", "/captures") => {
                if self.applied.iter().any(|a| a == "cancel") {
                    self.capture_attempts_after_cancel += 1;
                }
                let amount = body["captured_amount"].as_i64().unwrap();
                if !matches!(self.status.as_str(), "AUTHORIZED" | "PART_CAPTURED")
                    || amount > self.remaining()
                {
                    return Self::refused("CAPTURE_NOT_ALLOWED");
                }
                let id = format!("cap-{}", self.captures.len() + 1);
                self.captures.push((
                    id.clone(),
                    amount,
                    body["reference"].as_str().unwrap().into(),
                ));
                self.captured += amount;
                self.status = if self.remaining() == 0 {
                    "CAPTURED"
                } else {
                    "PART_CAPTURED"
                }
                .into();
                self.applied.push("capture".into());
                json!({"status": 201, "headers": {"Capture-Id": id}, "body": ""})
            }
            ("POST", "/extend-authorization-time") => {
                if matches!(self.status.as_str(), "AUTHORIZED" | "PART_CAPTURED") {
                    json!({"status": 204, "body": ""})
                } else {
                    Self::refused("NOT_ALLOWED")
                }
            }
            ("POST", "/refunds") => {
                let amount = body["refunded_amount"].as_i64().unwrap();
                if self.refuse_refunds
                    || self.captures.is_empty()
                    || amount > self.captured - self.refunded
                {
                    return Self::refused("REFUND_NOT_ALLOWED");
                }
                let id = format!("ref-{}", self.refunds.len() + 1);
                self.refunds.push((
                    id.clone(),
                    amount,
                    body["reference"].as_str().unwrap().into(),
                ));
                self.refunded += amount;
                self.applied.push("refund".into());
                json!({"status": 201, "headers": {"Refund-Id": id}, "body": ""})
            }
            ("POST", "/cancel") => {
                if self.captured > 0 || !matches!(self.status.as_str(), "AUTHORIZED") {
                    return Self::refused("CANCEL_NOT_ALLOWED");
                }
                self.status = "CANCELLED".into();
                self.applied.push("cancel".into());
                json!({"status": 204, "body": ""})
            }
            ("POST", "/release-remaining-authorization") => {
                if !matches!(self.status.as_str(), "AUTHORIZED" | "PART_CAPTURED") {
                    return Self::refused("NOT_ALLOWED");
                }
                self.released = true;
                self.status = if self.captured > 0 {
                    "CAPTURED"
                } else {
                    "CANCELLED"
                }
                .into();
                self.applied.push("release".into());
                json!({"status": 204, "body": ""})
            }
            other => panic!("unexpected OM call {other:?}"),
        }
    }
}

// ---------------------------------------------------------------- the platform

#[derive(Clone, Debug)]
struct Capture {
    id: String,
    remaining: i64,
    captured: i64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// The call is performed but its reply is lost (HTTP: a timeout; an actor: the job dies).
    LostReply(usize),
    /// The host dies right after performing the call; the job runs again from the start.
    CrashAfter(usize),
    /// The host dies after applying a job's final effects, before marking it done.
    CrashAfterEffects,
    /// The request times out at the client and reaches Kustom only later: right after the
    /// next order read (which therefore does not show it yet).
    AppliedLate(usize),
}

/// A job run in progress: its component, input and the replies so far.
#[derive(Clone, Debug)]
struct Run {
    definition: String,
    parameters: Value,
    replies: Vec<Value>,
    /// The authorization was voided when this run started.
    started_voided: bool,
}

#[derive(Clone, Debug)]
struct Platform {
    currency: Currency,
    captures: Vec<Capture>,
    voided: bool,
    order_state: String,
    deliveries_done: bool,
    charges: Vec<(i64, String)>,
    refunds: Vec<(i64, String)>,
    activity: Vec<String>,
    queue: Vec<Run>,
    kustom: FakeOm,
    fault: Option<Fault>,
    calls: usize,
    /// POST /captures sent by capture runs that started after the void was recorded.
    captures_tried_after_void: usize,
    /// A request on its way to Kustom ([`Fault::AppliedLate`]).
    held: Option<Value>,
}

fn component(definition: &str) -> fn(&Value) -> Output {
    match definition {
        "captureOrder" => capture_order::run,
        "refundOrder" => refund_order::run,
        "releaseAuthorization" => release_authorization::run,
        other => panic!("no job {other}"),
    }
}

impl Platform {
    fn new(currency: Currency, authorized: i64) -> Platform {
        Platform {
            currency,
            captures: vec![],
            voided: false,
            order_state: "confirmed".into(),
            deliveries_done: false,
            charges: vec![],
            refunds: vec![],
            activity: vec![],
            queue: vec![],
            kustom: FakeOm::new(currency, authorized),
            fault: None,
            calls: 0,
            captures_tried_after_void: 0,
            held: None,
        }
    }

    fn capture_json(&self, c: &Capture) -> Value {
        let state = if c.remaining > 0 {
            "pending"
        } else {
            "completed"
        };
        json!({"paymentCaptureId": c.id, "state": state, "orderId": PLATFORM_ORDER,
            "remainingAmount": self.currency.major(c.remaining), "capturedAmount": self.currency.major(c.captured)})
    }

    fn payment_json(&self) -> Value {
        json!({"paymentId": PAYMENT, "providerKey": "kustom", "externalReference": ORDER, "currencyCode": self.currency.code,
            "authorizations": [{"authorizationNumber": ORDER, "amount": self.currency.major(self.kustom.authorized),
                "authorizationState": if self.voided { "failed" } else { "successful" }}],
            "captures": self.captures.iter().map(|c| self.capture_json(c)).collect::<Vec<_>>()})
    }

    fn fire_payment_capture(&mut self, capture_id: &str) {
        let capture = self.captures.iter().find(|c| c.id == capture_id).unwrap();
        let input = json!({"hook": "OnPaymentCapture", "payment": self.payment_json(), "capture": self.capture_json(capture),
            "settings": {"apiKey": "kco_test_api_x"}, "now": NOW});
        for rule in [capture::run, refund::run] {
            self.schedule(rule(&input).to_json());
        }
    }

    fn schedule(&mut self, output: Value) {
        assert!(output.get("error").is_none(), "{output}");
        for effect in output["effects"].as_array().unwrap() {
            assert_eq!(effect["effect"], "scheduleJob", "{effect}");
            self.queue.push(Run {
                definition: effect["definition"].as_str().unwrap().into(),
                parameters: effect["parameters"].clone(),
                replies: vec![],
                started_voided: false,
            });
        }
    }

    /// The platform creates a pending capture (a delivery shipped) and fires the hook.
    fn create_capture(&mut self, id: &str, amount: i64) {
        self.captures.push(Capture {
            id: id.into(),
            remaining: amount,
            captured: 0,
        });
        self.fire_payment_capture(id);
    }

    /// The platform lowers a capture's amount (a return credited): an over-charge.
    fn credit(&mut self, id: &str, amount: i64) {
        let capture = self.captures.iter_mut().find(|c| c.id == id).unwrap();
        capture.remaining -= amount;
        self.fire_payment_capture(id);
    }

    fn order(&self, state: &str, delivered: bool) -> Value {
        json!({"orderId": PLATFORM_ORDER, "orderState": state,
            "deliveries": [{"deliveryId": "d1", "deliveryState": if delivered { "completed" } else { "pending" }}]})
    }

    fn set_order(&mut self, state: &str, delivered: bool) {
        let before = self.order(&self.order_state, self.deliveries_done);
        let after = self.order(state, delivered);
        (self.order_state, self.deliveries_done) = (state.into(), delivered);
        let output = release::run(
            &json!({"hook": "OnOrderCommands", "before": before, "order": after,
            "settings": {"apiKey": "kco_test_api_x"}, "now": NOW}),
        )
        .to_json();
        self.schedule(output);
    }

    fn charge(&mut self, amount: i64, reference: &str) {
        self.charges.push((amount, reference.into()));
        let capture = self
            .captures
            .iter_mut()
            .find(|c| c.remaining >= amount)
            .expect("a pending capture to charge");
        capture.remaining -= amount;
        capture.captured += amount;
        let id = capture.id.clone();
        self.fire_payment_capture(&id);
    }

    fn refund(&mut self, amount: i64, capture_id: &str, reference: &str) {
        // As the reference host does ([I]: the platform's rule is not documented): a refund
        // whose transaction reference the payment holds already is refused.
        if self.refunds.iter().any(|r| r.1 == reference) {
            self.activity
                .push(format!("DUPLICATE_TRANSACTION_REFERENCE {reference}"));
            return;
        }
        self.refunds.push((amount, reference.into()));
        let capture = self
            .captures
            .iter_mut()
            .find(|c| c.id == capture_id)
            .unwrap();
        capture.remaining += amount;
        capture.captured -= amount;
        self.fire_payment_capture(capture_id);
    }

    /// Performs the next call of run `index`, or applies its effects; true when it finished.
    fn step(&mut self, index: usize) -> bool {
        let run = &mut self.queue[index];
        if run.replies.is_empty() {
            run.started_voided = self.voided;
        }
        let mut input = run.parameters.clone();
        input["settings"] = json!({"apiKey": "kco_test_api_x"});
        input["now"] = json!(NOW);
        input["replies"] = json!(run.replies);
        let output = component(&run.definition)(&input).to_json();
        assert!(
            output.get("error").is_none(),
            "{}: {output}",
            run.definition
        );
        if let Some(calls) = output.get("calls") {
            let call = calls[0].clone();
            let step = self.calls;
            self.calls += 1;
            let reply = match call["call"].as_str().unwrap() {
                "http" => {
                    if call["url"].as_str().unwrap().ends_with("/captures")
                        && self.queue[index].started_voided
                    {
                        self.captures_tried_after_void += 1;
                    }
                    if self.fault == Some(Fault::AppliedLate(step)) {
                        self.fault = None;
                        self.held = Some(call.clone());
                        json!({"error": {"kind": "timeout", "message": "no answer in 10000 ms"}})
                    } else {
                        let reply = self.kustom.handle(&call);
                        if call["method"] == "GET" {
                            if let Some(held) = self.held.take() {
                                self.kustom.handle(&held);
                            }
                        }
                        reply
                    }
                }
                "messageActor" => {
                    json!({"actorId": PAYMENT, "paths": [], "errors": [], "data": {"query": self.payment_json()}})
                }
                "query" => {
                    json!([{"paymentId": PAYMENT, "providerKey": "kustom", "externalReference": ORDER}])
                }
                other => panic!("unexpected call {other}"),
            };
            match self.fault {
                Some(Fault::CrashAfter(at)) if at == step => {
                    self.fault = None;
                    self.queue[index].replies.clear(); // the host runs the job again
                }
                Some(Fault::LostReply(at)) if at == step && call["call"] == "http" => {
                    self.fault = None;
                    self.queue[index]
                        .replies
                        .push(json!({"error": {"kind": "timeout", "message": "reply lost"}}));
                }
                Some(Fault::LostReply(at)) if at == step => {
                    self.fault = None;
                    self.queue[index].replies.clear();
                }
                _ => self.queue[index].replies.push(reply),
            }
            return false;
        }
        let run = self.queue.remove(index);
        for effect in output["effects"].as_array().unwrap() {
            match (
                effect["effect"].as_str().unwrap(),
                effect["messageType"].as_str(),
            ) {
                ("messageActor", Some("charge")) => {
                    let amount = self.currency.minor(&effect["body"]["amount"]);
                    self.charge(
                        amount,
                        effect["body"]["transactionReference"].as_str().unwrap(),
                    );
                }
                ("messageActor", Some("refund")) => {
                    let amount = self.currency.minor(&effect["body"]["amount"]);
                    self.refund(
                        amount,
                        effect["body"]["paymentCaptureId"].as_str().unwrap(),
                        effect["body"]["transactionReference"].as_str().unwrap(),
                    );
                }
                ("messageActor", Some("applyCommands")) => {
                    for command in effect["body"]["commands"].as_array().unwrap() {
                        match command["type"].as_str().unwrap() {
                            "setAuthorizationState" => {
                                assert_eq!(command["authorizationState"], "failed");
                                self.voided = true;
                            }
                            _ => self.activity.push(format!(
                                "{} {}",
                                command["dynamic"]["code"].as_str().unwrap_or("ok"),
                                command["messageTemplate"]
                            )),
                        }
                    }
                }
                ("scheduleJob", _) => self.queue.push(Run {
                    definition: effect["definition"].as_str().unwrap().into(),
                    parameters: effect["parameters"].clone(),
                    replies: vec![],
                    started_voided: false,
                }),
                other => panic!("unexpected effect {other:?}"),
            }
        }
        if self.fault == Some(Fault::CrashAfterEffects) {
            self.fault = None;
            let mut again = run;
            again.replies.clear();
            self.queue.insert(0, again); // not marked done: it runs again
        }
        true
    }

    /// Runs every queued job (and what they schedule) to the end, one at a time.
    fn settle(&mut self) {
        for _ in 0..200 {
            if self.queue.is_empty() {
                return;
            }
            while !self.step(0) {}
        }
        panic!("jobs did not settle: {:?}", self.queue);
    }

    /// Every interleaving, at call granularity, of the runs queued now; each explored world is
    /// then settled (what they schedule runs afterwards) and handed to `check`. Returns how many
    /// interleavings were explored.
    fn explore(self, check: &mut dyn FnMut(&Platform)) -> usize {
        if self.queue.is_empty() {
            check(&self);
            return 1;
        }
        let mut explored = 0;
        for index in 0..self.queue.len() {
            let mut world = self.clone();
            let before = world.queue.len();
            let finished = world.step(index);
            if finished {
                // Runs it scheduled are not part of the race: they run after.
                let later: Vec<Run> = world.queue.drain(before - 1..).collect();
                explored += world.explore_then(later, check);
            } else {
                explored += world.explore(check);
            }
        }
        explored
    }

    fn explore_then(self, later: Vec<Run>, check: &mut dyn FnMut(&Platform)) -> usize {
        if self.queue.is_empty() {
            let mut world = self;
            world.queue = later;
            world.settle();
            check(&world);
            return 1;
        }
        let mut explored = 0;
        for index in 0..self.queue.len() {
            let mut world = self.clone();
            let before = world.queue.len();
            let finished = world.step(index);
            let mut later = later.clone();
            if finished {
                later.extend(world.queue.drain(before - 1..));
            }
            explored += world.explore_then(later, check);
        }
        explored
    }

    /// Kustom's and the platform's records agree: one charge per Kustom capture, one recorded
    /// refund per Kustom refund (same amounts, same ids), and every capture settled.
    fn assert_books_agree(&self) {
        let captured: Vec<(i64, String)> = self
            .kustom
            .captures
            .iter()
            .map(|c| (c.1, c.0.clone()))
            .collect();
        assert_eq!(self.charges, captured, "one charge per Kustom capture");
        let refunded: Vec<(i64, String)> = self
            .kustom
            .refunds
            .iter()
            .map(|r| (r.1, r.0.clone()))
            .collect();
        assert_eq!(
            self.refunds, refunded,
            "one recorded refund per Kustom refund"
        );
        assert_eq!(
            self.kustom.captured - self.kustom.refunded,
            self.captures.iter().map(|c| c.captured).sum::<i64>(),
            "net money at Kustom is the net the platform shows"
        );
    }
}

/// A payment with one capture of `amount` charged at Kustom (the capture flow ran).
fn captured(currency: Currency, amount: i64, authorized: i64) -> Platform {
    let mut platform = Platform::new(currency, authorized);
    platform.create_capture("cap-a", amount);
    platform.settle();
    assert_eq!(platform.kustom.captures.len(), 1);
    platform
}

// ---------------------------------------------------------------- refunds

fn amounts(currency: Currency) -> (i64, i64) {
    match currency.exponent {
        0 => (5_000, 1_500),   // ¥5000 captured, ¥1500 back
        3 => (10_500, 1_234),  // 10.500 KWD captured, 1.234 back
        _ => (94_080, 19_900), // 940.80 SEK captured, 199.00 back
    }
}

#[test]
fn a_refund_in_each_currency_refunds_its_own_minor_units() {
    for currency in CURRENCIES {
        let (total, back) = amounts(currency);
        let mut platform = captured(currency, total, total);
        platform.credit("cap-a", back);
        platform.settle();
        let refunded: Vec<i64> = platform.kustom.refunds.iter().map(|r| r.1).collect();
        assert_eq!(refunded, [back], "{currency:?}");
        platform.assert_books_agree();
        assert_eq!(
            platform.captures[0].remaining, 0,
            "the over-charge is settled"
        );
    }
}

/// The invariant a 3-decimal currency breaks when scaled by 100: 1.234 KWD is 1234 fils at
/// Kustom, not 123.
#[test]
fn a_kwd_refund_is_never_scaled_by_100() {
    let mut platform = captured(KWD, 10_500, 10_500);
    platform.credit("cap-a", 1_234);
    platform.settle();
    assert_eq!(platform.kustom.refunded, 1_234);
    assert_eq!(platform.refunds[0].0, 1_234);
}

#[test]
fn repeated_refunds_of_one_capture_each_refund_once() {
    for currency in CURRENCIES {
        let (total, back) = amounts(currency);
        let mut platform = captured(currency, total, total);
        // The same amount twice: two returns, two refunds (the key is not the amount alone).
        for _ in 0..2 {
            platform.credit("cap-a", back);
            platform.settle();
        }
        platform.credit("cap-a", 1);
        platform.settle();
        let refunded: Vec<i64> = platform.kustom.refunds.iter().map(|r| r.1).collect();
        assert_eq!(refunded, [back, back, 1], "{currency:?}");
        platform.assert_books_agree();
    }
}

#[test]
fn a_fault_at_any_step_still_refunds_and_records_exactly_once() {
    // The refund job's happy path makes 4 calls: read payment, read order, refund, read payment.
    let mut explored = 0;
    for currency in CURRENCIES {
        let mut faults = vec![Fault::CrashAfterEffects];
        for step in 0..4 {
            faults.push(Fault::LostReply(step));
            faults.push(Fault::CrashAfter(step));
        }
        for fault in faults {
            let (total, back) = amounts(currency);
            let mut platform = captured(currency, total, total);
            platform.calls = 0;
            platform.fault = Some(fault);
            platform.credit("cap-a", back);
            platform.settle();
            assert_eq!(platform.fault, None, "{fault:?} was not reached");
            assert_eq!(platform.kustom.refunds.len(), 1, "{currency:?} {fault:?}");
            assert_eq!(platform.kustom.refunded, back);
            platform.assert_books_agree();
            explored += 1;
        }
    }
    assert_eq!(explored, 27);
}

/// The refund request times out and reaches Kustom only after the retry has read the order
/// (which does not show it yet): the retry's request carries the same key, so Kustom replays
/// the first answer instead of refunding again.
#[test]
fn a_refund_applied_after_the_timeout_is_not_repeated() {
    for currency in CURRENCIES {
        let (total, back) = amounts(currency);
        let mut platform = captured(currency, total, total);
        platform.calls = 0;
        platform.fault = Some(Fault::AppliedLate(2)); // the refund POST
        platform.credit("cap-a", back);
        platform.settle();
        assert_eq!(platform.fault, None, "the fault was not reached");
        assert_eq!(platform.kustom.refunds.len(), 1, "{currency:?}");
        platform.assert_books_agree();
    }
}

/// The hook fires twice for one over-charge (the capture updated twice, say): two identical
/// refund jobs in every interleaving. Same name, same key: Kustom refunds once, and the second
/// record carries the same refund id, which the payment refuses.
#[test]
fn two_jobs_for_one_over_charge_refund_once_in_every_interleaving() {
    let mut explored = 0;
    for currency in CURRENCIES {
        let (total, back) = amounts(currency);
        let mut platform = captured(currency, total, total);
        platform.credit("cap-a", back);
        let twin = platform.queue[0].clone();
        platform.queue.push(twin);
        explored += platform.explore(&mut |world| {
            assert_eq!(world.kustom.refunds.len(), 1, "one refund at Kustom");
            world.assert_books_agree();
        });
    }
    assert_eq!(explored, 630, "interleavings explored");
}

#[test]
fn a_refund_above_what_kustom_holds_captured_is_refused_and_logged() {
    let mut platform = captured(SEK, 94_080, 94_080);
    // Refunded in Kustom's portal meanwhile: only 100.00 left captured and not refunded.
    platform.kustom.refunded = 84_080;
    platform.credit("cap-a", 19_900);
    platform.settle();
    assert!(platform.kustom.refunds.is_empty() && platform.refunds.is_empty());
    assert!(
        platform
            .activity
            .iter()
            .any(|a| a.starts_with("REFUND_ABOVE_CAPTURED")),
        "{:?}",
        platform.activity
    );
}

#[test]
fn kustoms_refusal_of_a_refund_is_classified_and_logged() {
    let mut platform = captured(SEK, 94_080, 94_080);
    platform.kustom.refuse_refunds = true;
    platform.credit("cap-a", 19_900);
    platform.settle();
    assert!(platform.refunds.is_empty());
    assert!(
        platform
            .activity
            .iter()
            .any(|a| a.starts_with("REFUND_NOT_ALLOWED")),
        "{:?}",
        platform.activity
    );
}

/// A refund of the first delivery's capture races the capture of the second delivery: every
/// interleaving of the two jobs, without a fault and with a host crash after the race's third
/// call (whichever job made it: in many interleavings, right after Kustom took the refund).
#[test]
fn refund_races_capture_in_every_interleaving() {
    let mut explored = 0;
    for currency in CURRENCIES {
        for crash in [None, Some(Fault::CrashAfter(2))] {
            let (total, back) = amounts(currency);
            let first = total / 2;
            let mut platform = captured(currency, first, total);
            platform.credit("cap-a", back.min(first));
            platform.captures.push(Capture {
                id: "cap-b".into(),
                remaining: total - first,
                captured: 0,
            });
            platform.fire_payment_capture("cap-b");
            assert_eq!(platform.queue.len(), 2, "a refund job and a capture job");
            platform.calls = 0;
            platform.fault = crash;
            explored += platform.explore(&mut |world| {
                assert_eq!(world.kustom.refunds.len(), 1, "exactly one refund");
                assert_eq!(world.kustom.refunded, back.min(first));
                let captures: Vec<i64> = world.kustom.captures.iter().map(|c| c.1).collect();
                assert_eq!(captures, [first, total - first], "exactly one capture each");
                world.assert_books_agree();
            });
        }
    }
    assert_eq!(explored, 3360, "interleavings explored");
}

// ---------------------------------------------------------------- cancel and release

/// The order is cancelled while a capture is being made: every interleaving of the release job
/// (cancel) and the capture job. Whoever reaches Kustom first wins; never a capture after the
/// cancel, the books agree, and what is not captured is given up.
#[test]
fn cancel_races_capture_in_every_interleaving() {
    let mut explored = 0;
    let mut outcomes = HashMap::new();
    for currency in CURRENCIES {
        let (total, _) = amounts(currency);
        let mut platform = Platform::new(currency, total);
        platform.create_capture("cap-a", total / 2);
        platform.set_order("cancelled", false);
        assert_eq!(platform.queue.len(), 2, "a capture job and a release job");
        explored += platform.explore(&mut |world| {
            let cancelled_at = world.kustom.applied.iter().position(|a| a == "cancel");
            if let Some(at) = cancelled_at {
                assert!(
                    !world.kustom.applied[at..].contains(&"capture".to_string()),
                    "a capture after the cancel"
                );
                assert!(world.kustom.captures.is_empty() && world.charges.is_empty());
                assert!(world.voided, "a cancelled order's authorization is voided");
            } else {
                assert_eq!(world.kustom.captures.len(), 1, "the capture won: it stands");
                assert!(world.kustom.released, "and the rest is released");
                assert!(!world.voided);
            }
            assert_eq!(
                world.captures_tried_after_void, 0,
                "a voided authorization is never tried"
            );
            assert_eq!(world.kustom.remaining(), 0, "nothing is left authorized");
            world.assert_books_agree();
            *outcomes.entry(cancelled_at.is_some()).or_insert(0) += 1;
        });
    }
    assert_eq!(explored, 1026, "interleavings explored");
    assert!(outcomes[&true] > 0 && outcomes[&false] > 0, "{outcomes:?}");
}

/// A capture the platform creates after the cancel went through: the capture job stops on the
/// voided authorization and sends Kustom nothing.
#[test]
fn never_a_capture_after_a_cancel() {
    for currency in CURRENCIES {
        let (total, _) = amounts(currency);
        let mut platform = Platform::new(currency, total);
        platform.set_order("cancelled", false);
        platform.settle();
        assert_eq!(platform.kustom.status, "CANCELLED");
        assert!(platform.voided);
        platform.create_capture("late", total);
        platform.settle();
        assert!(platform.kustom.captures.is_empty() && platform.charges.is_empty());
        assert_eq!(
            platform.kustom.capture_attempts_after_cancel, 0,
            "nothing sent to Kustom"
        );
        assert!(
            platform
                .activity
                .iter()
                .any(|a| a.starts_with("AUTHORIZATION_VOIDED")),
            "{:?}",
            platform.activity
        );
    }
}

#[test]
fn a_fault_at_any_step_of_the_cancel_still_cancels_once_and_voids() {
    // The cancel path makes 4 calls: payments query, read payment, read order, cancel.
    let mut explored = 0;
    for currency in CURRENCIES {
        let mut faults = vec![Fault::CrashAfterEffects];
        for step in 0..4 {
            faults.push(Fault::LostReply(step));
            faults.push(Fault::CrashAfter(step));
        }
        for fault in faults {
            let (total, _) = amounts(currency);
            let mut platform = Platform::new(currency, total);
            platform.fault = Some(fault);
            platform.set_order("cancelled", false);
            platform.settle();
            assert_eq!(platform.fault, None, "{fault:?} was not reached");
            assert_eq!(
                platform.kustom.applied,
                ["cancel"],
                "{currency:?} {fault:?}"
            );
            assert!(platform.voided);
            explored += 1;
        }
    }
    assert_eq!(explored, 27);
}

/// Every delivery completed while the last capture is still pending: the release waits for it,
/// so in every interleaving the capture goes through and only the rest is released.
#[test]
fn release_after_delivery_never_comes_before_the_last_capture() {
    let mut explored = 0;
    for currency in CURRENCIES {
        let (total, _) = amounts(currency);
        let mut platform = captured(currency, total / 2, total);
        platform.create_capture("cap-b", total / 4);
        platform.set_order("confirmed", true);
        assert_eq!(platform.queue.len(), 2, "a capture job and a release job");
        explored += platform.explore(&mut |world| {
            let captures: Vec<i64> = world.kustom.captures.iter().map(|c| c.1).collect();
            assert_eq!(captures, [total / 2, total / 4]);
            assert_eq!(
                world.kustom.applied.last().map(String::as_str),
                Some("release")
            );
            assert_eq!(world.kustom.remaining(), 0);
            assert!(!world.voided);
            world.assert_books_agree();
        });
    }
    assert_eq!(explored, 168, "interleavings explored");
}

#[test]
fn a_fault_at_any_step_of_the_release_releases_once() {
    let mut explored = 0;
    for currency in CURRENCIES {
        let mut faults = vec![Fault::CrashAfterEffects];
        for step in 0..4 {
            faults.push(Fault::LostReply(step));
            faults.push(Fault::CrashAfter(step));
        }
        for fault in faults {
            let (total, _) = amounts(currency);
            let mut platform = captured(currency, total / 2, total);
            platform.calls = 0;
            platform.fault = Some(fault);
            platform.set_order("confirmed", true);
            platform.settle();
            assert_eq!(platform.fault, None, "{fault:?} was not reached");
            assert_eq!(
                platform.kustom.applied,
                ["capture", "release"],
                "{currency:?} {fault:?}"
            );
            // (After a lost reply to the release the re-run finds nothing left and logs
            // that; the activity line is the first run's, which the fault swallowed.)
            assert_eq!(platform.kustom.remaining(), 0);
            explored += 1;
        }
    }
    assert_eq!(explored, 27);
}

/// The refund rule over a grid of balances in each currency, extremes included: it never traps,
/// schedules exactly the over-charge in the currency's own minor units, and nothing otherwise.
#[test]
fn the_refund_rule_refunds_exactly_the_over_charge_in_every_currency() {
    let mut checked = 0;
    for currency in CURRENCIES {
        for minor in [
            i64::MIN / 2,
            -1_000_000_000_000_000,
            -200_000_001,
            -1_234,
            -1,
            0,
            1,
            1_234,
            1_000_000_000_000_000,
        ] {
            let remaining = if currency.exponent == 0 {
                json!(minor)
            } else {
                json!(format!(
                    "{}{}.{:0>width$}",
                    if minor < 0 { "-" } else { "" },
                    minor.unsigned_abs() / 10u64.pow(currency.exponent),
                    minor.unsigned_abs() % 10u64.pow(currency.exponent),
                    width = currency.exponent as usize
                ))
            };
            let input = json!({"hook": "OnPaymentCapture", "now": NOW, "settings": {"apiKey": "kco_test_api_x"},
                "payment": {"paymentId": PAYMENT, "providerKey": "kustom", "externalReference": ORDER, "currencyCode": currency.code},
                "capture": {"paymentCaptureId": "cap-a", "state": "completed", "capturedAmount": 0, "remainingAmount": remaining}});
            let output = refund::run(&input).to_json();
            if let Some(effects) = output.get("effects") {
                if minor < 0 && minor > -1_000_000_000_000 {
                    let amount = &effects[0]["parameters"]["amount"];
                    assert_eq!(currency.minor(amount), -minor, "{currency:?} {remaining}");
                } else {
                    assert_eq!(effects, &json!([]), "{currency:?} {remaining}");
                }
            } else {
                assert_eq!(output["error"]["code"], "BAD_INPUT", "{output}");
                assert!(
                    minor.unsigned_abs() >= 1_000_000_000_000,
                    "{currency:?} {remaining}: {output}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 27);
}
