//! Plain-English rendering of a policy, one sentence per rule, for legal review ("Anyone may read
//! urn:ds:traffic for research until 31 December 2027, at most 100 times, and must attribute the City of Utrecht.").

use crate::model::{
    AtomicConstraint, Constraint, LeftOperand, Literal, LogicalOperator, Operator, Party, Policy,
    RightOperand, Rule, RuleKind,
};
use crate::value::{parse_duration, parse_time};

/// One sentence per top-level rule, in document order (permissions, prohibitions, obligations).
pub fn explain(policy: &Policy) -> Vec<String> {
    policy.rules().map(|r| rule_sentence(policy, r)).collect()
}

fn party_text(p: Option<&Party>, fallback: &str) -> String {
    match p {
        None => fallback.to_string(),
        Some(p) if p.collection => format!("members of {}", p.uid),
        Some(p) => p.uid.clone(),
    }
}

/// Capitalises the start of a sentence, but leaves identifiers (IRIs, DIDs) exactly as written.
fn capitalise(s: &str) -> String {
    if s.contains(':') {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn verb(action: &str) -> String {
    match action {
        "compensate" => "pay".into(),
        "use" | "read" | "distribute" | "reproduce" | "modify" | "delete" | "attribute"
        | "anonymize" | "print" | "play" | "display" | "transfer" | "sell" | "archive"
        | "aggregate" | "derive" | "inform" => action.into(),
        "*" => "do anything with".into(),
        other => format!("perform {other} on"),
    }
}

fn rule_sentence(policy: &Policy, r: &Rule) -> String {
    let action = r.action.as_ref().or(policy.action.as_ref());
    let action_name = action.map(|a| a.name.as_str()).unwrap_or("*");
    let target = r
        .target
        .as_ref()
        .or(policy.target.as_ref())
        .map(|t| {
            if t.collection {
                format!(" any resource in {}", t.uid)
            } else {
                format!(" {}", t.uid)
            }
        })
        .unwrap_or_else(|| {
            if action_name == "*" {
                " any resource".into()
            } else {
                " the resource".into()
            }
        });
    let who = party_text(r.assignee.as_ref().or(policy.assignee.as_ref()), "anyone");
    let mut conditions: Vec<String> = r.constraints.iter().map(constraint_phrase).collect();
    if let Some(a) = action {
        conditions.extend(
            a.refinements
                .iter()
                .map(|c| format!("where {}", constraint_phrase(c))),
        );
    }
    let conditions = if conditions.is_empty() {
        String::new()
    } else {
        format!(" {}", conditions.join(", "))
    };
    let mut s = match r.kind {
        RuleKind::Permission => format!(
            "{} may {}{target}{conditions}",
            capitalise(&who),
            verb(action_name)
        ),
        RuleKind::Prohibition => format!(
            "{} must not {}{target}{conditions}",
            capitalise(&who),
            verb(action_name)
        ),
        RuleKind::Obligation | RuleKind::Duty => {
            let who = party_text(
                r.assignee.as_ref().or(policy.assignee.as_ref()),
                "the assignee",
            );
            format!(
                "{} must {}{}{conditions}",
                capitalise(&who),
                verb(action_name),
                duty_object(policy, r)
            )
        }
    };
    let duties: Vec<String> = r
        .duties
        .iter()
        .map(|d| {
            let name = d.action.as_ref().map(|a| a.name.as_str()).unwrap_or("*");
            let mut cs: Vec<String> = d.constraints.iter().map(constraint_phrase).collect();
            if let Some(a) = &d.action {
                cs.extend(a.refinements.iter().map(constraint_phrase));
            }
            let cs = if cs.is_empty() {
                String::new()
            } else {
                format!(" {}", cs.join(", "))
            };
            format!("must {}{}{cs}", verb(name), duty_object(policy, d))
        })
        .collect();
    if !duties.is_empty() {
        s.push_str(&format!(", and {}", duties.join(" and ")));
    }
    if !r.remedies.is_empty() {
        s.push_str(&format!(
            "; if this is broken, the party must remedy it ({} remedy duties)",
            r.remedies.len()
        ));
    }
    if !r.consequences.is_empty() {
        s.push_str(&format!(
            "; failing that, {} consequence duties apply",
            r.consequences.len()
        ));
    }
    s.push('.');
    s
}

fn duty_object(policy: &Policy, d: &Rule) -> String {
    let name = d.action.as_ref().map(|a| a.name.as_str()).unwrap_or("*");
    match (name, &d.target) {
        (_, Some(t)) => format!(" {}", t.uid),
        ("attribute", None) => format!(" {}", party_text(policy.assigner.as_ref(), "the provider")),
        ("delete", None) => " the data".into(),
        _ => String::new(),
    }
}

fn literal_text(l: &Literal) -> String {
    let lex = l.lexical();
    match l {
        Literal::Json(v) if v.get("bbox").is_some() => format!("the area {}", v["bbox"]),
        Literal::Json(_) => "the given area".into(),
        _ => lex,
    }
}

fn right_text(r: &RightOperand) -> String {
    match r {
        RightOperand::Single(l) => literal_text(l),
        RightOperand::List(ls) => {
            let items: Vec<String> = ls.iter().map(literal_text).collect();
            match items.len() {
                0 => "nothing".into(),
                1 => items[0].clone(),
                n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
            }
        }
        RightOperand::Reference(r) => format!("the value referenced by {r}"),
    }
}

fn date_text(lex: &str) -> String {
    match parse_time(lex) {
        Some(t) => format!("{} {} {}", t.day(), t.month(), t.year()),
        None => lex.to_string(),
    }
}

fn duration_text(lex: &str) -> String {
    match parse_duration(lex) {
        Some(s) if s % 86_400.0 == 0.0 => {
            let d = s / 86_400.0;
            if d == 1.0 {
                "1 day".into()
            } else {
                format!("{d} days")
            }
        }
        Some(s) => format!("{} hours", (s / 3600.0 * 100.0).round() / 100.0),
        None => lex.to_string(),
    }
}

fn op_text(op: Operator) -> &'static str {
    match op {
        Operator::Eq => "is",
        Operator::Neq => "is not",
        Operator::Lt => "is less than",
        Operator::Lteq => "is at most",
        Operator::Gt => "is greater than",
        Operator::Gteq => "is at least",
        Operator::IsA => "is a kind of",
        Operator::HasPart => "includes",
        Operator::IsPartOf => "lies within",
        Operator::IsAllOf => "is all of",
        Operator::IsAnyOf => "is one of",
        Operator::IsNoneOf => "is none of",
    }
}

fn constraint_phrase(c: &Constraint) -> String {
    match c {
        Constraint::Atomic(a) => atomic_phrase(a),
        Constraint::Logical(l) => {
            let parts: Vec<String> = l.constraints.iter().map(constraint_phrase).collect();
            match l.operator {
                LogicalOperator::And => parts.join(" and "),
                LogicalOperator::AndSequence => parts.join(" and then "),
                LogicalOperator::Or => format!("either {}", parts.join(" or ")),
                LogicalOperator::Xone => format!("exactly one of: {}", parts.join("; ")),
            }
        }
    }
}

fn atomic_phrase(a: &AtomicConstraint) -> String {
    let ro = right_text(&a.right_operand);
    let single = |f: &dyn Fn(&str) -> String| match &a.right_operand {
        RightOperand::Single(l) => f(&l.lexical()),
        other => right_text(other),
    };
    match (&a.left_operand, a.operator) {
        (LeftOperand::DateTime, Operator::Lt) => format!("before {}", single(&date_text)),
        (LeftOperand::DateTime, Operator::Lteq) => format!("until {}", single(&date_text)),
        (LeftOperand::DateTime, Operator::Gt) => format!("after {}", single(&date_text)),
        (LeftOperand::DateTime, Operator::Gteq) => format!("from {}", single(&date_text)),
        (LeftOperand::ElapsedTime | LeftOperand::DelayPeriod, Operator::Lt | Operator::Lteq) => {
            format!("within {} of the agreement", single(&duration_text))
        }
        (LeftOperand::ElapsedTime | LeftOperand::DelayPeriod, Operator::Gt | Operator::Gteq) => {
            format!("after {} from the agreement", single(&duration_text))
        }
        (LeftOperand::Purpose, Operator::Eq | Operator::IsAnyOf | Operator::IsA) => {
            format!("for {ro}")
        }
        (LeftOperand::Purpose, Operator::Neq | Operator::IsNoneOf) => format!("not for {ro}"),
        (LeftOperand::Count, Operator::Lteq) => format!("at most {ro} times"),
        (LeftOperand::Count, Operator::Lt) => format!("fewer than {ro} times"),
        (LeftOperand::Spatial, Operator::Eq | Operator::IsAnyOf | Operator::IsPartOf) => {
            format!("only within {ro}")
        }
        (LeftOperand::Spatial, Operator::Neq | Operator::IsNoneOf) => format!("outside {ro}"),
        (LeftOperand::PayAmount, _) => {
            let unit = a
                .unit
                .as_deref()
                .map(|u| u.rsplit('/').next().unwrap_or(u))
                .unwrap_or("");
            format!("an amount that {} {ro} {unit}", op_text(a.operator))
                .trim_end()
                .to_string()
        }
        (LeftOperand::Claim(name), op) => format!("if the partner's {name} {} {ro}", op_text(op)),
        (LeftOperand::Industry, op) => format!("if the partner's industry {} {ro}", op_text(op)),
        (LeftOperand::Recipient, op) => format!("if the recipient {} {ro}", op_text(op)),
        (LeftOperand::ResourceKind, op) => format!("if the resource kind {} {ro}", op_text(op)),
        (LeftOperand::ResourceStage, op) => format!("if the resource stage {} {ro}", op_text(op)),
        (LeftOperand::Event, Operator::Lt) => format!("before the event {ro}"),
        (LeftOperand::Event, Operator::Eq) => format!("during the event {ro}"),
        (LeftOperand::Event, Operator::Gt) => format!("after the event {ro}"),
        (lo, op) => format!("if {} {} {ro}", lo.as_term(), op_text(op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_sentence_per_rule() {
        let p = Policy::from_json_str(
            r#"{"@type":"Offer","@id":"urn:p","assigner":"City of Utrecht",
            "permission":[{"action":"read","target":"urn:ds:traffic","assignee":{"@type":"PartyCollection","source":"partner cities"},
              "constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"research"},
                            {"leftOperand":"dateTime","operator":"lteq","rightOperand":{"@value":"2027-12-31","@type":"xsd:date"}},
                            {"leftOperand":"count","operator":"lteq","rightOperand":100}],
              "duty":[{"action":"attribute"}]}],
            "prohibition":[{"action":"sell","target":"urn:ds:traffic"}]}"#,
        );
        let p = match p {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let text = explain(&p);
        assert_eq!(text.len(), 2);
        assert_eq!(
            text[0],
            "Members of partner cities may read urn:ds:traffic for research, until 31 December 2027, at most 100 times, and must attribute City of Utrecht."
        );
        assert_eq!(text[1], "Anyone must not sell urn:ds:traffic.");
    }
}
