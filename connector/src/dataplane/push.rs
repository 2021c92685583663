//! The provider's side of a push transfer: once an `HttpData-PUSH` transfer is STARTED (and the consumer has
//! received the TransferStartMessage), the data plane reads the agreed resource from its backend and streams it as
//! one `POST` to the endpoint in the consumer's data address, with the same checks, audit entry and signed receipt
//! as a pull. Success completes the transfer (a TransferCompletionMessage goes out through the usual transfer
//! code); a failure leaves it STARTED with the failure in its history and in the audit log, so the operator can
//! retry (suspend and resume pushes again) or terminate it.

use std::time::Duration;

use axum::http::{header, HeaderMap, Method, StatusCode};
use twinport_contracts::transfer::{DataAddress, TransferMessageKind, TransferState};

use super::access;
use super::backend::{BackendRequest, Forwarded};
use super::problem::Refusal;
use super::record::{self, AccessLine};
use super::tee::{declared_length, Outcome, Tee};
use super::{DATA_PATH, RECEIPT_HEADER, REQUEST_ID_HEADER};
use crate::contracting::transfer::act_by;
use crate::contracting::ProcessError;
use crate::dataplane::DataPlaneState;
use crate::storage::TransferRecord;

/// Pause before completing again after a concurrent change of the transfer.
const POLL: Duration = Duration::from_millis(50);
/// The method a push is sent with; the consumer checks the receipt names it.
pub const PUSH_METHOD: &str = "POST";

/// Why a push did not go through.
#[derive(Debug)]
enum Failure {
    /// Before anything was sent to the consumer: refused or the backend failed. Recorded as a refused access.
    Before(Refusal),
    /// The body went out (its access and receipt are recorded by the tee) but the consumer did not accept it.
    Delivery(String),
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Before(r)
    }
}

/// Pushes transfer `transfer_id` in the background. Called once the transfer is STARTED as the consumer knows it:
/// when it acknowledged our TransferStartMessage, or when it resumed the transfer itself.
pub fn spawn(state: DataPlaneState, transfer_id: String) {
    let stopping = state.data_plane().stopping().clone();
    let owner = state.clone();
    owner.data_plane().spawn_tracked(async move {
        // A stop ends the push: the body is cut off, and what went out is recorded as incomplete by the tee.
        let outcome = tokio::select! {
            r = run(&state, &transfer_id) => r,
            () = stopping.cancelled() => Err("the connector stopped during the push".to_string()),
        };
        if let Err(e) = outcome {
            tracing::error!(transfer = %transfer_id, error = %e, "push failed");
            note_failure(&state, &transfer_id, &e).await;
        }
    });
}

async fn note_failure(state: &DataPlaneState, transfer_id: &str, why: &str) {
    if let Err(e) = state
        .store()
        .note(
            transfer_id,
            TransferState::Started.as_str(),
            "push failed; the transfer stays STARTED (suspend and resume to push again)",
            Some(why.to_string()),
        )
        .await
    {
        tracing::error!(transfer = %transfer_id, error = %e, "cannot record a failed push");
    }
    state.after_change(transfer_id, TransferState::Started.as_str(), false);
}

async fn run(state: &DataPlaneState, transfer_id: &str) -> Result<(), String> {
    let t = state
        .store()
        .transfer(transfer_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the transfer vanished")?;
    if t.state != TransferState::Started.as_str() {
        tracing::info!(transfer = %t.id, state = %t.state, "push skipped: the transfer is no longer STARTED");
        return Ok(());
    }
    let mut line = AccessLine {
        partner: Some(t.partner.clone()),
        transfer: Some(t.id.clone()),
        agreement: Some(t.agreement_id.clone()),
        ..AccessLine::new(PUSH_METHOD.into(), String::new())
    };
    match push(state, &t, &mut line).await {
        Ok(()) => {}
        Err(Failure::Before(refusal)) => {
            record::refusal(state, &line, &refusal).await;
            return Err(format!("{} ({})", refusal.detail, refusal.slug));
        }
        Err(Failure::Delivery(why)) => return Err(why),
    }
    tracing::info!(transfer = %t.id, request = %line.request_id, "push delivered");
    // The completion goes through the same code as an operator's, retried if a message changed the transfer.
    let mut last = String::new();
    for _ in 0..5 {
        match act_by(
            state.contracting(),
            &t.id,
            TransferMessageKind::TransferCompletion,
            None,
            "our data plane (push delivered)",
        )
        .await
        {
            Ok(_) => return Ok(()),
            Err(ProcessError::Conflict) => {
                last = "the transfer kept changing".into();
                tokio::time::sleep(POLL).await;
            }
            Err(e) => return Err(format!("pushed, but cannot complete the transfer: {e}")),
        }
    }
    Err(format!("pushed, but cannot complete the transfer: {last}"))
}

/// The consumer's endpoint and the `Authorization` value to send it.
fn target(t: &TransferRecord) -> Result<(String, Option<String>), Refusal> {
    let address = t
        .data_address
        .as_ref()
        .and_then(|v| DataAddress::from_json(v).ok())
        .ok_or_else(|| Refusal::bad_request("the consumer's data address is missing or invalid"))?;
    let endpoint = address
        .endpoint
        .clone()
        .filter(|e| e.starts_with("http://") || e.starts_with("https://"))
        .ok_or_else(|| {
            Refusal::bad_request("the consumer's data address has no http(s) endpoint")
        })?;
    let auth = address
        .property("authorization")
        .map(|value| match address.property("authType") {
            Some(kind) if kind.eq_ignore_ascii_case("bearer") => format!("Bearer {value}"),
            _ => value.to_string(),
        });
    Ok((endpoint, auth))
}

async fn push(
    state: &DataPlaneState,
    t: &TransferRecord,
    line: &mut AccessLine,
) -> Result<(), Failure> {
    let (endpoint, auth) = target(t)?;
    let generation = state.store().generation().await;
    let access = access::admit(state, t.clone(), None, generation)
        .await
        .map_err(|r| r.refusal)?;
    line.resource = Some(access.resource().id.clone());
    line.purpose = access.purpose.clone();
    let backend = access.backend()?;
    let prepared = backend.prepare(BackendRequest {
        method: Method::GET,
        path: String::new(),
        query: None,
        headers: HeaderMap::new(),
        body: None,
        forwarded: Forwarded::default(),
    })?;
    access::decide(state, &access, access::Requested::Push).await?;
    let plane = state.data_plane();
    let response = prepared.send(plane.backends(), plane.timeout()).await?;
    // Only a whole resource is pushed; an error page or a partial answer is not the agreed data.
    if response.status != StatusCode::OK {
        return Err(Refusal::bad_gateway(format!(
            "the backend answered HTTP {} instead of the resource",
            response.status.as_u16()
        ))
        .into());
    }
    let expected = declared_length(&response.headers);
    let content_type = response.headers.get(header::CONTENT_TYPE).cloned();

    plane.pending().register(&line.request_id);
    let recorder_state = state.clone();
    let recorded_line = line.clone();
    let tee = Tee::new(response.body, expected, move |outcome: Outcome| {
        record::served_later(recorder_state, recorded_line, 200, outcome);
    });
    let receipt_url = format!(
        "{}{DATA_PATH}/{}/receipts/{}",
        state.public_url(),
        t.provider_pid.as_deref().unwrap_or(&t.id),
        line.request_id
    );
    let mut request = plane
        .client()
        .post(&endpoint)
        .header(REQUEST_ID_HEADER, &line.request_id)
        .header(RECEIPT_HEADER, &receipt_url)
        .body(reqwest::Body::wrap_stream(tee));
    if let Some(auth) = auth {
        request = request.header(header::AUTHORIZATION, auth);
    }
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    let answer = request.send().await.map_err(|e| {
        Failure::Delivery(format!("the consumer's endpoint {endpoint} failed: {e}"))
    })?;
    if !answer.status().is_success() {
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap_or_default();
        let body: String = body.chars().take(300).collect();
        return Err(Failure::Delivery(format!(
            "the consumer's endpoint {endpoint} answered HTTP {status}: {body}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn transfer(address: serde_json::Value) -> TransferRecord {
        TransferRecord {
            id: "p1".into(),
            role: "provider".into(),
            provider_pid: Some("p1".into()),
            consumer_pid: Some("c1".into()),
            partner: "https://b.example".into(),
            agreement_id: "a1".into(),
            state: "STARTED".into(),
            format: "HttpData-PUSH".into(),
            peer_address: None,
            data_address: Some(address),
            token_hash: None,
            token_expires: None,
            version: 0,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn address(endpoint: &str, props: serde_json::Value) -> serde_json::Value {
        json!({"@type": "DataAddress", "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
               "endpoint": endpoint, "endpointProperties": props})
    }

    #[test]
    fn the_push_target_and_its_credential_come_from_the_data_address() {
        let t = transfer(address(
            "https://b.example/push/c1",
            json!([{"@type": "EndpointProperty", "name": "authorization", "value": "tok"},
                   {"@type": "EndpointProperty", "name": "authType", "value": "bearer"}]),
        ));
        assert_eq!(
            target(&t).unwrap(),
            (
                "https://b.example/push/c1".into(),
                Some("Bearer tok".into())
            )
        );
        let t = transfer(address(
            "https://b.example/in",
            json!([{"@type": "EndpointProperty", "name": "authorization", "value": "Basic eA=="}]),
        ));
        assert_eq!(target(&t).unwrap().1.as_deref(), Some("Basic eA=="));
    }

    #[test]
    fn a_push_target_that_is_not_http_is_refused() {
        let t = transfer(address("file:///etc/passwd", json!([])));
        assert_eq!(target(&t).unwrap_err().status, StatusCode::BAD_REQUEST);
        let mut t = transfer(json!({}));
        t.data_address = None;
        assert!(target(&t).is_err());
    }
}
