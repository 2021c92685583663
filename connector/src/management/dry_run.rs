//! `POST /api/v1/policies/{id}/dry-run`: asks "what would the connector decide for this request under this
//! policy?" without any partner, agreement or transfer. A legal team describes the request as the connector knows
//! it (`request`: partner, claims, purpose, time, accesses so far), and the connector's own request builder makes
//! the scope's context from it, exactly as for a real partner; a hand-written `context` is accepted too. It works
//! on a stored policy (any version, since agreements keep the version they were made under) and answers with the
//! context decided on and the compliance report the connector would log, including the city's local Rego rules.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinport_policy::request::Facts;
use twinport_policy::{ComplianceReport, RequestContext, Scope};

use super::auth::{Principal, Role};
use super::body;
use crate::catalogue::FieldError;
use crate::contracting::Contracting;
use crate::error::ApiError;

/// Body of a dry run.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// The request as the connector knows it (see docs/policy-context.md): the connector's request builder makes
    /// the scope's context from it.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub request: Value,
    /// A request context written by hand, used as it is; an empty context when neither is given.
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
    /// The request context decided on.
    #[schema(value_type = Object)]
    pub context: RequestContext,
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

/// What the connector itself would add to a described request: its clock when no time is given, and the claims it
/// attests for a configured partner when the request gives none.
fn complete(state: &Contracting, mut f: Facts) -> Facts {
    if f.at.is_none() {
        f.at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .ok();
    }
    if let Some(p) = f.partner.as_mut() {
        if p.claims.is_empty() {
            if let Some(configured) = p.id.as_deref().and_then(|id| state.partners().get(id)) {
                p.claims = configured.claims.clone();
            }
        }
    }
    f
}

/// Dry-run a policy
///
/// What the connector would decide for a described request under a stored policy (any version), with the context
/// built exactly as for a real partner and the compliance report it would log; nothing is recorded.
#[utoipa::path(post, path = "/api/v1/policies/{id}/dry-run", tag = "policies", operation_id = "dry_run_policy",
    params(("id" = String, Path, description = "policy id")),
    request_body(content = DryRunRequest, description = "The request to decide, described or as a written context", example = json!({
        "scope": "negotiation", "request": {"partner": {"id": "https://city-b.example/twinport", "claims": {"membership": "ldt-network"}}, "purpose": "https://w3id.org/dpv#AcademicResearch"}})),
    responses((status = 200, description = "The compliance report (permit or deny)", body = DryRunView),
              (status = 400, description = "An unreadable body", body = crate::error::Problem),
              (status = 404, description = "No such policy or version", body = crate::error::Problem),
              (status = 422, description = "A bad context, scope or version, naming the field", body = crate::error::Problem)))]
pub async fn dry_run(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<DryRunView>, ApiError> {
    who.require(Role::Legal)?;
    let request: DryRunRequest = from_value(body::json(&body)?, "")?;
    // Checked before the lookup so a bad request is answered the same whether or not the policy exists.
    if !request.request.is_null() && !request.context.is_null() {
        return Err(invalid(
            "request".into(),
            "give either request or context, not both".into(),
        ));
    }
    let facts: Option<Facts> = if request.request.is_null() {
        None
    } else {
        Some(from_value(request.request, "request")?)
    };
    let written: RequestContext = if request.context.is_null() {
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
    let (context, report) = match &facts {
        Some(f) => {
            let f = &complete(&state, f.clone());
            let d = state.policy().decide(&policy, scope, f);
            (d.context, d.report)
        }
        None => {
            let report = state.policy().evaluate(&policy, &written, scope);
            (written, report)
        }
    };
    tracing::info!(subject = %who.subject, policy = %id, version, %scope,
        decision = ?report.decision, "policy dry run");
    Ok(Json(DryRunView {
        policy: id,
        version,
        reasons: report.reasons(),
        context,
        report,
    }))
}
