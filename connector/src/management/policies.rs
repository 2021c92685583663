//! `/api/v1/policies`: usage policies as ODRL JSON. Every change adds a version; old versions stay readable so an
//! agreement can always be shown the text it was made under.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use super::auth::{Principal, Role};
use super::body;
use super::paging::{self, Checks, Listed};
use crate::catalogue::{policy_doc, FieldError};
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::storage::{PolicyFilter, PolicyRecord, PolicyVersion, ResourceSource};

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

/// List policies
///
/// Every live policy at its current version, ordered by id, with the linter's warnings. Filter by source and by
/// when the current version was made; the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", operation_id = "list_policies", params(PolicyQuery),
    responses((status = 200, description = "One page of policies", body = [PolicyView], headers(("Link" = String, description = "Present when more rows follow: `<target of the next page>; rel=\"next\"`"))),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each", body = crate::error::Problem)))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Listed<PolicyView>, ApiError> {
    who.require(Role::Viewer)?;
    let (q, mut checks): (PolicyQuery, Checks) = paging::query(&uri)?;
    let filter = PolicyFilter {
        source: checks.one_of("source", q.source, &["file", "api"]),
        changed: checks.window(
            ("changed_since", "changed_until"),
            q.changed_since,
            q.changed_until,
        ),
    };
    let page = checks.page(q.limit, q.cursor, 1);
    checks.done()?;
    let rows = state.store().policies_page(&filter, &page).await?;
    Listed::of(&uri, rows, |p| async move { Ok(view(p)) }).await
}

/// Filters and page of `GET /api/v1/policies`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyQuery {
    /// Rows in the page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Where the page starts: the `cursor` in the previous page's `Link` header.
    pub cursor: Option<String>,
    /// Only policies declared in catalogue files (`file`) or through this API (`api`).
    pub source: Option<String>,
    /// Only policies whose current version was made at or after this time (RFC 3339, to the second).
    pub changed_since: Option<String>,
    /// Only policies whose current version was made before this time (RFC 3339, to the second).
    pub changed_until: Option<String>,
}

/// Read a policy
///
/// The current version of one policy, with the linter's warnings.
#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "policies", operation_id = "read_policy", params(("id" = String, Path, description = "policy id")),
    responses((status = 200, description = "The policy", body = PolicyView),
              (status = 404, description = "No such live policy", body = crate::error::Problem)))]
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

/// List a policy's versions
///
/// Every version of a policy, oldest first, a deletion included (without a body): the text any agreement was
/// made under stays readable.
#[utoipa::path(get, path = "/api/v1/policies/{id}/versions", tag = "policies", operation_id = "list_policy_versions", params(("id" = String, Path, description = "policy id")),
    responses((status = 200, description = "The versions, oldest first", body = [PolicyVersionView]),
              (status = 404, description = "No policy ever had this id", body = crate::error::Problem)))]
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

/// Create a policy
///
/// Stores a new ODRL usage policy as its version 1, after the same lint as `twinport policy lint`: an error
/// refuses it, warnings are kept with it.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", operation_id = "create_policy",
    request_body(content = NewPolicy, description = "The policy's id and its ODRL text", example = json!({
        "id": "ldt-network-only",
        "policy": {"permission": [{"action": "use", "constraint": [{"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}})),
    responses((status = 201, description = "The policy stored; `Location` names it", body = PolicyView,
                   headers(("Location" = String, description = "The new policy's address"))),
              (status = 409, description = "A policy with this id exists", body = crate::error::Problem),
              (status = 422, description = "The lint found errors; `errors` names each place", body = crate::error::Problem)))]
pub async fn create(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
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
    Ok(super::created::created(
        &super::created::address("policies", &p.id),
        p,
    ))
}

/// Add a policy version
///
/// Stores the body as the policy's next version (an unchanged body keeps the current one); earlier versions stay.
#[utoipa::path(put, path = "/api/v1/policies/{id}", tag = "policies", operation_id = "update_policy", params(("id" = String, Path, description = "policy id")),
    request_body(content = Object, description = "The ODRL policy", example = json!({"permission": [{"action": "use"}], "prohibition": [{"action": "distribute"}]})),
    responses((status = 200, description = "The policy at its new current version", body = PolicyView),
              (status = 409, description = "The policy is declared in a catalogue file", body = crate::error::Problem),
              (status = 422, description = "The lint found errors; `errors` names each place", body = crate::error::Problem)))]
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
                "policy {id} is declared in the catalogue directory; edit its file and send SIGHUP"
            )));
        }
    }
    Ok(Json(save(&state, &who, &id, &value).await?))
}

/// Delete a policy
///
/// Adds a tombstone version: the policy is no longer offered, its versions stay readable.
#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "policies", operation_id = "delete_policy", params(("id" = String, Path, description = "policy id")),
    responses((status = 204, description = "The policy is deleted"),
              (status = 404, description = "No such live policy", body = crate::error::Problem),
              (status = 409, description = "A resource still offers it, or it is declared in a catalogue file", body = crate::error::Problem)))]
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
            "policy {id} is declared in the catalogue directory; remove its file and send SIGHUP \
             (the reload retires it once no offer names it)"
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
