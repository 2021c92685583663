//! `/api/v1/policies`: usage policies as ODRL JSON. Every change adds a version; old versions stay readable so an
//! agreement can always be shown the text it was made under.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use super::auth::{Principal, Role};
use super::body;
use crate::catalogue::{policy_doc, FieldError};
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::storage::{PolicyRecord, PolicyVersion, ResourceSource};

/// A policy as the management API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    pub id: String,
    pub version: i64,
    /// `file` (declared in the catalogue directory, read-only here) or `api`.
    pub source: String,
    /// The ODRL policy (compact DSP JSON-LD).
    #[schema(value_type = Object)]
    pub policy: Value,
    pub created_at: String,
    /// What the policy linter warns about (a free-word purpose, an operand the connector never supplies, ...).
    /// A policy with errors is never stored: it is refused with 422 and the lint report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FieldError>,
}

/// One version in a policy's history; `policy` is absent for a deletion.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyVersionView {
    pub version: i64,
    pub source: String,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<Value>,
    pub created_at: String,
}

/// Body of `POST /api/v1/policies`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct NewPolicy {
    pub id: String,
    #[schema(value_type = Object)]
    pub policy: Value,
}

fn view(p: PolicyRecord) -> PolicyView {
    let warnings = policy_doc::check(&p.body).warnings;
    PolicyView {
        warnings,
        id: p.id,
        version: p.version,
        source: if p.source == ResourceSource::File {
            "file".into()
        } else {
            "api".into()
        },
        policy: p.body,
        created_at: p.created_at,
    }
}

#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", responses((status = 200, body = [PolicyView])))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
) -> Result<Json<Vec<PolicyView>>, ApiError> {
    who.require(Role::Viewer)?;
    Ok(Json(
        state
            .store()
            .policies()
            .await?
            .into_iter()
            .map(view)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "policies", params(("id" = String, Path)),
    responses((status = 200, body = PolicyView), (status = 404, body = crate::error::Problem)))]
pub async fn read(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<PolicyView>, ApiError> {
    who.require(Role::Viewer)?;
    let p = state
        .store()
        .policy(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("policy {id}")))?;
    Ok(Json(view(p)))
}

#[utoipa::path(get, path = "/api/v1/policies/{id}/versions", tag = "policies", params(("id" = String, Path)),
    responses((status = 200, body = [PolicyVersionView]), (status = 404, body = crate::error::Problem)))]
pub async fn versions(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<PolicyVersionView>>, ApiError> {
    who.require(Role::Viewer)?;
    let history = state.store().policy_history(&id).await?;
    if history.is_empty() {
        return Err(ApiError::NotFound(format!("policy {id}")));
    }
    Ok(Json(
        history
            .into_iter()
            .map(|v: PolicyVersion| PolicyVersionView {
                version: v.version,
                source: v.source,
                policy: v.body,
                created_at: v.created_at,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", request_body = NewPolicy,
    responses((status = 201, body = PolicyView), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<(StatusCode, Json<PolicyView>), ApiError> {
    who.require(Role::Legal)?;
    let value = body::json(&body)?;
    let new: NewPolicy = serde_json::from_value(value).map_err(|e| ApiError::Validation {
        what: "policy".into(),
        errors: vec![crate::catalogue::resource::serde_error(&e.to_string())],
    })?;
    check_id(&new.id)?;
    if state.store().policy(&new.id).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "policy {} already exists; use PUT to add a version",
            new.id
        )));
    }
    let p = save(&state, &who, &new.id, &new.policy).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

#[utoipa::path(put, path = "/api/v1/policies/{id}", tag = "policies", params(("id" = String, Path)),
    request_body(content = Object, description = "the ODRL policy"),
    responses((status = 200, body = PolicyView), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<PolicyView>, ApiError> {
    who.require(Role::Legal)?;
    check_id(&id)?;
    let value = body::json(&body)?;
    if let Some(existing) = state.store().policy(&id).await? {
        if existing.source == ResourceSource::File {
            return Err(ApiError::Conflict(format!(
                "policy {id} is declared in the catalogue directory; edit its file instead"
            )));
        }
    }
    Ok(Json(save(&state, &who, &id, &value).await?))
}

#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "policies", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn delete(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Legal)?;
    let existing = state
        .store()
        .policy(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("policy {id}")))?;
    if existing.source == ResourceSource::File {
        return Err(ApiError::Conflict(format!(
            "policy {id} is declared in the catalogue directory; remove its file instead"
        )));
    }
    let users: Vec<String> = crate::catalogue::resources(state.store())
        .await?
        .into_iter()
        .filter(|r| r.offers.iter().any(|o| o.policy == id))
        .map(|r| r.id)
        .collect();
    if !users.is_empty() {
        return Err(ApiError::Conflict(format!(
            "policy {id} is offered by {}; change those offers first",
            users.join(", ")
        )));
    }
    let entry = super::ManagementEntry::new(
        &who,
        "policy.delete",
        None,
        serde_json::json!({"policy": id}),
    )?;
    state
        .store()
        .delete_policy(&id, ResourceSource::Api)
        .await?;
    tracing::info!(subject = %who.subject, policy = %id, "policy deleted");
    entry.record(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn check_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Validation {
            what: "policy".into(),
            errors: vec![FieldError {
                field: "id".into(),
                problem: "must be 1-128 characters of letters, digits, '-', '_' or '.'".into(),
            }],
        })
    }
}

async fn save(
    state: &Contracting,
    who: &Principal,
    id: &str,
    policy: &Value,
) -> Result<PolicyView, ApiError> {
    let warnings = policy_doc::validate(policy).map_err(|errors| ApiError::Validation {
        what: "policy".into(),
        errors,
    })?;
    for w in &warnings {
        tracing::warn!(policy = %id, field = %w.field, "policy warning: {}", w.problem);
    }
    let version = state
        .store()
        .put_policy(id, ResourceSource::Api, policy)
        .await?;
    tracing::info!(subject = %who.subject, policy = %id, version, "policy saved");
    super::record_management_action(state, who, "policy.save", None, serde_json::json!({"policy": id, "version": version, "digest": crate::audit::digest(policy)})).await?;
    let p = state
        .store()
        .policy(id)
        .await?
        .ok_or_else(|| ApiError::Internal("policy vanished after save".into()))?;
    Ok(view(p))
}
