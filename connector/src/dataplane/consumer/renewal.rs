//! Keeping the pull tokens of our STARTED transfers alive, so an application pulling through the local endpoint
//! for hours never sees the token expire. A provider that advertises the `pull-token-renewal` extension is asked
//! for a new token at two thirds of the old one's lifetime (by one worker per connector, one replica at a time
//! through the row's lease), and again on demand when a pull finds the token expired. Each renewal, or refusal,
//! is recorded in our audit log. Only a refusal with one of the extension's codes (or a provider without it) ends
//! automatic renewal; anything else may be passing (the provider cannot reach our keys for a moment, restarts,
//! throttles) and is tried again with a backoff of 1 s doubling to 60 s, for as long as the transfer is STARTED.
//! The transfer's view says which (`retrying: <why>`, `unavailable: <why>`), and so does the local endpoint's
//! answer once the token expired.

use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::{AuditEvent, EventKind};
use crate::contracting::pull_token;
use crate::dataplane::DataPlaneState;
use crate::partners::extensions::{self, Extension};
use crate::storage::{PullToken, StorageError, Store, TransferRecord};

/// What the view says of a token that renews itself.
pub const AUTOMATIC: &str = "automatic";

/// The start of the renewal status after a refusal that may be passing: tried again, with backoff.
const RETRYING: &str = "retrying: ";
/// The start of the renewal status after a final refusal: not tried again until a new start of the transfer.
const UNAVAILABLE: &str = "unavailable: ";

/// Why a renewal failed, and whether asking again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// Refused with one of the extension's codes, or the extension is not offered.
    Final(String),
    /// Anything else: no answer, a 5xx or 429, a 404 or 409 without such a code, a 401.
    Passing(String),
}

impl Failure {
    fn status(&self) -> String {
        match self {
            Failure::Final(why) => format!("{UNAVAILABLE}{why}"),
            Failure::Passing(why) => format!("{RETRYING}{why}"),
        }
    }
}

/// The first wait after a passing failure, doubled after each further one up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(60);

/// How long one renewal may hold its lease (a replica that dies holding it is replaced after this).
const LEASE: Duration = Duration::from_secs(30);

const TIMEOUT: Duration = Duration::from_secs(15);

/// How soon the worker tries again when it cannot read the store.
const RETRY: Duration = Duration::from_secs(5);

/// How long the worker sleeps at most: tokens another replica received are found at the latest after it.
const LONGEST_SLEEP: Duration = Duration::from_secs(30);

/// The live token as the transfer's view shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PullTokenView {
    /// When the current token expires (RFC 3339), if the provider said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// `automatic` (renewed before it expires), `retrying: <why>` (the last renewal failed for a reason that may
    /// pass; tried again with backoff), `unavailable: <why>` (refused for good, or not offered), or `checking`
    /// while the provider's extensions are being read.
    pub renewal: String,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// The view of consumer transfer `id`'s pull token; `None` while it has none (not started yet, or the provider's
/// address carried no token).
pub async fn view(store: &Store, id: &str) -> Result<Option<PullTokenView>, StorageError> {
    Ok(store.pull_token(id).await?.map(|p| PullTokenView {
        expires_at: p.expires_at.map(rfc3339),
        renewal: p.renewal.unwrap_or_else(|| "checking".to_string()),
    }))
}

/// When `p` is due for renewal: at two thirds of its lifetime, and never sooner than a second after it was issued
/// (so no lifetime, however short or odd, renews in a loop). `None` when the provider gave no lifetime.
fn due(p: &PullToken) -> Option<i64> {
    let expires = p.expires_at?;
    let lifetime = expires
        .saturating_sub(p.issued_at)
        .clamp(0, *pull_token::LIFETIMES.end());
    Some(p.issued_at.saturating_add((lifetime * 2 / 3).max(1)))
}

/// The token for a request of transfer `t` now: the stored one while it lasts, else a renewed one. `Err` says why
/// there is none, for the application's 401.
pub async fn current(state: &DataPlaneState, t: &TransferRecord) -> Result<PullToken, String> {
    let stored = state
        .store()
        .pull_token(&t.id)
        .await
        .map_err(|e| format!("the pull token cannot be read: {e}"))?;
    let Some(p) = stored else {
        return Err("the provider's data address carries no token".into());
    };
    let Some(expires) = p.expires_at.filter(|e| *e <= now()) else {
        return Ok(p);
    };
    let expired = |why: &str| {
        format!(
            "the pull token expired at {} and could not be renewed: {why}",
            rfc3339(expires)
        )
    };
    // A refusal, or a provider without the extension, is not asked again on every request (each would be a
    // request and an audit entry on both sides); a new start of the transfer asks again.
    if let Some(settled) = p.renewal.as_deref().filter(|r| r.starts_with(UNAVAILABLE)) {
        return Err(expired(settled.trim_start_matches(UNAVAILABLE)));
    }
    renew(state, t, &p.token).await.map_err(|why| expired(&why))
}

/// The token to use after the provider refused `seen` with 401: the one another replica renewed meanwhile, else a
/// renewed one. `None` when `seen` itself came from such a renewal (a token that new is refused for another reason,
/// which renewing would not cure; renewing on every refusal would flood the provider) or cannot be renewed.
pub async fn after_refusal(
    state: &DataPlaneState,
    t: &TransferRecord,
    seen: &str,
) -> Option<PullToken> {
    let stored = state.store().pull_token(&t.id).await.ok()??;
    if stored.token != seen {
        return Some(stored);
    }
    if RenewedAfterRefusal::holds(seen) {
        return None;
    }
    match renew(state, t, seen).await {
        Ok(p) => {
            RenewedAfterRefusal::add(&p.token);
            Some(p)
        }
        Err(why) => {
            tracing::info!(transfer = %t.id, reason = %why, "the provider refused the pull token and it could not be renewed");
            None
        }
    }
}

/// Digests of the tokens [`after_refusal`] obtained, process-wide (tokens are random, so connectors side by side
/// never share one). Bounded: cleared whole past [`RenewedAfterRefusal::MAX`], which only allows one more renewal.
struct RenewedAfterRefusal;

impl RenewedAfterRefusal {
    const MAX: usize = 10_000;

    fn set() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
        static SET: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
            std::sync::OnceLock::new();
        SET.get_or_init(Default::default)
    }

    fn holds(token: &str) -> bool {
        let digest = crate::contracting::transfer::token_hash(token);
        Self::set().lock().is_ok_and(|s| s.contains(&digest))
    }

    fn add(token: &str) {
        let digest = crate::contracting::transfer::token_hash(token);
        if let Ok(mut s) = Self::set().lock() {
            if s.len() >= Self::MAX {
                s.clear();
            }
            s.insert(digest);
        }
    }
}

/// Asks the provider for a new token for `t`, replacing `seen` (the token found wanting). Returns the token to
/// use: the new one, or the one another renewal (here or on another replica) or a new start of the transfer just
/// stored. `Err` says why not; after a passing failure, the provider is not asked again before the backoff ends.
pub async fn renew(
    state: &DataPlaneState,
    t: &TransferRecord,
    seen: &str,
) -> Result<PullToken, String> {
    let store = state.store();
    let before = store
        .pull_token(&t.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the transfer's token is gone".to_string())?;
    if before.token != seen {
        return Ok(before);
    }
    if let Some(why) = before
        .renewal
        .as_deref()
        .filter(|r| r.starts_with(RETRYING))
    {
        if let Some(wait) = Backoff::remaining(&t.id) {
            return Err(format!(
                "{why} (asked again in {} s)",
                wait.as_secs().max(1)
            ));
        }
    }
    let started = now_ms();
    let lease = started.saturating_add(LEASE.as_millis() as i64);
    if !store
        .claim_pull_token_renewal(&t.id, started, lease)
        .await
        .map_err(|e| e.to_string())?
    {
        // Someone else is renewing: wait for its outcome, bounded.
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok(Some(p)) = store.pull_token(&t.id).await {
                if p.token != seen {
                    return Ok(p);
                }
            }
        }
        return Err("another renewal of this token did not finish in time".into());
    }
    let outcome = ask(state, t).await;
    let (renewed, status) = match &outcome {
        Ok((token, expires_in)) => {
            let issued = now();
            (
                Some((
                    token.as_str(),
                    issued,
                    expires_in.map(|s| issued.saturating_add(s)),
                )),
                AUTOMATIC.to_string(),
            )
        }
        Err(failure) => (None, failure.status()),
    };
    let kept = store
        .finish_pull_token_renewal(&t.id, seen, lease, renewed, &status)
        .await
        .map_err(|e| e.to_string())?;
    match &outcome {
        Err(Failure::Passing(_)) => Backoff::failed(&t.id),
        _ => Backoff::clear(&t.id),
    }
    let p = store
        .pull_token(&t.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the transfer's token is gone".to_string())?;
    if !kept {
        // Our lease ran out and another renewal took it, or a new start stored a newer token: what we got is
        // older than what is kept, and is dropped (were it the provider's newest after all, its next 401 renews).
        tracing::info!(transfer = %t.id, "a pull token renewal lost its lease; its outcome is discarded");
        if outcome.is_ok() {
            audit_event(
                state,
                t,
                "pull token renewed by the provider and discarded: a newer token was kept meanwhile".into(),
            )
            .await;
        }
        return if p.token != seen {
            Ok(p)
        } else {
            Err("the renewal lost its lease to another one".into())
        };
    }
    // A renewal is always recorded; a failure only when it says something new (a provider down for an hour is
    // one entry, not one per attempt).
    if outcome.is_ok() || before.renewal.as_deref() != Some(status.as_str()) {
        audit(state, t, &outcome, &p).await;
    }
    match outcome {
        Ok(_) => Ok(p),
        Err(Failure::Final(why)) => Err(why),
        Err(Failure::Passing(why)) => Err(format!("{RETRYING}{why}")),
    }
}

/// The passing failures of renewals, per transfer, process-wide (ids are random, so connectors side by side in one
/// process never share one): how many in a row, and when the provider may be asked again. Each replica keeps its
/// own; the row's lease still lets only one renew at a time. A transfer that is retrying is asked at least every
/// [`LAST_RETRY`], so an entry not renewed for [`Backoff::STALE`] is of a transfer that ended or recovered, and is
/// dropped.
struct Backoff;

impl Backoff {
    fn map() -> &'static std::sync::Mutex<std::collections::HashMap<String, (u32, i64)>> {
        static MAP: std::sync::OnceLock<
            std::sync::Mutex<std::collections::HashMap<String, (u32, i64)>>,
        > = std::sync::OnceLock::new();
        MAP.get_or_init(Default::default)
    }

    /// The wait after `failures` passing failures in a row.
    fn delay(failures: u32) -> Duration {
        FIRST_RETRY
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
            .min(LAST_RETRY)
    }

    const STALE: Duration = Duration::from_secs(300);

    fn failed(id: &str) {
        if let Ok(mut m) = Self::map().lock() {
            let stale = now_ms().saturating_sub(Self::STALE.as_millis() as i64);
            m.retain(|_, e| e.1 >= stale);
            let entry = m.entry(id.to_string()).or_insert((0, 0));
            entry.0 = entry.0.saturating_add(1);
            entry.1 = now_ms().saturating_add(Self::delay(entry.0).as_millis() as i64);
        }
    }

    fn clear(id: &str) {
        if let Ok(mut m) = Self::map().lock() {
            m.remove(id);
        }
    }

    /// How long until transfer `id` may be asked for again; `None` when it may now.
    fn remaining(id: &str) -> Option<Duration> {
        let at = Self::map().lock().ok()?.get(id)?.1;
        let left = at.saturating_sub(now_ms());
        (left > 0).then(|| Duration::from_millis(left as u64))
    }

    /// When transfer `id` may be asked for again (Unix milliseconds), if it is backing off.
    fn next_at(id: &str) -> Option<i64> {
        Self::map().lock().ok()?.get(id).map(|e| e.1)
    }
}

/// One renewal request: the new token and its lifetime in seconds, or why not.
async fn ask(state: &DataPlaneState, t: &TransferRecord) -> Result<(String, Option<i64>), Failure> {
    let partner = &t.partner;
    let advertised = extensions::advertised(state.partners(), partner)
        .await
        .map_err(|e| Failure::Passing(format!("cannot read the provider's extensions: {e}")))?;
    let Some(path) = advertised.path(Extension::PullTokenRenewal) else {
        return Err(Failure::Final(not_offered()));
    };
    let (Some(provider_pid), Some(consumer_pid)) = (&t.provider_pid, &t.consumer_pid) else {
        return Err(Failure::Passing(
            "the provider's pid is not known yet".into(),
        ));
    };
    let base = state
        .partners()
        .discover(partner)
        .await
        .map_err(|e| Failure::Passing(format!("the provider could not be reached: {e}")))?;
    let url = format!(
        "{base}{}",
        path.replace(
            "{providerPid}",
            &crate::client::encode_segment(provider_pid)
        )
    );
    let token = state
        .identity()
        .token_for(partner)
        .map_err(|e| Failure::Passing(format!("cannot sign a request token: {e}")))?;
    let (request, _span) = state.partners().traces().outgoing(
        state
            .partners()
            .http()
            .post(&url)
            .bearer_auth(token)
            .json(&json!({"providerPid": provider_pid, "consumerPid": consumer_pid}))
            .timeout(TIMEOUT),
        "pull token renewal",
    );
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Passing(format!("the provider could not be reached: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(refusal(status.as_u16(), &body));
    }
    // Only the token is taken: the endpoint stays the one the transfer started with (and was vetted then).
    let (_, token, expires_in) = pull_token::split(&body["dataAddress"]);
    let token =
        token.ok_or_else(|| Failure::Passing("the provider's answer carries no token".into()))?;
    Ok((token, expires_in))
}

/// What a provider's non-2xx answer to a renewal means. Only a refusal naming one of the extension's codes is
/// final: a `404` or `401` without one is what a provider answers when it cannot check our identity for a
/// moment (our JWKS unreachable), a `409` a concurrent change, a `429` or `5xx` a provider busy or restarting.
fn refusal(status: u16, body: &Value) -> Failure {
    let code = body["code"]
        .as_str()
        .filter(|c| pull_token::REFUSAL_CODES.contains(c));
    let reason = match &body["reason"] {
        Value::Array(r) => r
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let reason: String = reason.chars().take(500).collect();
    match code {
        Some(code) if (400..500).contains(&status) && status != 429 => Failure::Final(format!(
            "the provider refused to renew the token (HTTP {status}, {code}): {reason}"
        )),
        _ => Failure::Passing(format!(
            "the provider answered HTTP {status}{}{}",
            if reason.is_empty() { "" } else { ": " },
            reason
        )),
    }
}

fn not_offered() -> String {
    format!(
        "the provider does not advertise the {} extension in its {}; the transfer must be \
         restarted once the token expires",
        Extension::PullTokenRenewal.name(),
        extensions::WELL_KNOWN_PATH
    )
}

/// Our audit entry for a renewal or a failed one.
async fn audit(
    state: &DataPlaneState,
    t: &TransferRecord,
    outcome: &Result<(String, Option<i64>), Failure>,
    p: &PullToken,
) {
    let event = match outcome {
        Ok(_) => format!(
            "pull token renewed by the provider{}",
            p.expires_at
                .map(|e| format!("; it expires at {}", rfc3339(e)))
                .unwrap_or_default()
        ),
        Err(failure) => format!("pull token not renewed: {}", failure.status()),
    };
    audit_event(state, t, event).await;
}

async fn audit_event(state: &DataPlaneState, t: &TransferRecord, event: String) {
    let mut e = AuditEvent::new(
        EventKind::TransferState,
        json!({"process": t.id, "protocol": "transfer", "from": t.state, "to": t.state, "event": event}),
    );
    e.partner = Some(t.partner.clone());
    e.agreement = Some(t.agreement_id.clone());
    e.transfer = Some(t.id.clone());
    if let Err(err) = state.audit().append(e).await {
        tracing::error!(transfer = %t.id, error = %err, "cannot record a pull token renewal");
    }
}

/// Starts the worker that renews tokens before they expire; it ends when the data plane stops. Besides its own
/// schedule it wakes when a transfer (re)starts, which is when a new token arrives.
pub fn spawn(state: &DataPlaneState) {
    use tokio::sync::broadcast::error::RecvError;
    let worker = state.clone();
    state.data_plane().spawn_tracked(async move {
        let stopping = worker.data_plane().stopping().clone();
        let mut changes = worker.contracting().events().subscribe();
        loop {
            // A stop does not wait for a renewal in flight: its lease simply runs out.
            let sleep = tokio::select! {
                _ = stopping.cancelled() => return,
                sleep = round(&worker) => sleep,
            };
            let deadline = tokio::time::Instant::now() + sleep;
            loop {
                tokio::select! {
                    _ = stopping.cancelled() => return,
                    _ = tokio::time::sleep_until(deadline) => break,
                    change = changes.recv() => match change {
                        Ok(c) if c.state == "STARTED" => break,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => {
                            tokio::select! {
                                _ = stopping.cancelled() => return,
                                _ = tokio::time::sleep_until(deadline) => break,
                            }
                        }
                    },
                }
            }
        }
    });
}

/// Looks at every live token once: finds out whether new ones can be renewed, renews those due (and those whose
/// last renewal failed for a passing reason, once their backoff ended). Returns how long to sleep until the next.
async fn round(state: &DataPlaneState) -> Duration {
    let tokens = match state.store().live_pull_tokens().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the pull tokens to renew");
            return RETRY;
        }
    };
    let mut next = now_ms().saturating_add(LONGEST_SLEEP.as_millis() as i64);
    for p in tokens {
        let Ok(Some(t)) = state.store().transfer(&p.transfer_id).await else {
            continue;
        };
        let renewal = match p.renewal.clone() {
            Some(r) => r,
            None => {
                let status = match extensions::advertised(state.partners(), &t.partner).await {
                    Ok(a) if a.offers(Extension::PullTokenRenewal) => AUTOMATIC.to_string(),
                    Ok(_) => Failure::Final(not_offered()).status(),
                    Err(e) => {
                        Failure::Passing(format!("cannot read the provider's extensions: {e}"))
                            .status()
                    }
                };
                if let Err(e) = state
                    .store()
                    .first_pull_token_renewal_status(&p.transfer_id, &p.token, &status)
                    .await
                {
                    tracing::warn!(error = %e, "cannot record whether a pull token renews");
                }
                status
            }
        };
        // Refused for good or not offered: a new start of the transfer brings a new token and a new question.
        if renewal.starts_with(UNAVAILABLE) {
            continue;
        }
        let retrying = renewal.starts_with(RETRYING);
        // A token without a lifetime is renewed only when the provider refuses it, unless that renewal failed.
        let Some(due_ms) = due(&p)
            .map(|d| d.saturating_mul(1000))
            .or_else(|| retrying.then(now_ms))
        else {
            continue;
        };
        let at = match Backoff::next_at(&t.id).filter(|_| retrying) {
            Some(backoff) => due_ms.max(backoff),
            None => due_ms,
        };
        if at > now_ms() {
            next = next.min(at);
            continue;
        }
        match renew(state, &t, &p.token).await {
            Ok(renewed) => {
                if let Some(d) = due(&renewed) {
                    next = next.min(d.saturating_mul(1000));
                }
            }
            Err(why) => {
                tracing::warn!(transfer = %t.id, partner = %t.partner, reason = %why, "pull token not renewed");
                let retry = Backoff::next_at(&t.id)
                    .unwrap_or_else(|| now_ms().saturating_add(FIRST_RETRY.as_millis() as i64));
                next = next.min(retry);
            }
        }
    }
    let wait = next.saturating_sub(now_ms()).max(0) as u64;
    // Due times are whole seconds, coarse for a lifetime of a few seconds: wake a little early rather than late.
    Duration::from_millis(wait.saturating_sub(200).max(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(issued_at: i64, expires_at: Option<i64>) -> PullToken {
        PullToken {
            transfer_id: "t".into(),
            token: "x".into(),
            issued_at,
            expires_at,
            renewal: None,
        }
    }

    #[test]
    fn a_token_is_due_at_two_thirds_of_its_lifetime() {
        assert_eq!(due(&token(1000, Some(1900))), Some(1600));
        assert_eq!(due(&token(1000, Some(1003))), Some(1002));
        assert_eq!(due(&token(1000, None)), None);
    }

    #[test]
    fn a_huge_or_odd_lifetime_neither_overflows_nor_renews_in_a_loop() {
        // Stored before lifetimes were bounded, or an expiry before the issue: at most a day, at least a second.
        assert_eq!(due(&token(1000, Some(i64::MAX))), Some(1000 + 57_600));
        assert_eq!(
            due(&token(i64::MAX - 5, Some(i64::MAX))),
            Some(i64::MAX - 2)
        );
        assert_eq!(due(&token(1000, Some(i64::MIN))), Some(1001));
        assert_eq!(due(&token(1000, Some(900))), Some(1001));
        assert_eq!(due(&token(1000, Some(1001))), Some(1001));
    }

    #[test]
    fn only_the_extensions_refusal_codes_are_final() {
        let body = |code: &str| json!({"@type": "TransferError", "code": code, "reason": ["why"]});
        for code in pull_token::REFUSAL_CODES {
            let f = refusal(400, &body(code));
            assert!(matches!(f, Failure::Final(_)), "{code}: {f:?}");
            assert!(
                f.status().starts_with("unavailable: the provider refused"),
                "{f:?}"
            );
            assert!(f.status().contains(code), "{f:?}");
        }
        assert!(matches!(
            refusal(404, &body("policy-denied")),
            Failure::Final(_)
        ));
        for (status, body) in [
            (404, Value::Null),
            (401, Value::Null),
            (409, body("conflict")),
            (400, body("something-else")),
            (400, json!({"code": 7})),
            (429, body("policy-denied")),
            (500, body("policy-denied")),
            (503, Value::Null),
        ] {
            let f = refusal(status, &body);
            assert!(matches!(f, Failure::Passing(_)), "{status} {body}: {f:?}");
            assert!(
                f.status()
                    .starts_with("retrying: the provider answered HTTP"),
                "{f:?}"
            );
        }
    }

    #[test]
    fn passing_failures_back_off_from_one_second_to_a_minute() {
        let waits: Vec<u64> = (1..=9).map(|n| Backoff::delay(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(Backoff::delay(u32::MAX), LAST_RETRY);
        let id = uuid::Uuid::new_v4().to_string();
        assert_eq!(Backoff::remaining(&id), None);
        Backoff::failed(&id);
        Backoff::failed(&id);
        let left = Backoff::remaining(&id).unwrap();
        assert!(
            left > Duration::from_millis(1500) && left <= Duration::from_secs(2),
            "{left:?}"
        );
        Backoff::clear(&id);
        assert_eq!(Backoff::remaining(&id), None);
        assert_eq!(Backoff::next_at(&id), None);
    }

    #[test]
    fn a_token_renewed_after_a_refusal_is_not_renewed_again_for_one() {
        let token = uuid::Uuid::new_v4().to_string();
        assert!(!RenewedAfterRefusal::holds(&token));
        RenewedAfterRefusal::add(&token);
        assert!(RenewedAfterRefusal::holds(&token));
        assert!(!RenewedAfterRefusal::holds("another"));
    }

    #[test]
    fn the_refusal_statuses_read_as_unavailable_or_retrying() {
        let offered = Failure::Final(not_offered()).status();
        assert!(offered.starts_with("unavailable: the provider does not advertise"));
        assert!(offered.contains("pull-token-renewal"));
        assert_eq!(Failure::Passing("x".into()).status(), "retrying: x");
    }
}
