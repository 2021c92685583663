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
    /// Scopes with a module that may read the time of the request or anything else that changes on its own
    /// (see [`reads_clock`]).
    clocked: Vec<Scope>,
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
        if reads_clock(rego_source) && !self.clocked.contains(&scope) {
            self.clocked.push(scope);
        }
        Ok(())
    }

    /// True when a module of `scope` may decide differently at another time for the same input; false only when
    /// none can (see [`reads_clock`]), so a decision can be kept for as long as its input stands.
    pub fn reads_clock(&self, scope: Scope) -> bool {
        self.clocked.contains(&scope)
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

/// Whether a Rego module may read the time of the request or anything else that changes on its own. Told from
/// the text, erring towards yes: any mention of `time` (the context's `time`, the `time.*` built-ins), built-ins
/// whose result varies (`rand`, `uuid`, `http`, `net`, `opa`, `crypto`), `walk`, and `input` used other than
/// through a named member (`input.partner`, `input["resource"]`), since `input[k]` or `object.get(input, ...)`
/// may reach the time by a key computed at run time. A false yes costs a decision made again; a false no would
/// keep a decision past the moment it changed, which is why this never says no on doubt.
pub fn reads_clock(source: &str) -> bool {
    const VARYING: [&str; 8] = [
        "time", "rand.", "uuid.", "http.", "net.", "opa.", "crypto.", "walk",
    ];
    if VARYING.iter().any(|w| source.contains(w)) {
        return true;
    }
    let bytes = source.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(found) = source[from..].find("input") {
        let start = from + found;
        let end = start + "input".len();
        from = end;
        if start > 0 && word(bytes[start - 1]) || end < bytes.len() && word(bytes[end]) {
            continue;
        }
        let rest = source[end..].trim_start();
        let named = if let Some(member) = rest.strip_prefix('.') {
            member
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        } else if let Some(key) = rest.strip_prefix('[') {
            let key = key.trim_start();
            key.starts_with('"')
                && key[1..]
                    .find('"')
                    .is_some_and(|close| key[1 + close + 1..].trim_start().starts_with(']'))
        } else {
            false
        };
        if !named {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_reading_only_named_members_of_the_input_does_not_read_the_clock() {
        let module = r#"package twinport.catalogue
deny contains msg if {
    input.counterparty.claims.region == "XX"
    input["resource"]["kind"] == "dataset"
    msg := "not for this region"
}"#;
        assert!(!reads_clock(module));
    }

    #[test]
    fn any_way_to_the_time_or_a_varying_builtin_reads_the_clock() {
        for body in [
            "input.time < \"2030\"",
            "time.now_ns() > 0",
            "x := input; x.time",
            "object.get(input, \"time\", 0) > 0",
            "some k; input[k] == 1",
            "walk(input, [p, v])",
            "rand.intn(\"x\", 2) == 1",
            "uuid.rfc4122(\"x\") != \"\"",
        ] {
            let module = format!(
                "package twinport.catalogue\ndeny contains msg if {{ {body}; msg := \"m\" }}"
            );
            assert!(reads_clock(&module), "{body}");
        }
    }

    #[test]
    fn the_rules_remember_which_scopes_read_the_clock() {
        let mut rules = RegoRules::new();
        rules
            .add(
                Scope::Catalogue,
                "region",
                "package twinport.catalogue\ndeny contains msg if { input.counterparty.id == \"x\"; msg := \"no\" }",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        rules
            .add(
                Scope::Access,
                "hours",
                "package twinport.access\ndeny contains msg if { time.now_ns() < 0; msg := \"no\" }",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!rules.reads_clock(Scope::Catalogue));
        assert!(rules.reads_clock(Scope::Access));
    }
}
