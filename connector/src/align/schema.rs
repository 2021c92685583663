//! Schema: does each record of the dataset carry the properties a model input reads, with types it accepts? The
//! comparison is structural, on the JSON Schemas as written (properties, required, types, local `$ref`s, `allOf`),
//! never by compiling a validator, so it is cheap enough to run for every pairing. A GeoJSON schema is compared by
//! its features' `properties`, an array by its items; NGSI-LD attributes count as properties, and an entity type the
//! model constrains (`type` with `const` or `enum`) is compared with the dataset's after expansion.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::report::{Dimension, Finding, Verdict};
use super::terms::{Matcher, Terms};
use super::{Have, Need};

/// `$ref` and `allOf` chains deeper than this are not followed (schemas are small; this bounds hostile input).
const MAX_DEPTH: usize = 16;

/// How many schema nodes one walk may visit. Depth alone does not bound the work: `allOf` lists of `$ref: "#"`
/// revisit the root at every level (k parts give k^depth visits), and a partner publishes the schema.
const MAX_STEPS: usize = 20_000;

thread_local! {
    static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_STEPS) };
}

/// Starts a walk with a full budget.
fn start_walk() {
    STEPS.with(|s| s.set(MAX_STEPS));
}

/// Takes one step of the budget; `false` once it is spent.
fn step() -> bool {
    STEPS.with(|s| {
        let left = s.get();
        s.set(left.saturating_sub(1));
        left > 0
    })
}

/// Whether the last walk ran out of budget (its shape is then partial and must not be trusted).
fn spent() -> bool {
    STEPS.with(|s| s.get() == 0)
}

/// `schema`'s shape, or `Err` when it is too intricate to walk within the budget.
fn walk(schema: &Value) -> Result<Option<Shape<'_>>, ()> {
    start_walk();
    let shape = shape(schema, schema, 0);
    if spent() {
        Err(())
    } else {
        Ok(shape)
    }
}

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
const DRAFT_7: &str = "http://json-schema.org/draft-07/schema";

/// `None` when `schema` is a valid JSON Schema (draft 2020-12, or draft 7 when its `$schema` says so), else why.
pub fn schema_problem(schema: &Value) -> Option<String> {
    let declared = match schema {
        Value::Bool(_) => return None,
        Value::Object(o) => o.get("$schema"),
        other => {
            return Some(format!(
                "a JSON Schema is an object (or true or false), not {}",
                kind(other)
            ))
        }
    };
    let draft7 = match declared {
        None => false,
        Some(Value::String(uri)) => {
            let uri = uri.trim_end_matches('#');
            let uri = uri
                .strip_prefix("https://")
                .or_else(|| uri.strip_prefix("http://"))
                .unwrap_or(uri);
            if uri == DRAFT_2020_12.trim_start_matches("https://") {
                false
            } else if uri == DRAFT_7.trim_start_matches("http://") {
                true
            } else {
                return Some(format!(
                    "$schema {declared} is not one this connector reads (draft 2020-12: {DRAFT_2020_12}, or \
                     draft 7: {DRAFT_7}#)",
                    declared = uri
                ));
            }
        }
        Some(other) => return Some(format!("$schema must be a URI string, not {}", kind(other))),
    };
    let result = if draft7 {
        jsonschema::draft7::meta::validate(schema)
    } else {
        jsonschema::draft202012::meta::validate(schema)
    };
    result.err().map(|e| {
        let at = e.instance_path().to_string();
        let draft = if draft7 { "draft 7" } else { "draft 2020-12" };
        if at.is_empty() {
            format!("not a valid JSON Schema ({draft}): {e}")
        } else {
            format!("not a valid JSON Schema ({draft}) at {at}: {e}")
        }
    })
}

/// `None` when `context` can be used to expand terms (inline definitions; no remote context other than the NGSI-LD
/// core context), else why.
pub fn context_problem(context: &Value) -> Option<String> {
    Terms::read(context).err()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// JSON value types a schema allows; `None` when it does not say (anything goes).
type Types = Option<BTreeSet<&'static str>>;

/// One record's structure.
#[derive(Debug, Default)]
struct Record<'a> {
    properties: BTreeMap<&'a str, Types>,
    required: BTreeSet<&'a str>,
    /// The values `type` is constrained to (`const` or `enum`): the NGSI-LD entity type.
    entity_types: Option<Vec<&'a str>>,
}

#[derive(Debug)]
enum Shape<'a> {
    Record(Record<'a>),
    Value(Types),
}

/// The property names of the records `schema` describes, for pairing units with properties.
pub(crate) fn property_names(schema: Option<&Value>) -> Vec<&str> {
    match schema.map(walk) {
        Some(Ok(Some(Shape::Record(r)))) => r.properties.into_keys().collect(),
        _ => Vec::new(),
    }
}

/// The record (or value) structure `schema` describes, `root` being the document its local `$ref`s point into.
fn shape<'a>(root: &'a Value, schema: &'a Value, depth: usize) -> Option<Shape<'a>> {
    if depth > MAX_DEPTH || !step() {
        return None;
    }
    let obj = schema.as_object()?;
    let has = |k: &str| obj.contains_key(k);
    if !has("properties") && !has("required") && !has("allOf") && !has("items") {
        if let Some(target) = obj.get("$ref").and_then(|r| resolve(root, r)) {
            return shape(root, target, depth + 1);
        }
        return Some(Shape::Value(types(root, schema, depth)));
    }
    let declared = types(root, schema, depth);
    if !has("properties")
        && !has("allOf")
        && (has("items") || declared.as_ref().is_some_and(|t| t.contains("array")))
    {
        return match obj.get("items") {
            Some(items) => shape(root, items, depth + 1),
            None => Some(Shape::Value(declared)),
        };
    }
    let mut record = Record::default();
    if let Some(target) = obj.get("$ref").and_then(|r| resolve(root, r)) {
        if let Some(Shape::Record(r)) = shape(root, target, depth + 1) {
            merge(&mut record, r);
        }
    }
    for part in obj
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(Shape::Record(r)) = shape(root, part, depth + 1) {
            merge(&mut record, r);
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            record
                .properties
                .insert(name.as_str(), types(root, sub, depth + 1));
            if name == "type" {
                record.entity_types =
                    constants(root, sub, depth + 1).or(record.entity_types.take());
            }
        }
        // GeoJSON: a FeatureCollection's records are its features, a Feature's are its `properties`.
        if props.contains_key("type") {
            if let Some(features) = props.get("features") {
                if let Some(s) = shape(root, features, depth + 1) {
                    return Some(s);
                }
            }
            let feature = props.contains_key("geometry")
                || record
                    .entity_types
                    .as_ref()
                    .is_some_and(|t| t.contains(&"Feature"));
            if let Some(inner) = props.get("properties").filter(|_| feature) {
                if let Some(Shape::Record(r)) = shape(root, inner, depth + 1) {
                    return Some(Shape::Record(r));
                }
            }
        }
    }
    for name in obj
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = name.as_str() {
            record.required.insert(name);
        }
    }
    Some(Shape::Record(record))
}

fn merge<'a>(into: &mut Record<'a>, from: Record<'a>) {
    for (k, v) in from.properties {
        into.properties.entry(k).or_insert(v);
    }
    into.required.extend(from.required);
    if into.entity_types.is_none() {
        into.entity_types = from.entity_types;
    }
}

/// A local `$ref` (`#/$defs/x`, `#/definitions/x`, `#`); remote references are not followed.
fn resolve<'a>(root: &'a Value, reference: &Value) -> Option<&'a Value> {
    let pointer = reference.as_str()?.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn types(root: &Value, schema: &Value, depth: usize) -> Types {
    if depth > MAX_DEPTH || !step() {
        return None;
    }
    let obj = schema.as_object()?;
    match obj.get("type") {
        Some(Value::String(t)) => return type_name(t).map(|t| BTreeSet::from([t])),
        Some(Value::Array(ts)) => {
            return ts
                .iter()
                .map(|t| t.as_str().and_then(type_name))
                .collect::<Option<BTreeSet<_>>>()
        }
        _ => {}
    }
    if let Some(c) = obj.get("const") {
        return Some(BTreeSet::from([value_type(c)]));
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        return Some(values.iter().map(value_type).collect());
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = obj.get(key) {
            let mut all = BTreeSet::new();
            for b in branches {
                all.extend(types(root, b, depth + 1)?);
            }
            return Some(all);
        }
    }
    if let Some(target) = obj.get("$ref").and_then(|r| resolve(root, r)) {
        return types(root, target, depth + 1);
    }
    if obj.contains_key("properties") {
        return Some(BTreeSet::from(["object"]));
    }
    if obj.contains_key("items") {
        return Some(BTreeSet::from(["array"]));
    }
    None
}

/// The string values a property is constrained to by `const` or `enum`.
fn constants<'a>(root: &'a Value, schema: &'a Value, depth: usize) -> Option<Vec<&'a str>> {
    if depth > MAX_DEPTH || !step() {
        return None;
    }
    let obj = schema.as_object()?;
    if let Some(c) = obj.get("const") {
        return c.as_str().map(|s| vec![s]);
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        return Some(values.iter().filter_map(Value::as_str).collect());
    }
    let target = obj.get("$ref").and_then(|r| resolve(root, r))?;
    constants(root, target, depth + 1)
}

fn type_name(t: &str) -> Option<&'static str> {
    Some(match t {
        "null" => "null",
        "boolean" => "boolean",
        "object" => "object",
        "array" => "array",
        "number" => "number",
        "integer" => "integer",
        "string" => "string",
        _ => return None,
    })
}

fn value_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An attribute's declared type as JSON value types: JSON Schema names as they are; NGSI-LD attribute types by
/// what their value is (a GeoProperty's value is a GeoJSON geometry, a Relationship's an IRI); a plain Property can
/// hold anything.
fn attribute_types(t: Option<&str>) -> Types {
    let t = t?.trim();
    if let Some(name) = type_name(t) {
        return Some(BTreeSet::from([name]));
    }
    let name = match t {
        "GeoProperty" => "object",
        "Relationship" | "LanguageProperty" | "VocabProperty" => "string",
        "ListProperty" | "ListRelationship" => "array",
        _ => return None,
    };
    Some(BTreeSet::from([name]))
}

/// How the dataset's types fit the need's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Yes,
    Rounding,
    No,
}

/// Every value the dataset may hold must be one the model accepts; integers are numbers, numbers become integers
/// by rounding. A `null` the dataset allows is not held against it: gaps are the data's business.
fn fit(need: &Types, have: &Types) -> Fit {
    let (Some(need), Some(have)) = (need, have) else {
        return Fit::Yes;
    };
    let mut worst = Fit::Yes;
    for t in have.iter().filter(|t| **t != "null") {
        let f = if need.contains(t) || (*t == "integer" && need.contains("number")) {
            Fit::Yes
        } else if *t == "number" && need.contains("integer") {
            Fit::Rounding
        } else {
            Fit::No
        };
        worst = match (worst, f) {
            (Fit::No, _) | (_, Fit::No) => Fit::No,
            (Fit::Rounding, _) | (_, Fit::Rounding) => Fit::Rounding,
            _ => Fit::Yes,
        };
    }
    worst
}

fn shown(t: &Types) -> String {
    match t {
        None => "any type".into(),
        Some(set) => set.iter().copied().collect::<Vec<_>>().join(" or "),
    }
}

/// The schema finding.
pub(super) fn finding(need: &Need, have: &Have, matcher: &Result<Matcher, String>) -> Finding {
    let unknown =
        |reason: String| Finding::new(Dimension::Schema, Verdict::Unknown, reason, Value::Null);
    let Some(need_schema) = &need.schema else {
        return unknown("The model does not describe this input's schema.".into());
    };
    let too_intricate = |whose: &str| {
        unknown(format!(
            "The {whose} schema is too intricate to compare (more than {MAX_STEPS} steps through its references)."
        ))
    };
    let Ok(need_shape) = walk(need_schema) else {
        return too_intricate("model's");
    };
    let Some(need_shape) = need_shape else {
        return unknown("The model's schema does not describe the input's structure (it is not a JSON Schema object).".into());
    };
    let have_shape = match have.schema.as_ref().map(walk) {
        Some(Err(())) => return too_intricate("dataset's"),
        Some(Ok(s)) => s,
        None => None,
    };
    if have_shape.is_none() && have.attributes.is_empty() && have.entity_type.is_none() {
        return unknown(
            "The dataset does not describe its records (no schema, attributes or entity type)."
                .into(),
        );
    }
    let have_record = match have_shape {
        Some(Shape::Value(have_types)) => {
            return match need_shape {
                Shape::Value(need_types) => single_value(&need_types, &have_types),
                Shape::Record(_) => unknown(format!(
                    "The model reads records with properties; the dataset's schema describes single values of {}.",
                    shown(&have_types)
                )),
            };
        }
        Some(Shape::Record(r)) => r,
        None => Record::default(),
    };
    let need_record = match need_shape {
        Shape::Record(r) => r,
        Shape::Value(t) => {
            return unknown(format!(
                "The model reads a single value of {}; the dataset has records with properties, and which one to \
                 read is not stated.",
                shown(&t)
            ))
        }
    };
    let matcher = match matcher {
        Ok(m) => m,
        Err(e) => return unknown(format!("Property names cannot be compared because {e}.")),
    };
    compare_records(have, &need_record, have_record, matcher)
}

fn single_value(need: &Types, have: &Types) -> Finding {
    let (verdict, reason) = match fit(need, have) {
        Fit::Yes => (
            Verdict::Aligned,
            format!("The dataset gives {}, as the model reads.", shown(have)),
        ),
        Fit::Rounding => (
            Verdict::Convertible,
            format!(
                "The dataset gives {}, the model reads {}: convertible by rounding.",
                shown(have),
                shown(need)
            ),
        ),
        Fit::No => (
            Verdict::Misaligned,
            format!(
                "The dataset gives {}, the model reads {}.",
                shown(have),
                shown(need)
            ),
        ),
    };
    Finding::new(Dimension::Schema, verdict, reason, Value::Null)
}

fn compare_records<'a>(
    have: &'a Have,
    need_record: &Record<'_>,
    mut have_record: Record<'a>,
    matcher: &Matcher,
) -> Finding {
    // Attributes count as properties; a type the schema declares wins over the attribute's.
    for (name, a) in &have.attributes {
        have_record
            .properties
            .entry(name.as_str())
            .or_insert_with(|| attribute_types(a.r#type.as_deref()));
    }
    // Every NGSI-LD entity has an id and a type.
    if have.entity_type.is_some() {
        let string = || Some(BTreeSet::from(["string"]));
        have_record.properties.entry("id").or_insert_with(string);
        have_record.properties.entry("type").or_insert_with(string);
    }
    let index = matcher.index(have_record.properties.keys().copied());

    let mut missing = Vec::new();
    let mut mismatched = Vec::new();
    let mut rounding = Vec::new();
    let mut by_name = Vec::new();
    let mut matched = 0usize;
    let names: BTreeSet<&str> = need_record
        .properties
        .keys()
        .chain(need_record.required.iter())
        .copied()
        .collect();
    for name in names {
        let Some(found) = matcher.find(&index, name) else {
            if need_record.required.contains(name) {
                missing.push(name);
            }
            continue;
        };
        matched += 1;
        if found.by_name {
            by_name.push(name);
        }
        let need_types = need_record.properties.get(name).cloned().flatten();
        let have_types = have_record.properties.get(found.name).cloned().flatten();
        let entry =
            || json!({"property": name, "need": shown(&need_types), "have": shown(&have_types)});
        match fit(&need_types, &have_types) {
            Fit::Yes => {}
            Fit::Rounding => rounding.push(entry()),
            Fit::No => mismatched.push(entry()),
        }
    }

    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "The dataset lacks {} the model requires: {}.",
            plural(missing.len(), "property", "properties"),
            missing.join(", ")
        ));
    }
    for m in &mismatched {
        problems.push(format!(
            "The dataset's {} holds {}; the model needs {}.",
            m["property"].as_str().unwrap_or_default(),
            m["have"].as_str().unwrap_or_default(),
            m["need"].as_str().unwrap_or_default()
        ));
    }
    if let Some(problem) = entity_type_problem(need_record, have, &have_record, matcher) {
        problems.push(problem);
    }
    if need_record.required.is_empty() && !need_record.properties.is_empty() && matched == 0 {
        problems.push("The dataset has none of the properties the model reads.".into());
    }

    let (verdict, mut reason) = if !problems.is_empty() {
        (Verdict::Misaligned, problems.join(" "))
    } else if !rounding.is_empty() {
        let which: Vec<&str> = rounding
            .iter()
            .filter_map(|r| r["property"].as_str())
            .collect();
        (
            Verdict::Convertible,
            format!(
                "The dataset has every property the model requires; {} {} numbers where the model needs integers: \
                 convertible by rounding.",
                which.join(", "),
                if which.len() == 1 { "holds" } else { "hold" }
            ),
        )
    } else {
        (
            Verdict::Aligned,
            format!(
                "The dataset has every property the model requires ({} of {} it reads), with types it accepts.",
                matched,
                need_record.properties.len().max(matched)
            ),
        )
    };
    if !by_name.is_empty() {
        reason.push_str(&format!(
            " Paired by name only, as only one side states a JSON-LD @context: {}.",
            by_name.join(", ")
        ));
    }
    let mut details = json!({"missing": missing, "mismatched": mismatched, "matched": matched});
    if !rounding.is_empty() {
        details["rounding"] = json!(rounding);
    }
    if !by_name.is_empty() {
        details["by_name"] = json!(by_name);
    }
    Finding::new(Dimension::Schema, verdict, reason, details)
}

/// When the model constrains the entity type and the dataset states one, whether they are the same after expansion.
fn entity_type_problem(
    need_record: &Record<'_>,
    have: &Have,
    have_record: &Record<'_>,
    matcher: &Matcher,
) -> Option<String> {
    let allowed = need_record.entity_types.as_ref()?;
    let had = have.entity_type.as_deref().or_else(|| {
        have_record
            .entity_types
            .as_ref()
            .and_then(|t| t.first().copied())
    })?;
    let index = matcher.index([had]);
    if allowed.iter().any(|t| matcher.find(&index, t).is_some()) {
        return None;
    }
    Some(format!(
        "The model reads entities of type {}; the dataset's are of type {had}.",
        allowed.join(" or ")
    ))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::Attribute;

    const WEATHER: &str = "https://smartdatamodels.org/dataModel.Weather/";

    fn schema_finding(need: &Need, have: &Have) -> Finding {
        let m = Matcher::new(need.context.as_ref(), have.context.as_ref());
        finding(need, have, &m)
    }

    fn need(schema: Value) -> Need {
        Need {
            schema: Some(schema),
            ..Default::default()
        }
    }

    fn have(schema: Value) -> Have {
        Have {
            schema: Some(schema),
            ..Default::default()
        }
    }

    fn weather_input() -> Value {
        json!({
            "type": "object",
            "properties": {
                "temperature": {"type": "number"},
                "relativeHumidity": {"type": "number"},
                "stationCount": {"type": "integer"}
            },
            "required": ["temperature", "relativeHumidity"]
        })
    }

    #[test]
    fn schema_problem_accepts_valid_schemas_of_both_drafts() {
        assert_eq!(schema_problem(&weather_input()), None);
        assert_eq!(schema_problem(&json!(true)), None);
        assert_eq!(
            schema_problem(
                &json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"})
            ),
            None
        );
        assert_eq!(
            schema_problem(
                &json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"})
            ),
            None
        );
    }

    #[test]
    fn schema_problem_says_why() {
        let p = schema_problem(&json!({"type": "invalid_type"})).unwrap();
        assert!(p.contains("not a valid JSON Schema"), "{p}");
        assert!(schema_problem(&json!({"required": "temperature"})).is_some());
        assert!(schema_problem(&json!(42)).unwrap().contains("a number"));
        assert!(schema_problem(&json!("")).is_some());
        let p =
            schema_problem(&json!({"$schema": "http://json-schema.org/draft-04/schema#"})).unwrap();
        assert!(p.contains("draft 2020-12"), "{p}");
        assert!(schema_problem(&json!({"$schema": 7})).is_some());
        // Draft 7 reads `items` as an array of schemas, 2020-12 does not.
        assert_eq!(
            schema_problem(
                &json!({"$schema": "http://json-schema.org/draft-07/schema", "items": [{}]})
            ),
            None
        );
        assert!(schema_problem(&json!({"items": [{}]})).is_some());
    }

    #[test]
    fn context_problem_refuses_remote_contexts() {
        assert_eq!(
            context_problem(&json!({"temperature": format!("{WEATHER}temperature")})),
            None
        );
        assert_eq!(
            context_problem(&json!(
                "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
            )),
            None
        );
        assert!(context_problem(&json!("https://smartdatamodels.org/context.jsonld")).is_some());
    }

    #[test]
    fn schema_all_required_present_and_compatible_is_aligned() {
        let data = json!({"type": "object", "properties": {
            "temperature": {"type": "number"}, "relativeHumidity": {"type": ["number", "null"]},
            "stationCount": {"type": "integer"}, "name": {"type": "string"}}});
        let f = schema_finding(&need(weather_input()), &have(data));
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");
        assert_eq!(f.details["matched"], 3);
        assert_eq!(f.details["missing"], json!([]));
    }

    #[test]
    fn schema_integer_data_for_a_number_input_is_aligned() {
        let data = json!({"properties": {"temperature": {"type": "integer"}, "relativeHumidity": {"type": "integer"}}});
        assert_eq!(
            schema_finding(&need(weather_input()), &have(data)).verdict,
            Verdict::Aligned
        );
    }

    #[test]
    fn schema_number_data_for_an_integer_input_is_convertible_by_rounding() {
        let data = json!({"properties": {"temperature": {"type": "number"}, "relativeHumidity": {"type": "number"},
                                         "stationCount": {"type": "number"}}});
        let f = schema_finding(&need(weather_input()), &have(data));
        assert_eq!(f.verdict, Verdict::Convertible, "{f:?}");
        assert!(
            f.reason.contains("rounding") && f.reason.contains("stationCount"),
            "{}",
            f.reason
        );
        assert_eq!(f.details["rounding"][0]["property"], "stationCount");
    }

    #[test]
    fn schema_string_for_a_number_is_misaligned() {
        let data = json!({"properties": {"temperature": {"type": "string"}, "relativeHumidity": {"type": "number"}}});
        let f = schema_finding(&need(weather_input()), &have(data));
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert_eq!(
            f.details["mismatched"],
            json!([{"property": "temperature", "need": "number", "have": "string"}])
        );
    }

    #[test]
    fn schema_missing_required_properties_are_misaligned_and_listed() {
        let data = json!({"properties": {"temperature": {"type": "number"}}});
        let f = schema_finding(&need(weather_input()), &have(data));
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert_eq!(f.details["missing"], json!(["relativeHumidity"]));
        assert!(f.reason.contains("relativeHumidity"), "{}", f.reason);
    }

    #[test]
    fn schema_without_a_need_or_a_dataset_description_is_unknown() {
        let f = schema_finding(&Need::default(), &have(json!({})));
        assert_eq!(f.verdict, Verdict::Unknown);
        assert_eq!(f.reason, "The model does not describe this input's schema.");
        let f = schema_finding(&need(weather_input()), &Have::default());
        assert_eq!(f.verdict, Verdict::Unknown);
        assert_eq!(
            schema_finding(&need(json!(42)), &have(json!({}))).verdict,
            Verdict::Unknown
        );
    }

    #[test]
    fn schema_arrays_compare_their_items() {
        let input = json!({"type": "array", "items": weather_input()});
        let data = json!({"type": "array", "items": {"properties": {"temperature": {"type": "number"}, "relativeHumidity": {"type": "number"}}}});
        assert_eq!(
            schema_finding(&need(input), &have(data)).verdict,
            Verdict::Aligned
        );
    }

    #[test]
    fn schema_geojson_compares_feature_properties() {
        let collection = |props: Value| {
            json!({
                "type": "object",
                "required": ["type", "features"],
                "properties": {
                    "type": {"const": "FeatureCollection"},
                    "features": {"type": "array", "items": {"$ref": "#/$defs/feature"}}
                },
                "$defs": {"feature": {
                    "type": "object",
                    "properties": {"type": {"const": "Feature"}, "geometry": {"type": "object"}, "properties": props}
                }}
            })
        };
        let input = collection(
            json!({"type": "object", "properties": {"height": {"type": "number"}}, "required": ["height"]}),
        );
        let data = collection(
            json!({"properties": {"height": {"type": "integer"}, "name": {"type": "string"}}}),
        );
        let f = schema_finding(&need(input.clone()), &have(data));
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");
        let data = json!({"type": "object", "properties": {"type": {"const": "Feature"}, "geometry": {},
                          "properties": {"properties": {"storeys": {"type": "integer"}}}}});
        let f = schema_finding(&need(input), &have(data));
        assert_eq!(f.details["missing"], json!(["height"]));
    }

    #[test]
    fn schema_names_are_compared_as_iris_under_each_context() {
        let sdm = json!({"temp": format!("{WEATHER}temperature"), "rh": format!("{WEATHER}relativeHumidity")});
        let input = json!({"properties": {"temp": {"type": "number"}, "rh": {"type": "number"}}, "required": ["temp", "rh"]});
        let data = Have {
            context: Some(
                json!([{"temperature": format!("{WEATHER}temperature"), "relativeHumidity": format!("{WEATHER}relativeHumidity")},
                                 "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]),
            ),
            entity_type: Some("WeatherObserved".into()),
            attributes: BTreeMap::from([
                (
                    "temperature".to_string(),
                    Attribute {
                        r#type: Some("Property".into()),
                        unit: Some("CEL".into()),
                    },
                ),
                (
                    "relativeHumidity".to_string(),
                    Attribute {
                        r#type: Some("Property".into()),
                        unit: None,
                    },
                ),
            ]),
            ..Default::default()
        };
        let need = Need {
            schema: Some(input.clone()),
            context: Some(sdm),
            ..Default::default()
        };
        let f = schema_finding(&need, &data);
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");

        // Without the model's context, `temp` means the default vocabulary's temp: missing.
        let plain = Need {
            schema: Some(input),
            ..Default::default()
        };
        let f = schema_finding(&plain, &data);
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert_eq!(f.details["missing"], json!(["rh", "temp"]));
    }

    #[test]
    fn schema_plain_names_when_neither_side_has_a_context_and_by_name_when_one_has() {
        let data = Have {
            attributes: BTreeMap::from([
                (
                    "temperature".to_string(),
                    Attribute {
                        r#type: Some("number".into()),
                        unit: None,
                    },
                ),
                (
                    "relativeHumidity".to_string(),
                    Attribute {
                        r#type: Some("Property".into()),
                        unit: None,
                    },
                ),
            ]),
            ..Default::default()
        };
        assert_eq!(
            schema_finding(&need(weather_input()), &data).verdict,
            Verdict::Aligned
        );
        let mut with_ctx = data.clone();
        with_ctx.context = Some(json!({"temperature": format!("{WEATHER}temperature")}));
        let f = schema_finding(&need(weather_input()), &with_ctx);
        assert_eq!(f.verdict, Verdict::Aligned, "{f:?}");
        // relativeHumidity is the default vocabulary's on both sides, an IRI match; temperature only by name.
        assert_eq!(f.details["by_name"], json!(["temperature"]));
    }

    #[test]
    fn schema_ngsi_ld_entity_type_is_compared_after_expansion() {
        let input = json!({"properties": {"type": {"const": "WeatherObserved"}, "temperature": {"type": "number"}},
                           "required": ["type", "temperature"]});
        let ctx = json!({"WeatherObserved": format!("{WEATHER}WeatherObserved"), "temperature": format!("{WEATHER}temperature")});
        let need = Need {
            schema: Some(input),
            context: Some(ctx.clone()),
            ..Default::default()
        };
        let attrs = BTreeMap::from([(
            "temperature".to_string(),
            Attribute {
                r#type: Some("Property".into()),
                unit: None,
            },
        )]);
        let same = Have {
            entity_type: Some(format!("{WEATHER}WeatherObserved")),
            attributes: attrs.clone(),
            context: Some(ctx.clone()),
            ..Default::default()
        };
        assert_eq!(schema_finding(&need, &same).verdict, Verdict::Aligned);
        let other = Have {
            entity_type: Some("WeatherForecast".into()),
            attributes: attrs,
            context: Some(ctx),
            ..Default::default()
        };
        let f = schema_finding(&need, &other);
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert!(f.reason.contains("WeatherForecast"), "{}", f.reason);
    }

    #[test]
    fn schema_ngsi_ld_attribute_types_map_to_json_types() {
        let input = json!({"properties": {"location": {"type": "object"}, "refDevice": {"type": "number"}}, "required": ["location"]});
        let data = Have {
            attributes: BTreeMap::from([
                (
                    "location".to_string(),
                    Attribute {
                        r#type: Some("GeoProperty".into()),
                        unit: None,
                    },
                ),
                (
                    "refDevice".to_string(),
                    Attribute {
                        r#type: Some("Relationship".into()),
                        unit: None,
                    },
                ),
            ]),
            ..Default::default()
        };
        let f = schema_finding(&need(input), &data);
        assert_eq!(f.verdict, Verdict::Misaligned);
        assert_eq!(f.details["mismatched"][0]["property"], "refDevice");
    }

    #[test]
    fn schema_refs_all_of_and_hostile_shapes_do_not_panic() {
        let input = json!({"allOf": [{"$ref": "#/$defs/a"}, {"properties": {"b": {"type": "string"}}, "required": ["b"]}],
                           "$defs": {"a": {"properties": {"a": {"$ref": "#/$defs/num"}}, "required": ["a"]}, "num": {"type": "number"}}});
        let data = json!({"properties": {"a": {"type": "integer"}, "b": {"enum": ["x", "y"]}}});
        assert_eq!(
            schema_finding(&need(input), &have(data)).verdict,
            Verdict::Aligned
        );
        // A reference to itself, remote references and nonsense.
        let cyclic = json!({"$ref": "#", "properties": {"a": {"$ref": "#/properties/a"}}, "required": ["a"]});
        let _ = schema_finding(&need(cyclic.clone()), &have(cyclic));
        let remote =
            json!({"properties": {"a": {"$ref": "https://example.org/s.json"}}, "required": ["a"]});
        assert_eq!(
            schema_finding(&need(remote.clone()), &have(remote)).verdict,
            Verdict::Aligned
        );
        let mut deep = json!({"type": "number"});
        for _ in 0..120 {
            deep = json!({"properties": {"x": deep}, "required": ["x"]});
        }
        let _ = schema_problem(&deep);
        let _ = schema_finding(&need(deep.clone()), &have(deep));
        for odd in [
            json!(null),
            json!([]),
            json!(""),
            json!({"type": 7}),
            json!({"properties": 3, "required": [1, null]}),
        ] {
            let _ = schema_problem(&odd);
            let _ = schema_finding(&need(odd.clone()), &have(odd));
        }
    }

    #[test]
    fn single_values_compare_their_types() {
        assert_eq!(
            schema_finding(
                &need(json!({"type": "number"})),
                &have(json!({"type": "integer"}))
            )
            .verdict,
            Verdict::Aligned
        );
        assert_eq!(
            schema_finding(
                &need(json!({"type": "integer"})),
                &have(json!({"type": "number"}))
            )
            .verdict,
            Verdict::Convertible
        );
        assert_eq!(
            schema_finding(
                &need(json!({"type": "number"})),
                &have(json!({"type": "string"}))
            )
            .verdict,
            Verdict::Misaligned
        );
        assert_eq!(
            schema_finding(&need(json!({"type": "number"})), &have(weather_input())).verdict,
            Verdict::Unknown
        );
    }

    #[test]
    // Without the step budget this walk took hours (8 parts, depth 16): the test itself is the guard.
    fn a_schema_that_revisits_its_root_is_cut_short_not_walked_for_hours() {
        let parts: Vec<Value> = (0..8).map(|_| json!({"$ref": "#"})).collect();
        let hostile = json!({"allOf": parts, "required": ["a"]});
        let need = Need {
            schema: Some(
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "number"}}}),
            ),
            ..Default::default()
        };
        let have = Have {
            schema: Some(hostile.clone()),
            ..Default::default()
        };
        let f = finding(&need, &have, &Matcher::new(None, None));
        assert_eq!(f.verdict, Verdict::Unknown, "{f:?}");
        assert!(f.reason.contains("too intricate"), "{}", f.reason);
        assert!(property_names(Some(&hostile)).is_empty());
    }
}
