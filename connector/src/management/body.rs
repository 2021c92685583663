//! Reads a JSON request body ourselves, so a malformed body gets a problem+json answer naming the problem instead
//! of axum's plain-text rejection.

use axum::body::Bytes;
use serde_json::Value;

use crate::error::ApiError;

pub fn json(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::Malformed(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("body is not valid JSON: {e}")))
}
