//! How a refused DSP message is answered: 404 for an unknown process or an unauthorised caller, 400 with a
//! `ContractNegotiationError` or `TransferError` for anything else the partner got wrong; internal detail is
//! logged, never sent.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use twinport_contracts::message::DspMessage;
use twinport_contracts::negotiation::ContractNegotiationError;
use twinport_contracts::transfer::TransferError;

use crate::storage::StorageError;

/// Which protocol an error belongs to (it picks the error body's `@type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Negotiation,
    Transfer,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("not found")]
    NotFound,
    #[error("{code}: {reason}")]
    Invalid {
        protocol: Protocol,
        provider_pid: String,
        consumer_pid: String,
        code: &'static str,
        reason: String,
    },
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("internal: {0}")]
    Internal(String),
}

impl ProcessError {
    pub fn invalid(
        protocol: Protocol,
        provider_pid: Option<&str>,
        consumer_pid: Option<&str>,
        code: &'static str,
        reason: impl Into<String>,
    ) -> ProcessError {
        ProcessError::Invalid {
            protocol,
            provider_pid: provider_pid.unwrap_or_default().to_string(),
            consumer_pid: consumer_pid.unwrap_or_default().to_string(),
            code,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for ProcessError {
    fn into_response(self) -> Response {
        match self {
            ProcessError::NotFound => StatusCode::NOT_FOUND.into_response(),
            ProcessError::Invalid {
                protocol,
                provider_pid,
                consumer_pid,
                code,
                reason,
            } => {
                let (code, reason) = (Some(code.to_string()), vec![reason]);
                let body = match protocol {
                    Protocol::Negotiation => ContractNegotiationError { provider_pid, consumer_pid, code, reason }.to_json(),
                    Protocol::Transfer => TransferError { provider_pid, consumer_pid, code, reason }.to_json(),
                };
                (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
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
