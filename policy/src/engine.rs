//! The evaluator: matches each rule against the request (action hierarchy, target, assignee), evaluates its
//! constraints, refinements and duties against the request context, combines the rules into a decision under
//! the engine settings, and runs the scope's Rego rules. It never panics and never lets an undeterminable
//! constraint grant anything: in permissions it fails, in prohibitions and duties it keeps the rule in force.

use crate::context::{DutyState, RequestContext};
use crate::left_operands::{evaluate_event, resolve};
use crate::model::{
    action_includes, normalise_term, Action, Asset, ConflictStrategy, Constraint, LeftOperand,
    Literal, LogicalOperator, Party, Policy, PolicyKind, RightOperand, Rule, RuleKind,
};
use crate::operators::{apply, SetContext};
use crate::rego::RegoRules;
use crate::report::{ComplianceReport, ConstraintReport, Decision, RuleReport, RuleState};
use crate::serialize::right_operand_json;
use crate::settings::{EngineSettings, PermissionCombination, World};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The moment in a resource's life a decision is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Whether a partner may see an offer in the catalogue.
    Catalogue,
    /// Whether a contract may be agreed.
    Negotiation,
    /// Whether a transfer may start.
    Transfer,
    /// Whether one access under an agreement is still allowed.
    Access,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Catalogue,
        Scope::Negotiation,
        Scope::Transfer,
        Scope::Access,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Catalogue => "catalogue",
            Scope::Negotiation => "negotiation",
            Scope::Transfer => "transfer",
            Scope::Access => "access",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!("unknown scope {s:?} (expected catalogue, negotiation, transfer or access)")
            })
    }
}

/// Evaluates policies; cheap to share (`&self` evaluation), holds the settings and optional Rego rules.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    settings: EngineSettings,
    rego: Option<RegoRules>,
}

/// Per-decision inputs threaded through the rule walk.
struct Walk<'a> {
    policy: &'a Policy,
    ctx: &'a RequestContext,
    /// The requested action; `None` when the context names none (e.g. catalogue browsing).
    action: Option<String>,
    settings: &'a EngineSettings,
    scope: Scope,
}

const MAX_DEPTH: usize = 64;

impl Engine {
    pub fn new(settings: EngineSettings) -> Engine {
        Engine {
            settings,
            rego: None,
        }
    }

    /// Adds Rego rules; each runs for the scope it was added under.
    pub fn with_rego(mut self, rules: RegoRules) -> Engine {
        self.rego = Some(rules);
        self
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Evaluates `policy` for a request in `scope`. Never panics; anything it cannot evaluate denies with a reason.
    pub fn evaluate(
        &self,
        policy: &Policy,
        ctx: &RequestContext,
        scope: Scope,
    ) -> ComplianceReport {
        let action = ctx.action.as_deref().map(|a| normalise_term(a).to_string());
        let walk = Walk {
            policy,
            ctx,
            action,
            settings: &self.settings,
            scope,
        };
        let mut report = ComplianceReport {
            policy_id: policy.uid.clone(),
            scope,
            decision: Decision::Deny,
            deciding_rules: Vec::new(),
            summary: String::new(),
            rules: Vec::new(),
            rego: None,
        };
        if policy.kind == PolicyKind::Offer && !self.settings.evaluate_offers {
            report.deciding_rules.push("offer-not-considered".into());
            report.summary =
                "deny: an offer grants nothing until it is agreed (offers are not evaluated)"
                    .into();
            return report;
        }
        for (i, r) in policy.permissions.iter().enumerate() {
            report.rules.push(walk.rule(r, &format!("permission[{i}]")));
        }
        for (i, r) in policy.prohibitions.iter().enumerate() {
            report
                .rules
                .push(walk.rule(r, &format!("prohibition[{i}]")));
        }
        for (i, r) in policy.obligations.iter().enumerate() {
            report.rules.push(walk.rule(r, &format!("obligation[{i}]")));
        }
        let action_text = walk
            .action
            .clone()
            .unwrap_or_else(|| "the request".to_string());
        self.decide(policy, &action_text, &mut report);
        if let Some(rego) = &self.rego {
            if let Some(outcome) =
                rego.evaluate(scope, ctx, policy, self.settings.rego_time_limit_ms)
            {
                if outcome.denied {
                    report.decision = Decision::Deny;
                    report.deciding_rules.push("rego".into());
                    report.summary =
                        format!("deny: local rego rules for scope {scope} denied the request");
                }
                report.rego = Some(outcome);
            }
        }
        report
    }

    fn decide(&self, policy: &Policy, action: &str, report: &mut ComplianceReport) {
        let ids = |pred: &dyn Fn(&RuleReport) -> bool| -> Vec<String> {
            report
                .rules
                .iter()
                .filter(|r| pred(r))
                .map(|r| r.id.clone())
                .collect()
        };
        let permitting = ids(&|r| r.kind == RuleKind::Permission && r.state == RuleState::Permit);
        let prohibiting =
            ids(&|r| r.kind == RuleKind::Prohibition && r.state == RuleState::Violated);
        let violated =
            ids(&|r| r.kind == RuleKind::Obligation && r.active && r.state == RuleState::Violated);
        let strategy = policy.conflict.unwrap_or(self.settings.conflict);
        let (decision, deciding, summary) = if !violated.is_empty() {
            (
                Decision::Deny,
                violated,
                "deny: an obligation of the policy has been violated".to_string(),
            )
        } else if !prohibiting.is_empty() && !permitting.is_empty() {
            match strategy {
                ConflictStrategy::Perm => (
                    Decision::Permit,
                    permitting,
                    "permit: permission overrides prohibition (conflict: perm)".into(),
                ),
                ConflictStrategy::Prohibit => (
                    Decision::Deny,
                    prohibiting,
                    "deny: prohibition overrides permission (conflict: prohibit)".into(),
                ),
                ConflictStrategy::Invalid => {
                    let mut d = vec!["conflict".to_string()];
                    d.extend(permitting);
                    d.extend(prohibiting);
                    (Decision::Deny, d, "deny: a permission and a prohibition conflict, so the policy is void (conflict: invalid)".into())
                }
            }
        } else if !prohibiting.is_empty() {
            (
                Decision::Deny,
                prohibiting,
                format!("deny: {action} is prohibited"),
            )
        } else {
            let matching: Vec<&RuleReport> = report
                .rules
                .iter()
                .filter(|r| r.kind == RuleKind::Permission && r.action_matched && r.target_matched)
                .collect();
            let all_ok =
                !matching.is_empty() && matching.iter().all(|r| r.state == RuleState::Permit);
            match self.settings.permissions {
                PermissionCombination::Any if !permitting.is_empty() => (
                    Decision::Permit,
                    permitting,
                    format!("permit: {action} is permitted"),
                ),
                PermissionCombination::All if all_ok => (
                    Decision::Permit,
                    permitting,
                    format!("permit: every applicable permission allows {action}"),
                ),
                PermissionCombination::All if !permitting.is_empty() => (
                    Decision::Deny,
                    matching
                        .iter()
                        .filter(|r| r.state != RuleState::Permit)
                        .map(|r| r.id.clone())
                        .collect(),
                    "deny: not every applicable permission allows the request (permissions: all)"
                        .into(),
                ),
                _ => match self.settings.world {
                    World::Closed => (
                        Decision::Deny,
                        vec!["closed-world".into()],
                        format!("deny: no permission allows {action} (closed world)"),
                    ),
                    World::Open => (
                        Decision::Permit,
                        vec!["open-world".into()],
                        format!("permit: nothing prohibits {action} (open world)"),
                    ),
                },
            }
        };
        report.decision = decision;
        report.deciding_rules = deciding;
        report.summary = summary;
    }
}

impl Walk<'_> {
    fn rule(&self, rule: &Rule, path: &str) -> RuleReport {
        let action: Option<&Action> = rule.action.as_ref().or(self.policy.action.as_ref());
        let target: Option<&Asset> = rule.target.as_ref().or(self.policy.target.as_ref());
        let assignee: Option<&Party> = rule.assignee.as_ref().or(self.policy.assignee.as_ref());
        // With no requested action (catalogue browsing) every rule action is in question, so every rule applies:
        // permissions may show the offer, and prohibitions still bite.
        let action_matched = match (action, self.action.as_deref()) {
            (Some(a), Some(requested)) => action_includes(&a.name, requested),
            _ => true,
        };
        let target_matched = target.is_none_or(|t| self.asset_matches(t));
        let party_matched = assignee.is_none_or(|p| self.party_matches(p));
        let matched = action_matched && target_matched && party_matched;

        let constraints = self.constraints(&rule.constraints, &format!("{path}.constraint"));
        let mut refinements = Vec::new();
        if let Some(a) = action {
            refinements
                .extend(self.constraints(&a.refinements, &format!("{path}.action.refinement")));
        }
        if let Some(t) = target {
            refinements
                .extend(self.constraints(&t.refinements, &format!("{path}.target.refinement")));
        }
        if let Some(p) = assignee {
            refinements
                .extend(self.constraints(&p.refinements, &format!("{path}.assignee.refinement")));
        }
        let id = rule.uid.clone().unwrap_or_else(|| path.to_string());
        let action_name = action.map(|a| a.name.clone()).unwrap_or_else(|| "*".into());
        let mut report = RuleReport {
            id,
            kind: rule.kind,
            action: action_name,
            action_matched,
            target_matched,
            party_matched,
            active: false,
            state: RuleState::NotSet,
            constraints,
            refinements,
            duties: Vec::new(),
            reason: String::new(),
        };
        let not_matched = || {
            let mut why = Vec::new();
            if !action_matched {
                why.push("the action does not cover the request");
            }
            if !target_matched {
                why.push("the resource is not its target");
            }
            if !party_matched {
                why.push("the counterparty is not its assignee");
            }
            format!("does not apply: {}", why.join(", "))
        };
        match rule.kind {
            RuleKind::Permission => {
                report.duties = rule
                    .duties
                    .iter()
                    .enumerate()
                    .map(|(j, d)| self.duty(d, &format!("{path}.duty[{j}]")))
                    .collect();
                let constraints_ok = report.constraints.iter().all(|c| c.satisfied);
                let blocking: Vec<&RuleReport> = report
                    .duties
                    .iter()
                    .filter(|d| {
                        d.active
                            && (d.state == RuleState::Violated
                                || (self.settings.duty_not_set_blocks
                                    && d.state == RuleState::NotSet))
                    })
                    .collect();
                report.active = matched && constraints_ok && blocking.is_empty();
                let refined = report.refinements.iter().all(|c| c.satisfied);
                report.state = if report.active && refined {
                    RuleState::Permit
                } else {
                    RuleState::Deny
                };
                report.reason = if !matched {
                    not_matched()
                } else if !constraints_ok {
                    "a constraint is not satisfied".into()
                } else if let Some(d) = blocking.first() {
                    format!("duty {} ({}) is {}", d.id, d.action, state_word(d.state))
                } else if !refined {
                    "active, but a refinement is not satisfied by the request".into()
                } else {
                    "permits the request".into()
                };
            }
            RuleKind::Prohibition => {
                // Fail closed: a constraint nobody can evaluate cannot switch a prohibition off.
                let holds = |c: &ConstraintReport| c.satisfied || c.indeterminate;
                report.active = matched && report.constraints.iter().all(holds);
                let applies = report.active && report.refinements.iter().all(holds);
                report.state = if applies {
                    RuleState::Violated
                } else {
                    RuleState::NotSet
                };
                report.reason = if !matched {
                    not_matched()
                } else if !report.active {
                    "inactive: a constraint is not satisfied".into()
                } else if !applies {
                    "active, but a refinement excludes this request".into()
                } else {
                    "prohibits the request".into()
                };
            }
            RuleKind::Obligation | RuleKind::Duty => {
                // An obligation binds whatever the request is; matching the request does not apply to it.
                report.action_matched = true;
                report.target_matched = true;
                report.party_matched = true;
                let d = self.duty(rule, path);
                report.active = d.active;
                report.state = d.state;
                report.refinements = d.refinements;
                report.duties = d.duties;
                report.reason = d.reason;
            }
        }
        if rule.kind == RuleKind::Prohibition {
            // Remedies are reported (with their recorded state) so an auditor sees what restores compliance.
            report.duties = rule
                .remedies
                .iter()
                .enumerate()
                .map(|(j, d)| self.duty(d, &format!("{path}.remedy[{j}]")))
                .collect();
        }
        report
    }

    /// A duty (permission pre-condition) or obligation: active when its constraints hold, and its recorded state.
    fn duty(&self, duty: &Rule, path: &str) -> RuleReport {
        let constraints = self.constraints(&duty.constraints, &format!("{path}.constraint"));
        // Fail closed: an undeterminable constraint keeps the duty in force.
        let active = constraints.iter().all(|c| c.satisfied || c.indeterminate);
        let action = duty.action.as_ref();
        let action_name = action.map(|a| a.name.clone()).unwrap_or_else(|| "*".into());
        let refinements = action
            .map(|a| self.constraints(&a.refinements, &format!("{path}.action.refinement")))
            .unwrap_or_default();
        let recorded = duty
            .uid
            .as_deref()
            .and_then(|id| self.ctx.duties.get(id))
            .or_else(|| {
                action
                    .and_then(|a| a.uid.as_deref())
                    .and_then(|id| self.ctx.duties.get(id))
            })
            .or_else(|| self.ctx.duties.get(&action_name));
        let (state, why) = match recorded {
            Some(DutyState::Fulfilled) => {
                (RuleState::Fulfilled, "fulfilled (recorded)".to_string())
            }
            Some(DutyState::Violated) => (RuleState::Violated, "violated (recorded)".to_string()),
            Some(DutyState::NotSet) => (
                RuleState::NotSet,
                "not yet fulfilled (recorded)".to_string(),
            ),
            None if action_name == "compensate" && self.ctx.payment.is_some() => {
                // A payment in the context fulfils a compensate duty when it meets the duty's refinements.
                if refinements.iter().all(|c| c.satisfied) {
                    (
                        RuleState::Fulfilled,
                        "fulfilled by the payment in the request context".to_string(),
                    )
                } else {
                    (
                        RuleState::NotSet,
                        "not fulfilled: the payment does not meet the duty's refinement"
                            .to_string(),
                    )
                }
            }
            None => (
                RuleState::NotSet,
                "not yet fulfilled (no record in the request context)".to_string(),
            ),
        };
        let reason = if active {
            why
        } else {
            format!("inactive: a constraint of the duty is not satisfied; {why}")
        };
        RuleReport {
            id: duty.uid.clone().unwrap_or_else(|| path.to_string()),
            kind: duty.kind,
            action: action_name,
            action_matched: true,
            target_matched: true,
            party_matched: true,
            active,
            state,
            constraints,
            refinements,
            // Consequences: the duties that apply when this one is not fulfilled.
            duties: duty
                .consequences
                .iter()
                .enumerate()
                .map(|(j, c)| self.duty(c, &format!("{path}.consequence[{j}]")))
                .collect(),
            reason,
        }
    }

    fn asset_matches(&self, t: &Asset) -> bool {
        let Some(res) = self.ctx.resource.as_ref() else {
            return false;
        };
        res.id.as_deref() == Some(t.uid.as_str()) || res.part_of.iter().any(|c| c == &t.uid)
    }

    fn party_matches(&self, p: &Party) -> bool {
        let Some(cp) = self.ctx.counterparty.as_ref() else {
            return false;
        };
        cp.id.as_deref() == Some(p.uid.as_str()) || cp.part_of.iter().any(|c| c == &p.uid)
    }

    fn constraints(&self, cs: &[Constraint], path: &str) -> Vec<ConstraintReport> {
        cs.iter()
            .enumerate()
            .map(|(i, c)| self.constraint(c, format!("{path}[{i}]"), 0))
            .collect()
    }

    fn constraint(&self, c: &Constraint, path: String, depth: usize) -> ConstraintReport {
        match c {
            Constraint::Atomic(a) => {
                let right_operand = right_operand_json(&a.right_operand);
                let mut report = ConstraintReport {
                    path,
                    id: a.uid.clone(),
                    left_operand: a.left_operand.as_term(),
                    operator: a.operator.as_str().into(),
                    right_operand,
                    value: Value::Null,
                    satisfied: false,
                    reason: String::new(),
                    indeterminate: false,
                    operands: Vec::new(),
                };
                let ro_text = right_text(&a.right_operand);
                let outcome = if a.left_operand == LeftOperand::Event {
                    evaluate_event(a.operator, &a.right_operand, self.ctx)
                } else {
                    resolve(&a.left_operand, self.ctx, &a.right_operand, a.unit.as_deref()).and_then(|val| {
                        let regions = matches!(&a.left_operand, LeftOperand::Spatial)
                            || matches!(&a.left_operand, LeftOperand::Claim(n) if n.ends_with("region"));
                        let cx = SetContext { types: &self.ctx.types, regions };
                        match apply(a.operator, &val, &a.right_operand, &cx) {
                            Ok(b) => Ok((val, b)),
                            Err(e) => {
                                report.value = val.to_json();
                                Err(e)
                            }
                        }
                    })
                };
                match outcome {
                    Ok((val, ok)) => {
                        report.satisfied = ok;
                        report.reason = format!(
                            "{} {} {} {} {}",
                            report.left_operand,
                            val.describe(),
                            if ok { "satisfies" } else { "does not satisfy" },
                            a.operator,
                            ro_text
                        );
                        report.value = val.to_json();
                    }
                    Err(e)
                        if self.scope == Scope::Catalogue
                            && deferred_in_catalogue(&a.left_operand) =>
                    {
                        // Browsing the catalogue, the partner has not declared how it will use the resource yet;
                        // a usage condition is judged at negotiation and on every access, so it cannot hide
                        // the offer now.
                        report.satisfied = true;
                        report.reason = format!(
                            "{} is judged at negotiation, not while browsing ({e})",
                            report.left_operand
                        );
                    }
                    Err(e) => {
                        report.indeterminate = true;
                        report.reason = e;
                    }
                }
                report
            }
            Constraint::Logical(l) => {
                let op = l.operator;
                let operands: Vec<ConstraintReport> = if depth > MAX_DEPTH {
                    Vec::new()
                } else {
                    l.constraints
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            self.constraint(c, format!("{path}.{}[{i}]", op.as_str()), depth + 1)
                        })
                        .collect()
                };
                let n = operands.len();
                let k = operands.iter().filter(|c| c.satisfied).count();
                let satisfied = match op {
                    LogicalOperator::And | LogicalOperator::AndSequence => n > 0 && k == n,
                    LogicalOperator::Or => k > 0,
                    LogicalOperator::Xone => k == 1,
                };
                let indeterminate = !satisfied && operands.iter().any(|c| c.indeterminate);
                let reason = if depth > MAX_DEPTH {
                    "logical constraint nested too deeply".to_string()
                } else {
                    format!("{}: {k} of {n} operands satisfied", op.as_str())
                };
                ConstraintReport {
                    path,
                    id: l.uid.clone(),
                    left_operand: op.as_str().into(),
                    operator: String::new(),
                    right_operand: Value::Null,
                    value: Value::Null,
                    satisfied,
                    reason,
                    indeterminate: indeterminate || depth > MAX_DEPTH,
                    operands,
                }
            }
        }
    }
}

/// Left operands about how a resource will be used, which a catalogue request cannot know yet.
fn deferred_in_catalogue(left: &LeftOperand) -> bool {
    matches!(
        left,
        LeftOperand::Purpose
            | LeftOperand::Count
            | LeftOperand::ElapsedTime
            | LeftOperand::DelayPeriod
            | LeftOperand::Event
            | LeftOperand::PayAmount
    )
}

/// The right operand as a person reads it: lexical values, not JSON-LD value objects.
fn right_text(r: &RightOperand) -> String {
    let one = |l: &Literal| match l {
        Literal::Number(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Json(v) => v.to_string(),
        other => format!("{:?}", other.lexical()),
    };
    match r {
        RightOperand::Single(l) => one(l),
        RightOperand::List(ls) => {
            format!("[{}]", ls.iter().map(one).collect::<Vec<_>>().join(", "))
        }
        RightOperand::Reference(iri) => format!("reference {iri:?}"),
    }
}

fn state_word(s: RuleState) -> &'static str {
    match s {
        RuleState::Permit => "permit",
        RuleState::Deny => "deny",
        RuleState::NotSet => "not yet fulfilled",
        RuleState::Fulfilled => "fulfilled",
        RuleState::Violated => "violated",
    }
}
