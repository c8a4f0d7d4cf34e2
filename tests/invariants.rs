//! Safety properties held by checks on what the components do, not by fixtures pinning their
//! text (issue 13): a re-blessed fixture would silently accept any of these bugs; these tests
//! fail instead. Each names the property it guards; the scenario explorers check the others
//! across every interleaving (`checkout_scenarios.rs`: a payment is created only after looking
//! for one, acknowledged only once it exists; `capture_scenarios.rs`: never a capture above the
//! remaining authorization).

mod support;

use kustom::cart::RenderedCart;
use kustom::hash::payload_hash;
use kustom::payload;
use serde_json::{json, Map, Value};
use support::{drive, run};

const CART: &str = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";
const ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";
const PAYMENT: &str = "7a3e9c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a";

/// A rendered cart in `currency` whose two items cost `prices` (minor units, tax included at
/// 25 %), with the app's fields on it.
fn cart(currency: &str, exponent: u32, prices: [i64; 2], state: &str, fields: Value) -> Value {
    let major = |minor: i64| json!(minor as f64 / 10f64.powi(exponent as i32));
    let tax = |minor: i64| minor / 5;
    json!({
        "cartId": CART, "cartState": state, "currencyCode": currency, "taxIncluded": true,
        "locale": "sv-SE", "address": {"countryCode": "SE"},
        "orderTotal": major(prices[0] + prices[1]), "orderTaxTotal": major(tax(prices[0]) + tax(prices[1])),
        "items": [
            {"productNumber": "A-1", "description": "Product A", "quantity": 1, "unitPrice": major(prices[0]), "total": major(prices[0]), "tax": major(tax(prices[0]))},
            {"productNumber": "B-2", "description": "Product B", "quantity": 1, "unitPrice": major(prices[1]), "total": major(prices[1]), "tax": major(tax(prices[1]))},
        ],
        "fields": fields,
    })
}

fn payload_of(cart: &Value) -> payload::CartPayload {
    let rendered: RenderedCart = serde_json::from_value(cart.clone()).unwrap();
    payload::build(&rendered).unwrap()
}

fn settings() -> Value {
    json!({"apiKey": "kco_test_api_invariants", "publicBaseUrl": "https://shop.example"})
}

// ---------------------------------------------------------------------------------------------
// validate approves only the cart's own lines
// ---------------------------------------------------------------------------------------------

/// Kustom's order with the same currency and total as the cart, but other lines: another product
/// at the same price, the amount moved between lines, a line split in two. Never approved.
#[test]
fn validate_never_approves_other_lines_at_the_same_total() {
    let fields = json!({"kustomOrderId": ORDER});
    let the_cart = cart("SEK", 2, [10_000, 5_000], "open", fields);
    let ours = serde_json::to_value(payload_of(&the_cart)).unwrap();
    let order = |lines: Value| {
        let mut order = ours.clone();
        order["order_lines"] = lines;
        order["order_id"] = json!(ORDER);
        order["merchant_reference1"] = json!(CART);
        order["status"] = json!("checkout_incomplete");
        order
    };
    let lines = ours["order_lines"].clone();
    let mut other_product = lines.clone();
    other_product[0]["reference"] = json!("C-3");
    other_product[0]["name"] = json!("Product C");
    let mut renamed = lines.clone();
    renamed[1]["name"] = json!("Product B, but another");
    let mut moved = lines.clone();
    for (line, amount) in [(0, 9_000), (1, 6_000)] {
        moved[line]["unit_price"] = json!(amount);
        moved[line]["total_amount"] = json!(amount);
        moved[line]["total_tax_amount"] = json!(payload::line_tax(amount, 2500));
    }
    let mut split = lines.clone();
    split[0]["quantity"] = json!(2);
    split[0]["unit_price"] = json!(5_000);
    let mut other_type = lines.clone();
    other_type[0]["type"] = json!("digital");
    let answer = |call: &Value| match call["call"].as_str().unwrap() {
        "renderCart" => the_cart.clone(),
        "triggerHook" => json!([]),
        other => panic!("{other}"),
    };
    let body = order(lines.clone());
    let (approved, _) = drive(
        "ingresses/validate",
        json!({"body": body, "now": "2026-11-25T09:30:00Z", "settings": {}}),
        answer,
    );
    assert_eq!(approved["response"]["statusCode"], 200, "{approved}");
    for (what, lines) in [
        ("another product", other_product),
        ("a renamed line", renamed),
        ("amount moved between lines", moved),
        ("a line split", split),
        ("another line type", other_type),
    ] {
        let body = order(lines);
        assert_eq!(body["order_amount"], ours["order_amount"]);
        let (output, calls) = drive(
            "ingresses/validate",
            json!({"body": body, "now": "2026-11-25T09:30:00Z", "settings": {}}),
            answer,
        );
        assert_eq!(output["response"]["statusCode"], 400, "{what}: {output}");
        assert!(
            calls.iter().all(|c| c["call"] != "triggerHook"),
            "{what}: merchant rules ran for an order that is not the cart"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Money in 0-, 2- and 3-decimal currencies, end to end
// ---------------------------------------------------------------------------------------------

/// A shop: the cart (completed by the completion path), payments, a Kustom order paid as the
/// cart's payload.
struct Shop {
    cart: Value,
    order: Value,
    payments: Vec<Value>,
    acknowledged: bool,
}

impl Shop {
    fn new(currency: &str, exponent: u32, prices: [i64; 2]) -> Shop {
        let fields = json!({"kustomOrderId": ORDER});
        let cart = cart(currency, exponent, prices, "open", fields);
        let mut order = serde_json::to_value(payload_of(&cart)).unwrap();
        order["order_id"] = json!(ORDER);
        order["status"] = json!("checkout_complete");
        order["merchant_reference1"] = json!(CART);
        order["purchase_currency"] = json!(currency.to_lowercase());
        Shop {
            cart,
            order,
            payments: vec![],
            acknowledged: false,
        }
    }

    fn answer(&mut self, call: &Value) -> Value {
        match call["call"].as_str().unwrap() {
            "renderCart" => self.cart.clone(),
            "query" if call["set"] == "carts" => json!([{"cartId": CART}]),
            "query" => json!(self
                .payments
                .iter()
                .map(|_| json!({"paymentId": PAYMENT}))
                .collect::<Vec<_>>()),
            "messageActor" if call["actorType"] == "payment" => {
                self.payments.push(call["messages"][0]["body"].clone());
                json!({"actorId": PAYMENT, "errors": [], "paths": [], "data": {}})
            }
            "messageActor" => {
                self.cart["cartState"] = json!("completed");
                json!({"actorId": CART, "errors": [], "paths": [], "data": {}})
            }
            "http" if call["url"].as_str().unwrap().ends_with("/acknowledge") => {
                self.acknowledged = true;
                json!({"status": 204, "body": ""})
            }
            // Order Management has the paid order as authorized (the completion path asks it).
            "http" if call["url"].as_str().unwrap().contains("/ordermanagement/") => {
                let mut om = self.order.clone();
                om["status"] = json!("AUTHORIZED");
                om["fraud_status"] = json!("ACCEPTED");
                om["remaining_authorized_amount"] = om["order_amount"].clone();
                json!({"status": 200, "body": om})
            }
            "http" => json!({"status": 200, "body": self.order}),
            other => panic!("{other}"),
        }
    }
}

/// The payment's authorized amount, in the currency's major units as the platform takes them,
/// is exactly Kustom's `order_amount` scaled by that currency's exponent; the capture sends
/// Kustom exactly the platform's amount in minor units. A KWD amount scaled by 100, or a JPY
/// amount by 100, fails here.
#[test]
fn amounts_keep_their_currency_exponent_through_confirm_webhook_and_capture() {
    for (currency, exponent, prices) in [
        ("SEK", 2, [12_345, 6_789]),
        ("JPY", 0, [12_345, 6_780]),
        ("KWD", 3, [12_345, 6_785]),
    ] {
        let scale = 10f64.powi(exponent);
        for component in ["ingresses/confirm", "ingresses/webhook"] {
            let mut shop = Shop::new(currency, exponent as u32, prices);
            let input = json!({"route": {"cartId": CART}, "query": {"kustom_order_id": ORDER},
                "headers": {}, "body": null, "settings": settings(), "now": "2026-11-25T09:30:00Z"});
            let (output, _) = drive(component, input, |call| shop.answer(call));
            assert_eq!(
                output["response"]["statusCode"], 200,
                "{currency} {component}: {output}"
            );
            assert_eq!(shop.payments.len(), 1);
            let payment = &shop.payments[0];
            assert_eq!(payment["currencyCode"], currency);
            let authorized = payment["commands"][0]["amount"].as_f64().unwrap();
            let order_amount = shop.order["order_amount"].as_i64().unwrap();
            assert_eq!(
                (authorized * scale).round() as i64,
                order_amount,
                "{currency} {component}: authorized {authorized} for Kustom's {order_amount}"
            );
            assert!(
                (authorized - order_amount as f64 / scale).abs() < 1e-9,
                "{currency}: {authorized}"
            );
        }
        // Capture: the platform's amount (major units) → Kustom's captured_amount (minor).
        let amount = (prices[0] + prices[1]) as f64 / scale;
        let mut input = json!({"paymentId": PAYMENT, "paymentCaptureId": "cap-1", "kustomOrderId": ORDER,
            "amount": amount, "currencyCode": currency, "settings": settings(), "now": "2026-11-26T14:00:00Z"});
        input["replies"] = json!([]);
        let (_, calls) = drive("jobs/capture-order", input, |call| {
            if call["call"] == "messageActor" {
                return json!({"actorId": PAYMENT, "errors": [], "data": {"query": {"paymentId": PAYMENT,
                    "captures": [{"paymentCaptureId": "cap-1", "state": "pending", "remainingAmount": amount}]}}});
            }
            if call["method"] == "GET" {
                return json!({"status": 200, "body": {"order_id": ORDER, "status": "AUTHORIZED",
                    "purchase_currency": currency, "order_amount": prices[0] + prices[1],
                    "remaining_authorized_amount": prices[0] + prices[1], "captures": []}});
            }
            json!({"status": 201, "headers": {"Capture-Id": "k-cap-1"}, "body": ""})
        });
        let capture = calls
            .iter()
            .find(|c| c["url"].as_str().is_some_and(|u| u.ends_with("/captures")))
            .unwrap_or_else(|| panic!("{currency}: no capture sent"));
        assert_eq!(
            capture["body"]["captured_amount"],
            json!(prices[0] + prices[1]),
            "{currency}: captured_amount"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The capture idempotency key
// ---------------------------------------------------------------------------------------------

/// A partial capture whose first request lands at Kustom *after* the retry was sent (the reply
/// was lost, the request was slow): Kustom applies it once because both carry the same key.
#[test]
fn a_capture_whose_first_request_lands_after_the_retry_is_applied_once() {
    let (authorized, partial) = (94_080, 30_000);
    // Kustom's Order Management: captures applied, and the idempotency store (key → reply).
    let mut captures: Vec<(String, i64)> = vec![];
    let mut replays: Map<String, Value> = Map::new();
    let mut kustom_applies = |call: &Value, captures: &mut Vec<(String, i64)>| {
        let key = call["headers"]["Klarna-Idempotency-Key"]
            .as_str()
            .unwrap()
            .to_string();
        if let Some(reply) = replays.get(&key) {
            return reply.clone();
        }
        let id = format!("cap-{}", captures.len() + 1);
        captures.push((
            id.clone(),
            call["body"]["captured_amount"].as_i64().unwrap(),
        ));
        let reply = json!({"status": 201, "headers": {"Capture-Id": id}, "body": ""});
        replays.insert(key, reply.clone());
        reply
    };
    let mut parameters = json!({"paymentId": PAYMENT, "paymentCaptureId": "pc-partial", "kustomOrderId": ORDER,
        "amount": partial as f64 / 100.0, "currencyCode": "SEK", "settings": settings(), "now": "2026-11-26T14:00:00Z"});
    let mut in_flight: Vec<Value> = vec![];
    let mut keys = vec![];
    for run_number in 0..2 {
        let captured_now = captures.clone();
        let (output, calls) = drive("jobs/capture-order", parameters.clone(), |call| {
            if call["call"] == "messageActor" {
                return json!({"actorId": PAYMENT, "errors": [], "data": {"query": {"paymentId": PAYMENT,
                    "captures": [{"paymentCaptureId": "pc-partial", "state": "pending", "remainingAmount": partial as f64 / 100.0}]}}});
            }
            if call["method"] == "GET" {
                let captured: i64 = captured_now.iter().map(|c| c.1).sum();
                return json!({"status": 200, "body": {"order_id": ORDER, "status": "AUTHORIZED",
                    "purchase_currency": "SEK", "order_amount": authorized, "expires_at": "2026-12-20T00:00:00Z",
                    "remaining_authorized_amount": authorized - captured, "captures": []}});
            }
            // The first run's capture is in flight: its reply is lost, it has not landed yet.
            in_flight.push(call.clone());
            json!({"error": {"kind": "timeout", "message": "no answer in 10 s"}})
        });
        keys.extend(
            calls
                .iter()
                .filter_map(|c| c["headers"]["Klarna-Idempotency-Key"].as_str())
                .map(str::to_string),
        );
        if run_number == 0 {
            let retry = output["effects"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["effect"] == "scheduleJob")
                .unwrap_or_else(|| panic!("a timeout retries: {output}"));
            parameters = retry["parameters"].clone();
            parameters["settings"] = settings();
            parameters["now"] = json!("2026-11-26T14:00:05Z");
        }
    }
    // The retry's request lands first, then the first run's late one.
    for call in in_flight.iter().rev() {
        kustom_applies(call, &mut captures);
    }
    assert_eq!(in_flight.len(), 2, "both runs sent the capture");
    assert_eq!(keys[0], keys[1], "the key changed between tries");
    assert_eq!(
        captures.iter().map(|c| c.1).sum::<i64>(),
        partial,
        "captured more than once: {captures:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The sync: never for a final cart; always again after a refusal or a give-up
// ---------------------------------------------------------------------------------------------

/// A rejected or completed cart never schedules a sync, whatever its fields say.
#[test]
fn a_rejected_or_completed_cart_never_schedules_a_sync() {
    let the_cart = cart("SEK", 2, [10_000, 5_000], "open", json!({}));
    let hash = payload_hash(&payload_of(&the_cart));
    for state in ["completed", "rejected"] {
        for fields in [
            json!({"kustomOrderId": ORDER}),
            json!({"kustomOrderId": ORDER, "kustomPendingHash": "other", "kustomSyncHash": "older"}),
            json!({"kustomOrderId": ORDER, "kustomPendingHash": hash, "kustomSyncHash": "older"}),
            json!({"kustomOrderId": ORDER, "kustomPendingHash": "unsyncable:TOTALS_MISMATCH"}),
        ] {
            let mut input = cart("SEK", 2, [10_000, 5_000], state, fields.clone());
            input["now"] = json!("2026-11-25T09:30:00Z");
            input["settings"] = settings();
            let output = run("rules/cart-kustom-sync", &input);
            let effects = output["effects"]
                .as_array()
                .unwrap_or_else(|| panic!("{output}"));
            assert!(
                effects.iter().all(|e| e["effect"] != "scheduleJob"),
                "a {state} cart scheduled a sync ({fields}): {output}"
            );
            // Nor does a job already scheduled push to it.
            let job = json!({"cartId": CART, "kustomOrderId": ORDER, "hash": hash,
                "settings": settings(), "now": "2026-11-25T09:30:01Z"});
            let (output, calls) = drive("jobs/sync-kustom-order", job, |call| {
                assert_ne!(call["call"], "http", "a sync job pushed to a {state} cart");
                let mut dynamic = Map::new();
                for (k, v) in fields.as_object().unwrap() {
                    dynamic.insert(format!("field:{k}"), v.clone());
                }
                dynamic.insert("field:kustomPendingHash".into(), json!(hash));
                // A valid payload is stored beside it: only the cart's state stops the push.
                dynamic.insert("kustomPendingPayload".into(), json!(payload_of(&the_cart)));
                json!({"actorId": CART, "errors": [], "data": {"query": {"state": state, "dynamic": dynamic}}})
            });
            assert!(calls.iter().all(|c| c["call"] != "http"));
            assert!(output["effects"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["effect"] != "scheduleJob"));
        }
    }
}

/// The cart ticket's dynamic fields, the rule and the job as a host runs them, and Kustom
/// answering each push with `kustom_answers` (then 200).
struct SyncWorld {
    dynamic: Map<String, Value>,
    kustom_holds: Option<Value>,
    jobs: Vec<Value>,
}

impl SyncWorld {
    fn mutate(&mut self, cart: &Value) {
        let mut input = cart.clone();
        let fields: Map<String, Value> = self
            .dynamic
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("field:").map(|k| (k.to_string(), v.clone())))
            .collect();
        input["fields"] = Value::Object(fields);
        input["now"] = json!("2026-11-25T09:30:00Z");
        input["settings"] = settings();
        let output = run("rules/cart-kustom-sync", &input);
        self.apply(&output);
    }

    fn apply(&mut self, output: &Value) {
        for effect in output["effects"].as_array().unwrap() {
            let commands = match effect["effect"].as_str().unwrap() {
                "scheduleJob" => {
                    let mut job = effect["parameters"].clone();
                    job["settings"] = settings();
                    job["now"] = json!("2026-11-25T09:31:00Z");
                    self.jobs.push(job);
                    continue;
                }
                "ticketCommand" => vec![effect.clone()],
                _ => effect["body"]["commands"].as_array().unwrap().clone(),
            };
            for command in commands {
                if command["type"] == "setDynamicFields" {
                    for (k, v) in command["fields"].as_object().unwrap() {
                        self.dynamic.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }

    /// Runs every scheduled job to the end; Kustom answers pushes from `answers`, then 200.
    fn run_jobs(&mut self, answers: &mut Vec<Value>) {
        while !self.jobs.is_empty() {
            let job = self.jobs.remove(0);
            let (output, _) = drive("jobs/sync-kustom-order", job, |call| {
                if call["call"] == "http" {
                    if answers.is_empty() {
                        self.kustom_holds = Some(call["body"].clone());
                        return json!({"status": 200, "body": {}});
                    }
                    return answers.remove(0);
                }
                let commands = &call["messages"][0]["body"]["commands"];
                for command in commands.as_array().into_iter().flatten() {
                    for (k, v) in command["fields"].as_object().unwrap() {
                        self.dynamic.insert(k.clone(), v.clone());
                    }
                }
                json!({"actorId": CART, "errors": [], "data": {"query": {"state": "open", "dynamic": self.dynamic}}})
            });
            self.apply(&output);
        }
    }
}

/// After Kustom refused an update for good (a 4xx), or the job gave up after its retries, the
/// next cart change — even one that leaves the payload as it was — syncs again, and the cart
/// converges: Kustom holds its payload, pending = synced.
#[test]
fn after_a_refusal_or_a_give_up_the_next_change_syncs_again() {
    let refusal = json!({"status": 400, "body": {"error_code": "BAD_VALUE", "error_messages": ["Bad value: order_lines"]}});
    let unavailable = json!({"status": 503, "body": ""});
    for (what, failures) in [
        ("a refusal", vec![refusal]),
        ("a give-up", vec![unavailable; 6]),
    ] {
        for next_payload_changes in [true, false] {
            let first = cart("SEK", 2, [10_000, 5_000], "open", json!({}));
            let mut world = SyncWorld {
                dynamic: Map::from_iter([("field:kustomOrderId".to_string(), json!(ORDER))]),
                kustom_holds: None,
                jobs: vec![],
            };
            world.mutate(&first);
            assert_eq!(world.jobs.len(), 1);
            world.run_jobs(&mut failures.clone());
            assert_eq!(world.kustom_holds, None, "{what}: nothing reached Kustom");
            let next = if next_payload_changes {
                cart("SEK", 2, [10_000, 6_000], "open", json!({}))
            } else {
                let mut same = first.clone();
                same["email"] = json!("changed@example.se");
                same
            };
            world.mutate(&next);
            assert_eq!(
                world.jobs.len(),
                1,
                "{what}: the next change (payload changed: {next_payload_changes}) did not sync"
            );
            world.run_jobs(&mut vec![]);
            let hash = payload_hash(&payload_of(&next));
            assert_eq!(
                world.dynamic["field:kustomPendingHash"],
                json!(hash),
                "{what}"
            );
            assert_eq!(world.dynamic["field:kustomSyncHash"], json!(hash), "{what}");
            assert_eq!(
                world.kustom_holds,
                Some(serde_json::to_value(payload_of(&next)).unwrap()),
                "{what}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A permanent refusal is never retried
// ---------------------------------------------------------------------------------------------

/// A 4xx other than 404, 409 and 429 is Kustom saying no: the job stops (logs it) and neither
/// schedules a retry nor sends the same request again — except the capture's one documented
/// second try after extending the authorization.
#[test]
fn a_permanent_refusal_is_never_retried() {
    for status in [400, 401, 403, 422] {
        let refusal = json!({"status": status, "body": {"error_code": "BAD_VALUE", "error_messages": ["no"]}});
        // The sync job, refused at its push.
        let the_cart = cart("SEK", 2, [10_000, 5_000], "open", json!({}));
        let payload = payload_of(&the_cart);
        let hash = payload_hash(&payload);
        let job = json!({"cartId": CART, "kustomOrderId": ORDER, "hash": hash,
            "settings": settings(), "now": "2026-11-25T09:30:01Z"});
        let (output, calls) = drive("jobs/sync-kustom-order", job, |call| {
            if call["call"] == "http" {
                return refusal.clone();
            }
            json!({"actorId": CART, "errors": [], "data": {"query": {"state": "open", "dynamic": {
                "field:kustomOrderId": ORDER, "field:kustomPendingHash": hash,
                "kustomPendingPayload": payload}}}})
        });
        assert_eq!(
            calls.iter().filter(|c| c["call"] == "http").count(),
            1,
            "{status}"
        );
        assert_no_retry("sync job", status, &output);

        // The capture job, refused at each of its Kustom calls in turn.
        for refused_call in 0..3 {
            let input = json!({"paymentId": PAYMENT, "paymentCaptureId": "pc-1", "kustomOrderId": ORDER,
                "amount": 100.0, "currencyCode": "SEK", "settings": settings(), "now": "2026-11-26T14:00:00Z"});
            let mut http_calls = 0;
            let (output, calls) = drive("jobs/capture-order", input, |call| {
                if call["call"] == "messageActor" {
                    return json!({"actorId": PAYMENT, "errors": [], "data": {"query": {"paymentId": PAYMENT,
                        "captures": [{"paymentCaptureId": "pc-1", "state": "pending", "remainingAmount": 100.0}]}}});
                }
                http_calls += 1;
                if http_calls - 1 == refused_call {
                    return refusal.clone();
                }
                if call["method"] == "GET" {
                    // Expiring soon: the job extends first, so every OM call gets its turn.
                    return json!({"status": 200, "body": {"order_id": ORDER, "status": "AUTHORIZED",
                        "purchase_currency": "SEK", "order_amount": 10_000, "expires_at": "2026-11-26T20:00:00Z",
                        "remaining_authorized_amount": 10_000, "captures": []}});
                }
                json!({"status": 201, "headers": {"Capture-Id": "k1"}, "body": ""})
            });
            assert_no_retry("capture job", status, &output);
            // The same request twice only with an extension in between.
            let http: Vec<&Value> = calls.iter().filter(|c| c["call"] == "http").collect();
            for (i, later) in http.iter().enumerate() {
                for earlier in &http[..i] {
                    if earlier["url"] == later["url"] && earlier["method"] == "POST" {
                        let between = &http[http.iter().position(|c| c == earlier).unwrap()..i];
                        assert!(
                            between.iter().any(|c| c["url"]
                                .as_str()
                                .unwrap()
                                .ends_with("/extend-authorization-time")),
                            "capture job re-sent {} after a {status}",
                            later["url"]
                        );
                    }
                }
            }
        }
    }
}

fn assert_no_retry(what: &str, status: u64, output: &Value) {
    let effects = output["effects"]
        .as_array()
        .unwrap_or_else(|| panic!("{output}"));
    assert!(
        effects.iter().all(|e| e["effect"] != "scheduleJob"),
        "{what} scheduled a retry after a {status}: {output}"
    );
}
