//! What a client may ask of the open catalogue, whatever interface it uses: words to find, an area, a time
//! interval, kinds, ids, a change date. Each interface parses its own syntax (Records query parameters, a CSW
//! filter, `modified_since`) into a [`Search`]; the index answers it the same way for all of them.

use time::OffsetDateTime;

use super::super::kind::ResourceKind;
use super::super::metadata::Bbox;
use super::index::Entry;

/// All conditions must hold; an empty list or `None` means "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Lower-case terms, any of which must occur in the title, description or keywords (Records `q`).
    pub any_terms: Vec<String>,
    /// Lower-case terms, each of which must occur (CSW `PropertyIsLike` on AnyText, one per condition).
    pub all_terms: Vec<String>,
    /// Records whose box intersects this one (CRS84). A record without a box never matches a box.
    pub bbox: Option<Bbox>,
    /// Records whose temporal coverage meets this interval; `None` ends are open.
    pub interval: Option<(Option<OffsetDateTime>, Option<OffsetDateTime>)>,
    pub kinds: Vec<ResourceKind>,
    /// A set: a search by a thousand ids over ten thousand entries stays linear.
    pub ids: std::collections::HashSet<String>,
    /// Changed at or after this instant.
    pub modified_since: Option<OffsetDateTime>,
}

impl Search {
    pub fn matches(&self, e: &Entry) -> bool {
        if !self.ids.is_empty() && !self.ids.contains(e.id.as_str()) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&e.kind) {
            return false;
        }
        if !self.any_terms.is_empty() && !self.any_terms.iter().any(|t| e.text.contains(t.as_str()))
        {
            return false;
        }
        if !self.all_terms.iter().all(|t| e.text.contains(t.as_str())) {
            return false;
        }
        if let Some(b) = &self.bbox {
            match &e.bbox {
                Some(own) if intersects(own, b) => {}
                _ => return false,
            }
        }
        if let Some((from, to)) = &self.interval {
            // A record with no temporal coverage has its modification time as its instant (Records `datetime`
            // applies to "the temporal extent or, failing that, the record's time").
            let (start, end) = match (e.start, e.end) {
                (None, None) => (Some(e.modified), Some(e.modified)),
                other => other,
            };
            if let (Some(to), Some(start)) = (to, start) {
                if start > *to {
                    return false;
                }
            }
            if let (Some(from), Some(end)) = (from, end) {
                if end < *from {
                    return false;
                }
            }
        }
        if let Some(since) = self.modified_since {
            if e.modified < since {
                return false;
            }
        }
        true
    }
}

fn intersects(a: &Bbox, b: &Bbox) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// Splits free text into the lower-case terms the index compares with.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry() -> Entry {
        Entry {
            id: "urn:r:1".into(),
            kind: ResourceKind::Dataset,
            text: "traffic counts vehicles per hour mobility".into(),
            bbox: Some([4.7, 52.3, 5.1, 52.5]),
            start: Some(datetime!(2026-01-01 0:00 UTC)),
            end: None,
            modified: datetime!(2026-06-01 0:00 UTC),
        }
    }

    #[test]
    fn each_condition_narrows() {
        let e = entry();
        assert!(Search::default().matches(&e));
        let q = |t: &[&str]| Search {
            any_terms: t.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert!(q(&["parking", "traffic"]).matches(&e));
        assert!(!q(&["parking"]).matches(&e));
        let bbox = |b: Bbox| Search {
            bbox: Some(b),
            ..Default::default()
        };
        assert!(bbox([5.0, 52.4, 6.0, 53.0]).matches(&e));
        assert!(!bbox([6.0, 52.4, 7.0, 53.0]).matches(&e));
        let during = |from, to| Search {
            interval: Some((from, to)),
            ..Default::default()
        };
        assert!(during(Some(datetime!(2030-01-01 0:00 UTC)), None).matches(&e));
        assert!(!during(None, Some(datetime!(2025-01-01 0:00 UTC))).matches(&e));
        let kinds = Search {
            kinds: vec![ResourceKind::ModelOrService],
            ..Default::default()
        };
        assert!(!kinds.matches(&e));
        let since = Search {
            modified_since: Some(datetime!(2026-07-01 0:00 UTC)),
            ..Default::default()
        };
        assert!(!since.matches(&e));
    }

    #[test]
    fn terms_split_on_commas_and_spaces() {
        assert_eq!(terms("Flood, heat  risk"), vec!["flood", "heat", "risk"]);
    }
}
