//! Typed values: what a left operand evaluates to, and the parsing of XSD lexical forms (dateTime, date,
//! duration, decimal) that right operands are written in.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// The value of a left operand for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Time(OffsetDateTime),
    /// A wall-clock time of day in the policy time zone.
    Clock(time::Time),
    /// A duration in seconds.
    Duration(f64),
    Number(f64),
    Text(String),
    Set(Vec<Val>),
    /// Geographic position (WGS 84 degrees).
    Point {
        lat: f64,
        lon: f64,
    },
}

impl Val {
    /// The value as it appears in a report.
    pub fn to_json(&self) -> Value {
        match self {
            Val::Time(t) => json!(t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())),
            Val::Clock(c) => json!(format!(
                "{:02}:{:02}:{:02}",
                c.hour(),
                c.minute(),
                c.second()
            )),
            Val::Duration(s) => json!(format_duration(*s)),
            // Whole numbers print as integers so reasons read "count 101", not "count 101.0".
            Val::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => json!(*n as i64),
            Val::Number(n) => json!(n),
            Val::Text(s) => json!(s),
            Val::Set(v) => Value::Array(v.iter().map(Val::to_json).collect()),
            Val::Point { lat, lon } => json!({ "lat": lat, "lon": lon }),
        }
    }

    /// Short human form for reasons.
    pub fn describe(&self) -> String {
        match self {
            Val::Text(s) => format!("{s:?}"),
            other => other.to_json().to_string(),
        }
    }
}

/// Reads `xsd:dateTime` (with or without zone; without means UTC) or `xsd:date` (midnight UTC).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let naive = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(t) = PrimitiveDateTime::parse(s, naive) {
        return Some(t.assume_utc());
    }
    if let Some((d, offset)) = date_with_offset(s) {
        return Some(d.midnight().assume_offset(offset));
    }
    let date = s.strip_suffix('Z').unwrap_or(s);
    Date::parse(date, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// An `xsd:date` with a time zone offset (`2027-12-31+05:00`), which names that day at that offset.
pub fn date_with_offset(s: &str) -> Option<(Date, time::UtcOffset)> {
    let s = s.trim();
    if s.len() != 16 {
        return None;
    }
    let (date, offset) = s.split_at(10);
    let d = Date::parse(date, format_description!("[year]-[month]-[day]")).ok()?;
    let o = time::UtcOffset::parse(
        offset,
        format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
    )
    .ok()?;
    Some((d, o))
}

/// Reads an `xsd:duration` into seconds. Years count 365 days and months 30 days: ODRL durations are
/// usage periods, and an exact calendar anchor is not part of the constraint.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let rest = rest.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut in_time = false;
    let mut number = String::new();
    let mut saw_component = false;
    let mut saw_time_component = false;
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' => number.push(c),
            unit => {
                let n: f64 = number.parse().ok()?;
                number.clear();
                saw_component = true;
                saw_time_component |= in_time;
                total += n * match (in_time, unit) {
                    (false, 'Y') => 365.0 * 86_400.0,
                    (false, 'M') => 30.0 * 86_400.0,
                    (false, 'W') => 7.0 * 86_400.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return None,
                };
            }
        }
    }
    // "P30DT" is not a duration: a `T` must be followed by hours, minutes or seconds.
    if !number.is_empty() || !saw_component || (in_time && !saw_time_component) {
        return None;
    }
    Some(if negative { -total } else { total })
}

/// Seconds back to an `xsd:duration` (days, hours, minutes, seconds).
pub fn format_duration(seconds: f64) -> String {
    let sign = if seconds < 0.0 { "-" } else { "" };
    let mut s = seconds.abs();
    let days = (s / 86_400.0).floor();
    s -= days * 86_400.0;
    let hours = (s / 3_600.0).floor();
    s -= hours * 3_600.0;
    let minutes = (s / 60.0).floor();
    s -= minutes * 60.0;
    let mut out = format!("{sign}P");
    if days > 0.0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0.0 || minutes > 0.0 || s > 0.0 || days == 0.0 {
        out.push('T');
        if hours > 0.0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0.0 {
            out.push_str(&format!("{minutes}M"));
        }
        if s > 0.0 || (hours == 0.0 && minutes == 0.0) {
            let secs = (s * 1000.0).round() / 1000.0;
            out.push_str(&format!("{secs}S"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xsd_forms() {
        assert!(parse_time("2024-02-12T11:20:10.999Z").is_some());
        assert!(parse_time("2025-08-03T00:00:00").is_some());
        assert_eq!(parse_time("2018-01-01"), parse_time("2018-01-01T00:00:00Z"));
        assert!(parse_time("yesterday").is_none());
        assert_eq!(parse_duration("P30D"), Some(30.0 * 86_400.0));
        assert_eq!(parse_duration("PT1H30M"), Some(5_400.0));
        assert_eq!(parse_duration("P1Y"), Some(365.0 * 86_400.0));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("P1X"), None);
        assert_eq!(parse_duration("30D"), None);
        assert_eq!(parse_duration("P30DT"), None);
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(
            parse_time("2027-12-31+05:00"),
            parse_time("2027-12-30T19:00:00Z")
        );
        assert_eq!(format_duration(90_000.0), "P1DT1H");
        assert_eq!(parse_duration(&format_duration(90_061.0)), Some(90_061.0));
    }
}
