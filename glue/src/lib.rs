//! The wasm boundary every component crate shares, so that each of them is three lines.
//!
//! The host's input is read into a `serde_json::Value` (numbers, strings, objects; `NaN` and
//! `undefined` become `null`) and handed to the component's core `run`, exactly as the native
//! tests do; the output goes back as plain JS objects (`json_compatible`: maps become objects,
//! not `Map`s).

use kustom::host::Output;
use serde::Serialize;
use wasm_bindgen::JsValue;

pub fn run(input: JsValue, component: fn(&serde_json::Value) -> Output) -> JsValue {
    let output = match serde_wasm_bindgen::from_value::<serde_json::Value>(input) {
        Ok(input) => component(&input).to_json(),
        Err(err) => serde_json::json!({"error": {"code": "BAD_INPUT", "message": err.to_string()}}),
    };
    output
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}
