//! Scenario tests of checkout, confirm and push on a simulated host with the platform's
//! semantics — a ticket completes once, a message batch to an actor is one transaction, a
//! payment's `externalReference` is unique — and a fake Kustom (checkout orders that expire or
//! complete, Order Management reads, acknowledgements).
//!
//! The exactly-once suite runs confirm and push as two processes and explores **every**
//! interleaving of their steps (each call a host performs is one atomic step), with a crash of
//! either process after any step followed by a retry, and checks at the end of each run: one
//! payment, the cart completed with exactly that payment, the order acknowledged.
//!
//! At every step it also checks the order of calls, whatever the interleaving: a process
//! creates a payment only after it looked for an existing one (`query payments` for the order),
//! and Kustom's order is acknowledged only once its payment exists and the cart is completed
//! with it (an acknowledgement stops Kustom's pushes: one sent too early loses the payment for
//! good if the process then dies).
//! The watchdog (`watchKustomOrder`, the checkout's job that completes a paid order nobody
//! reported) joins them as a third party: watchdog ∥ confirm ∥ push, and watchdog with either
//! one alone (the other path never arrives), with a crash, under the same invariants, plus: the
//! watchdog's mark and note are on the cart exactly when its step completed the cart, and a
//! check that finds the order paid never schedules another.

use kustom::components::{checkout, confirm, watch_kustom_order, webhook};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const CART: &str = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";

fn settings() -> Value {
    json!({"apiKey": "kco_test_api_x", "publicBaseUrl": "https://shop.example.se"})
}

fn rendered_cart(mugs: i64) -> Value {
    rendered_cart_in(&SEK, mugs)
}

/// A currency for the carts: its code, minor-unit exponent, and the prices (minor units) of a
/// T-shirt and a mug, tax included at 25 % (each price divisible by 5, so the tax is exact).
struct Currency {
    code: &'static str,
    exponent: i32,
    t_shirt: i64,
    mug: i64,
}

const SEK: Currency = Currency {
    code: "SEK",
    exponent: 2,
    t_shirt: 19900,
    mug: 8990,
};
const JPY: Currency = Currency {
    code: "JPY",
    exponent: 0,
    t_shirt: 2000,
    mug: 900,
};
const KWD: Currency = Currency {
    code: "KWD",
    exponent: 3,
    t_shirt: 19900,
    mug: 8995,
};

fn rendered_cart_in(currency: &Currency, mugs: i64) -> Value {
    let major = |minor: i64| minor as f64 / 10f64.powi(currency.exponent);
    let mug_total = mugs * currency.mug;
    json!({
        "cartId": CART, "cartState": "open", "currencyCode": currency.code, "taxIncluded": true, "locale": "sv-SE",
        "orderTotal": major(currency.t_shirt + mug_total), "orderTaxTotal": major(currency.t_shirt / 5 + mug_total / 5),
        "items": [
            {"productNumber": "TS-RED-M", "quantity": 1, "unitPrice": major(currency.t_shirt), "total": major(currency.t_shirt), "tax": major(currency.t_shirt / 5)},
            {"productNumber": "MUG-1", "quantity": mugs, "unitPrice": major(currency.mug), "total": major(mug_total), "tax": major(mug_total / 5)}
        ],
        "address": {"countryCode": "SE"}, "fields": {}
    })
}

#[derive(Clone, Debug, Default)]
struct KustomOrder {
    status: String,
    body: Value,
    acknowledged: u32,
    expired: bool,
    /// Completed, and the Checkout API no longer serves it (Order Management does).
    forgotten: bool,
}

#[derive(Clone, Debug)]
struct World {
    cart: Value, // rendered cart contents (items, totals)
    cart_state: String,
    dynamic: Map<String, Value>,
    relations: Vec<String>,
    activity: Vec<String>,
    payments: Vec<(String, String, Value)>, // (payment id, externalReference, amount)
    orders: HashMap<String, KustomOrder>,
    next_order: u32,
    /// Acknowledgements that fail before one succeeds.
    ack_failures: u32,
    /// Re-pushes Kustom still makes while the order is not acknowledged (48 h of retries,
    /// bounded here so that a path that never acknowledges fails the check, not the stack).
    pushes_left: u32,
    /// Whether a crashed process is run again for free. Without: a crashed confirm is gone
    /// (the browser gave up), and a crashed push comes back only as Kustom's next push, while
    /// the order is unacknowledged.
    free_retry: bool,
    /// What the payment must authorize (major units, as the platform takes amounts).
    expected_amount: Value,
    /// Jobs scheduled (`scheduleJob` effects): the checkout's watchdog, its next checks.
    jobs: Vec<Value>,
    /// Which process's step completed the cart.
    completed_by: Option<Kind>,
}

impl World {
    fn new(mugs: i64) -> World {
        World {
            cart: rendered_cart(mugs),
            cart_state: "open".into(),
            dynamic: Map::new(),
            relations: vec![],
            activity: vec![],
            payments: vec![],
            orders: HashMap::new(),
            next_order: 0,
            ack_failures: 0,
            pushes_left: 3,
            free_retry: true,
            expected_amount: json!(468.7),
            jobs: vec![],
            completed_by: None,
        }
    }

    fn rendered(&self) -> Value {
        let mut cart = self.cart.clone();
        cart["cartState"] = json!(self.cart_state);
        let fields: Map<String, Value> = self
            .dynamic
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("field:").map(|k| (k.to_string(), v.clone())))
            .collect();
        cart["fields"] = Value::Object(fields);
        cart
    }

    fn order_id(&self) -> String {
        self.dynamic["field:kustomOrderId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The parameters of the watchdog's first check, as the checkout scheduled it for the
    /// cart's current order.
    fn watchdog_job(&self) -> &Value {
        let order_id = self.order_id();
        &self
            .jobs
            .iter()
            .find(|job| {
                job["definition"] == "watchKustomOrder"
                    && job["parameters"]["kustomOrderId"] == order_id.as_str()
            })
            .expect("the checkout scheduled the watchdog")["parameters"]
    }

    /// The customer pays in the iframe: Kustom completes the order.
    fn customer_pays(&mut self) {
        let id = self.order_id();
        self.orders.get_mut(&id).unwrap().status = "checkout_complete".into();
    }

    fn apply_command(&mut self, command: &Value) -> Result<(), String> {
        if self.cart_state != "open" {
            return Err("INVALID_STATE: the ticket is not open".into());
        }
        match command["type"].as_str().unwrap() {
            "setDynamicFields" => {
                for (k, v) in command["fields"].as_object().unwrap() {
                    if v.is_null() {
                        self.dynamic.remove(k);
                    } else {
                        self.dynamic.insert(k.clone(), v.clone());
                    }
                }
            }
            "addActivityLog" => self
                .activity
                .push(command["messageTemplate"].as_str().unwrap().into()),
            "createRelation" => self
                .relations
                .push(command["nodeId"].as_str().unwrap().into()),
            // The customer's data from Kustom (tests/paid_order_scenarios.rs checks it); here
            // only that it travels in the completing batch.
            "setAddress" | "setEmail" | "setPhone" => {}
            other => panic!("unexpected command {other}"),
        }
        Ok(())
    }

    fn perform(&mut self, call: &Value) -> Value {
        match call["call"].as_str().unwrap() {
            "renderCart" => {
                if call["cartId"] == CART {
                    self.rendered()
                } else {
                    json!({"error": {"code": "NOT_FOUND"}})
                }
            }
            "query" => {
                let filter = call["filter"].as_str().unwrap();
                let value = filter.split('\'').nth(1).unwrap();
                match call["set"].as_str().unwrap() {
                    "payments" => json!(self
                        .payments
                        .iter()
                        .filter(|p| p.1 == value)
                        .map(|p| json!({"paymentId": p.0}))
                        .collect::<Vec<_>>()),
                    "carts" => {
                        if self.dynamic.get("field:kustomOrderId") == Some(&json!(value)) {
                            json!([{"cartId": CART}])
                        } else {
                            json!([])
                        }
                    }
                    other => panic!("unexpected set {other}"),
                }
            }
            "messageActor" => self.message_actor(call),
            "http" => self.kustom(call),
            other => panic!("unexpected call {other}"),
        }
    }

    /// A batch of messages is one transaction: all or nothing.
    fn message_actor(&mut self, call: &Value) -> Value {
        let before = self.clone();
        let mut errors = vec![];
        let mut data = json!({});
        let mut actor_id = call["actorId"].clone();
        for message in call["messages"].as_array().unwrap() {
            let result = match (
                call["actorType"].as_str().unwrap(),
                message["type"].as_str().unwrap(),
            ) {
                ("ticket", "applyCommands") => message["body"]["commands"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .try_for_each(|c| self.apply_command(c)),
                ("ticket", "complete") => {
                    if self.cart_state == "open" {
                        self.cart_state = "completed".into();
                        Ok(())
                    } else {
                        Err("INVALID_STATE: already completed".into())
                    }
                }
                ("payment", "create") => {
                    let body = &message["body"];
                    let reference = body["externalReference"].as_str().unwrap().to_string();
                    if self.payments.iter().any(|p| p.1 == reference) {
                        Err("DUPLICATE_EXTERNAL_REFERENCE".into())
                    } else {
                        let id = format!("payment-{}", self.payments.len() + 1);
                        self.payments.push((
                            id.clone(),
                            reference,
                            body["commands"][0]["amount"].clone(),
                        ));
                        actor_id = json!(id);
                        Ok(())
                    }
                }
                // Completion re-reads the authorization once the payment exists (a fraud review
                // may have ended meanwhile); here Kustom has always accepted.
                ("payment", "query") => {
                    let payment = self.payments.iter().find(|p| json!(p.0) == call["actorId"]);
                    data = json!({"query": {"paymentId": call["actorId"], "authorizations":
                        payment.map_or(vec![], |p| vec![json!({"authorizationNumber": p.1,
                            "authorizationState": "successful"})])}});
                    Ok(())
                }
                other => panic!("unexpected message {other:?}"),
            };
            if let Err(error) = result {
                errors.push(json!({"code": error, "message": error}));
                break;
            }
        }
        if !errors.is_empty() {
            *self = World {
                ack_failures: self.ack_failures,
                pushes_left: self.pushes_left,
                free_retry: self.free_retry,
                jobs: std::mem::take(&mut self.jobs),
                ..before
            };
            return json!({"actorId": null, "paths": [], "data": {}, "errors": errors});
        }
        json!({"actorId": actor_id, "paths": [], "data": data, "errors": []})
    }

    fn kustom(&mut self, call: &Value) -> Value {
        let url = call["url"].as_str().unwrap();
        let path = url
            .strip_prefix("https://api.playground.kustom.co")
            .unwrap();
        let method = call["method"].as_str().unwrap();
        let id_in = |prefix: &str| {
            path.strip_prefix(prefix)
                .map(|rest| rest.split('/').next().unwrap().to_string())
        };
        match (method, path) {
            ("POST", "/checkout/v3/orders") => {
                self.next_order += 1;
                let id = format!("00000000-0000-4000-8000-{:012}", self.next_order);
                let mut body = call["body"].clone();
                body["order_id"] = json!(id);
                body["status"] = json!("checkout_incomplete");
                body["html_snippet"] =
                    json!(format!("<div id=\"klarna-checkout-container\">{id}</div>"));
                self.orders.insert(
                    id.clone(),
                    KustomOrder {
                        status: "checkout_incomplete".into(),
                        body: body.clone(),
                        ..Default::default()
                    },
                );
                json!({"status": 201, "body": body})
            }
            _ => {
                let id = id_in("/checkout/v3/orders/")
                    .or_else(|| id_in("/ordermanagement/v1/orders/"))
                    .unwrap();
                let Some(order) = self.orders.get_mut(&id).filter(|o| !o.expired) else {
                    return json!({"status": 404, "body": ""});
                };
                let mut body = order.body.clone();
                body["status"] = json!(order.status);
                if order.forgotten && path.starts_with("/checkout") {
                    return json!({"status": 404, "body": ""});
                }
                match (
                    method,
                    path.ends_with("/acknowledge"),
                    path.starts_with("/ordermanagement"),
                ) {
                    ("GET", _, false) => json!({"status": 200, "body": body}),
                    ("GET", _, true) if order.status == "checkout_complete" => {
                        json!({"status": 200, "body": {"order_id": id, "status": "AUTHORIZED", "purchase_currency": body["purchase_currency"],
                               "order_amount": body["order_amount"], "remaining_authorized_amount": body["order_amount"]}})
                    }
                    ("GET", _, true) => json!({"status": 404, "body": ""}),
                    ("POST", true, _) => {
                        assert!(
                            self.payments.iter().any(|p| p.1 == id)
                                && self.cart_state == "completed"
                                && self.relations.len() == 1,
                            "invariant: order {id} acknowledged before its payment exists and completes the cart"
                        );
                        if self.ack_failures > 0 {
                            self.ack_failures -= 1;
                            return json!({"status": 503, "body": ""});
                        }
                        order.acknowledged += 1;
                        json!({"status": 204, "body": ""})
                    }
                    ("POST", false, false) => {
                        if order.status != "checkout_incomplete" {
                            return json!({"status": 403, "body": {"error_code": "READ_ONLY_ORDER", "error_messages": ["Resource is read-only"]}});
                        }
                        for key in [
                            "order_amount",
                            "order_tax_amount",
                            "order_lines",
                            "purchase_currency",
                        ] {
                            order.body[key] = call["body"][key].clone();
                        }
                        let mut body = order.body.clone();
                        body["status"] = json!(order.status);
                        json!({"status": 200, "body": body})
                    }
                    other => panic!("unexpected Kustom call {other:?} {path}"),
                }
            }
        }
    }

    fn apply_effects(&mut self, output: &Value) {
        for effect in output["effects"].as_array().unwrap() {
            match effect["effect"].as_str().unwrap() {
                "messageActor" => {
                    assert_eq!(effect["messageType"], "applyCommands");
                    for command in effect["body"]["commands"].as_array().unwrap() {
                        self.apply_command(command).unwrap();
                    }
                }
                "scheduleJob" => self.jobs.push(effect.clone()),
                other => panic!("unexpected effect {other}"),
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Confirm,
    Push,
    /// The `watchKustomOrder` job the checkout scheduled (its first check).
    Watchdog,
}

#[derive(Clone, Debug)]
struct Process {
    kind: Kind,
    /// What the host keeps between steps (docs/host-contract.md): the continuation of the last
    /// output, and the replies since (a component that returns none is replayed: every reply).
    continuation: Value,
    replies: Vec<Value>,
    /// Whether this run of the process queried the payments (a fresh run has not).
    looked_for_payment: bool,
}

impl Process {
    fn new(kind: Kind) -> Process {
        Process {
            kind,
            continuation: Value::Null,
            replies: vec![],
            looked_for_payment: false,
        }
    }
}

impl Process {
    /// The call of `output` was answered with `reply`: resume from its continuation.
    fn resume_with(&mut self, output: &Value, reply: Value) {
        match output.get("continuation") {
            Some(continuation) => {
                self.continuation = continuation.clone();
                self.replies = vec![reply];
            }
            None => self.replies.push(reply),
        }
    }
}

fn input(kind: Kind, world: &World, process: &Process) -> Value {
    let mut input = request(kind, world, &process.replies);
    if !process.continuation.is_null() {
        input["continuation"] = process.continuation.clone();
    }
    input
}

fn request(kind: Kind, world: &World, replies: &[Value]) -> Value {
    let (route, query) = match kind {
        Kind::Confirm => (json!({"cartId": CART}), json!({})),
        Kind::Push => (json!({}), json!({"kustom_order_id": world.order_id()})),
        Kind::Watchdog => return watchdog_input(world.watchdog_job(), replies),
    };
    json!({"route": route, "query": query, "headers": {}, "body": null, "settings": settings(),
           "now": "2026-11-25T09:40:00Z", "replies": replies})
}

/// A job's input: its parameters beside `settings`, `now` and `replies`.
fn watchdog_input(parameters: &Value, replies: &[Value]) -> Value {
    let mut input = parameters.clone();
    input["settings"] = settings();
    input["now"] = json!("2026-11-25T09:45:00Z");
    input["replies"] = json!(replies);
    input
}

fn run_ingress(kind: Kind, input: &Value) -> Value {
    match kind {
        Kind::Confirm => confirm::run(input).to_json(),
        Kind::Push => webhook::run(input).to_json(),
        Kind::Watchdog => watch_kustom_order::run(input).to_json(),
    }
}

/// One atomic step of a process: perform its next call, or finish (apply effects, answer).
/// Returns the response when the process finished.
fn step(world: &mut World, process: &mut Process) -> Option<Value> {
    let output = run_ingress(process.kind, &input(process.kind, world, process));
    assert!(
        output.get("error").is_none() || output.get("response").is_some(),
        "{output}"
    );
    if let Some(calls) = output.get("calls") {
        let call = &calls[0];
        if call["call"] == "query" && call["set"] == "payments" {
            process.looked_for_payment = true;
        }
        if call["actorType"] == "payment" && call["messages"][0]["type"] == "create" {
            assert!(
                process.looked_for_payment,
                "invariant: {:?} created a payment without looking for an existing one",
                process.kind
            );
        }
        let open = world.cart_state == "open";
        let reply = world.perform(&calls[0]);
        if open && world.cart_state == "completed" {
            world.completed_by = Some(process.kind);
        }
        process.resume_with(&output, reply);
        return None;
    }
    if process.kind == Kind::Watchdog {
        // A paid order: the check that finds it completes it (or sees it completed), and never
        // schedules another.
        let effects = output["effects"].as_array().unwrap();
        assert!(effects.is_empty(), "watchdog effects {output}");
    }
    world.apply_effects(&output);
    Some(output["response"].clone())
}

/// A world after checkout, with the customer's payment made at Kustom.
fn paid_world() -> World {
    let mut world = World::new(3);
    let response = run_checkout(&mut world);
    assert_eq!(response["statusCode"], 200, "{response}");
    world.customer_pays();
    world
}

fn run_checkout(world: &mut World) -> Value {
    let mut replies: Vec<Value> = vec![];
    loop {
        let request = json!({"route": {"cartId": CART}, "query": {}, "headers": {}, "settings": settings(),
            "now": "2026-11-25T09:30:00Z", "replies": replies,
            "body": {"termsUrl": "https://shop.example.se/villkor", "checkoutUrl": "https://shop.example.se/kassa",
                     "confirmationUrl": "https://shop.example.se/bekraftelse?cart=0b7c2f8e"}});
        let output = checkout::run(&request).to_json();
        if let Some(calls) = output.get("calls") {
            replies.push(world.perform(&calls[0]));
            continue;
        }
        world.apply_effects(&output);
        return output["response"].clone();
    }
}

fn check_exactly_once(world: &World, trace: &str) {
    let id = world.order_id();
    assert_eq!(world.payments.len(), 1, "one payment after {trace}");
    assert_eq!(world.payments[0].1, id);
    assert_eq!(
        world.payments[0].2, world.expected_amount,
        "authorized the order amount"
    );
    assert_eq!(
        world.cart_state, "completed",
        "cart completed after {trace}"
    );
    assert_eq!(
        world.relations,
        vec![world.payments[0].0.clone()],
        "cart linked to that payment once, after {trace}"
    );
    assert!(
        world.orders[&id].acknowledged >= 1,
        "acknowledged after {trace}"
    );
    let notes = world
        .activity
        .iter()
        .filter(|entry| entry.contains("watchdog"))
        .count();
    let by_watchdog = world.completed_by == Some(Kind::Watchdog);
    assert_eq!(
        (notes, world.dynamic.get("field:kustomCompletedBy").cloned()),
        (
            usize::from(by_watchdog),
            by_watchdog.then(|| json!("watchdog"))
        ),
        "the watchdog's mark and note on the cart exactly when it completed it, after {trace}"
    );
}

/// Explores every interleaving of `processes` (plus, when `crashes` allows, a crash of any
/// process after any step: retried by a fresh process of the same kind when the world allows a
/// free retry, else only as Kustom's next push while the order is unacknowledged).
fn explore(
    world: World,
    processes: Vec<Process>,
    crashes: u32,
    trace: String,
    seen: &mut HashMap<String, usize>,
) -> usize {
    let key = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{:?}|{crashes}",
        world.completed_by,
        world.activity,
        world.cart_state,
        world.dynamic,
        world.relations,
        world.payments.len(),
        world.pushes_left,
        world.ack_failures,
        world
            .orders
            .values()
            .map(|o| o.acknowledged)
            .collect::<Vec<_>>()
    ) + &serde_json::to_string(
        &processes
            .iter()
            .map(|p| (p.kind as u8, &p.continuation, &p.replies))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    if let Some(runs) = seen.get(&key) {
        return *runs;
    }
    if processes.is_empty() {
        check_exactly_once(&world, &trace);
        seen.insert(key, 1);
        return 1;
    }
    let mut runs = 0;
    for index in 0..processes.len() {
        // the process takes one step
        let (mut next_world, mut next) = (world.clone(), processes.clone());
        let finished = step(&mut next_world, &mut next[index]).is_some();
        let kind = next[index].kind;
        if finished {
            next.remove(index);
            // Kustom keeps pushing until acknowledged
            let unacknowledged = next_world.orders[&next_world.order_id()].acknowledged == 0;
            if kind == Kind::Push && unacknowledged && next_world.pushes_left > 0 {
                next_world.pushes_left -= 1;
                next.push(Process::new(Kind::Push));
            }
        }
        runs += explore(next_world, next, crashes, format!("{trace} {kind:?}"), seen);
        // or the host crashes here, losing the reply to the call it performed last: the
        // watchdog job resumes from the continuation kept with that call and performs it again;
        // an ingress's request is lost, and is retried from scratch
        if crashes > 0 && !processes[index].replies.is_empty() {
            let (mut crashed_world, mut retried) = (world.clone(), processes.clone());
            if kind == Kind::Watchdog {
                retried[index].replies.clear();
            } else if world.free_retry {
                retried[index] = Process::new(kind);
            } else {
                retried.remove(index);
                let unacknowledged =
                    crashed_world.orders[&crashed_world.order_id()].acknowledged == 0;
                if kind == Kind::Push && unacknowledged && crashed_world.pushes_left > 0 {
                    crashed_world.pushes_left -= 1;
                    retried.push(Process::new(Kind::Push));
                }
            }
            runs += explore(
                crashed_world,
                retried,
                crashes - 1,
                format!("{trace} crash({kind:?})"),
                seen,
            );
        }
    }
    seen.insert(key, runs);
    runs
}

fn both(world: &World) -> Vec<Process> {
    let _ = world;
    vec![Process::new(Kind::Confirm), Process::new(Kind::Push)]
}

#[test]
fn confirm_and_push_every_interleaving() {
    let world = paid_world();
    let runs = explore(
        world.clone(),
        both(&world),
        0,
        String::new(),
        &mut HashMap::new(),
    );
    println!("confirm ∥ push: {runs} interleavings");
    assert!(runs > 100, "{runs}");
}

#[test]
fn confirm_and_push_with_a_crash_at_any_step_and_a_free_retry() {
    let world = paid_world();
    let runs = explore(
        world.clone(),
        both(&world),
        1,
        String::new(),
        &mut HashMap::new(),
    );
    println!("confirm ∥ push with one crash: {runs} interleavings");
    assert!(runs > 1000, "{runs}");
}

#[test]
fn confirm_first_then_push_and_push_first_then_confirm() {
    for order in [[Kind::Confirm, Kind::Push], [Kind::Push, Kind::Confirm]] {
        let mut world = paid_world();
        for kind in order {
            let mut process = Process::new(kind);
            let response = loop {
                if let Some(response) = step(&mut world, &mut process) {
                    break response;
                }
            };
            assert_eq!(response["statusCode"], 200, "{kind:?}: {response}");
        }
        check_exactly_once(&world, &format!("{order:?}"));
        assert_eq!(
            world.orders[&world.order_id()].acknowledged,
            2,
            "both acknowledge (idempotent)"
        );
    }
}

#[test]
fn acknowledgement_failing_is_retried_by_the_push() {
    let mut world = paid_world();
    world.ack_failures = 2;
    let mut confirm = Process::new(Kind::Confirm);
    let response = loop {
        if let Some(r) = step(&mut world, &mut confirm) {
            break r;
        }
    };
    assert_eq!(
        response["statusCode"], 200,
        "the customer still sees the confirmation"
    );
    assert_eq!(world.orders[&world.order_id()].acknowledged, 0);
    // Kustom pushes until acknowledged
    let mut pushes = 0;
    while world.orders[&world.order_id()].acknowledged == 0 {
        pushes += 1;
        assert!(pushes <= 3);
        let mut push = Process::new(Kind::Push);
        let response = loop {
            if let Some(r) = step(&mut world, &mut push) {
                break r;
            }
        };
        let expected = if world.orders[&world.order_id()].acknowledged > 0 {
            200
        } else {
            503
        };
        assert_eq!(response["statusCode"], expected);
    }
    assert_eq!(pushes, 2);
    check_exactly_once(&world, "ack failing twice");
}

#[test]
fn confirm_before_payment_says_so_and_changes_nothing() {
    let mut world = World::new(3);
    run_checkout(&mut world);
    let mut process = Process::new(Kind::Confirm);
    let response = loop {
        if let Some(r) = step(&mut world, &mut process) {
            break r;
        }
    };
    assert_eq!(
        response["content"],
        json!({"status": "checkout_incomplete"})
    );
    assert!(world.payments.is_empty() && world.cart_state == "open");
}

#[test]
fn amount_mismatch_at_confirm_is_recorded_once_and_never_completes() {
    let mut world = paid_world();
    world.cart = rendered_cart(4); // changed after the customer paid for 3 mugs
    for _ in 0..2 {
        let mut process = Process::new(Kind::Confirm);
        let response = loop {
            if let Some(r) = step(&mut world, &mut process) {
                break r;
            }
        };
        assert_eq!(response["statusCode"], 409);
        assert_eq!(response["content"]["error"]["code"], "AMOUNT_MISMATCH");
    }
    assert!(world.payments.is_empty());
    assert_eq!(world.cart_state, "open");
    assert_eq!(
        world.activity.len(),
        1,
        "recorded once: {:?}",
        world.activity
    );
    assert_eq!(world.orders[&world.order_id()].acknowledged, 0);
}

#[test]
fn checkout_is_idempotent_and_handles_expired_and_completed_orders() {
    let mut world = World::new(3);
    let first = run_checkout(&mut world);
    let second = run_checkout(&mut world);
    assert_eq!(world.orders.len(), 1, "the same order is returned");
    assert_eq!(
        world.jobs.len(),
        1,
        "one watchdog for the one order created"
    );
    assert_eq!(
        first["content"]["htmlSnippet"],
        second["content"]["htmlSnippet"]
    );
    assert_eq!(
        world.dynamic["field:kustomPendingHash"],
        world.dynamic["field:kustomSyncHash"]
    );

    // the cart changed without a sync: checkout brings the order up to date
    world.cart = rendered_cart(4);
    run_checkout(&mut world);
    assert_eq!(world.orders.len(), 1);
    assert_eq!(world.orders[&world.order_id()].body["order_amount"], 55860);

    // the order expired: a new one replaces it
    let old = world.order_id();
    world.orders.get_mut(&old).unwrap().expired = true;
    let response = run_checkout(&mut world);
    assert_ne!(world.order_id(), old);
    assert_eq!(
        response["content"]["kustomOrderId"],
        json!(world.order_id())
    );
    assert_eq!(world.orders.len(), 2);
    assert_eq!(
        world
            .jobs
            .iter()
            .map(|job| job["parameters"]["kustomOrderId"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [old.as_str(), world.order_id().as_str()],
        "the replacing order gets its own watchdog"
    );

    // paid: the storefront is sent to confirmation, and no order is created
    world.customer_pays();
    let response = run_checkout(&mut world);
    assert_eq!(response["content"]["status"], "checkout_complete");
    assert_eq!(world.orders.len(), 2);
}

#[test]
fn bad_input_to_each_ingress_is_a_clear_error_and_writes_nothing() {
    let world = paid_world();
    let garbage_bodies = [
        json!(null),
        json!("not json"),
        json!([1, 2]),
        json!({"termsUrl": 42}),
        json!({"termsUrl": "javascript:alert(1)", "checkoutUrl": "https://x.se", "confirmationUrl": "https://x.se"}),
    ];
    let mut requests: Vec<(&str, Value)> = vec![];
    for body in &garbage_bodies {
        requests.push(("checkout", json!({"route": {"cartId": CART}, "body": body})));
    }
    for route in [
        json!({}),
        json!({"cartId": 7}),
        json!({"cartId": "11111111-2222-4333-8444-555555555555"}),
    ] {
        requests.push(("checkout", json!({"route": route.clone(), "body": {"termsUrl": "https://a.se", "checkoutUrl": "https://a.se", "confirmationUrl": "https://a.se"}})));
        requests.push(("confirm", json!({"route": route})));
    }
    for query in [
        json!({}),
        json!({"kustom_order_id": ""}),
        json!({"kustom_order_id": "../../admin"}),
        json!({"kustom_order_id": ["a", "b"]}),
        json!({"kustom_order_id": "99999999-0000-4000-8000-000000000000"}),
    ] {
        requests.push(("webhook", json!({"query": query})));
    }
    for (ingress, request) in requests {
        let mut world = world.clone();
        let before = format!(
            "{:?}{:?}{:?}{:?}",
            world.dynamic, world.cart_state, world.payments, world.relations
        );
        let mut input = json!({"route": {}, "query": {}, "headers": {}, "body": null, "settings": settings(),
                               "now": "2026-11-25T09:40:00Z", "replies": []});
        for (key, value) in request.as_object().unwrap() {
            input[key] = value.clone();
        }
        let output = loop {
            let output = match ingress {
                "checkout" => checkout::run(&input).to_json(),
                "confirm" => confirm::run(&input).to_json(),
                _ => webhook::run(&input).to_json(),
            };
            match output.get("calls") {
                Some(calls) => {
                    let call = &calls[0];
                    assert!(
                        call["call"] != "messageActor" && call["method"] != "POST",
                        "{ingress} {request}: writes {call}"
                    );
                    let reply = world.perform(call);
                    input["replies"].as_array_mut().unwrap().push(reply);
                }
                None => break output,
            }
        };
        let status = output["response"]["statusCode"].as_u64().unwrap_or(500);
        assert!(status >= 400, "{ingress} {request}: {output}");
        let code = output["response"]["content"]["error"]["code"]
            .as_str()
            .or(output["error"]["code"].as_str());
        assert!(
            code.is_some_and(|c| !c.is_empty()),
            "{ingress} {request}: no error code in {output}"
        );
        assert_eq!(
            output["effects"].as_array().map_or(0, Vec::len),
            0,
            "{ingress} {request}"
        );
        let after = format!(
            "{:?}{:?}{:?}{:?}",
            world.dynamic, world.cart_state, world.payments, world.relations
        );
        assert_eq!(before, after, "{ingress} {request} changed the world");
    }
}

fn explore_paid_world(world: World, crashes: u32, name: &str, minimum: usize) {
    let start = std::time::Instant::now();
    let runs = explore(
        world.clone(),
        both(&world),
        crashes,
        String::new(),
        &mut HashMap::new(),
    );
    println!("{name}: {runs} interleavings in {:?}", start.elapsed());
    assert!(runs >= minimum, "{name}: only {runs} interleavings");
}

#[test]
fn two_crashes_without_a_free_retry_every_interleaving() {
    // A crashed confirm is not retried (the browser gave up); a crashed push returns only as
    // Kustom's next push while the order is unacknowledged.
    let mut world = paid_world();
    world.free_retry = false;
    world.pushes_left = 4;
    explore_paid_world(world, 2, "two crashes, no free retry", 1000);
}

#[test]
fn acknowledgement_failures_with_a_crash_every_interleaving() {
    for failures in [1, 2] {
        let mut world = paid_world();
        world.free_retry = false;
        world.ack_failures = failures;
        world.pushes_left = 4;
        explore_paid_world(
            world,
            1,
            &format!("{failures} failed acknowledgements, one crash"),
            100,
        );
    }
}

#[test]
fn zero_and_three_decimal_currencies_with_a_crash_every_interleaving() {
    for (currency, amount) in [(&JPY, json!(4700)), (&KWD, json!(46.885))] {
        let mut world = World::new(3);
        world.cart = rendered_cart_in(currency, 3);
        world.expected_amount = amount;
        let response = run_checkout(&mut world);
        assert_eq!(response["statusCode"], 200, "{response}");
        world.customer_pays();
        world.free_retry = false;
        world.pushes_left = 3;
        explore_paid_world(world, 1, &format!("{}: one crash", currency.code), 100);
    }
}

fn process(kind: Kind) -> Process {
    Process::new(kind)
}

/// Explores `kinds` racing on a paid order, with `crashes`, and prints the count.
fn explore_paid(kinds: &[Kind], crashes: u32) -> usize {
    let world = paid_world();
    let started = std::time::Instant::now();
    let mut seen = HashMap::new();
    let processes = kinds.iter().copied().map(process).collect();
    let runs = explore(world, processes, crashes, String::new(), &mut seen);
    println!(
        "{kinds:?} with {crashes} crash(es): {runs} interleavings, {} distinct states, {:.1} s",
        seen.len(),
        started.elapsed().as_secs_f64()
    );
    runs
}

/// The watchdog as a third party: watchdog ∥ confirm ∥ push, every interleaving, and the
/// subsets where one of the other paths never arrives. Same invariants: one payment, one
/// completed cart linked to it, acknowledged; the watchdog's note exactly when it completed.
#[test]
fn watchdog_confirm_and_push_every_interleaving() {
    use Kind::*;
    assert!(explore_paid(&[Watchdog, Confirm, Push], 0) > 10_000);
    assert!(explore_paid(&[Watchdog, Confirm], 0) > 100);
    assert!(explore_paid(&[Watchdog, Push], 0) > 100);
    assert_eq!(explore_paid(&[Watchdog], 0), 1);
}

#[test]
fn watchdog_confirm_and_push_with_a_crash_at_any_step() {
    use Kind::*;
    assert!(explore_paid(&[Watchdog, Confirm, Push], 1) > 100_000);
    assert!(explore_paid(&[Watchdog, Confirm], 1) > 1000);
    assert!(explore_paid(&[Watchdog, Push], 1) > 1000);
    assert!(explore_paid(&[Watchdog], 2) > 10);
}

/// Runs one watchdog job to the end: its output and the calls it made.
fn run_watchdog(world: &mut World, parameters: &Value, now: &str) -> (Value, Vec<Value>) {
    let mut replies: Vec<Value> = vec![];
    let mut calls = vec![];
    loop {
        let mut input = watchdog_input(parameters, &replies);
        input["now"] = json!(now);
        let output = watch_kustom_order::run(&input).to_json();
        let Some(call) = output.get("calls").map(|c| c[0].clone()) else {
            assert!(output.get("error").is_none(), "{output}");
            world.apply_effects(&output);
            return (output, calls);
        };
        replies.push(world.perform(&call));
        calls.push(call);
    }
}

fn kustom_calls(calls: &[Value]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c["call"] == "http")
        .map(|c| {
            format!(
                "{} {}",
                c["method"].as_str().unwrap(),
                c["url"].as_str().unwrap()
            )
        })
        .collect()
}

/// What a check scheduled next: the parameters of its `scheduleJob`, if any.
fn next_job(output: &Value) -> Option<Value> {
    let effects = output["effects"].as_array()?;
    let job = effects.iter().find(|e| e["effect"] == "scheduleJob")?;
    assert_eq!(job["definition"], "watchKustomOrder");
    Some(job["parameters"].clone())
}

#[test]
fn a_normal_checkout_costs_the_watchdog_no_kustom_call() {
    let mut world = paid_world();
    let mut confirm = process(Kind::Confirm);
    while step(&mut world, &mut confirm).is_none() {}
    let before = format!("{:?}", world.dynamic);
    let parameters = world.watchdog_job().clone();
    let (output, calls) = run_watchdog(&mut world, &parameters, "2026-11-25T09:45:00Z");
    assert_eq!(calls.len(), 1, "one cart read: {calls:?}");
    assert_eq!(calls[0]["call"], "renderCart");
    assert_eq!(output["effects"], json!([]), "no write, no next check");
    assert_eq!(before, format!("{:?}", world.dynamic));
}

#[test]
fn an_abandoned_checkout_costs_one_kustom_read_per_check_and_writes_nothing() {
    let mut world = World::new(3);
    run_checkout(&mut world);
    let before = format!("{:?}{:?}", world.dynamic, world.activity);
    let mut parameters = Some(world.watchdog_job().clone());
    let mut checks = vec![];
    while let Some(job) = parameters.take() {
        let at = world.jobs.last().unwrap()["at"]
            .as_str()
            .unwrap()
            .to_string();
        let (output, calls) = run_watchdog(&mut world, &job, &at);
        assert_eq!(
            kustom_calls(&calls),
            [format!(
                "GET https://api.playground.kustom.co/checkout/v3/orders/{}",
                world.order_id()
            )],
            "one Kustom read at {at}"
        );
        assert!(
            calls.iter().all(|c| c["call"] != "messageActor"),
            "{calls:?}"
        );
        checks.push(at);
        parameters = next_job(&output);
    }
    assert_eq!(
        checks,
        [
            "2026-11-25T09:45:00Z",
            "2026-11-25T11:30:00Z",
            "2026-11-25T21:30:00Z",
            "2026-11-27T01:30:00Z"
        ],
        "15 min, 2 h, 12 h and 40 h after checkout, then no more"
    );
    assert_eq!(before, format!("{:?}{:?}", world.dynamic, world.activity));
    assert!(world.payments.is_empty() && world.cart_state == "open");
}

/// The customer pays hours later and neither the redirect nor the push reaches the shop: the
/// next check completes the cart, says so on it, and acknowledges.
#[test]
fn a_late_payment_nobody_reported_is_completed_at_the_next_check() {
    let mut world = World::new(3);
    run_checkout(&mut world);
    let first = world.watchdog_job().clone();
    let (output, _) = run_watchdog(&mut world, &first, "2026-11-25T09:45:00Z");
    let second = next_job(&output).expect("a second check");
    world.customer_pays();
    let (output, calls) = run_watchdog(&mut world, &second, "2026-11-25T11:30:00Z");
    assert_eq!(next_job(&output), None, "done: {output}");
    world.completed_by = Some(Kind::Watchdog);
    check_exactly_once(&world, "the 2 h check");
    assert_eq!(world.dynamic["field:kustomCompletedBy"], "watchdog");
    assert_eq!(world.activity.len(), 1);
    assert!(world.activity[0].contains("The Kustom watchdog found it {{after}}"));
    let ticket_messages = calls.iter().filter(|c| c["actorType"] == "ticket").count();
    assert_eq!(
        ticket_messages, 1,
        "mark, note and completion in one message"
    );
}

/// Another tab's order (the cart replaced it) was paid: the watchdog of that order must not
/// complete the cart with it; it stops without even asking Kustom. The watchdog of the cart's
/// own order goes on watching.
#[test]
fn the_watchdog_never_completes_a_cart_with_an_order_it_replaced() {
    let mut world = World::new(3);
    run_checkout(&mut world);
    let old = world.order_id();
    world.orders.get_mut(&old).unwrap().expired = true;
    run_checkout(&mut world);
    let old_job = world.jobs[0]["parameters"].clone();
    let new_job = world.jobs[1]["parameters"].clone();
    assert_eq!(old_job["kustomOrderId"], old.as_str());
    // The old order comes back paid (paid in another tab before it lapsed).
    let order = world.orders.get_mut(&old).unwrap();
    order.expired = false;
    order.status = "checkout_complete".into();
    let (output, calls) = run_watchdog(&mut world, &old_job, "2026-11-25T09:45:00Z");
    assert_eq!(output["effects"], json!([]));
    assert!(kustom_calls(&calls).is_empty(), "{calls:?}");
    assert!(world.payments.is_empty() && world.cart_state == "open");
    let (output, _) = run_watchdog(&mut world, &new_job, "2026-11-25T09:45:00Z");
    assert!(
        next_job(&output).is_some(),
        "the current order is still watched"
    );
    assert!(world.payments.is_empty() && world.cart_state == "open");
}

/// Kustom refuses the watchdog's acknowledgement and the push is broken: the watchdog's retry
/// acknowledges (it finds the cart it marked), without a second payment.
#[test]
fn a_refused_acknowledgement_is_retried_by_the_watchdog_itself() {
    let mut world = paid_world();
    world.ack_failures = 1;
    let first = world.watchdog_job().clone();
    let (output, _) = run_watchdog(&mut world, &first, "2026-11-25T09:45:00Z");
    assert_eq!(world.cart_state, "completed");
    assert_eq!(world.orders[&world.order_id()].acknowledged, 0);
    let retry = next_job(&output).expect("a retry");
    assert_eq!(retry["attempt"], 1);
    let (output, calls) = run_watchdog(&mut world, &retry, "2026-11-25T09:50:00Z");
    assert_eq!(
        kustom_calls(&calls),
        [format!(
            "POST https://api.playground.kustom.co/ordermanagement/v1/orders/{}/acknowledge",
            world.order_id()
        )],
        "only the acknowledgement"
    );
    assert_eq!(next_job(&output), None);
    world.completed_by = Some(Kind::Watchdog);
    check_exactly_once(&world, "the retried acknowledgement");
}

/// Paid, nothing reached the shop, and by the time the customer comes back to the checkout the
/// Checkout API has forgotten the completed order (Order Management has it). The checkout must
/// not replace it — the watchdog of a replaced order stands down — but send the customer to
/// confirmation; the watchdog completes the cart anyway.
#[test]
fn a_paid_order_the_checkout_api_forgot_is_never_replaced() {
    let mut world = paid_world();
    let id = world.order_id();
    world.orders.get_mut(&id).unwrap().forgotten = true;
    let response = run_checkout(&mut world);
    assert_eq!(
        response["content"]["status"], "checkout_complete",
        "{response}"
    );
    assert_eq!(world.order_id(), id, "not replaced");
    assert_eq!(world.orders.len(), 1, "no new order");
    let parameters = world.watchdog_job().clone();
    run_watchdog(&mut world, &parameters, "2026-11-25T09:45:00Z");
    world.completed_by = Some(Kind::Watchdog);
    check_exactly_once(
        &world,
        "the watchdog after the checkout API forgot the order",
    );
}
