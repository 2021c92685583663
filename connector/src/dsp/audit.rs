//! `<dsp base>/audit/...`: what a partner may ask of our log, authenticated like the catalogue. A partner gets
//! receipts only for entries that record its own requests (anything else answers 404, as if it did not exist), and
//! our current checkpoint with consistency proofs, so it can hold us to one history (split-view defence).
//!
//! - `GET <base>/audit/checkpoint` → the signed note (text/plain), our `vkey` in the `Twinport-Audit-Vkey` header;
//! - `GET <base>/audit/consistency?old=N&new=M` → one base64 hash per line (text/plain);
//! - `GET <base>/audit/receipts/{index}` → a `c2sp.org/tlog-proof@v1` receipt (text/plain).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;

use super::{CatalogError, DspState, Partner, DSP_PATH};
use crate::audit::{EventKind, VKEY_HEADER};
use crate::contracting::Contracting;

pub fn routes() -> Router<DspState> {
    Router::new()
        .route(&format!("{DSP_PATH}/audit/checkpoint"), get(checkpoint))
        .route(&format!("{DSP_PATH}/audit/consistency"), get(consistency))
        .route(
            &format!("{DSP_PATH}/audit/receipts/{{index}}"),
            get(receipt),
        )
}

const TEXT: &str = "text/plain; charset=utf-8";

fn internal(e: crate::audit::AuditError) -> CatalogError {
    tracing::error!(error = %e, "audit request from a partner failed");
    CatalogError::internal()
}

fn not_found(what: String) -> CatalogError {
    CatalogError::new(StatusCode::NOT_FOUND, "not-found", what)
}

pub async fn checkpoint(
    State(state): State<Contracting>,
    Partner(_): Partner,
) -> Result<impl IntoResponse, CatalogError> {
    let cp = state.audit().checkpoint().await.map_err(internal)?;
    let vkey = state.audit().verifier().vkey();
    Ok((
        [
            (header::CONTENT_TYPE, TEXT.to_owned()),
            (HeaderName::from_static(VKEY_HEADER), vkey),
        ],
        cp.note,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ConsistencyQuery {
    old: u64,
    new: u64,
}

pub async fn consistency(
    State(state): State<Contracting>,
    Partner(_): Partner,
    Query(q): Query<ConsistencyQuery>,
) -> Result<impl IntoResponse, CatalogError> {
    let proof = state
        .audit()
        .consistency_proof(q.old, q.new)
        .await
        .map_err(|e| match e {
            crate::audit::AuditError::OutOfRange(m) => not_found(m),
            other => internal(other),
        })?;
    let body: String = proof
        .iter()
        .map(|h| format!("{}\n", STANDARD.encode(h)))
        .collect();
    Ok(([(header::CONTENT_TYPE, TEXT)], body))
}

pub async fn receipt(
    State(state): State<Contracting>,
    Partner(partner): Partner,
    Path(index): Path<u64>,
) -> Result<impl IntoResponse, CatalogError> {
    let entry = state
        .store()
        .audit_entries_from(index, 1)
        .await
        .map_err(|e| internal(e.into()))?;
    // Only entries recording this partner's own requests; others are indistinguishable from absent ones.
    let own = entry.first().filter(|e| {
        e.index == index
            && e.partner.as_deref() == Some(partner.id.as_str())
            && [EventKind::CatalogueServed, EventKind::DspMessageReceived]
                .iter()
                .any(|k| k.as_str() == e.kind)
    });
    if own.is_none() {
        return Err(not_found(format!("no receipt {index} for {}", partner.id)));
    }
    let text = state.audit().receipt(index).await.map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, TEXT)], text))
}
