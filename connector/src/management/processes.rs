//! `/api/v1/negotiations`, `/api/v1/agreements` and `/api/v1/transfers`: a city's operators start and steer
//! negotiations and transfers with partner cities, and read each process's full history, including every message
//! waiting for a partner and why ("waiting for the partner since 10:02:11, 3 attempts, last: connection refused").

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinport_contracts::transfer::{DataAddress, TransferMessageKind};

use super::auth::{Principal, Role};
use super::body::{check_id, check_text, parse, Checked};
use super::paging::{self, Checks, Listed};
use crate::catalogue::FieldError;
use crate::contracting::acknowledgement::Pending;
use crate::contracting::error::retrying;
use crate::contracting::Contracting;
use crate::contracting::{negotiation, offers, transfer, ProcessError};
use crate::dataplane::consumer::renewal::PullTokenView;
use crate::error::ApiError;
use crate::storage::{
    AgreementFilter, AgreementRecord, HistoryEntry, NegotiationRecord, OutboxMessage,
    ProcessFilter, ProcessRow, TransferRecord,
};

impl From<ProcessError> for ApiError {
    fn from(e: ProcessError) -> Self {
        match e {
            ProcessError::NotFound => ApiError::NotFound("process".into()),
            ProcessError::Invalid { code, reason, .. } => {
                ApiError::Conflict(format!("{code}: {reason}"))
            }
            ProcessError::Conflict => {
                ApiError::Conflict("the process changed concurrently; try again".into())
            }
            ProcessError::Storage(e) => ApiError::Internal(e.to_string()),
            ProcessError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// What every process view opens with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProcessHead {
    pub id: String,
    pub role: String,
    pub partner: String,
    pub state: String,
}

/// What every process view closes with: what the process waits for and, when it is read alone, how it got there.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProcessProgress {
    /// What the process waits for, with delivery problems spelled out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
    /// A message of ours the partner has not acknowledged yet, and the state it leads to: `state` is the last
    /// acknowledged one (DSP 2025-1: a state changes when the counterparty acknowledges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<OutboxMessage>,
}

// Each view flattens the shared parts first and last, so that its JSON lists id, role, partner and state before the
// protocol's own fields and the progress after them (the order clients have always seen).

/// A negotiation as operators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NegotiationView {
    #[serde(flatten)]
    pub process: ProcessHead,
    pub dataset: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The offer currently on the table.
    #[schema(value_type = Object)]
    pub offer: Value,
    #[serde(flatten)]
    pub progress: ProcessProgress,
}

/// A transfer as operators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    #[serde(flatten)]
    pub process: ProcessHead,
    pub agreement_id: String,
    /// The dataset transferred: the target of the agreement (absent if the agreement is not stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_pid: Option<String>,
    /// Consumer side: where and how to fetch the data (pull). Provider side: the push target.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data_address: Option<Value>,
    /// Consumer side of a pull transfer: when the live token expires and whether it is renewed before then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_token: Option<PullTokenView>,
    #[serde(flatten)]
    pub progress: ProcessProgress,
}

/// A signed agreement, in the form `twinport contracts verify` checks offline.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementExport {
    #[schema(value_type = Object)]
    pub agreement: Value,
    pub provider: String,
    pub consumer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub provider_jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub consumer_jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<i64>,
    pub negotiation_id: String,
    pub created_at: String,
}

impl From<AgreementRecord> for AgreementExport {
    fn from(a: AgreementRecord) -> Self {
        AgreementExport {
            agreement: a.body,
            provider: a.provider,
            consumer: a.consumer,
            provider_signature: a.provider_signature,
            consumer_signature: a.consumer_signature,
            provider_jwks: a.provider_jwks,
            consumer_jwks: a.consumer_jwks,
            policy_id: a.policy_id,
            policy_version: a.policy_version,
            negotiation_id: a.negotiation_id,
            created_at: a.created_at,
        }
    }
}

/// Says what a process waits for: the acknowledgement of a message in flight, the oldest undelivered message and
/// its trouble, or a message the partner refused for good.
fn waiting(base: Option<String>, state: &str, messages: &[OutboxMessage]) -> Option<String> {
    if let Some(p) = Pending::of(messages) {
        return Some(p.describe());
    }
    let terminal = matches!(state, "FINALIZED" | "TERMINATED" | "COMPLETED");
    if let Some(m) = messages.iter().rev().find(|m| m.status == "failed") {
        if !terminal && m.transition_to.is_some() {
            return Some(format!(
                "the partner refused {} for good ({}); the process stays {state}: terminate it or ask the partner",
                m.kind,
                m.last_error.as_deref().unwrap_or("no reason given")
            ));
        }
    }
    let stuck = messages
        .iter()
        .find(|m| m.status == "pending" && m.attempts > 0);
    match (stuck, base) {
        (Some(m), _) => Some(format!(
            "waiting for the partner since {} to accept {}: {} attempts, last: {}",
            m.created_at,
            m.kind,
            m.attempts,
            m.last_error.as_deref().unwrap_or("unknown")
        )),
        (None, base) => base,
    }
}

/// How a stored process shows to operators. Listing, reading and acting on a process are otherwise alike for
/// negotiations and transfers, and written once below.
trait Viewed: ProcessRow {
    type View;
    /// What the row itself says the process waits for, before its messages are looked at.
    fn waits_for(&self) -> Option<String>;
    /// What the audit log records an operator's action on this process against.
    fn audit_target(&self) -> Option<&str>;
    /// The agreement whose target is the process's dataset, when the row does not name the dataset itself.
    fn agreement(&self) -> Option<&str>;
    /// The states a process of this kind can be in, as lists filter on them.
    fn states() -> Vec<&'static str>;
    fn into_view(
        self,
        process: ProcessHead,
        progress: ProcessProgress,
        dataset: Option<String>,
    ) -> Self::View;
    /// The consumer transfer whose live pull token the view describes (never the token itself).
    fn pull_token_of(&self) -> Option<&str> {
        None
    }
    /// Puts that description into the view.
    fn show_pull_token(_: &mut Self::View, _: Option<PullTokenView>) {}
}

impl Viewed for NegotiationRecord {
    type View = NegotiationView;

    fn waits_for(&self) -> Option<String> {
        self.waiting_for
            .clone()
            .filter(|_| !matches!(self.state.as_str(), "FINALIZED" | "TERMINATED"))
    }

    fn audit_target(&self) -> Option<&str> {
        Some(&self.dataset)
    }

    fn agreement(&self) -> Option<&str> {
        None
    }

    fn states() -> Vec<&'static str> {
        twinport_contracts::negotiation::NegotiationState::ALL
            .iter()
            .map(|s| s.as_str())
            .collect()
    }

    fn into_view(
        self,
        process: ProcessHead,
        progress: ProcessProgress,
        _: Option<String>,
    ) -> NegotiationView {
        NegotiationView {
            process,
            dataset: self.dataset,
            provider_pid: self.provider_pid,
            consumer_pid: self.consumer_pid,
            agreement_id: self.agreement_id,
            purpose: self.purpose,
            offer: self.offer,
            progress,
        }
    }
}

impl Viewed for TransferRecord {
    type View = TransferView;

    fn waits_for(&self) -> Option<String> {
        None
    }

    fn audit_target(&self) -> Option<&str> {
        None
    }

    fn agreement(&self) -> Option<&str> {
        Some(&self.agreement_id)
    }

    fn states() -> Vec<&'static str> {
        twinport_contracts::transfer::TransferState::ALL
            .iter()
            .map(|s| s.as_str())
            .collect()
    }

    fn into_view(
        self,
        process: ProcessHead,
        progress: ProcessProgress,
        dataset: Option<String>,
    ) -> TransferView {
        TransferView {
            process,
            agreement_id: self.agreement_id,
            dataset,
            format: self.format,
            provider_pid: self.provider_pid,
            consumer_pid: self.consumer_pid,
            // A token never shows, whoever kept it there (a push target's, or one stored before tokens were
            // kept apart).
            data_address: self
                .data_address
                .map(|a| crate::contracting::pull_token::split(&a).0),
            pull_token: None,
            progress,
        }
    }

    fn pull_token_of(&self) -> Option<&str> {
        (self.role == crate::contracting::CONSUMER && self.format == transfer::PULL)
            .then_some(self.id.as_str())
    }

    fn show_pull_token(view: &mut TransferView, token: Option<PullTokenView>) {
        view.pull_token = token;
    }
}

/// The view of `row`; `detail` adds its history and messages.
async fn view<R: Viewed>(state: &Contracting, row: R, detail: bool) -> Result<R::View, ApiError> {
    let c = row.common();
    let messages = state.store().outbox_for(c.id).await?;
    let history = if detail {
        state.store().history(c.id).await?
    } else {
        Vec::new()
    };
    let process = ProcessHead {
        id: c.id.into(),
        role: c.role.into(),
        partner: c.partner.into(),
        state: c.state.into(),
    };
    let progress = ProcessProgress {
        waiting_for: waiting(row.waits_for(), c.state, &messages),
        pending: Pending::of(&messages),
        created_at: c.created_at.into(),
        updated_at: c.updated_at.into(),
        history,
        messages: if detail { messages } else { Vec::new() },
    };
    let dataset = match row.agreement() {
        Some(id) => state.store().agreement(id).await?.map(|a| a.target),
        None => None,
    };
    let pull_token = match row.pull_token_of() {
        Some(id) => crate::dataplane::consumer::renewal::view(state.store(), id).await?,
        None => None,
    };
    let mut view = row.into_view(process, progress, dataset);
    R::show_pull_token(&mut view, pull_token);
    Ok(view)
}

/// Filters and page of `GET /api/v1/negotiations` and `GET /api/v1/transfers`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcessQuery {
    /// Rows in the page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Where the page starts: the `cursor` in the previous page's `Link` header.
    pub cursor: Option<String>,
    /// Only processes in this state (negotiations: REQUESTED, OFFERED, ACCEPTED, AGREED, VERIFIED, FINALIZED,
    /// TERMINATED; transfers: REQUESTED, STARTED, SUSPENDED, COMPLETED, TERMINATED).
    pub state: Option<String>,
    /// Only processes where we are the `provider` or the `consumer`.
    pub role: Option<String>,
    /// Only processes with this partner (its participant id).
    pub partner: Option<String>,
    /// Only processes about this dataset (a transfer's is its agreement's target).
    pub dataset: Option<String>,
    /// Only processes under this agreement (a negotiation's is the one it concluded).
    pub agreement: Option<String>,
    /// Only processes created at or after this time (RFC 3339, to the second).
    pub created_since: Option<String>,
    /// Only processes created before this time (RFC 3339, to the second).
    pub created_until: Option<String>,
    /// Only processes last changed at or after this time (RFC 3339, to the second).
    pub updated_since: Option<String>,
    /// Only processes last changed before this time (RFC 3339, to the second).
    pub updated_until: Option<String>,
}

async fn list<R: Viewed>(
    state: &Contracting,
    who: &Principal,
    uri: &Uri,
) -> Result<Listed<R::View>, ApiError> {
    who.require(Role::Viewer)?;
    let (q, mut checks): (ProcessQuery, Checks) = paging::query(uri)?;
    let filter = ProcessFilter {
        state: checks.one_of("state", q.state, &R::states()),
        role: checks.one_of("role", q.role, &["provider", "consumer"]),
        partner: q.partner,
        dataset: q.dataset,
        agreement: q.agreement,
        created: checks.window(
            ("created_since", "created_until"),
            q.created_since,
            q.created_until,
        ),
        updated: checks.window(
            ("updated_since", "updated_until"),
            q.updated_since,
            q.updated_until,
        ),
    };
    let page = checks.page(q.limit, q.cursor, 2);
    checks.done()?;
    let rows = state.store().processes_page::<R>(&filter, &page).await?;
    Listed::of(uri, rows, |row| view(state, row, false)).await
}

async fn read<R: Viewed>(
    state: &Contracting,
    who: &Principal,
    id: &str,
) -> Result<Json<R::View>, ApiError> {
    who.require(Role::Viewer)?;
    let row = state
        .store()
        .process::<R>(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{} {id}", R::KIND)))?;
    Ok(Json(view(state, row, true).await?))
}

/// Records an operator's `action` on a process in the audit log, then answers the process as it now stands.
async fn acted<R: Viewed>(
    state: &Contracting,
    who: &Principal,
    action: &str,
    detail: Value,
    row: R,
) -> Result<Json<R::View>, ApiError> {
    super::record_management_action(
        state,
        who,
        &format!("{}.{action}", R::KIND),
        row.audit_target(),
        detail,
    )
    .await?;
    Ok(Json(view(state, row, true).await?))
}

/// Body of `POST /api/v1/negotiations`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StartNegotiation {
    /// Participant id of the provider.
    pub partner: String,
    /// Dataset id in the partner's catalogue.
    pub dataset: String,
    /// `@id` of one of the dataset's offers.
    pub offer_id: String,
    /// Declared purpose of use, sent with the request (e.g. `research`).
    pub purpose: Option<String>,
    /// Terms to propose instead of the offer's own (`permission`, `prohibition`, `obligation`): a counter-proposal
    /// the provider may answer with a counter-offer.
    #[schema(value_type = Option<Object>)]
    pub terms: Option<Value>,
}

/// Body of `POST /api/v1/negotiations/offers` (we are the provider and make the first move).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OfferNegotiation {
    pub partner: String,
    pub dataset: String,
    pub offer_id: String,
}

/// Body of `POST /api/v1/negotiations/{id}/counter` (we are the consumer and propose other terms).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterNegotiation {
    /// The terms to propose instead of the provider's offer: `permission`, `prohibition`, `obligation`.
    #[schema(value_type = Object)]
    pub terms: Value,
}

impl Checked for CounterNegotiation {
    fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        match self.terms.as_object() {
            None => p.push(FieldError {
                field: "terms".into(),
                problem: "must be an object with permission, prohibition or obligation rules"
                    .into(),
            }),
            Some(terms) => {
                for key in terms.keys() {
                    if !["permission", "prohibition", "obligation"].contains(&key.as_str()) {
                        p.push(FieldError {
                            field: format!("terms.{key}"),
                            problem:
                                "unknown key: terms hold permission, prohibition and obligation"
                                    .into(),
                        });
                    }
                }
                let rules = |k: &str| terms.get(k).and_then(Value::as_array).map_or(0, Vec::len);
                if rules("permission") + rules("prohibition") == 0 {
                    p.push(FieldError {
                        field: "terms".into(),
                        problem: "an offer needs at least one permission or prohibition".into(),
                    });
                }
            }
        }
        p
    }
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct Reason {
    pub reason: Option<String>,
}

impl Checked for StartNegotiation {
    fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        check_id(&mut p, "partner", &self.partner);
        check_id(&mut p, "dataset", &self.dataset);
        check_id(&mut p, "offer_id", &self.offer_id);
        if let Some(purpose) = &self.purpose {
            check_id(&mut p, "purpose", purpose);
        }
        p
    }
}

impl Checked for OfferNegotiation {
    fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        check_id(&mut p, "partner", &self.partner);
        check_id(&mut p, "dataset", &self.dataset);
        check_id(&mut p, "offer_id", &self.offer_id);
        p
    }
}

impl Checked for Reason {
    fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        if let Some(reason) = &self.reason {
            check_text(&mut p, "reason", reason);
        }
        p
    }
}

impl Checked for StartTransfer {
    fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        check_id(&mut p, "agreement_id", &self.agreement_id);
        if let Some(format) = &self.format {
            check_id(&mut p, "format", format);
        }
        p
    }
}

/// A partner's dataset we could not read: 404 when the partner answered that it shows us no such dataset, 502
/// when it could not be asked or answered otherwise.
fn unseen(e: crate::client::ClientError, partner: &str, dataset: &str) -> ApiError {
    match e.status() {
        Some(404) => ApiError::NotFound(format!("dataset {dataset} at partner {partner}")),
        _ => ApiError::BadGateway(e.to_string()),
    }
}

fn optional_reason(body: &Bytes) -> Result<Option<String>, ApiError> {
    if body.is_empty() {
        return Ok(None);
    }
    Ok(parse::<Reason>(body, "reason")?.reason)
}

/// List negotiations
///
/// Negotiations in both roles, oldest first, without their history. Filter by state, role, partner, dataset,
/// agreement and creation or change time; a page holds `limit` rows and the `Link` header names the next one.
#[utoipa::path(get, path = "/api/v1/negotiations", tag = "negotiations", operation_id = "list_negotiations", params(ProcessQuery),
    responses((status = 200, description = "One page of negotiations", body = [NegotiationView], headers(("Link" = String, description = "Present when more rows follow: `<target of the next page>; rel=\"next\"`"))),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each", body = crate::error::Problem)))]
pub async fn list_negotiations(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Listed<NegotiationView>, ApiError> {
    list::<NegotiationRecord>(&state, &who, &uri).await
}

/// Read a negotiation
///
/// One negotiation with what it waits for, the message awaiting the partner's acknowledgement, every outgoing
/// message and its full history.
#[utoipa::path(get, path = "/api/v1/negotiations/{id}", tag = "negotiations", operation_id = "read_negotiation", params(("id" = String, Path, description = "the process id, percent-encoded")),
    responses((status = 200, description = "The negotiation", body = NegotiationView),
              (status = 404, description = "No such negotiation", body = crate::error::Problem)))]
pub async fn read_negotiation(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<NegotiationView>, ApiError> {
    read::<NegotiationRecord>(&state, &who, &id).await
}

/// Start a negotiation
///
/// As consumer, asks a partner for one of the offers its catalogue shows us, optionally declaring a purpose or
/// proposing other terms. The offer is read from the partner's catalogue as it publishes it to us.
#[utoipa::path(post, path = "/api/v1/negotiations", tag = "negotiations", operation_id = "start_negotiation",
    request_body(content = StartNegotiation, description = "The partner, dataset and offer, with an optional purpose", example = json!({
        "partner": "https://city-a.example/twinport", "dataset": "urn:ldt:sample-city:flood-model",
        "offer_id": "urn:ldt:sample-city:flood-model:offer:research-only", "purpose": "https://w3id.org/dpv#AcademicResearch"})),
    responses((status = 201, description = "The negotiation started; `Location` names it", body = NegotiationView,
                   headers(("Location" = String, description = "The new negotiation's address"))),
              (status = 404, description = "No such partner, dataset or offer", body = crate::error::Problem),
              (status = 409, description = "A passing alignment check is required first", body = crate::error::Problem),
              (status = 502, description = "The partner could not be reached or answered badly", body = crate::error::Problem)))]
pub async fn start_negotiation(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let req: StartNegotiation = parse(&body, "negotiation request")?;
    let partner = state
        .partners()
        .get(&req.partner)
        .ok_or_else(|| ApiError::NotFound(format!("partner {}", req.partner)))?;
    // The offer is taken from the partner's catalogue as the partner publishes it to us.
    let dataset = state
        .partners()
        .client()
        .dataset(&partner, &req.dataset)
        .await
        .map_err(|e| unseen(e, &req.partner, &req.dataset))?;
    crate::alignment::before_negotiation(&state, &req.partner, &req.dataset, &dataset).await?;
    let offer = dataset
        .get("hasPolicy")
        .and_then(Value::as_array)
        .and_then(|offers| {
            offers
                .iter()
                .find(|o| o.get("@id").and_then(Value::as_str) == Some(req.offer_id.as_str()))
        })
        .cloned()
        .ok_or_else(|| {
            ApiError::NotFound(format!("offer {} on dataset {}", req.offer_id, req.dataset))
        })?;
    let offer = match &req.terms {
        None => offer,
        Some(terms) => {
            let mut proposed = offer;
            for key in ["permission", "prohibition", "obligation"] {
                match terms.get(key) {
                    Some(rules) => proposed[key] = rules.clone(),
                    None => {
                        if let Some(o) = proposed.as_object_mut() {
                            o.remove(key);
                        }
                    }
                }
            }
            proposed
        }
    };
    let n = negotiation::start(&state, &req.partner, &req.dataset, offer, req.purpose).await?;
    let detail =
        serde_json::json!({"negotiation": n.id, "partner": req.partner, "offer": req.offer_id});
    let location = super::created::address("negotiations", &n.id);
    let view = acted(&state, &who, "start", detail, n).await?;
    Ok(super::created::created(&location, view.0))
}

/// Offer a contract
///
/// As provider, makes the first move: sends one of our offers on a dataset to a partner that may see it.
#[utoipa::path(post, path = "/api/v1/negotiations/offers", tag = "negotiations", operation_id = "offer_negotiation",
    request_body(content = OfferNegotiation, description = "The partner, dataset and one of our offers on it", example = json!({
        "partner": "https://city-b.example/twinport", "dataset": "urn:ldt:sample-city:traffic-counts",
        "offer_id": "urn:ldt:sample-city:traffic-counts:offer:partner-use"})),
    responses((status = 201, description = "The negotiation started; `Location` names it", body = NegotiationView,
                   headers(("Location" = String, description = "The new negotiation's address"))),
              (status = 404, description = "No such partner, or no such offer visible to it", body = crate::error::Problem)))]
pub async fn offer_negotiation(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let req: OfferNegotiation = parse(&body, "offer")?;
    if state.partners().get(&req.partner).is_none() {
        return Err(ApiError::NotFound(format!("partner {}", req.partner)));
    }
    let ours = offers::find(&state, &req.partner, Some(&req.dataset), &req.offer_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "offer {} on dataset {} visible to {}",
                req.offer_id, req.dataset, req.partner
            ))
        })?;
    let n = negotiation::offer_to(&state, &req.partner, &ours).await?;
    let detail =
        serde_json::json!({"negotiation": n.id, "partner": req.partner, "offer": req.offer_id});
    let location = super::created::address("negotiations", &n.id);
    let view = acted(&state, &who, "offer", detail, n).await?;
    Ok(super::created::created(&location, view.0))
}

async fn negotiation_action(
    state: &Contracting,
    who: &Principal,
    id: &str,
    action: &str,
    body: &Bytes,
) -> Result<Json<NegotiationView>, ApiError> {
    who.require(Role::Operator)?;
    let n = match action {
        // A partner message may change the process at the same moment; the action then runs again on fresh state.
        "accept" => retrying(|| negotiation::accept(state, id)).await?,
        "approve" => retrying(|| negotiation::approve(state, id)).await?,
        _ => {
            let reason =
                optional_reason(body)?.unwrap_or_else(|| "terminated by the operator".into());
            retrying(|| negotiation::terminate(state, id, &reason)).await?
        }
    };
    acted(
        state,
        who,
        action,
        serde_json::json!({"negotiation": id}),
        n,
    )
    .await
}

/// Accept an offer
///
/// As consumer, accepts the provider's current offer or counter-offer.
#[utoipa::path(post, path = "/api/v1/negotiations/{id}/accept", tag = "negotiations", operation_id = "accept_negotiation", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = NegotiationView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The process is not in a state where this action is allowed; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn accept(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<NegotiationView>, ApiError> {
    // An offer a partner made for its model is held to the same alignment rule as a request we start.
    if state.settings().require_alignment {
        who.require(Role::Operator)?;
        if let Some(n) = state
            .store()
            .negotiation(&id)
            .await?
            .filter(|n| n.role == crate::contracting::CONSUMER)
        {
            let partner = state
                .partners()
                .get(&n.partner)
                .ok_or_else(|| ApiError::NotFound(format!("partner {}", n.partner)))?;
            let dataset = state
                .partners()
                .client()
                .dataset(&partner, &n.dataset)
                .await
                .map_err(|e| unseen(e, &n.partner, &n.dataset))?;
            crate::alignment::before_negotiation(&state, &n.partner, &n.dataset, &dataset).await?;
        }
    }
    negotiation_action(&state, &who, &id, "accept", &body).await
}

/// Counter an offer
///
/// As consumer, answers the provider's offer with other terms: a counter `ContractRequestMessage` on the same
/// offer id.
#[utoipa::path(post, path = "/api/v1/negotiations/{id}/counter", tag = "negotiations", operation_id = "counter_negotiation", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = CounterNegotiation, description = "The terms proposed instead of the offer's", example = json!({
        "terms": {"permission": [{"action": "use", "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "https://w3id.org/dpv#AcademicResearch"}]}]}})),
    responses((status = 200, description = "The negotiation as it now stands", body = NegotiationView),
              (status = 404, description = "No such negotiation", body = crate::error::Problem),
              (status = 409, description = "Not a negotiation waiting for our answer", body = crate::error::Problem),
              (status = 422, description = "Terms that are not an offer, each problem named", body = crate::error::Problem)))]
pub async fn counter(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<NegotiationView>, ApiError> {
    who.require(Role::Operator)?;
    let req: CounterNegotiation = parse(&body, "counter-request")?;
    let n = retrying(|| negotiation::counter(&state, &id, &req.terms)).await?;
    acted(
        &state,
        &who,
        "counter",
        serde_json::json!({"negotiation": id}),
        n,
    )
    .await
}

/// Approve a request
///
/// As provider, approves a contract request that waits for manual approval.
#[utoipa::path(post, path = "/api/v1/negotiations/{id}/approve", tag = "negotiations", operation_id = "approve_negotiation", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = NegotiationView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The negotiation is not waiting for approval; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn approve(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<NegotiationView>, ApiError> {
    negotiation_action(&state, &who, &id, "approve", &body).await
}

/// Terminate a negotiation
///
/// In either role, ends the negotiation and tells the partner why.
#[utoipa::path(post, path = "/api/v1/negotiations/{id}/terminate", tag = "negotiations", operation_id = "terminate_negotiation", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = NegotiationView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The process is not in a state where this action is allowed; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn terminate(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<NegotiationView>, ApiError> {
    negotiation_action(&state, &who, &id, "terminate", &body).await
}

/// List agreements
///
/// Agreements in both roles, oldest first, with both signatures and the key sets that checked them. Filter by
/// partner, provider, consumer, dataset, policy, our role and creation time; the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "agreements", operation_id = "list_agreements", params(AgreementQuery),
    responses((status = 200, description = "One page of agreements", body = [AgreementExport], headers(("Link" = String, description = "Present when more rows follow: `<target of the next page>; rel=\"next\"`"))),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each", body = crate::error::Problem)))]
pub async fn list_agreements(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Listed<AgreementExport>, ApiError> {
    who.require(Role::Viewer)?;
    let (q, mut checks): (AgreementQuery, Checks) = paging::query(&uri)?;
    let role = checks.one_of("role", q.role, &["provider", "consumer"]);
    let us = Some(state.participant_id().to_string());
    let filter = AgreementFilter {
        partner: q.partner,
        provider: q
            .provider
            .or(us.clone().filter(|_| role.as_deref() == Some("provider"))),
        consumer: q
            .consumer
            .or(us.filter(|_| role.as_deref() == Some("consumer"))),
        dataset: q.dataset,
        policy: q.policy,
        created: checks.window(
            ("created_since", "created_until"),
            q.created_since,
            q.created_until,
        ),
    };
    let page = checks.page(q.limit, q.cursor, 2);
    checks.done()?;
    let rows = state.store().agreements_page(&filter, &page).await?;
    Listed::of(&uri, rows, |a| async move { Ok(AgreementExport::from(a)) }).await
}

/// Filters and page of `GET /api/v1/agreements`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgreementQuery {
    /// Rows in the page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Where the page starts: the `cursor` in the previous page's `Link` header.
    pub cursor: Option<String>,
    /// Only agreements where we are the `provider` or the `consumer`.
    pub role: Option<String>,
    /// Only agreements with this partner as either party (its participant id).
    pub partner: Option<String>,
    /// Only agreements with this provider (a participant id).
    pub provider: Option<String>,
    /// Only agreements with this consumer (a participant id).
    pub consumer: Option<String>,
    /// Only agreements on this dataset (the agreement's target).
    pub dataset: Option<String>,
    /// Only agreements made under this policy (provider side).
    pub policy: Option<String>,
    /// Only agreements made at or after this time (RFC 3339, to the second).
    pub created_since: Option<String>,
    /// Only agreements made before this time (RFC 3339, to the second).
    pub created_until: Option<String>,
}

/// Read an agreement
///
/// One agreement in the form `twinport contracts verify` checks offline: the body, both signatures and the key
/// sets they were checked with.
#[utoipa::path(get, path = "/api/v1/agreements/{id}", tag = "agreements", operation_id = "read_agreement",
    params(("id" = String, Path, description = "the agreement id, percent-encoded")),
    responses((status = 200, description = "The agreement", body = AgreementExport),
              (status = 404, description = "No such agreement", body = crate::error::Problem)))]
pub async fn read_agreement(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<AgreementExport>, ApiError> {
    who.require(Role::Viewer)?;
    let a = state
        .store()
        .agreement(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("agreement {id}")))?;
    Ok(Json(a.into()))
}

/// Body of `POST /api/v1/transfers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StartTransfer {
    pub agreement_id: String,
    /// `HttpData-PULL` (default) or `HttpData-PUSH`.
    pub format: Option<String>,
    /// For push: where the provider should send the data (a DSP `DataAddress`). Without it, a push is received
    /// by this connector at `<public_url>/push/<consumerPid>` and stored under `data_dir/received/`.
    #[schema(value_type = Option<Object>)]
    pub data_address: Option<Value>,
}

/// List transfers
///
/// Transfers in both roles, oldest first, without their history, each with the dataset of its agreement. Filter by
/// state, role, partner, dataset, agreement and creation or change time; the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "transfers", operation_id = "list_transfers", params(ProcessQuery),
    responses((status = 200, description = "One page of transfers", body = [TransferView], headers(("Link" = String, description = "Present when more rows follow: `<target of the next page>; rel=\"next\"`"))),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each", body = crate::error::Problem)))]
pub async fn list_transfers(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Listed<TransferView>, ApiError> {
    list::<TransferRecord>(&state, &who, &uri).await
}

/// Read a transfer
///
/// One transfer with its dataset, data address (consumer side), what it waits for, every outgoing message and its
/// full history.
#[utoipa::path(get, path = "/api/v1/transfers/{id}", tag = "transfers", operation_id = "read_transfer", params(("id" = String, Path, description = "the process id, percent-encoded")),
    responses((status = 200, description = "The transfer", body = TransferView),
              (status = 404, description = "No such transfer", body = crate::error::Problem)))]
pub async fn read_transfer(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<TransferView>, ApiError> {
    read::<TransferRecord>(&state, &who, &id).await
}

/// Request a transfer
///
/// As consumer, asks the provider to start a transfer under a finalized agreement: a pull (default) or a push,
/// to our own push endpoint or to a data address given.
#[utoipa::path(post, path = "/api/v1/transfers", tag = "transfers", operation_id = "start_transfer",
    request_body(content = StartTransfer, description = "The agreement, and for a push where to", example = json!({
        "agreement_id": "urn:uuid:b9ff6c95-74f7-41b1-a133-3f28ab788fa0", "format": "HttpData-PULL"})),
    responses((status = 201, description = "The transfer requested; `Location` names it", body = TransferView,
                   headers(("Location" = String, description = "The new transfer's address"))),
              (status = 404, description = "No agreement with this id where we are the consumer", body = crate::error::Problem),
              (status = 409, description = "The agreement does not allow a transfer now", body = crate::error::Problem),
              (status = 422, description = "A bad format or data address, named", body = crate::error::Problem)))]
pub async fn start_transfer(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let req: StartTransfer = parse(&body, "transfer request")?;
    let format = req.format.unwrap_or_else(|| transfer::PULL.to_string());
    let address = match &req.data_address {
        Some(v) => Some(DataAddress::from_json(v).map_err(|e| ApiError::Validation {
            what: "transfer request".into(),
            errors: vec![crate::catalogue::FieldError {
                field: "data_address".into(),
                problem: e.to_string(),
            }],
        })?),
        None => None,
    };
    // A push without an address of the caller's own is pushed to this connector's push endpoint.
    let requested = if format == transfer::PUSH && address.is_none() {
        transfer::request_push_here(&state, &req.agreement_id).await
    } else {
        transfer::request(&state, &req.agreement_id, &format, address).await
    };
    let t = requested.map_err(|e| match e {
        ProcessError::NotFound => {
            ApiError::NotFound(format!("agreement {} (as consumer)", req.agreement_id))
        }
        other => other.into(),
    })?;
    let detail =
        serde_json::json!({"transfer": t.id, "agreement": req.agreement_id, "format": format});
    let location = super::created::address("transfers", &t.id);
    let view = acted(&state, &who, "request", detail, t).await?;
    Ok(super::created::created(&location, view.0))
}

async fn transfer_action(
    state: &Contracting,
    who: &Principal,
    id: &str,
    kind: TransferMessageKind,
    body: &Bytes,
) -> Result<Json<TransferView>, ApiError> {
    who.require(Role::Operator)?;
    let reason = optional_reason(body)?;
    let t = retrying(|| transfer::act(state, id, kind, reason.as_deref())).await?;
    let detail = serde_json::json!({"transfer": id, "reason": reason});
    acted(state, who, kind.name(), detail, t).await
}

/// Suspend a transfer
///
/// Pauses a started transfer; the data plane refuses access until it is resumed.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/suspend", tag = "transfers", operation_id = "suspend_transfer", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = TransferView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The process is not in a state where this action is allowed; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn suspend(
    State(s): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TransferView>, ApiError> {
    transfer_action(
        &s,
        &who,
        &id,
        TransferMessageKind::TransferSuspension,
        &body,
    )
    .await
}

/// Resume a transfer
///
/// Starts a suspended transfer again.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/resume", tag = "transfers", operation_id = "resume_transfer", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = TransferView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The process is not in a state where this action is allowed; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn resume(
    State(s): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TransferView>, ApiError> {
    transfer_action(&s, &who, &id, TransferMessageKind::TransferStart, &body).await
}

/// Complete a transfer
///
/// Ends a transfer as done; no more data flows under it.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/complete", tag = "transfers", operation_id = "complete_transfer", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = TransferView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The process is not in a state where this action is allowed; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn complete(
    State(s): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TransferView>, ApiError> {
    transfer_action(
        &s,
        &who,
        &id,
        TransferMessageKind::TransferCompletion,
        &body,
    )
    .await
}

/// Terminate a transfer
///
/// Ends a transfer before it completed and tells the partner why.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/terminate", tag = "transfers", operation_id = "terminate_transfer", params(("id" = String, Path, description = "the process id, percent-encoded")),
    request_body(content = Option<Reason>, description = "Optional: why, recorded in the history and sent to the partner", content_type = "application/json"),
    responses((status = 200, description = "The process as it now stands, with the message sent as `pending`", body = TransferView),
              (status = 404, description = "No such process", body = crate::error::Problem),
              (status = 409, description = "The process is not in a state where this action is allowed; the problem gives the code and reason", body = crate::error::Problem)))]
pub async fn terminate_transfer(
    State(s): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TransferView>, ApiError> {
    transfer_action(
        &s,
        &who,
        &id,
        TransferMessageKind::TransferTermination,
        &body,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(view: impl Serialize) -> Vec<String> {
        match serde_json::to_value(view).unwrap() {
            Value::Object(fields) => fields.keys().cloned().collect(),
            other => panic!("a view is an object, not {other}"),
        }
    }

    fn parts() -> (ProcessHead, ProcessProgress) {
        let text = || "x".to_string();
        let head = ProcessHead {
            id: text(),
            role: text(),
            partner: text(),
            state: text(),
        };
        let progress = ProcessProgress {
            waiting_for: Some(text()),
            pending: Some(Pending {
                message: text(),
                to: text(),
                since: text(),
                attempts: 1,
                last_error: None,
            }),
            created_at: text(),
            updated_at: text(),
            history: vec![HistoryEntry {
                at: text(),
                from_state: None,
                to_state: text(),
                event: text(),
                detail: None,
            }],
            messages: Vec::new(),
        };
        (head, progress)
    }

    #[test]
    fn the_flattened_views_keep_their_field_order() {
        let (process, progress) = parts();
        let negotiation = NegotiationView {
            process,
            dataset: "d".into(),
            provider_pid: Some("p".into()),
            consumer_pid: Some("c".into()),
            agreement_id: Some("a".into()),
            purpose: Some("research".into()),
            offer: serde_json::json!({}),
            progress,
        };
        assert_eq!(
            keys(negotiation).join(" "),
            "id role partner state dataset provider_pid consumer_pid agreement_id purpose offer \
             waiting_for pending created_at updated_at history"
        );
        let (process, progress) = parts();
        let transfer = TransferView {
            process,
            agreement_id: "a".into(),
            dataset: Some("d".into()),
            format: "HttpData-PULL".into(),
            provider_pid: Some("p".into()),
            consumer_pid: Some("c".into()),
            data_address: Some(serde_json::json!({})),
            pull_token: None,
            progress,
        };
        assert_eq!(
            keys(transfer).join(" "),
            "id role partner state agreement_id dataset format provider_pid consumer_pid data_address \
             waiting_for pending created_at updated_at history"
        );
    }
}
