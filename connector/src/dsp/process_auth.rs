//! The authenticated partner behind a negotiation or transfer request. As the DSP bindings require, a caller that
//! fails authentication gets 404, exactly as if the process did not exist; the reason is logged for the operator.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::DspState;
use crate::identity::AuthError;

/// A partner authenticated for a negotiation or transfer message.
pub struct ProcessPartner(pub String);

impl FromRequestParts<DspState> for ProcessPartner {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &DspState,
    ) -> Result<Self, Self::Rejection> {
        match super::auth::check(parts, state).await {
            Ok(p) => Ok(ProcessPartner(p.id)),
            Err(AuthError::Storage(e)) => {
                tracing::error!(error = %e, "token check failed on storage");
                Err(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(e) => {
                tracing::warn!(reason = %e, path = %parts.uri.path(), "refused negotiation/transfer request (answered 404)");
                Err(StatusCode::NOT_FOUND)
            }
        }
    }
}
