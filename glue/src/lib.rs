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
//! cycle) is refused with `BAD_INPUT` too; nothing traps.

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

    /// A thrown value, read as an `Error`.
    type Thrown;

    /// The engine's UTF-8 encoder (the one wasm-bindgen's own glue uses).
    type TextEncoder;

    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;

    /// `encoder.encode(text)`: the bytes arrive in one native copy. Taking the text as a Rust
    /// string instead goes through wasm-bindgen's character-by-character loop for ASCII, which
    /// was 8 % of the 250-line sync rule's time.
    #[wasm_bindgen(method)]
    fn encode(this: &TextEncoder, text: &JsValue) -> Vec<u8>;

    #[wasm_bindgen(method, getter, structural)]
    fn message(this: &Thrown) -> JsValue;
}

pub type Component = fn(&serde_json::Value) -> Output;

pub fn run(input: JsValue, component: Component) -> JsValue {
    let text = match input_text(&input) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(input) => component(&input).to_json_text(),
            Err(err) => bad_input(format!("input is not JSON: {err}")).to_json_text(),
        },
        Err(message) => bad_input(message).to_json_text(),
    };
    parse(&text).unwrap_or(JsValue::NULL)
}

/// The input as JSON text, UTF-8 encoded (lone surrogates become U+FFFD, as with a `String`).
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

fn describe(error: &JsValue) -> String {
    wasm_bindgen::JsCast::unchecked_ref::<Thrown>(error)
        .message()
        .as_string()
        .unwrap_or_else(|| "unknown error".into())
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
