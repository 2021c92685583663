//! `/api/v1/agreements/{id}/duties`: the duties a partner took on with an agreement (attribution, deletion,
//! payment) and what the city's legal team has recorded about each. A duty recorded as `violated` blocks the
//! permission it belongs to (an obligation: the whole agreement) on every later transfer and data-plane access,
//! with a reason naming it; recording it `fulfilled` or `not-set` lifts that. Every record is kept and audited.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use twinport_policy::context::DutyState;
use twinport_policy::{Policy, Rule, RuleKind};

use super::auth::{Principal, Role};
use super::body;
use crate::catalogue::FieldError;
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::storage::{AgreementRecord, DutyRecord};

/// One duty of an agreement and the state in force.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DutyView {
    /// What to record it under: the duty's `@id`, or its action name when it has none.
    pub duty: String,
    /// `duty` (of a permission) or `obligation` (of the whole agreement).
    pub kind: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributed_party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution_text: Option<String>,
    /// The state in force: the latest record, `not-set` without one.
    #[schema(value_type = String)]
    pub state: DutyState,
}

/// An agreement's duties and every record made about them, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DutiesView {
    pub agreement: String,
    pub duties: Vec<DutyView>,
    pub history: Vec<DutyRecord>,
}

/// Body of `PUT /api/v1/agreements/{id}/duties/{duty}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDuty {
    /// `fulfilled`, `violated` or `not-set`.
    #[schema(value_type = String)]
    pub state: DutyState,
    /// Why, for the record (what was found, by whom, a reference to the correspondence).
    #[serde(default)]
    pub note: Option<String>,
}

impl body::Checked for RecordDuty {
    fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        if let Some(note) = &self.note {
            body::check_text(&mut p, "note", note);
        }
        p
    }
}

/// The key a duty is recorded under.
fn key(d: &Rule) -> String {
    d.uid
        .clone()
        .or_else(|| d.action.as_ref().and_then(|a| a.uid.clone()))
        .or_else(|| d.action.as_ref().map(|a| a.name.clone()))
        .unwrap_or_else(|| "*".into())
}

/// Whether `name` names duty `d` (its `@id`, its action's `@id`, or its action name).
fn names(d: &Rule, name: &str) -> bool {
    d.uid.as_deref() == Some(name)
        || d.action
            .as_ref()
            .is_some_and(|a| a.uid.as_deref() == Some(name) || a.name == name)
}

/// The policy the agreement is enforced under, whose duties are the ones that can be recorded.
async fn agreement_policy(state: &Contracting, a: &AgreementRecord) -> Result<Policy, ApiError> {
    let body = crate::contracting::decision::agreed_policy(state.store(), a).await?;
    Policy::from_json(&body)
        .map_err(|e| ApiError::Internal(format!("agreement {} does not read: {e}", a.id)))
}

async fn view(state: &Contracting, a: &AgreementRecord) -> Result<DutiesView, ApiError> {
    let policy = agreement_policy(state, a).await?;
    let history = state.store().duty_history(&a.id).await?;
    let in_force = state.store().duty_states(&a.id).await?;
    let duties = policy
        .duties()
        .map(|d| {
            let k = key(d);
            // The engine's lookup order: the duty's @id, its action's @id, its action name.
            let recorded = d
                .uid
                .as_deref()
                .and_then(|u| in_force.get(u))
                .or_else(|| {
                    d.action
                        .as_ref()
                        .and_then(|a| a.uid.as_deref())
                        .and_then(|u| in_force.get(u))
                })
                .or_else(|| d.action.as_ref().and_then(|a| in_force.get(&a.name)))
                .copied();
            DutyView {
                kind: if d.kind == RuleKind::Obligation {
                    "obligation".into()
                } else {
                    "duty".into()
                },
                action: d
                    .action
                    .as_ref()
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                attributed_party: d.attributed_party.as_ref().map(|p| p.uid.clone()),
                attribution_text: d.attribution_text.clone(),
                state: recorded.unwrap_or(DutyState::NotSet),
                duty: k,
            }
        })
        .collect();
    Ok(DutiesView {
        agreement: a.id.clone(),
        duties,
        history,
    })
}

async fn agreement(state: &Contracting, id: &str) -> Result<AgreementRecord, ApiError> {
    state
        .store()
        .agreement(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("agreement {id}")))
}

/// List an agreement's duties
///
/// The duties the partner took on under an agreement, the state in force for each, and every record made.
#[utoipa::path(get, path = "/api/v1/agreements/{id}/duties", tag = "agreements", operation_id = "list_duties",
    params(("id" = String, Path, description = "the agreement id, percent-encoded")),
    responses((status = 200, description = "The duties and their records", body = DutiesView),
              (status = 404, description = "No such agreement", body = crate::error::Problem)))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<DutiesView>, ApiError> {
    who.require(Role::Viewer)?;
    let a = agreement(&state, &id).await?;
    Ok(Json(view(&state, &a).await?))
}

/// Record a duty's state
///
/// As provider, records a duty as `fulfilled`, `violated` or `not-set`; a duty recorded `violated` refuses every
/// later transfer and access under the agreement.
#[utoipa::path(put, path = "/api/v1/agreements/{id}/duties/{duty}", tag = "agreements", operation_id = "record_duty",
    params(("id" = String, Path, description = "the agreement id, percent-encoded"), ("duty" = String, Path, description = "the duty's @id, or its action name")),
    request_body(content = RecordDuty, description = "The state and an optional note", example = json!({"state": "violated", "note": "attribution missing on the city dashboard"})),
    responses((status = 200, description = "The duties with the new record", body = DutiesView),
              (status = 404, description = "No such agreement", body = crate::error::Problem),
              (status = 409, description = "An agreement where we are the consumer", body = crate::error::Problem),
              (status = 422, description = "No such duty, or a bad state", body = crate::error::Problem)))]
pub async fn record(
    State(state): State<Contracting>,
    who: Principal,
    Path((id, duty)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<DutiesView>, ApiError> {
    who.require(Role::Legal)?;
    let request: RecordDuty = body::parse(&body, "duty record")?;
    let a = agreement(&state, &id).await?;
    if a.provider != state.participant_id() {
        return Err(ApiError::Conflict(format!(
            "agreement {id} was made with {} as the provider, which enforces its duties",
            a.provider
        )));
    }
    let policy = agreement_policy(&state, &a).await?;
    if !policy.duties().any(|d| names(d, &duty)) {
        let known: Vec<String> = policy.duties().map(key).collect();
        return Err(ApiError::Validation {
            what: "duty record".into(),
            errors: vec![FieldError {
                field: "duty".into(),
                problem: if known.is_empty() {
                    format!("agreement {id} has no duties")
                } else {
                    format!(
                        "agreement {id} has no duty {duty:?}; its duties are {}",
                        known.join(", ")
                    )
                },
            }],
        });
    }
    let r = DutyRecord {
        agreement_id: id.clone(),
        duty: duty.clone(),
        state: request.state,
        note: request.note.clone(),
        recorded_by: who.subject.clone(),
        recorded_at: String::new(),
    };
    let entry = super::ManagementEntry::new(
        &who,
        "duty.record",
        Some(&a.target),
        json!({"agreement": id, "duty": duty, "state": request.state, "note": request.note}),
    )?;
    state.store().record_duty_state(&r).await?;
    tracing::info!(subject = %who.subject, agreement = %id, duty = %duty, state = ?request.state, "duty state recorded");
    entry.record(&state).await?;
    Ok(Json(view(&state, &a).await?))
}
