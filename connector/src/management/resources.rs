//! `/api/v1/resources`: the catalogue's resources. Resources declared in catalogue files are read-only here (the
//! file is their source of truth and would overwrite an API edit at the next start).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::auth::{Principal, Role};
use super::body;
use super::ManagementEntry;
use crate::catalogue::public::OpenCatalogue;
use crate::catalogue::resource::parse_resource;
use crate::catalogue::{FieldError, Resource};
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::storage::ResourceSource;

/// A resource as the management API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResourceView {
    #[serde(flatten)]
    pub resource: Resource,
    /// `file` (declared in the catalogue directory, read-only here) or `api`.
    pub source: String,
    pub updated_at: String,
}

#[utoipa::path(get, path = "/api/v1/resources", tag = "resources",
    responses((status = 200, body = [ResourceView]), (status = 401, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
) -> Result<Json<Vec<ResourceView>>, ApiError> {
    who.require(Role::Viewer)?;
    let rows = state.store().resources().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let resource: Resource =
            serde_json::from_value(row.body).map_err(|e| ApiError::Internal(e.to_string()))?;
        out.push(ResourceView {
            resource,
            source: if row.source == ResourceSource::File {
                "file".into()
            } else {
                "api".into()
            },
            updated_at: row.updated_at,
        });
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "resource IRI, percent-encoded")),
    responses((status = 200, body = ResourceView), (status = 404, body = crate::error::Problem)))]
pub async fn read(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<ResourceView>, ApiError> {
    who.require(Role::Viewer)?;
    let row = state
        .store()
        .resource(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("resource {id}")))?;
    let resource: Resource =
        serde_json::from_value(row.body).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(ResourceView {
        resource,
        source: if row.source == ResourceSource::File {
            "file".into()
        } else {
            "api".into()
        },
        updated_at: row.updated_at,
    }))
}

#[utoipa::path(post, path = "/api/v1/resources", tag = "resources", request_body = Resource,
    responses((status = 201, body = ResourceView), (status = 409, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<Contracting>,
    State(open): State<OpenCatalogue>,
    who: Principal,
    body: Bytes,
) -> Result<(StatusCode, Json<ResourceView>), ApiError> {
    who.require(Role::Operator)?;
    let resource = validated(&state, &open, body::json(&body)?).await?;
    if state.store().resource(&resource.id).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "resource {} already exists; use PUT /api/v1/resources/{{id}} to change it",
            resource.id
        )));
    }
    let entry = ManagementEntry::new(
        &who,
        "resource.create",
        Some(&resource.id),
        serde_json::json!({"digest": crate::audit::digest(&body::json(&body)?)}),
    )?;
    let view = save(&state, resource).await?;
    entry.record(&state).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(put, path = "/api/v1/resources/{id}", tag = "resources", request_body = Resource,
    params(("id" = String, Path, description = "resource IRI, percent-encoded")),
    responses((status = 200, body = ResourceView), (status = 201, body = ResourceView),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(state): State<Contracting>,
    State(open): State<OpenCatalogue>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ResourceView>), ApiError> {
    who.require(Role::Operator)?;
    let mut value = body::json(&body)?;
    if let Some(obj) = value.as_object_mut() {
        obj.entry("id")
            .or_insert_with(|| serde_json::Value::String(id.clone()));
    }
    let resource = validated(&state, &open, value).await?;
    if resource.id != id {
        return Err(ApiError::Validation {
            what: "resource".into(),
            errors: vec![FieldError {
                field: "id".into(),
                problem: format!("does not match the id in the path ({id})"),
            }],
        });
    }
    let existing = state.store().resource(&id).await?;
    refuse_file_owned(existing.as_ref().map(|r| r.source), &id)?;
    let entry = ManagementEntry::new(
        &who,
        "resource.update",
        Some(&id),
        serde_json::json!({"digest": crate::audit::digest(&body::json(&body)?), "existed": existing.is_some()}),
    )?;
    let view = save(&state, resource).await?;
    entry.record(&state).await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view)))
}

#[utoipa::path(delete, path = "/api/v1/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "resource IRI, percent-encoded")),
    responses((status = 204), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn delete(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Operator)?;
    let existing = state
        .store()
        .resource(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("resource {id}")))?;
    refuse_file_owned(Some(existing.source), &id)?;
    let entry = ManagementEntry::new(&who, "resource.delete", Some(&id), serde_json::json!({}))?;
    state.store().delete_resource(&id).await?;
    entry.record(&state).await?;
    tracing::info!(subject = %who.subject, resource = %id, "resource deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn refuse_file_owned(source: Option<ResourceSource>, id: &str) -> Result<(), ApiError> {
    if source == Some(ResourceSource::File) {
        return Err(ApiError::Conflict(format!(
            "resource {id} is declared in the catalogue directory; edit its file instead"
        )));
    }
    Ok(())
}

async fn validated(
    state: &Contracting,
    open: &OpenCatalogue,
    value: serde_json::Value,
) -> Result<Resource, ApiError> {
    let resource = parse_resource(value).map_err(|errors| ApiError::Validation {
        what: "resource".into(),
        errors,
    })?;
    let mut errors = crate::catalogue::public::publishable_problems(&resource, open.info());
    for (i, offer) in resource.offers.iter().enumerate() {
        if state.store().policy(&offer.policy).await?.is_none() {
            errors.push(FieldError {
                field: format!("offers[{i}].policy"),
                problem: format!("no policy {:?}", offer.policy),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation {
            what: "resource".into(),
            errors,
        });
    }
    Ok(resource)
}

async fn save(state: &Contracting, resource: Resource) -> Result<ResourceView, ApiError> {
    let body = serde_json::to_value(&resource).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .store()
        .put_resource(
            &resource.id,
            resource.kind.as_str(),
            ResourceSource::Api,
            &body,
        )
        .await?;
    tracing::info!(resource = %resource.id, "resource saved through the management API");
    let row = state
        .store()
        .resource(&resource.id)
        .await?
        .ok_or_else(|| ApiError::Internal("resource vanished after save".into()))?;
    Ok(ResourceView {
        resource,
        source: "api".into(),
        updated_at: row.updated_at,
    })
}
