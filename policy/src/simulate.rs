//! A policy's life for one partner, as the connector would decide it: may the partner see the offer, agree to
//! it, start a transfer, have its first request served, and its N-th. Each step shows the exact request context
//! the connector's request builder makes and the decision on it (`twinport policy simulate`).

use crate::engine::{Engine, Scope};
use crate::model::{Constraint, LeftOperand, Operator, Policy, RightOperand};
use crate::report::ComplianceReport;
use crate::request::{build, Facts, Flow};
use crate::RequestContext;
use serde::Serialize;

/// One moment of the simulation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub scope: Scope,
    /// What is asked, in words ("may the partner see the offer?").
    pub question: String,
    /// The context the request builder made.
    pub context: RequestContext,
    pub report: ComplianceReport,
}

/// The N-th access worth showing: one past a count limit in the policy, else the 100th.
pub fn default_nth(policy: &Policy) -> u64 {
    fn bound(cs: &[Constraint]) -> Option<u64> {
        cs.iter().find_map(|c| match c {
            Constraint::Atomic(a) if a.left_operand == LeftOperand::Count => {
                let RightOperand::Single(l) = &a.right_operand else {
                    return None;
                };
                let n = l.lexical().trim().parse::<f64>().ok()?;
                if !(0.0..1e12).contains(&n) {
                    return None;
                }
                match a.operator {
                    Operator::Lteq => Some(n.floor() as u64 + 1),
                    Operator::Lt => Some(n.ceil() as u64),
                    _ => None,
                }
            }
            Constraint::Logical(l) => bound(&l.constraints),
            Constraint::Atomic(_) => None,
        })
    }
    policy
        .permissions
        .iter()
        .find_map(|r| bound(&r.constraints))
        .unwrap_or(100)
        .max(2)
}

/// Decides every step for `facts` (the partner, its claims, the purpose, the time, the flow). The transfer and
/// the accesses run under an agreement concluded at `facts.agreed_at`, or at `facts.at` when absent.
pub fn simulate(engine: &Engine, policy: &Policy, facts: &Facts, nth: u64) -> Vec<Step> {
    let flow = match facts.flow.unwrap_or_default() {
        Flow::Pull => "pull",
        Flow::Push => "push",
    };
    let method = facts.method.clone().unwrap_or_else(|| "GET".into());
    let request = if facts.flow == Some(Flow::Push) {
        "delivery".to_string()
    } else {
        format!("{method} request")
    };
    let nth = nth.max(1);
    let steps = [
        (
            Scope::Catalogue,
            "may the partner see the offer?".to_string(),
            None,
        ),
        (
            Scope::Negotiation,
            "may a contract be agreed?".to_string(),
            None,
        ),
        (
            Scope::Transfer,
            format!("may a {flow} transfer start?"),
            Some(0),
        ),
        (
            Scope::Access,
            format!("may the first {request} be served?"),
            Some(0),
        ),
        (
            Scope::Access,
            format!("may {request} number {nth} be served?"),
            Some(nth - 1),
        ),
    ];
    steps
        .into_iter()
        .map(|(scope, question, accesses)| {
            let mut f = facts.clone();
            if let Some(n) = accesses {
                f.accesses = Some(n);
            }
            let context = build(scope, &f, policy);
            let report = engine.evaluate(policy, &context, scope);
            Step {
                scope,
                question,
                context,
                report,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EngineSettings;
    use serde_json::json;

    #[test]
    fn a_count_limit_shows_where_it_bites() {
        let p = Policy::from_json(
            &json!({"permission": [{"action": "read", "target": "urn:ds",
            "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 3}]}]}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default_nth(&p), 4);
        let facts: Facts = serde_json::from_value(json!({"partner": {"id": "did:web:b"},
            "resource": {"id": "urn:ds"}, "at": "2026-12-06T10:00:00Z"}))
        .unwrap_or_else(|e| panic!("{e}"));
        let steps = simulate(&Engine::new(EngineSettings::solidlab()), &p, &facts, 4);
        let decisions: Vec<bool> = steps.iter().map(|s| s.report.is_permit()).collect();
        assert_eq!(decisions, vec![true, true, true, true, false]);
        assert_eq!(steps[4].question, "may GET request number 4 be served?");
        assert_eq!(
            steps[4].context.usage.as_ref().and_then(|u| u.count),
            Some(3)
        );
    }
}
