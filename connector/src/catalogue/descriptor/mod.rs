//! What a model consumes and produces, and what a dataset holds: the descriptions MIM8 C3 asks for so that a model
//! can be reused by another LDT (R3.1), and that the alignment checks ([`crate::align`]) compare.
//!
//! A model's descriptor has the shape of an OGC API - Processes process description (inputs and outputs, each with
//! a JSON Schema and cardinality), extended with the facts the alignment checks need: units (UCUM, or UN/CEFACT
//! common codes as NGSI-LD writes them), CRS and spatial extent, time window and resolution. A dataset, a
//! visualisation asset or an output carries the matching facts in its data description. Both are validated when a
//! resource is loaded or written ([`problems`]), published to partners in the DSP catalogue, and read back from a
//! partner's catalogue when a city checks a partner's model or dataset.

mod facts;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::resource::Temporal;

pub use facts::{need, Described};
pub use validate::problems;

/// The property a resource's [`Described`] form is published under in the DSP catalogue, as a JSON literal.
pub const DESCRIPTION_PROPERTY: &str = "https://w3id.org/twinport/ldt#description";

/// A model or service: what it needs, what it gives, how it works and how it is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelDescriptor {
    /// The API it is called through.
    pub api: ModelApi,
    /// The process id on an OGC API - Processes server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// How it may be executed (OGC API - Processes `jobControlOptions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_control: Vec<JobControl>,
    /// Inputs by name, as the execute request names them.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: BTreeMap<String, Port>,
    /// Outputs by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub outputs: BTreeMap<String, Port>,
    /// Parameters by name, each with its schema and default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
}

/// The standard a model is called through (published as `dct:conformsTo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ModelApi {
    OgcApiProcesses,
    NgsiLd,
    Openapi,
}

impl ModelApi {
    /// The standard's IRI.
    pub fn standard(self) -> &'static str {
        match self {
            ModelApi::OgcApiProcesses => "http://www.opengis.net/spec/ogcapi-processes-1/1.0",
            ModelApi::NgsiLd => "https://www.etsi.org/deliver/etsi_gs/CIM/001_099/009/",
            ModelApi::Openapi => "https://spec.openapis.org/oas/v3.0.3",
        }
    }
}

/// OGC API - Processes job control options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum JobControl {
    SyncExecute,
    AsyncExecute,
    Dismiss,
}

/// How the OpenAPI document describes a JSON Schema: an object, or `true` or `false` (as `align::schema_problem`
/// accepts).
fn json_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .build(),
    )
}

/// How the OpenAPI document describes a JSON-LD `@context`: an object, an IRI, or an array of them (JSON-LD 1.1
/// §3.1, `null` in an array included), as `align::schema::context_problem` reads it.
fn json_ld_context() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ArrayBuilder::new())
            .build(),
    )
}

/// One input or output of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the value (of one feature's properties, for a feature collection).
    #[schema(schema_with = json_schema)]
    pub schema: Value,
    /// How many values the model takes (default 1; 0 makes the input optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_occurs: Option<u32>,
    /// At most how many: a number or `"unbounded"` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_occurs: Option<MaxOccurs>,
    /// Media type of the value, e.g. `application/geo+json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// JSON-LD context the schema's property names are read with (NGSI-LD), inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = json_ld_context)]
    pub context: Option<Value>,
    /// Unit of the value when it is one quantity: UCUM (`mm/h`) or UN/CEFACT (`CEL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Unit of each quantity property, by property name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub units: BTreeMap<String, String>,
    /// CRS of coordinates: `EPSG:28992`, an OGC CRS URI, or `OGC:CRS84`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    /// The area the model is valid for (an input) or covers (an output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<Extent>,
    /// The time window the input must cover (or the output covers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<Temporal>,
    /// Time step, as an ISO 8601 duration (`PT1H`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// `maxOccurs`: a count or `"unbounded"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MaxOccurs {
    Count(u32),
    Unbounded(String),
}

/// A spatial extent in a stated CRS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extent {
    /// `[min x, min y, max x, max y]` in the CRS (longitude/latitude for CRS84).
    #[schema(value_type = Vec<f64>, min_items = 4, max_items = 4)]
    pub bbox: [f64; 4],
    /// Defaults to the port's (or data description's) `crs`, else CRS84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
}

/// A model parameter: not data, but a setting the caller may change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schema(schema_with = json_schema)]
    pub schema: Value,
    /// Must be valid under `schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
}

/// How the model works and what it was built from (MIM8 R3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Method {
    pub description: String,
    /// Web pages or papers describing the method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The model's own licence (EU licence code or SPDX IRI), when it differs from the resource's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Catalogue entries (IRIs) of the data it was trained or calibrated on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub training_data: Vec<String>,
    /// Catalogue entries (IRIs) of the data it was validated against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_data: Vec<String>,
}

/// What a dataset, visualisation asset or output holds, in the terms a model input is described with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataDescription {
    /// JSON Schema of one record (of one feature's properties, for features).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = json_schema)]
    pub schema: Option<Value>,
    /// NGSI-LD entity type (a term of `context`, or an IRI), e.g. a Smart Data Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// JSON-LD context its names are read with, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = json_ld_context)]
    pub context: Option<Value>,
    /// Attributes by name, with their type and unit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, Attribute>,
    /// Unit of the values when the data is one quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// CRS the coordinates are delivered in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    /// The area covered in `crs`; defaults to the resource's `bbox` (CRS84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<Extent>,
    /// Time step, as an ISO 8601 duration (`PT15M`). The time covered is the resource's `temporal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// One attribute of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// A JSON Schema type (`number`, `integer`, `string`, `boolean`, `object`, `array`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}
