//! `/api/v1/resources`: the catalogue's resources. Resources declared in catalogue files are read-only here (the
//! file is their source of truth and would overwrite an API edit at the next start).

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::auth::{Principal, Role};
use super::body;
use super::created::{address, created};
use super::paging::{self, Checks, Listed};
use super::ManagementEntry;
use crate::catalogue::public::OpenCatalogue;
use crate::catalogue::resource::parse_resource;
use crate::catalogue::{FieldError, Resource, ResourceKind};
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::storage::{ResourceFilter, ResourceRecord, ResourceSource};

/// A resource as the management API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResourceView {
    #[serde(flatten)]
    pub resource: Resource,
    /// `file` (declared in the catalogue directory, read-only here) or `api`.
    pub source: String,
    pub updated_at: String,
}

/// List resources
///
/// The catalogue's resources ordered by id, each with where it is declared (`file` or `api`) and when it last
/// changed. Filter by kind, source and creation or change time; the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/resources", tag = "resources", operation_id = "list_resources", params(ResourceQuery),
    responses((status = 200, description = "One page of resources", body = [ResourceView], headers(("Link" = String, description = "Present when more rows follow: `<target of the next page>; rel=\"next\"`"))),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each", body = crate::error::Problem)))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Result<Listed<ResourceView>, ApiError> {
    who.require(Role::Viewer)?;
    let (q, mut checks): (ResourceQuery, Checks) = paging::query(&uri)?;
    let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.as_str()).collect();
    let filter = ResourceFilter {
        kind: checks.one_of("kind", q.kind, &kinds),
        source: checks.one_of("source", q.source, &["file", "api"]),
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
    let page = checks.page(q.limit, q.cursor, 1);
    checks.done()?;
    let rows = state.store().resources_page(&filter, &page).await?;
    let reveal = reveals_credentials(&who);
    Listed::of(&uri, rows, |row| async move { shown(row, reveal) }).await
}

/// Filters and page of `GET /api/v1/resources`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// Rows in the page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Where the page starts: the `cursor` in the previous page's `Link` header.
    pub cursor: Option<String>,
    /// Only resources of this kind (`dataset`, `model-or-service`, `workflow-template`, `visualisation-asset`,
    /// `published-output`).
    pub kind: Option<String>,
    /// Only resources declared in catalogue files (`file`) or through this API (`api`).
    pub source: Option<String>,
    /// Only resources first stored at or after this time (RFC 3339, to the second).
    pub created_since: Option<String>,
    /// Only resources first stored before this time (RFC 3339, to the second).
    pub created_until: Option<String>,
    /// Only resources last changed at or after this time (RFC 3339, to the second).
    pub updated_since: Option<String>,
    /// Only resources last changed before this time (RFC 3339, to the second).
    pub updated_until: Option<String>,
}

/// Whether `who` may see the passwords in backend URLs (`https://user:password@platform/...`): operators, who
/// write them; viewers, auditors and legal teams see the URL with the password replaced.
fn reveals_credentials(who: &Principal) -> bool {
    who.require(Role::Operator).is_ok()
}

/// A stored resource as the API shows it; backend passwords only when `reveal`.
fn shown(row: ResourceRecord, reveal: bool) -> Result<ResourceView, ApiError> {
    let mut resource: Resource =
        serde_json::from_value(row.body).map_err(|e| ApiError::Internal(e.to_string()))?;
    if !reveal {
        for distribution in &mut resource.distributions {
            distribution.backend = without_password(&distribution.backend);
        }
    }
    Ok(ResourceView {
        resource,
        source: if row.source == ResourceSource::File {
            "file".into()
        } else {
            "api".into()
        },
        updated_at: row.updated_at,
    })
}

/// `backend` with the password of its userinfo, if any, replaced by `redacted`.
fn without_password(backend: &str) -> String {
    match url::Url::parse(backend) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        _ => backend.to_string(),
    }
}

/// Read a resource
///
/// One resource as stored, with its source and the time it last changed.
#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "resources", operation_id = "read_resource", params(("id" = String, Path, description = "resource IRI, percent-encoded")),
    responses((status = 200, description = "The resource", body = ResourceView),
              (status = 404, description = "No such resource", body = crate::error::Problem)))]
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
    Ok(Json(shown(row, reveals_credentials(&who))?))
}

/// Create a resource
///
/// Adds a resource to the catalogue, offered under stored policies; partners see it at once, as its policies
/// allow. Every field problem is named in one answer.
#[utoipa::path(post, path = "/api/v1/resources", tag = "resources", operation_id = "create_resource",
    request_body(content = Resource, description = "The resource", example = json!({
        "id": "urn:ldt:sample-city:air-quality", "kind": "dataset", "stage": "workflow-ready",
        "title": "Hourly air quality per district",
        "description": "Cleaned and hourly aggregated AirQualityObserved entities.",
        "distributions": [{"format": "application/ld+json", "backend": "http://broker:1026/ngsi-ld/v1/entities?type=AirQualityObserved"}],
        "offers": [{"policy": "partner-use"}]})),
    responses((status = 201, description = "The resource stored; `Location` names it", body = ResourceView,
                   headers(("Location" = String, description = "The new resource's address"))),
              (status = 409, description = "A resource with this id exists", body = crate::error::Problem),
              (status = 422, description = "Invalid resource; `errors` names each field", body = crate::error::Problem)))]
pub async fn create(
    State(state): State<Contracting>,
    State(open): State<OpenCatalogue>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
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
    Ok(created(&address("resources", &view.resource.id), view))
}

/// Create or replace a resource
///
/// Replaces a resource created through the API, or creates it under this id; `id` in the body may be left out.
/// Resources declared in catalogue files belong to their files.
#[utoipa::path(put, path = "/api/v1/resources/{id}", tag = "resources", operation_id = "update_resource", params(("id" = String, Path, description = "resource IRI, percent-encoded")),
    request_body(content = Resource, description = "The resource; `id`, if given, must match the path"),
    responses((status = 200, description = "The resource replaced", body = ResourceView),
              (status = 201, description = "The resource created; `Location` names it", body = ResourceView,
                   headers(("Location" = String, description = "The new resource's address"))),
              (status = 409, description = "The resource is declared in a catalogue file", body = crate::error::Problem),
              (status = 422, description = "Invalid resource; `errors` names each field", body = crate::error::Problem)))]
pub async fn update(
    State(state): State<Contracting>,
    State(open): State<OpenCatalogue>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
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
    if existing.is_some() {
        Ok(Json(view).into_response())
    } else {
        Ok(created(&address("resources", &id), view))
    }
}

/// Delete a resource
///
/// Removes a resource created through the API from the catalogue; agreements already made on it stay.
#[utoipa::path(delete, path = "/api/v1/resources/{id}", tag = "resources", operation_id = "delete_resource", params(("id" = String, Path, description = "resource IRI, percent-encoded")),
    responses((status = 204, description = "The resource is deleted"),
              (status = 404, description = "No such resource", body = crate::error::Problem),
              (status = 409, description = "The resource is declared in a catalogue file", body = crate::error::Problem)))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_password_is_redacted_and_nothing_else_changes() {
        assert_eq!(
            without_password("https://twin:s3cret@platform.example/api?x=1"),
            "https://twin:redacted@platform.example/api?x=1"
        );
        assert_eq!(
            without_password("https://platform.example/api"),
            "https://platform.example/api"
        );
        assert_eq!(
            without_password("file:///srv/outputs/"),
            "file:///srv/outputs/"
        );
    }
}
