//! `POST <base>/catalog/request` and `GET <base>/catalog/datasets/{id}`: the partner's view of our resource
//! catalogue, filtered as asked and paged through `Link` headers.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use twinport_contracts::catalog::CatalogRequestMessage;
use twinport_contracts::message::DspMessage;

use super::auth::Partner;
use super::error::CatalogError;
use super::DspState;
use crate::catalogue::{dcat::Publication, filter, Resource};

/// Page size when the partner does not ask for one, and the most we serve in one page.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

#[derive(Debug, Deserialize)]
pub struct Paging {
    offset: Option<usize>,
    limit: Option<usize>,
}

/// A catalogue that cannot be read is our failure: logged, and answered to the partner as a bare internal error.
fn unreadable(e: crate::storage::StorageError) -> CatalogError {
    tracing::error!(error = %e, "cannot read catalogue");
    CatalogError::internal()
}

pub async fn request(
    State(state): State<DspState>,
    Partner(partner): Partner,
    Query(paging): Query<Paging>,
    body: Bytes,
) -> Result<Response, CatalogError> {
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| CatalogError::bad_request(format!("body is not valid JSON: {e}")))?;
    let message = CatalogRequestMessage::from_json(&json)
        .map_err(|e| CatalogError::bad_request(e.to_string()))?;
    let conditions = filter::parse(&message.filter).map_err(CatalogError::bad_request)?;
    let limit = paging.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = paging.offset.unwrap_or(0);

    let visible = state
        .contracting
        .visible(&partner.id)
        .await
        .map_err(unreadable)?;
    let matching: Vec<_> = visible
        .iter()
        .filter(|v| filter::matches(v.resource, &conditions))
        .collect();
    let total = matching.len();
    // Only the page's resources are read whole.
    let page: Vec<_> = matching.into_iter().skip(offset).take(limit).collect();
    let page: Vec<Resource> =
        crate::contracting::catalogue_views::load(state.contracting.store(), &page)
            .await
            .map_err(unreadable)?;
    let page: Vec<&Resource> = page.iter().collect();
    let dsp_base = state.contracting.dsp_base();
    let publication = Publication {
        participant_id: state.contracting.participant_id(),
        public_url: state.contracting.public_url(),
        dsp_base: &dsp_base,
        info: &state.catalogue_info,
        policies: visible.snapshot().policy_bodies(),
    };
    let body = publication.catalog(&page);
    tracing::info!(partner = %partner.id, filter = %serde_json::Value::from(message.filter.clone()), shown = page.len(), total, "served catalogue");
    crate::audit::record_catalogue_served(
        state.contracting.audit(),
        &partner.id,
        &message.filter,
        page.len(),
        total,
    )
    .await
    .map_err(|_| CatalogError::internal())?;

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut links = Vec::new();
    if offset.saturating_add(limit) < total {
        links.push(format!(
            "<{dsp_base}/catalog/request?offset={}&limit={limit}>; rel=\"next\"",
            offset.saturating_add(limit)
        ));
    }
    if offset > 0 {
        links.push(format!(
            "<{dsp_base}/catalog/request?offset={}&limit={limit}>; rel=\"previous\"",
            offset.saturating_sub(limit)
        ));
    }
    if !links.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
            headers.insert(header::LINK, v);
        }
    }
    Ok((StatusCode::OK, headers, body.to_string()).into_response())
}

pub async fn dataset(
    State(state): State<DspState>,
    Partner(partner): Partner,
    Path(id): Path<String>,
) -> Result<Response, CatalogError> {
    let visible = state
        .contracting
        .visible_one(&partner.id, &id)
        .await
        .map_err(unreadable)?;
    // A resource the partner may not see is reported exactly like one that does not exist.
    let not_found = || {
        CatalogError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no dataset {id}"),
        )
    };
    let visible = visible.ok_or_else(not_found)?;
    let Some(v) = visible.iter().next() else {
        return Err(not_found());
    };
    let resource = v
        .load(state.contracting.store())
        .await
        .map_err(unreadable)?
        .ok_or_else(not_found)?;
    let dsp_base = state.contracting.dsp_base();
    let publication = Publication {
        participant_id: state.contracting.participant_id(),
        public_url: state.contracting.public_url(),
        dsp_base: &dsp_base,
        info: &state.catalogue_info,
        policies: visible.snapshot().policy_bodies(),
    };
    let body = publication.root_dataset(&resource);
    // A dataset read is a catalogue request too: recorded before it is answered.
    crate::audit::record_catalogue_served(
        state.contracting.audit(),
        &partner.id,
        &[serde_json::json!({"id": id})],
        1,
        1,
    )
    .await
    .map_err(|_| CatalogError::internal())?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}
