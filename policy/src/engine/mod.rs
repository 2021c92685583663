//! The evaluator: matches each rule against the request (action hierarchy, target, assignee), evaluates its
//! constraints, refinements and duties against the request context, combines the rules into a decision under
//! the engine settings, and runs the scope's Rego rules. It never panics and never lets an undeterminable
//! constraint grant anything: in permissions it fails, in prohibitions and duties it keeps the rule in force.

mod truth;
mod walk;

use crate::context::RequestContext;
use crate::left_operands::request_time;
use crate::model::{normalise_term, ConflictStrategy, Policy, PolicyKind, Rule, RuleKind};
use crate::rego::RegoRules;
use crate::report::{ComplianceReport, Decision, RuleReport, RuleState};
use crate::settings::{EngineSettings, PermissionCombination, World};
use crate::zone::PolicyZone;
use serde::{Deserialize, Serialize};
use std::fmt;

use walk::Walk;

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

    /// The Rego rules the engine runs, if any.
    pub fn rego(&self) -> Option<&RegoRules> {
        self.rego.as_ref()
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
