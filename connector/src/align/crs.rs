//! Space: is the data in the coordinate reference system the model needs, or one it can be reprojected from, and
//! does it cover the area the model needs? CRSs are EPSG codes (PROJ.4 definitions from `crs-definitions`) or OGC
//! CRS84, written in any of the forms OGC services use; transformations are `proj4rs`, a pure-Rust PROJ.4, which
//! works in radians for geographic CRSs. Boxes are x/y: east, then north, whatever the authority's axis order.

use std::fmt;

use proj4rs::proj::Proj;
use serde_json::{json, Map, Value};
use thiserror::Error;

use super::report::{percent, Dimension, Finding, Verdict};
use super::{Extent, Have, Need};

/// Points per box edge, corners included: a projected edge is a curve, whose extremes may lie between corners.
const EDGE_POINTS: usize = 21;
/// A coverage this close to one counts as full (rounding in reprojection).
const FULL: f64 = 1e-9;

/// Why a CRS was not read or a box not transformed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CrsError {
    #[error("no CRS given (an empty string)")]
    Empty,
    #[error("{text:?} is not a CRS identifier this connector reads (EPSG:n, an OGC EPSG URN or URL, or CRS84)")]
    Unrecognised { text: String },
    #[error("{text:?} names EPSG code {code}, which is not in the EPSG definitions this connector knows")]
    UnknownCode { text: String, code: String },
    #[error("EPSG:{code} has a definition this connector cannot compute with ({detail})")]
    Unsupported { code: u16, detail: String },
    #[error("the box {bbox:?} is not a box in {crs} ({why})")]
    InvalidBox {
        bbox: [f64; 4],
        crs: String,
        why: &'static str,
    },
    #[error("no point of the box could be transformed from {from} to {to}")]
    Transform { from: String, to: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Id {
    Epsg(u16),
    Crs84,
}

/// A coordinate reference system with its transformation parameters, parsed once.
#[derive(Clone)]
pub struct Crs {
    id: Id,
    proj: Proj,
}

impl fmt::Debug for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Crs").field(&self.code()).finish()
    }
}

impl PartialEq for Crs {
    fn eq(&self, other: &Crs) -> bool {
        self.id == other.id
    }
}

const CRS84_PROJ: &str = "+proj=longlat +datum=WGS84 +no_defs";

impl Crs {
    /// Reads `EPSG:n`, `urn:ogc:def:crs:EPSG::n`, `http(s)://www.opengis.net/def/crs/EPSG/0/n`, `OGC:CRS84`,
    /// `CRS84`, `http://www.opengis.net/def/crs/OGC/1.3/CRS84` or `urn:ogc:def:crs:OGC:1.3:CRS84`. Codes that the
    /// EPSG definitions do not have are refused.
    pub fn parse(s: &str) -> Result<Crs, CrsError> {
        let text = s.trim();
        if text.is_empty() {
            return Err(CrsError::Empty);
        }
        match identify(text) {
            Some(Name::Crs84) => Ok(Crs {
                id: Id::Crs84,
                proj: Proj::from_proj_string(CRS84_PROJ).map_err(|e| CrsError::Unsupported {
                    code: 4326,
                    detail: e.to_string(),
                })?,
            }),
            Some(Name::Epsg(digits)) => {
                let unknown = || CrsError::UnknownCode {
                    text: text.to_string(),
                    code: digits.to_string(),
                };
                let code: u16 = digits.parse().map_err(|_| unknown())?;
                let def = crs_definitions::from_code(code).ok_or_else(unknown)?;
                let proj =
                    Proj::from_proj_string(def.proj4).map_err(|e| CrsError::Unsupported {
                        code,
                        detail: e.to_string(),
                    })?;
                Ok(Crs {
                    id: Id::Epsg(code),
                    proj,
                })
            }
            None => Err(CrsError::Unrecognised {
                text: text.to_string(),
            }),
        }
    }

    /// `EPSG:28992` or `OGC:CRS84`.
    pub fn code(&self) -> String {
        match self.id {
            Id::Epsg(n) => format!("EPSG:{n}"),
            Id::Crs84 => "OGC:CRS84".into(),
        }
    }

    /// Whether coordinates are longitude and latitude in degrees.
    pub fn is_geographic(&self) -> bool {
        self.proj.is_latlong()
    }

    /// The box `bbox` (in this CRS) as a box in `to`: each edge densified to 21 points, each point transformed, and
    /// the smallest box around the results. Points outside the target's domain (a pole in Web Mercator) are left
    /// out, so the result bounds the part the target CRS can represent.
    pub fn transform_bbox(&self, bbox: [f64; 4], to: &Crs) -> Result<[f64; 4], CrsError> {
        self.check_box(bbox)?;
        if self.id == to.id {
            return Ok(bbox);
        }
        let [minx, miny, maxx, maxy] = bbox;
        let mut out = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut any = false;
        let n = EDGE_POINTS - 1;
        for i in 0..=n {
            let t = i as f64 / n as f64;
            let x = minx + (maxx - minx) * t;
            let y = miny + (maxy - miny) * t;
            for (px, py) in [(x, miny), (x, maxy), (minx, y), (maxx, y)] {
                if let Some((tx, ty)) = self.point(px, py, to) {
                    out = [
                        out[0].min(tx),
                        out[1].min(ty),
                        out[2].max(tx),
                        out[3].max(ty),
                    ];
                    any = true;
                }
            }
        }
        if !any {
            return Err(CrsError::Transform {
                from: self.code(),
                to: to.code(),
            });
        }
        Ok(out)
    }

    fn point(&self, x: f64, y: f64, to: &Crs) -> Option<(f64, f64)> {
        let mut p = if self.is_geographic() {
            (x.to_radians(), y.to_radians(), 0.0)
        } else {
            (x, y, 0.0)
        };
        proj4rs::transform::transform(&self.proj, &to.proj, &mut p).ok()?;
        let (tx, ty) = if to.is_geographic() {
            (p.0.to_degrees(), p.1.to_degrees())
        } else {
            (p.0, p.1)
        };
        (tx.is_finite() && ty.is_finite()).then_some((tx, ty))
    }

    fn check_box(&self, bbox: [f64; 4]) -> Result<(), CrsError> {
        let invalid = |why| CrsError::InvalidBox {
            bbox,
            crs: self.code(),
            why,
        };
        if bbox.iter().any(|v| !v.is_finite()) {
            return Err(invalid("a corner is not a finite number"));
        }
        if bbox[0] > bbox[2] || bbox[1] > bbox[3] {
            return Err(invalid("a minimum is above its maximum"));
        }
        if self.is_geographic() && (bbox[1] < -90.0 || bbox[3] > 90.0) {
            return Err(invalid("a latitude is beyond ±90°"));
        }
        Ok(())
    }
}

enum Name<'a> {
    Epsg(&'a str),
    Crs84,
}

/// Which CRS an identifier names, without looking the code up.
fn identify(text: &str) -> Option<Name<'_>> {
    let lower = text.to_ascii_lowercase();
    let crs84 = [
        "crs84",
        "ogc:crs84",
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:ogc::crs84",
        "http://www.opengis.net/def/crs/ogc/1.3/crs84",
        "https://www.opengis.net/def/crs/ogc/1.3/crs84",
    ];
    if crs84.contains(&lower.as_str()) {
        return Some(Name::Crs84);
    }
    let digits = if let Some(rest) = strip_prefix_ci(text, "EPSG:") {
        rest
    } else if let Some(rest) = strip_prefix_ci(text, "urn:ogc:def:crs:EPSG:") {
        // `urn:ogc:def:crs:EPSG:<version>:<code>`, the version usually empty.
        rest.rsplit_once(':').map(|(_, code)| code)?
    } else {
        let rest = strip_prefix_ci(text, "http://www.opengis.net/def/crs/EPSG/")
            .or_else(|| strip_prefix_ci(text, "https://www.opengis.net/def/crs/EPSG/"))?;
        // `<version>/<code>`, the version usually 0.
        rest.split_once('/').map(|(_, code)| code)?
    };
    (!digits.is_empty() && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(Name::Epsg(digits))
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The fraction of `need` (a box) that `have` (a box in the same CRS) covers, by area; for a need without area (a
/// line or a point) by length or by containment.
pub fn coverage(need: [f64; 4], have: [f64; 4]) -> f64 {
    let axis = |n0: f64, n1: f64, h0: f64, h1: f64| {
        let len = n1 - n0;
        if len > 0.0 {
            ((n1.min(h1) - n0.max(h0)).max(0.0) / len).clamp(0.0, 1.0)
        } else if h0 <= n0 && n0 <= h1 {
            1.0
        } else {
            0.0
        }
    };
    let f = axis(need[0], need[2], have[0], have[2]) * axis(need[1], need[3], have[1], have[3]);
    if f.is_finite() {
        f
    } else {
        0.0
    }
}

/// The space finding: CRS agreement, then coverage of the model's extent.
pub(super) fn finding(need: &Need, have: &Have) -> Finding {
    let mut details = Map::new();
    let mut parts: Vec<(Verdict, String)> = Vec::new();
    let need_crs = need
        .crs
        .as_deref()
        .or(need.extent.as_ref().map(|e| e.crs.as_str()));
    let have_crs = have
        .crs
        .as_deref()
        .or(have.extent.as_ref().map(|e| e.crs.as_str()));
    let mut cache = Parsed::default();
    if need_crs.is_none() && need.extent.is_none() {
        // Nothing asked is nothing missed: a non-spatial input fits any place.
        return Finding::new(
            Dimension::Space,
            Verdict::Aligned,
            "The model asks for no coordinate reference system or area for this input.",
            Value::Null,
        );
    }
    if let Some(n) = need_crs {
        parts.push(match (cache.get(n), have_crs.map(|h| cache.get(h))) {
            (Err(e), _) => (
                Verdict::Unknown,
                format!("The model's CRS cannot be read: {e}."),
            ),
            (Ok(n), None) => (
                Verdict::Unknown,
                format!(
                    "The model needs coordinates in {}; the dataset does not state its CRS.",
                    n.code()
                ),
            ),
            (Ok(_), Some(Err(e))) => (
                Verdict::Unknown,
                format!("The dataset's CRS cannot be read: {e}."),
            ),
            (Ok(n), Some(Ok(h))) if n == h => {
                details.insert("crs".into(), json!(n.code()));
                (
                    Verdict::Aligned,
                    format!("The dataset is in {}, as the model needs.", n.code()),
                )
            }
            (Ok(n), Some(Ok(h))) => {
                details.insert("from".into(), json!(h.code()));
                details.insert("to".into(), json!(n.code()));
                (
                    Verdict::Convertible,
                    format!(
                        "The dataset is in {}, the model needs {}: convertible by reprojection.",
                        h.code(),
                        n.code()
                    ),
                )
            }
        });
    }
    if let Some(needed) = &need.extent {
        parts.push(extent_part(
            needed,
            have.extent.as_ref(),
            &mut cache,
            &mut details,
        ));
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
    Finding::new(Dimension::Space, verdict, reason, details)
}

/// Each identifier parsed once, however many of the four fields name it.
#[derive(Default)]
struct Parsed<'a> {
    done: Vec<(&'a str, Result<Crs, CrsError>)>,
}

impl<'a> Parsed<'a> {
    fn get(&mut self, s: &'a str) -> Result<Crs, CrsError> {
        if let Some((_, r)) = self.done.iter().find(|(k, _)| *k == s) {
            return r.clone();
        }
        let r = Crs::parse(s);
        self.done.push((s, r.clone()));
        r
    }
}

fn extent_part<'a>(
    needed: &'a Extent,
    had: Option<&'a Extent>,
    cache: &mut Parsed<'a>,
    details: &mut Map<String, Value>,
) -> (Verdict, String) {
    let Some(had) = had else {
        return (
            Verdict::Unknown,
            "The dataset does not state the area it covers.".into(),
        );
    };
    let need_crs = match cache.get(&needed.crs) {
        Ok(c) => c,
        Err(e) => {
            return (
                Verdict::Unknown,
                format!("The model's extent cannot be read: {e}."),
            )
        }
    };
    let have_crs = match cache.get(&had.crs) {
        Ok(c) => c,
        Err(e) => {
            return (
                Verdict::Unknown,
                format!("The dataset's extent cannot be read: {e}."),
            )
        }
    };
    if let Err(e) = need_crs.check_box(needed.bbox) {
        return (
            Verdict::Unknown,
            format!("The model's extent cannot be read: {e}."),
        );
    }
    if let Err(e) = have_crs.check_box(had.bbox) {
        return (
            Verdict::Unknown,
            format!("The dataset's extent cannot be read: {e}."),
        );
    }
    // Both ways: a world-wide box's edges (poles, antimeridian) land nowhere near a city once transformed, while
    // the city's box transformed into the dataset's CRS lies plainly inside it. The better answer is the truer one.
    let forward = have_crs
        .transform_bbox(had.bbox, &need_crs)
        .map(|b| coverage(needed.bbox, b));
    let backward = need_crs
        .transform_bbox(needed.bbox, &have_crs)
        .map(|n| coverage(n, had.bbox));
    let f = match (forward, backward) {
        (Ok(a), Ok(b)) => a.max(b),
        (Ok(a), Err(_)) | (Err(_), Ok(a)) => a,
        (Err(e), Err(_)) => {
            return (
                Verdict::Unknown,
                format!("The dataset's extent cannot be compared: {e}."),
            )
        }
    };
    details.insert("coverage".into(), json!(f));
    if f >= 1.0 - FULL {
        (
            Verdict::Aligned,
            "The dataset covers all the area the model needs.".into(),
        )
    } else if f > 0.0 {
        (
            Verdict::Misaligned,
            format!(
                "The dataset covers {} of the area the model needs.",
                percent(f)
            ),
        )
    } else {
        (
            Verdict::Misaligned,
            "The dataset's area does not overlap the area the model needs.".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crs(s: &str) -> Crs {
        Crs::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn a_world_wide_dataset_covers_a_city_in_its_national_grid() {
        let need = Need {
            crs: Some("EPSG:28992".into()),
            extent: Some(Extent {
                bbox: [110_000.0, 476_000.0, 135_000.0, 492_000.0],
                crs: "EPSG:28992".into(),
            }),
            ..Default::default()
        };
        let have = Have {
            crs: Some("OGC:CRS84".into()),
            extent: Some(Extent {
                bbox: [-180.0, -90.0, 180.0, 90.0],
                crs: "OGC:CRS84".into(),
            }),
            ..Default::default()
        };
        let f = finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        assert!(
            (f.details["coverage"].as_f64().unwrap() - 1.0).abs() < 1e-9,
            "{f:?}"
        );
    }

    fn point(from: &str, to: &str, x: f64, y: f64) -> (f64, f64) {
        crs(from).point(x, y, &crs(to)).expect("transformable")
    }

    #[test]
    fn parse_reads_every_identifier_form() {
        for (s, code) in [
            ("EPSG:4326", "EPSG:4326"),
            ("epsg:28992", "EPSG:28992"),
            ("urn:ogc:def:crs:EPSG::28992", "EPSG:28992"),
            ("urn:ogc:def:crs:EPSG:9.8.1:3857", "EPSG:3857"),
            ("http://www.opengis.net/def/crs/EPSG/0/3035", "EPSG:3035"),
            ("https://www.opengis.net/def/crs/EPSG/0/25832", "EPSG:25832"),
            ("OGC:CRS84", "OGC:CRS84"),
            ("CRS84", "OGC:CRS84"),
            ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84"),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84"),
            (" EPSG:4326 ", "EPSG:4326"),
        ] {
            assert_eq!(crs(s).code(), code, "{s}");
        }
        assert!(crs("CRS84").is_geographic() && !crs("EPSG:3857").is_geographic());
    }

    #[test]
    fn parse_refuses_unknown_codes_and_other_names() {
        assert_eq!(Crs::parse(""), Err(CrsError::Empty));
        for unknown in [
            "EPSG:1",
            "EPSG:99999",
            "EPSG:900913",
            "EPSG:99999999999999999999",
        ] {
            assert!(
                matches!(
                    Crs::parse(unknown),
                    Err(CrsError::UnknownCode { .. }) | Err(CrsError::Unrecognised { .. })
                ),
                "{unknown}"
            );
        }
        assert!(matches!(
            Crs::parse("EPSG:1"),
            Err(CrsError::UnknownCode { .. })
        ));
        for bad in [
            "WGS84",
            "EPSG:",
            "EPSG:-4326",
            "EPSG:4326.0",
            "urn:ogc:def:crs:EPSG::",
            "ESRI:102100",
            "+proj=longlat",
            "é",
        ] {
            assert!(
                matches!(Crs::parse(bad), Err(CrsError::Unrecognised { .. })),
                "{bad}"
            );
        }
    }

    /// Reference values from PROJ 9 (pyproj `Transformer.from_crs(..., always_xy=True)`).
    #[test]
    fn known_answers_wgs84_to_rd_new_web_mercator_and_laea_europe() {
        // Dam Square, Amsterdam.
        let (x, y) = point("EPSG:4326", "EPSG:28992", 4.8936, 52.3731);
        assert!(
            (x - 121_385.85).abs() < 1.0 && (y - 487_361.63).abs() < 1.0,
            "{x} {y}"
        );
        assert!((x - 121_400.0).abs() < 50.0 && (y - 487_400.0).abs() < 50.0);
        // The RD origin, Amersfoort, to within the metre the seven-parameter datum shift promises.
        let (lon, lat) = point("EPSG:28992", "EPSG:4326", 155_000.0, 463_000.0);
        assert!(
            (lon - 5.387206).abs() < 2e-5 && (lat - 52.155174).abs() < 2e-5,
            "{lon} {lat}"
        );
        let (x, y) = point("EPSG:4326", "EPSG:3857", 4.8936, 52.3731);
        assert!(
            (x - 544_753.060_145_963_6).abs() < 1e-3 && (y - 6_867_869.909_800_615).abs() < 1e-3,
            "{x} {y}"
        );
        let (lon, lat) = point(
            "EPSG:3857",
            "OGC:CRS84",
            544_753.060_145_963_6,
            6_867_869.909_800_615,
        );
        assert!(
            (lon - 4.8936).abs() < 1e-9 && (lat - 52.3731).abs() < 1e-9,
            "{lon} {lat}"
        );
        let (x, y) = point("CRS84", "EPSG:3035", 10.0, 52.0);
        assert!(
            (x - 4_321_000.0).abs() < 1e-3 && (y - 3_210_000.0).abs() < 1e-3,
            "{x} {y}"
        );
        let (x, y) = point("CRS84", "EPSG:3035", 4.8936, 52.3731);
        assert!(
            (x - 3_973_551.18).abs() < 0.01 && (y - 3_263_708.20).abs() < 0.01,
            "{x} {y}"
        );
    }

    #[test]
    fn transform_bbox_densifies_edges() {
        let b = crs("EPSG:4326")
            .transform_bbox([4.7, 52.3, 5.0, 52.45], &crs("EPSG:28992"))
            .unwrap();
        // PROJ's transform_bounds with 21 points per edge.
        let expected = [108_124.94, 479_184.27, 128_677.29, 496_025.11];
        for (got, want) in b.iter().zip(expected) {
            assert!((got - want).abs() < 1.0, "{b:?}");
        }
        // Same CRS: the box as it is.
        let same = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            crs("EPSG:4326").transform_bbox(same, &crs("EPSG:4326")),
            Ok(same)
        );
    }

    #[test]
    fn transform_bbox_refuses_boxes_that_are_not_boxes() {
        let wgs = crs("EPSG:4326");
        let rd = crs("EPSG:28992");
        for bad in [
            [f64::NAN, 0.0, 1.0, 1.0],
            [0.0, 0.0, f64::INFINITY, 1.0],
            [2.0, 0.0, 1.0, 1.0],
            [0.0, -91.0, 1.0, 1.0],
        ] {
            assert!(
                matches!(
                    wgs.transform_bbox(bad, &rd),
                    Err(CrsError::InvalidBox { .. })
                ),
                "{bad:?}"
            );
        }
        // The whole world into Web Mercator: the poles are left out, the rest bounded.
        let b = wgs
            .transform_bbox([-180.0, -90.0, 180.0, 90.0], &crs("EPSG:3857"))
            .unwrap();
        assert!(b.iter().all(|v| v.is_finite()), "{b:?}");
        // Huge but finite coordinates do not panic.
        let _ = crs("EPSG:3857").transform_bbox([-1e300, -1e300, 1e300, 1e300], &wgs);
    }

    #[test]
    fn coverage_fractions() {
        let need = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(coverage(need, [-5.0, -5.0, 15.0, 15.0]), 1.0);
        assert_eq!(coverage(need, [0.0, 0.0, 5.0, 10.0]), 0.5);
        assert!((coverage(need, [2.0, 0.0, 10.0, 7.75]) - 0.62).abs() < 1e-12);
        assert_eq!(coverage(need, [20.0, 20.0, 30.0, 30.0]), 0.0);
        // A point is covered or not.
        assert_eq!(coverage([1.0, 1.0, 1.0, 1.0], need), 1.0);
        assert_eq!(coverage([11.0, 1.0, 11.0, 1.0], need), 0.0);
    }

    fn extent(bbox: [f64; 4], crs: &str) -> Option<Extent> {
        Some(Extent {
            bbox,
            crs: crs.into(),
        })
    }

    #[test]
    fn space_same_crs_is_aligned() {
        let need = Need {
            crs: Some("EPSG:28992".into()),
            ..Default::default()
        };
        let have = Have {
            crs: Some("urn:ogc:def:crs:EPSG::28992".into()),
            ..Default::default()
        };
        let f = finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");
        assert_eq!(f.details["crs"], "EPSG:28992");
    }

    #[test]
    fn space_different_transformable_crs_is_convertible() {
        let need = Need {
            crs: Some("EPSG:28992".into()),
            ..Default::default()
        };
        let have = Have {
            crs: Some("OGC:CRS84".into()),
            ..Default::default()
        };
        let f = finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        assert_eq!(
            (f.details["from"].as_str(), f.details["to"].as_str()),
            (Some("OGC:CRS84"), Some("EPSG:28992"))
        );
    }

    #[test]
    fn space_full_coverage_keeps_the_crs_verdict() {
        let need = Need {
            crs: Some("EPSG:28992".into()),
            extent: extent([115_000.0, 480_000.0, 130_000.0, 495_000.0], "EPSG:28992"),
            ..Default::default()
        };
        let have = Have {
            crs: Some("CRS84".into()),
            extent: extent([4.5, 52.0, 5.5, 52.7], "CRS84"),
            ..Default::default()
        };
        let f = finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        assert_eq!(f.details["coverage"], 1.0);
    }

    #[test]
    fn space_partial_coverage_is_misaligned_with_the_percentage() {
        let need = Need {
            extent: extent([4.0, 52.0, 5.0, 53.0], "CRS84"),
            ..Default::default()
        };
        let have = Have {
            extent: extent([4.38, 52.0, 5.0, 53.0], "EPSG:4326"),
            ..Default::default()
        };
        let f = finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Misaligned, "{f:?}");
        assert!((f.details["coverage"].as_f64().unwrap() - 0.62).abs() < 1e-9);
        assert!(f.reason.contains("covers 62 % of the area"), "{}", f.reason);
    }

    #[test]
    fn space_partial_coverage_across_crs() {
        // The need's box in RD New; the dataset covers its western half, stated in Web Mercator.
        let need_box = [110_000.0, 480_000.0, 130_000.0, 500_000.0];
        let rd = crs("EPSG:28992");
        let merc = crs("EPSG:3857");
        let west = rd
            .transform_bbox([100_000.0, 470_000.0, 120_000.0, 510_000.0], &merc)
            .unwrap();
        let need = Need {
            extent: extent(need_box, "EPSG:28992"),
            ..Default::default()
        };
        let have = Have {
            extent: extent(west, "EPSG:3857"),
            ..Default::default()
        };
        let f = finding(&need, &have);
        let cov = f.details["coverage"].as_f64().unwrap();
        assert_eq!(f.verdict, Verdict::Misaligned, "{f:?}");
        // Densified edges bulge a little outwards in the round trip.
        assert!((0.5..0.53).contains(&cov), "{cov}");
    }

    #[test]
    fn space_disjoint_is_misaligned() {
        let need = Need {
            extent: extent([4.0, 52.0, 5.0, 53.0], "CRS84"),
            ..Default::default()
        };
        let have = Have {
            extent: extent([10.0, 45.0, 11.0, 46.0], "CRS84"),
            ..Default::default()
        };
        let f = finding(&need, &have);
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert_eq!(f.details["coverage"], 0.0);
        assert!(f.reason.contains("does not overlap"), "{}", f.reason);
    }

    #[test]
    fn space_missing_facts_are_unknown_saying_which() {
        // A model that asks nothing of space misses nothing.
        let f = finding(&Need::default(), &Have::default());
        assert_eq!(f.verdict, Verdict::Aligned);
        let need = Need {
            crs: Some("EPSG:28992".into()),
            ..Default::default()
        };
        let f = finding(&need, &Have::default());
        assert_eq!(f.verdict, Verdict::Unknown);
        assert!(f.reason.contains("does not state its CRS"), "{}", f.reason);
        let need = Need {
            extent: extent([4.0, 52.0, 5.0, 53.0], "CRS84"),
            ..Default::default()
        };
        let f = finding(
            &need,
            &Have {
                crs: Some("CRS84".into()),
                ..Default::default()
            },
        );
        assert_eq!(f.verdict, Verdict::Unknown);
        assert!(f.reason.contains("does not state the area"), "{}", f.reason);
        let have = Have {
            crs: Some("EPSG:0".into()),
            ..Default::default()
        };
        let f = finding(
            &Need {
                crs: Some("CRS84".into()),
                ..Default::default()
            },
            &have,
        );
        assert_eq!(f.verdict, Verdict::Unknown);
    }

    #[test]
    fn space_nan_and_empty_do_not_panic() {
        let need = Need {
            extent: extent([f64::NAN, 0.0, 1.0, 1.0], ""),
            ..Default::default()
        };
        let have = Have {
            extent: extent([0.0, 0.0, f64::NAN, 1.0], "CRS84"),
            ..Default::default()
        };
        assert_eq!(finding(&need, &have).verdict, Verdict::Unknown);
        let need = Need {
            extent: extent([f64::NAN, 0.0, 1.0, 1.0], "CRS84"),
            ..Default::default()
        };
        assert_eq!(finding(&need, &have).verdict, Verdict::Unknown);
        let need = Need {
            extent: extent([0.0, 0.0, 1.0, 1.0], "CRS84"),
            ..Default::default()
        };
        assert_eq!(finding(&need, &have).verdict, Verdict::Unknown);
        let have = Have {
            extent: extent([f64::MAX, f64::MIN, f64::MAX, f64::MAX], "EPSG:3857"),
            ..Default::default()
        };
        let _ = finding(&need, &have);
    }
}
