//! What the hostile-input, fuzz, invariant and real-world suites share: running a component
//! by id (a panic becomes a test failure naming the input), and the checks every output must
//! pass whatever the input was:
//! - the output is exactly one of the contract's three shapes (docs/host-contract.md);
//! - no setting value appears in an error, a log line or an effect (settings hold secrets);
//! - every request to Kustom is one Kustom accepts: its URL, headers and body obey Kustom's
//!   OpenAPI descriptions (`../shared/specs`, the constraints transcribed below) and the money
//!   rules of the API reference §2.8, exactly (integers, sums to the unit).
#![allow(dead_code)]

use kustom::components::{
    capture, capture_order, cart_kustom_sync, checkout, confirm, order_number,
    set_kustom_order_number, sync_kustom_order, validate, webhook,
};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

pub const COMPONENTS: [&str; 10] = [
    "rules/cart-kustom-sync",
    "jobs/sync-kustom-order",
    "ingresses/checkout",
    "ingresses/confirm",
    "ingresses/webhook",
    "ingresses/validate",
    "rules/capture",
    "jobs/capture-order",
    "rules/order-number",
    "jobs/set-kustom-order-number",
];

/// Runs a component; a panic is returned as `Err` with its message.
pub fn try_run(component: &str, input: &Value) -> Result<Value, String> {
    let run: fn(&Value) -> kustom::host::Output = match component {
        "rules/cart-kustom-sync" => cart_kustom_sync::run,
        "jobs/sync-kustom-order" => sync_kustom_order::run,
        "ingresses/validate" => validate::run,
        "ingresses/checkout" => checkout::run,
        "ingresses/confirm" => confirm::run,
        "ingresses/webhook" => webhook::run,
        "rules/capture" => capture::run,
        "jobs/capture-order" => capture_order::run,
        "rules/order-number" => order_number::run,
        "jobs/set-kustom-order-number" => set_kustom_order_number::run,
        other => panic!("no component {other:?}"),
    };
    catch_unwind(AssertUnwindSafe(|| run(input))).map_or_else(
        |panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("{component} panicked: {message}"))
        },
        |output| {
            // What the glue prints is what a host reads: check that text, parsed back.
            let text = output.to_json_text();
            serde_json::from_str(&text).map_err(|e| format!("{component}: output not JSON: {e}"))
        },
    )
}

pub fn run(component: &str, input: &Value) -> Value {
    try_run(component, input).unwrap_or_else(|panic| panic!("{panic}\ninput: {input}"))
}

/// Runs `component` to its final output, answering each call with `answer`; returns the
/// output and every call made, in order.
pub fn drive(
    component: &str,
    mut input: Value,
    mut answer: impl FnMut(&Value) -> Value,
) -> (Value, Vec<Value>) {
    input["replies"] = json!([]);
    let mut calls = Vec::new();
    for _ in 0..30 {
        let output = run(component, &input);
        shape(&output).unwrap();
        let Some(call) = output["calls"].get(0) else {
            return (output, calls);
        };
        let reply = answer(call);
        calls.push(call.clone());
        input["replies"].as_array_mut().unwrap().push(reply);
    }
    panic!("{component} did not finish in 30 steps");
}

/// A fixture file's JSON (`tests/fixtures/<component id>/<case>.json`).
pub fn fixture(component: &str, case: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(component)
        .join(format!("{case}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Every fixture of every component: (component id, case name, fixture).
pub fn all_fixtures() -> Vec<(String, String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for component in COMPONENTS {
        let mut cases: Vec<_> = std::fs::read_dir(root.join(component))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        cases.sort();
        for path in cases {
            let text = std::fs::read_to_string(&path).unwrap();
            let case = path.file_stem().unwrap().to_string_lossy().to_string();
            out.push((
                component.to_string(),
                case,
                serde_json::from_str(&text).unwrap(),
            ));
        }
    }
    out
}

/// Which of the contract's three shapes `output` has, or why it has none.
pub fn shape(output: &Value) -> Result<&'static str, String> {
    let object = output.as_object().ok_or("output is not an object")?;
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    if let Some(calls) = object.get("calls") {
        if keys != ["calls", "continuation"] && keys != ["calls"] {
            return Err(format!(
                "calls beside other keys than a continuation: {keys:?}"
            ));
        }
        let continuation = object.get("continuation").unwrap_or(&Value::Null);
        let well_formed = continuation["version"] == kustom::host::CONTINUATION_VERSION
            && continuation["component"].is_string()
            && continuation["learned"].is_array()
            && continuation["digest"].is_string();
        if !continuation.is_null() && !well_formed {
            return Err(format!("a continuation in another shape: {continuation}"));
        }
        let calls = calls.as_array().ok_or("calls is not a list")?;
        if calls.len() != 1 {
            return Err(format!("{} calls at once", calls.len()));
        }
        check_call(&calls[0])?;
        return Ok("calls");
    }
    if let Some(error) = object.get("error") {
        if keys != ["error"] {
            return Err(format!("error beside other keys: {keys:?}"));
        }
        let code = error["code"].as_str().ok_or("error without a code")?;
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            return Err(format!("error code {code:?} is not a CODE"));
        }
        error["message"].as_str().ok_or("error without a message")?;
        if error.as_object().unwrap().len() != 2 {
            return Err(format!("error has other fields: {error}"));
        }
        return Ok("error");
    }
    let effects = object
        .get("effects")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("neither calls, effects nor error: {keys:?}"))?;
    for key in &keys {
        if !["effects", "response", "log"].contains(key) {
            return Err(format!("done output with key {key:?}"));
        }
    }
    for effect in effects {
        check_effect(effect)?;
    }
    if let Some(response) = object.get("response") {
        let status = response["statusCode"]
            .as_u64()
            .ok_or("response without a statusCode")?;
        if !(200..=599).contains(&status) {
            return Err(format!("response status {status}"));
        }
        if response.get("content").is_none() {
            return Err("response without content".into());
        }
    }
    if let Some(log) = object.get("log") {
        let log = log.as_array().ok_or("log is not a list")?;
        if !log.iter().all(Value::is_string) {
            return Err("a log line is not text".into());
        }
    }
    Ok("done")
}

fn check_call(call: &Value) -> Result<(), String> {
    let text = |key: &str| {
        call[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{} call without {key}: {call}", call["call"]))
    };
    match call["call"].as_str() {
        Some("http") => check_kustom_request(call),
        Some("messageActor") => {
            text("actorType")?;
            text("actorId")?;
            call["messages"].as_array().ok_or("messages")?;
            Ok(())
        }
        Some("renderCart") => text("cartId").map(drop),
        Some("triggerHook") => text("hook").map(drop),
        Some("query") => {
            text("set")?;
            text("filter")?;
            Ok(())
        }
        _ => Err(format!("unknown call {call}")),
    }
}

fn check_effect(effect: &Value) -> Result<(), String> {
    match effect["effect"].as_str() {
        Some("scheduleJob") => {
            let at = effect["at"].as_str().ok_or("scheduleJob without at")?;
            check_instant(at)?;
            effect["definition"].as_str().ok_or("no definition")?;
            if !effect["parameters"].is_object() {
                return Err("scheduleJob parameters are not an object".into());
            }
            Ok(())
        }
        Some("ticketCommand") => check_ticket_command(effect),
        Some("messageActor") => {
            for key in ["actorType", "actorId", "messageType"] {
                effect[key]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| format!("messageActor effect without {key}"))?;
            }
            if effect["messageType"] == "applyCommands" {
                for command in effect["body"]["commands"].as_array().ok_or("no commands")? {
                    check_ticket_command(command)?;
                }
            }
            Ok(())
        }
        Some("validationError") => Ok(()),
        _ => Err(format!("unknown effect {effect}")),
    }
}

fn check_ticket_command(command: &Value) -> Result<(), String> {
    match command["type"].as_str() {
        Some("setDynamicFields") => command["fields"]
            .as_object()
            .map(drop)
            .ok_or_else(|| "setDynamicFields without fields".into()),
        Some("addActivityLog") => {
            command["messageTemplate"]
                .as_str()
                .ok_or("activity log without template")?;
            command["dynamic"]
                .as_object()
                .map(drop)
                .ok_or_else(|| "activity log without dynamic".into())
        }
        _ => Err(format!("unknown ticket command {command}")),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, four-digit year: what a scheduler parses.
pub fn check_instant(at: &str) -> Result<(), String> {
    let b = at.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    if ok {
        Ok(())
    } else {
        Err(format!("scheduleJob.at {at:?} is not YYYY-MM-DDTHH:MM:SSZ"))
    }
}

/// The text of everything a host logs or applies: the error, the log lines, the effects (and
/// an ingress's response, which the host sends to a browser or to Kustom).
pub fn visible_text(output: &Value) -> String {
    let mut visible = output.clone();
    if let Some(object) = visible.as_object_mut() {
        object.remove("calls");
    }
    visible.to_string()
}

/// Kustom's Checkout API (`kustom-checkout-api-openapi.yml`) and Order Management API
/// (`order-management-api-openapi.yml`) constraints on what the app sends, and §2.8's money
/// rules.
pub fn check_kustom_request(call: &Value) -> Result<(), String> {
    let url = call["url"].as_str().ok_or("http call without url")?;
    let loopback = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
    ]
    .iter()
    .any(|p| url.starts_with(p));
    if !url.starts_with("https://") && !loopback {
        return Err(format!("{url}: credentials would travel unencrypted"));
    }
    let authorization = call["headers"]["Authorization"]
        .as_str()
        .ok_or("no Authorization header")?;
    if !authorization.starts_with("Basic ") || authorization.len() <= 6 {
        return Err("Authorization is not Basic credentials".into());
    }
    if let Some(key) = call["headers"].get("Klarna-Idempotency-Key") {
        let key = key.as_str().ok_or("idempotency key not text")?;
        if key.len() != 36 || key.matches('-').count() != 4 {
            return Err(format!("idempotency key {key:?} is not UUID-shaped"));
        }
    }
    let method = call["method"].as_str().ok_or("no method")?;
    // After the base URL, which may carry a path of its own (a proxy's prefix).
    let path = ["/checkout/v3/", "/ordermanagement/v1/"]
        .iter()
        .filter_map(|api| url.find(api).map(|i| &url[i..]))
        .next()
        .ok_or_else(|| format!("{url}: not a Kustom API path"))?;
    let segments: Vec<&str> = path.split('/').collect();
    let order_id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 255
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let body = &call["body"];
    match (method, &segments[..]) {
        ("POST", ["", "checkout", "v3", "orders"]) => check_order(body, true),
        ("POST", ["", "checkout", "v3", "orders", id]) if order_id_ok(id) => {
            check_order(body, false)
        }
        ("GET", ["", "checkout", "v3", "orders", id])
        | ("GET", ["", "ordermanagement", "v1", "orders", id])
            if order_id_ok(id) =>
        {
            Ok(())
        }
        ("POST", ["", "ordermanagement", "v1", "orders", id, "acknowledge"])
        | ("POST", ["", "ordermanagement", "v1", "orders", id, "extend-authorization-time"])
            if order_id_ok(id) =>
        {
            Ok(())
        }
        ("POST", ["", "ordermanagement", "v1", "orders", id, "captures"]) if order_id_ok(id) => {
            check_capture(body)
        }
        ("POST", ["", "ordermanagement", "v1", "orders", id, "refunds"]) if order_id_ok(id) => {
            check_refund(body)
        }
        ("POST", ["", "ordermanagement", "v1", "orders", id, "cancel"])
        | (
            "POST",
            ["", "ordermanagement", "v1", "orders", id, "release-remaining-authorization"],
        ) if order_id_ok(id) => Ok(()),
        (
            "POST",
            ["", "ordermanagement", "v1", "orders", id, "captures", capture, "shipping-info"],
        ) if order_id_ok(id) && order_id_ok(capture) => {
            check_shipping_info(&body["shipping_info"], true)
        }
        ("PATCH", ["", "ordermanagement", "v1", "orders", id, "merchant-references"])
            if order_id_ok(id) =>
        {
            check_merchant_references(body)
        }
        _ => Err(format!(
            "{method} {url}: not a Kustom endpoint the app uses"
        )),
    }
}

fn int(value: &Value, path: &str) -> Result<i64, String> {
    value
        .as_i64()
        .ok_or_else(|| format!("{path} is not an integer: {value}"))
}

fn text_within(value: &Value, path: &str, min: usize, max: usize) -> Result<(), String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("{path} is not text: {value}"))?;
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(format!(
            "{path} has {chars} characters, Kustom takes {min}..={max}"
        ));
    }
    Ok(())
}

/// Checkout API `order` (create: the required fields too) and §2.8.
pub fn check_order(body: &Value, create: bool) -> Result<(), String> {
    let order = body.as_object().ok_or("order body is not an object")?;
    if create {
        for key in [
            "purchase_country",
            "purchase_currency",
            "locale",
            "order_amount",
            "order_lines",
            "merchant_urls",
        ] {
            if !order.contains_key(key) {
                return Err(format!("create without {key}"));
            }
        }
        let pattern = |value: &Value, path: &str, parts: usize| -> Result<(), String> {
            let text = value.as_str().ok_or_else(|| format!("{path} not text"))?;
            let ok = text.split('-').count() >= parts
                && text
                    .split('-')
                    .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()));
            if ok && (parts == 2 || text.len() == 2) {
                Ok(())
            } else {
                Err(format!("{path} {text:?} does not match Kustom's pattern"))
            }
        };
        pattern(&body["purchase_country"], "purchase_country", 1)?;
        pattern(&body["locale"], "locale", 2)?;
        let urls = body["merchant_urls"]
            .as_object()
            .ok_or("merchant_urls not an object")?;
        for key in ["terms", "checkout", "confirmation", "push"] {
            if !urls.contains_key(key) {
                return Err(format!("merchant_urls without {key}"));
            }
        }
        for (key, url) in urls {
            text_within(url, &format!("merchant_urls.{key}"), 0, 2000)?;
        }
        if let Some(reference) = order.get("merchant_reference1") {
            text_within(reference, "merchant_reference1", 0, 255)?;
        }
    }
    let currency = body["purchase_currency"]
        .as_str()
        .ok_or("no purchase_currency")?;
    if kustom::currency::minor_unit_exponent(&currency.to_ascii_uppercase()).is_none() {
        return Err(format!("purchase_currency {currency:?}"));
    }
    let lines = body["order_lines"].as_array().ok_or("no order_lines")?;
    if lines.len() > 1000 {
        return Err(format!("{} order lines", lines.len()));
    }
    let (mut amount, mut tax) = (0i64, 0i64);
    for (i, line) in lines.iter().enumerate() {
        let at = |field: &str| format!("order_lines[{i}].{field}");
        text_within(&line["name"], &at("name"), 1, 255)?;
        if let Some(reference) = line.get("reference") {
            text_within(reference, &at("reference"), 0, 255)?;
        }
        let kind = line["type"].as_str().unwrap_or("physical");
        let known = [
            "physical",
            "discount",
            "shipping_fee",
            "sales_tax",
            "digital",
            "gift_card",
            "store_credit",
            "surcharge",
        ];
        if !known.contains(&kind) {
            return Err(format!("{} {kind:?}", at("type")));
        }
        let quantity = int(&line["quantity"], &at("quantity"))?;
        let unit_price = int(&line["unit_price"], &at("unit_price"))?;
        let rate = int(&line["tax_rate"], &at("tax_rate"))?;
        let total = int(&line["total_amount"], &at("total_amount"))?;
        let discount = int(
            line.get("total_discount_amount").unwrap_or(&json!(0)),
            &at("total_discount_amount"),
        )?;
        let line_tax = int(&line["total_tax_amount"], &at("total_tax_amount"))?;
        if quantity < 0 || discount < 0 || !(0..=10_000).contains(&rate) {
            return Err(format!(
                "order_lines[{i}]: quantity, discount or rate out of range"
            ));
        }
        if unit_price > 100_000_000 || total > 100_000_000 {
            return Err(format!("order_lines[{i}]: amount above Kustom's maximum"));
        }
        if i128::from(quantity) * i128::from(unit_price) - i128::from(discount) != i128::from(total)
        {
            return Err(format!(
                "order_lines[{i}]: total ≠ quantity × unit_price − discount"
            ));
        }
        // Tax included: total × rate / (10000 + rate), to the unit.
        let expected = i128::from(total) * i128::from(rate);
        let divisor = i128::from(10_000 + rate);
        let lowest = expected.div_euclid(divisor);
        if !(lowest..=lowest + 1).contains(&i128::from(line_tax)) {
            return Err(format!(
                "order_lines[{i}]: total_tax_amount {line_tax} is not {total} at {rate}"
            ));
        }
        amount += total;
        tax += if kind == "sales_tax" { total } else { line_tax };
    }
    let order_amount = int(&body["order_amount"], "order_amount")?;
    if order_amount < 0 || order_amount != amount {
        return Err(format!(
            "order_amount {order_amount} ≠ Σ total_amount {amount}"
        ));
    }
    if let Some(order_tax) = order.get("order_tax_amount") {
        let order_tax = int(order_tax, "order_tax_amount")?;
        if order_tax != tax {
            return Err(format!("order_tax_amount {order_tax} ≠ Σ tax {tax}"));
        }
    }
    Ok(())
}

/// Order Management `CaptureObject`.
pub fn check_capture(body: &Value) -> Result<(), String> {
    let amount = int(&body["captured_amount"], "captured_amount")?;
    if !(1..=200_000_000).contains(&amount) {
        return Err(format!("captured_amount {amount}"));
    }
    if let Some(reference) = body.get("reference") {
        text_within(reference, "reference", 0, 255)?;
    }
    if let Some(info) = body.get("shipping_info") {
        check_shipping_info(info, false)?;
    }
    Ok(())
}

/// Order Management `refund`: a whole positive amount within its schema, a short reference.
pub fn check_refund(body: &Value) -> Result<(), String> {
    let amount = int(&body["refunded_amount"], "refunded_amount")?;
    if !(1..=200_000_000).contains(&amount) {
        return Err(format!("refunded_amount {amount}"));
    }
    if let Some(reference) = body.get("reference") {
        text_within(reference, "reference", 0, 255)?;
    }
    Ok(())
}

/// Order Management `shipping_info` entries: carrier and number 1..=100 characters, at most
/// 500 entries (and at least one when the body is only that).
pub fn check_shipping_info(info: &Value, required: bool) -> Result<(), String> {
    let entries = info.as_array().ok_or("shipping_info is not a list")?;
    if entries.len() > 500 || (required && entries.is_empty()) {
        return Err(format!("shipping_info has {} entries", entries.len()));
    }
    for (index, entry) in entries.iter().enumerate() {
        text_within(
            &entry["shipping_company"],
            &format!("shipping_info[{index}].shipping_company"),
            1,
            100,
        )?;
        text_within(
            &entry["tracking_number"],
            &format!("shipping_info[{index}].tracking_number"),
            1,
            100,
        )?;
        if let Some(uri) = entry.get("tracking_uri") {
            text_within(
                uri,
                &format!("shipping_info[{index}].tracking_uri"),
                1,
                1024,
            )?;
        }
    }
    Ok(())
}

/// Order Management `Update merchant references`: an object of `merchant_reference1` and
/// `merchant_reference2` only, each text of at most 255 characters. The app also never sends
/// an empty reference 1 or one with control characters (Kustom shows it to the customer).
pub fn check_merchant_references(body: &Value) -> Result<(), String> {
    let references = body
        .as_object()
        .ok_or("merchant references body is not an object")?;
    for (key, value) in references {
        if key != "merchant_reference1" && key != "merchant_reference2" {
            return Err(format!("merchant references: unknown key {key}"));
        }
        text_within(value, key, 0, 255)?;
    }
    let first = references
        .get("merchant_reference1")
        .and_then(Value::as_str)
        .ok_or("merchant references without merchant_reference1")?;
    if first.trim().is_empty() || first.chars().any(char::is_control) {
        return Err(format!("merchant_reference1 {first:?} is not clean text"));
    }
    Ok(())
}

/// Runs `component` on `input` and checks the output whatever it is; `secret` is text that
/// must not be visible in it (a setting's value).
pub fn check_output(component: &str, input: &Value, secrets: &[String]) -> Result<Value, String> {
    let output = try_run(component, input)?;
    let kind = shape(&output).map_err(|e| format!("{component}: {e}\noutput: {output}"))?;
    let visible = visible_text(&output).to_lowercase();
    for secret in secrets {
        if visible.contains(&secret.to_lowercase()) {
            return Err(format!(
                "{component}: setting value {secret:?} is visible ({kind}): {output}"
            ));
        }
    }
    Ok(output)
}
