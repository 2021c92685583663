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
    /// The process changed between our read and our write; the handler runs again on fresh state.
    #[error("the process changed concurrently")]
    Conflict,
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

/// Runs a handler again (up to a few times) when it lost a race with another message for the same process.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, ProcessError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProcessError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(ProcessError::Conflict) if tries < 5 => tries += 1,
            other => return other,
        }
    }
}
