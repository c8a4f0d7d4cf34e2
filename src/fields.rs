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
/// The short hashes ([`RECENT_HASH_LEN`] hex digits) of the last [`RECENT_HASHES_KEPT`]
/// payloads the rule made pending, without their `shipping_options` (the part validation
/// compares with Kustom's order), newest first, space-separated (set by `cart-kustom-sync`). What Kustom
/// may still hold of the app's own: validation tells an older payload of ours landing late
/// (re-assert the newest) from a change nobody here made (refuse only).
pub const RECENT_HASHES: &str = "kustomRecentHashes";
pub const RECENT_HASHES_KEPT: usize = 8;
pub const RECENT_HASH_LEN: usize = 16;
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

/// The recent-hashes field after `hash` became pending: it first, then the older ones, at
/// most [`RECENT_HASHES_KEPT`].
pub fn recent_hashes_with(recent: Option<&str>, hash: &str) -> String {
    let newest = recent_hash(hash);
    let older = recent
        .unwrap_or("")
        .split(' ')
        .filter(|h| !h.is_empty() && *h != newest);
    std::iter::once(newest)
        .chain(older)
        .take(RECENT_HASHES_KEPT)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `hash` is one of the recent payloads of the field's text.
pub fn is_recent(recent: Option<&str>, hash: &str) -> bool {
    let wanted = recent_hash(hash);
    recent.is_some_and(|r| r.split(' ').any(|h| h == wanted))
}

fn recent_hash(hash: &str) -> &str {
    hash.get(..RECENT_HASH_LEN).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_hashes_keep_the_newest_first_without_repeats_and_bounded() {
        let h = |c: char| c.to_string().repeat(64);
        let mut recent = None::<String>;
        for c in ['a', 'b', 'a', 'c'] {
            recent = Some(recent_hashes_with(recent.as_deref(), &h(c)));
        }
        let recent = recent.unwrap();
        assert_eq!(
            recent,
            format!("{} {} {}", &h('c')[..16], &h('a')[..16], &h('b')[..16])
        );
        assert!(is_recent(Some(&recent), &h('b')));
        assert!(!is_recent(Some(&recent), &h('d')));
        assert!(!is_recent(None, &h('a')));
        let many = ('a'..='z').fold(String::new(), |r, c| recent_hashes_with(Some(&r), &h(c)));
        assert_eq!(many.split(' ').count(), RECENT_HASHES_KEPT);
        assert!(is_recent(Some(&many), &h('z')) && !is_recent(Some(&many), &h('a')));
    }
}
