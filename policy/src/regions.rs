//! The regions a policy may name, and which region lies within which on a given day. A legal team writes
//! `claim:region isPartOf "EU"` meaning the Union as it was on the day of the request, not on the day the policy
//! was written, so group membership is dated here rather than taken as a fixed list. Codes are read strictly: a
//! region read as some other region would silently widen or narrow a permission, so anything unknown is refused
//! with a message saying what was probably meant. Countries and subdivisions come from ISO 3166 (`rust_iso3166`);
//! NUTS codes are refused, because no maintained data set for them exists and they change every few years.

use rust_iso3166::iso3166_2::{self, Subdivision};
use rust_iso3166::CountryCode;
use std::cmp::Reverse;
use time::macros::date;
use time::Date;

/// A state's membership (or a territory's exclusion) from the first day to the last day, both inclusive; no last
/// day while it lasts.
type Span = (&'static str, Date, Option<Date>);

// Treaties of Rome and the treaties of accession (EEC/EC membership counts); the withdrawal agreement for GB.
const EU: &[Span] = &[
    ("BE", date!(1958 - 01 - 01), None),
    ("DE", date!(1958 - 01 - 01), None),
    ("FR", date!(1958 - 01 - 01), None),
    ("IT", date!(1958 - 01 - 01), None),
    ("LU", date!(1958 - 01 - 01), None),
    ("NL", date!(1958 - 01 - 01), None),
    ("DK", date!(1973 - 01 - 01), None),
    ("IE", date!(1973 - 01 - 01), None),
    ("GB", date!(1973 - 01 - 01), Some(date!(2020 - 01 - 31))),
    ("GR", date!(1981 - 01 - 01), None),
    ("ES", date!(1986 - 01 - 01), None),
    ("PT", date!(1986 - 01 - 01), None),
    ("AT", date!(1995 - 01 - 01), None),
    ("FI", date!(1995 - 01 - 01), None),
    ("SE", date!(1995 - 01 - 01), None),
    ("CY", date!(2004 - 05 - 01), None),
    ("CZ", date!(2004 - 05 - 01), None),
    ("EE", date!(2004 - 05 - 01), None),
    ("HU", date!(2004 - 05 - 01), None),
    ("LV", date!(2004 - 05 - 01), None),
    ("LT", date!(2004 - 05 - 01), None),
    ("MT", date!(2004 - 05 - 01), None),
    ("PL", date!(2004 - 05 - 01), None),
    ("SK", date!(2004 - 05 - 01), None),
    ("SI", date!(2004 - 05 - 01), None),
    ("BG", date!(2007 - 01 - 01), None),
    ("RO", date!(2007 - 01 - 01), None),
    ("HR", date!(2013 - 07 - 01), None),
];

// EEA Agreement (in force 1994-01-01) and its enlargement agreements. AT, FI and SE were parties from the start as
// EFTA states and stayed on when they joined the EU; HR only from the provisional application of its agreement.
const EEA: &[Span] = &[
    ("BE", date!(1994 - 01 - 01), None),
    ("DE", date!(1994 - 01 - 01), None),
    ("FR", date!(1994 - 01 - 01), None),
    ("IT", date!(1994 - 01 - 01), None),
    ("LU", date!(1994 - 01 - 01), None),
    ("NL", date!(1994 - 01 - 01), None),
    ("DK", date!(1994 - 01 - 01), None),
    ("IE", date!(1994 - 01 - 01), None),
    ("GB", date!(1994 - 01 - 01), Some(date!(2020 - 01 - 31))),
    ("GR", date!(1994 - 01 - 01), None),
    ("ES", date!(1994 - 01 - 01), None),
    ("PT", date!(1994 - 01 - 01), None),
    ("AT", date!(1994 - 01 - 01), None),
    ("FI", date!(1994 - 01 - 01), None),
    ("SE", date!(1994 - 01 - 01), None),
    ("IS", date!(1994 - 01 - 01), None),
    ("NO", date!(1994 - 01 - 01), None),
    ("LI", date!(1995 - 05 - 01), None),
    ("CY", date!(2004 - 05 - 01), None),
    ("CZ", date!(2004 - 05 - 01), None),
    ("EE", date!(2004 - 05 - 01), None),
    ("HU", date!(2004 - 05 - 01), None),
    ("LV", date!(2004 - 05 - 01), None),
    ("LT", date!(2004 - 05 - 01), None),
    ("MT", date!(2004 - 05 - 01), None),
    ("PL", date!(2004 - 05 - 01), None),
    ("SK", date!(2004 - 05 - 01), None),
    ("SI", date!(2004 - 05 - 01), None),
    ("BG", date!(2007 - 01 - 01), None),
    ("RO", date!(2007 - 01 - 01), None),
    ("HR", date!(2014 - 04 - 12), None),
];

// EFTA Convention (Stockholm 1960, in force 1960-05-03) and the accessions and withdrawals under it.
const EFTA: &[Span] = &[
    ("AT", date!(1960 - 05 - 03), Some(date!(1994 - 12 - 31))),
    ("CH", date!(1960 - 05 - 03), None),
    ("DK", date!(1960 - 05 - 03), Some(date!(1972 - 12 - 31))),
    ("GB", date!(1960 - 05 - 03), Some(date!(1972 - 12 - 31))),
    ("NO", date!(1960 - 05 - 03), None),
    ("PT", date!(1960 - 05 - 03), Some(date!(1985 - 12 - 31))),
    ("SE", date!(1960 - 05 - 03), Some(date!(1994 - 12 - 31))),
    ("IS", date!(1970 - 03 - 01), None),
    ("FI", date!(1986 - 01 - 01), Some(date!(1994 - 12 - 31))),
    ("LI", date!(1991 - 09 - 01), None),
];

// TFEU arts. 349 and 355 with Annex II, and EEA Agreement art. 126 with Protocol 40: parts of member states the
// treaties do not cover, so a subdivision of NL or FR is not always inside the EU or EEA just because its state is.
const OUTSIDE_UNION: &[Span] = &[
    // Mayotte was an overseas territory until it became an outermost region.
    ("FR-976", Date::MIN, Some(date!(2013 - 12 - 31))),
    // Saint-Barthélemy left when it became an overseas country or territory.
    ("FR-BL", date!(2012 - 01 - 01), None),
    ("FR-NC", Date::MIN, None),
    ("FR-PF", Date::MIN, None),
    ("FR-PM", Date::MIN, None),
    ("FR-TF", Date::MIN, None),
    ("FR-WF", Date::MIN, None),
    ("NL-AW", Date::MIN, None),
    ("NL-BQ1", Date::MIN, None),
    ("NL-BQ2", Date::MIN, None),
    ("NL-BQ3", Date::MIN, None),
    ("NL-CW", Date::MIN, None),
    ("NL-SX", Date::MIN, None),
    // Svalbard is outside the EEA Agreement; Norway was never in the EU, so the EU side is moot.
    ("NO-21", Date::MIN, None),
];

// ISO's official names put the qualifier last in brackets ("Netherlands (Kingdom of the)"), which reads badly in a
// report; these names become ambiguous or unfamiliar once the brackets go, so the common English name is spelt out.
const COMMON_NAMES: &[(&str, &str)] = &[
    ("BN", "Brunei"),
    ("CD", "Democratic Republic of the Congo"),
    ("GB", "United Kingdom"),
    ("KP", "North Korea"),
    ("KR", "South Korea"),
    ("LA", "Laos"),
    ("RU", "Russia"),
    ("SY", "Syria"),
    ("US", "United States"),
    ("VG", "British Virgin Islands"),
    ("VI", "United States Virgin Islands"),
    ("VN", "Vietnam"),
];

// The NUTS message should point at a subdivision the reader recognises, not at whatever the data lists first
// (for NL that would be Aruba, which is not even in the EU). Countries missing here fall back to the data's first.
const EXAMPLES: &[(&str, &str)] = &[
    ("AT", "AT-9"),
    ("BE", "BE-BRU"),
    ("BG", "BG-22"),
    ("CH", "CH-BE"),
    ("CY", "CY-01"),
    ("CZ", "CZ-10"),
    ("DE", "DE-BE"),
    ("DK", "DK-84"),
    ("EE", "EE-37"),
    ("ES", "ES-MD"),
    ("FI", "FI-18"),
    ("FR", "FR-IDF"),
    ("GB", "GB-ENG"),
    ("GR", "GR-I"),
    ("HR", "HR-21"),
    ("HU", "HU-BU"),
    ("IE", "IE-D"),
    ("IS", "IS-1"),
    ("IT", "IT-RM"),
    ("LI", "LI-11"),
    ("LT", "LT-VL"),
    ("LU", "LU-LU"),
    ("LV", "LV-RIX"),
    ("MT", "MT-60"),
    ("NL", "NL-UT"),
    ("NO", "NO-03"),
    ("PL", "PL-14"),
    ("PT", "PT-11"),
    ("RO", "RO-B"),
    ("SE", "SE-AB"),
    ("SI", "SI-061"),
    ("SK", "SK-BL"),
];

// EU texts and NUTS spell the United Kingdom and Greece UK and EL; ISO 3166 does not, so they are refused like
// any unknown code (accepting them would let two spellings of one region into stored policies), but the message
// names the ISO code, which no edit distance would find.
const EU_SPELLINGS: &[(&str, &str)] = &[("EL", "GR"), ("UK", "GB")];

/// EU Publications Office country authority: the alpha-3 code follows the prefix.
const AUTHORITY: [&str; 2] = [
    "http://publications.europa.eu/resource/authority/country/",
    "https://publications.europa.eu/resource/authority/country/",
];

/// The longest code accepted once the authority prefix is gone: a subdivision such as `NL-BQ1`. Longer input is
/// not a code, which lets parsing upper-case into a stack buffer instead of a new String.
const MAX_CODE: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Eu,
    Eea,
    Efta,
}

impl Group {
    const ALL: [Group; 3] = [Group::Eu, Group::Eea, Group::Efta];

    fn code(self) -> &'static str {
        match self {
            Group::Eu => "EU",
            Group::Eea => "EEA",
            Group::Efta => "EFTA",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Group::Eu => "the European Union (EU)",
            Group::Eea => "the European Economic Area (EEA)",
            Group::Efta => "the European Free Trade Association (EFTA)",
        }
    }

    fn table(self) -> &'static [Span] {
        match self {
            Group::Eu => EU,
            Group::Eea => EEA,
            Group::Efta => EFTA,
        }
    }

    fn from_code(code: &str) -> Option<Group> {
        Group::ALL
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(code))
    }

    fn has_member(self, alpha2: &str, on: Date) -> bool {
        self.table()
            .iter()
            .any(|&(state, from, until)| state == alpha2 && covers(from, until, on))
    }

    /// EFTA is a trade association of states, not a territory the treaties define, so no exclusions apply to it.
    fn excludes(self, subdivision: &str, on: Date) -> bool {
        self != Group::Efta
            && OUTSIDE_UNION
                .iter()
                .any(|&(code, from, until)| code == subdivision && covers(from, until, on))
    }
}

fn covers(from: Date, until: Option<Date>, on: Date) -> bool {
    from <= on && until.is_none_or(|last| on <= last)
}

#[derive(Clone, Copy, Debug)]
enum Region {
    Country(CountryCode),
    Subdivision(Subdivision),
    Group(Group),
}

impl Region {
    fn code(self) -> &'static str {
        match self {
            Region::Country(c) => c.alpha2,
            Region::Subdivision(s) => s.code,
            Region::Group(g) => g.code(),
        }
    }
}

/// The input trimmed, without the authority prefix, and whether the prefix was there.
fn strip_authority(input: &str) -> (&str, bool) {
    let trimmed = input.trim();
    for prefix in AUTHORITY {
        if trimmed
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        {
            return (&trimmed[prefix.len()..], true);
        }
    }
    (trimmed, false)
}

fn upper_case<'b>(code: &str, buf: &'b mut [u8; MAX_CODE]) -> Option<&'b str> {
    let slot = buf.get_mut(..code.len())?;
    slot.copy_from_slice(code.as_bytes());
    slot.make_ascii_uppercase();
    std::str::from_utf8(slot).ok()
}

/// Reads a region without allocating; `None` for anything that is not one.
fn parse(input: &str) -> Option<Region> {
    let (code, authority) = strip_authority(input);
    let mut buf = [0; MAX_CODE];
    let upper = upper_case(code, &mut buf)?;
    if authority {
        return rust_iso3166::from_alpha3(upper).map(Region::Country);
    }
    if let Some(g) = Group::from_code(upper) {
        return Some(Region::Group(g));
    }
    if upper.contains('-') {
        return iso3166_2::from_code(upper).map(Region::Subdivision);
    }
    match upper.len() {
        2 => rust_iso3166::from_alpha2(upper).map(Region::Country),
        3 => rust_iso3166::from_alpha3(upper).map(Region::Country),
        _ => None,
    }
}

/// The message for input `parse` refused.
fn refusal(input: &str) -> String {
    let shown = input.trim();
    if shown.is_empty() {
        return "empty region code".to_owned();
    }
    let (code, authority) = strip_authority(input);
    let upper = code.to_ascii_uppercase();
    if !authority {
        if let Some(message) = nuts(shown, &upper) {
            return message;
        }
    }
    match suggestion(&upper, authority) {
        Some(meant) => format!("unknown region {shown:?} (did you mean {meant:?}?)"),
        None => format!("unknown region {shown:?}"),
    }
}

/// The NUTS refusal, when `upper` has the shape of a NUTS code: a country's two letters (NUTS spells Greece EL and
/// the United Kingdom UK) followed by one to three letters or digits, and no hyphen.
fn nuts(shown: &str, upper: &str) -> Option<String> {
    let [a, b, rest @ ..] = upper.as_bytes() else {
        return None;
    };
    if !a.is_ascii_uppercase()
        || !b.is_ascii_uppercase()
        || !(1..=3).contains(&rest.len())
        || !rest.iter().all(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let prefix = upper.get(..2)?;
    let country = match EU_SPELLINGS.iter().find(|(eu, _)| *eu == prefix) {
        Some(&(_, iso)) => iso,
        None => rust_iso3166::from_alpha2(prefix)?.alpha2,
    };
    let example = EXAMPLES
        .iter()
        .find(|(c, _)| *c == country)
        .map(|&(_, e)| e)
        .or_else(|| {
            rust_iso3166::from_alpha2(country)?
                .subdivisions()?
                .first()
                .map(|s| s.code)
        });
    let advice = "NUTS is not supported, use ISO 3166-2 codes";
    Some(match example {
        Some(e) => format!("{shown} looks like a NUTS code; {advice} such as {e}"),
        None => format!("{shown} looks like a NUTS code; {advice}"),
    })
}

/// A known code at most one edit (a transposition counts as one) from `upper`. Several are usually that close to
/// a two-letter code, so the nearest wins, then codes of the European groups (this is a European data space),
/// then codes that keep more of the input's beginning (slips are likelier later in a code: NL-UX is NL-UT rather
/// than NL-SX), then the alphabetically first, to keep messages stable.
fn suggestion(upper: &str, authority: bool) -> Option<&'static str> {
    if upper.len() > MAX_CODE {
        return None;
    }
    if authority {
        return closest(upper, rust_iso3166::ALL_ALPHA3.iter().copied());
    }
    if let Some(&(_, iso)) = EU_SPELLINGS.iter().find(|(eu, _)| *eu == upper) {
        return Some(iso);
    }
    if let Some((country, _)) = upper.split_once('-') {
        // A slip after a correct country prefix means that country: CZ-PR must not suggest Cabo Verde's CV-PR.
        let known = rust_iso3166::from_alpha2(country);
        if let Some(subdivisions) = known.as_ref().and_then(|c| c.subdivisions()) {
            return closest(upper, subdivisions.iter().map(|s| s.code));
        }
        let subdivisions = rust_iso3166::ALL
            .iter()
            .filter_map(|c| c.subdivisions())
            .flatten()
            .map(|s| s.code);
        return closest(upper, subdivisions);
    }
    let countries = rust_iso3166::ALL.iter().flat_map(|c| [c.alpha2, c.alpha3]);
    closest(
        upper,
        Group::ALL.map(Group::code).into_iter().chain(countries),
    )
}

fn closest(upper: &str, candidates: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    candidates
        // A length two apart is two edits at least; skipping it spares computing the distance.
        .filter(|c| c.len().abs_diff(upper.len()) <= 1)
        .filter_map(|c| {
            let distance = strsim::osa_distance(upper, c);
            let kept = upper
                .bytes()
                .zip(c.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            (distance <= 1).then(|| (distance, !european(c), Reverse(kept), c))
        })
        .min()
        .map(|(_, _, _, c)| c)
}

/// A group, or a code of a state that has ever belonged to one.
fn european(code: &str) -> bool {
    if Group::from_code(code).is_some() {
        return true;
    }
    let alpha2 = match code.len() {
        3 => rust_iso3166::from_alpha3(code).map(|c| c.alpha2),
        _ => code.get(..2),
    };
    alpha2.is_some_and(|a| {
        Group::ALL
            .iter()
            .any(|g| g.table().iter().any(|&(state, _, _)| state == a))
    })
}

/// A region code in canonical form: "NL", "NL-UT", "EU", "EEA", "EFTA".
pub fn canonical(code: &str) -> Result<String, String> {
    parse(code)
        .map(|r| r.code().to_owned())
        .ok_or_else(|| refusal(code))
}

/// A person-readable name: "Utrecht (NL-UT)", "Netherlands (NL)", "the European Union (EU)",
/// "the European Economic Area (EEA)", "the European Free Trade Association (EFTA)". Unknown codes: the input unchanged.
pub fn label(code: &str) -> String {
    match parse(code) {
        Some(Region::Group(g)) => g.label().to_owned(),
        Some(Region::Country(c)) => format!("{} ({})", short_name(&c), c.alpha2),
        Some(Region::Subdivision(s)) => format!("{} ({})", s.name, s.code),
        None => code.to_owned(),
    }
}

fn short_name(country: &CountryCode) -> &'static str {
    if let Some(&(_, name)) = COMMON_NAMES.iter().find(|(c, _)| *c == country.alpha2) {
        return name;
    }
    country
        .name
        .strip_suffix(')')
        .and_then(|n| n.rsplit_once(" ("))
        .map_or(country.name, |(name, _)| name)
}

/// Whether region `inner` lies within region `outer` on day `on`: equal codes; a subdivision within its country
/// (NL-UT within NL); a country within a group it was a member of on that day (NL within EU); a subdivision within
/// a group through its country (NL-UT within EU), unless the treaties leave that territory out (NL-CW is in NL but
/// not in the EU); a group within itself. A group is never within a country or within another group. Errors (with
/// the `canonical` message) when either code is not a known region.
pub fn within(inner: &str, outer: &str, on: Date) -> Result<bool, String> {
    let inner_region = parse(inner).ok_or_else(|| refusal(inner))?;
    let outer_region = parse(outer).ok_or_else(|| refusal(outer))?;
    if inner_region.code() == outer_region.code() {
        return Ok(true);
    }
    Ok(match (inner_region, outer_region) {
        (Region::Subdivision(s), Region::Country(c)) => s.country_code == c.alpha2,
        (Region::Country(c), Region::Group(g)) => g.has_member(c.alpha2, on),
        (Region::Subdivision(s), Region::Group(g)) => {
            g.has_member(s.country_code, on) && !g.excludes(s.code, on)
        }
        _ => false,
    })
}

/// Members of a group on a day, as alpha-2 codes sorted; None for a code that is not a group.
pub fn members(group: &str, on: Date) -> Option<Vec<&'static str>> {
    let group = Group::from_code(group.trim())?;
    let mut states: Vec<&'static str> = group
        .table()
        .iter()
        .filter(|&&(_, from, until)| covers(from, until, on))
        .map(|&(state, _, _)| state)
        .collect();
    states.sort_unstable();
    Some(states)
}

/// True for EU, EEA, EFTA (any case).
pub fn is_group(code: &str) -> bool {
    Group::from_code(code.trim()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = date!(2026 - 12 - 06);

    fn within_on(inner: &str, outer: &str, on: Date) -> bool {
        within(inner, outer, on).unwrap()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("NL").unwrap(), "NL");
        assert_eq!(canonical(" nl ").unwrap(), "NL");
        assert_eq!(canonical("nld").unwrap(), "NL");
        assert_eq!(canonical("DEU").unwrap(), "DE");
        assert_eq!(canonical("nl-ut").unwrap(), "NL-UT");
        assert_eq!(canonical("NL-BQ1").unwrap(), "NL-BQ1");
        assert_eq!(canonical("eu").unwrap(), "EU");
        assert_eq!(canonical("Eea").unwrap(), "EEA");
        assert_eq!(canonical("efta").unwrap(), "EFTA");
        assert_eq!(
            canonical("http://publications.europa.eu/resource/authority/country/NLD").unwrap(),
            "NL"
        );
        assert_eq!(
            canonical(" https://publications.europa.eu/resource/authority/country/bel ").unwrap(),
            "BE"
        );
    }

    #[test]
    fn authority_iris_take_alpha3_only() {
        let err =
            canonical("http://publications.europa.eu/resource/authority/country/NL").unwrap_err();
        assert_eq!(
            err,
            "unknown region \"http://publications.europa.eu/resource/authority/country/NL\" (did you mean \"NLD\"?)"
        );
        assert!(canonical("http://publications.europa.eu/resource/authority/country/").is_err());
        assert!(canonical("http://example.org/country/NLD").is_err());
    }

    #[test]
    fn unknown_codes_suggest_a_close_one() {
        assert_eq!(
            canonical("NK").unwrap_err(),
            "unknown region \"NK\" (did you mean \"NL\"?)"
        );
        assert_eq!(
            canonical("EFAT").unwrap_err(),
            "unknown region \"EFAT\" (did you mean \"EFTA\"?)"
        );
        assert_eq!(
            canonical("EUU").unwrap_err(),
            "unknown region \"EUU\" (did you mean \"EU\"?)"
        );
        assert_eq!(
            canonical("NL-UX").unwrap_err(),
            "unknown region \"NL-UX\" (did you mean \"NL-UT\"?)"
        );
        assert_eq!(
            canonical("NDL").unwrap_err(),
            "unknown region \"NDL\" (did you mean \"NL\"?)"
        );
        assert_eq!(
            canonical("uk").unwrap_err(),
            "unknown region \"uk\" (did you mean \"GB\"?)"
        );
        assert_eq!(
            canonical("EL").unwrap_err(),
            "unknown region \"EL\" (did you mean \"GR\"?)"
        );
        // Within a known country only its own subdivisions are offered; otherwise any country's.
        assert_eq!(canonical("CZ-PR").unwrap_err(), "unknown region \"CZ-PR\"");
        assert_eq!(
            canonical("NK-UT").unwrap_err(),
            "unknown region \"NK-UT\" (did you mean \"NL-UT\"?)"
        );
        assert_eq!(
            canonical("FR-75").unwrap_err(),
            "unknown region \"FR-75\" (did you mean \"FR-75C\"?)"
        );
        assert_eq!(
            canonical("Netherlands").unwrap_err(),
            "unknown region \"Netherlands\""
        );
        assert_eq!(
            canonical("ZZ-ZZZZ").unwrap_err(),
            "unknown region \"ZZ-ZZZZ\""
        );
    }

    #[test]
    fn empty_code() {
        assert_eq!(canonical("").unwrap_err(), "empty region code");
        assert_eq!(canonical("   ").unwrap_err(), "empty region code");
    }

    #[test]
    fn nuts_codes_are_refused_with_advice() {
        assert_eq!(
            canonical("NL31").unwrap_err(),
            "NL31 looks like a NUTS code; NUTS is not supported, use ISO 3166-2 codes such as NL-UT"
        );
        assert_eq!(
            canonical("nl310").unwrap_err(),
            "nl310 looks like a NUTS code; NUTS is not supported, use ISO 3166-2 codes such as NL-UT"
        );
        assert_eq!(
            canonical("DE1").unwrap_err(),
            "DE1 looks like a NUTS code; NUTS is not supported, use ISO 3166-2 codes such as DE-BE"
        );
        assert_eq!(
            canonical("EL30").unwrap_err(),
            "EL30 looks like a NUTS code; NUTS is not supported, use ISO 3166-2 codes such as GR-I"
        );
        assert_eq!(
            canonical("UKI3").unwrap_err(),
            "UKI3 looks like a NUTS code; NUTS is not supported, use ISO 3166-2 codes such as GB-ENG"
        );
        // A country with no example of its own still gets one from the data.
        assert!(canonical("US12").unwrap_err().starts_with(
            "US12 looks like a NUTS code; NUTS is not supported, use ISO 3166-2 codes such as US-"
        ));
        // Alpha-3 codes have the same shape and win.
        assert_eq!(canonical("NLD").unwrap(), "NL");
    }

    #[test]
    fn labels() {
        assert_eq!(label("NL-UT"), "Utrecht (NL-UT)");
        assert_eq!(label("nl"), "Netherlands (NL)");
        assert_eq!(label("NLD"), "Netherlands (NL)");
        assert_eq!(label("EU"), "the European Union (EU)");
        assert_eq!(label("EEA"), "the European Economic Area (EEA)");
        assert_eq!(label("EFTA"), "the European Free Trade Association (EFTA)");
        assert_eq!(label("GB"), "United Kingdom (GB)");
        assert_eq!(label("BO"), "Bolivia (BO)");
        assert_eq!(label("CC"), "Cocos (Keeling) Islands (CC)");
        assert_eq!(label("XX"), "XX");
        assert_eq!(label(" nuts? "), " nuts? ");
    }

    #[test]
    fn subdivisions_and_countries() {
        assert!(within_on("NL-UT", "NL", TODAY));
        assert!(within_on("nl-ut", "nld", TODAY));
        assert!(!within_on("NL-UT", "BE", TODAY));
        assert!(within_on("NL", "NL", TODAY));
        assert!(within_on("NL-UT", "NL-UT", TODAY));
        assert!(!within_on("NL", "NL-UT", TODAY));
        assert!(!within_on("NL-UT", "NL-NH", TODAY));
        // Aruba has its own alpha-2 code, but one country is never within another.
        assert!(!within_on("AW", "NL", TODAY));
    }

    #[test]
    fn countries_and_subdivisions_in_groups() {
        assert!(within_on("NL", "EU", TODAY));
        assert!(within_on("NL-UT", "EU", TODAY));
        assert!(within_on("NL-UT", "EEA", TODAY));
        assert!(!within_on("NL-UT", "EFTA", TODAY));
        assert!(within_on("GB", "EU", date!(2019 - 06 - 01)));
        assert!(within_on("GB", "EU", date!(2020 - 01 - 31)));
        assert!(!within_on("GB", "EU", date!(2020 - 02 - 01)));
        assert!(!within_on("GB-ENG", "EU", date!(2020 - 02 - 01)));
        assert!(within_on("HR", "EU", date!(2013 - 07 - 01)));
        assert!(!within_on("HR", "EU", date!(2013 - 06 - 30)));
        assert!(within_on("HR", "EEA", date!(2014 - 04 - 12)));
        assert!(!within_on("HR", "EEA", date!(2014 - 01 - 01)));
        assert!(within_on("NO", "EEA", TODAY));
        assert!(!within_on("NO", "EU", TODAY));
        assert!(within_on("CH", "EFTA", TODAY));
        assert!(!within_on("CH", "EEA", TODAY));
        assert!(within_on("IS", "EFTA", date!(1970 - 03 - 01)));
        assert!(!within_on("IS", "EFTA", date!(1970 - 02 - 28)));
        assert!(within_on("FI", "EFTA", date!(1990 - 01 - 01)));
        assert!(!within_on("FI", "EFTA", date!(1995 - 06 - 01)));
        // AT joined the EEA as an EFTA state a year before it joined the EU.
        assert!(within_on("AT", "EEA", date!(1994 - 06 - 01)));
        assert!(!within_on("AT", "EU", date!(1994 - 06 - 01)));
        assert!(!within_on("NL", "EU", date!(1957 - 12 - 31)));
    }

    #[test]
    fn territories_the_treaties_leave_out() {
        assert!(within_on("NL-CW", "NL", TODAY));
        assert!(!within_on("NL-CW", "EU", TODAY));
        assert!(!within_on("NL-BQ1", "EEA", TODAY));
        assert!(within_on("FR-976", "EU", date!(2014 - 01 - 01)));
        assert!(!within_on("FR-976", "EU", date!(2013 - 12 - 31)));
        assert!(within_on("FR-BL", "EU", date!(2011 - 12 - 31)));
        assert!(!within_on("FR-BL", "EU", date!(2012 - 01 - 01)));
        assert!(within_on("FR-971", "EU", TODAY));
        assert!(within_on("ES-CN", "EU", TODAY));
        assert!(!within_on("NO-21", "EEA", TODAY));
        assert!(within_on("NO-22", "EEA", TODAY));
        assert!(within_on("NO-21", "EFTA", TODAY));
    }

    #[test]
    fn groups() {
        assert!(!within_on("EU", "NL", TODAY));
        assert!(within_on("EU", "EU", TODAY));
        assert!(within_on("eea", "EEA", TODAY));
        assert!(!within_on("EU", "EEA", TODAY));
        assert!(!within_on("EFTA", "EEA", TODAY));
    }

    #[test]
    fn unknown_codes_are_errors() {
        assert_eq!(
            within("XX", "EU", TODAY).unwrap_err(),
            canonical("XX").unwrap_err()
        );
        assert_eq!(
            within("NL", "NL31", TODAY).unwrap_err(),
            canonical("NL31").unwrap_err()
        );
        assert!(within("", "EU", TODAY).is_err());
    }

    #[test]
    fn members_on_a_day() {
        assert_eq!(members("EU", TODAY).unwrap().len(), 27);
        assert_eq!(members("EEA", TODAY).unwrap().len(), 30);
        assert_eq!(members("efta", TODAY).unwrap(), ["CH", "IS", "LI", "NO"]);
        assert_eq!(members("NL", TODAY), None);
        assert_eq!(members("XX", TODAY), None);
        assert_eq!(members("EU", date!(2019 - 06 - 01)).unwrap().len(), 28);
        assert_eq!(
            members("EU", date!(1958 - 01 - 01)).unwrap(),
            ["BE", "DE", "FR", "IT", "LU", "NL"]
        );
        assert_eq!(
            members("EEA", date!(1993 - 12 - 31)).unwrap(),
            Vec::<&str>::new()
        );
        let eu = members("EU", TODAY).unwrap();
        assert!(eu.windows(2).all(|w| w[0] < w[1]));
        // Today every EU state is in the EEA, and the EEA adds exactly the three EFTA states other than CH.
        let eea = members("EEA", TODAY).unwrap();
        assert!(eu.iter().all(|s| eea.contains(s)));
    }

    #[test]
    fn is_group_any_case() {
        assert!(is_group("EU"));
        assert!(is_group("eea"));
        assert!(is_group(" Efta "));
        assert!(!is_group("NL"));
        assert!(!is_group("EUR"));
    }

    // The tables are hand-written against rust_iso3166's data: a data refresh that renames a code must fail here,
    // not quietly drop a member or an exclusion.
    #[test]
    fn tables_name_known_codes() {
        for g in Group::ALL {
            for &(state, from, until) in g.table() {
                assert!(rust_iso3166::from_alpha2(state).is_some(), "{state}");
                assert!(until.is_none_or(|u| from <= u), "{state}");
            }
            assert!(rust_iso3166::from_alpha2(g.code()).is_none());
            assert!(rust_iso3166::from_alpha3(g.code()).is_none());
        }
        for &(code, from, until) in OUTSIDE_UNION {
            assert!(iso3166_2::from_code(code).is_some(), "{code}");
            assert!(until.is_none_or(|u| from <= u), "{code}");
        }
        for &(country, example) in EXAMPLES {
            let s = iso3166_2::from_code(example).unwrap();
            assert_eq!(s.country_code, country);
            assert!(!OUTSIDE_UNION.iter().any(|&(c, _, _)| c == example));
        }
        for &(country, _) in COMMON_NAMES {
            assert!(rust_iso3166::from_alpha2(country).is_some(), "{country}");
        }
    }
}
