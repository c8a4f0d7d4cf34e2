//! Scenario tests of the `validate` ingress on a simulated host: carts rendered from an
//! in-memory store, Kustom's order built the way the sync sends it, and `OnKustomValidation`
//! answered by sample merchant rules written as Rust mirrors of the Filtrera rules in
//! docs/validation.md.

use kustom::cart::RenderedCart;
use kustom::components::validate;
use kustom::payload;
use serde_json::{json, Value};
use std::collections::HashMap;

const CART: &str = "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60";
const ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";

type MerchantRule = fn(&Value) -> Vec<Value>;

/// docs/validation.md's example: block when an item is no longer in stock.
fn stock_rule(input: &Value) -> Vec<Value> {
    input["orderLines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["reservedQuantity"].as_f64() < line["quantity"].as_f64())
        .map(|line| {
            let name = line["description"]
                .as_str()
                .or(line["productNumber"].as_str())
                .unwrap();
            json!({"effect": "validationError", "code": "item_out_of_stock",
                   "message": format!("{name}: only {} left in stock", line["reservedQuantity"]),
                   "details": {"productNumber": line["productNumber"]}})
        })
        .take(1)
        .collect()
}

/// A second merchant rule: orders above SEK 10 000 need a phone call first.
fn big_order_rule(input: &Value) -> Vec<Value> {
    if input["orderTotal"].as_f64().unwrap() > 10_000.0 {
        vec![
            json!({"effect": "validationError", "code": "approval_failed",
                    "message": "Orders above 10 000 kr are confirmed by phone; please call us."}),
        ]
    } else {
        vec![json!({"effect": "custom", "type": "note", "value": "small order"})]
    }
}

struct Host {
    carts: HashMap<String, Value>,
    rules: Vec<MerchantRule>,
    hook_inputs: Vec<Value>,
}

struct Answer {
    status: u64,
    content: Value,
    log: String,
}

impl Host {
    fn new(cart: Value, rules: Vec<MerchantRule>) -> Host {
        Host {
            carts: HashMap::from([(CART.to_string(), cart)]),
            rules,
            hook_inputs: vec![],
        }
    }

    /// Runs the ingress to its response, answering each call.
    fn validate(&mut self, body: Value) -> Answer {
        let mut input = json!({"route": {}, "query": {}, "headers": {}, "body": body,
                               "settings": {}, "now": "2026-11-25T09:30:00Z", "replies": []});
        for _ in 0..10 {
            let output = validate::run(&input).to_json();
            assert!(
                output.get("error").is_none(),
                "the ingress must answer, not fail: {output}"
            );
            if let Some(response) = output.get("response") {
                assert_eq!(output["effects"], json!([]), "validate writes nothing");
                return Answer {
                    status: response["statusCode"].as_u64().unwrap(),
                    content: response["content"].clone(),
                    log: output["log"][0].as_str().unwrap().to_string(),
                };
            }
            let call = &output["calls"][0];
            let reply = match call["call"].as_str().unwrap() {
                "renderCart" => self
                    .carts
                    .get(call["cartId"].as_str().unwrap())
                    .cloned()
                    .unwrap_or(json!({"error": {"code": "NOT_FOUND"}})),
                "triggerHook" => {
                    assert_eq!(call["hook"], "OnKustomValidation");
                    self.hook_inputs.push(call["input"].clone());
                    Value::Array(
                        self.rules
                            .iter()
                            .flat_map(|rule| rule(&call["input"]))
                            .collect(),
                    )
                }
                other => panic!("validate made an unexpected call {other}"),
            };
            input["replies"].as_array_mut().unwrap().push(reply);
        }
        panic!("validate did not answer within 10 steps");
    }
}

fn cart(mugs: i64, in_stock: i64) -> Value {
    let mug_total = mugs * 8990;
    json!({
        "cartId": CART, "cartState": "open", "channelKey": "webshop-se", "currencyCode": "SEK",
        "taxIncluded": true, "locale": "sv-SE",
        "orderTotal": (19900 + mug_total) as f64 / 100.0,
        "orderTaxTotal": (3980 + mug_total / 5) as f64 / 100.0,
        "items": [
            {"productNumber": "TS-RED-M", "description": "T-shirt, röd, M", "quantity": 1, "reservedQuantity": 1,
             "unitPrice": 199, "total": 199, "tax": 39.8},
            {"productNumber": "MUG-1", "description": "Kaffemugg", "quantity": mugs, "reservedQuantity": in_stock.min(mugs),
             "unitPrice": 89.9, "total": mug_total as f64 / 100.0, "tax": (mug_total / 5) as f64 / 100.0}
        ],
        "fields": {"kustomOrderId": ORDER, "kustomPendingHash": "x", "kustomSyncHash": "x"}
    })
}

/// The order Kustom holds after syncing `synced_cart`, as its validation callback sends it.
fn kustom_order(synced_cart: &Value) -> Value {
    let rendered: RenderedCart = serde_json::from_value(synced_cart.clone()).unwrap();
    let mut order = serde_json::to_value(payload::build(&rendered).unwrap()).unwrap();
    order["order_id"] = json!(ORDER);
    order["status"] = json!("checkout_incomplete");
    order["purchase_country"] = json!("se");
    order["merchant_reference1"] = json!(CART);
    order["billing_address"] = json!({"given_name": "Anna", "country": "se"});
    order
}

#[test]
fn in_stock_order_is_approved_after_the_merchant_rules_ran() {
    let mut host = Host::new(cart(3, 10), vec![stock_rule, big_order_rule]);
    let answer = host.validate(kustom_order(&cart(3, 10)));
    assert_eq!(answer.status, 200, "{}", answer.log);
    assert_eq!(host.hook_inputs.len(), 1);
    let input = &host.hook_inputs[0];
    assert_eq!(
        (input["cartId"].as_str(), input["kustomOrderId"].as_str()),
        (Some(CART), Some(ORDER))
    );
    assert_eq!(input["orderLines"][1]["salesTotal"], json!(269.7));
    assert_eq!(input["orderTotal"], json!(468.7));
}

#[test]
fn the_stock_rule_blocks_with_its_message() {
    let mut host = Host::new(cart(3, 1), vec![stock_rule]);
    let answer = host.validate(kustom_order(&cart(3, 1)));
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.content,
        json!({"error_type": "approval_failed", "error_text": "Kaffemugg: only 1 left in stock"})
    );
    assert!(answer.log.contains("item_out_of_stock"), "{}", answer.log);
}

#[test]
fn only_the_first_merchant_error_is_answered() {
    // 120 mugs: out of stock *and* above 10 000 kr; the stock rule comes first.
    let mut host = Host::new(cart(120, 5), vec![stock_rule, big_order_rule]);
    let answer = host.validate(kustom_order(&cart(120, 5)));
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.content["error_text"],
        "Kaffemugg: only 5 left in stock"
    );
    let mut host = Host::new(cart(120, 5), vec![big_order_rule, stock_rule]);
    let answer = host.validate(kustom_order(&cart(120, 5)));
    assert_eq!(
        answer.content["error_text"],
        "Orders above 10 000 kr are confirmed by phone; please call us."
    );
}

#[test]
fn a_cart_changed_during_the_sync_is_refused_until_kustom_catches_up() {
    // Kustom still holds 3 mugs; the customer added one in another tab.
    let mut host = Host::new(cart(4, 10), vec![stock_rule]);
    let answer = host.validate(kustom_order(&cart(3, 10)));
    assert_eq!(answer.status, 400);
    assert!(
        answer.log.starts_with("rejected: CART_CHANGED"),
        "{}",
        answer.log
    );
    assert!(
        host.hook_inputs.is_empty(),
        "merchant rules never see a stale order"
    );
    // The sync catches up; the customer presses buy again.
    let answer = host.validate(kustom_order(&cart(4, 10)));
    assert_eq!(answer.status, 200, "{}", answer.log);
}

#[test]
fn each_built_in_rejection_has_its_code() {
    let order = kustom_order(&cart(3, 10));
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "CART_NOT_OPEN",
            json!({"cartState": "completed"}),
            order.clone(),
        ),
        (
            "ORDER_NOT_CURRENT",
            json!({"fields": {"kustomOrderId": "1d9e5b3a-77c1-4e0b-a3f2-9b8c7d6e5f40"}}),
            order.clone(),
        ),
        (
            "CART_NOT_PAYABLE",
            json!({"currencyCode": "XYZ"}),
            order.clone(),
        ),
        ("CART_NOT_FOUND", json!({}), {
            let mut o = order.clone();
            o["merchant_reference1"] = json!("11111111-2222-3333-4444-555555555555");
            o
        }),
    ];
    for (code, cart_change, body) in cases {
        let mut changed = cart(3, 10);
        for (key, value) in cart_change.as_object().unwrap() {
            changed[key] = value.clone();
        }
        let mut host = Host::new(changed, vec![stock_rule]);
        let answer = host.validate(body);
        assert_eq!(answer.status, 400, "{code}");
        assert!(
            answer.log.starts_with(&format!("rejected: {code}")),
            "{code}: {}",
            answer.log
        );
        assert_eq!(answer.content["error_type"], "approval_failed");
        assert!(host.hook_inputs.is_empty());
    }
}

#[test]
fn unverifiable_bodies_are_rejected_never_approved_never_an_error() {
    let bodies = [
        json!(null),
        json!(42),
        json!("not json at all"),
        json!("{\"order_id\": "),
        json!([kustom_order(&cart(3, 10))]),
        json!({"order_id": ORDER}),
        json!({"merchant_reference1": CART, "purchase_currency": "SEK", "order_amount": "lots",
               "order_tax_amount": 0, "order_lines": []}),
        json!("x".repeat(100_000)),
    ];
    for body in bodies {
        let mut host = Host::new(cart(3, 10), vec![stock_rule]);
        let answer = host.validate(body.clone());
        assert_eq!(answer.status, 400, "{body:.80}");
        assert!(
            answer.log.starts_with("rejected: BAD_REQUEST"),
            "{}",
            answer.log
        );
        assert_eq!(answer.content["error_type"], "approval_failed");
        assert!(host.hook_inputs.is_empty());
    }
}

/// The rule's effect on the cart's fields (`field:` keys, as the storefront sees them).
fn fields_after_rule(input: &Value) -> Value {
    let output = kustom::components::cart_kustom_sync::run(input).to_json();
    let mut fields = input["fields"].clone();
    let set = output["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "setDynamicFields")
        .expect("the rule set the pending hash");
    for (key, value) in set["fields"].as_object().unwrap() {
        if let Some(field) = key.strip_prefix("field:") {
            fields[field] = value.clone();
        }
    }
    fields
}

#[test]
fn an_older_payload_of_our_own_is_recognised_with_shipping_in_the_iframe() {
    // Issue 26's recovery on a channel with shipping chosen in Kustom's iframe: the payload
    // carries shipping_options, which validation checks apart. Kustom holds the cart's earlier
    // payload A while the cart, synced, is at B: validation must see A as the app's own (its
    // recent hashes name the part it compares) and re-assert, not refuse it as a foreign change.
    let path = "tests/fixtures/rules/cart-kustom-sync/shipping-assistant-sends-options-and-no-shipping-line.json";
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let a = fixture["input"].clone();
    let payload_a = payload::build(&RenderedCart::from_tree(&a, "cart").unwrap()).unwrap();
    let mut b = a.clone();
    b["fields"] = fields_after_rule(&a);
    b["items"][0]["quantity"] = json!(3);
    b["items"][0]["total"] = json!(597);
    b["items"][0]["tax"] = json!(119.4);
    b["orderTotal"] = json!(1139.8);
    b["orderTaxTotal"] = json!(195.82);
    b["productTotal"] = json!(1090.8);
    let mut fields = fields_after_rule(&b);
    fields["kustomSyncHash"] = fields["kustomPendingHash"].clone(); // synced at B
    b["fields"] = fields;

    let mut order = serde_json::to_value(&payload_a).unwrap();
    for (key, value) in [
        ("order_id", json!(ORDER)),
        ("merchant_reference2", json!(CART)),
        ("status", json!("checkout_incomplete")),
        ("purchase_country", json!("se")),
    ] {
        order[key] = value;
    }
    let mut rendered = b.clone();
    rendered.as_object_mut().unwrap().remove("hook");
    let input = json!({"body": order, "query": {}, "headers": {}, "settings": a["settings"],
        "now": "2026-11-25T09:31:00Z", "replies": [rendered]});
    let output = validate::run(&input).to_json();
    assert_eq!(output["response"]["statusCode"], 400, "{output}");
    assert_eq!(
        output["response"]["content"]["error_text"],
        "Your order is being updated. Please wait a moment and try again.",
        "not recognised as the app's own older payload: {output}"
    );
    assert!(output["effects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["definition"] == "syncKustomOrder"));
}
