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

/// A refusal from the HTTP layer on a DSP path (a body too large or not JSON, an unreadable target), in the
/// error message of the protocol the path belongs to, so a partner's DSP client can read it like any other.
/// The process ids are unknown at this point and sent empty, as for any other message refused before it was read.
pub fn refusal(path: &str, status: StatusCode, code: &str, reason: impl Into<String>) -> Response {
    use twinport_contracts::negotiation::ContractNegotiationError;
    use twinport_contracts::transfer::TransferError;
    let (code, reason) = (Some(code.to_string()), vec![reason.into()]);
    let within = path.strip_prefix(super::DSP_PATH).unwrap_or("");
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
