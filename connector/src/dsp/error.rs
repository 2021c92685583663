//! DSP errors as the bindings answer them: a `CatalogError` body with a code and reasons; and a refused negotiation
//! or transfer message as 404 (unknown process or unauthorised caller) or 400 with a `ContractNegotiationError` or
//! `TransferError`. Internal detail is logged, never sent.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use twinport_contracts::message::DspMessage;
use twinport_contracts::negotiation::ContractNegotiationError;
use twinport_contracts::transfer::TransferError;

use crate::contracting::error::Protocol;
use crate::contracting::ProcessError;

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

impl IntoResponse for ProcessError {
    fn into_response(self) -> Response {
        match self {
            ProcessError::NotFound => StatusCode::NOT_FOUND.into_response(),
            // Only reached when retries ran out; the sender's outbox tries again later.
            ProcessError::Conflict => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            ProcessError::Invalid {
                protocol,
                provider_pid,
                consumer_pid,
                code,
                reason,
            } => {
                let (code, reason) = (Some(code.to_string()), vec![reason]);
                let body = match protocol {
                    Protocol::Negotiation => ContractNegotiationError {
                        provider_pid,
                        consumer_pid,
                        code,
                        reason,
                    }
                    .to_json(),
                    Protocol::Transfer => TransferError {
                        provider_pid,
                        consumer_pid,
                        code,
                        reason,
                    }
                    .to_json(),
                };
                (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response()
            }
            ProcessError::Storage(e) => {
                tracing::error!(error = %e, "storage failure while handling a DSP message");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
            ProcessError::Internal(e) => {
                tracing::error!(error = %e, "internal failure while handling a DSP message");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}
