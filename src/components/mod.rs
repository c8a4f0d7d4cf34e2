//! One module per component: `run(input) -> Output`. The cdylib crates under `rules/`,
//! `jobs/` and `ingresses/` only move values across the wasm boundary to these functions.
//! [`ALL`] lists them by manifest id; the fixture runner and the manifest test read it, so a
//! component missing here (or there) fails a test. docs/adding-a-component.md has the checklist.

use crate::host::Output;
use serde_json::Value;

pub mod capture;
pub mod capture_order;
pub mod cart_kustom_sync;
pub mod checkout;
pub mod completion;
pub mod confirm;
pub mod ingress;
pub mod notification;
pub mod order_number;
pub mod refund;
pub mod refund_order;
pub mod release;
pub mod release_authorization;
pub mod set_kustom_order_number;
pub mod sync_kustom_order;
pub mod validate;
pub mod watch_kustom_order;
pub mod webhook;

/// A component: its manifest id (also its crate's folder) and its `run`.
pub struct Component {
    pub id: &'static str,
    pub run: fn(&Value) -> Output,
}

/// Every component the app package ships.
pub const ALL: &[Component] = &[
    Component {
        id: "rules/cart-kustom-sync",
        run: cart_kustom_sync::run,
    },
    Component {
        id: "jobs/sync-kustom-order",
        run: sync_kustom_order::run,
    },
    Component {
        id: "ingresses/checkout",
        run: checkout::run,
    },
    Component {
        id: "ingresses/confirm",
        run: confirm::run,
    },
    Component {
        id: "ingresses/webhook",
        run: webhook::run,
    },
    Component {
        id: "ingresses/validate",
        run: validate::run,
    },
    Component {
        id: "ingresses/notification",
        run: notification::run,
    },
    Component {
        id: "rules/capture",
        run: capture::run,
    },
    Component {
        id: "jobs/capture-order",
        run: capture_order::run,
    },
    Component {
        id: "jobs/watch-kustom-order",
        run: watch_kustom_order::run,
    },
    Component {
        id: "rules/refund",
        run: refund::run,
    },
    Component {
        id: "jobs/refund-order",
        run: refund_order::run,
    },
    Component {
        id: "rules/release",
        run: release::run,
    },
    Component {
        id: "jobs/release-authorization",
        run: release_authorization::run,
    },
    Component {
        id: "rules/order-number",
        run: order_number::run,
    },
    Component {
        id: "jobs/set-kustom-order-number",
        run: set_kustom_order_number::run,
    },
];

/// The component with this manifest id.
pub fn by_id(id: &str) -> Option<&'static Component> {
    ALL.iter().find(|component| component.id == id)
}
