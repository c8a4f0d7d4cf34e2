//! Scenario tests of the order number at Kustom on a simulated platform: the platform creates an
//! order (firing `OnOrderCreated`), the `order-number` rule schedules `setKustomOrderNumber`,
//! and a fake Order Management API holds the order's merchant references with Kustom's rules (a
//! key left out of the PATCH is kept, a cancelled order refuses with 403 `NOT_ALLOWED`, an
//! idempotency key replays its first answer) and logs every request.
//!
//! Faults are injected at every step of the job: a PATCH applied whose answer never came (a
//! timeout), a request lost before Kustom saw it, a 503, the host dying right after any call
//! (the job runs again from its start), the host dying after the effects. Two jobs for one order
//! (a hook delivered twice) run in every interleaving. Invariants, whatever happened:
//! - every PATCH carries the number the platform gave, under one idempotency key: a retried or
//!   repeated job never sends another reference;
//! - once settled, Kustom shows the number in `merchant_reference1` and the cart id in
//!   `merchant_reference2` (an order from before the cart id moved there included), and a
//!   merchant's own reference 2 is never overwritten;
//! - an order whose payment is not Kustom's never gets a PATCH, nor any Kustom request.
//!
//! Checked by breaking the code on purpose: the idempotency key varying per attempt →
//! `faults_at_every_step_never_send_another_reference` (a slow Kustom applies the change twice);
//! the cart id not moved for an older order → `an_older_order_keeps_its_cart_findable_whatever_
//! fails`; the provider not checked → `no_kustom_request_for_an_order_paid_otherwise`; the number
//! trimmed instead of refused → `an_order_number_kustom_would_refuse_is_never_sent`.

mod support;

use serde_json::{json, Value};
use std::collections::HashMap;

const PLATFORM_ORDER: &str = "e1d2c3b4-a5f6-4789-8abc-def012345678";
const PAYMENT: &str = "7a3e9c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a";
const KUSTOM_ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";
const CART: &str = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";
const NUMBER: &str = "O10042";
const NOW: &str = "2026-12-03T08:00:00Z";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// The request at call `n` times out, and Kustom applies it only after answering the next
    /// request (a slow Kustom: the job's re-read does not see it yet).
    AppliedLate(usize),
    /// The request at call `n` is lost before Kustom sees it (network error).
    Lost(usize),
    /// Kustom answers call `n` with 503 without applying it.
    Unavailable(usize),
    /// The host dies right after call `n`: the job runs again from its start.
    CrashAfter(usize),
    /// The host dies after applying a finished job's effects, before marking it done.
    CrashAfterEffects,
}

/// Kustom's Order Management, as far as merchant references go.
#[derive(Clone, Debug)]
struct FakeOm {
    reference1: Option<String>,
    reference2: Option<String>,
    status: &'static str,
    replays: HashMap<String, Value>,
    /// Every PATCH body received, applied or not, with its idempotency key.
    patches: Vec<(Value, String)>,
    /// PATCHes that changed the order (not a replay, not refused).
    applied: usize,
    /// A request that timed out, applied after the next one is answered.
    held: Option<Value>,
    /// The order is cancelled right after the next read is answered.
    cancel_after_read: bool,
    /// Every request of any kind.
    requests: usize,
}

impl FakeOm {
    fn order(&self) -> Value {
        let mut order = json!({"order_id": KUSTOM_ORDER, "status": self.status, "fraud_status": "ACCEPTED",
            "order_amount": 94080, "captured_amount": 0, "refunded_amount": 0,
            "remaining_authorized_amount": 94080, "purchase_currency": "SEK", "captures": [], "refunds": []});
        if let Some(r) = &self.reference1 {
            order["merchant_reference1"] = json!(r);
        }
        if let Some(r) = &self.reference2 {
            order["merchant_reference2"] = json!(r);
        }
        order
    }

    fn handle(&mut self, call: &Value) -> Value {
        let held = self.held.take();
        let reply = self.answer(call);
        if let Some(held) = held {
            self.answer(&held);
        }
        reply
    }

    fn answer(&mut self, call: &Value) -> Value {
        self.requests += 1;
        let url = call["url"].as_str().unwrap();
        assert!(url.contains(KUSTOM_ORDER), "{url}");
        match call["method"].as_str().unwrap() {
            "GET" => {
                let reply = json!({"status": 200, "body": self.order()});
                if std::mem::take(&mut self.cancel_after_read) {
                    self.status = "CANCELLED";
                }
                reply
            }
            "PATCH" => {
                assert!(url.ends_with("/merchant-references"), "{url}");
                support::check_kustom_request(call).unwrap();
                let key = call["headers"]["Klarna-Idempotency-Key"]
                    .as_str()
                    .expect("an idempotency key")
                    .to_string();
                self.patches.push((call["body"].clone(), key.clone()));
                if let Some(first) = self.replays.get(&key) {
                    return first.clone();
                }
                let reply = if self.status == "CANCELLED" {
                    json!({"status": 403, "body": {"error_code": "NOT_ALLOWED",
                        "error_messages": ["Can not update a cancelled order"]}})
                } else {
                    let body = &call["body"];
                    if let Some(r) = body.get("merchant_reference1") {
                        self.reference1 = Some(r.as_str().unwrap().into());
                    }
                    if let Some(r) = body.get("merchant_reference2") {
                        self.reference2 = Some(r.as_str().unwrap().into());
                    }
                    self.applied += 1;
                    json!({"status": 204, "body": ""})
                };
                self.replays.insert(key, reply.clone());
                reply
            }
            other => panic!("unexpected method {other}"),
        }
    }
}

#[derive(Clone, Debug)]
struct Run {
    definition: String,
    parameters: Value,
    replies: Vec<Value>,
}

/// The platform: one order with its payments, the job queue, what was logged on the payment.
#[derive(Clone, Debug)]
struct Platform {
    payments: Value,
    kustom: FakeOm,
    queue: Vec<Run>,
    fault: Option<Fault>,
    calls: usize,
    activity: Vec<String>,
    /// Runs that ended (each job run to its output, crashes not counted).
    runs: usize,
}

fn kustom_payment() -> Value {
    json!([{"paymentId": PAYMENT, "providerKey": "kustom", "externalReference": KUSTOM_ORDER, "currencyCode": "SEK"}])
}

impl Platform {
    fn new(payments: Value, reference1: Option<&str>, reference2: Option<&str>) -> Platform {
        Platform {
            payments,
            kustom: FakeOm {
                reference1: reference1.map(str::to_string),
                reference2: reference2.map(str::to_string),
                status: "AUTHORIZED",
                replays: HashMap::new(),
                patches: vec![],
                applied: 0,
                held: None,
                cancel_after_read: false,
                requests: 0,
            },
            queue: vec![],
            fault: None,
            calls: 0,
            activity: vec![],
            runs: 0,
        }
    }

    /// The platform creates the order: `OnOrderCreated` runs the rule, which schedules the job.
    fn create_order(&mut self, number: &str) {
        let input = json!({"hook": "OnOrderCreated", "now": NOW,
            "order": {"orderId": PLATFORM_ORDER, "orderNumber": number, "orderState": "confirmed", "channelKey": "se-web"}});
        let output = support::run("rules/order-number", &input);
        self.apply(&output);
    }

    fn apply(&mut self, output: &Value) {
        assert!(output.get("error").is_none(), "{output}");
        for effect in output["effects"].as_array().unwrap() {
            match effect["effect"].as_str().unwrap() {
                "scheduleJob" => self.queue.push(Run {
                    definition: effect["definition"].as_str().unwrap().into(),
                    parameters: effect["parameters"].clone(),
                    replies: vec![],
                }),
                "messageActor" => {
                    assert_eq!(effect["actorType"], "payment");
                    assert_eq!(effect["actorId"], PAYMENT, "logged on the Kustom payment");
                    for command in effect["body"]["commands"].as_array().unwrap() {
                        assert_eq!(command["type"], "addActivityLog");
                        self.activity
                            .push(command["dynamic"]["code"].as_str().unwrap().to_string());
                    }
                }
                other => panic!("unexpected effect {other}"),
            }
        }
    }

    /// Performs the next call of run `index`, or applies its effects; true when it finished.
    fn step(&mut self, index: usize) -> bool {
        let run = &self.queue[index];
        assert_eq!(run.definition, "setKustomOrderNumber");
        let mut input = run.parameters.clone();
        input["settings"] = json!({"apiKey": "kco_test_api_x"});
        input["now"] = json!(NOW);
        input["replies"] = json!(run.replies);
        let output = support::run("jobs/set-kustom-order-number", &input);
        support::shape(&output).unwrap();
        if let Some(calls) = output.get("calls") {
            let call = calls[0].clone();
            let step = self.calls;
            self.calls += 1;
            let reply = match call["call"].as_str().unwrap() {
                "query" => {
                    assert_eq!(call["set"], "payments");
                    self.payments.clone()
                }
                "http" => match self.fault {
                    Some(Fault::AppliedLate(at)) if at == step => {
                        self.kustom.held = Some(call.clone());
                        json!({"error": {"kind": "timeout", "message": "no answer in 10000 ms"}})
                    }
                    Some(Fault::Lost(at)) if at == step => {
                        json!({"error": {"kind": "network", "message": "connection reset"}})
                    }
                    Some(Fault::Unavailable(at)) if at == step => {
                        json!({"status": 503, "body": "<html>busy</html>"})
                    }
                    _ => self.kustom.handle(&call),
                },
                other => panic!("unexpected call {other}"),
            };
            if self.fault == Some(Fault::CrashAfter(step)) {
                self.fault = None;
                self.queue[index].replies.clear(); // the host runs the job again
            } else {
                self.queue[index].replies.push(reply);
            }
            return false;
        }
        self.runs += 1;
        let run = self.queue.remove(index);
        self.apply(&output);
        if self.fault == Some(Fault::CrashAfterEffects) {
            self.fault = None;
            let mut again = run;
            again.replies.clear();
            self.queue.insert(0, again); // not marked done: it runs again
        }
        true
    }

    fn settle(&mut self) {
        for _ in 0..50 {
            if self.queue.is_empty() {
                if let Some(held) = self.kustom.held.take() {
                    self.kustom.answer(&held); // Kustom gets to it in the end
                }
                return;
            }
            while !self.step(0) {}
        }
        panic!("jobs did not settle: {:?}", self.queue);
    }

    /// Every interleaving, at call granularity, of the runs queued now, each settled and checked.
    fn explore(self, check: &mut dyn FnMut(&Platform)) -> usize {
        if self.queue.is_empty() {
            check(&self);
            return 1;
        }
        let mut explored = 0;
        for index in 0..self.queue.len() {
            let mut world = self.clone();
            let before = world.queue.len();
            if world.step(index) && world.queue.len() >= before {
                // It scheduled a retry: that runs after the race.
                world.settle();
                check(&world);
                explored += 1;
            } else {
                explored += world.explore(check);
            }
        }
        explored
    }

    /// Every PATCH names the platform's number, under one key: never another reference.
    fn assert_one_reference(&self, number: &str) {
        for (body, _) in &self.kustom.patches {
            assert_eq!(body["merchant_reference1"], number, "{body}");
        }
        let keys: std::collections::HashSet<&String> =
            self.kustom.patches.iter().map(|(_, key)| key).collect();
        assert!(keys.len() <= 1, "several idempotency keys: {keys:?}");
        assert!(
            self.kustom.applied <= 1,
            "applied {} times",
            self.kustom.applied
        );
    }

    fn assert_settled(&self, cart_reference2: Option<&str>) {
        assert_eq!(self.kustom.reference1.as_deref(), Some(NUMBER));
        assert_eq!(self.kustom.reference2.as_deref(), cart_reference2);
        assert!(self.activity.is_empty(), "{:?}", self.activity);
        assert!(self.queue.is_empty());
    }
}

/// Faults worth placing at call `n`.
fn faults(n: usize) -> [Fault; 4] {
    [
        Fault::AppliedLate(n),
        Fault::Lost(n),
        Fault::Unavailable(n),
        Fault::CrashAfter(n),
    ]
}

#[test]
fn a_new_order_gets_its_number_and_keeps_its_cart_id() {
    let mut world = Platform::new(kustom_payment(), Some(CART), Some(CART));
    world.create_order(NUMBER);
    world.settle();
    world.assert_settled(Some(CART));
    assert_eq!(world.kustom.patches.len(), 1);
    assert_eq!(
        world.kustom.patches[0].0,
        json!({"merchant_reference1": NUMBER}),
        "reference 2 is left out: Kustom keeps it"
    );
}

#[test]
fn faults_at_every_step_never_send_another_reference() {
    let mut explored = 0;
    for fault in (0..4).flat_map(faults).chain([Fault::CrashAfterEffects]) {
        let mut world = Platform::new(kustom_payment(), Some(CART), Some(CART));
        world.fault = Some(fault);
        world.create_order(NUMBER);
        world.settle();
        world.assert_one_reference(NUMBER);
        world.assert_settled(Some(CART));
        // Applied once: a retry after an unseen PATCH finds the number and sends nothing more,
        // or, when Kustom was slower than the retry, is answered with the first result.
        assert_eq!(world.kustom.applied, 1, "{fault:?}");
        explored += 1;
    }
    assert_eq!(explored, 17);
}

#[test]
fn an_older_order_keeps_its_cart_findable_whatever_fails() {
    // Created before the cart id moved: reference 1 is the cart id, reference 2 empty.
    for reference2 in [None, Some("")] {
        for fault in (0..4).flat_map(faults).chain([Fault::CrashAfterEffects]) {
            let mut world = Platform::new(kustom_payment(), Some(CART), reference2);
            world.fault = Some(fault);
            world.create_order(NUMBER);
            world.settle();
            world.assert_one_reference(NUMBER);
            world.assert_settled(Some(CART));
            for (body, _) in &world.kustom.patches {
                assert_eq!(body["merchant_reference2"], CART, "{fault:?}: {body}");
            }
        }
    }
}

#[test]
fn a_merchants_own_reference_2_is_never_overwritten() {
    for fault in (0..4).flat_map(faults) {
        let mut world = Platform::new(kustom_payment(), Some(CART), Some("ERP-501"));
        world.fault = Some(fault);
        world.create_order(NUMBER);
        world.settle();
        world.assert_one_reference(NUMBER);
        world.assert_settled(Some("ERP-501"));
    }
}

#[test]
fn a_hook_delivered_twice_sets_one_number_in_every_interleaving() {
    let mut world = Platform::new(kustom_payment(), Some(CART), None);
    world.create_order(NUMBER);
    world.create_order(NUMBER);
    assert_eq!(world.queue.len(), 2);
    let explored = world.explore(&mut |done| {
        done.assert_one_reference(NUMBER);
        done.assert_settled(Some(CART));
    });
    assert!(explored >= 6, "{explored} interleavings");
}

#[test]
fn no_kustom_request_for_an_order_paid_otherwise() {
    let otherwise = [
        json!([]),
        json!([{"paymentId": PAYMENT, "providerKey": "stripe", "externalReference": "pi_3Nk", "currencyCode": "SEK"}]),
        json!([{"paymentId": PAYMENT, "providerKey": "paypal", "externalReference": KUSTOM_ORDER}]),
        json!([{"paymentId": PAYMENT, "providerKey": "kustom"}]),
        json!([{"paymentId": PAYMENT, "providerKey": "KUSTOM", "externalReference": KUSTOM_ORDER}]),
    ];
    for payments in otherwise {
        for number in [NUMBER, "", "9".repeat(300).as_str()] {
            let mut world = Platform::new(payments.clone(), Some(CART), Some(CART));
            world.create_order(number);
            world.settle();
            assert_eq!(world.kustom.requests, 0, "{payments}");
            assert!(
                world.activity.is_empty(),
                "{payments}: {:?}",
                world.activity
            );
            assert_eq!(world.kustom.reference1.as_deref(), Some(CART));
        }
    }
}

#[test]
fn an_order_number_kustom_would_refuse_is_never_sent() {
    let (long, wide) = ("9".repeat(256), "😀".repeat(128)); // 256 UTF-16 units
    for number in [
        "",
        "  ",
        " O10042",
        "O10042\r\n",
        "O1\u{7}0042",
        &long,
        &wide,
    ] {
        let mut world = Platform::new(kustom_payment(), Some(CART), Some(CART));
        world.create_order(number);
        world.settle();
        assert_eq!(world.kustom.requests, 0, "{number:?}");
        assert_eq!(world.activity, ["ORDER_NUMBER_INVALID"], "{number:?}");
    }
}

#[test]
fn a_cancelled_order_is_left_alone_and_a_cancel_after_the_read_is_logged_once() {
    // Cancelled before the job reads it (a fraud rejection, the merchant): nothing sent or logged.
    let mut world = Platform::new(kustom_payment(), Some(CART), Some(CART));
    world.kustom.status = "CANCELLED";
    world.create_order(NUMBER);
    world.settle();
    assert_eq!(world.kustom.patches.len(), 0);
    assert!(world.activity.is_empty(), "{:?}", world.activity);
    // Cancelled between the read and the PATCH: Kustom's 403 is logged on the payment, once.
    let mut world = Platform::new(kustom_payment(), Some(CART), Some(CART));
    world.kustom.cancel_after_read = true;
    world.create_order(NUMBER);
    world.settle();
    assert_eq!(world.kustom.patches.len(), 1);
    assert_eq!(world.activity, ["MERCHANT_REFERENCES_NOT_ALLOWED"]);
    assert_eq!(world.kustom.reference1.as_deref(), Some(CART));
}

#[test]
fn kustom_down_for_good_retries_three_times_then_logs_once() {
    let mut world = Platform::new(kustom_payment(), Some(CART), Some(CART));
    world.create_order(NUMBER);
    let mut attempts = 0;
    while !world.queue.is_empty() {
        // Every Kustom call of this run answers 503.
        let run = world.queue[0].clone();
        assert_eq!(
            run.parameters["orderNumber"], NUMBER,
            "a retry carries the same number"
        );
        assert_eq!(run.parameters["orderId"], PLATFORM_ORDER);
        world.fault = Some(Fault::Unavailable(world.calls + 1));
        while !world.step(0) {}
        attempts += 1;
        assert!(attempts <= 4, "never settles");
    }
    assert_eq!(attempts, 4, "the first run and three retries");
    assert_eq!(world.activity, ["KUSTOM_UNAVAILABLE"]);
    assert_eq!(world.kustom.patches.len(), 0, "the read failed each time");
}
