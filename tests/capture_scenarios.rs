//! Scenario tests of the capture flow on a simulated platform: a payment actor with pending
//! captures that a `charge` completes (firing `OnPaymentCapture` again, as the platform does),
//! the `capture` rule, `captureOrder` jobs, and a fake Kustom Order Management API that applies
//! its rules (remaining authorization, statuses, `Klarna-Idempotency-Key` replay). Faults are
//! injected at every step of a job: a lost reply, or a host crash that re-runs the job.
//! The fake Kustom also checks an invariant on every capture it receives: never above the
//! remaining authorization.

use kustom::components::{capture, capture_order};
use serde_json::{json, Value};
use std::collections::HashMap;

const PAYMENT: &str = "7a3e9c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a";
const ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";

#[derive(Clone, Debug)]
struct PendingCapture {
    id: String,
    remaining: i64,
}

#[derive(Clone, Debug, Default)]
struct FakeOm {
    status: String,
    authorized: i64,
    captured: i64,
    expires_at: String,
    captures: Vec<(String, i64, String)>, // (capture id, amount, reference)
    replays: HashMap<String, Value>,
    extensions: usize,
}

impl FakeOm {
    fn new(authorized: i64) -> FakeOm {
        FakeOm {
            status: "AUTHORIZED".into(),
            authorized,
            expires_at: "2026-12-23T09:31:05Z".into(),
            ..FakeOm::default()
        }
    }

    fn handle(&mut self, call: &Value) -> Value {
        let url = call["url"].as_str().unwrap();
        let path = url
            .split(ORDER)
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected url {url}"));
        if let Some(key) = call["headers"]["Klarna-Idempotency-Key"].as_str() {
            let key = format!("{path} {key}");
            if let Some(reply) = self.replays.get(&key) {
                return reply.clone();
            }
            let reply = self.apply(call["method"].as_str().unwrap(), path, &call["body"]);
            self.replays.insert(key, reply.clone());
            return reply;
        }
        self.apply(call["method"].as_str().unwrap(), path, &call["body"])
    }

    fn apply(&mut self, method: &str, path: &str, body: &Value) -> Value {
        match (method, path) {
            ("GET", "") => json!({"status": 200, "body": {
                "order_id": ORDER, "status": self.status, "fraud_status": "ACCEPTED", "purchase_currency": "SEK",
                "order_amount": self.authorized, "captured_amount": self.captured,
                "remaining_authorized_amount": if self.status == "EXPIRED" { 0 } else { self.authorized - self.captured },
                "expires_at": self.expires_at,
                "captures": self.captures.iter().map(|(id, amount, reference)| json!({"capture_id": id, "captured_amount": amount, "reference": reference})).collect::<Vec<_>>()}}),
            ("POST", "/captures") => {
                let amount = body["captured_amount"].as_i64().unwrap();
                // The job reads the order right before capturing and never asks for more than
                // the remaining authorization (Kustom would refuse it).
                let remaining = if self.status == "EXPIRED" {
                    0
                } else {
                    self.authorized - self.captured
                };
                assert!(
                    amount <= remaining,
                    "invariant: a capture of {amount} sent with {remaining} authorized remaining"
                );
                if !matches!(self.status.as_str(), "AUTHORIZED" | "PART_CAPTURED")
                    || amount > self.authorized - self.captured
                {
                    return json!({"status": 403, "body": {"error_code": "CAPTURE_NOT_ALLOWED", "error_messages": ["Capture not allowed."]}});
                }
                let id = format!("cap-{}", self.captures.len() + 1);
                self.captures.push((
                    id.clone(),
                    amount,
                    body["reference"].as_str().unwrap().into(),
                ));
                self.captured += amount;
                self.status = if self.captured == self.authorized {
                    "CAPTURED"
                } else {
                    "PART_CAPTURED"
                }
                .into();
                json!({"status": 201, "headers": {"Capture-Id": id}, "body": ""})
            }
            ("POST", "/extend-authorization-time") => {
                self.extensions += 1;
                self.expires_at = "2027-01-20T00:00:00Z".into();
                json!({"status": 204, "body": ""})
            }
            other => panic!("unexpected OM call {other:?}"),
        }
    }
}

/// What goes wrong, and where: at the job's `step`-th call (counting every run of every job).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// The call is performed but its reply is lost (HTTP: a timeout).
    LostReply(usize),
    /// The host dies right after performing the call; the job runs again from the start.
    CrashAfter(usize),
    /// The host dies after applying a job's final effects, before marking it done.
    CrashAfterEffects,
}

struct Platform {
    provider: &'static str,
    captures: Vec<PendingCapture>,
    completed: Vec<String>,
    charges: Vec<(i64, String)>,
    activity: Vec<String>,
    jobs: Vec<Value>,
    kustom: FakeOm,
    fault: Option<Fault>,
    calls: usize,
}

impl Platform {
    fn new(authorized: i64) -> Platform {
        Platform {
            provider: "kustom",
            captures: vec![],
            completed: vec![],
            charges: vec![],
            activity: vec![],
            jobs: vec![],
            kustom: FakeOm::new(authorized),
            fault: None,
            calls: 0,
        }
    }

    fn payment_json(&self) -> Value {
        let mut captures: Vec<Value> = self.captures.iter()
            .map(|c| json!({"paymentCaptureId": c.id, "remainingAmount": c.remaining as f64 / 100.0, "state": "pending"}))
            .collect();
        captures.extend(
            self.completed.iter().map(
                |id| json!({"paymentCaptureId": id, "remainingAmount": 0, "state": "completed"}),
            ),
        );
        json!({"paymentId": PAYMENT, "providerKey": self.provider, "externalReference": ORDER, "currencyCode": "SEK", "captures": captures})
    }

    /// The platform creates a pending capture (e.g. a delivery shipped) and fires the hook.
    fn create_capture(&mut self, id: &str, amount: i64) {
        self.captures.push(PendingCapture {
            id: id.into(),
            remaining: amount,
        });
        self.fire_hook(id);
    }

    fn fire_hook(&mut self, capture_id: &str) {
        let payment = self.payment_json();
        let capture = payment["captures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["paymentCaptureId"] == capture_id)
            .unwrap()
            .clone();
        let output = capture::run(
            &json!({"hook": "OnPaymentCapture", "payment": payment, "capture": capture,
            "settings": {"apiKey": "kco_test_api_x"}, "now": "2026-11-26T14:02:12Z"}),
        )
        .to_json();
        assert!(output.get("error").is_none(), "{output}");
        for effect in output["effects"].as_array().unwrap() {
            assert_eq!(effect["definition"], "captureOrder");
            self.jobs.push(effect["parameters"].clone());
        }
    }

    /// `charge`: covers the pending capture (the platform completes it and fires the hook).
    fn charge(&mut self, amount: i64, transaction_reference: &str) {
        self.charges.push((amount, transaction_reference.into()));
        let index = self
            .captures
            .iter()
            .position(|c| c.remaining >= amount)
            .expect("a pending capture to charge");
        self.captures[index].remaining -= amount;
        if self.captures[index].remaining == 0 {
            let done = self.captures.remove(index);
            self.completed.push(done.id.clone());
            self.fire_hook(&done.id);
        }
    }

    fn run_jobs(&mut self) {
        let mut runs = 0;
        while !self.jobs.is_empty() {
            runs += 1;
            assert!(runs < 20, "jobs did not settle");
            let mut parameters = self.jobs.remove(0);
            parameters["settings"] = json!({"apiKey": "kco_test_api_x"});
            parameters["now"] = json!("2026-11-26T14:02:15Z");
            if !self.run_job(&parameters) {
                self.jobs.insert(0, parameters); // the host retries the job from scratch
            }
        }
    }

    /// One job run to the end; false when the host "crashed" during it.
    fn run_job(&mut self, parameters: &Value) -> bool {
        let mut input = parameters.clone();
        input["replies"] = json!([]);
        loop {
            let output = capture_order::run(&input).to_json();
            assert!(output.get("error").is_none(), "{output}");
            if let Some(calls) = output.get("calls") {
                let call = &calls[0];
                let step = self.calls;
                self.calls += 1;
                let reply = match call["call"].as_str().unwrap() {
                    "http" => self.kustom.handle(call),
                    "messageActor" => {
                        json!({"actorId": PAYMENT, "paths": [], "errors": [], "data": {"query": self.payment_json()}})
                    }
                    other => panic!("unexpected call {other}"),
                };
                match self.fault {
                    Some(Fault::CrashAfter(at)) if at == step => {
                        self.fault = None;
                        return false;
                    }
                    Some(Fault::LostReply(at)) if at == step && call["call"] == "http" => {
                        self.fault = None;
                        input["replies"]
                            .as_array_mut()
                            .unwrap()
                            .push(json!({"error": {"kind": "timeout", "message": "reply lost"}}));
                    }
                    Some(Fault::LostReply(at)) if at == step => {
                        self.fault = None;
                        return false;
                    }
                    _ => input["replies"].as_array_mut().unwrap().push(reply),
                }
                continue;
            }
            for effect in output["effects"].as_array().unwrap() {
                match (
                    effect["effect"].as_str().unwrap(),
                    effect["messageType"].as_str(),
                ) {
                    ("messageActor", Some("charge")) => {
                        let amount =
                            (effect["body"]["amount"].as_f64().unwrap() * 100.0).round() as i64;
                        self.charge(
                            amount,
                            effect["body"]["transactionReference"].as_str().unwrap(),
                        );
                    }
                    ("messageActor", Some("applyCommands")) => {
                        for command in effect["body"]["commands"].as_array().unwrap() {
                            self.activity.push(format!(
                                "{} {}",
                                command["dynamic"]["code"].as_str().unwrap_or("ok"),
                                command["dynamic"]["reason"]
                            ));
                        }
                    }
                    ("scheduleJob", _) => self.jobs.push(effect["parameters"].clone()),
                    other => panic!("unexpected effect {other:?}"),
                }
            }
            if self.fault == Some(Fault::CrashAfterEffects) {
                self.fault = None;
                return false;
            }
            return true;
        }
    }

    fn assert_captured_once_each(&self, expected: &[i64]) {
        let amounts: Vec<i64> = self.kustom.captures.iter().map(|c| c.1).collect();
        assert_eq!(amounts, expected, "captures at Kustom");
        let charged: Vec<(i64, String)> = self
            .kustom
            .captures
            .iter()
            .map(|c| (c.1, c.0.clone()))
            .collect();
        assert_eq!(
            self.charges, charged,
            "one charge per Kustom capture, with its id"
        );
        assert!(
            self.captures.is_empty(),
            "every platform capture completed: {:?}",
            self.captures
        );
    }
}

#[test]
fn full_capture() {
    let mut platform = Platform::new(94_080);
    platform.create_capture("cap-a", 94_080);
    platform.run_jobs();
    platform.assert_captured_once_each(&[94_080]);
    assert_eq!(platform.kustom.status, "CAPTURED");
}

#[test]
fn two_partial_captures() {
    let mut platform = Platform::new(94_080);
    platform.create_capture("delivery-1", 39_800);
    platform.run_jobs();
    assert_eq!(platform.kustom.status, "PART_CAPTURED");
    platform.create_capture("delivery-2", 54_280);
    platform.run_jobs();
    platform.assert_captured_once_each(&[39_800, 54_280]);
    assert_eq!(platform.kustom.status, "CAPTURED");
}

#[test]
fn a_fault_at_any_step_still_captures_and_charges_exactly_once() {
    // The happy path makes 4 calls: read payment, read order, capture, read payment.
    let mut faults = vec![Fault::CrashAfterEffects];
    for step in 0..4 {
        faults.push(Fault::LostReply(step));
        faults.push(Fault::CrashAfter(step));
    }
    for fault in faults {
        let mut platform = Platform::new(94_080);
        platform.fault = Some(fault);
        platform.create_capture("cap-a", 94_080);
        platform.run_jobs();
        assert_eq!(platform.fault, None, "{fault:?} was not reached");
        platform.assert_captured_once_each(&[94_080]);
    }
}

#[test]
fn a_capture_above_the_remaining_authorization_is_refused_and_logged() {
    let mut platform = Platform::new(94_080);
    platform.create_capture("too-much", 100_000);
    platform.run_jobs();
    assert!(platform.kustom.captures.is_empty());
    assert!(platform.charges.is_empty());
    assert_eq!(platform.activity.len(), 1);
    assert!(
        platform.activity[0].starts_with("ABOVE_REMAINING_AUTHORIZATION"),
        "{:?}",
        platform.activity
    );
}

#[test]
fn an_expired_authorization_is_not_captured_and_logged() {
    let mut platform = Platform::new(94_080);
    platform.kustom.status = "EXPIRED".into();
    platform.create_capture("cap-a", 94_080);
    platform.run_jobs();
    assert!(platform.kustom.captures.is_empty());
    assert!(platform.charges.is_empty());
    assert!(
        platform.activity[0].starts_with("AUTHORIZATION_GONE"),
        "{:?}",
        platform.activity
    );
}

#[test]
fn an_authorization_about_to_expire_is_extended_then_captured() {
    let mut platform = Platform::new(94_080);
    platform.kustom.expires_at = "2026-11-27T02:00:00Z".into(); // 12 h after the job runs
    platform.create_capture("cap-a", 94_080);
    platform.run_jobs();
    assert_eq!(platform.kustom.extensions, 1);
    platform.assert_captured_once_each(&[94_080]);
}

#[test]
fn a_non_kustom_payment_is_ignored() {
    let mut platform = Platform::new(94_080);
    platform.provider = "stripe";
    platform.create_capture("cap-a", 94_080);
    assert!(platform.jobs.is_empty());
    platform.run_jobs();
    assert!(platform.kustom.captures.is_empty() && platform.charges.is_empty());
}
