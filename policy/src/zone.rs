//! The policy time zone: how the engine turns the times written in a policy into instants, and instants into the
//! local date, weekday and wall-clock time a city's legal team means ("until 31 December 2027", "on Saturdays",
//! "office hours from 08:00") in the policy's IANA zone (e.g. `Europe/Amsterdam`).
//!
//! Zones come only from the IANA database bundled into the binary with `jiff` (`TimeZoneDatabase::bundled()`), never
//! from `/usr/share/zoneinfo` or `TZ`/`TZDIR`: the crate stays pure (no I/O), and the same policy yields the same
//! decision on every machine, whatever tzdata release the host happens to have installed. The rest of the crate
//! speaks the `time` crate; conversions at this boundary go through unix timestamps (seconds and nanoseconds) and
//! numeric fields, never through strings.

use jiff::civil::DateTime as CivilDateTime;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::Timestamp;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// Largest Damerau-Levenshtein distance (case-insensitive) at which an unknown zone name gets a "did you mean".
const SUGGESTION_DISTANCE: usize = 2;

/// A validated policy time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyZone {
    tz: TimeZone,
    name: String,
}

impl Default for PolicyZone {
    fn default() -> Self {
        PolicyZone::utc()
    }
}

/// The bundled IANA database. Deliberately not `jiff::tz::db()`: with other jiff features enabled somewhere in the
/// build (feature unification), that global one prefers the host's `/usr/share/zoneinfo`.
fn bundled_db() -> TimeZoneDatabase {
    TimeZoneDatabase::bundled()
}

impl PolicyZone {
    /// Coordinated Universal Time, the default when neither the policy nor the connector's config names a zone.
    pub fn utc() -> PolicyZone {
        PolicyZone {
            tz: TimeZone::UTC,
            name: "UTC".to_owned(),
        }
    }

    /// An IANA zone name from the bundled database ("Europe/Amsterdam", "UTC", "Etc/UTC").
    ///
    /// The lookup ignores ASCII case, and the zone keeps the database's spelling (`europe/amsterdam` →
    /// `Europe/Amsterdam`). An unknown name is an error such as
    /// `unknown time zone "Europe/Amsterdan" (did you mean "Europe/Amsterdam"?)`; the suggestion is the bundled name
    /// closest by Damerau-Levenshtein distance (case-insensitive), offered only within distance 2 and when less than
    /// half of the longer name changes (so "" or "XY" get no "GB"/"NZ" suggestion). `Etc/Unknown` (jiff's
    /// placeholder for "no zone") is rejected as unknown.
    pub fn named(name: &str) -> Result<PolicyZone, String> {
        let db = bundled_db();
        let found = if name.is_empty() {
            None
        } else {
            db.get(name).ok().filter(|tz| !tz.is_unknown())
        };
        match found {
            Some(tz) => {
                let canonical = db
                    .available()
                    .find(|candidate| candidate.as_str().eq_ignore_ascii_case(name))
                    .map(|candidate| candidate.as_str().to_owned())
                    .or_else(|| tz.iana_name().map(str::to_owned))
                    .unwrap_or_else(|| name.to_owned());
                Ok(PolicyZone {
                    tz,
                    name: canonical,
                })
            }
            None => Err(match suggest(&db, name) {
                Some(suggestion) => {
                    format!("unknown time zone {name:?} (did you mean {suggestion:?}?)")
                }
                None => format!("unknown time zone {name:?}"),
            }),
        }
    }

    /// The IANA name ("UTC" for [`PolicyZone::utc`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How explain says it: "Amsterdam time" for `Europe/Amsterdam` (the last path segment, underscores as spaces:
    /// `America/New_York` → "New York time"), "UTC" for `UTC`/`Etc/UTC` (and their aliases), "GMT" for `GMT`, and
    /// the plain offset for the fixed `Etc/GMT±N` zones, whose POSIX-style sign is inverted (`Etc/GMT+5` → "UTC-05:00").
    pub fn describe(&self) -> String {
        let last = self.name.rsplit('/').next().unwrap_or(&self.name);
        let is_any = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(last));
        if is_any(&["UTC", "UCT", "Universal", "Zulu"]) {
            return "UTC".to_owned();
        }
        if is_any(&["GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich"]) {
            return "GMT".to_owned();
        }
        let upper = last.to_ascii_uppercase();
        if upper.starts_with("GMT+") || upper.starts_with("GMT-") {
            let seconds = self.tz.to_offset(Timestamp::UNIX_EPOCH).seconds();
            return format!("UTC{}", format_offset(seconds));
        }
        format!("{} time", last.replace('_', " "))
    }

    /// Local wall-clock date-time of an instant. (Falls back to the UTC wall clock for instants outside jiff's range,
    /// i.e. within a day or so of the years -9999 and 9999.)
    pub fn local(&self, t: OffsetDateTime) -> PrimitiveDateTime {
        let local = to_jiff(t)
            .and_then(|ts| utc_offset(self.tz.to_offset(ts).seconds()))
            .and_then(|offset| t.checked_to_offset(offset))
            .or_else(|| t.checked_to_offset(UtcOffset::UTC))
            .unwrap_or(t);
        PrimitiveDateTime::new(local.date(), local.time())
    }

    /// Local weekday of an instant (Friday 23:30 UTC is already Saturday in Amsterdam).
    pub fn weekday(&self, t: OffsetDateTime) -> Weekday {
        self.local(t).weekday()
    }

    /// Local wall-clock time of day of an instant.
    pub fn time_of_day(&self, t: OffsetDateTime) -> Time {
        self.local(t).time()
    }

    /// The instant of a local wall-clock date-time.
    ///
    /// Wall-clock times that do not map to exactly one instant are resolved like jiff's "compatible" disambiguation
    /// (the RFC 5545 / Temporal default):
    /// - in a DST *gap* (2026-03-29T02:30 does not exist in Amsterdam), the offset in force before the gap is applied,
    ///   which lands the same distance *after* the gap: 03:30 CEST = 01:30Z. A deadline written in a gap thus moves
    ///   forward by the gap's length, never backward;
    /// - in a *fold* (2026-10-25T02:30 happens twice in Amsterdam), the *earlier* instant is taken: 02:30 CEST = 00:30Z.
    ///
    /// The result carries the zone's offset in force at that instant (ordering and equality of `OffsetDateTime` are
    /// by instant, so this affects display only). Should the conversion fail (only near the ends of the supported
    /// range), the wall-clock time is read as UTC.
    pub fn instant(&self, local: PrimitiveDateTime) -> OffsetDateTime {
        to_civil(local)
            .and_then(|dt| self.tz.to_ambiguous_timestamp(dt).compatible().ok())
            .and_then(|ts| self.at(ts))
            .unwrap_or_else(|| local.assume_utc())
    }

    /// First instant of a local day: normally 00:00 local (the earlier 00:00 should midnight fall in a fold); if
    /// midnight falls in a DST gap (e.g. `America/Santiago` on the day DST starts), the first instant that exists
    /// on that day, i.e. the transition that skipped midnight.
    pub fn day_start(&self, day: Date) -> OffsetDateTime {
        let midnight = PrimitiveDateTime::new(day, Time::MIDNIGHT);
        let Some(dt) = to_civil(midnight) else {
            return midnight.assume_utc();
        };
        let ambiguous = self.tz.to_ambiguous_timestamp(dt);
        let start = match ambiguous.offset() {
            AmbiguousOffset::Gap { before, after } => {
                // Midnight with the offset after the gap is an instant shortly before the transition, midnight with
                // the offset before the gap one at or after it; the day begins exactly at the transition.
                let (lower, upper) = (after.to_timestamp(dt).ok(), before.to_timestamp(dt).ok());
                lower
                    .and_then(|lower| self.tz.following(lower).next())
                    .map(|transition| transition.timestamp())
                    .filter(|t| Some(*t) > lower && upper.is_some_and(|upper| *t <= upper))
                    .or(upper)
            }
            _ => ambiguous.compatible().ok(),
        };
        start
            .and_then(|ts| self.at(ts))
            .unwrap_or_else(|| midnight.assume_utc())
    }

    /// First instant of the next local day: the exclusive end of `day` (so a date-only `lteq` bound means `< day_end`).
    /// A local day is usually 24 hours long, but 23 or 25 hours on DST transition days.
    pub fn day_end(&self, day: Date) -> OffsetDateTime {
        match day.next_day() {
            Some(next) => self.day_start(next),
            None => PrimitiveDateTime::MAX.assume_utc(),
        }
    }

    /// The UTC offset in force at an instant, e.g. "+01:00" / "+02:00" (for reports); seconds are shown only when
    /// not zero (historical local mean time, e.g. "+00:19:32").
    pub fn offset_at(&self, t: OffsetDateTime) -> String {
        let seconds = to_jiff(t).map_or(0, |ts| self.tz.to_offset(ts).seconds());
        format_offset(seconds)
    }

    /// An instant as `OffsetDateTime`, carrying this zone's offset at that instant.
    fn at(&self, ts: Timestamp) -> Option<OffsetDateTime> {
        let utc = OffsetDateTime::from_unix_timestamp_nanos(ts.as_nanosecond()).ok()?;
        let local =
            utc_offset(self.tz.to_offset(ts).seconds()).and_then(|o| utc.checked_to_offset(o));
        Some(local.unwrap_or(utc))
    }
}

/// Reads a time of day written in a policy: "08:00", "17:30", "17:30:15" (24-hour; the hour may omit its leading
/// zero: "8:00"). `None` for anything else ("25:00", "24:00", "8am", "8:0", "17:30:15.5", " 08:00", "").
pub fn parse_time_of_day(s: &str) -> Option<Time> {
    fn number(part: &str, min_len: usize, max: u8) -> Option<u8> {
        if part.len() < min_len || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse::<u8>().ok().filter(|n| *n <= max)
    }
    let mut parts = s.split(':');
    let hour = number(parts.next()?, 1, 23)?;
    let minute = number(parts.next()?, 2, 59)?;
    let second = match parts.next() {
        Some(part) => number(part, 2, 59)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Time::from_hms(hour, minute, second).ok()
}

/// The closest bundled zone name within [`SUGGESTION_DISTANCE`], compared case-insensitively (ties: the first in
/// the database's order).
fn suggest(db: &TimeZoneDatabase, name: &str) -> Option<String> {
    let wanted = name.to_lowercase();
    let wanted_len = wanted.chars().count();
    let mut best: Option<(usize, String)> = None;
    for candidate in db.available() {
        let candidate = candidate.as_str();
        let lower = candidate.to_lowercase();
        let candidate_len = lower.chars().count();
        if candidate_len.abs_diff(wanted_len) > SUGGESTION_DISTANCE {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&wanted, &lower);
        // Short names ("" vs "GB", "XY" vs "NZ") are "close" only by being short: require that less than half of
        // the longer name changes.
        let similar = distance * 2 < wanted_len.max(candidate_len);
        if distance <= SUGGESTION_DISTANCE
            && similar
            && best.as_ref().is_none_or(|(d, _)| distance < *d)
        {
            best = Some((distance, candidate.to_owned()));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// "+01:00", "-03:00", "+00:00"; "+00:19:32" when the offset has seconds.
fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

fn utc_offset(seconds: i32) -> Option<UtcOffset> {
    UtcOffset::from_whole_seconds(seconds).ok()
}

/// `time` instant → jiff instant, through the unix timestamp.
fn to_jiff(t: OffsetDateTime) -> Option<Timestamp> {
    let nanos = i32::try_from(t.nanosecond()).ok()?;
    Timestamp::new(t.unix_timestamp(), nanos).ok()
}

/// `time` wall-clock date-time → jiff civil date-time, field by field.
fn to_civil(local: PrimitiveDateTime) -> Option<CivilDateTime> {
    let nanos = i32::try_from(local.nanosecond()).ok()?;
    CivilDateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(u8::from(local.month())).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        i8::try_from(local.second()).ok()?,
        nanos,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};
    use time::Duration;

    fn amsterdam() -> PolicyZone {
        PolicyZone::named("Europe/Amsterdam").unwrap()
    }

    #[test]
    fn named_exact_and_case_insensitive() {
        let zone = amsterdam();
        assert_eq!(zone.name(), "Europe/Amsterdam");
        let folded = PolicyZone::named("europe/AMSTERDAM").unwrap();
        assert_eq!(folded.name(), "Europe/Amsterdam");
        assert_eq!(folded, zone);
        assert_eq!(
            PolicyZone::named("america/new_york").unwrap().name(),
            "America/New_York"
        );
    }

    #[test]
    fn named_utc_spellings() {
        assert_eq!(PolicyZone::named("UTC").unwrap().name(), "UTC");
        assert_eq!(PolicyZone::named("utc").unwrap().name(), "UTC");
        assert_eq!(PolicyZone::named("UTC").unwrap(), PolicyZone::utc());
        assert_eq!(PolicyZone::named("etc/utc").unwrap().name(), "Etc/UTC");
        assert_eq!(PolicyZone::default(), PolicyZone::utc());
        assert_eq!(PolicyZone::utc().name(), "UTC");
    }

    #[test]
    fn named_typo_suggests() {
        assert_eq!(
            PolicyZone::named("Europe/Amsterdan").unwrap_err(),
            r#"unknown time zone "Europe/Amsterdan" (did you mean "Europe/Amsterdam"?)"#
        );
        // Transposition counts once (Damerau), and case is ignored.
        assert_eq!(
            PolicyZone::named("europe/amstedram").unwrap_err(),
            r#"unknown time zone "europe/amstedram" (did you mean "Europe/Amsterdam"?)"#
        );
        assert_eq!(
            PolicyZone::named("America/NewYork").unwrap_err(),
            r#"unknown time zone "America/NewYork" (did you mean "America/New_York"?)"#
        );
    }

    #[test]
    fn named_garbage_is_rejected_without_suggestion() {
        assert_eq!(
            PolicyZone::named("Mars/Olympus_Mons").unwrap_err(),
            r#"unknown time zone "Mars/Olympus_Mons""#
        );
        assert_eq!(
            PolicyZone::named("").unwrap_err(),
            r#"unknown time zone """#
        );
        assert!(PolicyZone::named("Etc/Unknown").is_err());
        assert_eq!(
            PolicyZone::named("XY").unwrap_err(),
            r#"unknown time zone "XY""#
        );
        assert_eq!(
            PolicyZone::named("UTX").unwrap_err(),
            r#"unknown time zone "UTX" (did you mean "UTC"?)"#
        );
        assert!(PolicyZone::named("+01:00").is_err());
        assert!(PolicyZone::named("../../etc/passwd").is_err());
        assert!(PolicyZone::named("Europe/Amsterdam\u{0}").is_err());
    }

    #[test]
    fn describe() {
        assert_eq!(amsterdam().describe(), "Amsterdam time");
        let ny = PolicyZone::named("America/New_York").unwrap();
        assert_eq!(ny.describe(), "New York time");
        let ba = PolicyZone::named("America/Argentina/Buenos_Aires").unwrap();
        assert_eq!(ba.describe(), "Buenos Aires time");
        assert_eq!(PolicyZone::utc().describe(), "UTC");
        assert_eq!(PolicyZone::named("Etc/UTC").unwrap().describe(), "UTC");
        assert_eq!(
            PolicyZone::named("Etc/GMT+5").unwrap().describe(),
            "UTC-05:00"
        );
    }

    #[test]
    fn weekday_is_local() {
        let zone = amsterdam();
        // Friday 23:30 in UTC is Saturday 00:30 in Amsterdam (CET, +01:00).
        let t = datetime!(2026-12-04 23:30:00 UTC);
        assert_eq!(t.weekday(), Weekday::Friday);
        assert_eq!(zone.weekday(t), Weekday::Saturday);
        assert_eq!(zone.local(t), datetime!(2026-12-05 00:30:00));
        // Saturday 00:30 UTC is Saturday 01:30 local.
        let t = datetime!(2026-12-05 00:30:00 UTC);
        assert_eq!(zone.weekday(t), Weekday::Saturday);
        assert_eq!(zone.time_of_day(t), time!(01:30));
        // Any offset on the input is irrelevant: it is the instant that counts.
        let t = datetime!(2026-12-04 18:30:00 -05:00);
        assert_eq!(zone.weekday(t), Weekday::Saturday);
        assert_eq!(PolicyZone::utc().weekday(t), Weekday::Friday);
    }

    #[test]
    fn time_of_day_across_dst() {
        let zone = amsterdam();
        // Spring forward, 2026-03-29: 02:00 CET → 03:00 CEST.
        assert_eq!(
            zone.time_of_day(datetime!(2026-03-29 00:30:00 UTC)),
            time!(01:30)
        );
        assert_eq!(
            zone.time_of_day(datetime!(2026-03-29 01:30:00 UTC)),
            time!(03:30)
        );
        // Fall back, 2026-10-25: 03:00 CEST → 02:00 CET, so 02:30 happens twice.
        assert_eq!(
            zone.time_of_day(datetime!(2026-10-25 00:30:00 UTC)),
            time!(02:30)
        );
        assert_eq!(
            zone.time_of_day(datetime!(2026-10-25 01:30:00 UTC)),
            time!(02:30)
        );
        // Sub-second precision survives the round trip.
        assert_eq!(
            zone.time_of_day(datetime!(2026-06-01 06:59:59.123456789 UTC)),
            time!(08:59:59.123456789)
        );
    }

    #[test]
    fn instant_in_gap_and_fold() {
        let zone = amsterdam();
        assert_eq!(
            zone.instant(datetime!(2027-12-31 18:00:00)),
            datetime!(2027-12-31 17:00:00 UTC)
        );
        // Gap: 02:30 does not exist; the instant after the gap (03:30 CEST).
        let gap = zone.instant(datetime!(2026-03-29 02:30:00));
        assert_eq!(gap, datetime!(2026-03-29 01:30:00 UTC));
        assert_eq!(zone.time_of_day(gap), time!(03:30));
        // Fold: 02:30 happens twice; the earlier (CEST).
        let fold = zone.instant(datetime!(2026-10-25 02:30:00));
        assert_eq!(fold, datetime!(2026-10-25 00:30:00 UTC));
        assert_eq!(fold.offset(), time::macros::offset!(+2));
        // Round trip outside transitions.
        let t = datetime!(2026-07-14 10:15:30.5 UTC);
        assert_eq!(zone.instant(zone.local(t)), t);
    }

    #[test]
    fn day_bounds() {
        let zone = amsterdam();
        assert_eq!(
            zone.day_start(date!(2027 - 12 - 31)),
            datetime!(2027-12-30 23:00:00 UTC)
        );
        assert_eq!(
            zone.day_end(date!(2027 - 12 - 31)),
            datetime!(2027-12-31 23:00:00 UTC)
        );
        let day = date!(2026 - 03 - 29);
        assert_eq!(zone.day_end(day) - zone.day_start(day), Duration::hours(23));
        let day = date!(2026 - 10 - 25);
        assert_eq!(zone.day_end(day) - zone.day_start(day), Duration::hours(25));
        let day = date!(2026 - 06 - 15);
        assert_eq!(zone.day_end(day) - zone.day_start(day), Duration::hours(24));
        let utc = PolicyZone::utc();
        assert_eq!(
            utc.day_start(date!(2027 - 12 - 31)),
            datetime!(2027-12-31 00:00:00 UTC)
        );
        assert_eq!(
            utc.day_end(date!(2027 - 12 - 31)),
            datetime!(2028-01-01 00:00:00 UTC)
        );
    }

    #[test]
    fn day_start_when_midnight_is_skipped() {
        // Chile starts DST at 24:00 on the first Saturday of September: Sunday 2026-09-06 begins at 01:00 -03.
        let santiago = PolicyZone::named("America/Santiago").unwrap();
        let day = date!(2026 - 09 - 06);
        assert_eq!(santiago.day_start(day), datetime!(2026-09-06 04:00:00 UTC));
        assert_eq!(
            santiago.local(santiago.day_start(day)),
            datetime!(2026-09-06 01:00:00)
        );
        assert_eq!(
            santiago.day_end(day) - santiago.day_start(day),
            Duration::hours(23)
        );
        // The day before ends where it starts.
        assert_eq!(
            santiago.day_end(date!(2026 - 09 - 05)),
            santiago.day_start(day)
        );

        // Samoa skipped 30 December 2011 entirely: the day has no instants at all.
        let apia = PolicyZone::named("Pacific/Apia").unwrap();
        let skipped = date!(2011 - 12 - 30);
        assert_eq!(apia.day_start(skipped), apia.day_end(skipped));
        assert_eq!(apia.day_start(skipped), apia.day_end(date!(2011 - 12 - 29)));
        assert_eq!(
            apia.local(apia.day_start(skipped)),
            datetime!(2011-12-31 00:00:00)
        );
    }

    #[test]
    fn day_start_when_gap_straddles_midnight() {
        // A gap from 23:30 to 00:30 (next day): jiff's "compatible" midnight would be 01:00 local, but the day
        // really begins at 00:30 local, the transition itself.
        let zone = PolicyZone {
            tz: TimeZone::posix("XST-1XDT,M3.5.0/23:30,M10.5.0/3").unwrap(),
            name: "Test/Straddle".to_owned(),
        };
        // 2026-03-29 is the last Sunday of March; the gap opens at 23:30 that day.
        let day = date!(2026 - 03 - 30);
        let start = zone.day_start(day);
        assert_eq!(zone.local(start), datetime!(2026-03-30 00:30:00));
        assert_eq!(start, datetime!(2026-03-29 22:30:00 UTC));
        assert_eq!(zone.day_end(date!(2026 - 03 - 29)), start);
    }

    #[test]
    fn offsets() {
        let zone = amsterdam();
        assert_eq!(zone.offset_at(datetime!(2026-01-15 12:00:00 UTC)), "+01:00");
        assert_eq!(zone.offset_at(datetime!(2026-07-15 12:00:00 UTC)), "+02:00");
        assert_eq!(
            PolicyZone::utc().offset_at(datetime!(2026-07-15 12:00:00 UTC)),
            "+00:00"
        );
        let ny = PolicyZone::named("America/New_York").unwrap();
        assert_eq!(ny.offset_at(datetime!(2026-01-15 12:00:00 UTC)), "-05:00");
        // Dublin Mean Time, before 1916, was -00:25:21.
        let dublin = PolicyZone::named("Europe/Dublin").unwrap();
        assert_eq!(
            dublin.offset_at(datetime!(1910-01-01 12:00:00 UTC)),
            "-00:25:21"
        );
        assert_eq!(format_offset(-(3 * 3600 + 30 * 60)), "-03:30");
    }

    #[test]
    fn extremes_do_not_panic() {
        let zone = PolicyZone::named("Pacific/Kiritimati").unwrap();
        let min = PrimitiveDateTime::MIN.assume_utc();
        let max = PrimitiveDateTime::MAX.assume_utc();
        for t in [min, max] {
            let _ = zone.local(t);
            let _ = zone.weekday(t);
            let _ = zone.time_of_day(t);
            let _ = zone.offset_at(t);
        }
        for local in [PrimitiveDateTime::MIN, PrimitiveDateTime::MAX] {
            let _ = zone.instant(local);
        }
        for day in [Date::MIN, Date::MAX] {
            let _ = zone.day_start(day);
            let _ = zone.day_end(day);
        }
        // Outside jiff's range the UTC wall clock is used.
        assert_eq!(zone.local(max), PrimitiveDateTime::MAX);
    }

    #[test]
    fn time_of_day_parsing() {
        assert_eq!(parse_time_of_day("08:00"), Some(time!(08:00)));
        assert_eq!(parse_time_of_day("8:00"), Some(time!(08:00)));
        assert_eq!(parse_time_of_day("17:30"), Some(time!(17:30)));
        assert_eq!(parse_time_of_day("17:30:15"), Some(time!(17:30:15)));
        assert_eq!(parse_time_of_day("00:00"), Some(Time::MIDNIGHT));
        assert_eq!(parse_time_of_day("23:59:59"), Some(time!(23:59:59)));
        for bad in [
            "",
            "25:00",
            "24:00",
            "8am",
            "8",
            "8:0",
            "08:60",
            "08:00:60",
            "08:00:5",
            "008:00",
            "17:30:15.5",
            " 08:00",
            "08:00 ",
            "08-00",
            "+8:00",
            "08:00:00:00",
            "٠٨:٠٠",
            "08:",
            ":00",
        ] {
            assert_eq!(parse_time_of_day(bad), None, "{bad:?}");
        }
    }
}
