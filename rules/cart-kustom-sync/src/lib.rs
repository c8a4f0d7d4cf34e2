//! wasm export of the `cart-kustom-sync` component; the logic is [`kustom::components::cart_kustom_sync`].

/// `run(input) -> output` of the host contract (docs/host-contract.md).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn run(input: wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    component_glue::run(input, kustom::components::cart_kustom_sync::run)
}

/// The same component through serde-wasm-bindgen's encoding (benchmark builds only).
#[cfg(feature = "both-encodings")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = runSerde)]
pub fn run_serde(input: wasm_bindgen::JsValue) -> wasm_bindgen::JsValue {
    component_glue::run_serde(input, kustom::components::cart_kustom_sync::run)
}
