//! Coordinate reference systems in CSW boxes and which axis comes first. The EPSG definition of 4326 (every
//! `urn:ogc:def:crs:EPSG:…:4326`, `urn:x-ogc:def:crs:EPSG:…:4326`, `EPSG:4326`, the `/def/crs/EPSG/0/4326` URI) is
//! latitude first; CRS84 (`urn:ogc:def:crs:OGC:1.3:CRS84`, `/def/crs/OGC/1.3/CRS84`, `CRS:84`) and the GML
//! convention `…/gml/srs/epsg.xml#4326` are longitude first. Records are published in
//! `urn:x-ogc:def:crs:EPSG:6.11:4326` (latitude first), as pycsw does and OWSLib reads back.

use super::exception::CswError;
use crate::catalogue::metadata::Bbox;

/// The CRS of the boxes CSW records carry.
pub const RECORD_CRS: &str = "urn:x-ogc:def:crs:EPSG:6.11:4326";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisOrder {
    LatLon,
    LonLat,
}

/// The axis order of `srs`; without one, `default`.
pub fn axis_order(srs: Option<&str>, default: AxisOrder) -> Result<AxisOrder, CswError> {
    let Some(srs) = srs.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    let s = srs.to_ascii_lowercase();
    let unsupported = || {
        CswError::invalid(
            "srsName",
            format!(
                "{srs:?} is not supported; give boxes in urn:ogc:def:crs:EPSG::4326 (latitude first) or urn:ogc:def:crs:OGC:1.3:CRS84 (longitude first)"
            ),
        )
    };
    if matches!(
        s.as_str(),
        "epsg:4326" | "http://www.opengis.net/def/crs/epsg/0/4326"
    ) {
        return Ok(AxisOrder::LatLon);
    }
    if matches!(
        s.as_str(),
        "crs:84"
            | "http://www.opengis.net/def/crs/ogc/1.3/crs84"
            | "http://www.opengis.net/gml/srs/epsg.xml#4326"
    ) {
        return Ok(AxisOrder::LonLat);
    }
    // urn:ogc:def:crs:<authority>:<version, possibly empty>:<code>
    let rest = s
        .strip_prefix("urn:ogc:def:crs:")
        .or_else(|| s.strip_prefix("urn:x-ogc:def:crs:"))
        .ok_or_else(unsupported)?;
    let parts: Vec<&str> = rest.split(':').collect();
    match parts.as_slice() {
        ["epsg", _, "4326"] | ["epsg", "4326"] => Ok(AxisOrder::LatLon),
        ["ogc", _, "crs84"] | ["ogc", "crs84"] => Ok(AxisOrder::LonLat),
        _ => Err(unsupported()),
    }
}

/// Two numbers of a GML corner (`"a b"`).
fn corner(text: &str, which: &str) -> Result<(f64, f64), CswError> {
    let numbers: Vec<f64> = text
        .split_whitespace()
        .map(|n| n.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            CswError::invalid(
                "Constraint",
                format!("the box's {which} {text:?} is not two numbers"),
            )
        })?;
    match numbers.as_slice() {
        [a, b] => Ok((*a, *b)),
        _ => Err(CswError::invalid(
            "Constraint",
            format!("the box's {which} {text:?} must be two numbers"),
        )),
    }
}

/// The CRS84 `[west, south, east, north]` of an envelope given by its corners in `order`. A box whose west is
/// east of its east crosses the antimeridian and is kept as it is.
pub fn envelope(lower: &str, upper: &str, order: AxisOrder) -> Result<Bbox, CswError> {
    let (a, b) = corner(lower, "lower corner")?;
    let (c, d) = corner(upper, "upper corner")?;
    let [west, south, east, north] = match order {
        AxisOrder::LatLon => [b, a, d, c],
        AxisOrder::LonLat => [a, b, c, d],
    };
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) {
        return Err(CswError::invalid(
            "Constraint",
            "the box's latitudes must lie in -90..90 (EPSG:4326 gives latitude first, CRS84 longitude first)",
        ));
    }
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
        return Err(CswError::invalid(
            "Constraint",
            "the box's longitudes must lie in -180..180",
        ));
    }
    if south > north {
        return Err(CswError::invalid(
            "Constraint",
            "the box's lower corner is north of its upper corner",
        ));
    }
    Ok([west, south, east, north])
}

#[cfg(test)]
mod tests {
    use super::*;
    use AxisOrder::*;

    #[test]
    fn epsg_4326_is_latitude_first_and_crs84_longitude_first() {
        for srs in [
            "urn:ogc:def:crs:EPSG::4326",
            "urn:x-ogc:def:crs:EPSG:6.11:4326",
            "urn:ogc:def:crs:EPSG:6.6:4326",
            "EPSG:4326",
            "http://www.opengis.net/def/crs/EPSG/0/4326",
        ] {
            assert_eq!(axis_order(Some(srs), LonLat).unwrap(), LatLon, "{srs}");
        }
        for srs in [
            "urn:ogc:def:crs:OGC:1.3:CRS84",
            "urn:ogc:def:crs:OGC::CRS84",
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "CRS:84",
            "http://www.opengis.net/gml/srs/epsg.xml#4326",
        ] {
            assert_eq!(axis_order(Some(srs), LatLon).unwrap(), LonLat, "{srs}");
        }
        assert_eq!(axis_order(None, LatLon).unwrap(), LatLon);
        assert_eq!(axis_order(Some(""), LonLat).unwrap(), LonLat);
        for srs in ["EPSG:28992", "urn:ogc:def:crs:EPSG::28992", "nonsense"] {
            assert_eq!(
                axis_order(Some(srs), LatLon)
                    .unwrap_err()
                    .locator
                    .as_deref(),
                Some("srsName")
            );
        }
    }

    #[test]
    fn envelopes_become_west_south_east_north() {
        assert_eq!(
            envelope("52.3 4.7", "52.5 5.1", LatLon).unwrap(),
            [4.7, 52.3, 5.1, 52.5]
        );
        assert_eq!(
            envelope("4.7 52.3", "5.1 52.5", LonLat).unwrap(),
            [4.7, 52.3, 5.1, 52.5]
        );
        // Longitude-first numbers read as latitude-first put 4.7 as a latitude: a different, valid box.
        assert_eq!(
            envelope("4.7 52.3", "5.1 52.5", LatLon).unwrap(),
            [52.3, 4.7, 52.5, 5.1]
        );
        assert!(envelope("52.3", "52.5 5.1", LatLon).is_err());
        assert!(envelope("a b", "52.5 5.1", LatLon).is_err());
        assert!(envelope("52.5 4.7", "52.3 5.1", LatLon).is_err());
        assert!(envelope("95 4.7", "96 5.1", LatLon).is_err());
        assert_eq!(
            envelope("-10 170", "10 -170", LatLon).unwrap(),
            [170.0, -10.0, -170.0, 10.0]
        );
    }
}
