//! Reads a JSON request body ourselves, so a malformed body gets a problem+json answer naming the problem instead
//! of axum's plain-text rejection. A key given twice in one object is refused too: read the usual way, one of the
//! two values would be dropped without a word (a policy's second `constraint`, say).

use axum::body::Bytes;
use serde_json::Value;

use crate::error::ApiError;

pub fn json(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::Malformed(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::Malformed(format!("body is not valid JSON: not UTF-8 ({e})")))?;
    twinport_policy::json_text::parse(text)
        .map_err(|e| ApiError::Malformed(format!("body is not valid JSON: {e}")))
}
