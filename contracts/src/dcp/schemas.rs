//! Test support, not part of the protocol: loads the official DCP 1.0 JSON Schemas (and the Presentation Exchange
//! schemas they reference) from the shared test data and validates JSON against them offline. Schemas are
//! registered under the URL their file maps to by the two prefix maps DCP's own schema tests use
//! (`https://w3id.org/dspace-dcp/v1.0/` -> `artifacts/src/main/resources/`, `https://identity.foundation/` ->
//! `artifacts/src/test/resources/`), not under their `$id`: `common/context-schema.json` declares a `v08` `$id`
//! but is referenced as `v1.0`, and the credential message schema's `$id` names the wrong folder. One in-memory
//! repair: the Presentation Exchange schema's references to the draft-07 meta-schema (see
//! `repair_meta_schema_refs`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// Where schema URLs under DCP's namespace live, relative to the test-data directory.
const DCP_PREFIX: (&str, &str) = (
    "https://w3id.org/dspace-dcp/v1.0/",
    "artifacts/src/main/resources",
);
/// Where the Presentation Exchange and claim format schemas DCP references live.
const DIF_PREFIX: (&str, &str) = (
    "https://identity.foundation/",
    "artifacts/src/test/resources",
);

/// The shared DCP 1.0 test-data directory, or `None` (after saying why) when this checkout does not have it.
pub fn testdata_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/dcp-1.0");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: DCP 1.0 test data not found at {}", dir.display());
        None
    }
}

/// Reads one official example, relative to `artifacts/src/main/resources/`, e.g.
/// `"presentation/example/presentation-query-message.json"`.
pub fn example(rel: &str) -> Option<Value> {
    let path = testdata_dir()?.join(DCP_PREFIX.1).join(rel);
    Some(read_json(&path))
}

/// The URL a schema is known by: `rel` as given when it is already a URL, else relative to the DCP namespace
/// (`"presentation/presentation-query-message-schema.json"`).
pub fn schema_url(rel: &str) -> String {
    if rel.starts_with("https://") || rel.starts_with("http://") {
        rel.to_owned()
    } else {
        format!("{}{rel}", DCP_PREFIX.0)
    }
}

/// Validates `instance` against the official schema at `rel` (see [`schema_url`]), returning every violation.
/// Passes (after saying so) when the test data is missing.
pub fn validate(rel: &str, instance: &Value) -> Result<(), Vec<String>> {
    let Some(loaded) = loaded() else {
        println!("skipped: validation against {rel}");
        return Ok(());
    };
    let url = schema_url(rel);
    let schema = loaded
        .iter()
        .find(|(u, _)| *u == url)
        .map(|(_, s)| s)
        .ok_or_else(|| vec![format!("no official DCP schema {url}")])?;
    // Every reference is served from the files loaded at start (see `Files`), so nothing is fetched; the
    // validator builds its own registry per schema from them.
    let validator = jsonschema::options()
        .with_retriever(Files(loaded))
        .build(schema)
        .map_err(|e| vec![format!("compiling {url}: {e}")])?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Asserts that `instance` is valid against the official schema at `rel`, panicking with every violation.
pub fn expect_valid(rel: &str, instance: &Value) {
    if let Err(errors) = validate(rel, instance) {
        panic!("not valid against {rel}: {errors:#?}\n{instance:#}");
    }
}

/// The loaded schemas, each with the URL it is known by.
type Loaded = Vec<(String, Value)>;

/// Resolves schema references from the loaded files only, never the network.
struct Files(&'static Loaded);

impl jsonschema::Retrieve for Files {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let wanted = uri.as_str().split('#').next().unwrap_or_default();
        self.0
            .iter()
            .find(|(url, _)| url == wanted)
            .map(|(_, schema)| schema.clone())
            .ok_or_else(|| format!("{wanted} is not among the official DCP schemas").into())
    }
}

fn loaded() -> Option<&'static Loaded> {
    static LOADED: OnceLock<Option<Loaded>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let dir = testdata_dir()?;
            let mut schemas = Vec::new();
            for (prefix, sub) in [DCP_PREFIX, DIF_PREFIX] {
                let root = dir.join(sub);
                collect(&root, &root, prefix, &mut schemas);
            }
            Some(schemas)
        })
        .as_ref()
}

/// Collects the schemas under `dir`: every JSON file except the examples (under `example/` folders), keyed by
/// `prefix` + its path below `root`.
fn collect(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, Value)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "example") {
                collect(root, &path, prefix, out);
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(root).expect("under root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let url = format!("{prefix}{rel}");
            let mut original = read_json(&path);
            repair_meta_schema_refs(&mut original);
            // Pitfall 7: the URL a file is referenced by is the one that counts, so each file is registered under
            // it with its `$id` set to match. Where the published `$id` differs, the untouched file is registered
            // under that `$id` as well: the credential message schema refers to its own definitions through it.
            match original.get("$id").and_then(Value::as_str) {
                Some(id) if id != url => {
                    let mut schema = original.clone();
                    if let Some(obj) = schema.as_object_mut() {
                        obj.insert("$id".into(), Value::String(url.clone()));
                    }
                    out.push((url, schema));
                    out.push((id.to_owned(), original));
                }
                _ => out.push((url, original)),
            }
        }
    }
}

/// The Presentation Exchange definition schema (draft-07) says a field `filter` is itself a JSON Schema by
/// referring to the draft-07 meta-schema. The validator bundles that meta-schema only for the root schema's draft
/// (2019-09 for every DCP message), so the reference cannot resolve offline. The in-memory copy keeps the
/// meta-schema's own top-level constraint, "an object or a boolean", rather than skipping those schemas.
fn repair_meta_schema_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.len() == 1
                && m.get("$ref").and_then(Value::as_str).is_some_and(|r| {
                    r.trim_end_matches('#') == "http://json-schema.org/draft-07/schema"
                })
            {
                *v = serde_json::json!({"type": ["object", "boolean"]});
                return;
            }
            m.values_mut().for_each(repair_meta_schema_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(repair_meta_schema_refs),
        _ => {}
    }
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_official_example_validates_against_its_schema() {
        let Some(dir) = testdata_dir() else { return };
        let root = dir.join(DCP_PREFIX.1);
        let mut checked = 0;
        for area in ["issuance", "presentation"] {
            let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join(area).join("example"))
                .expect("example folder")
                .map(|e| e.expect("entry").path())
                .collect();
            examples.sort();
            for path in examples {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("utf-8 name")
                    .to_owned();
                // `credential-message-rejected` belongs to `credential-message-schema.json`: the longest schema
                // name that prefixes the example's.
                let schema = std::fs::read_dir(root.join(area))
                    .expect("schema folder")
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter_map(|n| n.strip_suffix("-schema.json").map(str::to_owned))
                    .filter(|s| stem.starts_with(s.as_str()))
                    .max_by_key(String::len)
                    .unwrap_or_else(|| panic!("no schema for example {stem}"));
                let rel = format!("{area}/{schema}-schema.json");
                if let Err(errors) = validate(&rel, &read_json(&path)) {
                    panic!(
                        "example {} is not valid against {rel}: {errors:#?}",
                        path.display()
                    );
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 11, "the 11 upstream examples");
    }

    #[test]
    fn upstream_schema_cases_give_the_expected_outcome() {
        let Some(dir) = testdata_dir() else { return };
        let manifest = read_json(&dir.join("schema-cases/manifest.json"));
        let cases = manifest["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 40);
        // The manifest's prefix map is the one this loader uses.
        assert_eq!(
            manifest["schemaRootMapping"][DCP_PREFIX.0],
            format!("../{}/", DCP_PREFIX.1)
        );
        assert_eq!(
            manifest["schemaRootMapping"][DIF_PREFIX.0],
            format!("../{}/", DIF_PREFIX.1)
        );
        let mut failures = Vec::new();
        for case in cases {
            let file = case["file"].as_str().expect("file");
            let schema = case["schema"].as_str().expect("schema");
            let valid = match case["expect"].as_str() {
                Some("valid") => true,
                Some("invalid") => false,
                other => panic!("{file}: unknown expectation {other:?}"),
            };
            let instance = read_json(&dir.join("schema-cases").join(file));
            match (valid, validate(schema, &instance)) {
                (true, Err(errors)) => {
                    failures.push(format!("{file}: expected valid, got {errors:?}"))
                }
                (false, Ok(())) => failures.push(format!("{file}: expected invalid, was accepted")),
                (false, Err(errors)) => {
                    // Each property upstream names as missing or wrong is named in some violation, or is where one
                    // is. The one exception is the query's `anyOf` (scope or presentationDefinition): upstream's
                    // validator reports each branch, this one the `anyOf` as a whole.
                    let expected = case["errors"].as_array().expect("errors");
                    for property in expected.iter().filter_map(|e| e["property"].as_str()) {
                        let quoted = format!("\"{property}\"");
                        let at = format!(" at /{property}");
                        if !errors.iter().any(|e| {
                            e.contains(&quoted) || e.ends_with(&at) || e.contains("'anyOf'")
                        }) {
                            failures
                                .push(format!("{file}: no violation names {property}: {errors:?}"));
                        }
                    }
                }
                (true, Ok(())) => {}
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn context_reference_resolves_by_url_not_id() {
        if testdata_dir().is_none() {
            return;
        }
        // Only the referenced context schema demands the DCP context; an instance lacking it fails only if the
        // `v1.0` reference reaches the file whose `$id` says `v08`.
        let wrong_context = serde_json::json!({
            "@context": ["https://w3id.org/dspace-dcp/v08/dcp.jsonld"],
            "type": "PresentationResponseMessage",
            "presentation": ["jwt"]
        });
        let errors = validate(
            "presentation/presentation-response-message-schema.json",
            &wrong_context,
        )
        .expect_err("a foreign context is refused");
        assert!(errors.iter().any(|e| e.contains("@context")), "{errors:?}");
        assert!(validate("no/such-schema.json", &wrong_context).is_err());
    }
}
