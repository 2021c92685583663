//! The checks on model descriptors and data descriptions, run when a resource is loaded or written: a unit, CRS,
//! duration or schema that the alignment checks could not read is refused then, naming the field, rather than
//! turning up later as an `unknown` verdict nobody asked for.

use serde_json::Value;

use super::{Attribute, DataDescription, Extent, MaxOccurs, ModelDescriptor, Port};
use crate::align::crs::Crs;
use crate::align::schema::{context_problem, schema_problem};
use crate::align::time::Resolution;
use crate::align::units::Unit;
use crate::authority::Licence;
use crate::catalogue::kind::ResourceKind;
use crate::catalogue::resource::{span, FieldError, Temporal};
use crate::iri::{iri_problem, is_web_url};

/// The attribute types a data description may name: JSON Schema's, and NGSI-LD's attribute kinds.
const ATTRIBUTE_TYPES: [&str; 10] = [
    "number",
    "integer",
    "string",
    "boolean",
    "object",
    "array",
    "null",
    "Property",
    "GeoProperty",
    "Relationship",
];

/// Every problem with a resource's `model` and `data`, each naming its field (`model.inputs.rain.unit`).
pub fn problems(
    kind: ResourceKind,
    model: Option<&ModelDescriptor>,
    data: Option<&DataDescription>,
) -> Vec<FieldError> {
    let mut out = Problems::default();
    if let Some(m) = model {
        if kind != ResourceKind::ModelOrService {
            out.push(
                "model",
                format!(
                    "only a model-or-service has a model descriptor, this resource is a {kind}"
                ),
            );
        } else {
            out.model(m);
        }
    }
    if let Some(d) = data {
        if kind == ResourceKind::ModelOrService {
            out.push(
                "data",
                "a model describes its inputs and outputs in `model`, not `data`",
            );
        } else {
            out.data("data", d);
        }
    }
    out.0
}

#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            problem: problem.into(),
        });
    }

    fn model(&mut self, m: &ModelDescriptor) {
        if let Some(p) = &m.process {
            let ok = !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                self.push(
                    "model.process",
                    "a process id is letters, digits, '-', '_' or '.'",
                );
            }
        }
        if m.inputs.is_empty() {
            self.push("model.inputs", "describe at least one input");
        }
        if m.outputs.is_empty() {
            self.push("model.outputs", "describe at least one output");
        }
        for (dir, ports) in [("inputs", &m.inputs), ("outputs", &m.outputs)] {
            for (name, port) in ports {
                self.name(&format!("model.{dir}"), name);
                self.port(&format!("model.{dir}.{name}"), port);
            }
        }
        for (name, p) in &m.parameters {
            let field = format!("model.parameters.{name}");
            self.name("model.parameters", name);
            if m.inputs.contains_key(name) {
                self.push(&field, "a parameter and an input have the same name");
            }
            match schema_problem(&p.schema) {
                Some(problem) => self.push(format!("{field}.schema"), problem),
                None => {
                    if let Some(default) = &p.default {
                        if let Some(problem) = instance_problem(&p.schema, default) {
                            self.push(format!("{field}.default"), problem);
                        }
                    }
                }
            }
        }
        if let Some(method) = &m.method {
            if method.description.trim().is_empty() {
                self.push("model.method.description", "must not be empty");
            }
            for (i, r) in method.references.iter().enumerate() {
                if !is_web_url(r) {
                    self.push(
                        format!("model.method.references[{i}]"),
                        "must be an http(s) URL",
                    );
                }
            }
            if let Some(l) = &method.license {
                if Licence::parse(l).is_none() {
                    self.push(
                        "model.method.license",
                        "must be an EU licence table code or IRI (CC_BY_4_0) or an SPDX licence IRI",
                    );
                }
            }
            for (name, list) in [
                ("training_data", &method.training_data),
                ("validation_data", &method.validation_data),
            ] {
                for (i, iri) in list.iter().enumerate() {
                    if let Some(problem) = iri_problem(iri) {
                        self.push(format!("model.method.{name}[{i}]"), problem);
                    }
                }
            }
        }
    }

    fn name(&mut self, field: &str, name: &str) {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            self.push(
                format!("{field}.{name}"),
                "a name is letters, digits, '-', '_' or '.'",
            );
        }
    }

    fn port(&mut self, field: &str, p: &Port) {
        if let Some(problem) = schema_problem(&p.schema) {
            self.push(format!("{field}.schema"), problem);
        }
        let min = p.min_occurs.unwrap_or(1);
        match &p.max_occurs {
            Some(MaxOccurs::Count(max)) if *max == 0 || *max < min => self.push(
                format!("{field}.max_occurs"),
                format!("must be at least 1 and at least min_occurs ({min})"),
            ),
            Some(MaxOccurs::Unbounded(s)) if s != "unbounded" => self.push(
                format!("{field}.max_occurs"),
                "must be a number or \"unbounded\"",
            ),
            None if min > 1 => self.push(
                format!("{field}.max_occurs"),
                format!(
                    "min_occurs is {min}, so max_occurs must be set (a number or \"unbounded\")"
                ),
            ),
            _ => {}
        }
        if let Some(m) = &p.media_type {
            if !m.contains('/') {
                self.push(
                    format!("{field}.media_type"),
                    "must be a media type like application/geo+json",
                );
            }
        }
        self.context(field, p.context.as_ref());
        self.unit(&format!("{field}.unit"), p.unit.as_deref());
        for (name, unit) in &p.units {
            self.unit(&format!("{field}.units.{name}"), Some(unit));
        }
        self.space(field, p.crs.as_deref(), p.extent.as_ref());
        if let Some(t) = &p.temporal {
            self.temporal(&format!("{field}.temporal"), t);
        }
        self.resolution(field, p.resolution.as_deref());
    }

    fn data(&mut self, field: &str, d: &DataDescription) {
        if let Some(schema) = &d.schema {
            if let Some(problem) = schema_problem(schema) {
                self.push(format!("{field}.schema"), problem);
            }
        }
        if let Some(t) = &d.entity_type {
            if t.trim().is_empty() || t.chars().any(char::is_whitespace) {
                self.push(
                    format!("{field}.entity_type"),
                    "must be a term or an IRI, without spaces",
                );
            }
        }
        self.context(field, d.context.as_ref());
        for (name, Attribute { kind, unit }) in &d.attributes {
            if let Some(k) = kind {
                if !ATTRIBUTE_TYPES.contains(&k.as_str()) {
                    self.push(
                        format!("{field}.attributes.{name}.type"),
                        format!("must be one of {}", ATTRIBUTE_TYPES.join(", ")),
                    );
                }
            }
            self.unit(&format!("{field}.attributes.{name}.unit"), unit.as_deref());
        }
        self.unit(&format!("{field}.unit"), d.unit.as_deref());
        self.space(field, d.crs.as_deref(), d.extent.as_ref());
        self.resolution(field, d.resolution.as_deref());
    }

    fn context(&mut self, field: &str, context: Option<&Value>) {
        if let Some(problem) = context.and_then(context_problem) {
            self.push(format!("{field}.context"), problem);
        }
    }

    fn unit(&mut self, field: &str, unit: Option<&str>) {
        if let Some(Err(e)) = unit.map(Unit::parse) {
            self.push(field, e.to_string());
        }
    }

    fn space(&mut self, field: &str, crs: Option<&str>, extent: Option<&Extent>) {
        if let Some(Err(e)) = crs.map(Crs::parse) {
            self.push(format!("{field}.crs"), e.to_string());
        }
        let Some(extent) = extent else { return };
        if let Some(Err(e)) = extent.crs.as_deref().map(Crs::parse) {
            self.push(format!("{field}.extent.crs"), e.to_string());
        }
        let [x0, y0, x1, y1] = extent.bbox;
        if !extent.bbox.iter().all(|v| v.is_finite()) {
            self.push(
                format!("{field}.extent.bbox"),
                "must be four finite numbers",
            );
        } else if x0 >= x1 || y0 >= y1 {
            self.push(
                format!("{field}.extent.bbox"),
                "is [min x, min y, max x, max y]: each minimum must be below its maximum",
            );
        }
    }

    fn temporal(&mut self, field: &str, t: &Temporal) {
        let start = t.start.as_deref().map(|s| (s, span(s)));
        let end = t.end.as_deref().map(|e| (e, span(e)));
        for (name, v) in [("start", &start), ("end", &end)] {
            if let Some((_, None)) = v {
                self.push(
                    format!("{field}.{name}"),
                    "must be a date (YYYY-MM-DD) or an RFC 3339 date-time",
                );
            }
        }
        if let (Some((_, Some((s, _)))), Some((_, Some((_, e))))) = (start, end) {
            if s > e {
                self.push(format!("{field}.end"), "the window ends before it starts");
            }
        }
    }

    fn resolution(&mut self, field: &str, resolution: Option<&str>) {
        if let Some(Err(e)) = resolution.map(Resolution::parse) {
            self.push(format!("{field}.resolution"), e.to_string());
        }
    }
}

/// Why `value` is not valid under `schema` (already known to be a valid schema), or `None`.
fn instance_problem(schema: &Value, value: &Value) -> Option<String> {
    let validator = jsonschema::validator_for(schema).ok()?;
    let first = validator.iter_errors(value).next()?;
    Some(format!(
        "is not valid under the parameter's schema: {first}"
    ))
}
