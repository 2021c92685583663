//! Units of measure, read as UCUM (what model descriptions and OGC APIs use: `Cel`, `km/h`) or as UN/CEFACT Rec 20
//! common codes (what NGSI-LD's `unitCode` holds: `CEL`, `KMH`), compared by dimension and converted by a factor
//! and an offset. Parsing and arithmetic are the `ucum-units` crate's (the UCUM 2.2 tables, tested against the UCUM
//! functional test suite); this module decides which reading a string has and refuses the ones it cannot tell.
//!
//! Both code systems use short upper-case strings, so a bare `PS` is petasiemens in UCUM and pound-force per square
//! inch in Rec 20. A bare string is read as Rec 20 only where its UCUM reading is one nobody writes: a bare number
//! (`22`), or a single unit raised to the power 1, to a power written with a leading zero, or to the 5th power or
//! more (`P1` as poise¹, `A97` as ampere⁹⁷, `F02`); where both readings are plausible (`PS`, `GP`, `A2`) it is refused
//! as ambiguous and the caller is asked to write `ucum:` or `unece:` in front.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use thiserror::Error;

use super::report::{Dimension, Finding, Verdict};
use super::terms::Matcher;
use super::{schema, unece, Have, Need};

/// Why a unit was not read or not converted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum UnitError {
    #[error("no unit given (an empty string)")]
    Empty,
    #[error("{code:?} is neither a UCUM code nor a UN/CEFACT Rec 20 common code ({detail})")]
    Unknown { code: String, detail: String },
    #[error("{code:?} is not a UCUM code: {detail}")]
    NotUcum { code: String, detail: String },
    #[error("{code:?} is not a UN/CEFACT Rec 20 common code (or one deleted from Rec 20)")]
    NotUnece { code: String },
    #[error(
        "{code:?} is ambiguous: as UCUM it is {ucum}, as a UN/CEFACT common code it is {unece}; \
         write ucum:{code} or unece:{code}"
    )]
    Ambiguous {
        code: String,
        ucum: String,
        unece: String,
    },
    #[error("{code:?} has a factor or exponent too large to compute with")]
    OutOfRange { code: String },
    #[error("a unit code longer than {MAX_LEN} characters or nested more than {MAX_NESTING} parentheses deep is not read")]
    TooLong,
    #[error("{from} measures {from_dimension} and {to} measures {to_dimension}: one cannot be converted into the other")]
    NotCommensurable {
        from: String,
        to: String,
        from_dimension: String,
        to_dimension: String,
    },
    #[error("{from} converts to {to} only by a non-linear formula (logarithmic or arbitrary units), not by a factor and offset")]
    NotLinear { from: String, to: String },
}

/// The longest UCUM code in the Rec 20 table has 37 characters. The crate's parser recurses once per term, and a
/// chain of a thousand terms overflowed a 2 MiB thread stack, so longer or deeper input is refused before it.
const MAX_LEN: usize = 128;
const MAX_NESTING: usize = 16;

/// A unit of measure, held as its UCUM code with the crate's analysis of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    ucum: String,
    /// The Rec 20 code and name when that is how the unit was written.
    unece: Option<(String, &'static str)>,
    analysis: ucum::Analysis,
}

/// `to_value = from_value * factor + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    pub factor: f64,
    pub offset: f64,
}

impl Conversion {
    /// No change at all.
    pub fn is_identity(&self) -> bool {
        self.factor == 1.0 && self.offset == 0.0
    }

    /// Applies the conversion to one value.
    pub fn apply(&self, value: f64) -> f64 {
        value * self.factor + self.offset
    }
}

impl Unit {
    /// Reads a UCUM code (case-sensitive), a UN/CEFACT Rec 20 common code, or either with an explicit `ucum:` or
    /// `unece:` prefix. See the module documentation for how a bare string valid as both is decided.
    pub fn parse(code: &str) -> Result<Unit, UnitError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(UnitError::Empty);
        }
        if let Some(rest) = code.strip_prefix("ucum:") {
            return Unit::ucum_only(rest.trim());
        }
        if let Some(rest) = code.strip_prefix("unece:") {
            return Unit::unece_only(rest.trim());
        }
        let as_ucum = Unit::ucum_only(code);
        let Some(entry) = unece::lookup(code) else {
            return as_ucum.map_err(|e| match e {
                UnitError::NotUcum { code, detail } => UnitError::Unknown { code, detail },
                other => other,
            });
        };
        let as_unece = Unit::from_entry(code, entry)?;
        let Ok(as_ucum) = as_ucum else {
            return Ok(as_unece);
        };
        let same = as_ucum
            .conversion_to(&as_unece)
            .is_ok_and(|c| (c.factor - 1.0).abs() < 1e-12 && c.offset == 0.0);
        if same {
            return Ok(as_ucum);
        }
        if !plausible_ucum(code) {
            return Ok(as_unece);
        }
        Err(UnitError::Ambiguous {
            code: code.to_string(),
            ucum: as_ucum.name(),
            unece: format!("{} ({})", entry.name, entry.ucum),
        })
    }

    /// Reads `code` as a Rec 20 common code first, as NGSI-LD's `unitCode` is defined to hold one; a code Rec 20
    /// does not have is then tried as UCUM.
    pub fn parse_unit_code(code: &str) -> Result<Unit, UnitError> {
        let bare = code.trim();
        match unece::lookup(bare) {
            Some(entry) => Unit::from_entry(bare, entry),
            None => Unit::parse(code),
        }
    }

    fn ucum_only(code: &str) -> Result<Unit, UnitError> {
        if code.is_empty() {
            return Err(UnitError::Empty);
        }
        if code.len() > MAX_LEN || nesting(code) > MAX_NESTING {
            return Err(UnitError::TooLong);
        }
        let analysis = ucum::analyze(code).map_err(|e| UnitError::NotUcum {
            code: code.to_string(),
            detail: e.to_string(),
        })?;
        // The crate saturates exponents at the i8 bounds and lets factors overflow to infinity (`m999`, `10*999`):
        // such a unit would compare and convert wrongly, so it is refused.
        let saturated = analysis.dimension.0.iter().any(|e| e.unsigned_abs() >= 127);
        if saturated
            || !analysis.factor.is_finite()
            || analysis.factor == 0.0
            || !analysis.offset.is_finite()
        {
            return Err(UnitError::OutOfRange {
                code: code.to_string(),
            });
        }
        Ok(Unit {
            ucum: code.to_string(),
            unece: None,
            analysis,
        })
    }

    fn unece_only(code: &str) -> Result<Unit, UnitError> {
        match unece::lookup(code) {
            Some(entry) => Unit::from_entry(code, entry),
            None if code.is_empty() => Err(UnitError::Empty),
            None => Err(UnitError::NotUnece {
                code: code.to_string(),
            }),
        }
    }

    fn from_entry(code: &str, entry: unece::Entry) -> Result<Unit, UnitError> {
        let mut unit = Unit::ucum_only(entry.ucum)?;
        unit.unece = Some((code.to_string(), entry.name));
        Ok(unit)
    }

    /// The UCUM code.
    pub fn ucum(&self) -> &str {
        &self.ucum
    }

    /// The Rec 20 common code, when the unit was written as one.
    pub fn unece(&self) -> Option<&str> {
        self.unece.as_ref().map(|(code, _)| code.as_str())
    }

    /// What the unit is called, in words: the Rec 20 name, or UCUM's display name ("kilometer per hour").
    pub fn name(&self) -> String {
        if let Some((_, name)) = &self.unece {
            if !name.is_empty() {
                return (*name).to_string();
            }
        }
        ucum::display_name(&self.ucum)
            .map(|d| words(&d))
            .unwrap_or_else(|_| self.ucum.clone())
    }

    /// "degree Celsius (Cel)", or "degree Celsius (CEL, UCUM Cel)" for a Rec 20 code.
    pub fn describe(&self) -> String {
        match &self.unece {
            Some((code, _)) => format!("{} ({code}, UCUM {})", self.name(), self.ucum),
            None => format!("{} ({})", self.name(), self.ucum),
        }
    }

    /// What the unit measures, in words ("temperature", "speed"), or its dimension in UCUM base units.
    pub fn quantity(&self) -> String {
        dimension_words(self.analysis.dimension)
    }

    /// How values in this unit become values in `to`. Fails when the two measure different things, or when only a
    /// non-linear formula relates them (decibels, pH).
    pub fn conversion_to(&self, to: &Unit) -> Result<Conversion, UnitError> {
        if self.ucum == to.ucum {
            return Ok(Conversion {
                factor: 1.0,
                offset: 0.0,
            });
        }
        let comparable = ucum::is_comparable(&self.ucum, &to.ucum).unwrap_or(false);
        if self.analysis.dimension != to.analysis.dimension {
            return Err(self.not_commensurable(to));
        }
        if !comparable {
            // Same dimension but an arbitrary unit (international units and the like): no conversion exists.
            return Err(UnitError::NotLinear {
                from: self.ucum.clone(),
                to: to.ucum.clone(),
            });
        }
        if !self.analysis.is_special && !to.analysis.is_special {
            let factor = self.analysis.factor / to.analysis.factor;
            return finite(factor, 0.0).ok_or_else(|| self.not_linear(to));
        }
        // Special units (temperatures with an offset, logarithmic units): the analyses' factors and offsets give
        // the line exactly for affine units, but are only informational for logarithmic ones, so the line is kept
        // only where the crate's own conversion agrees with it at three points.
        let at = |v: f64| ucum::convert(v, &self.ucum, &to.ucum);
        let (Ok(c0), Ok(c1), Ok(c10)) = (at(0.0), at(1.0), at(10.0)) else {
            return Err(self.not_linear(to));
        };
        let on_line = |c: Conversion| {
            [(0.0, c0), (1.0, c1), (10.0, c10)]
                .iter()
                .all(|(v, expected)| {
                    (c.apply(*v) - expected).abs() <= 1e-9 * expected.abs().max(1.0)
                })
        };
        let exact = Conversion {
            factor: self.analysis.factor / to.analysis.factor,
            offset: (self.analysis.offset - to.analysis.offset) / to.analysis.factor,
        };
        let measured = Conversion {
            factor: c1 - c0,
            offset: c0,
        };
        [exact, measured]
            .into_iter()
            .find(|c| on_line(*c))
            .and_then(|c| finite(c.factor, c.offset))
            .ok_or_else(|| self.not_linear(to))
    }

    fn not_commensurable(&self, to: &Unit) -> UnitError {
        UnitError::NotCommensurable {
            from: self.ucum.clone(),
            to: to.ucum.clone(),
            from_dimension: self.quantity(),
            to_dimension: to.quantity(),
        }
    }

    fn not_linear(&self, to: &Unit) -> UnitError {
        UnitError::NotLinear {
            from: self.ucum.clone(),
            to: to.ucum.clone(),
        }
    }
}

/// The deepest parenthesis nesting in `code`.
fn nesting(code: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in code.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn finite(factor: f64, offset: f64) -> Option<Conversion> {
    (factor.is_finite() && factor != 0.0 && offset.is_finite())
        .then_some(Conversion { factor, offset })
}

/// Whether a string valid as UCUM is a UCUM spelling someone would write; see the module documentation.
fn plausible_ucum(code: &str) -> bool {
    let digits_at = code.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (head, digits) = code.split_at(digits_at);
    if head.is_empty() {
        return false; // a bare number: "22 times one"
    }
    if digits.is_empty() {
        return true; // letters only: an atom or a prefixed atom (PS, GP)
    }
    if !head.chars().all(|c| c.is_ascii_alphabetic()) || ucum::validate(head).is_err() {
        return true; // digits inside a compound expression: leave it to the ambiguity rule
    }
    if digits.starts_with('0') {
        return false;
    }
    matches!(digits.parse::<u32>(), Ok(2..=4))
}

/// UCUM display names ("(kilometer) / (hour)") as words ("kilometer per hour").
fn words(display: &str) -> String {
    display
        .replace(") / (", " per ")
        .replace(") * (", " ")
        .replace(" ^ 2", " squared")
        .replace(" ^ 3", " cubed")
        .replace(" ^ ", " to the power ")
        .replace(['(', ')'], "")
        .trim()
        .to_string()
}

/// Names for the dimensions people meet in city data, by UCUM's exponent vector (length, time, mass, plane angle,
/// temperature, electric charge, luminous intensity).
const NAMED: &[([i8; 7], &str)] = &[
    ([0, 0, 0, 0, 0, 0, 0], "a ratio or count (dimensionless)"),
    ([1, 0, 0, 0, 0, 0, 0], "length"),
    ([0, 1, 0, 0, 0, 0, 0], "time"),
    ([0, 0, 1, 0, 0, 0, 0], "mass"),
    ([0, 0, 0, 1, 0, 0, 0], "angle"),
    ([0, 0, 0, 0, 1, 0, 0], "temperature"),
    ([0, 0, 0, 0, 0, 1, 0], "electric charge"),
    ([0, 0, 0, 0, 0, 0, 1], "luminous intensity"),
    ([2, 0, 0, 0, 0, 0, 0], "area"),
    ([3, 0, 0, 0, 0, 0, 0], "volume"),
    ([1, -1, 0, 0, 0, 0, 0], "speed (or a rate such as rainfall)"),
    ([1, -2, 0, 0, 0, 0, 0], "acceleration"),
    ([0, -1, 0, 0, 0, 0, 0], "frequency (a rate per time)"),
    ([3, -1, 0, 0, 0, 0, 0], "volume flow"),
    ([0, -1, 1, 0, 0, 0, 0], "mass flow"),
    ([-3, 0, 1, 0, 0, 0, 0], "mass concentration (density)"),
    ([-2, 0, 1, 0, 0, 0, 0], "mass per area"),
    ([-3, 0, 0, 0, 0, 0, 0], "number per volume"),
    ([1, -2, 1, 0, 0, 0, 0], "force"),
    ([-1, -2, 1, 0, 0, 0, 0], "pressure"),
    ([2, -2, 1, 0, 0, 0, 0], "energy"),
    ([2, -3, 1, 0, 0, 0, 0], "power"),
    ([0, -3, 1, 0, 0, 0, 0], "irradiance (power per area)"),
    ([0, -1, 0, 0, 0, 1, 0], "electric current"),
    ([2, -2, 1, 0, 0, -1, 0], "voltage"),
    ([-2, 0, 0, 2, 0, 0, 1], "illuminance"),
];

fn dimension_words(d: ucum::Dimension) -> String {
    NAMED
        .iter()
        .find(|(v, _)| *v == d.0)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| format!("a quantity in {d}"))
}

/// The units finding: the input's unit against the dataset's, and each property's unit against the dataset's unit
/// for the same property (names paired as the schema dimension pairs them).
pub(super) fn finding(need: &Need, have: &Have, matcher: &Result<Matcher, String>) -> Finding {
    let unknown =
        |reason: String| Finding::new(Dimension::Units, Verdict::Unknown, reason, Value::Null);
    if need.unit.is_none() && need.units.is_empty() {
        // Nothing asked is nothing missed: an input without quantities fits any units.
        return Finding::new(
            Dimension::Units,
            Verdict::Aligned,
            "The model asks for no units for this input.",
            Value::Null,
        );
    }
    // NGSI-LD defines `unitCode` as a Rec 20 code, so an NGSI-LD dataset's bare units are read as Rec 20 first.
    let ngsi_ld = have.entity_type.is_some()
        || have
            .attributes
            .values()
            .any(|a| a.r#type.as_deref().is_some_and(is_ngsi_ld_attribute));
    let read: fn(&str) -> Result<Unit, UnitError> = if ngsi_ld {
        Unit::parse_unit_code
    } else {
        Unit::parse
    };
    let mut compared = Vec::new();
    if let Some(needed) = &need.unit {
        compared.push(compare(None, needed, have.unit.as_deref(), read));
    }
    if !need.units.is_empty() {
        match matcher {
            Err(e) => compared.push(Compared::unknown(format!(
                "The property names cannot be paired because {e}."
            ))),
            Ok(m) => {
                // A unit stated in `units` wins over the same attribute's own; both say the same in practice.
                let mut have_units: BTreeMap<&str, &str> = have
                    .attributes
                    .iter()
                    .filter_map(|(name, a)| Some((name.as_str(), a.unit.as_deref()?)))
                    .collect();
                have_units.extend(have.units.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let names: Vec<&str> = have_units
                    .keys()
                    .copied()
                    .chain(have.attributes.keys().map(String::as_str))
                    .chain(schema::property_names(have.schema.as_ref()))
                    .collect();
                let index = m.index(names);
                let mut absent = Vec::new();
                for (name, needed) in &need.units {
                    match m.find(&index, name) {
                        Some(found) => compared.push(compare(
                            Some(name),
                            needed,
                            have_units.get(found.name).copied(),
                            read,
                        )),
                        None => absent.push(name.as_str()),
                    }
                }
                if compared.is_empty() {
                    return unknown(format!(
                        "The dataset has none of the properties the model states units for ({}).",
                        absent.join(", ")
                    ));
                }
            }
        }
    }
    let verdict = Verdict::worst(compared.iter().map(|c| c.verdict));
    let conversions: Vec<Value> = compared
        .iter()
        .filter_map(|c| c.conversion.clone())
        .collect();
    let details = if conversions.is_empty() {
        Value::Null
    } else {
        json!({ "conversions": conversions })
    };
    Finding::new(
        Dimension::Units,
        verdict,
        summarise(&compared, verdict),
        details,
    )
}

/// One unit compared.
struct Compared {
    verdict: Verdict,
    reason: String,
    conversion: Option<Value>,
}

impl Compared {
    fn unknown(reason: String) -> Compared {
        Compared {
            verdict: Verdict::Unknown,
            reason,
            conversion: None,
        }
    }
}

/// NGSI-LD attribute types (as opposed to JSON Schema type names).
fn is_ngsi_ld_attribute(t: &str) -> bool {
    t.ends_with("Property") || t.ends_with("Relationship")
}

fn compare(
    property: Option<&str>,
    needed: &str,
    had: Option<&str>,
    read: fn(&str) -> Result<Unit, UnitError>,
) -> Compared {
    let what = property.map_or_else(|| "the input".to_string(), |p| p.to_string());
    let need = match Unit::parse(needed) {
        Ok(u) => u,
        Err(e) => {
            return Compared::unknown(format!("The model's unit for {what} cannot be read: {e}."))
        }
    };
    let Some(had) = had else {
        return Compared::unknown(format!(
            "The model needs {what} in {}; the dataset states no unit for it.",
            need.describe()
        ));
    };
    let have = match read(had) {
        Ok(u) => u,
        Err(e) => {
            return Compared::unknown(format!(
                "The dataset's unit for {what} cannot be read: {e}."
            ))
        }
    };
    match have.conversion_to(&need) {
        Ok(c) if (c.factor - 1.0).abs() < 1e-12 && c.offset == 0.0 => Compared {
            verdict: Verdict::Aligned,
            reason: format!(
                "The dataset gives {what} in {}, as the model needs.",
                have.describe()
            ),
            conversion: None,
        },
        Ok(c) => Compared {
            verdict: Verdict::Convertible,
            reason: format!(
                "The dataset gives {} in {}; the model needs {}: convertible, {} = {}.",
                subject(property, &have),
                have.describe(),
                need.describe(),
                need.ucum(),
                formula(have.ucum(), c)
            ),
            conversion: Some(json!({
                "property": property,
                "from": have.ucum(),
                "to": need.ucum(),
                "factor": c.factor,
                "offset": c.offset,
            })),
        },
        Err(UnitError::NotCommensurable { .. }) => Compared {
            verdict: Verdict::Misaligned,
            reason: format!(
                "The dataset gives {what} in {}, a unit of {}; the model needs {}, a unit of {}: one cannot be \
                 converted into the other.",
                have.describe(),
                have.quantity(),
                need.describe(),
                need.quantity()
            ),
            conversion: None,
        },
        Err(e) => Compared::unknown(format!("For {what}: {e}.")),
    }
}

/// "temperature" for a property; for the input as a whole, what its unit measures.
fn subject(property: Option<&str>, unit: &Unit) -> String {
    match property {
        Some(p) => p.to_string(),
        None => unit.quantity(),
    }
}

/// "[degF] × 0.555556 − 17.7778".
fn formula(from: &str, c: Conversion) -> String {
    let mut s = if c.factor == 1.0 {
        from.to_string()
    } else {
        format!("{from} × {}", number(c.factor))
    };
    if c.offset > 0.0 {
        s.push_str(&format!(" + {}", number(c.offset)));
    } else if c.offset < 0.0 {
        s.push_str(&format!(" − {}", number(-c.offset)));
    }
    s
}

/// Six significant digits, without trailing zeros, in plain or scientific notation as suits the size.
pub(crate) fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor();
    if !(-4.0..=9.0).contains(&magnitude) {
        return format!("{v:.5e}");
    }
    let decimals = (5.0 - magnitude).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// One comparison's reason as it is; several: what is not aligned first, at most three, then how many more.
fn summarise(compared: &[Compared], verdict: Verdict) -> String {
    if let [only] = compared {
        return only.reason.clone();
    }
    let aligned = compared
        .iter()
        .filter(|c| c.verdict == Verdict::Aligned)
        .count();
    if verdict == Verdict::Aligned {
        return format!("All {aligned} units the model needs are the dataset's units.");
    }
    let mut open: Vec<&Compared> = compared
        .iter()
        .filter(|c| c.verdict != Verdict::Aligned)
        .collect();
    open.sort_by_key(|c| c.verdict != Verdict::Misaligned);
    let mut s: Vec<String> = open.iter().take(3).map(|c| c.reason.clone()).collect();
    if open.len() > 3 {
        s.push(format!("And {} more.", open.len() - 3));
    }
    if aligned > 0 {
        s.push(format!("{aligned} other unit(s) match."));
    }
    s.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::Attribute;
    use serde_json::json;

    fn unit(s: &str) -> Unit {
        Unit::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn conversion(from: &str, to: &str) -> Conversion {
        unit(from)
            .conversion_to(&unit(to))
            .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"))
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn parse_reads_ucum_codes() {
        for (code, ucum) in [
            ("Cel", "Cel"),
            ("km/h", "km/h"),
            ("mm/h", "mm/h"),
            ("[degF]", "[degF]"),
            ("m3", "m3"),
            ("kW.h", "kW.h"),
            ("%", "%"),
            (" m ", "m"),
        ] {
            assert_eq!(unit(code).ucum(), ucum, "{code}");
            assert_eq!(unit(code).unece(), None, "{code}");
        }
    }

    #[test]
    fn parse_reads_unece_common_codes() {
        for (code, ucum) in [
            ("CEL", "Cel"),
            ("MTQ", "m3"),
            ("KWH", "kW.h"),
            ("P1", "%"),
            ("A97", "hPa"),
            ("FAH", "[degF]"),
        ] {
            let u = unit(code);
            assert_eq!(u.ucum(), ucum, "{code}");
            assert_eq!(u.unece(), Some(code));
        }
        assert!(["km/h", "km.h-1"].contains(&unit("KMH").ucum()));
        assert_eq!(unit("CEL").describe(), "degree Celsius (CEL, UCUM Cel)");
    }

    #[test]
    fn explicit_prefixes_choose_the_reading() {
        assert_eq!(unit("ucum:Cel").ucum(), "Cel");
        assert_eq!(unit("unece:CEL").ucum(), "Cel");
        // P1 bare is Rec 20's percent; asked for as UCUM it is the poise.
        assert_eq!(unit("ucum:P1").ucum(), "P1");
        assert_eq!(unit("ucum:P1").quantity(), unit("P").quantity());
        assert_eq!(unit("unece:PS").ucum(), "[psi]");
        assert_eq!(unit("ucum:PS").ucum(), "PS");
        assert!(matches!(
            Unit::parse("unece:Cel"),
            Err(UnitError::NotUnece { .. })
        ));
        assert!(matches!(
            Unit::parse("ucum:CEL"),
            Err(UnitError::NotUcum { .. })
        ));
        assert_eq!(Unit::parse("ucum:"), Err(UnitError::Empty));
        assert_eq!(Unit::parse("unece:"), Err(UnitError::Empty));
    }

    #[test]
    fn bare_strings_with_two_plausible_meanings_are_refused_as_ambiguous() {
        for code in ["PS", "PT", "GP", "MC", "A2", "S4"] {
            match Unit::parse(code) {
                Err(e @ UnitError::Ambiguous { .. }) => {
                    let m = e.to_string();
                    assert!(
                        m.contains(&format!("ucum:{code}")) && m.contains(&format!("unece:{code}")),
                        "{m}"
                    );
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        // NGSI-LD unitCode values are Rec 20 by definition.
        assert_eq!(
            Unit::parse_unit_code("GP").map(|u| u.ucum().to_string()),
            Ok("mg.m-3".into())
        );
        assert_eq!(
            Unit::parse_unit_code("Cel").map(|u| u.ucum().to_string()),
            Ok("Cel".into())
        );
    }

    #[test]
    fn implausible_ucum_readings_leave_the_rec20_reading() {
        // A bare number, an exponent of one, a leading-zero exponent, an exponent of five or more.
        assert_eq!(unit("22").unece(), Some("22"));
        assert_eq!(unit("B1").unece(), Some("B1"));
        assert_eq!(unit("F02").unece(), Some("F02"));
        assert_eq!(unit("A97").unece(), Some("A97"));
    }

    #[test]
    fn unknown_and_absurd_units_are_refused_without_panicking() {
        assert_eq!(Unit::parse(""), Err(UnitError::Empty));
        assert_eq!(Unit::parse("   "), Err(UnitError::Empty));
        for bad in [
            "flurble", "NaN", "m/", "[", "((((m", "\u{0}", "1e400", "°C", "cel",
        ] {
            match Unit::parse(bad) {
                Err(UnitError::Unknown { .. }) => {}
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        for absurd in ["m999999", "10*999", "m127", "s-128"] {
            assert!(
                matches!(Unit::parse(absurd), Err(UnitError::OutOfRange { .. })),
                "{absurd}"
            );
        }
        let long = "m.".repeat(10_000) + "m";
        assert_eq!(Unit::parse(&long), Err(UnitError::TooLong));
        let deep = "(".repeat(17) + "m" + &")".repeat(17);
        assert_eq!(Unit::parse(&deep), Err(UnitError::TooLong));
        assert!(Unit::parse(&("(".repeat(16) + "m" + &")".repeat(16))).is_ok());
    }

    #[test]
    fn fahrenheit_to_celsius_is_five_ninths_minus_160_ninths() {
        let c = conversion("[degF]", "Cel");
        assert!(close(c.factor, 5.0 / 9.0, 1e-15), "{c:?}");
        assert!(close(c.offset, -160.0 / 9.0, 1e-12), "{c:?}");
        assert!(close(c.apply(98.6), 37.0, 1e-12));
        let c = conversion("FAH", "CEL");
        assert!(close(c.offset, -160.0 / 9.0, 1e-12), "{c:?}");
    }

    #[test]
    fn known_conversions() {
        let cases = [
            ("km/h", "m/s", 1.0 / 3.6, 0.0),
            ("KMH", "m/s", 1.0 / 3.6, 0.0),
            ("Cel", "K", 1.0, 273.15),
            ("%", "1", 0.01, 0.0),
            ("kW.h", "J", 3.6e6, 0.0),
            ("mm/h", "m/s", 1.0 / 3.6e6, 0.0),
            ("hPa", "Pa", 100.0, 0.0),
            ("ug/m3", "mg/m3", 1e-3, 0.0),
            ("B", "dB", 10.0, 0.0),
        ];
        for (from, to, factor, offset) in cases {
            let c = conversion(from, to);
            assert!(close(c.factor, factor, 1e-12), "{from} -> {to}: {c:?}");
            assert!((c.offset - offset).abs() < 1e-9, "{from} -> {to}: {c:?}");
        }
        assert!(conversion("km/h", "km.h-1").is_identity());
    }

    #[test]
    fn length_and_time_are_not_commensurable() {
        match unit("m").conversion_to(&unit("s")) {
            Err(e @ UnitError::NotCommensurable { .. }) => {
                let m = e.to_string();
                assert!(m.contains("length") && m.contains("time"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_linear_relations_are_not_given_a_factor() {
        assert!(matches!(
            unit("[pH]").conversion_to(&unit("mol/L")),
            Err(UnitError::NotLinear { .. })
        ));
        assert!(matches!(
            unit("[iU]").conversion_to(&unit("[arb'U]")),
            Err(UnitError::NotLinear { .. })
        ));
    }

    /// The UCUM functional test suite (Grahame Grieve and contributors, EPL 1.0), read from the shared test data:
    /// every validation case's validity through `Unit::parse("ucum:…")`, every conversion case through
    /// `conversion_to` within a relative 1e-6.
    #[test]
    fn ucum_functional_tests() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/testdata/ucum-functional-tests/src/test/resources/UcumFunctionalTests.xml");
        let xml =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Outcomes the file writes to fewer digits than 1e-6 needs (its comment allows this): the exact value.
        let exact: BTreeMap<&str, f64> = BTreeMap::from([
            ("3-113", 25.2),    // 6.3 × 4, written "25"
            ("3-115", 1.575),   // 6.3 / 4, written "1.6"
            ("3-118", 0.16002), // 6.30 in × 0.0254, written "0.160"
            ("3-119", 16.002),  // the same in cm, written "16.0"
        ]);
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut section = String::new();
        let (mut validations, mut conversions, mut failures) = (0, 0, Vec::new());
        loop {
            let event = reader.read_event().expect("well-formed XML");
            let e = match &event {
                quick_xml::events::Event::Eof => break,
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => e,
                _ => continue,
            };
            let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
            if name != "case" {
                section = name;
                continue;
            }
            let attrs: BTreeMap<String, String> = e
                .attributes()
                .filter_map(Result::ok)
                .map(|a| {
                    let v = a
                        .unescape_value()
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    (String::from_utf8_lossy(a.key.as_ref()).to_string(), v)
                })
                .collect();
            let get = |k: &str| attrs.get(k).map(String::as_str).unwrap_or("");
            let id = get("id");
            match section.as_str() {
                "validation" => {
                    validations += 1;
                    let expected = get("valid") == "true";
                    let got = Unit::parse(&format!("ucum:{}", get("unit")));
                    if got.is_ok() != expected {
                        failures.push(format!(
                            "{id}: {:?} valid={expected}, got {got:?}",
                            get("unit")
                        ));
                    }
                }
                "conversion" => {
                    conversions += 1;
                    let value: f64 = get("value").parse().expect("value");
                    let outcome: f64 = get("outcome").parse().expect("outcome");
                    let expected = exact.get(id).copied().unwrap_or(outcome);
                    let from = Unit::parse(&format!("ucum:{}", get("srcUnit")));
                    let to = Unit::parse(&format!("ucum:{}", get("dstUnit")));
                    match (from, to) {
                        (Ok(f), Ok(t)) => match f.conversion_to(&t) {
                            Ok(c) if close(c.apply(value), expected, 1e-6) => {}
                            other => failures.push(format!(
                                "{id}: {value} {} -> {}: {other:?}, expected {expected}",
                                get("srcUnit"),
                                get("dstUnit")
                            )),
                        },
                        other => failures.push(format!("{id}: {other:?}")),
                    }
                }
                _ => {}
            }
        }
        assert!(
            validations > 400 && conversions > 25,
            "{validations} validations, {conversions} conversions read"
        );
        assert!(
            failures.is_empty(),
            "UCUM functional cases failing:\n{}",
            failures.join("\n")
        );
    }

    fn units_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn units_finding(need: &Need, have: &Have) -> Finding {
        let m = Matcher::new(need.context.as_ref(), have.context.as_ref());
        finding(need, have, &m)
    }

    #[test]
    fn units_equal_are_aligned() {
        let need = Need {
            unit: Some("Cel".into()),
            ..Default::default()
        };
        let have = Have {
            unit: Some("CEL".into()),
            ..Default::default()
        };
        let f = units_finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");
        assert_eq!(f.details, Value::Null);
    }

    #[test]
    fn units_commensurable_are_convertible_with_the_conversion() {
        let need = Need {
            unit: Some("Cel".into()),
            ..Default::default()
        };
        let have = Have {
            unit: Some("[degF]".into()),
            ..Default::default()
        };
        let f = units_finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        assert!(
            f.reason.contains("degree Fahrenheit ([degF])") && f.reason.contains("temperature"),
            "{}",
            f.reason
        );
        let c = &f.details["conversions"][0];
        assert_eq!(c["property"], Value::Null);
        assert_eq!(
            (c["from"].as_str(), c["to"].as_str()),
            (Some("[degF]"), Some("Cel"))
        );
        assert!(close(c["factor"].as_f64().unwrap(), 5.0 / 9.0, 1e-12));
        assert!(close(c["offset"].as_f64().unwrap(), -160.0 / 9.0, 1e-12));
    }

    #[test]
    fn units_not_commensurable_are_misaligned_naming_both_dimensions() {
        let need = Need {
            units: units_of(&[("rain", "mm/h")]),
            ..Default::default()
        };
        let have = Have {
            units: units_of(&[("rain", "Cel")]),
            ..Default::default()
        };
        let f = units_finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Misaligned, "{f:?}");
        assert!(
            f.reason.contains("temperature") && f.reason.contains("speed"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn units_missing_on_the_dataset_are_unknown() {
        let need = Need {
            unit: Some("Cel".into()),
            ..Default::default()
        };
        let f = units_finding(&need, &Have::default());
        assert_eq!(f.verdict, Verdict::Unknown);
        assert!(f.reason.contains("states no unit"), "{}", f.reason);
        let f = units_finding(&Need::default(), &Have::default());
        assert_eq!(f.verdict, Verdict::Aligned, "nothing asked, nothing missed");
        let need = Need {
            unit: Some("Cel".into()),
            ..Default::default()
        };
        let have = Have {
            unit: Some("PS".into()),
            ..Default::default()
        };
        let f = units_finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Unknown);
        assert!(f.reason.contains("unece:PS"), "{}", f.reason);
    }

    #[test]
    fn units_of_ngsi_ld_datasets_are_read_as_unit_codes() {
        let need = Need {
            units: units_of(&[("pm10", "ug/m3"), ("no2", "ug/m3")]),
            ..Default::default()
        };
        let attr = |unit: &str| Attribute {
            r#type: Some("Property".into()),
            unit: Some(unit.into()),
        };
        let have = Have {
            entity_type: Some("AirQualityObserved".into()),
            attributes: BTreeMap::from([
                ("pm10".to_string(), attr("GP")),
                ("no2".to_string(), attr("GQ")),
            ]),
            ..Default::default()
        };
        let f = units_finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        let c = &f.details["conversions"][0];
        assert_eq!(
            (c["property"].as_str(), c["from"].as_str()),
            (Some("pm10"), Some("mg.m-3"))
        );
        assert!(close(c["factor"].as_f64().unwrap(), 1000.0, 1e-12));
        // The same bare GP in a plain tabular dataset is ambiguous.
        let have = Have {
            units: units_of(&[("pm10", "GP")]),
            ..Default::default()
        };
        assert_eq!(units_finding(&need, &have).verdict, Verdict::Unknown);
    }

    #[test]
    fn units_per_property_are_paired_after_term_expansion() {
        let sdm = json!({"temperature": "https://smartdatamodels.org/dataModel.Weather/temperature",
                         "windSpeed": "https://smartdatamodels.org/dataModel.Weather/windSpeed"});
        let need = Need {
            context: Some(sdm.clone()),
            units: units_of(&[
                ("temperature", "Cel"),
                ("windSpeed", "m/s"),
                ("absent", "m"),
            ]),
            ..Default::default()
        };
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "temperature".to_string(),
            Attribute {
                r#type: Some("Property".into()),
                unit: Some("unece:CEL".into()),
            },
        );
        attributes.insert(
            "windSpeed".to_string(),
            Attribute {
                r#type: Some("Property".into()),
                unit: Some("KMH".into()),
            },
        );
        let have = Have {
            context: Some(sdm),
            attributes,
            ..Default::default()
        };
        let f = units_finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        let convs = f.details["conversions"].as_array().unwrap();
        assert_eq!(convs.len(), 1);
        assert_eq!(convs[0]["property"], "windSpeed");
        assert!(close(
            convs[0]["factor"].as_f64().unwrap(),
            1.0 / 3.6,
            1e-12
        ));

        // The same names under a different context are different properties.
        let other = json!({"temperature": "https://example.org/roomTemperature"});
        let have = Have {
            context: Some(other),
            units: units_of(&[("temperature", "Cel")]),
            ..Default::default()
        };
        let need = Need {
            context: Some(
                json!({"temperature": "https://smartdatamodels.org/dataModel.Weather/temperature"}),
            ),
            units: units_of(&[("temperature", "Cel")]),
            ..Default::default()
        };
        assert_eq!(units_finding(&need, &have).verdict, Verdict::Unknown);
    }

    #[test]
    fn number_formatting() {
        assert_eq!(number(5.0 / 9.0), "0.555556");
        assert_eq!(number(-160.0 / 9.0), "-17.7778");
        assert_eq!(number(1.0 / 3.6), "0.277778");
        assert_eq!(number(3.6e6), "3600000");
        assert_eq!(number(1e-7), "1.00000e-7");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
