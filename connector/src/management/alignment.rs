//! `/api/v1/alignment`: check a model's inputs against chosen datasets (ours or partners'), or an output against
//! the visualisation asset that will show it; read a recorded check back.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::{Principal, Role};
use super::body::{parse, Checked};
use crate::alignment::{self, AlignmentReport, CheckRequest};
use crate::catalogue::FieldError;
use crate::contracting::Contracting;
use crate::error::ApiError;

impl Checked for CheckRequest {
    fn problems(&self) -> Vec<FieldError> {
        self.asked().err().unwrap_or_default()
    }
}

/// Check an alignment
///
/// Checks a model's inputs against the datasets chosen for them (ours or partners'), or an output against the
/// visualisation asset that will show it, per dimension with a reason each; the check is recorded.
#[utoipa::path(post, path = "/api/v1/alignment", tag = "alignment", operation_id = "create_alignment_check", request_body = CheckRequest,
    responses((status = 201, description = "The check, recorded; `Location` names it", body = AlignmentReport,
                   headers(("Location" = String, description = "The recorded check's address"))),
              (status = 404, description = "No such resource or partner", body = crate::error::Problem),
              (status = 422, description = "An invalid request; `errors` names each field", body = crate::error::Problem),
              (status = 502, description = "A partner's description could not be read", body = crate::error::Problem)))]
pub async fn check(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let request: CheckRequest = parse(&body, "alignment request")?;
    let report = alignment::check(&state, &request).await?;
    let location = format!("/api/v1/alignment/{}", report.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(report),
    )
        .into_response())
}

/// Read an alignment check
///
/// A recorded alignment check with its verdict per input and dimension.
#[utoipa::path(get, path = "/api/v1/alignment/{id}", tag = "alignment", operation_id = "read_alignment_check",
    params(("id" = String, Path, description = "the check's id")),
    responses((status = 200, description = "The check", body = AlignmentReport),
              (status = 404, description = "No such check", body = crate::error::Problem)))]
pub async fn read(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<AlignmentReport>, ApiError> {
    who.require(Role::Viewer)?;
    Ok(Json(alignment::recorded(&state, &id).await?))
}
