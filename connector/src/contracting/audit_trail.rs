//! What a negotiation or transfer change leaves in the audit log: each message received with the transition it
//! caused (and the digest of the message, so the sender can match its receipt), each policy decision (outcome, deciding rules, digest of the full compliance report), each agreement
//! with its signatures, and each transfer state change. Recorded after the change commits and before the
//! partner's request is answered, so an acknowledged message always has its entry.

use serde_json::{json, Value};

use super::Contracting;
use super::ProcessError;
use crate::audit::{digest, received};
use crate::audit::{AuditEvent, EventKind};
use crate::storage::Change;

/// The process a change belongs to, as the log indexes it.
pub struct Process<'a> {
    pub id: &'a str,
    pub protocol: &'a str,
    pub partner: &'a str,
    pub resource: Option<&'a str>,
    pub agreement: Option<&'a str>,
    pub transfer: Option<&'a str>,
    pub purpose: Option<&'a str>,
}

impl Process<'_> {
    fn event(&self, kind: EventKind, details: Value) -> AuditEvent {
        let mut e = AuditEvent::new(kind, details);
        e.partner = Some(self.partner.to_string());
        e.resource = self.resource.map(str::to_string);
        e.agreement = self.agreement.map(str::to_string);
        e.transfer = self.transfer.map(str::to_string);
        e.purpose = self.purpose.map(str::to_string);
        e
    }
}

pub async fn record(
    state: &Contracting,
    p: &Process<'_>,
    change: &Change,
) -> Result<(), ProcessError> {
    let mut events = Vec::new();
    for (from, to, event, detail) in &change.history {
        let transition = json!({"process": p.id, "protocol": p.protocol, "from": from, "to": to, "event": event});
        if let Some(report) = detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .filter(|r| r.get("decision").is_some())
        {
            events.push(p.event(
                EventKind::PolicyDecision,
                json!({
                    "process": p.id,
                    "scope": report["scope"],
                    "decision": report["decision"],
                    "decidingRules": report["decidingRules"],
                    "policy": report["policyId"],
                    "report": digest(&report),
                }),
            ));
        }
        if event.starts_with("received ") {
            let mut transition = transition;
            // The digest of the message as received lets the sender check that a receipt is for its own message.
            if let Some(d) = received::message_digest() {
                transition["body"] = Value::String(d);
            }
            events.push(p.event(EventKind::DspMessageReceived, transition));
        } else if p.protocol == "transfer" {
            events.push(p.event(EventKind::TransferState, transition));
        }
    }
    if let Some(a) = &change.agreement {
        events.push(p.event(
            EventKind::Agreement,
            json!({
                "agreement": a.id,
                "target": a.target,
                "provider": a.provider,
                "consumer": a.consumer,
                "policy": a.policy_id,
                "policyVersion": a.policy_version,
                "body": digest(&a.body),
                "providerSignature": a.provider_signature,
                "consumerSignature": a.consumer_signature,
            }),
        ));
    }
    for e in events {
        let received = e.kind == EventKind::DspMessageReceived;
        let index = state
            .audit()
            .append(e)
            .await
            .map_err(|e| ProcessError::Internal(format!("audit log: {e}")))?;
        if received {
            received::note_entry(index);
        }
    }
    Ok(())
}

/// A countersignature added to a stored agreement.
pub async fn record_countersignature(
    state: &Contracting,
    p: &Process<'_>,
    agreement: &str,
    signature: &str,
) -> Result<(), ProcessError> {
    let e = p.event(
        EventKind::Agreement,
        json!({"agreement": agreement, "consumerSignature": signature}),
    );
    state
        .audit()
        .append(e)
        .await
        .map(|_| ())
        .map_err(|e| ProcessError::Internal(format!("audit log: {e}")))
}
