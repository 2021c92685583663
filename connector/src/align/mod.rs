//! Automated alignment checks (OASC MIM8): does a dataset give a model input what it needs? One pure function,
//! [`check`], compares what a model input needs ([`Need`]) with what a dataset or output has ([`Have`]) along four
//! dimensions, schema, units, space and time, and says for each whether they are aligned, convertible by a stated
//! step, misaligned, or unknown because a fact is missing, with a reason an operator can act on.
//!
//! Nothing here does I/O or reads a clock, and nothing panics on what a partner wrote: every string is parsed into
//! a refusal with a reason rather than trusted. Units are UCUM or UN/CEFACT Rec 20 ([`units`]), coordinate
//! reference systems EPSG or OGC CRS84 ([`crs`]), resolutions ISO 8601 durations ([`time`]), record structures JSON
//! Schema with names expanded by JSON-LD contexts ([`schema`], [`terms`]).

pub mod crs;
pub mod report;
pub mod schema;
pub mod terms;
pub mod time;
pub mod unece;
pub mod units;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use report::{Dimension, Finding, Verdict};

/// What a model input requires. Every fact is optional; a dimension the need says nothing about is `unknown`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Need {
    /// JSON Schema of the input value.
    pub schema: Option<serde_json::Value>,
    /// JSON-LD `@context` (inline object, array of objects, or the NGSI-LD core context URL) for the schema's
    /// property names.
    pub context: Option<serde_json::Value>,
    /// The input's unit when it is one quantity (UCUM, or a UN/CEFACT common code).
    pub unit: Option<String>,
    /// Unit per property name.
    pub units: BTreeMap<String, String>,
    pub crs: Option<String>,
    /// The area the model is valid for and needs covered.
    pub extent: Option<Extent>,
    /// The time it needs covered.
    pub window: Option<Window>,
    /// ISO 8601 duration, e.g. `PT1H`.
    pub resolution: Option<String>,
}

/// What a dataset (or a model's output) provides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Have {
    /// JSON Schema of one record or feature.
    pub schema: Option<serde_json::Value>,
    /// NGSI-LD entity type (a term or an IRI).
    pub entity_type: Option<String>,
    /// NGSI-LD or tabular attributes by name.
    pub attributes: BTreeMap<String, Attribute>,
    pub context: Option<serde_json::Value>,
    pub unit: Option<String>,
    /// Unit per property name (attributes' own units count too). For an NGSI-LD dataset (one with an entity type or
    /// NGSI-LD attribute types) a bare code is read as a Rec 20 `unitCode` first, as NGSI-LD defines it; elsewhere
    /// a code valid in both systems with different meanings is refused unless written `ucum:` or `unece:`.
    pub units: BTreeMap<String, String>,
    pub crs: Option<String>,
    pub extent: Option<Extent>,
    pub window: Option<Window>,
    pub resolution: Option<String>,
}

/// One attribute of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attribute {
    /// A JSON Schema type name (`number`, `integer`, `string`, `boolean`, `object`, `array`) or an NGSI-LD
    /// attribute type (`Property`, `GeoProperty`, `Relationship`, ...).
    #[serde(rename = "type")]
    pub r#type: Option<String>,
    pub unit: Option<String>,
}

/// A bounding box in a CRS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extent {
    /// `[minx, miny, maxx, maxy]` with x east and y north: longitude, latitude for CRS84 and EPSG:4326 alike (the
    /// PROJ.4 and GeoJSON order, not EPSG:4326's authority order).
    pub bbox: [f64; 4],
    pub crs: String,
}

/// A time interval; an open end is unbounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Window {
    #[serde(with = "::time::serde::rfc3339::option")]
    pub start: Option<::time::OffsetDateTime>,
    #[serde(with = "::time::serde::rfc3339::option")]
    pub end: Option<::time::OffsetDateTime>,
}

/// Compares what `need` requires with what `have` provides: exactly four findings, in the order schema, units,
/// space, time.
pub fn check(need: &Need, have: &Have) -> Vec<Finding> {
    // Both dimensions that pair property names read the contexts, so they are read once.
    let matcher = terms::Matcher::new(need.context.as_ref(), have.context.as_ref());
    vec![
        schema::finding(need, have, &matcher),
        units::finding(need, have, &matcher),
        crs::finding(need, have),
        time::finding(need, have),
    ]
}

#[cfg(test)]
mod tests;
