//! Profiling aid for issue 7 (not a test, not a benchmark): where the 250-line sync rule spends
//! its time natively, phase by phase. `cargo run --release --example profile_rule`.
use std::time::Instant;
fn main() {
    let n = 250;
    let items: Vec<serde_json::Value> = (0..n).map(|i| { let q = 1 + (i % 3); serde_json::json!({"cartItemId": format!("item-{i}"), "productNumber": format!("SKU-{i:05}"), "description": format!("Product number {i}"), "quantity": q, "reservedQuantity": 5, "unitPrice": 125, "total": 125 * q, "tax": 25 * q, "discount": 0}) }).collect();
    let total: i64 = (0..n).map(|i| 125 * (1 + (i % 3))).sum();
    let input = serde_json::json!({"hook": "OnCartMutation", "cartId": "0b7c2f8e-2a4d-4f7e-9a51-3c1d2e4f5a60", "cartState": "open", "currencyCode": "SEK", "taxIncluded": true, "orderTotal": total as f64 + 49.0, "orderTaxTotal": total as f64 / 5.0 + 9.8, "shippingTotal": 49, "shippingTax": 9.8, "items": items, "fields": {"kustomOrderId": "8cf27b55-53e8-6aba-9fb4-7c692e56ddee"}, "now": "2026-11-25T09:30:00Z"});
    let text = serde_json::to_string(&input).unwrap();
    let reps = 200;
    let t = Instant::now();
    for _ in 0..reps {
        let _: serde_json::Value = serde_json::from_str(&text).unwrap();
    }
    println!("parse text→Value      {:?}", t.elapsed() / reps);
    let t = Instant::now();
    for _ in 0..reps {
        let _: kustom::cart::RenderedCart = kustom::error::parse(&input, "cart").unwrap();
    }
    println!("Value→RenderedCart    {:?}", t.elapsed() / reps);
    let cart: kustom::cart::RenderedCart = kustom::error::parse(&input, "cart").unwrap();
    let t = Instant::now();
    for _ in 0..reps {
        let _ = kustom::payload::build(&cart).unwrap();
    }
    println!("build                 {:?}", t.elapsed() / reps);
    let payload = kustom::payload::build(&cart).unwrap();
    let t = Instant::now();
    for _ in 0..reps {
        let _ = kustom::hash::payload_hash(&payload);
    }
    println!("hash                  {:?}", t.elapsed() / reps);
    let t = Instant::now();
    for _ in 0..reps {
        let _ = kustom::components::cart_kustom_sync::run(&input);
    }
    println!("run (whole)           {:?}", t.elapsed() / reps);
    let out = kustom::components::cart_kustom_sync::run(&input);
    let t = Instant::now();
    for _ in 0..reps {
        let _ = out.to_json_text();
    }
    // What the glue does: the output printed straight from its typed values.
    println!("output→text           {:?}", t.elapsed() / reps);
    let t = Instant::now();
    for _ in 0..reps * 10 {
        let _ = kustom::decimal::Decimal::from_f64(9.8).unwrap();
    }
    println!("Decimal::from_f64     {:?}", t.elapsed() / (reps * 10));
}
