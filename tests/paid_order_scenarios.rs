//! The checkout explorer as the paid-order work extended it (customer data, the order's real state at
//! Kustom, fraud review and its notification); tests/checkout_scenarios.rs has the watchdog and the
//! failure models. The two share their harness by copy for now (a follow-up merges them).
//! Scenario tests of checkout, confirm and push on a simulated host with the platform's
//! semantics — a ticket completes once, a message batch to an actor is one transaction, a
//! payment's `externalReference` is unique — and a fake Kustom (checkout orders that expire or
//! complete, Order Management reads, acknowledgements).
//!
//! The exactly-once suite runs confirm and push as two processes and explores **every**
//! interleaving of their steps (each call a host performs is one atomic step), with a crash of
//! either process after any step followed by a retry, and checks at the end of each run: one
//! payment, the cart completed with exactly that payment, the order acknowledged.

use kustom::components::{checkout, confirm, notification, webhook};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const CART: &str = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";

fn settings() -> Value {
    json!({"apiKey": "kco_test_api_x", "publicBaseUrl": "https://shop.example.se"})
}

fn rendered_cart(mugs: i64) -> Value {
    let mug_total = mugs * 8990;
    json!({
        "cartId": CART, "cartState": "open", "currencyCode": "SEK", "taxIncluded": true, "locale": "sv-SE",
        "orderTotal": (19900 + mug_total) as f64 / 100.0, "orderTaxTotal": (3980 + mug_total / 5) as f64 / 100.0,
        "items": [
            {"productNumber": "TS-RED-M", "quantity": 1, "unitPrice": 199, "total": 199, "tax": 39.8},
            {"productNumber": "MUG-1", "quantity": mugs, "unitPrice": 89.9, "total": mug_total as f64 / 100.0, "tax": (mug_total / 5) as f64 / 100.0}
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
    /// Order Management's `status` and `fraud_status` once the customer paid.
    om_status: String,
    fraud_status: String,
}

/// What the end of every explored run must show.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// One payment with this authorization state, the cart completed with it and the
    /// customer's address, the order acknowledged.
    Completed(&'static str),
    /// The cart never completes, no payment is linked, `kustomConfirmError` is this code
    /// (recorded once), the order is not acknowledged.
    NeverCompleted(&'static str),
}

/// The countries the simulated cart profile allows (the platform checks addresses against it).
const ALLOWED_COUNTRIES: [&str; 4] = ["SE", "NO", "DK", "FI"];

fn swedish_address() -> Value {
    json!({"given_name": "Astrid", "family_name": "Lindgren", "street_address": "Drottninggatan 1",
           "postal_code": "111 51", "city": "Stockholm", "country": "se",
           "email": "astrid@example.se", "phone": "+46701234567"})
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
    /// The cart's customer data: `address`, `invoiceRecipient`, `email`, `phone`.
    customer: Map<String, Value>,
    /// The authorization state of each payment created, in order.
    authorizations: Vec<String>,
    expect: Expect,
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
            customer: Map::new(),
            authorizations: vec![],
            expect: Expect::Completed("successful"),
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

    /// The customer pays in the iframe: Kustom completes the order.
    fn customer_pays(&mut self) {
        let id = self.order_id();
        let order = self.orders.get_mut(&id).unwrap();
        order.status = "checkout_complete".into();
        order.om_status = "AUTHORIZED".into();
        order.fraud_status = "ACCEPTED".into();
        order.body["billing_address"] = swedish_address();
    }

    /// Order Management's state of the paid order changes (the merchant cancels it in Kustom's
    /// portal, fraud review holds it).
    fn kustom_says(&mut self, om_status: &str, fraud_status: &str) {
        let id = self.order_id();
        let order = self.orders.get_mut(&id).unwrap();
        order.om_status = om_status.into();
        order.fraud_status = fraud_status.into();
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
            "setAddress" => {
                for key in ["address", "invoiceRecipient"] {
                    if let Some(address) = command.get(key) {
                        let country = address["countryCode"].as_str().unwrap_or("");
                        if !ALLOWED_COUNTRIES.contains(&country) {
                            return Err("INVALID_COMMAND".into());
                        }
                        self.customer.insert(key.into(), address.clone());
                    }
                }
            }
            "setEmail" | "setPhone" => {
                let key = if command["type"] == "setEmail" {
                    "email"
                } else {
                    "phone"
                };
                self.customer.insert(key.into(), command[key].clone());
            }
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
        let mut actor_id = call["actorId"].clone();
        let mut data = json!({});
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
                ("payment", "query") => {
                    let index = self
                        .payments
                        .iter()
                        .position(|p| json!(p.0) == call["actorId"])
                        .unwrap();
                    data = json!({"query": {"paymentId": self.payments[index].0, "authorizations": [
                        {"authorizationNumber": self.payments[index].1,
                         "authorizationState": self.authorizations[index]}]}});
                    Ok(())
                }
                ("payment", "applyCommands") => {
                    let index = self
                        .payments
                        .iter()
                        .position(|p| json!(p.0) == call["actorId"])
                        .unwrap();
                    for command in message["body"]["commands"].as_array().unwrap() {
                        match command["type"].as_str().unwrap() {
                            "setAuthorizationState" => {
                                self.authorizations[index] =
                                    command["authorizationState"].as_str().unwrap().into()
                            }
                            "addActivityLog" => {}
                            other => panic!("unexpected payment command {other}"),
                        }
                    }
                    Ok(())
                }
                ("payment", "create") => {
                    let body = &message["body"];
                    let reference = body["externalReference"].as_str().unwrap().to_string();
                    if self.payments.iter().any(|p| p.1 == reference) {
                        Err("DUPLICATE_EXTERNAL_REFERENCE".into())
                    } else {
                        let id = format!("payment-{}", self.payments.len() + 1);
                        self.authorizations.push(
                            body["commands"][0]["authorizationState"]
                                .as_str()
                                .unwrap()
                                .into(),
                        );
                        self.payments.push((
                            id.clone(),
                            reference,
                            body["commands"][0]["amount"].clone(),
                        ));
                        actor_id = json!(id);
                        Ok(())
                    }
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
                if order.status == "checkout_complete" {
                    body["fraud_status"] = json!(order.fraud_status);
                }
                match (
                    method,
                    path.ends_with("/acknowledge"),
                    path.starts_with("/ordermanagement"),
                ) {
                    ("GET", _, false) => json!({"status": 200, "body": body}),
                    ("GET", _, true) if order.status == "checkout_complete" => {
                        json!({"status": 200, "body": {"order_id": id, "status": order.om_status,
                               "fraud_status": order.fraud_status, "purchase_currency": "sek",
                               "order_amount": body["order_amount"], "remaining_authorized_amount": body["order_amount"],
                               "billing_address": body["billing_address"],
                               "selected_shipping_option": body["selected_shipping_option"]}})
                    }
                    ("GET", _, true) => json!({"status": 404, "body": ""}),
                    ("POST", true, _) => {
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
                "messageActor" if effect["actorType"] == "payment" => {
                    let reply = self.message_actor(&json!({"actorType": "payment",
                        "actorId": effect["actorId"],
                        "messages": [{"type": "applyCommands", "body": effect["body"]}]}));
                    assert_eq!(reply["errors"], json!([]), "{effect}");
                }
                "messageActor" => {
                    assert_eq!(effect["messageType"], "applyCommands");
                    for command in effect["body"]["commands"].as_array().unwrap() {
                        self.apply_command(command).unwrap();
                    }
                }
                // The checkout's watchdog: explored in tests/checkout_scenarios.rs.
                "scheduleJob" => assert_eq!(effect["definition"], "watchKustomOrder"),
                other => panic!("unexpected effect {other}"),
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Confirm,
    Push,
    /// Kustom's fraud review ends (accepted): one atomic step, then Kustom's notification.
    Decide,
    Notification,
}

#[derive(Clone, Debug)]
struct Process {
    kind: Kind,
    /// What the host keeps between steps (docs/host-contract.md): the continuation of the last
    /// output, and the replies since (a component that returns none is replayed: every reply).
    continuation: Value,
    replies: Vec<Value>,
}

impl Process {
    fn new(kind: Kind) -> Process {
        Process {
            kind,
            continuation: Value::Null,
            replies: vec![],
        }
    }

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
        Kind::Push | Kind::Notification | Kind::Decide => {
            (json!({}), json!({"kustom_order_id": world.order_id()}))
        }
    };
    json!({"route": route, "query": query, "headers": {}, "body": null, "settings": settings(),
           "now": "2026-11-25T09:40:00Z", "replies": replies})
}

fn run_ingress(kind: Kind, input: &Value) -> Value {
    match kind {
        Kind::Confirm => confirm::run(input).to_json(),
        Kind::Notification => notification::run(input).to_json(),
        Kind::Decide => unreachable!("not an ingress"),
        Kind::Push => webhook::run(input).to_json(),
    }
}

/// One atomic step of a process: perform its next call, or finish (apply effects, answer).
/// Returns the response when the process finished.
fn step(world: &mut World, process: &mut Process) -> Option<Value> {
    if process.kind == Kind::Decide {
        world.kustom_says("AUTHORIZED", "ACCEPTED");
        return Some(json!({"statusCode": 200}));
    }
    let output = run_ingress(process.kind, &input(process.kind, world, process));
    assert!(
        output.get("error").is_none() || output.get("response").is_some(),
        "{output}"
    );
    if let Some(calls) = output.get("calls") {
        let reply = world.perform(&calls[0]);
        process.resume_with(&output, reply);
        return None;
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

/// The end of an explored run, as `world.expect` says.
fn check_end(world: &World, trace: &str) {
    match world.expect {
        Expect::Completed(state) => {
            check_exactly_once(world, trace);
            assert_eq!(world.authorizations, vec![state], "after {trace}");
        }
        Expect::NeverCompleted(code) => {
            assert_eq!(world.cart_state, "open", "never completed, after {trace}");
            assert!(world.relations.is_empty(), "no payment linked: {trace}");
            assert!(
                !world.authorizations.iter().any(|s| s == "successful")
                    || code == "ADDRESS_REFUSED",
                "no successful authorization for an order that is not paid, after {trace}"
            );
            assert_eq!(
                world.dynamic["field:kustomConfirmError"],
                json!(code),
                "{trace}"
            );
            assert_eq!(world.activity.len(), 1, "recorded once, after {trace}");
            assert_eq!(world.orders[&world.order_id()].acknowledged, 0, "{trace}");
        }
    }
}

fn check_exactly_once(world: &World, trace: &str) {
    let id = world.order_id();
    let expected = json!({"name": "Astrid Lindgren", "addressLine1": "Drottninggatan 1",
        "city": "Stockholm", "postalCode": "111 51", "countryCode": "SE"});
    assert_eq!(
        (
            &world.customer["address"],
            &world.customer["invoiceRecipient"]
        ),
        (&expected, &expected),
        "the completed cart has the address Kustom gave, after {trace}"
    );
    assert_eq!(world.customer["email"], "astrid@example.se", "{trace}");
    assert_eq!(world.customer["phone"], "+46701234567", "{trace}");
    assert_eq!(world.payments.len(), 1, "one payment after {trace}");
    assert_eq!(world.payments[0].1, id);
    let chosen = &world.orders[&id].body["selected_shipping_option"];
    let expected_amount = 46870 + chosen["price"].as_i64().unwrap_or(0);
    assert_eq!(
        world.payments[0].2,
        json!(expected_amount as f64 / 100.0),
        "authorized the order amount (with the shipping chosen in the iframe)"
    );
    if !chosen.is_null() {
        let delivery = &world.dynamic["deliveryDynamicFields"];
        assert_eq!(
            (&delivery["kustomShippingOptionId"], &delivery["doorCode"]),
            (&chosen["id"], &json!("1234")),
            "the completed cart's delivery carries the chosen option, and the shop's own data, after {trace}"
        );
    }
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
}

/// Explores every interleaving of `processes` (plus, when `crashes` allows, a crash of any
/// process after any step, retried by a fresh process of the same kind).
fn explore(
    world: World,
    processes: Vec<Process>,
    crashes: u32,
    trace: String,
    seen: &mut HashMap<String, usize>,
) -> usize {
    let key = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{:?}|{crashes}",
        world.cart_state,
        world.dynamic,
        world.relations,
        world.authorizations,
        world.pushes_left,
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
        check_end(&world, &trace);
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
            if kind == Kind::Decide {
                next.push(Process::new(Kind::Notification));
            }
            // Kustom keeps pushing until acknowledged
            let unacknowledged = next_world.orders[&next_world.order_id()].acknowledged == 0;
            if kind == Kind::Push && unacknowledged && next_world.pushes_left > 0 {
                next_world.pushes_left -= 1;
                next.push(Process::new(Kind::Push));
            }
        }
        runs += explore(next_world, next, crashes, format!("{trace} {kind:?}"), seen);
        // or it crashes here (after the steps it made) and is retried from scratch
        if crashes > 0 && !processes[index].replies.is_empty() {
            let mut retried = processes.clone();
            retried[index] = Process::new(kind);
            runs += explore(
                world.clone(),
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
fn confirm_and_push_with_a_crash_at_any_step() {
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

/// Confirm ∥ push with one crash anywhere, on a paid world that `change` alters; every run
/// ends as `expect` says.
fn explore_paid(change: impl Fn(&mut World), expect: Expect) -> usize {
    let mut world = paid_world();
    change(&mut world);
    world.expect = expect;
    explore(
        world.clone(),
        both(&world),
        1,
        String::new(),
        &mut HashMap::new(),
    )
}

#[test]
fn an_order_cancelled_at_kustom_never_completes_the_cart() {
    for status in ["CANCELLED", "EXPIRED", "CLOSED"] {
        let runs = explore_paid(
            |world| world.kustom_says(status, "ACCEPTED"),
            Expect::NeverCompleted("AUTHORIZATION_GONE"),
        );
        println!("confirm ∥ push, order {status}, one crash: {runs} interleavings");
        assert!(runs > 100, "{runs}");
    }
}

#[test]
fn a_fraud_rejected_order_never_completes_the_cart() {
    let runs = explore_paid(
        |world| world.kustom_says("AUTHORIZED", "REJECTED"),
        Expect::NeverCompleted("FRAUD_REJECTED"),
    );
    println!("confirm ∥ push, fraud REJECTED, one crash: {runs} interleavings");
    assert!(runs > 100, "{runs}");
}

#[test]
fn an_order_in_fraud_review_completes_with_a_pending_authorization() {
    let runs = explore_paid(
        |world| world.kustom_says("AUTHORIZED", "PENDING"),
        Expect::Completed("pending"),
    );
    println!("confirm ∥ push, fraud PENDING, one crash: {runs} interleavings");
    assert!(runs > 1000, "{runs}");
}

/// Kustom's fraud review ends (accepted) at any point while confirm and push run, each maybe
/// crashing once, and Kustom's notification follows (once, never retried): however they
/// interleave, the cart completes with one payment whose authorization ends **successful**.
/// (Without `settle_fraud_review` a notification that comes before the payment exists leaves
/// it pending for good.)
#[test]
fn a_fraud_review_ending_during_completion_always_settles_the_authorization() {
    let mut world = paid_world();
    world.kustom_says("AUTHORIZED", "PENDING");
    world.expect = Expect::Completed("successful");
    let mut processes = both(&world);
    processes.push(Process::new(Kind::Decide));
    let runs = explore(
        world.clone(),
        processes,
        1,
        String::new(),
        &mut HashMap::new(),
    );
    println!("confirm ∥ push ∥ fraud decision + notification, one crash: {runs} interleavings");
    assert!(runs > 1000, "{runs}");
}

#[test]
fn an_address_the_profile_refuses_keeps_the_cart_open_and_recorded() {
    let runs = explore_paid(
        |world| {
            let id = world.order_id();
            let order = world.orders.get_mut(&id).unwrap();
            order.body["billing_address"]["country"] = json!("us");
        },
        Expect::NeverCompleted("ADDRESS_REFUSED"),
    );
    println!("confirm ∥ push, address refused, one crash: {runs} interleavings");
    assert!(runs > 100, "{runs}");
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

/// Shipping chosen in Kustom's iframe (issue 15): the cart is on a channel with
/// `kustomUsesShippingAssistant` and offers two carriers; the customer picks DHL (79.00) and
/// pays. Confirm ∥ push, one crash anywhere: every run ends with one payment authorizing the
/// goods plus DHL's price, and the completed cart's delivery data naming DHL (written in the
/// completing batch, so never missing from a completed cart and never written to an open one).
#[test]
fn the_carrier_chosen_in_the_iframe_reaches_the_completed_cart_exactly_once() {
    let mut world = World::new(3);
    world.cart["channel"] = json!({"kustomUsesShippingAssistant": true});
    world.cart["shippingOptions"] = json!([
        {"id": "pn-ombud", "name": "PostNord Ombud", "price": 49, "tax": 9.8, "preselected": true},
        {"id": "dhl-home", "name": "DHL Hem", "price": 79, "tax": 15.8, "carrier": "DHL"}]);
    world.cart["deliveryDynamicFields"] = json!({"doorCode": "1234"});
    let response = run_checkout(&mut world);
    assert_eq!(response["statusCode"], 200, "{response}");
    let id = world.order_id();
    let sent = &world.orders[&id].body;
    assert_eq!(sent["shipping_options"][1]["price"], 7900, "{sent}");
    assert!(sent["order_lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["type"] != "shipping_fee"));
    world.customer_pays();
    let order = world.orders.get_mut(&id).unwrap();
    let dhl = json!({"id": "dhl-home", "name": "DHL Hem", "price": 7900, "tax_amount": 1580,
        "tax_rate": 2500, "delivery_details": {"carrier": "DHL"}});
    order.body["order_lines"].as_array_mut().unwrap().push(json!({"type": "shipping_fee",
        "reference": "dhl-home", "name": "DHL Hem", "quantity": 1, "unit_price": 7900, "tax_rate": 2500,
        "total_amount": 7900, "total_discount_amount": 0, "total_tax_amount": 1580}));
    order.body["order_amount"] = json!(order.body["order_amount"].as_i64().unwrap() + 7900);
    order.body["order_tax_amount"] = json!(order.body["order_tax_amount"].as_i64().unwrap() + 1580);
    order.body["selected_shipping_option"] = dhl;
    let runs = explore(
        world.clone(),
        both(&world),
        1,
        String::new(),
        &mut HashMap::new(),
    );
    println!("confirm ∥ push, carrier chosen in the iframe, one crash: {runs} interleavings");
    assert!(runs > 1000, "{runs}");
}
