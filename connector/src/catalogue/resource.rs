//! An LDT resource as an operator declares it (in a catalogue file or through the management API), and the checks
//! that turn that declaration into a [`Resource`] the connector will publish.

use serde::{Deserialize, Serialize};

use super::kind::{DatasetStage, ResourceKind};
use super::metadata::{
    bbox_problems, contact_problems, is_web_url, AccessRights, Bbox, ContactPoint,
};
use crate::authority::{Language, Licence, FREQUENCIES, THEMES};
use crate::iri::{iri_problem, is_absolute_uri};

/// A validated catalogue resource. `distributions[].backend` is internal and never shown to partners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Absolute IRI identifying the resource (published as the dataset `@id`).
    pub id: String,
    pub kind: ResourceKind,
    /// Required for datasets (MIM8 R1.2), not allowed for other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<DatasetStage>,
    pub title: String,
    /// Required (DCAT-AP makes it mandatory); stored resources from before it was may lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Published on the open catalogue interfaces (DCAT, OGC API Records, CSW) for anyone to find. Access to the
    /// data still goes through a contract; resources not marked stay in the partners' DSP catalogue only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discoverable: bool,
    /// Defaults to the catalogue's publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    /// Who made the resource; defaults to the publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Publisher>,
    /// Whom to ask about it; defaults to the catalogue's contact point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_point: Option<ContactPoint>,
    /// The licence: an EU licence table code or IRI (`CC_BY_4_0`), or an SPDX licence IRI; defaults to the
    /// catalogue's licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `public`, `restricted` (the default: through a contract) or `non-public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_rights: Option<AccessRights>,
    /// Languages of the resource, as ISO 639-1 codes (`nl`, `en`); defaults to the catalogue's languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub language: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// EU data themes by code (`TRAN`) or IRI, or other concepts as `{id, label}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    /// IRI of a place (for example an EU place authority IRI or a GeoNames IRI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spatial: Option<String>,
    /// The area covered, `[west, south, east, north]` in WGS 84 longitude/latitude (CRS84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<f64>>, min_items = 4, max_items = 4)]
    pub bbox: Option<Bbox>,
    /// How often it is updated: an EU frequency table code (`daily`, `15MIN`, `irreg`) or IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_frequency: Option<String>,
    /// A web page about the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Models and services: the URL of the description of the API they are called through (an OpenAPI document
    /// or an OGC API Processes process description); required for a discoverable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<Temporal>,
    /// IRIs of the schemas or data models the resource conforms to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conforms_to: Vec<String>,
    pub distributions: Vec<Distribution>,
    pub offers: Vec<OfferRef>,
    /// IRIs of the inputs (typically partners' datasets obtained under agreements) this output was derived from;
    /// exported as `prov:wasDerivedFrom` in the audit log's provenance graph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_from: Vec<String>,
    /// IRI of the model run that produced this output (for a run through the data plane, the job's URL);
    /// exported as `prov:wasGeneratedBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    /// Models and services: inputs, outputs, parameters and method, in the shape of an OGC API - Processes
    /// process description with units, CRS and time facts (see `docs/models.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<super::descriptor::ModelDescriptor>,
    /// Datasets, visualisation assets, outputs and templates: schema, attribute units, CRS, extent and time
    /// resolution, the facts a model input is checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<super::descriptor::DataDescription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    pub id: String,
    pub name: String,
}

/// A DCAT theme: an EU data theme by code or IRI, or any concept IRI with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Theme {
    Iri(String),
    Labelled { id: String, label: String },
}

impl Theme {
    pub fn id(&self) -> &str {
        match self {
            Theme::Iri(id) | Theme::Labelled { id, .. } => id,
        }
    }

    /// The concept IRI and label published for the theme, with the scheme it belongs to when known; `None` for a
    /// bare IRI outside the EU data-theme table (it has no label to publish).
    pub fn concept(&self) -> Option<(String, String, Option<&'static str>)> {
        match self {
            Theme::Iri(id) => THEMES
                .find(id)
                .map(|e| (THEMES.iri(e), e.label.to_string(), Some(THEMES.scheme))),
            Theme::Labelled { id, label } => match THEMES.find(id) {
                Some(e) => Some((THEMES.iri(e), label.clone(), Some(THEMES.scheme))),
                None => Some((id.clone(), label.clone(), None)),
            },
        }
    }
}

/// Temporal coverage, as `xsd:date` (YYYY-MM-DD) or `xsd:dateTime` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Temporal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// One way to obtain the resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    /// Media type of the payload, e.g. `application/ld+json`.
    pub format: String,
    /// Where the LDT platform serves it (http(s) URL or file path). Never published.
    pub backend: String,
    /// Set when the backend is an NGSI-LD context broker: the tenant to use and what partners may query, judged
    /// on expanded IRIs by the data plane. Never published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngsi_ld: Option<NgsiLdSettings>,
    /// Set when the backend is an OGC API - Processes server (`backend` is its landing page): which of its
    /// processes partners may describe and execute through the data plane. Never published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ogc_api_processes: Option<ProcessesSettings>,
}

/// How the data plane exposes an OGC API - Processes server to a partner holding an agreement for the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessesSettings {
    /// Process ids on the backend partners may list, describe and execute; every other process is hidden.
    pub processes: Vec<String>,
}

/// How the data plane talks to an NGSI-LD broker on a partner's behalf. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NgsiLdSettings {
    /// Sent as `NGSILD-Tenant`; a tenant header from the partner is dropped, never forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Entity types (expanded IRIs) partners may query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entity_types: Vec<String>,
    /// Attributes (expanded IRIs) partners may ask for, filter on, or receive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Query parameter names partners may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_parameters: Vec<String>,
    /// Parse JSON responses and remove entities and attributes outside the lists above.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub filter_responses: bool,
    /// JSON-LD contexts partners may name in their `Link` header, by URL, each with its `@context` value. A
    /// context URL not declared here (other than the NGSI-LD core context) is refused rather than fetched.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub contexts: std::collections::BTreeMap<String, serde_json::Value>,
}

/// An offer of the resource under a stored policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRef {
    /// Offer IRI; defaults to `<resource id>:offer:<policy id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Id of the policy (in the catalogue's `policies/` directory or the policy API).
    pub policy: String,
    /// `auto` (default): agree as soon as the policy permits; `manual`: wait for an operator's approval.
    #[serde(default, skip_serializing_if = "Approval::is_auto")]
    pub approval: Approval,
}

/// How a permitted contract request becomes an agreement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    #[default]
    Auto,
    Manual,
}

impl Approval {
    fn is_auto(&self) -> bool {
        *self == Approval::Auto
    }
}

impl OfferRef {
    pub fn offer_id(&self, resource_id: &str) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{resource_id}:offer:{}", self.policy))
    }
}

/// One problem with a resource declaration, naming the field.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

fn err(field: impl Into<String>, problem: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Reads a resource from JSON, turning serde's complaint into a field error.
pub fn parse_resource(value: serde_json::Value) -> Result<Resource, Vec<FieldError>> {
    let resource: Resource =
        serde_json::from_value(value).map_err(|e| vec![serde_error(&e.to_string())])?;
    resource.validate()?;
    Ok(resource)
}

/// serde reports "missing field `title`" or "unknown variant `x`, expected ..."; keep the field name in front.
pub fn serde_error(message: &str) -> FieldError {
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"))
        .unwrap_or("(document)");
    err(field, message.to_string())
}

impl Resource {
    /// Every check beyond the shape serde enforces; returns all problems at once.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        if let Some(problem) = iri_problem(&self.id) {
            problems.push(err("id", problem));
        }
        match (self.kind, self.stage) {
            (ResourceKind::Dataset, None) => problems.push(err(
                "stage",
                "required for a dataset: one of raw, workflow-ready, model-input, model-output",
            )),
            (kind, Some(_)) if kind != ResourceKind::Dataset => problems.push(err(
                "stage",
                format!("only datasets have a stage, this resource is a {kind}"),
            )),
            _ => {}
        }
        if self.title.trim().is_empty() {
            problems.push(err("title", "must not be empty"));
        }
        let mut texts: Vec<(String, &str)> = vec![("title".into(), &self.title)];
        texts.extend(
            self.description
                .iter()
                .map(|d| ("description".into(), d.as_str())),
        );
        texts.extend(self.version.iter().map(|v| ("version".into(), v.as_str())));
        texts.extend(
            self.keywords
                .iter()
                .enumerate()
                .map(|(i, k)| (format!("keywords[{i}]"), k.as_str())),
        );
        for (i, t) in self.themes.iter().enumerate() {
            if let Theme::Labelled { label, .. } = t {
                texts.push((format!("themes[{i}].label"), label));
            }
        }
        for (name, agent) in [("publisher", &self.publisher), ("creator", &self.creator)] {
            texts.extend(
                agent
                    .iter()
                    .map(|a| (format!("{name}.name"), a.name.as_str())),
            );
        }
        texts.extend(
            self.contact_point
                .iter()
                .map(|c| ("contact_point.name".into(), c.name.as_str())),
        );
        for (name, text) in texts {
            if let Some(problem) = crate::iri::text_problem(text) {
                problems.push(err(name, problem));
            }
        }
        match &self.description {
            None => problems.push(err(
                "description",
                "required: a sentence or two saying what the resource holds (DCAT-AP makes it mandatory)",
            )),
            Some(d) if d.trim().is_empty() => problems.push(err("description", "must not be empty")),
            Some(_) => {}
        }
        for (name, agent) in [("publisher", &self.publisher), ("creator", &self.creator)] {
            if let Some(p) = agent {
                if !is_absolute_uri(&p.id) {
                    problems.push(err(format!("{name}.id"), "must be an absolute IRI"));
                }
                if p.name.trim().is_empty() {
                    problems.push(err(format!("{name}.name"), "must not be empty"));
                }
            }
        }
        if let Some(c) = &self.contact_point {
            problems.extend(contact_problems(c, "contact_point"));
        }
        if let Some(l) = &self.license {
            if Licence::parse(l).is_none() {
                problems.push(err(
                    "license",
                    format!("{l:?} is neither an EU licence table code or IRI (such as CC_BY_4_0) nor an SPDX licence IRI (http://spdx.org/licenses/<id>)"),
                ));
            }
        }
        for (i, l) in self.language.iter().enumerate() {
            if Language::parse(l).is_none() {
                problems.push(err(
                    format!("language[{i}]"),
                    format!("unknown language {l:?} (one of {})", Language::known()),
                ));
            }
        }
        for (i, theme) in self.themes.iter().enumerate() {
            match theme {
                Theme::Iri(id) if THEMES.find(id).is_none() => problems.push(err(
                    format!("themes[{i}]"),
                    format!("{id:?} is not an EU data theme (AGRI, ECON, EDUC, ENER, ENVI, GOVE, HEAL, INTR, JUST, REGI, SOCI, TECH, TRAN); give another concept as {{id, label}}"),
                )),
                Theme::Labelled { id, label } => {
                    if THEMES.find(id).is_none() && !is_absolute_uri(id) {
                        problems.push(err(format!("themes[{i}].id"), "must be an EU data theme code or an absolute IRI"));
                    }
                    if label.trim().is_empty() {
                        problems.push(err(format!("themes[{i}].label"), "must not be empty"));
                    }
                }
                Theme::Iri(_) => {}
            }
        }
        if let Some(s) = &self.spatial {
            if !is_absolute_uri(s) {
                problems.push(err("spatial", "must be an absolute IRI of a place"));
            }
        }
        if let Some(b) = &self.bbox {
            problems.extend(bbox_problems("bbox", b));
        }
        if let Some(f) = &self.update_frequency {
            if FREQUENCIES.find(f).is_none() {
                problems.push(err(
                    "update_frequency",
                    format!("{f:?} is not an EU frequency table code (such as daily, hourly, 15MIN, weekly, irreg, cont)"),
                ));
            }
        }
        for (name, value) in [
            ("landing_page", &self.landing_page),
            ("endpoint_description", &self.endpoint_description),
        ] {
            if value.as_deref().is_some_and(|v| !is_web_url(v)) {
                problems.push(err(name, "must be an http(s) URL"));
            }
        }
        if self.endpoint_description.is_some() && self.kind != ResourceKind::ModelOrService {
            problems.push(err(
                "endpoint_description",
                format!(
                    "only models and services are called through an API, this resource is a {}",
                    self.kind
                ),
            ));
        }
        if let Some(t) = &self.temporal {
            for (name, value) in [("temporal.start", &t.start), ("temporal.end", &t.end)] {
                if let Some(v) = value {
                    if date_datatype(v).is_none() {
                        problems.push(err(
                            name,
                            format!(
                                "must be a date (YYYY-MM-DD) or an RFC 3339 date-time, got {v:?}"
                            ),
                        ));
                    }
                }
            }
            if let (Some((start, _)), Some((_, end))) = (
                t.start.as_deref().and_then(span),
                t.end.as_deref().and_then(span),
            ) {
                if start > end {
                    problems.push(err("temporal.end", "is before temporal.start"));
                }
            }
        }
        for (i, input) in self.derived_from.iter().enumerate() {
            if !is_absolute_uri(input) || input == &self.id {
                problems.push(err(
                    format!("derived_from[{i}]"),
                    "must be the absolute IRI of another resource",
                ));
            }
        }
        for (i, c) in self.conforms_to.iter().enumerate() {
            if !is_absolute_uri(c) {
                problems.push(err(format!("conforms_to[{i}]"), "must be an absolute IRI"));
            }
        }
        if self.distributions.is_empty() {
            problems.push(err(
                "distributions",
                "at least one distribution is required",
            ));
        }
        for (i, d) in self.distributions.iter().enumerate() {
            if !d.format.contains('/') {
                problems.push(err(
                    format!("distributions[{i}].format"),
                    "must be a media type like application/json",
                ));
            }
            let backend_ok = url::Url::parse(&d.backend)
                .map(|u| matches!(u.scheme(), "http" | "https" | "file"))
                .unwrap_or(false);
            if !backend_ok {
                problems.push(err(
                    format!("distributions[{i}].backend"),
                    "must be an http(s):// or file:// URL",
                ));
            }
            if let Some(n) = &d.ngsi_ld {
                if d.backend.starts_with("file:") {
                    problems.push(err(
                        format!("distributions[{i}].ngsi_ld"),
                        "an NGSI-LD broker is reached over http(s), not file://",
                    ));
                }
                for (name, list) in [
                    ("entity_types", &n.entity_types),
                    ("attributes", &n.attributes),
                ] {
                    for (j, iri) in list.iter().enumerate() {
                        if !is_absolute_uri(iri) {
                            problems.push(err(
                                format!("distributions[{i}].ngsi_ld.{name}[{j}]"),
                                "must be an expanded (absolute) IRI",
                            ));
                        }
                    }
                }
                if n.tenant.as_deref().is_some_and(|t| t.trim().is_empty()) {
                    problems.push(err(
                        format!("distributions[{i}].ngsi_ld.tenant"),
                        "must not be empty",
                    ));
                }
            }
            if let Some(p) = &d.ogc_api_processes {
                if !d.backend.starts_with("http") {
                    problems.push(err(
                        format!("distributions[{i}].ogc_api_processes"),
                        "an OGC API - Processes server is reached over http(s), not file://",
                    ));
                }
                if d.ngsi_ld.is_some() {
                    problems.push(err(
                        format!("distributions[{i}].ogc_api_processes"),
                        "a backend is either an NGSI-LD broker or an OGC API - Processes server, not both",
                    ));
                }
                if self.kind != ResourceKind::ModelOrService {
                    problems.push(err(
                        format!("distributions[{i}].ogc_api_processes"),
                        "only a model-or-service resource is run as OGC API - Processes processes",
                    ));
                }
                if p.processes.is_empty() {
                    problems.push(err(
                        format!("distributions[{i}].ogc_api_processes.processes"),
                        "name at least one process partners may run",
                    ));
                }
                for (j, id) in p.processes.iter().enumerate() {
                    let ok = !id.is_empty()
                        && id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                    if !ok {
                        problems.push(err(
                            format!("distributions[{i}].ogc_api_processes.processes[{j}]"),
                            "a process id is letters, digits, '-', '_' or '.'",
                        ));
                    }
                }
            }
        }
        if let Some(g) = &self.generated_by {
            if let Some(problem) = iri_problem(g) {
                problems.push(err("generated_by", problem));
            }
        }
        problems.extend(super::descriptor::problems(
            self.kind,
            self.model.as_ref(),
            self.data.as_ref(),
        ));
        if self.offers.is_empty() {
            problems.push(err(
                "offers",
                "at least one offer is required (DSP datasets must carry a policy)",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, o) in self.offers.iter().enumerate() {
            if o.policy.trim().is_empty() {
                problems.push(err(format!("offers[{i}].policy"), "must name a policy"));
            } else if let Err(e) = twinport_contracts::ids::check_id(&o.policy) {
                problems.push(err(
                    format!("offers[{i}].policy"),
                    format!("the policy id {e}"),
                ));
            }
            if let Some(id) = &o.id {
                if let Some(problem) = iri_problem(id) {
                    problems.push(err(format!("offers[{i}].id"), problem));
                }
            }
            if !seen.insert(o.offer_id(&self.id)) {
                problems.push(err(format!("offers[{i}]"), "duplicate offer id"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The instant a date (its first moment, UTC) or an RFC 3339 date-time stands for.
pub fn instant(v: &str) -> Option<time::OffsetDateTime> {
    span(v).map(|(first, _)| first)
}

/// The first and last instants a date (the whole day, UTC) or an RFC 3339 date-time (itself) stands for: a
/// coverage ending on `2040-08-31` includes noon that day, and "modified on or before 2026-12-07" includes all of
/// it. Every interface compares dates this one way.
pub fn span(v: &str) -> Option<(time::OffsetDateTime, time::OffsetDateTime)> {
    use time::format_description::well_known::Rfc3339;
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(v, &date_format) {
        // Built from the day's own last nanosecond, never by adding a day: 9999-12-31 has no next day.
        let last = d
            .with_hms_nano(23, 59, 59, 999_999_999)
            .map_or(d.midnight(), |t| t)
            .assume_utc();
        return Some((d.midnight().assume_utc(), last));
    }
    time::OffsetDateTime::parse(v, &Rfc3339)
        .ok()
        .map(|t| (t, t))
}

/// `xsd:date` or `xsd:dateTime` for a literal, or `None` when it is neither.
pub fn date_datatype(v: &str) -> Option<&'static str> {
    use time::format_description::well_known::Rfc3339;
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if time::Date::parse(v, &date_format).is_ok() {
        Some("xsd:date")
    } else if time::OffsetDateTime::parse(v, &Rfc3339).is_ok() {
        Some("xsd:dateTime")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fields a refused resource's problems name, in order.
    fn refused_fields(v: serde_json::Value) -> Vec<String> {
        parse_resource(v)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    pub fn sample() -> serde_json::Value {
        json!({
            "id": "urn:ldt:city-a:traffic",
            "kind": "dataset",
            "stage": "raw",
            "title": "Traffic counts",
            "description": "Vehicles counted per hour at the city's counting loops.",
            "distributions": [{"format": "application/json", "backend": "http://platform:1026/traffic"}],
            "offers": [{"policy": "open"}]
        })
    }

    #[test]
    fn a_minimal_dataset_is_valid() {
        let r = parse_resource(sample()).unwrap();
        assert_eq!(
            r.offers[0].offer_id(&r.id),
            "urn:ldt:city-a:traffic:offer:open"
        );
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut v = sample();
        v["id"] = json!("traffic");
        v["stage"] = serde_json::Value::Null;
        v["distributions"][0]["backend"] = json!("platform:1026");
        v["temporal"] = json!({"start": "yesterday"});
        let fields = refused_fields(v);
        assert_eq!(
            fields,
            vec!["id", "stage", "temporal.start", "distributions[0].backend"]
        );
    }

    #[test]
    fn shape_errors_name_the_field() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("title");
        assert_eq!(parse_resource(v).unwrap_err()[0].field, "title");
        let mut v = sample();
        v["colour"] = json!("red");
        assert_eq!(parse_resource(v).unwrap_err()[0].field, "colour");
        let mut v = sample();
        v["kind"] = json!("spreadsheet");
        assert!(parse_resource(v).unwrap_err()[0]
            .problem
            .contains("unknown variant"));
    }

    #[test]
    fn a_resource_without_a_description_is_refused() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("description");
        assert_eq!(parse_resource(v).unwrap_err()[0].field, "description");
    }

    #[test]
    fn published_values_come_from_their_tables() {
        let mut v = sample();
        v["license"] = json!("CC_BY_4_0");
        v["themes"] =
            json!(["TRAN", {"id": "https://city.example/themes/mobility", "label": "Mobility"}]);
        v["language"] = json!(["nl", "en"]);
        v["update_frequency"] = json!("hourly");
        v["bbox"] = json!([4.7, 52.3, 5.1, 52.5]);
        v["contact_point"] =
            json!({"name": "Mobility data team", "email": "mobility@city.example"});
        parse_resource(v.clone()).unwrap();
        v["license"] = json!("free to use");
        v["themes"] = json!(["http://example.org/theme/traffic"]);
        v["language"] = json!(["klingon"]);
        v["update_frequency"] = json!("sometimes");
        v["bbox"] = json!([5.1, 52.3, 4.7, 52.5]);
        v["temporal"] = json!({"start": "2026-02-01", "end": "2026-01-01"});
        let fields = refused_fields(v);
        assert_eq!(
            fields,
            vec![
                "license",
                "language[0]",
                "themes[0]",
                "bbox",
                "update_frequency",
                "temporal.end"
            ]
        );
    }

    /// A control character in a title made every CSW and RDF/XML page holding it unreadable.
    #[test]
    fn published_texts_hold_no_control_characters() {
        let mut v = sample();
        v["title"] = json!("\u{1}ctl");
        v["keywords"] = json!(["ok", "bell\u{7}"]);
        v["description"] = json!("Two lines\nand a\ttab are fine.");
        let fields = refused_fields(v);
        assert_eq!(fields, vec!["title", "keywords[1]"]);
    }

    /// A coverage ending on a date includes that whole day.
    #[test]
    fn a_coverage_may_start_and_end_on_the_same_day() {
        let mut v = sample();
        v["temporal"] = json!({"start": "2024-01-01T12:00:00Z", "end": "2024-01-01"});
        parse_resource(v).unwrap();
        let (first, last) = span("9999-12-31").unwrap();
        assert!(first < last);
    }

    #[test]
    fn web_addresses_must_be_iris_too() {
        let mut v = sample();
        v["landing_page"] = json!("http://x.example/a b");
        v["contact_point"] = json!({"name": "Team", "email": "a@b.c\"><script>"});
        let fields = refused_fields(v);
        assert_eq!(fields, vec!["contact_point.email", "landing_page"]);
    }

    #[test]
    fn only_datasets_have_stages() {
        let mut v = sample();
        v["kind"] = json!("model-or-service");
        assert_eq!(parse_resource(v).unwrap_err()[0].field, "stage");
    }
}
