//! The run arena (`component_glue::arena`): every answer stays right across runs of any size,
//! memory does not grow with the number of runs, and the allocator keeps each block's contents
//! and bounds. Runs under Node with the rest of the boundary tests.
#![cfg(target_arch = "wasm32")]

use component_glue::arena::RunArena;
use kustom::host::Output;
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
export function cart_of(lines) {
  const items = Array.from({ length: lines }, (_, i) => ({ productNumber: `SKU-${i}`, description: `Product ${i} é 😀`, quantity: 1 + (i % 3), unitPrice: 125 }));
  return { cartId: `cart-${lines}`, items };
}
export function text_of(value) { return JSON.stringify(value); }
"#)]
extern "C" {
    fn cart_of(lines: u32) -> JsValue;
    fn text_of(value: &JsValue) -> String;
}

/// A component that allocates as real ones do (a tree of its own, strings, a list that grows)
/// and answers with a digest of its input: the number of items and every product number joined.
fn digest(input: &Value) -> Output {
    let items = input["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let copy: Vec<Value> = items
        .iter()
        .map(|item| json!({"sku": item["productNumber"]}))
        .collect();
    let skus: Vec<&str> = copy.iter().filter_map(|c| c["sku"].as_str()).collect();
    Output::done(
        vec![],
        vec![format!(
            "{} {} {}",
            input["cartId"],
            skus.len(),
            skus.join(",")
        )],
    )
}

fn expected(lines: u32) -> String {
    let skus: Vec<String> = (0..lines).map(|i| format!("SKU-{i}")).collect();
    format!("\"cart-{lines}\" {lines} {}", skus.join(","))
}

fn run(lines: u32) -> String {
    let output: Value =
        serde_json::from_str(&text_of(&component_glue::run(cart_of(lines), digest))).unwrap();
    output["log"][0].as_str().unwrap().to_string()
}

#[wasm_bindgen_test]
fn every_answer_is_right_whatever_the_size_of_the_runs_before() {
    // 20,000 lines take several MB: past the first region, and past the region grown after it.
    for lines in [1, 250, 20_000, 3, 40_000, 250, 1, 20_000, 0, 7] {
        assert_eq!(run(lines), expected(lines), "{lines} lines");
    }
}

#[wasm_bindgen_test]
fn memory_does_not_grow_with_the_number_of_runs() {
    for _ in 0..30 {
        run(250);
    }
    let pages = core::arch::wasm32::memory_size(0);
    for _ in 0..500 {
        assert_eq!(run(250), expected(250));
    }
    assert_eq!(
        core::arch::wasm32::memory_size(0),
        pages,
        "memory grew over 500 runs"
    );
}

#[wasm_bindgen_test]
fn blocks_keep_their_contents_and_bounds() {
    let arena = RunArena::new();
    arena.begin();
    unsafe {
        let small = Layout::from_size_align(24, 8).unwrap();
        let a = arena.alloc(small);
        assert!(arena.owns(a));
        std::ptr::write_bytes(a, 0xAA, 24);
        // The last block grows where it is; an earlier one moves, with its contents.
        let b = arena.alloc(small);
        std::ptr::write_bytes(b, 0xBB, 24);
        let grown = arena.realloc(b, small, 4000);
        assert_eq!(grown, b);
        let moved = arena.realloc(a, small, 100);
        assert_ne!(moved, a);
        assert!((0..24).all(|i| *moved.add(i) == 0xAA));
        assert!((0..24).all(|i| *grown.add(i) == 0xBB));
        // Alignment is kept.
        let wide = arena.alloc(Layout::from_size_align(8, 64).unwrap());
        assert_eq!(wide as usize % 64, 0);
        // Freeing a block of the region does nothing; the region holds everything of the run.
        arena.dealloc(moved, Layout::from_size_align(100, 8).unwrap());
        assert!(arena.contained());
        // Past the region: the system allocator serves it, and the run is no longer contained.
        let big = Layout::from_size_align(3 << 20, 8).unwrap();
        let outside = arena.alloc(big);
        assert!(!outside.is_null() && !arena.owns(outside));
        assert!(!arena.contained());
        arena.dealloc(outside, big);
        arena.end();
        // The next run's region holds what this one needed.
        arena.begin();
        let again = arena.alloc(Layout::from_size_align(3 << 20, 8).unwrap());
        assert!(arena.owns(again));
        assert!(arena.contained());
        arena.end();
    }
    // Outside a run, blocks come from the system allocator.
    unsafe {
        let layout = Layout::from_size_align(16, 8).unwrap();
        let block = arena.alloc(layout);
        assert!(!arena.owns(block));
        arena.dealloc(block, layout);
    }
}
