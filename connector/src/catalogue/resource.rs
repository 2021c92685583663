//! An LDT resource as an operator declares it (in a catalogue file or through the management API), and the checks
//! that turn that declaration into a [`Resource`] the connector will publish.

use serde::{Deserialize, Serialize};

use super::kind::{DatasetStage, ResourceKind};
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Defaults to the catalogue's publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    /// IRI of a place (for example an EU place authority IRI or a GeoNames IRI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spatial: Option<String>,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    pub id: String,
    pub name: String,
}

/// A DCAT theme: an IRI, optionally with a label.
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
        if let Some(p) = &self.publisher {
            if !is_absolute_uri(&p.id) {
                problems.push(err("publisher.id", "must be an absolute IRI"));
            }
        }
        for (i, theme) in self.themes.iter().enumerate() {
            if !is_absolute_uri(theme.id()) {
                problems.push(err(format!("themes[{i}]"), "must be an absolute IRI"));
            }
        }
        if let Some(s) = &self.spatial {
            if !is_absolute_uri(s) {
                problems.push(err("spatial", "must be an absolute IRI of a place"));
            }
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
        }
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

    pub fn sample() -> serde_json::Value {
        json!({
            "id": "urn:ldt:city-a:traffic",
            "kind": "dataset",
            "stage": "raw",
            "title": "Traffic counts",
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
        let fields: Vec<String> = parse_resource(v)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
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
    fn only_datasets_have_stages() {
        let mut v = sample();
        v["kind"] = json!("model-or-service");
        assert_eq!(parse_resource(v).unwrap_err()[0].field, "stage");
    }
}
