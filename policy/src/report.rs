//! The compliance report: for every rule whether it matched the request, whether it is active and its deontic
//! state; for every constraint the left-operand value used, satisfied or not, and why; the Rego outcome; and the
//! decision with the rules that decided it. Serialises to JSON with a fixed field order.

use crate::engine::Scope;
use crate::model::RuleKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Permit,
    Deny,
}

/// Deontic / control state of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleState {
    /// Permission: the requested action is allowed by this rule.
    Permit,
    /// Permission: not allowed by this rule.
    Deny,
    /// Prohibition/duty/obligation: nothing recorded yet.
    NotSet,
    Fulfilled,
    Violated,
}

/// One constraint or refinement, atomic or logical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintReport {
    /// JSON path of the constraint in the policy, e.g. `permission[0].constraint[1]`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// Left operand term; for a logical constraint its operator (`and`, `or`, `xone`, `andSequence`).
    pub left_operand: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub operator: String,
    #[serde(skip_serializing_if = "Value::is_null", default)]
    pub right_operand: Value,
    /// The left-operand value the engine used (null when it had none).
    pub value: Value,
    pub satisfied: bool,
    /// Why (always filled; for failures it says which value made it fail or what was missing).
    pub reason: String,
    /// True when the constraint could not be evaluated at all (unknown operand, missing or ill-typed value).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub indeterminate: bool,
    /// True when its value is not known yet in this scope (a purpose while browsing the catalogue): a permission
    /// conditioned on it may still apply, a prohibition conditioned on it is not active yet.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub deferred: bool,
    /// Why, in the words `explain` uses ("the partner declared no purpose; the rule requires: for research"),
    /// for the conditions that decided a refusal.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub explanation: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub operands: Vec<ConstraintReport>,
}

/// One rule (permission, prohibition, obligation, or a permission's duty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleReport {
    /// The rule's `@id`, or its JSON path when it has none.
    pub id: String,
    /// The rule in words ("the permission to use urn:ldt:traffic-counts"), for the rules that decided.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub name: String,
    pub kind: RuleKind,
    /// Action of the rule (`*` when it names none).
    pub action: String,
    /// The request's action is this rule's action or included in it.
    pub action_matched: bool,
    /// The request's resource is the rule's target (or in its collection); true when the rule has no target.
    pub target_matched: bool,
    /// The counterparty is the rule's assignee (or in its collection); true when the rule has no assignee.
    pub party_matched: bool,
    /// Active in the ODRL sense: matched, constraints satisfied and (for permissions) duties not blocking.
    pub active: bool,
    pub state: RuleState,
    pub constraints: Vec<ConstraintReport>,
    /// Refinements of the rule's action, target and assignee.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub refinements: Vec<ConstraintReport>,
    /// Duties of a permission (pre-conditions), consequences of a duty or obligation, or remedies of a
    /// prohibition, each with its own activation and state. Only a permission's duties affect the decision.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub duties: Vec<RuleReport>,
    /// One-line summary of why the rule ended in its state.
    pub reason: String,
    /// A permission's duty that keeps it from permitting (violated, or not yet fulfilled where that blocks).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub blocks: bool,
}

/// Outcome of the Rego rules for the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegoReport {
    /// The modules that ran (names given to `RegoRules::add`).
    pub modules: Vec<String>,
    pub denied: bool,
    /// `deny` messages, or the error / time-out that failed closed.
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// The full answer for one decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceReport {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub policy_id: Option<String>,
    pub scope: Scope,
    /// The actions the request asked for (any one of them will do), as decided.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub actions: Vec<String>,
    pub decision: Decision,
    /// Rule ids (or the pseudo-ids `closed-world`, `open-world`, `conflict`, `rego`, `offer-not-considered`)
    /// that decided.
    pub deciding_rules: Vec<String>,
    /// The sentence-level explanation of the decision.
    pub summary: String,
    pub rules: Vec<RuleReport>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rego: Option<RegoReport>,
}

impl ComplianceReport {
    /// A deny decided before any rule was looked at (an unreadable policy, an unusable setting).
    pub fn denied(
        policy_id: Option<String>,
        scope: Scope,
        decided_by: &str,
        summary: String,
    ) -> ComplianceReport {
        ComplianceReport {
            policy_id,
            scope,
            actions: Vec::new(),
            decision: Decision::Deny,
            deciding_rules: vec![decided_by.to_string()],
            summary,
            rules: Vec::new(),
            rego: None,
        }
    }

    pub fn decision(&self) -> Decision {
        self.decision
    }

    pub fn is_permit(&self) -> bool {
        self.decision == Decision::Permit
    }

    pub fn deciding_rules(&self) -> &[String] {
        &self.deciding_rules
    }

    /// Why, in a few lines a partner or a lawyer can read: the summary, then for a deny every condition that kept
    /// a permission from applying, every prohibition or obligation that decided, and every local-rule message,
    /// each naming its rule in words. Conditions that are only judged later, and duties that do not block, are
    /// not reasons.
    pub fn reasons(&self) -> Vec<String> {
        let mut out = vec![self.summary.clone()];
        if self.decision == Decision::Deny {
            let asked = self.actions.join(" or ");
            for r in &self.rules {
                let name = if r.name.is_empty() {
                    format!("{} {}", kind_word(r.kind), r.id)
                } else {
                    r.name.clone()
                };
                match r.kind {
                    RuleKind::Permission if r.state != RuleState::Permit => {
                        if !r.action_matched {
                            out.push(format!(
                                "{name}: it grants {}, which does not cover {}",
                                r.action,
                                if asked.is_empty() {
                                    "the requested action"
                                } else {
                                    &asked
                                }
                            ));
                        }
                        if !r.target_matched {
                            out.push(format!("{name}: the requested resource is not its target"));
                        }
                        if !r.party_matched {
                            out.push(format!(
                                "{name}: it is not granted to this partner (not its assignee)"
                            ));
                        }
                        failing(&name, &r.constraints, &mut out);
                        failing(&name, &r.refinements, &mut out);
                        for d in &r.duties {
                            if d.blocks {
                                let duty = if d.name.is_empty() {
                                    format!("duty {} ({})", d.id, d.action)
                                } else {
                                    d.name.clone()
                                };
                                out.push(format!(
                                    "{name}: {duty} is {}",
                                    state_text(d.state).replace('-', " ")
                                ));
                            }
                        }
                    }
                    RuleKind::Prohibition | RuleKind::Obligation
                        if self.deciding_rules.contains(&r.id) =>
                    {
                        let why: Vec<String> = r
                            .constraints
                            .iter()
                            .filter(|c| !c.explanation.is_empty())
                            .map(|c| c.explanation.clone())
                            .collect();
                        if r.kind == RuleKind::Obligation {
                            out.push(format!("{name} is recorded as violated"));
                        } else if why.is_empty() {
                            out.push(format!("{name} applies: it prohibits the request"));
                        } else {
                            out.push(format!("{name} applies: {}", why.join("; ")));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(rego) = &self.rego {
                out.extend(rego.reasons.iter().map(|m| format!("rego: {m}")));
            }
        }
        out
    }
}

fn kind_word(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Permission => "permission",
        RuleKind::Prohibition => "prohibition",
        RuleKind::Obligation => "obligation",
        RuleKind::Duty => "duty",
    }
}

fn state_text(s: RuleState) -> &'static str {
    match s {
        RuleState::Permit => "permit",
        RuleState::Deny => "deny",
        RuleState::NotSet => "not-set",
        RuleState::Fulfilled => "fulfilled",
        RuleState::Violated => "violated",
    }
}

fn constraint_lines(reports: &[ConstraintReport], indent: usize, out: &mut String) {
    for c in reports {
        let mark = if c.satisfied { "ok  " } else { "FAIL" };
        out.push_str(&format!(
            "{:indent$}[{mark}] {}: {}\n",
            "",
            c.path,
            c.reason,
            indent = indent
        ));
        constraint_lines(&c.operands, indent + 2, out);
    }
}

fn rule_lines(r: &RuleReport, indent: usize, out: &mut String) {
    let kind = format!("{:?}", r.kind).to_lowercase();
    // A rule without an @id is named by its place ("permission[0]"), which already says what it is.
    let who = if r.id.contains('[') && !r.id.contains(':') {
        r.id.clone()
    } else {
        format!("{kind} {}", r.id)
    };
    out.push_str(&format!(
        "{:indent$}{who} ({}): {}, {} - {}\n",
        "",
        r.action,
        if r.active { "active" } else { "inactive" },
        state_text(r.state),
        r.reason,
        indent = indent
    ));
    constraint_lines(&r.constraints, indent + 2, out);
    constraint_lines(&r.refinements, indent + 2, out);
    for d in &r.duties {
        rule_lines(d, indent + 2, out);
    }
}

impl ComplianceReport {
    /// A multi-line rendering for people (`twinport policy eval` without `--json`).
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "decision: {} (scope {}, policy {})\n{}\n",
            if self.is_permit() { "PERMIT" } else { "DENY" },
            self.scope,
            self.policy_id.as_deref().unwrap_or("(no id)"),
            self.summary
        );
        if !self.deciding_rules.is_empty() {
            out.push_str(&format!("decided by: {}\n", self.deciding_rules.join(", ")));
        }
        for r in &self.rules {
            rule_lines(r, 0, &mut out);
        }
        if let Some(rego) = &self.rego {
            out.push_str(&format!(
                "rego ({}): {}\n",
                rego.modules.join(", "),
                if rego.denied { "deny" } else { "no objection" }
            ));
            for m in &rego.reasons {
                out.push_str(&format!("  - {m}\n"));
            }
        }
        out
    }
}

/// Conditions that keep a permission from applying, descending into logical constraints so the leaf that failed
/// (with its value) is named. Conditions judged later do not count.
fn failing(label: &str, reports: &[ConstraintReport], out: &mut Vec<String>) {
    for c in reports {
        if !c.satisfied && !c.deferred {
            let why = if c.explanation.is_empty() {
                &c.reason
            } else {
                &c.explanation
            };
            out.push(format!("{label}: {why}"));
            failing(label, &c.operands, out);
        }
    }
}
