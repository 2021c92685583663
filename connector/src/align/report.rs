//! What an alignment check says: one [`Finding`] per [`Dimension`], each with a [`Verdict`], a reason an operator
//! who is not an engineer can act on, and the numbers behind it (`details`) for whoever wants to act automatically
//! (convert the units, reproject, aggregate). The wire form is plain JSON with lowercase names, as the management
//! API and the DSP catalogue show it.

use serde::{Deserialize, Serialize};

/// How well one dimension of a dataset fits what a model input needs.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Usable as it is.
    Aligned,
    /// Usable after a stated, mechanical step (unit conversion, reprojection, aggregation).
    Convertible,
    /// Not usable for this input.
    Misaligned,
    /// A fact needed to decide is missing or unreadable.
    Unknown,
}

impl Verdict {
    /// The least usable of `items`: misaligned, then unknown, then convertible, then aligned. Unknown ranks above
    /// convertible because a check that could not be made must not let a pairing pass as merely needing a
    /// conversion. Nothing to judge is aligned.
    pub fn worst(items: impl IntoIterator<Item = Verdict>) -> Verdict {
        items
            .into_iter()
            .max_by_key(|v| v.rank())
            .unwrap_or(Verdict::Aligned)
    }

    fn rank(self) -> u8 {
        match self {
            Verdict::Aligned => 0,
            Verdict::Convertible => 1,
            Verdict::Unknown => 2,
            Verdict::Misaligned => 3,
        }
    }

    /// The lowercase word used in JSON and in reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Aligned => "aligned",
            Verdict::Convertible => "convertible",
            Verdict::Misaligned => "misaligned",
            Verdict::Unknown => "unknown",
        }
    }

    /// The verdict [`Verdict::as_str`] wrote; anything else reads as unknown, which never passes.
    pub fn parse(s: &str) -> Verdict {
        [Verdict::Aligned, Verdict::Convertible, Verdict::Misaligned]
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or(Verdict::Unknown)
    }
}

/// What is compared.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// Record structure: properties, their types, the NGSI-LD entity type.
    Schema,
    /// Units of measure.
    Units,
    /// Coordinate reference system and spatial coverage.
    Space,
    /// Time resolution and temporal coverage.
    Time,
}

impl Dimension {
    /// The lowercase word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Schema => "schema",
            Dimension::Units => "units",
            Dimension::Space => "space",
            Dimension::Time => "time",
        }
    }
}

/// One dimension's verdict with its reason.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Finding {
    pub dimension: Dimension,
    pub verdict: Verdict,
    /// One or two sentences naming the values compared.
    pub reason: String,
    /// A dimension-specific object (conversions, coverage, missing properties); `null` when there is nothing more.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl Finding {
    pub(crate) fn new(
        dimension: Dimension,
        verdict: Verdict,
        reason: impl Into<String>,
        details: serde_json::Value,
    ) -> Finding {
        Finding {
            dimension,
            verdict,
            reason: reason.into(),
            details,
        }
    }
}

/// A fraction as a whole percentage for reasons, never showing 100 % for a fraction below one or 0 % above zero.
pub(crate) fn percent(fraction: f64) -> String {
    let p = if fraction.is_nan() {
        0.0
    } else {
        (fraction * 100.0).clamp(0.0, 100.0)
    };
    let shown = if p > 0.0 && p < 1.0 {
        1.0
    } else if p > 99.0 && p < 100.0 {
        99.0
    } else {
        p.round()
    };
    format!("{shown:.0} %")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn worst_orders_misaligned_unknown_convertible_aligned() {
        use Verdict::*;
        assert_eq!(Verdict::worst([]), Aligned);
        assert_eq!(Verdict::worst([Aligned, Convertible]), Convertible);
        assert_eq!(Verdict::worst([Convertible, Unknown, Aligned]), Unknown);
        assert_eq!(
            Verdict::worst([Unknown, Misaligned, Convertible]),
            Misaligned
        );
        assert_eq!(Verdict::worst([Aligned]), Aligned);
    }

    #[test]
    fn finding_serialises_lowercase_and_leaves_out_null_details() {
        let f = Finding::new(
            Dimension::Units,
            Verdict::Convertible,
            "r",
            serde_json::Value::Null,
        );
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            v,
            json!({"dimension": "units", "verdict": "convertible", "reason": "r"})
        );
        let back: Finding = serde_json::from_value(v).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn percent_never_rounds_to_full_or_empty() {
        assert_eq!(percent(0.62), "62 %");
        assert_eq!(percent(0.9999), "99 %");
        assert_eq!(percent(0.001), "1 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(f64::NAN), "0 %");
        assert_eq!(percent(f64::INFINITY), "100 %");
    }
}
