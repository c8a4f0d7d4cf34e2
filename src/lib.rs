//! Core of the Kustom Checkout app for Hantera: every component's logic as pure functions.
//!
//! Layout, from the inside out:
//! - money and data: [`decimal`] (exact amounts, read from floats with [`float_text`]), [`currency`] (ISO 4217 exponents),
//!   [`cart`] (the rendered cart input), [`payload`] (the Kustom order lines), [`hash`];
//! - the host contract: [`host`] (outputs, effects, calls, replaying replies), [`error`];
//! - the outside world as data: [`kustom`] (requests and reply classification),
//!   [`ticket`] and [`payment`] (reading actors from a job), [`fields`] (where state lives on the cart),
//!   [`settings`], [`instant`], [`js_text`] (JSON text from a JS engine);
//! - [`value_de`]: typed inputs from JSON values, naming the path of a bad field;
//! - [`components`]: one module per Hantera component.
//!
//! Nothing here does I/O, reads a clock or draws randomness (docs/host-contract.md).

pub mod cart;
pub mod cart_facts;
pub mod components;
pub mod currency;
pub mod customer;
pub mod decimal;
pub mod error;
pub mod fields;
pub mod float_text;
pub mod hash;
pub mod host;
pub mod instant;
pub mod jobs;
pub mod js_text;
pub mod kustom;
pub mod payload;
pub mod payment;
pub mod retry;
pub mod settings;
pub mod shipping;
pub mod ticket;
pub mod value_de;
