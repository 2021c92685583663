//! Reading JSON-LD values the way compact ODRL writes them: a term under its compact, `odrl:` or full-IRI key, a
//! single item or a list, an IRI as a string or `{"@id": …}`, a text as a string or a value object, and the
//! literals a right operand may be. Errors carry the JSON path.

use serde_json::{Map, Value};

use crate::error::PolicyError;
use crate::model::{Literal, ODRL_NS, TWINPORT_NS};

pub(super) type Obj = Map<String, Value>;

/// Looks a term up under its compact, `odrl:`-prefixed and full-IRI keys.
pub(crate) fn get<'a>(obj: &'a Obj, term: &str) -> Option<&'a Value> {
    obj.get(term)
        .or_else(|| obj.get(&format!("odrl:{term}")))
        .or_else(|| obj.get(&format!("{ODRL_NS}{term}")))
}

/// Looks a Twinport extension up as `twinport:NAME` or under the full namespace.
pub(super) fn get_twinport<'a>(obj: &'a Obj, name: &str) -> Option<&'a Value> {
    obj.get(&format!("twinport:{name}"))
        .or_else(|| obj.get(&format!("{TWINPORT_NS}{name}")))
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON-LD value that may be a single item, an array, or an `@list`; items are returned with their paths.
pub(super) fn items<'a>(value: &'a Value, path: &str) -> Vec<(String, &'a Value)> {
    match value {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}[{i}]"), v))
            .collect(),
        Value::Object(o) if o.contains_key("@list") => match o.get("@list") {
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}]"), v))
                .collect(),
            Some(v) => vec![(path.to_string(), v)],
            None => Vec::new(),
        },
        v => vec![(path.to_string(), v)],
    }
}

/// An IRI given as a plain string or as `{"@id": ...}`.
pub(super) fn iri(value: &Value, path: &str) -> Result<String, PolicyError> {
    let bad = || PolicyError::invalid(path, "expected an IRI string or {\"@id\": ...}");
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Object(o) => match o.get("@id") {
            Some(Value::String(s))
                if !s.is_empty() && o.keys().all(|k| k == "@id" || k == "@type") =>
            {
                Ok(s.clone())
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// A text value: a string, or `{"@value": "...", "@language": ...}`.
pub(super) fn text(value: &Value, path: &str) -> Result<String, PolicyError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => match o.get("@value") {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(PolicyError::invalid(path, "expected a text")),
        },
        Value::Array(a) => match a.first() {
            Some(first) => text(first, &format!("{path}[0]")),
            None => Err(PolicyError::invalid(path, "expected a text")),
        },
        _ => Err(PolicyError::invalid(path, "expected a text")),
    }
}

pub(super) fn node_id(obj: &Obj) -> Option<String> {
    obj.get("@id")
        .or_else(|| get(obj, "uid"))
        .and_then(|v| iri(v, "").ok())
}

pub(super) fn type_of(obj: &Obj) -> Option<&str> {
    let t = obj.get("@type").or_else(|| obj.get("type"))?;
    match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// A label for people: `rdfs:label`, else `dct:title`, in any of their spellings.
pub(super) fn label_of(obj: &Obj) -> Option<String> {
    [
        "rdfs:label",
        "http://www.w3.org/2000/01/rdf-schema#label",
        "dct:title",
        "dcterms:title",
        "http://purl.org/dc/terms/title",
    ]
    .iter()
    .find_map(|k| obj.get(*k))
    .and_then(|v| text(v, "").ok())
    .filter(|s| !s.trim().is_empty())
}

pub(super) fn expect_object<'a>(
    value: &'a Value,
    path: &str,
    what: &str,
) -> Result<&'a Obj, PolicyError> {
    value
        .as_object()
        .ok_or_else(|| PolicyError::invalid(path, format!("expected {what} object")))
}

pub(super) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn parse_literal(value: &Value, path: &str) -> Result<Literal, PolicyError> {
    match value {
        Value::String(s) => Ok(Literal::String(s.clone())),
        Value::Number(n) => Ok(Literal::Number(n.clone())),
        Value::Bool(b) => Ok(Literal::Bool(*b)),
        Value::Null => Err(PolicyError::invalid(path, "right operand must not be null")),
        Value::Array(_) => Err(PolicyError::invalid(
            path,
            "nested lists are not allowed in a right operand",
        )),
        Value::Object(o) => {
            if let Some(v) = o.get("@value") {
                let datatype = o.get("@type").and_then(Value::as_str);
                if datatype == Some("@json") {
                    return Ok(Literal::Json(v.clone()));
                }
                let text = scalar_text(v).ok_or_else(|| {
                    PolicyError::invalid(
                        &join(path, "@value"),
                        "expected a string, number or boolean",
                    )
                })?;
                return Ok(match datatype {
                    Some(dt) => Literal::Typed {
                        value: text,
                        datatype: dt.to_string(),
                    },
                    None => match v {
                        Value::Number(n) => Literal::Number(n.clone()),
                        Value::Bool(b) => Literal::Bool(*b),
                        _ => Literal::String(text),
                    },
                });
            }
            if let Some(id) = o.get("@id") {
                return match id {
                    Value::String(s) if !s.is_empty() => Ok(Literal::Iri(s.clone())),
                    _ => Err(PolicyError::invalid(
                        &join(path, "@id"),
                        "expected an IRI string",
                    )),
                };
            }
            if o.contains_key("bbox") || o.contains_key("polygon") {
                return Ok(Literal::Json(value.clone()));
            }
            Err(PolicyError::invalid(
                path,
                "expected a value, {\"@value\": ...}, {\"@id\": ...} or a geometry",
            ))
        }
    }
}
