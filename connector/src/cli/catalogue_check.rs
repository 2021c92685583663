//! The catalogue part of `twinport config check`: every policy file linted as `twinport policy lint --catalogue`
//! lints it (errors refuse the start, warnings are shown), every resource file parsed and validated as the start
//! loads it, repeated resource ids, discoverable resources the open catalogue cannot publish, and offers naming a
//! policy no file declares. Each file is checked on its own, so one bad file does not hide the next.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::config_check::{Problem, Report};
use crate::catalogue::policy_doc;
use crate::catalogue::resource::{parse_resource, serde_error, Resource};
use crate::config::Config;

/// `config_file` is named for a problem with `catalogue_dir` itself.
pub fn check(config: &Config, config_file: &str, report: &mut Report) {
    let dir = &config.catalogue_dir;
    if !dir.is_dir() {
        report.problems.push(Problem {
            source: config_file.to_string(),
            field: "catalogue_dir".into(),
            message: format!(
                "{} does not exist (create it, or run `twinport init`)",
                dir.display()
            ),
        });
        return;
    }
    let mut policies = Vec::new();
    for path in files(&dir.join("policies"), &["json"], report) {
        let Some(value) = read(&path, report) else {
            continue;
        };
        let findings = policy_doc::check(&value);
        let at = |f: crate::catalogue::FieldError| Problem {
            source: path.display().to_string(),
            field: f.field,
            message: f.problem,
        };
        report
            .warnings
            .extend(findings.warnings.into_iter().map(at));
        report.problems.extend(findings.errors.into_iter().map(at));
        if let Some(id) = path.file_stem().and_then(|s| s.to_str()) {
            policies.push(id.to_string());
        }
    }
    let mut ids: HashMap<String, PathBuf> = HashMap::new();
    for path in files(&dir.join("resources"), &["json", "toml"], report) {
        let Some(value) = read(&path, report) else {
            continue;
        };
        let source = path.display().to_string();
        let problem = |field: String, message: String| Problem {
            source: source.clone(),
            field,
            message,
        };
        let resource: Resource = match parse_resource(value) {
            Ok(r) => r,
            Err(errors) => {
                report
                    .problems
                    .extend(errors.into_iter().map(|e| problem(e.field, e.problem)));
                continue;
            }
        };
        if let Some(other) = ids.get(&resource.id) {
            report.problems.push(problem(
                "id".into(),
                format!("{} is already declared in {}", resource.id, other.display()),
            ));
        } else {
            ids.insert(resource.id.clone(), path.clone());
        }
        for e in crate::catalogue::public::publishable_problems(&resource, &config.catalogue) {
            report.problems.push(problem(e.field, e.problem));
        }
        // The start also accepts a policy stored through the management API, which only the database knows.
        for (i, offer) in resource.offers.iter().enumerate() {
            if !policies.contains(&offer.policy) {
                report.warnings.push(problem(
                    format!("offers[{i}].policy"),
                    format!(
                        "no policies/{}.json: the start fails unless the database holds policy {:?} (added \
                         through the management API)",
                        offer.policy, offer.policy
                    ),
                ));
            }
        }
    }
}

/// A policy or resource file as JSON (resources may be TOML); a file that cannot be read is a problem.
fn read(path: &Path, report: &mut Report) -> Option<Value> {
    let fail = |message: String| Problem {
        source: path.display().to_string(),
        field: String::new(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(fail(e.to_string()));
            return None;
        }
    };
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str::<toml::Table>(&text)
            .map_err(|e| format!("not valid TOML: {}", e.message()))
            .and_then(|t| serde_json::to_value(t).map_err(|e| serde_error(&e.to_string()).problem))
    } else {
        twinport_policy::json_text::parse(&text).map_err(|e| format!("not valid JSON: {e}"))
    };
    parsed.map_err(|m| report.problems.push(fail(m))).ok()
}

/// The files with one of `extensions` directly in `dir`, sorted; a missing directory has none.
fn files(dir: &Path, extensions: &[&str], report: &mut Report) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            report.problems.push(Problem {
                source: dir.display().to_string(),
                field: String::new(),
                message: e.to_string(),
            });
            return Vec::new();
        }
    };
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
    files
}
