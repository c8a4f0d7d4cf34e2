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

pub fn payload_hash<T: Serialize>(payload: &T) -> String {
    let digest = Sha256::digest(canonical_json(payload).as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_and_content_does() {
        let a = json!({"b": 1, "a": [1, 2], "c": {"y": 1, "x": 2}});
        let b: serde_json::Value =
            serde_json::from_str(r#"{"c":{"x":2,"y":1},"a":[1,2],"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":[1,2],"b":1,"c":{"x":2,"y":1}}"#);
        assert_eq!(payload_hash(&a), payload_hash(&b));
        assert_ne!(
            payload_hash(&a),
            payload_hash(&json!({"b": 2, "a": [1, 2]}))
        );
        // SHA-256 of "{}" — checks the hex encoding against a known digest.
        assert_eq!(
            payload_hash(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
