//! One pass over a policy for one requested action: each rule matched against the request (action hierarchy,
//! target, assignee), its constraints, refinements and duties evaluated against the request context in the
//! policy's time zone, and the rule's state and reason reported.

use crate::context::{DutyState, RequestContext};
use crate::left_operands::{evaluate_event, provided, resolve};
use crate::model::{
    action_includes, Action, Asset, Constraint, LeftOperand, Literal, Operator, Party, Policy,
    RightOperand, Rule, RuleKind,
};
use crate::operators::{apply, Domain, Semantics};
use crate::report::{ComplianceReport, ConstraintReport, RuleReport, RuleState};
use crate::serialize::right_operand_json;
use crate::settings::EngineSettings;
use crate::zone::PolicyZone;
use serde_json::Value;

use super::truth::{binds, combine, may_hold, Truth};
use super::{Engine, Scope};

/// Per-decision inputs threaded through the rule walk.
pub(super) struct Walk<'a> {
    pub(super) policy: &'a Policy,
    pub(super) ctx: &'a RequestContext,
    /// The requested action; `None` only when neither the context nor the policy names one.
    pub(super) action: Option<&'a str>,
    pub(super) settings: &'a EngineSettings,
    pub(super) scope: Scope,
    pub(super) zone: &'a PolicyZone,
    /// The time of the request, for dated facts (membership of a group of regions on its local day).
    pub(super) at: Option<time::OffsetDateTime>,
}

const MAX_DEPTH: usize = 64;

impl Walk<'_> {
    pub(super) fn report(&self, engine: &Engine) -> ComplianceReport {
        let mut report =
            ComplianceReport::denied(self.policy.uid.clone(), self.scope, "", String::new());
        report.deciding_rules.clear();
        for (i, r) in self.policy.permissions.iter().enumerate() {
            report.rules.push(self.rule(r, &format!("permission[{i}]")));
        }
        for (i, r) in self.policy.prohibitions.iter().enumerate() {
            report
                .rules
                .push(self.rule(r, &format!("prohibition[{i}]")));
        }
        for (i, r) in self.policy.obligations.iter().enumerate() {
            report.rules.push(self.rule(r, &format!("obligation[{i}]")));
        }
        let action_text = self.action.unwrap_or("the request");
        engine.decide(self.policy, action_text, &mut report);
        report
    }

    fn rule(&self, rule: &Rule, path: &str) -> RuleReport {
        let action: Option<&Action> = rule.action.as_ref().or(self.policy.action.as_ref());
        let target: Option<&Asset> = rule.target.as_ref().or(self.policy.target.as_ref());
        let assignee: Option<&Party> = rule.assignee.as_ref().or(self.policy.assignee.as_ref());
        let action_matched = match (action, self.action) {
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
            name: String::new(),
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
            blocks: false,
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
                let constraints_ok = report.constraints.iter().all(may_hold);
                for d in &mut report.duties {
                    d.blocks = blocks(d, self.settings);
                }
                let blocking: Vec<&RuleReport> =
                    report.duties.iter().filter(|d| d.blocks).collect();
                report.active = matched && constraints_ok && blocking.is_empty();
                let refined = report.refinements.iter().all(may_hold);
                report.state = if report.active && refined {
                    RuleState::Permit
                } else {
                    RuleState::Deny
                };
                let later: Vec<String> = report
                    .constraints
                    .iter()
                    .chain(&report.refinements)
                    .filter(|c| c.deferred)
                    .map(|c| c.left_operand.clone())
                    .collect();
                report.reason = if !matched {
                    not_matched()
                } else if !constraints_ok {
                    "a constraint is not satisfied".into()
                } else if let Some(d) = blocking.first() {
                    format!("duty {} ({}) is {}", d.id, d.action, state_word(d.state))
                } else if !refined {
                    "active, but a refinement is not satisfied by the request".into()
                } else if !later.is_empty() {
                    format!("may permit: judged later on {}", later.join(", "))
                } else {
                    "permits the request".into()
                };
            }
            RuleKind::Prohibition => {
                // Fail closed: a constraint nobody can evaluate cannot switch a prohibition off.
                report.active = matched && report.constraints.iter().all(binds);
                let applies = report.active && report.refinements.iter().all(binds);
                report.state = if applies {
                    RuleState::Violated
                } else {
                    RuleState::NotSet
                };
                report.reason = if !matched {
                    not_matched()
                } else if !report.active {
                    if report.constraints.iter().any(|c| c.deferred) {
                        "not active yet: a condition is judged later".into()
                    } else {
                        "inactive: a constraint is not satisfied".into()
                    }
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
        let active = constraints.iter().all(binds);
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
            name: String::new(),
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
            blocks: false,
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

    /// Whether a constraint on `left` that cannot be decided now is only not known *yet*: browsing the
    /// catalogue nobody has declared a purpose or made an access; at negotiation the agreement starts now, so
    /// a period that must first pass ("after 30 days") is not over yet but will be.
    fn deferred(&self, left: &LeftOperand, op: Operator, evaluated: bool) -> bool {
        match self.scope {
            Scope::Catalogue => {
                !evaluated && deferred_in_catalogue(left) && !provided(left, self.ctx)
            }
            Scope::Negotiation => {
                evaluated
                    && matches!(left, LeftOperand::ElapsedTime | LeftOperand::DelayPeriod)
                    && matches!(op, Operator::Gt | Operator::Gteq | Operator::Eq)
            }
            _ => false,
        }
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
                    deferred: false,
                    explanation: String::new(),
                    operands: Vec::new(),
                };
                let ro_text = right_text(&a.right_operand);
                let outcome = if a.left_operand == LeftOperand::Event {
                    evaluate_event(a.operator, &a.right_operand, self.ctx)
                } else {
                    resolve(
                        &a.left_operand,
                        self.ctx,
                        &a.right_operand,
                        a.unit.as_deref(),
                        self.zone,
                    )
                    .and_then(|val| {
                        let domain = if a.left_operand.compares_regions() {
                            Domain::Region
                        } else if a.left_operand == LeftOperand::Purpose {
                            Domain::Purpose
                        } else {
                            Domain::Plain
                        };
                        let cx = Semantics {
                            types: &self.ctx.types,
                            domain,
                            zone: self.zone,
                            at: self.at,
                        };
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
                        report.value = val.to_json();
                        if !ok && self.deferred(&a.left_operand, a.operator, true) {
                            report.deferred = true;
                            report.reason = format!(
                                "{} {} does not satisfy {} {} yet: the agreement starts now, so this is judged again on every transfer and access",
                                report.left_operand, val.describe(), a.operator, ro_text
                            );
                        } else {
                            report.reason = format!(
                                "{} {} {} {} {}",
                                report.left_operand,
                                val.describe(),
                                if ok { "satisfies" } else { "does not satisfy" },
                                a.operator,
                                ro_text
                            );
                        }
                    }
                    Err(e) if self.deferred(&a.left_operand, a.operator, false) => {
                        // Browsing the catalogue, the partner has not said how it will use the resource yet: a
                        // usage condition is judged at negotiation and on every access. Unknown, not false: a
                        // permission conditioned on it may still apply, a prohibition is not active yet.
                        report.deferred = true;
                        report.reason = format!(
                            "{} is not known while browsing the catalogue ({e}); it is judged at negotiation and on every access",
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
                let t = if depth > MAX_DEPTH {
                    Truth::Indeterminate
                } else {
                    combine(op, &operands)
                };
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
                    satisfied: t == Truth::True,
                    reason,
                    indeterminate: t == Truth::Indeterminate,
                    deferred: t == Truth::Deferred,
                    explanation: String::new(),
                    operands,
                }
            }
        }
    }
}

/// Whether a permission's duty keeps it from permitting: violated, or (when the settings say so) not yet done.
fn blocks(d: &RuleReport, settings: &EngineSettings) -> bool {
    d.active
        && (d.state == RuleState::Violated
            || (settings.duty_not_set_blocks && d.state == RuleState::NotSet))
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
