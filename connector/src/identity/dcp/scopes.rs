//! Which credential types our policies read, so a DCP partner is asked for them too (beyond
//! `required_credentials`, which it must present): a constraint on `claim:<Type>.<member>` where the type's name
//! ends in `Credential`, or on `claim:credentials` naming such types. A partner that lacks them is not refused;
//! the policies that read them then deny, as they would for any missing claim.

use std::collections::BTreeSet;

use serde_json::Value;

const CLAIM_PREFIXES: [&str; 2] = ["claim:", "https://w3id.org/twinport/policy/claim/"];

/// The credential types the policies' constraints name, sorted.
pub fn credential_types<'a>(policies: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut found = BTreeSet::new();
    for policy in policies {
        walk(policy, &mut found);
    }
    found.into_iter().collect()
}

fn walk(v: &Value, found: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(claim) = m
                .get("leftOperand")
                .and_then(left_operand)
                .and_then(|l| CLAIM_PREFIXES.iter().find_map(|p| l.strip_prefix(p)))
            {
                let first = claim.split('.').next().unwrap_or_default();
                if is_credential_type(first) {
                    found.insert(first.to_string());
                } else if claim == "credentials" {
                    names(m.get("rightOperand"), found);
                }
            }
            m.values().for_each(|x| walk(x, found));
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, found)),
        _ => {}
    }
}

/// A left operand as a string, or the `@id` of one given as an object.
fn left_operand(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("@id").and_then(Value::as_str))
}

fn names(v: Option<&Value>, found: &mut BTreeSet<String>) {
    match v {
        Some(Value::String(s)) if is_credential_type(s) => {
            found.insert(s.clone());
        }
        Some(Value::Array(a)) => a.iter().for_each(|x| names(Some(x), found)),
        Some(Value::Object(o)) => names(o.get("@value").or_else(|| o.get("@id")), found),
        _ => {}
    }
}

fn is_credential_type(s: &str) -> bool {
    s.len() > "Credential".len()
        && s.ends_with("Credential")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_credential_types_policies_read_are_found_wherever_they_are() {
        let policies = [
            json!({"permission": [{"action": "use", "constraint": [
                {"leftOperand": "claim:MembershipCredential.membership", "operator": "eq", "rightOperand": "x"},
                {"and": [{"leftOperand": "https://w3id.org/twinport/policy/claim/CityCredential.cityCode", "operator": "eq", "rightOperand": "GM0307"}]}
            ]}]}),
            json!({"prohibition": [{"action": "use", "constraint": [
                {"leftOperand": {"@id": "claim:credentials"}, "operator": "isAnyOf", "rightOperand": ["DismantlerCredential", "ignored", 3]}
            ]}]}),
            json!({"permission": [{"action": "use", "constraint": [
                {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "MembershipCredential"},
                {"leftOperand": "purpose", "operator": "eq", "rightOperand": "FooCredential"},
                {"leftOperand": "claim:Credential.x", "operator": "eq", "rightOperand": "y"}
            ]}]}),
        ];
        assert_eq!(
            credential_types(policies.iter()),
            vec![
                "CityCredential",
                "DismantlerCredential",
                "MembershipCredential"
            ]
        );
    }
}
