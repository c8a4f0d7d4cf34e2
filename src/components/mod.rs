//! One module per component: `run(input) -> Output`. The cdylib crates under `rules/`,
//! `jobs/` and `ingresses/` only move values across the wasm boundary to these functions.

pub mod capture;
pub mod capture_order;
pub mod cart_kustom_sync;
pub mod checkout;
pub mod completion;
pub mod confirm;
pub mod sync_kustom_order;
pub mod validate;
pub mod webhook;
