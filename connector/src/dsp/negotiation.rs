//! The contract negotiation HTTPS binding (DSP 2025-1 §6.4), provider and consumer endpoints on one base: our
//! process ids are unique, so a path's pid tells which role we hold.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use twinport_contracts::negotiation::NegotiationState;

use super::process_auth::ProcessPartner;
use crate::contracting::error::{retrying, Protocol};
use crate::contracting::follow_up;
use crate::contracting::Contracting;
use crate::contracting::{negotiation, visibility, ProcessError};

fn json_body(body: &Bytes) -> Result<Value, ProcessError> {
    serde_json::from_slice(body).map_err(|e| {
        ProcessError::invalid(
            Protocol::Negotiation,
            None,
            None,
            "malformed-message",
            format!("body is not valid JSON: {e}"),
        )
    })
}

/// The agreement signature a partner sent beside the message (see [`crate::contracting::SIGNATURE_HEADER`]).
fn signature(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(crate::contracting::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `GET /negotiations/:pid` (provider and consumer).
pub async fn get(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
) -> Result<Response, ProcessError> {
    let n =
        visibility::acknowledged(&state, || negotiation::lookup(&state, &partner, &pid)).await?;
    let current: NegotiationState = n
        .state
        .parse()
        .map_err(|_| ProcessError::Internal("stored state".into()))?;
    Ok(json_response(StatusCode::OK, negotiation::ack(&n, current)))
}

pub async fn request(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    body: Bytes,
) -> Result<Response, ProcessError> {
    let ack = {
        let body = json_body(&body)?;
        retrying(|| negotiation::on_initial_request(&state, &partner, &body)).await?
    };
    Ok(super::answer_first::answer(&state, ack))
}

pub async fn initial_offer(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    body: Bytes,
) -> Result<Response, ProcessError> {
    let ack = {
        let body = json_body(&body)?;
        retrying(|| negotiation::on_initial_offer(&state, &partner, &body)).await?
    };
    Ok(super::answer_first::answer(&state, ack))
}

pub async fn counter_request(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    {
        let body = json_body(&body)?;
        follow_up::handle(
            &state,
            &body,
            || async { Ok(negotiation::lookup(&state, &partner, &pid).await?.id) },
            || negotiation::on_counter_request(&state, &partner, &pid, &body),
        )
        .await?
    };
    Ok(StatusCode::OK)
}

pub async fn counter_offer(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    {
        let body = json_body(&body)?;
        follow_up::handle(
            &state,
            &body,
            || async { Ok(negotiation::lookup(&state, &partner, &pid).await?.id) },
            || negotiation::on_counter_offer(&state, &partner, &pid, &body),
        )
        .await?
    };
    Ok(StatusCode::OK)
}

pub async fn events(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    {
        let body = json_body(&body)?;
        follow_up::handle(
            &state,
            &body,
            || async { Ok(negotiation::lookup(&state, &partner, &pid).await?.id) },
            || negotiation::on_event(&state, &partner, &pid, &body),
        )
        .await?
    };
    Ok(StatusCode::OK)
}

pub async fn agreement(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    {
        let body = json_body(&body)?;
        follow_up::handle(
            &state,
            &body,
            || async { Ok(negotiation::lookup(&state, &partner, &pid).await?.id) },
            || negotiation::on_agreement(&state, &partner, &pid, &body, signature(&headers)),
        )
        .await?
    };
    Ok(StatusCode::OK)
}

pub async fn verification(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    {
        let body = json_body(&body)?;
        follow_up::handle(
            &state,
            &body,
            || async { Ok(negotiation::lookup(&state, &partner, &pid).await?.id) },
            || negotiation::on_verification(&state, &partner, &pid, &body, signature(&headers)),
        )
        .await?
    };
    Ok(StatusCode::OK)
}

pub async fn termination(
    State(state): State<Contracting>,
    ProcessPartner(partner): ProcessPartner,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ProcessError> {
    {
        let body = json_body(&body)?;
        follow_up::handle(
            &state,
            &body,
            || async { Ok(negotiation::lookup(&state, &partner, &pid).await?.id) },
            || negotiation::on_termination(&state, &partner, &pid, &body),
        )
        .await?
    };
    Ok(StatusCode::OK)
}
