//! What the consumer records about each access through its data plane: a `DataAccess` entry in its own audit log
//! (the same digest the provider's entry and receipt carry, so the two logs can be compared) with the receipt kept
//! in the same transaction, and a `ReceiptReceived` entry when a receipt arrived. A receipt that does not verify
//! is an alarm: the application already has the body, so the entry and the log say so loudly.

use serde_json::json;

use super::receipts::{ReceiptCheck, StoredReceipt};
use crate::audit::{AuditEvent, EventKind, ReceiptRow};
use crate::dataplane::DataPlaneState;
use crate::storage::TransferRecord;

/// One request as the consumer saw it.
pub struct Access {
    pub transfer: TransferRecord,
    /// The provider's request id (`twinport-request-id`), when it sent one.
    pub request_id: Option<String>,
    pub method: String,
    /// Path below the data address, with the query string (`/entities?type=Road`).
    pub path: String,
    pub status: u16,
    /// Body bytes received (and handed on).
    pub bytes: u64,
    /// Lowercase hex SHA-256 of those bytes.
    pub sha256: String,
    /// False when the body ended early (the provider broke off, the application or the sender went away).
    pub complete: bool,
    pub started_at: String,
    /// Where the provider said the receipt can be fetched.
    pub receipt_url: Option<String>,
    /// The credential the receipt is fetched with (never recorded).
    pub token: String,
    /// The data address endpoint the request went to.
    pub endpoint: String,
    /// Size and SHA-256 of the request body sent, when one was sent whole.
    pub request_body: Option<(u64, String)>,
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Records the access; `check` is `None` when no receipt was looked for (the body was cut short, or the provider
/// could not be reached). Failures to record are logged.
pub async fn record_access(state: &DataPlaneState, access: &Access, check: Option<ReceiptCheck>) {
    let t = &access.transfer;
    let receipt_json = match &check {
        None => json!({"verified": false, "problem": if access.status == 0 || !access.complete {
            "no receipt fetched: the response did not complete"
        } else {
            "no receipt fetched"
        }}),
        Some(c) => json!({"verified": c.verified, "problem": c.problem}),
    };
    let verified = check.as_ref().is_some_and(|c| c.verified);
    let mut details = json!({
        "side": "consumer",
        "request_id": access.request_id,
        "method": access.method,
        "path": access.path,
        "status": access.status,
        "bytes": access.bytes,
        "sha256": access.sha256,
        "complete": access.complete,
        "provider_transfer": t.provider_pid,
        "receipt": receipt_json,
    });
    // Only where there is something to say, so the entries of other accesses keep their shape.
    if let Some((bytes, sha256)) = &access.request_body {
        details["request_bytes"] = json!(bytes);
        details["request_sha256"] = json!(sha256);
    }
    // What the provider passed on to its platform (a model's inputs in RFC 8785 form), as its verified receipt
    // states it: the same digest in both logs.
    if let Some(canonical) = check
        .as_ref()
        .filter(|c| c.verified)
        .and_then(|c| c.receipt.as_ref())
        .and_then(|r| r.receipt.request.as_ref())
        .and_then(|r| r.canonical_sha256.as_ref())
    {
        details["inputs_sha256"] = json!(canonical);
    }
    if let Some(c) = check
        .as_ref()
        .filter(|c| !c.verified && c.receipt.is_some())
    {
        details["alarm"] = json!(format!(
            "receipt from {} does not verify: {}",
            t.partner,
            c.problem.as_deref().unwrap_or("unknown")
        ));
        tracing::error!(
            transfer = %t.id,
            partner = %t.partner,
            request_id = ?access.request_id,
            problem = ?c.problem,
            "ALARM: the provider's receipt does not verify; the application already received the body"
        );
    } else if !verified && access.complete && access.status != 0 {
        tracing::warn!(transfer = %t.id, partner = %t.partner, problem = ?check.as_ref().and_then(|c| c.problem.clone()), "access without a verified receipt");
    }
    let mut event = AuditEvent::new(EventKind::DataAccess, details);
    event.partner = Some(t.partner.clone());
    event.agreement = Some(t.agreement_id.clone());
    event.transfer = Some(t.id.clone());
    // The receipt is kept in the transaction of the entry recording its arrival, or without one (the fetch
    // failed) with the access's entry; a refusal or failure the provider issued no receipt for is in the entry
    // only. So once a receipt can be listed, every entry about it is in the log.
    let stored = |c: &ReceiptCheck, audit_index: Option<u64>| StoredReceipt {
        request_id: access.request_id.clone(),
        received_at: now(),
        started_at: access.started_at.clone(),
        method: access.method.clone(),
        path: access.path.clone(),
        status: access.status,
        bytes: access.bytes,
        sha256: access.sha256.clone(),
        verified: c.verified,
        problem: c.problem.clone(),
        audit_index,
        receipt: c.receipt.clone(),
    };
    let kept = |c: &ReceiptCheck, audit_index: Option<u64>| ReceiptRow::Received {
        transfer_id: t.id.clone(),
        record: serde_json::to_value(stored(c, audit_index)).unwrap_or_default(),
    };
    let audit = state.audit();
    let appended = match &check {
        Some(c) if c.receipt.is_none() && access.receipt_url.is_some() => {
            audit.append_with_receipt(event, kept(c, None), false).await
        }
        _ => audit.append(event).await,
    };
    let index = match appended {
        Ok(i) => Some(i),
        Err(e) => {
            tracing::error!(transfer = %t.id, error = %e, "cannot record a data access");
            None
        }
    };
    let Some(check) = check else { return };
    if let Some(receipt) = &check.receipt {
        let mut event = AuditEvent::new(
            EventKind::ReceiptReceived,
            json!({
                "request_id": receipt.receipt.request_id,
                "receipt": crate::audit::digest(&serde_json::to_value(receipt).unwrap_or_default()),
                "provider_audit_index": receipt.receipt.audit_index,
                "verified": check.verified,
                "problem": check.problem,
                "access_entry": index,
            }),
        );
        event.partner = Some(t.partner.clone());
        event.agreement = Some(t.agreement_id.clone());
        event.transfer = Some(t.id.clone());
        if let Err(e) = audit
            .append_with_receipt(event, kept(&check, index), false)
            .await
        {
            tracing::error!(transfer = %t.id, error = %e, "cannot record a received receipt");
        }
    }
}

/// Records a push refused before its body was written: with the transfer when the token identified one (the
/// partner and agreement then come from it), otherwise only the data address that was tried.
pub async fn record_refused_push(
    state: &DataPlaneState,
    consumer_pid: &str,
    transfer: Option<&TransferRecord>,
    refusal: &crate::dataplane::problem::Refusal,
) {
    // Whoever sent it chose the address: keep the entry small whatever they tried.
    let tried: String = consumer_pid.chars().take(200).collect();
    let details = json!({
        "side": "consumer",
        "push": tried,
        "status": refusal.status.as_u16(),
        "outcome": "refused",
        "problem": refusal.slug,
        "detail": refusal.detail,
        "bytes": 0,
        "complete": false,
    });
    let mut event = AuditEvent::new(EventKind::DataAccess, details);
    if let Some(t) = transfer {
        event.partner = Some(t.partner.clone());
        event.agreement = Some(t.agreement_id.clone());
        event.transfer = Some(t.id.clone());
    }
    if let Err(e) = state.audit().append(event).await {
        tracing::error!(transfer = %consumer_pid, error = %e, "cannot record a refused push");
    }
}
