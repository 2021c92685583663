//! Spatial tests: region-code containment (ISO 3166-2 `NL-NH` lies in `NL`) and points inside a bounding box or
//! polygon. Geometries use GeoJSON axis order: `{"bbox": [minLon, minLat, maxLon, maxLat]}` and
//! `{"polygon": [[lon, lat], ...]}`.

use serde_json::Value;

/// True when region code `inner` equals `outer` or is a subdivision of it (`NL-NH` in `NL`).
pub fn region_within(inner: &str, outer: &str) -> bool {
    let (i, o) = (inner.trim(), outer.trim());
    i.eq_ignore_ascii_case(o)
        || (i.len() > o.len()
            && i.as_bytes().get(o.len()) == Some(&b'-')
            && i[..o.len()].eq_ignore_ascii_case(o))
}

fn number_pair(v: &Value) -> Option<(f64, f64)> {
    let a = v.as_array()?;
    if a.len() != 2 {
        return None;
    }
    Some((a[0].as_f64()?, a[1].as_f64()?))
}

/// Whether the point lies in the geometry; `Err` names what is wrong with a malformed geometry.
pub fn point_in_geometry(geometry: &Value, lat: f64, lon: f64) -> Result<bool, String> {
    if let Some(b) = geometry.get("bbox") {
        let nums: Option<Vec<f64>> = b
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect());
        return match nums.as_deref() {
            Some([min_lon, min_lat, max_lon, max_lat]) => {
                Ok(lon >= *min_lon && lon <= *max_lon && lat >= *min_lat && lat <= *max_lat)
            }
            _ => Err("bbox must be [minLon, minLat, maxLon, maxLat]".into()),
        };
    }
    if let Some(p) = geometry.get("polygon") {
        let ring: Option<Vec<(f64, f64)>> = p
            .as_array()
            .map(|a| a.iter().filter_map(number_pair).collect());
        let ring = match ring {
            Some(r) if r.len() >= 3 && Some(r.len()) == p.as_array().map(Vec::len) => r,
            _ => return Err("polygon must be a list of at least three [lon, lat] pairs".into()),
        };
        // Ray casting: count crossings of a ray going east from the point.
        let mut inside = false;
        let mut j = ring.len() - 1;
        for i in 0..ring.len() {
            let (xi, yi) = ring[i];
            let (xj, yj) = ring[j];
            if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        return Ok(inside);
    }
    Err("geometry must have \"bbox\" or \"polygon\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn regions_nest_by_code() {
        assert!(region_within("NL-NH", "NL"));
        assert!(region_within("nl", "NL"));
        assert!(!region_within("NLD", "NL"));
        assert!(!region_within("NL", "NL-NH"));
    }

    #[test]
    fn points_in_shapes() {
        let amsterdam = (52.37, 4.9);
        let bbox = json!({"bbox": [4.7, 52.2, 5.1, 52.5]});
        assert_eq!(point_in_geometry(&bbox, amsterdam.0, amsterdam.1), Ok(true));
        assert_eq!(point_in_geometry(&bbox, 51.9, 4.5), Ok(false));
        let tri = json!({"polygon": [[4.0, 52.0], [6.0, 52.0], [5.0, 54.0]]});
        assert_eq!(point_in_geometry(&tri, 52.5, 5.0), Ok(true));
        assert_eq!(point_in_geometry(&tri, 53.9, 4.1), Ok(false));
        assert!(point_in_geometry(&json!({"bbox": [1, 2]}), 0.0, 0.0).is_err());
        assert!(point_in_geometry(&json!({"polygon": [[1, 2]]}), 0.0, 0.0).is_err());
        assert!(point_in_geometry(&json!({"circle": 1}), 0.0, 0.0).is_err());
    }
}
