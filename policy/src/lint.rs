//! Static checks a legal team runs before publishing a policy: parse errors with their path, unknown actions and
//! left operands, right operands of the wrong type, constraints that can never hold together, a prohibition that
//! voids every permission, and a missing target or assigner where ODRL requires one. A deprecated term that is
//! still read (`twinport:resourceStage` for `twinport:stage`) is a warning with the term to write instead.

use crate::left_operands::wants_coordinates;
use crate::model::{
    action_includes, normalise_term, AtomicConstraint, ConflictStrategy, Constraint, LeftOperand,
    Literal, LogicalOperator, Operator, Policy, PolicyKind, RightOperand, Rule,
};
use crate::spatial::point_in_geometry;
use crate::value::{parse_duration, parse_time};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// JSON path in the (atomic) policy, e.g. `permission[0].constraint[1]`.
    pub path: String,
    pub message: String,
}

struct Linter {
    out: Vec<Diagnostic>,
}

impl Linter {
    fn push(&mut self, severity: Severity, path: &str, message: impl Into<String>) {
        self.out.push(Diagnostic {
            severity,
            path: path.to_string(),
            message: message.into(),
        });
    }
}

/// What the linter may assume about where the policy is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// The policy is stored in a connector and offered from its catalogue: the connector supplies the assigner
    /// (itself) and the target (the resource the offer is on), so their absence is not worth a warning.
    pub offered_by_connector: bool,
}

/// Lints a policy document as a file on its own. An empty result means the policy is clean.
pub fn lint(policy_json: &Value) -> Vec<Diagnostic> {
    lint_with(policy_json, LintOptions::default())
}

/// Lints a policy document. Every problem that makes it unreadable is an error (all of them, each with its path);
/// a readable policy is then checked for values of the wrong kind, conditions that can never hold, words outside
/// the vocabularies a lawyer can rely on, and rules the connector can never satisfy.
pub fn lint_with(policy_json: &Value, options: LintOptions) -> Vec<Diagnostic> {
    let mut l = Linter { out: Vec::new() };
    let policy = match crate::parse::read_noting(policy_json) {
        Ok((p, deprecated)) => {
            // A deprecated term still reads as before, so old policies keep loading: a warning, never an error.
            for d in deprecated {
                l.push(Severity::Warning, &d.path, d.message);
            }
            p
        }
        Err(problems) => {
            for p in problems {
                l.push(Severity::Error, &p.path, p.message);
            }
            return l.out;
        }
    };
    if policy.permissions.is_empty()
        && policy.prohibitions.is_empty()
        && policy.obligations.is_empty()
    {
        l.push(
            Severity::Error,
            "$",
            "the policy has no permission, prohibition or obligation",
        );
    }
    if policy.uid.is_none() && !options.offered_by_connector {
        l.push(Severity::Warning, "@id", "the policy has no @id/uid");
    }
    if matches!(policy.kind, PolicyKind::Offer | PolicyKind::Agreement)
        && policy.assigner.is_none()
        && !options.offered_by_connector
    {
        let all_rules_have = policy.rules().all(|r| r.assigner.is_some());
        if !all_rules_have || policy.rules().next().is_none() {
            l.push(
                Severity::Error,
                "assigner",
                "an offer or agreement must name its assigner",
            );
        }
    }
    if policy.kind == PolicyKind::Agreement
        && policy.assignee.is_none()
        && !policy.rules().all(|r| r.assignee.is_some())
    {
        l.push(
            Severity::Error,
            "assignee",
            "an agreement must name its assignee",
        );
    }
    for (key, rules) in [
        ("permission", &policy.permissions),
        ("prohibition", &policy.prohibitions),
        ("obligation", &policy.obligations),
    ] {
        for (i, r) in rules.iter().enumerate() {
            let path = format!("{key}[{i}]");
            if key != "obligation"
                && r.target.is_none()
                && policy.target.is_none()
                && !options.offered_by_connector
            {
                let sev = if policy.kind == PolicyKind::Set {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                l.push(sev, &path, format!("the {key} has no target"));
            }
            lint_rule(&mut l, &policy, r, &path);
            lint_rule_assigner(&mut l, &policy, r, &path, options);
            let collection = r
                .target
                .as_ref()
                .or(policy.target.as_ref())
                .is_some_and(|t| t.collection);
            if options.offered_by_connector && collection && key != "obligation" {
                l.push(
                    Severity::Warning,
                    &format!("{path}.target"),
                    "the connector does not record which collections its resources belong to, so a rule about an AssetCollection never applies to its offers",
                );
            }
        }
    }
    lint_voiding_prohibitions(&mut l, &policy);
    l.out
}

/// A rule's assigner is the party granting it, the same city as the policy's: a different one (or, in a policy the
/// connector offers as itself, any) is almost always a mistyped `assignee`, which would grant the rule to anyone.
fn lint_rule_assigner(l: &mut Linter, policy: &Policy, r: &Rule, path: &str, options: LintOptions) {
    let Some(rule_assigner) = &r.assigner else {
        return;
    };
    let at = format!("{path}.assigner");
    match &policy.assigner {
        Some(p) if p.uid != rule_assigner.uid => l.push(
            Severity::Error,
            &at,
            format!(
                "the rule's assigner {:?} is not the policy's assigner {:?}; did you mean \"assignee\"? (without an assignee the rule is granted to anyone)",
                rule_assigner.uid, p.uid
            ),
        ),
        None if options.offered_by_connector => l.push(
            Severity::Error,
            &at,
            "the connector is the assigner of its offers, so a rule names no assigner of its own; did you mean \"assignee\"? (without an assignee the rule is granted to anyone)",
        ),
        _ => {}
    }
}

fn lint_rule(l: &mut Linter, policy: &Policy, r: &Rule, path: &str) {
    match r.action.as_ref().or(policy.action.as_ref()) {
        None => l.push(
            Severity::Error,
            path,
            "the rule names no action: ODRL requires one, and without it the rule would cover every action",
        ),
        Some(a) => {
            lint_action(l, &a.name, &format!("{path}.action"));
            lint_constraints(l, &a.refinements, &format!("{path}.action.refinement"));
        }
    }
    lint_constraints(l, &r.constraints, &format!("{path}.constraint"));
    lint_contradictions(l, &r.constraints, &format!("{path}.constraint"));
    for (key, subs) in [
        ("duty", &r.duties),
        ("consequence", &r.consequences),
        ("remedy", &r.remedies),
    ] {
        for (j, d) in subs.iter().enumerate() {
            let p = format!("{path}.{key}[{j}]");
            if d.action.is_none() {
                l.push(Severity::Error, &p, format!("the {key} has no action"));
            }
            lint_rule(l, policy, d, &p);
        }
    }
}

fn lint_action(l: &mut Linter, name: &str, path: &str) {
    if !crate::model::is_odrl_action(name) {
        l.push(Severity::Warning, path, format!("action {name:?} is not an ODRL action; it only matches requests for exactly this action"));
    }
}

fn lint_constraints(l: &mut Linter, cs: &[Constraint], path: &str) {
    for (i, c) in cs.iter().enumerate() {
        let p = format!("{path}[{i}]");
        match c {
            Constraint::Atomic(a) => lint_atomic(l, a, &p),
            Constraint::Logical(lc) => {
                lint_constraints(l, &lc.constraints, &format!("{p}.{}", lc.operator.as_str()));
                if matches!(
                    lc.operator,
                    LogicalOperator::And | LogicalOperator::AndSequence
                ) {
                    lint_contradictions(
                        l,
                        &lc.constraints,
                        &format!("{p}.{}", lc.operator.as_str()),
                    );
                }
            }
        }
    }
}

fn literals(r: &RightOperand) -> Vec<&Literal> {
    match r {
        RightOperand::Single(x) => vec![x],
        RightOperand::List(xs) => xs.iter().collect(),
        RightOperand::Reference(_) => Vec::new(),
    }
}

/// The longest period a policy can sensibly name, in seconds (a thousand years); longer is a slip of the keyboard.
const MAX_DURATION: f64 = 1000.0 * 365.0 * 86_400.0;

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn lint_atomic(l: &mut Linter, a: &AtomicConstraint, path: &str) {
    let ro = format!("{path}.rightOperand");
    let lo_path = format!("{path}.leftOperand");
    match &a.left_operand {
        LeftOperand::Other(term) if crate::model::ODRL_LEFT_OPERANDS.contains(&normalise_term(term)) => l.push(
            Severity::Warning,
            &lo_path,
            format!("the connector never supplies a value for {term:?}, so the constraint holds only in a request context that sets parameters.{}", normalise_term(term)),
        ),
        LeftOperand::Other(term) => l.push(
            Severity::Warning,
            &lo_path,
            format!("left operand {term:?} is not in a vocabulary Twinport evaluates: the constraint is unsatisfied unless the request context supplies it under \"parameters\""),
        ),
        LeftOperand::Spatial if !wants_coordinates(&a.right_operand) => l.push(
            Severity::Warning,
            &lo_path,
            "spatial reads where the data is used (the request context's location), which the connector does not know; for the partner's own region write claim:region",
        ),
        LeftOperand::Event | LeftOperand::PayAmount => l.push(
            Severity::Warning,
            &lo_path,
            format!("the connector records no {} yet, so this constraint holds only in a hand-written request context", a.left_operand.as_term()),
        ),
        _ => {}
    }
    if let RightOperand::Reference(r) = &a.right_operand {
        l.push(Severity::Warning, &ro, format!("right operand reference {r:?} is never dereferenced, so the constraint never holds"));
        return;
    }
    let lits = literals(&a.right_operand);
    if lits.is_empty() {
        l.push(
            Severity::Error,
            &ro,
            "the list is empty, so the condition can never be judged",
        );
        return;
    }
    if !a.operator.is_set_based() && lits.len() != 1 {
        l.push(
            Severity::Error,
            &ro,
            format!("operator {} needs a single value, not a list", a.operator),
        );
    }
    let ordering = matches!(
        a.operator,
        Operator::Lt | Operator::Lteq | Operator::Gt | Operator::Gteq
    );
    let check = |ok: &dyn Fn(&str) -> bool| lits.iter().all(|x| ok(&x.lexical()));
    if ordering
        && matches!(
            a.left_operand,
            LeftOperand::Purpose
                | LeftOperand::Recipient
                | LeftOperand::Industry
                | LeftOperand::ResourceKind
                | LeftOperand::ResourceStage
                | LeftOperand::DayOfWeek
                | LeftOperand::Spatial
        )
    {
        l.push(
            Severity::Error,
            &format!("{path}.operator"),
            format!(
                "operator {} has no meaning for {}",
                a.operator, a.left_operand
            ),
        );
    }
    if a.left_operand.compares_regions() {
        for (i, x) in lits.iter().enumerate() {
            let at = if lits.len() > 1 {
                format!("{ro}[{i}]")
            } else {
                ro.clone()
            };
            match x {
                Literal::Json(g) => {
                    if let Err(e) = point_in_geometry(g, 0.0, 0.0) {
                        l.push(Severity::Error, &at, e);
                    }
                }
                other => {
                    if let Err(e) = crate::regions::canonical(&other.lexical()) {
                        l.push(Severity::Error, &at, e);
                    }
                }
            }
        }
        return;
    }
    match &a.left_operand {
        LeftOperand::DateTime if !check(&|s| parse_time(s).is_some()) => l.push(
            Severity::Error,
            &ro,
            "dateTime needs an xsd:dateTime or xsd:date right operand",
        ),
        LeftOperand::ElapsedTime | LeftOperand::DelayPeriod
            if !check(&|s| parse_duration(s).is_some_and(|d| (0.0..=MAX_DURATION).contains(&d))) =>
        {
            l.push(
                Severity::Error,
                &ro,
                format!(
                    "{} needs an xsd:duration right operand such as \"P30D\" (not negative, at most a thousand years)",
                    a.left_operand
                ),
            )
        }
        LeftOperand::Count | LeftOperand::PayAmount
            if !check(&|s| s.trim().parse::<f64>().is_ok()) =>
        {
            l.push(
                Severity::Error,
                &ro,
                format!("{} needs a number", a.left_operand),
            )
        }
        LeftOperand::DayOfWeek => {
            for x in &lits {
                let v = x.lexical();
                if !WEEKDAYS.contains(&v.as_str()) {
                    let s = crate::spelling::closest(&v, WEEKDAYS);
                    l.push(
                        Severity::Error,
                        &ro,
                        format!(
                            "unknown day {v:?} (expected Monday … Sunday){}",
                            crate::spelling::hint(s)
                        ),
                    );
                }
            }
        }
        LeftOperand::TimeOfDay => {
            for x in &lits {
                let v = x.lexical();
                if crate::zone::parse_time_of_day(&v).is_none() {
                    l.push(
                        Severity::Error,
                        &ro,
                        format!("timeOfDay needs a 24-hour time such as \"08:00\" or \"17:30\", not {v:?}"),
                    );
                }
            }
        }
        LeftOperand::Purpose => {
            if a.operator == Operator::HasPart {
                l.push(
                    Severity::Warning,
                    &format!("{path}.operator"),
                    "hasPart on a purpose reads \"the declared purposes include this one\" without DPV's hierarchy; isAnyOf is usually meant",
                );
            }
            for x in &lits {
                let v = x.lexical();
                if crate::purposes::resolve(&v).is_some() {
                    continue;
                }
                if crate::purposes::is_dpv_namespace(&v) {
                    l.push(
                        Severity::Error,
                        &ro,
                        format!("{v:?} is not a purpose of the Data Privacy Vocabulary (DPV 2.3)"),
                    );
                } else {
                    let s = crate::purposes::suggest(&v)
                        .map(|iri| {
                            format!(" (DPV has {iri:?}, whose narrower purposes also match)")
                        })
                        .unwrap_or_default();
                    l.push(
                        Severity::Warning,
                        &ro,
                        format!("purpose {v:?} is a free word, not a DPV purpose: it matches only a partner declaring the same word{s}"),
                    );
                }
            }
        }
        LeftOperand::ResourceKind => {
            for x in &lits {
                let v = x.lexical();
                if ![
                    "dataset",
                    "model-or-service",
                    "workflow-template",
                    "visualisation-asset",
                    "published-output",
                ]
                .contains(&v.as_str())
                {
                    l.push(Severity::Error, &ro, format!("unknown resource kind {v:?}"));
                }
            }
        }
        LeftOperand::ResourceStage => {
            for x in &lits {
                let v = x.lexical();
                if !["raw", "workflow-ready", "model-input", "model-output"].contains(&v.as_str()) {
                    l.push(
                        Severity::Error,
                        &ro,
                        format!("unknown resource stage {v:?}"),
                    );
                }
            }
        }
        _ => {}
    }
}

/// Lower/upper bounds and required values implied by a conjunction, per left operand.
struct Bounds<T> {
    low: Option<(T, bool, String)>,
    high: Option<(T, bool, String)>,
}

impl<T> Default for Bounds<T> {
    fn default() -> Self {
        Bounds {
            low: None,
            high: None,
        }
    }
}

fn lint_contradictions(l: &mut Linter, cs: &[Constraint], path: &str) {
    let mut times: Vec<(LeftOperand, Bounds<OffsetDateTime>)> = Vec::new();
    let mut nums: Vec<(LeftOperand, Bounds<f64>)> = Vec::new();
    let mut equals: Vec<(LeftOperand, String, String)> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let Constraint::Atomic(a) = c else { continue };
        let RightOperand::Single(lit) = &a.right_operand else {
            continue;
        };
        let p = format!("{path}[{i}]");
        let lex = lit.lexical();
        let bound = |op: Operator| match op {
            Operator::Gt => Some((true, false)),
            Operator::Gteq => Some((true, true)),
            Operator::Lt => Some((false, false)),
            Operator::Lteq => Some((false, true)),
            _ => None,
        };
        if a.operator == Operator::Eq {
            if let Some((_, v, other)) = equals
                .iter()
                .find(|(lo, v, _)| lo == &a.left_operand && v != &lex)
            {
                l.push(Severity::Error, &p, format!("{} must equal both {v:?} ({other}) and {lex:?}; the constraints can never hold together", a.left_operand));
            }
            equals.push((a.left_operand.clone(), lex.clone(), p.clone()));
        }
        let Some((is_low, inclusive)) = bound(a.operator) else {
            continue;
        };
        if a.left_operand == LeftOperand::DateTime {
            let Some(t) = parse_time(&lex) else { continue };
            let idx = times
                .iter()
                .position(|(lo, _)| lo == &a.left_operand)
                .unwrap_or_else(|| {
                    times.push((a.left_operand.clone(), Bounds::default()));
                    times.len() - 1
                });
            let b = &mut times[idx].1;
            if is_low {
                b.low = Some((t, inclusive, p))
            } else {
                b.high = Some((t, inclusive, p))
            }
        } else if matches!(a.left_operand, LeftOperand::Count | LeftOperand::PayAmount)
            || matches!(
                a.left_operand,
                LeftOperand::ElapsedTime | LeftOperand::DelayPeriod
            )
        {
            let n = match a.left_operand {
                LeftOperand::ElapsedTime | LeftOperand::DelayPeriod => parse_duration(&lex),
                _ => lex.trim().parse::<f64>().ok(),
            };
            let Some(n) = n else { continue };
            let idx = nums
                .iter()
                .position(|(lo, _)| lo == &a.left_operand)
                .unwrap_or_else(|| {
                    nums.push((a.left_operand.clone(), Bounds::default()));
                    nums.len() - 1
                });
            let b = &mut nums[idx].1;
            if is_low {
                b.low = Some((n, inclusive, p))
            } else {
                b.high = Some((n, inclusive, p))
            }
        }
    }
    for (lo, b) in &times {
        if let (Some((low, li, lp)), Some((high, hi, hp))) = (&b.low, &b.high) {
            if low > high || (low == high && !(*li && *hi)) {
                l.push(Severity::Error, hp, format!("{lo} range is empty: the lower bound at {lp} lies after this upper bound; the constraints can never hold together"));
            }
        }
    }
    for (lo, b) in &nums {
        if let (Some((low, li, lp)), Some((high, hi, hp))) = (&b.low, &b.high) {
            if low > high || (low == high && !(*li && *hi)) {
                l.push(Severity::Error, hp, format!("{lo} range is empty: the lower bound at {lp} exceeds this upper bound; the constraints can never hold together"));
            }
        }
    }
}

fn lint_voiding_prohibitions(l: &mut Linter, policy: &Policy) {
    if policy.permissions.is_empty() || policy.conflict == Some(ConflictStrategy::Perm) {
        return;
    }
    for (i, pr) in policy.prohibitions.iter().enumerate() {
        if !pr.constraints.is_empty() || pr.assignee.is_some() {
            continue;
        }
        let pr_action = pr
            .action
            .as_ref()
            .or(policy.action.as_ref())
            .map(|a| a.name.as_str());
        let pr_target = pr
            .target
            .as_ref()
            .or(policy.target.as_ref())
            .map(|t| t.uid.as_str());
        let voids_all = policy.permissions.iter().all(|p| {
            let pa = p
                .action
                .as_ref()
                .or(policy.action.as_ref())
                .map(|a| a.name.as_str());
            let pt = p
                .target
                .as_ref()
                .or(policy.target.as_ref())
                .map(|t| t.uid.as_str());
            let action_covered = match (pr_action, pa) {
                (None, _) => true,
                (Some(x), Some(y)) => action_includes(x, y),
                (Some(_), None) => false,
            };
            action_covered && (pr_target.is_none() || pr_target == pt)
        });
        if voids_all {
            l.push(
                Severity::Error,
                &format!("prohibition[{i}]"),
                "this unconditional prohibition covers every permission, so nothing can ever be permitted",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(v: Value) -> Vec<String> {
        lint(&v)
            .into_iter()
            .map(|d| format!("{:?} {}: {}", d.severity, d.path, d.message))
            .collect()
    }

    #[test]
    fn clean_policy_has_no_diagnostics() {
        let m = messages(json!({"@type":"Offer","@id":"urn:p","assigner":"urn:city",
            "permission":[{"action":"read","target":"urn:ds","constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"dpv:AcademicResearch"}]}]}));
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn finds_the_documented_problems() {
        let unreadable = messages(json!({"@type":"Offer","@id":"urn:p",
            "permission":[{"action":"raed","constraint":[
                {"leftOperand":"colour","operator":"eq","rightOperand":"red"},
                {"leftOperand":"purpose","operator":"equals","rightOperand":"x"}]}]}));
        let all = unreadable.join("\n");
        for want in [
            "Error permission[0].action: unknown action \"raed\" (did you mean \"read\"?)",
            "Error permission[0].constraint[0].leftOperand: unknown left operand \"colour\"",
            "Error permission[0].constraint[1].operator: unknown operator \"equals\"",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
        let m = messages(json!({"@type":"Offer","@id":"urn:p",
            "permission":[{"action":"read","constraint":[
                {"leftOperand":"ex:colour","operator":"eq","rightOperand":"red"},
                {"leftOperand":"dateTime","operator":"lt","rightOperand":"soon"},
                {"leftOperand":"count","operator":"lteq","rightOperand":"many"},
                {"leftOperand":"purpose","operator":"lt","rightOperand":"dpv:Marketing"},
                {"leftOperand":"dateTime","operator":"gt","rightOperand":"2027-01-01"},
                {"leftOperand":"dateTime","operator":"lt","rightOperand":"2026-01-01"},
                {"leftOperand":"claim:region","operator":"isPartOf","rightOperand":["EU", "NL31", "Utrecht"]},
                {"leftOperand":"twinport:dayOfWeek","operator":"eq","rightOperand":"Saturdy"},
                {"leftOperand":"twinport:timeOfDay","operator":"lt","rightOperand":"6pm"},
                {"leftOperand":"purpose","operator":"isAnyOf","rightOperand":["dpv:Nonsense", "flood planning"]}]}],
            "prohibition":[{"action":"use"}]}));
        let all = m.join("\n");
        for want in [
            "Error assigner: an offer or agreement must name its assigner",
            "Error permission[0]: the permission has no target",
            "Warning permission[0].constraint[0].leftOperand: left operand \"ex:colour\" is not in a vocabulary",
            "Error permission[0].constraint[1].rightOperand: dateTime needs",
            "Error permission[0].constraint[2].rightOperand: count needs a number",
            "Error permission[0].constraint[3].operator: operator lt has no meaning for purpose",
            "can never hold together",
            "Error permission[0].constraint[6].rightOperand[1]: NL31 looks like a NUTS code",
            "Error permission[0].constraint[6].rightOperand[2]: unknown region \"Utrecht\"",
            "Error permission[0].constraint[7].rightOperand: unknown day \"Saturdy\" (expected Monday … Sunday) (did you mean \"Saturday\"?)",
            "Error permission[0].constraint[8].rightOperand: timeOfDay needs a 24-hour time",
            "Error permission[0].constraint[9].rightOperand: \"dpv:Nonsense\" is not a purpose of the Data Privacy Vocabulary",
            "Warning permission[0].constraint[9].rightOperand: purpose \"flood planning\" is a free word",
            "Error prohibition[0]: this unconditional prohibition covers every permission",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
        assert!(!all.contains("\"EU\""), "{all}");
    }

    #[test]
    fn values_that_cannot_mean_what_they_say_are_refused() {
        let m = messages(
            json!({"@id": "urn:p", "permission": [{"action": "use", "target": "urn:ds", "constraint": [
            {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": []},
            {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "-P30D"},
            {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P30DT"},
            {"leftOperand": "delayPeriod", "operator": "gteq", "rightOperand": "P99999999999999999999D"},
            {"leftOperand": "purpose", "operator": "hasPart", "rightOperand": ["dpv:Marketing"]},
            {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31+05:00"}]}]}),
        );
        let all = m.join("\n");
        for want in [
            "Error permission[0].constraint[0].rightOperand: the list is empty",
            "Error permission[0].constraint[1].rightOperand: elapsedTime needs an xsd:duration",
            "Error permission[0].constraint[2].rightOperand: elapsedTime needs an xsd:duration",
            "Error permission[0].constraint[3].rightOperand: delayPeriod needs an xsd:duration",
            "Warning permission[0].constraint[4].operator: hasPart on a purpose",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
        assert!(
            !all.contains("constraint[5]"),
            "a date with an offset is a date: {all}"
        );
        let collection = lint_with(
            &json!({"permission": [{"action": "use", "target": {"@type": "AssetCollection", "source": "urn:c"}}]}),
            LintOptions {
                offered_by_connector: true,
            },
        );
        assert!(
            collection[0]
                .message
                .contains("AssetCollection never applies"),
            "{collection:?}"
        );
    }

    #[test]
    fn a_stored_offer_needs_no_target_or_assigner() {
        let doc = json!({"permission":[{"action":"use"}]});
        assert!(messages(doc.clone())
            .iter()
            .any(|m| m.contains("no target")));
        let stored = lint_with(
            &doc,
            LintOptions {
                offered_by_connector: true,
            },
        );
        assert!(stored.is_empty(), "{stored:?}");
    }

    #[test]
    fn the_deprecated_stage_name_is_a_warning_naming_twinport_stage() {
        let doc = |lo: &str| {
            json!({"@type":"Offer","@id":"urn:p","assigner":"urn:city",
                "permission":[{"action":"read","target":"urn:ds","constraint":[
                    {"leftOperand":"purpose","operator":"eq","rightOperand":"dpv:AcademicResearch"},
                    {"leftOperand":lo,"operator":"eq","rightOperand":"raw"}]}]})
        };
        let old = lint(&doc("twinport:resourceStage"));
        assert_eq!(old.len(), 1, "{old:?}");
        assert_eq!(old[0].severity, Severity::Warning);
        assert_eq!(old[0].path, "permission[0].constraint[1].leftOperand");
        assert_eq!(
            old[0].message,
            "\"twinport:resourceStage\" is the deprecated name of twinport:stage; it is read the same, but write \"twinport:stage\" instead"
        );
        let iri = lint(&doc("https://w3id.org/twinport/ldt#resourceStage"));
        assert_eq!(iri.len(), 1, "{iri:?}");
        assert_eq!(iri[0].severity, Severity::Warning);
        assert!(
            iri[0].message.contains("write \"twinport:stage\" instead"),
            "{iri:?}"
        );
        for current in ["twinport:stage", "https://w3id.org/twinport/ldt#stage"] {
            let new = lint(&doc(current));
            assert!(new.is_empty(), "{current}: {new:?}");
        }
        // Inside a refinement and a logical constraint too, at the path as written, alongside other findings.
        let nested = messages(json!({"@id":"urn:p","permission":[{"target":"urn:ds",
            "action":{"rdf:value":{"@id":"odrl:read"},"refinement":[
                {"leftOperand":"twinport:resourceStage","operator":"eq","rightOperand":"rw"}]},
            "constraint":[{"or":[{"leftOperand":"purpose","operator":"eq","rightOperand":"dpv:AcademicResearch"},
                {"leftOperand":"twinport:resourceStage","operator":"isAnyOf","rightOperand":["raw","model-input"]}]}]}]}));
        let all = nested.join("\n");
        for want in [
            "Warning permission[0].action.refinement[0].leftOperand: \"twinport:resourceStage\" is the deprecated name of twinport:stage",
            "Warning permission[0].constraint[0].or[1].leftOperand: \"twinport:resourceStage\" is the deprecated name of twinport:stage",
            "Error permission[0].action.refinement[0].rightOperand: unknown resource stage \"rw\"",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
    }

    #[test]
    fn parse_errors_carry_their_path() {
        let d = lint(
            &json!({"permission":[{"constraint":[{"leftOperand":"purpose","operator":"equals","rightOperand":"x"}]}]}),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "permission[0].constraint[0].operator");
        assert_eq!(d[0].message, "unknown operator \"equals\"");
    }
}
