//! Policy test files for `twinport policy test`, in the spirit of `opa test`: a JSON file names a policy file
//! (relative path in `policy`, read by the CLI) and lists cases. A case describes a request as the connector sees
//! it (`request`: the partner, its claims, the purpose, the time, the accesses so far), which the connector's own
//! request builder turns into the context for each scope, or, for experts, a hand-written `context`. It expects a
//! decision for one scope, or one per scope, and optionally text that must appear in the reasons. This module
//! works on already-read strings.
//!
//! ```json
//! { "policy": "research-only.policy.json",
//!   "cases": [ { "name": "a university doing research",
//!                "request": { "partner": {"id": "did:web:uu.nl"}, "purpose": "dpv:AcademicResearch",
//!                             "at": "2026-11-24T09:00:00Z" },
//!                "expect": { "catalogue": "permit", "negotiation": "permit", "transfer": "permit", "access": "permit" } },
//!              { "name": "no purpose", "scope": "negotiation", "request": { "partner": {"id": "did:web:uu.nl"} },
//!                "expect": "deny", "reasons": ["the partner declared no purpose"] } ] }
//! ```

use std::collections::BTreeMap;

use crate::context::RequestContext;
use crate::engine::{Engine, Scope};
use crate::error::PolicyError;
use crate::model::Policy;
use crate::report::Decision;
use crate::request::{build, Facts};
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
    /// Scope for cases that expect one decision and name no scope (default `access`).
    #[serde(default = "default_scope")]
    pub scope: Scope,
    pub cases: Vec<TestCase>,
}

fn default_scope() -> Scope {
    Scope::Access
}

/// What a case expects: one decision (in the case's or the file's scope), or one decision per scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Expectation {
    One(Decision),
    PerScope(BTreeMap<Scope, Decision>),
}

fn decision_of(v: &serde_json::Value, at: &str) -> Result<Decision, String> {
    match v.as_str() {
        Some("permit") => Ok(Decision::Permit),
        Some("deny") => Ok(Decision::Deny),
        Some(other) => Err(format!(
            "{at}: {other:?} is not \"permit\" or \"deny\"{}",
            crate::spelling::hint(crate::spelling::closest(other, ["permit", "deny"]))
        )),
        None => Err(format!("{at}: expected \"permit\" or \"deny\", found {v}")),
    }
}

// Read by hand so that a misspelt scope or decision is named, with the word meant, instead of "data did not
// match any variant".
impl<'de> Deserialize<'de> for Expectation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let out = match &v {
            serde_json::Value::Object(m) => {
                let mut per = BTreeMap::new();
                for (k, d) in m {
                    let scope: Scope = k.parse().map_err(|e: String| {
                        let names = Scope::ALL.map(Scope::as_str);
                        serde::de::Error::custom(format!(
                            "expect: {e}{}",
                            crate::spelling::hint(crate::spelling::closest(k, names))
                        ))
                    })?;
                    per.insert(
                        scope,
                        decision_of(d, &format!("expect.{k}")).map_err(serde::de::Error::custom)?,
                    );
                }
                Expectation::PerScope(per)
            }
            other => {
                Expectation::One(decision_of(other, "expect").map_err(serde::de::Error::custom)?)
            }
        };
        Ok(out)
    }
}

/// One case: a request and what the engine must answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The request as the connector knows it; the connector's request builder makes each scope's context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Facts>,
    /// A hand-written request context, used as it is in every scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<RequestContext>,
    pub expect: Expectation,
    /// Each string must occur (case-insensitively) in at least one line of the reasons of every refusal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl TestCase {
    /// The scopes this case is decided in, with the decision expected in each.
    pub fn expectations(&self, file_scope: Scope) -> Vec<(Scope, Decision)> {
        match &self.expect {
            Expectation::One(d) => vec![(self.scope.unwrap_or(file_scope), *d)],
            Expectation::PerScope(m) => m.iter().map(|(s, d)| (*s, *d)).collect(),
        }
    }

    /// The context decided on in `scope`: the hand-written one, or the one the connector would build.
    pub fn context_for(&self, scope: Scope, policy: &Policy) -> RequestContext {
        match (&self.context, &self.request) {
            (Some(c), _) => c.clone(),
            (None, Some(f)) => build(scope, f, policy),
            (None, None) => RequestContext::default(),
        }
    }
}

/// Result of one case in one scope.
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
    for c in &t.cases {
        if c.request.is_some() && c.context.is_some() {
            return Err(PolicyError::TestFile(format!(
                "case {:?}: give either \"request\" or \"context\", not both",
                c.name
            )));
        }
        if matches!(&c.expect, Expectation::PerScope(m) if m.is_empty()) {
            return Err(PolicyError::TestFile(format!(
                "case {:?}: \"expect\" names no scope",
                c.name
            )));
        }
        if matches!(c.expect, Expectation::PerScope(_)) && c.scope.is_some() {
            return Err(PolicyError::TestFile(format!(
                "case {:?}: \"scope\" and an \"expect\" per scope contradict each other",
                c.name
            )));
        }
    }
    Ok(t)
}

fn word(d: Decision) -> &'static str {
    match d {
        Decision::Permit => "permit",
        Decision::Deny => "deny",
    }
}

/// Runs every case of `test` against `policy`, one outcome per case and scope.
pub fn run_test_file(test: &TestFile, policy: &Policy, engine: &Engine) -> Vec<CaseOutcome> {
    let mut out = Vec::new();
    for case in &test.cases {
        let expectations = case.expectations(test.scope);
        let several = expectations.len() > 1 || matches!(case.expect, Expectation::PerScope(_));
        for (scope, expect) in expectations {
            let ctx = case.context_for(scope, policy);
            let report = engine.evaluate(policy, &ctx, scope);
            let reasons = report.reasons();
            let lower: Vec<String> = reasons.iter().map(|r| r.to_lowercase()).collect();
            let missing: Vec<&String> = if report.is_permit() {
                Vec::new()
            } else {
                case.reasons
                    .iter()
                    .filter(|want| {
                        let w = want.to_lowercase();
                        !lower.iter().any(|r| r.contains(&w))
                    })
                    .collect()
            };
            let decision_ok = report.decision == expect;
            let passed = decision_ok && missing.is_empty();
            let detail = if passed {
                format!("{} as expected", word(report.decision))
            } else if !decision_ok {
                format!(
                    "expected {}, got {}: {}",
                    word(expect),
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
            out.push(CaseOutcome {
                name: if several {
                    format!("{} [{scope}]", case.name)
                } else {
                    case.name.clone()
                },
                passed,
                detail,
            });
        }
    }
    out
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
              {"name":"no","context":{"purpose":"ads"},"expect":"deny","reasons":["the declared purpose is ads"]},
              {"name":"wrong expectation","context":{"purpose":"ads"},"expect":"permit"},
              {"name":"wrong reason","context":{"purpose":"ads"},"expect":"deny","reasons":["nonsense"]},
              {"name":"every scope","request":{"purpose":"research"},
               "expect":{"catalogue":"permit","negotiation":"permit","transfer":"permit","access":"permit"}},
              {"name":"no purpose","request":{},
               "expect":{"catalogue":"permit","negotiation":"deny"},"reasons":["declared no purpose"]}]}"#,
        );
        let file = match file {
            Ok(f) => f,
            Err(e) => panic!("test file did not parse: {e}"),
        };
        let out = run_test_file(&file, &policy, &Engine::new(EngineSettings::default()));
        let passed: Vec<(String, bool)> = out.iter().map(|o| (o.name.clone(), o.passed)).collect();
        assert_eq!(
            passed,
            vec![
                ("ok".to_string(), true),
                ("no".into(), true),
                ("wrong expectation".into(), false),
                ("wrong reason".into(), false),
                ("every scope [catalogue]".into(), true),
                ("every scope [negotiation]".into(), true),
                ("every scope [transfer]".into(), true),
                ("every scope [access]".into(), true),
                ("no purpose [catalogue]".into(), true),
                ("no purpose [negotiation]".into(), true),
            ]
        );
        assert!(out[2].detail.starts_with("expected permit, got deny"));
        assert!(out[3].detail.contains("nonsense"));
    }

    #[test]
    fn rejects_bad_files() {
        assert!(parse_test_file("{").is_err());
        assert!(parse_test_file(r#"{"policy":"p.json","cases":[]}"#).is_err());
        let e = parse_test_file(r#"{"policy":"p.json","cases":[{"name":"x","expect":"maybe"}]}"#);
        assert!(
            matches!(e, Err(PolicyError::TestFile(m)) if m.contains("\"maybe\" is not \"permit\" or \"deny\""))
        );
        let e = parse_test_file(
            r#"{"policy":"p.json","cases":[{"name":"x","expect":{"catalog":"permit"}}]}"#,
        );
        assert!(
            matches!(e, Err(PolicyError::TestFile(m)) if m.contains("did you mean \"catalogue\""))
        );
        let both = parse_test_file(
            r#"{"policy":"p.json","cases":[{"name":"x","request":{},"context":{},"expect":"deny"}]}"#,
        );
        assert!(matches!(both, Err(PolicyError::TestFile(m)) if m.contains("not both")));
        let typo = parse_test_file(
            r#"{"policy":"p.json","cases":[{"name":"x","request":{"purpse":"x"},"expect":"deny"}]}"#,
        );
        assert!(matches!(typo, Err(PolicyError::TestFile(m)) if m.contains("purpse")));
    }
}
