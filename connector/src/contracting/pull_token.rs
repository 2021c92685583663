//! Pull tokens in both roles. As provider: issuing a token for a pull transfer's data address (only its SHA-256
//! is stored, with its expiry) and renewing it for the transfer's consumer through the `pull-token-renewal`
//! extension, only while the transfer is STARTED and the agreement still permits it in the `transfer` scope, so a
//! long pull never has to restart its transfer. As consumer: taking the token out of the data address a provider
//! sends, so it is kept only where our data plane reads it (`pull_tokens`), never in the address or history that
//! operators and viewers see.

use serde_json::{json, Value};
use twinport_contracts::transfer::{DataAddress, EndpointProperty, HTTP_ENDPOINT_TYPE};

use super::error::Protocol;
use super::transfer::{new_token, process, save, token_hash, transfer_scope, PULL};
use super::{audit_trail, Contracting, ProcessError, PROVIDER};
use crate::storage::{Change, TransferRecord};

/// The endpoint property carrying the token.
pub const AUTHORIZATION: &str = "authorization";
/// The endpoint property saying how many seconds the token lasts from when it was issued (the name Tractus-X's
/// EDRs use for the same thing).
pub const EXPIRES_IN: &str = "expiresIn";

/// The lifetimes a provider may give, in seconds: the range a Twinport provider itself may be configured with
/// (widened to 1 s at the bottom). A received `expiresIn` outside is read as the nearer bound, so a provider can
/// neither make the consumer renew in a loop nor overflow its arithmetic.
pub const LIFETIMES: std::ops::RangeInclusive<i64> = 1..=86_400;

/// The refusal codes of the `pull-token-renewal` extension. Each says something about the transfer (or the
/// request) that asking again will not change, so a consumer stops renewing on them; any other refusal (a `404`
/// without one of these, `409`, `401`, `429`, `5xx`, no answer) may be passing and is tried again.
pub const TRANSFER_NOT_STARTED: &str = "transfer-not-started";
pub const POLICY_DENIED: &str = "policy-denied";
pub const PID_MISMATCH: &str = "pid-mismatch";
pub const NOT_A_PULL_TRANSFER: &str = "not-a-pull-transfer";
pub const MALFORMED_MESSAGE: &str = "malformed-message";
pub const REFUSAL_CODES: [&str; 5] = [
    TRANSFER_NOT_STARTED,
    POLICY_DENIED,
    PID_MISMATCH,
    NOT_A_PULL_TRANSFER,
    MALFORMED_MESSAGE,
];

/// How often the same refusal of a transfer's renewal is recorded at most: the first is recorded at once, a
/// repeat only when the last record of it is older than this (with how many were answered in between).
const REFUSAL_RECORD_INTERVAL: time::Duration = time::Duration::minutes(1);

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A fresh token for `t` (whose hash and expiry it takes) and the data address that hands it to the consumer.
pub(super) fn issue(
    state: &Contracting,
    t: &mut TransferRecord,
    provider_pid: &str,
) -> DataAddress {
    let lifetime = state.settings().pull_token_lifetime.as_secs() as i64;
    let token = new_token();
    t.token_hash = Some(token_hash(&token));
    t.token_expires = Some(unix_now() + lifetime);
    DataAddress {
        endpoint_type: HTTP_ENDPOINT_TYPE.to_string(),
        endpoint: Some(format!("{}/data/{}", state.public_url(), provider_pid)),
        endpoint_properties: vec![
            EndpointProperty {
                name: AUTHORIZATION.into(),
                value: token,
            },
            EndpointProperty {
                name: "authType".into(),
                value: "bearer".into(),
            },
            EndpointProperty {
                name: EXPIRES_IN.into(),
                value: lifetime.to_string(),
            },
        ],
    }
}

/// Splits a data address into the address without its token and the token (the first `authorization` property
/// with a text value), and the lifetime it announces in seconds, if any.
pub fn split(address: &Value) -> (Value, Option<String>, Option<i64>) {
    let mut kept = address.clone();
    let mut token = None;
    let mut expires_in = None;
    if let Some(props) = kept
        .get_mut("endpointProperties")
        .and_then(Value::as_array_mut)
    {
        props.retain(|p| {
            let name = p.get("name").and_then(Value::as_str);
            let value = p.get("value");
            if name == Some(EXPIRES_IN) {
                expires_in = value.and_then(lifetime);
            }
            if name != Some(AUTHORIZATION) {
                return true;
            }
            if token.is_none() {
                token = value.and_then(Value::as_str).map(str::to_string);
            }
            false
        });
    }
    (kept, token, expires_in)
}

/// The lifetime an `expiresIn` value announces, within [`LIFETIMES`]: a whole number outside is read as the
/// nearer bound, anything else (text, a fraction) as no lifetime at all. Either is logged.
fn lifetime(value: &Value) -> Option<i64> {
    let whole: Option<i128> = match value {
        Value::String(s) => s.trim().parse::<i128>().ok(),
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    };
    let Some(whole) = whole else {
        tracing::warn!(%value, "the provider's expiresIn is not a whole number of seconds; the token is taken as having no announced lifetime");
        return None;
    };
    let (low, high) = (*LIFETIMES.start(), *LIFETIMES.end());
    let kept = whole.clamp(i128::from(low), i128::from(high)) as i64;
    if i128::from(kept) != whole {
        tracing::warn!(%value, kept, "the provider's expiresIn is out of range; the nearer bound is used");
    }
    Some(kept)
}

/// Consumer side: keeps the token of the data address a provider just sent for our transfer `id` in the store
/// and returns the address without it, for the transfer row and its history.
pub(super) async fn keep_received(
    state: &Contracting,
    id: &str,
    address: &Value,
) -> Result<Value, ProcessError> {
    let (kept, token, expires_in) = split(address);
    if let Some(token) = token {
        let now = unix_now();
        state
            .store()
            .put_pull_token(id, &token, now, expires_in.map(|s| now.saturating_add(s)))
            .await?;
    }
    Ok(kept)
}

/// Provider side: once our `TransferStartMessage` has been delivered (or given up), its stored copy loses the
/// token it carried; only the token's hash stays, on the transfer. Failing to do so is logged, never fatal.
pub(super) async fn forget_sent(state: &Contracting, m: &crate::storage::OutboxMessage) {
    if m.kind != "TransferStartMessage" {
        return;
    }
    let Some(address) = m.body.get("dataAddress") else {
        return;
    };
    let (kept, token, _) = split(address);
    if token.is_none() {
        return;
    }
    let mut body = m.body.clone();
    body["dataAddress"] = kept;
    if let Err(e) = state.store().forget_sent_token(m.id, &body).await {
        tracing::warn!(message = m.id, error = %e, "cannot drop the pull token from a sent message");
    }
}

/// The provider's answer to a renewal: the transfer's data address with the new token, and when it expires.
#[derive(Debug, Clone)]
pub struct Renewed {
    pub body: Value,
}

fn refuse(t: &TransferRecord, code: &'static str, reason: impl Into<String>) -> ProcessError {
    ProcessError::invalid(
        Protocol::Transfer,
        t.provider_pid.as_deref(),
        t.consumer_pid.as_deref(),
        code,
        reason,
    )
}

/// `POST <base>/transfers/{providerPid}/pull-token` from `partner`: a new token for our pull transfer `pid`,
/// which revokes the one before. Only the transfer's consumer reaches it (another partner's transfer is not
/// found), only while the transfer is STARTED with nothing of ours on the way to stop it, and only if the
/// agreement still permits the transfer; a refusal names why and is recorded like a renewal.
pub async fn renew(
    state: &Contracting,
    partner: &str,
    pid: &str,
    body: &Value,
) -> Result<Renewed, ProcessError> {
    let t = super::transfer::lookup(state, partner, pid).await?;
    if t.role != PROVIDER {
        // Only a provider issues pull tokens; to the caller this is no transfer of ours to renew.
        return Err(ProcessError::NotFound);
    }
    super::pids::check(t.provider_pid.as_deref(), t.consumer_pid.as_deref(), body)
        .map_err(|reason| refuse(&t, PID_MISMATCH, reason))?;
    if t.format != PULL {
        return Err(refuse(
            &t,
            NOT_A_PULL_TRANSFER,
            format!(
                "transfer {pid} is {}; only {PULL} transfers have a pull token",
                t.format
            ),
        ));
    }
    let planned = super::acknowledgement::planned_state(state, &t.id, &t.state).await?;
    if t.state != "STARTED" || planned != "STARTED" {
        let now = if planned != t.state {
            format!("{} (becoming {planned})", t.state)
        } else {
            t.state.clone()
        };
        return Err(refused(
            state,
            &t,
            TRANSFER_NOT_STARTED,
            format!("the transfer is {now}; a pull token is renewed only while it is STARTED"),
            None,
        )
        .await);
    }
    let (permitted, report, reasons) = transfer_scope(state, &t).await?;
    if !permitted {
        return Err(refused(
            state,
            &t,
            POLICY_DENIED,
            format!(
                "the agreement no longer permits this transfer: {}",
                reasons.join("; ")
            ),
            Some(report),
        )
        .await);
    }
    let provider_pid = t.provider_pid.clone().unwrap_or_default();
    let consumer_pid = t.consumer_pid.clone().unwrap_or_default();
    let mut t = t;
    let address = issue(state, &mut t, &provider_pid);
    let expires_at = rfc3339(t.token_expires.unwrap_or_default());
    let change = Change::new().history(
        Some("STARTED"),
        "STARTED",
        format!("renewed the pull token for {partner}; the new one expires at {expires_at} and the old one is revoked"),
        Some(report),
    );
    save(state, t, change).await?;
    Ok(Renewed {
        body: json!({
            "providerPid": provider_pid,
            "consumerPid": consumer_pid,
            "dataAddress": address.to_json(),
            "expiresAt": expires_at,
        }),
    })
}

/// Records a refused renewal in the transfer's history and the audit log, and returns the refusal. A consumer
/// may ask again as often as it likes, so not every refusal is recorded: the first of each code in each state of
/// the transfer is, with its reason (and the policy decision); an identical one (same code, state and reason)
/// again only once the last record of it is [`REFUSAL_RECORD_INTERVAL`] old, saying how many were answered
/// unrecorded since (as this connector process counted them). In between, the refusal is answered the same,
/// without a write.
async fn refused(
    state: &Contracting,
    t: &TransferRecord,
    code: &'static str,
    reason: String,
    report: Option<String>,
) -> ProcessError {
    let recorded = async {
        let kind = format!("refused to renew the pull token ({code})");
        let first = format!("{kind}: {reason}");
        let last = state
            .store()
            .last_history_line(&t.id, &t.state, &kind)
            .await?
            .filter(|(_, event)| {
                *event == first || event.starts_with(&format!("{kind} again: {reason} ("))
            });
        let repeat = Repeat::key(t, code, &reason);
        let event = match &last {
            None => first,
            Some((at, _)) => {
                let recent =
                    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                        .is_ok_and(|at| {
                            time::OffsetDateTime::now_utc() - at < REFUSAL_RECORD_INTERVAL
                        });
                if recent {
                    Repeat::count(repeat);
                    return Ok(());
                }
                format!(
                    "{kind} again: {reason} ({} identical refusals answered without a record since {at})",
                    Repeat::take(&repeat)
                )
            }
        };
        let change = Change::new().history(Some(&t.state), &t.state, &event, report.clone());
        state.store().note(&t.id, &t.state, &event, report).await?;
        audit_trail::record(state, &process(t), &change).await
    };
    if let Err(e) = recorded.await {
        return e;
    }
    refuse(t, code, reason)
}

/// The refusals answered without a record, per transfer, state, code and reason, process-wide (ids are random, so
/// connectors side by side in one process never share a key). Bounded: cleared whole past [`Repeat::MAX`] keys,
/// which only loses counts.
struct Repeat;

impl Repeat {
    const MAX: usize = 10_000;

    fn map() -> &'static std::sync::Mutex<std::collections::HashMap<String, u64>> {
        static MAP: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, u64>>> =
            std::sync::OnceLock::new();
        MAP.get_or_init(Default::default)
    }

    fn key(t: &TransferRecord, code: &str, reason: &str) -> String {
        format!("{}\n{}\n{code}\n{reason}", t.id, t.state)
    }

    fn count(key: String) {
        if let Ok(mut m) = Self::map().lock() {
            if m.len() >= Self::MAX && !m.contains_key(&key) {
                m.clear();
            }
            *m.entry(key).or_default() += 1;
        }
    }

    fn take(key: &str) -> u64 {
        Self::map()
            .lock()
            .ok()
            .and_then(|mut m| m.remove(key))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_taken_out_of_the_address_and_the_rest_kept() {
        let address = json!({"@type": "DataAddress", "endpoint": "https://a.example/data/p",
        "endpointType": HTTP_ENDPOINT_TYPE,
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": "secret"},
            {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
            {"@type": "EndpointProperty", "name": "expiresIn", "value": "900"},
            {"@type": "EndpointProperty", "name": "authorization", "value": "second"}
        ]});
        let (kept, token, expires_in) = split(&address);
        assert_eq!(token.as_deref(), Some("secret"));
        assert_eq!(expires_in, Some(900));
        assert!(!kept.to_string().contains("secret"), "{kept}");
        assert!(!kept.to_string().contains("second"), "{kept}");
        assert_eq!(kept["endpointProperties"].as_array().unwrap().len(), 2);
        assert_eq!(kept["endpoint"], address["endpoint"]);
    }

    #[test]
    fn an_address_without_a_token_or_lifetime_is_kept_as_it_is() {
        let address = json!({"@type": "DataAddress", "endpoint": "http://example.com",
            "endpointType": HTTP_ENDPOINT_TYPE});
        assert_eq!(split(&address), (address.clone(), None, None));
        let odd = json!({"endpointProperties": [{"name": "expiresIn", "value": "abc"},
            {"name": "authorization", "value": 7}]});
        let (kept, token, expires_in) = split(&odd);
        assert_eq!((token, expires_in), (None, None));
        assert_eq!(kept["endpointProperties"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_lifetime_out_of_range_is_read_as_the_nearer_bound() {
        let expires_in = |value: Value| {
            split(&json!({"endpointProperties": [
                {"name": "authorization", "value": "t"}, {"name": "expiresIn", "value": value}]}))
            .2
        };
        assert_eq!(expires_in(json!("9223372036854775807")), Some(86_400));
        assert_eq!(expires_in(json!("99999999999999999999999")), Some(86_400));
        assert_eq!(expires_in(json!(u64::MAX)), Some(86_400));
        assert_eq!(expires_in(json!(i64::MIN)), Some(1));
        assert_eq!(expires_in(json!("0")), Some(1));
        assert_eq!(expires_in(json!("-5")), Some(1));
        assert_eq!(expires_in(json!(" 900 ")), Some(900));
        assert_eq!(expires_in(json!(86_400)), Some(86_400));
        assert_eq!(expires_in(json!("abc")), None);
        assert_eq!(expires_in(json!(1.5)), None);
        assert_eq!(expires_in(json!(null)), None);
    }

    #[test]
    fn repeated_refusals_are_counted_until_taken() {
        let t = TransferRecord {
            id: uuid::Uuid::new_v4().to_string(),
            role: "provider".into(),
            provider_pid: None,
            consumer_pid: None,
            partner: "p".into(),
            agreement_id: "a".into(),
            state: "SUSPENDED".into(),
            format: PULL.into(),
            peer_address: None,
            data_address: None,
            token_hash: None,
            token_expires: None,
            version: 0,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let key = Repeat::key(&t, TRANSFER_NOT_STARTED, "why");
        assert_eq!(Repeat::take(&key), 0);
        Repeat::count(key.clone());
        Repeat::count(key.clone());
        assert_eq!(Repeat::take(&Repeat::key(&t, POLICY_DENIED, "why")), 0);
        assert_eq!(
            Repeat::take(&Repeat::key(&t, TRANSFER_NOT_STARTED, "other")),
            0
        );
        assert_eq!(Repeat::take(&key), 2);
        assert_eq!(Repeat::take(&key), 0);
    }
}
