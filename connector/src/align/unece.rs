//! UN/CEFACT Recommendation 20 common codes (what NGSI-LD's `unitCode` holds: `CEL`, `KMH`, `MTQ`) read as UCUM.
//! The table `vocab/unece-ucum.tsv` is generated from QUDT by `vocab/unece-ucum.py` (see its header); it is read
//! once, on first use.

use std::collections::HashMap;
use std::sync::LazyLock;

const TABLE: &str = include_str!("../../vocab/unece-ucum.tsv");

/// One Rec 20 code's UCUM reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The case-sensitive UCUM code.
    pub ucum: &'static str,
    /// The Rec 20 English name, e.g. "degree Celsius".
    pub name: &'static str,
}

static CODES: LazyLock<HashMap<&'static str, Entry>> = LazyLock::new(|| {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let code = cols.next()?.trim();
            let ucum = cols.next()?.trim();
            let name = cols.next().unwrap_or("").trim();
            (!code.is_empty() && !ucum.is_empty()).then_some((code, Entry { ucum, name }))
        })
        .collect()
});

/// The UCUM reading of a Rec 20 common code (exact, upper case as Rec 20 writes them).
pub fn lookup(code: &str) -> Option<Entry> {
    CODES.get(code).copied()
}

/// Every code in the table, for tests and listings.
pub fn codes() -> impl Iterator<Item = (&'static str, Entry)> {
    CODES.iter().map(|(k, v)| (*k, *v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_mappings() {
        let cases = [
            ("CEL", &["Cel"][..]),
            ("KMH", &["km/h", "km.h-1"][..]),
            ("MTQ", &["m3"][..]),
            ("KWH", &["kW.h"][..]),
            ("P1", &["%"][..]),
            ("A97", &["hPa"][..]),
            ("FAH", &["[degF]"][..]),
            ("MTR", &["m"][..]),
            ("SEC", &["s"][..]),
            ("HUR", &["h"][..]),
            ("KGM", &["kg"][..]),
            ("LTR", &["L", "l"][..]),
            ("MTS", &["m/s", "m.s-1"][..]),
            ("KEL", &["K"][..]),
            ("WTT", &["W"][..]),
            ("H67", &["mm/h", "mm.h-1"][..]),
            ("GQ", &["ug/m3", "ug.m-3"][..]),
        ];
        for (code, expected) in cases {
            let got = lookup(code).map(|e| e.ucum);
            assert!(
                got.is_some_and(|g| expected.contains(&g)),
                "{code}: got {got:?}, expected one of {expected:?}"
            );
        }
        assert_eq!(lookup("CEL").map(|e| e.name), Some("degree Celsius"));
    }

    #[test]
    fn deleted_and_unknown_codes_are_absent() {
        // KTM (kilometre) has status X in Rec 20: deleted, so not read.
        assert_eq!(lookup("KTM"), None);
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("cel"), None);
        assert_eq!(lookup("NOT-A-CODE"), None);
    }

    #[test]
    fn every_table_code_parses() {
        let mut bad = Vec::new();
        let mut n = 0;
        for (code, e) in codes() {
            n += 1;
            match ucum::analyze(e.ucum) {
                Ok(a) if a.factor.is_finite() && a.factor != 0.0 => {}
                other => bad.push(format!("{code} -> {}: {other:?}", e.ucum)),
            }
        }
        assert!(n > 1000, "the table has only {n} codes");
        assert!(
            bad.is_empty(),
            "UCUM codes the crate refuses:\n{}",
            bad.join("\n")
        );
    }
}
