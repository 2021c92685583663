//! Reads a JSON request body ourselves, so a malformed body gets a problem+json answer naming the problem instead
//! of axum's plain-text rejection. A key given twice in one object is refused too: read the usual way, one of the
//! two values would be dropped without a word (a policy's second `constraint`, say). Every body the API takes is
//! a JSON object, and no string in it may hold a NUL, which no store can keep as text.

use axum::body::Bytes;
use serde_json::Value;

use crate::catalogue::FieldError;
use crate::error::ApiError;

pub fn json(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::Malformed(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::Malformed(format!("body is not valid JSON: not UTF-8 ({e})")))?;
    let value = twinport_policy::json_text::parse(text)
        .map_err(|e| ApiError::Malformed(format!("body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::Malformed(format!(
            "body is a JSON {}; expected a JSON object",
            kind(&value)
        )));
    }
    if let Some(at) = nul_at(&value, "") {
        return Err(ApiError::Malformed(format!(
            "body contains a NUL character at {}",
            if at.is_empty() { "the top level" } else { &at }
        )));
    }
    Ok(value)
}

/// Problems with the ids and texts of a request body, beyond the shape serde checks.
pub trait Checked {
    fn problems(&self) -> Vec<FieldError>;
}

/// Reads a body of type `T` and checks it; `what` names it in the answer.
pub fn parse<T: serde::de::DeserializeOwned + Checked>(
    body: &Bytes,
    what: &str,
) -> Result<T, ApiError> {
    let value: T = serde_json::from_value(json(body)?).map_err(|e| ApiError::Validation {
        what: what.into(),
        errors: vec![crate::catalogue::resource::serde_error(&e.to_string())],
    })?;
    let errors = value.problems();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation {
            what: what.into(),
            errors,
        })
    }
}

/// Adds a problem when `value` breaks the id rule.
pub fn check_id(problems: &mut Vec<FieldError>, field: &str, value: &str) {
    if let Err(e) = twinport_contracts::ids::check_id(value) {
        problems.push(FieldError {
            field: field.into(),
            problem: format!("the id {e}"),
        });
    }
}

/// Adds a problem when free text (a reason, a note) is too long or holds control characters.
pub fn check_text(problems: &mut Vec<FieldError>, field: &str, value: &str) {
    if let Err(e) =
        twinport_contracts::ids::check_text(value, twinport_contracts::ids::MAX_TEXT_BYTES)
    {
        problems.push(FieldError {
            field: field.into(),
            problem: format!("the text {e}"),
        });
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where the first NUL is, as a JSON pointer.
fn nul_at(v: &Value, at: &str) -> Option<String> {
    match v {
        Value::String(s) if s.contains('\0') => Some(at.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &format!("{at}/{i}"))),
        Value::Object(m) => m.iter().find_map(|(k, item)| {
            let here = format!(
                "{at}/{}",
                k.replace('~', "~0").replace('/', "~1").replace('\0', "\\0")
            );
            if k.contains('\0') {
                Some(here)
            } else {
                nul_at(item, &here)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_accepted() {
        for body in ["[]", "1", "\"x\"", "null"] {
            let err = json(&Bytes::from(body)).unwrap_err().to_string();
            assert!(err.contains("expected a JSON object"), "{body}: {err}");
        }
        assert!(json(&Bytes::from("{}")).is_ok());
    }

    #[test]
    fn a_nul_anywhere_is_refused_with_its_place() {
        let err = json(&Bytes::from(r#"{"a": [{"b": "x\u0000y"}]}"#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/a/0/b"), "{err}");
    }
}
