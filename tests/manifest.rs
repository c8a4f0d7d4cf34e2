//! The manifest and the code agree: every component crate is declared and built, every declared
//! component has a crate and fixtures, the jobs and hooks the code names exist, and the secret
//! settings are marked secret.

use kustom::components::{capture, cart_kustom_sync, order_number, refund, release, validate};
use std::path::Path;
use toml::Value;

fn manifest() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    toml::from_str(&std::fs::read_to_string(root.join("manifest.toml")).unwrap()).unwrap()
}

fn ids(manifest: &Value, table: &str) -> Vec<String> {
    manifest[table]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_component_is_declared_built_and_tested() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = manifest();
    let declared = ids(&manifest, "components");
    for component in manifest["components"].as_array().unwrap() {
        let id = component["id"].as_str().unwrap();
        assert_eq!(
            component["built"].as_bool(),
            Some(true),
            "{id} is declared but not built"
        );
        assert!(
            root.join(id).join("Cargo.toml").exists(),
            "{id} has no crate"
        );
        let fixtures = std::fs::read_dir(root.join("tests/fixtures").join(id))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(fixtures >= 5, "{id} has {fixtures} fixtures");
    }
    let registered: Vec<&str> = kustom::components::ALL.iter().map(|c| c.id).collect();
    for id in &declared {
        assert!(
            registered.contains(&id.as_str()),
            "{id} is not in kustom::components::ALL"
        );
    }
    assert_eq!(
        registered.len(),
        declared.len(),
        "components::ALL vs manifest.toml"
    );
    for kind in ["rules", "jobs", "ingresses"] {
        for entry in std::fs::read_dir(root.join(kind)).unwrap().flatten() {
            let id = format!("{kind}/{}", entry.file_name().to_string_lossy());
            assert!(declared.contains(&id), "crate {id} is not in manifest.toml");
        }
    }
}

#[test]
fn the_jobs_hooks_and_routes_the_code_uses_are_declared() {
    let manifest = manifest();
    let jobs = ids(&manifest, "jobDefinitions");
    assert!(jobs.contains(&cart_kustom_sync::JOB_DEFINITION.to_string()));
    assert!(jobs.contains(&capture::JOB_DEFINITION.to_string()));
    assert!(jobs.contains(&kustom::jobs::WATCHDOG_JOB.to_string()));
    assert!(jobs.contains(&refund::JOB_DEFINITION.to_string()));
    assert!(jobs.contains(&release::JOB_DEFINITION.to_string()));
    assert!(jobs.contains(&order_number::JOB_DEFINITION.to_string()));
    let components = ids(&manifest, "components");
    for job in manifest["jobDefinitions"].as_array().unwrap() {
        assert!(
            components.contains(&job["componentId"].as_str().unwrap().to_string()),
            "{job:?}"
        );
    }
    for ingress in manifest["ingresses"].as_array().unwrap() {
        assert!(
            components.contains(&ingress["componentId"].as_str().unwrap().to_string()),
            "{ingress:?}"
        );
        assert_eq!(
            ingress["isPublic"].as_bool(),
            Some(true),
            "Kustom and the storefront call {ingress:?} unauthenticated"
        );
    }
    assert!(ids(&manifest, "customHooks").contains(&validate::HOOK.to_string()));
    let routes: Vec<&str> = manifest["ingresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["route"].as_str().unwrap())
        .collect();
    // The push and validation URLs the checkout ingress gives Kustom must be real routes.
    assert!(routes.contains(&"kustom/webhook/push") && routes.contains(&"kustom/validate"));
    let hooks: Vec<&str> = manifest["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.get("hook")?.as_str())
        .collect();
    assert_eq!(
        hooks,
        [
            "OnCartMutation",
            "OnPaymentCapture",
            "OnPaymentCapture",
            "OnOrderCommands",
            order_number::HOOK,
        ]
    );
}

#[test]
fn settings_are_declared_and_secrets_marked() {
    let manifest = manifest();
    let settings = manifest["settings"].as_table().unwrap();
    for key in [
        "apiKey",
        "username",
        "password",
        "environment",
        "publicBaseUrl",
        "apiBaseUrl",
    ] {
        assert!(
            settings.contains_key(key),
            "setting {key} is read by src/settings.rs but not declared"
        );
    }
    for secret in ["apiKey", "password"] {
        assert_eq!(
            settings[secret]["secret"].as_bool(),
            Some(true),
            "{secret} must be secret"
        );
    }
    let entry = &manifest["registryEntries"].as_array().unwrap()[0];
    assert_eq!(
        entry["path"].as_str(),
        Some("/graph/ticket.cart/fields/kustomOrderId")
    );
    assert_eq!(
        entry["value"]["source"].as_str(),
        Some("dynamic->'field:kustomOrderId'")
    );
}
