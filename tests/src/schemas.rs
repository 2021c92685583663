//! The official DSP 2025-1 JSON Schemas from `../shared/testdata/dsp-2025-1/`, registered under their `$id`s so
//! cross-references resolve offline. Every message the connector answers is checked against them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// The official DSP test data, or `None` (after saying so) when this checkout lacks it.
pub fn testdata_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/dsp-2025-1");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "schema checks skipped: official DSP test data not found at {}",
            dir.display()
        );
        None
    }
}

fn all() -> &'static Vec<(PathBuf, Value)> {
    static SCHEMAS: OnceLock<Vec<(PathBuf, Value)>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut out = Vec::new();
        if let Some(dir) = testdata_dir() {
            collect(&dir, &dir, &mut out);
        }
        out
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Value)>) {
    for entry in std::fs::read_dir(dir).expect("schema directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.to_string_lossy().ends_with("-schema.json") {
            // Upstream slip: three transfer schemas write `#definitions/...` for `#/definitions/...`, which
            // validators refuse to resolve; read them with the pointer repaired (the files stay untouched).
            let text = std::fs::read_to_string(&path)
                .expect("schema")
                .replace("#definitions/", "#/definitions/");
            let schema: Value = serde_json::from_str(&text).expect("schema json");
            out.push((
                path.strip_prefix(root).expect("under root").to_path_buf(),
                schema,
            ));
        }
    }
}

/// Panics with every violation if `instance` does not satisfy the official schema `rel`
/// (e.g. `"catalog/catalog-schema.json"`).
pub fn assert_valid(rel: &str, instance: &Value) {
    let schemas = all();
    if schemas.is_empty() {
        return;
    }
    let mut registry = jsonschema::Registry::new();
    for (_, schema) in schemas {
        registry = registry
            .add(schema["$id"].as_str().expect("$id"), schema.clone())
            .expect("valid $id");
    }
    let registry = registry.prepare().expect("registry");
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
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid against {rel}: {errors:#?}\n{instance:#}"
    );
}

/// Reads an official example, e.g. `"catalog/example/catalog.json"`.
pub fn example(rel: &str) -> Option<Value> {
    let path = testdata_dir()?.join(rel);
    Some(
        serde_json::from_str(&std::fs::read_to_string(&path).expect("example"))
            .expect("example json"),
    )
}

/// The official schema for a DSP message, by its `@type`.
pub fn schema_for(message_type: &str) -> Option<&'static str> {
    Some(match message_type {
        "CatalogRequestMessage" => "catalog/catalog-request-message-schema.json",
        "DatasetRequestMessage" => "catalog/dataset-request-message-schema.json",
        "Catalog" => "catalog/catalog-schema.json",
        "Dataset" => "catalog/dataset-schema.json",
        "CatalogError" => "catalog/catalog-error-schema.json",
        "ContractRequestMessage" => "negotiation/contract-request-message-schema.json",
        "ContractOfferMessage" => "negotiation/contract-offer-message-schema.json",
        "ContractAgreementMessage" => "negotiation/contract-agreement-message-schema.json",
        "ContractAgreementVerificationMessage" => {
            "negotiation/contract-agreement-verification-message-schema.json"
        }
        "ContractNegotiationEventMessage" => {
            "negotiation/contract-negotiation-event-message-schema.json"
        }
        "ContractNegotiationTerminationMessage" => {
            "negotiation/contract-negotiation-termination-message-schema.json"
        }
        "ContractNegotiation" => "negotiation/contract-negotiation-schema.json",
        "ContractNegotiationError" => "negotiation/contract-negotiation-error-schema.json",
        "TransferRequestMessage" => "transfer/transfer-request-message-schema.json",
        "TransferStartMessage" => "transfer/transfer-start-message-schema.json",
        "TransferSuspensionMessage" => "transfer/transfer-suspension-message-schema.json",
        "TransferCompletionMessage" => "transfer/transfer-completion-message-schema.json",
        "TransferTerminationMessage" => "transfer/transfer-termination-message-schema.json",
        "TransferProcess" => "transfer/transfer-process-schema.json",
        "TransferError" => "transfer/transfer-error-schema.json",
        _ => return None,
    })
}
