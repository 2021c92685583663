//! The provider's records of data-plane requests. A refusal is appended to the audit log before it is answered.
//! A served response is appended when its body has ended (or the partner went away): waiting for a durable append
//! before the first byte would put a database commit on every request's latency, and the digest of the body is
//! only known at the end anyway. The receipt (naming the audit index) is stored in the same transaction as the
//! entry, and then whoever waits for it is woken. It is stored as recorded and signed when first fetched
//! ([`super::receipts`]): a signature per response was the largest single cost of a small proxied request, and
//! most receipts are never asked for. A request body the data plane read whole before passing it on (a model's
//! execution inputs) is digested too, and the entry and the receipt cover it with the response.

use std::time::Instant;

use serde_json::json;
use twinport_contracts::receipt::{AccessReceipt, RequestBody, RECEIPT_TYPE};

use super::problem::Refusal;
use super::tee::Outcome;
use crate::audit::{AuditEvent, EventKind, ReceiptRow};
use crate::dataplane::DataPlaneState;

/// What is known about one request, filled in as the checks pass.
#[derive(Debug, Clone)]
pub struct AccessLine {
    pub request_id: String,
    pub method: String,
    /// Below the data address, with the query.
    pub path: String,
    pub started: Instant,
    pub started_at: time::OffsetDateTime,
    pub partner: Option<String>,
    pub transfer: Option<String>,
    pub agreement: Option<String>,
    pub resource: Option<String>,
    pub purpose: Option<String>,
    /// The request body, when it was read whole before being passed on (a model's execution inputs).
    pub request_body: Option<RequestBody>,
    /// On a model served as OGC API - Processes: the process the call names, and the job.
    pub process: Option<String>,
    pub job: Option<String>,
}

impl AccessLine {
    /// A line for a request that has just arrived; the rest is filled in as the checks pass.
    pub fn new(method: String, path: String) -> AccessLine {
        AccessLine {
            request_id: new_request_id(),
            method,
            path,
            started: Instant::now(),
            started_at: time::OffsetDateTime::now_utc(),
            partner: None,
            transfer: None,
            agreement: None,
            resource: None,
            purpose: None,
            request_body: None,
            process: None,
            job: None,
        }
    }
}

/// A new request id: a UUIDv7, ordered by time, so the receipt rows keyed by it are appended at the end of their
/// index instead of at a random page of it (random v4 ids cost the data plane a sixth of its throughput, measured).
pub fn new_request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn event(line: &AccessLine, mut details: serde_json::Value) -> AuditEvent {
    // Only where there is something to say, so the entries of other accesses keep their shape.
    if let Some(body) = &line.request_body {
        details["request_bytes"] = json!(body.bytes);
        details["request_sha256"] = json!(body.sha256);
        if let Some(canonical) = &body.canonical_sha256 {
            details["inputs_sha256"] = json!(canonical);
        }
    }
    if let Some(process) = &line.process {
        details["process"] = json!(process);
    }
    if let Some(job) = &line.job {
        details["job"] = json!(job);
    }
    let mut e = AuditEvent::new(EventKind::DataAccess, details);
    e.partner = line.partner.clone();
    e.transfer = line.transfer.clone();
    e.agreement = line.agreement.clone();
    e.resource = line.resource.clone();
    e.purpose = line.purpose.clone();
    e
}

/// Records a refused (or failed-before-the-first-byte) request; the refusal is answered whatever happens here.
pub async fn refusal(state: &DataPlaneState, line: &AccessLine, refusal: &Refusal) {
    let details = json!({
        "request_id": line.request_id,
        "method": line.method,
        "path": line.path,
        "status": refusal.status.as_u16(),
        "outcome": "refused",
        "problem": refusal.slug,
        "detail": refusal.detail,
        "reasons": refusal.reasons,
        "bytes": 0,
        "duration_ms": line.started.elapsed().as_millis() as u64,
        "complete": false,
    });
    if let Err(e) = state.audit().append(event(line, details)).await {
        tracing::error!(error = %e, request = %line.request_id, "cannot record a refused data access");
    }
}

/// Records a served response in the background once its body ended (the tee's end, which cannot wait), then wakes
/// whoever waits for its receipt. Tracked by the data plane, so a stop waits for it before the store closes.
pub fn served_later(state: DataPlaneState, line: AccessLine, status: u16, outcome: Outcome) {
    if tokio::runtime::Handle::try_current().is_err() {
        tracing::error!(request = %line.request_id, "no runtime to record a data access");
        return;
    }
    let owner = state.clone();
    owner.data_plane().spawn_tracked(async move {
        if let Err(e) = served(&state, &line, status, &outcome).await {
            tracing::error!(error = %e, request = %line.request_id, "cannot record a data access");
        }
        state.data_plane().pending().done(&line.request_id);
    });
}

/// Records a served response once its body ended, with its receipt (signed when fetched) in the same transaction.
pub async fn served(
    state: &DataPlaneState,
    line: &AccessLine,
    status: u16,
    outcome: &Outcome,
) -> Result<AccessReceipt, String> {
    let finished_at = time::OffsetDateTime::now_utc();
    let details = json!({
        "request_id": line.request_id,
        "method": line.method,
        "path": line.path,
        "status": status,
        "outcome": "served",
        "bytes": outcome.bytes,
        "sha256": outcome.sha256,
        "complete": outcome.complete,
        "duration_ms": line.started.elapsed().as_millis() as u64,
    });
    let receipt = AccessReceipt {
        receipt_type: RECEIPT_TYPE.into(),
        request_id: line.request_id.clone(),
        provider: state.participant_id().to_string(),
        consumer: line.partner.clone().unwrap_or_default(),
        agreement_id: line.agreement.clone().unwrap_or_default(),
        transfer_id: line.transfer.clone().unwrap_or_default(),
        method: line.method.clone(),
        path: line.path.clone(),
        status,
        bytes: outcome.bytes,
        sha256: outcome.sha256.clone(),
        complete: outcome.complete,
        started_at: rfc3339(line.started_at),
        finished_at: rfc3339(finished_at),
        audit_index: None,
        request: line.request_body.clone().map(Box::new),
    };
    let index = state
        .audit()
        .append_with_receipt(
            event(line, details),
            ReceiptRow::Issued(receipt.clone()),
            true,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(AccessReceipt {
        audit_index: Some(index),
        ..receipt
    })
}

#[cfg(test)]
mod tests {
    use super::new_request_id;

    #[test]
    fn request_ids_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..1000).map(|_| new_request_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(uuid::Uuid::parse_str(&ids[0]).unwrap().get_version_num(), 7);
    }
}
