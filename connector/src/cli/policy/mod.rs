//! `twinport policy ...`: the tools a city's legal team uses on policy files without running a connector —
//! `eval` (the compliance report for one request), `simulate` (a partner's whole path: catalogue, negotiation,
//! transfer, first and N-th access), `explain` (plain English), `lint` (static checks), `test` (policy test
//! files, like `opa test`) and `diff` (what changed between two versions, for sign-off). They decide with the
//! connector's own settings and the connector's own request builder, so their answer is what a running connector
//! would say; a policy with lint errors is refused by every command, as the connector refuses it.
//!
//! Exit codes are part of the interface, because legal teams script these commands (documented in
//! `docs/policies.md`): 0 success / permit / no change, 1 lint errors, failing tests or a change (`diff`), 2 an
//! input that cannot be used (missing file, malformed JSON, a policy with errors, bad Rego; clap uses 2 for usage
//! errors too), 3 a deny from `eval`.

/// `println!` that ends the command quietly when its reader has gone (`twinport policy simulate … | head`)
/// instead of panicking on the broken pipe.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::policy::write_line(format_args!($($arg)*))
    };
}

mod inputs;
mod simulate;
mod test_files;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use twinport_policy::lint::{lint_with, LintOptions, Severity};
use twinport_policy::request::{build, Facts};
use twinport_policy::{Engine, RequestContext, Scope};

use inputs::{load_json, load_policy, read};

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
        /// The request as the connector knows it (partner, claims, purpose, time, ...: docs/policy-context.md);
        /// the connector's request builder makes the scope's context from it.
        #[arg(long, conflicts_with = "context", required_unless_present = "context")]
        request: Option<PathBuf>,
        /// A request context written by hand, used as it is (for experts).
        #[arg(long)]
        context: Option<PathBuf>,
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
        /// Time zone for dates, days and times of day (IANA name, the connector's `policy_time_zone`); default UTC.
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Show what the connector would decide for one partner: the offer in the catalogue, the negotiation, the
    /// transfer, the first and the N-th access, each with the exact request context.
    Simulate(simulate::SimulateArgs),
    /// Print the policy in plain English, one sentence per rule (refused, exit 1, when it has lint errors).
    Explain {
        /// The ODRL policy (JSON).
        file: PathBuf,
        /// Time zone for dates, days and times of day (IANA name); default UTC.
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Check a policy for errors and warnings (exit 1 if there is an error).
    Lint {
        /// The ODRL policy (JSON).
        file: PathBuf,
        /// Lint it as a policy stored in a connector's catalogue, whose offers supply the target and assigner.
        #[arg(long)]
        catalogue: bool,
    },
    /// Run a policy test file, or every *.test.json under a directory, one line per case (exit 1 if a case fails).
    Test {
        /// A test file, or a directory searched recursively for them.
        path: PathBuf,
        /// Engine settings (JSON); default: the connector's own settings.
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Time zone for dates, days and times of day (IANA name); default UTC.
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Print what changed in meaning between two versions of a policy (exit 0 no change, 1 changed).
    Diff {
        /// The version signed off before.
        old: PathBuf,
        /// The version to sign off now.
        new: PathBuf,
        /// Time zone for policies that name none (IANA name); default UTC.
        #[arg(long)]
        time_zone: Option<String>,
    },
}

pub(crate) fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if writeln!(std::io::stdout().lock(), "{args}").is_err() {
        std::process::exit(0);
    }
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
            context,
            scope,
            rego,
            json,
            settings,
            time_zone,
        } => eval(Eval {
            policy,
            request,
            context,
            scope,
            rego,
            json,
            settings,
            time_zone,
        }),
        PolicyCommand::Simulate(args) => simulate::run(args),
        PolicyCommand::Explain { file, time_zone } => explain(&file, time_zone.as_deref()),
        PolicyCommand::Lint { file, catalogue } => lint_file(&file, catalogue),
        PolicyCommand::Test {
            path,
            settings,
            time_zone,
        } => inputs::zone(time_zone.as_deref())
            .and_then(|z| inputs::settings(settings.as_deref(), &z))
            .and_then(|s| test_files::run(&path, s)),
        PolicyCommand::Diff {
            old,
            new,
            time_zone,
        } => diff(&old, &new, time_zone.as_deref()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}

struct Eval {
    policy: PathBuf,
    request: Option<PathBuf>,
    context: Option<PathBuf>,
    scope: Scope,
    rego: Vec<PathBuf>,
    json: bool,
    settings: Option<PathBuf>,
    time_zone: Option<String>,
}

fn eval(args: Eval) -> Result<u8, String> {
    let zone = inputs::zone(args.time_zone.as_deref())?;
    let settings = inputs::settings(args.settings.as_deref(), &zone)?;
    let policy = load_policy(&args.policy)?;
    let (ctx, built) = match (&args.request, &args.context) {
        (Some(path), _) => {
            let facts: Facts = load_json(path)?;
            (build(args.scope, &facts, &policy), true)
        }
        (None, Some(path)) => (load_json::<RequestContext>(path)?, false),
        (None, None) => return Err("give --request FILE or --context FILE".into()),
    };
    let mut engine = Engine::new(settings);
    if let Some(rules) = inputs::rego(&args.rego, args.scope)? {
        engine = engine.with_rego(rules);
    }
    let report = engine.evaluate(&policy, &ctx, args.scope);
    if args.json {
        let mut shown =
            serde_json::to_value(&report).map_err(|e| format!("cannot render the report: {e}"))?;
        if built {
            shown["context"] = serde_json::to_value(&ctx).unwrap_or_default();
        }
        let text = serde_json::to_string_pretty(&shown)
            .map_err(|e| format!("cannot render the report: {e}"))?;
        say!("{text}");
    } else {
        if built {
            say!(
                "context: {}",
                serde_json::to_string(&ctx).unwrap_or_default()
            );
        }
        say!("{}", report.to_text().trim_end());
        // The report lists every rule; the reasons say in a few lines why a request was refused.
        if !report.is_permit() {
            say!("reasons:");
            for reason in report.reasons().iter().skip(1) {
                say!("  - {reason}");
            }
        }
    }
    Ok(if report.is_permit() { 0 } else { EXIT_DENY })
}

/// Explains only what the connector would accept: a policy with lint errors gets its lint report instead, and
/// exit 1, so fluent sentences are never printed for a policy that does not mean what they say.
fn explain(path: &Path, time_zone: Option<&str>) -> Result<u8, String> {
    let zone = inputs::zone(time_zone)?;
    let text = read(path)?;
    let json = twinport_policy::json_text::parse(&text)
        .map_err(|e| format!("{}: invalid json: {e}", path.display()))?;
    let findings = lint_with(&json, LintOptions::default());
    if findings.iter().any(|d| d.severity == Severity::Error) {
        say!("not explained: the policy has errors, so the connector would refuse it");
        print_findings(&findings);
        return Ok(1);
    }
    let policy = twinport_policy::Policy::from_json(&json)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    for sentence in twinport_policy::explain_in(&policy, &zone) {
        say!("{sentence}");
    }
    Ok(0)
}

fn print_findings(findings: &[twinport_policy::lint::Diagnostic]) {
    for d in findings {
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        say!("{severity} {}: {}", d.path, d.message);
    }
}

fn lint_file(path: &Path, catalogue: bool) -> Result<u8, String> {
    let text = read(path)?;
    // Text that is not JSON at all is a finding about the document (exit 1), not an unusable input.
    let findings = match twinport_policy::json_text::parse(&text) {
        Ok(value) => lint_with(
            &value,
            LintOptions {
                offered_by_connector: catalogue,
            },
        ),
        Err(e) => {
            say!("error $: invalid json: {e}");
            return Ok(1);
        }
    };
    print_findings(&findings);
    if findings.is_empty() {
        say!("ok: no errors or warnings");
    }
    let errors = findings
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    Ok(if errors > 0 { 1 } else { 0 })
}

fn diff(old: &Path, new: &Path, time_zone: Option<&str>) -> Result<u8, String> {
    let zone = inputs::zone(time_zone)?;
    let old = load_policy(old)?;
    let new = load_policy(new)?;
    let changes = twinport_policy::diff::diff(&old, &new, &zone);
    if changes.is_empty() {
        say!("no change in meaning");
        return Ok(0);
    }
    for c in &changes {
        say!("{c}");
    }
    Ok(1)
}
