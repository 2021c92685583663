//! DSP 2025-1: "a state changes when the counterparty acknowledges the message". A message we send that moves its
//! process (an agreement, a FINALIZED event, a start, a termination…) is queued naming the state it leads to; the
//! process keeps its acknowledged state until the partner answers 2xx, and only then moves. Until then the
//! transition is *pending*: operators see it, partners' messages are judged without it, and it survives a restart
//! in the outbox.
//!
//! The acknowledged move is itself checked by the pure state machine with us as sender: if a partner's message
//! moved the process meanwhile (it terminated while our agreement was in flight), the late acknowledgement changes
//! nothing.

use serde_json::Value;
use twinport_contracts::negotiation::{self, NegotiationMessageKind as NM, NegotiationState};
use twinport_contracts::process::Role;
use twinport_contracts::transfer::{self, TransferMessageKind as TM, TransferState};

use super::Contracting;
use super::{negotiation as negotiations, transfer as transfers, ProcessError, PROVIDER};
use crate::storage::{Change, NegotiationRecord, OutboxMessage, TransferRecord};

/// A transition waiting for the partner's acknowledgement, as operators see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Pending {
    /// The message sent.
    pub message: String,
    /// The state the process reaches when the partner acknowledges it.
    pub to: String,
    /// When the message was queued.
    pub since: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Pending {
    /// The process's oldest pending transition among its queued messages.
    pub fn of(messages: &[OutboxMessage]) -> Option<Pending> {
        messages
            .iter()
            .find(|m| m.is_pending_transition())
            .map(|m| Pending {
                message: m.kind.clone(),
                to: m.transition_to.clone().unwrap_or_default(),
                since: m.created_at.clone(),
                attempts: m.attempts,
                last_error: m.last_error.clone(),
            })
    }

    /// What the process waits for, in the operator's words.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "sent {}, awaiting acknowledgement since {} ({} once acknowledged), {} attempt{}",
            self.message,
            self.since,
            self.to,
            self.attempts,
            if self.attempts == 1 { "" } else { "s" }
        );
        if let Some(e) = &self.last_error {
            text.push_str(&format!(", last: {e}"));
        }
        text
    }
}

/// The state a process will be in once every message queued for it is acknowledged: what an operator action is
/// judged against, so an action right after another (start, then terminate) follows it instead of being refused.
pub async fn planned_state(
    state: &Contracting,
    process_id: &str,
    acknowledged: &str,
) -> Result<String, ProcessError> {
    let messages = state.store().outbox_for(process_id).await?;
    Ok(messages
        .iter()
        .rev()
        .find(|m| m.is_pending_transition())
        .and_then(|m| m.transition_to.clone())
        .unwrap_or_else(|| acknowledged.to_string()))
}

/// Waits, bounded by `[contracts] ack_wait_ms`, for the next change of `process_id` while a transition of it is in
/// flight; returns at once when none is. For readers that would otherwise refuse on a state about to change: the
/// consumer acknowledges our start and at once pulls data, before its acknowledgement reached our outbox.
pub async fn await_in_flight(state: &Contracting, process_id: &str) -> Result<(), ProcessError> {
    let mut changes = state.events().subscribe();
    if !state.store().outbox_in_flight(process_id).await? {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + state.settings().ack_wait;
    loop {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(Ok(e)) if e.process_id != process_id => continue,
            _ => return Ok(()),
        }
    }
}

fn our_role(role: &str) -> Role {
    if role == PROVIDER {
        Role::Provider
    } else {
        Role::Consumer
    }
}

/// The negotiation message an outbox entry carries, for the state machine.
fn negotiation_kind(kind: &str, body: &Value) -> Option<NM> {
    Some(match kind {
        "ContractRequestMessage" => NM::ContractRequest,
        "ContractOfferMessage" => NM::ContractOffer,
        "ContractAgreementMessage" => NM::ContractAgreement,
        "ContractAgreementVerificationMessage" => NM::ContractAgreementVerification,
        "ContractNegotiationTerminationMessage" => NM::Termination,
        "ContractNegotiationEventMessage" => {
            match body.get("eventType").and_then(Value::as_str)? {
                "ACCEPTED" | "dspace:ACCEPTED" => NM::AcceptedEvent,
                "FINALIZED" | "dspace:FINALIZED" => NM::FinalizedEvent,
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn transfer_kind(kind: &str) -> Option<TM> {
    Some(match kind {
        "TransferRequestMessage" => TM::TransferRequest,
        "TransferStartMessage" => TM::TransferStart,
        "TransferSuspensionMessage" => TM::TransferSuspension,
        "TransferCompletionMessage" => TM::TransferCompletion,
        "TransferTerminationMessage" => TM::TransferTermination,
        _ => return None,
    })
}

/// What becomes of the pending transition of a message.
enum Outcome {
    /// The partner acknowledged it: the process moves if the state machine still allows it.
    Acknowledged,
    /// The partner refused it for good (or never answered): only a termination still ends the process here,
    /// since we decided to end it and nothing more will be exchanged.
    Abandoned(String),
}

/// Applies the transition of a message the partner acknowledged. Called before the message is marked delivered,
/// so a crash in between re-sends it and the (idempotent) acknowledgement applies it then.
pub async fn acknowledged(state: &Contracting, m: &OutboxMessage) {
    settle(state, m, Outcome::Acknowledged).await
}

/// Records that a message's pending transition will not happen: the partner refused it for good.
pub async fn abandoned(state: &Contracting, m: &OutboxMessage, error: &str) {
    settle(state, m, Outcome::Abandoned(error.to_string())).await
}

async fn settle(state: &Contracting, m: &OutboxMessage, outcome: Outcome) {
    let Some(to) = m.transition_to.as_deref() else {
        return;
    };
    for _ in 0..6 {
        let result = match state.store().negotiation(&m.process_id).await {
            Ok(Some(n)) => settle_negotiation(state, n, m, to, &outcome).await,
            Ok(None) => match state.store().transfer(&m.process_id).await {
                Ok(Some(t)) => settle_transfer(state, t, m, to, &outcome).await,
                Ok(None) => return,
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(()) => return,
            Err(ProcessError::Conflict) => continue,
            Err(e) => {
                tracing::error!(process = %m.process_id, kind = %m.kind, error = %e, "cannot apply an acknowledged transition");
                return;
            }
        }
    }
    tracing::error!(process = %m.process_id, kind = %m.kind, "an acknowledged transition kept conflicting");
}

async fn settle_negotiation(
    state: &Contracting,
    mut n: NegotiationRecord,
    m: &OutboxMessage,
    to: &str,
    outcome: &Outcome,
) -> Result<(), ProcessError> {
    let current: NegotiationState = n
        .state
        .parse()
        .map_err(|_| ProcessError::Internal(format!("stored state {:?}", n.state)))?;
    if current.as_str() == to {
        return Ok(());
    }
    let from = n.state.clone();
    let change = match outcome {
        Outcome::Acknowledged => {
            let allowed = negotiation_kind(&m.kind, &m.body)
                .map(|kind| negotiation::transition(Some(current), kind, our_role(&n.role)));
            match allowed {
                Some(Ok(next)) if next.as_str() == to => Change::new().history(
                    Some(&from),
                    to,
                    format!("{} acknowledged {}", n.partner, m.kind),
                    None,
                ),
                _ => {
                    return stale(state, &n.id, &from, m).await;
                }
            }
        }
        Outcome::Abandoned(error) if to == NegotiationState::Terminated.as_str() => {
            if current.is_terminal() {
                return Ok(());
            }
            Change::new().history(
                Some(&from),
                to,
                format!(
                    "terminated here: {} never acknowledged our termination",
                    n.partner
                ),
                Some(error.clone()),
            )
        }
        Outcome::Abandoned(_) => return Ok(()),
    };
    n.state = to.to_string();
    if NegotiationState::Terminated.as_str() == to || NegotiationState::Finalized.as_str() == to {
        n.waiting_for = None;
    }
    negotiations::save(state, n, change).await.map(|_| ())
}

async fn settle_transfer(
    state: &Contracting,
    mut t: TransferRecord,
    m: &OutboxMessage,
    to: &str,
    outcome: &Outcome,
) -> Result<(), ProcessError> {
    let current: TransferState = t
        .state
        .parse()
        .map_err(|_| ProcessError::Internal(format!("stored state {:?}", t.state)))?;
    if current.as_str() == to {
        return Ok(());
    }
    let from = t.state.clone();
    let change = match outcome {
        Outcome::Acknowledged => {
            let allowed = transfer_kind(&m.kind)
                .map(|kind| transfer::transition(Some(current), kind, our_role(&t.role)));
            match allowed {
                Some(Ok(next)) if next.as_str() == to => Change::new().history(
                    Some(&from),
                    to,
                    format!("{} acknowledged {}", t.partner, m.kind),
                    None,
                ),
                _ => return stale(state, &t.id, &from, m).await,
            }
        }
        Outcome::Abandoned(error) if to == TransferState::Terminated.as_str() => {
            if current.is_terminal() {
                return Ok(());
            }
            Change::new().history(
                Some(&from),
                to,
                format!(
                    "terminated here: {} never acknowledged our termination",
                    t.partner
                ),
                Some(error.clone()),
            )
        }
        Outcome::Abandoned(_) => return Ok(()),
    };
    t.state = to.to_string();
    let terminal: TransferState = to
        .parse()
        .map_err(|_| ProcessError::Internal(format!("queued state {to:?}")))?;
    if terminal.is_terminal() {
        t.token_hash = None;
    }
    let t = transfers::save(state, t, change).await?;
    transfers::after_acknowledged(state, &t);
    Ok(())
}

/// The partner acknowledged a message after the process had moved on (it terminated meanwhile): noted, not applied.
async fn stale(
    state: &Contracting,
    process_id: &str,
    current: &str,
    m: &OutboxMessage,
) -> Result<(), ProcessError> {
    state
        .store()
        .note(
            process_id,
            current,
            &format!(
                "{} acknowledged late; the process is {current} now, so it stays",
                m.kind
            ),
            None,
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_negotiation_message_we_send_maps_to_its_kind() {
        for kind in NM::ALL {
            let (name, body) = match kind {
                NM::AcceptedEvent => (
                    "ContractNegotiationEventMessage",
                    json!({"eventType": "ACCEPTED"}),
                ),
                NM::FinalizedEvent => (
                    "ContractNegotiationEventMessage",
                    json!({"eventType": "FINALIZED"}),
                ),
                other => (other.name(), json!({})),
            };
            assert_eq!(negotiation_kind(name, &body), Some(kind), "{name}");
        }
        assert_eq!(
            negotiation_kind(
                "ContractNegotiationEventMessage",
                &json!({"eventType": "OTHER"})
            ),
            None
        );
    }

    #[test]
    fn every_transfer_message_we_send_maps_to_its_kind() {
        for kind in [
            TM::TransferRequest,
            TM::TransferStart,
            TM::TransferSuspension,
            TM::TransferCompletion,
            TM::TransferTermination,
        ] {
            assert_eq!(transfer_kind(kind.name()), Some(kind));
        }
    }

    #[test]
    fn the_pending_view_names_message_time_state_and_attempts() {
        let p = Pending {
            message: "ContractAgreementMessage".into(),
            to: "AGREED".into(),
            since: "2026-12-06T10:00:00Z".into(),
            attempts: 3,
            last_error: Some("HTTP 503: busy".into()),
        };
        assert_eq!(
            p.describe(),
            "sent ContractAgreementMessage, awaiting acknowledgement since 2026-12-06T10:00:00Z (AGREED once acknowledged), 3 attempts, last: HTTP 503: busy"
        );
    }
}
