//! `POST /api/v1/policies/{id}/dry-run`: asks "what would the connector decide for this request under this
//! policy?" without any partner, agreement or transfer. A legal team uses it to check a stored policy (any
//! version, since agreements keep the version they were made under) against a hand-written request context, and
//! gets the same compliance report the connector would log, including the city's local Rego rules.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinport_policy::{ComplianceReport, RequestContext, Scope};

use super::auth::{Principal, Role};
use super::body;
use crate::app::AppState;
use crate::catalogue::FieldError;
use crate::error::ApiError;

/// Body of a dry run.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// The request context (see docs/policy-context.md); an empty context when absent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Value,
    /// `access` (default), `transfer`, `negotiation` or `catalogue`.
    #[serde(default)]
    pub scope: Option<String>,
    /// The policy version to evaluate; the current version when absent.
    #[serde(default)]
    pub version: Option<i64>,
}

/// The compliance report of a dry run, with the policy and version it was made against.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DryRunView {
    /// The stored policy's id.
    pub policy: String,
    /// The version evaluated.
    pub version: i64,
    /// Why, in a few lines: the summary first, then every failing premise of a deny.
    pub reasons: Vec<String>,
    /// The full compliance report (`decision`, `decidingRules`, `summary`, `rules`, `rego`), inline.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub report: ComplianceReport,
}

fn invalid(field: String, problem: String) -> ApiError {
    ApiError::Validation {
        what: "dry run".into(),
        errors: vec![FieldError { field, problem }],
    }
}

/// Deserialises `value`, naming the JSON path of the offending field under `prefix` (`context.counterparty.claim`).
fn from_value<T: serde::de::DeserializeOwned>(value: Value, prefix: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let field = match (prefix, at.as_str()) {
            ("", ".") => "(document)".to_string(),
            ("", at) => at.to_string(),
            (p, ".") => p.to_string(),
            (p, at) => format!("{p}.{at}"),
        };
        invalid(field, e.into_inner().to_string())
    })
}

#[utoipa::path(post, path = "/api/v1/policies/{id}/dry-run", tag = "policies", params(("id" = String, Path)),
    request_body = DryRunRequest,
    responses((status = 200, body = DryRunView, description = "the compliance report (permit or deny)"),
        (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem, description = "a bad context, scope or version, naming the field")))]
pub async fn dry_run(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<DryRunView>, ApiError> {
    who.require(Role::Legal)?;
    let request: DryRunRequest = from_value(body::json(&body)?, "")?;
    // Checked before the lookup so a bad request is answered the same whether or not the policy exists.
    let ctx: RequestContext = if request.context.is_null() {
        RequestContext::default()
    } else {
        from_value(request.context, "context")?
    };
    let scope: Scope = match request.scope.as_deref() {
        None => Scope::Access,
        Some(s) => s.parse().map_err(|e: String| invalid("scope".into(), e))?,
    };
    let (version, policy) = match request.version {
        None => {
            let p = state
                .store()
                .policy(&id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("policy {id}")))?;
            (p.version, p.body)
        }
        Some(n) => {
            let v = state.store().policy_version(&id, n).await?;
            // A tombstone (the policy was deleted at that version) has no text to evaluate.
            match v.and_then(|v| v.body.map(|b| (v.version, b))) {
                Some(found) => found,
                None => return Err(ApiError::NotFound(format!("policy {id} version {n}"))),
            }
        }
    };
    let report = state.policy().evaluate(&policy, &ctx, scope);
    tracing::info!(subject = %who.subject, policy = %id, version, %scope,
        decision = ?report.decision, "policy dry run");
    Ok(Json(DryRunView {
        policy: id,
        version,
        reasons: report.reasons(),
        report,
    }))
}
