//! The error body every OGC API Records endpoint answers with: the OGC API Features exception
//! (`exception.yaml`: a required `code`, a `description`), as `application/json`, with the status that says
//! whose mistake it was. Client input never yields a 500; only a failing store does.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::storage::StorageError;

/// A refused or failed Records request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

impl RecordsError {
    /// A query parameter the server does not know or whose value it cannot use (400).
    pub fn invalid(description: impl Into<String>) -> RecordsError {
        RecordsError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidParameterValue",
            description: description.into(),
        }
    }

    /// No such collection or record (404).
    pub fn not_found(description: impl Into<String>) -> RecordsError {
        RecordsError {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            description: description.into(),
        }
    }
}

impl From<StorageError> for RecordsError {
    fn from(e: StorageError) -> RecordsError {
        // The store's message may name tables or paths: logged here, not sent to an anonymous client.
        tracing::error!(error = %e, "open catalogue: storage failed while answering a Records request");
        RecordsError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "ServerError",
            description: "the catalogue could not be read; try again later".into(),
        }
    }
}

impl IntoResponse for RecordsError {
    fn into_response(self) -> Response {
        let body = json!({"code": self.code, "description": self.description});
        (
            self.status,
            [(header::CONTENT_TYPE, super::JSON)],
            body.to_string(),
        )
            .into_response()
    }
}
