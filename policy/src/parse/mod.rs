//! Reads a policy from the compact JSON-LD that DSP exchanges (2025-1 unprefixed terms), also accepting
//! `odrl:`-prefixed keys and full ODRL IRIs. Every problem names the JSON path of the offending part, e.g.
//! `permission[0].constraint[1].operator: unknown operator "equals"`.
//!
//! Reading is strict, because a word the engine does not understand must never be skipped: a skipped
//! `"constraints"` (for `"constraint"`) would turn a conditional permission into an unconditional one. Every key
//! must be ODRL's, a JSON-LD keyword, an annotation (`rdfs:label`, `dct:title`, …) or one of Twinport's documented
//! extensions at the place it belongs; every action, operator and left operand written as a plain word must be one
//! the engine knows. Problems that do not stop the reading are collected, so one pass reports them all.
//!
//! Compact rules with several actions or targets are split into atomic rules here, as the ODRL model recommends,
//! so the engine only ever sees one action and one target per rule.

mod constraints;
mod json;
mod keys;
mod operands;
mod rules;

use crate::error::PolicyError;
use crate::model::{normalise_term, ConflictStrategy, Policy, PolicyKind, Rule, RuleKind};
use crate::spelling::{closest, hint};
use serde_json::Value;

use json::{expect_object, get, get_twinport, iri, items, label_of, node_id, text, type_of};
use keys::Place;

/// One problem found while reading, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Deeper nesting than this is certainly a mistake (or an attack) and would risk the stack.
const MAX_DEPTH: usize = 32;

/// Reads a policy, collecting every problem that does not stop the reading.
pub(crate) struct Reader {
    problems: Vec<Problem>,
    /// What reads, but is better written otherwise (a deprecated term), for the linter to warn about.
    notes: Vec<Problem>,
}

impl Policy {
    /// Reads a policy from compact DSP JSON-LD. Anything the engine would not understand is an error: the first
    /// problem is returned (with how many more there are); [`Policy::problems`] lists them all.
    pub fn from_json(value: &Value) -> Result<Policy, PolicyError> {
        read(value).map_err(|problems| {
            let more = problems.len().saturating_sub(1);
            let first = problems.into_iter().next().unwrap_or(Problem {
                path: "$".into(),
                message: "unreadable policy".into(),
            });
            let message = match more {
                0 => first.message,
                1 => format!("{} (and 1 more problem)", first.message),
                n => format!("{} (and {n} more problems)", first.message),
            };
            PolicyError::Invalid {
                path: first.path,
                message,
            }
        })
    }

    /// Reads a policy from JSON text.
    pub fn from_json_str(s: &str) -> Result<Policy, PolicyError> {
        let value = crate::json_text::parse(s).map_err(PolicyError::Json)?;
        Policy::from_json(&value)
    }

    /// Every problem that makes `value` unreadable as a policy, in document order; empty when it reads.
    pub fn problems(value: &Value) -> Vec<Problem> {
        read(value).err().unwrap_or_default()
    }
}

/// Reads a policy, or every problem found.
pub(crate) fn read(value: &Value) -> Result<Policy, Vec<Problem>> {
    read_noting(value).map(|(policy, _)| policy)
}

/// Reads a policy together with the notes on what it writes in a deprecated way (each at its JSON path, in
/// document order), or every problem found. The notes never change what the policy means.
pub(crate) fn read_noting(value: &Value) -> Result<(Policy, Vec<Problem>), Vec<Problem>> {
    let mut r = Reader {
        problems: Vec::new(),
        notes: Vec::new(),
    };
    match r.policy(value) {
        Ok(p) if r.problems.is_empty() => Ok((p, r.notes)),
        Ok(_) => Err(r.problems),
        Err(e) => {
            r.fail(e);
            Err(r.problems)
        }
    }
}

impl Reader {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: if path.is_empty() {
                "$".into()
            } else {
                path.to_string()
            },
            message: message.into(),
        });
    }

    /// Something that reads but is better written otherwise; never a problem.
    fn note(&mut self, path: &str, message: impl Into<String>) {
        self.notes.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn fail(&mut self, e: PolicyError) {
        match e {
            PolicyError::Invalid { path, message } => self.problem(&path, message),
            other => self.problem("$", other.to_string()),
        }
    }

    fn policy(&mut self, value: &Value) -> Result<Policy, PolicyError> {
        let obj = expect_object(value, "", "a policy")?;
        self.check_keys(obj, "", Place::Policy);
        let kind = match type_of(obj).map(normalise_term) {
            None | Some("Set") | Some("Policy") => PolicyKind::Set,
            Some("Offer") => PolicyKind::Offer,
            Some("Agreement") => PolicyKind::Agreement,
            Some(other) => {
                let s = closest(other, ["Set", "Offer", "Agreement"]);
                self.problem(
                    "@type",
                    format!(
                        "unknown policy type {other:?} (expected Set, Offer or Agreement){}",
                        hint(s)
                    ),
                );
                PolicyKind::Set
            }
        };
        let conflict = match get(obj, "conflict") {
            None => None,
            Some(v) => {
                let t = iri(v, "conflict")?;
                match normalise_term(&t) {
                    "perm" => Some(ConflictStrategy::Perm),
                    "prohibit" => Some(ConflictStrategy::Prohibit),
                    "invalid" => Some(ConflictStrategy::Invalid),
                    other => {
                        let s = closest(other, ["perm", "prohibit", "invalid"]);
                        self.problem("conflict", format!("unknown conflict strategy {other:?} (expected perm, prohibit or invalid){}", hint(s)));
                        None
                    }
                }
            }
        };
        if let Some(v) = get(obj, "profile") {
            // ODRL: a processor that does not understand a profile must not process the policy.
            for (p, item) in items(v, "profile") {
                let name = iri(item, &p)?;
                self.problem(&p, format!("profile {name:?} is not implemented by Twinport, so a policy under it cannot be enforced"));
            }
        }
        let time_zone = match get_twinport(obj, "timeZone") {
            None => None,
            Some(v) => {
                let name = text(v, "twinport:timeZone")?;
                match crate::zone::PolicyZone::named(&name) {
                    Ok(zone) => Some(zone),
                    Err(e) => {
                        self.problem("twinport:timeZone", e);
                        None
                    }
                }
            }
        };
        let assigner = self.single_party(obj, "assigner", "assigner")?;
        let assignee = self.single_party(obj, "assignee", "assignee")?;
        let target = match get(obj, "target") {
            None => None,
            Some(v) => {
                let mut all = self.assets(v, "target")?;
                if all.len() > 1 {
                    return Err(PolicyError::invalid(
                        "target",
                        "a policy-level target must be a single value",
                    ));
                }
                all.pop()
            }
        };
        let action = match get(obj, "action") {
            None => None,
            Some(v) => {
                let mut all = self.actions(v, "action")?;
                if all.len() > 1 {
                    return Err(PolicyError::invalid(
                        "action",
                        "a policy-level action must be a single value",
                    ));
                }
                all.pop()
            }
        };
        let mut rules = |key: &str, kind: RuleKind| -> Result<Vec<Rule>, PolicyError> {
            match get(obj, key) {
                None => Ok(Vec::new()),
                Some(v) => self.rules(v, key, kind),
            }
        };
        let permissions = rules("permission", RuleKind::Permission)?;
        let prohibitions = rules("prohibition", RuleKind::Prohibition)?;
        let obligations = rules("obligation", RuleKind::Obligation)?;
        Ok(Policy {
            uid: node_id(obj),
            kind,
            conflict,
            assigner,
            assignee,
            target,
            action,
            permissions,
            prohibitions,
            obligations,
            time_zone,
            label: label_of(obj),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value) -> Vec<String> {
        Policy::problems(&v)
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn a_misspelt_key_is_an_error_with_the_word_meant() {
        let p = problems(json!({"permission": [{"action": "use",
            "constraints": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}]}]}));
        assert_eq!(
            p,
            vec!["permission[0].constraints: unknown key \"constraints\" in a permission (did you mean \"constraint\"?)"]
        );
        let p = problems(json!({"permision": [{"action": "use"}]}));
        assert!(p[0].contains("did you mean \"permission\""), "{p:?}");
        let p = problems(json!({"permission": [{"action": "use"}], "constraint": []}));
        assert!(p[0].contains("belongs in a permission"), "{p:?}");
    }

    #[test]
    fn every_problem_is_reported_in_one_pass() {
        let p = problems(json!({"permission": [{"actoin": "use", "action": "raed",
            "constraint": [{"leftOperand": "Purpose", "operator": "isAnyof", "rightOperand": ["x"]},
                           {"leftOperand": "membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}));
        let all = p.join("\n");
        for want in [
            "permission[0].actoin: unknown key \"actoin\" in a permission (did you mean \"action\"?)",
            "permission[0].action: unknown action \"raed\" (did you mean \"read\"?)",
            "permission[0].constraint[0].leftOperand: unknown left operand \"Purpose\" (did you mean \"purpose\"?)",
            "permission[0].constraint[0].operator: unknown operator \"isAnyof\" (did you mean \"isAnyOf\"?)",
            "permission[0].constraint[1].leftOperand: unknown left operand \"membership\" (did you mean \"claim:membership\"?",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
    }

    #[test]
    fn a_term_written_twice_or_under_an_annotation_prefix_is_refused() {
        let p = problems(json!({"permission": [{"action": "use",
            "constraint": [{"leftOperand": "dateTime", "operator": "lt", "rightOperand": "2030-01-01"}],
            "odrl:constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "dpv:Marketing"}]}]}));
        assert_eq!(
            p,
            vec!["permission[0].odrl:constraint: \"odrl:constraint\" and \"constraint\" are the same term written twice; write it once"]
        );
        let p = problems(json!({"permission": [{"action": "use", "dct:constraint": []}]}));
        assert_eq!(
            p,
            vec!["permission[0].dct:constraint: \"dct:constraint\" is an annotation, which is never evaluated (did you mean \"constraint\"?)"]
        );
        let p = problems(
            json!({"prohibition": [{"action": "https://www.w3.org/ns/odrl/2/distribute"}]}),
        );
        assert!(
            p[0].contains("misspells ODRL's namespace (did you mean \"odrl:distribute\"?)"),
            "{p:?}"
        );
        assert!(
            Policy::from_json_str(r#"{"permission": [{"action": "use", "action": "read"}]}"#)
                .unwrap_err()
                .to_string()
                .contains("appears twice")
        );
    }

    #[test]
    fn extensions_and_annotations_are_read() {
        let p = Policy::from_json(&json!({"@type": "Offer", "rdfs:label": "research only",
            "twinport:timeZone": "Europe/Amsterdam", "dct:description": "for people",
            "permission": [{"action": "use", "dct:title": "research use",
                "duty": [{"action": "attribute", "attributedParty": "did:web:utrecht.nl",
                          "twinport:attributionText": "© City of Utrecht"}]}]}));
        let p = match p {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.label.as_deref(), Some("research only"));
        assert_eq!(
            p.time_zone.as_ref().map(|z| z.name()),
            Some("Europe/Amsterdam")
        );
        assert_eq!(p.permissions[0].label.as_deref(), Some("research use"));
        let duty = &p.permissions[0].duties[0];
        assert_eq!(
            duty.attributed_party.as_ref().map(|p| p.uid.as_str()),
            Some("did:web:utrecht.nl")
        );
        assert_eq!(duty.attribution_text.as_deref(), Some("© City of Utrecht"));
    }

    #[test]
    fn unenforceable_content_is_refused() {
        assert!(
            problems(json!({"profile": "https://x/p", "permission": [{"action": "use"}]}))[0]
                .contains("not implemented")
        );
        assert!(
            problems(json!({"inheritFrom": "https://x/p", "permission": [{"action": "use"}]}))[0]
                .contains("not supported")
        );
        assert!(problems(json!({"permission": [{"action": "use",
            "duty": [{"action": "compensate", "compensatedParty": "x"}]}]}))[0]
            .contains("not enforced"));
        assert!(
            problems(json!({"permission": [{"action": "use", "attributedParty": "x"}]}))[0]
                .contains("belongs in an attribute duty")
        );
        assert!(
            problems(json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "purpose", "operator": "eq", "rightOperand": "x", "and": []}]}]}))[0]
                .contains("either atomic")
        );
        assert!(problems(
            json!({"twinport:timeZone": "Europe/Amsterdan", "permission": [{"action": "use"}]})
        )[0]
        .contains("Europe/Amsterdam"));
    }
}
