//! The evaluator: matches each rule against the request (action hierarchy, target, assignee), evaluates its
//! constraints, refinements and duties against the request context, combines the rules into a decision under
//! the engine settings, and runs the scope's Rego rules. It never panics and never lets an undeterminable
//! constraint grant anything: in permissions it fails, in prohibitions and duties it keeps the rule in force.

use crate::context::{DutyState, RequestContext};
use crate::left_operands::{evaluate_event, provided, request_time, resolve};
use crate::model::{
    action_includes, normalise_term, Action, Asset, ConflictStrategy, Constraint, LeftOperand,
    Literal, LogicalOperator, Operator, Party, Policy, PolicyKind, RightOperand, Rule, RuleKind,
};
use crate::operators::{apply, Domain, Semantics};
use crate::rego::RegoRules;
use crate::report::{ComplianceReport, ConstraintReport, Decision, RuleReport, RuleState};
use crate::serialize::right_operand_json;
use crate::settings::{EngineSettings, PermissionCombination, World};
use crate::zone::PolicyZone;
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
#[derive(Debug, Clone)]
pub struct Engine {
    settings: EngineSettings,
    rego: Option<RegoRules>,
    /// The settings' time zone, read once; an unknown name denies every decision that has no zone of its own.
    zone: Result<PolicyZone, String>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineSettings::default())
    }
}

/// Per-decision inputs threaded through the rule walk.
struct Walk<'a> {
    policy: &'a Policy,
    ctx: &'a RequestContext,
    /// The requested action; `None` only when neither the context nor the policy names one.
    action: Option<&'a str>,
    settings: &'a EngineSettings,
    scope: Scope,
    zone: &'a PolicyZone,
    /// The time of the request, for dated facts (membership of a group of regions on its local day).
    at: Option<time::OffsetDateTime>,
}

const MAX_DEPTH: usize = 64;

/// A constraint's truth in three values, with the two ways of "unknown" kept apart: a value that is not known
/// yet in this scope (deferred, judged later) and one that cannot be known at all (indeterminate, fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Deferred,
    Indeterminate,
}

fn truth(c: &ConstraintReport) -> Truth {
    if c.satisfied {
        Truth::True
    } else if c.indeterminate {
        Truth::Indeterminate
    } else if c.deferred {
        Truth::Deferred
    } else {
        Truth::False
    }
}

/// Kleene's logic over the operands of a logical constraint; an unknown result is indeterminate if any unknown
/// operand is, so that a value that can never be known keeps failing closed.
fn combine(op: LogicalOperator, operands: &[ConstraintReport]) -> Truth {
    let ts: Vec<Truth> = operands.iter().map(truth).collect();
    let unknown = || {
        if ts.contains(&Truth::Indeterminate) {
            Truth::Indeterminate
        } else {
            Truth::Deferred
        }
    };
    let trues = ts.iter().filter(|t| **t == Truth::True).count();
    let unknowns = ts
        .iter()
        .filter(|t| matches!(t, Truth::Deferred | Truth::Indeterminate))
        .count();
    match op {
        LogicalOperator::And | LogicalOperator::AndSequence => {
            if ts.is_empty() || ts.contains(&Truth::False) {
                Truth::False
            } else if unknowns == 0 {
                Truth::True
            } else {
                unknown()
            }
        }
        LogicalOperator::Or => {
            if trues > 0 {
                Truth::True
            } else if unknowns == 0 {
                Truth::False
            } else {
                unknown()
            }
        }
        LogicalOperator::Xone => {
            if trues > 1 {
                Truth::False
            } else if unknowns == 0 {
                if trues == 1 {
                    Truth::True
                } else {
                    Truth::False
                }
            } else {
                unknown()
            }
        }
    }
}

/// A permission's condition may still be met: satisfied, or not known yet in this scope.
fn may_hold(c: &ConstraintReport) -> bool {
    c.satisfied || c.deferred
}

/// A prohibition's or duty's condition binds: satisfied, or impossible to know (fail closed). A condition that is
/// not known yet does not make a prohibition active: browsing the catalogue, nobody has declared a purpose.
fn binds(c: &ConstraintReport) -> bool {
    c.satisfied || c.indeterminate
}

impl Engine {
    pub fn new(settings: EngineSettings) -> Engine {
        let zone = PolicyZone::named(&settings.time_zone);
        Engine {
            settings,
            rego: None,
            zone,
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

    /// The time zone a policy is read in: its own, else the engine's.
    pub fn zone_for<'a>(&'a self, policy: &'a Policy) -> Result<&'a PolicyZone, String> {
        match &policy.time_zone {
            Some(z) => Ok(z),
            None => self.zone.as_ref().map_err(Clone::clone),
        }
    }

    /// Evaluates `policy` for a request in `scope`. Never panics; anything it cannot evaluate denies with a reason.
    ///
    /// The request asks for one action, or for several of which any will do; without an action in the context it
    /// asks for the actions the policy's permissions grant ("could the partner obtain any of them?"). Each action
    /// is decided on its own, and the first one permitted decides.
    pub fn evaluate(
        &self,
        policy: &Policy,
        ctx: &RequestContext,
        scope: Scope,
    ) -> ComplianceReport {
        let zone = match self.zone_for(policy) {
            Ok(z) => z,
            Err(e) => {
                return ComplianceReport::denied(
                    policy.uid.clone(),
                    scope,
                    "unknown-time-zone",
                    format!("deny: the time zone the policy is read in is unusable: {e}"),
                )
            }
        };
        if policy.kind == PolicyKind::Offer && !self.settings.evaluate_offers {
            return ComplianceReport::denied(
                policy.uid.clone(),
                scope,
                "offer-not-considered",
                "deny: an offer grants nothing until it is agreed (offers are not evaluated)"
                    .into(),
            );
        }
        let actions = requested_actions(policy, ctx);
        let at = request_time(ctx).ok();
        let walk = |action: Option<&str>| {
            Walk {
                policy,
                ctx,
                action,
                settings: &self.settings,
                scope,
                zone,
                at,
            }
            .report(self)
        };
        let mut report = match actions.as_slice() {
            [] => walk(None),
            [one] => walk(Some(one.as_str())),
            many => {
                let reports: Vec<ComplianceReport> =
                    many.iter().map(|a| walk(Some(a.as_str()))).collect();
                merge(policy, many, reports)
            }
        };
        report.actions = actions;
        if let Some(rego) = &self.rego {
            if let Some(outcome) =
                rego.evaluate(scope, ctx, policy, self.settings.rego_time_limit_ms)
            {
                if outcome.denied {
                    report.decision = Decision::Deny;
                    report.deciding_rules.push("rego".into());
                    report.summary =
                        format!("deny: the city's local rules for {scope} refused the request");
                }
                report.rego = Some(outcome);
            }
        }
        if !report.is_permit() {
            crate::reasons::annotate(policy, zone, &mut report);
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
                    format!("permit: {action} is permitted, and the policy lets permissions override prohibitions (conflict: perm)"),
                ),
                ConflictStrategy::Prohibit => (
                    Decision::Deny,
                    prohibiting,
                    format!("deny: {action} is prohibited, and the policy lets prohibitions override permissions (conflict: prohibit)"),
                ),
                ConflictStrategy::Invalid => {
                    let mut d = vec!["conflict".to_string()];
                    d.extend(permitting);
                    d.extend(prohibiting);
                    (Decision::Deny, d, format!("deny: {action} is both permitted and prohibited, which voids the policy (conflict: invalid)"))
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
                        format!("deny: no permission allows {action}"),
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

/// The actions a request asks for: the context's, else each distinct action the policy's permissions grant.
pub fn requested_actions(policy: &Policy, ctx: &RequestContext) -> Vec<String> {
    if let Some(a) = &ctx.action {
        let mut out: Vec<String> = Vec::new();
        for name in a.names() {
            let n = normalise_term(name).to_string();
            if !out.contains(&n) {
                out.push(n);
            }
        }
        return out;
    }
    crate::request::granted_actions(policy)
}

/// The report for several actions none of which was permitted: each permission as judged for its own action, so
/// every failing condition is there; prohibitions and obligations as judged where they bit, else for the first.
fn merge(policy: &Policy, actions: &[String], reports: Vec<ComplianceReport>) -> ComplianceReport {
    if let Some(permit) = reports.iter().position(ComplianceReport::is_permit) {
        return reports.into_iter().nth(permit).unwrap_or_else(|| {
            ComplianceReport::denied(policy.uid.clone(), Scope::Access, "internal", String::new())
        });
    }
    let Some(first) = reports.first() else {
        return ComplianceReport::denied(
            policy.uid.clone(),
            Scope::Access,
            "internal",
            String::new(),
        );
    };
    let mut merged = first.clone();
    let own_action = |rule: &Rule| {
        rule.action
            .as_ref()
            .or(policy.action.as_ref())
            .and_then(|a| actions.iter().position(|x| *x == a.name))
            .unwrap_or(0)
    };
    for (i, rule) in policy.permissions.iter().enumerate() {
        if let Some(r) = reports.get(own_action(rule)).and_then(|r| r.rules.get(i)) {
            merged.rules[i] = r.clone();
        }
    }
    let n = policy.permissions.len();
    for i in n..merged.rules.len() {
        if let Some(bit) = reports.iter().find_map(|r| {
            r.rules
                .get(i)
                .filter(|x| r.deciding_rules.contains(&x.id) || x.state == RuleState::Violated)
        }) {
            merged.rules[i] = bit.clone();
        }
    }
    let mut deciding: Vec<String> = Vec::new();
    for r in &reports {
        for d in &r.deciding_rules {
            if !deciding.contains(d) {
                deciding.push(d.clone());
            }
        }
    }
    merged.deciding_rules = deciding;
    merged.summary = format!(
        "deny: none of the actions the policy grants ({}) is allowed",
        actions.join(", ")
    );
    merged
}

impl Walk<'_> {
    fn report(&self, engine: &Engine) -> ComplianceReport {
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
