//! One discoverable resource as every open interface publishes it: the stored declaration with each default filled
//! in (publisher, creator, contact, licence, access rights, languages from the catalogue; issued and modified from
//! the store) and each authority value resolved to its IRI and label. DCAT-AP, OGC API Records and CSW are renderings
//! of this one record, so they cannot disagree. Backend locations are not part of it.

use super::super::descriptor::Described;
use super::super::kind::{DatasetStage, ResourceKind};
use super::super::metadata::{AccessRights, Bbox, ContactPoint};
use super::super::resource::{Publisher, Resource, Temporal};
use crate::authority::{Language, Licence, ACCESS_RIGHTS, FREQUENCIES, THEMES};
use crate::config::CatalogueInfo;
use crate::storage::Stamps;

/// A concept with the label to show for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    pub iri: String,
    pub label: String,
    /// The concept scheme, when known (the EU data-theme table for EU themes).
    pub scheme: Option<&'static str>,
}

/// One distribution as published: its media type only.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicDistribution {
    pub media_type: String,
    /// EU file-type table code for the media type, when it has one.
    pub file_type: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublicRecord {
    pub id: String,
    pub kind: ResourceKind,
    pub stage: Option<DatasetStage>,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub themes: Vec<Concept>,
    pub publisher: Publisher,
    pub creator: Publisher,
    pub contact_point: Option<ContactPoint>,
    pub license: Option<Licence>,
    pub access_rights: AccessRights,
    pub language: Vec<Language>,
    pub spatial: Option<String>,
    pub bbox: Option<Bbox>,
    pub temporal: Option<Temporal>,
    pub update_frequency: Option<Concept>,
    pub conforms_to: Vec<String>,
    pub landing_page: Option<String>,
    pub version: Option<String>,
    pub endpoint_description: Option<String>,
    pub derived_from: Vec<String>,
    /// The model run that produced it (`prov:wasGeneratedBy`).
    pub generated_by: Option<String>,
    /// What the alignment checks read: a model's descriptor, or a dataset's schema, units, CRS and resolution.
    pub described: Option<Described>,
    pub distributions: Vec<PublicDistribution>,
    /// RFC 3339, from the store.
    pub issued: String,
    pub modified: String,
}

impl PublicRecord {
    /// The record of `r` as published under `info`, stored at `stamps`.
    pub fn new(r: &Resource, stamps: &Stamps, info: &CatalogueInfo) -> PublicRecord {
        let publisher = r.publisher.clone().unwrap_or_else(|| Publisher {
            id: info.publisher_id.clone(),
            name: info.publisher_name.clone(),
        });
        let language: Vec<Language> = {
            let own: Vec<Language> = r
                .language
                .iter()
                .filter_map(|l| Language::parse(l))
                .collect();
            if own.is_empty() {
                info.language.clone()
            } else {
                own
            }
        };
        PublicRecord {
            id: r.id.clone(),
            kind: r.kind,
            stage: r.stage,
            title: r.title.clone(),
            description: r.description.clone().unwrap_or_default(),
            keywords: r.keywords.clone(),
            themes: r
                .themes
                .iter()
                .filter_map(|t| t.concept())
                .map(|(iri, label, scheme)| Concept { iri, label, scheme })
                .collect(),
            creator: r.creator.clone().unwrap_or_else(|| publisher.clone()),
            publisher,
            contact_point: r
                .contact_point
                .clone()
                .or_else(|| info.contact_point.clone()),
            license: r
                .license
                .as_deref()
                .and_then(Licence::parse)
                .or_else(|| info.license.clone()),
            access_rights: r.access_rights.unwrap_or_default(),
            language,
            spatial: r.spatial.clone(),
            bbox: r.bbox,
            temporal: r.temporal.clone(),
            update_frequency: r
                .update_frequency
                .as_deref()
                .and_then(|f| FREQUENCIES.find(f))
                .map(|e| Concept {
                    iri: FREQUENCIES.iri(e),
                    label: e.label.to_string(),
                    scheme: Some(FREQUENCIES.scheme),
                }),
            conforms_to: {
                let mut standards = r.conforms_to.clone();
                if let Some(api) = r.model.as_ref().map(|m| m.api.standard().to_string()) {
                    if !standards.contains(&api) {
                        standards.push(api);
                    }
                }
                standards
            },
            landing_page: r.landing_page.clone(),
            version: r.version.clone(),
            endpoint_description: r.endpoint_description.clone(),
            derived_from: r.derived_from.clone(),
            generated_by: r.generated_by.clone(),
            described: Described::of(r),
            distributions: r
                .distributions
                .iter()
                .map(|d| PublicDistribution {
                    media_type: d.format.clone(),
                    file_type: crate::authority::file_type(&d.format),
                })
                .collect(),
            issued: stamps.created.clone(),
            modified: stamps.updated.clone(),
        }
    }

    /// The access-rights concept.
    pub fn access_rights_concept(&self) -> Concept {
        let entry = ACCESS_RIGHTS
            .find(self.access_rights.code())
            .expect("every AccessRights value is in the table");
        Concept {
            iri: ACCESS_RIGHTS.iri(entry),
            label: entry.label.to_string(),
            scheme: Some(ACCESS_RIGHTS.scheme),
        }
    }

    /// The access-rights concept for "through a contract" (the connector's own service).
    pub fn restricted() -> Concept {
        let entry = ACCESS_RIGHTS
            .find("RESTRICTED")
            .expect("RESTRICTED is in the table");
        Concept {
            iri: ACCESS_RIGHTS.iri(entry),
            label: entry.label.to_string(),
            scheme: Some(ACCESS_RIGHTS.scheme),
        }
    }

    /// The EU data theme `code` (one of the table's).
    pub fn theme(code: &str) -> Concept {
        let entry = THEMES.find(code).expect("a code of the data-theme table");
        Concept {
            iri: THEMES.iri(entry),
            label: entry.label.to_string(),
            scheme: Some(THEMES.scheme),
        }
    }

    /// The distributions with distinct media types, in order: what Records `formats` and CSW `dc:format` list.
    pub fn distinct_formats(&self) -> Vec<&PublicDistribution> {
        let mut out: Vec<&PublicDistribution> = Vec::new();
        for d in &self.distributions {
            if !out.iter().any(|o| o.media_type == d.media_type) {
                out.push(d);
            }
        }
        out
    }

    /// True for the kind published as a `dcat:DataService` (and CSW/Records type "service").
    pub fn is_service(&self) -> bool {
        self.kind == ResourceKind::ModelOrService
    }
}
