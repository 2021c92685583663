//! Where each left operand's value comes from in the request context. A left operand with no native meaning is
//! looked up in `parameters`; if it is not there either the answer is "unknown left operand", and a value that the
//! context does not carry is reported as missing — both make the constraint unsatisfied.

use crate::context::{EventPhase, RequestContext};
use crate::model::{normalise_term, LeftOperand, Literal, Operator, RightOperand};
use crate::value::{parse_time, Val};
use crate::zone::PolicyZone;
use serde_json::Value;
use time::OffsetDateTime;

/// The reason text for an operand the engine cannot evaluate; tests and reports match on it.
pub const UNKNOWN_LEFT_OPERAND: &str = "unknown left operand";

fn missing(what: &str) -> String {
    format!("the request context has no {what}")
}

/// The request time, when the context has a readable one.
pub fn request_time(ctx: &RequestContext) -> Result<OffsetDateTime, String> {
    let t = ctx.time.as_deref().ok_or_else(|| missing("time"))?;
    parse_time(t).ok_or_else(|| format!("request time {t:?} is not an RFC 3339 date-time"))
}

fn since_agreement(ctx: &RequestContext) -> Result<Val, String> {
    let now = request_time(ctx)?;
    let start = ctx
        .agreement
        .as_ref()
        .and_then(|a| a.start.as_deref())
        .ok_or_else(|| missing("agreement start"))?;
    let start = parse_time(start)
        .ok_or_else(|| format!("agreement start {start:?} is not an RFC 3339 date-time"))?;
    Ok(Val::Duration((now - start).as_seconds_f64()))
}

/// Converts a JSON value from the context (a claim or a parameter) into a typed value.
pub fn json_to_val(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) => Ok(Val::Text(s.clone())),
        Value::Number(n) => n
            .as_f64()
            .map(Val::Number)
            .ok_or_else(|| "number out of range".to_string()),
        Value::Bool(b) => Ok(Val::Text(b.to_string())),
        Value::Array(a) => a
            .iter()
            .map(json_to_val)
            .collect::<Result<Vec<_>, _>>()
            .map(Val::Set),
        Value::Null => Err("value is null".into()),
        Value::Object(o) => match o.get("@value").or_else(|| o.get("@id")) {
            Some(inner) => json_to_val(inner),
            None => {
                Err("value is an object; address one of its fields with a dotted claim name".into())
            }
        },
    }
}

fn claim<'a>(ctx: &'a RequestContext, name: &str) -> Option<&'a Value> {
    let claims = &ctx.counterparty.as_ref()?.claims;
    let mut parts = name.split('.');
    let mut current = claims.get(parts.next()?)?;
    for p in parts {
        current = current.get(p)?;
    }
    Some(current)
}

/// True when any right-operand literal is a geometry, which switches `spatial` to coordinates.
pub fn wants_coordinates(right: &RightOperand) -> bool {
    match right {
        RightOperand::Single(l) => matches!(l, Literal::Json(_)),
        RightOperand::List(ls) => ls.iter().any(|l| matches!(l, Literal::Json(_))),
        RightOperand::Reference(_) => false,
    }
}

fn currency_code(c: &str) -> String {
    let last = c
        .rsplit(['/', '#', ':'])
        .next()
        .unwrap_or(c)
        .to_ascii_lowercase();
    match last.as_str() {
        "euro" => "eur".into(),
        "united_states_dollar" => "usd".into(),
        "pound_sterling" => "gbp".into(),
        _ => last,
    }
}

/// Whether the context carries the field `left` reads (whatever its value): a constraint on an operand the
/// context lacks is unknown, which some scopes treat as "not known yet" rather than as a failure.
pub fn provided(left: &LeftOperand, ctx: &RequestContext) -> bool {
    match left {
        LeftOperand::Purpose => ctx.purpose.is_some(),
        LeftOperand::Count => ctx.usage.as_ref().is_some_and(|u| u.count.is_some()),
        LeftOperand::ElapsedTime | LeftOperand::DelayPeriod => {
            ctx.agreement.as_ref().is_some_and(|a| a.start.is_some())
        }
        LeftOperand::Event => !ctx.events.is_empty(),
        LeftOperand::PayAmount => ctx.payment.is_some(),
        _ => true,
    }
}

/// The value of `left` for this request, or why there is none. Days and times of day are read in `zone`.
pub fn resolve(
    left: &LeftOperand,
    ctx: &RequestContext,
    right: &RightOperand,
    unit: Option<&str>,
    zone: &PolicyZone,
) -> Result<Val, String> {
    match left {
        LeftOperand::DateTime => request_time(ctx).map(Val::Time),
        LeftOperand::ElapsedTime | LeftOperand::DelayPeriod => since_agreement(ctx),
        LeftOperand::Purpose => ctx
            .purpose
            .clone()
            .map(Val::Text)
            .ok_or_else(|| missing("purpose")),
        LeftOperand::Recipient => ctx
            .recipient
            .clone()
            .or_else(|| ctx.counterparty.as_ref().and_then(|c| c.id.clone()))
            .map(Val::Text)
            .ok_or_else(|| missing("recipient or counterparty id")),
        LeftOperand::Spatial => {
            let loc = ctx.location.as_ref().ok_or_else(|| missing("location"))?;
            if wants_coordinates(right) {
                match (loc.lat, loc.lon) {
                    (Some(lat), Some(lon)) => Ok(Val::Point { lat, lon }),
                    _ => Err(missing("location coordinates (lat/lon)")),
                }
            } else {
                loc.region
                    .clone()
                    .map(Val::Text)
                    .ok_or_else(|| missing("location region"))
            }
        }
        // The count this access would reach: accesses so far plus this one.
        LeftOperand::Count => ctx
            .usage
            .as_ref()
            .and_then(|u| u.count)
            .map(|c| Val::Number(c as f64 + 1.0))
            .ok_or_else(|| missing("usage count")),
        LeftOperand::Event => Err("event is evaluated against the request's event phases".into()),
        LeftOperand::Industry => claim(ctx, "industry")
            .ok_or_else(|| missing("counterparty claim \"industry\""))
            .and_then(json_to_val),
        LeftOperand::PayAmount => {
            let p = ctx.payment.as_ref().ok_or_else(|| missing("payment"))?;
            if let (Some(unit), Some(cur)) = (unit, p.currency.as_deref()) {
                if currency_code(unit) != currency_code(cur) {
                    return Err(format!(
                        "payment currency {cur:?} differs from the constraint's unit {unit:?}"
                    ));
                }
            }
            Ok(Val::Number(p.amount))
        }
        LeftOperand::ResourceKind => ctx
            .resource
            .as_ref()
            .and_then(|r| r.kind.clone())
            .map(Val::Text)
            .ok_or_else(|| missing("resource kind")),
        LeftOperand::ResourceStage => ctx
            .resource
            .as_ref()
            .and_then(|r| r.stage.clone())
            .map(Val::Text)
            .ok_or_else(|| missing("resource stage")),
        LeftOperand::DayOfWeek => request_time(ctx).map(|t| Val::Text(zone.weekday(t).to_string())),
        LeftOperand::TimeOfDay => request_time(ctx).map(|t| Val::Clock(zone.time_of_day(t))),
        LeftOperand::Claim(name) => claim(ctx, name)
            .ok_or_else(|| missing(&format!("counterparty claim {name:?}")))
            .and_then(json_to_val),
        LeftOperand::Other(term) => ctx
            .parameters
            .get(term.as_str())
            .or_else(|| ctx.parameters.get(normalise_term(term)))
            .ok_or_else(|| UNKNOWN_LEFT_OPERAND.to_string())
            .and_then(json_to_val),
    }
}

/// ODRL's `event` operand: `lt` = before the event, `eq` = during, `gt` = after, `neq` = not during; the
/// request context says where the request stands relative to each event. Returns the phase used and the outcome.
pub fn evaluate_event(
    op: Operator,
    right: &RightOperand,
    ctx: &RequestContext,
) -> Result<(Val, bool), String> {
    let RightOperand::Single(lit) = right else {
        return Err("event needs a single event IRI as right operand".into());
    };
    let event = lit.lexical();
    let phase = *ctx
        .events
        .get(&event)
        .ok_or_else(|| missing(&format!("phase for event {event:?}")))?;
    let name = match phase {
        EventPhase::Before => "before",
        EventPhase::During => "during",
        EventPhase::After => "after",
    };
    let holds = match op {
        Operator::Lt => phase == EventPhase::Before,
        Operator::Lteq => phase != EventPhase::After,
        Operator::Eq => phase == EventPhase::During,
        Operator::Neq => phase != EventPhase::During,
        Operator::Gt => phase == EventPhase::After,
        Operator::Gteq => phase != EventPhase::Before,
        other => return Err(format!("operator {other} does not apply to event")),
    };
    Ok((Val::Text(name.into()), holds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{
        AgreementContext, CounterpartyContext, LocationContext, PaymentContext, ResourceContext,
        UsageContext,
    };
    use serde_json::json;

    fn any() -> RightOperand {
        RightOperand::Single(Literal::String("x".into()))
    }

    fn full() -> RequestContext {
        RequestContext {
            time: Some("2026-03-01T12:00:00Z".into()),
            purpose: Some("research".into()),
            resource: Some(ResourceContext {
                id: Some("urn:ds:1".into()),
                kind: Some("dataset".into()),
                stage: Some("raw".into()),
                part_of: vec![],
            }),
            counterparty: Some(CounterpartyContext {
                id: Some("did:web:utrecht.nl".into()),
                claims: json!({"membership": "partner-city", "industry": "public-sector", "address": {"region": "NL-UT"}})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                part_of: vec![],
            }),
            location: Some(LocationContext { region: Some("NL-UT".into()), lat: Some(52.09), lon: Some(5.12) }),
            usage: Some(UsageContext { count: Some(4) }),
            agreement: Some(AgreementContext { id: None, start: Some("2026-02-27T12:00:00Z".into()) }),
            payment: Some(PaymentContext { amount: 5.0, currency: Some("EUR".into()) }),
            parameters: json!({"resolution": 1000}).as_object().cloned().unwrap_or_default(),
            events: [("urn:event:festival".to_string(), EventPhase::During)].into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_native_operand_reads_its_field() {
        let c = full();
        let utc = PolicyZone::utc();
        let r = |lo: LeftOperand| resolve(&lo, &c, &any(), None, &utc);
        assert!(matches!(r(LeftOperand::DateTime), Ok(Val::Time(_))));
        assert_eq!(
            r(LeftOperand::ElapsedTime),
            Ok(Val::Duration(2.0 * 86_400.0))
        );
        assert_eq!(
            r(LeftOperand::DelayPeriod),
            Ok(Val::Duration(2.0 * 86_400.0))
        );
        assert_eq!(r(LeftOperand::Purpose), Ok(Val::Text("research".into())));
        assert_eq!(
            r(LeftOperand::Recipient),
            Ok(Val::Text("did:web:utrecht.nl".into()))
        );
        assert_eq!(r(LeftOperand::Spatial), Ok(Val::Text("NL-UT".into())));
        assert_eq!(r(LeftOperand::Count), Ok(Val::Number(5.0)));
        assert_eq!(
            r(LeftOperand::Industry),
            Ok(Val::Text("public-sector".into()))
        );
        assert_eq!(r(LeftOperand::PayAmount), Ok(Val::Number(5.0)));
        assert_eq!(
            r(LeftOperand::ResourceKind),
            Ok(Val::Text("dataset".into()))
        );
        assert_eq!(r(LeftOperand::ResourceStage), Ok(Val::Text("raw".into())));
        assert_eq!(r(LeftOperand::DayOfWeek), Ok(Val::Text("Sunday".into())));
        assert_eq!(
            r(LeftOperand::TimeOfDay),
            Ok(Val::Clock(time::macros::time!(12:00)))
        );
        // Saturday 01:30 in Amsterdam is still Friday in UTC.
        let late = RequestContext {
            time: Some("2026-12-05T00:30:00Z".into()),
            ..Default::default()
        };
        let ams = PolicyZone::named("Europe/Amsterdam").unwrap_or_default();
        assert_eq!(
            resolve(&LeftOperand::DayOfWeek, &late, &any(), None, &ams),
            Ok(Val::Text("Saturday".into()))
        );
        assert_eq!(
            resolve(&LeftOperand::DayOfWeek, &late, &any(), None, &utc),
            Ok(Val::Text("Saturday".into()))
        );
        let friday_night = RequestContext {
            time: Some("2026-12-04T23:30:00Z".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&LeftOperand::DayOfWeek, &friday_night, &any(), None, &ams),
            Ok(Val::Text("Saturday".into()))
        );
        assert_eq!(
            resolve(&LeftOperand::DayOfWeek, &friday_night, &any(), None, &utc),
            Ok(Val::Text("Friday".into()))
        );
        assert_eq!(
            r(LeftOperand::Claim("membership".into())),
            Ok(Val::Text("partner-city".into()))
        );
        assert_eq!(
            r(LeftOperand::Claim("address.region".into())),
            Ok(Val::Text("NL-UT".into()))
        );
        assert_eq!(
            r(LeftOperand::Other("resolution".into())),
            Ok(Val::Number(1000.0))
        );
        let geo = RightOperand::Single(Literal::Json(json!({"bbox": [0, 0, 1, 1]})));
        assert_eq!(
            resolve(&LeftOperand::Spatial, &c, &geo, None, &utc),
            Ok(Val::Point {
                lat: 52.09,
                lon: 5.12
            })
        );
    }

    #[test]
    fn missing_values_and_unknown_operands_give_reasons() {
        let c = RequestContext::default();
        let utc = PolicyZone::utc();
        let r = |lo: LeftOperand| resolve(&lo, &c, &any(), None, &utc).unwrap_err();
        assert_eq!(
            r(LeftOperand::Other("ex:colour".into())),
            UNKNOWN_LEFT_OPERAND
        );
        assert!(r(LeftOperand::DateTime).contains("no time"));
        assert!(r(LeftOperand::ElapsedTime).contains("no time"));
        assert!(r(LeftOperand::Purpose).contains("no purpose"));
        assert!(r(LeftOperand::Recipient).contains("recipient"));
        assert!(r(LeftOperand::Spatial).contains("location"));
        assert!(r(LeftOperand::Count).contains("usage count"));
        assert!(r(LeftOperand::Industry).contains("industry"));
        assert!(r(LeftOperand::PayAmount).contains("payment"));
        assert!(r(LeftOperand::ResourceKind).contains("resource kind"));
        assert!(r(LeftOperand::ResourceStage).contains("resource stage"));
        assert!(r(LeftOperand::Claim("membership".into())).contains("membership"));
        let bad_time = RequestContext {
            time: Some("noon".into()),
            ..Default::default()
        };
        assert!(
            resolve(&LeftOperand::DateTime, &bad_time, &any(), None, &utc)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }

    #[test]
    fn pay_amount_checks_currency() {
        let c = full();
        let usd = resolve(
            &LeftOperand::PayAmount,
            &c,
            &any(),
            Some("http://dbpedia.org/resource/United_States_dollar"),
            &PolicyZone::utc(),
        );
        assert!(usd.unwrap_err().contains("differs"));
        let eur = resolve(
            &LeftOperand::PayAmount,
            &c,
            &any(),
            Some("http://dbpedia.org/resource/Euro"),
            &PolicyZone::utc(),
        );
        assert_eq!(eur, Ok(Val::Number(5.0)));
    }

    #[test]
    fn event_phases() {
        let c = full();
        let ev = RightOperand::Single(Literal::Iri("urn:event:festival".into()));
        assert_eq!(evaluate_event(Operator::Eq, &ev, &c).map(|r| r.1), Ok(true));
        assert_eq!(
            evaluate_event(Operator::Lt, &ev, &c).map(|r| r.1),
            Ok(false)
        );
        assert_eq!(
            evaluate_event(Operator::Gt, &ev, &c).map(|r| r.1),
            Ok(false)
        );
        assert!(evaluate_event(Operator::IsA, &ev, &c).is_err());
        let other = RightOperand::Single(Literal::Iri("urn:event:other".into()));
        assert!(evaluate_event(Operator::Eq, &other, &c)
            .unwrap_err()
            .contains("no phase"));
    }
}
