//! The sync hash: SHA-256 (lower-case hex) over the canonical JSON of a payload.
//!
//! Canonical JSON here is serde_json's compact output of a `Value`, whose objects are ordered
//! maps: keys sorted, no whitespace, integers only (amounts are minor units). The same payload
//! therefore hashes the same whatever order the host sent the cart's fields in.

use serde::Serialize;
use sha2::{Digest, Sha256};

pub fn canonical_json<T: Serialize>(payload: &T) -> String {
    // Going through `Value` sorts object keys (serde_json without `preserve_order`).
    let value = serde_json::to_value(payload).expect("payloads serialize to JSON");
    serde_json::to_string(&value).expect("a JSON value serializes")
}

/// SHA-256 hex of the canonical JSON of any serializable value.
pub fn hash_of<T: Serialize>(value: &T) -> String {
    hex_sha256(canonical_json(value).as_bytes())
}

/// The sync hash of a Kustom payload: its fields are declared in sorted order, so serde prints
/// the canonical JSON directly, without building a `Value` tree first (the hot path). Equal to
/// `hash_of(payload)`.
pub fn payload_hash(payload: &crate::payload::CartPayload) -> String {
    hex_sha256(
        serde_json::to_string(payload)
            .unwrap_or_default()
            .as_bytes(),
    )
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// The first 12 hex digits of a hash, for logs.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_payload_prints_canonical_json_by_itself() {
        let cart: crate::cart::RenderedCart = serde_json::from_value(json!({
            "cartId": "c", "cartState": "open", "currencyCode": "SEK", "taxIncluded": true,
            "orderTotal": 272.9, "orderTaxTotal": 29.5, "shippingTotal": 49, "shippingTax": 9.8,
            "items": [{"productNumber": "A", "quantity": 2, "unitPrice": 99.5, "total": 174.9,
                       "tax": 9.9, "discount": 24.1}, {"productNumber": "B", "quantity": 1,
                       "unitPrice": 49, "total": 49, "tax": 9.8}]
        }))
        .unwrap();
        let payload = crate::payload::build(&cart).unwrap();
        assert_eq!(
            serde_json::to_string(&payload).unwrap(),
            canonical_json(&payload)
        );
        assert_eq!(payload_hash(&payload), hash_of(&payload));
    }

    #[test]
    fn key_order_does_not_matter_and_content_does() {
        let a = json!({"b": 1, "a": [1, 2], "c": {"y": 1, "x": 2}});
        let b: serde_json::Value =
            serde_json::from_str(r#"{"c":{"x":2,"y":1},"a":[1,2],"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":[1,2],"b":1,"c":{"x":2,"y":1}}"#);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_ne!(hash_of(&a), hash_of(&json!({"b": 2, "a": [1, 2]})));
        // SHA-256 of "{}" — checks the hex encoding against a known digest.
        assert_eq!(
            hash_of(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
