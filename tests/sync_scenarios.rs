//! Scenario tests of the cart sync on a simulated host: an in-memory cart ticket, a fake Kustom
//! that applies the API's arithmetic rules, the `cart-kustom-sync` rule and `syncKustomOrder`
//! jobs. Every atomic step (a cart mutation with its rule run, one call a job makes, a job's
//! final effects) is a move; a depth-first search runs **every** order of the moves and checks,
//! at the end of each, that Kustom holds the final cart's payload and that
//! `kustomSyncHash == kustomPendingHash == hash(final payload)`.

use kustom::components::{cart_kustom_sync, sync_kustom_order};
use kustom::hash::payload_hash;
use kustom::payload::CartPayload;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const CART: &str = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";
const ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";

/// A rendered SE cart with `mugs` mugs at 89.90 (25 % VAT) and a T-shirt.
fn cart_with_mugs(mugs: i64) -> Value {
    let mug_total = mugs * 8990;
    let mug_tax = mug_total / 5; // 25 % of the net = 20 % of the gross, exact for these prices
    json!({
        "cartId": CART, "cartState": "open", "currencyCode": "SEK", "taxIncluded": true,
        "orderTotal": (19900 + mug_total) as f64 / 100.0,
        "orderTaxTotal": (3980 + mug_tax) as f64 / 100.0,
        "items": [
            {"productNumber": "TS-RED-M", "quantity": 1, "unitPrice": 199, "total": 199, "tax": 39.8},
            {"productNumber": "MUG-1", "quantity": mugs, "unitPrice": 89.9, "total": mug_total as f64 / 100.0, "tax": mug_tax as f64 / 100.0}
        ],
        "fields": {}
    })
}

#[derive(Clone, Debug)]
struct JobRun {
    input: Value,
    /// When the host may run it: the `at` of its scheduleJob, in seconds after the start.
    done: bool,
}

#[derive(Clone, Debug)]
struct World {
    /// The cart ticket's dynamic fields.
    dynamic: Map<String, Value>,
    /// What the Kustom order holds (the last update applied).
    kustom: Option<CartPayload>,
    jobs: Vec<JobRun>,
    /// Carts the customer will still change to, in order.
    mutations: Vec<Value>,
    /// Pushes that should time out (reply lost) although Kustom applies them, by push number.
    lost_replies: Vec<usize>,
    pushes: usize,
    now: u32,
}

impl World {
    fn new(first: Value, later: Vec<Value>) -> World {
        let mut dynamic = Map::new();
        dynamic.insert("field:kustomOrderId".into(), json!(ORDER));
        let mut world = World {
            dynamic,
            kustom: None,
            jobs: vec![],
            mutations: later,
            lost_replies: vec![],
            pushes: 0,
            now: 0,
        };
        world.mutate(first);
        world
    }

    fn now(&mut self) -> String {
        self.now += 1;
        format!(
            "2026-11-25T09:{:02}:{:02}Z",
            self.now / 60 % 60,
            self.now % 60
        )
    }

    fn rendered_fields(&self) -> Value {
        let fields: Map<String, Value> = self
            .dynamic
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("field:").map(|k| (k.to_string(), v.clone())))
            .collect();
        Value::Object(fields)
    }

    /// A cart mutation: Commerce fires OnCartMutation; the host applies the rule's effects.
    fn mutate(&mut self, mut cart: Value) {
        cart["fields"] = self.rendered_fields();
        cart["now"] = json!(self.now());
        let output = cart_kustom_sync::run(&cart).to_json();
        assert!(output.get("error").is_none(), "rule failed: {output}");
        for effect in output["effects"].as_array().unwrap() {
            match effect["effect"].as_str().unwrap() {
                "ticketCommand" => self.apply_command(effect),
                "scheduleJob" => self.schedule(effect),
                other => panic!("unexpected rule effect {other}"),
            }
        }
    }

    fn schedule(&mut self, effect: &Value) {
        assert_eq!(effect["definition"], "syncKustomOrder");
        let mut input = effect["parameters"].clone();
        input["settings"] = json!({"apiKey": "kco_test_api_scenario"});
        input["replies"] = json!([]);
        self.jobs.push(JobRun { input, done: false });
    }

    fn apply_command(&mut self, command: &Value) {
        match command["type"].as_str().unwrap() {
            "setDynamicFields" => {
                for (key, value) in command["fields"].as_object().unwrap() {
                    if value.is_null() {
                        self.dynamic.remove(key);
                    } else {
                        self.dynamic.insert(key.clone(), value.clone());
                    }
                }
            }
            "addActivityLog" => {}
            other => panic!("unexpected command {other}"),
        }
    }

    /// One atomic step of job `index`: perform its next call, or apply its final effects.
    fn step_job(&mut self, index: usize) {
        let mut input = self.jobs[index].input.clone();
        input["now"] = json!(self.now());
        let output = sync_kustom_order::run(&input).to_json();
        assert!(output.get("error").is_none(), "job failed: {output}");
        if let Some(calls) = output.get("calls") {
            let reply = self.perform(&calls[0]);
            self.jobs[index].input["replies"]
                .as_array_mut()
                .unwrap()
                .push(reply);
            return;
        }
        for effect in output["effects"].as_array().unwrap() {
            match effect["effect"].as_str().unwrap() {
                "messageActor" => {
                    assert_eq!(effect["actorId"], CART);
                    for command in effect["body"]["commands"].as_array().unwrap() {
                        self.apply_command(command);
                    }
                }
                "scheduleJob" => self.schedule(effect),
                other => panic!("unexpected job effect {other}"),
            }
        }
        self.jobs[index].done = true;
    }

    fn perform(&mut self, call: &Value) -> Value {
        match call["call"].as_str().unwrap() {
            "messageActor" => {
                assert_eq!(call["actorId"], CART);
                let message = &call["messages"][0];
                match message["type"].as_str().unwrap() {
                    "query" => json!({"actorId": CART, "paths": [], "errors": [],
                        "data": {"query": {"state": "open", "dynamic": self.dynamic.clone()}}}),
                    "applyCommands" => {
                        for command in message["body"]["commands"].as_array().unwrap() {
                            self.apply_command(command);
                        }
                        json!({"actorId": CART, "paths": [], "errors": [], "data": {"applyCommands": "OK"}})
                    }
                    other => panic!("unexpected ticket message {other}"),
                }
            }
            "http" => {
                assert_eq!(
                    call["url"],
                    format!("https://api.playground.kustom.co/checkout/v3/orders/{ORDER}")
                );
                let payload: CartPayload = serde_json::from_value(call["body"].clone()).unwrap();
                // Kustom's arithmetic rules: a payload that breaks them is refused.
                let lines: i64 = payload.order_lines.iter().map(|l| l.total_amount).sum();
                let tax: i64 = payload.order_lines.iter().map(|l| l.total_tax_amount).sum();
                assert_eq!(
                    (lines, tax),
                    (payload.order_amount, payload.order_tax_amount)
                );
                self.kustom = Some(payload);
                self.pushes += 1;
                if self.lost_replies.contains(&self.pushes) {
                    json!({"error": {"kind": "timeout", "message": "reply lost"}})
                } else {
                    json!({"status": 200, "body": {"order_id": ORDER, "status": "checkout_incomplete"}})
                }
            }
            other => panic!("unexpected call {other}"),
        }
    }

    /// Everything that decides what happens next (not the clock: no decision here depends on it).
    fn state_key(&self) -> String {
        let jobs: Vec<(&Value, &Value, bool)> = self
            .jobs
            .iter()
            .map(|j| (&j.input["hash"], &j.input["replies"], j.done))
            .collect();
        serde_json::to_string(&json!([
            self.dynamic,
            self.kustom,
            jobs,
            self.mutations.len(),
            self.pushes
        ]))
        .unwrap()
    }

    fn moves(&self) -> Vec<Move> {
        let mut moves: Vec<Move> = (0..self.jobs.len())
            .filter(|&i| !self.jobs[i].done)
            .map(Move::Job)
            .collect();
        if !self.mutations.is_empty() {
            moves.push(Move::Mutate);
        }
        moves
    }

    fn apply(&mut self, choice: Move) {
        match choice {
            Move::Job(index) => self.step_job(index),
            Move::Mutate => {
                let cart = self.mutations.remove(0);
                self.mutate(cart);
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Move {
    Job(usize),
    Mutate,
}

/// Runs every interleaving from `world`; returns how many complete runs (paths) were checked.
/// Paths that reach the same state share what follows it, so each state is explored once
/// (`seen` maps a state to the number of complete runs below it) while every path is counted.
fn explore(world: World, final_cart: &Value, trace: &mut Vec<Move>) -> usize {
    let mut seen = HashMap::new();
    let runs = explore_from(world, final_cart, trace, &mut seen);
    println!("  {} distinct states", seen.len());
    runs
}

fn explore_from(
    world: World,
    final_cart: &Value,
    trace: &mut Vec<Move>,
    seen: &mut HashMap<String, usize>,
) -> usize {
    let key = world.state_key();
    if let Some(runs) = seen.get(&key) {
        return *runs;
    }
    let moves = world.moves();
    if moves.is_empty() {
        check_converged(&world, final_cart, trace);
        seen.insert(key, 1);
        return 1;
    }
    assert!(trace.len() < 80, "a run did not terminate: {trace:?}");
    let mut runs = 0;
    for choice in moves {
        let mut next = world.clone();
        next.apply(choice);
        trace.push(choice);
        runs += explore_from(next, final_cart, trace, seen);
        trace.pop();
    }
    seen.insert(key, runs);
    runs
}

fn check_converged(world: &World, final_cart: &Value, trace: &[Move]) {
    let cart: kustom::cart::RenderedCart = serde_json::from_value(final_cart.clone()).unwrap();
    let expected = kustom::payload::build(&cart).unwrap();
    let hash = payload_hash(&expected);
    assert_eq!(
        world.kustom.as_ref(),
        Some(&expected),
        "Kustom does not hold the final cart after {trace:?}"
    );
    assert_eq!(
        world.dynamic.get("field:kustomPendingHash"),
        Some(&json!(hash)),
        "pending hash after {trace:?}"
    );
    assert_eq!(
        world.dynamic.get("field:kustomSyncHash"),
        Some(&json!(hash)),
        "sync hash after {trace:?}"
    );
}

#[test]
fn one_change_during_a_sync_every_interleaving() {
    let (a, b) = (cart_with_mugs(1), cart_with_mugs(2));
    let runs = explore(World::new(a, vec![b.clone()]), &b, &mut vec![]);
    assert!(runs >= 10, "only {runs} interleavings");
    println!("one change: {runs} interleavings");
}

#[test]
fn two_changes_during_a_sync_every_interleaving() {
    let carts = [cart_with_mugs(1), cart_with_mugs(2), cart_with_mugs(3)];
    let runs = explore(
        World::new(carts[0].clone(), carts[1..].to_vec()),
        &carts[2],
        &mut vec![],
    );
    println!("two changes: {runs} interleavings");
    assert!(runs >= 100, "only {runs} interleavings");
}

#[test]
fn back_to_the_synced_cart_every_interleaving() {
    // A → B → A: the final cart equals one Kustom may already hold; job B must not win.
    let (a, b) = (cart_with_mugs(1), cart_with_mugs(2));
    let runs = explore(World::new(a.clone(), vec![b, a.clone()]), &a, &mut vec![]);
    println!("A → B → A: {runs} interleavings");
    assert!(runs >= 100, "only {runs} interleavings");
}

#[test]
fn lost_reply_then_a_change_every_interleaving() {
    // The first push reaches Kustom but its reply is lost (timeout): the job retries later and
    // re-asserts, whatever the cart did meanwhile.
    let (a, b) = (cart_with_mugs(1), cart_with_mugs(2));
    let mut world = World::new(a, vec![b.clone()]);
    world.lost_replies = vec![1];
    let runs = explore(world, &b, &mut vec![]);
    println!("lost reply: {runs} interleavings");
    assert!(runs >= 10, "only {runs} interleavings");
}

#[test]
fn the_guard_is_needed_a_naive_job_lets_a_stale_payload_win() {
    // The interleaving the re-read guards against: job A reads the cart (pending A), the cart
    // changes to B, job B runs to the end, then A's push lands. Without the re-read after the
    // push, Kustom would keep A. Check the exact trace ends on B.
    let (a, b) = (cart_with_mugs(1), cart_with_mugs(2));
    let mut world = World::new(a, vec![b.clone()]);
    world.apply(Move::Job(0)); // A reads the cart
    world.apply(Move::Mutate); // cart → B, job B scheduled
    for _ in 0..5 {
        world.apply(Move::Job(1)); // B: read, push, record, read, finish
    }
    assert!(world.jobs[1].done);
    assert_eq!(world.kustom.as_ref().unwrap().order_lines[1].quantity, 2);
    world.apply(Move::Job(0)); // A's push lands: Kustom holds the stale A for a moment
    assert_eq!(world.kustom.as_ref().unwrap().order_lines[1].quantity, 1);
    while !world.moves().is_empty() {
        let next = world.moves()[0];
        world.apply(next);
    }
    check_converged(&world, &b, &[]);
}
