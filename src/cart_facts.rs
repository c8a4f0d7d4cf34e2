//! What the completion path (confirm, the push, the watchdog) keeps of a rendered cart
//! between steps of the resume contract (docs/host-contract.md): [`CartFacts`].

use crate::cart::{CartState, RenderedCart};
use crate::error::{AppError, Code};
use serde_json::{json, Map, Value};

/// What the completion path (confirm, the push, the watchdog) keeps of a rendered cart between
/// steps: who it is, its state and custom fields, its delivery data, and what its payload charges
/// now — never its lines, which it reads once, when the rendering arrives.
#[derive(Clone, Debug)]
pub struct CartFacts {
    pub cart_id: String,
    pub cart_state: CartState,
    /// Custom fields, without Commerce's `field:` prefix (as [`RenderedCart::fields`]).
    pub fields: Map<String, Value>,
    pub delivery_dynamic_fields: Option<Value>,
    /// `(currency, order amount in minor units)` of the payload the cart produces now, or the
    /// code of the refusal when it cannot be paid.
    pub payable: Result<(String, i64), String>,
}

impl CartFacts {
    /// The facts of a `renderCart` reply, in the shape a continuation keeps them (`null`: no such
    /// cart; a text: why the app cannot read the rendering). A `Reduce` (`host.rs`).
    pub fn learn(reply: &Value) -> Value {
        if reply.is_null() || reply.get("error").is_some() {
            return Value::Null;
        }
        let cart = match RenderedCart::from_tree(reply, "the rendered cart") {
            Ok(cart) => cart,
            Err(error) => return Value::String(error.message),
        };
        let mut kept = Map::new();
        kept.insert("cartId".into(), cart.cart_id.as_str().into());
        kept.insert("cartState".into(), cart.cart_state.as_str().into());
        match crate::payload::amount(&cart) {
            Ok((currency, amount)) => kept.insert("payable".into(), json!([currency, amount])),
            Err(refusal) => kept.insert("payable".into(), refusal.code.as_str().into()),
        };
        if let Some(delivery) = cart.delivery_dynamic_fields {
            kept.insert("deliveryDynamicFields".into(), delivery);
        }
        kept.insert("fields".into(), Value::Object(cart.fields));
        Value::Object(kept)
    }

    /// The facts back from what [`CartFacts::learn`] kept; `None` when there is no such cart.
    pub fn of(learned: &Value) -> Result<Option<CartFacts>, AppError> {
        if learned.is_null() {
            return Ok(None);
        }
        if let Value::String(why) = learned {
            return Err(AppError::new(Code::BadInput, why.clone()));
        }
        let bad = || AppError::bad_input("the cart's kept facts", "are not what the app keeps");
        let text = |key: &str| learned.get(key).and_then(Value::as_str).ok_or_else(bad);
        let state = text("cartState")?;
        let cart_state = [CartState::Open, CartState::Completed, CartState::Rejected]
            .into_iter()
            .find(|known| known.as_str() == state)
            .ok_or_else(bad)?;
        let payable = match &learned["payable"] {
            Value::String(code) => Err(code.clone()),
            pair => match (pair[0].as_str(), pair[1].as_i64()) {
                (Some(currency), Some(amount)) => Ok((currency.to_string(), amount)),
                _ => return Err(bad()),
            },
        };
        Ok(Some(CartFacts {
            cart_id: text("cartId")?.to_string(),
            cart_state,
            fields: learned
                .get("fields")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            delivery_dynamic_fields: learned.get("deliveryDynamicFields").cloned(),
            payable,
        }))
    }

    /// A text custom field (`fields.<key>`), if present and a non-empty string.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn is_open(&self) -> bool {
        self.cart_state == CartState::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload;

    /// The cart and the Kustom order of the confirm fixtures (a real 3-line Swedish cart).
    fn fixture_replies() -> Vec<Value> {
        let text = include_str!("../tests/fixtures/ingresses/confirm/05-creates-the-payment.json");
        let fixture: Value = serde_json::from_str(text).unwrap();
        fixture["input"]["replies"].as_array().unwrap().clone()
    }

    #[test]
    fn the_kept_facts_are_the_carts_own() {
        let tree = &fixture_replies()[0];
        let cart = RenderedCart::from_tree(tree, "cart").unwrap();
        let kept = CartFacts::learn(tree);
        // Never the lines: what later steps carry is a few fields, whatever the cart's size.
        assert!(kept.get("items").is_none());
        assert!(kept.to_string().len() < tree.to_string().len() / 2);
        let facts = CartFacts::of(&kept).unwrap().unwrap();
        assert_eq!(facts.cart_id, cart.cart_id);
        assert_eq!(facts.cart_state, cart.cart_state);
        assert_eq!(facts.fields, cart.fields);
        assert_eq!(facts.payable, Ok(payload::amount(&cart).unwrap()));
        assert_eq!(facts.payable, Ok(("SEK".to_string(), 94080)));
        // Through the text a host keeps it as.
        let again: Value = serde_json::from_str(&kept.to_string()).unwrap();
        assert_eq!(
            CartFacts::of(&again).unwrap().unwrap().payable,
            facts.payable
        );
    }

    #[test]
    fn an_unpayable_missing_or_unreadable_cart_is_kept_as_such() {
        let mut tree = fixture_replies()[0].clone();
        tree["currencyCode"] = json!("XXX");
        let facts = CartFacts::of(&CartFacts::learn(&tree)).unwrap().unwrap();
        assert_eq!(facts.payable, Err("UNKNOWN_CURRENCY".to_string()));

        assert!(
            CartFacts::of(&CartFacts::learn(&json!({"error": {"code": "NOT_FOUND"}})))
                .unwrap()
                .is_none()
        );
        tree["items"] = json!("not a list");
        let error = CartFacts::of(&CartFacts::learn(&tree)).unwrap_err();
        assert_eq!(error.code, Code::BadInput);
        assert!(error.message.contains("items"), "{}", error.message);
        // Facts that are not what `learn` writes are refused, never guessed.
        for bad in [
            json!({"cartId": "c"}),
            json!({"cartId": "c", "cartState": "gone", "payable": ["SEK", 1]}),
            json!({"cartId": "c", "cartState": "open", "payable": ["SEK", 1.5]}),
        ] {
            assert!(CartFacts::of(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_kept_order_summary_reads_as_the_whole_order() {
        use crate::kustom::{summary_only, OrderSummary};
        let reply = &fixture_replies()[1];
        let kept = summary_only(reply);
        assert!(kept["body"].get("order_lines").is_none());
        assert!(kept["body"].get("html_snippet").is_none());
        let summary = |reply: &Value| {
            crate::error::parse::<OrderSummary>(&reply["body"], "order").map(|o| format!("{o:?}"))
        };
        assert_eq!(summary(&kept).unwrap(), summary(reply).unwrap());
        // A body given as text, a failure and a non-order body are kept as they came.
        let as_text = json!({"status": 200, "body": reply["body"].to_string()});
        for whole in [
            as_text,
            json!({"status": 404, "body": ""}),
            json!({"status": 200, "body": "<html>"}),
            json!({"status": 503, "body": {"error_code": "X", "order_lines": []}}),
            json!({"error": {"kind": "timeout", "message": "no answer"}}),
        ] {
            assert_eq!(summary_only(&whole), whole);
        }
    }
}
