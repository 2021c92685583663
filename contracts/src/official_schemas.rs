//! Test support, not part of the protocol: loads the official DSP 2025-1 schemas and examples from the shared test
//! data and validates JSON against them. Every schema file is registered under its `$id`, so cross-schema `$ref`s
//! resolve without network access. This crate's unit tests use it, and so does the end-to-end crate (through the
//! `official-schemas` feature), so both check against the same schemas with the same repairs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// The shared test-data directory, or `None` (after saying why) when this checkout does not have it.
pub fn testdata_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/dsp-2025-1");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: official DSP test data not found at {}",
            dir.display()
        );
        None
    }
}

/// Reads one official example, e.g. `"catalog/example/catalog-error.json"`.
pub fn example(rel: &str) -> Option<Value> {
    let path = testdata_dir()?.join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display())))
}

fn all_schemas() -> &'static Vec<(PathBuf, Value)> {
    static SCHEMAS: OnceLock<Vec<(PathBuf, Value)>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut out = Vec::new();
        if let Some(dir) = testdata_dir() {
            collect_schemas(&dir, &dir, &mut out);
        }
        out
    })
}

fn collect_schemas(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Value)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_schemas(root, &path, out);
        } else if path.to_string_lossy().ends_with("-schema.json") {
            let text = std::fs::read_to_string(&path).expect("schema readable");
            let mut schema: Value = serde_json::from_str(&text).expect("schema is json");
            repair_fragment_refs(&mut schema);
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            out.push((rel, schema));
        }
    }
}

/// The published transfer schemas reference `transfer-schema.json#definitions/...`, which is neither a JSON
/// pointer (no leading `/`) nor a legal anchor, so strict validators refuse to compile them. The intent is
/// unambiguous; repair the in-memory copy rather than skip those schemas.
fn repair_fragment_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                match child {
                    Value::String(r) if k == "$ref" && r.contains("#definitions/") => {
                        *r = r.replace("#definitions/", "#/definitions/");
                    }
                    _ => repair_fragment_refs(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(repair_fragment_refs),
        _ => {}
    }
}

/// Asserts that `instance` is valid against the official schema at `rel` (e.g. `"catalog/catalog-error-schema.json"`),
/// panicking with every violation; does nothing when the test data is missing.
pub fn assert_schema_valid(rel: &str, instance: &Value) {
    let schemas = all_schemas();
    if schemas.is_empty() {
        return;
    }
    let mut builder = jsonschema::Registry::new();
    for (_, schema) in schemas {
        let id = schema["$id"]
            .as_str()
            .expect("every official schema has an $id");
        builder = builder
            .add(id, schema.clone())
            .expect("schema $id is a valid uri");
    }
    let registry = builder.prepare().expect("registry prepares");
    let (_, schema) = schemas
        .iter()
        .find(|(p, _)| p == Path::new(rel))
        .unwrap_or_else(|| panic!("no official schema {rel}"));
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(schema)
        .unwrap_or_else(|e| panic!("compiling {rel}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid against {rel}: {errors:#?}\n{instance:#}"
    );
}

#[test]
fn helper_rejects_an_invalid_instance() {
    if all_schemas().is_empty() {
        return;
    }
    let bad = serde_json::json!({"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"], "@type": "Other"});
    let outcome =
        std::panic::catch_unwind(|| assert_schema_valid("catalog/catalog-error-schema.json", &bad));
    assert!(
        outcome.is_err(),
        "a wrong @type must fail schema validation"
    );
}

#[test]
fn repaired_transfer_schemas_still_enforce_the_shared_definition() {
    if all_schemas().is_empty() {
        return;
    }
    // `reason` minItems: 1 lives only in the referenced AbstractTransferCodeMessage, so this fails only if the
    // repaired reference really resolves.
    let empty_reason = serde_json::json!({"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "TransferError", "providerPid": "p", "consumerPid": "c", "reason": []});
    let outcome = std::panic::catch_unwind(|| {
        assert_schema_valid("transfer/transfer-error-schema.json", &empty_reason)
    });
    assert!(
        outcome.is_err(),
        "an empty reason array must fail the transfer error schema"
    );
}
