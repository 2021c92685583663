//! The connector's one error type, [`ApiError`]: each variant maps to an HTTP status and an RFC 9457
//! `application/problem+json` body; internal detail (SQL, I/O) is logged, never sent. On DSP paths the HTTP layer
//! answers in the protocol's own error messages instead ([`dsp_refusal`]).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use twinport_contracts::message::DspMessage;

use crate::catalogue::FieldError;
use crate::storage::StorageError;

const PROBLEM_BASE: &str = "https://w3id.org/twinport/problems/";

/// An error answered as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Query parameters an operation does not take, or values it cannot use; each named in `errors`.
    #[error("bad query parameters: {}", names(.0))]
    Query(Vec<FieldError>),
    #[error("invalid {what}")]
    Validation {
        what: String,
        errors: Vec<FieldError>,
    },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("partner connector failed: {0}")]
    BadGateway(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("request body too large: {0}")]
    TooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("request target too long: {0}")]
    UriTooLong(String),
    /// A refusal from the HTTP layer (wrong method, unreadable path parameter) with the status it chose.
    #[error("{detail}")]
    Rejected { status: StatusCode, detail: String },
    #[error("internal error")]
    Internal(String),
}

/// RFC 9457 problem details, with our `errors` extension listing field problems.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Malformed(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "Malformed request",
            ),
            ApiError::Query(_) => (
                StatusCode::BAD_REQUEST,
                "query-parameter",
                "Bad query parameter",
            ),
            ApiError::Validation { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Validation failed",
            ),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::BadGateway(_) => (
                StatusCode::BAD_GATEWAY,
                "partner-failed",
                "Partner connector failed",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
            ApiError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request body too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::UriTooLong(_) => (
                StatusCode::URI_TOO_LONG,
                "uri-too-long",
                "Request target too long",
            ),
            // The router's own refusals get the type their status means, so a client tells a wrong method or an
            // unknown route (a trailing slash included) from any other refusal.
            ApiError::Rejected { status, .. } => (
                *status,
                match *status {
                    StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
                    StatusCode::NOT_FOUND => "not-found",
                    _ => "rejected",
                },
                status.canonical_reason().unwrap_or("Request refused"),
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let (detail, errors) = match self {
            ApiError::Validation { what, errors } => {
                (Some(format!("invalid {what}")), errors.clone())
            }
            ApiError::Query(errors) => (Some(self.to_string()), errors.clone()),
            // Internal detail stays in the log.
            ApiError::Internal(_) => (
                Some("see the connector log for details".to_string()),
                Vec::new(),
            ),
            other => (Some(other.to_string()), Vec::new()),
        };
        Problem {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error in management API");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        // RFC 6750 section 3: a 401 tells the client which scheme to authenticate with.
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The fields of `errors`, for a detail line.
fn names(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// A refusal from the HTTP layer on a DSP path (a body too large or not JSON, an unreadable target), in the
/// error message of the protocol the path belongs to, so a partner's DSP client can read it like any other.
/// The process ids are unknown at this point and sent empty, as for any other message refused before it was read.
pub fn dsp_refusal(
    path: &str,
    status: StatusCode,
    code: &str,
    reason: impl Into<String>,
) -> Response {
    use twinport_contracts::negotiation::ContractNegotiationError;
    use twinport_contracts::transfer::TransferError;
    let (code, reason) = (Some(code.to_string()), vec![reason.into()]);
    let within = path.strip_prefix(crate::paths::DSP_PATH).unwrap_or("");
    let body = if within.starts_with("/negotiations") {
        ContractNegotiationError {
            provider_pid: String::new(),
            consumer_pid: String::new(),
            code,
            reason,
        }
        .to_json()
    } else if within.starts_with("/transfers") {
        TransferError {
            provider_pid: String::new(),
            consumer_pid: String::new(),
            code,
            reason,
        }
        .to_json()
    } else {
        twinport_contracts::catalog::CatalogError { code, reason }.to_json()
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
