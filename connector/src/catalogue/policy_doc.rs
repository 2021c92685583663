//! The check a policy passes before the connector stores or offers it: the policy linter, exactly as
//! `twinport policy lint --catalogue` runs it (the connector supplies the target and assigner of its offers).
//! An error refuses the policy, because a policy the engine reads differently from its author would be enforced
//! differently from what was tested; each finding names its JSON path. Warnings are kept for the log and the API.

use serde_json::Value;
use twinport_policy::lint::{lint_with, LintOptions, Severity};

use super::resource::FieldError;

/// A policy's findings, split into what refuses it and what only warns.
#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<FieldError>,
    pub warnings: Vec<FieldError>,
}

pub fn check(policy: &Value) -> Findings {
    let mut out = Findings::default();
    for d in lint_with(
        policy,
        LintOptions {
            offered_by_connector: true,
        },
    ) {
        let finding = FieldError {
            field: d.path,
            problem: d.message,
        };
        match d.severity {
            Severity::Error => out.errors.push(finding),
            Severity::Warning => out.warnings.push(finding),
        }
    }
    out
}

/// The policy's warnings, or every error that refuses it.
pub fn validate(policy: &Value) -> Result<Vec<FieldError>, Vec<FieldError>> {
    let f = check(policy);
    if f.errors.is_empty() {
        Ok(f.warnings)
    } else {
        Err(f.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_key_refuses_the_policy_with_the_word_meant() {
        let errors = validate(&json!({"permission": [{"action": "use",
            "constraints": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "x"}]}]}))
        .unwrap_err();
        assert_eq!(errors[0].field, "permission[0].constraints");
        assert!(errors[0].problem.contains("did you mean \"constraint\""));
    }

    #[test]
    fn a_stored_policy_needs_no_target_and_keeps_its_warnings() {
        let warnings = validate(&json!({"permission": [{"action": "use",
            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}]}]}))
        .unwrap_or_default();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].problem.contains("free word"));
    }
}
