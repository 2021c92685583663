//! Contract negotiation in both roles. Each function handles one incoming message or one operator action: it
//! checks the transition against the state machine, decides (policy, signatures), and commits the new state with
//! its history and outgoing messages in one step.

use serde_json::{json, Value};
use twinport_contracts::message::DspMessage;
use twinport_contracts::negotiation::{
    sign_agreement, transition, verify_agreement_signature, Agreement, ContractAgreementMessage,
    ContractAgreementVerificationMessage, ContractNegotiation, ContractNegotiationEventMessage,
    ContractNegotiationTerminationMessage, ContractOfferKind, ContractOfferMessage,
    ContractRequestKind, ContractRequestMessage, NegotiationEvent, NegotiationMessageKind as M,
    NegotiationState,
};
use twinport_contracts::process::Role;
use twinport_policy::Scope;

use super::acceptance::{self, Verdict};
use super::creation::Acknowledged;
use super::decision::{facts, FactsInput};
use super::error::Protocol;
use super::offers::{self, OurOffer};
use super::outbox::{CONSUMER_PID_PLACEHOLDER, DSP_BASE_PLACEHOLDER, PROVIDER_PID_PLACEHOLDER};
use super::Contracting;
use super::{audit_trail, new_pid, ProcessError, CONSUMER, PROVIDER};
use crate::catalogue::resource::Approval;
use crate::storage::{AgreementRecord, Change, NegotiationRecord, NewOutbox};

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The purpose a consumer states with its request: an IRI (or DPV term), so it obeys the id rule like every
/// other name a partner sends.
fn requested_purpose(body: &Value) -> Result<Option<String>, String> {
    match body.get(super::PURPOSE_PROPERTY) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => twinport_contracts::ids::check_id(p)
            .map(|()| Some(p.clone()))
            .map_err(|e| format!("{}: {e}", super::PURPOSE_PROPERTY)),
        Some(_) => Err(format!("{}: expected a string", super::PURPOSE_PROPERTY)),
    }
}

fn invalid(n: &NegotiationRecord, code: &'static str, reason: impl Into<String>) -> ProcessError {
    ProcessError::invalid(
        Protocol::Negotiation,
        n.provider_pid.as_deref(),
        n.consumer_pid.as_deref(),
        code,
        reason,
    )
}

fn state_of(n: &NegotiationRecord) -> Result<NegotiationState, ProcessError> {
    n.state
        .parse()
        .map_err(|_| ProcessError::Internal(format!("stored state {:?} is unknown", n.state)))
}

/// Refuses a follow-up message whose body names another process than the one at its path.
fn same_process(n: &NegotiationRecord, body: &Value) -> Result<(), ProcessError> {
    super::pids::check(n.provider_pid.as_deref(), n.consumer_pid.as_deref(), body)
        .map_err(|reason| invalid(n, "pid-mismatch", reason))
}

/// Checks a transition, answering 400 with the state machine's reason when it is not allowed.
fn check(
    n: &NegotiationRecord,
    message: M,
    sender: Role,
) -> Result<NegotiationState, ProcessError> {
    transition(Some(state_of(n)?), message, sender)
        .map_err(|e| invalid(n, "invalid-transition", e.to_string()))
}

/// `n` as it will be once the partner acknowledges every message we queued: what an operator action is judged
/// against, so it follows the messages already on their way.
async fn planned(
    state: &Contracting,
    n: &NegotiationRecord,
) -> Result<NegotiationRecord, ProcessError> {
    let mut planned = n.clone();
    planned.state = super::acknowledgement::planned_state(state, &n.id, &n.state).await?;
    Ok(planned)
}

/// The negotiation `pid` names, if it belongs to `partner`. Our pids are unique UUID IRIs, so a pid is either one
/// we gave as provider or one we gave as consumer.
pub async fn lookup(
    state: &Contracting,
    partner: &str,
    pid: &str,
) -> Result<NegotiationRecord, ProcessError> {
    let found = match state
        .store()
        .process_by_pid::<NegotiationRecord>(PROVIDER, pid)
        .await?
    {
        Some(n) => Some(n),
        None => {
            state
                .store()
                .process_by_pid::<NegotiationRecord>(CONSUMER, pid)
                .await?
        }
    };
    // Someone else's negotiation is reported exactly like a missing one.
    found
        .filter(|n| n.partner == partner)
        .ok_or(ProcessError::NotFound)
}

/// The ACK body for a negotiation as the partner should see it.
pub fn ack(n: &NegotiationRecord, state: NegotiationState) -> Value {
    ContractNegotiation {
        provider_pid: n.provider_pid.clone().unwrap_or_default(),
        consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
        state,
    }
    .to_json()
}

/// Saves a changed negotiation and wakes the outbox and any waiter.
pub(super) async fn save(
    state: &Contracting,
    mut n: NegotiationRecord,
    change: Change,
) -> Result<NegotiationRecord, ProcessError> {
    let change = super::follow_up::with_received(change, &n.id);
    n.version += 1;
    if !state.store().update_process(&n, &change).await? {
        return Err(ProcessError::Conflict);
    }
    audit_trail::record(state, &process(&n), &change).await?;
    state.after_change(&n.id, &n.state, !change.outbox.is_empty());
    Ok(n)
}

/// How the audit log indexes a negotiation.
fn process(n: &NegotiationRecord) -> audit_trail::Process<'_> {
    audit_trail::Process {
        id: &n.id,
        protocol: "negotiation",
        partner: &n.partner,
        resource: Some(&n.dataset),
        agreement: n.agreement_id.as_deref(),
        transfer: None,
        purpose: n.purpose.as_deref(),
    }
}

async fn insert(
    state: &Contracting,
    n: NegotiationRecord,
    change: Change,
) -> Result<NegotiationRecord, ProcessError> {
    state.store().insert_process(&n, &change).await?;
    audit_trail::record(state, &process(&n), &change).await?;
    state.after_change(&n.id, &n.state, !change.outbox.is_empty());
    Ok(n)
}

fn url(base: Option<&str>, path: &str) -> String {
    match base {
        Some(b) => format!("{}{path}", b.trim_end_matches('/')),
        None => format!("{DSP_BASE_PLACEHOLDER}{path}"),
    }
}

/// A message from us to the partner of `n`.
fn to_partner(
    n: &NegotiationRecord,
    kind: &str,
    path: String,
    body: Value,
    signature: Option<String>,
) -> NewOutbox {
    NewOutbox {
        partner: n.partner.clone(),
        kind: kind.to_string(),
        url: url(n.peer_address.as_deref(), &path),
        body,
        signature,
        transition_to: None,
    }
}

fn termination(n: &NegotiationRecord, code: &str, reasons: Vec<String>) -> NewOutbox {
    let body = ContractNegotiationTerminationMessage {
        provider_pid: n.provider_pid.clone().unwrap_or_default(),
        consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
        code: Some(code.to_string()),
        reason: reasons,
    }
    .to_json();
    // Before the partner acknowledged the process its pid is not known yet; the outbox fills it in at delivery,
    // after the (earlier, same-process) message that creates the process has been acknowledged.
    let path = if n.role == PROVIDER {
        format!(
            "/negotiations/{}/termination",
            n.consumer_pid
                .as_deref()
                .unwrap_or(CONSUMER_PID_PLACEHOLDER)
        )
    } else {
        format!(
            "/negotiations/{}/termination",
            n.provider_pid
                .as_deref()
                .unwrap_or(PROVIDER_PID_PLACEHOLDER)
        )
    };
    to_partner(n, "ContractNegotiationTerminationMessage", path, body, None)
        .reaching(NegotiationState::Terminated.as_str())
}

// ---- provider side -------------------------------------------------------------------------------------------

/// `POST <base>/negotiations/request`: a consumer asks for a contract.
pub async fn on_initial_request(
    state: &Contracting,
    partner: &str,
    body: &Value,
) -> Result<Acknowledged, ProcessError> {
    let msg = ContractRequestMessage::from_json(body).map_err(|e| {
        ProcessError::invalid(
            Protocol::Negotiation,
            None,
            body.get("consumerPid").and_then(Value::as_str),
            "malformed-message",
            e.to_string(),
        )
    })?;
    let ContractRequestKind::Initial { callback_address } = &msg.kind else {
        return Err(ProcessError::invalid(
            Protocol::Negotiation,
            None,
            Some(&msg.consumer_pid),
            "malformed-message",
            "an initial ContractRequestMessage carries callbackAddress, not providerPid",
        ));
    };
    if let Some(why) = super::peer_urls::refusal(state, partner, callback_address) {
        return Err(ProcessError::invalid(
            Protocol::Negotiation,
            None,
            Some(&msg.consumer_pid),
            "invalid-callback-address",
            format!("we do not call this callbackAddress: {why}"),
        ));
    }
    let _creating = state
        .creations()
        .lock("negotiation", partner, &msg.consumer_pid)
        .await;
    if let Some(existing) = state
        .store()
        .process_by_partner_pid::<NegotiationRecord>(PROVIDER, partner, &msg.consumer_pid)
        .await?
    {
        // A retry after a lost acknowledgement (or a duplicate in a burst): the process it opened, not another.
        return Ok(Acknowledged {
            body: ack(&existing, state_of(&existing)?),
            created: false,
            process_id: existing.id.clone(),
        });
    }
    let offer_id = msg.offer_id().unwrap_or_default().to_string();
    let Some(ours) = offers::find(state, partner, msg.offer_target(), &offer_id).await? else {
        return Err(ProcessError::invalid(
            Protocol::Negotiation,
            None,
            Some(&msg.consumer_pid),
            "unknown-offer",
            format!(
                "no offer {offer_id} for dataset {} is available to you",
                msg.offer_target().unwrap_or("(none)")
            ),
        ));
    };
    let purpose = requested_purpose(body).map_err(|reason| {
        ProcessError::invalid(
            Protocol::Negotiation,
            None,
            Some(&msg.consumer_pid),
            "malformed-message",
            reason,
        )
    })?;
    let at = now();
    let n = NegotiationRecord {
        id: new_pid(),
        role: PROVIDER.into(),
        provider_pid: None,
        consumer_pid: Some(msg.consumer_pid.clone()),
        partner: partner.to_string(),
        state: NegotiationState::Requested.as_str().into(),
        dataset: ours.resource.id.clone(),
        offer: msg.offer.clone(),
        offer_by: CONSUMER.into(),
        peer_address: Some(callback_address.trim_end_matches('/').to_string()),
        purpose,
        agreement_id: None,
        waiting_for: None,
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let mut n = n;
    n.provider_pid = Some(n.id.clone());
    let received = Change::new().history(
        None,
        "REQUESTED",
        format!("received ContractRequestMessage from {partner}"),
        Some(format!("offer {offer_id}")),
    );
    let (n, change) = respond_to_request(state, n, &ours, received).await?;
    // Our reaction (offer, agreement, termination) goes out only after the consumer has our answer with our pid.
    let created = n.id.clone();
    state.creations().hold_until_answered(&created);
    let n = insert(state, n, change)
        .await
        .inspect_err(|_| state.creations().answered(&created))?;
    Ok(Acknowledged {
        body: ack(&n, NegotiationState::Requested),
        created: true,
        process_id: n.id.clone(),
    })
}

/// `POST <base>/negotiations/:providerPid/request`: a counter-request from the consumer.
pub async fn on_counter_request(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
) -> Result<(), ProcessError> {
    let n = lookup(state, partner, pid).await?;
    if n.role != PROVIDER {
        return Err(invalid(
            &n,
            "wrong-role",
            "contract requests go to the provider",
        ));
    }
    let msg = ContractRequestMessage::from_json(body)
        .map_err(|e| invalid(&n, "malformed-message", e.to_string()))?;
    same_process(&n, body)?;
    let next = check(&n, M::ContractRequest, Role::Consumer)?;
    let offer_id = msg.offer_id().unwrap_or_default().to_string();
    let Some(ours) = offers::find(state, partner, Some(&n.dataset), &offer_id).await? else {
        return Err(invalid(
            &n,
            "unknown-offer",
            format!("no offer {offer_id} for dataset {}", n.dataset),
        ));
    };
    let mut n = n;
    let from = n.state.clone();
    n.state = next.as_str().into();
    n.offer = msg.offer.clone();
    n.offer_by = CONSUMER.into();
    if let Some(p) =
        requested_purpose(body).map_err(|reason| invalid(&n, "malformed-message", reason))?
    {
        n.purpose = Some(p);
    }
    let received = Change::new().history(
        Some(&from),
        next.as_str(),
        format!("received counter ContractRequestMessage from {partner}"),
        Some(format!("offer {offer_id}")),
    );
    let (n, change) = respond_to_request(state, n, &ours, received).await?;
    save(state, n, change).await?;
    Ok(())
}

/// Decides what follows a consumer's request: a counter-offer when the terms differ from ours, a termination
/// naming the failed rule when the policy refuses, a wait for the operator, or the signed agreement.
async fn respond_to_request(
    state: &Contracting,
    mut n: NegotiationRecord,
    ours: &OurOffer,
    change: Change,
) -> Result<(NegotiationRecord, Change), ProcessError> {
    if !offers::same_terms(&n.offer, &ours.message_offer) {
        let offer = ContractOfferMessage {
            provider_pid: n.provider_pid.clone().unwrap_or_default(),
            kind: ContractOfferKind::Counter {
                consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
            },
            offer: ours.message_offer.clone(),
        };
        let path = format!(
            "/negotiations/{}/offers",
            n.consumer_pid.as_deref().unwrap_or_default()
        );
        let message = to_partner(&n, "ContractOfferMessage", path, offer.to_json(), None)
            .reaching(NegotiationState::Offered.as_str());
        let from = n.state.clone();
        n.offer = ours.message_offer.clone();
        n.offer_by = PROVIDER.into();
        n.waiting_for = Some("the partner to accept our counter-offer or counter again".into());
        let change = change
            .history(
                Some(&from),
                &from,
                "sent counter-offer (OFFERED once acknowledged): the requested terms differ from our offer",
                Some(format!(
                    "our offer {}",
                    ours.offer.offer_id(&ours.resource.id)
                )),
            )
            .send(message);
        return Ok((n, change));
    }
    decide(state, n, ours, change).await
}

/// Evaluates the negotiation scope on our offer and moves to AGREED, waits for approval, or terminates.
async fn decide(
    state: &Contracting,
    mut n: NegotiationRecord,
    ours: &OurOffer,
    change: Change,
) -> Result<(NegotiationRecord, Change), ProcessError> {
    let partner = state.partners().get(&n.partner);
    // The request builder asks for the actions the offer grants, starts the agreement now (so elapsedTime and
    // delayPeriod evaluate) and counts no access yet.
    let known = facts(FactsInput {
        partner_id: &n.partner,
        partner: partner.as_ref(),
        resource: Some(super::decision::resource_context(&ours.resource)),
        purpose: n.purpose.as_deref(),
        agreement: None,
        accesses: None,
        flow: None,
        method: None,
        duties: Default::default(),
    });
    let decided = state
        .policy()
        .decide(&ours.policy, Scope::Negotiation, &known);
    let report_json = decided.recorded();
    let report = decided.report;
    let from = n.state.clone();
    if !report.is_permit() {
        let reasons: Vec<String> = report.reasons().into_iter().take(8).collect();
        tracing::info!(negotiation = %n.id, partner = %n.partner, reasons = %reasons.join("; "), "negotiation refused by policy");
        let message = termination(&n, "policy-denied", reasons.clone());
        n.waiting_for = None;
        let change = change
            .history(
                Some(&from),
                &from,
                format!(
                    "refused by policy {} v{}; sent termination (TERMINATED once acknowledged): {}",
                    ours.offer.policy,
                    ours.policy_version,
                    reasons.join("; ")
                ),
                Some(report_json),
            )
            .send(message);
        return Ok((n, change));
    }
    if ours.offer.approval == Approval::Manual {
        n.waiting_for = Some(format!(
            "operator approval (POST /api/v1/negotiations/{}/approve)",
            n.id
        ));
        let change = change.history(
            Some(&from),
            &from,
            "policy permits; waiting for operator approval",
            Some(report_json),
        );
        return Ok((n, change));
    }
    agree(
        state,
        n,
        ours,
        change.history(Some(&from), &from, "policy permits", Some(report_json)),
    )
}

/// Builds, signs and sends the agreement.
fn agree(
    state: &Contracting,
    mut n: NegotiationRecord,
    ours: &OurOffer,
    change: Change,
) -> Result<(NegotiationRecord, Change), ProcessError> {
    let rules = offers::terms(&ours.message_offer);
    let list = |k: &str| {
        rules
            .get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let agreement = Agreement {
        id: new_pid(),
        target: n.dataset.clone(),
        assigner: state.participant_id().to_string(),
        assignee: n.partner.clone(),
        timestamp: Agreement::format_timestamp(time::OffsetDateTime::now_utc()),
        profile: None,
        permission: list("permission"),
        prohibition: list("prohibition"),
        obligation: list("obligation"),
        // The offer's policy-wide terms (conflict strategy, time zone, label) are part of what is agreed.
        terms: offers::policy_wide_terms(&ours.message_offer),
    };
    let agreement_json = agreement.to_json();
    let signature = sign_agreement(state.identity().key(), &agreement_json)
        .map_err(|e| ProcessError::Internal(e.to_string()))?;
    let message = ContractAgreementMessage {
        provider_pid: n.provider_pid.clone().unwrap_or_default(),
        consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
        agreement: agreement.clone(),
    };
    let path = format!(
        "/negotiations/{}/agreement",
        n.consumer_pid.as_deref().unwrap_or_default()
    );
    let outgoing = to_partner(
        &n,
        "ContractAgreementMessage",
        path,
        message.to_json(),
        Some(signature.clone()),
    )
    .reaching(NegotiationState::Agreed.as_str());
    let from = n.state.clone();
    n.agreement_id = Some(agreement.id.clone());
    n.waiting_for = Some("the partner's verification".into());
    let record = AgreementRecord {
        id: agreement.id.clone(),
        negotiation_id: n.id.clone(),
        provider: state.participant_id().to_string(),
        consumer: n.partner.clone(),
        target: n.dataset.clone(),
        body: agreement_json,
        policy_id: Some(ours.offer.policy.clone()),
        policy_version: Some(ours.policy_version),
        provider_signature: Some(signature),
        consumer_signature: None,
        provider_jwks: serde_json::to_value(state.identity().jwks()).ok(),
        consumer_jwks: None,
        created_at: String::new(),
    };
    let change = change
        .conclude(record)
        .history(
            Some(&from),
            &from,
            format!(
                "sent signed agreement {} (AGREED once acknowledged)",
                agreement.id
            ),
            Some(format!(
                "policy {} v{}",
                ours.offer.policy, ours.policy_version
            )),
        )
        .send(outgoing);
    Ok((n, change))
}

/// `POST <base>/negotiations/:pid/events`: ACCEPTED from a consumer (we are provider) or FINALIZED from a provider
/// (we are consumer).
pub async fn on_event(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
) -> Result<(), ProcessError> {
    let n = lookup(state, partner, pid).await?;
    let msg = ContractNegotiationEventMessage::from_json(body)
        .map_err(|e| invalid(&n, "malformed-message", e.to_string()))?;
    same_process(&n, body)?;
    match (n.role.as_str(), msg.event_type) {
        (PROVIDER, NegotiationEvent::Accepted) => {
            let next = check(&n, M::AcceptedEvent, Role::Consumer)?;
            if n.offer_by != PROVIDER {
                return Err(invalid(&n, "invalid-event", "the current offer is the consumer's own; only an offer of ours can be accepted"));
            }
            let offer_id = n
                .offer
                .get("@id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let Some(ours) = offers::find(state, partner, Some(&n.dataset), &offer_id).await?
            else {
                return Err(invalid(
                    &n,
                    "unknown-offer",
                    format!("offer {offer_id} is no longer available"),
                ));
            };
            let mut n = n;
            let from = n.state.clone();
            n.state = next.as_str().into();
            n.waiting_for = None;
            let change = Change::new().history(
                Some(&from),
                next.as_str(),
                format!("received ACCEPTED from {partner}"),
                None,
            );
            let (n, change) = decide(state, n, &ours, change).await?;
            save(state, n, change).await?;
            Ok(())
        }
        (CONSUMER, NegotiationEvent::Finalized) => {
            let next = check(&n, M::FinalizedEvent, Role::Provider)?;
            let mut n = n;
            let from = n.state.clone();
            n.state = next.as_str().into();
            n.waiting_for = None;
            let change = Change::new().history(
                Some(&from),
                next.as_str(),
                format!("received FINALIZED from {partner}"),
                None,
            );
            save(state, n, change).await?;
            Ok(())
        }
        (PROVIDER, NegotiationEvent::Finalized) => Err(invalid(
            &n,
            "invalid-event",
            "a consumer cannot send FINALIZED",
        )),
        _ => Err(invalid(
            &n,
            "invalid-event",
            "a provider cannot send ACCEPTED",
        )),
    }
}

/// `POST <base>/negotiations/:providerPid/agreement/verification`, with the consumer's countersignature.
pub async fn on_verification(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
    signature: Option<&str>,
) -> Result<(), ProcessError> {
    let n = lookup(state, partner, pid).await?;
    if n.role != PROVIDER {
        return Err(invalid(
            &n,
            "wrong-role",
            "verifications go to the provider",
        ));
    }
    ContractAgreementVerificationMessage::from_json(body)
        .map_err(|e| invalid(&n, "malformed-message", e.to_string()))?;
    same_process(&n, body)?;
    let next = check(&n, M::ContractAgreementVerification, Role::Consumer)?;
    let agreement_id = n
        .agreement_id
        .clone()
        .ok_or_else(|| ProcessError::Internal("agreed negotiation without agreement".into()))?;
    let mut record = state
        .store()
        .agreement(&agreement_id)
        .await?
        .ok_or_else(|| ProcessError::Internal("agreement missing".into()))?;
    let mut detail = "no countersignature (peer does not sign agreements)".to_string();
    if let Some(sig) = signature {
        let keys = state
            .partners()
            .directory()
            .keys(partner, false)
            .await
            .map_err(|e| ProcessError::Internal(e.to_string()))?;
        verify_agreement_signature(sig, &record.body, &keys).map_err(|e| {
            invalid(
                &n,
                "invalid-countersignature",
                format!("the countersignature does not verify: {e}"),
            )
        })?;
        record.consumer_signature = Some(sig.to_string());
        record.consumer_jwks = serde_json::to_value(&keys).ok();
        state.store().put_agreement(&record).await?;
        audit_trail::record_countersignature(state, &process(&n), &record.id, sig).await?;
        detail = "countersignature verified".into();
    }
    let mut n = n;
    let from = n.state.clone();
    // The verification is received (and acknowledged by our answer): VERIFIED. What we send next is FINALIZED, or,
    // where this city finalizes only agreements signed by both parties and this one is not, a termination.
    let (message, sent, why) = if record.consumer_signature.is_none()
        && state.settings().require_countersignature
    {
        let reason = "this connector finalizes only agreements the consumer countersigned (header twinport-agreement-signature); the verification carried none".to_string();
        (
            termination(&n, "countersignature-required", vec![reason.clone()]),
            "sent termination (TERMINATED once acknowledged): no countersignature",
            Some(reason),
        )
    } else {
        (
            event(&n, NegotiationEvent::Finalized),
            "sent FINALIZED (FINALIZED once acknowledged)",
            None,
        )
    };
    n.state = next.as_str().into();
    n.waiting_for = None;
    let change = Change::new()
        .history(
            Some(&from),
            next.as_str(),
            format!("received verification from {partner}"),
            Some(detail),
        )
        .history(Some(next.as_str()), next.as_str(), sent, why)
        .send(message);
    save(state, n, change).await?;
    Ok(())
}

/// `POST <base>/negotiations/:pid/termination`, in either role.
pub async fn on_termination(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
) -> Result<(), ProcessError> {
    let n = lookup(state, partner, pid).await?;
    let msg = ContractNegotiationTerminationMessage::from_json(body)
        .map_err(|e| invalid(&n, "malformed-message", e.to_string()))?;
    same_process(&n, body)?;
    let sender = if n.role == PROVIDER {
        Role::Consumer
    } else {
        Role::Provider
    };
    let next = check(&n, M::Termination, sender)?;
    let mut n = n;
    let from = n.state.clone();
    n.state = next.as_str().into();
    n.waiting_for = None;
    let reason = format!(
        "code {}: {}",
        msg.code.as_deref().unwrap_or("(none)"),
        msg.reason.join("; ")
    );
    let id = n.id.clone();
    save(
        state,
        n,
        Change::new().history(
            Some(&from),
            "TERMINATED",
            format!("terminated by {partner}"),
            Some(reason),
        ),
    )
    .await?;
    state
        .store()
        .outbox_cancel(&id, "ContractNegotiationTerminationMessage")
        .await?;
    Ok(())
}

// ---- consumer side -------------------------------------------------------------------------------------------

/// `POST <base>/negotiations/offers`: a provider offers us a contract.
pub async fn on_initial_offer(
    state: &Contracting,
    partner: &str,
    body: &Value,
) -> Result<Acknowledged, ProcessError> {
    let msg = ContractOfferMessage::from_json(body).map_err(|e| {
        ProcessError::invalid(
            Protocol::Negotiation,
            body.get("providerPid").and_then(Value::as_str),
            None,
            "malformed-message",
            e.to_string(),
        )
    })?;
    let ContractOfferKind::Initial { callback_address } = &msg.kind else {
        return Err(ProcessError::invalid(
            Protocol::Negotiation,
            Some(&msg.provider_pid),
            None,
            "malformed-message",
            "an initial offer carries callbackAddress",
        ));
    };
    if let Some(why) = super::peer_urls::refusal(state, partner, callback_address) {
        return Err(ProcessError::invalid(
            Protocol::Negotiation,
            Some(&msg.provider_pid),
            None,
            "invalid-callback-address",
            format!("we do not call this callbackAddress: {why}"),
        ));
    }
    let _creating = state
        .creations()
        .lock("negotiation", partner, &msg.provider_pid)
        .await;
    if let Some(existing) = state
        .store()
        .process_by_partner_pid::<NegotiationRecord>(CONSUMER, partner, &msg.provider_pid)
        .await?
    {
        return Ok(Acknowledged {
            body: ack(&existing, state_of(&existing)?),
            created: false,
            process_id: existing.id.clone(),
        });
    }
    let at = now();
    let id = new_pid();
    let n = NegotiationRecord {
        id: id.clone(),
        role: CONSUMER.into(),
        provider_pid: Some(msg.provider_pid.clone()),
        consumer_pid: Some(id.clone()),
        partner: partner.to_string(),
        state: NegotiationState::Offered.as_str().into(),
        dataset: msg.offer_target().unwrap_or_default().to_string(),
        offer: msg.offer.clone(),
        offer_by: PROVIDER.into(),
        peer_address: Some(callback_address.trim_end_matches('/').to_string()),
        purpose: None,
        agreement_id: None,
        waiting_for: Some(format!(
            "our decision: POST /api/v1/negotiations/{id}/accept or /terminate"
        )),
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let change = Change::new().history(
        None,
        "OFFERED",
        format!("received ContractOfferMessage from {partner}"),
        msg.offer_id().map(str::to_string),
    );
    let mut n = n;
    let verdict = acceptance::judge(state, partner, &msg.offer).await?;
    let change = decide_offer(&mut n, change, verdict)?;
    // Our ACCEPTED goes out only after the provider has our answer with our pid.
    let created = n.id.clone();
    state.creations().hold_until_answered(&created);
    let n = insert(state, n, change)
        .await
        .inspect_err(|_| state.creations().answered(&created))?;
    Ok(Acknowledged {
        body: ack(&n, NegotiationState::Offered),
        created: true,
        process_id: n.id.clone(),
    })
}

/// `POST <callback>/negotiations/:consumerPid/offers`: the provider counters.
pub async fn on_counter_offer(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
) -> Result<(), ProcessError> {
    let n = lookup(state, partner, pid).await?;
    if n.role != CONSUMER {
        return Err(invalid(&n, "wrong-role", "offers go to the consumer"));
    }
    let msg = ContractOfferMessage::from_json(body)
        .map_err(|e| invalid(&n, "malformed-message", e.to_string()))?;
    same_process(&n, body)?;
    let next = check(&n, M::ContractOffer, Role::Provider)?;
    // The provider offers exactly what we asked for: our operator chose these terms when requesting them.
    let verdict = if n.offer_by == CONSUMER && offers::identical_offer(&n.offer, &msg.offer) {
        Some(Verdict::Accept(
            "the offer is identical to the terms we requested".into(),
        ))
    } else {
        acceptance::judge(state, partner, &msg.offer).await?
    };
    let mut n = n;
    let from = n.state.clone();
    if n.provider_pid.is_none() {
        n.provider_pid = Some(msg.provider_pid.clone());
    }
    n.state = next.as_str().into();
    n.offer = msg.offer.clone();
    n.offer_by = PROVIDER.into();
    n.waiting_for = Some(format!(
        "our decision: POST /api/v1/negotiations/{}/accept or /terminate",
        n.id
    ));
    let change = Change::new().history(
        Some(&from),
        next.as_str(),
        format!("received counter-offer from {partner}"),
        msg.offer_id().map(str::to_string),
    );
    let change = decide_offer(&mut n, change, verdict)?;
    save(state, n, change).await?;
    Ok(())
}

/// Accepts the offer on the table at once, or records why it waits for the operator.
fn decide_offer(
    n: &mut NegotiationRecord,
    change: Change,
    verdict: Option<Verdict>,
) -> Result<Change, ProcessError> {
    match verdict {
        None => Ok(change),
        Some(Verdict::Operator(reason)) => Ok(change.history(
            Some(&n.state),
            &n.state,
            "left to the operator",
            Some(reason),
        )),
        Some(Verdict::Accept(reason)) => {
            let accepted = check(n, M::AcceptedEvent, Role::Consumer)?;
            n.waiting_for = Some("the provider's agreement".into());
            Ok(change
                .history(
                    Some(&n.state),
                    &n.state,
                    format!("accepted automatically; sent ACCEPTED ({accepted} once acknowledged)"),
                    Some(reason),
                )
                .send(accepted_event(n)))
        }
    }
}

/// Our ACCEPTED event for the provider's current offer.
fn accepted_event(n: &NegotiationRecord) -> NewOutbox {
    event(n, NegotiationEvent::Accepted)
}

/// Our negotiation event to the partner (at its own pid), reaching the state it names once acknowledged.
fn event(n: &NegotiationRecord, event_type: NegotiationEvent) -> NewOutbox {
    let reaching = match event_type {
        NegotiationEvent::Accepted => NegotiationState::Accepted,
        NegotiationEvent::Finalized => NegotiationState::Finalized,
    };
    let message = ContractNegotiationEventMessage {
        provider_pid: n.provider_pid.clone().unwrap_or_default(),
        consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
        event_type,
    };
    let theirs = if n.role == PROVIDER {
        &n.consumer_pid
    } else {
        &n.provider_pid
    };
    let path = format!(
        "/negotiations/{}/events",
        theirs.as_deref().unwrap_or_default()
    );
    to_partner(
        n,
        "ContractNegotiationEventMessage",
        path,
        message.to_json(),
        None,
    )
    .reaching(reaching.as_str())
}

/// `POST <callback>/negotiations/:consumerPid/agreement`: verify the provider's signature and terms, countersign,
/// and send our verification.
pub async fn on_agreement(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
    signature: Option<&str>,
) -> Result<(), ProcessError> {
    let n = lookup(state, partner, pid).await?;
    if n.role != CONSUMER {
        return Err(invalid(&n, "wrong-role", "agreements go to the consumer"));
    }
    let msg = ContractAgreementMessage::from_json(body)
        .map_err(|e| invalid(&n, "malformed-message", e.to_string()))?;
    same_process(&n, body)?;
    let next = check(&n, M::ContractAgreement, Role::Provider)?;
    let agreement_json = body.get("agreement").cloned().unwrap_or(Value::Null);
    let a = &msg.agreement;
    let mut problems = Vec::new();
    if a.target != n.dataset && !n.dataset.is_empty() {
        problems.push(format!(
            "agreement target {} is not the negotiated dataset {}",
            a.target, n.dataset
        ));
    }
    if a.assigner != partner {
        problems.push(format!(
            "agreement assigner {} is not the provider {partner}",
            a.assigner
        ));
    }
    if a.assignee != state.participant_id() {
        problems.push(format!(
            "agreement assignee {} is not us ({})",
            a.assignee,
            state.participant_id()
        ));
    }
    if !offers::same_terms(&agreement_json, &n.offer) {
        problems.push("agreement terms differ from the offer on the table".into());
    }
    let keys = state
        .partners()
        .directory()
        .keys(partner, false)
        .await
        .map_err(|e| ProcessError::Internal(e.to_string()))?;
    let provider_signature = signature.map(str::to_string);
    if let Some(sig) = &provider_signature {
        if let Err(e) = verify_agreement_signature(sig, &agreement_json, &keys) {
            problems.push(format!("the provider's signature does not verify: {e}"));
        }
    }
    let mut n = n;
    if n.provider_pid.is_none() {
        n.provider_pid = Some(msg.provider_pid.clone());
    }
    let from = n.state.clone();
    if !problems.is_empty() {
        // The agreement is refused: we terminate and tell the provider exactly why.
        let message = termination(&n, "agreement-rejected", problems.clone());
        n.state = next.as_str().into();
        n.waiting_for = None;
        let change = Change::new()
            .history(
                Some(&from),
                next.as_str(),
                "rejected the agreement; sent termination (TERMINATED once acknowledged)",
                Some(problems.join("; ")),
            )
            .send(message);
        // The agreement message was received; our answer to it is the termination that follows.
        save(state, n, change).await?;
        return Ok(());
    }
    let countersignature = sign_agreement(state.identity().key(), &agreement_json)
        .map_err(|e| ProcessError::Internal(e.to_string()))?;
    // Stored in the same transaction as the new state, so neither exists without the other.
    let record = AgreementRecord {
        id: a.id.clone(),
        negotiation_id: n.id.clone(),
        provider: partner.to_string(),
        consumer: state.participant_id().to_string(),
        target: a.target.clone(),
        body: agreement_json,
        policy_id: None,
        policy_version: None,
        provider_signature: provider_signature.clone(),
        consumer_signature: Some(countersignature.clone()),
        provider_jwks: serde_json::to_value(&keys).ok(),
        consumer_jwks: serde_json::to_value(state.identity().jwks()).ok(),
        created_at: String::new(),
    };
    let verification = ContractAgreementVerificationMessage {
        provider_pid: n.provider_pid.clone().unwrap_or_default(),
        consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
    };
    let path = format!(
        "/negotiations/{}/agreement/verification",
        n.provider_pid.as_deref().unwrap_or_default()
    );
    let message = to_partner(
        &n,
        "ContractAgreementVerificationMessage",
        path,
        verification.to_json(),
        Some(countersignature),
    )
    .reaching(NegotiationState::Verified.as_str());
    n.agreement_id = Some(a.id.clone());
    n.state = next.as_str().into();
    n.waiting_for = Some("the provider's FINALIZED event".into());
    let signed = if provider_signature.is_some() {
        "provider signature verified"
    } else {
        "agreement unsigned (peer does not sign agreements)"
    };
    let change = Change::new()
        .conclude(record)
        .history(
            Some(&from),
            next.as_str(),
            format!("received agreement {} from {partner}", a.id),
            Some(signed.into()),
        )
        .history(
            Some(next.as_str()),
            next.as_str(),
            "sent countersigned verification (VERIFIED once acknowledged)",
            None,
        )
        .send(message);
    save(state, n, change).await?;
    Ok(())
}

// ---- operator actions ----------------------------------------------------------------------------------------

/// Starts a negotiation with `partner` for `offer_id` of dataset `dataset` (consumer side).
pub async fn start(
    state: &Contracting,
    partner: &str,
    dataset: &str,
    offer: Value,
    purpose: Option<String>,
) -> Result<NegotiationRecord, ProcessError> {
    let id = new_pid();
    let peer = state.partners().dsp_base(partner).await;
    let mut offer = offer;
    offer["target"] = json!(dataset);
    let mut msg = ContractRequestMessage {
        consumer_pid: id.clone(),
        kind: ContractRequestKind::Initial {
            callback_address: state.dsp_base(),
        },
        offer: offer.clone(),
    }
    .to_json();
    if let Some(p) = &purpose {
        msg[super::PURPOSE_PROPERTY] = json!(p);
    }
    let at = now();
    let n = NegotiationRecord {
        id: id.clone(),
        role: CONSUMER.into(),
        provider_pid: None,
        consumer_pid: Some(id.clone()),
        partner: partner.to_string(),
        state: NegotiationState::Requested.as_str().into(),
        dataset: dataset.to_string(),
        offer,
        offer_by: CONSUMER.into(),
        peer_address: peer,
        purpose,
        agreement_id: None,
        waiting_for: Some("the provider's answer".into()),
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let message = to_partner(
        &n,
        "ContractRequestMessage",
        "/negotiations/request".into(),
        msg,
        None,
    )
    .reaching(NegotiationState::Requested.as_str());
    let change = Change::new()
        .history(
            None,
            "REQUESTED",
            format!("sent ContractRequestMessage to {partner}"),
            None,
        )
        .send(message);
    insert(state, n, change).await
}

/// Offers a contract to `partner` (provider-initiated negotiation).
pub async fn offer_to(
    state: &Contracting,
    partner: &str,
    ours: &OurOffer,
) -> Result<NegotiationRecord, ProcessError> {
    let id = new_pid();
    let peer = state.partners().dsp_base(partner).await;
    let msg = ContractOfferMessage {
        provider_pid: id.clone(),
        kind: ContractOfferKind::Initial {
            callback_address: state.dsp_base(),
        },
        offer: ours.message_offer.clone(),
    };
    let at = now();
    let n = NegotiationRecord {
        id: id.clone(),
        role: PROVIDER.into(),
        provider_pid: Some(id.clone()),
        consumer_pid: None,
        partner: partner.to_string(),
        state: NegotiationState::Offered.as_str().into(),
        dataset: ours.resource.id.clone(),
        offer: ours.message_offer.clone(),
        offer_by: PROVIDER.into(),
        peer_address: peer,
        purpose: None,
        agreement_id: None,
        waiting_for: Some("the partner to accept our offer".into()),
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let message = to_partner(
        &n,
        "ContractOfferMessage",
        "/negotiations/offers".into(),
        msg.to_json(),
        None,
    )
    .reaching(NegotiationState::Offered.as_str());
    let change = Change::new()
        .history(
            None,
            "OFFERED",
            format!("sent ContractOfferMessage to {partner}"),
            None,
        )
        .send(message);
    insert(state, n, change).await
}

/// The consumer accepts the provider's current offer.
pub async fn accept(state: &Contracting, id: &str) -> Result<NegotiationRecord, ProcessError> {
    let n = state
        .store()
        .negotiation(id)
        .await?
        .ok_or(ProcessError::NotFound)?;
    if n.role != CONSUMER {
        return Err(invalid(
            &n,
            "wrong-role",
            "only the consumer accepts an offer",
        ));
    }
    let next = check(&planned(state, &n).await?, M::AcceptedEvent, Role::Consumer)?;
    let message = accepted_event(&n);
    let mut n = n;
    let from = n.state.clone();
    n.waiting_for = Some("the provider's agreement".into());
    save(
        state,
        n,
        Change::new()
            .history(
                Some(&from),
                &from,
                format!("accepted the offer; sent ACCEPTED ({next} once acknowledged)"),
                None,
            )
            .send(message),
    )
    .await
}

/// The consumer answers the provider's offer with other terms: a counter `ContractRequestMessage` on the same offer
/// id and dataset, with `terms`' rules in place of the offer's (REQUESTED once the provider acknowledges it).
pub async fn counter(
    state: &Contracting,
    id: &str,
    terms: &Value,
) -> Result<NegotiationRecord, ProcessError> {
    let n = state
        .store()
        .negotiation(id)
        .await?
        .ok_or(ProcessError::NotFound)?;
    if n.role != CONSUMER {
        return Err(invalid(
            &n,
            "wrong-role",
            "only the consumer counters an offer; a provider offers again",
        ));
    }
    let next = check(
        &planned(state, &n).await?,
        M::ContractRequest,
        Role::Consumer,
    )?;
    let mut offer = n.offer.clone();
    for key in ["permission", "prohibition", "obligation"] {
        match terms.get(key) {
            Some(rules) => offer[key] = rules.clone(),
            None => {
                if let Some(o) = offer.as_object_mut() {
                    o.remove(key);
                }
            }
        }
    }
    let msg = ContractRequestMessage {
        consumer_pid: n.consumer_pid.clone().unwrap_or_default(),
        kind: ContractRequestKind::Counter {
            provider_pid: n.provider_pid.clone().unwrap_or_default(),
        },
        offer: offer.clone(),
    };
    let path = format!(
        "/negotiations/{}/request",
        n.provider_pid
            .as_deref()
            .unwrap_or(PROVIDER_PID_PLACEHOLDER)
    );
    let message =
        to_partner(&n, "ContractRequestMessage", path, msg.to_json(), None).reaching(next.as_str());
    let mut n = n;
    let from = n.state.clone();
    n.offer = offer;
    n.offer_by = CONSUMER.into();
    n.waiting_for = Some("the provider's answer to our counter-request".into());
    save(
        state,
        n,
        Change::new()
            .history(
                Some(&from),
                &from,
                format!("sent counter-request ({next} once acknowledged)"),
                None,
            )
            .send(message),
    )
    .await
}

/// The provider's operator approves a request waiting for manual approval.
pub async fn approve(state: &Contracting, id: &str) -> Result<NegotiationRecord, ProcessError> {
    let n = state
        .store()
        .negotiation(id)
        .await?
        .ok_or(ProcessError::NotFound)?;
    let waiting = n
        .waiting_for
        .as_deref()
        .is_some_and(|w| w.starts_with("operator approval"));
    if n.role != PROVIDER || !waiting {
        return Err(invalid(
            &n,
            "not-waiting",
            "this negotiation is not waiting for approval",
        ));
    }
    // A termination on its way (ours or the policy's) ends the wait for approval.
    check(
        &planned(state, &n).await?,
        M::ContractAgreement,
        Role::Provider,
    )?;
    let offer_id = n
        .offer
        .get("@id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(ours) = offers::find(state, &n.partner, Some(&n.dataset), &offer_id).await? else {
        return Err(invalid(
            &n,
            "unknown-offer",
            format!("offer {offer_id} is no longer available"),
        ));
    };
    let current = n.state.clone();
    let approved =
        Change::new().history(Some(&current), &current, "approved by the operator", None);
    let (n, change) = agree(state, n, &ours, approved)?;
    save(state, n, change).await
}

/// Either side's operator ends a negotiation, telling the partner why.
pub async fn terminate(
    state: &Contracting,
    id: &str,
    reason: &str,
) -> Result<NegotiationRecord, ProcessError> {
    let n = state
        .store()
        .negotiation(id)
        .await?
        .ok_or(ProcessError::NotFound)?;
    let role = if n.role == PROVIDER {
        Role::Provider
    } else {
        Role::Consumer
    };
    check(&planned(state, &n).await?, M::Termination, role)?;
    let mut n = n;
    let from = n.state.clone();
    // Sent even before the partner acknowledged the process: it follows the message that creates it.
    let change = Change::new()
        .history(
            Some(&from),
            &from,
            "terminated by our operator; sent termination (TERMINATED once acknowledged)",
            Some(reason.to_string()),
        )
        .send(termination(
            &n,
            "terminated-by-operator",
            vec![reason.to_string()],
        ));
    n.waiting_for = None;
    let n = save(state, n, change).await?;
    // Only once the termination is committed: nothing else of this negotiation should go out.
    state
        .store()
        .outbox_cancel(&n.id, "ContractNegotiationTerminationMessage")
        .await?;
    Ok(n)
}
