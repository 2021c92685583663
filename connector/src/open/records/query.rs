//! Query parameters of the Records endpoints, read strictly: what `/items` understands (`bbox`, `datetime`,
//! `q`, `type`, `ids`, `limit`, `offset`, `f`) becomes a [`Search`] and a page; anything else, a repeated
//! parameter or a value that cannot be used is a 400 naming it, as OGC API Features requires ("unknown
//! parameter" must not silently widen a search).

use std::collections::HashSet;

use time::OffsetDateTime;

use super::error::RecordsError;
use crate::catalogue::kind::ResourceKind;
use crate::catalogue::metadata::Bbox;
use crate::catalogue::public::search::{terms, Search};

/// Records on a page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest `limit` served. Larger values are refused (400) rather than clamped, so a client that asked for
/// everything learns that it has to page.
pub const MAX_LIMIT: usize = 1000;

/// What `/items` was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsQuery {
    pub search: Search,
    pub limit: usize,
    pub offset: usize,
    /// The search parameters as received (without `limit`, `offset` and `f`), in a fixed order, for the paging
    /// links.
    pub echo: Vec<(&'static str, String)>,
}

/// The query parameters, decoded, refusing a parameter given twice.
fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, RecordsError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !seen.insert(k.to_string()) {
            return Err(RecordsError::invalid(format!(
                "parameter {k:?} is given more than once"
            )));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

/// `f`: only JSON is served (GeoJSON for records); `f` is accepted for clients that always send it.
fn check_format(value: &str) -> Result<(), RecordsError> {
    match value {
        "json" | "geojson" | "application/json" | "application/geo+json" => Ok(()),
        other => Err(RecordsError::invalid(format!(
            "f={other:?} is not served; this catalogue answers in JSON only (f=json)"
        ))),
    }
}

/// The query of an endpoint that takes no parameters but `f`.
pub fn only_format(raw: Option<&str>) -> Result<(), RecordsError> {
    for (k, v) in pairs(raw)? {
        match k.as_str() {
            "f" => check_format(&v)?,
            other => {
                return Err(RecordsError::invalid(format!(
                    "unknown query parameter {other:?}; this endpoint accepts only f"
                )))
            }
        }
    }
    Ok(())
}

/// The query of `/collections/{id}/items`.
pub fn items(raw: Option<&str>) -> Result<ItemsQuery, RecordsError> {
    let mut q = ItemsQuery {
        search: Search::default(),
        limit: DEFAULT_LIMIT,
        offset: 0,
        echo: Vec::new(),
    };
    let mut echo: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in pairs(raw)? {
        match k.as_str() {
            "bbox" => {
                q.search.bbox = Some(bbox(&v)?);
                echo.push(("bbox", v));
            }
            "datetime" => {
                q.search.interval = Some(datetime(&v)?);
                echo.push(("datetime", v));
            }
            "q" => {
                q.search.any_terms = terms(&v);
                echo.push(("q", v));
            }
            "type" => {
                q.search.kinds = kinds(&v)?;
                echo.push(("type", v));
            }
            "ids" => {
                q.search.ids = ids(&v)?.into_iter().collect();
                echo.push(("ids", v));
            }
            "limit" => q.limit = limit(&v)?,
            "offset" => {
                q.offset = v.trim().parse().map_err(|_| {
                    RecordsError::invalid(format!("offset={v:?} is not a non-negative integer"))
                })?
            }
            "f" => check_format(&v)?,
            "externalIds" => {
                return Err(RecordsError::invalid(
                    "externalIds is not supported: the records of this catalogue carry no external identifiers",
                ))
            }
            other => {
                return Err(RecordsError::invalid(format!(
                    "unknown query parameter {other:?}; /items accepts bbox, datetime, q, type, ids, limit, offset and f"
                )))
            }
        }
    }
    // A fixed order, so the same search always gets the same links.
    const ORDER: [&str; 5] = ["bbox", "datetime", "q", "type", "ids"];
    echo.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k));
    q.echo = echo;
    Ok(q)
}

fn limit(v: &str) -> Result<usize, RecordsError> {
    let n: u64 = v
        .trim()
        .parse()
        .map_err(|_| RecordsError::invalid(format!("limit={v:?} is not a positive integer")))?;
    if n == 0 || n > MAX_LIMIT as u64 {
        return Err(RecordsError::invalid(format!(
            "limit={n} is out of range: give 1 to {MAX_LIMIT} and follow the next links for more"
        )));
    }
    Ok(n as usize)
}

/// `bbox`: four numbers, west,south,east,north in CRS84.
pub fn bbox(v: &str) -> Result<Bbox, RecordsError> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let numbers: Vec<f64> = parts
        .iter()
        .map(|p| p.parse::<f64>().ok().filter(|n| n.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            RecordsError::invalid(format!("bbox={v:?}: every value must be a number"))
        })?;
    let b: Bbox = match numbers.len() {
        4 => [numbers[0], numbers[1], numbers[2], numbers[3]],
        6 => {
            return Err(RecordsError::invalid(
                "bbox with six numbers (with heights) is not supported: give west,south,east,north in CRS84",
            ))
        }
        n => {
            return Err(RecordsError::invalid(format!(
                "bbox needs four numbers (west,south,east,north in CRS84), got {n}"
            )))
        }
    };
    let [west, south, east, north] = b;
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
        return Err(RecordsError::invalid(
            "bbox longitudes (west, east) must lie in -180..180",
        ));
    }
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) {
        return Err(RecordsError::invalid(
            "bbox latitudes (south, north) must lie in -90..90",
        ));
    }
    if south > north {
        return Err(RecordsError::invalid(
            "bbox: south is north of north (the order is west,south,east,north)",
        ));
    }
    if west > east {
        // Features allows a box across the antimeridian; the index compares one plain box, so say so rather
        // than answer a wrong set.
        return Err(RecordsError::invalid(
            "bbox across the antimeridian (west > east) is not supported: split it in two searches",
        ));
    }
    Ok(b)
}

type Interval = (Option<OffsetDateTime>, Option<OffsetDateTime>);

/// `datetime`: an instant or a date, or `start/end` with `..` (or nothing) for an open end. A date stands for
/// its whole day (UTC).
pub fn datetime(v: &str) -> Result<Interval, RecordsError> {
    let bad = || {
        RecordsError::invalid(format!(
            "datetime={v:?} is not an RFC 3339 date-time, a date, or an interval start/end (with .. for an open end)"
        ))
    };
    let interval = match v.split_once('/') {
        None => {
            let (from, to) = crate::catalogue::resource::span(v.trim()).ok_or_else(bad)?;
            (Some(from), Some(to))
        }
        Some((start, end)) => {
            let bound = |s: &str, first: bool| -> Result<Option<OffsetDateTime>, RecordsError> {
                let s = s.trim();
                if s.is_empty() || s == ".." {
                    return Ok(None);
                }
                let (from, to) = crate::catalogue::resource::span(s).ok_or_else(bad)?;
                Ok(Some(if first { from } else { to }))
            };
            (bound(start, true)?, bound(end, false)?)
        }
    };
    if let (Some(from), Some(to)) = interval {
        if from > to {
            return Err(RecordsError::invalid(format!(
                "datetime={v:?}: the interval ends before it starts"
            )));
        }
    }
    Ok(interval)
}

fn kinds(v: &str) -> Result<Vec<ResourceKind>, RecordsError> {
    let mut out = Vec::new();
    for name in v.split(',').map(str::trim) {
        let kind = ResourceKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.as_str()).collect();
            RecordsError::invalid(format!(
                "type={name:?} is not a resource type of this catalogue; use one or more of {}",
                known.join(", ")
            ))
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn ids(v: &str) -> Result<Vec<String>, RecordsError> {
    let ids: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(RecordsError::invalid(
            "ids needs at least one record id (comma-separated)",
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn code(r: Result<impl std::fmt::Debug, RecordsError>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        e.description
    }

    #[test]
    fn boxes_are_four_numbers_west_south_east_north() {
        assert_eq!(bbox("4.6, 52.3,5.1,52.7").unwrap(), [4.6, 52.3, 5.1, 52.7]);
        assert!(code(bbox("4.6,52.3,5.1")).contains("four numbers"));
        assert!(code(bbox("a,b,c,d")).contains("number"));
        assert!(code(bbox("4.6,52.3,5.1,NaN")).contains("number"));
        assert!(code(bbox("4,53,5,52")).contains("south"));
        assert!(code(bbox("4,52,5,53,0,10")).contains("six"));
        assert!(code(bbox("170,0,-170,10")).contains("antimeridian"));
        assert!(code(bbox("4,-91,5,52")).contains("latitudes"));
    }

    #[test]
    fn datetimes_are_instants_dates_or_intervals() {
        let t = datetime!(2024-03-01 12:00 UTC);
        assert_eq!(
            datetime("2024-03-01T12:00:00Z").unwrap(),
            (Some(t), Some(t))
        );
        let (from, to) = datetime("2024-03-01").unwrap();
        assert_eq!(from, Some(datetime!(2024-03-01 0:00 UTC)));
        assert!(to.unwrap() > datetime!(2024-03-01 23:59:59 UTC));
        assert_eq!(
            datetime("2024-03-01T12:00:00Z/..").unwrap(),
            (Some(t), None)
        );
        assert_eq!(
            datetime("../2024-03-01T12:00:00Z").unwrap(),
            (None, Some(t))
        );
        assert_eq!(datetime("/2024-03-01T12:00:00Z").unwrap(), (None, Some(t)));
        assert_eq!(datetime("../..").unwrap(), (None, None));
        assert!(code(datetime("yesterday")).contains("RFC 3339"));
        assert!(code(datetime("2024-13-01")).contains("RFC 3339"));
        assert!(code(datetime("2025-01-01/2024-01-01")).contains("ends before"));
    }

    #[test]
    fn items_reads_every_parameter_and_refuses_the_rest() {
        let q = items(Some(
            "q=flood,heat&type=dataset,model-or-service&limit=2&offset=4&f=json&ids=a,b",
        ))
        .unwrap();
        assert_eq!(q.search.any_terms, vec!["flood", "heat"]);
        assert_eq!(
            q.search.kinds,
            vec![ResourceKind::Dataset, ResourceKind::ModelOrService]
        );
        assert_eq!(
            q.search.ids,
            ["a", "b"].map(String::from).into_iter().collect()
        );
        assert_eq!((q.limit, q.offset), (2, 4));
        assert_eq!(
            q.echo,
            vec![
                ("q", "flood,heat".to_string()),
                ("type", "dataset,model-or-service".to_string()),
                ("ids", "a,b".to_string())
            ]
        );
        assert_eq!(items(None).unwrap().limit, DEFAULT_LIMIT);
        assert!(code(items(Some("colour=red"))).contains("colour"));
        assert!(code(items(Some("limit=100000"))).contains("1 to 1000"));
        assert!(code(items(Some("limit=0"))).contains("out of range"));
        assert!(code(items(Some("limit=ten"))).contains("positive integer"));
        assert!(code(items(Some("offset=-1"))).contains("offset"));
        assert!(code(items(Some("type=river"))).contains("model-or-service"));
        assert!(code(items(Some("externalIds=doi:1"))).contains("externalIds"));
        assert!(code(items(Some("q=a&q=b"))).contains("more than once"));
        assert!(code(items(Some("f=html"))).contains("JSON"));
        assert!(code(items(Some("ids=,"))).contains("ids"));
    }

    #[test]
    fn other_endpoints_accept_only_f() {
        assert!(only_format(None).is_ok());
        assert!(only_format(Some("f=json")).is_ok());
        assert!(code(only_format(Some("limit=2"))).contains("limit"));
    }
}
