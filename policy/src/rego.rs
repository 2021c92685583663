//! Local Rego rules evaluated in-process with `regorus`. Convention: a module for scope `S` declares
//! `package twinport.S` and adds human-readable strings to `deny` (`deny contains msg if { ... }`); `input` is the
//! request context JSON plus `input.policy` (the policy in compact JSON-LD) and `input.scope`. Any message denies.
//! Evaluation runs under regorus' execution timer; an error or a time-out denies (fail closed) with the reason.

use crate::context::RequestContext;
use crate::engine::Scope;
use crate::error::PolicyError;
use crate::model::Policy;
use crate::report::RegoReport;
use regorus::utils::limits::ExecutionTimerConfig;
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

/// Rego modules per scope, compiled once and cloned per evaluation (cloning shares the parsed modules).
#[derive(Clone, Default)]
pub struct RegoRules {
    scopes: Vec<(Scope, regorus::Engine, Vec<String>)>,
}

impl fmt::Debug for RegoRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<(Scope, &Vec<String>)> =
            self.scopes.iter().map(|(s, _, n)| (*s, n)).collect();
        f.debug_struct("RegoRules")
            .field("modules", &names)
            .finish()
    }
}

impl RegoRules {
    pub fn new() -> RegoRules {
        RegoRules::default()
    }

    /// Adds a module for `scope`. It must declare `package twinport.<scope>`; parse errors and a wrong package
    /// are reported as `PolicyError::Rego`.
    pub fn add(&mut self, scope: Scope, name: &str, rego_source: &str) -> Result<(), PolicyError> {
        let err = |message: String| PolicyError::Rego {
            name: name.to_string(),
            message: message.to_lowercase(),
        };
        let idx = match self.scopes.iter().position(|(s, _, _)| *s == scope) {
            Some(i) => i,
            None => {
                self.scopes
                    .push((scope, regorus::Engine::new(), Vec::new()));
                self.scopes.len() - 1
            }
        };
        let (_, engine, names) = &mut self.scopes[idx];
        // Compile into a scratch copy first so a bad module leaves the scope's rules untouched.
        let mut candidate = engine.clone();
        let package = candidate
            .add_policy(name.to_string(), rego_source.to_string())
            .map_err(|e| err(e.to_string()))?;
        let expected = format!("data.twinport.{scope}");
        if package != expected {
            return Err(err(format!(
                "declares {package}, expected package twinport.{scope}"
            )));
        }
        // Surface compile errors (unknown functions, unsafe variables, no `deny`) now, not at the first request;
        // the timer keeps a module that loops even on empty input from hanging the caller.
        candidate.set_execution_timer_config(ExecutionTimerConfig {
            limit: Duration::from_secs(1),
            check_interval: NonZeroU32::MIN,
        });
        candidate.set_input(regorus::Value::new_object());
        candidate.eval_rule(format!("{expected}.deny")).map_err(|e| {
            let text = e.to_string();
            if text.contains("not a valid rule path") {
                err(format!(
                    "the module defines no deny rule; write `deny contains msg if {{ ... }}` in package twinport.{scope}"
                ))
            } else {
                err(text)
            }
        })?;
        *engine = candidate;
        names.push(name.to_string());
        Ok(())
    }

    /// True when no module was added.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// Runs the scope's modules; `None` when the scope has none.
    pub(crate) fn evaluate(
        &self,
        scope: Scope,
        ctx: &RequestContext,
        policy: &Policy,
        limit_ms: u64,
    ) -> Option<RegoReport> {
        let (_, engine, names) = self.scopes.iter().find(|(s, _, _)| *s == scope)?;
        let mut engine = engine.clone();
        let fail = |message: String| RegoReport {
            modules: names.clone(),
            denied: true,
            reasons: vec![message.clone()],
            error: Some(message),
        };
        let mut input = match serde_json::to_value(ctx) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => {
                return Some(fail(
                    "request context could not be converted for rego".into(),
                ))
            }
        };
        input.insert("policy".into(), policy.to_json());
        input.insert("scope".into(), serde_json::Value::String(scope.to_string()));
        engine.set_input(regorus::Value::from(serde_json::Value::Object(input)));
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: Duration::from_millis(limit_ms.max(1)),
            check_interval: NonZeroU32::MIN,
        });
        let result = match engine.eval_rule(format!("data.twinport.{scope}.deny")) {
            Ok(v) => v,
            Err(e) => {
                let text = e.to_string().to_lowercase();
                let message = if text.contains("time") && text.contains("limit") {
                    format!("rego evaluation exceeded its time limit of {limit_ms} ms")
                } else {
                    format!("rego evaluation failed: {text}")
                };
                return Some(fail(message));
            }
        };
        let mut reasons = Vec::new();
        match &result {
            regorus::Value::Undefined => {}
            regorus::Value::Set(set) => {
                for v in set.iter() {
                    reasons.push(match v.as_string() {
                        Ok(s) => s.to_string(),
                        Err(_) => v.to_json_str().unwrap_or_else(|_| "deny".into()),
                    });
                }
            }
            regorus::Value::Array(arr) => {
                for v in arr.iter() {
                    reasons.push(
                        v.as_string()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|_| "deny".into()),
                    );
                }
            }
            regorus::Value::Bool(true) => reasons.push("denied by a rego rule".into()),
            regorus::Value::Bool(false) => {}
            other => {
                return Some(fail(format!(
                    "rego deny must be a set of messages, got {}",
                    other.to_json_str().unwrap_or_default()
                )))
            }
        }
        reasons.sort();
        Some(RegoReport {
            modules: names.clone(),
            denied: !reasons.is_empty(),
            reasons,
            error: None,
        })
    }
}
