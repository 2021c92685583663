//! Keeping the pull tokens of our STARTED transfers alive, so an application pulling through the local endpoint
//! for hours never sees the token expire. A provider that advertises the `pull-token-renewal` extension is asked
//! for a new token at two thirds of the old one's lifetime (by one worker per connector, one replica at a time
//! through the row's lease), and again on demand when a pull finds the token expired. Each renewal, or refusal,
//! is recorded in our audit log. When renewal is impossible (the provider does not advertise it, refuses it, or
//! cannot be reached) the transfer's view says so, and so does the local endpoint's answer once the token expired.

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

/// The start of the renewal status while the provider cannot be reached: tried again, unlike a refusal.
const UNREACHABLE: &str = "unavailable: the provider could not be reached to renew the token";

/// How long one renewal may hold its lease (a replica that dies holding it is replaced after this).
const LEASE: Duration = Duration::from_secs(30);

const TIMEOUT: Duration = Duration::from_secs(15);

/// How soon a renewal that could not reach the provider is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// How long the worker sleeps at most: tokens another replica received are found at the latest after it.
const LONGEST_SLEEP: Duration = Duration::from_secs(30);

/// The live token as the transfer's view shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PullTokenView {
    /// When the current token expires (RFC 3339), if the provider said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// `automatic` (renewed before it expires), `unavailable: <why>`, or `checking` while the provider's
    /// extensions are being read.
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

/// When `p` is due for renewal: at two thirds of its lifetime. `None` when the provider gave no lifetime.
fn due(p: &PullToken) -> Option<i64> {
    let expires = p.expires_at?;
    Some(p.issued_at + (expires - p.issued_at).max(0) * 2 / 3)
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
    if let Some(settled) = p
        .renewal
        .as_deref()
        .filter(|r| r.starts_with("unavailable: ") && !r.starts_with(UNREACHABLE))
    {
        return Err(expired(settled.trim_start_matches("unavailable: ")));
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
/// use: the new one, or the one another renewal (here or on another replica) just got. `Err` says why not.
pub async fn renew(
    state: &DataPlaneState,
    t: &TransferRecord,
    seen: &str,
) -> Result<PullToken, String> {
    let store = state.store();
    let started = now_ms();
    if !store
        .claim_pull_token_renewal(&t.id, started, started + LEASE.as_millis() as i64)
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
                Some((token.as_str(), issued, expires_in.map(|s| issued + s))),
                AUTOMATIC.to_string(),
            )
        }
        Err(why) => (None, why.clone()),
    };
    store
        .finish_pull_token_renewal(&t.id, renewed, &status)
        .await
        .map_err(|e| e.to_string())?;
    let p = store
        .pull_token(&t.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the transfer's token is gone".to_string())?;
    audit(state, t, &outcome, &p).await;
    match outcome {
        Ok(_) => Ok(p),
        Err(why) => Err(why.trim_start_matches("unavailable: ").to_string()),
    }
}

/// One renewal request: the new token and its lifetime in seconds, or the status to show (`unavailable: …`).
async fn ask(state: &DataPlaneState, t: &TransferRecord) -> Result<(String, Option<i64>), String> {
    let partner = &t.partner;
    let advertised = extensions::advertised(state.partners(), partner)
        .await
        .map_err(|e| format!("{UNREACHABLE}: cannot read its extensions: {e}"))?;
    let Some(path) = advertised.path(Extension::PullTokenRenewal) else {
        return Err(not_offered());
    };
    let (Some(provider_pid), Some(consumer_pid)) = (&t.provider_pid, &t.consumer_pid) else {
        return Err("unavailable: the provider's pid is not known yet".into());
    };
    let base = state
        .partners()
        .discover(partner)
        .await
        .map_err(|e| format!("{UNREACHABLE}: {e}"))?;
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
        .map_err(|e| format!("unavailable: cannot sign a request token: {e}"))?;
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
        .map_err(|e| format!("{UNREACHABLE}: {e}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(format!(
            "{UNREACHABLE}: it answered HTTP {}",
            status.as_u16()
        ));
    }
    if !status.is_success() {
        let code = body["code"].as_str().unwrap_or("no code");
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
        return Err(format!(
            "unavailable: the provider refused to renew the token (HTTP {}, {code}): {reason}",
            status.as_u16()
        ));
    }
    // Only the token is taken: the endpoint stays the one the transfer started with (and was vetted then).
    let (_, token, expires_in) = pull_token::split(&body["dataAddress"]);
    let token = token.ok_or_else(|| format!("{UNREACHABLE}: its answer carries no token"))?;
    Ok((token, expires_in))
}

fn not_offered() -> String {
    format!(
        "unavailable: the provider does not advertise the {} extension in its {}; the transfer must be \
         restarted once the token expires",
        Extension::PullTokenRenewal.name(),
        extensions::WELL_KNOWN_PATH
    )
}

/// Our audit entry for a renewal or a refused one.
async fn audit(
    state: &DataPlaneState,
    t: &TransferRecord,
    outcome: &Result<(String, Option<i64>), String>,
    p: &PullToken,
) {
    let event = match outcome {
        Ok(_) => format!(
            "pull token renewed by the provider{}",
            p.expires_at
                .map(|e| format!("; it expires at {}", rfc3339(e)))
                .unwrap_or_default()
        ),
        Err(why) => format!("pull token not renewed: {why}"),
    };
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

/// Looks at every live token once: finds out whether new ones can be renewed, renews those due. Returns how
/// long to sleep until the next is due.
async fn round(state: &DataPlaneState) -> Duration {
    let tokens = match state.store().live_pull_tokens().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the pull tokens to renew");
            return RETRY;
        }
    };
    let mut next = now() + LONGEST_SLEEP.as_secs() as i64;
    for p in tokens {
        let Ok(Some(t)) = state.store().transfer(&p.transfer_id).await else {
            continue;
        };
        if p.renewal.is_none() {
            let status = match extensions::advertised(state.partners(), &t.partner).await {
                Ok(a) if a.offers(Extension::PullTokenRenewal) => AUTOMATIC.to_string(),
                Ok(_) => not_offered(),
                Err(e) => format!("{UNREACHABLE}: cannot read its extensions: {e}"),
            };
            if let Err(e) = state
                .store()
                .finish_pull_token_renewal(&p.transfer_id, None, &status)
                .await
            {
                tracing::warn!(error = %e, "cannot record whether a pull token renews");
            }
            if status != AUTOMATIC && !status.starts_with(UNREACHABLE) {
                continue;
            }
        } else if p
            .renewal
            .as_deref()
            .is_some_and(|r| r != AUTOMATIC && !r.starts_with(UNREACHABLE))
        {
            // Refused or not offered: a new start of the transfer brings a new token and a new question.
            continue;
        }
        let Some(at) = due(&p) else { continue };
        let unreachable = p
            .renewal
            .as_deref()
            .is_some_and(|r| r.starts_with(UNREACHABLE));
        if at <= now() {
            match renew(state, &t, &p.token).await {
                Ok(renewed) => {
                    if let Some(d) = due(&renewed) {
                        next = next.min(d);
                    }
                }
                Err(why) => {
                    tracing::warn!(transfer = %t.id, partner = %t.partner, reason = %why, "pull token not renewed");
                    next = next.min(now() + RETRY.as_secs() as i64);
                }
            }
        } else if unreachable {
            next = next.min(at.min(now() + RETRY.as_secs() as i64));
        } else {
            next = next.min(at);
        }
    }
    let wait = (next - now()).max(0) as u64;
    // Whole seconds are coarse for a lifetime of a few seconds: wake a little early rather than late.
    Duration::from_millis((wait * 1000).saturating_sub(200).max(100))
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
        // An expiry in the past is due at once.
        assert_eq!(due(&token(1000, Some(900))), Some(1000));
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
    fn the_refusal_statuses_read_as_unavailable() {
        assert!(not_offered().starts_with("unavailable: "));
        assert!(not_offered().contains("pull-token-renewal"));
        assert!(UNREACHABLE.starts_with("unavailable: "));
    }
}
