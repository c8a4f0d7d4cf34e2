//! Runs every fixture file `tests/fixtures/<component id>/<case>.json`
//! (`{description, input, expected}`) through the component natively and compares the whole
//! output. The same files run against the built wasm modules in `tests/wasm/fixtures.test.mjs`.
//!
//! A fixture replays: its input holds every reply so far and no continuation, and `expected` is
//! the output without its continuation. A second test runs every fixture the resuming way (each
//! step gets the previous step's continuation and only the newest reply) and requires the same
//! outputs, step by step: resuming and replaying are one behaviour.
//!
//! `BLESS=1 cargo test --test fixtures` rewrites `expected` from the current output; review the
//! diff before committing it.

use kustom::components;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn run_component(component: &str, input: &Value) -> Value {
    let Some(component) = components::by_id(component) else {
        panic!("no component {component:?} (fixture folder name must be a component id)")
    };
    (component.run)(input).to_json()
}

fn fixture_files() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for kind in ["rules", "jobs", "ingresses"] {
        let Ok(components) = std::fs::read_dir(root.join(kind)) else {
            continue;
        };
        for component in components.flatten() {
            let id = format!("{kind}/{}", component.file_name().to_string_lossy());
            for case in std::fs::read_dir(component.path()).unwrap().flatten() {
                if case.path().extension().is_some_and(|e| e == "json") {
                    files.push((id.clone(), case.path()));
                }
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_fixture_produces_its_expected_output() {
    let bless = std::env::var_os("BLESS").is_some();
    let files = fixture_files();
    assert!(
        files.len() >= 20,
        "expected the fixture suite, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for (component, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let mut fixture: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut actual = run_component(component, &fixture["input"]);
        if let Some(output) = actual.as_object_mut() {
            output.remove("continuation");
        }
        if bless {
            fixture["expected"] = actual;
            std::fs::write(path, serde_json::to_string_pretty(&fixture).unwrap() + "\n").unwrap();
        } else if fixture["expected"] != actual {
            failures.push(format!(
                "{}\n  expected: {}\n  actual:   {}",
                path.display(),
                fixture["expected"],
                actual
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every fixture, run as a resuming host runs it: step k gets the trigger, step k−1's
/// continuation and reply k−1 alone. Each step's output must be the replaying run's (calls and
/// continuation alike), and the last one the fixture's expected output.
#[test]
fn resuming_from_continuations_gives_every_fixture_its_outputs() {
    let mut resumed_steps = 0;
    let mut resuming_steps = 0;
    for (component, path) in fixture_files() {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let input = &fixture["input"];
        let replies = input["replies"].as_array().cloned().unwrap_or_default();
        let mut continuation = Value::Null;
        for k in 0..=replies.len() {
            let mut replaying = input.clone();
            replaying["replies"] = Value::Array(replies[..k].to_vec());
            let replayed = run_component(&component, &replaying);
            let mut resuming = input.clone();
            resuming["replies"] = Value::Array(replies[k.saturating_sub(1)..k].to_vec());
            resuming["continuation"] = continuation.clone();
            let resumed = run_component(&component, &resuming);
            assert_eq!(
                resumed,
                replayed,
                "{}: step {k} resumed differs from replayed",
                path.display()
            );
            resumed_steps += 1;
            if !continuation.is_null() {
                resuming_steps += 1;
            }
            match resumed.get("continuation") {
                Some(next) => continuation = next.clone(),
                // Done (or an error) at this step; or a component that still replays.
                None => break,
            }
        }
    }
    assert!(resumed_steps > 100, "only {resumed_steps} steps run");
    // Those that resume from a continuation: the sync job's fixtures, every step after the first.
    assert!(
        resuming_steps > 20,
        "only {resuming_steps} steps resumed from a continuation"
    );
}
