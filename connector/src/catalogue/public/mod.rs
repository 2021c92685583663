//! The open catalogue: the resources an operator marked `discoverable`, published to anyone (metadata only; the
//! data stays behind contracts) on the interfaces cities and portals already read: DCAT-AP 3 and DCAT-AP-NL 3 RDF,
//! OGC API Records and CSW 2.0.2. [`OpenCatalogue`] keeps a search index per catalogue version and hands out
//! [`PublicRecord`]s, the one record each interface renders.

pub mod dcat_ap;
pub mod index;
pub mod record;
pub mod search;

use std::sync::Arc;

use tokio::sync::Mutex;

pub use index::{Entry, Index};
pub use record::{Concept, PublicRecord};
pub use search::Search;

use super::resource::{FieldError, Resource};
use super::ResourceKind;
use crate::config::CatalogueInfo;
use crate::storage::{StorageError, Store};

/// The open catalogue service; cheap to clone.
#[derive(Clone)]
pub struct OpenCatalogue {
    store: Store,
    info: Arc<CatalogueInfo>,
    public_url: Arc<str>,
    index: Arc<Mutex<Option<Arc<Index>>>>,
}

/// One page of a search.
pub struct Page {
    /// How many records match in all.
    pub matched: usize,
    pub records: Vec<PublicRecord>,
    pub index: Arc<Index>,
}

impl OpenCatalogue {
    pub fn new(store: Store, info: Arc<CatalogueInfo>, public_url: &str) -> OpenCatalogue {
        OpenCatalogue {
            store,
            info,
            public_url: public_url.trim_end_matches('/').into(),
            index: Arc::new(Mutex::new(None)),
        }
    }

    pub fn info(&self) -> &CatalogueInfo {
        &self.info
    }

    /// Our root URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The index of the current catalogue version, read again when resources or policies changed (on any
    /// replica).
    pub async fn index(&self) -> Result<Arc<Index>, StorageError> {
        let version = self.store.catalogue_version().await?;
        let mut kept = self.index.lock().await;
        // A newer index than the version read (another request saw a later change) is as good.
        if let Some(index) = kept.as_ref().filter(|i| i.version >= version) {
            return Ok(index.clone());
        }
        let index = Arc::new(Index::read(&self.store, version).await?);
        *kept = Some(index.clone());
        Ok(index)
    }

    /// The records matching `search`, `limit` of them from `offset`, in id order.
    pub async fn search(
        &self,
        search: &Search,
        offset: usize,
        limit: usize,
    ) -> Result<Page, StorageError> {
        let index = self.index().await?;
        let mut matched = 0;
        let mut ids = Vec::new();
        for e in index.entries.iter().filter(|e| search.matches(e)) {
            if matched >= offset && ids.len() < limit {
                ids.push(e.id.clone());
            }
            matched += 1;
        }
        let records = self.records(&index, &ids).await?;
        Ok(Page {
            matched,
            records,
            index,
        })
    }

    /// One discoverable record by id.
    pub async fn record(&self, id: &str) -> Result<Option<PublicRecord>, StorageError> {
        let index = self.index().await?;
        if !index.entries.iter().any(|e| e.id == id) {
            return Ok(None);
        }
        Ok(self
            .records(&index, &[id.to_string()])
            .await?
            .into_iter()
            .next())
    }

    /// The records of `ids` that are still stored and discoverable, in the order given. What a record was derived
    /// from is published only where that input is discoverable too: the id of a partner-only resource is not
    /// for anyone to read.
    pub async fn records(
        &self,
        index: &Index,
        ids: &[String],
    ) -> Result<Vec<PublicRecord>, StorageError> {
        let mut rows = self.store.resource_bodies_with_stamps(ids).await?;
        rows.sort_by_key(|(id, _, _)| ids.iter().position(|i| i == id));
        Ok(rows
            .into_iter()
            .filter_map(|(id, body, stamps)| match serde_json::from_str::<Resource>(&body) {
                Ok(r) if r.discoverable => {
                    let mut record = PublicRecord::new(&r, &stamps, &self.info);
                    record.derived_from.retain(|input| index.contains(input));
                    let method = record
                        .described
                        .as_mut()
                        .and_then(|d| d.model.as_mut())
                        .and_then(|m| m.method.as_mut());
                    if let Some(m) = method {
                        m.training_data.retain(|input| index.contains(input));
                        m.validation_data.retain(|input| index.contains(input));
                    }
                    Some(record)
                }
                Ok(_) => None,
                Err(e) => {
                    tracing::error!(resource = %id, error = %e, "stored resource no longer parses; not published");
                    None
                }
            })
            .collect())
    }
}

/// What a discoverable resource must have beyond what every resource must, given the catalogue's defaults: the
/// fields DCAT-AP-NL makes mandatory and no default can fill.
pub fn publishable_problems(r: &Resource, info: &CatalogueInfo) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if !r.discoverable {
        return problems;
    }
    let problem = |field: &str, text: &str| FieldError {
        field: field.into(),
        problem: text.into(),
    };
    if r.license.is_none() && info.license.is_none() {
        problems.push(problem(
            "license",
            "required for a discoverable resource (or set [catalogue].license as the default)",
        ));
    }
    // DCAT-AP-NL gives the catalogue exactly one contact point, whatever its resources name.
    if info.contact_point.is_none() {
        problems.push(problem(
            "contact_point",
            "a discoverable resource is published in a catalogue that needs a contact point: set [catalogue.contact_point] in the config",
        ));
    }
    if r.themes.is_empty() {
        problems.push(problem(
            "themes",
            "a discoverable resource needs at least one theme, such as an EU data theme code (TRAN, ENVI, REGI ...)",
        ));
    }
    if r.kind == ResourceKind::ModelOrService && r.endpoint_description.is_none() {
        problems.push(problem(
            "endpoint_description",
            "a discoverable model or service needs the URL of its API description (OpenAPI or OGC API Processes)",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::resource::parse_resource;

    fn info(with_defaults: bool) -> CatalogueInfo {
        CatalogueInfo {
            title: "Twin".into(),
            description: None,
            publisher_id: "https://city.example/".into(),
            publisher_name: "City".into(),
            homepage: None,
            language: vec![crate::authority::Language::parse("en").unwrap()],
            license: with_defaults
                .then(|| crate::authority::Licence::parse("CC0"))
                .flatten(),
            contact_point: with_defaults.then(|| crate::catalogue::metadata::ContactPoint {
                name: "Team".into(),
                email: Some("team@city.example".into()),
                url: None,
            }),
        }
    }

    fn model(discoverable: bool) -> Resource {
        parse_resource(serde_json::json!({
            "id": "urn:r:model", "kind": "model-or-service", "title": "Model", "description": "Runs.",
            "discoverable": discoverable,
            "distributions": [{"format": "application/json", "backend": "http://models/x"}],
            "offers": [{"policy": "open"}]
        }))
        .unwrap()
    }

    #[test]
    fn a_discoverable_resource_needs_what_no_default_gives() {
        assert!(publishable_problems(&model(false), &info(false)).is_empty());
        let fields: Vec<String> = publishable_problems(&model(true), &info(false))
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            ["license", "contact_point", "themes", "endpoint_description"]
        );
        let fields: Vec<String> = publishable_problems(&model(true), &info(true))
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["themes", "endpoint_description"]);
    }
}
