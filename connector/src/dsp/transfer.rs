//! The transfer process HTTPS binding (DSP 2025-1 §7.3), provider and consumer endpoints on one base, plus the
//! consumer-side `GET` the TCK expects.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use twinport_contracts::transfer::{TransferMessageKind as M, TransferState};

use super::process_auth::ProcessPartner;
use crate::contracting::error::{retrying, Protocol};
use crate::contracting::Contracting;
use crate::contracting::{follow_up, transfer, visibility, ProcessError};

fn json_body(body: &Bytes) -> Result<Value, ProcessError> {
    serde_json::from_slice(body).map_err(|e| {
        ProcessError::invalid(
            Protocol::Transfer,
            None,
            None,
            "malformed-message",
            format!("body is not valid JSON: {e}"),
        )
    })
}

pub async fn get(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
) -> Result<Response, ProcessError> {
    let t = visibility::acknowledged(&state, || transfer::lookup(&state, &partner, &pid)).await?;
    let current: TransferState = t
        .state
        .parse()
        .map_err(|_| ProcessError::Internal("stored state".into()))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        transfer::ack(&t, current).to_string(),
    )
        .into_response())
}

pub async fn request(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    body: Bytes,
) -> Result<Response, ProcessError> {
    let body = json_body(&body)?;
    let ack = retrying(|| transfer::on_request(&state, &partner, &body)).await?;
    Ok(super::answer_first::answer(&state, ack))
}

async fn message(
    state: Contracting,
    partner: String,
    pid: String,
    kind: M,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    let body = json_body(&body)?;
    follow_up::handle(
        &state,
        &body,
        || async { Ok(transfer::lookup(&state, &partner, &pid).await?.id) },
        || transfer::on_message(&state, &partner, &pid, kind, &body),
    )
    .await?;
    Ok(StatusCode::OK)
}

pub async fn start(
    State(s): State<Contracting>,
    ProcessPartner(p): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    message(s, p, pid, M::TransferStart, body).await
}

pub async fn completion(
    State(s): State<Contracting>,
    ProcessPartner(p): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    message(s, p, pid, M::TransferCompletion, body).await
}

pub async fn suspension(
    State(s): State<Contracting>,
    ProcessPartner(p): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    message(s, p, pid, M::TransferSuspension, body).await
}

pub async fn termination(
    State(s): State<Contracting>,
    ProcessPartner(p): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    message(s, p, pid, M::TransferTermination, body).await
}
