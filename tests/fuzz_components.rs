//! Fuzzing every component natively, bounded in time (issue 13).
//!
//! Three generators, every output checked by `support::check_output` — never a panic, exactly
//! one of the contract's three shapes, no setting value in an error, a log line or an effect,
//! every request to Kustom within its OpenAPI limits with exact money (§2.8 sums to the unit):
//! 1. arbitrary JSON around a well-formed envelope (proptest);
//! 2. fixture inputs (tests/fixtures/**, every step of every flow) with random mutations
//!    anywhere: values replaced by hostile ones, keys removed or added, replies replaced;
//! 3. a component driven step by step from its first run, each call answered by the fixture's
//!    reply, a mutation of it, or garbage (an HTTP status Kustom may send with any body, a
//!    timeout, a host error) — garbage replies at every step.
//!
//! Budgets: `FUZZ_CASES` cases per generator (default 3000 for 2 and 3, 600 for 1) and at
//! most `FUZZ_SECONDS` seconds each (default 20), whichever comes first; the seed is fixed
//! (`FUZZ_SEED` to vary it) so that a failure reproduces. Measured on the 2-core CI machine:
//! about 10 s for the three together.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};
use support::{all_fixtures, check_output, run, COMPONENTS};

/// Settings whose every value is marked, so that any of them showing up is found.
const MARK: &str = "zq7secret";

fn cases(default: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn deadline() -> Instant {
    let seconds = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    Instant::now() + Duration::from_secs(seconds)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(13)
}

/// SplitMix64: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Settings with marked values: valid ones (so that components get past them), or of the
/// wrong type, or wrong in content.
fn marked_settings(rng: &mut Rng) -> (Value, Vec<String>) {
    let token = format!("{MARK}{:x}", rng.next() % 0xffff_ffff);
    let mut settings = json!({
        "apiKey": format!("kco_test_api_{token}"),
        "environment": "playground",
        "publicBaseUrl": format!("https://shop-{token}.example"),
    });
    let mut secrets = vec![token.clone()];
    match rng.below(8) {
        0 => settings["apiBaseUrl"] = json!(format!("https://kustom-{token}.example/")),
        1 => {
            settings["username"] = json!(format!("K1-{token}"));
            settings["password"] = json!(format!("pw-{token}"));
            settings.as_object_mut().unwrap().remove("apiKey");
        }
        2 => {
            let key = *rng.pick(&[
                "apiKey",
                "username",
                "password",
                "environment",
                "apiBaseUrl",
                "publicBaseUrl",
            ]);
            let number = 7_300_000_000_000 + rng.next() % 1_000_000_000;
            secrets.push(number.to_string());
            settings[key] = rng
                .pick(&[
                    json!(number),
                    json!([format!("x-{token}")]),
                    json!({"v": format!("x-{token}")}),
                    json!(format!("http://{token}.example")),
                    json!(format!("{token} not a url")),
                    json!(format!("https://{token}.example/{}", "p".repeat(2000))),
                    json!(true),
                ])
                .clone();
        }
        3 => settings = json!(format!("settings-{token}")),
        _ => {}
    }
    (settings, secrets)
}

const KEYS: [&str; 28] = [
    "cartId",
    "order",
    "orderId",
    "orderNumber",
    "merchant_reference1",
    "cartState",
    "items",
    "fields",
    "status",
    "order_amount",
    "purchase_currency",
    "order_lines",
    "type",
    "errors",
    "data",
    "query",
    "body",
    "route",
    "kustomOrderId",
    "kustomPendingPayload",
    "hash",
    "attempt",
    "captures",
    "remainingAmount",
    "expires_at",
    "error",
    "code",
    "x",
];

/// A hostile JSON value: the edges of each type, and the strings that once broke something.
fn garbage(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => rng
            .pick(&[
                json!(null),
                json!(true),
                json!(0),
                json!(-1),
                json!(1),
                json!(i64::MAX),
                json!(i64::MIN),
                json!(u64::MAX),
                json!(4_294_967_295u64),
                json!(4_294_967_296u64),
                json!(9_007_199_254_740_993u64),
                json!(100_000_001),
                json!(200_000_001),
            ])
            .clone(),
        1 => rng
            .pick(&[
                json!(0.1),
                json!(-0.0),
                json!(1e308),
                json!(-1e-320),
                json!(940.805),
                json!(1.5e-7),
            ])
            .clone(),
        2 | 3 => {
            let long = "é".repeat(rng.below(3000));
            json!(rng
                .pick(&[
                    "",
                    " ",
                    "é€𝄞",
                    "\u{0}\u{1f}",
                    "2026-11-25T09:30:00é1:00",
                    "2026-11-25T09:30:00Z",
                    "0000-01-01T00:00:00+01:00",
                    "9999-12-31T23:59:59Z",
                    "digital",
                    "store_credit",
                    "checkout_complete",
                    "checkout_incomplete",
                    "AUTHORIZED",
                    "CAPTURED",
                    "PENDING",
                    "NOT_FOUND",
                    "READ_ONLY_ORDER",
                    "open",
                    "completed",
                    "SEK",
                    "KWD",
                    "JPY",
                    "XXX",
                    "8cf27b55-53e8-6aba-9fb4-7c692e56ddee",
                    "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60",
                    "../admin?x=1",
                    "https://x.example/a",
                    "123.45",
                    "1e400",
                    long.as_str(),
                ])
                .to_string())
        }
        4 => Value::Array((0..rng.below(4)).map(|_| garbage(rng, depth - 1)).collect()),
        _ => {
            let mut object = Map::new();
            for _ in 0..rng.below(5) {
                object.insert(rng.pick(&KEYS).to_string(), garbage(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

/// A reply a host could hand back for any call: Kustom answering anything, the host failing.
fn garbage_reply(rng: &mut Rng, plausible: Option<&Value>) -> Value {
    let body = match (plausible.and_then(|r| r.get("body")), rng.below(4)) {
        (Some(body), 0 | 1) => mutate(rng, body.clone(), 2),
        _ => garbage(rng, 3),
    };
    match rng.below(7) {
        0 | 1 => {
            let status = *rng.pick(&[200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 503, 599]);
            let mut reply = json!({"status": status, "body": body});
            if rng.chance(30) {
                reply["body"] = json!({
                    "error_code": rng.pick(&["READ_ONLY_ORDER", "CAPTURE_NOT_ALLOWED", "BAD_VALUE", "NOT_FOUND", "é"]),
                    "error_messages": [garbage(rng, 1)],
                    "correlation_id": garbage(rng, 0),
                });
            }
            if rng.chance(30) {
                reply["headers"] = json!({
                    *rng.pick(&["Capture-Id", "location", "Location", "x"]): rng.pick(&["", "/", "cap-1", "https://x/orders/1/captures/", "é"]).to_string()
                });
            }
            reply
        }
        2 => {
            json!({"error": {"kind": rng.pick(&["timeout", "network", "é", ""]).to_string(), "message": garbage(rng, 0)}})
        }
        3 => {
            json!({"actorId": garbage(rng, 0), "errors": [{"code": rng.pick(&["NOT_FOUND", "CONFLICT", "é"]).to_string(), "message": "x"}], "data": garbage(rng, 2)})
        }
        4 => json!([{"paymentId": garbage(rng, 0), "cartId": garbage(rng, 0)}]),
        5 => json!({"error": {"code": "NOT_FOUND"}}),
        _ => garbage(rng, 3),
    }
}

/// Every path in `value` (object keys and array indexes), at most `limit`.
fn paths(value: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(json!(key));
                out.push(prefix.clone());
                paths(child, prefix, out, limit);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(json!(index));
                out.push(prefix.clone());
                paths(child, prefix, out, limit);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |node, key| match key {
        Value::String(key) => node.get_mut(key.as_str()),
        Value::Number(index) => node.get_mut(index.as_u64()? as usize),
        _ => None,
    })
}

/// `mutations` random changes anywhere in `value`.
fn mutate(rng: &mut Rng, mut value: Value, mutations: usize) -> Value {
    for _ in 0..mutations {
        let mut all = Vec::new();
        paths(&value, &mut vec![], &mut all, 2000);
        if all.is_empty() {
            return garbage(rng, 2);
        }
        let path = rng.pick(&all).clone();
        let (parent_path, key) = path.split_at(path.len() - 1);
        let Some(parent) = at_mut(&mut value, parent_path) else {
            continue;
        };
        match (rng.below(6), parent, &key[0]) {
            (0, Value::Object(map), Value::String(key)) => {
                map.remove(key);
            }
            (1, Value::Object(map), _) => {
                map.insert(rng.pick(&KEYS).to_string(), garbage(rng, 2));
            }
            (2, Value::Array(items), _) if !items.is_empty() => {
                let copy = items[rng.below(items.len())].clone();
                items.push(copy);
            }
            (_, parent, key) => {
                let slot = match key {
                    Value::String(key) => parent.get_mut(key.as_str()),
                    Value::Number(index) => parent.get_mut(index.as_u64().unwrap() as usize),
                    _ => None,
                };
                if let Some(slot) = slot {
                    *slot = garbage(rng, 2);
                }
            }
        }
    }
    value
}

/// For the sync job: make a mutated payload's hash fit again, half of the time, so that the
/// payload it would push gets past the hash check (the job must still refuse to push a payload
/// Kustom would refuse).
fn refit_hashes(rng: &mut Rng, component: &str, input: &mut Value) {
    if component != "jobs/sync-kustom-order" || !input.is_object() || !rng.chance(50) {
        return;
    }
    let hash_of = |payload: &Value| {
        serde_json::from_value::<kustom::payload::CartPayload>(payload.clone())
            .ok()
            .map(|p| kustom::hash::payload_hash(&p))
    };
    // The job pushes the payload stored on the cart: make the job's hash that one's, often.
    let stored = input
        .pointer("/replies/0/data/query/dynamic/kustomPendingPayload")
        .and_then(hash_of);
    if let Some(hash) = stored {
        input["hash"] = json!(hash);
    }
    let job_hash = input["hash"].clone();
    for reply in input["replies"].as_array_mut().into_iter().flatten() {
        let Some(dynamic) = reply
            .pointer_mut("/data/query/dynamic")
            .filter(|d| d.is_object())
        else {
            continue;
        };
        match dynamic.get("kustomPendingPayload").and_then(hash_of) {
            Some(hash) if rng.chance(50) => dynamic["field:kustomPendingHash"] = json!(hash),
            _ => dynamic["field:kustomPendingHash"] = job_hash.clone(),
        }
    }
}

fn fail(component: &str, input: &Value, error: String) -> ! {
    let mut text = input.to_string();
    if text.len() > 4000 {
        text.truncate(text.char_indices().nth(4000).map_or(text.len(), |(i, _)| i));
    }
    panic!("{component}: {error}\ninput: {text}")
}

#[test]
fn mutated_fixture_inputs_never_break_an_invariant() {
    let fixtures = all_fixtures();
    let mut rng = Rng(seed());
    let (budget, stop) = (cases(3000), deadline());
    let mut ran = 0;
    while ran < budget && Instant::now() < stop {
        let (component, _, fixture) = rng.pick(&fixtures);
        let mut input = fixture["input"].clone();
        let (settings, secrets) = marked_settings(&mut rng);
        input["settings"] = settings;
        let mutations = 1 + rng.below(4);
        let mut input = mutate(&mut rng, input, mutations);
        if rng.chance(20) {
            if let Some(replies) = input["replies"].as_array_mut() {
                if !replies.is_empty() {
                    let at = rng.below(replies.len());
                    let plausible = replies[at].clone();
                    replies[at] = garbage_reply(&mut rng, Some(&plausible));
                }
            }
        }
        refit_hashes(&mut rng, component, &mut input);
        if let Err(error) = check_output(component, &input, &secrets) {
            fail(component, &input, error);
        }
        ran += 1;
    }
    println!("{ran} mutated fixture inputs");
    assert!(ran >= 200, "only {ran} cases in the time budget");
}

#[test]
fn garbage_replies_at_every_step_never_break_an_invariant() {
    let fixtures = all_fixtures();
    // The fixture with the most replies of each component: the longest plausible run.
    let longest: Vec<(&str, &Value)> = COMPONENTS
        .iter()
        .flat_map(|component| {
            let mut of: Vec<&Value> = fixtures
                .iter()
                .filter(|(c, _, _)| c == component)
                .map(|(_, _, f)| &f["input"])
                .collect();
            of.sort_by_key(|input| {
                std::cmp::Reverse(input["replies"].as_array().map_or(0, Vec::len))
            });
            of.into_iter().take(3).map(move |input| (*component, input))
        })
        .collect();
    let mut rng = Rng(seed() ^ 0x5eed);
    let (budget, stop) = (cases(3000), deadline());
    let (mut ran, mut steps) = (0, 0);
    while ran < budget && Instant::now() < stop {
        let (component, base) = *rng.pick(&longest);
        let plausible: Vec<Value> = base["replies"].as_array().cloned().unwrap_or_default();
        let mut input = base.clone();
        let (settings, secrets) = marked_settings(&mut rng);
        input["settings"] = settings;
        input["replies"] = json!([]);
        let garbage_rate = *rng.pick(&[10, 30, 60, 100]);
        for step in 0..16 {
            let output = match check_output(component, &input, &secrets) {
                Ok(output) => output,
                Err(error) => fail(component, &input, error),
            };
            steps += 1;
            if output.get("calls").is_none() {
                break;
            }
            let reply = match plausible.get(step) {
                Some(reply) if !rng.chance(garbage_rate) => reply.clone(),
                Some(reply) if rng.chance(50) => mutate(&mut rng, reply.clone(), 1),
                other => garbage_reply(&mut rng, other),
            };
            input["replies"].as_array_mut().unwrap().push(reply);
        }
        ran += 1;
    }
    println!("{ran} runs, {steps} steps with garbage replies");
    assert!(ran >= 200, "only {ran} runs in the time budget");
}

// ---------------------------------------------------------------------------------------------
// Arbitrary JSON around a well-formed envelope.
// ---------------------------------------------------------------------------------------------

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "open",
            "completed",
            "SEK",
            "KWD",
            "checkout_complete",
            "digital",
            "2026-11-25T09:30:00Z",
            "8cf27b55-53e8-6aba-9fb4-7c692e56ddee",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..6).prop_map(
                |map| Value::Object(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            ),
        ]
    })
}

fn envelope() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), arbitrary_json(), 0..8),
        prop::collection::vec(arbitrary_json(), 0..5),
        prop::sample::select(vec![
            "2026-11-25T09:30:00Z",
            "2026-11-25T09:30:00.5+01:00",
            "9999-12-31T23:59:59Z",
        ]),
        any::<u64>(),
    )
        .prop_map(|(fields, replies, now, seed)| {
            let mut input: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            input.insert("now".into(), json!(now));
            input.insert("replies".into(), Value::Array(replies));
            input.insert("seed".into(), json!(seed));
            Value::Object(input)
        })
}

proptest! {
    #![proptest_config(Config {
        cases: cases(600) as u32,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn arbitrary_json_never_breaks_an_invariant(mut input in envelope()) {
        let mut rng = Rng(input["seed"].as_u64().unwrap_or(0));
        let (settings, secrets) = marked_settings(&mut rng);
        input["settings"] = settings;
        for component in COMPONENTS {
            check_output(component, &input, &secrets)
                .map_err(|e| TestCaseError::fail(format!("{e}\ninput: {input}")))?;
        }
    }
}

/// Continuations a host could hand back wrongly: truncated, altered, another component's,
/// another version's, without a digest, or garbage. Each must be refused with
/// `CONTINUATION_REFUSED` (the host then runs the component from the start), never resumed,
/// never a trap; every output still passes the invariants.
#[test]
fn bad_continuations_are_refused_never_resumed() {
    let fixtures = all_fixtures();
    let mut rng = Rng(seed() ^ 0xc0de);
    let (budget, stop) = (cases(600), deadline());
    let mut ran = 0;
    while ran < budget && Instant::now() < stop {
        let (component, _, fixture) = rng.pick(&fixtures);
        let input = &fixture["input"];
        let replies = input["replies"].as_array().cloned().unwrap_or_default();
        if replies.is_empty() {
            continue;
        }
        // A genuine continuation: the replaying run's after `k` replies.
        let k = 1 + rng.below(replies.len());
        let mut replaying = input.clone();
        replaying["replies"] = Value::Array(replies[..k - 1].to_vec());
        let output = run(component, &replaying);
        let Some(genuine) = output.get("continuation").cloned() else {
            continue;
        };
        let mut bad = genuine.clone();
        let how = rng.below(7);
        match how {
            0 => {
                if bad["learned"].as_array_mut().and_then(Vec::pop).is_none() {
                    bad["learned"] = json!([{"status": 200}]);
                }
            }
            1 => {
                let learned = bad["learned"].take();
                let mutations = 1 + rng.below(3);
                bad["learned"] = mutate(&mut rng, learned, mutations);
                if bad["learned"] == genuine["learned"] {
                    bad["learned"] = json!([null]);
                }
            }
            2 => {
                let other = COMPONENTS.iter().find(|c| *c != component).unwrap();
                bad["component"] = json!(other);
            }
            3 => bad["version"] = json!(kustom::host::CONTINUATION_VERSION + 1),
            4 => bad = json!({"learned": genuine["learned"].clone()}),
            5 => bad["digest"] = json!("0".repeat(64)),
            _ => bad = garbage(&mut rng, 3),
        }
        if bad.is_null() {
            continue; // no continuation at all: a replaying host, not a bad one
        }
        let mut resuming = input.clone();
        resuming["replies"] = Value::Array(replies[k - 1..k].to_vec());
        resuming["continuation"] = bad.clone();
        let output = match check_output(component, &resuming, &[]) {
            Ok(output) => output,
            Err(error) => fail(component, &resuming, error),
        };
        if output["error"]["code"] != "CONTINUATION_REFUSED" {
            fail(
                component,
                &resuming,
                format!("continuation corrupted ({how}) was not refused: {output}"),
            );
        }
        ran += 1;
    }
    println!("{ran} bad continuations refused");
    assert!(ran >= 100, "only {ran} cases in the time budget");
}
