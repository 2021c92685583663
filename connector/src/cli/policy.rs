//! `twinport policy ...`: the tools a city's legal team uses on policy files without running a connector —
//! `eval` (the compliance report for one request), `explain` (plain English), `lint` (static checks) and `test`
//! (policy test files, like `opa test`). `eval` and `test` decide with the connector's own settings, so their answer is what a running connector would
//! say; both take `--settings FILE` to choose others.
//!
//! Exit codes are part of the interface, because legal teams script these commands (documented in
//! `docs/policies.md`): 0 success / permit, 1 lint errors or failing tests, 2 an input that cannot be used
//! (missing file, malformed JSON, bad Rego; clap uses 2 for usage errors too), 3 a deny from `eval`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use twinport_policy::lint::{lint, Severity};
use twinport_policy::testing::{parse_test_file, run_test_file};
use twinport_policy::{Engine, EngineSettings, Policy, RegoRules, RequestContext, Scope};

use crate::contracting::decision::connector_settings;

/// Exit status for an input the command cannot use.
const EXIT_UNUSABLE: u8 = 2;
/// Exit status of `eval` when the decision is deny; distinct from 1 so a script can tell "denied" from "broken".
const EXIT_DENY: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Evaluate a policy for one request and print the compliance report (exit 0 permit, 3 deny, 2 unusable input).
    Eval {
        /// The ODRL policy (JSON).
        #[arg(long)]
        policy: PathBuf,
        /// The request context (JSON, see docs/policy-context.md).
        #[arg(long)]
        request: PathBuf,
        /// The moment of the decision: access, transfer, negotiation or catalogue.
        #[arg(long, default_value = "access", value_parser = parse_scope)]
        scope: Scope,
        /// A local Rego module for the chosen scope (`package twinport.<scope>`); repeatable.
        #[arg(long)]
        rego: Vec<PathBuf>,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Engine settings (JSON, e.g. `{"dutyNotSetBlocks": true}`); default: the connector's own settings.
        #[arg(long)]
        settings: Option<PathBuf>,
    },
    /// Print the policy in plain English, one sentence per rule.
    Explain {
        /// The ODRL policy (JSON).
        file: PathBuf,
    },
    /// Check a policy for errors and warnings (exit 1 if there is an error).
    Lint {
        /// The ODRL policy (JSON).
        file: PathBuf,
    },
    /// Run every *.test.json under DIR and print one line per case (exit 1 if a case fails).
    Test {
        /// Directory searched recursively for policy test files.
        dir: PathBuf,
        /// Engine settings (JSON); default: the connector's own settings.
        #[arg(long)]
        settings: Option<PathBuf>,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

/// Runs one `twinport policy` subcommand and returns its documented exit status.
pub fn run(command: PolicyCommand) -> ExitCode {
    let result = match command {
        PolicyCommand::Eval {
            policy,
            request,
            scope,
            rego,
            json,
            settings,
        } => load_settings(settings.as_deref(), connector_settings())
            .and_then(|s| eval(&policy, &request, scope, &rego, json, s)),
        PolicyCommand::Explain { file } => explain(&file),
        PolicyCommand::Lint { file } => lint_file(&file),
        PolicyCommand::Test { dir, settings } => {
            load_settings(settings.as_deref(), connector_settings()).and_then(|s| test_dir(&dir, s))
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a policy; a malformed one is reported with the path inside the document the library names.
fn load_policy(path: &Path) -> Result<Policy, String> {
    Policy::from_json_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a JSON file into `T`, naming the JSON path of a bad field (`counterparty.claim`): the request context
/// rejects unknown fields, and a typo deep inside it would otherwise only say "unknown field".
fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = read(path)?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner().to_string();
        if at == "." {
            format!("{}: {inner}", path.display())
        } else {
            format!("{}: {at}: {inner}", path.display())
        }
    })?;
    // Text after the document is a mistake too (two contexts pasted into one file, say).
    de.end().map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(value)
}

/// The settings from `--settings`, or `default` without it.
fn load_settings(path: Option<&Path>, default: EngineSettings) -> Result<EngineSettings, String> {
    path.map_or(Ok(default), load_json)
}

fn load_context(path: &Path) -> Result<RequestContext, String> {
    load_json(path)
}

fn eval(
    policy_path: &Path,
    request_path: &Path,
    scope: Scope,
    rego_paths: &[PathBuf],
    json: bool,
    settings: EngineSettings,
) -> Result<u8, String> {
    let policy = load_policy(policy_path)?;
    let ctx = load_context(request_path)?;
    let mut engine = Engine::new(settings);
    if !rego_paths.is_empty() {
        let mut rules = RegoRules::new();
        for path in rego_paths {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("rule");
            rules
                .add(scope, name, &read(path)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        engine = engine.with_rego(rules);
    }
    let report = engine.evaluate(&policy, &ctx, scope);
    if json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| format!("cannot render the report: {e}"))?;
        println!("{text}");
    } else {
        print!("{}", report.to_text());
        // The report lists every rule; the reasons say in a few lines why a request was refused.
        if !report.is_permit() {
            println!("reasons:");
            for reason in report.reasons().iter().skip(1) {
                println!("  - {reason}");
            }
        }
    }
    Ok(if report.is_permit() { 0 } else { EXIT_DENY })
}

fn explain(path: &Path) -> Result<u8, String> {
    let policy = load_policy(path)?;
    for sentence in twinport_policy::explain(&policy) {
        println!("{sentence}");
    }
    Ok(0)
}

fn lint_file(path: &Path) -> Result<u8, String> {
    let text = read(path)?;
    // Text that is not JSON at all is a finding about the document (exit 1), not an unusable input.
    let diagnostics = match serde_json::from_str(&text) {
        Ok(value) => lint(&value),
        Err(e) => {
            println!("error $: invalid json: {}", e.to_string().to_lowercase());
            return Ok(1);
        }
    };
    let mut errors = 0;
    for d in &diagnostics {
        let severity = match d.severity {
            Severity::Error => {
                errors += 1;
                "error"
            }
            Severity::Warning => "warning",
        };
        println!("{severity} {}: {}", d.path, d.message);
    }
    if diagnostics.is_empty() {
        println!("ok: no errors or warnings");
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

/// Every `*.test.json` under `dir`, sorted so the output is the same on every machine.
fn test_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            test_files(&path, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".test.json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn test_dir(dir: &Path, settings: EngineSettings) -> Result<u8, String> {
    let mut files = Vec::new();
    test_files(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no *.test.json files found", dir.display()));
    }
    let engine = Engine::new(settings);
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        let shown = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        // A test file that cannot be run counts as one failure, so a broken file can never look like a pass.
        let loaded = read(file)
            .and_then(|text| parse_test_file(&text).map_err(|e| e.to_string()))
            .and_then(|test| {
                let base = file.parent().unwrap_or(Path::new("."));
                let policy = load_policy(&base.join(&test.policy))?;
                Ok((test, policy))
            });
        let (test, policy) = match loaded {
            Ok(x) => x,
            Err(e) => {
                println!("FAIL {shown}: {e}");
                failed += 1;
                continue;
            }
        };
        match &test.description {
            Some(d) => println!("# {shown}: {d}"),
            None => println!("# {shown}"),
        }
        for outcome in run_test_file(&test, &policy, &engine) {
            if outcome.passed {
                println!("ok   {}", outcome.name);
                passed += 1;
            } else {
                println!("FAIL {}: {}", outcome.name, outcome.detail);
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed > 0 { 1 } else { 0 })
}
