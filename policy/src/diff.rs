//! What changed between two versions of a policy, in plain language, for a legal team's sign-off: rules added and
//! removed (as `explain` says them), and for a rule kept, the conditions and duties it gained or lost. Rules are
//! matched by what they are about (kind, action, target, assignee), not by their position or `@id`, so reordering
//! or renaming a rule is not a change in meaning; a change of the conflict strategy or of the time zone is.

use crate::explain::{constraint_phrase, explain_in, rule_name};
use crate::model::{ConflictStrategy, Policy, Rule, RuleKind};
use crate::zone::PolicyZone;

/// One change, as a line a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A rule the new version adds, as `explain` says it.
    Added(String),
    /// A rule the new version no longer has.
    Removed(String),
    /// A rule kept with other conditions, duties or policy-wide settings: what it is, and what changed.
    Changed { what: String, change: String },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Added(s) => write!(f, "+ added: {s}"),
            Change::Removed(s) => write!(f, "- removed: {s}"),
            Change::Changed { what, change } => write!(f, "~ {what}: {change}"),
        }
    }
}

/// What a rule is about, to find it in the other version.
fn key(policy: &Policy, r: &Rule) -> (RuleKind, String, String, String) {
    let action = r
        .action
        .as_ref()
        .or(policy.action.as_ref())
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let target = r
        .target
        .as_ref()
        .or(policy.target.as_ref())
        .map(|t| t.uid.clone())
        .unwrap_or_default();
    let assignee = r
        .assignee
        .as_ref()
        .or(policy.assignee.as_ref())
        .map(|p| p.uid.clone())
        .unwrap_or_default();
    (r.kind, action, target, assignee)
}

/// The conditions and duties of a rule, each as a phrase.
fn terms(policy: &Policy, r: &Rule, zone: &PolicyZone) -> Vec<String> {
    let mut out: Vec<String> = r
        .constraints
        .iter()
        .map(|c| format!("condition \u{201c}{}\u{201d}", constraint_phrase(c, zone)))
        .collect();
    if let Some(a) = &r.action {
        out.extend(
            a.refinements
                .iter()
                .map(|c| format!("refinement \u{201c}{}\u{201d}", constraint_phrase(c, zone))),
        );
    }
    for (word, subs) in [
        ("duty", &r.duties),
        ("remedy", &r.remedies),
        ("consequence", &r.consequences),
    ] {
        for d in subs {
            let mut phrase = crate::explain::duty_words(policy, d);
            let cs: Vec<String> = d
                .constraints
                .iter()
                .map(|c| constraint_phrase(c, zone))
                .collect();
            if !cs.is_empty() {
                phrase.push_str(&format!(" {}", cs.join(", ")));
            }
            out.push(format!("{word} \u{201c}{phrase}\u{201d}"));
        }
    }
    out
}

fn conflict_text(c: Option<ConflictStrategy>) -> &'static str {
    match c {
        None | Some(ConflictStrategy::Invalid) => {
            "invalid (a permission and a prohibition that both apply void the policy)"
        }
        Some(ConflictStrategy::Perm) => "perm (permissions override prohibitions)",
        Some(ConflictStrategy::Prohibit) => "prohibit (prohibitions override permissions)",
    }
}

/// The changes from `old` to `new`, in the order a reader checks them: policy-wide settings, then rules.
/// `zone` is the connector's zone, for policies that name none.
pub fn diff(old: &Policy, new: &Policy, zone: &PolicyZone) -> Vec<Change> {
    let old_zone = old.time_zone.as_ref().unwrap_or(zone);
    let new_zone = new.time_zone.as_ref().unwrap_or(zone);
    let mut out = Vec::new();
    if old.conflict != new.conflict {
        out.push(Change::Changed {
            what: "conflict strategy".into(),
            change: format!(
                "was {}, is now {}",
                conflict_text(old.conflict),
                conflict_text(new.conflict)
            ),
        });
    }
    if old_zone != new_zone {
        out.push(Change::Changed {
            what: "time zone".into(),
            change: format!(
                "dates, days and times of day were read in {}, now in {}",
                old_zone.describe(),
                new_zone.describe()
            ),
        });
    }
    let party = |p: &Policy| p.assignee.as_ref().map(|x| x.uid.clone());
    if party(old) != party(new) {
        out.push(Change::Changed {
            what: "assignee".into(),
            change: format!(
                "was {}, is now {}",
                party(old).unwrap_or_else(|| "anyone".into()),
                party(new).unwrap_or_else(|| "anyone".into())
            ),
        });
    }
    let old_rules: Vec<&Rule> = old.rules().collect();
    let new_rules: Vec<&Rule> = new.rules().collect();
    let old_text = explain_in(old, zone);
    let new_text = explain_in(new, zone);
    let mut matched_new = vec![false; new_rules.len()];
    for (i, o) in old_rules.iter().enumerate() {
        let found = new_rules
            .iter()
            .enumerate()
            .position(|(j, n)| !matched_new[j] && key(old, o) == key(new, n));
        match found {
            None => out.push(Change::Removed(old_text[i].clone())),
            Some(j) => {
                matched_new[j] = true;
                let n = new_rules[j];
                let before = terms(old, o, old_zone);
                let after = terms(new, n, new_zone);
                let what = rule_name(new, n);
                for t in after.iter().filter(|t| !before.contains(t)) {
                    out.push(Change::Changed {
                        what: what.clone(),
                        change: format!("now also has the {t}"),
                    });
                }
                for t in before.iter().filter(|t| !after.contains(t)) {
                    out.push(Change::Changed {
                        what: what.clone(),
                        change: format!("no longer has the {t}"),
                    });
                }
            }
        }
    }
    for (j, done) in matched_new.iter().enumerate() {
        if !done {
            out.push(Change::Added(new_text[j].clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: serde_json::Value) -> Policy {
        Policy::from_json(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn says_what_changed_in_meaning() {
        let old = p(
            json!({"@id": "urn:p", "permission": [{"action": "use", "target": "urn:ds",
            "constraint": [{"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["https://w3id.org/dpv#ResearchAndDevelopment"]}]}],
            "prohibition": [{"action": "sell", "target": "urn:ds"}]}),
        );
        let new = p(
            json!({"@id": "urn:p", "conflict": "prohibit", "twinport:timeZone": "Europe/Amsterdam",
            "permission": [{"@id": "urn:renamed", "action": "use", "target": "urn:ds",
                "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 100}],
                "duty": [{"action": "attribute", "attributedParty": "did:web:utrecht.nl"}]}],
            "obligation": [{"action": "delete"}]}),
        );
        let lines: Vec<String> = diff(&old, &new, &PolicyZone::utc())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            vec![
                "~ conflict strategy: was invalid (a permission and a prohibition that both apply void the policy), is now prohibit (prohibitions override permissions)",
                "~ time zone: dates, days and times of day were read in UTC, now in Amsterdam time",
                "~ the permission to use urn:ds: now also has the condition \u{201c}at most 100 times\u{201d}",
                "~ the permission to use urn:ds: now also has the duty \u{201c}attribute did:web:utrecht.nl\u{201d}",
                "~ the permission to use urn:ds: no longer has the condition \u{201c}for Research and Development, or a narrower purpose\u{201d}",
                "- removed: Anyone must not sell urn:ds.",
                "+ added: The partner must delete the data.",
            ]
        );
        assert!(diff(&old, &old, &PolicyZone::utc()).is_empty());
    }
}
