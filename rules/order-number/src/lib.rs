//! wasm export of the `order-number` component; the logic is [`kustom::components::order_number`].

/// `run(input) -> output` of the host contract (docs/host-contract.md).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn run(input: wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    component_glue::run(input, kustom::components::order_number::run)
}
