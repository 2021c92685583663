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
                expires_in = match value {
                    Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
                    Some(Value::Number(n)) => n.as_i64(),
                    _ => None,
                }
                .filter(|s| *s > 0);
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
        .map_err(|reason| refuse(&t, "pid-mismatch", reason))?;
    if t.format != PULL {
        return Err(refuse(
            &t,
            "not-a-pull-transfer",
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
            "transfer-not-started",
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
            "policy-denied",
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

/// Records a refused renewal in the transfer's history and the audit log, and returns the refusal.
async fn refused(
    state: &Contracting,
    t: &TransferRecord,
    code: &'static str,
    reason: String,
    report: Option<String>,
) -> ProcessError {
    let event = format!("refused to renew the pull token: {reason}");
    let change = Change::new().history(Some(&t.state), &t.state, &event, report.clone());
    let recorded = async {
        state.store().note(&t.id, &t.state, &event, report).await?;
        audit_trail::record(state, &process(t), &change).await
    };
    if let Err(e) = recorded.await {
        return e;
    }
    refuse(t, code, reason)
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
        let odd = json!({"endpointProperties": [{"name": "expiresIn", "value": "-3"},
            {"name": "authorization", "value": 7}]});
        let (kept, token, expires_in) = split(&odd);
        assert_eq!((token, expires_in), (None, None));
        assert_eq!(kept["endpointProperties"].as_array().unwrap().len(), 1);
    }
}
