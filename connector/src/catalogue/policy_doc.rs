//! Structural checks on a stored ODRL policy document before it is published in offers, naming the JSON path of
//! each problem. The full semantic reading is the policy engine's; this guards the catalogue's shape.

use serde_json::Value;

use super::resource::FieldError;

const RULE_KINDS: [&str; 3] = ["permission", "prohibition", "obligation"];

pub fn validate(policy: &Value) -> Result<(), Vec<FieldError>> {
    let mut problems = Vec::new();
    let Some(obj) = policy.as_object() else {
        return Err(vec![FieldError {
            field: "(policy)".into(),
            problem: "must be a JSON object with permission, prohibition or obligation rules"
                .into(),
        }]);
    };
    if !RULE_KINDS.iter().any(|k| obj.contains_key(*k)) {
        problems.push(FieldError {
            field: "(policy)".into(),
            problem: "has no permission, prohibition or obligation".into(),
        });
    }
    for kind in RULE_KINDS {
        let Some(rules) = obj.get(kind) else { continue };
        let Some(rules) = rules.as_array() else {
            problems.push(FieldError {
                field: kind.into(),
                problem: "must be an array of rules".into(),
            });
            continue;
        };
        for (i, rule) in rules.iter().enumerate() {
            if rule.get("action").is_none() {
                problems.push(FieldError {
                    field: format!("{kind}[{i}].action"),
                    problem: "required".into(),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
