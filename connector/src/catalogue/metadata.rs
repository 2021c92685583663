//! The descriptive fields of a resource that the open catalogue interfaces publish (DCAT-AP 3, DCAT-AP-NL 3, OGC
//! API Records, CSW): who to contact, who may access it, what it covers in space, and the checks on each value. A
//! resource names authority entries by code or IRI; [`crate::authority`] turns them into published IRIs and labels.

use serde::{Deserialize, Serialize};

use super::resource::FieldError;
pub use crate::config::ContactPoint;
pub use crate::iri::is_web_url;

/// Problems with a contact point, each naming `prefix.<field>`.
pub fn contact_problems(c: &ContactPoint, prefix: &str) -> Vec<FieldError> {
    c.problems(prefix)
        .into_iter()
        .map(|(field, problem)| FieldError { field, problem })
        .collect()
}

/// Who may access the resource's data (EU access-right table, as DCAT-AP-NL allows it). Metadata published on the
/// open interfaces is public either way; `restricted`, the default, means "through a contract with this connector".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessRights {
    Public,
    #[default]
    Restricted,
    NonPublic,
}

impl AccessRights {
    /// The EU access-right table code.
    pub fn code(self) -> &'static str {
        match self {
            AccessRights::Public => "PUBLIC",
            AccessRights::Restricted => "RESTRICTED",
            AccessRights::NonPublic => "NON_PUBLIC",
        }
    }
}

/// A bounding box in WGS 84 longitude/latitude (CRS84): `[west, south, east, north]`.
pub type Bbox = [f64; 4];

/// Problems with a CRS84 bounding box.
pub fn bbox_problems(name: &str, b: &Bbox) -> Vec<FieldError> {
    let [west, south, east, north] = *b;
    let mut problems = Vec::new();
    if !b.iter().all(|v| v.is_finite()) {
        problems.push(field(name, "must be four finite numbers"));
        return problems;
    }
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
        problems.push(field(
            name,
            "longitudes (west, east) must lie in -180..180 (the box is [west, south, east, north] in WGS 84)",
        ));
    }
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) {
        problems.push(field(
            name,
            "latitudes (south, north) must lie in -90..90 (the box is [west, south, east, north] in WGS 84)",
        ));
    }
    if south > north {
        problems.push(field(name, "south is north of north"));
    }
    if west > east {
        problems.push(field(
            name,
            "west is east of east (a box across the antimeridian is not supported: give two resources or widen it)",
        ));
    }
    problems
}

fn field(name: impl Into<String>, problem: impl Into<String>) -> FieldError {
    FieldError {
        field: name.into(),
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_west_south_east_north() {
        assert!(bbox_problems("bbox", &[4.7, 52.3, 5.1, 52.5]).is_empty());
        // Latitude first, as EPSG:4326 axis order would have it, reads as a box in Somalia: valid, so the docs
        // and the field's description say longitude first.
        assert!(bbox_problems("bbox", &[52.3, 4.7, 52.5, 5.1]).is_empty());
        assert_eq!(bbox_problems("bbox", &[5.1, 52.3, 4.7, 52.5]).len(), 1);
        assert_eq!(bbox_problems("bbox", &[4.7, 91.0, 5.1, 52.5]).len(), 2);
        assert_eq!(bbox_problems("bbox", &[f64::NAN, 0.0, 1.0, 1.0]).len(), 1);
    }

    #[test]
    fn a_contact_needs_a_way_to_reach_it() {
        let c = ContactPoint {
            name: "Data team".into(),
            email: None,
            url: None,
        };
        assert_eq!(
            contact_problems(&c, "contact_point")[0].field,
            "contact_point"
        );
        let c = ContactPoint {
            name: "Data team".into(),
            email: Some("data@city.example".into()),
            url: Some("ftp://x".into()),
        };
        let fields: Vec<_> = contact_problems(&c, "cp")
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, vec!["cp.url"]);
    }
}
