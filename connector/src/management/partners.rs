//! `/api/v1/partners`: the partner connectors this city trusts, and their catalogues as they publish them to us.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use super::auth::{Principal, Role};
use crate::config::PartnerKeys;
use crate::contracting::Contracting;
use crate::error::ApiError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `inline` or the JWKS URL the keys are fetched from.
    pub keys: String,
    /// Claims we attest for this partner, as policies see them.
    #[schema(value_type = Object)]
    pub claims: Value,
}

#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", responses((status = 200, body = [PartnerView])))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
) -> Result<Json<Vec<PartnerView>>, ApiError> {
    who.require(Role::Viewer)?;
    Ok(Json(
        state
            .partners()
            .directory()
            .all()
            .into_iter()
            .map(|p| PartnerView {
                id: p.id.clone(),
                name: p.name.clone(),
                url: p.url.clone(),
                keys: match &p.keys {
                    PartnerKeys::Inline(_) => "inline".into(),
                    PartnerKeys::Url { url, .. } => url.clone(),
                    PartnerKeys::Did => "did".into(),
                },
                claims: Value::Object(p.claims.clone()),
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/partners/{id}/catalog", tag = "partners",
    params(("id" = String, Path, description = "partner participant id, percent-encoded")),
    responses((status = 200, description = "the partner's DSP catalogue, as it publishes it to us", body = Object),
              (status = 404, body = crate::error::Problem), (status = 502, body = crate::error::Problem)))]
pub async fn catalog(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let partner = state
        .partners()
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("partner {id}")))?;
    // Relayed as the text the pages arrived in: a catalogue of thousands of datasets is never held as a JSON tree.
    let catalog = state
        .partners()
        .client()
        .catalog_text(&partner, Vec::new())
        .await
        .map_err(|e| ApiError::BadGateway(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], catalog).into_response())
}
