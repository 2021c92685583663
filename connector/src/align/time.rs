//! Time: is the data as fine as the model needs (resolution), and does it cover the period the model needs
//! (window)? Resolutions are ISO 8601 durations read by jiff's strict parser. Weeks, days and shorter units are
//! fixed lengths (a day is 86 400 s: data are compared in UTC); months and years are calendar units whose length
//! varies, so they are compared with each other exactly and with fixed lengths only where the answer does not
//! depend on which month it is.

use serde_json::{json, Map, Value};
use thiserror::Error;
use time::OffsetDateTime;

use super::report::{percent, Dimension, Finding, Verdict};
use super::{Have, Need, Window};

const SECOND: i128 = 1_000_000_000;
const DAY: i128 = 86_400 * SECOND;

/// Why a resolution was not read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    #[error("no resolution given (an empty string)")]
    Empty,
    #[error("{text:?} is not an ISO 8601 duration such as PT15M, PT1H, P1D or P1M ({detail})")]
    NotIso8601 { text: String, detail: String },
    #[error("{text:?} is not a positive duration")]
    NotPositive { text: String },
}

/// A time resolution: calendar months plus a fixed length, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    text: String,
    months: i64,
    nanos: i128,
}

impl Resolution {
    /// Reads an ISO 8601 duration (`PT15M`, `PT1H`, `P1D`, `P1W`, `P1M`, `P1Y`, `P1DT12H`); refuses anything else,
    /// zero and negative durations, and durations beyond jiff's range (about 20 000 years).
    pub fn parse(s: &str) -> Result<Resolution, TimeError> {
        let text = s.trim();
        if text.is_empty() {
            return Err(TimeError::Empty);
        }
        let span = jiff::fmt::temporal::SpanParser::new()
            .parse_span(text)
            .map_err(|e| TimeError::NotIso8601 {
                text: text.to_string(),
                detail: e.to_string(),
            })?;
        if span.signum() <= 0 {
            return Err(TimeError::NotPositive {
                text: text.to_string(),
            });
        }
        let months = i64::from(span.get_years()) * 12 + i64::from(span.get_months());
        let nanos = i128::from(span.get_weeks()) * 7 * DAY
            + i128::from(span.get_days()) * DAY
            + i128::from(span.get_hours()) * 3600 * SECOND
            + i128::from(span.get_minutes()) * 60 * SECOND
            + i128::from(span.get_seconds()) * SECOND
            + i128::from(span.get_milliseconds()) * 1_000_000
            + i128::from(span.get_microseconds()) * 1_000
            + i128::from(span.get_nanoseconds());
        Ok(Resolution {
            text: text.to_string(),
            months,
            nanos,
        })
    }

    /// The duration as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the length depends on the calendar (it has months or years).
    pub fn is_calendar(&self) -> bool {
        self.months != 0
    }

    /// The fixed length in seconds; `None` for a calendar duration.
    pub fn seconds(&self) -> Option<f64> {
        (!self.is_calendar()).then(|| self.nanos as f64 / SECOND as f64)
    }
}

/// How data at one resolution relate to the resolution a model needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    Equal,
    /// Finer, and `factor` data steps make one needed step.
    Aggregate {
        factor: i128,
    },
    /// Finer by a whole number of steps per step needed, but not the same number each time (days into months).
    AggregateCalendar,
    /// Finer, but steps do not fit whole into the needed ones.
    Resample,
    Coarser,
    /// Cannot be told without knowing the month; the reason says why.
    Undecided(String),
}

/// Compares the data's resolution with the need's.
pub fn relation(need: &Resolution, data: &Resolution) -> Relation {
    let mixed = |r: &Resolution| r.months != 0 && r.nanos != 0;
    if mixed(need) || mixed(data) {
        let r = if mixed(need) { need } else { data };
        return Relation::Undecided(format!(
            "{} mixes calendar months with a fixed length, which has no fixed size",
            r.text
        ));
    }
    match (need.is_calendar(), data.is_calendar()) {
        (false, false) => steps(need.nanos, data.nanos),
        (true, true) => steps(i128::from(need.months), i128::from(data.months)),
        (true, false) => {
            // The needed k months last from about 28·k to 31·k days.
            let k = i128::from(need.months);
            if data.nanos < 28 * k * DAY {
                if data.nanos <= DAY && DAY % data.nanos == 0 {
                    Relation::AggregateCalendar
                } else {
                    Relation::Resample
                }
            } else if data.nanos > 31 * k * DAY {
                Relation::Coarser
            } else {
                Relation::Undecided(format!(
                    "{} is as long as some spans of {} and not others, as months vary from 28 to 31 days",
                    data.text, need.text
                ))
            }
        }
        (false, true) => {
            let k = i128::from(data.months);
            if need.nanos < 28 * k * DAY {
                Relation::Coarser
            } else if need.nanos > 31 * k * DAY {
                Relation::Resample
            } else {
                Relation::Undecided(format!(
                    "{} is as long as some spans of {} and not others, as months vary from 28 to 31 days",
                    need.text, data.text
                ))
            }
        }
    }
}

fn steps(need: i128, data: i128) -> Relation {
    if data == need {
        Relation::Equal
    } else if data > need {
        Relation::Coarser
    } else if data > 0 && need % data == 0 {
        Relation::Aggregate {
            factor: need / data,
        }
    } else {
        Relation::Resample
    }
}

/// The time finding: worst of the resolution and the window coverage, of those the model states.
pub(super) fn finding(need: &Need, have: &Have) -> Finding {
    let mut parts: Vec<(Verdict, String)> = Vec::new();
    let mut details = Map::new();
    if let Some(needed) = &need.resolution {
        parts.push(resolution_part(
            needed,
            have.resolution.as_deref(),
            &mut details,
        ));
    }
    if let Some(window) = &need.window {
        parts.push(window_part(window, have.window.as_ref(), &mut details));
    }
    if parts.is_empty() {
        // Nothing asked is nothing missed: a static input (a terrain model) fits any time.
        return Finding::new(
            Dimension::Time,
            Verdict::Aligned,
            "The model asks for no time window or resolution for this input.",
            Value::Null,
        );
    }
    let verdict = Verdict::worst(parts.iter().map(|(v, _)| *v));
    let reason = parts
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Vec<_>>()
        .join(" ");
    let details = if details.is_empty() {
        Value::Null
    } else {
        Value::Object(details)
    };
    Finding::new(Dimension::Time, verdict, reason, details)
}

fn resolution_part(
    needed: &str,
    had: Option<&str>,
    details: &mut Map<String, Value>,
) -> (Verdict, String) {
    let need = match Resolution::parse(needed) {
        Ok(r) => r,
        Err(e) => {
            return (
                Verdict::Unknown,
                format!("The model's resolution cannot be read: {e}."),
            )
        }
    };
    let Some(had) = had else {
        return (
            Verdict::Unknown,
            format!(
                "The model needs a value every {}; the dataset does not state its resolution.",
                need.text
            ),
        );
    };
    let data = match Resolution::parse(had) {
        Ok(r) => r,
        Err(e) => {
            return (
                Verdict::Unknown,
                format!("The dataset's resolution cannot be read: {e}."),
            )
        }
    };
    let (n, d) = (&need.text, &data.text);
    let (verdict, relation, reason) = match relation(&need, &data) {
        Relation::Equal => (
            Verdict::Aligned,
            "equal",
            format!("The dataset has a value every {d}, as the model needs."),
        ),
        Relation::Aggregate { factor } => {
            details.insert("factor".into(), json!(factor));
            (
                Verdict::Convertible,
                "aggregate",
                format!(
                    "The dataset has a value every {d}, the model needs one every {n}: aggregable, {factor} values \
                     to one."
                ),
            )
        }
        Relation::AggregateCalendar => {
            details.insert("factor".into(), Value::Null);
            (
                Verdict::Convertible,
                "aggregate",
                format!(
                    "The dataset has a value every {d}, the model needs one every {n}: aggregable, though not by a \
                     fixed number of values, as months vary from 28 to 31 days."
                ),
            )
        }
        Relation::Resample => (
            Verdict::Convertible,
            "resample",
            format!(
                "The dataset has a value every {d}, finer than the {n} the model needs but not a whole fraction of \
                 it: convertible by resampling."
            ),
        ),
        Relation::Coarser => (
            Verdict::Misaligned,
            "coarser",
            format!("The dataset has a value only every {d}; the model needs one every {n}."),
        ),
        Relation::Undecided(why) => (
            Verdict::Unknown,
            "undecided",
            format!("The dataset's resolution {d} cannot be compared with the model's {n}: {why}."),
        ),
    };
    details.insert("relation".into(), json!(relation));
    (verdict, reason)
}

/// A moment as nanoseconds since 1970, for exact arithmetic.
fn ns(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos()
}

fn window_part(
    need: &Window,
    have: Option<&Window>,
    details: &mut Map<String, Value>,
) -> (Verdict, String) {
    let (ns_, ne) = (need.start.map(ns), need.end.map(ns));
    if ns_.is_none() && ne.is_none() {
        return (
            Verdict::Aligned,
            "The model needs no particular time window.".into(),
        );
    }
    if let (Some(s), Some(e)) = (need.start, need.end) {
        if s > e {
            return (
                Verdict::Unknown,
                format!(
                    "The model's time window ends ({}) before it starts ({}).",
                    shown(e),
                    shown(s)
                ),
            );
        }
    }
    let Some(have) = have else {
        return (
            Verdict::Unknown,
            format!(
                "The model needs {}; the dataset does not state the time it covers.",
                window_words(need)
            ),
        );
    };
    if let (Some(s), Some(e)) = (have.start, have.end) {
        if s > e {
            return (
                Verdict::Unknown,
                format!(
                    "The dataset's time window ends ({}) before it starts ({}).",
                    shown(e),
                    shown(s)
                ),
            );
        }
    }
    // An open end of the dataset covers as far as the need goes.
    let (hs, he) = (have.start.map(ns), have.end.map(ns));
    let starts_late = matches!((ns_, hs), (_, Some(h)) if ns_.is_none_or(|n| h > n));
    let ends_early = matches!((ne, he), (_, Some(h)) if ne.is_none_or(|n| h < n));
    // Disjoint when the dataset ends before the need starts or starts after it ends.
    let disjoint = matches!((he, ns_), (Some(h), Some(n)) if h < n)
        || matches!((hs, ne), (Some(h), Some(n)) if h > n);

    let mut missing: Vec<(Option<OffsetDateTime>, Option<OffsetDateTime>)> = Vec::new();
    if disjoint {
        missing.push((need.start, need.end));
    } else {
        if starts_late {
            missing.push((need.start, have.start));
        }
        if ends_early {
            missing.push((have.end, need.end));
        }
    }
    let fraction = match (ns_, ne) {
        (Some(s), Some(e)) if e > s => {
            let from = hs.map_or(s, |h| h.max(s));
            let to = he.map_or(e, |h| h.min(e));
            Some(((to - from).max(0) as f64 / (e - s) as f64).clamp(0.0, 1.0))
        }
        (Some(_), Some(_)) => Some(if missing.is_empty() { 1.0 } else { 0.0 }),
        _ => None,
    };
    if let Some(f) = fraction {
        details.insert("coverage".into(), json!(f));
    }
    if missing.is_empty() {
        return (
            Verdict::Aligned,
            format!(
                "The dataset covers {}, all the model needs.",
                window_words(need)
            ),
        );
    }
    details.insert(
        "missing".into(),
        Value::Array(
            missing
                .iter()
                .map(|(s, e)| json!({"start": s.and_then(rfc3339), "end": e.and_then(rfc3339)}))
                .collect(),
        ),
    );
    let gaps = missing
        .iter()
        .map(|(s, e)| gap_words(*s, *e))
        .collect::<Vec<_>>()
        .join(" and ");
    let reason = if disjoint {
        format!(
            "The dataset's time ({}) does not overlap {}, which the model needs.",
            window_words(have),
            window_words(need)
        )
    } else {
        match fraction {
            Some(f) => format!(
                "The dataset covers {} of the time the model needs ({}): missing {gaps}.",
                percent(f),
                window_words(need)
            ),
            None => format!(
                "The dataset does not cover all the model needs ({}): missing {gaps}.",
                window_words(need)
            ),
        }
    };
    (Verdict::Misaligned, reason)
}

fn window_words(w: &Window) -> String {
    match (w.start, w.end) {
        (Some(s), Some(e)) => format!("{} to {}", shown(s), shown(e)),
        (Some(s), None) => format!("from {} on", shown(s)),
        (None, Some(e)) => format!("up to {}", shown(e)),
        (None, None) => "all time".into(),
    }
}

fn gap_words(s: Option<OffsetDateTime>, e: Option<OffsetDateTime>) -> String {
    match (s, e) {
        (Some(s), Some(e)) => format!("{} to {}", shown(s), shown(e)),
        (Some(s), None) => format!("everything after {}", shown(s)),
        (None, Some(e)) => format!("everything before {}", shown(e)),
        (None, None) => "all of it".into(),
    }
}

/// A date, with the time of day only when it is not midnight, and the offset only when it is not UTC.
fn shown(t: OffsetDateTime) -> String {
    let date = format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
    let (h, m, s) = (t.hour(), t.minute(), t.second());
    let mut out = if (h, m, s, t.nanosecond()) == (0, 0, 0, 0) {
        date
    } else {
        format!("{date} {h:02}:{m:02}:{s:02}")
    };
    if !t.offset().is_utc() {
        let (oh, om, _) = t.offset().as_hms();
        out.push_str(&format!(
            " {}{:02}:{:02}",
            if t.offset().is_negative() { '-' } else { '+' },
            oh.unsigned_abs(),
            om.unsigned_abs()
        ));
    } else if out.len() > 10 {
        out.push_str(" UTC");
    }
    out
}

fn rfc3339(t: OffsetDateTime) -> Option<String> {
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn res(s: &str) -> Resolution {
        Resolution::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn rel(need: &str, data: &str) -> Relation {
        relation(&res(need), &res(data))
    }

    #[test]
    fn parse_reads_iso8601_durations() {
        for (s, secs) in [
            ("PT15M", Some(900.0)),
            ("PT1H", Some(3600.0)),
            ("P1D", Some(86400.0)),
            ("P1W", Some(604800.0)),
            ("PT1.5H", Some(5400.0)),
            ("P1DT12H", Some(129600.0)),
            ("P1M", None),
            ("P1Y", None),
        ] {
            assert_eq!(res(s).seconds(), secs, "{s}");
        }
        assert!(res("P1Y").is_calendar());
        assert_eq!(res(" PT1H ").as_str(), "PT1H");
    }

    #[test]
    fn parse_refuses_negative_zero_garbage_and_absurd_durations() {
        assert_eq!(Resolution::parse(""), Err(TimeError::Empty));
        assert_eq!(Resolution::parse("  "), Err(TimeError::Empty));
        for zero in ["PT0S", "P0D"] {
            assert!(
                matches!(Resolution::parse(zero), Err(TimeError::NotPositive { .. })),
                "{zero}"
            );
        }
        assert!(matches!(
            Resolution::parse("-P1D"),
            Err(TimeError::NotPositive { .. })
        ));
        for bad in [
            "P",
            "PT",
            "1 hour",
            "hourly",
            "P1DT",
            "P99999999999Y",
            "PT99999999999H",
            "\u{0}",
            "P1H",
        ] {
            assert!(
                matches!(Resolution::parse(bad), Err(TimeError::NotIso8601 { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn equal_resolutions_are_equal() {
        assert_eq!(rel("PT1H", "PT60M"), Relation::Equal);
        assert_eq!(rel("P1Y", "P12M"), Relation::Equal);
        assert_eq!(rel("P1W", "P7D"), Relation::Equal);
    }

    #[test]
    fn finer_data_dividing_the_need_aggregate() {
        assert_eq!(rel("PT1H", "PT15M"), Relation::Aggregate { factor: 4 });
        assert_eq!(rel("P1D", "PT1H"), Relation::Aggregate { factor: 24 });
        assert_eq!(rel("P1Y", "P1M"), Relation::Aggregate { factor: 12 });
    }

    #[test]
    fn finer_data_not_dividing_the_need_resample() {
        assert_eq!(rel("PT1H", "PT25M"), Relation::Resample);
        assert_eq!(rel("P1Y", "P5M"), Relation::Resample);
    }

    #[test]
    fn coarser_data_is_coarser() {
        assert_eq!(rel("PT1H", "P1D"), Relation::Coarser);
        assert_eq!(rel("P1M", "P1Y"), Relation::Coarser);
    }

    #[test]
    fn calendar_and_fixed_are_compared_only_where_every_month_agrees() {
        assert_eq!(rel("P1M", "P1D"), Relation::AggregateCalendar);
        assert_eq!(rel("P1M", "PT1H"), Relation::AggregateCalendar);
        assert_eq!(rel("P1M", "P1W"), Relation::Resample);
        assert_eq!(rel("P1M", "P40D"), Relation::Coarser);
        assert_eq!(rel("PT1H", "P1M"), Relation::Coarser);
        assert_eq!(rel("P100D", "P1M"), Relation::Resample);
        assert!(matches!(rel("P1M", "P30D"), Relation::Undecided(_)));
        assert!(matches!(rel("P30D", "P1M"), Relation::Undecided(_)));
        assert!(matches!(rel("P1M1D", "P1D"), Relation::Undecided(_)));
    }

    fn need(resolution: Option<&str>, window: Option<Window>) -> Need {
        Need {
            resolution: resolution.map(str::to_string),
            window,
            ..Default::default()
        }
    }

    fn have(resolution: Option<&str>, window: Option<Window>) -> Have {
        Have {
            resolution: resolution.map(str::to_string),
            window,
            ..Default::default()
        }
    }

    fn w(start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) -> Window {
        Window { start, end }
    }

    #[test]
    fn time_resolution_findings() {
        let f = finding(&need(Some("PT1H"), None), &have(Some("PT15M"), None));
        assert_eq!(f.verdict, Verdict::Convertible);
        assert_eq!(f.details["relation"], "aggregate");
        assert_eq!(f.details["factor"], 4);
        let f = finding(&need(Some("PT1H"), None), &have(Some("P1D"), None));
        assert_eq!(f.verdict, Verdict::Misaligned, "{f:?}");
        assert!(
            f.reason.contains("P1D") && f.reason.contains("PT1H"),
            "{}",
            f.reason
        );
        let f = finding(&need(Some("PT1H"), None), &have(Some("PT1H"), None));
        assert_eq!(f.verdict, Verdict::Aligned);
        let f = finding(&need(Some("PT1H"), None), &have(Some("PT25M"), None));
        assert_eq!(
            (f.verdict, f.details["relation"].as_str()),
            (Verdict::Convertible, Some("resample"))
        );
        let f = finding(&need(Some("PT1H"), None), &have(None, None));
        assert_eq!(f.verdict, Verdict::Unknown);
        let f = finding(&need(Some("hourly"), None), &have(Some("PT1H"), None));
        assert_eq!(f.verdict, Verdict::Unknown);
        let f = finding(&need(None, None), &have(Some("PT1H"), None));
        assert_eq!(f.verdict, Verdict::Aligned, "nothing asked, nothing missed");
    }

    #[test]
    fn time_window_partly_covered_is_misaligned_naming_the_missing_dates() {
        let n = w(
            Some(datetime!(2024-01-01 0:00 UTC)),
            Some(datetime!(2025-01-01 0:00 UTC)),
        );
        let h = w(Some(datetime!(2024-04-01 0:00 UTC)), None);
        let f = finding(&need(None, Some(n)), &have(None, Some(h)));
        assert_eq!(f.verdict, Verdict::Misaligned, "{f:?}");
        let cov = f.details["coverage"].as_f64().unwrap();
        assert!((cov - 275.0 / 366.0).abs() < 1e-12, "{cov}");
        assert!(
            f.reason.contains("75 %") && f.reason.contains("2024-01-01 to 2024-04-01"),
            "{}",
            f.reason
        );
        assert_eq!(f.details["missing"][0]["start"], "2024-01-01T00:00:00Z");
        assert_eq!(f.details["missing"][0]["end"], "2024-04-01T00:00:00Z");
    }

    #[test]
    fn time_window_fully_covered_or_open_is_aligned() {
        let n = w(
            Some(datetime!(2024-01-01 0:00 UTC)),
            Some(datetime!(2024-02-01 0:00 UTC)),
        );
        let f = finding(
            &need(None, Some(n.clone())),
            &have(None, Some(w(None, None))),
        );
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");
        assert_eq!(f.details["coverage"], 1.0);
        let h = w(
            Some(datetime!(2023-01-01 0:00 UTC)),
            Some(datetime!(2024-06-01 0:00 UTC)),
        );
        assert_eq!(
            finding(&need(None, Some(n)), &have(None, Some(h))).verdict,
            Verdict::Aligned
        );
        // A model that needs no particular window is covered by anything.
        let f = finding(&need(None, Some(w(None, None))), &have(None, None));
        assert_eq!(f.verdict, Verdict::Aligned);
    }

    #[test]
    fn time_window_disjoint_is_misaligned() {
        let n = w(
            Some(datetime!(2024-01-01 0:00 UTC)),
            Some(datetime!(2024-02-01 0:00 UTC)),
        );
        let h = w(
            Some(datetime!(2020-01-01 0:00 UTC)),
            Some(datetime!(2021-01-01 0:00 UTC)),
        );
        let f = finding(&need(None, Some(n)), &have(None, Some(h)));
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert_eq!(f.details["coverage"], 0.0);
        assert!(f.reason.contains("does not overlap"), "{}", f.reason);
    }

    #[test]
    fn time_window_open_need_end() {
        let n = w(Some(datetime!(2024-01-01 0:00 UTC)), None);
        let ongoing = w(Some(datetime!(2023-01-01 0:00 UTC)), None);
        assert_eq!(
            finding(&need(None, Some(n.clone())), &have(None, Some(ongoing))).verdict,
            Verdict::Aligned
        );
        let ended = w(
            Some(datetime!(2023-01-01 0:00 UTC)),
            Some(datetime!(2024-06-01 0:00 UTC)),
        );
        let f = finding(&need(None, Some(n)), &have(None, Some(ended)));
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert!(
            f.reason.contains("everything after 2024-06-01"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn time_window_missing_or_reversed_is_unknown() {
        let n = w(
            Some(datetime!(2024-01-01 0:00 UTC)),
            Some(datetime!(2024-02-01 0:00 UTC)),
        );
        assert_eq!(
            finding(&need(None, Some(n.clone())), &have(None, None)).verdict,
            Verdict::Unknown
        );
        let reversed = w(
            Some(datetime!(2024-02-01 0:00 UTC)),
            Some(datetime!(2024-01-01 0:00 UTC)),
        );
        assert_eq!(
            finding(
                &need(None, Some(reversed.clone())),
                &have(None, Some(n.clone()))
            )
            .verdict,
            Verdict::Unknown
        );
        assert_eq!(
            finding(&need(None, Some(n)), &have(None, Some(reversed))).verdict,
            Verdict::Unknown
        );
    }

    #[test]
    fn time_verdict_is_the_worst_of_resolution_and_window() {
        let n = w(
            Some(datetime!(2024-01-01 0:00 UTC)),
            Some(datetime!(2024-02-01 0:00 UTC)),
        );
        let f = finding(
            &need(Some("PT1H"), Some(n.clone())),
            &have(Some("PT15M"), Some(n)),
        );
        assert_eq!(f.verdict, Verdict::Convertible);
        assert_eq!(f.details["coverage"], 1.0);
        assert_eq!(f.details["factor"], 4);
    }

    #[test]
    fn instants_and_extreme_dates_do_not_panic() {
        let t = datetime!(2024-01-01 12:30 +02:00);
        let f = finding(
            &need(None, Some(w(Some(t), Some(t)))),
            &have(None, Some(w(Some(t), None))),
        );
        assert_eq!(f.verdict, Verdict::Aligned);
        let lo = datetime!(-9999-01-01 0:00 UTC);
        let hi = datetime!(9999-12-31 23:59:59.999999999 UTC);
        let f = finding(
            &need(None, Some(w(Some(lo), Some(hi)))),
            &have(None, Some(w(Some(t), None))),
        );
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert!(f.reason.contains("-9999-01-01"), "{}", f.reason);
        assert_eq!(shown(t), "2024-01-01 12:30:00 +02:00");
    }
}
