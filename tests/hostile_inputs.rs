//! One test per class of hostile input that once trapped a module, leaked a secret or sent
//! Kustom something it refuses (issue 13). Each states the class, not only the example that
//! found it; the fuzzers (`tests/fuzz_components.rs`, `tests/wasm/hostile-js.test.mjs`) search
//! the same classes at random.

mod support;

use serde_json::{json, Value};
use support::{check_instant, check_kustom_request, check_output, fixture, run, shape};

/// The fixture that has a component at its most complete step: its input, replies included.
fn input_of(component: &str, case: &str) -> Value {
    fixture(component, case)["input"].clone()
}

/// Multi-byte characters where a timestamp's ASCII bytes are expected, at every position where
/// the parser slices, in every component that reads an instant: an answer, never a trap.
#[test]
fn timestamps_with_multi_byte_characters_are_refused_not_trapped_on() {
    let mut bad = Vec::new();
    for base in ["2026-11-25T09:30:00Z", "2026-11-25T09:30:00.250+01:00"] {
        for at in 0..=base.len() {
            for insert in ["é", "€", "𝄞", "\u{0}"] {
                // inserted, cut after, and in place of as many bytes (same length)
                bad.push(format!("{}{insert}{}", &base[..at], &base[at..]));
                bad.push(format!("{}{insert}", &base[..at]));
                if let Some(rest) = base.get(at + insert.len()..) {
                    bad.push(format!("{}{insert}{rest}", &base[..at]));
                }
            }
        }
    }
    bad.extend(
        [
            "2026-11-25T09:30:00é",
            "2026-11-25T09:30:00é1:00",
            "2026-11-25T09:30:00+0é00",
            "2026-11-25T09:30:00+é1:00",
            "2026-11-25T09:30:00+01é00",
            "2026-11-25T09:30:00.é",
            "2026-11-25T09:30:00.1€",
            "2026-11-25T09:30:0€Z",
        ]
        .map(String::from),
    );
    let components = [
        ("rules/cart-kustom-sync", "new-order-schedules-sync"),
        (
            "jobs/sync-kustom-order",
            "11-server-error-retries-with-backoff",
        ),
        ("rules/capture", "pending-kustom-capture-schedules-job"),
        (
            "jobs/capture-order",
            "16-extends-an-expiring-authorization-first",
        ),
    ];
    for (component, case) in components {
        for now in &bad {
            let mut input = input_of(component, case);
            input["now"] = json!(now);
            let output = check_output(component, &input, &[]).unwrap();
            assert_eq!(
                output["error"]["code"], "BAD_INPUT",
                "{component} {now:?}: {output}"
            );
        }
    }
    // Kustom's own `expires_at`, read by the capture job.
    for at in &bad {
        let mut input = input_of(
            "jobs/capture-order",
            "16-extends-an-expiring-authorization-first",
        );
        input["replies"][1]["body"]["expires_at"] = json!(at);
        check_output("jobs/capture-order", &input, &[]).unwrap();
    }
}

/// Whatever instant the host sends, a scheduled job's `at` has a four-digit year: the offsets
/// and the retry delays cannot push it below year 0 or past 9999.
#[test]
fn scheduled_instants_always_have_four_digit_years() {
    let edges = [
        "0000-01-01T00:00:00+01:00",
        "0000-01-01T00:00:00Z",
        "0000-03-01T00:00:00+23:59",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:60-01:00",
        "1969-12-31T23:59:59Z",
    ];
    let components = [
        ("rules/cart-kustom-sync", "new-order-schedules-sync"),
        (
            "jobs/sync-kustom-order",
            "11-server-error-retries-with-backoff",
        ),
        ("rules/capture", "pending-kustom-capture-schedules-job"),
        ("jobs/capture-order", "21-timeout-retries-in-5-s"),
    ];
    for (component, case) in components {
        for now in edges {
            let mut input = input_of(component, case);
            input["now"] = json!(now);
            let output = check_output(component, &input, &[]).unwrap();
            for effect in output["effects"].as_array().into_iter().flatten() {
                if let Some(at) = effect["at"].as_str() {
                    check_instant(at).unwrap_or_else(|e| panic!("{component} {now}: {e}"));
                }
            }
        }
    }
}

/// Counters from a job's parameters at the top of their range: no overflow (on wasm32 a
/// `usize` is 32 bits; the Node suite runs the same against the built modules).
#[test]
fn retry_counters_at_their_maximum_give_up_cleanly() {
    for attempt in [4, 5, 6, u32::MAX - 1, u32::MAX] {
        let mut input = input_of(
            "jobs/sync-kustom-order",
            "11-server-error-retries-with-backoff",
        );
        input["attempt"] = json!(attempt);
        let output = check_output("jobs/sync-kustom-order", &input, &[]).unwrap();
        assert!(output["effects"].is_array(), "{attempt}: {output}");
        let mut input = input_of("jobs/capture-order", "21-timeout-retries-in-5-s");
        input["attempt"] = json!(attempt);
        input["reviewChecks"] = json!(attempt);
        check_output("jobs/capture-order", &input, &[]).unwrap();
    }
}

/// A setting's value never appears in an error, a log line or an effect, whatever its type and
/// whatever is wrong with it: API keys and passwords would land in the host's logs.
#[test]
fn no_setting_value_is_ever_quoted() {
    let secret = "SeCrEt-7f3a9c-do-not-log";
    let wrong_values = [
        json!(secret),
        json!(format!("  {secret}  ")),
        json!(31_415_926_535u64),
        json!(-27_182_818_284i64),
        json!(1.6180339887),
        json!(true),
        json!([secret]),
        json!({"value": secret}),
        json!(format!("http://{secret}.example")),
        json!(format!("https://{secret}.example/{}", "p".repeat(2100))),
    ];
    let visible = |value: &Value| -> Vec<String> {
        match value {
            Value::String(s) => vec![s.trim().to_string()],
            Value::Number(n) => vec![n.to_string()],
            _ => vec![secret.to_string()],
        }
    };
    for (component, fixture_case) in [
        ("rules/cart-kustom-sync", "new-order-schedules-sync"),
        (
            "jobs/sync-kustom-order",
            "11-server-error-retries-with-backoff",
        ),
        ("ingresses/checkout", "02-creates-the-order"),
        ("ingresses/confirm", "08-answers-complete"),
        ("ingresses/webhook", "08-acknowledged-answers-200"),
        ("jobs/capture-order", "17-captures-after-extending"),
    ] {
        for key in [
            "apiKey",
            "username",
            "password",
            "environment",
            "apiBaseUrl",
            "publicBaseUrl",
        ] {
            for value in &wrong_values {
                let mut input = input_of(component, fixture_case);
                input["settings"][key] = value.clone();
                if key == "password" {
                    // Both set is itself an error: make sure that one does not quote either.
                    input["settings"]["username"] = json!("K123-user");
                }
                check_output(component, &input, &visible(value))
                    .unwrap_or_else(|e| panic!("settings.{key} = {value}: {e}"));
            }
            // Settings that are not an object at all.
            let mut input = input_of(component, fixture_case);
            input["settings"] = json!(secret);
            check_output(component, &input, &[secret.to_string()]).unwrap();
        }
    }
}

/// The credentials travel in the `Authorization` header: never over plain http, except to the
/// loopback (a local emulator).
#[test]
fn api_base_urls_must_be_https_except_on_the_loopback() {
    let refused = [
        "http://api.kustom.co",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example:80",
        "HTTP://api.kustom.co",
        "ftp://api.kustom.co",
        "https://",
        "api.kustom.co",
        "https://api.kustom.co/ path",
        "https://api.kustom.co?x=1",
        "https://api.kustom.co#frag",
    ];
    for url in refused {
        for (component, case) in [
            ("jobs/sync-kustom-order", "01-reads-the-cart-first"),
            ("ingresses/confirm", "01-renders-the-cart"),
            ("ingresses/checkout", "01-renders-the-cart"),
            ("jobs/capture-order", "01-reads-the-payment"),
        ] {
            // Run to the first Kustom call: every earlier reply is the fixture's.
            let full = match component {
                "jobs/sync-kustom-order" => "02-pushes-its-payload",
                "ingresses/confirm" => "02-reads-the-kustom-order",
                "ingresses/checkout" => "02-creates-the-order",
                _ => "02-reads-the-kustom-order",
            };
            let _ = case;
            let mut input = input_of(component, full);
            input["settings"]["apiBaseUrl"] = json!(url);
            let output = check_output(component, &input, &[url.to_string()]).unwrap();
            assert_eq!(
                output["error"]["code"], "BAD_SETTINGS",
                "{component} with {url}: {output}"
            );
        }
    }
    for url in [
        "http://127.0.0.1:8787",
        "http://localhost:8787/",
        "https://api.playground.kustom.co",
    ] {
        let mut input = input_of("jobs/sync-kustom-order", "02-pushes-its-payload");
        input["settings"]["apiBaseUrl"] = json!(url);
        let output = run("jobs/sync-kustom-order", &input);
        let call = &output["calls"][0];
        assert!(
            call["url"]
                .as_str()
                .unwrap()
                .starts_with(url.trim_end_matches('/')),
            "{output}"
        );
        check_kustom_request(call).unwrap();
    }
}

/// Every line sent to Kustom has a name of 1 to 255 characters, whatever the item carries.
#[test]
fn every_line_has_a_name_kustom_accepts() {
    for (product_number, description) in [
        (json!(""), Value::Null),
        (json!(""), json!("")),
        (json!("   "), json!("  \t ")),
        (json!(""), json!("\u{200b}")),
        (json!("x".repeat(300)), Value::Null),
        (json!(""), json!("é".repeat(300))),
    ] {
        let mut input = input_of("ingresses/checkout", "02-creates-the-order");
        let cart = &mut input["replies"][0];
        cart["items"][0]["productNumber"] = product_number.clone();
        cart["items"][0]["description"] = description.clone();
        let output = run("ingresses/checkout", &input);
        let call = &output["calls"][0];
        assert_eq!(call["call"], "http", "{output}");
        check_kustom_request(call)
            .unwrap_or_else(|e| panic!("{product_number} {description}: {e}"));
    }
}

/// Every URL and id the app builds from settings or input stays within Kustom's limits once
/// composed (a base URL that passes its own check grows by the paths appended to it).
#[test]
fn composed_urls_and_ids_stay_within_kustoms_limits() {
    for length in [1900, 1950, 1990, 2000, 2001, 5000] {
        let mut input = input_of("ingresses/checkout", "02-creates-the-order");
        let base = format!("https://shop.example/{}", "a".repeat(length - 21));
        input["settings"]["publicBaseUrl"] = json!(base);
        let output =
            check_output("ingresses/checkout", &input, std::slice::from_ref(&base)).unwrap();
        match shape(&output).unwrap() {
            "calls" => check_kustom_request(&output["calls"][0]).unwrap(),
            "error" => assert_eq!(output["error"]["code"], "BAD_SETTINGS", "{output}"),
            other => panic!("{length}: {other}: {output}"),
        }
    }
    // A cart id longer than merchant_reference1 takes.
    let mut input = input_of("ingresses/checkout", "02-creates-the-order");
    input["replies"][0]["cartId"] = json!("c".repeat(300));
    let output = run("ingresses/checkout", &input);
    if let Some(call) = output["calls"].get(0) {
        check_kustom_request(call).unwrap();
    }
    // A capture reference longer than Kustom's 255, and an amount above its capture maximum.
    for (key, value) in [
        ("paymentCaptureId", json!("p".repeat(256))),
        ("amount", json!(2_000_001)),
    ] {
        let mut input = input_of("jobs/capture-order", "17-captures-after-extending");
        input[key] = value.clone();
        if key == "paymentCaptureId" {
            input["replies"][0]["data"]["query"]["captures"][0]["paymentCaptureId"] = value.clone();
        } else {
            input["replies"][0]["data"]["query"]["captures"][0]["remainingAmount"] = value.clone();
            input["replies"][1]["body"]["remaining_authorized_amount"] = json!(300_000_000);
        }
        let output = run("jobs/capture-order", &input);
        if let Some(call) = output["calls"].get(0) {
            check_kustom_request(call).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
    }
}

/// A sync job sends the payload of its parameters, or the one stored on the cart: both come
/// from outside the job. A payload Kustom would refuse is never sent, even when its hash fits.
#[test]
fn a_payload_kustom_would_refuse_is_never_pushed() {
    let spoil: [fn(&mut Value); 6] = [
        |p| p["order_amount"] = json!(p["order_amount"].as_i64().unwrap() + 1),
        |p| p["order_lines"][0]["name"] = json!(""),
        |p| p["order_lines"][0]["total_tax_amount"] = json!(1),
        |p| p["order_lines"][0]["tax_rate"] = json!(10_001),
        |p| p["order_lines"][0]["reference"] = json!("r".repeat(300)),
        |p| p["order_lines"][0]["total_discount_amount"] = json!(-1),
    ];
    for spoil in spoil {
        // The job pushes the payload stored on the cart beside the pending hash.
        let mut input = input_of("jobs/sync-kustom-order", "02-pushes-its-payload");
        let dynamic = &mut input["replies"][0]["data"]["query"]["dynamic"];
        spoil(&mut dynamic["kustomPendingPayload"]);
        let payload: kustom::payload::CartPayload =
            serde_json::from_value(dynamic["kustomPendingPayload"].clone()).unwrap();
        let hash = kustom::hash::payload_hash(&payload);
        dynamic["field:kustomPendingHash"] = json!(hash);
        input["hash"] = json!(hash);
        let output = check_output("jobs/sync-kustom-order", &input, &[]).unwrap();
        if let Some(call) = output["calls"].get(0) {
            check_kustom_request(call).unwrap_or_else(|e| panic!("{e}: {output}"));
        }
    }
}

/// Kustom's own line types the app never sends (`digital`, `store_credit`, and any it adds
/// later), extra fields, absent optional fields: the completion path decides on status, amount
/// and currency only, and completes.
#[test]
fn orders_with_lines_the_app_does_not_know_complete() {
    let extend = |order: &mut Value| {
        let lines = order["order_lines"].as_array_mut().unwrap();
        for line in lines.iter_mut() {
            line.as_object_mut()
                .unwrap()
                .remove("total_discount_amount");
            line["product_identifiers"] = json!({"brand": "Acme"});
        }
        lines[0]["type"] = json!("digital");
        lines[1]["type"] = json!("store_credit");
        lines[2]["type"] = json!("a_type_kustom_adds_in_2030");
        order["attachment"] =
            json!({"body": "{}", "content_type": "application/vnd.klarna.internal.emd-v2+json"});
    };
    // Confirm: the Kustom order read is the second reply.
    let mut input = input_of("ingresses/confirm", "08-answers-complete");
    extend(&mut input["replies"][1]["body"]);
    let output = run("ingresses/confirm", &input);
    assert_eq!(output["response"]["statusCode"], 200, "{output}");
    assert_eq!(output["response"]["content"]["status"], "checkout_complete");
    // Webhook: found by merchant_reference1 in an order with such lines.
    let mut input = input_of("ingresses/webhook", "05-renders-the-referenced-cart");
    extend(&mut input["replies"][1]["body"]);
    let output = run("ingresses/webhook", &input);
    assert_eq!(output["calls"][0]["call"], "renderCart", "{output}");
    // Validate: an order the app did not build is not approved, and not an error either.
    let mut input = input_of("ingresses/validate", "03-approves");
    extend(&mut input["body"]);
    let output = run("ingresses/validate", &input);
    assert_eq!(output["response"]["statusCode"], 400, "{output}");
}

/// Integers from outside at the edges of their type (`i64::MIN`, whose negation overflows;
/// `u64::MAX`) wherever the app reads one: an answer, never a panic (found by the fuzzer).
#[test]
fn integers_at_the_edges_of_their_type_are_answered_not_trapped_on() {
    for value in [json!(i64::MIN), json!(i64::MAX), json!(u64::MAX), json!(-1)] {
        for field in [
            "unit_price",
            "total_amount",
            "total_tax_amount",
            "total_discount_amount",
            "quantity",
            "tax_rate",
        ] {
            // The job pushes the payload stored on the cart beside the pending hash.
            let mut input = input_of("jobs/sync-kustom-order", "02-pushes-its-payload");
            let dynamic = &mut input["replies"][0]["data"]["query"]["dynamic"];
            dynamic["kustomPendingPayload"]["order_lines"][0][field] = value.clone();
            if let Ok(payload) = serde_json::from_value::<kustom::payload::CartPayload>(
                dynamic["kustomPendingPayload"].clone(),
            ) {
                let hash = kustom::hash::payload_hash(&payload);
                dynamic["field:kustomPendingHash"] = json!(hash);
                input["hash"] = json!(hash);
            }
            let output = check_output("jobs/sync-kustom-order", &input, &[])
                .unwrap_or_else(|e| panic!("{field} = {value}: {e}"));
            assert!(output.get("calls").is_none(), "{field} = {value}: {output}");
        }
    }
}
