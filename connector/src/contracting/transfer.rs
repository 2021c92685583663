//! Transfer processes in both roles. The provider checks the agreement and the transfer-scope policy when a
//! transfer is requested and again whenever it (re)starts, and for HTTP pull hands out a short-lived token bound to
//! the transfer (only its hash is stored; it is revoked when the transfer ends).

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use twinport_contracts::message::DspMessage;
use twinport_contracts::process::Role;
use twinport_contracts::transfer::{
    transition, DataAddress, EndpointProperty, TransferCompletionMessage, TransferMessageKind as M,
    TransferProcess, TransferRequestMessage, TransferStartMessage, TransferState,
    TransferSuspensionMessage, TransferTerminationMessage, HTTP_ENDPOINT_TYPE,
};
use twinport_policy::Scope;

use super::creation::Acknowledged;
use super::decision::{facts, FactsInput};
use super::error::Protocol;
use super::outbox::{CONSUMER_PID_PLACEHOLDER, DSP_BASE_PLACEHOLDER, PROVIDER_PID_PLACEHOLDER};
use super::Contracting;
use super::{audit_trail, new_pid, ProcessError, CONSUMER, PROVIDER};
use crate::storage::{Change, NewOutbox, TransferRecord};
use twinport_policy::request::Flow;

/// Transfer formats this connector serves.
pub const PULL: &str = "HttpData-PULL";
pub const PUSH: &str = "HttpData-PUSH";

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn invalid(t: &TransferRecord, code: &'static str, reason: impl Into<String>) -> ProcessError {
    ProcessError::invalid(
        Protocol::Transfer,
        t.provider_pid.as_deref(),
        t.consumer_pid.as_deref(),
        code,
        reason,
    )
}

fn check(t: &TransferRecord, message: M, sender: Role) -> Result<TransferState, ProcessError> {
    let current: TransferState = t
        .state
        .parse()
        .map_err(|_| ProcessError::Internal(format!("stored state {:?}", t.state)))?;
    transition(Some(current), message, sender)
        .map_err(|e| invalid(t, "invalid-transition", e.to_string()))
}

pub async fn lookup(
    state: &Contracting,
    partner: &str,
    pid: &str,
) -> Result<TransferRecord, ProcessError> {
    let found = match state
        .store()
        .process_by_pid::<TransferRecord>(PROVIDER, pid)
        .await?
    {
        Some(t) => Some(t),
        None => {
            state
                .store()
                .process_by_pid::<TransferRecord>(CONSUMER, pid)
                .await?
        }
    };
    found
        .filter(|t| t.partner == partner)
        .ok_or(ProcessError::NotFound)
}

/// How the audit log indexes a transfer.
pub(super) fn process(t: &TransferRecord) -> audit_trail::Process<'_> {
    audit_trail::Process {
        id: &t.id,
        protocol: "transfer",
        partner: &t.partner,
        resource: None,
        agreement: Some(&t.agreement_id),
        transfer: Some(&t.id),
        purpose: None,
    }
}

pub fn ack(t: &TransferRecord, state: TransferState) -> Value {
    TransferProcess {
        provider_pid: t.provider_pid.clone().unwrap_or_default(),
        consumer_pid: t.consumer_pid.clone().unwrap_or_default(),
        state,
    }
    .to_json()
}

pub(super) async fn save(
    state: &Contracting,
    mut t: TransferRecord,
    change: Change,
) -> Result<TransferRecord, ProcessError> {
    let change = super::follow_up::with_received(change, &t.id);
    t.version += 1;
    if !state.store().update_process(&t, &change).await? {
        return Err(ProcessError::Conflict);
    }
    audit_trail::record(state, &process(&t), &change).await?;
    state.after_change(&t.id, &t.state, !change.outbox.is_empty());
    Ok(t)
}

fn to_partner(t: &TransferRecord, kind: &str, path: String, body: Value) -> NewOutbox {
    let url = match &t.peer_address {
        Some(b) => format!("{}{path}", b.trim_end_matches('/')),
        None => format!("{DSP_BASE_PLACEHOLDER}{path}"),
    };
    NewOutbox {
        partner: t.partner.clone(),
        kind: kind.to_string(),
        url,
        body,
        signature: None,
        transition_to: None,
    }
}

/// The partner's pid, which names the process in the path of messages we send.
fn their_pid(t: &TransferRecord) -> String {
    // Before the partner acknowledged the transfer its pid is not known; the outbox fills it in at delivery.
    let (pid, placeholder) = if t.role == PROVIDER {
        (&t.consumer_pid, CONSUMER_PID_PLACEHOLDER)
    } else {
        (&t.provider_pid, PROVIDER_PID_PLACEHOLDER)
    };
    pid.clone().unwrap_or_else(|| placeholder.to_string())
}

fn pids(t: &TransferRecord) -> (String, String) {
    (
        t.provider_pid.clone().unwrap_or_default(),
        t.consumer_pid.clone().unwrap_or_default(),
    )
}

fn message(
    t: &TransferRecord,
    kind: M,
    code: Option<&str>,
    reason: Vec<String>,
) -> (String, Value) {
    let (provider_pid, consumer_pid) = pids(t);
    match kind {
        M::TransferSuspension => (
            "suspension".into(),
            TransferSuspensionMessage {
                provider_pid,
                consumer_pid,
                code: code.map(str::to_string),
                reason,
            }
            .to_json(),
        ),
        M::TransferCompletion => (
            "completion".into(),
            TransferCompletionMessage {
                provider_pid,
                consumer_pid,
            }
            .to_json(),
        ),
        M::TransferTermination => (
            "termination".into(),
            TransferTerminationMessage {
                provider_pid,
                consumer_pid,
                code: code.map(str::to_string),
                reason,
            }
            .to_json(),
        ),
        M::TransferStart | M::TransferRequest => (
            "start".into(),
            TransferStartMessage {
                provider_pid,
                consumer_pid,
                data_address: None,
            }
            .to_json(),
        ),
    }
}

// ---- provider side -------------------------------------------------------------------------------------------

/// `POST <base>/transfers/request`.
pub async fn on_request(
    state: &Contracting,
    partner: &str,
    body: &Value,
) -> Result<Acknowledged, ProcessError> {
    let consumer_pid = body.get("consumerPid").and_then(Value::as_str);
    let msg = TransferRequestMessage::from_json(body).map_err(|e| {
        ProcessError::invalid(
            Protocol::Transfer,
            None,
            consumer_pid,
            "malformed-message",
            e.to_string(),
        )
    })?;
    let refuse = |code: &'static str, reason: String| {
        ProcessError::invalid(
            Protocol::Transfer,
            None,
            Some(&msg.consumer_pid),
            code,
            reason,
        )
    };
    let _creating = state
        .creations()
        .lock("transfer", partner, &msg.consumer_pid)
        .await;
    if let Some(existing) = state
        .store()
        .process_by_partner_pid::<TransferRecord>(PROVIDER, partner, &msg.consumer_pid)
        .await?
    {
        // A retry after a lost acknowledgement: the transfer it opened (one process, one token), not another.
        let current = existing
            .state
            .parse()
            .map_err(|_| ProcessError::Internal(format!("stored state {:?}", existing.state)))?;
        return Ok(Acknowledged {
            body: ack(&existing, current),
            created: false,
            process_id: existing.id.clone(),
        });
    }
    let agreement = state
        .store()
        .agreement(&msg.agreement_id)
        .await?
        .filter(|a| a.provider == state.participant_id() && a.consumer == partner)
        .ok_or_else(|| {
            refuse(
                "unknown-agreement",
                format!("no agreement {} between you and us", msg.agreement_id),
            )
        })?;
    let mut negotiation = state.store().negotiation(&agreement.negotiation_id).await?;
    if negotiation.as_ref().map(|n| n.state.as_str()) != Some("FINALIZED") {
        // The consumer finalized on receiving our FINALIZED and may request at once, before its acknowledgement
        // reached our outbox: wait for that, bounded.
        super::acknowledgement::await_in_flight(state, &agreement.negotiation_id).await?;
        negotiation = state.store().negotiation(&agreement.negotiation_id).await?;
    }
    if negotiation.as_ref().map(|n| n.state.as_str()) != Some("FINALIZED") {
        return Err(refuse(
            "agreement-not-final",
            format!("agreement {} is not finalized", msg.agreement_id),
        ));
    }
    if msg.format != PULL && msg.format != PUSH {
        return Err(refuse(
            "unsupported-format",
            format!("format {} is not served (use {PULL} or {PUSH})", msg.format),
        ));
    }
    if msg.format == PUSH && msg.data_address.is_none() {
        return Err(refuse(
            "missing-data-address",
            format!("{PUSH} needs the consumer's dataAddress"),
        ));
    }
    let pushed_to = msg.data_address.as_ref().map(DataAddress::to_json);
    for url in std::iter::once(msg.callback_address.as_str())
        .chain(pushed_to.as_ref().and_then(super::peer_urls::endpoint))
    {
        if let Some(why) = super::peer_urls::refusal(state, partner, url) {
            return Err(refuse(
                "invalid-address",
                format!("we do not call {url}: {why}"),
            ));
        }
    }
    let at = now();
    let id = new_pid();
    let t = TransferRecord {
        id: id.clone(),
        role: PROVIDER.into(),
        provider_pid: Some(id.clone()),
        consumer_pid: Some(msg.consumer_pid.clone()),
        partner: partner.to_string(),
        agreement_id: agreement.id.clone(),
        state: TransferState::Requested.as_str().into(),
        format: msg.format.clone(),
        peer_address: Some(msg.callback_address.trim_end_matches('/').to_string()),
        data_address: msg.data_address.as_ref().map(DataAddress::to_json),
        token_hash: None,
        token_expires: None,
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let change = Change::new().history(
        None,
        "REQUESTED",
        format!("received TransferRequestMessage from {partner}"),
        Some(format!("agreement {}, format {}", agreement.id, msg.format)),
    );
    let (t, change) = start_or_refuse(state, t, change, false).await?;
    // Our start (or termination) goes out only after the consumer has our answer with our pid.
    state.creations().hold_until_answered(&t.id);
    state
        .store()
        .insert_process(&t, &change)
        .await
        .inspect_err(|_| state.creations().answered(&t.id))?;
    audit_trail::record(state, &process(&t), &change).await?;
    state.after_change(&t.id, &t.state, !change.outbox.is_empty());
    Ok(Acknowledged {
        body: ack(&t, TransferState::Requested),
        created: true,
        process_id: t.id.clone(),
    })
}

/// Evaluates the transfer scope on the agreement and either starts the transfer (issuing a pull token) or
/// terminates it with the reasons. With `resumed_by_partner` the consumer's own start was just received (and is
/// acknowledged by our answer), so the transfer is STARTED now and our start only carries the new data address;
/// otherwise our start (or termination) moves the transfer when the consumer acknowledges it.
async fn start_or_refuse(
    state: &Contracting,
    mut t: TransferRecord,
    change: Change,
    resumed_by_partner: bool,
) -> Result<(TransferRecord, Change), ProcessError> {
    if resumed_by_partner {
        t.state = TransferState::Started.as_str().into();
    }
    let (permitted, report_json, reasons) = transfer_scope(state, &t).await?;
    let from = t.state.clone();
    if !permitted {
        let (path, body) = message(
            &t,
            M::TransferTermination,
            Some("policy-denied"),
            reasons.clone(),
        );
        let outgoing = to_partner(
            &t,
            "TransferTerminationMessage",
            format!("/transfers/{}/{path}", their_pid(&t)),
            body,
        )
        .reaching(TransferState::Terminated.as_str());
        t.token_hash = None;
        let change = change
            .history(
                Some(&from),
                &from,
                format!(
                    "refused by the agreement's policy; sent termination (TERMINATED once acknowledged): {}",
                    reasons.join("; ")
                ),
                Some(report_json),
            )
            .send(outgoing);
        return Ok((t, change));
    }
    let (provider_pid, consumer_pid) = pids(&t);
    let data_address = if t.format == PULL {
        Some(super::pull_token::issue(state, &mut t, &provider_pid))
    } else {
        None
    };
    let start = TransferStartMessage {
        provider_pid,
        consumer_pid,
        data_address,
    };
    let outgoing = to_partner(
        &t,
        "TransferStartMessage",
        format!("/transfers/{}/start", their_pid(&t)),
        start.to_json(),
    );
    let (outgoing, event) = if resumed_by_partner {
        (
            outgoing,
            "policy permits; sent TransferStartMessage with the new data address",
        )
    } else {
        (
            outgoing.reaching(TransferState::Started.as_str()),
            "policy permits; sent TransferStartMessage (STARTED once acknowledged)",
        )
    };
    let change = change
        .history(Some(&from), &from, event, Some(report_json))
        .send(outgoing);
    Ok((t, change))
}

/// The agreement's policy in the `transfer` scope for `t`, as when it starts and whenever its pull token is
/// renewed: whether it permits, the recorded report, and the reasons (at most 8) when it does not.
pub(super) async fn transfer_scope(
    state: &Contracting,
    t: &TransferRecord,
) -> Result<(bool, String, Vec<String>), ProcessError> {
    let agreement = state
        .store()
        .agreement(&t.agreement_id)
        .await?
        .ok_or_else(|| ProcessError::Internal("agreement vanished".into()))?;
    let resource = crate::catalogue::resource(state.store(), &agreement.target).await?;
    let partner = state.partners().get(&t.partner);
    let start_time = agreement
        .body
        .get("timestamp")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // The purpose agreed in the negotiation and the accesses made so far, so a purpose or count constraint is
    // judged here as on every access instead of failing for want of a value.
    let purpose = state
        .store()
        .negotiation(&agreement.negotiation_id)
        .await?
        .and_then(|n| n.purpose);
    let count = state.store().access_count(&agreement.id).await?;
    // What the transfer will do decides the action asked: a pull reads (or executes a model), a push distributes.
    let flow = if t.format == PUSH {
        Flow::Push
    } else {
        Flow::Pull
    };
    let known = facts(FactsInput {
        partner_id: &t.partner,
        partner: partner.as_ref(),
        resource: resource.as_ref().map(super::decision::resource_context),
        purpose: purpose.as_deref(),
        agreement: Some((&agreement.id, &start_time)),
        accesses: Some(count),
        flow: Some(flow),
        method: None,
        duties: state.store().duty_states(&agreement.id).await?,
    });
    let policy = super::decision::agreed_policy(state.store(), &agreement).await?;
    let decided = state.policy().decide(&policy, Scope::Transfer, &known);
    let reasons = decided.report.reasons().into_iter().take(8).collect();
    Ok((decided.report.is_permit(), decided.recorded(), reasons))
}

/// A provider push transfer that is STARTED (as the consumer knows it) gets its data sent by the data plane, in
/// the background.
fn push_if_started(state: &Contracting, t: &TransferRecord) {
    if t.role == PROVIDER && t.format == PUSH && t.state == TransferState::Started.as_str() {
        state.start_push(&t.id);
    }
}

/// What follows once the partner acknowledged a transition of `t`: a push transfer the consumer now knows is
/// STARTED gets its data.
pub(super) fn after_acknowledged(state: &Contracting, t: &TransferRecord) {
    push_if_started(state, t);
}

/// A random bearer token for the data plane.
pub(super) fn new_token() -> String {
    let bytes: Vec<u8> = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::new_v4().as_bytes())
        .copied()
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

// ---- both sides ----------------------------------------------------------------------------------------------

/// `POST <base>/transfers/:pid/{start,completion,suspension,termination}` in either role.
pub async fn on_message(
    state: &Contracting,
    partner: &str,
    pid: &str,
    kind: M,
    body: &Value,
) -> Result<(), ProcessError> {
    let t = lookup(state, partner, pid).await?;
    let sender = if t.role == PROVIDER {
        Role::Consumer
    } else {
        Role::Provider
    };
    let parsed: Result<Option<String>, String> = match kind {
        M::TransferStart => TransferStartMessage::from_json(body)
            .map(|m| m.data_address.map(|a| a.to_json().to_string()))
            .map_err(|e| e.to_string()),
        M::TransferCompletion => TransferCompletionMessage::from_json(body)
            .map(|_| None)
            .map_err(|e| e.to_string()),
        M::TransferSuspension => TransferSuspensionMessage::from_json(body)
            .map(|m| {
                Some(format!(
                    "code {}: {}",
                    m.code.unwrap_or_default(),
                    m.reason.join("; ")
                ))
            })
            .map_err(|e| e.to_string()),
        M::TransferTermination => TransferTerminationMessage::from_json(body)
            .map(|m| {
                Some(format!(
                    "code {}: {}",
                    m.code.unwrap_or_default(),
                    m.reason.join("; ")
                ))
            })
            .map_err(|e| e.to_string()),
        M::TransferRequest => Err("a TransferRequestMessage goes to /transfers/request".into()),
    };
    let mut detail = parsed.map_err(|e| invalid(&t, "malformed-message", e))?;
    // A provider known only by DID may not point our applications' requests at the city's own network.
    if let Some(url) = body.get("dataAddress").and_then(super::peer_urls::endpoint) {
        if let Some(why) = super::peer_urls::refusal(state, partner, url) {
            return Err(invalid(
                &t,
                "invalid-address",
                format!("we do not call {url}: {why}"),
            ));
        }
    }
    super::pids::check(t.provider_pid.as_deref(), t.consumer_pid.as_deref(), body)
        .map_err(|reason| invalid(&t, "pid-mismatch", reason))?;
    // The pull token goes where only our data plane reads it, never into the address or history operators see.
    let address = match body.get("dataAddress") {
        Some(address) if kind == M::TransferStart && t.role == CONSUMER => {
            let kept = super::pull_token::keep_received(state, &t.id, address).await?;
            detail = Some(kept.to_string());
            Some(kept)
        }
        _ => None,
    };
    if kind == M::TransferStart && t.role == CONSUMER && t.state == "STARTED" {
        if let Some(address) = address {
            // We resumed the transfer ourselves, so we are STARTED already; the provider's answering start
            // carries the new data address (and token) that the resumed transfer needs.
            let mut t = t;
            t.data_address = Some(address);
            let event = format!("received {} from {partner}: new data address", kind.name());
            save(
                state,
                t,
                Change::new().history(Some("STARTED"), "STARTED", event, None),
            )
            .await?;
            return Ok(());
        }
    }
    let next = check(&t, kind, sender)?;
    let mut t = t;
    let from = t.state.clone();
    let event = format!("received {} from {partner}", kind.name());
    if kind == M::TransferStart && t.role == PROVIDER {
        // The consumer resumes: the transfer scope is checked again before data flows.
        let (t, change) = start_or_refuse(
            state,
            t,
            Change::new().history(Some(&from), next.as_str(), event, detail),
            true,
        )
        .await?;
        let t = save(state, t, change).await?;
        // The consumer resumed, so it is STARTED already (and refuses our redundant start): push at once.
        push_if_started(state, &t);
        return Ok(());
    }
    if kind == M::TransferStart {
        if let Some(address) = address.or_else(|| body.get("dataAddress").cloned()) {
            t.data_address = Some(address);
        }
    }
    if t.provider_pid.is_none() {
        // The start can overtake the acknowledgement of our request.
        t.provider_pid = body
            .get("providerPid")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    t.state = next.as_str().into();
    if next.is_terminal() {
        t.token_hash = None;
    }
    save(
        state,
        t,
        Change::new().history(Some(&from), next.as_str(), event, detail),
    )
    .await?;
    Ok(())
}

// ---- operator actions ----------------------------------------------------------------------------------------

/// Requests a transfer under a finalized agreement we hold as consumer.
pub async fn request(
    state: &Contracting,
    agreement_id: &str,
    format: &str,
    data_address: Option<DataAddress>,
) -> Result<TransferRecord, ProcessError> {
    let stored = data_address.as_ref().map(DataAddress::to_json);
    send_request(
        state,
        agreement_id,
        format,
        new_pid(),
        data_address,
        stored,
        None,
    )
    .await
}

/// Requests an `HttpData-PUSH` transfer to our own push endpoint, `<public_url>/push/<consumerPid>`, with a fresh
/// one-time bearer token. Only the token's hash is kept (on the transfer, revoked when it ends); the data address
/// stored with the transfer names the endpoint without the token.
pub async fn request_push_here(
    state: &Contracting,
    agreement_id: &str,
) -> Result<TransferRecord, ProcessError> {
    let id = new_pid();
    let token = new_token();
    let endpoint = format!(
        "{}{}/{}",
        state.public_url(),
        crate::paths::PUSH_PATH,
        crate::client::encode_segment(&id)
    );
    let address = |token: Option<String>| DataAddress {
        endpoint_type: HTTP_ENDPOINT_TYPE.to_string(),
        endpoint: Some(endpoint.clone()),
        endpoint_properties: token
            .map(|value| {
                vec![
                    EndpointProperty {
                        name: "authorization".into(),
                        value,
                    },
                    EndpointProperty {
                        name: "authType".into(),
                        value: "bearer".into(),
                    },
                ]
            })
            .unwrap_or_default(),
    };
    let stored = Some(address(None).to_json());
    let hash = token_hash(&token);
    send_request(
        state,
        agreement_id,
        PUSH,
        id,
        Some(address(Some(token))),
        stored,
        Some(hash),
    )
    .await
}

async fn send_request(
    state: &Contracting,
    agreement_id: &str,
    format: &str,
    id: String,
    data_address: Option<DataAddress>,
    stored_address: Option<Value>,
    push_token_hash: Option<String>,
) -> Result<TransferRecord, ProcessError> {
    let agreement = state
        .store()
        .agreement(agreement_id)
        .await?
        .filter(|a| a.consumer == state.participant_id())
        .ok_or(ProcessError::NotFound)?;
    let msg = TransferRequestMessage {
        consumer_pid: id.clone(),
        agreement_id: agreement.id.clone(),
        format: format.to_string(),
        callback_address: state.dsp_base(),
        data_address: data_address.clone(),
    };
    let at = now();
    let t = TransferRecord {
        id: id.clone(),
        role: CONSUMER.into(),
        provider_pid: None,
        consumer_pid: Some(id.clone()),
        partner: agreement.provider.clone(),
        agreement_id: agreement.id.clone(),
        state: TransferState::Requested.as_str().into(),
        format: format.to_string(),
        peer_address: state.partners().dsp_base(&agreement.provider).await,
        data_address: stored_address,
        token_hash: push_token_hash,
        token_expires: None,
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    };
    let outgoing = to_partner(
        &t,
        "TransferRequestMessage",
        "/transfers/request".into(),
        msg.to_json(),
    )
    .reaching(TransferState::Requested.as_str());
    let change = Change::new()
        .history(
            None,
            "REQUESTED",
            format!("sent TransferRequestMessage to {}", agreement.provider),
            None,
        )
        .send(outgoing);
    state.store().insert_process(&t, &change).await?;
    audit_trail::record(state, &process(&t), &change).await?;
    state.after_change(&t.id, &t.state, true);
    Ok(t)
}

/// Our operator suspends, resumes, completes or terminates a transfer.
pub async fn act(
    state: &Contracting,
    id: &str,
    kind: M,
    reason: Option<&str>,
) -> Result<TransferRecord, ProcessError> {
    act_by(state, id, kind, reason, "our operator").await
}

/// As [`act`], for `actor` (named in the history): our operator, or our data plane when a push has been
/// delivered.
pub async fn act_by(
    state: &Contracting,
    id: &str,
    kind: M,
    reason: Option<&str>,
    actor: &str,
) -> Result<TransferRecord, ProcessError> {
    let t = state
        .store()
        .transfer(id)
        .await?
        .ok_or(ProcessError::NotFound)?;
    let role = if t.role == PROVIDER {
        Role::Provider
    } else {
        Role::Consumer
    };
    // Judged against the state the queued messages lead to, so an action follows those already on their way.
    let mut planned = t.clone();
    planned.state = super::acknowledgement::planned_state(state, &t.id, &t.state).await?;
    let next = check(&planned, kind, role)?;
    let reasons: Vec<String> = reason.map(|r| vec![r.to_string()]).unwrap_or_default();
    let code = reason.map(|_| "by-operator");
    let mut t = t;
    let from = t.state.clone();
    if kind == M::TransferStart && t.role == PROVIDER {
        let (t, change) = start_or_refuse(
            state,
            t,
            Change::new().history(Some(&from), &from, format!("resumed by {actor}"), None),
            false,
        )
        .await?;
        return save(state, t, change).await;
    }
    let (path, body) = message(&t, kind, code, reasons.clone());
    let change = Change::new()
        .history(
            Some(&from),
            &from,
            format!("{} by {actor} ({next} once acknowledged)", kind.name()),
            reason.map(str::to_string),
        )
        .send(
            to_partner(
                &t,
                kind.name(),
                format!("/transfers/{}/{path}", their_pid(&t)),
                body,
            )
            .reaching(next.as_str()),
        );
    // Our decision to end the transfer takes effect on our data plane at once, whatever the partner answers.
    if next.is_terminal() {
        t.token_hash = None;
    }
    save(state, t, change).await
}
