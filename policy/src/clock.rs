//! Which decisions the passing of time alone can change, and until when one stands. A decision in a scope is a
//! function of the policy, the request context and the engine; when neither the policy's constraints nor the
//! scope's Rego rules read the clock, the same policy and context give the same decision at any time, so a caller
//! may keep it until one of those inputs changes (the connector's catalogue does, for each partner). When the
//! only clock the policy reads is `dateTime` compared with dates and instants written in it ("until the end of
//! 2027"), the decision can change only at those moments, and stands until the next one. Everything here errs
//! towards "reads the clock": a false yes costs a decision made again, a false no would keep one past the moment
//! it changed.

use time::OffsetDateTime;

use crate::engine::{Engine, Scope};
use crate::model::{
    Action, Asset, AtomicConstraint, Constraint, LeftOperand, Operator, Party, Policy,
    RightOperand, Rule,
};
use crate::operators::{time_bound, TimeBound};
use crate::zone::PolicyZone;

/// For how long a decision made now stands with the same policy and context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// At any time.
    Always,
    /// Until this moment (exclusive): the first moment, not before the decision, at which a date or instant the
    /// policy compares the time with begins or ends.
    Until(OffsetDateTime),
    /// Only now: decide again on every request.
    Now,
}

impl Policy {
    /// True when a constraint or refinement anywhere in the policy (rules, their duties, consequences and
    /// remedies, actions, targets and parties) has an operand that reads the clock
    /// ([`crate::model::LeftOperand::reads_clock`]).
    pub fn reads_clock(&self) -> bool {
        self.action.as_ref().is_some_and(action_reads_clock)
            || self.target.as_ref().is_some_and(asset_reads_clock)
            || [&self.assigner, &self.assignee]
                .into_iter()
                .flatten()
                .any(party_reads_clock)
            || self.rules().any(rule_reads_clock)
    }
}

impl Engine {
    /// True when a decision on `policy` in `scope` may differ at another time for the same context: the policy
    /// reads the clock, or a Rego rule of the scope may.
    pub fn decision_reads_clock(&self, policy: &Policy, scope: Scope) -> bool {
        policy.reads_clock() || self.rego().is_some_and(|r| r.reads_clock(scope))
    }

    /// How long a decision on `policy` in `scope`, made at `at`, stands for the same context (see [`Standing`]).
    pub fn decision_standing(&self, policy: &Policy, scope: Scope, at: OffsetDateTime) -> Standing {
        if self.rego().is_some_and(|r| r.reads_clock(scope)) {
            return Standing::Now;
        }
        if !policy.reads_clock() {
            return Standing::Always;
        }
        let Ok(zone) = self.zone_for(policy) else {
            return Standing::Now;
        };
        let mut clocked = Vec::new();
        collect_clocked(policy, &mut clocked);
        let mut next: Option<OffsetDateTime> = None;
        for c in clocked {
            let Some(moments) = moments(c, zone) else {
                return Standing::Now;
            };
            for m in moments.into_iter().filter(|m| *m >= at) {
                next = Some(next.map_or(m, |n| n.min(m)));
            }
        }
        match next {
            None => Standing::Always,
            Some(m) if m <= at => Standing::Now,
            Some(m) => Standing::Until(m),
        }
    }
}

/// The moments at which `c` may change its outcome: where each date it is compared with begins and ends, or each
/// instant; `None` when its outcome may change at other times (another clock operand, an operand that is not a
/// plain date or instant, an operator other than a comparison).
fn moments(c: &AtomicConstraint, zone: &PolicyZone) -> Option<Vec<OffsetDateTime>> {
    if c.left_operand != LeftOperand::DateTime
        || !matches!(
            c.operator,
            Operator::Lt
                | Operator::Lteq
                | Operator::Gt
                | Operator::Gteq
                | Operator::Eq
                | Operator::Neq
        )
    {
        return None;
    }
    let literals = match &c.right_operand {
        RightOperand::Single(l) => vec![l],
        RightOperand::List(ls) => ls.iter().collect(),
        RightOperand::Reference(_) => return None,
    };
    let mut out = Vec::new();
    for l in literals {
        match time_bound(&l.lexical(), zone)? {
            TimeBound::Instant(i) => out.push(i),
            TimeBound::Day { start, end } => out.extend([start, end]),
        }
    }
    Some(out)
}

/// Every atomic constraint or refinement anywhere in the policy whose operand reads the clock.
fn collect_clocked<'a>(policy: &'a Policy, out: &mut Vec<&'a AtomicConstraint>) {
    let mut constraints: Vec<&'a [Constraint]> = Vec::new();
    fn of_rule<'a>(rule: &'a Rule, into: &mut Vec<&'a [Constraint]>) {
        into.push(&rule.constraints);
        if let Some(a) = &rule.action {
            into.push(&a.refinements);
        }
        if let Some(t) = &rule.target {
            into.push(&t.refinements);
        }
        for p in [&rule.assigner, &rule.assignee, &rule.attributed_party]
            .into_iter()
            .flatten()
        {
            into.push(&p.refinements);
        }
        for r in rule
            .duties
            .iter()
            .chain(&rule.consequences)
            .chain(&rule.remedies)
        {
            of_rule(r, into);
        }
    }
    if let Some(a) = &policy.action {
        constraints.push(&a.refinements);
    }
    if let Some(t) = &policy.target {
        constraints.push(&t.refinements);
    }
    for p in [&policy.assigner, &policy.assignee].into_iter().flatten() {
        constraints.push(&p.refinements);
    }
    for r in policy.rules() {
        of_rule(r, &mut constraints);
    }
    fn atoms<'a>(cs: &'a [Constraint], out: &mut Vec<&'a AtomicConstraint>) {
        for c in cs {
            match c {
                Constraint::Atomic(a) if a.left_operand.reads_clock() => out.push(a),
                Constraint::Atomic(_) => {}
                Constraint::Logical(l) => atoms(&l.constraints, out),
            }
        }
    }
    for cs in constraints {
        atoms(cs, out);
    }
}

fn rule_reads_clock(rule: &Rule) -> bool {
    constraints_read_clock(&rule.constraints)
        || rule.action.as_ref().is_some_and(action_reads_clock)
        || rule.target.as_ref().is_some_and(asset_reads_clock)
        || [&rule.assigner, &rule.assignee, &rule.attributed_party]
            .into_iter()
            .flatten()
            .any(party_reads_clock)
        || rule
            .duties
            .iter()
            .chain(&rule.consequences)
            .chain(&rule.remedies)
            .any(rule_reads_clock)
}

fn action_reads_clock(action: &Action) -> bool {
    constraints_read_clock(&action.refinements)
}

fn asset_reads_clock(asset: &Asset) -> bool {
    constraints_read_clock(&asset.refinements)
}

fn party_reads_clock(party: &Party) -> bool {
    constraints_read_clock(&party.refinements)
}

fn constraints_read_clock(constraints: &[Constraint]) -> bool {
    constraints.iter().any(|c| match c {
        Constraint::Atomic(a) => a.left_operand.reads_clock(),
        Constraint::Logical(l) => constraints_read_clock(&l.constraints),
    })
}

#[cfg(test)]
mod tests {
    use super::Standing;
    use crate::context::{CounterpartyContext, RequestContext, ResourceContext};
    use crate::engine::{Engine, Scope};
    use crate::model::Policy;
    use crate::value::parse_time;
    use serde_json::{json, Value};

    fn at(t: &str) -> time::OffsetDateTime {
        parse_time(t).unwrap_or_else(|| panic!("{t}"))
    }

    #[test]
    fn a_decision_under_dates_stands_until_the_next_date_begins_or_ends() {
        let engine = Engine::default();
        let until_2027 = with(
            json!({"leftOperand": "dateTime", "operator": "lteq", "rightOperand": {"@value": "2027-12-31", "@type": "xsd:date"}}),
        );
        let standing = |p: &Policy, t: &str| engine.decision_standing(p, Scope::Catalogue, at(t));
        // The engine reads dates in UTC by default: 2027-12-31 is [2027-12-31T00:00Z, 2028-01-01T00:00Z).
        assert_eq!(
            standing(&until_2027, "2026-12-07T10:00:00Z"),
            Standing::Until(at("2027-12-31T00:00:00Z"))
        );
        assert_eq!(
            standing(&until_2027, "2027-12-31T12:00:00Z"),
            Standing::Until(at("2028-01-01T00:00:00Z"))
        );
        assert_eq!(
            standing(&until_2027, "2028-02-01T00:00:00Z"),
            Standing::Always
        );
        let window = with(json!({"and": [
            {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": "2026-06-01T00:00:00Z"},
            {"leftOperand": "dateTime", "operator": "lt", "rightOperand": "2027-06-01T00:00:00Z"}]}));
        assert_eq!(
            standing(&window, "2026-01-01T00:00:00Z"),
            Standing::Until(at("2026-06-01T00:00:00Z"))
        );
        assert_eq!(
            standing(&window, "2026-12-01T00:00:00Z"),
            Standing::Until(at("2027-06-01T00:00:00Z"))
        );
        // Made at the very moment: it may change an instant later.
        assert_eq!(standing(&window, "2027-06-01T00:00:00Z"), Standing::Now);
        let open = policy(json!({"permission": [{"action": "use"}]}));
        assert_eq!(standing(&open, "2026-12-07T10:00:00Z"), Standing::Always);
        for other in [
            with(
                json!({"leftOperand": "twinport:timeOfDay", "operator": "lt", "rightOperand": "18:00"}),
            ),
            with(
                json!({"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": {"@value": "P30D", "@type": "xsd:duration"}}),
            ),
            with(
                json!({"leftOperand": "dateTime", "operator": "isAnyOf", "rightOperand": ["2027-01-01"]}),
            ),
        ] {
            assert_eq!(
                standing(&other, "2026-12-07T10:00:00Z"),
                Standing::Now,
                "{other:?}"
            );
        }
    }

    /// Guards the moments against the evaluator: between two of them the decision is the same everywhere.
    #[test]
    fn the_decision_is_the_same_everywhere_before_the_moment_it_stands_until() {
        let engine = Engine::default();
        let p = with(
            json!({"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31"}),
        );
        let decide = |t: time::OffsetDateTime| {
            let ctx = RequestContext {
                time: t
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok(),
                ..Default::default()
            };
            engine.evaluate(&p, &ctx, Scope::Catalogue).decision
        };
        let mut t = at("2027-12-30T00:00:00Z");
        while t < at("2028-01-02T00:00:00Z") {
            if let Standing::Until(until) = engine.decision_standing(&p, Scope::Catalogue, t) {
                let last = until - time::Duration::nanoseconds(1);
                assert_eq!(decide(t), decide(last), "between {t} and {until}");
            }
            t += time::Duration::hours(5);
        }
    }

    fn policy(v: Value) -> Policy {
        Policy::from_json(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn with(constraint: Value) -> Policy {
        policy(json!({"permission": [{"action": "use", "constraint": [constraint]}]}))
    }

    #[test]
    fn clock_operands_anywhere_in_the_policy_are_found() {
        let until =
            json!({"leftOperand": "dateTime", "operator": "lt", "rightOperand": "2030-01-01"});
        for p in [
            with(until.clone()),
            with(
                json!({"or": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "x"}, until.clone()]}),
            ),
            policy(
                json!({"permission": [{"action": {"rdf:value": {"@id": "use"}, "refinement": [until.clone()]}}]}),
            ),
            policy(
                json!({"permission": [{"action": "use", "duty": [{"action": "delete", "constraint": [until.clone()]}]}]}),
            ),
            policy(
                json!({"permission": [{"action": "use"}], "prohibition": [{"action": "distribute", "constraint": [
                {"leftOperand": "twinport:timeOfDay", "operator": "gt", "rightOperand": "18:00"}]}]}),
            ),
            with(
                json!({"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": {"@value": "P30D", "@type": "xsd:duration"}}),
            ),
            with(
                json!({"leftOperand": "claim:region", "operator": "isPartOf", "rightOperand": "EU"}),
            ),
        ] {
            assert!(p.reads_clock(), "{p:?}");
        }
        for p in [
            policy(json!({"permission": [{"action": "use"}]})),
            with(
                json!({"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}),
            ),
            with(json!({"leftOperand": "twinport:stage", "operator": "eq", "rightOperand": "raw"})),
            with(
                json!({"leftOperand": "purpose", "operator": "isA", "rightOperand": "https://w3id.org/dpv#ResearchAndDevelopment"}),
            ),
        ] {
            assert!(!p.reads_clock(), "{p:?}");
        }
    }

    /// Guards the classification against the evaluator: a policy said not to read the clock is decided the same at
    /// times decades apart, for every operand the engine knows that does not read it.
    #[test]
    fn a_policy_that_does_not_read_the_clock_is_decided_the_same_at_any_time() {
        let context = |time: &str| RequestContext {
            time: Some(time.into()),
            counterparty: Some(CounterpartyContext {
                id: Some("did:web:b".into()),
                claims: serde_json::from_value(
                    json!({"membership": "ldt-network", "industry": "energy", "region": "NL"}),
                )
                .unwrap_or_default(),
                ..Default::default()
            }),
            resource: Some(ResourceContext {
                id: Some("urn:r:1".into()),
                kind: Some("dataset".into()),
                stage: Some("raw".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let engine = Engine::default();
        for constraint in [
            json!({"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}),
            json!({"leftOperand": "industry", "operator": "eq", "rightOperand": "energy"}),
            json!({"leftOperand": "twinport:resourceKind", "operator": "eq", "rightOperand": "dataset"}),
            json!({"leftOperand": "twinport:stage", "operator": "neq", "rightOperand": "raw"}),
            json!({"leftOperand": "recipient", "operator": "eq", "rightOperand": "did:web:b"}),
            json!({"leftOperand": "purpose", "operator": "eq", "rightOperand": "x"}),
            json!({"leftOperand": "count", "operator": "lteq", "rightOperand": 5}),
        ] {
            let p = with(constraint.clone());
            assert!(!p.reads_clock(), "{constraint}");
            let decide = |t: &str| engine.evaluate(&p, &context(t), Scope::Catalogue).decision;
            assert_eq!(
                decide("1971-03-01T03:00:00Z"),
                decide("2099-11-30T22:00:00Z"),
                "{constraint}"
            );
        }
    }
}
