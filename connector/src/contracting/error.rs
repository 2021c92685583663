//! Why a DSP message or an operator action on a process was refused: an unknown process (or an unauthorised
//! caller), a message the partner got wrong (with the code and reason its error message carries), a concurrent
//! change (run again), or a failure of ours. The DSP surface turns it into the protocol's answer (`dsp/error.rs`),
//! the management API into problem+json.

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
