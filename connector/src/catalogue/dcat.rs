//! Publishes resources as DCAT-AP 3 inside DSP 2025-1 JSON: the compact DSP terms the schemas require, plus the
//! DCAT-AP properties written as prefixed or full IRIs so they survive JSON-LD processing with the DSP context
//! (see `docs/catalogue.md`). Backend locations never appear here.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::descriptor::{Described, DESCRIPTION_PROPERTY};
use super::resource::{date_datatype, Resource, Theme};
use crate::config::CatalogueInfo;
use twinport_contracts::dsp::DSP_CONTEXT;

const FOAF: &str = "http://xmlns.com/foaf/0.1/";
const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
const PROV: &str = "http://www.w3.org/ns/prov#";
/// DSP transfer format for HTTP pull, the one Twinport's data plane serves.
pub const HTTP_PULL: &str = "HttpData-PULL";

/// What the publisher needs beyond the resources themselves.
pub struct Publication<'a> {
    pub participant_id: &'a str,
    /// Our root URL, under which the LDT vocabulary's concepts live.
    pub public_url: &'a str,
    /// Absolute URL of this connector's DSP base (`<root><path>`), the DataService endpoint.
    pub dsp_base: &'a str,
    pub info: &'a CatalogueInfo,
    /// Policy id → ODRL policy body, for the offers.
    pub policies: &'a HashMap<String, Value>,
}

impl Publication<'_> {
    fn data_service(&self) -> Value {
        json!({
            "@id": self.dsp_base,
            "@type": "DataService",
            "endpointURL": self.dsp_base,
            "dct:title": format!("{} (Dataspace Protocol endpoint)", self.info.title),
        })
    }

    /// A resource as a DSP `Dataset` (no `@context`; for inclusion in a catalogue).
    pub fn dataset(&self, r: &Resource) -> Value {
        let mut d = Map::new();
        d.insert("@id".into(), json!(r.id));
        d.insert("@type".into(), json!("Dataset"));
        d.insert("dct:title".into(), json!(r.title));
        if let Some(desc) = &r.description {
            d.insert("dct:description".into(), json!(desc));
        }
        let (pub_id, pub_name) = match &r.publisher {
            Some(p) => (p.id.as_str(), p.name.as_str()),
            None => (
                self.info.publisher_id.as_str(),
                self.info.publisher_name.as_str(),
            ),
        };
        d.insert("dct:publisher".into(), agent(pub_id, pub_name));
        if !r.keywords.is_empty() {
            d.insert("dcat:keyword".into(), json!(r.keywords));
        }
        // EU themes named by code are published as their IRI with the table's label.
        let themes: Vec<Value> = r.themes.iter().filter_map(theme).collect();
        if !themes.is_empty() {
            d.insert("dcat:theme".into(), Value::Array(themes));
        }
        if let Some(s) = &r.spatial {
            d.insert(
                "dct:spatial".into(),
                json!({"@id": s, "@type": "dct:Location"}),
            );
        }
        if let Some(t) = &r.temporal {
            let mut period = Map::new();
            period.insert("@type".into(), json!("dct:PeriodOfTime"));
            if let Some(start) = &t.start {
                period.insert("dcat:startDate".into(), typed_date(start));
            }
            if let Some(end) = &t.end {
                period.insert("dcat:endDate".into(), typed_date(end));
            }
            d.insert("dct:temporal".into(), Value::Object(period));
        }
        let api = r.model.as_ref().map(|m| m.api.standard());
        let standards: Vec<&str> = r.conforms_to.iter().map(String::as_str).collect();
        let standards: Vec<&str> = match api {
            Some(api) if !standards.contains(&api) => standards.into_iter().chain([api]).collect(),
            _ => standards,
        };
        if !standards.is_empty() {
            let standards: Vec<Value> = standards
                .iter()
                .map(|c| json!({"@id": c, "@type": "dct:Standard"}))
                .collect();
            d.insert("dct:conformsTo".into(), Value::Array(standards));
        }
        if let Some(v) = &r.version {
            d.insert("dcat:version".into(), json!(v));
        }
        if let Some(run) = &r.generated_by {
            d.insert(format!("{PROV}wasGeneratedBy"), json!({"@id": run}));
        }
        if let Some(resolution) = r.data.as_ref().and_then(|x| x.resolution.as_ref()) {
            d.insert(
                "dcat:temporalResolution".into(),
                json!({"@value": resolution, "@type": "xsd:duration"}),
            );
        }
        // What the alignment checks read, so a partner can check our model or dataset before negotiating.
        if let Some(described) = Described::of(r) {
            d.insert(
                DESCRIPTION_PROPERTY.into(),
                json!({"@type": "@json", "@value": described}),
            );
        }
        // Kind first, then a dataset's stage: concepts of the vocabulary served under our public URL.
        let public_url = self.public_url;
        let mut types = vec![json!({"@id": r.kind.concept(public_url)})];
        if let Some(stage) = r.stage {
            types.push(json!({"@id": stage.concept(public_url)}));
        }
        d.insert("dct:type".into(), Value::Array(types));
        let offers: Vec<Value> = r
            .offers
            .iter()
            .filter_map(|o| {
                let body = self.policies.get(&o.policy)?;
                Some(offer(&o.offer_id(&r.id), self.participant_id, body, &r.id))
            })
            .collect();
        d.insert("hasPolicy".into(), Value::Array(offers));
        let distributions: Vec<Value> = r
            .distributions
            .iter()
            .map(|dist| {
                json!({
                    "@type": "Distribution",
                    "format": HTTP_PULL,
                    "accessService": self.data_service(),
                    "dcat:mediaType": {"@id": format!("https://www.iana.org/assignments/media-types/{}", dist.format), "@type": "dct:MediaType"},
                    "dcat:accessURL": {"@id": self.dsp_base},
                })
            })
            .collect();
        d.insert("distribution".into(), Value::Array(distributions));
        Value::Object(d)
    }

    /// A single dataset answered by `GET .../catalog/datasets/{id}`.
    pub fn root_dataset(&self, r: &Resource) -> Value {
        let mut d = self.dataset(r);
        if let Some(obj) = d.as_object_mut() {
            obj.insert("@context".into(), json!([DSP_CONTEXT]));
        }
        d
    }

    /// The root catalogue holding `resources` (already filtered and paged).
    pub fn catalog(&self, resources: &[&Resource]) -> Value {
        let mut c = Map::new();
        c.insert("@context".into(), json!([DSP_CONTEXT]));
        c.insert("@id".into(), json!(format!("{}/catalog", self.dsp_base)));
        c.insert("@type".into(), json!("Catalog"));
        c.insert("participantId".into(), json!(self.participant_id));
        c.insert("dct:title".into(), json!(self.info.title));
        if let Some(desc) = &self.info.description {
            c.insert("dct:description".into(), json!(desc));
        }
        c.insert(
            "dct:publisher".into(),
            agent(&self.info.publisher_id, &self.info.publisher_name),
        );
        c.insert("service".into(), json!([self.data_service()]));
        // DSP forbids empty arrays: an empty page has no `dataset` member at all.
        let datasets: Vec<Value> = resources.iter().map(|r| self.dataset(r)).collect();
        if !datasets.is_empty() {
            c.insert("dataset".into(), Value::Array(datasets));
        }
        Value::Object(c)
    }
}

fn agent(id: &str, name: &str) -> Value {
    json!({"@id": id, "@type": format!("{FOAF}Agent"), format!("{FOAF}name"): name})
}

/// A theme as a labelled concept; `None` for a bare IRI outside the EU table, which validation refuses today but
/// a resource stored by an earlier version may hold.
fn theme(t: &Theme) -> Option<Value> {
    let (id, label, _) = t.concept()?;
    Some(json!({"@id": id, "@type": format!("{SKOS}Concept"), format!("{SKOS}prefLabel"): label}))
}

fn typed_date(v: &str) -> Value {
    json!({"@value": v, "@type": date_datatype(v).unwrap_or("xsd:date")})
}

/// The offer for one policy on one resource: our id and assigner, and the policy as it decides on that resource
/// ([`twinport_policy::Policy::offered_on`]: its rules with their actions, the policy-wide terms), with no
/// `target` (DSP catalogue offers have none; negotiation messages add it). A policy that does not read offers
/// nothing, and is never shown, since every decision under it denies.
pub fn offer(offer_id: &str, assigner: &str, policy: &Value, resource: &str) -> Value {
    let mut o = Map::new();
    o.insert("@id".into(), json!(offer_id));
    o.insert("@type".into(), json!("Offer"));
    o.insert("assigner".into(), json!(assigner));
    if let Ok(p) = twinport_policy::Policy::from_json(policy) {
        if let Value::Object(terms) = p.offered_on(resource) {
            o.extend(terms);
        }
    }
    Value::Object(o)
}
