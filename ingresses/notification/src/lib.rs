//! wasm export of the `notification` ingress; the logic is [`kustom::components::notification`].

/// `run(input) -> output` of the host contract (docs/host-contract.md).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn run(input: wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    component_glue::run(input, kustom::components::notification::run)
}
