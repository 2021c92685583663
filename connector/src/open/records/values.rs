//! Values as the Records schemas want them: languages (`language.yaml`), contacts (`contact.yaml`), licences (an
//! SPDX id or `other`), GeoJSON polygons for boxes, and times (`time.yaml`: dates, UTC timestamps with `Z`,
//! intervals with `..` for an open end).

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::links::link;
use crate::authority::{Language, Licence};
use crate::catalogue::metadata::{Bbox, ContactPoint};
use crate::catalogue::resource::Temporal;

/// `language.yaml`: the code (RFC 5646; ISO 639-1 is one), and the English name as `alternate` (`name` is the
/// language's own name, which the authority table does not give).
pub fn language(l: &Language) -> Value {
    json!({"code": l.code, "alternate": l.label})
}

/// A vCard-ish contact point as a Records contact.
pub fn contact_point(cp: &ContactPoint) -> Value {
    let mut c = json!({"name": cp.name, "roles": ["pointOfContact"]});
    if let Some(email) = &cp.email {
        c["emails"] = json!([{"value": email}]);
    }
    if let Some(url) = &cp.url {
        c["links"] = json!([link("about", url.clone(), Some("text/html"), None)]);
    }
    c
}

/// `license`: an SPDX id, else `other` (the licence link carries the IRI).
pub fn spdx_or_other(l: &Licence) -> String {
    l.spdx_id().unwrap_or("other").to_string()
}

/// A CRS84 box as a GeoJSON polygon (counter-clockwise, closed).
pub fn polygon(b: Bbox) -> Value {
    let [w, s, e, n] = b;
    json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
}

/// `time` of `time.yaml`: a date or timestamp when start and end are the same, else an interval with `..` for
/// an open end; null without temporal coverage.
pub fn time(t: Option<&Temporal>) -> Value {
    let Some(t) = t else { return Value::Null };
    let start = t.start.as_deref().and_then(date_or_timestamp);
    let end = t.end.as_deref().and_then(date_or_timestamp);
    match (start, end) {
        (None, None) => Value::Null,
        (Some(s), Some(e)) if s == e => match s {
            Instant::Date(d) => json!({"date": d}),
            Instant::Timestamp(ts) => json!({"timestamp": ts}),
        },
        (s, e) => {
            let text = |i: Option<Instant>| i.map_or("..".to_string(), Instant::text);
            json!({"interval": [text(s), text(e)]})
        }
    }
}

#[derive(Debug, PartialEq)]
enum Instant {
    Date(String),
    Timestamp(String),
}

impl Instant {
    fn text(self) -> String {
        match self {
            Instant::Date(s) | Instant::Timestamp(s) => s,
        }
    }
}

fn date_or_timestamp(v: &str) -> Option<Instant> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if time::Date::parse(v, &date_format).is_ok() {
        return Some(Instant::Date(v.to_string()));
    }
    utc_timestamp(v).map(Instant::Timestamp)
}

/// An RFC 3339 date-time in UTC with `Z` (the schema's timestamp pattern allows no offsets).
pub fn utc_timestamp(v: &str) -> Option<String> {
    let t = OffsetDateTime::parse(v, &Rfc3339).ok()?;
    format_utc(t)
}

pub fn format_utc(t: OffsetDateTime) -> Option<String> {
    t.to_offset(UtcOffset::UTC).format(&Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_timestamps_or_intervals_with_open_ends() {
        let t = |s: Option<&str>, e: Option<&str>| {
            time(Some(&Temporal {
                start: s.map(String::from),
                end: e.map(String::from),
            }))
        };
        assert_eq!(
            t(Some("2040-06-01"), Some("2040-06-01")),
            json!({"date": "2040-06-01"})
        );
        assert_eq!(
            t(Some("2023-01-01T01:00:00+01:00"), None),
            json!({"interval": ["2023-01-01T00:00:00Z", ".."]})
        );
        assert_eq!(
            t(Some("2040-06-01"), Some("2040-08-31")),
            json!({"interval": ["2040-06-01", "2040-08-31"]})
        );
        assert_eq!(
            t(None, Some("2025-12-31T23:00:00Z")),
            json!({"interval": ["..", "2025-12-31T23:00:00Z"]})
        );
        assert_eq!(time(None), Value::Null);
    }

    #[test]
    fn licences_are_spdx_ids_or_other() {
        assert_eq!(
            spdx_or_other(&Licence::parse("CC_BY_4_0").unwrap()),
            "CC-BY-4.0"
        );
        assert_eq!(
            spdx_or_other(&Licence::parse("http://spdx.org/licenses/Apache-2.0").unwrap()),
            "Apache-2.0"
        );
        assert_eq!(spdx_or_other(&Licence::parse("OGL_NC").unwrap()), "other");
    }
}
