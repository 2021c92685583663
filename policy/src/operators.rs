//! The twelve ODRL operators applied to a left-operand value and a right operand. Comparison coerces the right
//! operand to the left value's type (dateTime, duration, number, text); a value that cannot be coerced is an error
//! with a reason, which the engine reports as an unsatisfied constraint — never as satisfied.

use crate::model::{normalise_term, Literal, Operator, RightOperand};
use crate::spatial::point_in_geometry;
use crate::value::{parse_duration, Val};
use crate::zone::{parse_time_of_day, PolicyZone};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// What the values being compared are, which decides what "within" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Plain values: equality, numbers, times.
    Plain,
    /// Region codes: `NL-UT` lies within `NL`, and `NL` within `EU` on the days it was a member.
    Region,
    /// Purposes: a narrower DPV purpose lies within a broader one; free words compare in their normal form.
    Purpose,
}

/// Everything an operator may consult besides the two values.
pub struct Semantics<'a> {
    /// `isA` facts from the request context.
    pub types: &'a BTreeMap<String, Vec<String>>,
    pub domain: Domain,
    /// The policy time zone: dates are whole local days, date-times without offset are local.
    pub zone: &'a PolicyZone,
    /// The time of the request, on whose (local) day membership of a group of regions is judged.
    pub at: Option<OffsetDateTime>,
}

fn text_eq(a: &str, b: &str) -> bool {
    a == b || normalise_term(a) == normalise_term(b)
}

fn num(lex: &str) -> Option<f64> {
    lex.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A time written in a policy: an instant, or a whole local day when only a date is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBound {
    Instant(OffsetDateTime),
    /// `[start, end)` of a day in the policy zone (or in UTC for a date written with `Z`).
    Day {
        start: OffsetDateTime,
        end: OffsetDateTime,
    },
}

/// Reads an `xsd:dateTime` or `xsd:date` right operand in the policy zone: an offset is kept, a date-time without
/// one is local wall-clock time, a date is the whole local day.
pub fn time_bound(lex: &str, zone: &PolicyZone) -> Option<TimeBound> {
    let s = lex.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(TimeBound::Instant(t));
    }
    let naive = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(t) = PrimitiveDateTime::parse(s, naive) {
        return Some(TimeBound::Instant(zone.instant(t)));
    }
    let day = format_description!("[year]-[month]-[day]");
    if let Some((d, offset)) = crate::value::date_with_offset(s) {
        let start = d.midnight().assume_offset(offset);
        return Some(TimeBound::Day {
            start,
            end: start + time::Duration::days(1),
        });
    }
    if let Some(d) = s.strip_suffix('Z') {
        let d = Date::parse(d, day).ok()?;
        let utc = PolicyZone::utc();
        return Some(TimeBound::Day {
            start: utc.day_start(d),
            end: utc.day_end(d),
        });
    }
    let d = Date::parse(s, day).ok()?;
    Some(TimeBound::Day {
        start: zone.day_start(d),
        end: zone.day_end(d),
    })
}

fn time_holds(op: Operator, t: OffsetDateTime, bound: TimeBound) -> Option<bool> {
    let (start, end, instant) = match bound {
        TimeBound::Instant(i) => (i, i, true),
        TimeBound::Day { start, end } => (start, end, false),
    };
    Some(match op {
        Operator::Lt => t < start,
        Operator::Lteq if instant => t <= end,
        Operator::Lteq => t < end,
        Operator::Gt if instant => t > end,
        Operator::Gt => t >= end,
        Operator::Gteq => t >= start,
        Operator::Eq if instant => t == start,
        Operator::Eq => t >= start && t < end,
        Operator::Neq if instant => t != start,
        Operator::Neq => !(t >= start && t < end),
        _ => return None,
    })
}

/// Orders `left` against one literal, or explains why they cannot be compared.
fn compare(left: &Val, right: &Literal) -> Result<Ordering, String> {
    let lex = right.lexical();
    match left {
        Val::Time(_) => Err("times are compared as instants or days".into()),
        Val::Clock(c) => parse_time_of_day(&lex)
            .map(|r| c.cmp(&r))
            .ok_or_else(|| format!("right operand {lex:?} is not a time of day such as \"08:00\"")),
        Val::Duration(d) => parse_duration(&lex)
            .and_then(|r| d.partial_cmp(&r))
            .ok_or_else(|| format!("right operand {lex:?} is not an xsd:duration")),
        Val::Number(n) => num(&lex)
            .and_then(|r| n.partial_cmp(&r))
            .ok_or_else(|| format!("right operand {lex:?} is not a number")),
        Val::Text(s) => {
            if text_eq(s, &lex) {
                Ok(Ordering::Equal)
            } else if let (Some(a), Some(b)) = (num(s), num(&lex)) {
                a.partial_cmp(&b)
                    .ok_or_else(|| "values cannot be compared".to_string())
            } else {
                Err(format!("{s:?} and {lex:?} have no order"))
            }
        }
        Val::Set(_) => Err("the left operand has several values; use a set-based operator".into()),
        Val::Point { .. } => Err("coordinates can only be tested against a geometry".into()),
    }
}

/// A comparison operator applied to one value and one literal.
fn compared(op: Operator, left: &Val, right: &Literal, cx: &Semantics<'_>) -> Result<bool, String> {
    if let Val::Time(t) = left {
        let lex = right.lexical();
        let bound = time_bound(&lex, cx.zone)
            .ok_or_else(|| format!("right operand {lex:?} is not an xsd:dateTime or xsd:date"))?;
        return time_holds(op, *t, bound)
            .ok_or_else(|| format!("operator {op} is not a comparison"));
    }
    match op {
        Operator::Eq => equal(left, right, cx),
        Operator::Neq => equal(left, right, cx).map(|b| !b),
        Operator::Lt => compare(left, right).map(|o| o == Ordering::Less),
        Operator::Lteq => compare(left, right).map(|o| o != Ordering::Greater),
        Operator::Gt => compare(left, right).map(|o| o == Ordering::Greater),
        Operator::Gteq => compare(left, right).map(|o| o != Ordering::Less),
        _ => Err(format!("operator {op} is not a comparison")),
    }
}

/// A declared purpose in DPV's namespace that DPV does not define (`dpv:Marketting`) cannot be judged: read as
/// a free word it would slip past a prohibition of `dpv:Marketing`.
fn known_purpose(s: &str) -> Result<(), String> {
    if crate::purposes::is_dpv_namespace(s) && crate::purposes::resolve(s).is_none() {
        return Err(format!(
            "the declared purpose {s:?} is not a purpose of the Data Privacy Vocabulary"
        ));
    }
    Ok(())
}

/// The same value: one purpose or region in any spelling, equal numbers, equal text.
fn equal(left: &Val, right: &Literal, cx: &Semantics<'_>) -> Result<bool, String> {
    match (left, cx.domain) {
        (Val::Text(s), Domain::Purpose) => {
            known_purpose(s)?;
            let r = right.lexical();
            Ok(*s == r || (crate::purposes::satisfies(s, &r) && crate::purposes::satisfies(&r, s)))
        }
        (Val::Text(s), Domain::Region) => {
            let l = crate::regions::canonical(s)?;
            Ok(l == crate::regions::canonical(&right.lexical())?)
        }
        (Val::Text(s), Domain::Plain) => {
            let lex = right.lexical();
            Ok(text_eq(s, &lex) || matches!((num(s), num(&lex)), (Some(a), Some(b)) if a == b))
        }
        (Val::Time(_), _) => compared(Operator::Eq, left, right, cx),
        (l, _) => Ok(compare(l, right) == Ok(Ordering::Equal)),
    }
}

fn literals(right: &RightOperand) -> Result<Vec<&Literal>, String> {
    match right {
        RightOperand::Single(l) => Ok(vec![l]),
        RightOperand::List(ls) => Ok(ls.iter().collect()),
        RightOperand::Reference(r) => Err(format!(
            "right operand reference {r:?} cannot be dereferenced"
        )),
    }
}

fn members(left: &Val) -> Vec<&Val> {
    match left {
        Val::Set(v) => v.iter().collect(),
        v => vec![v],
    }
}

/// Judges membership of a group of regions, which changes over time, on the request's day.
fn region_within(inner: &str, outer: &str, cx: &Semantics<'_>) -> Result<bool, String> {
    let on = match cx.at {
        Some(t) => cx.zone.local(t).date(),
        None if crate::regions::is_group(outer) => {
            return Err(format!(
                "the request context has no time, which membership of {outer} depends on"
            ))
        }
        None => OffsetDateTime::UNIX_EPOCH.date(),
    };
    crate::regions::within(inner, outer, on)
}

/// `l` lies within `r`: the same value, a subdivision or member of it, or a narrower purpose.
fn within(l: &Val, r: &Literal, cx: &Semantics<'_>) -> Result<bool, String> {
    match (l, cx.domain) {
        (Val::Text(s), Domain::Region) => region_within(s, &r.lexical(), cx),
        (Val::Text(s), Domain::Purpose) => {
            known_purpose(s)?;
            let r = r.lexical();
            Ok(*s == r || crate::purposes::satisfies(s, &r))
        }
        _ => equal(l, r, cx),
    }
}

/// `r` lies within `l` (the converse of `within`).
fn contains(l: &Val, r: &Literal, cx: &Semantics<'_>) -> Result<bool, String> {
    match (l, cx.domain) {
        (Val::Text(s), Domain::Region) => region_within(&r.lexical(), s, cx),
        (Val::Text(s), Domain::Purpose) => {
            known_purpose(s)?;
            Ok(crate::purposes::satisfies(&r.lexical(), s))
        }
        _ => equal(l, r, cx),
    }
}

fn any_of(
    ls: &[&Val],
    rights: &[&Literal],
    f: impl Fn(&Val, &Literal) -> Result<bool, String>,
) -> Result<bool, String> {
    for l in ls {
        for r in rights {
            if f(l, r)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn spatial_point(op: Operator, lat: f64, lon: f64, rights: &[&Literal]) -> Result<bool, String> {
    let mut inside = false;
    for r in rights {
        let geometry = match r {
            Literal::Json(g) => g,
            other => {
                return Err(format!(
                    "right operand {:?} is not a geometry",
                    other.lexical()
                ))
            }
        };
        inside |= point_in_geometry(geometry, lat, lon)?;
    }
    match op {
        Operator::Eq | Operator::IsPartOf | Operator::IsAnyOf | Operator::IsA => Ok(inside),
        Operator::Neq | Operator::IsNoneOf => Ok(!inside),
        other => Err(format!("operator {other} does not apply to coordinates")),
    }
}

/// Applies `op`; `Ok(satisfied)` or `Err(reason it cannot be evaluated)`.
pub fn apply(
    op: Operator,
    left: &Val,
    right: &RightOperand,
    cx: &Semantics<'_>,
) -> Result<bool, String> {
    let rights = literals(right)?;
    if rights.is_empty() {
        return Err("right operand list is empty".into());
    }
    if let Val::Point { lat, lon } = left {
        return spatial_point(op, *lat, *lon, &rights);
    }
    if !op.is_set_based() {
        let [r] = rights.as_slice() else {
            return Err(format!(
                "operator {op} needs a single right operand, not a list"
            ));
        };
        if matches!(left, Val::Set(_)) {
            // Equality against a multi-valued operand reads as membership; ordering has no meaning.
            let ls = members(left);
            return match op {
                Operator::Eq => any_of(&ls, &[r], |l, r| equal(l, r, cx)),
                Operator::Neq => any_of(&ls, &[r], |l, r| equal(l, r, cx)).map(|b| !b),
                _ => Err(format!(
                    "operator {op} needs a single left value, the left operand has several"
                )),
            };
        }
        return compared(op, left, r, cx);
    }
    let ls = members(left);
    if ls.is_empty() && op != Operator::IsNoneOf {
        return Ok(false);
    }
    Ok(match op {
        Operator::IsAnyOf => any_of(&ls, &rights, |l, r| within(l, r, cx))?,
        Operator::IsNoneOf => !any_of(&ls, &rights, |l, r| within(l, r, cx))?,
        // Every listed value is matched by a value of the request; a purpose by itself or a narrower one.
        Operator::IsAllOf => {
            let mut all = true;
            for r in &rights {
                all &= any_of(&ls, &[r], |l, r| match cx.domain {
                    Domain::Purpose => within(l, r, cx),
                    _ => equal(l, r, cx),
                })?;
            }
            all
        }
        Operator::HasPart => {
            let mut all = true;
            for r in &rights {
                all &= any_of(&ls, &[r], |l, r| contains(l, r, cx))?;
            }
            all
        }
        Operator::IsPartOf => {
            let mut all = true;
            for l in &ls {
                all &= any_of(&[l], &rights, |l, r| within(l, r, cx))?;
            }
            all
        }
        Operator::IsA => any_of(&ls, &rights, |l, r| {
            Ok(within(l, r, cx)?
                || matches!(l, Val::Text(s) if cx.types.get(s.as_str()).is_some_and(|classes| classes.iter().any(|c| text_eq(c, &r.lexical())))))
        })?,
        _ => return Err(format!("operator {op} is not set-based")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_time;
    use serde_json::json;

    fn s(v: &str) -> Literal {
        Literal::String(v.into())
    }
    fn one(l: Literal) -> RightOperand {
        RightOperand::Single(l)
    }
    fn list(v: &[&str]) -> RightOperand {
        RightOperand::List(v.iter().map(|x| s(x)).collect())
    }
    fn run_in(
        domain: Domain,
        zone: &PolicyZone,
        op: Operator,
        left: &Val,
        right: &RightOperand,
    ) -> Result<bool, String> {
        let types = BTreeMap::from([(
            "urn:x:ancient-history".to_string(),
            vec!["urn:x:history".to_string()],
        )]);
        apply(
            op,
            left,
            right,
            &Semantics {
                types: &types,
                domain,
                zone,
                at: Some(time::macros::datetime!(2026-12-06 12:00 UTC)),
            },
        )
    }
    fn run(op: Operator, left: &Val, right: &RightOperand) -> Result<bool, String> {
        run_in(Domain::Plain, &PolicyZone::utc(), op, left, right)
    }
    fn region(op: Operator, left: &Val, right: &RightOperand) -> Result<bool, String> {
        run_in(Domain::Region, &PolicyZone::utc(), op, left, right)
    }
    fn text(v: &str) -> Val {
        Val::Text(v.into())
    }

    #[test]
    fn comparison_operators_on_numbers() {
        let five = Val::Number(5.0);
        let lit = one(Literal::Typed {
            value: "5.00".into(),
            datatype: "xsd:decimal".into(),
        });
        assert_eq!(run(Operator::Eq, &five, &lit), Ok(true));
        assert_eq!(run(Operator::Neq, &five, &lit), Ok(false));
        assert_eq!(run(Operator::Lt, &five, &one(s("6"))), Ok(true));
        assert_eq!(run(Operator::Lt, &five, &one(s("5"))), Ok(false));
        assert_eq!(run(Operator::Lteq, &five, &one(s("5"))), Ok(true));
        assert_eq!(run(Operator::Lteq, &five, &one(s("4"))), Ok(false));
        assert_eq!(run(Operator::Gt, &five, &one(s("4"))), Ok(true));
        assert_eq!(run(Operator::Gt, &five, &one(s("5"))), Ok(false));
        assert_eq!(run(Operator::Gteq, &five, &one(s("5"))), Ok(true));
        assert_eq!(run(Operator::Gteq, &five, &one(s("6"))), Ok(false));
        let err = run(Operator::Lt, &five, &one(s("lots"))).unwrap_err();
        assert!(err.contains("not a number"), "{err}");
    }

    #[test]
    fn comparison_operators_on_times_and_durations() {
        let t = Val::Time(
            parse_time("2024-02-12T11:20:10Z").unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        );
        let d = one(Literal::Typed {
            value: "2024-12-31".into(),
            datatype: "xsd:date".into(),
        });
        assert_eq!(run(Operator::Lt, &t, &d), Ok(true));
        assert_eq!(run(Operator::Gt, &t, &d), Ok(false));
        assert!(run(Operator::Lt, &t, &one(s("soon")))
            .unwrap_err()
            .contains("xsd:dateTime"));
        let dur = Val::Duration(86_400.0 * 10.0);
        assert_eq!(run(Operator::Lteq, &dur, &one(s("P30D"))), Ok(true));
        assert_eq!(run(Operator::Gt, &dur, &one(s("P30D"))), Ok(false));
        assert!(run(Operator::Lt, &dur, &one(s("30 days")))
            .unwrap_err()
            .contains("xsd:duration"));
    }

    #[test]
    fn a_date_is_a_whole_day_in_the_policy_zone() {
        let ams = PolicyZone::named("Europe/Amsterdam").unwrap_or_default();
        let at = |t: &str| Val::Time(parse_time(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH));
        let end = one(s("2027-12-31"));
        let z = |op, v: &Val, r: &RightOperand| run_in(Domain::Plain, &ams, op, v, r);
        // 22:59 UTC on 31 December is 23:59 in Amsterdam: still within the day.
        assert_eq!(
            z(Operator::Lteq, &at("2027-12-31T22:59:00Z"), &end),
            Ok(true)
        );
        assert_eq!(
            z(Operator::Lteq, &at("2027-12-31T23:00:00Z"), &end),
            Ok(false)
        );
        assert_eq!(z(Operator::Lt, &at("2027-12-30T22:59:00Z"), &end), Ok(true));
        assert_eq!(
            z(Operator::Lt, &at("2027-12-30T23:00:00Z"), &end),
            Ok(false)
        );
        assert_eq!(z(Operator::Gt, &at("2027-12-31T23:00:00Z"), &end), Ok(true));
        assert_eq!(
            z(Operator::Gteq, &at("2027-12-30T23:00:00Z"), &end),
            Ok(true)
        );
        assert_eq!(z(Operator::Eq, &at("2027-12-31T12:00:00Z"), &end), Ok(true));
        assert_eq!(
            z(Operator::Neq, &at("2028-01-01T12:00:00Z"), &end),
            Ok(true)
        );
        // In UTC the same day ends an hour later.
        assert_eq!(
            run(Operator::Lteq, &at("2027-12-31T23:30:00Z"), &end),
            Ok(true)
        );
        // A date-time without offset is Amsterdam wall-clock time; with an offset it is that instant.
        let local = one(s("2027-06-30T18:00:00"));
        assert_eq!(
            z(Operator::Lt, &at("2027-06-30T15:59:00Z"), &local),
            Ok(true)
        );
        assert_eq!(
            z(Operator::Lt, &at("2027-06-30T16:00:00Z"), &local),
            Ok(false)
        );
        let utc = one(s("2027-06-30T18:00:00Z"));
        assert_eq!(z(Operator::Lt, &at("2027-06-30T17:59:00Z"), &utc), Ok(true));
    }

    #[test]
    fn time_of_day_and_purposes() {
        let nine = Val::Clock(time::macros::time!(9:00));
        assert_eq!(run(Operator::Gteq, &nine, &one(s("08:00"))), Ok(true));
        assert_eq!(run(Operator::Lt, &nine, &one(s("18:00"))), Ok(true));
        assert_eq!(run(Operator::Lt, &nine, &one(s("9:00"))), Ok(false));
        assert!(run(Operator::Lt, &nine, &one(s("9am")))
            .unwrap_err()
            .contains("time of day"));
        let purpose = |op, v: &str, r: &RightOperand| {
            run_in(Domain::Purpose, &PolicyZone::utc(), op, &text(v), r)
        };
        let rnd = list(&["https://w3id.org/dpv#ResearchAndDevelopment"]);
        assert_eq!(
            purpose(Operator::IsAnyOf, "dpv:AcademicResearch", &rnd),
            Ok(true)
        );
        assert_eq!(
            purpose(Operator::IsA, "dpv:AcademicResearch", &rnd),
            Ok(true)
        );
        assert_eq!(
            purpose(Operator::IsNoneOf, "dpv:AcademicResearch", &rnd),
            Ok(false)
        );
        assert_eq!(purpose(Operator::IsAnyOf, "dpv:Marketing", &rnd), Ok(false));
        assert_eq!(
            purpose(
                Operator::Eq,
                "dpv:AcademicResearch",
                &one(s("https://w3id.org/dpv#AcademicResearch"))
            ),
            Ok(true)
        );
        assert_eq!(
            purpose(
                Operator::Eq,
                "dpv:AcademicResearch",
                &one(s("dpv:ResearchAndDevelopment"))
            ),
            Ok(false)
        );
        assert_eq!(
            purpose(
                Operator::IsAnyOf,
                "Flood planning",
                &list(&["flood-planning"])
            ),
            Ok(true)
        );
    }

    #[test]
    fn regions_and_their_groups() {
        assert_eq!(
            region(Operator::IsPartOf, &text("NL-UT"), &list(&["EU"])),
            Ok(true)
        );
        assert_eq!(
            region(Operator::IsPartOf, &text("CH"), &list(&["EU"])),
            Ok(false)
        );
        assert_eq!(
            region(Operator::IsPartOf, &text("NO"), &list(&["EEA"])),
            Ok(true)
        );
        assert_eq!(region(Operator::Eq, &text("nl"), &one(s("NL"))), Ok(true));
        assert!(region(Operator::IsPartOf, &text("Utrecht"), &list(&["NL"])).is_err());
        let no_day = apply(
            Operator::IsPartOf,
            &text("NL"),
            &list(&["EU"]),
            &Semantics {
                types: &BTreeMap::new(),
                domain: Domain::Region,
                zone: &PolicyZone::utc(),
                at: None,
            },
        );
        assert!(no_day.unwrap_err().contains("no time"));
    }

    #[test]
    fn text_equality_and_no_order() {
        assert_eq!(
            run(Operator::Eq, &text("odrl:read"), &one(s("read"))),
            Ok(true)
        );
        assert_eq!(run(Operator::Neq, &text("a"), &one(s("b"))), Ok(true));
        assert!(run(Operator::Lt, &text("a"), &one(s("b")))
            .unwrap_err()
            .contains("no order"));
        assert!(run(Operator::Eq, &text("a"), &list(&["a", "b"]))
            .unwrap_err()
            .contains("single right operand"));
    }

    #[test]
    fn set_operators() {
        let purposes = Val::Set(vec![text("research"), text("education")]);
        assert_eq!(
            run(
                Operator::IsAnyOf,
                &text("research"),
                &list(&["research", "teaching"])
            ),
            Ok(true)
        );
        assert_eq!(
            run(Operator::IsAnyOf, &text("marketing"), &list(&["research"])),
            Ok(false)
        );
        assert_eq!(
            run(
                Operator::IsNoneOf,
                &text("marketing"),
                &list(&["commercial"])
            ),
            Ok(true)
        );
        assert_eq!(
            run(
                Operator::IsNoneOf,
                &text("commercial"),
                &list(&["commercial"])
            ),
            Ok(false)
        );
        assert_eq!(
            run(
                Operator::IsNoneOf,
                &Val::Set(vec![]),
                &list(&["commercial"])
            ),
            Ok(true)
        );
        assert_eq!(
            run(
                Operator::IsAllOf,
                &purposes,
                &list(&["research", "education"])
            ),
            Ok(true)
        );
        assert_eq!(
            run(Operator::IsAllOf, &purposes, &list(&["research", "sales"])),
            Ok(false)
        );
        assert_eq!(
            run(Operator::HasPart, &purposes, &list(&["education"])),
            Ok(true)
        );
        assert_eq!(
            run(Operator::HasPart, &purposes, &list(&["sales"])),
            Ok(false)
        );
        assert_eq!(
            region(Operator::IsPartOf, &text("NL-NH"), &list(&["NL"])),
            Ok(true)
        );
        assert_eq!(
            region(Operator::IsPartOf, &text("BE"), &list(&["NL"])),
            Ok(false)
        );
        assert_eq!(
            region(Operator::HasPart, &text("NL"), &one(s("NL-UT"))),
            Ok(true)
        );
        assert_eq!(
            run(
                Operator::IsA,
                &text("urn:x:ancient-history"),
                &one(s("urn:x:history"))
            ),
            Ok(true)
        );
        assert_eq!(
            run(
                Operator::IsA,
                &text("urn:x:marketing"),
                &one(s("urn:x:history"))
            ),
            Ok(false)
        );
        assert_eq!(
            run(Operator::IsAnyOf, &Val::Set(vec![]), &list(&["x"])),
            Ok(false)
        );
        assert!(run(Operator::IsAnyOf, &text("x"), &RightOperand::List(vec![])).is_err());
        assert!(run(
            Operator::IsAnyOf,
            &text("x"),
            &RightOperand::Reference("http://x".into())
        )
        .is_err());
        assert_eq!(run(Operator::Eq, &purposes, &one(s("research"))), Ok(true));
        assert!(run(Operator::Lt, &purposes, &one(s("research"))).is_err());
    }

    #[test]
    fn coordinates_against_geometries() {
        let p = Val::Point {
            lat: 52.37,
            lon: 4.9,
        };
        let g = one(Literal::Json(json!({"bbox": [4.7, 52.2, 5.1, 52.5]})));
        assert_eq!(run(Operator::IsPartOf, &p, &g), Ok(true));
        assert_eq!(run(Operator::IsNoneOf, &p, &g), Ok(false));
        let far = Val::Point {
            lat: 40.0,
            lon: 4.9,
        };
        assert_eq!(run(Operator::IsPartOf, &far, &g), Ok(false));
        assert!(run(Operator::Lt, &p, &g)
            .unwrap_err()
            .contains("does not apply"));
        assert!(run(Operator::IsPartOf, &p, &one(s("NL")))
            .unwrap_err()
            .contains("not a geometry"));
    }
}
