//! DSP catalogue errors: a `CatalogError` body with a code and reasons, and the HTTP status the binding asks for.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use twinport_contracts::message::DspMessage;

/// A refused catalogue request.
#[derive(Debug)]
pub struct CatalogError {
    pub status: StatusCode,
    pub code: &'static str,
    pub reason: String,
}

impl CatalogError {
    pub fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> CatalogError {
        CatalogError {
            status,
            code,
            reason: reason.into(),
        }
    }

    pub fn unauthorized(reason: impl Into<String>) -> CatalogError {
        CatalogError::new(StatusCode::UNAUTHORIZED, "unauthorized", reason)
    }

    pub fn bad_request(reason: impl Into<String>) -> CatalogError {
        CatalogError::new(StatusCode::BAD_REQUEST, "bad-request", reason)
    }

    pub fn internal() -> CatalogError {
        CatalogError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the provider has logged it",
        )
    }
}

impl IntoResponse for CatalogError {
    fn into_response(self) -> Response {
        let body = twinport_contracts::catalog::CatalogError {
            code: Some(self.code.to_string()),
            reason: vec![self.reason],
        }
        .to_json();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}
