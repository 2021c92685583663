//! A [`PublicRecord`] as an OGC API Records record (GeoJSON `Feature`, `recordGeoJSON.yaml`), emitted as strictly
//! as the schema reads: instants in UTC with `Z`, open interval ends as `".."`, every theme with its `scheme`, no
//! backend location (the record has none to give). The resource kind is `properties.type` (its short name, e.g.
//! `dataset`, `model-or-service`); the dataset stage is `properties.stage`; both are also concepts of a theme whose
//! scheme is the connector's LDT vocabulary, so clients that only read themes see them too.

use serde_json::{json, Map, Value};

use super::links::{link, Ctx};
use super::values::{self, contact_point, language, polygon, spdx_or_other, utc_timestamp};
use crate::catalogue::public::record::Concept;
use crate::catalogue::public::PublicRecord;

/// The conformance class each record declares.
const RECORD_CORE: &str = "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core";

/// The record of `r`.
pub fn feature(r: &PublicRecord, ctx: &Ctx) -> Value {
    let mut f = json!({
        "id": r.id,
        "type": "Feature",
        "conformsTo": [RECORD_CORE],
        "geometry": r.bbox.map(polygon),
        "properties": properties(r, ctx),
        "links": links(r, ctx),
    });
    // `time` is optional; left out rather than null without temporal coverage, because `time.yaml` itself is
    // nullable and a null would match both branches of the record schema's `oneOf`.
    let t = values::time(r.temporal.as_ref());
    if !t.is_null() {
        f["time"] = t;
    }
    f
}

fn properties(r: &PublicRecord, ctx: &Ctx) -> Value {
    let mut p = Map::new();
    p.insert("type".into(), r.kind.as_str().into());
    if let Some(stage) = r.stage {
        p.insert("stage".into(), stage.as_str().into());
    }
    p.insert("title".into(), r.title.clone().into());
    if !r.description.is_empty() {
        p.insert("description".into(), r.description.clone().into());
    }
    if !r.keywords.is_empty() {
        p.insert("keywords".into(), json!(r.keywords));
    }
    p.insert("themes".into(), themes(r, ctx));
    if let Some(first) = ctx.info.language.first() {
        // The record's own text is in the catalogue's (first) language; the resource's languages follow.
        p.insert("language".into(), language(first));
    }
    if !r.language.is_empty() {
        p.insert(
            "resourceLanguages".into(),
            Value::Array(r.language.iter().map(language).collect()),
        );
    }
    if let Some(created) = utc_timestamp(&r.issued) {
        p.insert("created".into(), created.into());
    }
    if let Some(updated) = utc_timestamp(&r.modified) {
        p.insert("updated".into(), updated.into());
    }
    p.insert("contacts".into(), Value::Array(contacts(r)));
    if let Some(l) = &r.license {
        p.insert("license".into(), spdx_or_other(l).into());
    }
    p.insert("rights".into(), r.access_rights_concept().label.into());
    let formats = formats(r);
    if !formats.is_empty() {
        p.insert("formats".into(), Value::Array(formats));
    }
    // What a city checks a model or dataset against before negotiating: the model's inputs and outputs (an OGC
    // API - Processes process description with units, CRS and time), or the data's schema, units, CRS and
    // resolution.
    if let Some(d) = &r.described {
        if let Some(m) = &d.model {
            p.insert("model".into(), json!(m));
        }
        if let Some(data) = &d.data {
            p.insert("data".into(), json!(data));
        }
    }
    Value::Object(p)
}

/// The record's themes grouped per scheme (the schema wants `{concepts, scheme}` objects), then the LDT theme
/// holding kind and stage.
fn themes(r: &PublicRecord, ctx: &Ctx) -> Value {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for c in &r.themes {
        let scheme = c
            .scheme
            .map(str::to_string)
            .unwrap_or_else(|| namespace_of(&c.iri).unwrap_or_else(|| ctx.vocab()));
        let concept = theme_concept(c, &scheme);
        match groups.iter_mut().find(|(s, _)| *s == scheme) {
            Some((_, concepts)) => concepts.push(concept),
            None => groups.push((scheme, vec![concept])),
        }
    }
    let mut ldt = vec![json!({
        "id": r.kind.as_str(),
        "title": r.kind.labels().0,
        "url": r.kind.concept(ctx.public_url),
    })];
    if let Some(stage) = r.stage {
        ldt.push(json!({
            "id": stage.as_str(),
            "title": stage.labels().0,
            "url": stage.concept(ctx.public_url),
        }));
    }
    groups.push((ctx.vocab(), ldt));
    Value::Array(
        groups
            .into_iter()
            .map(|(scheme, concepts)| json!({"concepts": concepts, "scheme": scheme}))
            .collect(),
    )
}

/// A theme concept: its code within a known scheme (`ENVI`), else its IRI; the IRI as `url` when it is one.
fn theme_concept(c: &Concept, scheme: &str) -> Value {
    let id = c
        .iri
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix('/').or_else(|| rest.strip_prefix('#')))
        .filter(|code| !code.is_empty() && c.scheme.is_some())
        .unwrap_or(&c.iri);
    let mut concept = json!({"id": id, "title": c.label});
    if c.iri.starts_with("http://") || c.iri.starts_with("https://") {
        concept["url"] = c.iri.clone().into();
    }
    concept
}

/// The namespace of a concept IRI: up to its fragment, else up to its last path segment.
fn namespace_of(iri: &str) -> Option<String> {
    if let Some((ns, _)) = iri.rsplit_once('#') {
        return Some(ns.to_string());
    }
    let (ns, _) = iri.rsplit_once('/')?;
    ns.contains("://")
        .then(|| ns.to_string())
        .filter(|ns| !ns.ends_with('/'))
}

fn contacts(r: &PublicRecord) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(cp) = &r.contact_point {
        out.push(contact_point(cp));
    }
    let same = r.creator == r.publisher;
    let mut roles = vec!["publisher"];
    if same {
        roles.push("originator");
    }
    out.push(
        json!({"organization": r.publisher.name, "identifier": r.publisher.id, "roles": roles}),
    );
    if !same {
        out.push(json!({"organization": r.creator.name, "identifier": r.creator.id, "roles": ["originator"]}));
    }
    out
}

fn formats(r: &PublicRecord) -> Vec<Value> {
    r.distinct_formats()
        .into_iter()
        .map(|d| {
            let mut f = json!({"mediaType": d.media_type});
            if let Some(name) = d.file_type {
                f["name"] = name.into();
            }
            f
        })
        .collect()
}

fn links(r: &PublicRecord, ctx: &Ctx) -> Vec<Value> {
    let mut out = vec![
        link(
            "self",
            ctx.item_url(&r.id),
            Some(super::GEOJSON),
            Some("This record"),
        ),
        link(
            "collection",
            ctx.collection_url(),
            Some(super::JSON),
            Some("The catalogue"),
        ),
        link(
            "type",
            r.kind.concept(ctx.public_url),
            Some("text/turtle"),
            Some(r.kind.labels().0),
        ),
    ];
    if let Some(l) = &r.license {
        out.push(link("license", l.iri(), None, Some(&l.label())));
    }
    if let Some(d) = &r.endpoint_description {
        out.push(link(
            "describedby",
            d.clone(),
            None,
            Some("API description"),
        ));
    }
    if let Some(page) = &r.landing_page {
        out.push(link(
            "related",
            page.clone(),
            Some("text/html"),
            Some("Landing page"),
        ));
    }
    for standard in &r.conforms_to {
        out.push(link(
            "http://purl.org/dc/terms/conformsTo",
            standard.clone(),
            None,
            Some("Conforms to"),
        ));
    }
    if let Some(run) = &r.generated_by {
        out.push(link(
            "http://www.w3.org/ns/prov#wasGeneratedBy",
            run.clone(),
            None,
            Some("Model run"),
        ));
    }
    for source in &r.derived_from {
        out.push(link(
            "http://www.w3.org/ns/prov#wasDerivedFrom",
            ctx.item_url(source),
            Some(super::GEOJSON),
            Some("Derived from"),
        ));
    }
    if let Some(place) = &r.spatial {
        out.push(link(
            "http://purl.org/dc/terms/spatial",
            place.clone(),
            None,
            Some("Spatial coverage"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_end_before_the_local_name() {
        assert_eq!(
            namespace_of("http://example.org/themes#heat").as_deref(),
            Some("http://example.org/themes")
        );
        assert_eq!(
            namespace_of("http://example.org/themes/heat").as_deref(),
            Some("http://example.org/themes")
        );
        assert_eq!(namespace_of("urn:x:heat"), None);
    }
}
