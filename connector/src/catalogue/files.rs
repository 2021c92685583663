//! Reads the catalogue directory: `resources/*.toml|*.json` (one resource per file) and `policies/*.json` (one ODRL
//! policy per file, its id the file name). Every error names the file and the field.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::policy_doc;
use super::resource::{parse_resource, serde_error, FieldError, Resource};

/// A catalogue declaration that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue directory {0} does not exist (create it, or run `twinport init`)")]
    MissingDirectory(String),
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        path: String,
        problems: Vec<FieldError>,
    },
}

/// What the catalogue directory declares.
#[derive(Debug, Default)]
pub struct Declared {
    pub resources: Vec<(PathBuf, Resource)>,
    pub policies: Vec<(String, Value)>,
}

pub fn load(dir: &Path) -> Result<Declared, CatalogueError> {
    if !dir.is_dir() {
        return Err(CatalogueError::MissingDirectory(dir.display().to_string()));
    }
    let mut declared = Declared::default();
    for path in policy_files(dir)? {
        declared.policies.push(read_policy(&path)?);
    }
    declared.resources = load_resources(dir)?;
    Ok(declared)
}

/// The policy files of a catalogue directory, sorted.
pub fn policy_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogueError> {
    files_in(&dir.join("policies"), &["json"])
}

/// The id a policy file declares: its file name without `.json`.
pub fn policy_id(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// One policy file, read and linted: errors refuse it, warnings are logged.
pub fn read_policy(path: &Path) -> Result<(String, Value), CatalogueError> {
    let text = read(path)?;
    let value: Value =
        twinport_policy::json_text::parse(&text).map_err(|e| CatalogueError::Unreadable {
            path: path.display().to_string(),
            message: format!("not valid JSON: {e}"),
        })?;
    let warnings = policy_doc::validate(&value).map_err(|problems| CatalogueError::Invalid {
        path: path.display().to_string(),
        problems,
    })?;
    for w in warnings {
        tracing::warn!(file = %path.display(), field = %w.field, "policy warning: {}", w.problem);
    }
    Ok((policy_id(path), value))
}

/// The resource files of a catalogue directory, each parsed; the first bad one (or a repeated id) refuses all.
pub fn load_resources(dir: &Path) -> Result<Vec<(PathBuf, Resource)>, CatalogueError> {
    if !dir.is_dir() {
        return Err(CatalogueError::MissingDirectory(dir.display().to_string()));
    }
    let mut resources: Vec<(PathBuf, Resource)> = Vec::new();
    for path in files_in(&dir.join("resources"), &["json", "toml"])? {
        let text = read(&path)?;
        let invalid = |problems| CatalogueError::Invalid {
            path: path.display().to_string(),
            problems,
        };
        let value: Value = if path.extension().is_some_and(|e| e == "toml") {
            let table: toml::Table =
                toml::from_str(&text).map_err(|e| CatalogueError::Unreadable {
                    path: path.display().to_string(),
                    message: format!("not valid TOML: {}", e.message()),
                })?;
            serde_json::to_value(table).map_err(|e| invalid(vec![serde_error(&e.to_string())]))?
        } else {
            twinport_policy::json_text::parse(&text).map_err(|e| CatalogueError::Unreadable {
                path: path.display().to_string(),
                message: format!("not valid JSON: {e}"),
            })?
        };
        let resource = parse_resource(value).map_err(invalid)?;
        if let Some((other, _)) = resources.iter().find(|(_, r)| r.id == resource.id) {
            return Err(invalid(vec![FieldError {
                field: "id".into(),
                problem: format!("{} is already declared in {}", resource.id, other.display()),
            }]));
        }
        resources.push((path, resource));
    }
    Ok(resources)
}

fn read(path: &Path) -> Result<String, CatalogueError> {
    std::fs::read_to_string(path).map_err(|e| CatalogueError::Unreadable {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Files with one of `extensions` directly in `dir`, sorted; a missing directory is simply empty.
fn files_in(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, CatalogueError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| CatalogueError::Unreadable {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    files.sort();
    Ok(files)
}
