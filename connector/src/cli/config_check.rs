//! `twinport config check`: everything `serve` would refuse before binding a port, without binding one or opening
//! (let alone creating) the database, for CI pipelines and systemd's `ExecReload`. Unlike `serve`, which stops
//! at the first problem, it lists every problem it can find, each with the file (or environment variable) and the
//! field: the config keys, the signing key, TLS files, DCP credentials, Rego rules, and the catalogue's policy and
//! resource files (`super::catalogue_check`). Exit 0 when there is none, 1 otherwise.
//!
//! The config is validated by the same code `serve` runs, which stops at its first error; to go on, the key in
//! error is taken out (or, for a required key, given a stand-in value) and the rest validated again. A problem
//! that involves several keys at once ends the key checks; the files the keys locate are still checked (TLS and
//! credentials only when the keys passed).

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{Config, ConfigError, RawConfig};

/// One thing to fix: where (a file, or an environment variable), which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub source: String,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}: {}: {}", self.source, self.field, self.message)
        }
    }
}

/// What a check found: problems refuse the config, warnings do not.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Set when a problem stopped the config keys from being checked further.
    pub stopped_early: bool,
}

pub fn run(path: &Path) -> ExitCode {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let report = check(path, &vars);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for p in &report.problems {
        eprintln!("{p}");
    }
    if report.stopped_early {
        eprintln!("(the remaining config keys were not checked: fix the problems above first)");
    }
    match report.problems.len() {
        0 => {
            println!("{}: OK", path.display());
            ExitCode::SUCCESS
        }
        n => {
            eprintln!(
                "{}: {n} problem{}",
                path.display(),
                if n == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}

/// Checks the config at `path` with the environment `vars`, and every file it names.
pub fn check(path: &Path, vars: &[(String, String)]) -> Report {
    let mut report = Report::default();
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(Problem {
                source: file,
                field: String::new(),
                message: format!("cannot read config file: {e}"),
            });
            return report;
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let Some((config, stand_ins)) = validate_keys(&text, base, &file, vars, &mut report) else {
        return report;
    };
    check_loaded_files(&config, &stand_ins, &file, &mut report);
    super::catalogue_check::check(&config, &file, &mut report);
    report
}

/// Required keys and a valid value to carry on with once their own problem has been reported.
const STAND_INS: &[(&str, &str)] = &[
    ("participant_id", "urn:twinport:config-check"),
    ("signing_key", "config-check-stand-in.pem"),
    ("management_token", "config-check-stand-in-token"),
];

/// Validates the keys again and again, each time without the key the last error named, until the rest passes.
/// Returns the config that passed (with stand-ins where a required key was wrong) and the stand-ins used.
fn validate_keys(
    text: &str,
    base: &Path,
    file: &str,
    vars: &[(String, String)],
    report: &mut Report,
) -> Option<(Config, HashSet<String>)> {
    let mut doc: toml::Table = match text.parse::<toml::Table>() {
        Ok(doc) => doc,
        Err(e) => {
            report.problems.push(Problem {
                source: file.to_string(),
                field: String::new(),
                message: format!(
                    "not valid TOML{}: {}",
                    e.span()
                        .map(|s| format!(" (line {})", line_of(text, s.start)))
                        .unwrap_or_default(),
                    e.message()
                ),
            });
            return None;
        }
    };
    let mut vars: Vec<(String, String)> = vars.to_vec();
    let mut reported: HashSet<String> = HashSet::new();
    let mut stand_ins: HashSet<String> = HashSet::new();
    // Each round removes a key or an environment variable, or gives up; the bound is only a backstop.
    for _ in 0..256 {
        let rendered = toml::to_string(&doc).unwrap_or_default();
        let (key, message) = match Config::from_toml(&rendered, base, &vars) {
            Ok(config) => return Some((config, stand_ins)),
            Err(ConfigError::Invalid { key, problem }) => (key, problem),
            Err(ConfigError::Syntax { message }) => match shape_error(&doc) {
                Some((key, message)) => (key, message),
                None => {
                    // The file has the right shape, so a variable's value does not fit its key.
                    report.problems.push(Problem {
                        source: "environment".into(),
                        field: String::new(),
                        message,
                    });
                    report.stopped_early = true;
                    return None;
                }
            },
            Err(e @ ConfigError::Read { .. }) => {
                report.problems.push(Problem {
                    source: file.to_string(),
                    field: String::new(),
                    message: e.to_string(),
                });
                return None;
            }
        };
        let var = env_var_of(&key);
        let from_env = vars.iter().any(|(name, _)| *name == var);
        if reported.insert(key.clone()) {
            report.problems.push(Problem {
                source: if from_env {
                    format!("{var} (environment)")
                } else {
                    file.to_string()
                },
                field: key.clone(),
                message,
            });
        }
        if from_env {
            vars.retain(|(name, _)| *name != var);
            remove(&mut doc, &key);
            continue;
        }
        if remove(&mut doc, &key) {
            continue;
        }
        match STAND_INS.iter().find(|(k, _)| *k == key) {
            Some((k, v)) if stand_ins.insert(k.to_string()) => {
                doc.insert(k.to_string(), toml::Value::String(v.to_string()));
            }
            // Nothing left to take out: the problem is between keys (e.g. production mode without [oidc]).
            _ => {
                report.stopped_early = true;
                return files_only(&doc, base, &vars).map(|c| (c, stand_ins));
            }
        }
    }
    report.stopped_early = true;
    files_only(&doc, base, &vars).map(|c| (c, stand_ins))
}

/// The keys that say where the files are, alone (with a stand-in token, in development mode): what the file
/// checks need once the key checks had to stop. `None` if even these do not validate.
fn files_only(doc: &toml::Table, base: &Path, vars: &[(String, String)]) -> Option<Config> {
    let mut kept: toml::Table = doc
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "participant_id"
                    | "signing_key"
                    | "catalogue_dir"
                    | "catalogue"
                    | "policy_time_zone"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kept.insert(
        "management_token".into(),
        toml::Value::String("config-check-stand-in-token".into()),
    );
    let vars: Vec<(String, String)> = vars
        .iter()
        .filter(|(name, _)| {
            matches!(
                name.as_str(),
                "TWINPORT_PARTICIPANT_ID" | "TWINPORT_SIGNING_KEY" | "TWINPORT_CATALOGUE_DIR"
            )
        })
        .cloned()
        .collect();
    Config::from_toml(&toml::to_string(&kept).ok()?, base, &vars).ok()
}

/// The files `serve` reads before it opens storage: the signing key, TLS certificates, DCP credentials, rules.
fn check_loaded_files(
    config: &Config,
    stand_ins: &HashSet<String>,
    file: &str,
    report: &mut Report,
) {
    let mut problem = |field: &str, message: String| {
        report.problems.push(Problem {
            source: file.to_string(),
            field: field.to_string(),
            message,
        })
    };
    if !stand_ins.contains("signing_key") {
        if let Err(e) =
            crate::identity::LocalIdentity::load(&config.participant_id, &config.signing_key_path)
        {
            // The key's own errors already start with the key's name.
            let message = e.to_string();
            let message = message.strip_prefix("signing_key: ").unwrap_or(&message);
            problem("signing_key", message.to_string());
        }
    }
    if let Err(e) = crate::tls::Tls::load(&config.tls) {
        problem("tls", e.to_string());
    }
    if let Some(dcp) = &config.dcp {
        if let Err(e) =
            crate::identity::dcp::Wallet::load(&dcp.credentials_dir, &config.participant_id)
        {
            problem("dcp.credentials_dir", e.to_string());
        }
    }
    if let Err(e) = crate::contracting::decision::PolicyService::load(
        &config.catalogue_dir,
        &config.policy_time_zone,
    ) {
        problem("catalogue_dir", format!("rules: {e}"));
    }
}

/// The first place where the file does not fit the config's shape (an unknown key, a string for a number),
/// as (key, message); `None` when it fits.
fn shape_error(doc: &toml::Table) -> Option<(String, String)> {
    let value = toml::Value::Table(doc.clone());
    let err = serde_path_to_error::deserialize::<_, RawConfig>(value).err()?;
    let mut key = String::new();
    for segment in err.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key: k } => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
            }
            _ => {}
        }
    }
    Some((key, err.inner().message().trim().to_string()))
}

/// The variable that overrides a key: `TWINPORT_` and the key in capitals, dots as underscores (the rule every
/// documented override follows, `limits.max_connections` → `TWINPORT_LIMITS_MAX_CONNECTIONS`).
fn env_var_of(key: &str) -> String {
    format!("TWINPORT_{}", key.to_ascii_uppercase().replace('.', "_"))
}

/// Takes `key` (`a.b`, `a[2].b`) out of the document; when it is absent (a required key) or an array element
/// (taking that out would renumber the others, and the next errors would name the wrong index), the array it is
/// in, whole, or else the nearest enclosing table. False when nothing on the way exists.
fn remove(doc: &mut toml::Table, key: &str) -> bool {
    let parts = parse_key(key);
    if parts.last().is_some_and(|(_, index)| index.is_none()) && remove_at(doc, &parts) {
        return true;
    }
    if let Some(i) = parts.iter().position(|(_, index)| index.is_some()) {
        return remove_at(doc, &parts[..=i]);
    }
    (1..parts.len())
        .rev()
        .any(|len| remove_at(doc, &parts[..len]))
}

fn remove_at(doc: &mut toml::Table, path: &[(String, Option<usize>)]) -> bool {
    let Some(((last, _), ancestors)) = path.split_last() else {
        return false;
    };
    let mut table = doc;
    for (name, index) in ancestors {
        let Some(value) = table.get_mut(name) else {
            return false;
        };
        let value = match (value, index) {
            (toml::Value::Array(items), Some(i)) => match items.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            (v, None) => v,
            _ => return false,
        };
        match value {
            toml::Value::Table(t) => table = t,
            _ => return false,
        }
    }
    table.remove(last).is_some()
}

/// `partners[0].jwks` → [("partners", Some(0)), ("jwks", None)].
fn parse_key(key: &str) -> Vec<(String, Option<usize>)> {
    key.split('.')
        .map(|part| match part.split_once('[') {
            Some((name, rest)) => (name.to_string(), rest.trim_end_matches(']').parse().ok()),
            None => (part.to_string(), None),
        })
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_taken_out_with_their_array() {
        let mut doc: toml::Table =
            "a = 1\n[oidc]\nissuer = \"x\"\n[[partners]]\nid = \"p\"\njwks = 1\n"
                .parse()
                .unwrap();
        assert!(remove(&mut doc, "oidc.issuer"));
        assert!(doc["oidc"].as_table().unwrap().is_empty());
        assert!(remove(&mut doc, "partners[0].jwks"));
        assert!(doc["partners"][0].get("jwks").is_none());
        // Absent now (a required key): its whole array goes.
        assert!(remove(&mut doc, "partners[0].jwks"));
        assert!(!doc.contains_key("partners"));
        assert!(!remove(&mut doc, "partners[0].id"));
        assert!(!remove(&mut doc, "nowhere"));
        assert!(remove(&mut doc, "a"));
    }

    #[test]
    fn an_unknown_key_is_found_with_its_path() {
        let doc: toml::Table = "participant_id = \"urn:x\"\n[limits]\nmax_conections = 3\n"
            .parse()
            .unwrap();
        let (key, message) = shape_error(&doc).unwrap();
        assert_eq!(key, "limits.max_conections");
        assert!(message.contains("unknown field"), "{message}");
    }

    #[test]
    fn variables_follow_the_key() {
        assert_eq!(
            env_var_of("limits.max_connections"),
            "TWINPORT_LIMITS_MAX_CONNECTIONS"
        );
        assert_eq!(line_of("a\nb\nc", 2), 2);
    }
}
