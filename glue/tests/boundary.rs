//! What only a JS engine can show about the boundary (`component_glue::run`): JS values that
//! cannot become JSON (BigInt, cycles, symbols, functions), values that fight back while being
//! read (a getter or `toJSON` that throws — `null`, `undefined`, a Proxy whose every trap
//! throws), lone surrogates, nesting deeper than the engine's stack. Each must come back as an
//! answer: `BAD_INPUT` with a message, or the component run on what JSON could carry; never a
//! throw, never a trap.
//!
//! Runs under Node: `cargo test -p component-glue --target wasm32-unknown-unknown` with
//! `wasm-bindgen-test-runner` as the target's runner (scripts/test.sh sets it).
#![cfg(target_arch = "wasm32")]

use kustom::host::Output;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
export function hostile(name) {
  const throwing = (thrown) => ({ toJSON() { throw thrown; } });
  switch (name) {
    case "bigint": return { amount: 10n };
    case "cycle": { const o = { a: 1 }; o.self = o; return o; }
    case "thrown null": return throwing(null);
    case "thrown undefined": return throwing(undefined);
    case "thrown string": return throwing("a string was thrown");
    case "thrown error": return throwing(new RangeError("toJSON failed"));
    case "thrown symbol": return throwing(Symbol("s"));
    case "thrown proxy": return throwing(new Proxy({}, { get() { throw null; }, getPrototypeOf() { throw null; } }));
    case "message getter throws": return throwing(Object.defineProperty({}, "message", { get() { throw null; } }));
    case "getter throws null": return Object.defineProperty({}, "cart", { enumerable: true, get() { throw null; } });
    case "proxy ownKeys throws": return new Proxy({}, { ownKeys() { throw null; } });
    case "deep": { let v = 1; for (let i = 0; i < 100000; i++) v = [v]; return v; }
    case "lone high surrogate": return { text: "a\ud83db" };
    case "lone low surrogate key": return { ["\udc00"]: "x" };
    case "pair": return { text: "\ud83d\ude00" };
    case "non-finite": return { a: NaN, b: Infinity, c: undefined, d: () => 1 };
    case "undefined": return undefined;
    case "function": return () => 1;
    case "symbol": return Symbol("s");
    default: throw new Error("no hostile value " + name);
  }
}
export function text_of(value) { return JSON.stringify(value); }
"#)]
extern "C" {
    fn hostile(name: &str) -> JsValue;
    fn text_of(value: &JsValue) -> String;
}

/// A component that answers with the input it was given, as its one log line.
fn echo(input: &Value) -> Output {
    Output::done(vec![], vec![serde_json::to_string(input).unwrap()])
}

fn run(name: &str) -> Value {
    let output = component_glue::run(hostile(name), echo);
    serde_json::from_str(&text_of(&output)).expect("the output is JSON")
}

fn refused(name: &str) -> String {
    let output = run(name);
    assert_eq!(output["error"]["code"], "BAD_INPUT", "{name}: {output}");
    output["error"]["message"].as_str().unwrap().to_string()
}

fn echoed(name: &str) -> Value {
    let output = run(name);
    let line = output["log"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {output}"));
    serde_json::from_str(line).unwrap()
}

#[wasm_bindgen_test]
fn values_json_cannot_carry_are_bad_input() {
    for name in ["bigint", "cycle"] {
        assert!(
            refused(name).contains("cannot be written as JSON"),
            "{name}"
        );
    }
    for name in ["undefined", "function", "symbol"] {
        assert!(refused(name).contains("not a JSON value"), "{name}");
    }
}

#[wasm_bindgen_test]
fn whatever_is_thrown_while_reading_the_input_is_bad_input_not_a_throw() {
    for name in [
        "thrown null",
        "thrown undefined",
        "thrown string",
        "thrown error",
        "thrown symbol",
        "thrown proxy",
        "message getter throws",
        "getter throws null",
        "proxy ownKeys throws",
    ] {
        let message = refused(name);
        assert!(
            message.contains("cannot be written as JSON"),
            "{name}: {message}"
        );
    }
    assert!(refused("thrown error").contains("toJSON failed"));
    assert!(refused("thrown string").contains("a string was thrown"));
}

#[wasm_bindgen_test]
fn nesting_deeper_than_the_engines_stack_is_bad_input() {
    refused("deep");
}

#[wasm_bindgen_test]
fn lone_surrogates_become_replacement_characters() {
    assert_eq!(echoed("lone high surrogate")["text"], "a\u{fffd}b");
    assert_eq!(echoed("lone low surrogate key")["\u{fffd}"], "x");
    assert_eq!(echoed("pair")["text"], "😀");
}

#[wasm_bindgen_test]
fn what_json_cannot_say_arrives_as_json_says_it() {
    assert_eq!(
        echoed("non-finite"),
        serde_json::json!({"a": null, "b": null})
    );
}
