//! CSW query constraints (from an OGC Filter 1.1 or CQL text) and how they are answered. A constraint is first
//! decided on the search index alone, in three-valued logic: identifier, type, AnyText (title, description and
//! keywords), modification date and box are exact there, while title, abstract, subject and format only narrow
//! ("maybe" when the words could be in the right field). Only the records left at "maybe" are read whole and
//! decided on their fields, so a search over 10 000 resources reads just the few it could match.
//! Text comparisons ignore case, as pycsw's do.

use time::OffsetDateTime;

use super::exception::CswError;
pub use super::like::Like;
use crate::catalogue::kind::ResourceKind;
use crate::catalogue::metadata::Bbox;
use crate::catalogue::public::{Entry, PublicRecord};

/// The DCMI type a record publishes (`dc:type`): a model or service is a Service, every other kind data.
pub fn dcmi_type(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ModelOrService => "http://purl.org/dc/dcmitype/Service",
        _ => "http://purl.org/dc/dcmitype/Dataset",
    }
}

/// A queryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    AnyText,
    Title,
    Abstract,
    Subject,
    Format,
    Identifier,
    Type,
    Modified,
    BoundingBox,
}

/// The queryables, as advertised in the capabilities.
pub const QUERYABLES: [&str; 9] = [
    "csw:AnyText",
    "dc:title",
    "dct:abstract",
    "dc:subject",
    "dc:format",
    "dc:identifier",
    "dc:type",
    "dct:modified",
    "ows:BoundingBox",
];

impl Property {
    /// A property name with any prefix (`dc:title`, `apiso:Title`, `AnyText`).
    pub fn parse(name: &str) -> Result<Property, CswError> {
        let local = name.trim().rsplit(':').next().unwrap_or("");
        Ok(match local.to_ascii_lowercase().as_str() {
            "anytext" => Property::AnyText,
            "title" => Property::Title,
            "abstract" | "description" => Property::Abstract,
            "subject" | "keywords" => Property::Subject,
            "format" => Property::Format,
            "identifier" => Property::Identifier,
            "type" => Property::Type,
            "modified" => Property::Modified,
            "boundingbox" => Property::BoundingBox,
            _ => {
                return Err(CswError::invalid(
                    "Constraint",
                    format!(
                        "{name:?} is not a queryable of this catalogue; use one of {}",
                        QUERYABLES.join(", ")
                    ),
                ))
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Like(Property, Like),
    /// Case-insensitive equality of a text queryable (containment for AnyText), with the value lower-cased
    /// (made by [`Filter::compare`]).
    Equal(Property, String),
    /// A comparison of the modification time with a date (all of its day) or a date-time (first and last
    /// instant it stands for).
    Modified(Comparison, (OffsetDateTime, OffsetDateTime)),
    /// Boxes that intersect this one (CRS84; west > east crosses the antimeridian).
    BBox(Bbox),
}

/// The most conditions one constraint may have: each costs a pass over the index.
pub const MAX_CONDITIONS: usize = 64;

impl Filter {
    /// The length of every LIKE pattern with a single-character wildcard, summed: what matching such patterns costs
    /// per character of text, since they are matched character by character (the others by substring search).
    pub fn char_matching_cost(&self) -> usize {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().map(Filter::char_matching_cost).sum(),
            Filter::Not(f) => f.char_matching_cost(),
            Filter::Like(_, pattern) => pattern.char_matching_cost(),
            _ => 0,
        }
    }

    /// `property LIKE pattern`, refusing properties that are not text.
    pub fn like(property: Property, pattern: Like) -> Result<Filter, CswError> {
        match property {
            Property::Modified | Property::BoundingBox => Err(CswError::invalid(
                "Constraint",
                "PropertyIsLike compares text; dct:modified and ows:BoundingBox are not text",
            )),
            p => Ok(Filter::Like(p, pattern)),
        }
    }

    /// `property op value`: ordering only for dct:modified, whose value must be a date or date-time.
    pub fn compare(property: Property, op: Comparison, value: &str) -> Result<Filter, CswError> {
        match (property, op) {
            (Property::Modified, op) => {
                let t = crate::catalogue::resource::span(value.trim()).ok_or_else(|| {
                    CswError::invalid(
                        "Constraint",
                        format!("{value:?} is not a date or RFC 3339 date-time"),
                    )
                })?;
                Ok(Filter::Modified(op, t))
            }
            (Property::BoundingBox, _) => Err(CswError::invalid(
                "Constraint",
                "ows:BoundingBox is compared with BBOX",
            )),
            (p, Comparison::Equal) => Ok(Filter::Equal(p, value.to_lowercase())),
            _ => Err(CswError::invalid(
                "Constraint",
                "only dct:modified can be compared with <, <=, > or >=",
            )),
        }
    }

    /// How many conditions the filter holds (to bound the work one request may ask for).
    pub fn conditions(&self) -> usize {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().map(Filter::conditions).sum(),
            Filter::Not(f) => f.conditions(),
            _ => 1,
        }
    }

    /// Decides the filter for one index entry, with the whole record when it has been read.
    pub fn eval(&self, e: &Entry, r: Option<&PublicRecord>) -> Tri {
        match self {
            Filter::And(fs) => fs.iter().fold(Tri::Yes, |acc, f| acc.and(f.eval(e, r))),
            Filter::Or(fs) => fs.iter().fold(Tri::No, |acc, f| acc.or(f.eval(e, r))),
            Filter::Not(f) => f.eval(e, r).not(),
            Filter::Like(p, pattern) => text_test(*p, e, r, &Test::Like(pattern)),
            Filter::Equal(p, value) => text_test(*p, e, r, &Test::Equal(value)),
            Filter::Modified(op, (first, last)) => Tri::from(match op {
                Comparison::Equal => (*first..=*last).contains(&e.modified),
                Comparison::Less => e.modified < *first,
                Comparison::LessOrEqual => e.modified <= *last,
                Comparison::Greater => e.modified > *last,
                Comparison::GreaterOrEqual => e.modified >= *first,
            }),
            Filter::BBox(b) => Tri::from(e.bbox.as_ref().is_some_and(|own| intersects(own, b))),
        }
    }
}

/// A text test: a LIKE pattern, or equality with a lower-cased value.
enum Test<'a> {
    Like(&'a Like),
    Equal(&'a str),
}

impl Test<'_> {
    fn holds(&self, value: &str) -> bool {
        let value = value.to_lowercase();
        match self {
            Test::Like(p) => p.matches(&value),
            Test::Equal(v) => value == *v,
        }
    }

    /// Whether a field that is part of `text` (lower-cased) could pass: every literal run of the pattern, or the
    /// value, must occur in it.
    fn could_hold_within(&self, text: &str) -> bool {
        match self {
            Test::Like(p) => p.fragments.iter().all(|f| text.contains(f.as_str())),
            Test::Equal(v) => text.contains(*v),
        }
    }
}

fn text_test(p: Property, e: &Entry, r: Option<&PublicRecord>, test: &Test) -> Tri {
    match p {
        Property::AnyText => Tri::from(match test {
            Test::Like(pattern) => pattern.matches(&e.text),
            // Equality with the whole of AnyText would never hold; "the text contains this" is what is meant.
            Test::Equal(v) => e.text.contains(*v),
        }),
        Property::Identifier => Tri::from(test.holds(&e.id)),
        Property::Type => {
            let names = [
                dcmi_type(e.kind),
                dcmi_type(e.kind).rsplit('/').next().unwrap_or(""),
                e.kind.as_str(),
            ];
            Tri::from(match test {
                // `dataset` and `service` are ISO hierarchy levels as much as kinds: they name the DCMI type.
                Test::Equal(v) => {
                    names.iter().any(|n| n.to_lowercase() == *v)
                        || ResourceKind::parse(v).is_some_and(|k| k == e.kind && *v != "dataset")
                }
                Test::Like(_) => names.iter().any(|n| test.holds(n)),
            })
        }
        Property::Title | Property::Abstract => match r {
            Some(r) => Tri::from(test.holds(if p == Property::Title {
                &r.title
            } else {
                &r.description
            })),
            None if test.could_hold_within(&e.text) => Tri::Maybe,
            None => Tri::No,
        },
        Property::Subject => match r {
            Some(r) => Tri::from(subjects(r).iter().any(|s| test.holds(s))),
            None => Tri::Maybe,
        },
        Property::Format => {
            match r {
                Some(r) => Tri::from(r.distributions.iter().any(|d| {
                    test.holds(&d.media_type) || d.file_type.is_some_and(|f| test.holds(f))
                })),
                None => Tri::Maybe,
            }
        }
        // Refused when the filter is read.
        Property::Modified | Property::BoundingBox => Tri::No,
    }
}

/// What `dc:subject` holds for a record: keywords, theme labels and IRIs, kind and stage.
pub fn subjects(r: &PublicRecord) -> Vec<&str> {
    let mut out: Vec<&str> = r.keywords.iter().map(String::as_str).collect();
    for t in &r.themes {
        out.push(&t.label);
        out.push(&t.iri);
    }
    out.push(r.kind.as_str());
    if let Some(s) = r.stage {
        out.push(s.as_str());
    }
    out
}

/// Box intersection; a query box with west > east is the two boxes either side of the antimeridian.
fn intersects(own: &Bbox, q: &Bbox) -> bool {
    let plain = |q: &Bbox| own[0] <= q[2] && q[0] <= own[2] && own[1] <= q[3] && q[1] <= own[3];
    if q[0] <= q[2] {
        plain(q)
    } else {
        plain(&[q[0], q[1], 180.0, q[3]]) || plain(&[-180.0, q[1], q[2], q[3]])
    }
}

/// Three-valued logic (Kleene): `Maybe` is "cannot tell from the index".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Maybe,
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

impl Tri {
    fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Maybe,
        }
    }

    fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn like(p: &str) -> Like {
        Like::parse(p, '%', '_', Some('\\')).unwrap()
    }

    fn entry() -> Entry {
        Entry {
            id: "urn:x:flood-model".into(),
            kind: ResourceKind::ModelOrService,
            text: "pluvial flood simulation\nruns a rainfall scenario\nflooding".into(),
            bbox: Some([4.73, 52.28, 5.07, 52.43]),
            start: None,
            end: None,
            modified: datetime!(2026-06-01 0:00 UTC),
        }
    }

    #[test]
    fn the_index_decides_what_it_can_and_leaves_the_rest_open() {
        let e = entry();
        let any = |p: &str| Filter::Like(Property::AnyText, like(p));
        assert_eq!(any("%flood%").eval(&e, None), Tri::Yes);
        assert_eq!(any("%traffic%").eval(&e, None), Tri::No);
        let title = |p: &str| Filter::Like(Property::Title, like(p));
        assert_eq!(title("%rainfall%").eval(&e, None), Tri::Maybe);
        assert_eq!(title("%traffic%").eval(&e, None), Tri::No);
        let ty = |v: &str| Filter::compare(Property::Type, Comparison::Equal, v).unwrap();
        for v in [
            "http://purl.org/dc/dcmitype/Service",
            "service",
            "model-or-service",
        ] {
            assert_eq!(ty(v).eval(&e, None), Tri::Yes, "{v}");
        }
        for v in [
            "dataset",
            "http://purl.org/dc/dcmitype/Dataset",
            "workflow-template",
        ] {
            assert_eq!(ty(v).eval(&e, None), Tri::No, "{v}");
        }
        let id =
            Filter::compare(Property::Identifier, Comparison::Equal, "URN:X:FLOOD-MODEL").unwrap();
        assert_eq!(id.eval(&e, None), Tri::Yes);
        let not_title = Filter::Not(Box::new(title("%rainfall%")));
        assert_eq!(not_title.eval(&e, None), Tri::Maybe);
        let and = Filter::And(vec![title("%rainfall%"), any("%traffic%")]);
        assert_eq!(and.eval(&e, None), Tri::No);
        let or = Filter::Or(vec![title("%rainfall%"), any("%flood%")]);
        assert_eq!(or.eval(&e, None), Tri::Yes);
        let newer = Filter::compare(Property::Modified, Comparison::Greater, "2026-01-01").unwrap();
        assert_eq!(newer.eval(&e, None), Tri::Yes);
        assert!(Filter::compare(Property::Title, Comparison::Less, "a").is_err());
        assert!(Filter::compare(Property::Modified, Comparison::Less, "soon").is_err());
        assert!(Filter::like(Property::BoundingBox, like("%")).is_err());
    }

    #[test]
    fn boxes_intersect_also_across_the_antimeridian() {
        let e = entry();
        assert_eq!(
            Filter::BBox([4.8, 52.3, 4.9, 52.4]).eval(&e, None),
            Tri::Yes
        );
        assert_eq!(Filter::BBox([6.0, 52.3, 7.0, 52.4]).eval(&e, None), Tri::No);
        assert_eq!(
            Filter::BBox([170.0, 50.0, 5.0, 53.0]).eval(&e, None),
            Tri::Yes
        );
        assert_eq!(
            Filter::BBox([170.0, 50.0, -170.0, 53.0]).eval(&e, None),
            Tri::No
        );
        let mut unlocated = entry();
        unlocated.bbox = None;
        assert_eq!(
            Filter::BBox([-180.0, -90.0, 180.0, 90.0]).eval(&unlocated, None),
            Tri::No
        );
    }

    #[test]
    fn queryables_are_read_with_any_prefix() {
        assert_eq!(Property::parse("csw:AnyText").unwrap(), Property::AnyText);
        assert_eq!(Property::parse("apiso:Title").unwrap(), Property::Title);
        assert_eq!(
            Property::parse("dc:description").unwrap(),
            Property::Abstract
        );
        assert!(Property::parse("dc:colour").is_err());
    }
}
