//! wasm export of the `checkout` ingress; the logic is [`kustom::components::checkout`].

/// `run(input) -> output` of the host contract (docs/host-contract.md).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn run(input: wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    component_glue::run(input, kustom::components::checkout::run)
}
