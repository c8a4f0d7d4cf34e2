//! wasm export of the `set-kustom-order-number` component; the logic is [`kustom::components::set_kustom_order_number`].

/// `run(input) -> output` of the host contract (docs/host-contract.md).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn run(input: wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    component_glue::run(input, kustom::components::set_kustom_order_number::run)
}
