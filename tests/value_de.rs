//! `value_de` must read every input exactly as serde_json's `&Value` deserializer under
//! `serde_path_to_error` did (what the app used before): same values, same error messages, same
//! error paths. Checked on the inputs of every fixture, and on each of them with every value in
//! it replaced by values of other kinds, or removed.

use kustom::cart::RenderedCart;
use kustom::decimal::Decimal;
use kustom::host::{Envelope, RawHttpReply};
use kustom::kustom::{CheckoutOrder, OmOrder};
use kustom::payload::CartPayload;
use kustom::settings::Settings;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;

/// `Ok(Debug of the value)` or `Err((path, message))`, with the root path as `""`.
fn ours<T: DeserializeOwned + Debug>(value: &Value) -> Result<String, (String, String)> {
    kustom::value_de::from_value::<T>(value)
        .map(|t| format!("{t:?}"))
        .map_err(|err| (err.path().to_string(), err.message().to_string()))
}

fn before<T: DeserializeOwned + Debug>(value: &Value) -> Result<String, (String, String)> {
    serde_path_to_error::deserialize::<_, T>(value)
        .map(|t| format!("{t:?}"))
        .map_err(|err| {
            let path = err.path().to_string();
            let path = if path == "." { String::new() } else { path };
            (path, err.into_inner().to_string())
        })
}

fn compare<T: DeserializeOwned + Debug>(value: &Value) -> usize {
    let (ours, before) = (ours::<T>(value), before::<T>(value));
    assert_eq!(ours, before, "{} from {value}", std::any::type_name::<T>());
    usize::from(ours.is_err())
}

fn compare_all(value: &Value) -> usize {
    compare::<Envelope>(value)
        + compare::<Settings>(value)
        + compare::<RenderedCart>(value)
        + compare::<RawHttpReply>(value)
        + compare::<CheckoutOrder>(value)
        + compare::<OmOrder>(value)
        + compare::<CartPayload>(value)
        + compare::<Decimal>(value)
        + compare::<Vec<Decimal>>(value)
        + compare::<Option<Vec<Option<u16>>>>(value)
}

/// The value, and the value with each of its parts replaced or removed.
fn mutations(seed: &Value) -> Vec<Value> {
    let replacements = [
        json!(null),
        json!(true),
        json!(7),
        json!(-7),
        json!(70000),
        json!(1.5),
        json!(1e300),
        json!(1024.0 + 1.0 / 16384.0),
        json!(""),
        json!("12.50"),
        json!("open"),
        json!("paid"),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!({"open": null}),
        json!({"a": 1, "b": 2}),
    ];
    let mut pointers = Vec::new();
    collect_pointers(seed, String::new(), &mut pointers);
    let mut out = vec![seed.clone()];
    for pointer in &pointers {
        for replacement in &replacements {
            let mut mutated = seed.clone();
            *mutated.pointer_mut(pointer).unwrap() = replacement.clone();
            out.push(mutated);
        }
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            let mut mutated = seed.clone();
            match mutated.pointer_mut(parent).unwrap() {
                Value::Object(object) => {
                    object.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Value::Array(array) => {
                    array.remove(key.parse::<usize>().unwrap());
                }
                _ => unreachable!(),
            }
            out.push(mutated);
        }
    }
    out
}

fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect_pointers(value, format!("{at}/{key}"), out);
            }
        }
        Value::Array(array) => {
            for (index, value) in array.iter().enumerate() {
                collect_pointers(value, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// What the components parse: the whole input, its cart and settings, every reply and every
/// reply's body.
fn seeds() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = BTreeSet::new();
    let mut seeds = Vec::new();
    let mut add = |value: &Value| {
        if seen.insert(value.to_string()) {
            seeds.push(value.clone());
        }
    };
    for kind in std::fs::read_dir(root).unwrap().flatten() {
        for component in std::fs::read_dir(kind.path()).unwrap().flatten() {
            for case in std::fs::read_dir(component.path()).unwrap().flatten() {
                let text = std::fs::read_to_string(case.path()).unwrap();
                let fixture: Value = serde_json::from_str(&text).unwrap();
                let input = &fixture["input"];
                add(input);
                for part in ["cart", "settings", "payment", "capture"] {
                    if let Some(part) = input.get(part) {
                        add(part);
                    }
                }
                for reply in input["replies"].as_array().into_iter().flatten() {
                    add(reply);
                    match reply.get("body") {
                        Some(Value::String(text)) => {
                            if let Ok(body) = serde_json::from_str::<Value>(text) {
                                add(&body);
                            }
                        }
                        Some(body) => add(body),
                        None => {}
                    }
                }
            }
        }
    }
    seeds
}

#[test]
fn fixture_inputs_read_the_same() {
    let seeds = seeds();
    assert!(seeds.len() > 50, "found {} seeds", seeds.len());
    for seed in &seeds {
        compare_all(seed);
    }
}

#[test]
fn mutated_fixture_inputs_read_the_same() {
    let mut errors = 0;
    let mut values = 0;
    // The whole inputs are covered part by part: their carts, settings and replies are seeds too.
    for seed in seeds().iter().filter(|seed| seed.get("now").is_none()) {
        for value in mutations(seed) {
            errors += compare_all(&value);
            values += 1;
        }
    }
    assert!(
        values > 10_000 && errors > values,
        "{values} values, {errors} errors"
    );
}

#[test]
fn envelopes_read_the_same() {
    // The whole input, mutated at its top level and in its replies' top level only.
    let seeds = seeds();
    for seed in seeds.iter().filter(|seed| seed.get("now").is_some()) {
        let mut shallow = seed.clone();
        if let Some(replies) = shallow.get_mut("replies").and_then(Value::as_array_mut) {
            for reply in replies {
                *reply = json!({"status": 200});
            }
        }
        for value in mutations(&shallow) {
            compare::<Envelope>(&value);
        }
    }
}
