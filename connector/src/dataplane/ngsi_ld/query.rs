//! The query string of an NGSI-LD read, parsed parameter by parameter and written again in one canonical form. The
//! parameters are those ETSI GS CIM 009 (V1.8) defines for Query Entities (`GET …/entities`) and Retrieve Entity
//! (`GET …/entities/{id}`); anything else, a parameter given twice, a value that does not parse or one a retrieve by
//! id does not take is refused. What the broker receives is [`Parameters::canonical`]: every value re-serialised from
//! what was parsed, percent-encoded one way, in one order, so it reads exactly what the data plane judged.
//!
//! Decoding follows RFC 3986 as the specification asks: `%XX` escapes only, and `+` is a plus sign (a date-time's
//! offset, a scope wildcard), not a space.

use std::collections::BTreeMap;
use std::fmt;

use super::q::{self, Expr, Name, ParseError, Scope, Term};

/// Why a query string is refused (all of them are the partner's error: `400`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("the query string is not valid percent-encoded UTF-8")]
    Encoding,
    #[error("query parameter {0} has no value")]
    NoValue(String),
    #[error("query parameter {0} is given more than once")]
    Duplicate(String),
    #[error("{0} is not an NGSI-LD query parameter")]
    Unknown(String),
    #[error("{0} is not a parameter of Retrieve Entity (…/entities/{{id}})")]
    NotOnRetrieve(&'static str),
    #[error("{param}: {error}")]
    Malformed {
        param: &'static str,
        error: ParseError,
    },
    #[error("{param}: {message}")]
    Invalid {
        param: &'static str,
        message: String,
    },
}

/// Which operation the parameters are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Query Entities (`…/entities`).
    Query,
    /// Retrieve Entity (`…/entities/{id}`).
    Retrieve,
}

/// The parameters, in the order the canonical query string lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Param {
    Id,
    Type,
    IdPattern,
    Attrs,
    Pick,
    Omit,
    Q,
    ScopeQ,
    Georel,
    Geometry,
    Coordinates,
    Geoproperty,
    GeometryProperty,
    Csf,
    Lang,
    Options,
    Format,
    Limit,
    Offset,
    Count,
    Local,
    DatasetId,
    ExpandValues,
    JsonKeys,
    ContainedBy,
    Join,
    JoinLevel,
    EntityMap,
    CollectionLimit,
}

const NAMES: &[(Param, &str)] = &[
    (Param::Id, "id"),
    (Param::Type, "type"),
    (Param::IdPattern, "idPattern"),
    (Param::Attrs, "attrs"),
    (Param::Pick, "pick"),
    (Param::Omit, "omit"),
    (Param::Q, "q"),
    (Param::ScopeQ, "scopeQ"),
    (Param::Georel, "georel"),
    (Param::Geometry, "geometry"),
    (Param::Coordinates, "coordinates"),
    (Param::Geoproperty, "geoproperty"),
    (Param::GeometryProperty, "geometryProperty"),
    (Param::Csf, "csf"),
    (Param::Lang, "lang"),
    (Param::Options, "options"),
    (Param::Format, "format"),
    (Param::Limit, "limit"),
    (Param::Offset, "offset"),
    (Param::Count, "count"),
    (Param::Local, "local"),
    (Param::DatasetId, "datasetId"),
    (Param::ExpandValues, "expandValues"),
    (Param::JsonKeys, "jsonKeys"),
    (Param::ContainedBy, "containedBy"),
    (Param::Join, "join"),
    (Param::JoinLevel, "joinLevel"),
    (Param::EntityMap, "entityMap"),
    (Param::CollectionLimit, "collectionLimit"),
];

impl Param {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    }

    fn from_name(name: &str) -> Option<Param> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }

    /// Whether Retrieve Entity takes it: the selection parameters of a query (ids, filters, geo-queries,
    /// paging) have no meaning for one entity named in the path.
    fn on_retrieve(self) -> bool {
        !matches!(
            self,
            Param::Id
                | Param::IdPattern
                | Param::Q
                | Param::ScopeQ
                | Param::Georel
                | Param::Geometry
                | Param::Coordinates
                | Param::Geoproperty
                | Param::Csf
                | Param::Limit
                | Param::Offset
                | Param::Count
        )
    }
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `id`, `containedBy`, `datasetId` (which also takes `@none`).
    Uris(Vec<String>),
    Types(Expr<Name>),
    /// `idPattern`: a regular expression over entity ids, opaque to the data plane.
    Pattern(String),
    /// `attrs`, `pick`, `omit`, `expandValues`, `jsonKeys`.
    Names(Vec<Name>),
    /// `geoproperty`, `geometryProperty`.
    Name(Name),
    /// `q`, `csf`.
    Query(Expr<Term>),
    Scopes(Expr<Scope>),
    Georel(Georel),
    Geometry(Geometry),
    /// Canonical JSON of the coordinates array.
    Coordinates(String),
    /// `lang`: language tags and ranges, each with an optional weight, as written.
    Lang(Vec<String>),
    /// `options`, `format`, `join`: words from a fixed list.
    Words(Vec<&'static str>),
    Number(u64),
    Flag(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: &mut dyn Iterator<Item = String>| {
            f.write_str(&items.collect::<Vec<_>>().join(","))
        };
        match self {
            Value::Uris(items) | Value::Lang(items) => f.write_str(&items.join(",")),
            Value::Types(e) => write!(f, "{e}"),
            Value::Pattern(s) | Value::Coordinates(s) => f.write_str(s),
            Value::Names(items) => list(f, &mut items.iter().map(Name::to_string)),
            Value::Name(n) => write!(f, "{n}"),
            Value::Query(e) => write!(f, "{e}"),
            Value::Scopes(e) => write!(f, "{e}"),
            Value::Georel(g) => write!(f, "{g}"),
            Value::Geometry(g) => f.write_str(g.as_str()),
            Value::Words(words) => f.write_str(&words.join(",")),
            Value::Number(n) => write!(f, "{n}"),
            Value::Flag(b) => write!(f, "{b}"),
        }
    }
}

/// A geo-query relation (GS CIM 009 clause 4.10).
#[derive(Debug, Clone, PartialEq)]
pub enum Georel {
    /// `near;maxDistance==n` or `near;minDistance==n` (metres, as written).
    Near {
        bound: &'static str,
        distance: String,
    },
    Other(&'static str),
}

impl fmt::Display for Georel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Georel::Near { bound, distance } => write!(f, "near;{bound}=={distance}"),
            Georel::Other(rel) => f.write_str(rel),
        }
    }
}

/// GeoJSON geometry types a geo-query may use, with how deeply their coordinates nest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
}

const GEOMETRIES: &[(Geometry, &str, usize)] = &[
    (Geometry::Point, "Point", 1),
    (Geometry::MultiPoint, "MultiPoint", 2),
    (Geometry::LineString, "LineString", 2),
    (Geometry::MultiLineString, "MultiLineString", 3),
    (Geometry::Polygon, "Polygon", 3),
    (Geometry::MultiPolygon, "MultiPolygon", 4),
];

impl Geometry {
    pub fn as_str(self) -> &'static str {
        GEOMETRIES
            .iter()
            .find(|(g, _, _)| *g == self)
            .map(|(_, n, _)| *n)
            .unwrap_or_default()
    }
    fn depth(self) -> usize {
        GEOMETRIES
            .iter()
            .find(|(g, _, _)| *g == self)
            .map(|(_, _, d)| *d)
            .unwrap_or_default()
    }
}

const OPTIONS: &[&str] = &[
    "keyValues",
    "simplified",
    "concise",
    "normalized",
    "sysAttrs",
];
const FORMATS: &[&str] = &["keyValues", "simplified", "concise", "normalized"];
const JOINS: &[&str] = &["flat", "inline", "@none"];
const GEORELS: &[&str] = &[
    "equals",
    "disjoint",
    "intersects",
    "within",
    "contains",
    "overlaps",
];

/// The parsed parameters of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters {
    values: BTreeMap<Param, Value>,
}

impl Parameters {
    /// Parses decoded `(name, value)` pairs (see [`pairs`]) for `kind`.
    pub fn parse(pairs: &[(String, String)], kind: Kind) -> Result<Parameters, QueryError> {
        let mut values = BTreeMap::new();
        for (name, value) in pairs {
            let param = Param::from_name(name).ok_or_else(|| QueryError::Unknown(shorten(name)))?;
            if kind == Kind::Retrieve && !param.on_retrieve() {
                return Err(QueryError::NotOnRetrieve(param.name()));
            }
            values.insert(param, parse_value(param, value)?);
        }
        let out = Parameters { values };
        out.check_together()?;
        Ok(out)
    }

    fn check_together(&self) -> Result<(), QueryError> {
        let geo = [Param::Georel, Param::Geometry, Param::Coordinates];
        let present = geo.iter().filter(|p| self.values.contains_key(p)).count();
        if present != 0 && present != geo.len() {
            return Err(QueryError::Invalid {
                param: "georel",
                message: "a geo-query needs georel, geometry and coordinates together".into(),
            });
        }
        if present == 0 && self.values.contains_key(&Param::Geoproperty) {
            return Err(QueryError::Invalid {
                param: "geoproperty",
                message: "names the property of a geo-query, and there is none".into(),
            });
        }
        if let (Some(Value::Geometry(g)), Some(Value::Coordinates(c))) = (
            self.values.get(&Param::Geometry),
            self.values.get(&Param::Coordinates),
        ) {
            if coordinates_depth(c) != Some(g.depth()) {
                return Err(QueryError::Invalid {
                    param: "coordinates",
                    message: format!("do not have the shape of a {}", g.as_str()),
                });
            }
        }
        if self.values.contains_key(&Param::Pick) && self.values.contains_key(&Param::Omit) {
            return Err(QueryError::Invalid {
                param: "pick",
                message: "pick and omit exclude each other".into(),
            });
        }
        Ok(())
    }

    pub fn get(&self, param: Param) -> Option<&Value> {
        self.values.get(&param)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Param, &Value)> {
        self.values.iter().map(|(p, v)| (*p, v))
    }

    /// The query string the broker receives, or `None` without parameters.
    pub fn canonical(&self) -> Option<String> {
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(p, v)| format!("{}={}", p.name(), encode(&v.to_string())))
            .collect();
        (!parts.is_empty()).then(|| parts.join("&"))
    }
}

fn parse_value(param: Param, raw: &str) -> Result<Value, QueryError> {
    let name = param.name();
    let malformed = |error: ParseError| QueryError::Malformed { param: name, error };
    let invalid = |message: String| QueryError::Invalid {
        param: name,
        message,
    };
    Ok(match param {
        Param::Id | Param::ContainedBy => Value::Uris(uris(raw, false).map_err(invalid)?),
        Param::DatasetId => Value::Uris(uris(raw, true).map_err(invalid)?),
        Param::Type => Value::Types(q::types(raw).map_err(malformed)?),
        Param::IdPattern => {
            if raw.chars().any(char::is_control) || raw.len() > 1024 {
                return Err(invalid("must be a regular expression of at most 1024 bytes without control characters".into()));
            }
            Value::Pattern(raw.to_string())
        }
        Param::Attrs | Param::Pick | Param::Omit | Param::ExpandValues | Param::JsonKeys => {
            Value::Names(q::names(raw).map_err(malformed)?)
        }
        Param::Geoproperty | Param::GeometryProperty => Value::Name(q::name(raw).map_err(malformed)?),
        Param::Q | Param::Csf => Value::Query(q::query(raw).map_err(malformed)?),
        Param::ScopeQ => Value::Scopes(q::scopes(raw).map_err(malformed)?),
        Param::Georel => Value::Georel(georel(raw).ok_or_else(|| {
            invalid("must be near;maxDistance==<metres>, near;minDistance==<metres>, equals, disjoint, intersects, within, contains or overlaps".into())
        })?),
        Param::Geometry => Value::Geometry(
            GEOMETRIES
                .iter()
                .find(|(_, n, _)| *n == raw)
                .map(|(g, _, _)| *g)
                .ok_or_else(|| invalid("must be a GeoJSON geometry type (Point, Polygon, ...)".into()))?,
        ),
        Param::Coordinates => Value::Coordinates(coordinates(raw).ok_or_else(|| {
            invalid("must be a JSON array of coordinates (numbers, nested at most four deep)".into())
        })?),
        Param::Lang => Value::Lang(lang(raw).ok_or_else(|| {
            invalid("must be language tags or *, each with an optional ;q= weight".into())
        })?),
        Param::Options => Value::Words(words(raw, OPTIONS, true).map_err(invalid)?),
        Param::Format => Value::Words(words(raw, FORMATS, false).map_err(invalid)?),
        Param::Join => Value::Words(words(raw, JOINS, false).map_err(invalid)?),
        Param::Limit | Param::Offset | Param::JoinLevel | Param::CollectionLimit => {
            Value::Number(number(raw).ok_or_else(|| invalid("must be a whole number".into()))?)
        }
        Param::Count | Param::Local | Param::EntityMap => Value::Flag(match raw {
            "true" => true,
            "false" => false,
            _ => return Err(invalid("must be true or false".into())),
        }),
    })
}

fn uris(raw: &str, none: bool) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(|item| {
            let ok = (none && item == "@none")
                || (!item.is_empty()
                    && !item.chars().any(|c| c.is_whitespace() || c.is_control())
                    && url::Url::parse(item).is_ok());
            if ok {
                Ok(item.to_string())
            } else {
                Err(format!("{} is not an absolute URI", shorten(item)))
            }
        })
        .collect()
}

fn georel(raw: &str) -> Option<Georel> {
    if let Some(rest) = raw.strip_prefix("near;") {
        let (bound, distance) = rest.split_once("==")?;
        let bound = ["maxDistance", "minDistance"]
            .into_iter()
            .find(|b| *b == bound)?;
        if !q::is_json_number(distance) || distance.starts_with('-') {
            return None;
        }
        return Some(Georel::Near {
            bound,
            distance: distance.to_string(),
        });
    }
    GEORELS
        .iter()
        .find(|g| **g == raw)
        .map(|g| Georel::Other(g))
}

fn coordinates(raw: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(raw).ok()?;
    fn valid(v: &serde_json::Value, depth: usize) -> bool {
        match v {
            serde_json::Value::Number(_) => depth > 0,
            serde_json::Value::Array(items) => {
                depth < 4 && !items.is_empty() && items.iter().all(|i| valid(i, depth + 1))
            }
            _ => false,
        }
    }
    (value.is_array() && valid(&value, 0))
        .then(|| serde_json::to_string(&value).ok())
        .flatten()
}

/// How deeply canonical coordinates nest (`[1,2]` is 1), if every branch nests equally.
fn coordinates_depth(canonical: &str) -> Option<usize> {
    fn depth(v: &serde_json::Value) -> Option<usize> {
        match v {
            serde_json::Value::Array(items) => {
                let mut depths = items.iter().map(depth);
                let first = depths.next()??;
                depths
                    .all(|d| d == Some(first))
                    .then_some(if first == 0 { 1 } else { first + 1 })
            }
            _ => Some(0),
        }
    }
    depth(&serde_json::from_str(canonical).ok()?)
}

fn lang(raw: &str) -> Option<Vec<String>> {
    let tag = |t: &str| {
        t == "*"
            || t.split('-').enumerate().all(|(i, part)| {
                (1..=8).contains(&part.len())
                    && if i == 0 {
                        part.chars().all(|c| c.is_ascii_alphabetic())
                    } else {
                        part.chars().all(|c| c.is_ascii_alphanumeric())
                    }
            })
    };
    let weight = |w: &str| {
        let (int, frac) = w.split_once('.').unwrap_or((w, ""));
        frac.len() <= 3
            && frac.chars().all(|c| c.is_ascii_digit())
            && (int == "0" || (int == "1" && frac.chars().all(|c| c == '0')))
    };
    raw.split(',')
        .map(|item| {
            let ok = match item.split_once(";q=") {
                Some((t, w)) => tag(t) && weight(w),
                None => tag(item),
            };
            ok.then(|| item.to_string())
        })
        .collect()
}

fn words(raw: &str, allowed: &[&'static str], list: bool) -> Result<Vec<&'static str>, String> {
    let items: Vec<&str> = if list {
        raw.split(',').collect()
    } else {
        vec![raw]
    };
    items
        .into_iter()
        .map(|item| {
            allowed
                .iter()
                .find(|a| **a == item)
                .copied()
                .ok_or_else(|| format!("{} is not one of {}", shorten(item), allowed.join(", ")))
        })
        .collect()
}

fn number(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// Partner text echoed in a refusal, cut short.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(64).collect::<String>())
    }
}

/// The decoded `(name, value)` pairs of a query string, in order; a parameter given twice is refused here, since
/// readers disagree on which one counts.
pub fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, QueryError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in query.unwrap_or_default().split('&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| QueryError::NoValue(shorten(part)))?;
        let name = decode(name)?;
        let value = decode(value)?;
        if value.is_empty() {
            return Err(QueryError::NoValue(shorten(&name)));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(QueryError::Duplicate(shorten(&name)));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// Pairs re-encoded as they are, for the broker paths of an unrestricted resource that no rule reads: only the
/// encoding is made canonical.
pub fn canonical_pairs(pairs: &[(String, String)]) -> Result<Option<String>, QueryError> {
    let mut parts = Vec::new();
    for (name, value) in pairs {
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(QueryError::Unknown(shorten(name)));
        }
        parts.push(format!("{name}={}", encode(value)));
    }
    Ok((!parts.is_empty()).then(|| parts.join("&")))
}

fn decode(s: &str) -> Result<String, QueryError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(QueryError::Encoding)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(QueryError::Encoding);
            }
            let digits = std::str::from_utf8(hex).map_err(|_| QueryError::Encoding)?;
            out.push(u8::from_str_radix(digits, 16).map_err(|_| QueryError::Encoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| QueryError::Encoding)
}

/// Percent-encodes everything but unreserved characters and `:` `/` `,` (URIs and lists stay readable): one
/// spelling, read the same by every broker whatever it does with `+`, `;` or `'`.
pub fn encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/,".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str, kind: Kind) -> Result<Parameters, QueryError> {
        Parameters::parse(&pairs(Some(query))?, kind)
    }

    fn canonical(query: &str) -> String {
        parse(query, Kind::Query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .canonical()
            .unwrap_or_default()
    }

    #[test]
    fn every_parameter_parses_and_is_written_canonically() {
        let all = "id=urn:a,urn:b&type=(A;B)|C&idPattern=urn:a.*&attrs=speed,sdm:flow&pick=id,speed\
                   &q=speed%3E5&scopeQ=/Madrid/%23&georel=near%3BmaxDistance%3D%3D100&geometry=Point\
                   &coordinates=%5B8.0,%2040%5D&geoproperty=location&geometryProperty=location&csf=reg%3D%3D1\
                   &lang=en,fr%3Bq%3D0.8,*&options=keyValues,sysAttrs&format=concise&limit=10&offset=00\
                   &count=true&local=false&datasetId=urn:d,@none&expandValues=gender&jsonKeys=tickets\
                   &containedBy=urn:c&join=inline&joinLevel=2&entityMap=false&collectionLimit=5";
        let p = parse(all, Kind::Query).unwrap();
        assert_eq!(p.iter().count(), 28, "every parameter but omit");
        let out = p.canonical().unwrap();
        assert!(
            out.starts_with(
                "id=urn:a,urn:b&type=%28A%3BB%29%7CC&idPattern=urn:a.%2A&attrs=speed,sdm:flow"
            ),
            "{out}"
        );
        assert!(out.contains("&q=speed%3E5&"), "{out}");
        assert!(
            out.contains("&coordinates=%5B8.0,40%5D&"),
            "JSON re-serialised: {out}"
        );
        assert!(out.contains("&offset=0&"), "{out}");
        // The canonical form parses to the same parameters and is its own canonical form.
        assert_eq!(parse(&out, Kind::Query).unwrap(), p);
        assert_eq!(canonical(&out), out);
        assert_eq!(canonical("omit=owner"), "omit=owner");
    }

    #[test]
    fn order_and_encoding_are_normalised() {
        assert_eq!(
            canonical("attrs=speed&type=%54rafficFlowObserved"),
            "type=TrafficFlowObserved&attrs=speed"
        );
        // `+` is a plus sign, sent encoded so no reader takes it for a space.
        assert_eq!(
            canonical("q=observedAt%3E2024-01-01T00:00:00+01:00"),
            "q=observedAt%3E2024-01-01T00:00:00%2B01:00"
        );
        assert_eq!(
            canonical("q=name==%22Lange%20Viestraat%22"),
            "q=name%3D%3D%22Lange%20Viestraat%22"
        );
    }

    #[test]
    fn duplicates_unknown_parameters_and_bad_encodings_are_refused() {
        assert_eq!(
            pairs(Some("attrs=speed&attrs=owner")),
            Err(QueryError::Duplicate("attrs".into()))
        );
        assert_eq!(
            pairs(Some("attrs=speed&%61ttrs=owner")),
            Err(QueryError::Duplicate("attrs".into()))
        );
        for bad in ["q=%", "q=%4", "q=%zz", "q=%+1", "q=%C3", "q"] {
            assert!(pairs(Some(bad)).is_err(), "{bad}");
        }
        assert!(matches!(
            parse("orderBy=id", Kind::Query),
            Err(QueryError::Unknown(_))
        ));
        assert!(matches!(
            parse("attrs=", Kind::Query),
            Err(QueryError::NoValue(_))
        ));
        assert_eq!(pairs(Some("&&attrs=a&")).unwrap().len(), 1);
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "id=not a uri",
            "id=urn:a,",
            "type=A;",
            "attrs=a;b",
            "q=speed>",
            "scopeQ=Madrid",
            "georel=near",
            "georel=near;maxDistance==-1",
            "georel=nearby",
            "georel=within&geometry=Point&coordinates=[[1,2]]",
            "georel=within&geometry=Point",
            "geoproperty=location",
            "georel=within&geometry=Circle&coordinates=[1,2]",
            "georel=within&geometry=Point&coordinates=[\"1\",2]",
            "georel=within&geometry=Point&coordinates={}",
            "lang=en_GB",
            "lang=en;q=2",
            "options=keyValues,everything",
            "format=geojson",
            "limit=-1",
            "limit=1e3",
            "count=yes",
            "join=deep",
            "pick=a&omit=b",
            "datasetId=@all",
            "idPattern=%00",
        ] {
            assert!(parse(bad, Kind::Query).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_retrieve_by_id_takes_only_its_own_parameters() {
        assert!(parse(
            "type=A&attrs=speed&options=keyValues&lang=en",
            Kind::Retrieve
        )
        .is_ok());
        for query_only in [
            "q=speed",
            "limit=1",
            "id=urn:a",
            "georel=within&geometry=Point&coordinates=[1,2]",
        ] {
            assert!(
                matches!(
                    parse(query_only, Kind::Retrieve),
                    Err(QueryError::NotOnRetrieve(_))
                ),
                "{query_only}"
            );
        }
    }

    #[test]
    fn unrestricted_paths_keep_their_pairs_in_one_encoding() {
        let p = pairs(Some("details=true&q=a%20b+c")).unwrap();
        assert_eq!(
            canonical_pairs(&p).unwrap().unwrap(),
            "details=true&q=a%20b%2Bc"
        );
        assert!(canonical_pairs(&[("a b".into(), "1".into())]).is_err());
        assert_eq!(canonical_pairs(&[]).unwrap(), None);
    }
}
