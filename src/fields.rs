//! Where the app keeps its state on the cart ticket.
//!
//! Commerce stores custom cart fields in the ticket's dynamic fields under a `field:` prefix and
//! strips the prefix in the rendered cart's `fields` (platform notes §2.1; the cookbook confirms
//! `dynamic.field:kustomOrderId`). So the app **writes** `field:<name>` with `setDynamicFields`
//! and **reads** `<name>` from a rendered cart's `fields`. That is what makes the storefront see
//! `cart.fields.kustomPendingHash` / `cart.fields.kustomSyncHash`, and what the graph field
//! `ticket.cart.kustomOrderId` (source `dynamic->'field:kustomOrderId'`) indexes.
//!
//! The pending payload is stored *without* the prefix: it is the app's private state, too big
//! to stream to the storefront on every cart event, and read back only by the sync job.

/// The Kustom order id (set by the checkout ingress).
pub const ORDER_ID: &str = "kustomOrderId";
/// Hash of the latest payload built from the cart (set by `cart-kustom-sync`).
pub const PENDING_HASH: &str = "kustomPendingHash";
/// Hash of the payload Kustom is known to hold (set by `syncKustomOrder`).
pub const SYNC_HASH: &str = "kustomSyncHash";
/// Who completed the cart when it was not confirm or the push: `watchdog` (set by
/// `watchKustomOrder` in the message that completes the cart).
pub const COMPLETED_BY: &str = "kustomCompletedBy";
/// The payload whose hash is `kustomPendingHash`, stored as a raw dynamic key.
pub const PENDING_PAYLOAD_KEY: &str = "kustomPendingPayload";

/// Commerce's prefix for custom cart fields inside the ticket's dynamic fields.
pub const CUSTOM_FIELD_PREFIX: &str = "field:";

/// The dynamic-field key under which a custom cart field is stored.
pub fn dynamic_key(field: &str) -> String {
    format!("{CUSTOM_FIELD_PREFIX}{field}")
}
