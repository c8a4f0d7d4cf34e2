//! The core's modules form layers: no module imports a module that imports it back, directly
//! or through others. (The host contract once imported a component to print its job
//! parameters; a cycle like that makes every change ripple both ways.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, as a module path (`host`, `components::checkout`).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut name = relative.to_string_lossy().replace('/', "::");
                if let Some(parent) = name.strip_suffix("::mod") {
                    name = parent.to_string();
                }
                if name != "lib" {
                    found.insert(name, path);
                }
            }
        }
    }
    found
}

/// The modules a file names (`crate::a::b`, `super::x`), outside its `#[cfg(test)]` part.
fn imports(module: &str, text: &str, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
    let mut found = BTreeSet::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.to_string())] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            // The longest prefix of the path that is a module.
            for len in (1..=segments.len()).rev() {
                let mut name = segments[..len].join("::");
                if !base.is_empty() {
                    name = format!("{base}::{name}");
                }
                if known.contains_key(&name) && name != module {
                    found.insert(name);
                    break;
                }
            }
        }
    }
    found
}

#[test]
fn the_core_has_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known = modules(&src);
    assert!(known.contains_key("host") && known.contains_key("components::checkout"));
    let graph: BTreeMap<String, BTreeSet<String>> = known
        .iter()
        .map(|(name, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            (name.clone(), imports(name, &text, &known))
        })
        .collect();
    assert!(
        graph["components::checkout"].contains("host"),
        "the import scan finds nothing: {:?}",
        graph["components::checkout"]
    );
    // A depth-first search that reports the first cycle it meets, as a path.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in &graph[node] {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
    // The contract knows no component.
    assert!(
        !graph["host"].iter().any(|m| m.starts_with("components")),
        "host imports {:?}",
        graph["host"]
    );
}
