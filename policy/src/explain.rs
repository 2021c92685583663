//! Plain-English rendering of a policy, one sentence per rule, for legal review ("Anyone may read
//! urn:ds:traffic for research, until the end of 31 December 2027, Amsterdam time, at most 100 times, and must
//! attribute City of Utrecht."). The sentences say what the engine does, in the policy's time zone, with the labels
//! of the vocabularies it uses (DPV purposes, ISO 3166 regions); the reasons of a refusal are built from the same
//! phrases, so what a lawyer reads and what a partner is told cannot drift apart.

use crate::model::{
    AtomicConstraint, Constraint, LeftOperand, Literal, LogicalOperator, Operator, Party, Policy,
    RightOperand, Rule, RuleKind,
};
use crate::operators::{time_bound, TimeBound};
use crate::value::parse_duration;
use crate::zone::PolicyZone;

/// One sentence per top-level rule, in document order (permissions, prohibitions, obligations), in the policy's
/// own time zone or UTC.
pub fn explain(policy: &Policy) -> Vec<String> {
    explain_in(policy, &PolicyZone::utc())
}

/// [`explain`] with `zone` as the time zone for a policy that names none (the connector's configured zone).
pub fn explain_in(policy: &Policy, zone: &PolicyZone) -> Vec<String> {
    let zone = policy.time_zone.as_ref().unwrap_or(zone);
    policy
        .rules()
        .map(|r| rule_sentence(policy, r, zone))
        .collect()
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
        | "aggregate" | "derive" | "inform" | "execute" => action.into(),
        "*" => "do anything with".into(),
        other => format!("perform {other} on"),
    }
}

fn target_text(policy: &Policy, r: &Rule) -> String {
    let action_name = r
        .action
        .as_ref()
        .or(policy.action.as_ref())
        .map(|a| a.name.as_str())
        .unwrap_or("*");
    r.target
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
        })
}

/// A rule named in words, for reasons: its label if it has one, else what it is about ("the permission to use
/// urn:ldt:traffic-counts", "the prohibition on distributing the resource", "the obligation to delete the data").
pub(crate) fn rule_name(policy: &Policy, r: &Rule) -> String {
    let kind = match r.kind {
        RuleKind::Permission => "permission",
        RuleKind::Prohibition => "prohibition",
        RuleKind::Obligation => "obligation",
        RuleKind::Duty => "duty",
    };
    if let Some(label) = &r.label {
        return format!("the {kind} {label:?}");
    }
    let action = r
        .action
        .as_ref()
        .or(policy.action.as_ref())
        .map(|a| a.name.as_str())
        .unwrap_or("*");
    match r.kind {
        RuleKind::Permission => format!(
            "the permission to {}{}",
            verb(action),
            target_text(policy, r)
        ),
        RuleKind::Prohibition => format!(
            "the prohibition on {}{}",
            gerund(&verb(action)),
            target_text(policy, r)
        ),
        RuleKind::Obligation | RuleKind::Duty => {
            format!("the {kind} to {}{}", verb(action), duty_object(policy, r))
        }
    }
}

/// A duty as a verb phrase: "attribute City of Utrecht", "delete the data".
pub(crate) fn duty_words(policy: &Policy, d: &Rule) -> String {
    let name = d.action.as_ref().map(|a| a.name.as_str()).unwrap_or("*");
    format!("{}{}", verb(name), duty_object(policy, d))
}

/// "use" → "using", "read" → "reading", "perform x on" → "performing x on".
fn gerund(v: &str) -> String {
    let (head, tail) = v.split_once(' ').unwrap_or((v, ""));
    let head = if let Some(stem) = head.strip_suffix('e') {
        format!("{stem}ing")
    } else {
        format!("{head}ing")
    };
    if tail.is_empty() {
        head
    } else {
        format!("{head} {tail}")
    }
}

fn rule_sentence(policy: &Policy, r: &Rule, zone: &PolicyZone) -> String {
    let action = r.action.as_ref().or(policy.action.as_ref());
    let action_name = action.map(|a| a.name.as_str()).unwrap_or("*");
    let target = target_text(policy, r);
    let who = party_text(r.assignee.as_ref().or(policy.assignee.as_ref()), "anyone");
    let mut conditions: Vec<String> = r
        .constraints
        .iter()
        .map(|c| constraint_phrase(c, zone))
        .collect();
    if let Some(a) = action {
        conditions.extend(
            a.refinements
                .iter()
                .map(|c| format!("where {}", constraint_phrase(c, zone))),
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
                "the partner",
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
        .map(|d| duty_clause(policy, d, zone))
        .collect();
    if !duties.is_empty() {
        s.push_str(&format!(", and {}", duties.join(" and ")));
    }
    if !r.remedies.is_empty() {
        let remedies: Vec<String> = r
            .remedies
            .iter()
            .map(|d| duty_clause(policy, d, zone))
            .collect();
        s.push_str(&format!(
            "; if this is broken, the party {}",
            remedies.join(" and ")
        ));
    }
    if !r.consequences.is_empty() {
        let consequences: Vec<String> = r
            .consequences
            .iter()
            .map(|d| duty_clause(policy, d, zone))
            .collect();
        s.push_str(&format!(
            "; failing that, the party {}",
            consequences.join(" and ")
        ));
    }
    s.push('.');
    s
}

/// "must attribute City of Utrecht as "…" within 7 days".
fn duty_clause(policy: &Policy, d: &Rule, zone: &PolicyZone) -> String {
    let name = d.action.as_ref().map(|a| a.name.as_str()).unwrap_or("*");
    let mut cs: Vec<String> = d
        .constraints
        .iter()
        .map(|c| constraint_phrase(c, zone))
        .collect();
    if let Some(a) = &d.action {
        cs.extend(a.refinements.iter().map(|c| constraint_phrase(c, zone)));
    }
    let cs = if cs.is_empty() {
        String::new()
    } else {
        format!(" {}", cs.join(", "))
    };
    let mut clause = format!("must {}{}{cs}", verb(name), duty_object(policy, d));
    if !d.consequences.is_empty() {
        let then: Vec<String> = d
            .consequences
            .iter()
            .map(|c| duty_clause(policy, c, zone))
            .collect();
        clause.push_str(&format!(" (failing that, {})", then.join(" and ")));
    }
    clause
}

/// What a duty is about: the attributed party (and the text to show) for attribution, the data for deletion.
fn duty_object(policy: &Policy, d: &Rule) -> String {
    let name = d.action.as_ref().map(|a| a.name.as_str()).unwrap_or("*");
    match (name, &d.target) {
        ("attribute", _) => {
            let who = d
                .attributed_party
                .as_ref()
                .map(|p| p.uid.clone())
                .unwrap_or_else(|| party_text(policy.assigner.as_ref(), "the provider"));
            match &d.attribution_text {
                Some(t) => format!(" {who} as \u{201c}{t}\u{201d}"),
                None => format!(" {who}"),
            }
        }
        (_, Some(t)) => format!(" {}", t.uid),
        ("delete", None) => " the data".into(),
        _ => String::new(),
    }
}

/// One value of a right operand as a person reads it: a DPV purpose or a region by its label.
fn literal_text(lo: &LeftOperand, l: &Literal) -> String {
    let lex = l.lexical();
    match l {
        Literal::Json(v) if v.get("bbox").is_some() => format!("the area {}", v["bbox"]),
        Literal::Json(_) => "the given area".into(),
        _ if *lo == LeftOperand::Purpose => crate::purposes::label(&lex),
        _ if lo.compares_regions() => crate::regions::label(&lex),
        _ => lex,
    }
}

fn right_text(lo: &LeftOperand, r: &RightOperand) -> String {
    match r {
        RightOperand::Single(l) => literal_text(lo, l),
        RightOperand::List(ls) => {
            let items: Vec<String> = ls.iter().map(|l| literal_text(lo, l)).collect();
            match items.len() {
                0 => "nothing".into(),
                1 => items[0].clone(),
                n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
            }
        }
        RightOperand::Reference(r) => format!("the value referenced by {r}"),
    }
}

/// A point in time as a person reads it in `zone`: "31 December 2027 18:00, Amsterdam time".
pub(crate) fn instant_text(t: time::OffsetDateTime, zone: &PolicyZone) -> String {
    let local = zone.local(t);
    let clock = if local.second() == 0 {
        format!("{:02}:{:02}", local.hour(), local.minute())
    } else {
        format!(
            "{:02}:{:02}:{:02}",
            local.hour(),
            local.minute(),
            local.second()
        )
    };
    format!(
        "{} {} {} {clock}, {}",
        local.day(),
        local.month(),
        local.year(),
        zone.describe()
    )
}

fn day_text(start: time::OffsetDateTime, zone: &PolicyZone) -> String {
    let d = zone.local(start).date();
    format!("{} {} {}", d.day(), d.month(), d.year())
}

/// A date or date-time condition, saying exactly what the engine compares: a date is a whole day in the zone.
fn date_phrase(op: Operator, lex: &str, zone: &PolicyZone) -> String {
    let Some(bound) = time_bound(lex, zone) else {
        return format!("if the date {} {lex}", op_text(op));
    };
    let utc = PolicyZone::utc();
    // A date written with `Z` is a UTC day whatever the policy zone.
    let day_zone = if lex.trim().ends_with('Z') {
        &utc
    } else {
        zone
    };
    let in_zone = day_zone.describe();
    match bound {
        TimeBound::Day { start, .. } => {
            let day = day_text(start, day_zone);
            match op {
                Operator::Lt => format!("before {day}, {in_zone}"),
                Operator::Lteq => format!("until the end of {day}, {in_zone}"),
                Operator::Gt => format!("after the end of {day}, {in_zone}"),
                Operator::Gteq => format!("from the start of {day}, {in_zone}"),
                Operator::Eq => format!("only on {day}, {in_zone}"),
                Operator::Neq => format!("except on {day}, {in_zone}"),
                other => format!("if the date {} {day}", op_text(other)),
            }
        }
        TimeBound::Instant(t) => {
            let at = instant_text(t, zone);
            match op {
                Operator::Lt => format!("before {at}"),
                Operator::Lteq => format!("until {at}"),
                Operator::Gt => format!("after {at}"),
                Operator::Gteq => format!("from {at}"),
                Operator::Eq => format!("exactly at {at}"),
                Operator::Neq => format!("except exactly at {at}"),
                other => format!("if the time {} {at}", op_text(other)),
            }
        }
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

pub(crate) fn op_text(op: Operator) -> &'static str {
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

/// A condition in words ("for research or Academic Research", "at most 100 times").
pub(crate) fn constraint_phrase(c: &Constraint, zone: &PolicyZone) -> String {
    match c {
        Constraint::Atomic(a) => atomic_phrase(a, zone),
        Constraint::Logical(l) => {
            let parts: Vec<String> = l
                .constraints
                .iter()
                .map(|c| constraint_phrase(c, zone))
                .collect();
            match l.operator {
                LogicalOperator::And => parts.join(" and "),
                LogicalOperator::AndSequence => parts.join(" and then "),
                LogicalOperator::Or => format!("either {}", parts.join(" or ")),
                LogicalOperator::Xone => format!("exactly one of: {}", parts.join("; ")),
            }
        }
    }
}

fn clock_phrase(op: Operator, ro: &str, zone: &PolicyZone) -> String {
    let when = match op {
        Operator::Lt => format!("before {ro}"),
        Operator::Lteq => format!("until {ro}"),
        Operator::Gt => format!("after {ro}"),
        Operator::Gteq => format!("from {ro}"),
        Operator::Eq => format!("at exactly {ro}"),
        Operator::Neq => format!("except at exactly {ro}"),
        other => format!("if the time of day {} {ro}", op_text(other)),
    };
    format!("{when} ({})", zone.describe())
}

pub(crate) fn atomic_phrase(a: &AtomicConstraint, zone: &PolicyZone) -> String {
    let lo = &a.left_operand;
    let ro = right_text(lo, &a.right_operand);
    let single = |f: &dyn Fn(&str) -> String| match &a.right_operand {
        RightOperand::Single(l) => f(&l.lexical()),
        other => right_text(lo, other),
    };
    match (lo, a.operator) {
        (LeftOperand::DateTime, op) => single(&|lex| date_phrase(op, lex, zone)),
        (LeftOperand::ElapsedTime | LeftOperand::DelayPeriod, Operator::Lt | Operator::Lteq) => {
            format!("within {} of the agreement", single(&duration_text))
        }
        (LeftOperand::ElapsedTime | LeftOperand::DelayPeriod, Operator::Gt | Operator::Gteq) => {
            format!("after {} from the agreement", single(&duration_text))
        }
        (LeftOperand::DayOfWeek, Operator::Eq | Operator::IsAnyOf | Operator::IsPartOf) => {
            format!("on {ro} ({})", zone.describe())
        }
        (LeftOperand::DayOfWeek, Operator::Neq | Operator::IsNoneOf) => {
            format!("not on {ro} ({})", zone.describe())
        }
        (LeftOperand::TimeOfDay, op) => clock_phrase(op, &ro, zone),
        (LeftOperand::Purpose, Operator::Eq) => format!("for {ro}"),
        (LeftOperand::Purpose, Operator::IsAnyOf | Operator::IsA) => {
            format!("for {ro}{}", narrower(&a.right_operand))
        }
        (LeftOperand::Purpose, Operator::IsAllOf) => {
            format!("for each of {ro}{}", narrower(&a.right_operand))
        }
        (LeftOperand::Purpose, Operator::Neq) => format!("for any purpose other than {ro}"),
        (LeftOperand::Purpose, Operator::IsNoneOf) => format!(
            "for any purpose other than {ro}{}",
            narrower(&a.right_operand)
        ),
        (LeftOperand::Count, Operator::Lteq) => format!("at most {ro} times"),
        (LeftOperand::Count, Operator::Lt) => format!("fewer than {ro} times"),
        (LeftOperand::Count, Operator::Gteq) => format!("from the {ro}th time on"),
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
        (LeftOperand::Claim(name), op) => {
            format!("if the partner's {} {} {ro}", claim_name(name), op_text(op))
        }
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

/// ", or a narrower purpose" when the right operand names a DPV purpose: the hierarchy is part of the meaning.
fn narrower(r: &RightOperand) -> &'static str {
    let dpv = |l: &Literal| crate::purposes::resolve(&l.lexical()).is_some();
    let any = match r {
        RightOperand::Single(l) => dpv(l),
        RightOperand::List(ls) => ls.iter().any(dpv),
        RightOperand::Reference(_) => false,
    };
    if any {
        ", or a narrower purpose"
    } else {
        ""
    }
}

/// A claim as a person says it: `address.region` → "address region".
pub(crate) fn claim_name(name: &str) -> String {
    name.replace('.', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Policy {
        match Policy::from_json_str(json) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn renders_one_sentence_per_rule() {
        let p = read(
            r#"{"@type":"Offer","@id":"urn:p","assigner":"City of Utrecht",
            "permission":[{"action":"read","target":"urn:ds:traffic","assignee":{"@type":"PartyCollection","source":"partner cities"},
              "constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"research"},
                            {"leftOperand":"dateTime","operator":"lteq","rightOperand":{"@value":"2027-12-31","@type":"xsd:date"}},
                            {"leftOperand":"count","operator":"lteq","rightOperand":100}],
              "duty":[{"action":"attribute"}]}],
            "prohibition":[{"action":"sell","target":"urn:ds:traffic"}]}"#,
        );
        let text = explain(&p);
        assert_eq!(text.len(), 2);
        assert_eq!(
            text[0],
            "Members of partner cities may read urn:ds:traffic for research, until the end of 31 December 2027, UTC, at most 100 times, and must attribute City of Utrecht."
        );
        assert_eq!(text[1], "Anyone must not sell urn:ds:traffic.");
    }

    #[test]
    fn says_what_the_engine_does_in_the_policy_zone_with_labels() {
        let p = read(
            r#"{"@type":"Offer","assigner":"did:web:utrecht.nl","twinport:timeZone":"Europe/Amsterdam",
            "permission":[{"action":"use","target":"urn:ds:x","constraint":[
                {"leftOperand":"dateTime","operator":"lteq","rightOperand":"2027-12-31"},
                {"leftOperand":"purpose","operator":"isAnyOf","rightOperand":["https://w3id.org/dpv#AcademicResearch","flood planning"]},
                {"leftOperand":"claim:region","operator":"isPartOf","rightOperand":["NL-UT","EU"]},
                {"leftOperand":"twinport:dayOfWeek","operator":"isAnyOf","rightOperand":["Monday","Friday"]},
                {"leftOperand":"twinport:timeOfDay","operator":"gteq","rightOperand":"08:00"}],
              "duty":[{"action":"attribute","attributedParty":"did:web:utrecht.nl","twinport:attributionText":"© City of Utrecht, CC BY 4.0"}]}],
            "prohibition":[{"action":"distribute","target":"urn:ds:x","remedy":[{"action":"delete"}]}]}"#,
        );
        let text = explain(&p);
        assert_eq!(
            text[0],
            "Anyone may use urn:ds:x until the end of 31 December 2027, Amsterdam time, for Academic Research or flood planning, or a narrower purpose, if the partner's region lies within Utrecht (NL-UT) or the European Union (EU), on Monday or Friday (Amsterdam time), from 08:00 (Amsterdam time), and must attribute did:web:utrecht.nl as \u{201c}© City of Utrecht, CC BY 4.0\u{201d}."
        );
        assert_eq!(
            text[1],
            "Anyone must not distribute urn:ds:x; if this is broken, the party must delete the data."
        );
    }

    #[test]
    fn names_rules_in_words() {
        let p = read(
            r#"{"permission":[{"action":"use","target":"urn:ds:x"},{"action":"read","rdfs:label":"reading for research"}],
                "prohibition":[{"action":"distribute"}],"obligation":[{"action":"delete"}]}"#,
        );
        let names: Vec<String> = p.rules().map(|r| rule_name(&p, r)).collect();
        assert_eq!(
            names,
            vec![
                "the permission to use urn:ds:x",
                "the permission \"reading for research\"",
                "the prohibition on distributing the resource",
                "the obligation to delete the data",
            ]
        );
    }
}
