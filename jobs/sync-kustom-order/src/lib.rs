//! wasm glue for the `sync-kustom-order` component: moves the host's input across the boundary
//! and hands it to [`kustom::components::sync_kustom_order::run`]. No logic lives here.

use wasm_bindgen::prelude::*;

/// `run(input) -> output` of the host contract (docs/host-contract.md).
#[wasm_bindgen]
pub fn run(input: JsValue) -> JsValue {
    let output = match serde_wasm_bindgen::from_value::<serde_json::Value>(input) {
        Ok(input) => kustom::components::sync_kustom_order::run(&input).to_json(),
        Err(err) => serde_json::json!({"error": {"code": "BAD_INPUT", "message": err.to_string()}}),
    };
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    output.serialize(&serializer).unwrap_or(JsValue::NULL)
}

use serde::Serialize as _;
