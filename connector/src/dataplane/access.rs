//! The per-request decision, made before any backend is contacted: the bearer token must hash to a live pull
//! transfer for this data address, the transfer must be STARTED (a suspended one keeps its token but is refused),
//! and the agreement must permit this access in the `access` scope, with the partner's claims, the declared
//! purpose, the agreement's start and the number of accesses made so far. That number is taken with a single
//! atomic increment before the request is forwarded (and given back if refused): two requests racing for the last
//! allowed access cannot both win, and a request whose decision or reservation fails is refused (fail closed).
//! Agreements without a count constraint, on a connector without Rego rules, skip the reservation: nothing would
//! read the number. A call that makes no use of its own (on a model served as OGC API - Processes, everything but
//! an execution) takes no number and is judged with the count the last use reached. A transfer whose partner is
//! no longer in the partner directory (removed through the API or from the config file) is refused first: its
//! tokens stop serving data at once, not when they expire.

use crate::tls::TlsPeer;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use serde_json::Value;
use twinport_policy::context::DutyState;
use twinport_policy::Scope;

use super::backend::Backend;
use super::problem::Refusal;
use crate::catalogue::Resource;
use crate::contracting::decision::{facts, FactsInput};
use crate::contracting::transfer::token_hash;
use crate::contracting::PROVIDER;
use crate::dataplane::DataPlaneState;
use crate::storage::{AgreementRecord, TransferRecord};
use twinport_policy::request::Flow;

/// Header a partner may use to declare the purpose of one request; without it the purpose given in the
/// negotiation applies.
pub const PURPOSE_HEADER: &str = "twinport-purpose";

/// Agreements and the purpose agreed with them, which never change once concluded, so the hot path reads them
/// once. Bounded: cleared whole when it grows past [`AgreementCache::MAX`].
#[derive(Default)]
pub struct AgreementCache(std::sync::Mutex<std::collections::HashMap<String, Arc<Agreed>>>);

/// A concluded agreement and the purpose declared in its negotiation.
#[derive(Debug)]
pub struct Agreed {
    pub agreement: AgreementRecord,
    pub purpose: Option<String>,
    /// Whether the agreement limits the number of accesses (see [`mentions_count`]).
    pub counted: bool,
    /// Whether the agreement has duties or obligations, whose recorded states every decision must see.
    pub has_duties: bool,
    /// The agreement as the policy engine reads it, parsed once (or why it cannot be, which denies every access).
    pub policy: Result<twinport_policy::Policy, String>,
}

impl AgreementCache {
    const MAX: usize = 10_000;

    async fn get(&self, state: &DataPlaneState, id: &str) -> Result<Option<Arc<Agreed>>, Refusal> {
        if let Some(hit) = self.0.lock().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(Some(hit));
        }
        let Some(agreement) = state
            .store()
            .agreement(id)
            .await
            .map_err(Refusal::internal)?
        else {
            return Ok(None);
        };
        let purpose = state
            .store()
            .negotiation(&agreement.negotiation_id)
            .await
            .map_err(Refusal::internal)?
            .and_then(|n| n.purpose);
        let body = crate::contracting::decision::agreed_policy(state.store(), &agreement)
            .await
            .map_err(Refusal::internal)?;
        let counted = mentions_count(&body);
        let policy = crate::contracting::decision::parse(&body);
        let has_duties = policy.as_ref().is_ok_and(|p| p.duties().next().is_some());
        let agreed = Arc::new(Agreed {
            policy,
            agreement,
            purpose,
            counted,
            has_duties,
        });
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert(id.to_string(), agreed.clone());
        }
        Ok(Some(agreed))
    }
}

/// A request that passed the token and state checks.
#[derive(Debug, Clone)]
pub struct Access {
    pub transfer: TransferRecord,
    /// Shared with the agreement cache: the hot path copies no agreement or resource.
    pub agreed: Arc<Agreed>,
    pub served: Arc<Served>,
    pub purpose: Option<String>,
    /// Whether anything deciding on this access reads the count of accesses so far: a count constraint in the
    /// agreement, or any local Rego rule (which may read `usage.count`). Only then is an access reserved in the
    /// database before the request is forwarded; otherwise that write would be on every request for nothing.
    pub counted: bool,
    /// The states the city has recorded for the agreement's duties, read when the agreement has duties or local
    /// Rego rules may look at them (`None` otherwise, which no decision reads).
    pub duties: Option<Arc<BTreeMap<String, DutyState>>>,
}

/// An agreed resource as the data plane serves it: the catalogue entry, and the backend of its first
/// distribution read once with it rather than on every request (or why it cannot be served).
#[derive(Debug)]
pub struct Served {
    pub resource: Resource,
    backend: Result<Backend, String>,
}

impl Served {
    pub fn new(resource: Resource) -> Served {
        let backend = resource
            .distributions
            .first()
            .ok_or_else(|| "the resource has no distribution".to_string())
            .and_then(Backend::from_distribution);
        Served { resource, backend }
    }
}

impl Access {
    pub fn resource(&self) -> &Resource {
        &self.served.resource
    }

    /// The backend of the agreed resource: its first distribution.
    /// (A broken one is logged on every request it fails, not only when first read.)
    pub fn backend(&self) -> Result<&Backend, Refusal> {
        self.served
            .backend
            .as_ref()
            .map_err(|e| Refusal::internal(format!("resource {}: {e}", self.served.resource.id)))
    }
}

/// Whether a policy may constrain the number of uses: any string in it naming the ODRL `count` operand, compacted
/// or expanded. Deliberately broad (a stray "count" value also counts), so a limit is never missed.
pub fn mentions_count(policy: &Value) -> bool {
    match policy {
        Value::String(s) => {
            s == "count" || s.ends_with(":count") || s.ends_with("/count") || s.ends_with("#count")
        }
        Value::Array(items) => items.iter().any(mentions_count),
        Value::Object(m) => m.values().any(mentions_count),
        _ => false,
    }
}

/// A refusal and the transfer it concerned, when one was found (for the audit entry).
pub struct Refused {
    pub refusal: Refusal,
    pub transfer: Option<Box<TransferRecord>>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Refused {
            refusal,
            transfer: None,
        }
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The live pull transfer behind a bearer token for data address `pid`, whatever its state.
pub async fn transfer_for_token(
    state: &DataPlaneState,
    pid: &str,
    token: &str,
    peer: Option<&TlsPeer>,
) -> Result<TransferRecord, Refusal> {
    let generation = state.store().generation().await;
    serving_transfer(state, pid, token, peer, generation)
        .await
        .map(|(t, _)| t)
}

/// As [`transfer_for_token`], with the state our latest unacknowledged message for the transfer leads to;
/// `generation` is the store's, read before (see [`crate::storage::Store::generation`]).
async fn serving_transfer(
    state: &DataPlaneState,
    pid: &str,
    token: &str,
    peer: Option<&TlsPeer>,
    generation: Option<u64>,
) -> Result<(TransferRecord, Option<String>), Refusal> {
    let hash = token_hash(token);
    let cached = state
        .data_plane()
        .transfers()
        .get_or_load(&hash, generation, async {
            state
                .store()
                .serving_transfer(&hash)
                .await
                .map_err(Refusal::internal)?
                .ok_or_else(|| Refusal::unauthorized("the token is unknown or has been revoked"))
        })
        .await?;
    let (t, planned) = &*cached;
    if t.role != PROVIDER || t.provider_pid.as_deref() != Some(pid) {
        return Err(Refusal::unauthorized(
            "the token is not the one issued for this data address",
        ));
    }
    check_peer(state, &t.partner, peer)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if t.token_expires.is_some_and(|exp| exp <= now) {
        return Err(Refusal::unauthorized(
            "the token has expired; renew it through the pull-token-renewal extension (see \
             /.well-known/twinport) or restart the transfer",
        ));
    }
    Ok((t.clone(), planned.clone()))
}

/// Under mutual TLS, the connection's client certificate must be the one configured for the transfer's partner:
/// a stolen token is useless from another connector.
pub fn check_peer(
    state: &DataPlaneState,
    partner: &str,
    peer: Option<&TlsPeer>,
) -> Result<(), Refusal> {
    match state.tls().peer_check() {
        Some(peers) => peers
            .check(partner, peer)
            .map_err(|e| Refusal::unauthorized(e.to_string())),
        None => Ok(()),
    }
}

/// Token, transfer state, agreement and resource.
pub async fn authorize(
    state: &DataPlaneState,
    pid: &str,
    headers: &HeaderMap,
    peer: Option<&TlsPeer>,
) -> Result<Access, Refused> {
    let token = bearer(headers).ok_or_else(|| {
        Refusal::unauthorized("a bearer token from the transfer's data address is required")
    })?;
    // Read once, before every kept row is looked up: on PostgreSQL it is one query where the rows would be three.
    let generation = state.store().generation().await;
    let (mut transfer, planned) = serving_transfer(state, pid, token, peer, generation).await?;
    if let Some(stopping) = planned.filter(|p| p != "STARTED") {
        // We decided to stop (our suspension or completion awaits the partner's acknowledgement): our own data
        // plane stops at once, whatever the partner answers.
        return Err(Refused {
            refusal: Refusal::conflict(format!(
                "the transfer is being {}; no data is served",
                stopping.to_lowercase()
            )),
            transfer: Some(Box::new(transfer)),
        });
    }
    if transfer.state != "STARTED" {
        // Our start may be acknowledged but not yet recorded: the consumer answers it and pulls at once.
        let _ =
            crate::contracting::acknowledgement::await_in_flight(state.contracting(), &transfer.id)
                .await;
        if let Ok(Some(now)) = state.store().transfer(&transfer.id).await {
            transfer = now;
        }
    }
    let declared =
        match headers.get(PURPOSE_HEADER) {
            Some(v) => match v.to_str() {
                // An empty declaration would replace the agreed purpose with none at all.
                Ok(s) if s.trim().is_empty() => return Err(Refused {
                    refusal: Refusal::bad_request(
                        "twinport-purpose is empty; leave the header out to use the purpose agreed",
                    ),
                    transfer: Some(Box::new(transfer)),
                }),
                Ok(s) => Some(s.trim().to_string()),
                Err(_) => {
                    return Err(Refused {
                        refusal: Refusal::bad_request("twinport-purpose is not text"),
                        transfer: Some(Box::new(transfer)),
                    })
                }
            },
            None => None,
        };
    admit(state, transfer, declared, generation).await
}

/// Transfer state, agreement and resource of a transfer already identified (by a pull token, or as the push
/// transfer the provider itself is serving); `declared` is a purpose declared for this one access; `generation` is
/// the store's, read before the transfer was.
pub async fn admit(
    state: &DataPlaneState,
    transfer: TransferRecord,
    declared: Option<String>,
    generation: Option<u64>,
) -> Result<Access, Refused> {
    let refuse = |refusal: Refusal| Refused {
        refusal,
        transfer: Some(Box::new(transfer.clone())),
    };
    if !state.partners().directory().trusts(&transfer.partner) {
        return Err(refuse(Refusal::new(
            StatusCode::FORBIDDEN,
            "partner-not-trusted",
            format!(
                "{} is no longer a trusted partner of this connector; no data is served",
                transfer.partner
            ),
        )));
    }
    match transfer.state.as_str() {
        "STARTED" => {}
        "SUSPENDED" => {
            return Err(refuse(Refusal::conflict(
                "the transfer is suspended; no data is served until it is resumed",
            )))
        }
        other => {
            return Err(refuse(Refusal::conflict(format!(
                "the transfer is {other}, not STARTED"
            ))))
        }
    }
    let agreed = state
        .data_plane()
        .agreements()
        .get(state, &transfer.agreement_id)
        .await
        .map_err(refuse)?
        .ok_or_else(|| refuse(Refusal::internal("the transfer's agreement is missing")))?;
    let target = agreed.agreement.target.clone();
    let gone = || {
        refuse(Refusal::new(
            StatusCode::GONE,
            "resource-withdrawn",
            "the agreed resource is no longer offered",
        ))
    };
    let resource = state
        .data_plane()
        .resources()
        .get_or_load(&target, generation, async {
            let record = state
                .store()
                .resource(&target)
                .await
                .map_err(|e| refuse(Refusal::internal(e)))?
                .ok_or_else(gone)?;
            serde_json::from_value::<Resource>(record.body)
                .map(Served::new)
                .map_err(|_| gone())
        })
        .await?;
    let purpose = declared.or_else(|| agreed.purpose.clone());
    let rules = state.policy().rule_count() > 0;
    let duties = if agreed.has_duties || rules {
        let id = agreed.agreement.id.clone();
        Some(
            state
                .data_plane()
                .duties()
                .get_or_load(&id, generation, async {
                    state
                        .store()
                        .duty_states(&id)
                        .await
                        .map_err(|e| refuse(Refusal::internal(e)))
                })
                .await?,
        )
    } else {
        None
    };
    Ok(Access {
        transfer,
        counted: agreed.counted || rules,
        agreed,
        served: resource,
        purpose,
        duties,
    })
}

/// What one access does, which decides the action the agreement is asked for and whether it is a use counted
/// against a count limit.
#[derive(Debug, Clone, Copy)]
pub enum Requested<'a> {
    /// A partner's request on a pull transfer, with its HTTP method: a use, counted.
    Pull(&'a axum::http::Method),
    /// A partner's request that makes no new use of its own: on a model served as OGC API - Processes, everything
    /// but an execution (describing processes, a job's status, its results, its dismissal) belongs to a run
    /// already counted. Judged as its method says, with the count the last use reached, and not counted.
    Uncounted(&'a axum::http::Method),
    /// A delivery the provider pushes to the consumer.
    Push,
}

/// Evaluates the agreement in the access scope and, where the count matters, reserves the access; returns its
/// number (1 for the first) when it was counted.
pub async fn decide(
    state: &DataPlaneState,
    access: &Access,
    request: Requested<'_>,
) -> Result<Option<u64>, Refusal> {
    let agreement = &access.agreed.agreement;
    let start = agreement
        .body
        .get("timestamp")
        .and_then(Value::as_str)
        .unwrap_or(&agreement.created_at)
        .to_string();
    let partner = state
        .partners()
        .directory()
        .current(&access.transfer.partner, state.store())
        .await
        .map_err(Refusal::internal)?;
    // Taken before deciding, given back on a refusal: racing requests see the higher count and are judged
    // conservatively, so a limit can never be exceeded.
    let number = match request {
        _ if !access.counted => None,
        // No use of its own: judged as the last use was (the count that use reached), so a limit of N that let
        // N executions through still lets their status and results be read, and nothing is taken.
        Requested::Uncounted(_) => None,
        Requested::Pull(_) | Requested::Push => Some(
            state
                .store()
                .take_access(&agreement.id)
                .await
                .map_err(Refusal::internal)?,
        ),
    };
    let seen = match request {
        Requested::Uncounted(_) if access.counted => Some(
            state
                .store()
                .access_count(&agreement.id)
                .await
                .map_err(Refusal::internal)?
                .saturating_sub(1),
        ),
        _ => number.map(|n| n - 1),
    };
    // The request builder asks for what this request does: a pull's method decides (GET reads, POST to a model
    // executes it, ...), a pushed delivery distributes.
    let (flow, method) = match request {
        Requested::Pull(method) | Requested::Uncounted(method) => {
            (Flow::Pull, Some(method.as_str()))
        }
        Requested::Push => (Flow::Push, None),
    };
    let known = facts(FactsInput {
        partner_id: &access.transfer.partner,
        partner: partner.as_ref(),
        resource: Some(crate::contracting::decision::resource_context(
            access.resource(),
        )),
        purpose: access.purpose.as_deref(),
        agreement: Some((&agreement.id, &start)),
        accesses: seen,
        flow: Some(flow),
        method,
        duties: access
            .duties
            .as_ref()
            .map(|d| (**d).clone())
            .unwrap_or_default(),
    });
    let report = state
        .policy()
        .decide_parsed(&access.agreed.policy, Scope::Access, &known)
        .report;
    if report.is_permit() {
        return Ok(number);
    }
    if number.is_some() {
        if let Err(e) = state.store().refund_access(&agreement.id).await {
            tracing::error!(error = %e, "cannot give back a refused access; the count stays one higher");
        }
    }
    Err(Refusal::policy(
        report.reasons().into_iter().take(12).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    #[test]
    fn only_a_bearer_token_is_taken() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer tok"),
        );
        assert_eq!(bearer(&h), Some("tok"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn a_count_limit_is_found_in_any_spelling() {
        for operand in [
            json!("count"),
            json!("odrl:count"),
            json!({"@id": "http://www.w3.org/ns/odrl/2/count"}),
        ] {
            let policy = json!({"permission": [{"action": "use", "constraint": [
                {"leftOperand": operand, "operator": "lteq", "rightOperand": 3}]}]});
            assert!(mentions_count(&policy), "{policy}");
        }
        let unlimited = json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "purpose", "operator": "eq", "rightOperand": "dpv:ResearchAndDevelopment"}]}]});
        assert!(!mentions_count(&unlimited));
    }
}
