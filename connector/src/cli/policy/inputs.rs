//! Reading what the policy commands are given: policy files (refused with their lint report when they have errors,
//! as the connector refuses them), JSON files into typed values with the path of a bad field, engine settings
//! and the time zone, and local Rego modules.

use std::path::{Path, PathBuf};

use serde_json::Value;
use twinport_policy::lint::{lint, Diagnostic, Severity};
use twinport_policy::zone::PolicyZone;
use twinport_policy::{EngineSettings, Policy, RegoRules, Scope};

use crate::contracting::decision::connector_settings;

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a policy, refusing one the linter finds errors in (the connector would refuse it too): the message is
/// the lint report, one finding per line.
pub fn load_policy(path: &Path) -> Result<Policy, String> {
    let text = read(path)?;
    let json: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: invalid json: {}",
            path.display(),
            e.to_string().to_lowercase()
        )
    })?;
    let errors: Vec<Diagnostic> = lint(&json)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        let lines: Vec<String> = errors
            .iter()
            .map(|d| format!("  error {}: {}", d.path, d.message))
            .collect();
        return Err(format!(
            "{}: the policy has errors, so the connector would refuse it:\n{}",
            path.display(),
            lines.join("\n")
        ));
    }
    Policy::from_json(&json).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a JSON file into `T`, naming the JSON path of a bad field (`partner.claim`): the request types reject
/// unknown fields, and a typo deep inside would otherwise only say "unknown field".
pub fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = read(path)?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner().to_string();
        if at == "." || at == "?" {
            format!("{}: {inner}", path.display())
        } else {
            format!("{}: {at}: {inner}", path.display())
        }
    })?;
    // Text after the document is a mistake too (two contexts pasted into one file, say).
    de.end().map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(value)
}

/// The time zone policies without one of their own are read in: `--time-zone`, else UTC.
pub fn zone(name: Option<&str>) -> Result<PolicyZone, String> {
    match name {
        None => Ok(PolicyZone::utc()),
        Some(n) => PolicyZone::named(n).map_err(|e| format!("--time-zone: {e}")),
    }
}

/// The settings from `--settings`, or the connector's own (in `zone`) without it.
pub fn settings(path: Option<&Path>, zone: &PolicyZone) -> Result<EngineSettings, String> {
    let settings: EngineSettings = match path {
        None => connector_settings(zone),
        Some(p) => load_json(p)?,
    };
    PolicyZone::named(&settings.time_zone).map_err(|e| format!("settings: timeZone: {e}"))?;
    Ok(settings)
}

/// Local Rego modules for `scope`, each named by its file.
pub fn rego(paths: &[PathBuf], scope: Scope) -> Result<Option<RegoRules>, String> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut rules = RegoRules::new();
    for path in paths {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("rule");
        rules
            .add(scope, name, &read(path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Some(rules))
}
