//! The twelve ODRL operators applied to a left-operand value and a right operand. Comparison coerces the right
//! operand to the left value's type (dateTime, duration, number, text); a value that cannot be coerced is an error
//! with a reason, which the engine reports as an unsatisfied constraint — never as satisfied.

use crate::model::{normalise_term, Literal, Operator, RightOperand};
use crate::spatial::{point_in_geometry, region_within};
use crate::value::{parse_duration, parse_time, Val};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What set-based comparison may consult besides plain equality.
pub struct SetContext<'a> {
    /// `isA` facts from the request context.
    pub types: &'a BTreeMap<String, Vec<String>>,
    /// Region codes nest (`NL-NH` is part of `NL`).
    pub regions: bool,
}

fn text_eq(a: &str, b: &str) -> bool {
    a == b || normalise_term(a) == normalise_term(b)
}

fn num(lex: &str) -> Option<f64> {
    lex.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Orders `left` against one literal, or explains why they cannot be compared.
fn compare(left: &Val, right: &Literal) -> Result<Ordering, String> {
    let lex = right.lexical();
    match left {
        Val::Time(t) => parse_time(&lex)
            .map(|r| t.cmp(&r))
            .ok_or_else(|| format!("right operand {lex:?} is not an xsd:dateTime or xsd:date")),
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

fn equal(left: &Val, right: &Literal) -> bool {
    match (left, right) {
        (Val::Text(s), r) => {
            let lex = r.lexical();
            text_eq(s, &lex) || matches!((num(s), num(&lex)), (Some(a), Some(b)) if a == b)
        }
        (l, r) => compare(l, r) == Ok(Ordering::Equal),
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

/// `l` lies within `r`: equal, or (for regions) a subdivision of it.
fn within(l: &Val, r: &Literal, cx: &SetContext<'_>) -> bool {
    if equal(l, r) {
        return true;
    }
    cx.regions && matches!(l, Val::Text(s) if region_within(s, &r.lexical()))
}

/// `r` lies within `l` (the converse of `within`).
fn contains(l: &Val, r: &Literal, cx: &SetContext<'_>) -> bool {
    if equal(l, r) {
        return true;
    }
    cx.regions && matches!(l, Val::Text(s) if region_within(&r.lexical(), s))
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
    cx: &SetContext<'_>,
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
                Operator::Eq => Ok(ls.iter().any(|l| equal(l, r))),
                Operator::Neq => Ok(!ls.iter().any(|l| equal(l, r))),
                _ => Err(format!(
                    "operator {op} needs a single left value, the left operand has several"
                )),
            };
        }
        return match op {
            Operator::Eq => Ok(equal(left, r)),
            Operator::Neq => Ok(!equal(left, r)),
            Operator::Lt => compare(left, r).map(|o| o == Ordering::Less),
            Operator::Lteq => compare(left, r).map(|o| o != Ordering::Greater),
            Operator::Gt => compare(left, r).map(|o| o == Ordering::Greater),
            Operator::Gteq => compare(left, r).map(|o| o != Ordering::Less),
            _ => Err(format!("operator {op} is not a comparison")),
        };
    }
    let ls = members(left);
    if ls.is_empty() && op != Operator::IsNoneOf {
        return Ok(false);
    }
    Ok(match op {
        Operator::IsAnyOf => ls.iter().any(|l| rights.iter().any(|r| within(l, r, cx))),
        Operator::IsNoneOf => !ls.iter().any(|l| rights.iter().any(|r| within(l, r, cx))),
        Operator::IsAllOf => rights.iter().all(|r| ls.iter().any(|l| equal(l, r))),
        Operator::HasPart => rights.iter().all(|r| ls.iter().any(|l| contains(l, r, cx))),
        Operator::IsPartOf => ls.iter().all(|l| rights.iter().any(|r| within(l, r, cx))),
        Operator::IsA => ls.iter().any(|l| {
            rights.iter().any(|r| {
                equal(l, r)
                    || matches!(l, Val::Text(s) if cx.types.get(s.as_str()).is_some_and(|classes| classes.iter().any(|c| text_eq(c, &r.lexical()))))
            })
        }),
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
    fn run(op: Operator, left: &Val, right: &RightOperand) -> Result<bool, String> {
        let types = BTreeMap::from([(
            "dpv:AcademicResearch".to_string(),
            vec!["dpv:ResearchAndDevelopment".to_string()],
        )]);
        apply(
            op,
            left,
            right,
            &SetContext {
                types: &types,
                regions: true,
            },
        )
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
            run(Operator::IsPartOf, &text("NL-NH"), &list(&["NL"])),
            Ok(true)
        );
        assert_eq!(
            run(Operator::IsPartOf, &text("BE"), &list(&["NL"])),
            Ok(false)
        );
        assert_eq!(
            run(Operator::HasPart, &text("NL"), &one(s("NL-UT"))),
            Ok(true)
        );
        assert_eq!(
            run(
                Operator::IsA,
                &text("dpv:AcademicResearch"),
                &one(s("dpv:ResearchAndDevelopment"))
            ),
            Ok(true)
        );
        assert_eq!(
            run(
                Operator::IsA,
                &text("dpv:Marketing"),
                &one(s("dpv:ResearchAndDevelopment"))
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
