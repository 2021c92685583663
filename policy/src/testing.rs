//! Policy test files for `twinport policy test DIR`, in the spirit of `opa test`: a JSON file names a policy
//! file (relative path in `policy`, read by the CLI) and lists cases, each a request context with the expected
//! decision and, optionally, text that must appear in the reasons. This module works on already-read strings.
//!
//! ```json
//! { "policy": "research-only.json",
//!   "scope": "access",
//!   "cases": [ { "name": "research is allowed", "context": {"purpose": "research"}, "expect": "permit" },
//!              { "name": "marketing is refused", "context": {"purpose": "marketing"}, "expect": "deny",
//!                "reasons": ["purpose \"marketing\" does not satisfy"] } ] }
//! ```

use crate::context::RequestContext;
use crate::engine::{Engine, Scope};
use crate::error::PolicyError;
use crate::model::Policy;
use crate::report::Decision;
use serde::{Deserialize, Serialize};

/// One policy test file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Path of the policy JSON, relative to the test file.
    pub policy: String,
    /// Free text shown by the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Scope for cases that do not name one (default `access`).
    #[serde(default = "default_scope")]
    pub scope: Scope,
    pub cases: Vec<TestCase>,
}

fn default_scope() -> Scope {
    Scope::Access
}

/// One case: a request and what the engine must answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub context: RequestContext,
    pub expect: Decision,
    /// Each string must occur (case-insensitively) in at least one line of the report's reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// Result of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOutcome {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// Reads a test file.
pub fn parse_test_file(json: &str) -> Result<TestFile, PolicyError> {
    let t: TestFile = serde_json::from_str(json)
        .map_err(|e| PolicyError::TestFile(e.to_string().to_lowercase()))?;
    if t.cases.is_empty() {
        return Err(PolicyError::TestFile("no cases".into()));
    }
    Ok(t)
}

fn word(d: Decision) -> &'static str {
    match d {
        Decision::Permit => "permit",
        Decision::Deny => "deny",
    }
}

/// Runs every case of `test` against `policy`.
pub fn run_test_file(test: &TestFile, policy: &Policy, engine: &Engine) -> Vec<CaseOutcome> {
    test.cases
        .iter()
        .map(|case| {
            let report = engine.evaluate(policy, &case.context, case.scope.unwrap_or(test.scope));
            let reasons = report.reasons();
            let lower: Vec<String> = reasons.iter().map(|r| r.to_lowercase()).collect();
            let missing: Vec<&String> = case
                .reasons
                .iter()
                .filter(|want| {
                    let w = want.to_lowercase();
                    !lower.iter().any(|r| r.contains(&w))
                })
                .collect();
            let decision_ok = report.decision == case.expect;
            let passed = decision_ok && missing.is_empty();
            let detail = if passed {
                format!("{} as expected", word(report.decision))
            } else if !decision_ok {
                format!(
                    "expected {}, got {}: {}",
                    word(case.expect),
                    word(report.decision),
                    reasons.join("; ")
                )
            } else {
                format!(
                    "{} as expected, but reasons lack {:?}; reasons were: {}",
                    word(report.decision),
                    missing,
                    reasons.join("; ")
                )
            };
            CaseOutcome {
                name: case.name.clone(),
                passed,
                detail,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::EngineSettings;

    #[test]
    fn runs_cases_and_checks_reasons() {
        let policy = Policy::from_json_str(
            r#"{"@type":"Set","permission":[{"action":"use","constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"research"}]}]}"#,
        );
        let Ok(policy) = policy else {
            panic!("policy did not parse")
        };
        let file = parse_test_file(
            r#"{"policy":"p.json","cases":[
              {"name":"ok","context":{"purpose":"research"},"expect":"permit"},
              {"name":"no","context":{"purpose":"ads"},"expect":"deny","reasons":["\"ads\" does not satisfy"]},
              {"name":"wrong expectation","context":{"purpose":"ads"},"expect":"permit"},
              {"name":"wrong reason","context":{"purpose":"ads"},"expect":"deny","reasons":["nonsense"]}]}"#,
        );
        let Ok(file) = file else {
            panic!("test file did not parse")
        };
        let out = run_test_file(&file, &policy, &Engine::new(EngineSettings::default()));
        let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
        assert_eq!(passed, vec![true, true, false, false]);
        assert!(out[2].detail.starts_with("expected permit, got deny"));
        assert!(out[3].detail.contains("nonsense"));
    }

    #[test]
    fn rejects_bad_files() {
        assert!(parse_test_file("{").is_err());
        assert!(parse_test_file(r#"{"policy":"p.json","cases":[]}"#).is_err());
        let e = parse_test_file(r#"{"policy":"p.json","cases":[{"name":"x","expect":"maybe"}]}"#);
        assert!(matches!(e, Err(PolicyError::TestFile(m)) if m.contains("maybe")));
    }
}
