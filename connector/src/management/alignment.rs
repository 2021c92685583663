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

#[utoipa::path(post, path = "/api/v1/alignment", tag = "alignment", request_body = CheckRequest,
    responses((status = 201, description = "the check, recorded; `Location` names it", body = AlignmentReport),
              (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
              (status = 502, body = crate::error::Problem)))]
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

#[utoipa::path(get, path = "/api/v1/alignment/{id}", tag = "alignment",
    params(("id" = String, Path, description = "the check's id")),
    responses((status = 200, body = AlignmentReport), (status = 404, body = crate::error::Problem)))]
pub async fn read(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<AlignmentReport>, ApiError> {
    who.require(Role::Viewer)?;
    Ok(Json(alignment::recorded(&state, &id).await?))
}
