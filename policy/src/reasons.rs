//! Why, in plain words: after a decision, the rules that decided are named ("the permission to use
//! urn:ldt:traffic-counts") and every condition behind a refusal says what it saw and what the rule requires
//! ("the partner declared no purpose; the rule requires: for research"), in the phrases `explain` uses and in the
//! policy's time zone. Only a refusal is explained: a permit, on the data plane's hot path, needs no reasons.

use crate::explain::{atomic_phrase, claim_name, constraint_phrase, instant_text, rule_name};
use crate::model::{Constraint, LeftOperand, Policy, Rule, RuleKind};
use crate::report::{ComplianceReport, ConstraintReport};
use crate::value::{parse_duration, parse_time};
use crate::zone::PolicyZone;
use serde_json::Value;

/// Fills in, for a refusal, the name of every rule and the explanation of every condition that decided it.
pub(crate) fn annotate(policy: &Policy, zone: &PolicyZone, report: &mut ComplianceReport) {
    let rules = policy
        .permissions
        .iter()
        .chain(&policy.prohibitions)
        .chain(&policy.obligations);
    for (rule, rr) in rules.zip(report.rules.iter_mut()) {
        rr.name = rule_name(policy, rule);
        let binding = rr.kind != RuleKind::Permission;
        explain_all(&rule.constraints, &mut rr.constraints, zone, binding);
        let refinements: Vec<&Constraint> = refinements_of(policy, rule);
        for (c, cr) in refinements.into_iter().zip(rr.refinements.iter_mut()) {
            explain_one(c, cr, zone, binding);
        }
        let subs = match rule.kind {
            RuleKind::Permission => &rule.duties,
            RuleKind::Prohibition => &rule.remedies,
            RuleKind::Obligation | RuleKind::Duty => &rule.consequences,
        };
        for (d, dr) in subs.iter().zip(rr.duties.iter_mut()) {
            dr.name = rule_name(policy, d);
        }
    }
}

/// The refinements of a rule's action, target and assignee, in the order the engine reports them.
fn refinements_of<'a>(policy: &'a Policy, rule: &'a Rule) -> Vec<&'a Constraint> {
    let mut out: Vec<&Constraint> = Vec::new();
    if rule.kind == RuleKind::Obligation || rule.kind == RuleKind::Duty {
        if let Some(a) = &rule.action {
            out.extend(&a.refinements);
        }
        return out;
    }
    if let Some(a) = rule.action.as_ref().or(policy.action.as_ref()) {
        out.extend(&a.refinements);
    }
    if let Some(t) = rule.target.as_ref().or(policy.target.as_ref()) {
        out.extend(&t.refinements);
    }
    if let Some(p) = rule.assignee.as_ref().or(policy.assignee.as_ref()) {
        out.extend(&p.refinements);
    }
    out
}

fn explain_all(
    cs: &[Constraint],
    reports: &mut [ConstraintReport],
    zone: &PolicyZone,
    binding: bool,
) {
    for (c, r) in cs.iter().zip(reports.iter_mut()) {
        explain_one(c, r, zone, binding);
    }
}

/// Explains a condition that decided: for a permission one that failed (satisfied or judged later are not
/// reasons), for a prohibition or obligation one that binds.
fn explain_one(c: &Constraint, r: &mut ConstraintReport, zone: &PolicyZone, binding: bool) {
    let decided = if binding {
        r.satisfied || r.indeterminate
    } else {
        !r.satisfied && !r.deferred
    };
    if !decided {
        return;
    }
    match c {
        Constraint::Atomic(a) => {
            let phrase = atomic_phrase(a, zone);
            let lo = &a.left_operand;
            r.explanation = if r.value.is_null() {
                let missing = missing(lo);
                if binding {
                    format!("{missing}, so it stays in force (it covers: {phrase})")
                } else {
                    format!("{missing}; the rule requires: {phrase}")
                }
            } else if r.indeterminate {
                format!(
                    "{} is {}, which cannot be judged ({}); the rule requires: {phrase}",
                    subject(lo),
                    value_text(lo, &r.value, zone),
                    r.reason
                )
            } else if binding {
                format!(
                    "{} is {}, which falls under: {phrase}",
                    subject(lo),
                    value_text(lo, &r.value, zone)
                )
            } else {
                format!(
                    "{} is {}; the rule requires: {phrase}",
                    subject(lo),
                    value_text(lo, &r.value, zone)
                )
            };
        }
        Constraint::Logical(l) => {
            let n = r.operands.len();
            let k = r.operands.iter().filter(|o| o.satisfied).count();
            r.explanation = format!(
                "{k} of these {n} conditions hold; the rule requires: {}",
                constraint_phrase(c, zone)
            );
            explain_all(&l.constraints, &mut r.operands, zone, binding);
        }
    }
}

/// What the engine looked at, as a person says it.
fn subject(lo: &LeftOperand) -> String {
    match lo {
        LeftOperand::DateTime => "the time".into(),
        LeftOperand::ElapsedTime | LeftOperand::DelayPeriod => {
            "the time since the agreement".into()
        }
        LeftOperand::Purpose => "the declared purpose".into(),
        LeftOperand::Recipient => "the recipient".into(),
        LeftOperand::Spatial => "the place of use".into(),
        LeftOperand::Count => "the number this access would reach".into(),
        LeftOperand::Event => "the request's relation to the event".into(),
        LeftOperand::Industry => "the partner's industry".into(),
        LeftOperand::PayAmount => "the payment".into(),
        LeftOperand::ResourceKind => "the resource kind".into(),
        LeftOperand::ResourceStage => "the resource stage".into(),
        LeftOperand::DayOfWeek => "the day".into(),
        LeftOperand::TimeOfDay => "the time of day".into(),
        LeftOperand::Claim(name) => format!("the partner's {}", claim_name(name)),
        LeftOperand::Other(term) => term.clone(),
    }
}

/// What is missing when the request context has no value for `lo`.
fn missing(lo: &LeftOperand) -> String {
    match lo {
        LeftOperand::Purpose => "the partner declared no purpose".into(),
        LeftOperand::Count => "the number of accesses so far is not known".into(),
        LeftOperand::ElapsedTime | LeftOperand::DelayPeriod => {
            "there is no agreement start to count from".into()
        }
        LeftOperand::DateTime | LeftOperand::DayOfWeek | LeftOperand::TimeOfDay => {
            "the request carries no time".into()
        }
        LeftOperand::Claim(name) => format!("the partner has no attested {}", claim_name(name)),
        LeftOperand::Industry => "the partner has no attested industry".into(),
        LeftOperand::Spatial => "where the data will be used is not known".into(),
        LeftOperand::PayAmount => "no payment is recorded".into(),
        LeftOperand::ResourceKind => "the resource's kind is not known".into(),
        LeftOperand::ResourceStage => "the resource's stage is not known".into(),
        LeftOperand::Recipient => "the partner is not identified".into(),
        LeftOperand::Event => "the request's relation to the event is not known".into(),
        LeftOperand::Other(term) => format!("Twinport has no value for {term}"),
    }
}

/// The value the engine used, as a person reads it: a time in the policy zone, a duration in days, a purpose or
/// region by its label.
fn value_text(lo: &LeftOperand, v: &Value, zone: &PolicyZone) -> String {
    let one = |v: &Value| -> String {
        let Some(s) = v.as_str() else {
            return v.to_string();
        };
        match lo {
            LeftOperand::DateTime => parse_time(s)
                .map(|t| instant_text(t, zone))
                .unwrap_or_else(|| s.to_string()),
            LeftOperand::ElapsedTime | LeftOperand::DelayPeriod => match parse_duration(s) {
                Some(secs) if secs >= 86_400.0 => format!("{} days", (secs / 86_400.0).floor()),
                Some(secs) => format!("{} hours", (secs / 3_600.0 * 10.0).round() / 10.0),
                None => s.to_string(),
            },
            LeftOperand::DayOfWeek | LeftOperand::TimeOfDay => {
                format!("{s} ({})", zone.describe())
            }
            LeftOperand::Purpose => crate::purposes::label(s),
            lo if lo.compares_regions() => crate::regions::label(s),
            _ => s.to_string(),
        }
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect::<Vec<_>>().join(", "),
        v => one(v),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineSettings, Policy, RequestContext, Scope};
    use serde_json::json;

    fn reasons(
        policy: serde_json::Value,
        ctx: serde_json::Value,
        settings: EngineSettings,
    ) -> Vec<String> {
        let p = Policy::from_json(&policy).unwrap_or_else(|e| panic!("{e}"));
        let c: RequestContext = serde_json::from_value(ctx).unwrap_or_else(|e| panic!("{e}"));
        Engine::new(settings)
            .evaluate(&p, &c, Scope::Access)
            .reasons()
    }

    #[test]
    fn a_refusal_names_the_rule_and_says_what_it_saw() {
        let research = json!({"permission": [{"action": "use", "target": "urn:ds:x",
            "constraint": [{"leftOperand": "purpose", "operator": "isAnyOf",
                            "rightOperand": ["https://w3id.org/dpv#ResearchAndDevelopment"]}]}]});
        let r = reasons(
            research.clone(),
            json!({"action": "read", "resource": {"id": "urn:ds:x"}}),
            EngineSettings::default(),
        );
        assert_eq!(
            r[1],
            "the permission to use urn:ds:x: the partner declared no purpose; the rule requires: for Research and Development, or a narrower purpose"
        );
        let r = reasons(
            research,
            json!({"action": "read", "resource": {"id": "urn:ds:x"}, "purpose": "https://w3id.org/dpv#Marketing"}),
            EngineSettings::default(),
        );
        assert_eq!(
            r[1],
            "the permission to use urn:ds:x: the declared purpose is Marketing; the rule requires: for Research and Development, or a narrower purpose"
        );
    }

    #[test]
    fn times_are_told_in_the_policy_zone() {
        let settings = EngineSettings {
            time_zone: "Europe/Amsterdam".into(),
            ..EngineSettings::default()
        };
        let r = reasons(
            json!({"permission": [{"action": "read", "constraint": [
                {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31"}]}]}),
            json!({"action": "read", "time": "2027-12-31T23:30:00Z"}),
            settings,
        );
        assert_eq!(
            r[1],
            "the permission to read the resource: the time is 1 January 2028 00:30, Amsterdam time; the rule requires: until the end of 31 December 2027, Amsterdam time"
        );
    }

    #[test]
    fn a_duty_that_does_not_block_is_not_a_reason() {
        let policy = json!({"permission": [{"action": "read", "target": "urn:ds:x",
            "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 1}],
            "duty": [{"action": "attribute"}]}]});
        let lenient = EngineSettings::solidlab();
        let r = reasons(
            policy,
            json!({"action": "read", "resource": {"id": "urn:ds:x"}, "usage": {"count": 1}}),
            lenient,
        );
        assert_eq!(r.len(), 2, "{r:#?}");
        assert!(
            r[1].contains("the number this access would reach is 2"),
            "{r:#?}"
        );
    }

    #[test]
    fn a_prohibition_says_why_it_applies() {
        let r = reasons(
            json!({"conflict": "prohibit", "permission": [{"action": "use"}],
                   "prohibition": [{"action": "use", "constraint": [
                       {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["https://w3id.org/dpv#CommercialPurpose"]}]}]}),
            json!({"action": "read", "purpose": "https://w3id.org/dpv#CommercialResearch"}),
            EngineSettings::default(),
        );
        assert_eq!(
            r[1],
            "the prohibition on using the resource applies: the declared purpose is Commercial Research, which falls under: for Commercial Purpose, or a narrower purpose"
        );
    }
}
