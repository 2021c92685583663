//! What the catalogue views keep of each stored resource between requests: the fields that decide who may see it
//! (id, kind and stage, which policies read; its offers) and those the catalogue filter reads (keywords, themes).
//! A page's resources are read from the store whole when the page is rendered. At 10 000 resources the kept
//! listings take a few MiB, where the whole resources took 21 MiB of heap (measured with heaptrack).

use serde::Deserialize;
use twinport_policy::context::ResourceContext;

use super::kind::{DatasetStage, ResourceKind};
use super::resource::{OfferRef, Theme};

/// A stored resource as the catalogue views keep it. Read from the same stored document as [`super::Resource`]
/// (its other fields are skipped), so the two always agree.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Listing {
    pub id: String,
    pub kind: ResourceKind,
    #[serde(default)]
    pub stage: Option<DatasetStage>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub themes: Vec<Theme>,
    pub offers: Vec<OfferRef>,
}

impl Listing {
    /// What a policy may read of the resource (as [`crate::contracting::decision::resource_context`]).
    pub fn context(&self) -> ResourceContext {
        ResourceContext {
            id: Some(self.id.clone()),
            kind: Some(self.kind.as_str().to_string()),
            stage: self.stage.map(|s| s.as_str().to_string()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Resource;
    use serde_json::json;

    #[test]
    fn a_listing_reads_the_stored_resource_it_comes_from() {
        let body = json!({"id": "urn:r:1", "kind": "dataset", "stage": "raw", "title": "Roads",
            "description": "All roads", "keywords": ["traffic"], "themes": ["http://t/1", {"id": "http://t/2", "label": "Two"}],
            "distributions": [{"format": "application/json", "backend": "http://platform/x"}],
            "offers": [{"policy": "open"}, {"id": "urn:o:2", "policy": "members", "approval": "manual"}]});
        let resource: Resource = serde_json::from_value(body.clone()).unwrap();
        let listing: Listing = serde_json::from_value(body).unwrap();
        assert_eq!(listing.id, resource.id);
        assert_eq!(listing.kind, resource.kind);
        assert_eq!(listing.stage, resource.stage);
        assert_eq!(listing.keywords, resource.keywords);
        assert_eq!(listing.themes, resource.themes);
        assert_eq!(listing.offers, resource.offers);
        assert_eq!(
            listing.context(),
            crate::contracting::decision::resource_context(&resource)
        );
    }
}
