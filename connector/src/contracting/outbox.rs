//! Delivers queued DSP messages to partners. Woken the moment a state change queues a message (no polling loop);
//! a failed delivery (connection refused, 5xx, or 404 while the partner is not ready) is retried with exponential
//! backoff, and because the queue lives in the database it survives a restart of either connector. Messages of one
//! process go out strictly in order.
//!
//! Several replicas may share one PostgreSQL database: each message is claimed (a lease in the row) by one replica
//! before it is sent, only a process's oldest pending message can be claimed (so order holds across replicas), and
//! a replica that dies mid-delivery holds its claim only until the lease expires.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use twinport_contracts::message::DspMessage;
use twinport_contracts::negotiation::ContractNegotiation;
use twinport_contracts::transfer::TransferProcess;

use super::Contracting;
use super::SIGNATURE_HEADER;
use crate::storage::{Change, NegotiationRecord, OutboxMessage, ProcessRow, TransferRecord};

/// Prefix of a queued URL whose partner DSP base was not known when the message was queued; resolved through the
/// partner's version metadata at delivery time.
pub const DSP_BASE_PLACEHOLDER: &str = "dsp-base:";
/// Placeholders for the partner's pid in a queued path, for messages queued before the partner acknowledged the
/// process (e.g. a termination right after the request); filled in from the stored process at delivery.
pub const PROVIDER_PID_PLACEHOLDER: &str = "{providerPid}";
pub const CONSUMER_PID_PLACEHOLDER: &str = "{consumerPid}";
/// Attempts after which a message the partner keeps refusing with 404 is given up.
const MAX_ATTEMPTS: i64 = 40;
const MAX_BACKOFF_MS: i64 = 30_000;
const TIMEOUT: Duration = Duration::from_secs(15);
/// How long a claim on a message lasts: well beyond one delivery attempt (TIMEOUT), so a live replica never loses
/// its claim mid-delivery, yet a dead replica's message goes out again within a minute.
const LEASE_MS: i64 = 60_000;
/// On PostgreSQL, where other replicas may queue messages this process is not told about, the worker also looks at
/// the queue this often.
const REPLICA_POLL: Duration = Duration::from_millis(500);

/// Wakes the outbox worker.
#[derive(Debug, Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Attempts for a message the partner refuses (4xx) before it is given up.
const REFUSED_ATTEMPTS: i64 = 4;

/// Pause after the partner refused attempt `attempts`: 250 ms, doubling (1.75 s over the four attempts).
fn refused_backoff_ms(attempts: i64) -> i64 {
    250_i64 << (attempts.clamp(1, 4) - 1)
}

/// Backoff before attempt `attempts + 1`: 25 ms, doubling, at most 30 s.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (25_i64 << exp).min(MAX_BACKOFF_MS)
}

pub fn spawn(state: Contracting, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    let signal = state.outbox_signal().clone();
    // Identifies this process's claims; a restarted replica is a new claimant (its old leases just expire).
    let replica = format!("replica-{}", uuid::Uuid::new_v4());
    let backend = state.store().backend();
    let poll = match backend {
        crate::storage::Backend::Postgres => Some(REPLICA_POLL),
        crate::storage::Backend::Sqlite => None,
    };
    tokio::spawn(async move {
        // Deliveries in flight. The worker does not wait for them before its next round: a partner that holds
        // its acknowledgement (up to the 15 s timeout) must not delay every other process's messages.
        let mut in_flight = JoinSet::new();
        if backend == crate::storage::Backend::Sqlite {
            // One process owns a SQLite store, so a claim found now is ours from before a crash (kill -9 mid
            // delivery): the message goes out again at once instead of after the lease.
            match state.store().outbox_release_claims().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    messages = n,
                    "resuming deliveries interrupted when the connector stopped"
                ),
                Err(e) => tracing::error!(error = %e, "cannot release stale outbox claims"),
            }
        }
        loop {
            let notified = signal.0.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let heads = match state.store().outbox_heads().await {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox; retrying in a second");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stopped.changed() => return,
                    }
                }
            };
            let now = now_ms();
            // A process whose creating message is still being answered sends nothing yet; the answer wakes us.
            let heads = heads
                .into_iter()
                .filter(|m| !state.creations().is_held(&m.process_id));
            let (due, later): (Vec<_>, Vec<_>) = heads.partition(|m| ready_at(m) <= now);
            for m in due {
                // Another replica sharing the database may be delivering this one; only the claim holder sends.
                match state
                    .store()
                    .outbox_claim(m.id, &replica, now, now + LEASE_MS)
                    .await
                {
                    Ok(true) => {
                        let state = state.clone();
                        in_flight.spawn(async move { deliver(&state, m).await });
                    }
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "cannot claim an outbox message"),
                }
            }
            // A message claimed by a replica that died is looked at again when its lease ends, so nothing due
            // waits for an unrelated wake-up.
            let wait = later
                .iter()
                .map(|m| ready_at(m) - now)
                .min()
                .map(|ms| Duration::from_millis(ms.max(1) as u64));
            // Other replicas' commits do not wake us: poll the shared database as a fallback.
            let wait = match (wait, poll) {
                (Some(w), Some(p)) => Some(w.min(p)),
                (w, p) => w.or(p),
            };
            tokio::select! {
                _ = &mut notified => {}
                // A finished delivery may have made its process's next message the head.
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                _ = async { match wait { Some(w) => tokio::time::sleep(w).await, None => std::future::pending().await } } => {}
                // Deliveries still in flight are abandoned and their claims released, so they go out again at once
                // after a restart (or from another replica); the partner's answer to the copy is idempotent.
                _ = stopped.changed() => {
                    in_flight.abort_all();
                    while in_flight.join_next().await.is_some() {}
                    if let Err(e) = state.store().outbox_release_claims_of(&replica).await {
                        tracing::warn!(error = %e, "cannot release this replica's outbox claims at stop");
                    }
                    return;
                }
            }
        }
    })
}

/// When a queued message may next be claimed: its next attempt, or the end of another replica's lease on it.
fn ready_at(m: &OutboxMessage) -> i64 {
    match m.claimed_until {
        Some(until) => m.next_attempt_ms.max(until + 1),
        None => m.next_attempt_ms,
    }
}

enum Outcome {
    /// The partner accepted the message: its answer, the body as sent, and the partner's audit entry for it.
    Delivered {
        ack: Value,
        sent: Value,
        entry: Option<u64>,
    },
    Retry(String),
    Refused(String),
}

async fn deliver(state: &Contracting, m: OutboxMessage) {
    let attempts = m.attempts + 1;
    let outcome = send(state, &m).await;
    // Only while our process is still open: a partner's termination may have ended it meanwhile.
    let ask_again = match &outcome {
        Outcome::Refused(_) if m.transition_to.is_some() && attempts < REFUSED_ATTEMPTS => {
            !matches!(
                current_state(state, &m.process_id).await.as_str(),
                "FINALIZED" | "TERMINATED" | "COMPLETED"
            )
        }
        _ => false,
    };
    let result = match outcome {
        Outcome::Delivered { ack, sent, entry } => {
            acknowledge(state, &m, &ack).await;
            // Before the message is marked delivered: a crash in between sends it again, and the partner's
            // (idempotent) acknowledgement of the copy applies the transition then.
            super::acknowledgement::acknowledged(state, &m).await;
            record_sent(state, &m, attempts).await;
            if let (Some(index), Some(digest)) = (entry, crate::audit::digest(&sent)) {
                crate::audit::receipts::collect_later(
                    state.partner_logs(),
                    crate::audit::receipts::SentMessage {
                        partner: m.partner.clone(),
                        process: m.process_id.clone(),
                        kind: m.kind.clone(),
                        digest,
                        index,
                    },
                );
            }
            let delivered = state.store().outbox_delivered(m.id, attempts).await;
            super::pull_token::forget_sent(state, &m).await;
            delivered
        }
        Outcome::Retry(error) if attempts < MAX_ATTEMPTS || !error.starts_with("HTTP 404") => {
            tracing::warn!(partner = %m.partner, kind = %m.kind, attempts, error = %error, "delivery failed; will retry");
            state
                .store()
                .outbox_retry(m.id, attempts, now_ms() + backoff_ms(attempts), &error)
                .await
        }
        // A partner that answered our previous message may judge this one before it has recorded its own
        // acknowledgement (its bounded wait ran out under load): it refuses a message that is legal a moment
        // later. As the TCK does, a refused message that moves its process is asked again a few times, spaced out,
        // before it is given up; one the partner really refuses fails after these attempts.
        Outcome::Refused(error) if ask_again => {
            tracing::warn!(partner = %m.partner, kind = %m.kind, attempts, error = %error, "partner refused a message; asking again");
            state
                .store()
                .outbox_retry(
                    m.id,
                    attempts,
                    now_ms() + refused_backoff_ms(attempts),
                    &error,
                )
                .await
        }
        Outcome::Retry(error) | Outcome::Refused(error) => {
            tracing::warn!(partner = %m.partner, kind = %m.kind, attempts, error = %error, "partner refused a message; giving up");
            let current = current_state(state, &m.process_id).await;
            let _ = state
                .store()
                .note(
                    &m.process_id,
                    &current,
                    &format!("delivery of {} failed for good", m.kind),
                    Some(error.clone()),
                )
                .await;
            let failed = state.store().outbox_failed(m.id, attempts, &error).await;
            super::acknowledgement::abandoned(state, &m, &error).await;
            super::pull_token::forget_sent(state, &m).await;
            failed
        }
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot record an outbox delivery result");
    }
}

async fn send(state: &Contracting, m: &OutboxMessage) -> Outcome {
    let url = match m.url.strip_prefix(DSP_BASE_PLACEHOLDER) {
        None => m.url.clone(),
        Some(path) => match state.partners().discover(&m.partner).await {
            Ok(base) => format!("{base}{path}"),
            Err(e) => return Outcome::Retry(e),
        },
    };
    let (url, body) = match fill_pids(state, m, url).await {
        Ok(filled) => filled,
        Err(e) => return Outcome::Retry(e),
    };
    let token = match state.identity().token_for(&m.partner) {
        Ok(t) => t,
        Err(e) => return Outcome::Retry(format!("cannot sign a token: {e}")),
    };
    let mut request = state
        .partners()
        .http()
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .timeout(TIMEOUT);
    if let Some(sig) = &m.signature {
        request = request.header(SIGNATURE_HEADER, sig);
    }
    let (request, _span) = state.telemetry().traces().outgoing(request, &m.kind);
    match request.send().await {
        Err(e) => Outcome::Retry(connection_error(&e)),
        Ok(response) => {
            let status = response.status();
            let entry = response
                .headers()
                .get(crate::audit::received::ENTRY_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let text = response.text().await.unwrap_or_default();
            if status.is_success() {
                Outcome::Delivered {
                    ack: serde_json::from_str(&text).unwrap_or(Value::Null),
                    sent: body,
                    entry,
                }
            } else if status.is_server_error() || matches!(status.as_u16(), 404 | 408 | 425 | 429) {
                Outcome::Retry(format!("HTTP {}: {}", status.as_u16(), short(&text)))
            } else {
                Outcome::Refused(format!("HTTP {}: {}", status.as_u16(), short(&text)))
            }
        }
    }
}

/// The audit entry for a delivered message: what was sent to whom, for which process.
async fn record_sent(state: &Contracting, m: &OutboxMessage, attempts: i64) {
    let mut e = crate::audit::AuditEvent::new(
        crate::audit::EventKind::DspMessageSent,
        serde_json::json!({
            "process": m.process_id,
            "message": m.kind,
            "path": m.url.rsplit_once("/dsp/").map(|(_, p)| p).unwrap_or(&m.url),
            "attempts": attempts,
            "body": crate::audit::digest(&m.body),
        }),
    );
    e.partner = Some(m.partner.clone());
    if let Err(err) = state.audit().append(e).await {
        tracing::error!(error = %err, "cannot record a sent DSP message");
    }
}

/// Replaces pid placeholders in the URL and empty pids in the body with what the process knows now.
async fn fill_pids(
    state: &Contracting,
    m: &OutboxMessage,
    url: String,
) -> Result<(String, Value), String> {
    let mut body = m.body.clone();
    let needs = url.contains(PROVIDER_PID_PLACEHOLDER)
        || url.contains(CONSUMER_PID_PLACEHOLDER)
        || ["providerPid", "consumerPid"]
            .iter()
            .any(|k| body.get(*k).and_then(Value::as_str) == Some(""));
    if !needs {
        return Ok((url, body));
    }
    let pids = match state
        .store()
        .negotiation(&m.process_id)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(n) => (n.provider_pid, n.consumer_pid),
        None => match state
            .store()
            .transfer(&m.process_id)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(t) => (t.provider_pid, t.consumer_pid),
            None => (None, None),
        },
    };
    let (Some(provider_pid), Some(consumer_pid)) = pids else {
        return Err("waiting for the partner to acknowledge the process".into());
    };
    for (key, value) in [
        ("providerPid", &provider_pid),
        ("consumerPid", &consumer_pid),
    ] {
        if body.get(key).and_then(Value::as_str) == Some("") {
            body[key] = Value::String(value.clone());
        }
    }
    let url = url
        .replace(PROVIDER_PID_PLACEHOLDER, &provider_pid)
        .replace(CONSUMER_PID_PLACEHOLDER, &consumer_pid);
    Ok((url, body))
}

async fn current_state(state: &Contracting, id: &str) -> String {
    if let Ok(Some(n)) = state.store().negotiation(id).await {
        return n.state;
    }
    match state.store().transfer(id).await {
        Ok(Some(t)) => t.state,
        _ => "UNKNOWN".into(),
    }
}

fn connection_error(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "connection refused".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    }
}

fn short(text: &str) -> String {
    text.chars().take(500).collect()
}

/// Records what an acknowledgement tells us: the partner's pid for processes we started.
async fn acknowledge(state: &Contracting, m: &OutboxMessage, body: &Value) {
    let result = match m.kind.as_str() {
        "ContractRequestMessage" | "ContractOfferMessage"
            if m.url.ends_with("/negotiations/request")
                || m.url.ends_with("/negotiations/offers") =>
        {
            match ContractNegotiation::from_json(body) {
                Ok(ack) => {
                    learn_pids::<NegotiationRecord>(
                        state,
                        &m.process_id,
                        &ack.provider_pid,
                        Some(&ack.consumer_pid),
                    )
                    .await
                }
                Err(e) => Err(format!("acknowledgement is not a ContractNegotiation: {e}")),
            }
        }
        "TransferRequestMessage" => match TransferProcess::from_json(body) {
            // The consumer pid is ours, chosen with the request.
            Ok(ack) => {
                learn_pids::<TransferRecord>(state, &m.process_id, &ack.provider_pid, None).await
            }
            Err(e) => Err(format!("acknowledgement is not a TransferProcess: {e}")),
        },
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(process = %m.process_id, error = %e, "could not use an acknowledgement");
    }
}

/// Fills in what the acknowledgement of a creating message tells us and the process still lacks: the partner's pid
/// (`provider_pid`, and `consumer_pid` where we did not choose it ourselves) and the partner's DSP base.
async fn learn_pids<R: ProcessRow>(
    state: &Contracting,
    id: &str,
    provider_pid: &str,
    consumer_pid: Option<&str>,
) -> Result<(), String> {
    // An incoming message may have updated the row meanwhile (and taught us the pid already): re-read and retry.
    for _ in 0..5 {
        let Some(mut row) = state
            .store()
            .process::<R>(id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let p = row.common_mut();
        let mut changed = false;
        for (pid, learned) in [
            (p.provider_pid, Some(provider_pid)),
            (p.consumer_pid, consumer_pid),
        ] {
            if let (None, Some(learned)) = (pid.as_ref(), learned) {
                *pid = Some(learned.to_string());
                changed = true;
            }
        }
        if p.peer_address.is_none() {
            *p.peer_address = state.partners().dsp_base(p.partner).await;
            changed |= p.peer_address.is_some();
        }
        if !changed {
            return Ok(());
        }
        *p.version += 1;
        if state
            .store()
            .update_process(&row, &Change::new())
            .await
            .map_err(|e| e.to_string())?
        {
            // Wakes a partner's GET that waits for the process to have both pids.
            state.events().publish(id, row.common().state);
            return Ok(());
        }
    }
    Err(format!("{} kept changing", R::KIND))
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn a_refused_message_is_asked_again_spaced_out() {
        assert_eq!(super::refused_backoff_ms(1), 250);
        assert_eq!(super::refused_backoff_ms(3), 1000);
        assert_eq!(super::REFUSED_ATTEMPTS, 4);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(1), 25);
        assert_eq!(backoff_ms(2), 50);
        assert_eq!(backoff_ms(5), 400);
        assert_eq!(backoff_ms(30), 30_000);
    }
}
