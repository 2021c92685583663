//! `POST <base>/transfers/{providerPid}/pull-token`: the Twinport extension `pull-token-renewal`, through which a
//! consumer renews the pull token of a transfer it started, before the token expires, instead of restarting the
//! transfer. Authenticated like every transfer message (the consumer's DSP identity; a refusal is 404) and bound
//! to the transfer: the body names both pids, as DSP follow-up messages do. A refusal is a `TransferError` with a
//! code (one of `pull_token::REFUSAL_CODES`, the only answers a consumer takes as final) and the reason.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::process_auth::ProcessPartner;
use crate::contracting::error::{retrying, Protocol};
use crate::contracting::{pull_token, Contracting, ProcessError};

pub async fn renew(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<Response, ProcessError> {
    let body: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ProcessError::invalid(
            Protocol::Transfer,
            Some(&pid),
            None,
            pull_token::MALFORMED_MESSAGE,
            format!("body is not valid JSON: {e}"),
        )
    })?;
    let renewed = retrying(|| pull_token::renew(&state, &partner, &pid, &body)).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            // The answer holds a live token.
            (header::CACHE_CONTROL, "no-store"),
        ],
        renewed.body.to_string(),
    )
        .into_response())
}
