//! The wasm boundary every component crate shares, so that each of them is three lines.
//!
//! Hosts pass and receive plain JS values. Inside, the value crosses as JSON text: the engine's
//! own `JSON.stringify` turns the host's object into one string, the module parses it with
//! serde_json (exactly as the native tests do), runs the component, prints its output as JSON,
//! and the engine's `JSON.parse` hands the host a plain object. Measured against walking the JS
//! object field by field with serde-wasm-bindgen, this is faster for every cart size and the
//! module is smaller (bench/run.mjs prints both).
//!
//! JSON text has no `NaN`, `Infinity` or `undefined`: they arrive as `null` or not at all, and
//! the component refuses them as bad input. A value `JSON.stringify` cannot print (a `BigInt`, a
//! cycle, a getter or `toJSON` that throws — anything, `null` included) is refused with
//! `BAD_INPUT` too; nothing traps and nothing is thrown back at the host. A lone surrogate in a
//! string (which `JSON.stringify` prints as an escape JSON parsers refuse) becomes U+FFFD, as a
//! `TextEncoder` makes of it, instead of refusing the whole input.

pub mod arena;

use kustom::error::{AppError, Code};
use kustom::host::Output;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

// The engine functions the boundary calls, imported here rather than through js-sys, whose
// thousands of bindings leave their closure shims in every module.
#[wasm_bindgen]
extern "C" {
    /// `JSON.stringify(value)`: a string, or `undefined` (for `undefined` or a function); throws
    /// for a value it cannot print.
    #[wasm_bindgen(catch, js_namespace = JSON)]
    fn stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = JSON)]
    fn parse(text: &str) -> Result<JsValue, JsValue>;

    /// `Reflect.get(target, key)`: throws for a target that is not an object (a thrown `null`,
    /// a string) and when a getter or a Proxy trap throws; both are caught.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = get)]
    fn reflect_get(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;

    /// The engine's UTF-8 encoder (the one wasm-bindgen's own glue uses).
    type TextEncoder;

    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;

    /// `encoder.encode(text)`: the bytes arrive in one native copy. Taking the text as a Rust
    /// string instead goes through wasm-bindgen's character-by-character loop for ASCII, which
    /// was 8 % of the 250-line sync rule's time.
    #[wasm_bindgen(method)]
    fn encode(this: &TextEncoder, text: &JsValue) -> Vec<u8>;
}

pub type Component = fn(&serde_json::Value) -> Output;

pub fn run(input: JsValue, component: Component) -> JsValue {
    let text = match input_text(&input) {
        // Pure from here to the output text: no JS is called while the run's region serves
        // allocations (see `arena`).
        Ok(text) => arena::scoped(|| match parse_input(&text) {
            Ok(input) => {
                let output = component(&input);
                let text = output.to_json_text();
                arena::release(output);
                arena::release(input);
                text
            }
            Err(err) => bad_input(format!("input is not JSON: {err}")).to_json_text(),
        }),
        Err(message) => bad_input(message).to_json_text(),
    };
    parse(&text).unwrap_or(JsValue::NULL)
}

/// The input's tree. serde_json refuses the escape `JSON.stringify` prints for a lone surrogate;
/// only then is the text searched for them (a search of every input was 3 % of the sync rule's
/// time), each made U+FFFD, as a `TextEncoder` makes of it, and parsed again.
fn parse_input(text: &str) -> serde_json::Result<serde_json::Value> {
    serde_json::from_str(text).or_else(|err| match kustom::js_text::replace_lone_surrogates(text) {
        std::borrow::Cow::Owned(replaced) => serde_json::from_str(&replaced),
        std::borrow::Cow::Borrowed(_) => Err(err),
    })
}

/// The input as JSON text, UTF-8 encoded.
fn input_text(input: &JsValue) -> Result<String, String> {
    let text = stringify(input)
        .map_err(|err| format!("input cannot be written as JSON: {}", describe(&err)))?;
    // `JSON.stringify(undefined)` (or of a function) is `undefined`, not a string.
    if !text.is_string() {
        return Err("input is not a JSON value (undefined or a function)".to_string());
    }
    // Always UTF-8; checked anyway rather than trusted (`from_slice` would link a second parser).
    String::from_utf8(TextEncoder::new().encode(&text))
        .map_err(|_| "input is not UTF-8 text".to_string())
}

/// What was thrown, for the error message: an `Error`'s `message`, a thrown string itself.
/// Anything can be thrown (`null`, a Proxy whose every trap throws): nothing here may throw.
fn describe(thrown: &JsValue) -> String {
    if let Some(text) = thrown.as_string() {
        return text;
    }
    reflect_get(thrown, &JsValue::from_str("message"))
        .ok()
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| "a value that is not an Error was thrown".into())
}

/// `{"error": {"code": "BAD_INPUT", "message": …}}`.
fn bad_input(message: String) -> Output {
    Output::Error {
        error: AppError::new(Code::BadInput, message),
    }
}

/// The other encoding, kept for the benchmark: serde-wasm-bindgen walks the JS object.
#[cfg(feature = "both-encodings")]
pub fn run_serde(input: JsValue, component: Component) -> JsValue {
    use serde::Serialize;
    let output = match serde_wasm_bindgen::from_value::<serde_json::Value>(input) {
        Ok(input) => component(&input).to_json(),
        Err(err) => bad_input(err.to_string()).to_json(),
    };
    output
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}
