//! `/api/v1/audit/...`: the auditor's read-only view of the log — filtered, paged entries, the current signed
//! checkpoint with the key to check it, inclusion and consistency proofs, and receipts (the Auditor role); and the
//! entries that record each management change.

use axum::extract::{OriginalUri, Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{ManagementState, Principal, Role};
use crate::audit::{AuditEvent, EntryFilter, EventKind, StoredEntry};
use crate::contracting::Contracting;
use crate::error::ApiError;

pub fn routes() -> Router<ManagementState> {
    Router::new()
        .route("/audit/entries", get(entries))
        .route("/audit/checkpoint", get(checkpoint))
        .route("/audit/proofs/inclusion", get(inclusion))
        .route("/audit/proofs/consistency", get(consistency))
        .route("/audit/receipts/{index}", get(receipt))
        .route("/audit/partners/{id}/check", post(check_partner))
}

/// A management change's entry, made and checked before the change: an entry that could not be written (too
/// large, not canonicalisable) refuses the change instead of leaving it committed and unrecorded.
pub struct ManagementEntry(AuditEvent);

impl ManagementEntry {
    /// Who made the change is personal data: it goes to the erasable side table, the leaf keeps a salted
    /// commitment to it.
    pub fn new(
        who: &Principal,
        action: &str,
        resource: Option<&str>,
        details: Value,
    ) -> Result<ManagementEntry, ApiError> {
        let mut e = AuditEvent::new(
            EventKind::ManagementAction,
            json!({"action": action, "change": details}),
        );
        e.resource = resource.map(str::to_owned);
        let mut personal = json!({"subject": who.subject});
        if let Some(name) = &who.name {
            personal["name"] = json!(name);
        }
        if let Some(email) = &who.email {
            personal["email"] = json!(email);
        }
        e.personal = Some(personal);
        crate::audit::prepare(e.clone(), time::OffsetDateTime::now_utc()).map_err(|err| {
            ApiError::Malformed(format!(
                "the change cannot be recorded in the audit log: {err}"
            ))
        })?;
        Ok(ManagementEntry(e))
    }

    /// Appends the entry, once the change committed.
    pub async fn record(self, state: &Contracting) -> Result<u64, ApiError> {
        Ok(state.audit().append(self.0).await?)
    }
}

/// A management change whose entry cannot outgrow its leaf (its values obey the id rule), recorded after it.
pub async fn record_management_action(
    state: &Contracting,
    who: &Principal,
    action: &str,
    resource: Option<&str>,
    details: Value,
) -> Result<u64, ApiError> {
    ManagementEntry::new(who, action, resource, details)?
        .record(state)
        .await
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(entries, checkpoint, inclusion, consistency, receipt, check_partner))]
pub struct AuditApiDoc;

/// List audit entries
///
/// The log's entries, oldest first, filtered by time, kind, partner, resource, agreement, transfer and purpose,
/// paged with `offset` and `limit`.
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", operation_id = "list_audit_entries", params(EntryFilter),
    responses((status = 200, description = "The entries", body = [StoredEntry]),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each", body = crate::error::Problem),
              (status = 403, description = "The token lacks the auditor role", body = crate::error::Problem)))]
pub async fn entries(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<Vec<StoredEntry>>, ApiError> {
    who.require(Role::Auditor)?;
    let (filter, checks): (EntryFilter, _) = super::paging::query(&uri)?;
    checks.done()?;
    if let Some(kind) = &filter.kind {
        if EventKind::parse(kind).is_none() {
            return Err(ApiError::Malformed(format!("unknown event kind {kind:?}")));
        }
    }
    Ok(Json(state.store().audit_query(&filter).await?))
}

/// The latest signed checkpoint and the verifier key (C2SP `vkey`) to check it with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckpointView {
    pub origin: String,
    pub size: u64,
    /// Base64 RFC 9162 root hash.
    pub root: String,
    /// The C2SP signed note, verbatim.
    pub note: String,
    pub vkey: String,
}

/// Read the checkpoint
///
/// The latest signed checkpoint (C2SP signed note) and the verifier key to check it with.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit", operation_id = "read_audit_checkpoint",
    responses((status = 200, description = "The checkpoint", body = CheckpointView),
              (status = 403, description = "The token lacks the auditor role", body = crate::error::Problem)))]
pub async fn checkpoint(
    State(state): State<Contracting>,
    who: Principal,
) -> Result<Json<CheckpointView>, ApiError> {
    who.require(Role::Auditor)?;
    let cp = state.audit().checkpoint().await?;
    Ok(Json(CheckpointView {
        origin: cp.checkpoint.origin,
        size: cp.checkpoint.size,
        root: STANDARD.encode(cp.checkpoint.root),
        note: cp.note,
        vkey: state.audit().verifier().vkey(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry's index.
    pub index: u64,
    /// Tree size the proof is for; the latest checkpoint's size when absent.
    pub size: Option<u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProofView {
    /// Base64 hashes, nearest the leaf (or the old tree) first.
    pub proof: Vec<String>,
    pub size: u64,
}

async fn default_size(state: &Contracting, size: Option<u64>) -> Result<u64, ApiError> {
    match size {
        Some(s) => Ok(s),
        None => Ok(state.audit().checkpoint().await?.checkpoint.size),
    }
}

fn encode(proof: &[[u8; 32]]) -> Vec<String> {
    proof.iter().map(|h| STANDARD.encode(h)).collect()
}

/// Prove an entry's inclusion
///
/// An RFC 9162 inclusion proof of one entry in the tree of a given size (the latest checkpoint's by default).
#[utoipa::path(get, path = "/api/v1/audit/proofs/inclusion", tag = "audit", operation_id = "read_inclusion_proof", params(InclusionQuery),
    responses((status = 200, description = "The proof", body = ProofView),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used", body = crate::error::Problem),
              (status = 404, description = "No such entry or tree size", body = crate::error::Problem)))]
pub async fn inclusion(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<ProofView>, ApiError> {
    who.require(Role::Auditor)?;
    let (q, checks): (InclusionQuery, _) = super::paging::query(&uri)?;
    checks.done()?;
    let size = default_size(&state, q.size).await?;
    let proof = state.audit().inclusion_proof(q.index, size).await?;
    Ok(Json(ProofView {
        proof: encode(&proof),
        size,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub old: u64,
    /// The latest checkpoint's size when absent.
    pub new: Option<u64>,
}

/// Prove the log's consistency
///
/// An RFC 9162 consistency proof between two tree sizes (the newer one the latest checkpoint's by default).
#[utoipa::path(get, path = "/api/v1/audit/proofs/consistency", tag = "audit", operation_id = "read_consistency_proof", params(ConsistencyQuery),
    responses((status = 200, description = "The proof", body = ProofView),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used", body = crate::error::Problem),
              (status = 404, description = "No such tree size", body = crate::error::Problem)))]
pub async fn consistency(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<ProofView>, ApiError> {
    who.require(Role::Auditor)?;
    let (q, checks): (ConsistencyQuery, _) = super::paging::query(&uri)?;
    checks.done()?;
    let size = default_size(&state, q.new).await?;
    let proof = state.audit().consistency_proof(q.old, size).await?;
    Ok(Json(ProofView {
        proof: encode(&proof),
        size,
    }))
}

/// Read an entry's receipt
///
/// A `c2sp.org/tlog-proof@v1` receipt of one entry: its index, the checkpoint and the inclusion proof.
#[utoipa::path(get, path = "/api/v1/audit/receipts/{index}", tag = "audit", operation_id = "read_audit_receipt",
    params(("index" = u64, Path, description = "the entry's index")),
    responses((status = 200, description = "c2sp.org/tlog-proof@v1 text", content_type = "text/plain"),
              (status = 404, description = "No such entry", body = crate::error::Problem)))]
pub async fn receipt(
    State(state): State<Contracting>,
    who: Principal,
    Path(index): Path<u64>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Auditor)?;
    let text = state.audit().receipt(index).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

/// Witness a partner's log
///
/// Fetches the partner's latest audit checkpoint and accepts it only if it is consistent with the last one
/// accepted; a `split_view` outcome is also logged as a `split_view_alarm` entry.
#[utoipa::path(post, path = "/api/v1/audit/partners/{id}/check", tag = "audit", operation_id = "check_partner_log",
    params(("id" = String, Path, description = "partner participant id, percent-encoded")),
    responses((status = 200, description = "The outcome: consistent, first seen or split view", body = crate::audit::witness::WitnessOutcome),
              (status = 404, description = "No such partner", body = crate::error::Problem),
              (status = 502, description = "The partner's checkpoint could not be read", body = crate::error::Problem)))]
pub async fn check_partner(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<crate::audit::witness::WitnessOutcome>, ApiError> {
    who.require(Role::Auditor)?;
    Ok(Json(
        crate::audit::witness::check_partner(state.partner_logs(), &id).await?,
    ))
}
